//! Regressions for the known bugs of public VT-d code listed in spec D5, through the external
//! interface (TLPs into the model, registers through `Platform`, tables built by the OS driver).
//!
//! Not here: #10 (Linux kdump, scalable-mode UCTP) is out of scope, this unit is legacy-mode only
//! (ECAP.SMTS=0); #17 (cocotbext Lower Address precedence) is a TLP-codec matter covered by the
//! `tlp` tests, not a remapping behaviour.

mod os_common;
use iommu_driver::os::GlobalCommand;
use os_common::*;

use iommu_driver::model::{Msi, Outcome};
use iommu_driver::os::{
    unit, InvRequest, MsiMessage, OsError, PageSize, Perms, RemappedIrte, WaitKind,
};
use iommu_driver::platform::Platform;
use iommu_driver::tlp::CplStatus;
use iommu_driver::{DomainId, Hpa, Iova, Rid};

const S: u8 = 3;
const IE_ADDR: u64 = 0xFEE0_3000;
const IE_DATA: u32 = 0x51;

fn irq(addr: u64, data: u32) -> Outcome {
    Outcome::Interrupt {
        msi: Msi { addr, data },
    }
}

/// Remapped output of a fixed/edge/physical IRTE with vector `v` to x2APIC 1 (spec B6).
fn irq_v(v: u8) -> Outcome {
    irq(0xFEE0_1000, 0x4000 | v as u32)
}

/// Write a descriptor at the driver's tail and move IQT past it, without a wait descriptor.
fn push_raw(os: &mut Os, qw0: u64, qw1: u64) -> u32 {
    let (base, entries, tail) = os.qi_state().unwrap();
    os.mem()
        .write_u128(
            Hpa(base.0 + 16 * tail as u64),
            (qw1 as u128) << 64 | qw0 as u128,
        )
        .unwrap();
    let next = (tail + 1) % entries;
    os.qi_set_tail(next).unwrap();
    tail
}

#[test]
fn d5_01_descriptor_type_includes_qw0_bits_11_9() {
    let mut os = dma_setup();
    // Observe DEV's context entry, then make it invalid in memory.
    assert_eq!(read(&mut os, DEV, IOVA), fwd(HPA));
    let root = os.domain(DOM).unwrap().root.0;
    let lo = root | 3 << 2 | 1; // TT=11
    os.write_context_entry_raw(DEV, ((DOM.0 as u128) << 72 | 2 << 64) | lo as u128)
        .unwrap();
    let (_, _, tail) = os.qi_state().unwrap();
    // {qw0[11:9], qw0[3:0]} = {001, 0001} = type 11h: not a context-cache invalidation.
    let err = os
        .qi_submit_and_wait(&[(1 | 1 << 4 | 1 << 9, 0)], WaitKind::StatusWrite)
        .unwrap_err();
    let OsError::Queue(q) = err else {
        panic!("expected IQE, got {err:?}")
    };
    assert_eq!(q.fsts & unit::FSTS_IQE, unit::FSTS_IQE);
    assert_eq!(
        q.iqh,
        (tail as u64) << 4,
        "IQH pinned at the bad descriptor"
    );
    // IQEI = 3: invalid descriptor type (A12).
    assert_eq!(q.iqercd & 0xF, 3);
    // The context cache was not invalidated: the old (valid) context may still be used.
    let a = evaluate(&mut os, &read_req(DEV, IOVA));
    assert!(a.contains(&fwd(HPA)), "{a:?}");
}

#[test]
fn d5_02_iqa_reads_back_dw() {
    let mut os = os();
    let v = 0x1234_5000u64 | 1 << 11 | 2;
    os.platform_mut().write64(unit::IQA_REG, v).unwrap();
    assert_eq!(reg64(&mut os, unit::IQA_REG), v);
    // Also written as two dwords.
    let w = 0x0000_0001_2345_6000u64 | 1 << 11 | 5;
    os.platform_mut().write32(unit::IQA_REG, w as u32).unwrap();
    os.platform_mut()
        .write32(unit::IQA_REG + 4, (w >> 32) as u32)
        .unwrap();
    assert_eq!(reg64(&mut os, unit::IQA_REG), w);
}

