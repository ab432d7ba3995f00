//! The lockstep scoreboard (ARCHITECTURE.md "The co-simulation", decisions.md "Caching and the
//! scoreboard" and "Ordering"): every upstream request gets a harness tag; when the DUT accepts it the
//! golden model's [`Model::evaluate`] gives its allowed outcomes; when the DUT produces the outcome
//! (a downstream request, a completion, an interrupt, or nothing for a dropped posted request) the
//! scoreboard checks it is allowed and [`Model::commit`]s it, so the model's fault records, counters
//! and cache observations follow the DUT's egress order.
//!
//! A dropped posted request has no egress. It is detected when a later request that may not pass it
//! (decisions.md "Ordering": a posted write or a read never passes an earlier posted write unless it
//! has RO=1, or IDO=1 and a different requester) leaves the DUT, or when the DUT has gone quiet. A
//! posted request that shows up after being presumed dropped is an ordering violation. Every request
//! must finish within a bound of cycles (no hangs). Outcomes are checked and forgotten as they
//! retire, so memory stays bounded over any number of requests.
//!
//! [`Lockstep`] also implements [`Platform`]: the OS driver programs the DUT (through the csr port)
//! and the model (synchronously) with the same register accesses; reads are compared. The model has
//! its own copy of host memory, refreshed from the DUT's memory after the OS driver touched it.
//! Before any register access or memory change the scoreboard drains the DUT (all requests retired),
//! so table changes never race with requests in flight.

use crate::dut::DutConfig;
use crate::hdr::{self, Info};
use crate::memsrv::MemConfig;
use crate::sim::{check_access, Egress, Knobs, Sim};
use iommu_driver::mem::HostMemory;
use iommu_driver::model::{Allowed, Model, ModelConfig, Msi, Outcome, Request};
use iommu_driver::platform::{Platform, PlatformError};
use iommu_driver::Hpa;
use std::collections::{BTreeMap, VecDeque};
use std::fmt;

/// One scoreboard failure, with what is needed to reproduce and understand it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    pub seed: u64,
    pub config: DutConfig,
    pub cycle: u64,
    /// What went wrong, in words.
    pub what: String,
    /// The transaction concerned (tag and raw header), if any.
    pub tag: Option<u16>,
    pub request: Option<Request>,
    pub expected: String,
    pub actual: String,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "MISMATCH (seed {}, config {}, cycle {}): {}",
            self.seed, self.config, self.cycle, self.what
        )?;
        if let (Some(tag), Some(r)) = (self.tag, self.request) {
            writeln!(
                f,
                "  transaction: tag {tag:#06x} hdr [{:08x} {:08x} {:08x} {:08x}] data0 {:08x} ({})",
                r.hdr[0],
                r.hdr[1],
                r.hdr[2],
                r.hdr[3],
                r.data0,
                describe(&r.hdr)
            )?;
        }
        writeln!(f, "  expected: {}", self.expected)?;
        write!(f, "  actual:   {}", self.actual)
    }
}

/// A short human description of a request header.
pub fn describe(h: &[u32; 4]) -> String {
    let i = hdr::info(h);
    let kind = match (i.fmt, i.ty) {
        (0 | 1, 0) => "MRd",
        (2 | 3, 0) => "MWr",
        (2 | 3, 0x0C) => "FetchAdd",
        (2 | 3, 0x0D) => "Swap",
        (2 | 3, 0x0E) => "CAS",
        _ => "other",
    };
    format!(
        "{kind} rid {:02x}:{:02x}.{} addr {:#x} len {} AT {} RO {} IDO {}",
        i.rid >> 8,
        (i.rid >> 3) & 0x1F,
        i.rid & 7,
        i.addr,
        h[0] & 0x3FF,
        (h[0] >> 10) & 3,
        i.ro as u8,
        i.ido as u8
    )
}

/// What the scoreboard counted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    pub requests: u64,
    /// Requests forwarded downstream (translations, or identity with TE=0).
    pub forwarded: u64,
    pub completions: u64,
    pub drops: u64,
    /// Interrupt messages delivered (remapped, unchanged, or a posted interrupt's notification).
    pub interrupts: u64,
    /// Interrupt requests posted into a posted-interrupt descriptor (with or without notification).
    pub posted: u64,
    /// The unit's own interrupt messages (fault events) matched.
    pub events: u64,
    /// Outcomes carrying a fault, by fault reason code (recorded or not).
    pub faults: BTreeMap<u8, u64>,
    /// Sum and maximum of accept-to-egress latency in cycles (egress outcomes only).
    pub latency_sum: u64,
    pub latency_max: u64,
    /// Register accesses made through the csr port.
    pub reg_accesses: u64,
}

#[derive(Debug, Clone)]
struct Pend {
    tag: u16,
    req: Request,
    info: Info,
    allowed: Option<Allowed>,
    accepted_at: Option<u64>,
    /// An interrupt request (the model allows an interrupt outcome for it).
    irq: bool,
    /// What the DUT did (cycle, outcome), once known; committed in order.
    seen: Option<(u64, Seen)>,
    /// The later request whose egress implied this one was dropped.
    because: Option<u16>,
}

/// Output channel of an egress beat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Chan {
    Dn,
    Cpl,
    Irq,
}

