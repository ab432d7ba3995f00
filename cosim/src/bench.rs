//! Hardware benchmarks (`iommu-cosim bench`): each suite measures figures of the RTL through the
//! lockstep harness (so every outcome is still judged by the golden model, and a mismatch fails
//! the run), writes `<suite>.csv` and `<suite>.svg` into the output folder, and the folder's
//! `README.md` is rebuilt from every suite's CSV found there.
//!
//! Every figure is deterministic: fixed memory latency, in-order returns, no back-pressure, no
//! idle cycles, fixed seed; a rerun on the same RTL gives the same CSV (but for the `revision`
//! column).
//!
//! BenchSuite `latency` (cycles from the DUT accepting a request to its egress beat, unless stated):
//! - `iotlb_hit`: a read of a page whose translation is cached;
//! - `walk`: an IOTLB miss with a warm context cache, for 3-, 4- and 5-level tables, with the
//!   paging-structure cache cold (`psc_hit` = none: after a global IOTLB invalidation) or warmed
//!   by a neighbouring page that shares the tables down to level `psc_hit` (2 = the PDE, 3 = the
//!   PDPTE, 4 = the PML4E, 5 = the PML5E);
//! - `walk_context_miss`: the same with the context cache cold too (4-level);
//! - `iec_miss`, `iec_hit`: a remapped interrupt (accept to the interrupt beat);
//! - `posted`: a posted interrupt after an IEC flush (accept to the notification beat);
//! - `psi_queue`: page-selective invalidation through the queue, IQT write to the wait
//!   descriptor's status in memory; `psi_register`: through IVA and IOTLB_REG, from the first
//!   register write to the read that sees IVT clear (register accesses included);
//!
//! each at memory latencies 20, 100 and 300 cycles (`--quick`: 20 only), in every configuration
//! asked for.

use crate::dut::DutConfig;
use crate::lockstep::Lockstep;
use crate::measure::{measure_ir, MeasureOpts};
use crate::memsrv::MemConfig;
use anyhow::{bail, Context, Result};
use iommu_driver::model::{Outcome, Request};
use iommu_driver::os::{BringUp, InvRequest, Iommu, OsConfig, PageSize, Perms};
use iommu_driver::{DomainId, Hpa, Iova, Rid};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// A benchmark suite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BenchSuite {
    /// Latencies of hits, walks, context misses, interrupts and invalidations (cycles).
    Latency,
    /// Translations and bytes per clock of streaming, random, NIC-ring and SR-IOV workloads and
    /// of a miss-rate sweep ([`crate::bench_throughput`]).
    Throughput,
    /// Yosys cell and flop counts, IOTLB hit-path depth and FPGA storage mapping
    /// ([`crate::bench_area`]); the full suite takes hours (large IOTLBs in flops).
    Area,
}

impl BenchSuite {
    /// Every suite, in the order they run.
    pub const ALL: [BenchSuite; 3] = [
        BenchSuite::Latency,
        BenchSuite::Throughput,
        BenchSuite::Area,
    ];

    /// The configurations the suite measures unless told otherwise: default and tiny, and for
    /// throughput also the default with 1, 2 and 8 walkers (4 is the default's).
    pub fn configs(self) -> Vec<DutConfig> {
        let mut v = vec![DutConfig::Default, DutConfig::Tiny];
        if self == BenchSuite::Throughput {
            for w in [1, 2, 8] {
                v.push(
                    DutConfig::Default
                        .with(&[format!("WALKERS={w}")])
                        .expect("a valid walker count"),
                );
            }
        }
        v
    }

    /// The suite's name on the command line and in file names.
    pub fn name(self) -> &'static str {
        match self {
            BenchSuite::Latency => "latency",
            BenchSuite::Throughput => "throughput",
            BenchSuite::Area => "area",
        }
    }
}

impl std::str::FromStr for BenchSuite {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        BenchSuite::ALL
            .into_iter()
            .find(|x| x.name() == s)
            .ok_or_else(|| {
                let names: Vec<_> = BenchSuite::ALL.iter().map(|x| x.name()).collect();
                format!("unknown suite {s:?} (suites: {})", names.join(", "))
            })
    }
}

/// What to run.
#[derive(Debug, Clone)]
pub struct BenchOpts {
    /// Suites to run.
    pub suites: Vec<BenchSuite>,
    /// RTL configurations to measure; empty: each suite's own ([`BenchSuite::configs`]).
    pub configs: Vec<DutConfig>,
    /// `NAME=VALUE` parameter assignments applied to every configuration measured.
    pub params: Vec<String>,
    /// Output folder (CSV, SVG, README.md).
    pub out: PathBuf,
    /// The smallest size of each suite (what the tests run).
    pub quick: bool,
    /// Show a progress bar per suite.
    pub progress: bool,
}

