//! The upstream request path: classification, DMA remapping (spec A8 with decisions.md) and the
//! allowed-set enumeration over cache observations (decisions.md "Caching and the scoreboard").
//!
//! Request-path decisions (model_shared.md):
//! - Malformed TLP (decode error): UR completion if non-posted, drop if posted, malformed
//!   counter + 1, no fault record. A header is taken as posted (PCIe: MWr and all messages)
//!   when Fmt is not a prefix (0xx) and Type is MWr (00000 with data) or a message (10rrr, with
//!   or without data: Msg with Fmt 001 is posted too); anything else that fails to decode gets
//!   UR.
//! - Interrupt window: AT=00 and address in 0xFEE0_0000..=0xFEEF_FFFF with upper 32 bits 0. MRd /
//!   atomics get UR without a fault; MWr goes to interrupt remapping (`ir`), whatever TE says.
//! - TE=0: DMA forwarded unchanged. Latched TTM != 00: every DMA faults 30h (not qualified).
//! - Root (8h read error, 1h, Ah), context (9h, 2h with FPD taken from the entry even when P=0,
//!   Bh), TT (3h: TT=11, TT=01 with DT=0, TT=10 without PT), AT=01/10 with TT != 01 (Dh), AW not
//!   in SAGAW (3h). TT=10: output = input, no address-width check, no IOTLB.
//! - Address width 4h if addr >= 2^min(MGAW+1, AGAW). Walk: top-level read error 3h, lower 7h;
//!   per level permission (5h write / 6h read; atomics need W then R) before reserved bits (Ch);
//!   leaf at level 1 or PS=1; output masked to the page size; output page overlapping the
//!   interrupt window Eh.
//! - Faulting read/atomic: completion CA if the fault is a table read error (7h, 8h, 9h, and 3h
//!   from an unreadable SLPTPTR), else UR; faulting write: drop.
//! - FRCD: FI = page address, T = 1 for reads and atomics, AT = request AT, SID = requester ID.

use super::cache::{SlKey, SlVal};
use super::{gsts, Allowed, Model, ModelConfig, ModelError, Outcome, PendingFault, Request};
use crate::mem::HostMemory;
use crate::tlp::{self, CplStatus};
use crate::types::{Hpa, Iova, Rid};
use crate::vtd::context::{ContextEntry, TranslationType};
use crate::vtd::fault::FaultReason;
use crate::vtd::regs::RtAddr;
use crate::vtd::root::RootEntry;
use crate::vtd::slpte::{self, SlPte};

const IRQ_WINDOW_LO: u64 = 0xFEE0_0000;
const IRQ_WINDOW_END: u64 = 0xFEF0_0000;

/// Precomputed SL PTE reserved masks: `sl[level][ps]` (A7 + decisions.md via `vtd::slpte`).
#[derive(Clone, Debug)]
pub(crate) struct Masks {
    sl: [[u64; 2]; 6],
    root: u128,
    ctx: u128,
}

impl Masks {
    pub(crate) fn new(cfg: &ModelConfig) -> Masks {
        let (cap, ecap) = (&cfg.cap, &cfg.ecap);
        let mut sl = [[0u64; 2]; 6];
        for (level, m) in sl.iter_mut().enumerate().skip(1) {
            let level = level as u8;
            m[0] = slpte::reserved_mask(level, false, cfg.haw, cap, ecap);
            m[1] = slpte::reserved_mask(level, level == 2 || level == 3, cfg.haw, cap, ecap);
        }
        Masks {
            sl,
            root: RootEntry::reserved_mask(cfg.haw),
            ctx: ContextEntry::reserved_mask(cfg.haw, cap.domain_id_bits()),
        }
    }
}

/// What a request needs from the translation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Access {
    Read,
    Write,
    /// Atomic operations need both R and W.
    Atomic,
}

impl Access {
    /// The fault for an entry (or cached permissions) with `r`/`w`, if the access is not allowed.
    fn denied(self, r: bool, w: bool) -> Option<FaultReason> {
        match self {
            Access::Read if !r => Some(FaultReason::ReadNotPermitted),
            Access::Write | Access::Atomic if !w => Some(FaultReason::WriteNotPermitted),
            Access::Atomic if !r => Some(FaultReason::ReadNotPermitted),
            _ => None,
        }
    }
}

