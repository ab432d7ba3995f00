//! Replaying a suite: on the verilated RTL (no golden model: the suite is the judge) or on the
//! golden model (which must pass the suites it generated).
//!
//! Order-based rules (`testvectors/README.md`):
//! - consecutive requests are queued back to back, so several are in flight;
//! - before a register access, a memory edit, a change of the error ranges and the final checks,
//!   the replayer runs until every request sent so far has its outcome and the unit has been quiet
//!   for [`QUIET`] cycles (a posted request with no egress by then was dropped);
//! - a register read is repeated until `(read & mask) == (value & mask)`, at most [`POLLS`]
//!   reads (status bits a unit sets after some cycles: GSTS, CCMD.ICC, IOTLB.IVT, IQH, ICS);
//! - a downstream request must be the request with only the address (and the 3DW/4DW bit)
//!   changed, to an address an allowed `forward` names; a completion must carry an allowed status;
//!   an interrupt message is the outcome of the oldest request still without one that allows
//!   exactly that message, and otherwise the unit's next event of `events.csv`;
//! - at the end: every event seen, every final register and memory line as listed.

use super::{Step, Suite};
use crate::coverage::Coverage;
use crate::hdr;
use crate::lockstep::IQT_REG;
use crate::sim::{Beat, Sabotage, Sim};
use iommu_driver::mem::HostMemory;
use iommu_driver::model::{Model, ModelConfig, Msi, Outcome, Request};
use iommu_driver::tlp::CplStatus;
use iommu_driver::Hpa;
use std::collections::VecDeque;

/// Quiet cycles that end a settle.
pub const QUIET: u64 = 300;
/// Reads of a register before its expected value counts as missed.
pub const POLLS: u32 = 2000;
/// Cycles one settle may take before the unit counts as hung.
const SETTLE_BOUND: u64 = 1_000_000;

/// Where to replay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// The verilated `iommu_top`, judged at its ports against the suite alone.
    Verilator,
    /// The golden model of `iommu-driver`, which must pass the suites it generated.
    Model,
}

/// One failed check of a replay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The step (or `final`) where it was found.
    pub at: String,
    /// The request's tag, when it concerns one.
    pub tag: Option<u16>,
    /// What was checked (e.g. the outcome of a request, a register read); the shrinker compares
    /// failures by it.
    pub what: String,
    /// What the suite allows, as text.
    pub expected: String,
    /// What the unit did, as text.
    pub actual: String,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: ", self.at)?;
        if let Some(t) = self.tag {
            write!(f, "tag {t:#06x}: ")?;
        }
        write!(
            f,
            "{}\n    expected: {}\n    actual:   {}",
            self.what, self.expected, self.actual
        )
    }
}

/// What a replay found.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Checks made (requests judged, register reads, events, final registers and lines).
    pub checks: usize,
    /// The checks that failed, in the order found.
    pub failures: Vec<Failure>,
    /// Clock cycles the RTL replay ran (0 on the model backend).
    pub cycles: u64,
    /// Functional coverage of the suite (collected on the model backend only).
    pub coverage: Coverage,
}

impl Report {
    /// Checks that passed: `checks` less the failures.
    pub fn passed(&self) -> usize {
        self.checks - self.failures.len().min(self.checks)
    }
    fn check(&mut self, ok: bool, f: impl FnOnce() -> Failure) {
        self.checks += 1;
        if !ok {
            self.failures.push(f());
        }
    }
}

/// Replay `suite` on `backend`.
pub fn replay(suite: &Suite, backend: Backend) -> Report {
    match backend {
        Backend::Model => replay_model(suite),
        Backend::Verilator => RtlReplay::new(suite).run(),
    }
}

/// Replay `suite` on the RTL with bug `sabotage` injected between the DUT and the replayer.
pub fn replay_sabotaged(suite: &Suite, sabotage: Option<Sabotage>) -> Report {
    let mut r = RtlReplay::new(suite);
    r.sim.sabotage = sabotage;
    r.run()
}

fn image(suite: &Suite) -> HostMemory {
    let mut m = HostMemory::new();
    for (a, b) in &suite.image {
        m.write(Hpa(*a), b).expect("an image line fits in memory");
    }
    m
}

