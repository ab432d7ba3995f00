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
//! its own copy of host memory; what the OS driver changes in the DUT's memory (through
//! [`Platform::mem`]) is journaled and applied to the model's copy at the next step, while the
//! unit's own memory writes (posted-interrupt descriptors, wait-descriptor status) happen on each
//! side separately.
//!
//! Table edits, invalidations (register-based and queued) and most register accesses happen while
//! requests are in flight ("racing"); the scoreboard does not drain the DUT for them:
//! - Memory versions. Each batch of edits the OS driver makes between two steps is one version.
//!   A request may read any version current between the acceptance of the oldest request still in
//!   the unit at its own acceptance (whose table reads may have filled a cache it hits) and its
//!   retirement, so its allowed set is the union over those versions (`Lockstep::evaluate_window`).
//!   The regression makes at most one table edit per request window (see `regress`), so a walk
//!   never mixes reads of two edits.
//! - Invalidations. The model carries an invalidation out at the register write; the DUT finishes
//!   it later (ICC/IVT clear, IQH past the descriptor). A snapshot of the model's cache from before
//!   the write stays usable for requests accepted until the DUT shows completion, and for the
//!   commit of every request accepted before it. After completion nothing else may use it: with
//!   CAP.DRD=DWD=1 every request accepted before the invalidation has left by then.
//! - Stale fills. A request whose table reads may predate an edit that a later invalidation covers
//!   is committed with [`Model::commit_variant_after`]: what it cached does not survive that
//!   invalidation, so a DUT that lets such a walk fill its IOTLB after the invalidation is caught by
//!   the next request that hits the fill.
//! - Posted-interrupt descriptors. The unit updates them in the DUT's memory, the model in its
//!   own copy (in each world its own contents): whenever nothing is in flight the descriptors any
//!   posting touched are compared with the DUT's memory (`observe_pids`).
//! - Register state that depends on which in-flight requests have retired (the fault-recording
//!   registers and the counters) is read or written with the DUT drained; FSTS read with requests in
//!   flight is compared on its queued-invalidation bits only. Mode changes (GCMD, root and IR table
//!   pointers, fault-event setup) are made with the DUT drained.

use crate::coverage::Coverage;
use crate::dut::DutConfig;
use crate::hdr::{self, Info};
use crate::memsrv::MemConfig;
use crate::sim::{check_access, Beat, Knobs, Sim};
use crate::vectors::Step;
use iommu_driver::mem::{HostMemory, MemChange};
use iommu_driver::model::{
    Allowed, CacheSnapshot, Invalidation, Model, ModelConfig, Msi, Outcome, Request,
};
use iommu_driver::platform::{Platform, PlatformError};
use iommu_driver::tlp::TlpError;
use iommu_driver::Hpa;
use std::collections::{BTreeMap, VecDeque};
use std::fmt;

/// One scoreboard failure, with what is needed to reproduce and understand it. `Display`
/// prints it in full (seed, configuration, cycle, the transaction, expected and actual).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// Seed of the run (back-pressure, idle cycles, memory latencies).
    pub seed: u64,
    /// RTL configuration simulated.
    pub config: DutConfig,
    /// Clock cycle at which the scoreboard saw it.
    pub cycle: u64,
    /// What went wrong, in words.
    pub what: String,
    /// The harness tag of the transaction concerned, if any.
    pub tag: Option<u16>,
    /// The transaction concerned, if any.
    pub request: Option<Request>,
    /// What the golden model allowed (or the state it expected).
    pub expected: String,
    /// What the DUT did.
    pub actual: String,
}

impl std::error::Error for Mismatch {}

/// What the DUT did with one request, as [`Lockstep::send`] returns it: the outcome the
/// scoreboard matched and the beat that carried it, with its timing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Egress {
    /// The harness tag the request was given ([`Lockstep::submit`]).
    pub tag: u16,
    /// The request as sent.
    pub request: Request,
    /// The member of the model's allowed set that the DUT's egress matched.
    pub outcome: Outcome,
    /// The beat that left the DUT for the request: the translated request on `dn` (its header
    /// exactly as it left, e.g. 4DW for an address above 4 GiB), the completion on `cpl`, or
    /// the message on `irq`. `None` when nothing left: a dropped posted request, a posted
    /// interrupt without notification, or a request of a group of interrupt requests whose
    /// messages the ports cannot tell apart.
    pub beat: Option<Beat>,
    /// Cycle at which the DUT accepted the request.
    pub accepted: u64,
    /// Cycle at which its beat left (with no beat: when the scoreboard concluded it was
    /// dropped).
    pub cycle: u64,
}

impl Egress {
    /// The output channel the beat left on, if any.
    pub fn channel(&self) -> Option<Channel> {
        self.beat.map(|b| match b {
            Beat::Dn { .. } => Channel::Dn,
            Beat::Cpl { .. } => Channel::Cpl,
            Beat::Irq { .. } => Channel::Irq,
        })
    }

    /// Cycles from acceptance to the beat.
    pub fn latency(&self) -> u64 {
        self.cycle.saturating_sub(self.accepted)
    }

    /// The translated request's header, decoded (spec C1-C3), when the request left on `dn`.
    pub fn downstream(&self) -> Option<Result<iommu_driver::tlp::RequestHeader, TlpError>> {
        match self.beat {
            Some(Beat::Dn { hdr, .. }) => Some(iommu_driver::tlp::RequestHeader::decode(&hdr)),
            _ => None,
        }
    }

    /// The completion's header, decoded (spec C4), when the request was answered on `cpl`.
    pub fn completion(&self) -> Option<Result<iommu_driver::tlp::Completion, TlpError>> {
        match self.beat {
            Some(Beat::Cpl { hdr, .. }) => Some(iommu_driver::tlp::Completion::decode(&[
                hdr[0], hdr[1], hdr[2], 0,
            ])),
            _ => None,
        }
    }
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
    /// Requests submitted to the DUT ([`Lockstep::submit`]).
    pub requests: u64,
    /// Requests forwarded downstream (translations, or identity with TE=0).
    pub forwarded: u64,
    /// Requests blocked with a UR or CA completion.
    pub completions: u64,
    /// Posted requests dropped (no egress), faulting or not.
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
    /// Largest accept-to-egress latency in cycles.
    pub latency_max: u64,
    /// Register accesses made through the csr port.
    pub reg_accesses: u64,
    /// Memory versions (batches of table edits) made while requests were in the unit.
    pub racing_edits: u64,
    /// Register writes whose invalidations the model carried out while requests were in flight.
    pub racing_invalidations: u64,
    /// Requests whose outcome only an older memory version or a pre-invalidation cache explains
    /// (in the golden model's world).
    pub stale_commits: u64,
    /// Most model worlds alive at once (see [`Lockstep::worlds`]).
    pub peak_worlds: u64,
    /// Commits that would have made more than the cap of worlds: the surplus was dropped, and
    /// with it perhaps the world the DUT is in (a later mismatch may then be the scoreboard's).
    pub world_cap_hits: u64,
}

#[derive(Debug, Clone)]
struct Pend {
    tag: u16,
    /// Submission (= acceptance) order number.
    seq: u64,
    /// Epoch at acceptance, and the earliest memory version the request may have used (the
    /// acceptance epoch of the oldest request in the unit when it was accepted).
    acc_epoch: u64,
    lo: u64,
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

/// An output channel of the DUT (rtl/README.md "Ports").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// `dn_*`: translated requests toward memory.
    Dn,
    /// `cpl_*`: completions for blocked non-posted requests, back to the device.
    Cpl,
    /// `irq_*`: interrupt messages (remapped interrupts, notifications, the unit's events).
    Irq,
}
use Channel as Chan;

/// Most model "worlds" kept alive while the DUT's choice between outcomes that look the same at
/// its ports (e.g. a drop with fault 9h from memory vs 5h through a stale cached context, or the
/// same fault through a stale cached entry with another FPD: [`Model::commit_variants`]) is not
/// yet visible; the next register read that tells them apart keeps only the consistent ones.
/// Eight drops in a row whose fault reason the ports cannot show (a write meeting a stale entry
/// with two faults, an injected read error, ...) double the worlds each: 64 was reached and the
/// consistent world cut off (regress seed 89), 256 is not.
pub const MAX_WORLDS: usize = 256;

/// Event messages kept for [`Lockstep::take_events`].
const EVENTS_KEPT: usize = 65_536;

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
    /// Interrupt beats of an ambiguous group ([`Lockstep::resolve_held`]) this world has not
    /// placed on one of the group's requests yet.
    group: VecDeque<Msi>,
    /// Posted-interrupt descriptors whose contents in this world differ from the shared model
    /// memory (which holds the golden model's): worlds that posted differently (one notified, one
    /// dropped) left different PIR/ON bits behind. Empty for the golden model.
    pids: Pids,
}

/// Contents of posted-interrupt descriptors, by address.
type Pids = Vec<(Hpa, [u8; 64])>;

/// Write `data` (at address `at`) over the part of the 64 bytes `b` at address `base` it covers.
fn patch(b: &mut [u8; 64], base: u64, at: u64, data: &[u8]) {
    for (i, v) in data.iter().enumerate() {
        if let Some(off) = (at + i as u64).checked_sub(base).filter(|o| *o < 64) {
            b[off as usize] = *v;
        }
    }
}