/// A decoded DMA request.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Dma {
    pub rid: Rid,
    pub addr: u64,
    pub at: u8,
    pub access: Access,
}

impl Dma {
    fn posted(&self) -> bool {
        self.access == Access::Write
    }
}

/// Where a request goes.
pub(crate) enum Class {
    Malformed {
        posted: bool,
    },
    /// MRd / atomic to the interrupt window: UR, no fault.
    WindowRead,
    /// MWr to the interrupt window: interrupt remapping.
    Interrupt(tlp::RequestHeader),
    Dma(Dma),
}

/// A fault as a path produces it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct FaultInfo {
    pub code: u8,
    pub qualified: bool,
    pub fpd: bool,
}

/// One way the unit may handle a DMA request: the outcome, the fault to record, and the
/// cacheable items read from memory on the way (observed when the path is committed).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Path {
    pub outcome: Outcome,
    pub fault: Option<FaultInfo>,
    pub root: Option<(u8, u128)>,
    pub ctx: Option<(Rid, u128)>,
    pub nonleaf: [Option<(SlKey, SlVal)>; 4],
    pub leaf: Option<(SlKey, SlVal)>,
    /// Memory reads made on the path (for the walk-read counter).
    pub reads: u32,
    /// A second-level walk took place (for the walk counters).
    pub walked: bool,
    /// The context entry was read from memory (for the context-miss counter).
    pub ctx_read: bool,
    /// Levels of the second-level table walked (0 when no walk took place).
    pub levels: u8,
}

impl Path {
    fn new(outcome: Outcome) -> Path {
        Path {
            outcome,
            fault: None,
            root: None,
            ctx: None,
            nonleaf: [None; 4],
            leaf: None,
            reads: 0,
            walked: false,
            ctx_read: false,
            levels: 0,
        }
    }
}

/// A usable context: the decoded entry plus the observations made getting it.
#[derive(Clone, Copy)]
struct Ctx {
    ce: ContextEntry,
    raw: u128,
    root: Option<(u8, u128)>,
    /// Observe the context entry when committed (it came from memory).
    from_mem: bool,
    reads: u32,
}

/// Per-level record of a memory walk from the top: the non-leaf value read at each level and the
/// leaf, to recognise observations that would give the same result.
#[derive(Default)]
struct WalkTrace {
    nonleaf: [Option<SlVal>; 6],
    leaf: Option<(u8, SlVal)>,
}

fn fault_outcome(posted: bool, reason: Option<FaultReason>, table_err: bool) -> Outcome {
    if posted {
        Outcome::Drop { fault: reason }
    } else {
        Outcome::Complete {
            status: if table_err {
                CplStatus::Ca
            } else {
                CplStatus::Ur
            },
            fault: reason,
        }
    }
}

fn fault_path(r: &Dma, reason: FaultReason, table_err: bool, fpd: bool) -> Path {
    let mut p = Path::new(fault_outcome(r.posted(), Some(reason), table_err));
    p.fault = Some(FaultInfo {
        code: reason.code(),
        qualified: reason.is_qualified(),
        fpd,
    });
    p
}

fn in_window(page: u64, size: u64) -> bool {
    page < IRQ_WINDOW_END && IRQ_WINDOW_LO < page.saturating_add(size)
}

impl Model {
    /// Decode and route a request (see the module doc).
    pub(crate) fn classify(&self, req: &Request) -> Class {
        let hdr = match tlp::RequestHeader::decode(&req.hdr) {
            Ok(h) => h,
            Err(_) => {
                let dw0 = req.hdr[0];
                let fmt = dw0 >> 29;
                let ty = (dw0 >> 24) & 0x1F;
                let has_data = fmt & 0b010 != 0;
                let posted = fmt & 0b100 == 0 && ((ty == 0 && has_data) || ty & 0b11000 == 0b10000);
                return Class::Malformed { posted };
            }
        };
        let access = match hdr.kind {
            tlp::RequestKind::MemRead | tlp::RequestKind::MemReadLocked => Access::Read,
            tlp::RequestKind::MemWrite => Access::Write,
            _ => Access::Atomic,
        };
        let addr = hdr.address;
        if hdr.at == 0 && (IRQ_WINDOW_LO..IRQ_WINDOW_END).contains(&addr) {
            return if access == Access::Write {
                Class::Interrupt(hdr)
            } else {
                Class::WindowRead
            };
        }
        Class::Dma(Dma {
            rid: hdr.requester_id,
            addr,
            at: hdr.at,
            access,
        })
    }

