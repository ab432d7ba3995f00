//! Test-vector suites (`testvectors/README.md` documents the format completely): stimulus and
//! expected outcomes, generated from the golden model alone, that check an IOMMU's RTL in any
//! simulator without the Rust model.
//!
//! A suite is a folder of CSV files:
//! - `manifest.csv`: format version, suite name, generator, configuration and the CAP/ECAP it
//!   assumes, seed, memory latency;
//! - `memory.csv`: the initial host-memory image, one non-zero 16-byte line per row;
//! - `stimulus.csv`: the ordered steps (register writes, register reads with the expected value,
//!   memory edits, injected read-error ranges, upstream requests with their harness tag);
//! - `expected.csv`: per tag, every outcome the spec allows (more than one only where a cached
//!   entry may be stale);
//! - `events.csv`: the unit's own interrupt messages (fault and invalidation-completion events), in
//!   order;
//! - `final.csv`: register state at the end (FSTS, FECTL, every fault record, the architectural
//!   counters) and every 16-byte line of memory the unit itself wrote (posted-interrupt
//!   descriptors, wait-descriptor status).
//!
//! Outcomes are order-based, not cycle-based: before each register access and memory edit the
//! replayer lets everything sent so far finish, and a register read is repeated until it shows
//! the expected value (a bounded poll), so a different micro-architecture passes the same suite.

pub mod record;
pub mod replay;
pub mod suites;

use crate::dut::DutConfig;
use iommu_driver::model::{Msi, Outcome};
use iommu_driver::tlp::CplStatus;
use iommu_driver::vtd::fault::FaultReason;
use iommu_driver::Hpa;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Major version of the format: a reader rejects a suite with a newer one.
pub const FORMAT_MAJOR: u32 = 1;
/// Minor version: additions a reader of the same major version may ignore.
pub const FORMAT_MINOR: u32 = 1;

/// What is wrong with a suite, naming the file, line and field where there is one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VectorError {
    /// A malformed field (or row, or header) at a known line of one CSV file.
    #[error("{path}:{line}: {field}: {what}")]
    Field {
        /// The CSV file.
        path: PathBuf,
        /// Line number in the file, counting the header as line 1.
        line: usize,
        /// Column name from the file's header (or `header` / `row` for the line as a whole).
        field: String,
        /// What is wrong with the value.
        what: String,
    },
    /// A file that cannot be read or written, or whose content is wrong as a whole (e.g. a
    /// missing manifest row).
    #[error("{path}: {what}")]
    File {
        /// The file (or folder) concerned.
        path: PathBuf,
        /// The I/O error or the missing content.
        what: String,
    },
    /// A suite whose files parse but break a cross-file consistency rule (see [`Suite::validate`]).
    #[error("suite {dir}: {what}")]
    Suite {
        /// The suite's folder.
        dir: PathBuf,
        /// The rule broken, naming the step or tag where there is one.
        what: String,
    },
}

/// The suite's identity and what it assumes of the unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    /// Major version from the `format` row (`MAJOR.MINOR`).
    pub major: u32,
    /// Minor version from the `format` row.
    pub minor: u32,
    /// The `suite` row: the suite's name, also its folder name.
    pub suite: String,
    /// The `description` row: one line of text saying what the suite covers.
    pub description: String,
    /// The `generator` row: the tool and version that wrote the suite.
    pub generator: String,
    /// The `seed` row: seed of the generator's randomness (0 for directed suites).
    pub seed: u64,
    /// The `config` row: the `iommu_top` parameter set the suite was generated for.
    pub config: DutConfig,
    /// CAP_REG and ECAP_REG the suite was generated for; a replay on a unit reporting others
    /// is refused.
    pub cap: u64,
    /// ECAP_REG the suite assumes (the `ecap` row); see `cap`.
    pub ecap: u64,
    /// Host-memory read latency in cycles the replayer's memory should use.
    pub mem_latency: u32,
    /// The rest of the replayer's timing (format 1.1).
    pub timing: Timing,
}

/// How the replayer's environment behaves besides the base memory latency (format 1.1; a missing
/// key takes its default, so 1.0 suites replay as before). Outcomes are order-based, so a unit
/// passes a suite under any timing; these settings make its flow control and reordering work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    /// Largest read latency: each read takes a latency in `mem_latency..=mem_latency_max`
    /// (default `mem_latency`).
    pub mem_latency_max: u32,
    /// Memory reads outstanding at most, 1..=64 (default 64).
    pub mem_outstanding: u32,
    /// Percent of cycles `mem_req_ready` may be high, 1..=100 (default 100).
    pub mem_ready: u32,
    /// Due read responses return in random order, not oldest first (default no).
    pub mem_out_of_order: bool,
    /// Percent of cycles each of `dn_ready`, `cpl_ready`, `irq_ready` is low, 0..=90 (default 0).
    pub backpressure: u32,
}

