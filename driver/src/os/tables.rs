//! Legacy-mode root/context tables, device assignment and second-level page tables.
//!
//! Encodings from spec A5 (root entry), A6 (context entry) and A7 (second-level entry), written
//! independently of [`crate::vtd`]:
//! - root entry: qword0 = CTP | P, qword1 = 0;
//! - context entry: qword0 = SLPTPTR | TT<<2 | FPD<<1 | P, qword1 = DID<<8 | AW;
//! - SL entry: ADDR | PS<<7 | W<<1 | R (non-leaf entries get R=W=1, as Linux builds them).

use super::{Domain, Iommu, OsError, PAGE_SIZE};
use crate::platform::Platform;
use crate::sriov::SriovPf;
use crate::types::{DomainId, Hpa, Iova, Rid};

/// Context-entry TT (spec A6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TranslationType {
    /// 00: untranslated requests use the second-level tables.
    Untranslated,
    /// 01: as 00 plus ATS (needs ECAP.DT).
    DevTlb,
    /// 10: pass-through (needs ECAP.PT).
    PassThrough,
    /// 11: reserved (for negative tests).
    Reserved,
}

impl TranslationType {
    /// The 2-bit TT value for context-entry bits 3:2 (00, 01, 10 or 11).
    pub fn bits(self) -> u64 {
        match self {
            TranslationType::Untranslated => 0,
            TranslationType::DevTlb => 1,
            TranslationType::PassThrough => 2,
            TranslationType::Reserved => 3,
        }
    }
}

/// How a device (source id) is set up in its context entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeviceAssignment {
    /// Domain ID written to the context entry's DID field (bits 87:72); tags the device's IOTLB
    /// entries.
    pub did: DomainId,
    /// Translation type written to the context entry's TT field (bits 3:2).
    pub tt: TranslationType,
    /// Fault-processing disable (suppresses qualified faults, spec A9).
    pub fpd: bool,
    /// AW written to the context entry; `None` = the domain's (or, for pass-through without a
    /// domain, the deepest supported).
    pub aw: Option<u8>,
}

impl DeviceAssignment {
    /// Translated through domain `did`'s tables.
    pub fn translated(did: DomainId) -> Self {
        DeviceAssignment {
            did,
            tt: TranslationType::Untranslated,
            fpd: false,
            aw: None,
        }
    }
    /// Pass-through (TT=10), tagged with `did`.
    pub fn pass_through(did: DomainId) -> Self {
        DeviceAssignment {
            did,
            tt: TranslationType::PassThrough,
            fpd: false,
            aw: None,
        }
    }
    /// The same assignment with the context entry's FPD bit (bit 1) set to `fpd`.
    pub fn with_fpd(mut self, fpd: bool) -> Self {
        self.fpd = fpd;
        self
    }
}

/// Leaf page sizes of second-level tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PageSize {
    /// 4 KiB page: a level-1 leaf.
    Size4K,
    /// 2 MiB page: a level-2 entry with PS=1 (needs CAP.SLLPS bit 0).
    Size2M,
    /// 1 GiB page: a level-3 entry with PS=1 (needs CAP.SLLPS bit 1).
    Size1G,
}

impl PageSize {
    /// Page size in bytes (4096, 2 MiB or 1 GiB).
    pub const fn bytes(self) -> u64 {
        match self {
            PageSize::Size4K => 1 << 12,
            PageSize::Size2M => 1 << 21,
            PageSize::Size1G => 1 << 30,
        }
    }
    /// Table level holding the leaf (1 = 4 KiB, 2 = 2 MiB, 3 = 1 GiB).
    pub const fn level(self) -> u8 {
        match self {
            PageSize::Size4K => 1,
            PageSize::Size2M => 2,
            PageSize::Size1G => 3,
        }
    }
    /// The PSI address-mask value covering exactly this page (spec A11: 2^AM 4 KiB pages).
    pub const fn am(self) -> u8 {
        match self {
            PageSize::Size4K => 0,
            PageSize::Size2M => 9,
            PageSize::Size1G => 18,
        }
    }
    /// The page size of exactly `size` bytes, or `None` when it is not 4 KiB, 2 MiB or 1 GiB.
    pub fn from_bytes(size: u64) -> Option<Self> {
        match size {
            0x1000 => Some(PageSize::Size4K),
            0x20_0000 => Some(PageSize::Size2M),
            0x4000_0000 => Some(PageSize::Size1G),
            _ => None,
        }
    }
}

/// Access rights of a mapping (SL entry R/W, spec A7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Perms {
    /// R (SL entry bit 0): DMA reads are allowed.
    pub r: bool,
    /// W (SL entry bit 1): DMA writes are allowed.
    pub w: bool,
}

