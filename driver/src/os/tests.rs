//! Encodings of the OS driver checked against hex assembled by hand from the spec tables, and
//! the table builder checked by reading memory back (no model involved).

use super::*;
use crate::model::ModelPlatform;
use crate::platform::Platform;
use crate::types::Rid;

fn os() -> Iommu<ModelPlatform> {
    Iommu::new(ModelPlatform::default(), OsConfig::default()).unwrap()
}

#[test]
fn context_entry_layout_a6() {
    let mut os = os();
    os.create_domain(DomainId(0xAB), 4).unwrap();
    let root = os.domain(DomainId(0xAB)).unwrap().root.0;
    let rid = Rid::from_bdf(3, 2, 0);
    os.assign_device_with(
        rid,
        DeviceAssignment::translated(DomainId(0xAB)).with_fpd(true),
    )
    .unwrap();
    let a = os.context_entry_addr(rid).unwrap();
    let raw = os.mem().read_u128(a).unwrap();
    // qword0 = SLPTPTR | TT=00 | FPD<<1 | P = root | 0b11; qword1 = DID 0xAB << 8 | AW=2 = 0xAB02.
    assert_eq!(raw, 0xAB02u128 << 64 | (root | 0b11) as u128);
    // Pass-through: TT=10, SLPTPTR 0, AW = the domain's (2): qword0 = 0b1001.
    os.assign_device_with(rid, DeviceAssignment::pass_through(DomainId(0xAB)))
        .unwrap();
    assert_eq!(os.mem().read_u128(a).unwrap(), 0xAB02u128 << 64 | 0b1001);
    // Root entry of bus 3 at RTA + 3*16: CTP | P.
    let ctp = os.context_table(3).unwrap().0;
    let rea = os.root_entry_addr(3);
    let re = os.mem().read_u128(rea).unwrap();
    assert_eq!(re, (ctp | 1) as u128);
    assert_eq!(os.root_entry_addr(3).0, os.root_table().0 + 0x30);
    assert_eq!(a.0, ctp + 16 * 0x10);
}

#[test]
fn sl_entries_a7() {
    let mut os = os();
    let d = DomainId(1);
    os.create_domain(d, 4).unwrap();
    os.map(
        d,
        Iova(0x40_0000),
        Hpa(0x8020_0000),
        PageSize::Size2M,
        Perms::RO,
    )
    .unwrap();
    os.map(
        d,
        Iova(0x1234_5000),
        Hpa(0x9_8765_4000),
        PageSize::Size4K,
        Perms::WO,
    )
    .unwrap();
    // 2 MiB leaf at level 2: ADDR | PS | R = 0x8020_0081.
    let pa = os.pte_addr(d, Iova(0x40_0000), 2).unwrap();
    assert_eq!(os.mem().read_u64(pa).unwrap(), 0x8020_0081);
    // Index at level 2 of 0x40_0000 = bits 29:21 = 2.
    let l3 = os.pte_addr(d, Iova(0x40_0000), 3).unwrap();
    let l2_table = os.mem().read_u64(l3).unwrap() & !0xFFF;
    assert_eq!(pa.0, l2_table + 8 * 2);
    // Non-leaf entries carry R=W=1.
    assert_eq!(os.mem().read_u64(l3).unwrap() & 0xFFF, 0b11);
    // 4 KiB leaf: ADDR | W = 0x9_8765_4002.
    let pa = os.pte_addr(d, Iova(0x1234_5000), 1).unwrap();
    assert_eq!(os.mem().read_u64(pa).unwrap(), 0x9_8765_4002);
    // Level-1 index of 0x1234_5000 = bits 20:12 = 0x145.
    assert_eq!(pa.0 & 0xFFF, 8 * 0x145);
    assert_eq!(tables::level_index(0x1234_5000, 2), 0x91);
}

#[test]
fn irte_layouts_b4() {
    // Remapped: P, FPD, DM, RH, TM, DLM=5, AVAIL=0xA, V=0x61, DST=0x1234_5678, SID=0xBEEF, SQ=2,
    // SVT=1. qword0 = 0x1234_5678 << 32 | 0x61 << 16 | 0xA << 8 | 5 << 5 | 0x1F = 0x1234_5678_0061_0ABF.
    // qword1 = SVT<<18 | SQ<<16 | SID = 0x6_BEEF.
    let e = RemappedIrte {
        present: true,
        fpd: true,
        dm: true,
        rh: true,
        tm: true,
        dlm: 5,
        avail: 0xA,
        vector: 0x61,
        dst: 0x1234_5678,
        sid: crate::Rid(0xBEEF),
        sq: 2,
        svt: 1,
    };
    assert_eq!(e.encode(), 0x6_BEEFu128 << 64 | 0x1234_5678_0061_0ABF);
    // Posted: P, URG, IM, V=0x33, PDA=0x1_2345_6780: PDA[31:6] in bits 63:38 puts PDA[31:0]
    // (64-byte aligned) in qword0[63:32] = 0x2345_6780; qword0 = 0x2345_6780 << 32 | 0x33<<16 |
    // 1<<15 | 1<<14 | 1 = 0x2345_6780_0033_C001.
    // qword1 = PDA[63:32]=1 << 32 | SVT=1<<18 | SID=0x0310 = 0x1_0004_0310.
    let p = PostedIrte {
        present: true,
        urg: true,
        vector: 0x33,
        pda: Hpa(0x1_2345_6780),
        sid: crate::Rid(0x0310),
        svt: 1,
        ..Default::default()
    };
    assert_eq!(p.encode(), 0x1_0004_0310u128 << 64 | 0x2345_6780_0033_C001);
    assert_eq!(RemappedIrte::xapic_dst(0x07), 0x700);
}