/// Most model "worlds" kept alive while the DUT's choice between outcomes that look the same at
/// its ports (e.g. a drop with fault 9h from memory vs 5h through a stale cached context, or the
/// same fault through a stale cached entry with another FPD: [`Model::commit_variants`]) is not
/// yet visible; the next register read that tells them apart keeps only the consistent ones.
const MAX_WORLDS: usize = 64;

/// An alternative model world (see [`MAX_WORLDS`]) with its own account of the unit's interrupt
/// messages (fault / invalidation-completion events): worlds may differ in those too.
#[derive(Clone)]
struct World {
    model: Model,
    /// Events this world generated that no DUT message has been matched with yet.
    pending: VecDeque<Msi>,
    /// DUT messages the golden model explained but this world has not generated yet (it may
    /// still commit the request behind them later).
    owed: VecDeque<Msi>,
}

impl World {
    /// Account for events this world just generated; false if they contradict what it owes.
    fn generated(&mut self, ev: Vec<Msi>) -> bool {
        for e in ev {
            match self.owed.front() {
                Some(o) if *o == e => {
                    self.owed.pop_front();
                }
                Some(_) => return false,
                None => self.pending.push_back(e),
            }
        }
        true
    }

    /// The DUT sent `d` and the golden model explained it: false if this world contradicts it.
    fn dut_sent(&mut self, d: Msi) -> bool {
        match self.pending.front() {
            Some(p) if *p == d => {
                self.pending.pop_front();
                true
            }
            Some(_) => false,
            None => {
                self.owed.push_back(d);
                true
            }
        }
    }
}

/// The DUT and the golden model side by side.
pub struct Lockstep {
    pub sim: Sim,
    /// The golden model (the first consistent world).
    pub model: Model,
    /// Other worlds still consistent with everything the DUT showed (see [`MAX_WORLDS`]).
    alts: Vec<World>,
    /// The model's own copy of host memory.
    pub model_mem: HostMemory,
    pub seed: u64,
    pub stats: Stats,
    /// Failures so far (the run should stop at the first one).
    pub failures: Vec<Mismatch>,
    /// A request must leave the DUT within this many cycles of being accepted.
    pub bound: u64,
    /// Cycles without any activity after which the DUT is considered drained.
    pub quiet: u64,
    /// Cycles a single register access may take.
    pub csr_bound: u64,
    /// The DUT retires requests in order (a reorder buffer, as rtl/ does): when a request leaves,
    /// every earlier posted request that may be dropped and is still outstanding was dropped. This
    /// places invisible drops at their true position in the commit order (fault records follow
    /// it). Off: only the PCIe ordering rules and quiet periods place them.
    pub in_order: bool,
    /// When set, every committed outcome is appended to [`Lockstep::outcomes`] (directed tests).
    pub log_outcomes: bool,
    /// (tag, outcome) of every committed request while `log_outcomes` is set.
    pub outcomes: Vec<(u16, Outcome)>,
    /// Print every accepted request and egress beat to stderr (env `IOMMU_COSIM_TRACE`).
    pub trace: bool,
    mem_dirty: bool,
    /// The later request whose egress made the scoreboard presume a drop (for messages).
    because: Option<u16>,
    pending: VecDeque<Pend>,
    next_tag: u16,
    dut_irqs: VecDeque<(u64, Msi)>,
    model_irqs: VecDeque<Msi>,
}

/// Performance-counter offsets whose values are micro-architectural (not compared with the model):
/// 0x300..0x32F (IOTLB, walks, context-cache and IEC misses) and 0x350..0x35F (IEC lookups, QI
/// descriptors processed).
fn micro_arch(offset: u16) -> bool {
    (0x300..0x330).contains(&offset) || (0x350..0x360).contains(&offset)
}

/// IQH, FSTS and IQT: what must agree once the DUT's queue has caught up with the model's.
const IQH_REG: u16 = 0x080;
const IQT_REG: u16 = 0x088;
const FSTS_REG: u16 = 0x034;
const FSTS_IQE: u64 = 1 << 4;

impl Lockstep {
    /// Bring up the DUT with `mem` behind its memory port, read CAP/ECAP from it and configure the
    /// golden model from them (decisions.md "Hardware identity": the harness follows the DUT).
    pub fn new(
        config: DutConfig,
        mem: HostMemory,
        memcfg: MemConfig,
        knobs: Knobs,
        seed: u64,
    ) -> Result<Self, PlatformError> {
        let model_mem = mem.clone();
        let mut sim = Sim::new(config, mem, memcfg, knobs, seed);
        let csr_bound = 10_000;
        let ver = sim.csr_access(false, 0x000, 4, 0, csr_bound)?;
        if ver != 0x10 {
            return Err(PlatformError::Other(format!(
                "VER_REG reads {ver:#x}, expected 0x10"
            )));
        }
        let cap = sim.csr_access(false, 0x008, 8, 0, csr_bound)?;
        let ecap = sim.csr_access(false, 0x010, 8, 0, csr_bound)?;
        let model = Model::new(ModelConfig::from_cap_ecap(cap, ecap, 48));
        Ok(Lockstep {
            sim,
            model,
            alts: Vec::new(),
            model_mem,
            seed,
            stats: Stats::default(),
            failures: Vec::new(),
            bound: 200_000,
            quiet: 300,
            csr_bound,
            mem_dirty: false,
            log_outcomes: false,
            outcomes: Vec::new(),
            in_order: true,
            trace: std::env::var_os("IOMMU_COSIM_TRACE").is_some(),
            because: None,
            pending: VecDeque::new(),
            next_tag: 0,
            dut_irqs: VecDeque::new(),
            model_irqs: VecDeque::new(),
        })
    }