#[test]
fn d5_03_psi_am9_and_am18_cover_superpages_and_all_pages() {
    let mut os = dma_setup();
    let big2m = 0x4020_0000u64; // 2 MiB leaf
    let big1g = 0x1_0000_0000u64; // 1 GiB leaf
    let small = 0x8000_0000u64; // 4 KiB pages in one 2 MiB range
    os.map(
        DOM,
        Iova(big2m),
        Hpa(0x2_0000_0000),
        PageSize::Size2M,
        Perms::RW,
    )
    .unwrap();
    os.map(
        DOM,
        Iova(big1g),
        Hpa(0x4_0000_0000),
        PageSize::Size1G,
        Perms::RW,
    )
    .unwrap();
    let smalls = [
        small,
        small + 0x10_0000,
        small + 0x1F_F000,
        small + 0x20_0000,
    ];
    for (k, &s) in smalls.iter().enumerate() {
        os.map(
            DOM,
            Iova(s),
            Hpa(0x3_0000_0000 + 0x1000 * k as u64),
            PageSize::Size4K,
            Perms::RW,
        )
        .unwrap();
    }
    let probes = [
        (
            big2m + 0x1F_F010,
            0x2_0000_0000 + 0x1F_F010,
            0x2_1000_0000 + 0x1F_F010,
        ),
        (big1g + 0x3FFF_F008, 0x4_3FFF_F008, 0x5_3FFF_F008),
    ];
    for &(iova, old, _) in &probes {
        assert_eq!(read(&mut os, DEV, iova), fwd(old));
    }
    for &s in &smalls {
        read(&mut os, DEV, s);
    }
    // Re-point every leaf without invalidating.
    os.write_pte_raw(DOM, Iova(big2m), 2, 0x2_1000_0000 | 1 << 7 | 3)
        .unwrap();
    os.write_pte_raw(DOM, Iova(big1g), 3, 0x5_0000_0000 | 1 << 7 | 3)
        .unwrap();
    for &s in &smalls {
        os.write_pte_raw(DOM, Iova(s), 1, 0x6_0000_0000 | 3)
            .unwrap();
    }
    for &(iova, old, new) in &probes {
        let a = evaluate(&mut os, &read_req(DEV, iova));
        assert!(a.contains(&fwd(old)) && a.contains(&fwd(new)), "{a:?}");
    }
    // PSI AM=9 at the 2 MiB page and at the 4 KiB range; AM=18 at the 1 GiB page (IH=1).
    os.invalidate_qi(
        &[
            InvRequest::IotlbPage {
                did: DOM,
                addr: Iova(big2m),
                am: 9,
                ih: true,
            },
            InvRequest::IotlbPage {
                did: DOM,
                addr: Iova(small + 0x5000),
                am: 9,
                ih: true,
            },
            InvRequest::IotlbPage {
                did: DOM,
                addr: Iova(big1g + 0x1234_5000),
                am: 18,
                ih: true,
            },
        ],
        WaitKind::StatusWrite,
    )
    .unwrap();
    for &(iova, _, new) in &probes {
        let a = evaluate(&mut os, &read_req(DEV, iova));
        assert!(a.is_single() && *a.fresh() == fwd(new), "{a:?}");
    }
    for &s in &smalls[..3] {
        let a = evaluate(&mut os, &read_req(DEV, s));
        assert!(
            a.is_single() && *a.fresh() == fwd(0x6_0000_0000),
            "{s:#x}: {a:?}"
        );
    }
    // The page just past the 2^9-page range keeps its stale window.
    let a = evaluate(&mut os, &read_req(DEV, smalls[3]));
    assert_eq!(a.len(), 2, "{a:?}");
}