/// The RTL parameters of a configuration, as `iommu_top` declares them.
pub fn params(config: DutConfig) -> [(&'static str, u32); 8] {
    config.params().list()
}

/// One measured figure of the latency suite.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LatencyRow {
    /// RTL configuration.
    pub config: DutConfig,
    /// Figure name (see the module documentation).
    pub figure: &'static str,
    /// Memory read latency, in cycles.
    pub mem_latency: u32,
    /// Page-table levels of the domain (0 when no walk is involved).
    pub levels: u8,
    /// The level the paging-structure cache was warmed at (`None`: cold; walk figures only).
    pub psc_hit: Option<u8>,
    /// The figure, in cycles.
    pub cycles: u64,
}

/// The devices measured: one per walk depth, each in its own domain.
fn dev(levels: u8) -> Rid {
    Rid::from_bdf(2, levels, 0)
}

/// The measured page of a domain, and the neighbour that shares its entries at `level` and
/// above (level 2 = the PDE: the same page table, so the neighbour differs in IOVA bits 20:12;
/// level 3 = the PDPTE: bits 29:21; ...).
const TARGET: u64 = 0x40_0000_0000;
fn neighbour(level: u8) -> u64 {
    TARGET + (1u64 << (12 + 9 * (u32::from(level) - 2)))
}

fn read(rid: Rid, addr: u64) -> Result<Request> {
    Ok(Request::read(rid, addr, 64)?)
}

/// The walk, hit and context-miss figures at one memory latency.
fn walks(config: DutConfig, lat: u32, rows: &mut Vec<LatencyRow>) -> Result<()> {
    let ls = Lockstep::builder()
        .config(config)
        .mem_port(MemConfig::fixed(lat))
        .build()?;
    let mut os = Iommu::new(ls, OsConfig::default())?;
    for levels in [3u8, 4, 5] {
        if !os.caps().supports_levels(levels) {
            bail!("the DUT does not support {levels}-level tables (CAP.SAGAW)");
        }
        let did = DomainId(u16::from(levels));
        os.create_domain(did, levels)?;
        os.assign_device(dev(levels), did)?;
        let mut map = |iova: u64, n: u64| {
            os.map(
                did,
                Iova(iova),
                Hpa(0x1_0000_0000 + u64::from(levels) * 0x10_0000 + n * 0x1000),
                PageSize::Size4K,
                Perms::RW,
            )
        };
        map(TARGET, 0)?;
        for l in 2..=levels {
            map(neighbour(l), u64::from(l))?;
        }
    }
    os.bring_up(BringUp {
        qi: false,
        ir: None,
        te: true,
    })?;
    let mut push = |figure, levels, psc_hit, cycles| {
        rows.push(LatencyRow {
            config,
            figure,
            mem_latency: lat,
            levels,
            psc_hit,
            cycles,
        })
    };
    let latency = |os: &mut Iommu<Lockstep>, rid: Rid, addr: u64| -> Result<u64> {
        let e = os.platform_mut().send(read(rid, addr)?)?;
        if !matches!(e.outcome, Outcome::Forward { .. }) {
            bail!(
                "read of {addr:#x} by {rid:?} was not translated: {:?}",
                e.outcome
            );
        }
        Ok(e.latency())
    };
    for levels in [3u8, 4, 5] {
        let rid = dev(levels);
        // Context cache warm for this device; IOTLB and PSC cold.
        latency(&mut os, rid, TARGET)?;
        os.invalidate(&[InvRequest::IotlbGlobal])?;
        push("walk", levels, None, latency(&mut os, rid, TARGET)?);
        if levels == 4 {
            push("iotlb_hit", 4, None, latency(&mut os, rid, TARGET)?);
        }
        for l in 2..=levels {
            os.invalidate(&[InvRequest::IotlbGlobal])?;
            latency(&mut os, rid, neighbour(l))?;
            push("walk", levels, Some(l), latency(&mut os, rid, TARGET)?);
        }
    }
    os.invalidate(&[InvRequest::ContextGlobal, InvRequest::IotlbGlobal])?;
    push(
        "walk_context_miss",
        4,
        None,
        latency(&mut os, dev(4), TARGET)?,
    );
    // Register-based page-selective invalidation, as software sees it.
    let ls = os.platform_mut();
    let t0 = ls.sim.cycle();
    os.invalidate_reg(InvRequest::IotlbPage {
        did: DomainId(4),
        addr: Iova(TARGET),
        am: 0,
        ih: false,
    })?;
    push("psi_register", 0, None, os.platform().sim.cycle() - t0);
    let ls = os.platform_mut();
    ls.finish();
    ls.check()?;
    Ok(())
}