    pub fn config(&self) -> DutConfig {
        self.sim.dut.config()
    }

    pub fn failed(&self) -> bool {
        !self.failures.is_empty()
    }

    /// Requests submitted and not yet retired.
    pub fn in_flight(&self) -> usize {
        self.pending.len()
    }

    /// Upstream requests submitted but not yet accepted by the DUT.
    pub fn queued(&self) -> usize {
        self.sim.up_queued()
    }

    fn fail(
        &mut self,
        what: impl Into<String>,
        p: Option<&Pend>,
        expected: impl Into<String>,
        actual: impl Into<String>,
    ) {
        let m = Mismatch {
            seed: self.seed,
            config: self.config(),
            cycle: self.sim.cycle(),
            what: what.into(),
            tag: p.map(|p| p.tag),
            request: p.map(|p| p.req),
            expected: expected.into(),
            actual: actual.into(),
        };
        self.failures.push(m);
    }

    fn sync_mem(&mut self) {
        if self.mem_dirty {
            self.model_mem = self.sim.mem.clone();
            self.mem_dirty = false;
        }
    }

    /// Queue one upstream request; returns its harness tag.
    pub fn submit(&mut self, req: Request) -> u16 {
        self.sync_mem();
        let tag = self.next_tag;
        self.next_tag = self.next_tag.wrapping_add(1);
        self.sim.push_up(tag, req.hdr, req.data0);
        self.pending.push_back(Pend {
            tag,
            req,
            info: hdr::info(&req.hdr),
            allowed: None,
            accepted_at: None,
            irq: false,
            seen: None,
            because: None,
        });
        self.stats.requests += 1;
        tag
    }

    /// One cycle, then check whatever the DUT did in it.
    pub fn tick(&mut self) {
        self.sim.tick();
        self.process();
    }

    /// Handle accepted requests and egress beats queued by the simulator.
    pub fn process(&mut self) {
        while let Some((tag, cyc)) = self.sim.accepted.pop_front() {
            let Some(i) = self.pending.iter().position(|p| p.accepted_at.is_none()) else {
                self.fail(
                    "DUT accepted a request the harness did not present",
                    None,
                    "-",
                    format!("tag {tag:#x}"),
                );
                return;
            };
            if self.pending[i].tag != tag {
                let p = self.pending[i].clone();
                self.fail(
                    "DUT accepted requests out of order",
                    Some(&p),
                    format!("tag {:#x}", p.tag),
                    format!("tag {tag:#x}"),
                );
                return;
            }
            let allowed = self.model.evaluate(&self.model_mem, &self.pending[i].req);
            if self.trace {
                eprintln!(
                    "[{cyc}] accept tag {tag:#06x} {} -> {:?}",
                    describe(&self.pending[i].req.hdr),
                    allowed.to_vec()
                );
            }
            self.pending[i].irq = allowed
                .iter()
                .any(|o| matches!(o, Outcome::Interrupt { .. } | Outcome::Posted { .. }));
            self.pending[i].allowed = Some(allowed);
            self.pending[i].accepted_at = Some(cyc);
        }
        while let Some((cyc, e)) = self.sim.egress.pop_front() {
            if self.failed() {
                return;
            }
            self.egress(cyc, e);
        }
        if let Some(p) = self.pending.iter().find(|p| p.seen.is_none()) {
            if let Some(t) = p.accepted_at {
                if self.sim.cycle() > t + self.bound {
                    let p = p.clone();
                    let exp = format!("{:?}", p.allowed.as_ref().map(|a| a.to_vec()));
                    self.fail(
                        format!(
                            "request not finished {} cycles after acceptance (hang)",
                            self.bound
                        ),
                        Some(&p),
                        exp,
                        "nothing",
                    );
                }
            }
        }
        for v in std::mem::take(&mut self.sim.memsrv.violations) {
            self.fail("memory port protocol violation", None, "-", v);
        }
    }

    fn egress(&mut self, cyc: u64, e: Egress) {
        if self.trace {
            eprintln!("[{cyc}] egress {e:x?}");
        }
        match e {
            Egress::Dn { tag, hdr } => match self.find(tag) {
                Some(i) => self.retire(i, cyc, Seen::Dn(hdr), Chan::Dn),
                None => self.fail(
                    "downstream request for a tag that is not outstanding (spurious, duplicate, or after a later request that may not pass it)",
                    None,
                    "-",
                    format!("tag {tag:#06x} hdr {hdr:08x?}"),
                ),
            },
            Egress::Cpl { tag, hdr } => match self.find(tag) {
                Some(i) => self.retire(i, cyc, Seen::Cpl(hdr), Chan::Cpl),
                None => self.fail(
                    "completion for a tag that is not outstanding (spurious, duplicate, or after a later request that may not pass it)",
                    None,
                    "-",
                    format!("tag {tag:#06x} hdr {hdr:08x?}"),
                ),
            },
            Egress::Irq { msi } => {
                let want = Outcome::Interrupt { msi };
                let i = self.pending.iter().position(|p| {
                    p.seen.is_none() && p.allowed.as_ref().is_some_and(|a| {
                        a.iter().any(|o| *o == want || matches!(o, Outcome::Posted { notify: Some(n), .. } if *n == msi))
                    })
                });
                match i {
                    Some(i) => self.retire(i, cyc, Seen::Irq(msi), Chan::Irq),
                    None => {
                        self.dut_irqs.push_back((cyc, msi));
                        self.match_irqs();
                    }
                }
            }
        }
    }