#[test]
fn d5_04_frcd_fields_intact_with_all_high_fields() {
    // Legacy mode: requests carry no PASID (a TLP prefix is malformed), so PP/PV stay 0. Check the
    // whole 128-bit record with SID, AT, T, FR and FI all at extreme values instead.
    let mut os = dma_setup();
    let sid = Rid(0xFFFF);
    os.assign_device(sid, DOM).unwrap();
    let addr = 0xFFFF_FFFF_FFFF_F000u64;
    let o = os.platform_mut().process(&read_req_at(sid, addr, 0b10));
    assert_eq!(o, ur(0x0D));
    // F=1 T=1 AT=10 PV=0 FR=0Dh PP=0 SID=FFFFh; FI = 0xFFFF_FFFF_FFFF_F000.
    assert_eq!(frcd(&mut os, 0), 0xE000_000D_0000_FFFF_FFFF_FFFF_FFFF_F000);
    let r = os.handle_faults().unwrap().records[0].record();
    assert!(!r.pp && r.pv == 0 && r.sid == sid && r.fr == 0x0D && r.at == 2 && r.t);
}

#[test]
fn d5_05_irte_sid_sq_svt_positions_from_raw_qwords() {
    let mut os = ir_setup(S, true, false);
    // qword0: P=1, V=30h at 23:16, DST=1 at 63:32 -> 0x0000_0001_0030_0001.
    // qword1: SID=0310h at 79:64, SQ=11 at 81:80, SVT=01 at 83:82 -> 0x0000_0000_0007_0310.
    os.write_irte_raw(4, 0x0000_0000_0007_0310_0000_0001_0030_0001)
        .unwrap();
    let m = MsiMessage::remappable(4, None);
    // SQ=11 ignores the function number: 03:02.7 passes, 03:03.0 does not.
    assert_eq!(msi(&mut os, Rid(0x0317), m.addr, m.data), irq_v(0x30));
    assert_eq!(msi(&mut os, Rid(0x0318), m.addr, m.data), dropped(0x26));
    // SVT=10 (bus range 3..5): qword1 = 0x0000_0000_0008_0305.
    os.write_irte_raw(4, 0x0000_0000_0008_0305_0000_0001_0030_0001)
        .unwrap();
    os.invalidate_qi(&[InvRequest::IecGlobal], WaitKind::StatusWrite)
        .unwrap();
    assert_eq!(msi(&mut os, Rid(0x0400), m.addr, m.data), irq_v(0x30));
}

#[test]
fn d5_06_rtaddr_reads_back_raw_value_with_ttm() {
    let mut os = dma_setup();
    let root = os.root_table().0;
    let v = root | 0b01 << 10;
    os.platform_mut().write64(unit::RTADDR_REG, v).unwrap();
    assert_eq!(reg64(&mut os, unit::RTADDR_REG), v, "before SRTP");
    os.gcmd(GlobalCommand::SetRootTablePointer, true).unwrap();
    assert_eq!(reg64(&mut os, unit::RTADDR_REG), v, "after SRTP");
    // Latched TTM=01 in a legacy-only unit: untranslated DMA faults with 30h (UR for reads).
    let o = read(&mut os, DEV, IOVA);
    assert!(
        matches!(
            o,
            Outcome::Complete {
                status: CplStatus::Ur,
                ..
            }
        ),
        "{o:?}"
    );
    let r = frcd(&mut os, 0);
    assert_eq!(r >> 64, 0xC000_0030_0000_0310, "FR=30h, SID, T=1, F=1");
    assert_eq!(r as u64, IOVA);
}