/// Run the latency suite.
pub fn latency(config: DutConfig, lats: &[u32], tick: &mut dyn FnMut()) -> Result<Vec<LatencyRow>> {
    let mut rows = Vec::new();
    for &lat in lats {
        walks(config, lat, &mut rows).with_context(|| format!("{config}, memory latency {lat}"))?;
        tick();
        let memcfg = MemConfig::fixed(lat);
        let opts = MeasureOpts {
            config,
            mem_latency: lat,
            samples: 3,
            ..MeasureOpts::default()
        };
        let ir = measure_ir(&opts, memcfg)
            .map_err(anyhow::Error::msg)
            .with_context(|| format!("{config}, memory latency {lat}: interrupts"))?;
        for (figure, cycles) in [
            ("iec_miss", ir.remap_iec_miss),
            ("iec_hit", ir.remap_iec_hit),
            ("posted", ir.posted_notify),
            ("psi_queue", ir.psi_queue_round_trip),
        ] {
            rows.push(LatencyRow {
                config,
                figure,
                mem_latency: lat,
                levels: 0,
                psc_hit: None,
                cycles,
            });
        }
        tick();
    }
    rows.sort_by(|a, b| {
        (
            a.config.name(),
            a.figure,
            a.levels,
            a.psc_hit,
            a.mem_latency,
        )
            .cmp(&(
                b.config.name(),
                b.figure,
                b.levels,
                b.psc_hit,
                b.mem_latency,
            ))
    });
    Ok(rows)
}

