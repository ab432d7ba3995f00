//! Recording a suite from the golden model alone: the OS driver programs a [`Recorder`] (a
//! [`Platform`] over the model), which writes down every register access with what the model
//! answered, every memory edit software made, and, for every request, the model's allowed set.
//!
//! The image is memory as it stands at the first register write or request (the tables the
//! driver built before bringing the unit up); later edits are steps. The unit's own memory writes
//! (posted-interrupt descriptors, wait-descriptor status) are not steps: they become the final
//! memory the replay checks.

use super::{Manifest, Step, Suite, FORMAT_MAJOR, FORMAT_MINOR};
use crate::dut::DutConfig;
use iommu_driver::mem::{HostMemory, MemChange};
use iommu_driver::model::{ModelConfig, ModelPlatform, Msi, Outcome, Request};
use iommu_driver::platform::{Platform, PlatformError};
use std::collections::BTreeMap;

/// Register offsets the final state compares besides the fault records: FSTS, FECTL and the
/// architectural counters (faults recorded, invalidation descriptors completed).
const FINAL_REGS: [(u16, u8); 4] = [(0x034, 4), (0x038, 4), (0x340, 8), (0x348, 8)];

/// The registers `final.csv` checks: [`FINAL_REGS`], then both qwords of every fault-recording
/// register.
fn checked_regs(cfg: &ModelConfig) -> Vec<(u16, u8)> {
    let base = cfg.frcd_base() as u16;
    let mut regs: Vec<(u16, u8)> = FINAL_REGS.to_vec();
    for n in 0..cfg.num_fault_records() as u16 {
        regs.push((base + 16 * n, 8));
        regs.push((base + 16 * n + 8, 8));
    }
    regs
}

/// The golden model as a platform that records a suite.
pub struct Recorder {
    plat: ModelPlatform,
    steps: Vec<Step>,
    expected: BTreeMap<u16, Vec<Outcome>>,
    events: Vec<Msi>,
    /// Memory at the first write or request (`None` before).
    image: Option<HostMemory>,
    next_tag: u16,
    /// Record allowed sets that leave the final state to the unit's choice instead of refusing
    /// them ([`Recorder::send`]); for shrinking, where the suite only has to fail.
    pub lenient: bool,
    /// Stale-window alternatives differed in the interrupt counters (0x330, 0x338): reads of
    /// them are recorded but not compared from then on.
    loose_counters: bool,
}

impl Recorder {
    /// A unit in reset with the given configuration and empty memory.
    pub fn new(cfg: ModelConfig) -> Self {
        Recorder {
            plat: ModelPlatform::new(cfg),
            steps: Vec::new(),
            expected: BTreeMap::new(),
            events: Vec::new(),
            image: None,
            next_tag: 0,
            lenient: false,
            loose_counters: false,
        }
    }

    /// A unit in reset over memory `image`, which is the suite's image.
    pub fn from_image(cfg: ModelConfig, image: HostMemory) -> Self {
        let mut r = Recorder::new(cfg);
        r.plat.mem = image;
        r.start();
        r
    }

    /// Do what step `s` says, as software would; a `Read` records what the model reads now
    /// (its `value` and `mask` are ignored), a `Request` is sent ([`Recorder::send`]; its tag is
    /// renumbered).
    pub fn feed(&mut self, s: &Step) -> Result<(), String> {
        match s {
            Step::Write {
                offset,
                size,
                value,
            } => self
                .reg_write(*offset, *size, *value)
                .map_err(|e| e.to_string()),
            Step::Read { offset, size, .. } => self
                .reg_read(*offset, *size)
                .map(|_| ())
                .map_err(|e| e.to_string()),
            Step::Mem { addr, data } => self
                .mem()
                .write(iommu_driver::Hpa(*addr), data)
                .map_err(|e| e.to_string()),
            Step::Errors { ranges } => {
                let m = self.mem();
                m.clear_errors();
                for (a, l) in ranges {
                    m.inject_error(iommu_driver::Hpa(*a), *l);
                }
                Ok(())
            }
            Step::Request { hdr, data0, .. } => self
                .send(Request {
                    hdr: *hdr,
                    data0: *data0,
                })
                .map(|_| ()),
        }
    }

