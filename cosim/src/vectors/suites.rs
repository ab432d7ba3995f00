//! The committed suites, each generated from the golden model by the OS driver programming a
//! [`Recorder`]. Names are the folder names under `testvectors/`.

use super::record::Recorder;
use super::{Suite, Timing};
use crate::dut::DutConfig;
use crate::hdr::Req;
use iommu_driver::model::{ModelConfig, Outcome, Request};
use iommu_driver::os::GlobalCommand;
use iommu_driver::os::IrSetup;
use iommu_driver::os::{
    BringUp, InvRequest, Iommu, MsiMessage, OsConfig, PageSize, Perms, PostedInterruptDescriptor,
    PostedIrte, RemappedIrte, WaitKind,
};
use iommu_driver::platform::Platform;
use iommu_driver::{DomainId, Hpa, Iova, Rid};

/// A suite generator: name, one-line description (no commas), body.
struct Def {
    name: &'static str,
    description: &'static str,
    config: DutConfig,
    body: fn(&mut Gen) -> Result<(), String>,
    /// Base memory latency and the rest of the replay timing (`None`: fixed 20 cycles, no
    /// back-pressure).
    timing: Option<(u32, Timing)>,
}

const SUITES: &[Def] = &[
    Def {
        name: "dma-translate",
        description: "DMA translation with 4 KiB / 2 MiB / 1 GiB pages; permission; not-present and address-width faults; register-based invalidation",
        config: DutConfig::Default,
        body: dma_translate,
        timing: None,
    },
    Def {
        name: "dma-faults",
        description: "every DMA fault code (01h-0Eh and 30h) with its completion status and fault record; FPD; atomics (T2); malformed TLPs; reads of the interrupt window; RO and IDO attributes; register-based domain- and device-selective invalidations of the repaired entries",
        config: DutConfig::Default,
        body: dma_faults,
        timing: None,
    },
    Def {
        name: "dma-walks",
        description: "3- 4- and 5-level walks with IOVAs that set every index bit of every level; queued invalidation",
        config: DutConfig::Default,
        body: dma_walks,
        timing: None,
    },
    Def {
        name: "dma-invalidation",
        description: "invalidation edges: a page-selective invalidation over 2^AM pages probed at its first and last page and just outside; a replaced leaf table under a domain-selective invalidation (paging-structure cache); devices moved under a device-selective context invalidation with a function mask and under a domain-selective one",
        config: DutConfig::Default,
        body: dma_invalidation,
        timing: None,
    },
    Def {
        name: "ir-remap-post",
        description: "interrupt remapping in x2APIC mode: remapped and posted interrupts (notification once) and every fault 20h-28h with FPD; an IRTE rewrite under an index-selective IEC invalidation",
        config: DutConfig::Default,
        body: ir_remap_post,
        timing: None,
    },
    Def {
        name: "ir-sid-xapic",
        description: "interrupt remapping in xAPIC mode with compatibility format allowed: every source-ID check kind (SVT 00; 01 with SQ 00/01/10/11 inside and outside the mask; 10 bus ranges; 11) and remapping switched off and on again; an index-selective IEC invalidation of a block (IM=2)",
        config: DutConfig::Default,
        body: ir_sid_xapic,
        timing: None,
    },
    Def {
        name: "rogue-sriov",
        description: "rogue devices behind an SR-IOV PF with ARI whose VFs span two buses: VFs reaching into other domains or unassigned; interrupts spoofed by DMA writes to the interrupt window; another VF's handle under the requester-ID and bus-range checks; compatibility-format injection; a fault flood past the fault records (PFO) drained by software",
        config: DutConfig::Default,
        body: rogue_sriov,
        timing: Some((
            30,
            Timing {
                backpressure: 40,
                ..Timing::plain(30)
            },
        )),
    },
    Def {
        name: "qi-errors",
        description: "the invalidation queue: waits with status write and with IWC; invalid descriptor type and reserved fields stop it (IQE) with IQH on the bad descriptor; recovery",
        config: DutConfig::Default,
        body: qi_errors,
        timing: None,
    },
    Def {
        name: "pcie-ordering",
        description: "PCIe ordering through the unit: batches of requests in flight together where a later request hits the IOTLB while an earlier posted write walks; writes and reads behind writes of the same device; RO and IDO relaxations; an MSI behind the DMA writes of its device and of another; a dropped write ahead of a hit; the replay checks that nothing passes what it may not pass",
        config: DutConfig::Default,
        body: pcie_ordering,
        timing: Some((
            10,
            Timing {
                mem_latency_max: 80,
                mem_outstanding: 8,
                mem_ready: 70,
                mem_out_of_order: true,
                backpressure: 30,
            },
        )),
    },
    Def {
        name: "stale-window",
        description: "the stale window: a leaf unmapped and one remapped a context entry moved to another domain and an IRTE withdrawn each without invalidation (the old and the new outcome both allowed; the faults among the alternatives suppressed by FPD so that either leaves the same fault state) then after the invalidation only the new one",
        config: DutConfig::Default,
        body: stale_window,
        timing: None,
    },
    Def {
        name: "random-mix",
        description: "a seeded random mix from the golden model alone: DMA reads writes and atomics of random sizes over 4 KiB / 2 MiB / 1 GiB mappings in 3- 4- and 5-level domains (mapped or not; with FPD and pass-through devices); remappable and compatibility MSIs through remapped and posted IRTEs with every source check; unmaps and remaps under page- domain- and global invalidations; IRTE rewrites under IEC invalidations; fault servicing",
        config: DutConfig::Default,
        body: random_mix,
        timing: Some((
            20,
            Timing {
                mem_latency_max: 150,
                mem_outstanding: 16,
                mem_ready: 80,
                mem_out_of_order: true,
                backpressure: 25,
            },
        )),
    },
    Def {
        name: "dma-translate-tiny",
        description: "the dma-translate traffic on the tiny configuration (2-entry caches and one walker)",
        config: DutConfig::Tiny,
        body: dma_translate,
        timing: Some((
            5,
            Timing {
                mem_outstanding: 1,
                ..Timing::plain(5)
            },
        )),
    },
];

/// Every suite name, in order.
pub fn names() -> Vec<&'static str> {
    SUITES.iter().map(|d| d.name).collect()
}

/// The CAP/ECAP each configuration of `rtl/iommu_top` advertises (checked against the RTL by
/// a test): what a suite generated for it assumes.
pub fn identity(config: DutConfig) -> (u64, u64) {
    match config {
        DutConfig::Default => (DEFAULT_CAP, DEFAULT_ECAP),
        DutConfig::Tiny => (TINY_CAP, TINY_ECAP),
        // The cache sizes do not show in CAP/ECAP; NFR does (CAP bits 47:40 = NFR - 1).
        DutConfig::Custom(p) => {
            let nfr = u64::from(p.get("NFR").unwrap_or(8)) - 1;
            ((DEFAULT_CAP & !(0xFF << 40)) | nfr << 40, DEFAULT_ECAP)
        }
    }
}

/// Both configurations advertise the same identity (decisions.md "Hardware identity"); they
/// differ only in cache sizes and walkers, which CAP/ECAP do not show.
const DEFAULT_CAP: u64 = 0x08d2_078c_2038_0e06;
const DEFAULT_ECAP: u64 = 0x0000_0000_00f0_105b;
const TINY_CAP: u64 = DEFAULT_CAP;
const TINY_ECAP: u64 = DEFAULT_ECAP;

/// Generate suite `name`.
pub fn generate(name: &str) -> Result<Suite, String> {
    let d = SUITES
        .iter()
        .find(|d| d.name == name)
        .ok_or_else(|| format!("unknown suite {name:?} (known: {})", names().join(", ")))?;
    let (cap, ecap) = identity(d.config);
    let rec = Recorder::new(ModelConfig::from_cap_ecap(cap, ecap, 48));
    let os = Iommu::new(rec, OsConfig::default()).map_err(|e| e.to_string())?;
    let mut g = Gen { os, tag: 0 };
    (d.body)(&mut g)?;
    let seed = if d.name == "random-mix" { MIX_SEED } else { 0 };
    let mut suite =
        g.os.into_platform()
            .finish(d.name, d.description, seed, d.config);
    if let Some((lat, t)) = d.timing {
        suite.manifest.mem_latency = lat;
        suite.manifest.timing = t;
    }
    Ok(suite)
}