    /// Fresh context lookup (A8 steps 4-6) through the latched root table, or through the
    /// observed root entry `stale_root` when given. (The error is a whole [`Path`] on purpose:
    /// it is the common currency of the enumeration, and boxing it would allocate on the hot
    /// path.)
    #[allow(clippy::result_large_err)]
    fn context_from_memory(
        &self,
        mem: &HostMemory,
        r: &Dma,
        stale_root: Option<u128>,
    ) -> Result<Ctx, Path> {
        let mut reads = 0;
        let (root_raw, root_obs) = match stale_root {
            Some(raw) => (raw, None),
            None => {
                let rta = RtAddr::decode(self.rta_latched).rta;
                reads += 1;
                let raw = match mem.read_u128(RootEntry::entry_addr(rta, r.rid)) {
                    Ok(v) => v,
                    Err(_) => {
                        return Err(fault_path(r, FaultReason::RootTableReadError, true, false))
                    }
                };
                if raw & 1 == 0 {
                    return Err(fault_path(
                        r,
                        FaultReason::RootEntryNotPresent,
                        false,
                        false,
                    ));
                }
                if raw & self.masks.root != 0 {
                    return Err(fault_path(r, FaultReason::RootEntryReserved, false, false));
                }
                (raw, Some((r.rid.bus(), raw)))
            }
        };
        let root = RootEntry::decode(root_raw);
        reads += 1;
        let with_root = |mut p: Path| {
            p.root = root_obs;
            p.reads = reads;
            p.ctx_read = true;
            p
        };
        let raw = match mem.read_u128(ContextEntry::entry_addr(root.ctp, r.rid)) {
            Ok(v) => v,
            Err(_) => {
                return Err(with_root(fault_path(
                    r,
                    FaultReason::ContextTableReadError,
                    true,
                    false,
                )))
            }
        };
        let ce = ContextEntry::decode(raw);
        if !ce.present {
            return Err(with_root(fault_path(
                r,
                FaultReason::ContextEntryNotPresent,
                false,
                ce.fpd,
            )));
        }
        if raw & self.masks.ctx != 0 {
            return Err(with_root(fault_path(
                r,
                FaultReason::ContextEntryReserved,
                false,
                ce.fpd,
            )));
        }
        Ok(Ctx {
            ce,
            raw,
            root: root_obs,
            from_mem: true,
            reads,
        })
    }

    /// A8 step 6: TT / AT / AW checks of a present, reserved-clean context entry.
    /// Returns the fault and whether the entry itself is invalid (not cacheable).
    fn ctx_check(&self, ce: &ContextEntry, at: u8) -> Result<(), (FaultReason, bool)> {
        let tt_ok = match ce.tt {
            TranslationType::Untranslated => true,
            TranslationType::DevTlb => self.cfg.ecap.dt,
            TranslationType::PassThrough => self.cfg.ecap.pt,
            TranslationType::Reserved => false,
        };
        if !tt_ok {
            return Err((FaultReason::InvalidContextEntry, true));
        }
        // AW 1xx is reserved whatever SAGAW says (levels stay <= 5).
        let aw_ok = ce.aw <= 3 && (self.cfg.cap.sagaw >> ce.aw) & 1 == 1;
        if at != 0 && ce.tt != TranslationType::DevTlb {
            // The entry is valid (if its AW is); the request type is what is blocked.
            return Err((FaultReason::TranslationRequestBlocked, !aw_ok));
        }
        if !aw_ok {
            return Err((FaultReason::InvalidContextEntry, true));
        }
        Ok(())
    }