    /// Software's edits since the last step become steps (before the image is taken they are
    /// part of it).
    fn flush(&mut self) {
        let changes = self.plat.mem.take_journal();
        if self.image.is_none() {
            return;
        }
        for c in changes {
            match c {
                MemChange::Write { addr, new, .. } => self.steps.push(Step::Mem {
                    addr: addr.0,
                    data: new,
                }),
                MemChange::Errors { new, .. } => self.steps.push(Step::Errors { ranges: new }),
            }
        }
    }

    /// Take the image at the first write or request.
    fn start(&mut self) {
        if self.image.is_none() {
            let img = self.plat.mem.clone();
            if !img.injected_errors().is_empty() {
                self.steps.push(Step::Errors {
                    ranges: img.injected_errors().to_vec(),
                });
            }
            self.image = Some(img);
        }
    }

    fn take_events(&mut self) {
        self.events.extend(self.plat.model.take_events());
    }

    /// Send one request: record it with the model's allowed set and commit the fresh outcome.
    ///
    /// Refused when the allowed set holds several outcomes of which one records a fault or
    /// posts: the final registers or memory would then depend on the unit's choice, which an
    /// order-based suite cannot state.
    pub fn send(&mut self, req: Request) -> Result<Outcome, String> {
        self.flush();
        self.start();
        let outs = self.plat.model.evaluate(&self.plat.mem, &req).to_vec();
        if !self.lenient && outs.len() > 1 {
            // Several outcomes are allowed (a stale window): each may be the unit's, so each
            // must leave what the suite checks (fault records, FSTS, FECTL, the events, the
            // memory the unit writes) as the fresh one does. A fault that FPD suppresses passes;
            // a recorded one, or a posting, does not.
            let fresh = self.after(&req, &outs[0], 0);
            for o in &outs {
                let n = self.plat.model.commit_variants(&self.plat.mem, &req, o);
                for k in 0..n {
                    let alt = self.after(&req, o, k);
                    if alt.is_none() || alt.as_ref().map(|a| &a.0) != fresh.as_ref().map(|f| &f.0) {
                        return Err(format!(
                            "request {:08x?}: the allowed set {outs:?} leaves the final state to the unit's choice",
                            req.hdr
                        ));
                    }
                    if alt.map(|a| a.1) != fresh.as_ref().map(|f| f.1) {
                        self.loose_counters = true;
                    }
                }
            }
        }
        let o = outs[0];
        self.plat
            .model
            .commit(&mut self.plat.mem, &req, &o)
            .map_err(|e| e.to_string())?;
        let tag = self.next_tag;
        self.next_tag = self
            .next_tag
            .checked_add(1)
            .ok_or("more than 65536 requests in one suite")?;
        self.steps.push(Step::Request {
            tag,
            hdr: req.hdr,
            data0: req.data0,
        });
        self.expected.insert(tag, outs);
        self.take_events();
        Ok(o)
    }

    /// What committing variant `k` of `o` for `req` would leave that a suite checks: the fault
    /// and event registers, every fault record, the events and memory; and, apart, the
    /// interrupt counters (0x330, 0x338). `None` if the model refuses the commit.
    #[allow(clippy::type_complexity)]
    fn after(
        &self,
        req: &Request,
        o: &Outcome,
        k: usize,
    ) -> Option<((Vec<u64>, Vec<Msi>, HostMemory), (u64, u64))> {
        let mut m = self.plat.model.clone();
        let mut mem = self.plat.mem.clone();
        m.commit_variant(&mut mem, req, o, k).ok()?;
        let mut regs: Vec<u64> = Vec::new();
        for (off, size) in checked_regs(m.config()) {
            regs.push(m.reg_read(&mut mem, off, size).ok()?);
        }
        let counters = (
            m.reg_read(&mut mem, 0x330, 8).ok()?,
            m.reg_read(&mut mem, 0x338, 8).ok()?,
        );
        let ev = m.take_events();
        Some(((regs, ev, mem), counters))
    }