/// The OS driver over the recorder, and request helpers.
struct Gen {
    os: Iommu<Recorder>,
    tag: u8,
}

const FE_ADDR: u64 = 0xFEE0_F000;
const FE_DATA: u32 = 0xE1;

impl Gen {
    fn e<T, E: std::fmt::Display>(r: Result<T, E>) -> Result<T, String> {
        r.map_err(|e| e.to_string())
    }

    fn send(&mut self, r: Req) -> Result<Outcome, String> {
        self.tag = self.tag.wrapping_add(1);
        let req = Request {
            hdr: Req { tag: self.tag, ..r }.encode(),
            data0: 0x5a5a_0000 | u32::from(self.tag),
        };
        self.os.platform_mut().send(req)
    }

    fn read(&mut self, rid: Rid, addr: u64, len: u32) -> Result<Outcome, String> {
        self.send(Req::read(rid.0, 0, addr, len))
    }

    fn write(&mut self, rid: Rid, addr: u64, len: u32) -> Result<Outcome, String> {
        self.send(Req::write(rid.0, 0, addr, len))
    }

    fn map(
        &mut self,
        did: u16,
        iova: u64,
        hpa: u64,
        size: PageSize,
        p: Perms,
    ) -> Result<(), String> {
        Self::e(self.os.map(DomainId(did), Iova(iova), Hpa(hpa), size, p))
    }

    fn faults(&mut self) -> Result<(), String> {
        Self::e(self.os.handle_faults()).map(|_| ())
    }
}

const DEV_A: Rid = Rid(0x0008); // 00:01.0
const DEV_B: Rid = Rid(0x0010); // 00:02.0
const DEV_C: Rid = Rid(0x0118); // 01:03.0, assigned nowhere (no context entry)
const DEV_D: Rid = Rid(0x0500); // 05:00.0, a bus with no root entry

fn dma_translate(g: &mut Gen) -> Result<(), String> {
    Gen::e(g.os.create_domain(DomainId(1), 4))?;
    Gen::e(g.os.create_domain(DomainId(2), 3))?;
    Gen::e(g.os.assign_device(DEV_A, DomainId(1)))?;
    Gen::e(g.os.assign_device(DEV_B, DomainId(2)))?;
    // A context table for bus 1 exists (DEV_C's entry in it stays not present).
    Gen::e(g.os.context_table(1))?;
    g.map(1, 0x0000_1000, 0x4_0000_0000, PageSize::Size4K, Perms::RW)?;
    g.map(1, 0x0000_2000, 0x4_0000_5000, PageSize::Size4K, Perms::RO)?;
    g.map(1, 0x0000_3000, 0x4_0000_9000, PageSize::Size4K, Perms::WO)?;
    g.map(1, 0x0020_0000, 0x8_0020_0000, PageSize::Size2M, Perms::RW)?;
    let one_g = g.os.caps().supports_page(PageSize::Size1G);
    if one_g {
        g.map(1, 0x4000_0000, 0x1_c000_0000, PageSize::Size1G, Perms::RW)?;
    }
    g.map(2, 0x7f_ffff_f000, 0x0012_3000, PageSize::Size4K, Perms::RW)?;
    Gen::e(g.os.bring_up(BringUp {
        qi: false,
        ir: None,
        te: true,
    }))?;
    Gen::e(g.os.setup_fault_event(FE_ADDR, FE_DATA, false))?;
    // Translations: first and last bytes of each page, 3DW requests with 4DW results.
    for (a, len) in [(0x1000, 64), (0x1ffc, 4), (0x3010, 128), (0x3ffc, 4)] {
        g.write(DEV_A, a, len)?;
    }
    for (a, len) in [
        (0x1000, 512),
        (0x2ff0, 16),
        (0x20_0000, 256),
        (0x3f_fffc, 4),
    ] {
        g.read(DEV_A, a, len)?;
    }
    if one_g {
        g.read(DEV_A, 0x4000_0000, 64)?;
        g.write(DEV_A, 0x7fff_fffc, 4)?;
    }
    g.read(DEV_B, 0x7f_ffff_f800, 64)?;
    // Permission faults: write to read-only (5h), read of write-only (6h).
    g.write(DEV_A, 0x2000, 4)?;
    g.read(DEV_A, 0x3000, 4)?;
    // Not present: an unmapped page, a device without context entry, a bus without root entry.
    g.read(DEV_A, 0x9000, 4)?;
    g.write(DEV_A, 0x9000, 4)?;
    g.read(DEV_C, 0x1000, 4)?;
    g.read(DEV_D, 0x1000, 4)?;
    // Beyond the 3-level domain's 39 bits (4h).
    g.read(DEV_B, 0x80_0000_0000, 4)?;
    g.faults()?;
    // Unmap under a page-selective invalidation: the page faults afterwards.
    Gen::e(g.os.unmap(DomainId(1), Iova(0x1000), PageSize::Size4K))?;
    Gen::e(g.os.invalidate(&[InvRequest::IotlbPage {
        did: DomainId(1),
        addr: Iova(0x1000),
        am: 0,
        ih: false,
    }]))?;
    g.read(DEV_A, 0x1000, 4)?;
    g.read(DEV_A, 0x20_0000, 4)?;
    g.faults()?;
    Ok(())
}

