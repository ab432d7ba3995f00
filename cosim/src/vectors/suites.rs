//! The committed suites, each generated from the golden model by the OS driver programming a
//! [`Recorder`]. Names are the folder names under `testvectors/`.

use super::record::Recorder;
use super::Suite;
use crate::dut::DutConfig;
use crate::hdr::Req;
use iommu_driver::model::{ModelConfig, Outcome, Request};
use iommu_driver::os::{
    BringUp, InvRequest, Iommu, MsiMessage, OsConfig, PageSize, Perms, PostedInterruptDescriptor,
    PostedIrte, RemappedIrte, WaitKind,
};
use iommu_driver::{DomainId, Hpa, Iova, Rid};

/// A suite generator: name, one-line description (no commas), body.
struct Def {
    name: &'static str,
    description: &'static str,
    config: DutConfig,
    body: fn(&mut Gen) -> Result<(), String>,
}

const SUITES: &[Def] = &[
    Def {
        name: "dma-translate",
        description: "DMA translation with 4 KiB / 2 MiB / 1 GiB pages; permission; not-present and address-width faults; register-based invalidation",
        config: DutConfig::Default,
        body: dma_translate,
    },
    Def {
        name: "dma-walks",
        description: "3- 4- and 5-level walks with IOVAs that set every index bit of every level; queued invalidation",
        config: DutConfig::Default,
        body: dma_walks,
    },
    Def {
        name: "dma-invalidation",
        description: "invalidation edges: a page-selective invalidation over 2^AM pages probed at its first and last page and just outside; a replaced leaf table under a domain-selective invalidation (paging-structure cache); devices moved under a device-selective context invalidation with a function mask",
        config: DutConfig::Default,
        body: dma_invalidation,
    },
    Def {
        name: "ir-remap-post",
        description: "interrupt remapping in x2APIC mode: remapped and posted interrupts (notification once) and every fault 20h-28h with FPD; an IRTE rewrite under an index-selective IEC invalidation",
        config: DutConfig::Default,
        body: ir_remap_post,
    },
    Def {
        name: "qi-errors",
        description: "the invalidation queue: waits with status write and with IWC; invalid descriptor type and reserved fields stop it (IQE) with IQH on the bad descriptor; recovery",
        config: DutConfig::Default,
        body: qi_errors,
    },
    Def {
        name: "dma-translate-tiny",
        description: "the dma-translate traffic on the tiny configuration (2-entry caches and one walker)",
        config: DutConfig::Tiny,
        body: dma_translate,
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
    Ok(g.os
        .into_platform()
        .finish(d.name, d.description, 0, d.config))
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

const IR_DEV: Rid = Rid(0x0310); // 03:02.0
const IR_OTHER: Rid = Rid(0x0418); // 04:03.0

fn ir_remap_post(g: &mut Gen) -> Result<(), String> {
    Gen::e(g.os.bring_up(BringUp {
        qi: true,
        ir: Some((3, true, false)),
        te: false,
    }))?;
    Gen::e(g.os.setup_fault_event(FE_ADDR, FE_DATA, false))?;
    let remapped = |v: u8, dst: u32| RemappedIrte::simple(v, dst, IR_DEV.0);
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
        sid: IR_DEV.0,
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
    Gen::e(g.os.set_irte_remapped(5, &RemappedIrte::simple(0x52, 0x0000_0104, IR_OTHER.0)))?;
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
        match g.os.qi_submit_raw(&[bad], WaitKind::StatusWrite) {
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