    /// Enumerate every way the unit may handle DMA request `r` (fresh path first), calling `f`
    /// on each until it returns true. Returns whether `f` stopped the enumeration.
    pub(crate) fn dma_paths(
        &self,
        mem: &HostMemory,
        r: &Dma,
        f: &mut dyn FnMut(&Path) -> bool,
    ) -> bool {
        if self.gsts & gsts::TES == 0 {
            return f(&Path::new(Outcome::Forward { addr: Hpa(r.addr) }));
        }
        if let Some(p) = self.ttm_fault(r) {
            return f(&p);
        }
        // Fresh context (root and context from memory).
        let fresh = self.context_from_memory(mem, r, None);
        let fresh_root = fresh.as_ref().ok().and_then(|c| c.root.map(|x| x.1));
        let fresh_ctx_raw = fresh.as_ref().ok().map(|c| c.raw);
        match fresh {
            Ok(c) => {
                if self.ctx_paths(mem, r, &c, f) {
                    return true;
                }
            }
            Err(p) => {
                if f(&p) {
                    return true;
                }
            }
        }
        // Observed (possibly stale) root entries of the bus, context read from memory.
        for &root in self.cache.roots(r.rid.bus()) {
            if Some(root) == fresh_root {
                continue;
            }
            match self.context_from_memory(mem, r, Some(root)) {
                Ok(c) => {
                    if Some(c.raw) != fresh_ctx_raw && self.ctx_paths(mem, r, &c, f) {
                        return true;
                    }
                }
                Err(p) => {
                    if f(&p) {
                        return true;
                    }
                }
            }
        }
        // Observed (possibly stale) context entries of the source ID.
        for &raw in self.cache.ctxs(r.rid) {
            if Some(raw) == fresh_ctx_raw {
                continue;
            }
            let c = Ctx {
                ce: ContextEntry::decode(raw),
                raw,
                root: None,
                from_mem: false,
                reads: 0,
            };
            if self.ctx_paths(mem, r, &c, f) {
                return true;
            }
        }
        false
    }

    /// The path through context `c` with everything after it read from memory (A8 steps 6-9).
    /// Its `walked` says whether a second-level walk was reached (only then can observed SL
    /// entries give other outcomes). (One `Path` is returned, not a tuple, so that the large
    /// value is built in place rather than copied on the hot path.)
    fn ctx_memory_path(
        &self,
        mem: &HostMemory,
        r: &Dma,
        c: &Ctx,
        trace: Option<&mut WalkTrace>,
    ) -> Path {
        let ce = &c.ce;
        let base = |mut p: Path, valid: bool| {
            p.root = c.root;
            if c.from_mem && valid {
                p.ctx = Some((r.rid, c.raw));
            }
            p.ctx_read = c.from_mem;
            p.reads += c.reads;
            p
        };
        if let Err((reason, invalid)) = self.ctx_check(ce, r.at) {
            return base(fault_path(r, reason, false, ce.fpd), !invalid);
        }
        if ce.tt == TranslationType::PassThrough {
            return base(Path::new(Outcome::Forward { addr: Hpa(r.addr) }), true);
        }
        let width = (self.cfg.cap.mgaw as u32 + 1).min(ce.agaw_bits() as u32);
        if width < 64 && r.addr >> width != 0 {
            let p = fault_path(r, FaultReason::AddressBeyondAgaw, false, ce.fpd);
            return base(p, true);
        }
        let mut p = self.walk(
            mem,
            r,
            ce,
            ce.levels(),
            ce.slptptr.0,
            true,
            true,
            true,
            trace,
        );
        debug_assert!(p.walked);
        p.levels = ce.levels();
        base(p, true)
    }

    /// The fresh path of DMA request `r` (current memory only, no observation used).
    pub(crate) fn fresh_dma_path(&self, mem: &HostMemory, r: &Dma) -> Path {
        if self.gsts & gsts::TES == 0 {
            return Path::new(Outcome::Forward { addr: Hpa(r.addr) });
        }
        if let Some(p) = self.ttm_fault(r) {
            return p;
        }
        match self.context_from_memory(mem, r, None) {
            Ok(c) => self.ctx_memory_path(mem, r, &c, None),
            Err(p) => p,
        }
    }

    /// Latched TTM != 00: every DMA faults 30h.
    fn ttm_fault(&self, r: &Dma) -> Option<Path> {
        if RtAddr::decode(self.rta_latched).ttm == 0 {
            return None;
        }
        Some(fault_path(
            r,
            FaultReason::InvalidRootTableType,
            false,
            false,
        ))
    }

