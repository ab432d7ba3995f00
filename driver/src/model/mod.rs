//! The bit-accurate, transaction-level golden model of the remapping unit (ARCHITECTURE.md "The
//! golden model"; spec sections A and B; `decisions.md`).
//!
//! [`Model`] holds the register file and the cache *observations*, never memory: every call gets
//! the [`HostMemory`] holding the tables. For each upstream [`Request`] it answers the set of
//! [`Allowed`] outcomes ([`Model::evaluate`], pure), takes the side effects of the outcome the DUT
//! produced ([`Model::commit`]: fault recording, posted-interrupt update, cache bookkeeping), or both
//! at once on the fresh outcome ([`Model::process`], the standalone / vector-generator path).
//!
//! Layout (one file per spec chapter): `config` (CAP/ECAP identity), `outcome` (public result
//! types), `regs` (register file, A1-A4/A10/A11), `fault` (A10 fault recording and events), `dma`
//! (A8 translation and the allowed-set enumeration), `cache` (observations and invalidation,
//! decisions.md "Caching and the scoreboard"), and the interrupt-remapping / queued-invalidation
//! parts `ir` and `qi`.
//!
//! The model reads tables only through [`crate::vtd`] decoders and never calls [`crate::os`].

mod cache;
mod config;
mod dma;
mod exercised;
mod fault;
mod ir;
mod outcome;
mod qi;
mod regs;
#[cfg(test)]
mod tests;

pub use cache::{CacheSnapshot, Invalidation};
pub use config::ModelConfig;
pub use exercised::{Exercised, IrteShape, MsiFormat, WalkShape};
pub use outcome::{Allowed, ModelError, Msi, Outcome, Request};

use crate::mem::HostMemory;
use crate::platform::{Platform, PlatformError};
use crate::types::{DomainId, Rid};
use crate::vtd::fault::FaultReason;

/// GSTS_REG bits (spec A3); GCMD uses the same positions.
#[allow(dead_code)]
pub(crate) mod gsts {
    pub const TES: u32 = 1 << 31;
    pub const RTPS: u32 = 1 << 30;
    pub const FLS: u32 = 1 << 29;
    pub const AFLS: u32 = 1 << 28;
    pub const WBFS: u32 = 1 << 27;
    pub const QIES: u32 = 1 << 26;
    pub const IRES: u32 = 1 << 25;
    pub const IRTPS: u32 = 1 << 24;
    pub const CFIS: u32 = 1 << 23;
}

/// FSTS_REG bits (spec A10).
#[allow(dead_code)]
pub(crate) mod fsts {
    pub const PFO: u32 = 1 << 0;
    pub const PPF: u32 = 1 << 1;
    pub const IQE: u32 = 1 << 4;
    pub const ICE: u32 = 1 << 5;
    pub const ITE: u32 = 1 << 6;
    pub const FRI_SHIFT: u32 = 8;
    pub const FRI_MASK: u32 = 0xFF << 8;
}

/// Event counters readable at 0x300.. (common.md "Project register map"). The architectural ones
/// (`irq_remapped`, `irq_posted`, `faults_recorded`, `malformed`) are exact; the DMA cache ones
/// are what a unit *without* caches would count (every committed DMA that reaches the second
/// level is an IOTLB lookup, a miss and a walk; every context-entry read is a context miss; all
/// table reads are walk reads), since hits are micro-architectural. The scoreboard must not
/// compare them with the RTL's.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// 0x300
    pub iotlb_lookups: u64,
    /// 0x308
    pub iotlb_misses: u64,
    /// 0x310
    pub page_walks: u64,
    /// 0x318
    pub walk_reads: u64,
    /// 0x320
    pub ctx_misses: u64,
    /// 0x328
    pub iec_misses: u64,
    /// 0x330
    pub irq_remapped: u64,
    /// 0x338
    pub irq_posted: u64,
    /// 0x340
    pub faults_recorded: u64,
    /// 0x348
    pub malformed: u64,
}