impl Timing {
    /// The defaults: fixed latency `mem_latency`, no limits, no back-pressure.
    pub const fn plain(mem_latency: u32) -> Self {
        Timing {
            mem_latency_max: mem_latency,
            mem_outstanding: 64,
            mem_ready: 100,
            mem_out_of_order: false,
            backpressure: 0,
        }
    }

    /// The memory server and port knobs that realise this timing (with base latency `lat`).
    pub fn settings(&self, lat: u32) -> (crate::memsrv::MemConfig, crate::sim::Knobs) {
        let ready = 1.0 - f64::from(self.backpressure) / 100.0;
        (
            crate::memsrv::MemConfig {
                latency_min: lat,
                latency_max: self.mem_latency_max.max(lat),
                max_outstanding: self.mem_outstanding as usize,
                out_of_order: self.mem_out_of_order,
                ready_prob: f64::from(self.mem_ready) / 100.0,
            },
            crate::sim::Knobs {
                up_idle: 0.0,
                dn_ready: ready,
                cpl_ready: ready,
                irq_ready: ready,
            },
        )
    }
}

/// One step of the stimulus.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Register write.
    Write {
        /// Register byte offset (the `addr` field).
        offset: u16,
        /// Access size in bytes, 4 or 8.
        size: u8,
        /// Value written (the `value` field).
        value: u64,
    },
    /// Register read: repeat (bounded) until `(read & mask) == (value & mask)`.
    Read {
        /// Register byte offset (the `addr` field).
        offset: u16,
        /// Access size in bytes, 4 or 8.
        size: u8,
        /// Expected value, compared under `mask`.
        value: u64,
        /// Bits of the read to compare; 0 reads without comparing.
        mask: u64,
    },
    /// Software writes `data` into host memory at `addr`.
    Mem {
        /// Host-physical byte address of the first byte (the `addr` field).
        addr: u64,
        /// The bytes in address order (the `value` field; `size` is their count).
        data: Vec<u8>,
    },
    /// From now on, reads of these (address, length) ranges fail (none: every range readable).
    Errors {
        /// (start address, length in bytes) of each range, the `ADDR+LEN` items of `value`.
        ranges: Vec<(u64, u64)>,
    },
    /// An upstream request (header DW0 first, first payload DW) with a harness tag.
    Request {
        /// Harness tag, unique in the suite; `expected.csv` lists the outcomes by it.
        tag: u16,
        /// The four header DWs, DW0 first (the `hdr` field).
        hdr: [u32; 4],
        /// First payload DW, as driven on `up_data0` (the `data0` field).
        data0: u32,
    },
}

/// A whole suite in memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suite {
    /// Contents of `manifest.csv`.
    pub manifest: Manifest,
    /// Initial memory: 16-byte aligned lines.
    pub image: Vec<(u64, [u8; 16])>,
    /// The stimulus of `stimulus.csv`, in order.
    pub steps: Vec<Step>,
    /// Allowed outcomes per tag (first: the one from current memory with nothing cached).
    pub expected: BTreeMap<u16, Vec<Outcome>>,
    /// The unit's own interrupt messages of `events.csv`, in the order they must appear.
    pub events: Vec<Msi>,
    /// Final registers: (offset, size, value).
    pub final_regs: Vec<(u16, u8, u64)>,
    /// Final memory the unit wrote: 16-byte aligned lines.
    pub final_mem: Vec<(u64, [u8; 16])>,
}

impl Suite {
    /// Requests in the stimulus.
    pub fn requests(&self) -> usize {
        self.steps
            .iter()
            .filter(|s| matches!(s, Step::Request { .. }))
            .count()
    }

    /// The consistency rules beyond what parsing checks: every request tag has outcomes and
    /// every outcome a request, tags are unique, image lines do not repeat, memory edits and
    /// register accesses are well-formed.
    pub fn validate(&self, dir: &Path) -> Result<(), VectorError> {
        let bad = |what: String| VectorError::Suite {
            dir: dir.to_path_buf(),
            what,
        };
        let mut tags = std::collections::BTreeSet::new();
        for (i, s) in self.steps.iter().enumerate() {
            match s {
                Step::Request { tag, .. } => {
                    if !tags.insert(*tag) {
                        return Err(bad(format!("step {i}: tag {tag:#06x} used twice")));
                    }
                    if !self.expected.contains_key(tag) {
                        return Err(bad(format!(
                            "step {i}: request tag {tag:#06x} has no outcome in expected.csv"
                        )));
                    }
                }
                Step::Write { offset, size, .. } | Step::Read { offset, size, .. } => {
                    crate::sim::check_access(*offset, *size)
                        .map_err(|e| bad(format!("step {i}: {e}")))?;
                }
                Step::Mem { data, .. } if data.is_empty() => {
                    return Err(bad(format!("step {i}: memory edit of no bytes")));
                }
                _ => {}
            }
        }
        for t in self.expected.keys() {
            if !tags.contains(t) {
                return Err(bad(format!(
                    "expected.csv names tag {t:#06x}, which no request in stimulus.csv has"
                )));
            }
        }
        for w in self.image.windows(2) {
            if w[1].0 <= w[0].0 {
                return Err(bad(format!(
                    "memory.csv: line {:#x} after {:#x} (lines ascend, each once)",
                    w[1].0, w[0].0
                )));
            }
        }
        if self.manifest.major != FORMAT_MAJOR {
            return Err(bad(format!(
                "format {}.{} (this reader: {FORMAT_MAJOR}.{FORMAT_MINOR})",
                self.manifest.major, self.manifest.minor
            )));
        }
        Ok(())
    }