fn fmt_outs(o: &[Outcome]) -> String {
    format!("one of {o:x?}")
}

// ---- model ------------------------------------------------------------------------------------

fn replay_model(suite: &Suite) -> Report {
    let mut rep = Report::default();
    let cfg = ModelConfig::from_cap_ecap(suite.manifest.cap, suite.manifest.ecap, 48);
    let mut model = Model::new(cfg);
    model.log_invalidations(true);
    let (mem_cfg, knobs) = suite.manifest.timing.settings(suite.manifest.mem_latency);
    rep.coverage.setup(&mem_cfg, &knobs);
    let mut mem = image(suite);
    let mut events: Vec<Msi> = Vec::new();
    for (i, s) in suite.steps.iter().enumerate() {
        let at = format!("step {i}");
        match s {
            Step::Write {
                offset,
                size,
                value,
            } => {
                if let Err(e) = model.reg_write(&mut mem, *offset, *size, *value) {
                    rep.check(false, || Failure {
                        at,
                        tag: None,
                        what: format!("register write at {offset:#05x}"),
                        expected: "accepted".into(),
                        actual: e.to_string(),
                    });
                }
                for inv in model.take_invalidations() {
                    rep.coverage.invalidation(&inv, *offset == IQT_REG, false);
                }
            }
            Step::Read {
                offset,
                size,
                value,
                mask,
            } => {
                let got = model.reg_read(&mut mem, *offset, *size).unwrap_or(u64::MAX);
                rep.check(got & mask == value & mask, || Failure {
                    at,
                    tag: None,
                    what: format!("register read at {offset:#05x} (mask {mask:#x})"),
                    expected: format!("{value:#x}"),
                    actual: format!("{got:#x}"),
                });
            }
            Step::Mem { addr, data } => {
                let _ = mem.write(Hpa(*addr), data);
            }
            Step::Errors { ranges } => {
                mem.clear_errors();
                for (a, l) in ranges {
                    mem.inject_error(Hpa(*a), *l);
                }
            }
            Step::Request { tag, hdr, data0 } => {
                let req = Request {
                    hdr: *hdr,
                    data0: *data0,
                };
                let ex = model.exercised(&mem, &req);
                let o = model.process(&mut mem, &req);
                let exp = &suite.expected[tag];
                rep.coverage.request(&req, &ex, &o, true, exp.len());
                rep.check(exp.contains(&o), || Failure {
                    at,
                    tag: Some(*tag),
                    what: "outcome".into(),
                    expected: fmt_outs(exp),
                    actual: format!("{o:x?}"),
                });
            }
        }
        events.extend(model.take_events());
    }
    rep.check(events == suite.events, || Failure {
        at: "final".into(),
        tag: None,
        what: "the unit's own interrupt messages".into(),
        expected: format!("{:x?}", suite.events),
        actual: format!("{events:x?}"),
    });
    for (off, size, v) in &suite.final_regs {
        let got = model.reg_read(&mut mem, *off, *size).unwrap_or(u64::MAX);
        rep.check(got == *v, || Failure {
            at: "final".into(),
            tag: None,
            what: format!("register {off:#05x}"),
            expected: format!("{v:#x}"),
            actual: format!("{got:#x}"),
        });
    }
    final_mem(suite, &mem, &mut rep);
    rep
}

fn final_mem(suite: &Suite, mem: &HostMemory, rep: &mut Report) {
    for (a, b) in &suite.final_mem {
        let mut got = [0u8; 16];
        let ok = mem.read(Hpa(*a), &mut got).is_ok();
        rep.check(ok && got == *b, || Failure {
            at: "final".into(),
            tag: None,
            what: format!("memory line {a:#x} (written by the unit)"),
            expected: format!("{b:02x?}"),
            actual: if ok {
                format!("{got:02x?}")
            } else {
                "unreadable".into()
            },
        });
    }
}

// ---- RTL ----------------------------------------------------------------------------------------

struct Pending {
    tag: u16,
    hdr: [u32; 4],
    step: usize,
    done: bool,
    /// A later request that may not pass this one left the unit first (its tag).
    overtaken_by: Option<u16>,
}