    fn find(&self, tag: u16) -> Option<usize> {
        self.pending
            .iter()
            .position(|p| p.tag == tag && p.accepted_at.is_some() && p.seen.is_none())
    }

    /// May `later` leave the DUT (toward memory or the interrupt controller) before the earlier
    /// `earlier`? decisions.md "Ordering": a posted write or a read never passes an earlier posted
    /// write unless it has RO=1, or IDO=1 and another requester ID; interrupt requests are posted
    /// writes ordered with the DMA writes of the same device. Completions to the device travel the
    /// other way and are not ordered with upstream writes.
    fn may_pass(later: &Pend, earlier: &Pend) -> bool {
        let (l, e) = (&later.info, &earlier.info);
        if !e.posted || l.ro || (l.ido && l.rid != e.rid) {
            return true;
        }
        if later.irq != earlier.irq {
            // An interrupt and a DMA request: ordered only between posted writes of one device.
            return !(l.posted && l.rid == e.rid);
        }
        false
    }

    /// An outcome without egress (a drop, or a posting without notification) is allowed.
    fn drop_allowed(p: &Pend) -> bool {
        p.allowed.as_ref().is_some_and(|a| {
            a.iter().any(|o| {
                matches!(
                    o,
                    Outcome::Drop { .. } | Outcome::Posted { notify: None, .. }
                )
            })
        })
    }

    /// Only a drop is allowed for this request (it can never produce egress).
    fn certain_drop(p: &Pend) -> bool {
        p.allowed
            .as_ref()
            .is_some_and(|a| a.iter().all(|o| matches!(o, Outcome::Drop { .. })))
    }

    /// The DUT produced `seen` for pending entry `i` on channel `chan`. Presume the drops this
    /// implies, then commit what can be committed.
    fn retire(&mut self, i: usize, cyc: u64, seen: Seen, chan: Chan) {
        let later_tag = self.pending[i].tag;
        for j in 0..i {
            let e = &self.pending[j];
            if e.accepted_at.is_none() || e.seen.is_some() {
                continue;
            }
            // An earlier request that can only be dropped; with in-order retirement, an earlier
            // posted write (DMA or interrupt) still outstanding when a later request leaves on
            // dn or irq (the two channels hand off in retirement order); and an earlier posted
            // write this one may not pass (decisions.md "Ordering").
            let drop_now = Self::certain_drop(e)
                || (self.in_order && chan != Chan::Cpl && e.info.posted && Self::drop_allowed(e))
                || (chan != Chan::Cpl && !Self::may_pass(&self.pending[i], e));
            if drop_now {
                self.pending[j].seen = Some((cyc, Seen::Dropped));
                self.pending[j].because = Some(later_tag);
            }
        }
        self.pending[i].seen = Some((cyc, seen));
        self.commit_ready();
    }

    /// Commit resolved entries: with in-order retirement only the resolved prefix (so the model
    /// records faults in issue order, as the DUT's reorder buffer does), else every resolved one.
    fn commit_ready(&mut self) {
        let mut i = 0;
        while i < self.pending.len() && !self.failed() {
            match self.pending[i].seen {
                Some((cyc, seen)) => {
                    self.because = self.pending[i].because;
                    self.retire_one(i, cyc, seen);
                    self.because = None;
                }
                None if self.in_order => break,
                None => i += 1,
            }
        }
    }