    /// Write the suite into `dir` (created if missing; its suite files are replaced).
    pub fn write(&self, dir: &Path) -> Result<(), VectorError> {
        std::fs::create_dir_all(dir).map_err(|e| VectorError::File {
            path: dir.to_path_buf(),
            what: e.to_string(),
        })?;
        let m = &self.manifest;
        let mut t = String::from("key,value\n");
        for (k, v) in [
            ("format", format!("{}.{}", m.major, m.minor)),
            ("suite", m.suite.clone()),
            ("description", m.description.clone()),
            ("generator", m.generator.clone()),
            ("seed", m.seed.to_string()),
            ("config", m.config.name().to_string()),
            ("cap", format!("{:#018x}", m.cap)),
            ("ecap", format!("{:#018x}", m.ecap)),
            ("mem_latency", m.mem_latency.to_string()),
        ]
        .into_iter()
        .chain(timing_rows(m))
        {
            if v.contains(',') || v.contains('\n') {
                return Err(VectorError::Suite {
                    dir: dir.to_path_buf(),
                    what: format!("manifest {k} contains a comma or newline: {v:?}"),
                });
            }
            let _ = writeln!(t, "{k},{v}");
        }
        put(dir, "manifest.csv", &t)?;

        put(dir, "memory.csv", &lines_csv(&self.image))?;

        let mut t = String::from("step,op,addr,size,value,mask,tag,hdr,data0\n");
        for (i, s) in self.steps.iter().enumerate() {
            let _ = match s {
                Step::Write {
                    offset,
                    size,
                    value,
                } => writeln!(t, "{i},write,{offset:#05x},{size},{value:#x},,,,"),
                Step::Read {
                    offset,
                    size,
                    value,
                    mask,
                } => writeln!(t, "{i},read,{offset:#05x},{size},{value:#x},{mask:#x},,,"),
                Step::Mem { addr, data } => {
                    writeln!(
                        t,
                        "{i},mem,{addr:#x},{},{},,,,",
                        data.len(),
                        hex_bytes(data)
                    )
                }
                Step::Errors { ranges } => {
                    let r: Vec<String> = ranges
                        .iter()
                        .map(|(a, l)| format!("{a:#x}+{l:#x}"))
                        .collect();
                    writeln!(t, "{i},errors,,,{},,,,", r.join(" "))
                }
                Step::Request { tag, hdr, data0 } => writeln!(
                    t,
                    "{i},request,,,,,{tag:#06x},{:08x} {:08x} {:08x} {:08x},{data0:#010x}",
                    hdr[0], hdr[1], hdr[2], hdr[3]
                ),
            };
        }
        put(dir, "stimulus.csv", &t)?;

        let mut t = String::from("tag,outcome,addr,data,status,fault,pid,vector\n");
        for (tag, outs) in &self.expected {
            for o in outs {
                let _ = writeln!(t, "{tag:#06x},{}", outcome_fields(o));
            }
        }
        put(dir, "expected.csv", &t)?;

        let mut t = String::from("n,addr,data\n");
        for (i, e) in self.events.iter().enumerate() {
            let _ = writeln!(t, "{i},{:#x},{:#010x}", e.addr, e.data);
        }
        put(dir, "events.csv", &t)?;

        let mut t = String::from("kind,addr,size,value\n");
        for (off, size, v) in &self.final_regs {
            let _ = writeln!(t, "reg,{off:#05x},{size},{v:#x}");
        }
        for (a, b) in &self.final_mem {
            let _ = writeln!(t, "mem,{a:#x},16,{}", hex_bytes(b));
        }
        put(dir, "final.csv", &t)?;
        self.write_hex(dir)
    }