fn dma_faults(g: &mut Gen) -> Result<(), String> {
    use crate::hdr::Kind;
    let (d1, d2) = (DomainId(1), DomainId(2));
    let dev_tt11 = Rid(0x0020); // 00:04.0: context TT=11 (3h)
    let dev_fpd = Rid(0x0028); // 00:05.0: domain 1 with FPD
    let dev_ctx_rsv = Rid(0x0030); // 00:06.0: context entry with a reserved bit (Bh)
    let dev_root_rsv = Rid(0x0200); // 02:00.0: root entry with a reserved bit (Ah)
    let dev_root_err = Rid(0x0600); // 06:00.0: its root entry unreadable (8h)
    let dev_ctx_err = Rid(0x0708); // 07:01.0: its context entry unreadable (9h)
    Gen::e(g.os.create_domain(d1, 4))?;
    Gen::e(g.os.create_domain(d2, 3))?;
    for r in [DEV_A, dev_root_err, dev_ctx_err, dev_root_rsv] {
        Gen::e(g.os.assign_device(r, d1))?;
    }
    Gen::e(g.os.assign_device(DEV_B, d2))?;
    Gen::e(g.os.assign_device_with(
        dev_fpd,
        iommu_driver::os::DeviceAssignment::translated(d1).with_fpd(true),
    ))?;
    Gen::e(g.os.context_table(1))?;
    g.map(1, 0x1000, 0x4_0000_0000, PageSize::Size4K, Perms::RW)?;
    g.map(1, 0x2000, 0x4_0000_1000, PageSize::Size4K, Perms::RO)?;
    g.map(1, 0x3000, 0x4_0000_2000, PageSize::Size4K, Perms::WO)?;
    // Output in the interrupt range (Eh).
    g.map(1, 0x5000, 0xFEE0_0000, PageSize::Size4K, Perms::RW)?;
    // A leaf with a reserved bit (Ch): bits 51:HAW are reserved.
    g.map(1, 0x6000, 0x4_0000_6000, PageSize::Size4K, Perms::RW)?;
    let haw = u32::from(g.os.caps().mgaw).min(51);
    Gen::e(g.os.write_pte_raw(d1, Iova(0x6000), 1, 0x4_0000_6000 | 3 | 1 << haw))?;
    // A page in a leaf table of its own, whose table is unreadable (7h).
    g.map(1, 0x4000_0000, 0x4_0000_7000, PageSize::Size4K, Perms::RW)?;
    // Above 4 GiB: 4DW requests.
    g.map(1, 0x1_0000_0000, 0x4_0000_8000, PageSize::Size4K, Perms::RW)?;
    g.map(2, 0x1000, 0x5_0000_0000, PageSize::Size4K, Perms::RW)?;
    // Malformed context entries.
    let slpt = Gen::e(g.os.domain(d1).ok_or("domain 1"))?.root.0 as u128;
    let good_ctx = slpt | 1 | (2u128 << 64) | (1u128 << 72);
    Gen::e(g.os.write_context_entry_raw(dev_tt11, good_ctx | 0b1100))?;
    Gen::e(g.os.write_context_entry_raw(dev_ctx_rsv, good_ctx | 1 << 5))?;
    let ctp2 = Gen::e(g.os.context_table(2))?;
    Gen::e(g.os.write_root_entry_raw(2, ctp2.0 as u128 | 1 | 1u128 << 64))?;
    let leaf_tbl = Gen::e(g.os.pte_addr(d1, Iova(0x4000_0000), 1))?.0 & !0xFFF;
    let root_err = g.os.root_entry_addr(6);
    let ctx_err = Gen::e(g.os.context_entry_addr(dev_ctx_err).ok_or("bus 7 table"))?;
    Gen::e(g.os.bring_up(BringUp {
        qi: false,
        ir: None,
        te: true,
    }))?;
    Gen::e(g.os.setup_fault_event(FE_ADDR, FE_DATA, false))?;
    // Translated: reads and writes, RO and IDO attributes, a 4DW request.
    g.read(DEV_A, 0x1000, 64)?;
    g.write(DEV_A, 0x1ffc, 4)?;
    for attr in [0b010u8, 0b100, 0b110] {
        g.send(Req {
            attr,
            ..Req::read(DEV_A.0, 0, 0x1040, 32)
        })?;
        g.send(Req {
            attr,
            ..Req::write(DEV_A.0, 0, 0x1080, 32)
        })?;
    }
    g.read(DEV_A, 0x1_0000_0010, 16)?;
    g.send(Req {
        force_4dw: true,
        ..Req::write(DEV_A.0, 0, 0x1100, 8)
    })?;
    g.read(DEV_B, 0x1000, 8)?;
    // Atomics need R and W: forwarded on RW, 5h on RO, 6h on WO (T2 set in the record).
    for a in [0x1000u64, 0x2000, 0x3000] {
        g.send(Req {
            kind: Kind::FetchAdd,
            ..Req::write(DEV_A.0, 0, a + 0x10, 8)
        })?;
    }
    g.faults()?;
    // Not forwarded without a fault: a read of the interrupt window (UR), a request crossing a
    // 4 KiB boundary (malformed), an atomic to the window.
    g.read(DEV_A, 0xFEE0_0000, 4)?;
    g.read(DEV_A, 0x1ff0, 32)?;
    g.write(DEV_A, 0x1ffc, 8)?;
    g.send(Req {
        kind: Kind::FetchAdd,
        ..Req::write(DEV_A.0, 0, 0xFEE0_1000, 8)
    })?;
    // 1h root not present, 2h context not present, 3h TT=11, 4h beyond the 3-level domain.
    g.read(DEV_D, 0x1000, 4)?;
    g.write(DEV_C, 0x1000, 4)?;
    g.read(dev_tt11, 0x1000, 4)?;
    g.read(DEV_B, 1 << 39, 4)?;
    g.write(DEV_B, (1 << 40) - 0x1000, 4)?;
    g.faults()?;
    // 5h, 6h, and both with FPD (no record).
    g.write(DEV_A, 0x2000, 4)?;
    g.read(DEV_A, 0x3000, 4)?;
    g.read(DEV_A, 0x9000, 4)?;
    g.write(dev_fpd, 0x2000, 4)?;
    g.read(dev_fpd, 0x3000, 4)?;
    g.faults()?;
    // Ah, Bh, Ch, Dh (translation request), Eh.
    g.write(dev_root_rsv, 0x1000, 4)?;
    g.read(dev_ctx_rsv, 0x1000, 4)?;
    g.read(DEV_A, 0x6000, 4)?;
    g.send(Req {
        at: 1,
        ..Req::read(DEV_A.0, 0, 0x1000, 64)
    })?;
    g.read(DEV_A, 0x5000, 4)?;
    g.faults()?;
    // Read errors: 7h (leaf table), 8h (root entry), 9h (context entry): CA for reads.
    g.os.mem().inject_error(Hpa(leaf_tbl), 0x1000);
    g.os.mem().inject_error(root_err, 16);
    g.os.mem().inject_error(ctx_err, 16);
    g.read(DEV_A, 0x4000_0000, 4)?;
    g.read(dev_root_err, 0x1000, 4)?;
    g.read(dev_ctx_err, 0x1000, 4)?;
    g.write(DEV_A, 0x4000_0000, 4)?;
    g.faults()?;
    g.os.mem().clear_errors();
    // Repairs under register-based invalidations of every granularity but global.
    Gen::e(g.os.write_context_entry_raw(dev_ctx_rsv, good_ctx))?;
    Gen::e(g.os.invalidate(&[InvRequest::ContextDevice {
        did: d1,
        sid: dev_ctx_rsv,
        fm: 0,
    }]))?;
    Gen::e(g.os.write_context_entry_raw(dev_tt11, good_ctx))?;
    Gen::e(g.os.invalidate(&[InvRequest::ContextDomain(d1)]))?;
    Gen::e(g.os.write_pte_raw(d1, Iova(0x6000), 1, 0x4_0000_6000 | 3))?;
    Gen::e(g.os.invalidate(&[InvRequest::IotlbPage {
        did: d1,
        addr: Iova(0x6000),
        am: 0,
        ih: true,
    }]))?;
    Gen::e(g.os.unmap(d1, Iova(0x1000), PageSize::Size4K))?;
    Gen::e(g.os.invalidate(&[InvRequest::IotlbDomain(d1)]))?;
    g.read(dev_ctx_rsv, 0x2000, 4)?;
    g.read(dev_tt11, 0x2000, 4)?;
    g.read(DEV_A, 0x6000, 4)?;
    g.read(DEV_A, 0x1000, 4)?;
    g.read(dev_ctx_err, 0x2000, 4)?;
    g.faults()?;
    // 30h: a root table of another type latched by SRTP blocks every DMA; back to legacy.
    let rta = g.os.root_table().0;
    Gen::e(g.os.platform_mut().reg_write(0x020, 8, rta | 1 << 10))?;
    Gen::e(g.os.gcmd(GlobalCommand::SetRootTablePointer, true))?;
    g.read(DEV_A, 0x2000, 4)?;
    g.write(DEV_B, 0x1000, 4)?;
    g.faults()?;
    Gen::e(g.os.platform_mut().reg_write(0x020, 8, rta))?;
    Gen::e(g.os.gcmd(GlobalCommand::SetRootTablePointer, true))?;
    Gen::e(g.os.invalidate(&[InvRequest::ContextGlobal, InvRequest::IotlbGlobal]))?;
    g.read(DEV_A, 0x2000, 4)?;
    g.write(DEV_B, 0x1000, 4)?;
    g.faults()?;
    Ok(())
}

fn dma_walks(g: &mut Gen) -> Result<(), String> {
    let mut devs = Vec::new();
    for (k, levels) in [3u8, 4, 5].into_iter().enumerate() {
        if !g.os.caps().supports_levels(levels) {
            continue;
        }
        let did = 1 + k as u16;
        let rid = Rid(0x0008 * (1 + k as u16));
        Gen::e(g.os.create_domain(DomainId(did), levels))?;
        Gen::e(g.os.assign_device(rid, DomainId(did)))?;
        // IOVAs with one index bit of one level set each, within the domain's width.
        let bits = 12 + 9 * u32::from(levels);
        let mut iovas = Vec::new();
        for b in 12..bits.min(u32::from(g.os.caps().mgaw)) {
            iovas.push(1u64 << b);
        }
        iovas.push((1u64 << bits.min(u32::from(g.os.caps().mgaw))) - 0x1000);
        for (i, iova) in iovas.iter().enumerate() {
            let hpa = 0x2_0000_0000 + (u64::from(did) << 24) + ((i as u64) << 12);
            g.map(did, *iova, hpa, PageSize::Size4K, Perms::RW)?;
        }
        devs.push((rid, did, iovas));
    }
    Gen::e(g.os.bring_up(BringUp {
        qi: true,
        ir: None,
        te: true,
    }))?;
    Gen::e(g.os.setup_fault_event(FE_ADDR, FE_DATA, false))?;
    for (rid, _, iovas) in &devs {
        for iova in iovas {
            g.read(*rid, iova + 0x40, 16)?;
        }
        // Neighbours of each mapped page are not mapped: a fault each.
        for iova in iovas.iter().take(3) {
            g.write(*rid, iova + 0x1000, 4)?;
        }
        g.faults()?;
    }
    // Domain-selective invalidation after remapping one page per domain.
    for (_, did, iovas) in &devs {
        let d = DomainId(*did);
        Gen::e(g.os.unmap(d, Iova(iovas[0]), PageSize::Size4K))?;
        g.map(
            *did,
            iovas[0],
            0x3_0000_0000 + (u64::from(*did) << 20),
            PageSize::Size4K,
            Perms::RO,
        )?;
        Gen::e(g.os.invalidate(&[InvRequest::IotlbDomain(d)]))?;
    }
    for (rid, _, iovas) in &devs {
        g.read(*rid, iovas[0], 8)?;
        g.write(*rid, iovas[0], 8)?;
        g.read(*rid, iovas[1], 8)?;
    }
    g.faults()?;
    Ok(())
}