    fn retire_one(&mut self, i: usize, cyc: u64, seen: Seen) {
        let p = self.pending.remove(i).expect("index in range");
        let allowed = p.allowed.clone().expect("retired requests were accepted");
        let (chosen, actual) = match seen {
            Seen::Dn(h) => {
                let out_addr = hdr::info(&h).addr;
                let expect_hdr = hdr::translated(&p.req.hdr, out_addr);
                if h != expect_hdr {
                    self.fail(
                        "downstream header differs from the request with the address replaced",
                        Some(&p),
                        format!("{expect_hdr:08x?}"),
                        format!("{h:08x?}"),
                    );
                    return;
                }
                let c: Vec<Outcome> = allowed
                    .iter()
                    .filter(|o| matches!(o, Outcome::Forward { addr } if addr.0 & !3 == out_addr))
                    .copied()
                    .collect();
                (c, format!("Forward {{ addr: {out_addr:#x} }}"))
            }
            Seen::Cpl(h) => {
                let ci = hdr::cpl_info(&h);
                let rid = p.info.rid;
                let tag8 = (p.req.hdr[1] >> 8) as u8;
                if ci.fmt != 0
                    || ci.ty != 0b01010
                    || ci.requester != rid
                    || ci.tag != tag8
                    || h[0] & 0x3FF != 0
                {
                    self.fail(
                        "completion header fields",
                        Some(&p),
                        format!("Cpl (Fmt 000 Type 01010 Length 0) to requester {rid:#06x} tag {tag8:#04x}"),
                        format!("{h:08x?} = {ci:?}"),
                    );
                    return;
                }
                let c: Vec<Outcome> = allowed
                    .iter()
                    .filter(|o| matches!(o, Outcome::Complete { status, .. } if cpl_status_code(status) == Some(ci.status)))
                    .copied()
                    .collect();
                (
                    c,
                    format!("Complete {{ status code: {} }} hdr {h:08x?}", ci.status),
                )
            }
            Seen::Irq(msi) => {
                let c: Vec<Outcome> = allowed
                    .iter()
                    .filter(|o| match o {
                        Outcome::Interrupt { msi: m } => *m == msi,
                        Outcome::Posted {
                            notify: Some(n), ..
                        } => *n == msi,
                        _ => false,
                    })
                    .copied()
                    .collect();
                (
                    c,
                    format!(
                        "Interrupt {{ addr: {:#x}, data: {:#x} }}",
                        msi.addr, msi.data
                    ),
                )
            }
            Seen::Dropped => {
                let c: Vec<Outcome> = allowed
                    .iter()
                    .filter(|o| {
                        matches!(
                            o,
                            Outcome::Drop { .. } | Outcome::Posted { notify: None, .. }
                        )
                    })
                    .copied()
                    .collect();
                let why = match self.because {
                    Some(t) => format!("nothing before tag {t:#06x}, a later request that may not pass it, left the DUT (dropped, or reordered)"),
                    None => "nothing (dropped) before the DUT went quiet".to_string(),
                };
                (c, why)
            }
        };
        let Some(&outcome) = chosen.first() else {
            self.fail(
                "outcome not in the allowed set",
                Some(&p),
                format!("one of {:?}", allowed.to_vec()),
                actual,
            );
            return;
        };
        if let Err(e) = self.commit_worlds(&p.req, &chosen) {
            self.fail(
                "model refused the commit",
                Some(&p),
                format!("{:?}", allowed.to_vec()),
                format!("{outcome:?}: {e}"),
            );
            return;
        }
        if self.log_outcomes {
            self.outcomes.push((p.tag, outcome));
        }
        match outcome {
            Outcome::Forward { .. } => self.stats.forwarded += 1,
            Outcome::Complete { .. } => self.stats.completions += 1,
            Outcome::Drop { .. } => self.stats.drops += 1,
            Outcome::Interrupt { .. } => self.stats.interrupts += 1,
            Outcome::Posted { notify, .. } => {
                self.stats.posted += 1;
                if notify.is_some() {
                    self.stats.interrupts += 1;
                }
            }
        }
        if let Some(f) = outcome.fault() {
            *self.stats.faults.entry(f.code()).or_insert(0) += 1;
        }
        if !matches!(seen_kind(&outcome), SeenKind::Drop) {
            if let Some(t) = p.accepted_at {
                let lat = cyc.saturating_sub(t);
                self.stats.latency_sum += lat;
                self.stats.latency_max = self.stats.latency_max.max(lat);
            }
        }
        self.take_model_events();
        self.match_irqs();
        if matches!(outcome, Outcome::Posted { .. }) {
            self.refresh_postings();
        }
    }

    /// A posting changed a posted-interrupt descriptor (PIR, ON): the allowed outcome of every
    /// later posting still in flight depends on it (notify or not), and those were evaluated at
    /// acceptance, before this commit. Evaluate them again on the model as it is now; nothing else
    /// they depend on can have changed meanwhile (table and IRTE edits happen with the DUT
    /// drained).
    fn refresh_postings(&mut self) {
        for k in 0..self.pending.len() {
            let p = &self.pending[k];
            let posting = p.seen.is_none()
                && p.allowed
                    .as_ref()
                    .is_some_and(|a| a.iter().any(|o| matches!(o, Outcome::Posted { .. })));
            if posting {
                let a = self.model.evaluate(&self.model_mem, &self.pending[k].req);
                self.pending[k].allowed = Some(a);
            }
        }
    }