#[test]
fn d5_07_ir_faults_recorded_with_index() {
    // (code, index used, fpd-suppressible)
    for (code, idx, qualified) in [
        (0x21u8, 16u16, false),
        (0x22, 6, true),
        (0x23, 7, false),
        (0x24, 5, true),
        (0x26, 9, true),
    ] {
        for fpd in [false, true] {
            if fpd && !qualified {
                continue;
            }
            let mut os = ir_setup(S, true, false);
            let mut e = RemappedIrte::new(0x30, 1).verify_requester(DEV);
            e.fpd = fpd;
            let mut raw = e.encode();
            let mut sender = DEV;
            match code {
                0x22 => raw &= !1,
                0x24 => raw |= 1 << 14,
                0x26 => sender = Rid(0x0700),
                _ => {}
            }
            if idx < 16 {
                os.write_irte_raw(idx as u32, raw).unwrap();
            }
            if code == 0x23 {
                let a = os.irte_addr(idx as u32).unwrap();
                os.mem().inject_error(a, 16);
            }
            let m = MsiMessage::remappable(idx, None);
            assert_eq!(msi(&mut os, sender, m.addr, m.data), dropped(code));
            let r = frcd(&mut os, 0);
            if fpd {
                assert_eq!(r, 0, "{code:#x} suppressed by FPD");
            } else {
                assert_eq!(r, frcd_ir(code, sender, idx), "{code:#x}");
            }
        }
    }
    // 20h: FI index 0.
    let mut os = ir_setup(S, true, false);
    let m = MsiMessage::remappable(5, Some(0));
    assert_eq!(msi(&mut os, DEV, m.addr, 0x0002_0000), dropped(0x20));
    assert_eq!(frcd(&mut os, 0), frcd_ir(0x20, DEV, 0));
}

#[test]
fn d5_08_svt10_bus_range_start_high_byte() {
    let mut os = ir_setup(S, true, false);
    // SID = 0x0205: start bus 2 (high byte), end bus 5 (low byte).
    let e = RemappedIrte {
        sid: iommu_driver::Rid(0x0205),
        svt: 0b10,
        ..RemappedIrte::new(0x30, 1).verify_requester(Rid(0))
    };
    os.set_irte_remapped(3, &e).unwrap();
    let m = MsiMessage::remappable(3, None);
    for bus in [2u8, 3, 5] {
        let r = Rid::from_bdf(bus, 1, 0);
        assert_eq!(msi(&mut os, r, m.addr, m.data), irq_v(0x30), "bus {bus}");
    }
    for (k, bus) in [1u8, 6].into_iter().enumerate() {
        let r = Rid::from_bdf(bus, 1, 0);
        assert_eq!(msi(&mut os, r, m.addr, m.data), dropped(0x26), "bus {bus}");
        assert_eq!(frcd(&mut os, k as u16), frcd_ir(0x26, r, 3));
    }
}

#[test]
fn d5_09_wait_with_sw_and_if_does_both() {
    let mut os = dma_setup();
    os.setup_inv_event(IE_ADDR, IE_DATA, false).unwrap();
    let status = os.alloc_page().unwrap();
    let (qw0, qw1) = unit::wait_descriptor(true, true, false, 0xCAFE_F00D, status);
    // Type 5, IF bit 4, SW bit 5, data in 63:32.
    assert_eq!(qw0, 0xCAFE_F00D_0000_0035);
    push_raw(&mut os, qw0, qw1);
    assert_eq!(
        os.mem().read_u32(status).unwrap(),
        0xCAFE_F00D,
        "status write"
    );
    assert_eq!(reg32(&mut os, unit::ICS_REG), unit::ICS_IWC, "IWC set");
    assert_eq!(
        events(&mut os),
        vec![Msi {
            addr: IE_ADDR,
            data: IE_DATA
        }]
    );
    assert_eq!(fsts(&mut os), 0);
}

fn ir_stale_setup() -> Os {
    let mut os = ir_setup(S, true, false);
    os.set_irte_remapped(5, &RemappedIrte::new(0x30, 1).verify_requester(DEV))
        .unwrap();
    let m = MsiMessage::remappable(5, None);
    assert_eq!(msi(&mut os, DEV, m.addr, m.data), irq_v(0x30));
    os
}