fn dma_invalidation(g: &mut Gen) -> Result<(), String> {
    use iommu_driver::os::tables::level_index;
    let base = 0x0010_0000u64;
    Gen::e(g.os.create_domain(DomainId(1), 4))?;
    Gen::e(g.os.create_domain(DomainId(2), 4))?;
    Gen::e(g.os.create_domain(DomainId(3), 4))?;
    Gen::e(g.os.assign_device(DEV_A, DomainId(1)))?;
    Gen::e(g.os.assign_device(DEV_B, DomainId(2)))?;
    // Four functions of device 00:03 in domain 1.
    let funcs: Vec<Rid> = (0..4).map(|f| Rid(0x0018 | f)).collect();
    for r in &funcs {
        Gen::e(g.os.assign_device(*r, DomainId(1)))?;
    }
    for i in 0..16u64 {
        g.map(
            1,
            base + (i << 12),
            0x6_0000_0000 + (i << 12),
            PageSize::Size4K,
            Perms::RW,
        )?;
        g.map(
            3,
            base + (i << 12),
            0x7_0000_0000 + (i << 12),
            PageSize::Size4K,
            Perms::RW,
        )?;
    }
    // Domain 2: one page, whose leaf table is replaced below.
    let iova2 = 0x4000_0000u64;
    g.map(2, iova2, 0x8_1234_5000, PageSize::Size4K, Perms::RW)?;
    g.map(
        2,
        iova2 + 0x1000,
        0x8_1234_6000,
        PageSize::Size4K,
        Perms::RW,
    )?;
    Gen::e(g.os.bring_up(BringUp {
        qi: true,
        ir: None,
        te: true,
    }))?;
    Gen::e(g.os.setup_fault_event(FE_ADDR, FE_DATA, false))?;

    // 1. Page-selective with AM=2 (pages 4..7) after all 16 pages moved: 4..7 must translate to
    // the new pages; 3 and 8 may still hit their old entries.
    for i in 0..16u64 {
        g.read(DEV_A, base + (i << 12), 8)?;
    }
    for i in 0..16u64 {
        let iova = Iova(base + (i << 12));
        Gen::e(g.os.unmap(DomainId(1), iova, PageSize::Size4K))?;
        g.map(
            1,
            iova.0,
            0x6_8000_0000 + (i << 12),
            PageSize::Size4K,
            Perms::RW,
        )?;
    }
    Gen::e(g.os.invalidate(&[InvRequest::IotlbPage {
        did: DomainId(1),
        addr: Iova(base + 0x4000),
        am: 2,
        ih: false,
    }]))?;
    for i in [4u64, 7, 5, 6] {
        g.read(DEV_A, base + (i << 12) + 0x10, 8)?;
    }
    for i in [3u64, 8] {
        g.read(DEV_A, base + (i << 12), 8)?;
    }
    Gen::e(g.os.invalidate(&[InvRequest::IotlbDomain(DomainId(1))]))?;
    for i in [3u64, 8, 0, 15] {
        g.read(DEV_A, base + (i << 12), 8)?;
    }

    // 2. Replace domain 2's leaf table: a copy on a fresh page with the first leaf moved, the
    // entry above switched to it, a domain-selective invalidation (IH=0: the paging-structure
    // cache too). The walk must read the new table.
    g.read(DEV_B, iova2, 8)?;
    g.read(DEV_B, iova2 + 0x1000, 8)?;
    let above = Gen::e(g.os.pte_addr(DomainId(2), Iova(iova2), 2))?;
    let ptr = Gen::e(g.os.mem().read_u64(above))?;
    let old = ptr & 0x0000_FFFF_FFFF_F000;
    let mut table = vec![0u8; 0x1000];
    Gen::e(g.os.mem().read(Hpa(old), &mut table))?;
    let k = 8 * level_index(iova2, 1) as usize;
    let leaf = u64::from_le_bytes(table[k..k + 8].try_into().expect("8 bytes"));
    let moved = (leaf & 0xFFF) | 0x8_5555_5000;
    table[k..k + 8].copy_from_slice(&moved.to_le_bytes());
    let new = Gen::e(g.os.alloc_page())?;
    Gen::e(g.os.mem().write(new, &table))?;
    Gen::e(g.os.write_pte_raw(DomainId(2), Iova(iova2), 2, (ptr & 0xFFF) | new.0))?;
    Gen::e(g.os.invalidate(&[InvRequest::IotlbDomain(DomainId(2))]))?;
    g.read(DEV_B, iova2 + 0x20, 8)?;
    g.read(DEV_B, iova2 + 0x1000, 8)?;

    // 3. Move the four functions to domain 3 under one device-selective context invalidation
    // of 00:03.0 with FM=3 (function bits masked) and the old domain's IOTLB.
    for r in &funcs {
        g.read(*r, base + 0x9000, 8)?;
    }
    for r in &funcs {
        Gen::e(g.os.assign_device(*r, DomainId(3)))?;
    }
    Gen::e(g.os.invalidate(&[
        InvRequest::ContextDevice {
            did: DomainId(1),
            sid: funcs[0],
            fm: 3,
        },
        InvRequest::IotlbDomain(DomainId(1)),
    ]))?;
    for r in funcs.iter().rev() {
        g.read(*r, base + 0x9000, 8)?;
    }
    // 4. Move DEV_A to domain 3 under a domain-selective context invalidation of domain 1.
    g.read(DEV_A, base + 0x9000, 8)?;
    Gen::e(g.os.assign_device(DEV_A, DomainId(3)))?;
    Gen::e(g.os.invalidate(&[InvRequest::ContextDomain(DomainId(1))]))?;
    g.read(DEV_A, base + 0x9000, 8)?;
    g.faults()?;
    Ok(())
}

/// An interrupt request: a one-DW MWr of `m` from `rid`.
fn msi(g: &mut Gen, rid: Rid, m: MsiMessage) -> Result<Outcome, String> {
    g.tag = g.tag.wrapping_add(1);
    let req = Request {
        hdr: Req::write(rid.0, g.tag, m.addr, 4).encode(),
        data0: m.data,
    };
    g.os.platform_mut().send(req)
}

fn ir_sid_xapic(g: &mut Gen) -> Result<(), String> {
    // 4 KiB table of 256 entries (S=7), xAPIC (EIME=0), compatibility format allowed (CFI=1).
    Gen::e(g.os.bring_up(BringUp {
        qi: true,
        ir: Some(IrSetup {
            s: 7,
            eime: false,
            cfi: true,
        }),
        te: false,
    }))?;
    Gen::e(g.os.setup_fault_event(FE_ADDR, FE_DATA, false))?;
    let dev = Rid::from_bdf(3, 2, 5); // 03:02.5
    let irte = |vector: u8, svt: u8, sq: u8, sid: u16| RemappedIrte {
        present: true,
        vector,
        dst: RemappedIrte::xapic_dst(0x21),
        sid: Rid(sid),
        svt,
        sq,
        ..Default::default()
    };
    // 16..: one IRTE per check kind. SVT=01 with SQ masking function bits 2 / 2:1 / 2:0 of the
    // SID (function 5 = 0b101): an SID with function 1 matches only when bit 2 is ignored.
    let other_fn = Rid::from_bdf(3, 2, 1).0;
    let kinds: [(u8, u8, u16); 8] = [
        (0, 0, 0xFFFF),
        (1, 0, dev.0),
        (1, 1, other_fn),
        (1, 2, Rid::from_bdf(3, 2, 3).0),
        (1, 3, Rid::from_bdf(3, 2, 0).0),
        (2, 0, 0x0204), // buses 2..4
        (2, 0, 0x0405), // buses 4..5
        (3, 0, dev.0),
    ];
    for (k, (svt, sq, sid)) in kinds.iter().enumerate() {
        Gen::e(g.os.set_irte_remapped(16 + k as u32, &irte(0x40 + k as u8, *svt, *sq, *sid)))?;
    }
    // From the device itself, from function 00:02.1 of bus 3, and from bus 6.
    for rid in [dev, Rid::from_bdf(3, 2, 1), Rid::from_bdf(6, 0, 0)] {
        for k in 0..kinds.len() as u16 {
            msi(g, rid, MsiMessage::remappable(16 + k, None))?;
        }
        g.faults()?;
    }
    // Compatibility format passes unchanged (CFI=1, EIME=0).
    msi(g, dev, MsiMessage::compat(0x21, 0x33))?;
    // Remapping off: remappable messages pass unchanged too; then on again.
    Gen::e(g.os.gcmd(GlobalCommand::InterruptRemappingEnable, false))?;
    msi(g, dev, MsiMessage::remappable(16, None))?;
    msi(g, dev, MsiMessage::compat(0x21, 0x34))?;
    Gen::e(g.os.gcmd(GlobalCommand::InterruptRemappingEnable, true))?;
    msi(g, dev, MsiMessage::remappable(16, None))?;
    // Rewrite entries 20..23 for vector 0x70.., invalidate the block 20..23 (IM=2) and use each.
    for k in 20..24u32 {
        Gen::e(g.os.set_irte_remapped(k, &irte(0x70 + k as u8, 0, 0, 0)))?;
    }
    Gen::e(g.os.invalidate(&[InvRequest::IecIndex { iidx: 21, im: 2 }]))?;
    for k in 20..24u16 {
        msi(g, dev, MsiMessage::remappable(k, None))?;
    }
    g.faults()?;
    Ok(())
}