    /// Commit `cands` (outcomes the DUT's ports cannot tell apart) in every world: one candidate
    /// keeps the world count; several fork each world (at most [`MAX_WORLDS`] kept).
    fn commit_worlds(&mut self, req: &Request, cands: &[Outcome]) -> Result<(), String> {
        if cands.len() == 1
            && self.alts.is_empty()
            && self.model.commit_variants(&self.model_mem, req, &cands[0]) <= 1
        {
            return self
                .model
                .commit(&mut self.model_mem, req, &cands[0])
                .map_err(|e| e.to_string());
        }
        self.take_model_events();
        let mut worlds = Vec::with_capacity(1 + self.alts.len());
        worlds.push(World {
            model: self.model.clone(),
            pending: self.model_irqs.clone(),
            owed: VecDeque::new(),
        });
        worlds.append(&mut self.alts);
        // Worlds that agree on every fault register and event account are the same world for
        // what follows.
        let mut next: Vec<World> = Vec::new();
        let mut seen: Vec<Vec<u64>> = Vec::new();
        let mut err = String::new();
        // A posting rewrites its posted-interrupt descriptor in the (shared) model memory: every
        // world commits it against the descriptor as it was before.
        let pid_before: Vec<(Hpa, [u8; 64])> = cands
            .iter()
            .filter_map(|c| match c {
                Outcome::Posted { pid, .. } => {
                    let mut b = [0u8; 64];
                    self.model_mem.read(*pid, &mut b).ok().map(|_| (*pid, b))
                }
                _ => None,
            })
            .collect();
        'outer: for w in worlds {
            let variants: Vec<(&Outcome, usize)> = cands
                .iter()
                .flat_map(|c| {
                    let n = w.model.commit_variants(&self.model_mem, req, c).max(1);
                    (0..n).map(move |k| (c, k))
                })
                .collect();
            for (c, k) in variants {
                let mut m = w.model.clone();
                for (pid, b) in &pid_before {
                    let _ = self.model_mem.write(*pid, b);
                }
                match m.commit_variant(&mut self.model_mem, req, c, k) {
                    Ok(()) => {
                        let ev = m.take_events();
                        let mut nw = World {
                            model: m,
                            pending: w.pending.clone(),
                            owed: w.owed.clone(),
                        };
                        if !nw.generated(ev) {
                            continue;
                        }
                        let mut sig = self.fault_signature(&mut nw.model);
                        for q in [&nw.pending, &nw.owed] {
                            sig.extend(q.iter().map(|e| e.addr ^ (u64::from(e.data) << 32)));
                            sig.push(q.len() as u64);
                        }
                        if !seen.contains(&sig) {
                            seen.push(sig);
                            next.push(nw);
                            if next.len() >= MAX_WORLDS {
                                break 'outer;
                            }
                        }
                    }
                    Err(x) => {
                        if self.trace {
                            eprintln!("[{}] a world refused {c:?}: {x}", self.sim.cycle());
                        }
                        err = x.to_string()
                    }
                }
            }
        }
        if next.is_empty() {
            return Err(err);
        }
        if self.trace {
            eprintln!("[{}] worlds now {}", self.sim.cycle(), next.len());
        }
        self.set_worlds(next);
        Ok(())
    }

    /// FSTS, FECTL and every FRCD of a world (reads without side effects).
    fn fault_signature(&mut self, m: &mut Model) -> Vec<u64> {
        let nfr = m.config().num_fault_records() as u16;
        let base = m.config().frcd_base() as u16;
        let mut v = Vec::with_capacity(2 + 2 * nfr as usize);
        for off in [0x034u16, 0x038] {
            v.push(m.reg_read(&mut self.model_mem, off, 4).unwrap_or(u64::MAX));
        }
        for n in 0..nfr {
            v.push(
                m.reg_read(&mut self.model_mem, base + 16 * n, 8)
                    .unwrap_or(u64::MAX),
            );
            v.push(
                m.reg_read(&mut self.model_mem, base + 16 * n + 8, 8)
                    .unwrap_or(u64::MAX),
            );
        }
        v
    }

    /// Queue the model's own interrupt messages (fault and invalidation-completion events).
    fn take_model_events(&mut self) {
        let ev = self.model.take_events();
        if self.trace && !ev.is_empty() {
            eprintln!("[{}] model events {ev:x?}", self.sim.cycle());
        }
        self.model_irqs.extend(ev);
    }

    /// Install `worlds` (non-empty): the first that owes no DUT message becomes the golden model.
    /// If every world owes some, the first does, and what it owes goes back to the DUT's
    /// unexplained messages (the other worlds' accounts are then no longer comparable: dropped).
    fn set_worlds(&mut self, mut worlds: Vec<World>) {
        let k = worlds.iter().position(|w| w.owed.is_empty()).unwrap_or(0);
        let w = worlds.remove(k);
        if !w.owed.is_empty() {
            for (i, d) in w.owed.iter().enumerate() {
                self.dut_irqs.insert(i, (self.sim.cycle(), *d));
            }
            worlds.clear();
        }
        self.model = w.model;
        self.model_irqs = w.pending;
        self.alts = worlds;
    }

    /// Make alternative world `k` (which owes nothing) the golden model.
    fn promote(&mut self, k: usize) {
        let w = self.alts.remove(k);
        let old = World {
            model: std::mem::replace(&mut self.model, w.model),
            pending: std::mem::replace(&mut self.model_irqs, w.pending),
            owed: VecDeque::new(),
        };
        self.alts.push(old);
    }

    /// Pair the DUT's unexplained interrupt beats with the model's own events, in order. A world
    /// whose next event is another one is dropped; one with none pending owes it (it may commit
    /// the request behind it later than the golden model did).
    fn match_irqs(&mut self) {
        while let Some(&(cyc, d)) = self.dut_irqs.front() {
            if self.model_irqs.front() != Some(&d) {
                if let Some(k) = self
                    .alts
                    .iter()
                    .position(|a| a.owed.is_empty() && a.pending.front() == Some(&d))
                {
                    self.promote(k);
                    continue;
                }
                if self.model_irqs.is_empty() {
                    return; // the model has not committed the request behind it yet
                }
                let m = self.model_irqs[0];
                self.fail(
                    format!("interrupt message at cycle {cyc} differs from the model's next event"),
                    None,
                    format!("{m:x?}"),
                    format!("{d:x?}"),
                );
                return;
            }
            self.dut_irqs.pop_front();
            self.model_irqs.pop_front();
            self.alts.retain_mut(|a| a.dut_sent(d));
            self.stats.events += 1;
        }
    }

    /// Run until every submitted request has retired and the DUT is quiet; posted requests still
    /// outstanding when the DUT goes quiet were dropped; anything else outstanding is a hang.
    /// With `settle`, also wait `quiet` idle cycles for late interrupt messages and require the
    /// interrupt streams of DUT and model to match.
    pub fn drain(&mut self, settle: bool) {
        if self.failed() {
            return;
        }
        let quick = self.pending.is_empty()
            && self.sim.up_queued() == 0
            && self.sim.memsrv.outstanding() == 0
            && self.dut_irqs.is_empty()
            && self.model_irqs.is_empty();
        if quick && !settle {
            return;
        }
        loop {
            if self.failed() {
                return;
            }
            let idle = self.sim.idle_for();
            if self.pending.is_empty()
                && self.sim.memsrv.outstanding() == 0
                && (idle >= self.quiet
                    || (!settle
                        && idle >= 4
                        && self.dut_irqs.is_empty()
                        && self.model_irqs.is_empty()))
            {
                break;
            }
            if idle >= self.quiet && !self.pending.is_empty() {
                // Quiet with requests outstanding: posted ones were dropped; others hang.
                let cyc = self.sim.cycle();
                for p in self.pending.iter_mut() {
                    if p.accepted_at.is_some() && p.seen.is_none() && p.info.posted {
                        p.seen = Some((cyc, Seen::Dropped));
                    }
                }
                self.commit_ready();
                if self.failed() {
                    return;
                }
                if let Some(h) = self.pending.iter().position(|p| p.seen.is_none()) {
                    let p = self.pending[h].clone();
                    self.hang(&p);
                    return;
                }
                if let Some(p) = self.pending.front().cloned() {
                    self.hang(&p);
                    return;
                }
                continue;
            }
            self.tick();
        }
        if settle && self.dut_irqs.is_empty() && !self.model_irqs.is_empty() {
            // A world that expected no further event may be the right one.
            if let Some(k) = self
                .alts
                .iter()
                .position(|a| a.pending.is_empty() && a.owed.is_empty())
            {
                self.promote(k);
                self.alts
                    .retain(|a| a.pending.is_empty() && a.owed.is_empty());
            }
        }
        if settle && (!self.dut_irqs.is_empty() || !self.model_irqs.is_empty()) {
            let d = format!("{:x?}", self.dut_irqs);
            let m = format!("{:x?}", self.model_irqs);
            self.fail(
                "interrupt messages differ after the DUT went quiet",
                None,
                format!("model events not seen: {m}"),
                format!("DUT messages not explained: {d}"),
            );
        }
    }

    fn hang(&mut self, p: &Pend) {
        let exp = format!("{:?}", p.allowed.as_ref().map(|a| a.to_vec()));
        let what = if p.accepted_at.is_some() {
            format!(
                "DUT went quiet for {} cycles with this request outstanding (hang)",
                self.quiet
            )
        } else {
            format!(
                "DUT stopped accepting upstream requests for {} cycles",
                self.quiet
            )
        };
        let o = self.sim.dut.out;
        let state = format!(
            "nothing; port state: up_ready={} dn_valid={} cpl_valid={} irq_valid={} mem_req_valid={} csr_ready={}, memory reads outstanding {}, requests outstanding {}",
            o.up_ready,
            o.dn_valid,
            o.cpl_valid,
            o.irq_valid,
            o.mem_req_valid,
            o.csr_ready,
            self.sim.memsrv.outstanding(),
            self.pending.len()
        );
        self.fail(what, Some(p), exp, state);
    }

    /// End of a run: drain with settle, then compare FSTS and every FRCD between DUT and model.
    pub fn finish(&mut self) {
        self.drain(true);
        if self.failed() {
            return;
        }
        let nfr = self.model.config().num_fault_records();
        let base = self.model.config().frcd_base() as u16;
        let _ = self.reg_read(0x034, 4);
        for n in 0..nfr as u16 {
            let _ = self.reg_read(base + 16 * n, 8);
            let _ = self.reg_read(base + 16 * n + 8, 8);
        }
        let _ = self.reg_read(0x038, 4);
        let _ = self.reg_read(0x340, 8);
        let _ = self.reg_read(0x348, 8);
    }

    /// Send one request, run until it (and everything before it) retired, and return the outcome
    /// the DUT produced (as the model's member of the allowed set). `None` after a mismatch.
    pub fn send(&mut self, req: Request) -> Option<Outcome> {
        let log = self.log_outcomes;
        self.log_outcomes = true;
        let tag = self.submit(req);
        self.drain(false);
        self.log_outcomes = log;
        let o = self
            .outcomes
            .iter()
            .rev()
            .find(|(t, _)| *t == tag)
            .map(|(_, o)| *o);
        if !log {
            self.outcomes.clear();
        }
        o
    }

    /// The model runs the invalidation queue synchronously at the IQT (or QIE) write; the DUT
    /// fetches and executes descriptors over many cycles. Tick (with all other traffic) until the
    /// DUT's queue shows what the model's does: the same IQH and the same FSTS.IQE (the DUT
    /// advances IQH only once a descriptor has completed, including its drain and status write).
    /// A DUT that never gets there is a mismatch, reported after `bound` cycles.
    fn qi_catch_up(&mut self) -> Result<(), PlatformError> {
        let want_iqh = self.model.reg_read(&mut self.model_mem, IQH_REG, 8)?;
        let want_iqe = self.model.reg_read(&mut self.model_mem, FSTS_REG, 4)? & FSTS_IQE;
        let start = self.sim.cycle();
        loop {
            let iqh = self.sim.csr_access(false, IQH_REG, 8, 0, self.csr_bound)?;
            let iqe = self.sim.csr_access(false, FSTS_REG, 4, 0, self.csr_bound)? & FSTS_IQE;
            self.process();
            if iqh == want_iqh && iqe == want_iqe {
                return Ok(());
            }
            if self.failed() {
                return Ok(());
            }
            if self.sim.cycle() - start > self.bound {
                let tail = self.model.reg_read(&mut self.model_mem, IQT_REG, 8)?;
                self.fail(
                    format!(
                        "invalidation queue did not reach the model's state within {} cycles of the IQT write (IQT {tail:#x})",
                        self.bound
                    ),
                    None,
                    format!("IQH {want_iqh:#x}, FSTS.IQE {}", want_iqe != 0),
                    format!("IQH {iqh:#x}, FSTS.IQE {}", iqe != 0),
                );
                return Ok(());
            }
        }
    }

    /// Read a register from the DUT only (no model comparison), e.g. a micro-architectural counter.
    pub fn dut_reg_read(&mut self, offset: u16, size: u8) -> Result<u64, PlatformError> {
        self.drain(false);
        self.stats.reg_accesses += 1;
        self.sim.csr_access(false, offset, size, 0, self.csr_bound)
    }
}