#[test]
fn d5_11_stale_irte_until_iec_index_invalidation() {
    let mut os = ir_stale_setup();
    os.set_irte_remapped(5, &RemappedIrte::new(0x31, 1).verify_requester(DEV))
        .unwrap();
    let req = msi_req(DEV, MsiMessage::remappable(5, None).addr, 0);
    let a = evaluate(&mut os, &req);
    assert!(
        a.contains(&irq_v(0x30)) && a.contains(&irq_v(0x31)),
        "{a:?}"
    );
    // An index range that does not cover 5 leaves the stale entry.
    os.invalidate_qi(
        &[InvRequest::IecIndex { iidx: 8, im: 2 }],
        WaitKind::StatusWrite,
    )
    .unwrap();
    assert_eq!(evaluate(&mut os, &req).len(), 2);
    // IIDX=6, IM=2 covers 4..7 (aligned down).
    os.invalidate_qi(
        &[InvRequest::IecIndex { iidx: 6, im: 2 }],
        WaitKind::StatusWrite,
    )
    .unwrap();
    let a = evaluate(&mut os, &req);
    assert!(a.is_single() && *a.fresh() == irq_v(0x31), "{a:?}");
}

#[test]
fn d5_12_svt01_rejects_foreign_requester() {
    let mut os = ir_stale_setup();
    let m = MsiMessage::remappable(5, None);
    let foreign = Rid::from_bdf(9, 0, 0);
    assert_eq!(msi(&mut os, foreign, m.addr, m.data), dropped(0x26));
    assert_eq!(frcd(&mut os, 0), frcd_ir(0x26, foreign, 5));
}

#[test]
fn d5_13_sirtp_keeps_stale_iec_until_global_flush() {
    let mut os = ir_stale_setup();
    // A new table with a different IRTE 5, latched by SIRTP without an IEC flush.
    os.setup_ir_table(S, true).unwrap();
    os.set_irte_remapped(5, &RemappedIrte::new(0x42, 1).verify_requester(DEV))
        .unwrap();
    let irta = os.irta_value().unwrap();
    os.platform_mut().write64(unit::IRTA_REG, irta).unwrap();
    os.gcmd(GlobalCommand::SetInterruptRemapTablePointer, true)
        .unwrap();
    let req = msi_req(DEV, MsiMessage::remappable(5, None).addr, 0);
    let a = evaluate(&mut os, &req);
    assert_eq!(*a.fresh(), irq_v(0x42));
    assert!(
        a.contains(&irq_v(0x30)),
        "ESIRTPS=0: old IEC entry usable: {a:?}"
    );
    os.invalidate_qi(&[InvRequest::IecGlobal], WaitKind::StatusWrite)
        .unwrap();
    let a = evaluate(&mut os, &req);
    assert!(a.is_single() && *a.fresh() == irq_v(0x42), "{a:?}");
}

#[test]
fn d5_14_three_level_tables_limit_39_bits() {
    let mut os = dma_setup_levels(3);
    let top = (1u64 << 39) - 0x1000;
    os.map(
        DOM,
        Iova(top),
        Hpa(0x9000_0000),
        PageSize::Size4K,
        Perms::RW,
    )
    .unwrap();
    assert_eq!(read(&mut os, DEV, top + 0xFFC), fwd(0x9000_0FFC));
    assert_eq!(read(&mut os, DEV, 1 << 39), ur(0x04));
    assert_eq!(frcd(&mut os, 0), frcd_dma(0x04, DEV, 1 << 39, true, 0));
    // The driver refuses a mapping beyond the domain's width.
    assert!(matches!(
        os.map(
            DOM,
            Iova(1 << 39),
            Hpa(0x9000_0000),
            PageSize::Size4K,
            Perms::RW
        ),
        Err(OsError::AddressTooWide { .. })
    ));
}