fn rogue_sriov(g: &mut Gen) -> Result<(), String> {
    use iommu_driver::sriov::SriovPf;
    // PF 03:00.0 with ARI, VF offset 1 and stride 1: VF n is 03:00.n up to n = 255, then bus 4.
    let mut pf = SriovPf::new(Rid(0x0300), 300, 1, 1, true);
    Gen::e(pf.set_num_vfs(264))?;
    let vfs = Gen::e(pf.vf_rids())?;
    let (vf1, vf2, vf3) = (vfs[0], vfs[1], vfs[2]);
    let (vf_b4, vf_b4_free) = (vfs[256], vfs[257]); // 04:00.01 (assigned), 04:00.02 (not)
    let (d1, d2, d3) = (DomainId(1), DomainId(2), DomainId(3));
    for (d, levels) in [(d1, 4), (d2, 4), (d3, 3)] {
        Gen::e(g.os.create_domain(d, levels))?;
    }
    Gen::e(g.os.assign_device(vf1, d1))?;
    Gen::e(g.os.assign_device(vf2, d2))?;
    Gen::e(g.os.assign_device(vf_b4, d3))?;
    g.map(1, 0x10_0000, 0x5000_0000, PageSize::Size4K, Perms::RW)?;
    g.map(2, 0x20_0000, 0x6000_0000, PageSize::Size4K, Perms::RW)?;
    g.map(3, 0x30_0000, 0x7000_0000, PageSize::Size4K, Perms::RW)?;
    // IR with x2APIC (EIME=1) and compatibility format blocked (CFI=0), 16 entries.
    Gen::e(g.os.bring_up(BringUp {
        qi: true,
        ir: Some(IrSetup {
            s: 3,
            eime: true,
            cfi: false,
        }),
        te: true,
    }))?;
    Gen::e(g.os.setup_fault_event(FE_ADDR, FE_DATA, false))?;
    // IRTE 1: VF1's; 2: VF2's; 3: any requester on bus 3 (SVT=10, buses 3..3).
    Gen::e(g.os.set_irte_remapped(1, &RemappedIrte::new(0x31, 7).verify_requester(vf1)))?;
    Gen::e(g.os.set_irte_remapped(2, &RemappedIrte::new(0x32, 8).verify_requester(vf2)))?;
    Gen::e(g.os.set_irte_remapped(
        3,
        &RemappedIrte {
            svt: 2,
            sid: iommu_driver::Rid(0x0303),
            ..RemappedIrte::new(0x33, 9).verify_requester(Rid(0))
        },
    ))?;
    // Each in its own domain; then at the other domain, and unassigned VFs on both buses.
    g.read(vf1, 0x10_0040, 64)?;
    g.read(vf2, 0x20_0040, 64)?;
    g.write(vf_b4, 0x30_0000, 64)?;
    g.read(vf1, 0x20_0040, 64)?;
    g.write(vf1, 0x20_0080, 4)?;
    g.read(vf2, 0x10_0040, 64)?;
    g.read(vf3, 0x10_0040, 64)?;
    g.write(vf3, 0x20_0040, 4)?;
    g.read(vf_b4_free, 0x30_0000, 4)?;
    g.read(vf_b4, 0x10_0040, 4)?;
    g.faults()?;
    // Interrupts spoofed by DMA writes to the window: compatibility format (25h), a remappable
    // address with data[31:16] set (20h), more than one DW (20h).
    g.write(vf1, 0xFEE0_0000, 4)?;
    g.write(vf1, 0xFEE0_0010, 4)?;
    g.write(vf1, 0xFEE0_0010, 16)?;
    // Another VF's handle (26h), the bus-range entry from bus 3 (delivered) and bus 4 (26h).
    msi(g, vf1, MsiMessage::remappable(2, None))?;
    msi(g, vf2, MsiMessage::remappable(2, None))?;
    msi(g, vf1, MsiMessage::remappable(3, None))?;
    msi(g, vf_b4, MsiMessage::remappable(3, None))?;
    // Compatibility-format injection (25h) and a handle beyond the table (21h).
    msi(g, vf2, MsiMessage::compat(1, 0x40))?;
    msi(g, vf1, MsiMessage::remappable(16, None))?;
    g.faults()?;
    // A flood: three times as many faults as records from unassigned VFs, then software drains
    // the records (PFO cleared) and new faults record again.
    let n = g.os.caps().num_fault_records;
    for k in 0..3 * n {
        let rid = vfs[8 + usize::from(k)];
        g.read(rid, 0x1000 * u64::from(k), 4)?;
    }
    g.faults()?;
    g.read(vfs[100], 0x5000, 4)?;
    g.read(vf1, 0x10_0000, 4)?;
    msi(g, vf1, MsiMessage::remappable(1, None))?;
    g.faults()?;
    Ok(())
}