impl Perms {
    /// Read and write (R=1, W=1).
    pub const RW: Perms = Perms { r: true, w: true };
    /// Read-only (R=1, W=0): a DMA write faults with reason 5h.
    pub const RO: Perms = Perms { r: true, w: false };
    /// Write-only (R=0, W=1): a DMA read faults with reason 6h.
    pub const WO: Perms = Perms { r: false, w: true };
    /// No access (R=0, W=0): the leaf counts as not present, so reads fault 6h and writes 5h.
    pub const NONE: Perms = Perms { r: false, w: false };
    fn bits(self) -> u64 {
        self.r as u64 | (self.w as u64) << 1
    }
}

/// One mapping of a domain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mapping {
    /// First IOVA of the mapping (aligned to `size`).
    pub iova: Iova,
    /// First host physical address the mapping translates to (aligned to `size`).
    pub hpa: Hpa,
    /// Leaf page size, which decides the level the leaf sits at.
    pub size: PageSize,
    /// Access rights in the leaf entry.
    pub perms: Perms,
}

/// What [`Iommu::unmap`] removed, and the page-selective IOTLB invalidation that covers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unmapped {
    /// Domain the mapping was removed from (the DID of the PSI).
    pub did: DomainId,
    /// The mapping that was removed.
    pub mapping: Mapping,
    /// PSI address (the mapping's IOVA, aligned to its size).
    pub addr: Iova,
    /// PSI address mask (2^AM pages).
    pub am: u8,
    /// Invalidation hint: true, only a leaf changed (no table page was freed).
    pub ih: bool,
}

const PTE_R: u64 = 1 << 0;
const PTE_W: u64 = 1 << 1;
const PTE_PS: u64 = 1 << 7;

impl<P: Platform> Iommu<P> {
    fn addr_mask(&self) -> u64 {
        ((1u64 << self.cfg.haw) - 1) & !(PAGE_SIZE - 1)
    }

    /// Create a domain with `levels`-level (3/4/5) second-level tables.
    pub fn create_domain(&mut self, did: DomainId, levels: u8) -> Result<&Domain, OsError> {
        if !self.caps.supports_levels(levels) || !(3..=5).contains(&levels) {
            return Err(OsError::UnsupportedLevels { levels });
        }
        if (did.0 as u32) >> self.caps.domain_id_bits() != 0 {
            return Err(OsError::DomainIdTooLarge(did));
        }
        if self.domains.contains_key(&did.0) {
            return Err(OsError::DomainExists(did));
        }
        let root = self.alloc_page()?;
        self.domains.insert(
            did.0,
            Domain {
                did,
                levels,
                root,
                mappings: Default::default(),
            },
        );
        Ok(&self.domains[&did.0])
    }

    /// The domain with ID `did`, if [`Iommu::create_domain`] made it.
    pub fn domain(&self, did: DomainId) -> Option<&Domain> {
        self.domains.get(&did.0)
    }

    /// The context table for `bus`, created (and its root entry written) on first use.
    pub fn context_table(&mut self, bus: u8) -> Result<Hpa, OsError> {
        if let Some(&t) = self.ctx_tables.get(&bus) {
            return Ok(t);
        }
        let t = self.alloc_page()?;
        self.ctx_tables.insert(bus, t);
        let root_entry = t.0 | 1;
        self.write_root_entry_raw(bus, root_entry as u128)?;
        Ok(t)
    }

    /// Assign device `rid` to domain `did` (translated, TT=00, FPD=0).
    pub fn assign_device(&mut self, rid: Rid, did: DomainId) -> Result<(), OsError> {
        self.assign_device_with(rid, DeviceAssignment::translated(did))
    }

    /// Write the context entry for `rid` as described by `a` (spec A6).
    pub fn assign_device_with(&mut self, rid: Rid, a: DeviceAssignment) -> Result<(), OsError> {
        if (a.did.0 as u32) >> self.caps.domain_id_bits() != 0 {
            return Err(OsError::DomainIdTooLarge(a.did));
        }
        let (slptptr, aw) = match (a.tt, self.domains.get(&a.did.0)) {
            (TranslationType::PassThrough, d) => {
                if !self.caps.pt {
                    return Err(OsError::NotSupported("pass-through (ECAP.PT)"));
                }
                let aw =
                    a.aw.or(d.map(|d| d.aw()))
                        .or(self.caps.max_levels().map(|l| l - 2))
                        .ok_or(OsError::UnsupportedLevels { levels: 0 })?;
                (0, aw)
            }
            (_, Some(d)) => (d.root.0, a.aw.unwrap_or(d.aw())),
            (_, None) => return Err(OsError::UnknownDomain(a.did)),
        };
        let lo = slptptr | a.tt.bits() << 2 | (a.fpd as u64) << 1 | 1;
        let hi = (a.did.0 as u64) << 8 | (aw as u64 & 7);
        self.write_context_entry_raw(rid, (hi as u128) << 64 | lo as u128)?;
        self.devices.insert(rid.0, a);
        Ok(())
    }