enum SeenKind {
    Drop,
    Other,
}

fn seen_kind(o: &Outcome) -> SeenKind {
    match o {
        Outcome::Drop { .. } | Outcome::Posted { notify: None, .. } => SeenKind::Drop,
        _ => SeenKind::Other,
    }
}

#[derive(Debug, Clone, Copy)]
enum Seen {
    Dn([u32; 4]),
    Cpl([u32; 3]),
    Irq(Msi),
    Dropped,
}

/// The 3-bit completion status field value of a model status (PCIe: SC 000, UR 001, CRS 010, CA 100).
/// Only UR and CA are outcomes of a blocked request; any other status never matches.
fn cpl_status_code(s: &iommu_driver::tlp::CplStatus) -> Option<u8> {
    use iommu_driver::tlp::CplStatus;
    #[allow(unreachable_patterns)]
    match s {
        CplStatus::Ur => Some(1),
        CplStatus::Ca => Some(4),
        _ => None,
    }
}

impl Platform for Lockstep {
    fn reg_read(&mut self, offset: u16, size: u8) -> Result<u64, PlatformError> {
        check_access(offset, size)?;
        self.drain(false);
        self.stats.reg_accesses += 1;
        let d = self
            .sim
            .csr_access(false, offset, size, 0, self.csr_bound)?;
        self.sync_mem();
        let m = self.model.reg_read(&mut self.model_mem, offset, size)?;
        if self.trace {
            eprintln!(
                "[{}] reg read {offset:#05x} size {size}: DUT {d:#x}, model {m:#x}",
                self.sim.cycle()
            );
        }
        if !micro_arch(offset) && (d != m || !self.alts.is_empty()) {
            // Keep only the worlds that read what the DUT read.
            let mut keep: Vec<World> = Vec::new();
            if d == m {
                keep.push(World {
                    model: self.model.clone(),
                    pending: std::mem::take(&mut self.model_irqs),
                    owed: VecDeque::new(),
                });
            }
            for mut a in std::mem::take(&mut self.alts) {
                if a.model.reg_read(&mut self.model_mem, offset, size).ok() == Some(d) {
                    keep.push(a);
                }
            }
            if keep.is_empty() {
                if !self.failed() {
                    self.fail(
                        format!("register read at {offset:#05x} (size {size})"),
                        None,
                        format!("{m:#x} (model)"),
                        format!("{d:#x} (DUT)"),
                    );
                }
            } else {
                if self.trace {
                    eprintln!(
                        "[{}] worlds {} -> {} after the read of {offset:#05x}",
                        self.sim.cycle(),
                        1 + self.alts.len(),
                        keep.len()
                    );
                }
                self.set_worlds(keep);
            }
        }
        self.take_model_events();
        Ok(d)
    }