#[test]
fn pid_layout_b8() {
    let d = PostedInterruptDescriptor {
        on: true,
        sn: false,
        nv: 0xF2,
        ndst: 0x0300,
        ..Default::default()
    };
    let b = d.encode();
    // Byte 32 bit 0 = ON; byte 34 = NV; bytes 36..40 = NDST (LE).
    assert_eq!(
        &b[32..40],
        &[0x01, 0x00, 0xF2, 0x00, 0x00, 0x03, 0x00, 0x00]
    );
    assert_eq!(PostedInterruptDescriptor::decode(&b), d);
}

#[test]
fn msi_worked_example_b2() {
    let m = MsiMessage::remappable(0x1234, Some(2));
    assert_eq!((m.addr, m.data), (0xFEE2_4698, 2));
    // handle bit 15 goes to address bit 2.
    assert_eq!(MsiMessage::remappable(0x8000, None).addr, 0xFEE0_0014);
    assert_eq!(MsiMessage::compat(0x12, 0x40).addr, 0xFEE1_2000);
}

#[test]
fn descriptors_a12() {
    use unit::InvRequest as R;
    let d = DomainId(0x1234);
    // CC device: type 1 | G=11<<4 | DID<<16 | SID<<32 | FM<<48.
    let cc = R::ContextDevice {
        did: d,
        sid: Rid(0x0310),
        fm: 3,
    };
    assert_eq!(cc.descriptor(), (0x0003_0310_1234_0031, 0));
    // IOTLB PSI: type 2 | G=11<<4 | DID<<16; qword1 = ADDR | IH<<6 | AM.
    let psi = R::IotlbPage {
        did: d,
        addr: Iova(0x4020_0000),
        am: 9,
        ih: true,
    };
    assert_eq!(psi.descriptor(), (0x1234_0032, 0x4020_0049));
    // IEC index-selective: type 4 | G=1<<4 | IM<<27 | IIDX<<32.
    let iec = R::IecIndex { iidx: 0x20, im: 3 };
    assert_eq!(iec.descriptor(), (0x0000_0020_1800_0014, 0));
    assert_eq!(R::IecGlobal.descriptor(), (4, 0));
    // Wait: IF bit 4, SW bit 5, FN bit 6.
    assert_eq!(
        unit::wait_descriptor(false, true, true, 7, Hpa(0x1000_0004)),
        (0x0000_0007_0000_0065, 0x1000_0004)
    );
}

#[test]
fn allocator_zeroes_and_aligns() {
    let mut mem = crate::mem::HostMemory::new();
    mem.write_u64(Hpa(0x10_0000), 0xFFFF).unwrap();
    let mut a = PageAllocator::new(Hpa(0x10_0000), 0x10_000);
    let p = a.alloc_page(&mut mem).unwrap();
    assert_eq!(p, Hpa(0x10_0000));
    assert_eq!(mem.read_u64(p).unwrap(), 0, "zeroed");
    let c = a.alloc_contiguous(&mut mem, 2, 0x4000).unwrap();
    assert_eq!(c, Hpa(0x10_4000));
    // The pages skipped for alignment are reused.
    assert_eq!(a.alloc_page(&mut mem).unwrap(), Hpa(0x10_3000));
    let mut n = 0;
    while a.alloc_page(&mut mem).is_ok() {
        n += 1;
    }
    // 16 pages: 0 taken, 4..5 contiguous, 3 reused; left: 1, 2 (free list) and 6..15.
    assert_eq!(n, 12);
    assert!(matches!(
        a.alloc_page(&mut mem),
        Err(OsError::OutOfTableMemory)
    ));
}

#[test]
fn gcmd_masks_one_shot_bits() {
    let mut os = os();
    os.set_root_table().unwrap();
    assert_eq!(
        os.platform_mut().read32(unit::GSTS_REG).unwrap(),
        unit::GCMD_SRTP
    );
    os.enable_translation().unwrap();
    assert_eq!(
        os.platform_mut().read32(unit::GSTS_REG).unwrap(),
        unit::GCMD_SRTP | unit::GCMD_TE
    );
    os.disable_translation().unwrap();
    assert_eq!(
        os.platform_mut().read32(unit::GSTS_REG).unwrap(),
        unit::GCMD_SRTP
    );
}