    /// Every path through context `c`: the memory walk from the top, then walks starting from
    /// observed non-leaf entries, then observed leaves (IOTLB hits); observations that match what
    /// the memory walk read are skipped (same outcome).
    fn ctx_paths(
        &self,
        mem: &HostMemory,
        r: &Dma,
        c: &Ctx,
        f: &mut dyn FnMut(&Path) -> bool,
    ) -> bool {
        let ce = &c.ce;
        let mut trace = WalkTrace::default();
        let p = self.ctx_memory_path(mem, r, c, Some(&mut trace));
        if f(&p) {
            return true;
        }
        if !p.walked {
            return false;
        }
        let base = |mut p: Path| {
            p.root = c.root;
            if c.from_mem {
                p.ctx = Some((r.rid, c.raw));
            }
            p.ctx_read = c.from_mem;
            p.reads += c.reads;
            p
        };
        let levels = ce.levels();
        let did = ce.did;
        for level in (2..=levels).rev() {
            for nl in self.cache.nonleaf.get(SlKey::new(did, level, r.addr)) {
                if trace.nonleaf[level as usize] == Some(nl) {
                    continue;
                }
                let p = match r.access.denied(nl.r(), nl.w()) {
                    Some(reason) => fault_path(r, reason, false, ce.fpd),
                    None => self.walk(
                        mem,
                        r,
                        ce,
                        level - 1,
                        nl.addr(),
                        nl.r(),
                        nl.w(),
                        false,
                        None,
                    ),
                };
                if f(&base(p)) {
                    return true;
                }
            }
        }
        for level in 1..=3u8 {
            for lf in self.cache.leaf.get(SlKey::new(did, level, r.addr)) {
                if trace.leaf == Some((level, lf)) {
                    continue;
                }
                let p = match r.access.denied(lf.r(), lf.w()) {
                    Some(reason) => fault_path(r, reason, false, ce.fpd),
                    None => {
                        let off = r.addr & (slpte::level_page_size(level) - 1);
                        Path::new(Outcome::Forward {
                            addr: Hpa(lf.addr() | off),
                        })
                    }
                };
                if f(&base(p)) {
                    return true;
                }
            }
        }
        false
    }

    /// Second-level walk (A8 step 8) from `level` in `table`, with permissions `acc_r`/`acc_w`
    /// AND-ed from the levels above. `top`: this is the SLPTPTR table (a read error is 3h).
    #[allow(clippy::too_many_arguments)]
    fn walk(
        &self,
        mem: &HostMemory,
        r: &Dma,
        ce: &ContextEntry,
        mut level: u8,
        mut table: u64,
        mut acc_r: bool,
        mut acc_w: bool,
        mut top: bool,
        mut trace: Option<&mut WalkTrace>,
    ) -> Path {
        let iova = Iova(r.addr);
        let did = ce.did;
        let mut nonleaf: [Option<(SlKey, SlVal)>; 4] = [None; 4];
        let mut n = 0;
        let mut reads = 0;
        let finish = |mut p: Path, nonleaf: [Option<(SlKey, SlVal)>; 4], reads: u32| {
            p.nonleaf = nonleaf;
            p.reads = reads;
            p.walked = true;
            p
        };
        loop {
            reads += 1;
            let raw = match mem.read_u64(slpte::sl_entry_addr(Hpa(table), iova, level)) {
                Ok(v) => v,
                Err(_) => {
                    let reason = if top {
                        FaultReason::InvalidContextEntry
                    } else {
                        FaultReason::SlTableReadError
                    };
                    return finish(fault_path(r, reason, true, ce.fpd), nonleaf, reads);
                }
            };
            top = false;
            let pte = SlPte::decode(raw);
            if let Some(reason) = r.access.denied(pte.r, pte.w) {
                return finish(fault_path(r, reason, false, ce.fpd), nonleaf, reads);
            }
            if raw & self.masks.sl[level as usize][pte.ps as usize] != 0 {
                return finish(
                    fault_path(r, FaultReason::SlEntryReserved, false, ce.fpd),
                    nonleaf,
                    reads,
                );
            }
            acc_r &= pte.r;
            acc_w &= pte.w;
            if pte.is_leaf(level) {
                let out = slpte::leaf_output(pte.addr, iova, level);
                let size = slpte::level_page_size(level);
                let page = out.0 & !(size - 1);
                if in_window(page, size) {
                    return finish(
                        fault_path(r, FaultReason::OutputInInterruptRange, false, ce.fpd),
                        nonleaf,
                        reads,
                    );
                }
                let leaf = SlVal::new(page, acc_r, acc_w);
                if let Some(t) = trace.as_deref_mut() {
                    t.leaf = Some((level, leaf));
                }
                let mut p = Path::new(Outcome::Forward { addr: out });
                p.leaf = Some((SlKey::new(did, level, r.addr), leaf));
                return finish(p, nonleaf, reads);
            }
            let nl = SlVal::new(pte.addr.0, acc_r, acc_w);
            if let Some(t) = trace.as_deref_mut() {
                t.nonleaf[level as usize] = Some(nl);
            }
            if n < 4 {
                nonleaf[n] = Some((SlKey::new(did, level, r.addr), nl));
                n += 1;
            }
            table = pte.addr.0;
            level -= 1;
        }
    }