/// A fault to be logged (spec A10), as produced by the DMA path or by interrupt remapping.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct PendingFault {
    pub reason: FaultReason,
    /// Source ID (requester ID).
    pub sid: Rid,
    /// FRCD FI (bits 63:12 page address for DMA; index << 48 for IR faults). Bits 11:0 ignored.
    pub fi: u64,
    /// FRCD T: true for reads and atomics, false for writes (and interrupt requests).
    pub t_read: bool,
    /// FRCD T2: true for atomics ({T,T2} = 11), false otherwise.
    pub t2: bool,
    /// The request's AT.
    pub at: u8,
    /// FPD of the context entry / IRTE that applies (suppresses qualified faults).
    pub fpd: bool,
}

/// The golden model of one remapping unit. Memory is passed to each call.
#[derive(Clone, Debug)]
pub struct Model {
    pub(crate) cfg: ModelConfig,
    /// GSTS_REG (A3).
    pub(crate) gsts: u32,
    pub(crate) ir: ir::IrState,
    pub(crate) qi: qi::QiState,
    pub(crate) counters: Counters,
    /// FSTS_REG stored bits: PFO, AFO, APF, IQE, ICE, ITE, FRI. PPF is derived from the FRCDs.
    pub(crate) fsts: u32,
    /// FECTL.IM (reset 1) and FECTL.IP.
    pub(crate) fectl_im: bool,
    pub(crate) fectl_ip: bool,
    pub(crate) fedata: u32,
    pub(crate) feaddr: u32,
    pub(crate) feuaddr: u32,
    /// RTADDR_REG as written (D5 #6), and the value latched by the last SRTP.
    pub(crate) rtaddr: u64,
    pub(crate) rta_latched: u64,
    pub(crate) ccmd: u64,
    pub(crate) iva: u64,
    pub(crate) iotlb: u64,
    /// FRCD_REG[0..=NFR], 128 bits each.
    pub(crate) frcd: Vec<u128>,
    /// Index of the next fault-recording register to fill.
    pub(crate) next_frcd: usize,
    /// Events the unit emitted and nobody took yet, oldest first.
    pub(crate) events: Vec<Msi>,
    /// Cache observations (DMA side).
    pub(crate) cache: cache::Observations,
    /// SL PTE reserved masks, precomputed from the configuration.
    pub(crate) masks: dma::Masks,
    /// Invalidations carried out since the last [`Model::take_invalidations`], while logging is on.
    pub(crate) inv_log: Option<Vec<Invalidation>>,
    /// Where commits put their observations instead of the caches, while set.
    pub(crate) sink: Option<Box<CacheSnapshot>>,
    /// What the last [`Model::commit_variant_after`] with later invalidations cached before
    /// they filtered it ([`Model::take_unfiltered_fills`]).
    pub(crate) unfiltered: Option<Box<CacheSnapshot>>,
}

impl Model {
    /// A unit in its reset state.
    pub fn new(cfg: ModelConfig) -> Self {
        let n = cfg.num_fault_records();
        let masks = dma::Masks::new(&cfg);
        Model {
            cfg,
            gsts: 0,
            ir: Default::default(),
            qi: Default::default(),
            counters: Counters::default(),
            fsts: 0,
            fectl_im: true,
            fectl_ip: false,
            fedata: 0,
            feaddr: 0,
            feuaddr: 0,
            rtaddr: 0,
            rta_latched: 0,
            ccmd: 0,
            iva: 0,
            iotlb: 0,
            frcd: vec![0; n],
            next_frcd: 0,
            events: Vec::new(),
            cache: Default::default(),
            masks,
            inv_log: None,
            sink: None,
            unfiltered: None,
        }
    }

    /// The configuration the unit was built with.
    pub fn config(&self) -> &ModelConfig {
        &self.cfg
    }

    /// The event counters (also readable at 0x300..).
    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// Interrupt messages the unit itself emitted (fault events, invalidation-completion events),
    /// oldest first. They never go through interrupt remapping.
    pub fn take_events(&mut self) -> Vec<Msi> {
        std::mem::take(&mut self.events)
    }

    /// Push an event MSI to the queue returned by [`Model::take_events`].
    pub(crate) fn send_event(&mut self, msi: Msi) {
        self.events.push(msi);
    }