/// An interrupt request: a memory write with AT=0 into the interrupt window.
fn is_interrupt(h: &[u32; 4]) -> bool {
    let i = hdr::info(h);
    i.posted && (h[0] >> 10) & 3 == 0 && (0xFEE0_0000..0xFF00_0000).contains(&i.addr)
}

/// May request `later` leave the unit (downstream or as an interrupt) before the earlier
/// `earlier`? The scoreboard's rule ([`hdr::may_pass`]), with interrupt requests told by their
/// header.
pub fn may_pass(later: &[u32; 4], earlier: &[u32; 4]) -> bool {
    hdr::may_pass(
        &hdr::info(later),
        is_interrupt(later),
        &hdr::info(earlier),
        is_interrupt(earlier),
    )
}

struct RtlReplay<'a> {
    suite: &'a Suite,
    sim: Sim,
    rep: Report,
    pending: VecDeque<Pending>,
    next_event: usize,
}

impl<'a> RtlReplay<'a> {
    fn new(suite: &'a Suite) -> Self {
        let (mem, knobs) = suite.manifest.timing.settings(suite.manifest.mem_latency);
        let sim = Sim::new(
            suite.manifest.config,
            image(suite),
            mem,
            knobs,
            suite.manifest.seed,
        );
        RtlReplay {
            suite,
            sim,
            rep: Report::default(),
            pending: VecDeque::new(),
            next_event: 0,
        }
    }

    fn fail(
        &mut self,
        at: String,
        tag: Option<u16>,
        what: String,
        expected: String,
        actual: String,
    ) {
        self.rep.check(false, || Failure {
            at,
            tag,
            what,
            expected,
            actual,
        });
    }

    fn csr(&mut self, write: bool, offset: u16, size: u8, value: u64) -> Option<u64> {
        match self.sim.csr_access(write, offset, size, value, 100_000) {
            Ok(v) => {
                self.take_egress();
                Some(v)
            }
            Err(e) => {
                self.fail(
                    "csr".into(),
                    None,
                    format!("register access at {offset:#05x}"),
                    "an answer".into(),
                    e.to_string(),
                );
                None
            }
        }
    }

    fn run(mut self) -> Report {
        // The identity the suite assumes.
        let want = (self.suite.manifest.cap, self.suite.manifest.ecap);
        let cap = self.csr(false, 0x008, 8, 0).unwrap_or(0);
        let ecap = self.csr(false, 0x010, 8, 0).unwrap_or(0);
        if (cap, ecap) != want {
            self.fail(
                "start".into(),
                None,
                "the unit's CAP/ECAP differ from the suite's manifest".into(),
                format!("CAP {:#x} ECAP {:#x}", want.0, want.1),
                format!("CAP {cap:#x} ECAP {ecap:#x}"),
            );
            return self.finish_report();
        }
        for (i, s) in self.suite.steps.iter().enumerate() {
            if !matches!(s, Step::Request { .. }) && !self.settle(i) {
                return self.finish_report();
            }
            match s {
                Step::Write {
                    offset,
                    size,
                    value,
                } => {
                    self.csr(true, *offset, *size, *value);
                }
                Step::Read {
                    offset,
                    size,
                    value,
                    mask,
                } => {
                    let mut got = 0;
                    let mut ok = false;
                    for _ in 0..POLLS {
                        match self.csr(false, *offset, *size, 0) {
                            Some(v) => got = v,
                            None => break,
                        }
                        if got & mask == value & mask {
                            ok = true;
                            break;
                        }
                    }
                    self.rep.check(ok, || Failure {
                        at: format!("step {i}"),
                        tag: None,
                        what: format!(
                            "register read at {offset:#05x} (mask {mask:#x}, {POLLS} polls)"
                        ),
                        expected: format!("{value:#x}"),
                        actual: format!("{got:#x}"),
                    });
                }
                Step::Mem { addr, data } => {
                    let _ = self.sim.mem.write(Hpa(*addr), data);
                }
                Step::Errors { ranges } => {
                    self.sim.mem.clear_errors();
                    for (a, l) in ranges {
                        self.sim.mem.inject_error(Hpa(*a), *l);
                    }
                }
                Step::Request { tag, hdr, data0 } => {
                    self.sim.push_up(*tag, *hdr, *data0);
                    self.pending.push_back(Pending {
                        tag: *tag,
                        hdr: *hdr,
                        step: i,
                        done: false,
                        overtaken_by: None,
                    });
                }
            }
        }
        if self.settle(self.suite.steps.len()) {
            self.final_checks();
        }
        self.finish_report()
    }