    /// Apply the side effects of DMA path `p` (fault recording, observations, counters).
    pub(crate) fn commit_dma_path(&mut self, r: &Dma, p: &Path) {
        if let Some(fi) = p.fault {
            self.record_fault_raw(
                fi.code,
                fi.qualified,
                &PendingFault {
                    // Placeholder reason for the typed field; the raw code is what is logged.
                    reason: FaultReason::from_code(fi.code)
                        .unwrap_or(FaultReason::InvalidContextEntry),
                    sid: r.rid,
                    fi: r.addr & !0xFFF,
                    t_read: r.access != Access::Write,
                    t2: r.access == Access::Atomic,
                    at: r.at,
                    fpd: fi.fpd,
                },
            );
        }
        self.observe_path(p);
        if p.walked {
            self.counters.iotlb_lookups += 1;
            self.counters.iotlb_misses += 1;
            self.counters.page_walks += 1;
        }
        if p.ctx_read {
            self.counters.ctx_misses += 1;
        }
        self.counters.walk_reads += p.reads as u64;
    }

    /// Observe the cacheable items path `p` read from memory.
    /// They go to the observation sink instead while one is set ([`Model::commit_variant_after`]).
    fn observe_path(&mut self, p: &Path) {
        let cache = match self.sink.as_deref_mut() {
            Some(s) => &mut s.cache,
            None => &mut self.cache,
        };
        if let Some((bus, raw)) = p.root {
            cache.observe_root(bus, raw);
        }
        if let Some((sid, raw)) = p.ctx {
            cache.observe_ctx(sid, raw);
        }
        for (k, v) in p.nonleaf.iter().flatten() {
            cache.nonleaf.insert(*k, *v);
        }
        if let Some((k, v)) = p.leaf {
            cache.leaf.insert(k, v);
        }
    }

    /// The allowed outcomes of DMA request `r`.
    fn dma_allowed(&self, mem: &HostMemory, r: &Dma) -> Allowed {
        let mut set: Option<Allowed> = None;
        self.dma_paths(mem, r, &mut |p| {
            match &mut set {
                None => set = Some(Allowed::one(p.outcome)),
                Some(s) => {
                    s.insert(p.outcome);
                }
            }
            false
        });
        // dma_paths always yields at least the fresh path.
        set.unwrap_or_else(|| Allowed::one(Outcome::Drop { fault: None }))
    }

    /// Pure: the set of outcomes the spec and decisions.md allow for this request right now.
    /// The first member ([`Allowed::fresh`]) is computed from current memory alone.
    pub fn evaluate(&self, mem: &HostMemory, req: &Request) -> Allowed {
        match self.classify(req) {
            Class::Malformed { posted } => Allowed::one(fault_outcome(posted, None, false)),
            Class::WindowRead => Allowed::one(fault_outcome(false, None, false)),
            Class::Interrupt(hdr) => self.ir_evaluate(mem, hdr.requester_id, &hdr, req.data0),
            Class::Dma(r) => self.dma_allowed(mem, &r),
        }
    }

    /// Apply the side effects of `outcome`, which the DUT produced for `req` and which must be
    /// in [`Model::evaluate`]'s set: fault recording, posted-interrupt update, cache bookkeeping.
    pub fn commit(
        &mut self,
        mem: &mut HostMemory,
        req: &Request,
        outcome: &Outcome,
    ) -> Result<(), ModelError> {
        self.commit_variant(mem, req, outcome, 0)
    }

