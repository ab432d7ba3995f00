//! IRTE, source-ID validation, MSI formats and the posted-interrupt descriptor against
//! hand-decoded hex (spec B1-B8, decisions.md).

use iommu_driver::vtd::irte::{source_id_valid, Irte, IrtePosted, IrteRemapped, Sq, Svt};
use iommu_driver::vtd::msi::*;
use iommu_driver::vtd::pid::{PostedInterruptDescriptor, PID_CONTROL_RESERVED};
use iommu_driver::{Hpa, Rid};

fn raw(qw0: u64, qw1: u64) -> u128 {
    (qw1 as u128) << 64 | qw0 as u128
}

#[test]
fn remapped_irte_layout_d5_5() {
    // qword0: P 0x1 | DM 0x4 | RH 0x8 | TM 0x10 | DLM=001 (7:5) 0x20 = 0x3D;
    //         V=0x31 (23:16) 0x31_0000; DST=0x0000_0102 (63:32).
    // qword1: SID 0x0300 (79:64), SQ=11 (81:80) 0x3_0000, SVT=01 (83:82) 0x4_0000.
    let r = raw(0x0000_0102_0031_003D, 0x0000_0000_0007_0300);
    let Irte::Remapped(e) = Irte::decode(r) else {
        panic!("IM=0 must decode as remapped")
    };
    assert!(e.present && !e.fpd && e.dm && e.rh && e.tm);
    assert_eq!(e.dlm, 1);
    assert_eq!(e.avail, 0);
    assert_eq!(e.vector, 0x31);
    assert_eq!(e.dst, 0x102);
    assert_eq!(e.sid, 0x0300);
    assert_eq!(e.sq, Sq::IgnoreBits2To0);
    assert_eq!(e.svt, Svt::RequesterId);
    assert_eq!(Irte::Remapped(e).encode(), r);
    // SVT=10 bus range, SQ=00, SID 0x0205: qword1 = 0x8_0205.
    let Irte::Remapped(b) = Irte::decode(raw(1, 0x8_0205)) else {
        panic!()
    };
    assert_eq!((b.svt, b.sq, b.sid), (Svt::BusRange, Sq::All, 0x0205));
    // SVT=11 (0xC_0000), SQ=01 (0x1_0000).
    let Irte::Remapped(c) = Irte::decode(raw(1, 0xD_0000)) else {
        panic!()
    };
    assert_eq!((c.svt, c.sq), (Svt::Reserved, Sq::IgnoreBit2));
    // FPD bit 1, AVAIL 11:8.
    let Irte::Remapped(d) = Irte::decode(raw(0xF02, 0)) else {
        panic!()
    };
    assert!(d.fpd && !d.present);
    assert_eq!(d.avail, 0xF);
}

#[test]
fn posted_irte_layout() {
    // P 1, URG bit 14 (0x4000), IM bit 15 (0x8000), V=0x45 (0x45_0000),
    // PDA 0x1_2345_6780: PDA[31:6] in 63:38 equals (PDA & 0xFFFF_FFC0) << 32 = 0x2345_6780 << 32;
    // PDA[63:32] = 1 in 127:96 -> qword1 0x0000_0001_0000_0000; SID 0x0300; SVT=01 (0x4_0000).
    let r = raw(0x2345_6780_0045_C001, 0x0000_0001_0004_0300);
    let Irte::Posted(p) = Irte::decode(r) else {
        panic!("IM=1 must decode as posted")
    };
    assert!(p.present && p.urg && !p.fpd);
    assert_eq!(p.vector, 0x45);
    assert_eq!(p.pda, Hpa(0x1_2345_6780));
    assert_eq!(p.sid, 0x0300);
    assert_eq!(p.svt, Svt::RequesterId);
    assert_eq!(p.sq, Sq::All);
    assert_eq!(Irte::Posted(p).encode(), r);
    assert!(Irte::decode(r).im());
    let built = IrtePosted {
        present: true,
        fpd: false,
        avail: 0,
        urg: true,
        vector: 0x45,
        pda: Hpa(0x1_2345_6780),
        sid: 0x0300,
        sq: Sq::All,
        svt: Svt::RequesterId,
    };
    assert_eq!(Irte::Posted(built).encode(), r);
}