    fn finish_report(mut self) -> Report {
        self.rep.cycles = self.sim.cycle();
        self.rep
    }

    /// Run until every request has its outcome and the unit has been quiet for QUIET cycles;
    /// false (with a failure) if it does not within the bound.
    fn settle(&mut self, step: usize) -> bool {
        let start = self.sim.cycle();
        loop {
            self.take_egress();
            let quiet = self.sim.up_queued() == 0
                && self.sim.memsrv.outstanding() == 0
                && self.sim.idle_for() >= QUIET;
            if quiet {
                // Posted requests with no egress by now were dropped.
                let left: Vec<usize> = (0..self.pending.len())
                    .filter(|k| !self.pending[*k].done)
                    .collect();
                for k in left {
                    let p = &self.pending[k];
                    let (tag, st, posted) = (p.tag, p.step, hdr::info(&p.hdr).posted);
                    let exp = &self.suite.expected[&tag];
                    let ok = posted
                        && exp.iter().any(|o| {
                            matches!(
                                o,
                                Outcome::Drop { .. } | Outcome::Posted { notify: None, .. }
                            )
                        });
                    let e = fmt_outs(exp);
                    self.rep.check(ok, || Failure {
                        at: format!("step {st}"),
                        tag: Some(tag),
                        what: "no egress by the time the unit went quiet".into(),
                        expected: e,
                        actual: if posted {
                            "dropped (nothing left the unit)".into()
                        } else {
                            "no completion (hang)".into()
                        },
                    });
                }
                self.pending.clear();
                return true;
            }
            if self.sim.cycle() - start > SETTLE_BOUND {
                self.fail(
                    format!("step {step}"),
                    None,
                    format!("the unit did not go quiet within {SETTLE_BOUND} cycles"),
                    "every request answered".into(),
                    format!(
                        "{} requests outstanding",
                        self.pending.iter().filter(|p| !p.done).count()
                    ),
                );
                return false;
            }
            self.sim.tick();
        }
    }

    fn take_egress(&mut self) {
        while let Some((_, e)) = self.sim.egress.pop_front() {
            self.judge(e);
        }
        self.sim.accepted.clear();
    }

