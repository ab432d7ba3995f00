//! The "OS driver": builds VT-d tables in host memory and programs a remapping unit through
//! [`Platform`], the way Linux's `intel-iommu` / `irq_remapping` drivers do.
//!
//! It is written against [`Platform`] only, so the same code drives the golden model
//! ([`crate::model::ModelPlatform`]) and the RTL co-simulation.
//!
//! - [`alloc`]: zeroed 4 KiB table pages from a host-physical region.
//! - [`tables`]: root/context tables (legacy mode, spec A5/A6), device assignment, domains with
//!   3/4/5-level second-level tables (A7), `map`/`unmap`, raw setters for malformed entries.
//! - [`ir`]: the interrupt-remapping table (B1/B4), IRTE blocks, posted-interrupt descriptors (B8),
//!   remappable MSI composition (B2).
//! - [`unit`](mod@unit): register programming in Linux order (A3), register and queued invalidation
//!   (A11/A12), the primary fault handler (A10).
//!
//! The table encodings here are written from the spec tables independently of [`crate::vtd`]
//! (which the model decodes with), so a misplaced field on either side shows up as a test failure
//! instead of cancelling out. Fault records are decoded with [`crate::vtd::frcd`].

pub mod alloc;
pub mod ir;
pub mod tables;
pub mod unit;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use thiserror::Error;

use crate::mem::{HostMemory, MemError};
use crate::platform::{Platform, PlatformError};
use crate::types::{DomainId, Hpa, Iova};

pub use alloc::{PageAllocator, PAGE_SIZE};
pub use ir::{IrteMode, MsiMessage, PostedInterruptDescriptor, PostedIrte, RemappedIrte};
pub use tables::{DeviceAssignment, Mapping, PageSize, Perms, TranslationType, Unmapped};
pub use unit::{
    BringUp, FaultEntry, FaultReport, GlobalCommand, InvRequest, InvalidationStatus, IrSetup,
    QueueError, WaitKind,
};