#[test]
fn irte_reserved_masks() {
    // Remapped, x2APIC: 14:12 (0x7000), 31:24 (0xFF00_0000), 127:84 (qword1 63:20).
    let m = Irte::reserved_mask(false, true, true);
    assert_eq!(m, raw(0x0000_0000_FF00_7000, 0xFFFF_FFFF_FFF0_0000));
    // xAPIC: also DST bits 39:32 and 63:48.
    let m = Irte::reserved_mask(false, false, true);
    assert_eq!(m, raw(0xFFFF_00FF_FF00_7000, 0xFFFF_FFFF_FFF0_0000));
    // CAP.PI=0: the IM bit (15) is reserved, whatever IM says.
    let m = Irte::reserved_mask(false, true, false);
    assert_eq!(m, raw(0x0000_0000_FF00_F000, 0xFFFF_FFFF_FFF0_0000));
    assert_eq!(Irte::reserved_mask(true, true, false), m);
    // Posted: 7:2 (0xFC), 13:12 (0x3000), 37:24 (0x3F_FF00_0000), 95:84 (qword1 31:20).
    let m = Irte::reserved_mask(true, false, true);
    assert_eq!(m, raw(0x0000_003F_FF00_30FC, 0x0000_0000_FFF0_0000));
    assert_eq!(Irte::reserved_mask(true, true, true), m);

    // xAPIC destination 5 in bits 47:40: DST = 0x0000_0500.
    let x = raw(0x0000_0500_0031_0001, 0);
    assert_eq!(Irte::reserved_bits(x, false, true), 0);
    // DST bit 48 (0x0001_0000 in DST) is reserved in xAPIC mode, fine in x2APIC mode.
    let y = raw(0x0001_0500_0031_0001, 0);
    assert_eq!(Irte::reserved_bits(y, false, true), 1u128 << 48);
    assert_eq!(Irte::reserved_bits(y, true, true), 0);
    // A posted entry with PI=0 reports its IM bit.
    let p = raw(0x2345_6780_0045_C001, 0x0000_0001_0004_0300);
    assert_eq!(Irte::reserved_bits(p, true, true), 0);
    assert!(Irte::reserved_bits(p, true, false) & (1 << 15) != 0);
    // Posted entry with a bit in 37:24.
    assert_eq!(Irte::reserved_bits(p | (1 << 30), true, true), 1 << 30);
}

#[test]
fn source_id_validation_b5() {
    // SVT=01, SQ masks.
    assert!(source_id_valid(
        Svt::RequesterId,
        Sq::All,
        0x0300,
        Rid(0x0300)
    ));
    // D5 #12: a foreign RID fails.
    assert!(!source_id_valid(
        Svt::RequesterId,
        Sq::All,
        0x0300,
        Rid(0x0301)
    ));
    assert!(source_id_valid(
        Svt::RequesterId,
        Sq::IgnoreBit2,
        0x0300,
        Rid(0x0304)
    ));
    assert!(!source_id_valid(
        Svt::RequesterId,
        Sq::IgnoreBit2,
        0x0300,
        Rid(0x0302)
    ));
    assert!(source_id_valid(
        Svt::RequesterId,
        Sq::IgnoreBits2To1,
        0x0300,
        Rid(0x0306)
    ));
    assert!(!source_id_valid(
        Svt::RequesterId,
        Sq::IgnoreBits2To1,
        0x0300,
        Rid(0x0301)
    ));
    assert!(source_id_valid(
        Svt::RequesterId,
        Sq::IgnoreBits2To0,
        0x0300,
        Rid(0x0307)
    ));
    assert!(!source_id_valid(
        Svt::RequesterId,
        Sq::IgnoreBits2To0,
        0x0300,
        Rid(0x0308)
    ));
    // D5 #8: SVT=10 with SID 0x0205 = start bus 2, end bus 5.
    for (bus, ok) in [(1u8, false), (2, true), (3, true), (5, true), (6, false)] {
        assert_eq!(
            source_id_valid(Svt::BusRange, Sq::All, 0x0205, Rid::from_bdf(bus, 0, 0)),
            ok,
            "bus {bus}"
        );
    }
    assert!(source_id_valid(Svt::None, Sq::All, 0x0300, Rid(0xFFFF)));
    assert!(!source_id_valid(
        Svt::Reserved,
        Sq::All,
        0x0300,
        Rid(0x0300)
    ));
    assert_eq!(
        [
            Sq::All.mask(),
            Sq::IgnoreBit2.mask(),
            Sq::IgnoreBits2To1.mask(),
            Sq::IgnoreBits2To0.mask()
        ],
        [0xFFFF, 0xFFFB, 0xFFF9, 0xFFF8]
    );
}