    /// Context-cache invalidation (register-based or QI): `g` 1 global, 2 domain (`did`),
    /// 3 device (`sid` with function mask `fm`). Removes the covered context (and, for global,
    /// root) observations. Does not touch IOTLB observations.
    pub(crate) fn invalidate_context_cache(&mut self, g: u8, did: DomainId, sid: Rid, fm: u8) {
        self.log(Invalidation::Context { g, did, sid, fm });
        self.cache.invalidate_context(g, did, sid, fm);
    }

    /// IOTLB invalidation (register-based or QI): `g` 1 global, 2 domain, 3 page-selective
    /// (`did`, 2^`am` pages at `addr` aligned down, `ih` = leaf-only hint).
    pub(crate) fn invalidate_iotlb(&mut self, g: u8, did: DomainId, addr: u64, am: u8, ih: bool) {
        self.log(Invalidation::Iotlb {
            g,
            did,
            addr,
            am,
            ih,
        });
        self.cache.invalidate_iotlb(g, did, addr, am, ih);
    }

    /// IEC invalidation (QI type 4): `global`, or 2^`im` entries from `iidx` aligned down.
    pub(crate) fn invalidate_iec(&mut self, global: bool, im: u8, iidx: u16) {
        self.log(Invalidation::Iec { global, im, iidx });
        self.ir.invalidate_iec(global, im, iidx);
    }

    fn log(&mut self, inv: Invalidation) {
        if let Some(l) = self.inv_log.as_mut() {
            l.push(inv);
        }
    }

    /// Start (or stop) logging the invalidations the unit carries out, for
    /// [`Model::take_invalidations`]. Off at reset, so a model nobody asks costs nothing.
    pub fn log_invalidations(&mut self, on: bool) {
        self.inv_log = if on { Some(Vec::new()) } else { None };
    }

    /// The invalidations carried out since the last call, oldest first (empty unless logging
    /// is on: [`Model::log_invalidations`]).
    pub fn take_invalidations(&mut self) -> Vec<Invalidation> {
        self.inv_log
            .as_mut()
            .map(std::mem::take)
            .unwrap_or_default()
    }

    /// A copy of every cache observation (what the unit may hold in its caches right now).
    pub fn cache_snapshot(&self) -> CacheSnapshot {
        CacheSnapshot {
            cache: self.cache.clone(),
            iec: self.ir.iec.clone(),
        }
    }

    /// Exchange the model's cache observations with `s`. A scoreboard swaps in a snapshot taken
    /// before an invalidation to evaluate or commit a request the unit may have served from the
    /// entries that invalidation removed, then swaps back.
    pub fn swap_cache(&mut self, s: &mut CacheSnapshot) {
        std::mem::swap(&mut self.cache, &mut s.cache);
        std::mem::swap(&mut self.ir.iec, &mut s.iec);
    }

    /// What the last [`Model::commit_variant_after`] cached before its later invalidations
    /// removed it, if they did: the unit may still serve requests from it until it shows those
    /// invalidations complete (a scoreboard adds it to its pre-invalidation snapshots).
    pub fn take_unfiltered_fills(&mut self) -> Option<CacheSnapshot> {
        self.unfiltered.take().map(|b| *b)
    }

    /// Add every cache observation of `other` to this model's (a scoreboard joining two worlds
    /// that differ only in what the unit may have cached).
    pub fn absorb_cache(&mut self, other: &Model) {
        self.cache.merge(&other.cache);
        ir::merge_iec(&mut self.ir.iec, &other.ir.iec);
        // What the other world's commit cached before its later invalidations removed it may
        // still serve requests until the unit shows those invalidations complete.
        if let Some(u) = &other.unfiltered {
            match self.unfiltered.as_deref_mut() {
                Some(s) => s.merge(u),
                None => self.unfiltered = Some(u.clone()),
            }
        }
    }