fn pcie_ordering(g: &mut Gen) -> Result<(), String> {
    let d1 = DomainId(1);
    Gen::e(g.os.create_domain(d1, 4))?;
    Gen::e(g.os.assign_device(DEV_A, d1))?;
    Gen::e(g.os.assign_device(DEV_B, d1))?;
    // Warm pages 0x1000.., cold pages each in a leaf table of its own (a full walk).
    for i in 0..4u64 {
        g.map(
            1,
            0x1000 + (i << 12),
            0x3_0000_0000 + (i << 12),
            PageSize::Size4K,
            Perms::RW,
        )?;
    }
    let cold: Vec<u64> = (1..=24u64).map(|i| i << 30).collect();
    for (i, c) in cold.iter().enumerate() {
        g.map(
            1,
            *c,
            0x3_1000_0000 + ((i as u64) << 12),
            PageSize::Size4K,
            Perms::RW,
        )?;
    }
    Gen::e(g.os.bring_up(BringUp {
        qi: true,
        ir: Some(IrSetup {
            s: 3,
            eime: true,
            cfi: false,
        }),
        te: true,
    }))?;
    Gen::e(g.os.setup_fault_event(FE_ADDR, FE_DATA, false))?;
    Gen::e(g.os.set_irte_remapped(1, &RemappedIrte::new(0x41, 3).verify_requester(DEV_A)))?;
    Gen::e(g.os.set_irte_remapped(2, &RemappedIrte::new(0x42, 4).verify_requester(DEV_B)))?;
    // A register read between batches: everything before it has left the unit.
    let fence = |g: &mut Gen| -> Result<(), String> {
        Gen::e(g.os.platform_mut().reg_read(0x034, 4)).map(|_| ())
    };
    for i in 0..4u64 {
        g.read(DEV_A, 0x1000 + (i << 12), 4)?;
    }
    fence(g)?;
    let mut cold = cold.into_iter();
    let mut next_cold = || cold.next().ok_or("out of cold pages".to_string());
    let with = |attr: u8, r: Req| Req { attr, ..r };
    // 1. A hit write and a hit read behind a walking write of the same device: ordered.
    g.write(DEV_A, next_cold()?, 64)?;
    g.write(DEV_A, 0x1000, 64)?;
    g.read(DEV_A, 0x2000, 64)?;
    g.write(DEV_A, 0x3000, 4)?;
    fence(g)?;
    // 2. The same with RO=1 on the later ones: they may pass.
    g.write(DEV_A, next_cold()?, 64)?;
    g.send(with(0b010, Req::write(DEV_A.0, 0, 0x1040, 64)))?;
    g.send(with(0b010, Req::read(DEV_A.0, 0, 0x2040, 64)))?;
    fence(g)?;
    // 3. IDO=1: another requester may pass, the same one may not.
    g.write(DEV_A, next_cold()?, 64)?;
    g.send(with(0b100, Req::write(DEV_B.0, 0, 0x1080, 64)))?;
    g.send(with(0b100, Req::write(DEV_A.0, 0, 0x2080, 64)))?;
    fence(g)?;
    // 4. Interrupts behind walking DMA writes: the device's own MSI is ordered behind them,
    // another device's may pass; a read of the other device may pass too.
    g.write(DEV_A, next_cold()?, 256)?;
    g.write(DEV_A, next_cold()?, 64)?;
    msi(g, DEV_B, MsiMessage::remappable(2, None))?;
    msi(g, DEV_A, MsiMessage::remappable(1, None))?;
    g.read(DEV_B, 0x3000, 8)?;
    fence(g)?;
    // 5. A write that faults (dropped) ahead of hits; a read that walks ahead of a hit write
    // (a write may pass a read).
    g.write(DEV_A, 0x9000, 4)?;
    g.write(DEV_A, 0x1100, 4)?;
    g.read(DEV_A, next_cold()?, 64)?;
    g.write(DEV_A, 0x2100, 64)?;
    fence(g)?;
    // 6. Long chains: eight walking writes interleaved with hit writes of two devices.
    for i in 0..8u64 {
        let rid = if i % 2 == 0 { DEV_A } else { DEV_B };
        g.write(rid, next_cold()?, 64)?;
        g.write(rid, 0x1000 + ((i % 4) << 12) + 0x200, 32)?;
    }
    msi(g, DEV_A, MsiMessage::remappable(1, None))?;
    msi(g, DEV_B, MsiMessage::remappable(2, None))?;
    fence(g)?;
    g.faults()?;
    Ok(())
}

fn stale_window(g: &mut Gen) -> Result<(), String> {
    use iommu_driver::os::DeviceAssignment;
    let (d1, d2, d3) = (DomainId(1), DomainId(2), DomainId(3));
    for d in [d1, d2, d3] {
        Gen::e(g.os.create_domain(d, 4))?;
    }
    // DEV_A suppresses its faults (FPD) so that a stale alternative and a fault leave the same
    // fault records; DEV_B in another domain records its faults.
    Gen::e(g.os.assign_device_with(DEV_A, DeviceAssignment::translated(d1).with_fpd(true)))?;
    Gen::e(g.os.assign_device(DEV_B, d2))?;
    for (did, base) in [
        (1u16, 0x5_0000_0000u64),
        (2, 0x6_0000_0000),
        (3, 0x7_0000_0000),
    ] {
        for i in 0..4u64 {
            g.map(
                did,
                0x10_0000 + (i << 12),
                base + (i << 12),
                PageSize::Size4K,
                Perms::RW,
            )?;
        }
    }
    Gen::e(g.os.bring_up(BringUp {
        qi: true,
        ir: Some(IrSetup {
            s: 3,
            eime: true,
            cfi: false,
        }),
        te: true,
    }))?;
    Gen::e(g.os.setup_fault_event(FE_ADDR, FE_DATA, false))?;
    Gen::e(g.os.set_irte_remapped(
        4,
        &RemappedIrte {
            fpd: true,
            ..RemappedIrte::new(0x44, 5).verify_requester(DEV_A)
        },
    ))?;
    // Warm what goes stale: the leaves, the context entry, the IRTE.
    for i in 0..4u64 {
        g.read(DEV_A, 0x10_0000 + (i << 12), 8)?;
    }
    g.read(DEV_B, 0x10_0000, 8)?;
    msi(g, DEV_A, MsiMessage::remappable(4, None))?;
    // 1. Page 0 unmapped and page 1 remapped, no invalidation: old or new.
    Gen::e(g.os.unmap(d1, Iova(0x10_0000), PageSize::Size4K))?;
    Gen::e(g.os.unmap(d1, Iova(0x10_1000), PageSize::Size4K))?;
    g.map(1, 0x10_1000, 0x5_1000_0000, PageSize::Size4K, Perms::RO)?;
    g.read(DEV_A, 0x10_0000, 8)?;
    g.write(DEV_A, 0x10_0040, 8)?;
    g.read(DEV_A, 0x10_1000, 8)?;
    g.write(DEV_A, 0x10_1040, 8)?;
    // ...and another domain's page, never cached, is not affected.
    g.read(DEV_B, 0x10_2000, 8)?;
    // 2. The IRTE withdrawn (P=0, FPD=1), no IEC invalidation: the old message or nothing.
    Gen::e(g.os.write_irte_raw(4, 0b10))?;
    msi(g, DEV_A, MsiMessage::remappable(4, None))?;
    // 3. After the invalidations only the new outcomes.
    Gen::e(g.os.invalidate(&[
        InvRequest::IotlbPage {
            did: d1,
            addr: Iova(0x10_0000),
            am: 1,
            ih: false,
        },
        InvRequest::IecIndex { iidx: 4, im: 0 },
    ]))?;
    g.read(DEV_A, 0x10_0000, 8)?;
    g.read(DEV_A, 0x10_1000, 8)?;
    g.write(DEV_A, 0x10_1040, 8)?;
    msi(g, DEV_A, MsiMessage::remappable(4, None))?;
    // 4. DEV_A moved to domain 3 without a context invalidation: either domain's page; then
    // the device-selective invalidation and the old domain's IOTLB: domain 3's only.
    Gen::e(g.os.assign_device_with(DEV_A, DeviceAssignment::translated(d3).with_fpd(true)))?;
    g.read(DEV_A, 0x10_2000, 8)?;
    g.read(DEV_A, 0x10_3000, 8)?;
    Gen::e(g.os.invalidate(&[
        InvRequest::ContextDevice {
            did: d1,
            sid: DEV_A,
            fm: 0,
        },
        InvRequest::IotlbDomain(d1),
    ]))?;
    g.read(DEV_A, 0x10_2000, 8)?;
    g.read(DEV_A, 0x10_3000, 8)?;
    g.faults()?;
    Ok(())
}

/// Seed of the `random-mix` suite (its manifest states it).
const MIX_SEED: u64 = 0x1f00;
/// Requests of the `random-mix` suite.
const MIX_REQUESTS: usize = 400;