#[test]
fn msi_worked_example_b2() {
    // handle 0x1234, SHV=1 -> 0xFEE2_4698; data 2 -> index 0x1236.
    assert_eq!(remappable_msi_addr(0x1234, true), 0xFEE2_4698);
    assert_eq!(
        MsiAddress::decode(0xFEE2_4698),
        MsiAddress::Remappable {
            handle: 0x1234,
            shv: true
        }
    );
    assert_eq!(interrupt_index(0x1234, true, 0x0000_0002), 0x1236);
    assert_eq!(interrupt_index(0x1234, false, 0x0000_0002), 0x1234);
    // handle[15] lives in addr[2]: handle 0x8001, SHV=0 -> 0xFEE0_0000 | 1<<5 | 1<<4 | 1<<2.
    assert_eq!(remappable_msi_addr(0x8001, false), 0xFEE0_0034);
    assert_eq!(
        MsiAddress::decode(0xFEE0_0034),
        MsiAddress::Remappable {
            handle: 0x8001,
            shv: false
        }
    );
    // Subhandle wraps mod 2^16.
    assert_eq!(interrupt_index(0xFFFF, true, 2), 1);
    // Compatibility format: dest 5 (19:12), RH bit 3, DM bit 2.
    assert_eq!(
        MsiAddress::decode(0xFEE0_500C),
        MsiAddress::Compatibility {
            dest_id: 5,
            ext_dest: 0,
            rh: true,
            dm: true
        }
    );
    assert_eq!(compat_msi_addr(5, true, true), 0xFEE0_500C);
    // Reserved checks (20h): data[31:16], addr[63:32].
    assert!(!remappable_request_reserved(0xFEE2_4698, 0x0000_FFFF));
    assert!(remappable_request_reserved(0xFEE2_4698, 0x0001_0000));
    assert!(remappable_request_reserved(0x1_FEE2_4698, 0));
    assert!(in_interrupt_window(0xFEE0_0000) && in_interrupt_window(0xFEEF_FFFF));
    assert!(!in_interrupt_window(0xFEDF_FFFF) && !in_interrupt_window(0xFEF0_0000));
    assert!(!in_interrupt_window(0x1_FEE0_0000));
    assert!(overlaps_interrupt_window(0xFEE0_0000, 0x1000));
    assert!(overlaps_interrupt_window(0xFEC0_0000, 0x40_0000)); // a 4 MiB page covering it
    assert!(!overlaps_interrupt_window(0xFEDF_F000, 0x1000));
    assert!(!overlaps_interrupt_window(0xFEF0_0000, 0x1000));
}