    /// Clear `rid`'s context entry (P=0). The caller invalidates the context cache.
    pub fn detach_device(&mut self, rid: Rid) -> Result<(), OsError> {
        self.devices.remove(&rid.0);
        self.write_context_entry_raw(rid, 0)
    }

    /// How `rid` is assigned, if it is.
    pub fn device(&self, rid: Rid) -> Option<&DeviceAssignment> {
        self.devices.get(&rid.0)
    }

    /// Assign each routing id (e.g. the VFs of an SR-IOV PF, see [`crate::sriov`]) to its domain.
    pub fn assign_devices(
        &mut self,
        list: impl IntoIterator<Item = (Rid, DomainId)>,
    ) -> Result<(), OsError> {
        for (r, d) in list {
            self.assign_device(r, d)?;
        }
        Ok(())
    }

    /// SR-IOV: assign VF n (1-based) of `pf` to `domains[n-1]` for every listed domain
    /// (routing ids from [`crate::sriov::SriovPf::vf_rid`]); returns the VFs' routing ids.
    pub fn assign_vfs(&mut self, pf: &SriovPf, domains: &[DomainId]) -> Result<Vec<Rid>, OsError> {
        let mut rids = Vec::with_capacity(domains.len());
        for (i, &d) in domains.iter().enumerate() {
            let r = pf.vf_rid(i as u16 + 1)?;
            self.assign_device(r, d)?;
            rids.push(r);
        }
        Ok(rids)
    }

    /// Raw setter: root entry for `bus` (128 bits, qword0 = bits 63:0), even malformed.
    pub fn write_root_entry_raw(&mut self, bus: u8, raw: u128) -> Result<(), OsError> {
        let addr = Hpa(self.root.0 + 16 * bus as u64);
        self.plat.mem().write_u128(addr, raw)?;
        Ok(())
    }

    /// Raw setter: context entry for `rid` (its bus's context table is created if needed).
    pub fn write_context_entry_raw(&mut self, rid: Rid, raw: u128) -> Result<(), OsError> {
        let t = self.context_table(rid.bus())?;
        self.plat
            .mem()
            .write_u128(Hpa(t.0 + 16 * rid.devfn() as u64), raw)?;
        Ok(())
    }

    /// Address of the context entry of `rid` (if its bus has a context table).
    pub fn context_entry_addr(&self, rid: Rid) -> Option<Hpa> {
        self.ctx_tables
            .get(&rid.bus())
            .map(|t| Hpa(t.0 + 16 * rid.devfn() as u64))
    }

    /// Address of the root entry of `bus`.
    pub fn root_entry_addr(&self, bus: u8) -> Hpa {
        Hpa(self.root.0 + 16 * bus as u64)
    }

    /// Address of the level-`level` SL entry on `iova`'s path in domain `did`, allocating the
    /// intermediate tables above it (with R=W=1) when they are missing. Fails with
    /// [`OsError::Overlap`] when a large leaf sits above `level` on the path.
    pub fn pte_addr(&mut self, did: DomainId, iova: Iova, level: u8) -> Result<Hpa, OsError> {
        let d = self
            .domains
            .get(&did.0)
            .ok_or(OsError::UnknownDomain(did))?;
        let (top, root) = (d.levels, d.root);
        if level == 0 || level > top {
            return Err(OsError::InvalidArgument("level"));
        }
        let mask = self.addr_mask();
        let mut table = root;
        let mut l = top;
        loop {
            let pa = Hpa(table.0 + 8 * level_index(iova.0, l));
            if l == level {
                return Ok(pa);
            }
            let e = self.plat.mem().read_u64(pa)?;
            if e & (PTE_R | PTE_W) == 0 {
                let t = self.alloc_page()?;
                self.plat.mem().write_u64(pa, t.0 | PTE_R | PTE_W)?;
                table = t;
            } else if e & PTE_PS != 0 && l > 1 {
                return Err(OsError::Overlap { iova });
            } else {
                table = Hpa(e & mask);
            }
            l -= 1;
        }
    }

    /// Raw setter: write `raw` to the level-`level` SL entry on `iova`'s path in `did`.
    pub fn write_pte_raw(
        &mut self,
        did: DomainId,
        iova: Iova,
        level: u8,
        raw: u64,
    ) -> Result<Hpa, OsError> {
        let pa = self.pte_addr(did, iova, level)?;
        self.plat.mem().write_u64(pa, raw)?;
        Ok(pa)
    }