/// The git revision of the checkout (`git describe --always --dirty`), or "unknown".
pub fn revision() -> String {
    std::process::Command::new("git")
        .args(["describe", "--always", "--dirty", "--abbrev=12"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "unknown".into())
}

/// The CSV header of the latency suite.
pub const LATENCY_HEADER: &str = "revision,config,CC_ENTRIES,TLB_SETS,TLB_WAYS,PSC_ENTRIES,\
WALKERS,ROB_DEPTH,IEC_ENTRIES,NFR,figure,mem_latency,levels,psc_hit,value,unit";

/// The latency suite as CSV.
pub fn latency_csv(rows: &[LatencyRow], revision: &str) -> String {
    let mut s = String::from(LATENCY_HEADER);
    s.push('\n');
    for r in rows {
        let p: Vec<String> = params(r.config)
            .iter()
            .map(|(_, v)| v.to_string())
            .collect();
        let _ = writeln!(
            s,
            "{revision},{},{},{},{},{},{},{},cycles",
            r.config,
            p.join(","),
            r.figure,
            r.mem_latency,
            r.levels,
            r.psc_hit.map_or("none".to_string(), |l| l.to_string()),
            r.cycles
        );
    }
    s
}

/// Parse a latency CSV written by [`latency_csv`] (for the README and for comparisons); an
/// unreadable line is an error naming the file and the line.
pub fn parse_latency_csv(text: &str, path: &Path) -> Result<Vec<LatencyRow>> {
    let mut lines = text.lines();
    let head = lines.next().unwrap_or_default();
    if head != LATENCY_HEADER {
        bail!("{}: line 1 is not the latency header", path.display());
    }
    let mut rows = Vec::new();
    for (i, line) in lines.enumerate() {
        let at = || format!("{}: line {}", path.display(), i + 2);
        let f: Vec<&str> = line.split(',').collect();
        if f.len() != 16 {
            bail!("{}: {} fields, expected 16", at(), f.len());
        }
        let config: DutConfig = f[1].parse().map_err(anyhow::Error::msg).with_context(at)?;
        let figure = FIGURES
            .iter()
            .find(|x| **x == f[10])
            .with_context(|| format!("{}: unknown figure {:?}", at(), f[10]))?;
        rows.push(LatencyRow {
            config,
            figure,
            mem_latency: f[11].parse().with_context(at)?,
            levels: f[12].parse().with_context(at)?,
            psc_hit: match f[13] {
                "none" => None,
                l => Some(l.parse().with_context(at)?),
            },
            cycles: f[14].parse().with_context(at)?,
        });
    }
    Ok(rows)
}

const FIGURES: [&str; 8] = [
    "iotlb_hit",
    "walk",
    "walk_context_miss",
    "iec_miss",
    "iec_hit",
    "posted",
    "psi_queue",
    "psi_register",
];

/// Memory latencies the full latency suite sweeps.
pub const MEM_LATENCIES: [u32; 3] = [20, 100, 300];

/// Run the suites, write their CSV and SVG files and rebuild the README. Returns what it wrote.
pub fn run(opts: &BenchOpts) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(&opts.out)
        .with_context(|| format!("cannot create {}", opts.out.display()))?;
    let rev = revision();
    let mut written = Vec::new();
    for suite in &opts.suites {
        let mut configs = if opts.configs.is_empty() {
            suite.configs()
        } else {
            opts.configs.clone()
        };
        for c in configs.iter_mut() {
            *c = c.with(&opts.params).map_err(anyhow::Error::msg)?;
            c.prepare(true).map_err(anyhow::Error::msg)?;
        }
        match suite {
            BenchSuite::Latency => {
                let lats: &[u32] = if opts.quick { &[20] } else { &MEM_LATENCIES };
                let steps = (configs.len() * lats.len() * 2) as u64;
                let bar = bar(opts.progress, "latency", steps);
                let mut rows = Vec::new();
                for &c in &configs {
                    bar.set_message(c.name());
                    rows.extend(latency(c, lats, &mut || bar.inc(1))?);
                }
                bar.finish_and_clear();
                let csv = opts.out.join("latency.csv");
                std::fs::write(&csv, latency_csv(&rows, &rev))
                    .with_context(|| format!("cannot write {}", csv.display()))?;
                let svg = opts.out.join("latency.svg");
                crate::bench_plot::latency_svg(&rows, &svg)?;
                written.push(csv);
                written.push(svg);
            }
            BenchSuite::Area => {
                use crate::bench_area as ba;
                let mut plan = if opts.quick {
                    let mut p = ba::AreaPlan::new(&[16], false)?;
                    p.designs = vec![ba::AreaDesign::tiny()];
                    p
                } else {
                    ba::AreaPlan::new(&ba::IOTLB_SIZES, true)?
                };
                plan.jobs = plan.jobs.max(1);
                let bar = bar(opts.progress, "area", plan.runs() as u64);
                let (rows, _) = ba::area_plan(&plan, &mut || bar.inc(1))?;
                bar.finish_and_clear();
                let csv = opts.out.join("area.csv");
                std::fs::write(&csv, ba::area_csv(&rows, &rev))
                    .with_context(|| format!("cannot write {}", csv.display()))?;
                let svg = opts.out.join("area.svg");
                ba::area_svg(&rows, &svg)?;
                written.push(csv);
                written.push(svg);
            }
            BenchSuite::Throughput => {
                use crate::bench_throughput as bt;
                let requests = if opts.quick { 200 } else { 2000 };
                let bar = bar(
                    opts.progress,
                    "throughput",
                    configs.len() as u64 * bt::STEPS,
                );
                let mut rows = Vec::new();
                for &c in &configs {
                    bar.set_message(c.name());
                    rows.extend(
                        bt::throughput(c, requests, &mut || bar.inc(1))
                            .with_context(|| format!("throughput, {c}"))?,
                    );
                }
                bar.finish_and_clear();
                let csv = opts.out.join("throughput.csv");
                std::fs::write(&csv, bt::throughput_csv(&rows, &rev))
                    .with_context(|| format!("cannot write {}", csv.display()))?;
                let svg = opts.out.join("throughput.svg");
                crate::bench_plot::throughput_svg(&rows, &svg)?;
                written.push(csv);
                written.push(svg);
            }
        }
    }
    let readme = opts.out.join("README.md");
    std::fs::write(&readme, readme_text(&opts.out)?)
        .with_context(|| format!("cannot write {}", readme.display()))?;
    written.push(readme);
    Ok(written)
}

/// A progress bar for one suite (hidden unless `shown`).
fn bar(shown: bool, suite: &str, steps: u64) -> indicatif::ProgressBar {
    let bar = if shown {
        indicatif::ProgressBar::new(steps)
    } else {
        indicatif::ProgressBar::hidden()
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template(&format!(
            "{suite:<11}[{{bar:30}}] {{pos}}/{{len}} {{msg}}"
        ))
        .expect("template")
        .progress_chars("=> "),
    );
    bar
}