#[test]
fn d5_15_superpage_output_masked_and_low_bits_reserved() {
    let mut os = dma_setup();
    let (i2m, h2m) = (0x4040_0000u64, 0x2_0020_0000u64);
    let (i1g, h1g) = (0x80_0000_0000u64, 0x3_4000_0000u64);
    // Ignored bits set: 10, 52..61, 63; also A/D (8, 9) which legacy mode ignores.
    let junk = 1 << 10 | 0x3FF << 52 | 1 << 63 | 1 << 8 | 1 << 9;
    os.write_pte_raw(DOM, Iova(i2m), 2, h2m | junk | 1 << 7 | 3)
        .unwrap();
    os.write_pte_raw(DOM, Iova(i1g), 3, h1g | junk | 1 << 7 | 3)
        .unwrap();
    assert_eq!(read(&mut os, DEV, i2m + 0x1_2344), fwd(h2m + 0x1_2344));
    assert_eq!(
        read(&mut os, DEV, i1g + 0x2345_6788),
        fwd(h1g + 0x2345_6788)
    );
    // Reserved low address bits of a large leaf: 2 MiB bit 12, 1 GiB bit 20 -> Ch.
    os.write_pte_raw(DOM, Iova(i2m), 2, h2m | 1 << 12 | 1 << 7 | 3)
        .unwrap();
    os.write_pte_raw(DOM, Iova(i1g), 3, h1g | 1 << 20 | 1 << 7 | 3)
        .unwrap();
    os.invalidate(&[InvRequest::IotlbGlobal]).unwrap();
    assert_eq!(read(&mut os, DEV, i2m), ur(0x0C));
    assert_eq!(write(&mut os, DEV, i1g), dropped(0x0C));
    assert_eq!(frcd(&mut os, 0), frcd_dma(0x0C, DEV, i2m, true, 0));
    // Same SID + same FR: the second is compressed.
    assert_eq!(frcd(&mut os, 1), 0);
}

#[test]
fn d5_16_wait_if_is_bit4_pd_is_bit7() {
    let mut os = dma_setup();
    os.setup_inv_event(IE_ADDR, IE_DATA, false).unwrap();
    // IF=1, PD=0 -> completion interrupt.
    push_raw(&mut os, 5 | 1 << 4, 0);
    assert_eq!(reg32(&mut os, unit::ICS_REG), unit::ICS_IWC);
    assert_eq!(
        events(&mut os),
        vec![Msi {
            addr: IE_ADDR,
            data: IE_DATA
        }]
    );
    os.platform_mut()
        .write32(unit::ICS_REG, unit::ICS_IWC)
        .unwrap();
    // IF=0, PD=1 with ECAP.PDS=0 -> no interrupt; bit 7 is reserved -> IQE.
    let at = push_raw(&mut os, 5 | 1 << 7, 0);
    assert_eq!(reg32(&mut os, unit::ICS_REG), 0);
    assert_eq!(fsts(&mut os) & unit::FSTS_IQE, unit::FSTS_IQE);
    assert_eq!(reg64(&mut os, unit::IQH_REG), (at as u64) << 4);
    // The IQE raised the fault event (FECTL unmasked by dma_setup), not an IE event.
    assert_eq!(
        events(&mut os),
        vec![Msi {
            addr: FE_ADDR,
            data: FE_DATA
        }]
    );
}

#[test]
fn d5_18_rid_aliases_accepted_as_programmed() {
    let mut os = ir_setup(S, true, false);
    // SVT=01, SQ=11 (ignore function): SID 00:10.0 accepts 00:10.6.
    let e = RemappedIrte {
        sq: 0b11,
        ..RemappedIrte::new(0x30, 1).verify_requester(Rid(Rid::from_bdf(0, 0x10, 0).0))
    };
    os.set_irte_remapped(1, &e).unwrap();
    let m = MsiMessage::remappable(1, None);
    assert_eq!(
        msi(&mut os, Rid::from_bdf(0, 0x10, 6), m.addr, m.data),
        irq_v(0x30)
    );
    // SVT=10 bus 1..1 (device behind a bridge): 01:05.0 accepted, 02:00.0 rejected.
    let e = RemappedIrte {
        sid: iommu_driver::Rid(0x0101),
        svt: 0b10,
        ..RemappedIrte::new(0x31, 1).verify_requester(Rid(0))
    };
    os.set_irte_remapped(2, &e).unwrap();
    let m = MsiMessage::remappable(2, None);
    assert_eq!(
        msi(&mut os, Rid::from_bdf(1, 5, 0), m.addr, m.data),
        irq_v(0x31)
    );
    assert_eq!(
        msi(&mut os, Rid::from_bdf(2, 0, 0), m.addr, m.data),
        dropped(0x26)
    );
    let _ = DomainId(0);
}