    /// The fixed-width `$readmemh` files for benches (`testvectors/README.md` "Hex files"):
    /// word 0 of each holds the record count; a memory edit becomes one strobed record per
    /// 16-byte line it touches.
    fn write_hex(&self, dir: &Path) -> Result<(), VectorError> {
        fn file(words: &[String], digits: usize) -> String {
            let mut t = format!("{:0digits$x}\n", words.len());
            for w in words {
                debug_assert_eq!(w.len(), digits);
                t.push_str(w);
                t.push('\n');
            }
            t
        }
        let line = |b: &[u8; 16]| u128::from_le_bytes(*b);
        let m = &self.manifest;
        put(
            dir,
            "manifest.hex",
            &file(
                &[
                    format!(
                        "{:016x}{:016x}{:08x}{:08x}",
                        m.cap,
                        m.ecap,
                        m.mem_latency,
                        u32::from(m.config == DutConfig::Tiny)
                    ),
                    format!(
                        "{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}",
                        m.timing.mem_latency_max.max(m.mem_latency),
                        m.timing.mem_outstanding,
                        m.timing.mem_ready,
                        u32::from(m.timing.mem_out_of_order),
                        m.timing.backpressure,
                        0
                    ),
                ],
                48,
            ),
        )?;
        let img: Vec<String> = self
            .image
            .iter()
            .map(|(a, b)| format!("{a:016x}{:032x}", line(b)))
            .collect();
        put(dir, "memory.hex", &file(&img, 48))?;
        // op(2) aux(4) tag(4) addr(16) val(32) mask(16) hdr(32) data0(8) = 114 digits.
        let mut st: Vec<String> = Vec::new();
        let mut rec = |op: u8,
                       aux: u16,
                       tag: u16,
                       addr: u64,
                       val: u128,
                       mask: u64,
                       hdr: [u32; 4],
                       d0: u32| {
            st.push(format!(
                "{op:02x}{aux:04x}{tag:04x}{addr:016x}{val:032x}{mask:016x}{:08x}{:08x}{:08x}{:08x}{d0:08x}",
                hdr[0], hdr[1], hdr[2], hdr[3]
            ));
        };
        // Records other than requests carry their CSV step number in the tag field.
        for (i, s) in self.steps.iter().enumerate() {
            let i = i as u16;
            match s {
                Step::Write {
                    offset,
                    size,
                    value,
                } => rec(
                    1,
                    u16::from(*size),
                    i,
                    u64::from(*offset),
                    u128::from(*value),
                    0,
                    [0; 4],
                    0,
                ),
                Step::Read {
                    offset,
                    size,
                    value,
                    mask,
                } => rec(
                    2,
                    u16::from(*size),
                    i,
                    u64::from(*offset),
                    u128::from(*value),
                    *mask,
                    [0; 4],
                    0,
                ),
                Step::Mem { addr, data } => {
                    let mut a = *addr;
                    let end = addr + data.len() as u64;
                    while a < end {
                        let base = a & !15;
                        let mut b = [0u8; 16];
                        let mut strobe = 0u16;
                        for (k, byte) in b.iter_mut().enumerate() {
                            let x = base + k as u64;
                            if x >= *addr && x < end {
                                *byte = data[(x - addr) as usize];
                                strobe |= 1 << k;
                            }
                        }
                        rec(3, strobe, i, base, u128::from_le_bytes(b), 0, [0; 4], 0);
                        a = base + 16;
                    }
                }
                Step::Errors { ranges } => {
                    rec(4, 0, i, 0, 0, 0, [0; 4], 0);
                    for (a, l) in ranges {
                        rec(5, 0, i, *a, u128::from(*l), 0, [0; 4], 0);
                    }
                }
                Step::Request { tag, hdr, data0 } => rec(6, 0, *tag, 0, 0, 0, *hdr, *data0),
            }
        }
        put(dir, "stimulus.hex", &file(&st, 114))?;
        // kind(2) tag(4) status(2) vector(2) addr(16) data(8) pid(16) = 50 digits.
        let mut ex: Vec<String> = Vec::new();
        for (tag, outs) in &self.expected {
            for o in outs {
                let (kind, status, vector, addr, data, pid) = match o {
                    Outcome::Forward { addr } => (1u8, 0u8, 0u8, addr.0, 0u32, 0u64),
                    Outcome::Complete { status, .. } => {
                        let c = match status {
                            CplStatus::Sc => 0,
                            CplStatus::Ur => 1,
                            CplStatus::Crs => 2,
                            CplStatus::Ca => 4,
                        };
                        (2, c, 0, 0, 0, 0)
                    }
                    Outcome::Drop { .. } => (3, 0, 0, 0, 0, 0),
                    Outcome::Interrupt { msi } => (4, 0, 0, msi.addr, msi.data, 0),
                    Outcome::Posted {
                        pid,
                        vector,
                        notify: Some(m),
                    } => (5, 0, *vector, m.addr, m.data, pid.0),
                    Outcome::Posted {
                        pid,
                        vector,
                        notify: None,
                    } => (6, 0, *vector, 0, 0, pid.0),
                };
                ex.push(format!(
                    "{kind:02x}{tag:04x}{status:02x}{vector:02x}{addr:016x}{data:08x}{pid:016x}"
                ));
            }
        }
        put(dir, "expected.hex", &file(&ex, 50))?;
        let ev: Vec<String> = self
            .events
            .iter()
            .map(|e| format!("{:016x}{:08x}", e.addr, e.data))
            .collect();
        put(dir, "events.hex", &file(&ev, 24))?;
        // kind(2) size(2) addr(16) value(32) = 52 digits.
        let mut fin: Vec<String> = self
            .final_regs
            .iter()
            .map(|(o, s, v)| format!("01{s:02x}{o:016x}{v:032x}"))
            .collect();
        fin.extend(
            self.final_mem
                .iter()
                .map(|(a, b)| format!("0210{a:016x}{:032x}", line(b))),
        );
        put(dir, "final.hex", &file(&fin, 52))
    }