    /// In how many ways committing `outcome` may change the fault registers. Usually 1; 2 when
    /// the DUT may have produced the same outcome through entries that differ in fault
    /// qualification (e.g. a stale cached IRTE or context entry with FPD=1 while the entry in
    /// memory has FPD=0): one variant records the fault, the other does not. The ports cannot
    /// tell them apart, so a scoreboard keeps one world per variant until a register read does.
    /// 0 if `outcome` is not allowed.
    pub fn commit_variants(&self, mem: &HostMemory, req: &Request, outcome: &Outcome) -> usize {
        match self.classify(req) {
            Class::Malformed { .. } | Class::WindowRead => 1,
            Class::Interrupt(hdr) => {
                self.ir_commit_variants(mem, hdr.requester_id, &hdr, req.data0, outcome)
            }
            Class::Dma(r) => {
                let (mut rec, mut norec) = (false, false);
                self.dma_paths(mem, &r, &mut |p| {
                    if p.outcome == *outcome {
                        if path_records(p) {
                            rec = true;
                        } else {
                            norec = true;
                        }
                    }
                    false
                });
                usize::from(rec) + usize::from(norec)
            }
        }
    }

    /// [`Model::commit`] of variant `k` (< [`Model::commit_variants`]): variant 0 is the one the
    /// first entries giving the outcome take (fresh first), variant 1 the other recording choice.
    pub fn commit_variant(
        &mut self,
        mem: &mut HostMemory,
        req: &Request,
        outcome: &Outcome,
        k: usize,
    ) -> Result<(), ModelError> {
        match self.classify(req) {
            Class::Malformed { posted } => {
                self.check_single(fault_outcome(posted, None, false), outcome)?;
                self.counters.malformed += 1;
                Ok(())
            }
            Class::WindowRead => self.check_single(fault_outcome(false, None, false), outcome),
            Class::Interrupt(hdr) => {
                self.ir_commit(mem, hdr.requester_id, &hdr, req.data0, outcome, k)
            }
            Class::Dma(r) => {
                // Every path giving the DUT's outcome may be the one the DUT took: the fault is
                // recorded once (the first such path of variant k, fresh first), and the
                // cacheable items of all of them are observed (the DUT may hold any of them now).
                let mut first: Option<Path> = None;
                let mut more: Vec<Path> = Vec::new(); // allocates only with several matches
                let mut first_rec: Option<bool> = None;
                self.dma_paths(mem, &r, &mut |p| {
                    if p.outcome == *outcome {
                        let rec = path_records(p);
                        let variant = match first_rec {
                            None => {
                                first_rec = Some(rec);
                                0
                            }
                            Some(f) if f == rec => 0,
                            Some(_) => 1,
                        };
                        if first.is_none() && variant == k {
                            first = Some(*p);
                        } else {
                            more.push(*p);
                        }
                    }
                    false
                });
                let Some(first) = first else {
                    return Err(ModelError::NotAllowed {
                        got: *outcome,
                        allowed: self.dma_allowed(mem, &r).to_vec(),
                    });
                };
                self.commit_dma_path(&r, &first);
                for p in &more {
                    self.observe_path(p);
                }
                Ok(())
            }
        }
    }

    fn check_single(&self, expected: Outcome, got: &Outcome) -> Result<(), ModelError> {
        if expected == *got {
            Ok(())
        } else {
            Err(ModelError::NotAllowed {
                got: *got,
                allowed: vec![expected],
            })
        }
    }

    /// [`Model::evaluate`] + [`Model::commit`] of the fresh outcome: the standalone /
    /// vector-generator path. Returns the fresh outcome.
    pub fn process(&mut self, mem: &mut HostMemory, req: &Request) -> Outcome {
        match self.classify(req) {
            Class::Malformed { posted } => {
                self.counters.malformed += 1;
                fault_outcome(posted, None, false)
            }
            Class::WindowRead => fault_outcome(false, None, false),
            Class::Interrupt(hdr) => {
                let allowed = self.ir_evaluate(mem, hdr.requester_id, &hdr, req.data0);
                let o = *allowed.fresh();
                // The fresh outcome is always in the set; a memory error in a side effect is
                // invisible on this path (the DUT would see the same error).
                let _ = self.ir_commit(mem, hdr.requester_id, &hdr, req.data0, &o, 0);
                o
            }
            Class::Dma(r) => {
                let p = self.fresh_dma_path(mem, &r);
                self.commit_dma_path(&r, &p);
                p.outcome
            }
        }
    }
}

/// Whether committing path `p` writes a fault record (a fault that FPD does not suppress).
fn path_records(p: &Path) -> bool {
    p.fault.is_some_and(|f| !(f.qualified && f.fpd))
}