    /// [`Model::evaluate`] with the cache observations of `via` in place of the model's own.
    pub fn evaluate_via(
        &mut self,
        mem: &HostMemory,
        req: &Request,
        via: &mut CacheSnapshot,
    ) -> Allowed {
        self.swap_cache(via);
        let a = self.evaluate(mem, req);
        self.swap_cache(via);
        a
    }

    /// [`Model::commit_variants`], with the cache observations of `via` (when given) in place of
    /// the model's own.
    pub fn commit_variants_via(
        &mut self,
        mem: &HostMemory,
        req: &Request,
        outcome: &Outcome,
        via: Option<&mut CacheSnapshot>,
    ) -> usize {
        match via {
            None => self.commit_variants(mem, req, outcome),
            Some(s) => {
                self.swap_cache(s);
                let n = self.commit_variants(mem, req, outcome);
                self.swap_cache(s);
                n
            }
        }
    }

    /// [`Model::commit_variant`] for a request the unit may have served from the cache
    /// observations `via` (a snapshot from before an invalidation) and whose table reads may
    /// predate the invalidations `later` (carried out since): its side effects as usual, but what
    /// it cached survives only where none of `later` covers it. This is how a fill by a walk that
    /// an invalidation made stale must end (decisions.md "Caching and the scoreboard"): it may
    /// serve the request itself, never a request after the invalidation completed.
    pub fn commit_variant_after(
        &mut self,
        mem: &mut HostMemory,
        req: &Request,
        outcome: &Outcome,
        k: usize,
        mut via: Option<&mut CacheSnapshot>,
        later: &[Invalidation],
    ) -> Result<(), ModelError> {
        if later.is_empty() && via.is_none() {
            return self.commit_variant(mem, req, outcome, k);
        }
        if let Some(v) = via.as_deref_mut() {
            self.swap_cache(v);
        }
        self.sink = Some(Box::default());
        let r = self.commit_variant(mem, req, outcome, k);
        let mut s = self.sink.take().expect("set above");
        if let Some(v) = via {
            self.swap_cache(v);
        }
        if r.is_ok() {
            if !later.is_empty() {
                self.unfiltered = Some(s.clone());
            }
            for inv in later {
                s.apply(inv);
            }
            self.cache.merge(&s.cache);
            ir::merge_iec(&mut self.ir.iec, &s.iec);
        }
        r
    }
}

/// The model and its host memory as one [`Platform`], for the OS driver.
#[derive(Clone, Debug)]
pub struct ModelPlatform {
    /// The golden model: its register file answers every register access of the driver.
    pub model: Model,
    /// Host memory holding the tables, queue and descriptors the driver writes and the model reads.
    pub mem: HostMemory,
}

impl ModelPlatform {
    /// A model in reset state with empty memory.
    pub fn new(cfg: ModelConfig) -> Self {
        ModelPlatform {
            model: Model::new(cfg),
            mem: HostMemory::new(),
        }
    }

    /// Process one upstream request on this platform's memory ([`Model::process`]).
    pub fn process(&mut self, req: &Request) -> Outcome {
        self.model.process(&mut self.mem, req)
    }

    /// The outcomes the spec allows for `req` now, without committing any
    /// ([`Model::evaluate`]): one, unless a table edit is still waiting for its invalidation.
    pub fn evaluate(&self, req: &Request) -> Allowed {
        self.model.evaluate(&self.mem, req)
    }

    /// The unit's own interrupt messages (fault events, invalidation-completion events) since
    /// the last call, oldest first ([`Model::take_events`]).
    pub fn take_events(&mut self) -> Vec<Msi> {
        self.model.take_events()
    }
}

impl Default for ModelPlatform {
    fn default() -> Self {
        Self::new(ModelConfig::default())
    }
}

impl Platform for ModelPlatform {
    fn reg_read(&mut self, offset: u16, size: u8) -> Result<u64, PlatformError> {
        self.model.reg_read(&mut self.mem, offset, size)
    }
    fn reg_write(&mut self, offset: u16, size: u8, value: u64) -> Result<(), PlatformError> {
        self.model.reg_write(&mut self.mem, offset, size, value)
    }
    fn mem(&mut self) -> &mut HostMemory {
        &mut self.mem
    }
}