    /// Read and validate the suite in `dir`.
    pub fn read(dir: &Path) -> Result<Suite, VectorError> {
        let manifest = read_manifest(dir)?;
        let image = read_lines(&dir.join("memory.csv"))?;
        let steps = read_steps(&dir.join("stimulus.csv"))?;
        let (expected, _) = read_expected(&dir.join("expected.csv"))?;
        let events = read_events(&dir.join("events.csv"))?;
        let (final_regs, final_mem) = read_final(&dir.join("final.csv"))?;
        let s = Suite {
            manifest,
            image,
            steps,
            expected,
            events,
            final_regs,
            final_mem,
        };
        s.validate(dir)?;
        Ok(s)
    }
}

fn put(dir: &Path, name: &str, text: &str) -> Result<(), VectorError> {
    let p = dir.join(name);
    std::fs::write(&p, text).map_err(|e| VectorError::File {
        path: p,
        what: e.to_string(),
    })
}

fn hex_bytes(b: &[u8]) -> String {
    let mut s = String::with_capacity(2 * b.len());
    for x in b {
        let _ = write!(s, "{x:02x}");
    }
    s
}

fn lines_csv(lines: &[(u64, [u8; 16])]) -> String {
    let mut t = String::from("addr,qword0,qword1\n");
    for (a, b) in lines {
        let q0 = u64::from_le_bytes(b[..8].try_into().expect("8 bytes"));
        let q1 = u64::from_le_bytes(b[8..].try_into().expect("8 bytes"));
        let _ = writeln!(t, "{a:#x},{q0:#018x},{q1:#018x}");
    }
    t
}

fn status_name(s: CplStatus) -> &'static str {
    match s {
        CplStatus::Sc => "sc",
        CplStatus::Ur => "ur",
        CplStatus::Crs => "crs",
        CplStatus::Ca => "ca",
    }
}

fn fault_field(f: Option<FaultReason>) -> String {
    f.map(|f| format!("{:#04x}", f.code())).unwrap_or_default()
}

/// `outcome,addr,data,status,fault,pid,vector` of one allowed outcome.
fn outcome_fields(o: &Outcome) -> String {
    match o {
        Outcome::Forward { addr } => format!("forward,{:#x},,,,,", addr.0),
        Outcome::Complete { status, fault } => {
            format!(
                "complete,,,{},{},,",
                status_name(*status),
                fault_field(*fault)
            )
        }
        Outcome::Drop { fault } => format!("drop,,,,{},,", fault_field(*fault)),
        Outcome::Interrupt { msi } => format!("interrupt,{:#x},{:#010x},,,,", msi.addr, msi.data),
        Outcome::Posted {
            pid,
            vector,
            notify,
        } => match notify {
            Some(m) => format!(
                "posted,{:#x},{:#010x},,,{:#x},{vector:#04x}",
                m.addr, m.data, pid.0
            ),
            None => format!("posted,,,,,{:#x},{vector:#04x}", pid.0),
        },
    }
}

// ---- reading ----------------------------------------------------------------------------------

/// The rows of a CSV file with the given header (no quoting: no field holds a comma).
struct Csv {
    path: PathBuf,
    rows: Vec<(usize, Vec<String>)>,
    header: Vec<&'static str>,
}