/// Errors of the OS driver.
#[derive(Debug, Error)]
pub enum OsError {
    /// The table region of [`OsConfig`] (`table_base`, `table_len`) has no free page, or no free
    /// contiguous block, left.
    #[error("table memory region exhausted")]
    OutOfTableMemory,
    /// A host-memory read or write (table, queue, descriptor) failed.
    #[error("host memory access failed: {0}")]
    Mem(#[from] MemError),
    /// A register access failed, or a status poll gave up after [`OsConfig::max_polls`] reads.
    #[error("register access failed: {0}")]
    Platform(#[from] PlatformError),
    /// An argument the driver or the spec rules out; the text names it (e.g. "IRTA.S > 15").
    #[error("invalid argument: {0}")]
    InvalidArgument(&'static str),
    /// No domain with this DID was made by [`Iommu::create_domain`].
    #[error("domain {0:?} does not exist")]
    UnknownDomain(DomainId),
    /// [`Iommu::create_domain`] was given a DID that already has a domain.
    #[error("domain {0:?} already exists")]
    DomainExists(DomainId),
    /// The DID does not fit in the 4 + 2*CAP.ND bits the unit supports
    /// ([`HwCaps::domain_id_bits`]).
    #[error("domain id {0:?} is beyond what CAP.ND supports")]
    DomainIdTooLarge(DomainId),
    /// A table depth CAP.SAGAW does not offer, or one the driver does not build (it builds 3, 4 or
    /// 5 levels).
    #[error("{levels}-level tables are not supported by CAP.SAGAW")]
    UnsupportedLevels {
        /// The depth asked for (0 when pass-through found no supported depth at all).
        levels: u8,
    },
    /// A leaf size CAP.SLLPS does not offer, or one larger than the domain's depth allows.
    #[error("page size {size:#x} not supported (CAP.SLLPS / table depth)")]
    UnsupportedPageSize {
        /// The page size in bytes.
        size: u64,
    },
    /// A mapping whose IOVA or host address is not a multiple of its page size.
    #[error("mapping iova {iova:?} -> hpa {hpa:?} size {size:#x} is not aligned to its page size")]
    Misaligned {
        /// Start of the mapping in the domain's I/O virtual address space.
        iova: Iova,
        /// Host physical address it was to map to.
        hpa: Hpa,
        /// Page size in bytes (4 KiB, 2 MiB or 1 GiB).
        size: u64,
    },
    /// The mapping would end above 2^`agaw`, the input address width the domain's tables and
    /// CAP.MGAW allow.
    #[error("iova {iova:?} is beyond the domain's {agaw}-bit address width")]
    AddressTooWide {
        /// Start of the mapping.
        iova: Iova,
        /// Usable input address width in bits: min(30 + 9*AW, MGAW + 1).
        agaw: u8,
    },
    /// A host physical address at or above 2^HAW ([`OsConfig::haw`]): a mapping's target, or the
    /// end of the table region.
    #[error("hpa {hpa:?} is beyond the host address width")]
    HpaTooWide {
        /// The offending address (for the table region, its end).
        hpa: Hpa,
    },
    /// The new mapping overlaps one the driver recorded, or its leaf slot already holds an entry
    /// with R or W set.
    #[error("mapping at {iova:?} overlaps an existing mapping")]
    Overlap {
        /// Start of the new mapping.
        iova: Iova,
    },
    /// [`Iommu::unmap`] found no mapping of exactly this size starting at this IOVA.
    #[error("nothing of size {size:#x} is mapped at {iova:?}")]
    NotMapped {
        /// IOVA the mapping was expected to start at.
        iova: Iova,
        /// Page size in bytes asked for.
        size: u64,
    },
    /// The unit lacks a capability the call needs; the text names the CAP/ECAP field (e.g.
    /// "queued invalidation (ECAP.QI)").
    #[error("the unit does not support {0}")]
    NotSupported(&'static str),
    /// An interrupt-remapping call made before [`Iommu::setup_ir_table`] allocated the table.
    #[error("interrupt remapping table not set up")]
    NoIrTable,
    /// An IRTE index at or beyond the table's 2^(IRTA.S+1) entries.
    #[error("IRTE index {index} out of range (table has {entries} entries)")]
    IrteIndexOutOfRange {
        /// The index asked for.
        index: u32,
        /// Entries in the table, 2^(S+1).
        entries: u32,
    },
    /// [`Iommu::alloc_irtes`] found no free block of `count` IRTEs aligned to `count`.
    #[error("no free block of {count} IRTEs")]
    NoFreeIrtes {
        /// Block size asked for (a power of two).
        count: u32,
    },
    /// The call needs queued invalidation and the queue is not enabled ([`Iommu::enable_qi`]);
    /// IEC invalidations have no register form.
    #[error("invalidation queue not enabled")]
    NoQueue,
    /// A batch of this many descriptors (plus the driver's wait descriptor, when it adds one) does
    /// not fit in the 2^(QS+8) - 1 slots the queue can hold at once.
    #[error("batch of {0} descriptors does not fit in the invalidation queue")]
    QueueFull(usize),
    /// The SR-IOV routing-ID topology ([`crate::sriov`]) rejected the request (e.g. no such VF).
    #[error("SR-IOV topology: {0}")]
    Sriov(#[from] crate::sriov::SriovError),
    /// The unit stopped the invalidation queue with FSTS.IQE while the driver waited.
    #[error("invalidation queue error: {0}")]
    Queue(#[from] QueueError),
}

/// The unit's capabilities as the driver reads them from CAP_REG / ECAP_REG (spec A2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HwCaps {
    /// CAP_REG (0x008) as read.
    pub cap: u64,
    /// ECAP_REG (0x010) as read.
    pub ecap: u64,
    /// CAP.ND (domain-id width = 4 + 2*ND bits).
    pub nd: u8,
    /// CAP.SAGAW, bit n = AW value n supported.
    pub sagaw: u8,
    /// CAP.MGAW (max guest address width - 1).
    pub mgaw: u8,
    /// CAP.FRO in bytes (FRO*16).
    pub frcd_offset: u16,
    /// CAP.NFR + 1.
    pub num_fault_records: u16,
    /// CAP.SLLPS (bit 0 = 2 MiB, bit 1 = 1 GiB).
    pub sllps: u8,
    /// CAP.PSI (bit 39): page-selective IOTLB invalidation supported.
    pub psi: bool,
    /// CAP.MAMV (bits 53:48): largest address mask AM a page-selective invalidation may use.
    pub mamv: u8,
    /// CAP.PI (posted interrupts).
    pub pi: bool,
    /// CAP.RWBF (write-buffer flush required).
    pub rwbf: bool,
    /// CAP.CM (caching mode).
    pub cm: bool,
    /// ECAP.C (bit 0): page walks snoop CPU caches (coherent table reads).
    pub c: bool,
    /// ECAP.QI (bit 1): queued invalidation supported.
    pub qi: bool,
    /// ECAP.DT (bit 2): device-TLB (ATS) supported.
    pub dt: bool,
    /// ECAP.IR (bit 3): interrupt remapping supported.
    pub ir: bool,
    /// ECAP.EIM (bit 4): extended interrupt mode (x2APIC, 32-bit destinations) supported.
    pub eim: bool,
    /// ECAP.PT (bit 6): pass-through translation type supported.
    pub pt: bool,
    /// ECAP.SC (bit 7): snoop control (second-level PTE bit 11 honoured).
    pub sc: bool,
    /// ECAP.IRO in bytes (IRO*16): IVA_REG is here, IOTLB_REG at +8.
    pub iva_offset: u16,
    /// ECAP.MHMV (bits 23:20): largest handle mask, bounding the IEC invalidation IM and
    /// multi-vector IRTE blocks (2^MHMV entries).
    pub mhmv: u8,
}

impl HwCaps {
    /// Decode CAP/ECAP raw values (field positions from spec A2).
    pub fn from_raw(cap: u64, ecap: u64) -> Self {
        let f = |v: u64, lo: u32, w: u32| (v >> lo) & ((1u64 << w) - 1);
        HwCaps {
            cap,
            ecap,
            nd: f(cap, 0, 3) as u8,
            rwbf: f(cap, 4, 1) == 1,
            cm: f(cap, 7, 1) == 1,
            sagaw: f(cap, 8, 5) as u8,
            mgaw: f(cap, 16, 6) as u8,
            frcd_offset: (f(cap, 24, 10) * 16) as u16,
            sllps: f(cap, 34, 4) as u8,
            psi: f(cap, 39, 1) == 1,
            num_fault_records: f(cap, 40, 8) as u16 + 1,
            mamv: f(cap, 48, 6) as u8,
            pi: f(cap, 59, 1) == 1,
            c: f(ecap, 0, 1) == 1,
            qi: f(ecap, 1, 1) == 1,
            dt: f(ecap, 2, 1) == 1,
            ir: f(ecap, 3, 1) == 1,
            eim: f(ecap, 4, 1) == 1,
            pt: f(ecap, 6, 1) == 1,
            sc: f(ecap, 7, 1) == 1,
            iva_offset: (f(ecap, 8, 10) * 16) as u16,
            mhmv: f(ecap, 20, 4) as u8,
        }
    }

    /// Domain-id width in bits (spec A2: 2^(4+2*ND) domains).
    pub fn domain_id_bits(&self) -> u8 {
        4 + 2 * self.nd.min(6)
    }

    /// Whether `levels`-level second-level tables are supported (AW = levels - 2 set in SAGAW).
    pub fn supports_levels(&self, levels: u8) -> bool {
        (2..=6).contains(&levels) && self.sagaw & (1 << (levels - 2)) != 0
    }

    /// The deepest supported table depth.
    pub fn max_levels(&self) -> Option<u8> {
        (2..=6).rev().find(|&l| self.supports_levels(l))
    }

    /// Whether a page size is supported as a leaf (SLLPS for 2 MiB / 1 GiB).
    pub fn supports_page(&self, size: PageSize) -> bool {
        match size {
            PageSize::Size4K => true,
            PageSize::Size2M => self.sllps & 1 != 0,
            PageSize::Size1G => self.sllps & 2 != 0,
        }
    }
}

/// What the driver is told about the platform it runs on.
#[derive(Debug, Clone, Copy)]
pub struct OsConfig {
    /// Host-physical region the driver may use for its tables, queue and descriptors.
    pub table_base: Hpa,
    /// Length of that region in bytes (64 MiB by default).
    pub table_len: u64,
    /// Host address width (not in CAP; decisions.md default 48): table pointers must be below it.
    pub haw: u8,
    /// Bound on every status poll.
    pub max_polls: u32,
}

impl Default for OsConfig {
    fn default() -> Self {
        OsConfig {
            table_base: Hpa(0x1000_0000),
            table_len: 64 << 20,
            haw: 48,
            max_polls: 1000,
        }
    }
}

/// One domain: its second-level tables and the mappings the driver placed in them.
#[derive(Debug, Clone)]
pub struct Domain {
    /// Domain identifier, written into the DID field of each assigned device's context entry
    /// (spec A6).
    pub did: DomainId,
    /// Second-level table depth, 3, 4 or 5 (context AW = levels - 2).
    pub levels: u8,
    /// SLPTPTR: the top-level table.
    pub root: Hpa,
    /// Mappings keyed by IOVA.
    pub mappings: BTreeMap<u64, Mapping>,
}

impl Domain {
    /// Context AW value for this depth (spec A6: levels = AW + 2).
    pub fn aw(&self) -> u8 {
        self.levels - 2
    }
    /// Adjusted guest address width in bits (30 + 9*AW).
    pub fn agaw(&self) -> u8 {
        30 + 9 * self.aw()
    }
}

/// The OS driver for one remapping unit.
pub struct Iommu<P: Platform> {
    plat: P,
    caps: HwCaps,
    cfg: OsConfig,
    alloc: PageAllocator,
    root: Hpa,
    ctx_tables: BTreeMap<u8, Hpa>,
    domains: BTreeMap<u16, Domain>,
    devices: BTreeMap<u16, DeviceAssignment>,
    ir: Option<ir::IrTable>,
    qi: Option<unit::InvQueue>,
    /// A driver page for wait-descriptor status words and posted-interrupt descriptors.
    scratch: Option<Hpa>,
    scratch_used: u64,
}

impl<P: Platform> Iommu<P> {
    /// Attach to a unit: read CAP/ECAP (spec A2) and allocate an empty root table.
    /// Registers are otherwise untouched; see [`Iommu::bring_up`] for the enable sequence.
    pub fn new(mut plat: P, cfg: OsConfig) -> Result<Self, OsError> {
        let cap = plat.read64(unit::CAP_REG)?;
        let ecap = plat.read64(unit::ECAP_REG)?;
        let caps = HwCaps::from_raw(cap, ecap);
        let mut alloc = PageAllocator::new(cfg.table_base, cfg.table_len);
        if cfg.table_base.0.saturating_add(cfg.table_len) > 1u64 << cfg.haw.min(63) {
            return Err(OsError::HpaTooWide {
                hpa: Hpa(cfg.table_base.0 + cfg.table_len),
            });
        }
        let root = alloc.alloc_page(plat.mem())?;
        Ok(Iommu {
            plat,
            caps,
            cfg,
            alloc,
            root,
            ctx_tables: BTreeMap::new(),
            domains: BTreeMap::new(),
            devices: BTreeMap::new(),
            ir: None,
            qi: None,
            scratch: None,
            scratch_used: 0,
        })
    }

    /// The capabilities decoded from CAP_REG / ECAP_REG when [`Iommu::new`] attached.
    pub fn caps(&self) -> &HwCaps {
        &self.caps
    }
    /// The platform settings (table region, HAW, poll bound) the driver was created with.
    pub fn config(&self) -> &OsConfig {
        &self.cfg
    }
    /// The platform underneath (golden model or co-simulation).
    pub fn platform(&self) -> &P {
        &self.plat
    }
    /// The platform underneath, mutable: register and memory accesses made through it bypass the
    /// driver's bookkeeping.
    pub fn platform_mut(&mut self) -> &mut P {
        &mut self.plat
    }
    /// Give up the driver and return the platform, registers and tables as the driver left them.
    pub fn into_platform(self) -> P {
        self.plat
    }
    /// Host memory (through the platform).
    pub fn mem(&mut self) -> &mut HostMemory {
        self.plat.mem()
    }
    /// The table-page allocator (tests may carve extra pages from it).
    pub fn allocator(&mut self) -> &mut PageAllocator {
        &mut self.alloc
    }
    /// Allocate one zeroed page from the table region.
    pub fn alloc_page(&mut self) -> Result<Hpa, OsError> {
        self.alloc.alloc_page(self.plat.mem())
    }
    /// The root table address (what RTADDR is programmed with).
    pub fn root_table(&self) -> Hpa {
        self.root
    }

    /// `len` bytes (<= 4096) aligned to `align` from the driver's scratch pages.
    pub(crate) fn alloc_scratch(&mut self, len: u64, align: u64) -> Result<Hpa, OsError> {
        let align = align.max(1);
        if len > PAGE_SIZE || !align.is_power_of_two() {
            return Err(OsError::InvalidArgument("scratch allocation"));
        }
        loop {
            if let Some(page) = self.scratch {
                let off = self.scratch_used.div_ceil(align) * align;
                if off + len <= PAGE_SIZE {
                    self.scratch_used = off + len;
                    return Ok(Hpa(page.0 + off));
                }
            }
            self.scratch = Some(self.alloc_page()?);
            self.scratch_used = 0;
        }
    }
}

/// Bits `[lo, lo+width)` of `v`.
pub(crate) const fn bits(v: u64, lo: u32, width: u32) -> u64 {
    (v >> lo)
        & if width >= 64 {
            u64::MAX
        } else {
            (1u64 << width) - 1
        }
}