    /// Map `[iova, iova+size)` to `[hpa, hpa+size)` with `perms` as one leaf of `size`.
    ///
    /// Rejects misaligned addresses, unsupported sizes, addresses beyond the domain's AGAW or the
    /// HAW, and any overlap with an existing mapping (typed errors; nothing is written then).
    pub fn map(
        &mut self,
        did: DomainId,
        iova: Iova,
        hpa: Hpa,
        size: PageSize,
        perms: Perms,
    ) -> Result<(), OsError> {
        let d = self
            .domains
            .get(&did.0)
            .ok_or(OsError::UnknownDomain(did))?;
        let sz = size.bytes();
        if iova.0 % sz != 0 || hpa.0 % sz != 0 {
            return Err(OsError::Misaligned {
                iova,
                hpa,
                size: sz,
            });
        }
        if !self.caps.supports_page(size) || size.level() > d.levels {
            return Err(OsError::UnsupportedPageSize { size: sz });
        }
        let agaw = d.agaw().min(self.caps.mgaw + 1);
        if iova.0.checked_add(sz).map_or(true, |e| e > 1u64 << agaw) {
            return Err(OsError::AddressTooWide { iova, agaw });
        }
        if hpa
            .0
            .checked_add(sz)
            .map_or(true, |e| e > 1u64 << self.cfg.haw)
        {
            return Err(OsError::HpaTooWide { hpa });
        }
        // Overlap against the recorded mappings: any mapping starting before iova+sz that ends
        // after iova.
        if let Some((_, m)) = d.mappings.range(..iova.0 + sz).next_back() {
            if m.iova.0 + m.size.bytes() > iova.0 {
                return Err(OsError::Overlap { iova });
            }
        }
        let level = size.level();
        let pa = self.pte_addr(did, iova, level)?;
        let old = self.plat.mem().read_u64(pa)?;
        if old & (PTE_R | PTE_W) != 0 {
            // A table with (possibly planted) entries hangs here.
            return Err(OsError::Overlap { iova });
        }
        let ps = if level > 1 { PTE_PS } else { 0 };
        self.plat.mem().write_u64(pa, hpa.0 | ps | perms.bits())?;
        let m = Mapping {
            iova,
            hpa,
            size,
            perms,
        };
        self.domains
            .get_mut(&did.0)
            .expect("checked above")
            .mappings
            .insert(iova.0, m);
        Ok(())
    }

    /// Map a range with 4 KiB pages (a convenience for tests and workloads).
    pub fn map_range(
        &mut self,
        did: DomainId,
        iova: Iova,
        hpa: Hpa,
        len: u64,
        perms: Perms,
    ) -> Result<(), OsError> {
        let mut off = 0;
        while off < len {
            self.map(
                did,
                Iova(iova.0 + off),
                Hpa(hpa.0 + off),
                PageSize::Size4K,
                perms,
            )?;
            off += PAGE_SIZE;
        }
        Ok(())
    }

    /// Remove the mapping that starts at `iova` with `size`; returns what must be invalidated
    /// (a page-selective IOTLB invalidation of DID, ADDR=iova, AM=log2(size/4K), IH=1).
    pub fn unmap(
        &mut self,
        did: DomainId,
        iova: Iova,
        size: PageSize,
    ) -> Result<Unmapped, OsError> {
        let d = self
            .domains
            .get(&did.0)
            .ok_or(OsError::UnknownDomain(did))?;
        let m = match d.mappings.get(&iova.0) {
            Some(m) if m.size == size => *m,
            _ => {
                return Err(OsError::NotMapped {
                    iova,
                    size: size.bytes(),
                })
            }
        };
        let pa = self.pte_addr(did, iova, size.level())?;
        self.plat.mem().write_u64(pa, 0)?;
        self.domains
            .get_mut(&did.0)
            .expect("checked above")
            .mappings
            .remove(&iova.0);
        Ok(Unmapped {
            did,
            mapping: m,
            addr: iova,
            am: size.am(),
            ih: true,
        })
    }

    /// The mapping covering `iova` in `did`, from the driver's records.
    pub fn lookup(&self, did: DomainId, iova: Iova) -> Option<Mapping> {
        let d = self.domains.get(&did.0)?;
        let (_, m) = d.mappings.range(..=iova.0).next_back()?;
        (iova.0 < m.iova.0 + m.size.bytes()).then_some(*m)
    }
}

/// Index of `iova` in a level-`level` table (spec A8 step 8).
pub fn level_index(iova: u64, level: u8) -> u64 {
    (iova >> (12 + 9 * (level as u32 - 1))) & 0x1FF
}