impl Csv {
    fn open(path: &Path, header: &[&'static str]) -> Result<Csv, VectorError> {
        let text = std::fs::read_to_string(path).map_err(|e| VectorError::File {
            path: path.to_path_buf(),
            what: e.to_string(),
        })?;
        let mut lines = text.lines().enumerate();
        let first = lines.next().map(|(_, l)| l.trim_end()).unwrap_or("");
        let want = header.join(",");
        if first != want {
            return Err(VectorError::Field {
                path: path.to_path_buf(),
                line: 1,
                field: "header".into(),
                what: format!("is {first:?}, expected {want:?}"),
            });
        }
        let mut rows = Vec::new();
        for (i, l) in lines {
            let l = l.trim_end();
            if l.is_empty() {
                continue;
            }
            let f: Vec<String> = l.split(',').map(|x| x.trim().to_string()).collect();
            if f.len() != header.len() {
                return Err(VectorError::Field {
                    path: path.to_path_buf(),
                    line: i + 1,
                    field: "row".into(),
                    what: format!("{} fields, expected {}", f.len(), header.len()),
                });
            }
            rows.push((i + 1, f));
        }
        Ok(Csv {
            path: path.to_path_buf(),
            rows,
            header: header.to_vec(),
        })
    }

    fn err(&self, line: usize, col: usize, what: impl Into<String>) -> VectorError {
        VectorError::Field {
            path: self.path.clone(),
            line,
            field: self.header[col].to_string(),
            what: what.into(),
        }
    }

    fn num(&self, line: usize, f: &[String], col: usize) -> Result<u64, VectorError> {
        parse_num(&f[col]).ok_or_else(|| {
            self.err(
                line,
                col,
                format!("{:?} is not a number (decimal or 0x hex)", f[col]),
            )
        })
    }

    fn opt(&self, line: usize, f: &[String], col: usize) -> Result<Option<u64>, VectorError> {
        if f[col].is_empty() {
            Ok(None)
        } else {
            self.num(line, f, col).map(Some)
        }
    }

    fn need(&self, line: usize, f: &[String], col: usize) -> Result<u64, VectorError> {
        if f[col].is_empty() {
            return Err(self.err(line, col, "missing"));
        }
        self.num(line, f, col)
    }

    fn bytes(&self, line: usize, f: &[String], col: usize) -> Result<Vec<u8>, VectorError> {
        let s = &f[col];
        if s.len() % 2 != 0 || !s.bytes().all(|c| c.is_ascii_hexdigit()) {
            return Err(self.err(line, col, "not an even number of hex digits"));
        }
        Ok((0..s.len() / 2)
            .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).expect("hex digits"))
            .collect())
    }
}

fn parse_num(s: &str) -> Option<u64> {
    match s.strip_prefix("0x") {
        Some(h) => u64::from_str_radix(h, 16).ok(),
        None => s.parse().ok(),
    }
}

fn fits<T: TryFrom<u64>>(c: &Csv, line: usize, col: usize, v: u64) -> Result<T, VectorError> {
    T::try_from(v).map_err(|_| c.err(line, col, format!("{v:#x} is out of range")))
}

/// The format-1.1 timing rows that differ from their defaults.
fn timing_rows(m: &Manifest) -> Vec<(&'static str, String)> {
    let (t, d) = (m.timing, Timing::plain(m.mem_latency));
    let mut v = Vec::new();
    if t.mem_latency_max != d.mem_latency_max {
        v.push(("mem_latency_max", t.mem_latency_max.to_string()));
    }
    if t.mem_outstanding != d.mem_outstanding {
        v.push(("mem_outstanding", t.mem_outstanding.to_string()));
    }
    if t.mem_ready != d.mem_ready {
        v.push(("mem_ready", t.mem_ready.to_string()));
    }
    if t.mem_out_of_order != d.mem_out_of_order {
        v.push((
            "mem_out_of_order",
            u32::from(t.mem_out_of_order).to_string(),
        ));
    }
    if t.backpressure != d.backpressure {
        v.push(("backpressure", t.backpressure.to_string()));
    }
    v
}