/// `bench-results/README.md`, from the suites' CSV files in `dir`.
pub fn readme_text(dir: &Path) -> Result<String> {
    let mut s = String::from(
        "# Benchmark results\n\n\
         Written by `iommu-cosim bench --out bench-results` (every suite, each on its own \
         configurations; see `cosim/src/bench.rs` and `cosim/src/bench_throughput.rs` for what \
         each figure measures). Every figure is measured on the RTL in lockstep with the golden model, \
         so a run with a mismatch writes nothing; all figures are deterministic (fixed memory \
         latency, no back-pressure, fixed seed), and a rerun on the same RTL reproduces the CSV \
         files but for their `revision` column.\n\n",
    );
    let csv = dir.join("latency.csv");
    if csv.is_file() {
        let text = std::fs::read_to_string(&csv)
            .with_context(|| format!("cannot read {}", csv.display()))?;
        let rows = parse_latency_csv(&text, &csv)?;
        s.push_str(&latency_table(&rows));
    }
    let csv = dir.join("throughput.csv");
    if csv.is_file() {
        let text = std::fs::read_to_string(&csv)
            .with_context(|| format!("cannot read {}", csv.display()))?;
        let rows = crate::bench_throughput::parse_throughput_csv(&text, &csv)?;
        s.push_str(&crate::bench_throughput::throughput_table(&rows));
    }
    let csv = dir.join("area.csv");
    if csv.is_file() {
        let text = std::fs::read_to_string(&csv)
            .with_context(|| format!("cannot read {}", csv.display()))?;
        let rows = crate::bench_area::parse_area_csv(&text, &csv)?;
        s.push_str(&crate::bench_area::area_table(&rows));
    }
    Ok(s)
}

/// The latency section of the README: a table per configuration, a column per memory latency.
fn latency_table(rows: &[LatencyRow]) -> String {
    let mut s = String::from(
        "## Latency (cycles)\n\n\
         From the DUT accepting the request to its egress beat; `psi_*` are round trips as \
         software sees them. Walks use 4 KiB pages with the context cache warm unless stated. \
         Plot: [latency.svg](latency.svg).\n\n",
    );
    let mut configs: Vec<DutConfig> = rows.iter().map(|r| r.config).collect();
    configs.dedup();
    for c in configs {
        let mine: Vec<&LatencyRow> = rows.iter().filter(|r| r.config == c).collect();
        let mut lats: Vec<u32> = mine.iter().map(|r| r.mem_latency).collect();
        lats.sort_unstable();
        lats.dedup();
        let p: Vec<String> = params(c).iter().map(|(n, v)| format!("{n}={v}")).collect();
        let _ = writeln!(s, "### `{c}` ({})\n", p.join(", "));
        let _ = write!(s, "| figure |");
        for l in &lats {
            let _ = write!(s, " memory {l} |");
        }
        let _ = write!(s, "\n|---|");
        for _ in &lats {
            let _ = write!(s, "---:|");
        }
        s.push('\n');
        let mut keys: Vec<(&str, u8, Option<u8>)> = mine
            .iter()
            .map(|r| (r.figure, r.levels, r.psc_hit))
            .collect();
        keys.sort_by_key(|k| (FIGURES.iter().position(|f| *f == k.0), k.1, k.2));
        keys.dedup();
        for (figure, levels, psc) in keys {
            let _ = write!(s, "| {} |", label(figure, levels, psc));
            for l in &lats {
                match mine.iter().find(|r| {
                    (r.figure, r.levels, r.psc_hit, r.mem_latency) == (figure, levels, psc, *l)
                }) {
                    Some(r) => {
                        let _ = write!(s, " {} |", r.cycles);
                    }
                    None => s.push_str(" |"),
                }
            }
            s.push('\n');
        }
        s.push('\n');
    }
    s
}

/// A figure's name in words.
pub fn label(figure: &str, levels: u8, psc: Option<u8>) -> String {
    let entry = |l: u8| match l {
        2 => "PDE",
        3 => "PDPTE",
        4 => "PML4E",
        _ => "PML5E",
    };
    match figure {
        "iotlb_hit" => "IOTLB hit".into(),
        "walk" => match psc {
            None => format!("IOTLB miss, {levels}-level walk, PSC cold"),
            Some(l) => format!(
                "IOTLB miss, {levels}-level walk, PSC warm at the {}",
                entry(l)
            ),
        },
        "walk_context_miss" => format!("context-cache miss, {levels}-level walk"),
        "iec_miss" => "interrupt remap, IEC miss".into(),
        "iec_hit" => "interrupt remap, IEC hit".into(),
        "posted" => "posted interrupt to its notification".into(),
        "psi_queue" => "page-selective invalidation, queue".into(),
        "psi_register" => "page-selective invalidation, registers".into(),
        other => other.into(),
    }
}