#[test]
fn remapped_output_b6() {
    // x2APIC: DST 0x102 -> addr[19:12] = 0x02, addr_hi = 0x100; RH bit 3, DM bit 2:
    // addr = 0x0000_0100_FEE0_200C; data = 0x31 | DLM 1<<8 | 1<<14 | TM 1<<15 = 0xC131.
    let Irte::Remapped(e) = Irte::decode(raw(0x0000_0102_0031_003D, 0x7_0300)) else {
        panic!()
    };
    assert_eq!(remapped_msi(&e, true), (0x0000_0100_FEE0_200C, 0xC131));
    // xAPIC: DST 0x0000_0500 -> APIC ID 5; fixed, edge, physical: (0xFEE0_5000, 0x4031).
    let x = IrteRemapped {
        present: true,
        vector: 0x31,
        dst: 0x500,
        ..Default::default()
    };
    assert_eq!(x.apic_dest(false), 5);
    assert_eq!(remapped_msi(&x, false), (0xFEE0_5000, 0x4031));
}

#[test]
fn pid_layout_b8() {
    // PIR bit 0x45 = 69 -> byte 8 bit 5 (0x20); ON bit 256 + SN bit 257 -> byte 32 = 0x03;
    // NV 0xF2 in 279:272 -> byte 34; NDST 0x0000_0500 in 319:288 -> byte 37 = 0x05.
    let mut b = [0u8; 64];
    b[8] = 0x20;
    b[32] = 0x03;
    b[34] = 0xF2;
    b[37] = 0x05;
    let p = PostedInterruptDescriptor::decode(&b);
    assert_eq!(p.pir, [0, 0x20, 0, 0]);
    assert!(p.pir_bit(0x45) && !p.pir_bit(0x44));
    assert!(p.on && p.sn);
    assert_eq!(p.nv, 0xF2);
    assert_eq!(p.ndst, 0x500);
    assert_eq!(p.encode(), b);
    assert!(!PostedInterruptDescriptor::has_reserved_bits(&b));
    // Reserved 271:258 and 287:280 (control qword bits 15:2 and 31:24).
    assert_eq!(PID_CONTROL_RESERVED, 0x0000_0000_FF00_FFFC);
    for (byte, val) in [
        (32usize, 0x04u8),
        (33, 0x01),
        (33, 0x80),
        (35, 0x01),
        (35, 0x80),
    ] {
        let mut r = b;
        r[byte] |= val;
        assert!(
            PostedInterruptDescriptor::has_reserved_bits(&r),
            "byte {byte} {val:#x}"
        );
    }
    // Bits 511:320 are software-owned: not reserved, preserved.
    let mut s = b;
    s[40] = 0xFF;
    s[63] = 0x80;
    assert!(!PostedInterruptDescriptor::has_reserved_bits(&s));
    let ps = PostedInterruptDescriptor::decode(&s);
    assert_eq!(ps.sw, [0xFF, 0, 0x8000_0000_0000_0000]);
    assert_eq!(ps.encode(), s);
}

#[test]
fn pid_posting_truth_table() {
    // X = (ON==0) && (URG==1 || SN==0); ON becomes 1 when X.
    for on in [false, true] {
        for sn in [false, true] {
            for urg in [false, true] {
                let mut p = PostedInterruptDescriptor {
                    on,
                    sn,
                    ..Default::default()
                };
                let x = p.post(200, urg);
                let want = !on && (urg || !sn);
                assert_eq!(x, want, "on={on} sn={sn} urg={urg}");
                assert_eq!(p.on, on || want);
                assert_eq!(p.pir, [0, 0, 0, 1 << (200 - 192)]);
            }
        }
    }
}

#[test]
fn notification_event() {
    // NV 0xF2 to xAPIC NDST[15:8] = 5: addr 0xFEE0_5000, data 0xF2 | 1<<14 (fixed, edge).
    let p = PostedInterruptDescriptor {
        nv: 0xF2,
        ndst: 0x500,
        ..Default::default()
    };
    assert_eq!(notification_msi(&p, false), (0xFEE0_5000, 0x40F2));
    // x2APIC NDST 0x102.
    let p = PostedInterruptDescriptor {
        nv: 0xF2,
        ndst: 0x102,
        ..Default::default()
    };
    assert_eq!(notification_msi(&p, true), (0x0000_0100_FEE0_2000, 0x40F2));
}