fn read_manifest(dir: &Path) -> Result<Manifest, VectorError> {
    let c = Csv::open(&dir.join("manifest.csv"), &["key", "value"])?;
    let mut kv: BTreeMap<String, (usize, String)> = BTreeMap::new();
    for (line, f) in &c.rows {
        if kv.insert(f[0].clone(), (*line, f[1].clone())).is_some() {
            return Err(c.err(*line, 0, format!("key {:?} given twice", f[0])));
        }
    }
    let get = |k: &str| -> Result<(usize, String), VectorError> {
        kv.get(k).cloned().ok_or_else(|| VectorError::File {
            path: c.path.clone(),
            what: format!("no {k:?} row"),
        })
    };
    let num = |k: &str| -> Result<u64, VectorError> {
        let (line, v) = get(k)?;
        parse_num(&v).ok_or_else(|| c.err(line, 1, format!("{k}: {v:?} is not a number")))
    };
    let (fl, fv) = get("format")?;
    let (major, minor) = fv
        .split_once('.')
        .and_then(|(a, b)| Some((a.parse().ok()?, b.parse().ok()?)))
        .ok_or_else(|| c.err(fl, 1, format!("format: {fv:?} is not MAJOR.MINOR")))?;
    if major > FORMAT_MAJOR {
        return Err(c.err(
            fl,
            1,
            format!(
                "format {major}.{minor} is newer than this reader ({FORMAT_MAJOR}.{FORMAT_MINOR}): use a newer iommu-cosim"
            ),
        ));
    }
    if major < FORMAT_MAJOR {
        return Err(c.err(
            fl,
            1,
            format!("format {major}.{minor} is older than this reader supports ({FORMAT_MAJOR}.x)"),
        ));
    }
    let (cl, cv) = get("config")?;
    let config: DutConfig = cv
        .parse()
        .map_err(|e: String| c.err(cl, 1, format!("config: {e}")))?;
    let mem_latency = num("mem_latency")?;
    let lat = u32::try_from(mem_latency)
        .ok()
        .filter(|l| *l >= 1)
        .ok_or_else(|| VectorError::File {
            path: c.path.clone(),
            what: format!("mem_latency {mem_latency} is not 1..=2^32-1"),
        })?;
    // Optional timing rows (format 1.1), each within its range.
    let opt = |k: &str, lo: u64, hi: u64, dflt: u32| -> Result<u32, VectorError> {
        match kv.get(k) {
            None => Ok(dflt),
            Some((line, v)) => parse_num(v)
                .filter(|n| (lo..=hi).contains(n))
                .map(|n| n as u32)
                .ok_or_else(|| c.err(*line, 1, format!("{k}: {v:?} is not in {lo}..={hi}"))),
        }
    };
    let d = Timing::plain(lat);
    let timing = Timing {
        mem_latency_max: opt(
            "mem_latency_max",
            u64::from(lat),
            u64::from(u32::MAX),
            d.mem_latency_max,
        )?,
        mem_outstanding: opt("mem_outstanding", 1, 64, d.mem_outstanding)?,
        mem_ready: opt("mem_ready", 1, 100, d.mem_ready)?,
        mem_out_of_order: opt("mem_out_of_order", 0, 1, 0)? == 1,
        backpressure: opt("backpressure", 0, 90, d.backpressure)?,
    };
    Ok(Manifest {
        major,
        minor,
        suite: get("suite")?.1,
        description: get("description")?.1,
        generator: get("generator")?.1,
        seed: num("seed")?,
        config,
        cap: num("cap")?,
        ecap: num("ecap")?,
        mem_latency: lat,
        timing,
    })
}

fn read_lines(path: &Path) -> Result<Vec<(u64, [u8; 16])>, VectorError> {
    let c = Csv::open(path, &["addr", "qword0", "qword1"])?;
    let mut v = Vec::with_capacity(c.rows.len());
    for (line, f) in &c.rows {
        let a = c.need(*line, f, 0)?;
        if a % 16 != 0 {
            return Err(c.err(*line, 0, format!("{a:#x} is not 16-byte aligned")));
        }
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&c.need(*line, f, 1)?.to_le_bytes());
        b[8..].copy_from_slice(&c.need(*line, f, 2)?.to_le_bytes());
        v.push((a, b));
    }
    Ok(v)
}

fn read_steps(path: &Path) -> Result<Vec<Step>, VectorError> {
    let c = Csv::open(
        path,
        &[
            "step", "op", "addr", "size", "value", "mask", "tag", "hdr", "data0",
        ],
    )?;
    let mut v = Vec::with_capacity(c.rows.len());
    for (line, f) in &c.rows {
        let line = *line;
        let n = c.need(line, f, 0)?;
        if n != v.len() as u64 {
            return Err(c.err(line, 0, format!("step {n}, expected {}", v.len())));
        }
        let s = match f[1].as_str() {
            "write" | "read" => {
                let offset: u16 = fits(&c, line, 2, c.need(line, f, 2)?)?;
                let size: u8 = fits(&c, line, 3, c.need(line, f, 3)?)?;
                let value = c.need(line, f, 4)?;
                if f[1] == "write" {
                    Step::Write {
                        offset,
                        size,
                        value,
                    }
                } else {
                    Step::Read {
                        offset,
                        size,
                        value,
                        mask: c.opt(line, f, 5)?.unwrap_or(u64::MAX),
                    }
                }
            }
            "mem" => {
                let addr = c.need(line, f, 2)?;
                let data = c.bytes(line, f, 4)?;
                let len = c.need(line, f, 3)?;
                if len != data.len() as u64 {
                    return Err(c.err(
                        line,
                        3,
                        format!("{len}, but value holds {} bytes", data.len()),
                    ));
                }
                Step::Mem { addr, data }
            }
            "errors" => {
                let mut ranges = Vec::new();
                for r in f[4].split_whitespace() {
                    let (a, l) = r
                        .split_once('+')
                        .and_then(|(a, l)| Some((parse_num(a)?, parse_num(l)?)))
                        .ok_or_else(|| c.err(line, 4, format!("{r:?} is not ADDR+LEN")))?;
                    ranges.push((a, l));
                }
                Step::Errors { ranges }
            }
            "request" => {
                let tag: u16 = fits(&c, line, 6, c.need(line, f, 6)?)?;
                let dws: Vec<&str> = f[7].split_whitespace().collect();
                if dws.len() != 4 {
                    return Err(c.err(line, 7, "not four header DWs"));
                }
                let mut hdr = [0u32; 4];
                for (k, d) in dws.iter().enumerate() {
                    hdr[k] = u32::from_str_radix(d, 16)
                        .map_err(|_| c.err(line, 7, format!("DW{k} {d:?} is not hex")))?;
                }
                let data0: u32 = fits(&c, line, 8, c.opt(line, f, 8)?.unwrap_or(0))?;
                Step::Request { tag, hdr, data0 }
            }
            other => {
                return Err(c.err(
                    line,
                    1,
                    format!("{other:?} is not write, read, mem, errors or request"),
                ))
            }
        };
        v.push(s);
    }
    Ok(v)
}