    fn judge(&mut self, e: Beat) {
        match e {
            Beat::Dn { tag, hdr: h } => {
                let Some(k) = self.open(tag) else {
                    return self.spurious(format!("downstream tag {tag:#06x} hdr {h:08x?}"));
                };
                let p = &self.pending[k];
                let out = hdr::info(&h).addr;
                let want_hdr = hdr::translated(&p.hdr, out);
                let exp = &self.suite.expected[&tag];
                let ok = h == want_hdr
                    && exp
                        .iter()
                        .any(|o| matches!(o, Outcome::Forward { addr } if addr.0 & !3 == out));
                let (st, e) = (p.step, fmt_outs(exp));
                // The header expected: the request's, with the first allowed address.
                let shown = exp
                    .iter()
                    .find_map(|o| match o {
                        Outcome::Forward { addr } => Some(hdr::translated(&p.hdr, addr.0 & !3)),
                        _ => None,
                    })
                    .unwrap_or(want_hdr);
                self.pending[k].done = true;
                self.order(k);
                self.rep.check(ok, || Failure {
                    at: format!("step {st}"),
                    tag: Some(tag),
                    what: "downstream request".into(),
                    expected: format!("{e} with header {shown:08x?}"),
                    actual: format!("forward to {out:#x} with header {h:08x?}"),
                });
            }
            Beat::Cpl { tag, hdr: h } => {
                let Some(k) = self.open(tag) else {
                    return self.spurious(format!("completion tag {tag:#06x} hdr {h:08x?}"));
                };
                let p = &self.pending[k];
                let ci = hdr::cpl_info(&h);
                let i = hdr::info(&p.hdr);
                let tag8 = (p.hdr[1] >> 8) as u8;
                let exp = &self.suite.expected[&tag];
                let ok = ci.fmt == 0
                    && ci.ty == 0b01010
                    && ci.requester == i.rid
                    && ci.tag == tag8
                    && exp.iter().any(|o| {
                        matches!(o, Outcome::Complete { status, .. } if status_code(*status) == ci.status)
                    });
                let (st, e) = (p.step, fmt_outs(exp));
                self.pending[k].done = true;
                self.rep.check(ok, || Failure {
                    at: format!("step {st}"),
                    tag: Some(tag),
                    what: "completion".into(),
                    expected: format!("{e}, to requester {:#06x} tag {tag8:#04x}", i.rid),
                    actual: format!("status code {} header {h:08x?} = {ci:?}", ci.status),
                });
            }
            Beat::Irq { msi } => {
                let k = self.pending.iter().position(|p| {
                    !p.done
                        && self.suite.expected[&p.tag].iter().any(|o| match o {
                            Outcome::Interrupt { msi: m } => *m == msi,
                            Outcome::Posted {
                                notify: Some(m), ..
                            } => *m == msi,
                            _ => false,
                        })
                });
                match k {
                    Some(k) => {
                        self.pending[k].done = true;
                        self.rep.checks += 1;
                        self.order(k);
                    }
                    None => {
                        let want = self.suite.events.get(self.next_event).copied();
                        self.next_event += 1;
                        let n = self.next_event - 1;
                        self.rep.check(want == Some(msi), || Failure {
                            at: format!("event {n}"),
                            tag: None,
                            what: "interrupt message no request in flight allows: the unit's next event".into(),
                            expected: format!("{want:x?}"),
                            actual: format!("{msi:x?}"),
                        });
                    }
                }
            }
        }
    }

    /// Pending request `k` left the unit (downstream or as an interrupt): it must not have
    /// passed an earlier request it may not pass, and the earlier ones it may not pass and that
    /// are still in the unit must now never leave (they may only be dropped).
    fn order(&mut self, k: usize) {
        let (tag, step, hdr) = (
            self.pending[k].tag,
            self.pending[k].step,
            self.pending[k].hdr,
        );
        if let Some(by) = self.pending[k].overtaken_by {
            self.rep.check(false, || Failure {
                at: format!("step {step}"),
                tag: Some(tag),
                what: "PCIe ordering".into(),
                expected: format!(
                    "to leave before tag {by:#06x}, a later request that may not pass it"
                ),
                actual: "left after it".into(),
            });
        }
        for i in 0..k {
            let e = &mut self.pending[i];
            if !e.done && !may_pass(&hdr, &e.hdr) {
                e.overtaken_by.get_or_insert(tag);
            }
        }
    }

    /// The pending request with `tag` that has no outcome yet.
    fn open(&self, tag: u16) -> Option<usize> {
        self.pending.iter().position(|p| p.tag == tag && !p.done)
    }

    fn spurious(&mut self, what: String) {
        self.fail(
            "egress".into(),
            None,
            "a beat for no request in flight".into(),
            "-".into(),
            what,
        );
    }

    fn final_checks(&mut self) {
        let n = self.suite.events.len();
        let seen = self.next_event;
        self.rep.check(seen == n, || Failure {
            at: "final".into(),
            tag: None,
            what: "the unit's own interrupt messages".into(),
            expected: format!("{n} ({:x?})", self.suite.events),
            actual: format!("{seen}"),
        });
        for &(off, size, v) in &self.suite.final_regs {
            let got = self.csr(false, off, size, 0).unwrap_or(u64::MAX);
            self.rep.check(got == v, || Failure {
                at: "final".into(),
                tag: None,
                what: format!("register {off:#05x}"),
                expected: format!("{v:#x}"),
                actual: format!("{got:#x}"),
            });
        }
        final_mem(self.suite, &self.sim.mem, &mut self.rep);
    }
}

fn status_code(s: CplStatus) -> u8 {
    match s {
        CplStatus::Sc => 0,
        CplStatus::Ur => 1,
        CplStatus::Crs => 2,
        CplStatus::Ca => 4,
    }
}