fn random_mix(g: &mut Gen) -> Result<(), String> {
    use iommu_driver::os::DeviceAssignment;
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(MIX_SEED);
    let caps = *g.os.caps();
    let mgaw = u32::from(caps.mgaw) + 1;
    // Domains 1..=3 of 3, 4 and 5 levels (as supported), two devices each on buses 1..3, a
    // device with FPD and a pass-through one.
    let mut doms: Vec<(u16, u8)> = Vec::new();
    for (k, levels) in [3u8, 4, 5].into_iter().enumerate() {
        if caps.supports_levels(levels) {
            let did = 1 + k as u16;
            Gen::e(g.os.create_domain(DomainId(did), levels))?;
            doms.push((did, levels));
        }
    }
    let mut devs: Vec<(Rid, Option<usize>)> = Vec::new();
    for (k, _) in doms.iter().enumerate() {
        for f in 0..2u16 {
            let rid = Rid(((1 + k as u16) << 8) | (0x10 + f));
            Gen::e(g.os.assign_device(rid, DomainId(doms[k].0)))?;
            devs.push((rid, Some(k)));
        }
    }
    let fpd_dev = Rid(0x0120);
    Gen::e(g.os.assign_device_with(
        fpd_dev,
        DeviceAssignment::translated(DomainId(doms[0].0)).with_fpd(true),
    ))?;
    devs.push((fpd_dev, Some(0)));
    let pt_dev = Rid(0x0128);
    if caps.pt {
        Gen::e(g.os.assign_device_with(pt_dev, DeviceAssignment::pass_through(DomainId(9))))?;
        devs.push((pt_dev, None));
    }
    devs.push((Rid(0x0138), None)); // no context entry
                                    // Mappings: (domain index, iova, size), all distinct pages of their size.
    let sizes = [PageSize::Size4K, PageSize::Size2M, PageSize::Size1G];
    let mut maps: Vec<(usize, u64, PageSize)> = Vec::new();
    let mut next_hpa = 0x10_0000_0000u64;
    let mut add_map = |g: &mut Gen,
                       rng: &mut rand_chacha::ChaCha8Rng,
                       maps: &mut Vec<(usize, u64, PageSize)>|
     -> Result<(), String> {
        let k = rng.gen_range(0..doms.len());
        let (did, levels) = doms[k];
        let size = sizes[match rng.gen_range(0..10) {
            0..=6 => 0,
            7..=8 => 1,
            _ => 2,
        }];
        if !g.os.caps().supports_page(size) {
            return Ok(());
        }
        let width = (12 + 9 * u32::from(levels)).min(mgaw);
        let bytes = size.bytes();
        // Low addresses half the time (neighbours meet), anywhere in the width otherwise.
        let top = if rng.gen_bool(0.5) {
            1u64 << 32
        } else {
            1u64 << width
        };
        let iova = rng.gen_range(0..top / bytes) * bytes;
        if maps.iter().any(|m| {
            m.0 == k && {
                let (a, b) = (m.1, m.1 + m.2.bytes());
                iova < b && a < iova + bytes
            }
        }) || (0xFEE0_0000..0xFF00_0000).contains(&iova)
        {
            return Ok(());
        }
        let perms = [Perms::RW, Perms::RW, Perms::RO, Perms::WO][rng.gen_range(0..4)];
        next_hpa = next_hpa.div_ceil(bytes) * bytes;
        let hpa = next_hpa;
        next_hpa += bytes;
        if g.os
            .map(DomainId(did), Iova(iova), Hpa(hpa), size, perms)
            .is_ok()
        {
            maps.push((k, iova, size));
        }
        Ok(())
    };
    for _ in 0..40 {
        add_map(g, &mut rng, &mut maps)?;
    }
    let eime = rng.gen_bool(0.5);
    let cfi = rng.gen_bool(0.5);
    Gen::e(g.os.bring_up(BringUp {
        qi: true,
        ir: Some(IrSetup { s: 5, eime, cfi }),
        te: true,
    }))?;
    Gen::e(g.os.setup_fault_event(FE_ADDR, FE_DATA, false))?;
    // 48 IRTEs: remapped or posted, random source checks; 48..63 stay not present.
    let mut pids = Vec::new();
    for _ in 0..3 {
        let pid = Gen::e(g.os.alloc_pid())?;
        let d = PostedInterruptDescriptor {
            nv: 0xF0 + pids.len() as u8,
            ndst: if eime { 0x0000_0100 } else { 0x0000_0200 },
            ..Default::default()
        };
        Gen::e(g.os.write_pid(pid, &d))?;
        pids.push(pid);
    }
    let irte = |rng: &mut rand_chacha::ChaCha8Rng,
                devs: &[(Rid, Option<usize>)]|
     -> (bool, RemappedIrte, PostedIrte) {
        let owner = devs[rng.gen_range(0..devs.len())].0;
        let svt = [0u8, 1, 1, 1, 2, 3][rng.gen_range(0..6)];
        let sid = if svt == 2 {
            let b = owner.bus();
            Rid(u16::from(b.saturating_sub(rng.gen_range(0..2))) << 8 | u16::from(b))
        } else {
            owner
        };
        let sq = if svt == 1 { rng.gen_range(0..4) } else { 0 };
        let vector = rng.gen_range(0x30..0xF0u8);
        let dst = if eime {
            rng.gen_range(0..0x400)
        } else {
            RemappedIrte::xapic_dst(rng.gen())
        };
        let r = RemappedIrte {
            present: true,
            fpd: rng.gen_bool(0.1),
            vector,
            dst,
            sid,
            sq,
            svt,
            ..Default::default()
        };
        let p = PostedIrte {
            present: true,
            fpd: r.fpd,
            urg: rng.gen_bool(0.2),
            vector,
            sid,
            sq,
            svt,
            ..Default::default()
        };
        (rng.gen_bool(0.3), r, p)
    };
    for i in 0..48u32 {
        let (posted, r, mut p) = irte(&mut rng, &devs);
        if posted {
            p.pda = pids[rng.gen_range(0..pids.len())];
            Gen::e(g.os.set_irte_posted(i, &p))?;
        } else {
            Gen::e(g.os.set_irte_remapped(i, &r))?;
        }
    }
    let nfr = usize::from(g.os.caps().num_fault_records);
    let mut faults = 0usize;
    let mut sent = 0usize;
    while sent < MIX_REQUESTS {
        let roll = rng.gen_range(0..100);
        let o = if roll < 70 {
            // DMA: at a mapping of the device's domain (or anywhere), random kind and size.
            let (rid, dom) = devs[rng.gen_range(0..devs.len())];
            let mine: Vec<&(usize, u64, PageSize)> =
                maps.iter().filter(|m| Some(m.0) == dom).collect();
            let addr = match (mine.is_empty(), rng.gen_bool(0.8)) {
                (false, true) => {
                    let m = mine[rng.gen_range(0..mine.len())];
                    m.1 + (rng.gen_range(0..m.2.bytes()) & !0x3F)
                }
                _ => rng.gen_range(0..1u64 << 40) & !0x3F,
            };
            let len = [4u32, 8, 64, 256][rng.gen_range(0..4)];
            let mut r = match rng.gen_range(0..10) {
                0..=4 => Req::read(rid.0, 0, addr, len),
                5..=8 => Req::write(rid.0, 0, addr, len),
                _ => Req {
                    kind: crate::hdr::Kind::FetchAdd,
                    ..Req::write(rid.0, 0, addr, 8)
                },
            };
            r.attr = [0u8, 0, 2, 4][rng.gen_range(0..4)];
            g.send(r)?
        } else if roll < 85 {
            // MSI: remappable (some beyond the table) or compatibility format.
            let (rid, _) = devs[rng.gen_range(0..devs.len())];
            let m = if rng.gen_bool(0.85) {
                let h = rng.gen_range(0..40u16);
                if rng.gen_bool(0.2) {
                    MsiMessage::remappable(h, Some(rng.gen_range(0..8)))
                } else {
                    MsiMessage::remappable(h + if rng.gen_bool(0.1) { 30 } else { 0 }, None)
                }
            } else {
                MsiMessage::compat(rng.gen(), rng.gen_range(0x30..0xF0))
            };
            msi(g, rid, m)?
        } else {
            let what = rng.gen_range(0..10);
            if what < 4 && !maps.is_empty() {
                // Unmap under a page-selective, domain or global invalidation.
                let (k, iova, size) = maps.swap_remove(rng.gen_range(0..maps.len()));
                let did = DomainId(doms[k].0);
                Gen::e(g.os.unmap(did, Iova(iova), size))?;
                // Page-selective needs an AM covering the page; beyond MAMV, domain-selective.
                let inv = match rng.gen_range(0..4) {
                    0 => InvRequest::IotlbDomain(did),
                    1 => InvRequest::IotlbGlobal,
                    _ if size.am() > caps.mamv => InvRequest::IotlbDomain(did),
                    _ => InvRequest::IotlbPage {
                        did,
                        addr: Iova(iova),
                        am: size.am(),
                        ih: false,
                    },
                };
                Gen::e(g.os.invalidate(&[inv]))?;
            } else if what < 7 {
                add_map(g, &mut rng, &mut maps)?;
            } else {
                // Rewrite an IRTE under an index-selective or global IEC invalidation.
                let i = rng.gen_range(0..48u32);
                let (posted, r, mut p) = irte(&mut rng, &devs);
                if posted {
                    p.pda = pids[rng.gen_range(0..pids.len())];
                    Gen::e(g.os.set_irte_posted(i, &p))?;
                } else {
                    Gen::e(g.os.set_irte_remapped(i, &r))?;
                }
                let inv = if rng.gen_bool(0.7) {
                    InvRequest::IecIndex {
                        iidx: i as u16,
                        im: rng.gen_range(0..3),
                    }
                } else {
                    InvRequest::IecGlobal
                };
                Gen::e(g.os.invalidate(&[inv]))?;
            }
            continue;
        };
        sent += 1;
        if o.fault().is_some() {
            faults += 1;
        }
        if faults + 2 >= nfr || rng.gen_bool(0.02) {
            g.faults()?;
            faults = 0;
        }
    }
    g.faults()?;
    Ok(())
}