    /// The suite recorded so far, with the final state as the model holds it now.
    pub fn finish(mut self, name: &str, description: &str, seed: u64, config: DutConfig) -> Suite {
        self.flush();
        self.start();
        self.take_events();
        let cfg = self.plat.model.config().clone();
        let mut final_regs = Vec::new();
        for (off, size) in checked_regs(&cfg) {
            if let Ok(v) = self.plat.model.reg_read(&mut self.plat.mem, off, size) {
                final_regs.push((off, size, v));
            }
        }
        let image = self.image.take().expect("started");
        // Software's view: the image with every edit of the steps; what differs now is the unit's.
        let mut sw = image.clone();
        for s in &self.steps {
            if let Step::Mem { addr, data } = s {
                let _ = sw.write(iommu_driver::Hpa(*addr), data);
            }
        }
        let lines = |m: &HostMemory| -> BTreeMap<u64, [u8; 16]> {
            let mut v = BTreeMap::new();
            for (a, d) in m.runs() {
                for (i, c) in d.chunks(16).enumerate() {
                    if c.iter().any(|b| *b != 0) {
                        v.insert(a + 16 * i as u64, c.try_into().expect("16 bytes"));
                    }
                }
            }
            v
        };
        let (now, soft) = (lines(&self.plat.mem), lines(&sw));
        let mut final_mem: Vec<(u64, [u8; 16])> = Vec::new();
        let zero = [0u8; 16];
        let addrs: std::collections::BTreeSet<u64> =
            now.keys().chain(soft.keys()).copied().collect();
        for a in addrs {
            let (n, s) = (now.get(&a).unwrap_or(&zero), soft.get(&a).unwrap_or(&zero));
            if n != s {
                final_mem.push((a, *n));
            }
        }
        Suite {
            manifest: Manifest {
                major: FORMAT_MAJOR,
                minor: FORMAT_MINOR,
                suite: name.to_string(),
                description: description.to_string(),
                generator: format!("iommu-cosim {}", env!("CARGO_PKG_VERSION")),
                seed,
                config,
                cap: cfg.cap(),
                ecap: cfg.ecap(),
                mem_latency: 20,
                timing: super::Timing::plain(20),
            },
            image: lines(&image).into_iter().collect(),
            steps: self.steps,
            expected: self.expected,
            events: self.events,
            final_regs,
            final_mem,
        }
    }
}

impl Platform for Recorder {
    fn reg_read(&mut self, offset: u16, size: u8) -> Result<u64, PlatformError> {
        self.flush();
        let v = self.plat.model.reg_read(&mut self.plat.mem, offset, size)?;
        // The micro-architectural counters (hits, misses) are read but not compared.
        let mask = if crate::lockstep::micro_arch(offset)
            || (self.loose_counters && (offset == 0x330 || offset == 0x338))
        {
            0
        } else {
            u64::MAX
        };
        self.steps.push(Step::Read {
            offset,
            size,
            value: v,
            mask,
        });
        self.take_events();
        Ok(v)
    }

    fn reg_write(&mut self, offset: u16, size: u8, value: u64) -> Result<(), PlatformError> {
        self.flush();
        self.start();
        self.plat
            .model
            .reg_write(&mut self.plat.mem, offset, size, value)?;
        self.steps.push(Step::Write {
            offset,
            size,
            value,
        });
        self.take_events();
        Ok(())
    }

    fn mem(&mut self) -> &mut HostMemory {
        self.flush();
        self.plat.mem.start_journal();
        &mut self.plat.mem
    }
}