    fn reg_write(&mut self, offset: u16, size: u8, value: u64) -> Result<(), PlatformError> {
        check_access(offset, size)?;
        self.drain(false);
        self.stats.reg_accesses += 1;
        self.sim
            .csr_access(true, offset, size, value, self.csr_bound)?;
        if self.trace {
            eprintln!(
                "[{}] reg write {offset:#05x} size {size} = {value:#x}",
                self.sim.cycle()
            );
        }
        self.sync_mem();
        self.model
            .reg_write(&mut self.model_mem, offset, size, value)?;
        let mut alts = std::mem::take(&mut self.alts);
        for a in alts.iter_mut() {
            a.model
                .reg_write(&mut self.model_mem, offset, size, value)?;
        }
        alts.retain_mut(|a| {
            let ev = a.model.take_events();
            a.generated(ev)
        });
        self.alts = alts;
        self.take_model_events();
        if self.model.config().ecap.qi && (offset == IQT_REG || offset == 0x018) {
            self.qi_catch_up()?;
        }
        Ok(())
    }

    fn mem(&mut self) -> &mut HostMemory {
        self.drain(false);
        self.mem_dirty = true;
        &mut self.sim.mem
    }
}

/// The co-simulation [`Platform`]: register accesses go through the DUT's csr port (advancing the
/// clock, bounded) and to the golden model; see [`Lockstep`].
pub type CosimPlatform = Lockstep;