type Expected = BTreeMap<u16, Vec<Outcome>>;

fn read_expected(path: &Path) -> Result<(Expected, usize), VectorError> {
    let c = Csv::open(
        path,
        &[
            "tag", "outcome", "addr", "data", "status", "fault", "pid", "vector",
        ],
    )?;
    let mut m: Expected = BTreeMap::new();
    for (line, f) in &c.rows {
        let line = *line;
        let tag: u16 = fits(&c, line, 0, c.need(line, f, 0)?)?;
        let fault = |c: &Csv| -> Result<Option<FaultReason>, VectorError> {
            match c.opt(line, f, 5)? {
                None => Ok(None),
                Some(v) => u8::try_from(v)
                    .ok()
                    .and_then(FaultReason::from_code)
                    .map(Some)
                    .ok_or_else(|| c.err(line, 5, format!("{v:#x} is not a fault reason"))),
            }
        };
        let msi = |c: &Csv| -> Result<Option<Msi>, VectorError> {
            match (c.opt(line, f, 2)?, c.opt(line, f, 3)?) {
                (Some(addr), Some(d)) => Ok(Some(Msi {
                    addr,
                    data: fits(c, line, 3, d)?,
                })),
                (None, None) => Ok(None),
                _ => Err(c.err(line, 3, "an interrupt needs both addr and data")),
            }
        };
        let o = match f[1].as_str() {
            "forward" => Outcome::Forward {
                addr: Hpa(c.need(line, f, 2)?),
            },
            "complete" => Outcome::Complete {
                status: match f[4].as_str() {
                    "ur" => CplStatus::Ur,
                    "ca" => CplStatus::Ca,
                    "sc" => CplStatus::Sc,
                    "crs" => CplStatus::Crs,
                    s => return Err(c.err(line, 4, format!("{s:?} is not ur, ca, sc or crs"))),
                },
                fault: fault(&c)?,
            },
            "drop" => Outcome::Drop { fault: fault(&c)? },
            "interrupt" => Outcome::Interrupt {
                msi: msi(&c)?.ok_or_else(|| c.err(line, 2, "missing"))?,
            },
            "posted" => Outcome::Posted {
                pid: Hpa(c.need(line, f, 6)?),
                vector: fits(&c, line, 7, c.need(line, f, 7)?)?,
                notify: msi(&c)?,
            },
            s => {
                return Err(c.err(
                    line,
                    1,
                    format!("{s:?} is not forward, complete, drop, interrupt or posted"),
                ))
            }
        };
        m.entry(tag).or_default().push(o);
    }
    let n = c.rows.len();
    Ok((m, n))
}

fn read_events(path: &Path) -> Result<Vec<Msi>, VectorError> {
    let c = Csv::open(path, &["n", "addr", "data"])?;
    let mut v = Vec::new();
    for (line, f) in &c.rows {
        if c.need(*line, f, 0)? != v.len() as u64 {
            return Err(c.err(*line, 0, format!("expected {}", v.len())));
        }
        v.push(Msi {
            addr: c.need(*line, f, 1)?,
            data: fits(&c, *line, 2, c.need(*line, f, 2)?)?,
        });
    }
    Ok(v)
}

type Final = (Vec<(u16, u8, u64)>, Vec<(u64, [u8; 16])>);

fn read_final(path: &Path) -> Result<Final, VectorError> {
    let c = Csv::open(path, &["kind", "addr", "size", "value"])?;
    let (mut regs, mut mem) = (Vec::new(), Vec::new());
    for (line, f) in &c.rows {
        let line = *line;
        match f[0].as_str() {
            "reg" => regs.push((
                fits(&c, line, 1, c.need(line, f, 1)?)?,
                fits(&c, line, 2, c.need(line, f, 2)?)?,
                c.need(line, f, 3)?,
            )),
            "mem" => {
                let a = c.need(line, f, 1)?;
                let b = c.bytes(line, f, 3)?;
                if a % 16 != 0 || b.len() != 16 {
                    return Err(c.err(line, 3, "not one 16-byte aligned line"));
                }
                mem.push((a, b.try_into().expect("16 bytes")));
            }
            s => return Err(c.err(line, 0, format!("{s:?} is not reg or mem"))),
        }
    }
    Ok((regs, mem))
}