const IR_DEV: Rid = Rid(0x0310); // 03:02.0
const IR_OTHER: Rid = Rid(0x0418); // 04:03.0

fn ir_remap_post(g: &mut Gen) -> Result<(), String> {
    Gen::e(g.os.bring_up(BringUp {
        qi: true,
        ir: Some(IrSetup {
            s: 3,
            eime: true,
            cfi: false,
        }),
        te: false,
    }))?;
    Gen::e(g.os.setup_fault_event(FE_ADDR, FE_DATA, false))?;
    let remapped = |v: u8, dst: u32| RemappedIrte::new(v, dst).verify_requester(IR_DEV);
    Gen::e(g.os.set_irte_remapped(5, &remapped(0x30, 0x0000_0102)))?;
    Gen::e(g.os.set_irte_remapped(
        12,
        &RemappedIrte {
            dm: true,
            rh: true,
            tm: true,
            dlm: 1,
            ..remapped(0x41, 0x0003_0000)
        },
    ))?;
    // A posted IRTE at 9 and its descriptor (ON=0: the first posting notifies).
    let pid = Gen::e(g.os.alloc_pid())?;
    let d = PostedInterruptDescriptor {
        nv: 0xF2,
        ndst: 0x0000_0103,
        ..Default::default()
    };
    Gen::e(g.os.write_pid(pid, &d))?;
    let posted = |pda, fpd| PostedIrte {
        present: true,
        fpd,
        vector: 0x61,
        pda,
        sid: IR_DEV,
        svt: 1,
        ..Default::default()
    };
    Gen::e(g.os.set_irte_posted(9, &posted(pid, false)))?;
    // 10: posted, descriptor unreadable (27h); 11: posted, descriptor with a reserved bit (28h).
    let bad_pid = Gen::e(g.os.alloc_pid())?;
    Gen::e(g.os.write_pid(bad_pid, &d))?;
    Gen::e(g.os.set_irte_posted(10, &posted(bad_pid, false)))?;
    let rsv_pid = Gen::e(g.os.alloc_pid())?;
    Gen::e(g.os.write_pid(rsv_pid, &d))?;
    let q4 = Gen::e(g.os.mem().read_u64(Hpa(rsv_pid.0 + 32)))?;
    Gen::e(g.os.mem().write_u64(Hpa(rsv_pid.0 + 32), q4 | 1 << 2))?;
    Gen::e(g.os.set_irte_posted(11, &posted(rsv_pid, false)))?;
    // 7: read error (23h); 8: reserved bit 12 (24h); 6 stays zero (22h); 13: FPD, other SID.
    Gen::e(g.os.set_irte_remapped(7, &remapped(0x30, 1)))?;
    let a7 = Gen::e(g.os.irte_addr(7))?;
    Gen::e(g.os.write_irte_raw(8, remapped(0x30, 1).encode() | 1 << 12))?;
    Gen::e(g.os.set_irte_remapped(
        13,
        &RemappedIrte {
            fpd: true,
            ..remapped(0x30, 1)
        },
    ))?;
    g.os.mem().inject_error(a7, 16);
    g.os.mem().inject_error(bad_pid, 64);

    // Delivered: plain, through a subhandle (handle 3 + 2 = 5), DM/RH/TM/DLM copied.
    msi(g, IR_DEV, MsiMessage::remappable(5, None))?;
    msi(g, IR_DEV, MsiMessage::remappable(3, Some(2)))?;
    msi(g, IR_DEV, MsiMessage::remappable(12, None))?;
    // Posted: notification, then none (ON set).
    msi(g, IR_DEV, MsiMessage::remappable(9, None))?;
    msi(g, IR_DEV, MsiMessage::remappable(9, None))?;
    g.faults()?;
    // 20h: data[31:16] set; 21h: index 16 of 16; 22h; 23h; 24h; 25h (compatibility with EIME);
    // 26h; 26h suppressed by FPD; 27h; 28h.
    let mut m = MsiMessage::remappable(5, None);
    m.data |= 0x0001_0000;
    msi(g, IR_DEV, m)?;
    msi(g, IR_DEV, MsiMessage::remappable(16, None))?;
    msi(g, IR_DEV, MsiMessage::remappable(6, None))?;
    msi(g, IR_DEV, MsiMessage::remappable(7, None))?;
    msi(g, IR_DEV, MsiMessage::remappable(8, None))?;
    g.faults()?;
    msi(g, IR_DEV, MsiMessage::compat(1, 0x30))?;
    msi(g, IR_OTHER, MsiMessage::remappable(5, None))?;
    msi(g, IR_OTHER, MsiMessage::remappable(13, None))?;
    msi(g, IR_DEV, MsiMessage::remappable(10, None))?;
    msi(g, IR_DEV, MsiMessage::remappable(11, None))?;
    g.faults()?;
    // Rewrite IRTE 5 for the other requester, invalidate it (IM=0), and use it from there.
    g.os.mem().clear_errors();
    Gen::e(g.os.set_irte_remapped(
        5,
        &RemappedIrte::new(0x52, 0x0000_0104).verify_requester(IR_OTHER),
    ))?;
    Gen::e(g.os.invalidate(&[InvRequest::IecIndex { iidx: 5, im: 0 }]))?;
    msi(g, IR_OTHER, MsiMessage::remappable(5, None))?;
    msi(g, IR_DEV, MsiMessage::remappable(5, None))?;
    g.faults()?;
    Ok(())
}

fn qi_errors(g: &mut Gen) -> Result<(), String> {
    Gen::e(g.os.create_domain(DomainId(1), 4))?;
    Gen::e(g.os.assign_device(DEV_A, DomainId(1)))?;
    g.map(1, 0x1000, 0x5_0000_1000, PageSize::Size4K, Perms::RW)?;
    Gen::e(g.os.bring_up(BringUp {
        qi: true,
        ir: None,
        te: true,
    }))?;
    Gen::e(g.os.setup_fault_event(FE_ADDR, FE_DATA, false))?;
    g.read(DEV_A, 0x1000, 64)?;
    // Waits: status write, then IWC (interrupt flag, masked event), then both.
    for w in [WaitKind::StatusWrite, WaitKind::Interrupt, WaitKind::Both] {
        Gen::e(g.os.invalidate_qi(&[InvRequest::IotlbGlobal], w))?;
    }
    // An invalid type (0) and a reserved field (IOTLB descriptor with bit 63 set): each stops
    // the queue on that descriptor; software recovers.
    for bad in [(0u64, 0u64), (2 | 1 << 4 | 1 << 63, 0)] {
        match g.os.qi_submit_and_wait(&[bad], WaitKind::StatusWrite) {
            Err(iommu_driver::os::OsError::Queue(_)) => {}
            other => return Err(format!("expected a queue error, got {other:?}")),
        }
        Gen::e(g.os.qi_recover())?;
        Gen::e(g.os.invalidate_qi(&[], WaitKind::StatusWrite))?;
    }
    // Remap the page; the invalidation through the recovered queue takes effect.
    Gen::e(g.os.unmap(DomainId(1), Iova(0x1000), PageSize::Size4K))?;
    g.map(1, 0x1000, 0x5_0000_8000, PageSize::Size4K, Perms::RO)?;
    Gen::e(g.os.invalidate(&[InvRequest::IotlbPage {
        did: DomainId(1),
        addr: Iova(0x1000),
        am: 0,
        ih: false,
    }]))?;
    g.read(DEV_A, 0x1000, 64)?;
    g.write(DEV_A, 0x1000, 4)?;
    g.faults()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memsrv::MemConfig;
    use crate::sim::{Knobs, Sim};
    use iommu_driver::mem::HostMemory;

    #[test]
    fn identity_is_what_the_rtl_advertises() {
        for c in [DutConfig::Default, DutConfig::Tiny] {
            let mut s = Sim::new(
                c,
                HostMemory::new(),
                MemConfig::default(),
                Knobs::full_speed(),
                0,
            );
            let cap = s.csr_access(false, 0x008, 8, 0, 1000).expect("CAP");
            let ecap = s.csr_access(false, 0x010, 8, 0, 1000).expect("ECAP");
            assert_eq!(
                (cap, ecap),
                identity(c),
                "{c}: CAP {cap:#018x} ECAP {ecap:#018x}"
            );
        }
    }
}