/// Addresses of the posted-interrupt descriptors that committing one of `cands` in one of
/// `base` may read or leave different: those the candidates post to and those any world holds
/// its own contents of.
fn pid_addrs(base: &[World], cands: &[Outcome]) -> Vec<Hpa> {
    let mut v: Vec<Hpa> = Vec::new();
    let posted = cands.iter().filter_map(|c| match c {
        Outcome::Posted { pid, .. } => Some(*pid),
        _ => None,
    });
    for a in posted.chain(base.iter().flat_map(|w| w.pids.iter().map(|(a, _)| *a))) {
        if !v.contains(&a) {
            v.push(a);
        }
    }
    v
}

/// `pids` with each of `over`'s descriptors in place of its own (or added).
fn overlay(pids: &mut Pids, over: &[(Hpa, [u8; 64])]) {
    for (a, b) in over {
        match pids.iter_mut().find(|(x, _)| x == a) {
            Some(e) => e.1 = *b,
            None => pids.push((*a, *b)),
        }
    }
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

/// A snapshot of the model's cache observations from before an invalidation (see the module
/// documentation).
struct Pre {
    /// The epoch before the invalidation.
    epoch: u64,
    snap: CacheSnapshot,
    /// Sequence number of the first request accepted after the DUT showed the invalidation
    /// complete (`None` while it has not).
    end_seq: Option<u64>,
}

impl Pre {
    /// May the request with sequence number `seq` have used what the invalidation removed?
    fn covers(&self, seq: u64) -> bool {
        self.end_seq.map_or(true, |e| seq < e)
    }
}

/// The worlds one commit is making (see [`Lockstep::fork_worlds`]).
#[derive(Default)]
struct Fork {
    next: Vec<World>,
    /// Fault signature of each of `next`, the explanation (memory version and cache) it came
    /// from, and the world of the base it was made from.
    seen: Vec<Vec<u64>>,
    from: Vec<usize>,
    parent: Vec<usize>,
    context: usize,
    err: String,
    /// Some world was not made because the cap was reached.
    capped: bool,
    /// The posted-interrupt descriptors the commit may touch, as current memory (the newest
    /// version, not one a version of the request's window reverted to) holds them.
    newest: Pids,
}

/// The DUT and the golden model side by side.
pub struct Lockstep {
    /// The simulator underneath (the verilated DUT, its memory port, back-pressure). Its memory
    /// `sim.mem` is the DUT's; edit memory through [`Platform::mem`] instead, which the
    /// scoreboard journals and applies to the model's copy: an edit made directly here is one
    /// the model never sees.
    pub sim: Sim,
    /// The golden model (the first consistent world).
    pub model: Model,
    /// Other worlds still consistent with everything the DUT showed (see [`MAX_WORLDS`]).
    alts: Vec<World>,
    /// The model's own copy of host memory ([`Lockstep::model_memory`]): written only by the
    /// scoreboard, from the journal of [`Platform::mem`] and by the model's own side effects.
    model_mem: HostMemory,
    /// Seed of the run (back-pressure, idle cycles, memory latencies).
    pub seed: u64,
    /// What the scoreboard counted so far.
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
    /// Mismatches are returned as errors: by [`Lockstep::send`] always, and by the
    /// [`Platform`] methods too while set (as [`PlatformError::Mismatch`]), so that an OS-driver
    /// call made on a failing DUT fails. Set by [`Lockstep::builder`]; [`Lockstep::new`] leaves
    /// it clear for harnesses that inspect [`Lockstep::failures`] themselves.
    pub strict: bool,
    /// While set, every committed request's [`Egress`] is appended to `retired`.
    log_egress: bool,
    retired: Vec<Egress>,
    /// The unit's own messages (fault and invalidation-completion events) the DUT sent and the
    /// model agreed with, not yet taken ([`Lockstep::take_events`]).
    events_seen: VecDeque<Msi>,
    /// Print every accepted request and egress beat to stderr (env `IOMMU_COSIM_TRACE`).
    pub trace: bool,
    /// Counts memory versions and invalidations (see the module documentation).
    epoch: u64,
    /// Memory versions still needed by requests in flight: (epoch, the edits that made it).
    edits: Vec<(u64, Vec<MemChange>)>,
    /// Invalidations the model carried out, still needed to judge requests in flight.
    invals: Vec<(u64, Invalidation)>,
    /// Cache snapshots from before invalidations, still needed.
    pres: Vec<Pre>,
    next_seq: u64,
    /// Cycle of the last memory edit.
    last_edit_cycle: u64,
    /// The later request whose egress made the scoreboard presume a drop (for messages).
    because: Option<u16>,
    pending: VecDeque<Pend>,
    next_tag: u16,
    dut_irqs: VecDeque<(u64, Msi)>,
    model_irqs: VecDeque<Msi>,
    /// Interrupt beats not yet placed on a request (see [`Lockstep::resolve_held`]).
    held: VecDeque<(u64, Msi)>,
    /// The golden model's part of an ambiguous interrupt group (see [`World::group`]), and how
    /// many of the group's requests are still to commit.
    group: VecDeque<Msi>,
    group_left: usize,
    /// Posted-interrupt descriptors some committed request posted to (checked against the DUT's
    /// memory whenever nothing is in flight, [`Lockstep::observe_pids`]).
    posted_pids: Vec<Hpa>,
    /// Functional coverage of the committed requests and invalidations, when collected
    /// ([`Lockstep::collect_coverage`]).
    pub coverage: Option<Box<Coverage>>,
    /// The stimulus in program order, while logged ([`Lockstep::start_log`]).
    pub log: Option<Box<StepLog>>,
}

/// A run's stimulus in program order as test-vector steps: what software did (register accesses,
/// memory edits, injected read errors) and every request, from `image` on. Replayed in order it
/// is a sequential version of the run (`shrink`).
#[derive(Debug, Clone)]
pub struct StepLog {
    /// The model's copy of host memory when logging started: the state the steps begin from.
    pub image: HostMemory,
    /// The logged steps, in program order.
    pub steps: Vec<Step>,
}

/// Performance-counter offsets whose values are micro-architectural (not compared with the model):
/// 0x300..0x32F (IOTLB, walks, context-cache and IEC misses) and 0x350..0x35F (IEC lookups, QI
/// descriptors processed).
pub(crate) fn micro_arch(offset: u16) -> bool {
    (0x300..0x330).contains(&offset) || (0x350..0x360).contains(&offset)
}

/// IQH, FSTS and IQT: what must agree once the DUT's queue has caught up with the model's.
const IQH_REG: u16 = 0x080;
pub(crate) const IQT_REG: u16 = 0x088;
const FSTS_REG: u16 = 0x034;
const FSTS_IQE: u64 = 1 << 4;

/// How to set up a [`Lockstep`] co-simulation; every setting has a default
/// ([`Lockstep::builder`]).
///
/// ```
/// use iommu_cosim::dut::DutConfig;
/// use iommu_cosim::lockstep::Lockstep;
/// use iommu_cosim::sim::Knobs;
/// let ls = Lockstep::builder()
///     .config(DutConfig::Tiny)
///     .seed(7)
///     .mem_latency(100)
///     .back_pressure(Knobs { dn_ready: 0.5, ..Knobs::full_speed() })
///     .build()?;
/// assert_eq!(ls.config(), DutConfig::Tiny);
/// # Ok::<(), iommu_driver::platform::PlatformError>(())
/// ```
#[derive(Debug, Clone)]
pub struct LockstepBuilder {
    config: DutConfig,
    memory: HostMemory,
    mem: MemConfig,
    knobs: Knobs,
    seed: u64,
    strict: bool,
}

impl Default for LockstepBuilder {
    fn default() -> Self {
        LockstepBuilder {
            config: DutConfig::Default,
            memory: HostMemory::new(),
            mem: MemConfig::default(),
            knobs: Knobs::full_speed(),
            seed: 1,
            strict: true,
        }
    }
}

impl LockstepBuilder {
    /// The RTL configuration to simulate (default: [`DutConfig::Default`]).
    pub fn config(mut self, config: DutConfig) -> Self {
        self.config = config;
        self
    }

    /// The seed of every random choice of the harness: back-pressure, idle cycles, latencies
    /// within their range (default 1).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// A fixed memory read latency, in cycles from request to response (default 20).
    pub fn mem_latency(mut self, cycles: u32) -> Self {
        self.mem.latency_min = cycles;
        self.mem.latency_max = cycles;
        self
    }

    /// Every memory-port setting at once: latency range, outstanding limit, out-of-order
    /// returns, request back-pressure (default [`MemConfig::default`]).
    pub fn mem_port(mut self, mem: MemConfig) -> Self {
        self.mem = mem;
        self
    }

    /// Back-pressure on the output channels and idle cycles on the input (default: none,
    /// [`Knobs::full_speed`]).
    pub fn back_pressure(mut self, knobs: Knobs) -> Self {
        self.knobs = knobs;
        self
    }

    /// Host memory to start from (default: empty). Later edits go through [`Platform::mem`].
    pub fn memory(mut self, memory: HostMemory) -> Self {
        self.memory = memory;
        self
    }

    /// Leave mismatches to be read from [`Lockstep::failures`] instead of failing the
    /// [`Platform`] calls that see them (clears [`Lockstep::strict`]; [`Lockstep::send`] still
    /// returns them).
    pub fn lenient(mut self) -> Self {
        self.strict = false;
        self
    }

    /// Check the settings, bring the DUT out of reset and configure the golden model from its
    /// CAP/ECAP. A setting out of range is an error naming it.
    pub fn build(self) -> Result<Lockstep, PlatformError> {
        let bad = |what: String| Err(PlatformError::Other(format!("lockstep set-up: {what}")));
        let m = &self.mem;
        if m.latency_min == 0 || m.latency_min > m.latency_max {
            return bad(format!(
                "memory latency {}..={} cycles: need 1 <= min <= max",
                m.latency_min, m.latency_max
            ));
        }
        if m.max_outstanding == 0 {
            return bad("memory outstanding limit 0: need at least 1".to_string());
        }
        if !(m.ready_prob > 0.0 && m.ready_prob <= 1.0) {
            return bad(format!(
                "memory ready probability {}: need 0 < p <= 1",
                m.ready_prob
            ));
        }
        let k = &self.knobs;
        for (name, p) in [
            ("dn_ready", k.dn_ready),
            ("cpl_ready", k.cpl_ready),
            ("irq_ready", k.irq_ready),
        ] {
            if !(p > 0.0 && p <= 1.0) {
                return bad(format!(
                    "back-pressure {name} probability {p}: need 0 < p <= 1"
                ));
            }
        }
        if !(0.0..1.0).contains(&k.up_idle) {
            return bad(format!(
                "back-pressure up_idle probability {}: need 0 <= p < 1",
                k.up_idle
            ));
        }
        let mut ls = Lockstep::new(self.config, self.memory, self.mem, self.knobs, self.seed)?;
        ls.strict = self.strict;
        Ok(ls)
    }
}

impl Lockstep {
    /// A co-simulation with defaults for everything ([`LockstepBuilder`]): the default RTL
    /// configuration, seed 1, 20-cycle memory, no back-pressure, empty memory, mismatches
    /// returned as errors.
    pub fn builder() -> LockstepBuilder {
        LockstepBuilder::default()
    }

    /// Bring up the DUT with `mem` behind its memory port, read CAP/ECAP from it and configure the
    /// golden model from them (decisions.md "Hardware identity": the harness follows the DUT).
    /// Mismatches are only recorded ([`Lockstep::strict`] clear); [`Lockstep::builder`] is the
    /// form with defaults and checked settings.
    pub fn new(
        config: DutConfig,
        mem: HostMemory,
        memcfg: MemConfig,
        knobs: Knobs,
        seed: u64,
    ) -> Result<Self, PlatformError> {
        config.prepare(true).map_err(PlatformError::Other)?;
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
        let mut model = Model::new(ModelConfig::from_cap_ecap(cap, ecap, 48));
        model.log_invalidations(true);
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
            epoch: 0,
            edits: Vec::new(),
            invals: Vec::new(),
            pres: Vec::new(),
            next_seq: 0,
            last_edit_cycle: u64::MAX,
            strict: false,
            log_egress: false,
            retired: Vec::new(),
            events_seen: VecDeque::new(),
            in_order: true,
            trace: std::env::var_os("IOMMU_COSIM_TRACE").is_some(),
            because: None,
            pending: VecDeque::new(),
            next_tag: 0,
            dut_irqs: VecDeque::new(),
            model_irqs: VecDeque::new(),
            held: VecDeque::new(),
            group: VecDeque::new(),
            group_left: 0,
            posted_pids: Vec::new(),
            coverage: None,
            log: None,
        })
    }

    /// Log the stimulus from now on (into [`Lockstep::log`]), starting from memory as it is now.
    pub fn start_log(&mut self) {
        self.flush_edits();
        self.log = Some(Box::new(StepLog {
            image: self.model_mem.clone(),
            steps: Vec::new(),
        }));
    }

    fn log_step(&mut self, s: Step) {
        if let Some(l) = self.log.as_deref_mut() {
            l.steps.push(s);
        }
    }

    /// Collect functional coverage from now on (into [`Lockstep::coverage`]): what every
    /// committed request and every invalidation exercised (`coverage` module). Costs one more
    /// evaluation of each request's fresh path.
    pub fn collect_coverage(&mut self) {
        if self.coverage.is_none() {
            self.coverage = Some(Box::default());
        }
    }

    /// Which verilated parameter set ([`DutConfig`]) the DUT was built with.
    pub fn config(&self) -> DutConfig {
        self.sim.dut.config()
    }

    /// Whether any mismatch has been recorded in [`Lockstep::failures`].
    pub fn failed(&self) -> bool {
        !self.failures.is_empty()
    }

    /// Model worlds still consistent with what the DUT showed (1 when its ports have told every
    /// choice apart); the next reads of the fault registers tell more apart.
    pub fn worlds(&self) -> usize {
        1 + self.alts.len()
    }

    /// Requests submitted and not yet retired.
    pub fn in_flight(&self) -> usize {
        self.pending.len()
    }

    /// Requests submitted so far (the sequence number the next one gets).
    pub fn submitted(&self) -> u64 {
        self.next_seq
    }

    /// Tick until every request submitted before `mark` ([`Lockstep::submitted`]) has retired,
    /// while the later ones stay in flight: a fence, not a drain. If the DUT goes quiet first,
    /// this is [`Lockstep::drain`] (posted requests still outstanding were dropped).
    pub fn retire_before(&mut self, mark: u64) {
        loop {
            if self.failed() || self.pending.front().map_or(true, |p| p.seq >= mark) {
                return;
            }
            if self.sim.idle_for() >= self.quiet {
                self.drain(false);
                return;
            }
            self.tick();
        }
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

    /// Apply what the OS driver changed in the DUT's memory since [`Platform::mem`] to the
    /// model's copy, as one new memory version; requests in flight may read it from now on.
    fn flush_edits(&mut self) {
        if !self.sim.mem.journaling() {
            return;
        }
        let changes = self.sim.mem.take_journal();
        if changes.is_empty() {
            return;
        }
        if let Some(l) = self.log.as_deref_mut() {
            for c in &changes {
                l.steps.push(match c {
                    MemChange::Write { addr, new, .. } => Step::Mem {
                        addr: addr.0,
                        data: new.clone(),
                    },
                    MemChange::Errors { new, .. } => Step::Errors {
                        ranges: new.clone(),
                    },
                });
            }
        }
        for c in &changes {
            // Software rewrote memory: in every world alike.
            if let MemChange::Write { addr, new, .. } = c {
                for a in self.alts.iter_mut() {
                    for (p, b) in a.pids.iter_mut() {
                        patch(b, p.0, addr.0, new);
                    }
                }
            }
            if let Err(e) = self.model_mem.apply_change(c) {
                self.fail(
                    "the model's memory cannot follow an edit",
                    None,
                    "-",
                    e.to_string(),
                );
            }
        }
        let what = self.trace.then(|| {
            changes
                .iter()
                .map(|c| match c {
                    MemChange::Write { addr, new, .. } => format!("{:#x}+{}", addr.0, new.len()),
                    MemChange::Errors { new, .. } => format!("errors {new:x?}"),
                })
                .collect::<Vec<_>>()
        });
        // Edits made with no clock cycle in between are one version: the DUT cannot have seen
        // anything between them.
        let now = self.sim.cycle();
        match self.edits.last_mut() {
            Some((e, v)) if *e == self.epoch && self.last_edit_cycle == now => v.extend(changes),
            _ => {
                self.epoch += 1;
                self.edits.push((self.epoch, changes));
            }
        }
        self.last_edit_cycle = now;
        if self
            .pending
            .iter()
            .any(|p| p.allowed.is_some() && p.seen.is_none())
        {
            self.stats.racing_edits += 1;
        }
        if let Some(what) = what {
            eprintln!(
                "[{}] memory version {}: {}",
                self.sim.cycle(),
                self.epoch,
                what.join(" ")
            );
        }
        for k in 0..self.pending.len() {
            if self.pending[k].allowed.is_none() {
                continue;
            }
            let req = self.pending[k].req;
            let a = self.evaluate_worlds(&req);
            let p = &mut self.pending[k];
            if let Some(al) = p.allowed.as_mut() {
                for o in a.iter() {
                    al.insert(*o);
                }
            }
            p.irq |= irq_capable(&a);
        }
        self.prune();
    }

    /// Forget memory versions, invalidations and cache snapshots no request in flight needs.
    fn prune(&mut self) {
        let min_lo = self
            .pending
            .iter()
            .filter(|p| p.allowed.is_some())
            .map(|p| p.lo)
            .min()
            .unwrap_or(self.epoch);
        let min_seq = self.pending.front().map_or(self.next_seq, |p| p.seq);
        self.pres.retain(|x| x.covers(min_seq));
        let since = self.pres.iter().map(|x| x.epoch).fold(min_lo, u64::min);
        self.edits.retain(|(e, _)| *e > min_lo);
        self.invals.retain(|(e, _)| *e > since);
    }

    /// Call `f` with the model's memory as it was in each version a request with window start
    /// `lo` may have read, newest first, with the epoch of the edit that ended that version
    /// (`None` for the current one); stop when `f` returns true. Memory is current again after.
    fn for_versions(&mut self, lo: u64, mut f: impl FnMut(&mut Self, Option<u64>) -> bool) {
        if f(self, None) {
            return;
        }
        let k0 = self.edits.partition_point(|(e, _)| *e <= lo);
        let mut undo: Vec<MemChange> = Vec::new();
        for i in (k0..self.edits.len()).rev() {
            let (edits, mem) = (&self.edits, &mut self.model_mem);
            for c in edits[i].1.iter().rev() {
                if let Ok(u) = mem.revert_change(c) {
                    undo.push(u);
                }
            }
            let e = self.edits[i].0;
            if f(self, Some(e)) {
                break;
            }
        }
        for u in undo.iter().rev() {
            let _ = self.model_mem.apply_change(u);
        }
    }

    /// What `req` may do in current memory in any live world: worlds may differ in what their
    /// caches hold (e.g. an IRTE that one world's posting cached from an older table version),
    /// and the DUT may be in any of them.
    fn evaluate_worlds(&mut self, req: &Request) -> Allowed {
        let mut acc = self.model.evaluate(&self.model_mem, req);
        for k in 0..self.alts.len() {
            let shared = self.enter_alt(k);
            for o in self.alts[k].model.evaluate(&self.model_mem, req).iter() {
                acc.insert(*o);
            }
            self.write_pids(&shared);
        }
        acc
    }

    /// Put alternative world `k`'s posted-interrupt descriptors in the shared model memory;
    /// returns what to write back to leave it.
    fn enter_alt(&mut self, k: usize) -> Pids {
        if self.alts[k].pids.is_empty() {
            return Vec::new();
        }
        let addrs: Vec<Hpa> = self.alts[k].pids.iter().map(|(a, _)| *a).collect();
        let shared = self.read_pids(&addrs);
        let own = std::mem::take(&mut self.alts[k].pids);
        self.write_pids(&own);
        self.alts[k].pids = own;
        shared
    }

    /// The allowed outcomes of `req` (sequence number `seq`, window start `lo`): the union over
    /// the live worlds, over the memory versions of its window and over each world's cache
    /// observations and every pre-invalidation snapshot that may still serve it. The first
    /// member is the fresh outcome from current memory in the golden model.
    fn evaluate_window(&mut self, req: &Request, seq: u64, lo: u64) -> Allowed {
        let mut acc = self.evaluate_worlds(req);
        let Some(pres) = self.window_extras(seq, lo) else {
            return acc;
        };
        self.for_versions(lo, |ls, ended| {
            // The current version with the current caches is in `acc` already.
            let mut add = Vec::new();
            for k in 0..=ls.alts.len() {
                let shared = if k == 0 {
                    Vec::new()
                } else {
                    ls.enter_alt(k - 1)
                };
                let m = if k == 0 {
                    &mut ls.model
                } else {
                    &mut ls.alts[k - 1].model
                };
                if ended.is_some() {
                    add.push(m.evaluate(&ls.model_mem, req));
                }
                for &i in &pres {
                    let mut snap = std::mem::take(&mut ls.pres[i].snap);
                    add.push(m.evaluate_via(&ls.model_mem, req, &mut snap));
                    ls.pres[i].snap = snap;
                }
                ls.write_pids(&shared);
            }
            for a in add {
                for o in a.iter() {
                    acc.insert(*o);
                }
            }
            false
        });
        acc
    }

    /// What besides current memory and the current cache may explain the request with sequence
    /// number `seq` and window start `lo`: `None` if nothing (no edit since `lo`, no
    /// pre-invalidation snapshot covering it), else the covering snapshots, newest first.
    fn window_extras(&self, seq: u64, lo: u64) -> Option<Vec<usize>> {
        let pres: Vec<usize> = (0..self.pres.len())
            .rev()
            .filter(|i| self.pres[*i].covers(seq))
            .collect();
        let edited = self.edits.last().is_some_and(|(e, _)| *e > lo);
        (edited || !pres.is_empty()).then_some(pres)
    }

    /// Sequence number of the next request the DUT will accept.
    fn next_accept_seq(&self) -> u64 {
        self.pending
            .iter()
            .find(|p| p.allowed.is_none())
            .map_or(self.next_seq, |p| p.seq)
    }

    /// Queue one upstream request; returns its harness tag.
    pub fn submit(&mut self, req: Request) -> u16 {
        self.flush_edits();
        let tag = self.next_tag;
        self.next_tag = self.next_tag.wrapping_add(1);
        self.sim.push_up(tag, req.hdr, req.data0);
        self.log_step(Step::Request {
            tag,
            hdr: req.hdr,
            data0: req.data0,
        });
        let seq = self.next_seq;
        self.next_seq += 1;
        self.pending.push_back(Pend {
            tag,
            seq,
            acc_epoch: 0,
            lo: 0,
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
        self.flush_edits();
        self.sim.tick();
        self.process();
    }

    /// Handle accepted requests and egress beats queued by the simulator.
    pub fn process(&mut self) {
        self.flush_edits();
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
            let lo = self
                .pending
                .iter()
                .filter(|p| p.allowed.is_some())
                .map(|p| p.acc_epoch)
                .fold(self.epoch, u64::min);
            let (req, seq) = (self.pending[i].req, self.pending[i].seq);
            let mut allowed = self.evaluate_window(&req, seq, lo);
            self.widen_postings(i, &mut allowed);
            self.pending[i].acc_epoch = self.epoch;
            self.pending[i].lo = lo;
            if self.trace {
                eprintln!(
                    "[{cyc}] accept tag {tag:#06x} {} -> {:?}",
                    describe(&self.pending[i].req.hdr),
                    allowed.to_vec()
                );
            }
            self.pending[i].irq = irq_capable(&allowed);
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

    fn egress(&mut self, cyc: u64, e: Beat) {
        if self.trace {
            eprintln!("[{cyc}] egress {e:x?}");
        }
        match e {
            Beat::Dn { tag, hdr } => match self.find(tag) {
                Some(i) => {
                    // Everything before it has retired: place the held interrupt beats first.
                    let i = if self.held.is_empty() {
                        i
                    } else {
                        self.resolve_held(i);
                        match self.find(tag) {
                            Some(i) => i,
                            None => return,
                        }
                    };
                    self.retire(i, cyc, Seen::Dn(hdr), Chan::Dn)
                }
                None => self.fail(
                    "downstream request for a tag that is not outstanding (spurious, duplicate, or after a later request that may not pass it)",
                    None,
                    "-",
                    format!("tag {tag:#06x} hdr {hdr:08x?}"),
                ),
            },
            Beat::Cpl { tag, hdr } => match self.find(tag) {
                Some(i) => self.retire(i, cyc, Seen::Cpl(hdr), Chan::Cpl),
                None => self.fail(
                    "completion for a tag that is not outstanding (spurious, duplicate, or after a later request that may not pass it)",
                    None,
                    "-",
                    format!("tag {tag:#06x} hdr {hdr:08x?}"),
                ),
            },
            Beat::Irq { msi } => {
                let i = self
                    .pending
                    .iter()
                    .position(|p| p.seen.is_none() && Self::allows_irq(p, msi));
                // With in-order retirement, an interrupt that the first candidate may or may not
                // have produced (it may also be dropped) while a later request may produce the
                // same message is held until a later egress or a quiet DUT shows which.
                if self.in_order
                    && (!self.held.is_empty()
                        || i.is_some_and(|i| {
                            Self::drop_allowed(&self.pending[i])
                                && self.pending.iter().skip(i + 1).any(|p| {
                                    p.seen.is_none() && Self::allows_irq(p, msi)
                                })
                        }))
                {
                    self.held.push_back((cyc, msi));
                    return;
                }
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

    /// May pending request `p` produce interrupt message `msi`?
    fn allows_irq(p: &Pend, msi: Msi) -> bool {
        p.allowed
            .as_ref()
            .is_some_and(|a| a.iter().any(|o| irq_of(o) == Some(msi)))
    }

    /// Place the held interrupt beats now that every request before pending index `frontier` is
    /// known to have retired: an assignment of beats to requests, in order, under which every
    /// request skipped before the frontier may have been dropped (a beat no request explains is
    /// one of the unit's own messages). When the earliest and the latest such assignments agree,
    /// that is what happened. When they differ (two requests in flight that may each have sent
    /// the message or been dropped, e.g. across an IRTE change), the requests between them form
    /// a group: each world commits each of them as one of the beats or as nothing, keeping only
    /// the combinations that place every beat in order ([`World::group`]); fault records then
    /// tell the worlds apart.
    fn resolve_held(&mut self, frontier: usize) {
        let beats: Vec<(u64, Msi)> = self.held.drain(..).collect();
        let cands: Vec<usize> = (0..frontier.min(self.pending.len()))
            .filter(|k| self.pending[*k].allowed.is_some() && self.pending[*k].seen.is_none())
            .collect();
        // skip_ok[c]: candidate c may end with no egress (a non-posted one still completes).
        let skip_ok: Vec<bool> = cands
            .iter()
            .map(|k| !self.pending[*k].info.posted || Self::drop_allowed(&self.pending[*k]))
            .collect();
        let first = self.place(&beats, &cands, &skip_ok, false);
        let last = self.place(&beats, &cands, &skip_ok, true);
        if self.trace {
            eprintln!(
                "[{}] held interrupts {beats:x?}: earliest placement {first:?}, latest {last:?} (of candidates {:04x?})",
                self.sim.cycle(),
                cands.iter().map(|k| self.pending[*k].tag).collect::<Vec<_>>()
            );
        }
        if let (Some(f), Some(l)) = (&first, &last) {
            // Beats both placements give the unit itself (a fault event) are its own messages
            // whatever the requests did; the others are the group.
            let group = f != l
                && f.iter()
                    .zip(l.iter())
                    .all(|(x, y)| x.is_some() == y.is_some())
                && f.iter().any(|c| c.is_some())
                && self.group_left == 0;
            if group {
                let used = || f.iter().chain(l.iter()).flatten().copied();
                let (lo, hi) = (used().min().unwrap_or(0), used().max().unwrap_or(0));
                let msis: VecDeque<Msi> = beats
                    .iter()
                    .zip(f)
                    .filter(|(_, c)| c.is_some())
                    .map(|((_, m), _)| *m)
                    .collect();
                for ((cyc, m), _) in beats.iter().zip(f).filter(|(_, c)| c.is_none()) {
                    self.dut_irqs.push_back((*cyc, *m));
                }
                let cyc = beats.last().map_or(self.sim.cycle(), |b| b.0);
                let mut members = 0;
                for (ci, &k) in cands.iter().enumerate() {
                    if ci > hi {
                        break;
                    }
                    let p = &self.pending[k];
                    let member = ci >= lo && msis.iter().any(|m| Self::allows_irq(p, *m));
                    if member {
                        self.pending[k].seen = Some((cyc, Seen::Maybe));
                        members += 1;
                    } else if p.info.posted && Self::drop_allowed(p) {
                        self.pending[k].seen = Some((cyc, Seen::Dropped));
                    }
                }
                self.group = msis.clone();
                for a in self.alts.iter_mut() {
                    a.group = msis.clone();
                }
                self.group_left = members;
                self.commit_ready();
                return;
            }
        }
        let tags: Vec<Option<u16>> = match &first {
            Some(plan) => plan
                .iter()
                .map(|c| c.map(|c| self.pending[cands[c]].tag))
                .collect(),
            None => vec![None; beats.len()],
        };
        let found = first.is_some();
        for ((cyc, msi), tag) in beats.into_iter().zip(tags) {
            if self.failed() {
                return;
            }
            let i = match tag {
                Some(t) => self.find(t),
                None if found => None,
                // No consistent placement: the first candidate, as without holding (reported).
                None => self
                    .pending
                    .iter()
                    .position(|p| p.seen.is_none() && Self::allows_irq(p, msi)),
            };
            match i {
                Some(i) => self.retire(i, cyc, Seen::Irq(msi), Chan::Irq),
                None => {
                    self.dut_irqs.push_back((cyc, msi));
                    self.match_irqs();
                }
            }
        }
    }

    /// An in-order placement of `beats` on candidate requests (indices into `cands`; `None` = the
    /// unit's own message) under which every skipped candidate may end without egress: the
    /// earliest one, or with `latest` the one using the latest candidates.
    fn place(
        &self,
        beats: &[(u64, Msi)],
        cands: &[usize],
        skip_ok: &[bool],
        latest: bool,
    ) -> Option<Vec<Option<usize>>> {
        fn search(
            ls: &Lockstep,
            beats: &[(u64, Msi)],
            cands: &[usize],
            skip_ok: &[bool],
            from: usize,
            latest: bool,
            unit: bool,
            out: &mut Vec<Option<usize>>,
        ) -> bool {
            let Some(&(_, msi)) = beats.first() else {
                return skip_ok[from..].iter().all(|x| *x);
            };
            // Candidates reachable from `from` (all skipped ones before them may be dropped).
            let mut reach = Vec::new();
            for c in from..cands.len() {
                if Lockstep::allows_irq(&ls.pending[cands[c]], msi) {
                    reach.push(c);
                }
                if !skip_ok[c] {
                    break;
                }
            }
            if latest {
                reach.reverse();
            }
            for c in reach {
                out.push(Some(c));
                if search(ls, &beats[1..], cands, skip_ok, c + 1, latest, unit, out) {
                    return true;
                }
                out.pop();
            }
            // The unit's own message.
            if unit {
                out.push(None);
                if search(ls, &beats[1..], cands, skip_ok, from, latest, unit, out) {
                    return true;
                }
                out.pop();
            }
            false
        }
        // Placements that put every beat on a request first; the unit's own messages only if
        // there is none.
        [false, true].into_iter().find_map(|unit| {
            let mut plan = Vec::with_capacity(beats.len());
            search(self, beats, cands, skip_ok, 0, latest, unit, &mut plan).then_some(plan)
        })
    }

    /// The beats of the ambiguous interrupt group still to be placed, in any world.
    fn group_beats(&self) -> Vec<Msi> {
        let mut v: Vec<Msi> = self.group.iter().copied().collect();
        for a in &self.alts {
            for m in &a.group {
                if !v.contains(m) {
                    v.push(*m);
                }
            }
        }
        v
    }

    /// The last request of an ambiguous interrupt group committed: only the worlds that placed
    /// every beat remain.
    fn end_group(&mut self, p: &Pend) {
        self.alts.retain(|a| a.group.is_empty());
        if !self.group.is_empty() {
            match self.alts.iter().position(|a| a.owed.is_empty()) {
                Some(k) => {
                    self.promote(k);
                    self.alts.retain(|a| a.group.is_empty());
                }
                None => {
                    let left = format!("{:x?}", self.group);
                    self.group.clear();
                    self.fail(
                        "interrupt messages a group of requests in flight cannot all have sent",
                        Some(p),
                        "every message placed on one request of the group",
                        format!("{left} left over"),
                    );
                }
            }
        }
    }

    fn find(&self, tag: u16) -> Option<usize> {
        self.pending
            .iter()
            .position(|p| p.tag == tag && p.accepted_at.is_some() && p.seen.is_none())
    }

    /// May `later` leave the DUT before the earlier `earlier` ([`hdr::may_pass`], with the
    /// interrupt requests known from the allowed sets)?
    fn may_pass(later: &Pend, earlier: &Pend) -> bool {
        hdr::may_pass(&later.info, later.irq, &earlier.info, earlier.irq)
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
        self.prune();
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
                    .filter(|o| irq_of(o) == Some(msi))
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
            Seen::Maybe => {
                let beats = self.group_beats();
                let c: Vec<Outcome> = allowed
                    .iter()
                    .filter(|o| match irq_of(o) {
                        Some(m) => beats.contains(&m),
                        None => matches!(seen_kind(o), SeenKind::Drop),
                    })
                    .copied()
                    .collect();
                (
                    c,
                    format!("one of the interrupts {beats:x?} or nothing (a group of requests that may each have sent one)"),
                )
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
        let consume = matches!(seen, Seen::Maybe);
        let exercised = self
            .coverage
            .is_some()
            .then(|| self.model.exercised(&self.model_mem, &p.req));
        if let Err(e) = self.commit_window(&p, &chosen, consume) {
            self.fail(
                "model refused the commit",
                Some(&p),
                format!("{:?}", allowed.to_vec()),
                format!("{outcome:?}: {e}"),
            );
            return;
        }
        // What the request cached before an invalidation the DUT has not finished yet may still
        // serve requests accepted until it does.
        // In every world: the DUT may be in any of them.
        let mut fills: Vec<_> = self.model.take_unfiltered_fills().into_iter().collect();
        for a in self.alts.iter_mut() {
            fills.extend(a.model.take_unfiltered_fills());
        }
        for f in &fills {
            for pre in self.pres.iter_mut().filter(|x| x.end_seq.is_none()) {
                pre.snap.merge(f);
            }
        }
        if consume {
            self.group_left = self.group_left.saturating_sub(1);
            if self.group_left == 0 {
                self.end_group(&p);
            }
        }
        if self.log_egress {
            let beat = match seen {
                Seen::Dn(hdr) => Some(Beat::Dn { tag: p.tag, hdr }),
                Seen::Cpl(hdr) => Some(Beat::Cpl { tag: p.tag, hdr }),
                Seen::Irq(msi) => Some(Beat::Irq { msi }),
                Seen::Dropped | Seen::Maybe => None,
            };
            self.retired.push(Egress {
                tag: p.tag,
                request: p.req,
                outcome,
                beat,
                accepted: p.accepted_at.unwrap_or(cyc),
                cycle: cyc,
            });
        }
        if let (Some(c), Some(ex)) = (self.coverage.as_deref_mut(), exercised) {
            c.request(
                &p.req,
                &ex,
                &outcome,
                *allowed.fresh() == outcome,
                allowed.len(),
            );
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
        if chosen.iter().any(|o| matches!(o, Outcome::Posted { .. })) {
            for o in &chosen {
                if let Outcome::Posted { pid, .. } = o {
                    if !self.posted_pids.contains(pid) {
                        self.posted_pids.push(*pid);
                    }
                }
            }
            self.refresh_postings();
        }
    }

    /// A posting changed a posted-interrupt descriptor (PIR, ON): the allowed outcome of every
    /// later posting not yet committed (in flight, or seen at the ports but not yet judged, as in
    /// an ambiguous interrupt group) depends on it (notify or not), and those were evaluated at
    /// acceptance, before this commit. Evaluate them again over their window on the model as it
    /// is now (descriptor rewrites by software happen with no posting in flight: they would race
    /// the unit's atomic update).
    fn refresh_postings(&mut self) {
        for k in 0..self.pending.len() {
            let p = &self.pending[k];
            let posting = p
                .allowed
                .as_ref()
                .is_some_and(|a| a.iter().any(|o| matches!(o, Outcome::Posted { .. })));
            if posting {
                let (req, seq, lo) = (self.pending[k].req, self.pending[k].seq, self.pending[k].lo);
                let mut a = self.evaluate_window(&req, seq, lo);
                self.widen_postings(k, &mut a);
                self.pending[k].allowed = Some(a);
            }
        }
    }

    /// A posting that would notify may find ON already set by an earlier posting to the same
    /// descriptor still in flight (committed later, after this one was evaluated): allow it to
    /// post without notification too. Its commit is judged after the earlier one's, against the
    /// descriptor as that left it ([`Lockstep::refresh_postings`]); this only keeps the placement
    /// of interrupt beats ([`Lockstep::resolve_held`]) from ruling the quiet posting out.
    fn widen_postings(&self, k: usize, a: &mut Allowed) {
        let quiet: Vec<Outcome> = a
            .iter()
            .filter_map(|o| match *o {
                Outcome::Posted {
                    pid,
                    vector,
                    notify: Some(_),
                } if self.pending.iter().take(k).any(|p| {
                    p.allowed.as_ref().is_some_and(|e| {
                        e.iter()
                            .any(|x| matches!(x, Outcome::Posted { pid: q, .. } if *q == pid))
                    })
                }) =>
                {
                    Some(Outcome::Posted {
                        pid,
                        vector,
                        notify: None,
                    })
                }
                _ => None,
            })
            .collect();
        for o in quiet {
            a.insert(o);
        }
    }

    /// Commit `cands` for pending request `p`: in every memory version of its window and with
    /// every set of cache observations (current, or a pre-invalidation snapshot that may still
    /// serve it) that explain it, each passing the invalidations made since to
    /// [`Model::commit_variant_after`]; each such explanation forks the worlds (the DUT's ports
    /// do not show which version its walk read, its fault records may).
    fn commit_window(&mut self, p: &Pend, cands: &[Outcome], consume: bool) -> Result<(), String> {
        let Some(pres) = self.window_extras(p.seq, p.lo) else {
            return self.commit_worlds(&p.req, cands, consume);
        };
        let base = self.take_worlds();
        let mut fork = Fork {
            newest: self.read_pids(&pid_addrs(&base, cands)),
            ..Fork::default()
        };
        self.for_versions(p.lo, |ls, ended| {
            for via in std::iter::once(None).chain(pres.iter().map(|i| Some(*i))) {
                let since = ended
                    .unwrap_or(u64::MAX)
                    .min(via.map_or(u64::MAX, |i| ls.pres[i].epoch));
                let later: Vec<Invalidation> = ls
                    .invals
                    .iter()
                    .filter(|(e, _)| *e > since)
                    .map(|(_, v)| *v)
                    .collect();
                let before = fork.next.len();
                ls.fork_worlds(&base, &p.req, cands, via, &later, consume, &mut fork);
                if ls.trace && fork.next.len() > before {
                    eprintln!(
                        "[{}] tag {:#06x} explained in the version ended at {ended:?}{}, {} later invalidations",
                        ls.sim.cycle(),
                        p.tag,
                        if via.is_some() { " through a pre-invalidation cache" } else { "" },
                        later.len()
                    );
                }
                fork.context += 1;
            }
            false
        });
        self.finish_fork(base, fork)
    }

    /// The golden model and the other worlds, moved out (with the model's pending events).
    fn take_worlds(&mut self) -> Vec<World> {
        self.take_model_events();
        let mut worlds = Vec::with_capacity(1 + self.alts.len());
        worlds.push(World {
            model: self.model.clone(),
            pending: std::mem::take(&mut self.model_irqs),
            owed: VecDeque::new(),
            group: std::mem::take(&mut self.group),
            pids: Vec::new(),
        });
        worlds.append(&mut self.alts);
        worlds
    }

    /// Install the worlds `fork` made from `base`, or put `base` back and report why none was.
    fn finish_fork(&mut self, base: Vec<World>, fork: Fork) -> Result<(), String> {
        if fork.next.is_empty() {
            self.set_worlds(base);
            return Err(fork.err);
        }
        if fork.from[0] != 0 {
            self.stats.stale_commits += 1;
        }
        self.stats.peak_worlds = self.stats.peak_worlds.max(fork.next.len() as u64);
        if fork.capped {
            self.stats.world_cap_hits += 1;
        }
        if self.trace {
            eprintln!(
                "[{}] worlds {} -> {}{}",
                self.sim.cycle(),
                base.len(),
                fork.next.len(),
                if fork.capped {
                    " (cap reached: the rest dropped)"
                } else {
                    ""
                }
            );
        }
        self.set_worlds(fork.next);
        Ok(())
    }

    /// Commit `cands` (outcomes the DUT's ports cannot tell apart) in every world, in current
    /// memory with the current cache observations: one candidate keeps the world count; several
    /// fork each world (at most [`MAX_WORLDS`] kept).
    fn commit_worlds(
        &mut self,
        req: &Request,
        cands: &[Outcome],
        consume: bool,
    ) -> Result<(), String> {
        if !consume
            && cands.len() == 1
            && self.alts.is_empty()
            && self.model.commit_variants(&self.model_mem, req, &cands[0]) <= 1
        {
            return self
                .model
                .commit(&mut self.model_mem, req, &cands[0])
                .map_err(|e| e.to_string());
        }
        let base = self.take_worlds();
        let mut fork = Fork {
            newest: self.read_pids(&pid_addrs(&base, cands)),
            ..Fork::default()
        };
        self.fork_worlds(&base, req, cands, None, &[], consume, &mut fork);
        self.finish_fork(base, fork)
    }

    /// Add to `fork` the worlds that committing each of `cands` (each of its variants) in each
    /// of `base` gives, in the model memory as it is now, through the pre-invalidation snapshot
    /// `via` if given, with the invalidations `later`. Worlds that agree on every fault register
    /// and event account are one world for what follows, with the cache observations of both
    /// joined (the DUT may hold either): worlds that differed only in an old fault record,
    /// cleared since, may still differ in what their unit cached.
    fn fork_worlds(
        &mut self,
        base: &[World],
        req: &Request,
        cands: &[Outcome],
        via: Option<usize>,
        later: &[Invalidation],
        consume: bool,
        fork: &mut Fork,
    ) {
        if fork.next.len() >= MAX_WORLDS {
            fork.capped = true;
            return;
        }
        let mut snap = via.map(|i| std::mem::take(&mut self.pres[i].snap));
        // A posting rewrites its posted-interrupt descriptor in the (shared) model memory: each
        // world commits it against the descriptors as they are in that world, and the bits each
        // variant sets there (PIR, ON: the atomic update only sets bits), on the descriptor as
        // current memory holds it, are the new world's own.
        let posted: Vec<Hpa> = cands
            .iter()
            .filter_map(|c| match c {
                Outcome::Posted { pid, .. } => Some(*pid),
                _ => None,
            })
            .collect();
        let shared = self.read_pids(&pid_addrs(base, cands));
        'outer: for (wi, w) in base.iter().enumerate() {
            self.write_pids(&shared);
            self.write_pids(&w.pids);
            let pid_before = self.read_pids(&posted);
            let mut probe = snap.is_some().then(|| w.model.clone());
            let mut variants: Vec<(&Outcome, usize)> = Vec::new();
            for c in cands {
                let n = match probe.as_mut() {
                    Some(m) => m.commit_variants_via(&self.model_mem, req, c, snap.as_mut()),
                    None => w.model.commit_variants(&self.model_mem, req, c),
                };
                variants.extend((0..n).map(|k| (c, k)));
            }
            if self.trace && variants.is_empty() {
                eprintln!(
                    "[{}] a world cannot explain {cands:?} for {}",
                    self.sim.cycle(),
                    describe(&req.hdr)
                );
            }
            for (c, k) in variants {
                let mut m = w.model.clone();
                for (pid, b) in &pid_before {
                    let _ = self.model_mem.write(*pid, b);
                }
                match m.commit_variant_after(&mut self.model_mem, req, c, k, snap.as_mut(), later) {
                    Ok(()) => {
                        let ev = m.take_events();
                        let mut pids = fork.newest.clone();
                        overlay(&mut pids, &w.pids);
                        for ((a, after), (_, before)) in
                            self.read_pids(&posted).iter().zip(&pid_before)
                        {
                            if let Some(e) = pids.iter_mut().find(|(x, _)| x == a) {
                                for i in 0..64 {
                                    e.1[i] |= after[i] & !before[i];
                                }
                            }
                        }
                        let mut nw = World {
                            model: m,
                            pending: w.pending.clone(),
                            owed: w.owed.clone(),
                            group: w.group.clone(),
                            pids,
                        };
                        if !nw.generated(ev) {
                            continue;
                        }
                        if consume {
                            if let Some(b) = irq_of(c) {
                                if nw.group.front() != Some(&b) {
                                    continue;
                                }
                                nw.group.pop_front();
                            }
                        }
                        let mut sig = self.fault_signature(&mut nw.model);
                        for q in [&nw.pending, &nw.owed, &nw.group] {
                            sig.extend(q.iter().map(|e| e.addr ^ (u64::from(e.data) << 32)));
                            sig.push(q.len() as u64);
                        }
                        for (a, b) in &nw.pids {
                            sig.push(a.0);
                            sig.extend(
                                b.chunks(8)
                                    .map(|q| u64::from_le_bytes(q.try_into().expect("8 bytes"))),
                            );
                        }
                        match fork.seen.iter().position(|x| *x == sig) {
                            Some(j) => {
                                // The DUT may be in either: keep what either may have cached.
                                // (Two variants of one world in one explanation cached alike.)
                                if fork.from[j] != fork.context || fork.parent[j] != wi {
                                    fork.next[j].model.absorb_cache(&nw.model);
                                }
                            }
                            None => {
                                fork.seen.push(sig);
                                fork.from.push(fork.context);
                                fork.parent.push(wi);
                                fork.next.push(nw);
                                if fork.next.len() >= MAX_WORLDS {
                                    fork.capped = true;
                                    break 'outer;
                                }
                            }
                        }
                    }
                    Err(x) => {
                        if self.trace {
                            eprintln!("[{}] a world refused {c:?}: {x}", self.sim.cycle());
                        }
                        fork.err = x.to_string()
                    }
                }
            }
        }
        self.write_pids(&shared);
        if fork.err.is_empty() && fork.next.is_empty() {
            fork.err = "no world allows the outcome".into();
        }
        if let (Some(i), Some(s)) = (via, snap) {
            self.pres[i].snap = s;
        }
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
        self.install(w, worlds);
    }

    /// Make `w` the golden model and `others` the other worlds. Shared model memory takes
    /// `w`'s posted-interrupt descriptors; every other world keeps its own where they differ.
    fn install(&mut self, mut w: World, mut others: Vec<World>) {
        let mut addrs: Vec<Hpa> = Vec::new();
        for x in others.iter().chain(std::iter::once(&w)) {
            for (a, _) in &x.pids {
                if !addrs.contains(a) {
                    addrs.push(*a);
                }
            }
        }
        if !addrs.is_empty() {
            // Worlds that name no contents for a descriptor share the memory's (until now).
            let shared = self.read_pids(&addrs);
            for x in others.iter_mut().chain(std::iter::once(&mut w)) {
                let mut full = shared.clone();
                overlay(&mut full, &x.pids);
                x.pids = full;
            }
            self.write_pids(&w.pids);
            for x in others.iter_mut() {
                x.pids
                    .retain(|(a, b)| w.pids.iter().any(|(y, c)| y == a && c != b));
            }
        }
        self.model = w.model;
        self.model_irqs = w.pending;
        self.group = w.group;
        self.alts = others;
    }

    /// Make alternative world `k` (which owes nothing) the golden model.
    fn promote(&mut self, k: usize) {
        let mut others = std::mem::take(&mut self.alts);
        let w = others.remove(k);
        others.push(World {
            model: self.model.clone(),
            pending: std::mem::take(&mut self.model_irqs),
            owed: VecDeque::new(),
            group: std::mem::take(&mut self.group),
            pids: Vec::new(),
        });
        self.install(w, others);
    }

    /// The shared model memory's posted-interrupt descriptors at `addrs`.
    fn read_pids(&self, addrs: &[Hpa]) -> Pids {
        addrs
            .iter()
            .map(|a| {
                let mut b = [0u8; 64];
                let _ = self.model_mem.read(*a, &mut b);
                (*a, b)
            })
            .collect()
    }

    fn write_pids(&mut self, pids: &[(Hpa, [u8; 64])]) {
        for (a, b) in pids {
            let _ = self.model_mem.write(*a, b);
        }
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
            if self.events_seen.len() >= EVENTS_KEPT {
                self.events_seen.pop_front();
            }
            self.events_seen.push_back(d);
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
            && self.held.is_empty()
            && self.sim.up_queued() == 0
            && self.sim.memsrv.outstanding() == 0
            && self.dut_irqs.is_empty()
            && self.model_irqs.is_empty();
        if quick && !settle {
            self.observe_pids();
            return;
        }
        loop {
            if self.failed() {
                return;
            }
            let idle = self.sim.idle_for();
            if self.pending.is_empty() && !self.held.is_empty() {
                self.resolve_held(0);
                continue;
            }
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
            if idle >= self.quiet && !self.held.is_empty() {
                self.resolve_held(self.pending.len());
                continue;
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
        self.observe_pids();
    }

    /// With nothing in flight, the DUT's memory shows every update of a posted-interrupt
    /// descriptor the unit made (PIR bit, ON): keep the worlds whose descriptors read the same
    /// (worlds that differ only there, e.g. a posting or a fault without record across an IRTE
    /// rewrite, would otherwise live on until software rewrites the descriptor), and fail if
    /// none does.
    fn observe_pids(&mut self) {
        if self.failed()
            || self.posted_pids.is_empty()
            || !self.pending.is_empty()
            || self.sim.memsrv.outstanding() != 0
        {
            return;
        }
        self.flush_edits();
        let mut dut: Pids = Vec::with_capacity(self.posted_pids.len());
        for a in &self.posted_pids {
            let mut b = [0u8; 64];
            let mut m = [0u8; 64];
            // An unreadable descriptor (an injected error) cannot have changed.
            if self.sim.mem.read(*a, &mut b).is_ok() && self.model_mem.read(*a, &mut m).is_ok() {
                dut.push((*a, b));
            }
        }
        let main = self.read_pids(&dut.iter().map(|(a, _)| *a).collect::<Vec<_>>());
        let agrees = |view: &Pids, over: &Pids| {
            view.iter().zip(&dut).all(|((a, v), (_, d))| {
                over.iter().find(|(x, _)| x == a).map_or(v, |(_, b)| b) == d
            })
        };
        let main_ok = agrees(&main, &Vec::new());
        if main_ok && self.alts.is_empty() {
            return;
        }
        let mut keep: Vec<World> = Vec::new();
        if main_ok {
            keep.push(World {
                model: self.model.clone(),
                pending: std::mem::take(&mut self.model_irqs),
                owed: VecDeque::new(),
                group: std::mem::take(&mut self.group),
                pids: Vec::new(),
            });
        }
        let before = 1 + self.alts.len();
        for a in std::mem::take(&mut self.alts) {
            if agrees(&main, &a.pids) {
                keep.push(a);
            }
        }
        if keep.is_empty() {
            if let Some(((a, m), (_, d))) = main.iter().zip(&dut).find(|(m, d)| m.1 != d.1) {
                let qwords = |b: &[u8; 64]| {
                    b.chunks(8)
                        .map(|q| {
                            format!(
                                "{:016x}",
                                u64::from_le_bytes(q.try_into().expect("8 bytes"))
                            )
                        })
                        .collect::<Vec<_>>()
                        .join(" ")
                };
                let (what, m, d) = (
                    format!("posted-interrupt descriptor at {:#x} (qwords 0..7)", a.0),
                    qwords(m),
                    qwords(d),
                );
                self.fail(what, None, format!("{m} (model)"), format!("{d} (DUT)"));
            }
            return;
        }
        if self.trace && keep.len() != before {
            eprintln!(
                "[{}] worlds {before} -> {} after reading the posted-interrupt descriptors",
                self.sim.cycle(),
                keep.len()
            );
        }
        self.set_worlds(keep);
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

    /// Send one request, run until it (and everything before it) retired, and return what the
    /// DUT did with it: the outcome (the model's member of the allowed set it matched), the
    /// beat as it left and its cycles. The first mismatch of the run, whenever it happened, is
    /// the error.
    #[allow(clippy::result_large_err)] // a mismatch ends the run: its size costs nothing
    pub fn send(&mut self, req: Request) -> Result<Egress, Mismatch> {
        self.check()?;
        self.log_egress = true;
        let tag = self.submit(req);
        self.drain(false);
        self.log_egress = false;
        let e = self.retired.iter().rev().find(|e| e.tag == tag).copied();
        self.retired.clear();
        self.check()?;
        e.ok_or_else(|| Mismatch {
            seed: self.seed,
            config: self.config(),
            cycle: self.sim.cycle(),
            what: "the request did not retire".to_string(),
            tag: Some(tag),
            request: Some(req),
            expected: "an outcome".to_string(),
            actual: "none".to_string(),
        })
    }

    /// The unit's own interrupt messages (fault events, invalidation-completion events) since
    /// the last call, oldest first, once the DUT has settled: each was sent by the DUT and
    /// matched the model's (at most the last 65,536 are kept).
    #[allow(clippy::result_large_err)] // a mismatch ends the run: its size costs nothing
    pub fn take_events(&mut self) -> Result<Vec<Msi>, Mismatch> {
        self.drain(true);
        self.check()?;
        Ok(self.events_seen.drain(..).collect())
    }

    /// The first mismatch of the run, if there was one.
    #[allow(clippy::result_large_err)] // a mismatch ends the run: its size costs nothing
    pub fn check(&self) -> Result<(), Mismatch> {
        match self.failures.first() {
            Some(m) => Err(m.clone()),
            None => Ok(()),
        }
    }

    /// The golden model's copy of host memory (read-only: edit memory through
    /// [`Platform::mem`], and the scoreboard applies the edit to both copies).
    pub fn model_memory(&mut self) -> &HostMemory {
        self.flush_edits();
        &self.model_mem
    }

    /// The model runs the invalidation queue synchronously at the IQT (or QIE) write; the DUT
    /// fetches and executes descriptors over many cycles. Tick (with all other traffic) until the
    /// DUT's queue shows what the model's does: the same IQH and the same FSTS.IQE (the DUT
    /// advances IQH only once a descriptor has completed, including its drain and status write).
    /// A DUT that never gets there is a mismatch, reported after `bound` cycles.
    fn qi_catch_up(&mut self) -> Result<(), PlatformError> {
        let want_iqh = self.model.reg_read(&mut self.model_mem, IQH_REG, 8)?;
        let want_iqe = self.model.reg_read(&mut self.model_mem, FSTS_REG, 4)? & FSTS_IQE;
        let tail = self.model.reg_read(&mut self.model_mem, IQT_REG, 8)?;
        let what = format!(
            "invalidation queue did not reach the model's state within {} cycles of the IQT write (IQT {tail:#x})",
            self.bound
        );
        self.catch_up(
            (want_iqh, want_iqe),
            |sim, b| {
                let iqh = sim.csr_access(false, IQH_REG, 8, 0, b)?;
                let iqe = sim.csr_access(false, FSTS_REG, 4, 0, b)? & FSTS_IQE;
                Ok((iqh, iqe))
            },
            |(iqh, iqe)| format!("IQH {iqh:#x}, FSTS.IQE {}", *iqe != 0),
            what,
        )
    }

    /// Read a register from the DUT only (no model comparison), e.g. a micro-architectural counter.
    pub fn dut_reg_read(&mut self, offset: u16, size: u8) -> Result<u64, PlatformError> {
        self.flush_edits();
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
    /// A member of an ambiguous interrupt group: one of the group's beats, or nothing.
    Maybe,
}

/// The message an outcome sends on the irq channel, if any (a remapped interrupt, or a posting's
/// notification).
fn irq_of(o: &Outcome) -> Option<Msi> {
    match o {
        Outcome::Interrupt { msi } => Some(*msi),
        Outcome::Posted {
            notify: Some(n), ..
        } => Some(*n),
        _ => None,
    }
}

/// May an outcome of `a` be an interrupt request's (remapped, unchanged or posted)?
fn irq_capable(a: &Allowed) -> bool {
    a.iter()
        .any(|o| matches!(o, Outcome::Interrupt { .. } | Outcome::Posted { .. }))
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

impl Lockstep {
    /// Does reading `offset` show state that depends on which requests in flight have retired
    /// (fault recording, the fault event, counters)? Such reads are made with the DUT drained.
    fn retire_dependent(&self, offset: u16) -> bool {
        let cfg = self.model.config();
        let base = cfg.frcd_base() as u16;
        let end = base + 16 * cfg.num_fault_records() as u16;
        offset == 0x038 || (base..end).contains(&offset) || (0x300..0x360).contains(&offset)
    }

    /// May a write at `offset` of `size` bytes race requests in flight? Invalidation commands
    /// (CCMD, IVA/IOTLB_REG, IQT) and ICS do; everything else (mode changes, pointers, fault
    /// handling) is made with the DUT drained.
    fn racing_write(&self, offset: u16) -> bool {
        let iva = self.model.config().iva_offset() as u16;
        matches!(offset, 0x028 | 0x02C | IQT_REG | 0x09C) || (iva..iva + 16).contains(&offset)
    }

    /// The register (8-byte aligned) whose bit 63 a write at `offset` of `size` bytes sets to
    /// start a register-based invalidation (CCMD.ICC, IOTLB_REG.IVT), if any.
    fn invalidation_command(&self, offset: u16, size: u8) -> Option<u16> {
        let iotlb = self.model.config().iva_offset() as u16 + 8;
        [0x028, iotlb]
            .into_iter()
            .find(|r| (offset == *r && size == 8) || offset == r + 4)
    }

    /// After a register-based invalidation command: tick (with all other traffic) until the DUT
    /// reads the command register as the model does (ICC / IVT clear once it has drained).
    fn reg_catch_up(&mut self, reg: u16) -> Result<(), PlatformError> {
        let want = self.model.reg_read(&mut self.model_mem, reg, 8)?;
        let what = format!(
            "register-based invalidation at {reg:#05x} not complete within {} cycles",
            self.bound
        );
        self.catch_up(
            want,
            |sim, b| sim.csr_access(false, reg, 8, 0, b),
            |v| format!("{v:#x}"),
            what,
        )
    }

    /// Read the DUT with `read` (csr accesses, so the clock and all other traffic advance)
    /// until it shows `want`; a DUT that does not within `bound` cycles is a mismatch `what`.
    fn catch_up<T: PartialEq>(
        &mut self,
        want: T,
        mut read: impl FnMut(&mut Sim, u64) -> Result<T, PlatformError>,
        show: impl Fn(&T) -> String,
        what: String,
    ) -> Result<(), PlatformError> {
        let start = self.sim.cycle();
        loop {
            let d = read(&mut self.sim, self.csr_bound)?;
            self.process();
            if d == want || self.failed() {
                return Ok(());
            }
            if self.sim.cycle() - start > self.bound {
                self.fail(what, None, show(&want), show(&d));
                return Ok(());
            }
        }
    }
}

impl Platform for Lockstep {
    fn reg_read(&mut self, offset: u16, size: u8) -> Result<u64, PlatformError> {
        let r = self.csr_read(offset, size);
        self.strict_result(r)
    }

    fn reg_write(&mut self, offset: u16, size: u8, value: u64) -> Result<(), PlatformError> {
        let r = self.csr_write(offset, size, value);
        self.strict_result(r)
    }

    /// The host memory a test or the OS driver edits: the DUT's, journaled, with every change
    /// applied to the model's copy before the next step.
    fn mem(&mut self) -> &mut HostMemory {
        self.flush_edits();
        self.sim.mem.start_journal();
        &mut self.sim.mem
    }
}

impl Lockstep {
    /// With [`Lockstep::strict`], a mismatch (now or earlier) turns the result into an error.
    fn strict_result<T>(&self, r: Result<T, PlatformError>) -> Result<T, PlatformError> {
        match (self.strict, self.failures.first()) {
            (true, Some(m)) => Err(PlatformError::Mismatch(m.to_string())),
            _ => r,
        }
    }

    fn csr_read(&mut self, offset: u16, size: u8) -> Result<u64, PlatformError> {
        check_access(offset, size)?;
        self.flush_edits();
        if self.retire_dependent(offset) {
            self.drain(false);
        }
        // FSTS with requests in flight: PPF, PFO and FRI depend on which of them have retired;
        // the queued-invalidation error bits (IQE, ICE, ITE) do not.
        let mask: u64 = if offset == FSTS_REG && !self.pending.is_empty() {
            0x70
        } else {
            u64::MAX
        };
        self.stats.reg_accesses += 1;
        let d = self
            .sim
            .csr_access(false, offset, size, 0, self.csr_bound)?;
        self.process();
        let m = self.model.reg_read(&mut self.model_mem, offset, size)?;
        self.log_step(Step::Read {
            offset,
            size,
            value: d,
            mask: 0,
        });
        if self.trace {
            eprintln!(
                "[{}] reg read {offset:#05x} size {size}: DUT {d:#x}, model {m:#x}",
                self.sim.cycle()
            );
        }
        if !micro_arch(offset) && (d & mask != m & mask || !self.alts.is_empty()) {
            // Keep only the worlds that read what the DUT read.
            let before = 1 + self.alts.len();
            let mut keep: Vec<World> = Vec::new();
            if d & mask == m & mask {
                keep.push(World {
                    model: self.model.clone(),
                    pending: std::mem::take(&mut self.model_irqs),
                    owed: VecDeque::new(),
                    group: std::mem::take(&mut self.group),
                    pids: Vec::new(),
                });
            }
            for mut a in std::mem::take(&mut self.alts) {
                if a.model
                    .reg_read(&mut self.model_mem, offset, size)
                    .ok()
                    .is_some_and(|v| v & mask == d & mask)
                {
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
                        "[{}] worlds {before} -> {} after the read of {offset:#05x}",
                        self.sim.cycle(),
                        keep.len()
                    );
                }
                self.set_worlds(keep);
            }
        }
        self.take_model_events();
        Ok(d)
    }

    fn csr_write(&mut self, offset: u16, size: u8, value: u64) -> Result<(), PlatformError> {
        check_access(offset, size)?;
        self.flush_edits();
        if !self.racing_write(offset) {
            self.drain(false);
        }
        self.process();
        // What the unit may still serve until the DUT shows this write's invalidations complete
        // (only invalidation commands and the queue tail invalidate; the other writes made here
        // with requests in flight, IVA and ICS, do not).
        let reg_command = self.invalidation_command(offset, size);
        let may_invalidate = reg_command.is_some() || offset == IQT_REG;
        // Every world's caches: the DUT may hold what any of them does.
        let snap = (may_invalidate && !self.pending.is_empty()).then(|| {
            let mut s = self.model.cache_snapshot();
            for a in &self.alts {
                s.merge(&a.model.cache_snapshot());
            }
            s
        });
        self.stats.reg_accesses += 1;
        self.log_step(Step::Write {
            offset,
            size,
            value,
        });
        self.sim
            .csr_access(true, offset, size, value, self.csr_bound)?;
        if self.trace {
            eprintln!(
                "[{}] reg write {offset:#05x} size {size} = {value:#x}",
                self.sim.cycle()
            );
        }
        self.model
            .reg_write(&mut self.model_mem, offset, size, value)?;
        let mut alts = std::mem::take(&mut self.alts);
        for a in alts.iter_mut() {
            a.model
                .reg_write(&mut self.model_mem, offset, size, value)?;
            a.model.take_invalidations();
        }
        alts.retain_mut(|a| {
            let ev = a.model.take_events();
            a.generated(ev)
        });
        self.alts = alts;
        let invs = self.model.take_invalidations();
        let opened = !invs.is_empty();
        if self.trace && opened {
            eprintln!("[{}] the model invalidated {invs:x?}", self.sim.cycle());
        }
        if let Some(c) = self.coverage.as_deref_mut() {
            for inv in &invs {
                c.invalidation(inv, offset == IQT_REG, snap.is_some());
            }
        }
        if opened {
            let before = self.epoch;
            self.epoch += 1;
            for inv in invs {
                self.invals.push((self.epoch, inv));
            }
            if let Some(snap) = snap {
                self.stats.racing_invalidations += 1;
                self.pres.push(Pre {
                    epoch: before,
                    snap,
                    end_seq: None,
                });
            }
        }
        self.take_model_events();
        self.process();
        if self.model.config().ecap.qi && (offset == IQT_REG || offset == 0x018) {
            self.qi_catch_up()?;
        } else if let Some(reg) = reg_command {
            self.reg_catch_up(reg)?;
        }
        if opened {
            let end = self.next_accept_seq();
            for p in self.pres.iter_mut().filter(|p| p.end_seq.is_none()) {
                p.end_seq = Some(end);
            }
        }
        self.prune();
        Ok(())
    }
}

/// The co-simulation [`Platform`]: register accesses go through the DUT's csr port (advancing the
/// clock, bounded) and to the golden model; see [`Lockstep`].
pub type CosimPlatform = Lockstep;
