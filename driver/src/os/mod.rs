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
//! - [`unit`]: register programming in Linux order (A3), register and queued invalidation
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
    #[error("table memory region exhausted")]
    OutOfTableMemory,
    #[error("host memory access failed: {0}")]
    Mem(#[from] MemError),
    #[error("register access failed: {0}")]
    Platform(#[from] PlatformError),
    #[error("invalid argument: {0}")]
    InvalidArgument(&'static str),
    #[error("domain {0:?} does not exist")]
    UnknownDomain(DomainId),
    #[error("domain {0:?} already exists")]
    DomainExists(DomainId),
    #[error("domain id {0:?} is beyond what CAP.ND supports")]
    DomainIdTooLarge(DomainId),
    #[error("{levels}-level tables are not supported by CAP.SAGAW")]
    UnsupportedLevels { levels: u8 },
    #[error("page size {size:#x} not supported (CAP.SLLPS / table depth)")]
    UnsupportedPageSize { size: u64 },
    #[error("mapping iova {iova:?} -> hpa {hpa:?} size {size:#x} is not aligned to its page size")]
    Misaligned { iova: Iova, hpa: Hpa, size: u64 },
    #[error("iova {iova:?} is beyond the domain's {agaw}-bit address width")]
    AddressTooWide { iova: Iova, agaw: u8 },
    #[error("hpa {hpa:?} is beyond the host address width")]
    HpaTooWide { hpa: Hpa },
    #[error("mapping at {iova:?} overlaps an existing mapping")]
    Overlap { iova: Iova },
    #[error("nothing of size {size:#x} is mapped at {iova:?}")]
    NotMapped { iova: Iova, size: u64 },
    #[error("the unit does not support {0}")]
    NotSupported(&'static str),
    #[error("interrupt remapping table not set up")]
    NoIrTable,
    #[error("IRTE index {index} out of range (table has {entries} entries)")]
    IrteIndexOutOfRange { index: u32, entries: u32 },
    #[error("no free block of {count} IRTEs")]
    NoFreeIrtes { count: u32 },
    #[error("invalidation queue not enabled")]
    NoQueue,
    #[error("batch of {0} descriptors does not fit in the invalidation queue")]
    QueueFull(usize),
    #[error("SR-IOV topology: {0}")]
    Sriov(#[from] crate::sriov::SriovError),
    #[error("invalidation queue error: {0}")]
    Queue(#[from] QueueError),
}

/// The unit's capabilities as the driver reads them from CAP_REG / ECAP_REG (spec A2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HwCaps {
    pub cap: u64,
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
    pub psi: bool,
    pub mamv: u8,
    /// CAP.PI (posted interrupts).
    pub pi: bool,
    /// CAP.RWBF (write-buffer flush required).
    pub rwbf: bool,
    /// CAP.CM (caching mode).
    pub cm: bool,
    pub c: bool,
    pub qi: bool,
    pub dt: bool,
    pub ir: bool,
    pub eim: bool,
    pub pt: bool,
    pub sc: bool,
    /// ECAP.IRO in bytes (IRO*16): IVA_REG is here, IOTLB_REG at +8.
    pub iva_offset: u16,
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
    pub did: DomainId,
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

    pub fn caps(&self) -> &HwCaps {
        &self.caps
    }
    pub fn config(&self) -> &OsConfig {
        &self.cfg
    }
    pub fn platform(&self) -> &P {
        &self.plat
    }
    pub fn platform_mut(&mut self) -> &mut P {
        &mut self.plat
    }
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
