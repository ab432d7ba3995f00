//! Root entry, context entry and second-level PTE against hand-decoded hex (spec A5-A8).

use iommu_driver::vtd::context::{ContextEntry, TranslationType};
use iommu_driver::vtd::regs::{Cap, Ecap};
use iommu_driver::vtd::root::RootEntry;
use iommu_driver::vtd::slpte::{
    leaf_output, level_page_size, reserved_mask, sl_entry_addr, sl_index, SlPte,
};
use iommu_driver::{DomainId, Hpa, Iova, Rid};

#[test]
fn root_entry_layout() {
    // P=1 (bit 0), CTP 0x1_2345_6000 (63:12); qword1 0.
    let raw: u128 = 0x0000_0001_2345_6001;
    let r = RootEntry::decode(raw);
    assert!(r.present);
    assert_eq!(r.ctp, Hpa(0x1_2345_6000));
    assert_eq!(r.encode(), raw);
    assert!(!RootEntry::decode(0x0000_0001_2345_6000).present);
    // Entry address: RTA + 16 x bus.
    assert_eq!(
        RootEntry::entry_addr(Hpa(0x10_0000), Rid(0x0300)),
        Hpa(0x10_0030)
    );
}

#[test]
fn root_entry_reserved_bits() {
    // HAW=48: 11:1 (0xFFE), 63:48, and all of qword1.
    assert_eq!(
        RootEntry::reserved_mask(48),
        0xFFFF_FFFF_FFFF_FFFF_FFFF_0000_0000_0FFEu128
    );
    let ok: u128 = 0x0000_8000_0000_0001; // CTP bit 47: below HAW
    assert!(!RootEntry::has_reserved_bits(ok, 48));
    assert!(RootEntry::has_reserved_bits(0x0001_0000_0000_0001, 48)); // bit 48
    assert!(RootEntry::has_reserved_bits(0x3, 48)); // bit 1
    assert!(RootEntry::has_reserved_bits(0x801, 48)); // bit 11
    assert!(RootEntry::has_reserved_bits(1 | (1u128 << 64), 48)); // qword1 bit 0
    assert!(RootEntry::has_reserved_bits(1 | (1u128 << 127), 48));
    // HAW=39: bit 39 reserved.
    assert!(RootEntry::has_reserved_bits(0x0000_0080_0000_0001, 39));
    assert!(!RootEntry::has_reserved_bits(0x0000_0040_0000_0001, 39));
}

#[test]
fn context_entry_worked_example() {
    // P=1, FPD=1, TT=10, SLPTPTR 0x1234_5000, AW=2, DID=0x00AB:
    // qword0 = 0x1234_5000 | 0b1011 = 0x1234_500B; qword1 = (0xAB << 8) | 2 = 0xAB02.
    let raw: u128 = (0xAB02u128 << 64) | 0x1234_500B;
    let c = ContextEntry::decode(raw);
    assert!(c.present);
    assert!(c.fpd);
    assert_eq!(c.tt, TranslationType::PassThrough);
    assert_eq!(c.slptptr, Hpa(0x1234_5000));
    assert_eq!(c.aw, 2);
    assert_eq!(c.avail, 0);
    assert_eq!(c.did, DomainId(0xAB));
    assert_eq!(c.levels(), 4);
    assert_eq!(c.agaw_bits(), 48);
    assert_eq!(c.encode(), raw);
    let built = ContextEntry {
        present: true,
        fpd: true,
        tt: TranslationType::PassThrough,
        slptptr: Hpa(0x1234_5000),
        aw: 2,
        avail: 0,
        did: DomainId(0xAB),
    };
    assert_eq!(built.encode(), raw);
}

#[test]
fn context_entry_fields_one_by_one() {
    // TT in bits 3:2: 0x5 = P + TT 01, 0xD = P + TT 11, 0x9 = P + TT 10, 0x1 = P + TT 00.
    assert_eq!(ContextEntry::decode(0x5).tt, TranslationType::DevTlb);
    assert_eq!(ContextEntry::decode(0xD).tt, TranslationType::Reserved);
    assert_eq!(ContextEntry::decode(0x9).tt, TranslationType::PassThrough);
    assert_eq!(ContextEntry::decode(0x1).tt, TranslationType::Untranslated);
    assert!(!ContextEntry::decode(0x2).present);
    assert!(ContextEntry::decode(0x2).fpd);
    // AVAIL 0xF in bits 70:67 (qword1 6:3 = 0x78), AW=1: qword1 = 0x79.
    let c = ContextEntry::decode(0x79u128 << 64);
    assert_eq!((c.avail, c.aw), (0xF, 1));
    assert_eq!(c.levels(), 3);
    assert_eq!(c.agaw_bits(), 39);
    // DID 0xFFFF in bits 87:72 (qword1 23:8).
    assert_eq!(
        ContextEntry::decode(0xFF_FF00u128 << 64).did,
        DomainId(0xFFFF)
    );
    // AW=3: 5 levels, 57 bits.
    assert_eq!(ContextEntry::decode(3u128 << 64).levels(), 5);
    assert_eq!(ContextEntry::decode(3u128 << 64).agaw_bits(), 57);
    assert_eq!(
        ContextEntry::entry_addr(Hpa(0x20_0000), Rid::from_bdf(3, 0x1F, 7)),
        Hpa(0x20_0FF0)
    );
}

#[test]
fn context_entry_reserved_bits() {
    // HAW=48, 16-bit DID: qword0 11:4 (0xFF0) + 63:48; qword1 bit 7 (0x80) + 63:24.
    let m = ContextEntry::reserved_mask(48, 16);
    assert_eq!(m as u64, 0xFFFF_0000_0000_0FF0);
    assert_eq!((m >> 64) as u64, 0xFFFF_FFFF_FF00_0080);
    // ND=2 -> 8-bit DIDs: DID bits 87:80 (qword1 23:16) reserved as well.
    let m8 = ContextEntry::reserved_mask(
        48,
        Cap {
            nd: 2,
            ..Cap::default()
        }
        .domain_id_bits(),
    );
    assert_eq!((m8 >> 64) as u64, 0xFFFF_FFFF_FFFF_0080);
    let good: u128 = (0xAB02u128 << 64) | 0x1234_500B;
    assert!(!ContextEntry::has_reserved_bits(good, 48, 16));
    assert!(ContextEntry::has_reserved_bits(good | 0x10, 48, 16)); // bit 4
    assert!(ContextEntry::has_reserved_bits(
        good | (1u128 << 71),
        48,
        16
    )); // bit 71
    assert!(ContextEntry::has_reserved_bits(
        good | (1u128 << 88),
        48,
        16
    )); // bit 88
    assert!(ContextEntry::has_reserved_bits(
        good | (1u128 << 48),
        48,
        16
    )); // SLPTPTR >= HAW
    assert!(ContextEntry::has_reserved_bits(good | (1u128 << 80), 48, 8)); // DID bit 8
    assert!(!ContextEntry::has_reserved_bits(
        good | (1u128 << 80),
        48,
        16
    ));
    // AVAIL bits 70:67 are not reserved.
    assert!(!ContextEntry::has_reserved_bits(
        good | (0xFu128 << 67),
        48,
        16
    ));
}

#[test]
fn slpte_fields() {
    // R|W, ADDR 0x1234_5000: 0x1234_5003.
    let p = SlPte::decode(0x1234_5003);
    assert!(p.r && p.w && !p.x && !p.ps);
    assert_eq!(p.addr, Hpa(0x1234_5000));
    assert!(p.is_present());
    assert_eq!(p.encode(), 0x1234_5003);
    // X alone is not present (A7 / openvmm).
    assert!(!SlPte::decode(0x4).is_present());
    assert!(SlPte::decode(0x2).is_present());
    // PS bit 7, A bit 8, D bit 9, SNP bit 11, TM bit 62.
    let q = SlPte::decode(0x4000_0000_0000_0981); // 0x800 | 0x100 | 0x80 | 1, bit 62
    assert!(q.r && q.ps && q.a && q.snp && q.tm && !q.d);
    assert!(SlPte::decode(0x200).d);
    // Ignored bits 63, 61:52, 10, 6:3 are kept verbatim and do not leak into fields.
    let ign = 0xBFF0_0000_0000_0478u64;
    let g = SlPte::decode(ign);
    assert!(!g.r && !g.w && !g.x && !g.ps && !g.a && !g.d && !g.snp && !g.tm);
    assert_eq!(g.addr, Hpa(0));
    assert_eq!(g.ignored, ign);
    assert_eq!(g.encode(), ign);
    // Leaf detection.
    assert!(SlPte::decode(0x83).is_leaf(2));
    assert!(SlPte::decode(0x83).is_leaf(3));
    assert!(!SlPte::decode(0x83).is_leaf(4));
    assert!(!SlPte::decode(0x03).is_leaf(2));
    assert!(SlPte::decode(0x03).is_leaf(1));
}

#[test]
fn slpte_reserved_masks_per_level() {
    let cap = Cap::project_default(); // SLLPS = 2 MiB + 1 GiB
    let ecap = Ecap::project_default(); // SC=0, DT=0
                                        // bits 51:48 = 0x000F_0000_0000_0000; SNP 0x800; TM 0x4000_0000_0000_0000; PS 0x80.
                                        // Level 4 / 5: PS reserved (QEMU 0x880 on a PML4E).
    assert_eq!(
        reserved_mask(4, false, 48, &cap, &ecap),
        0x400F_0000_0000_0880
    );
    assert_eq!(
        reserved_mask(5, false, 48, &cap, &ecap),
        0x400F_0000_0000_0880
    );
    // Level 3 / 2 non-leaf: PS allowed (it selects a leaf).
    assert_eq!(
        reserved_mask(3, false, 48, &cap, &ecap),
        0x400F_0000_0000_0800
    );
    assert_eq!(
        reserved_mask(2, false, 48, &cap, &ecap),
        0x400F_0000_0000_0800
    );
    // 1 GiB leaf: address bits 29:12 (0x3FFF_F000) reserved.
    assert_eq!(
        reserved_mask(3, true, 48, &cap, &ecap),
        0x400F_0000_3FFF_F800
    );
    // 2 MiB leaf: address bits 20:12 (0x1F_F000) reserved.
    assert_eq!(
        reserved_mask(2, true, 48, &cap, &ecap),
        0x400F_0000_001F_F800
    );
    // 4 KiB leaf.
    assert_eq!(
        reserved_mask(1, false, 48, &cap, &ecap),
        0x400F_0000_0000_0800
    );
    // SC=1 and DT=1: SNP allowed everywhere; TM allowed in leaves only.
    let ecap2 = Ecap {
        sc: true,
        dt: true,
        ..ecap
    };
    assert_eq!(
        reserved_mask(1, false, 48, &cap, &ecap2),
        0x000F_0000_0000_0000
    );
    assert_eq!(
        reserved_mask(2, true, 48, &cap, &ecap2),
        0x000F_0000_001F_F000
    );
    assert_eq!(
        reserved_mask(2, false, 48, &cap, &ecap2),
        0x400F_0000_0000_0000
    );
    // Without large-page support PS is reserved at levels 2/3.
    let cap0 = Cap { sllps: 0, ..cap };
    assert_eq!(
        reserved_mask(2, false, 48, &cap0, &ecap),
        0x400F_0000_0000_0880
    );
    assert_eq!(
        reserved_mask(3, false, 48, &cap0, &ecap),
        0x400F_0000_0000_0880
    );
    // 2 MiB only: 1 GiB PS reserved.
    let cap1 = Cap { sllps: 0b01, ..cap };
    assert_eq!(
        reserved_mask(3, false, 48, &cap1, &ecap),
        0x400F_0000_0000_0880
    );
    assert_eq!(
        reserved_mask(2, false, 48, &cap1, &ecap),
        0x400F_0000_0000_0800
    );
    // HAW=39: bits 51:39 = 0x000F_FF80_0000_0000.
    assert_eq!(
        reserved_mask(1, false, 39, &cap, &ecap2),
        0x000F_FF80_0000_0000
    );
    // HAW=52: no address bits reserved.
    assert_eq!(reserved_mask(1, false, 52, &cap, &ecap2), 0);
}

#[test]
fn slpte_reserved_bits_of_raw_entries() {
    let cap = Cap::project_default();
    let ecap = Ecap::project_default();
    // 2 MiB leaf at 0x4020_0000 with bit 12 set (misaligned): 0x4020_1083 -> bit 12 reserved.
    assert_eq!(
        SlPte::reserved_bits(0x4020_1083, 2, 48, &cap, &ecap),
        0x1000
    );
    // Same with the address aligned: clean.
    assert_eq!(SlPte::reserved_bits(0x4020_0083, 2, 48, &cap, &ecap), 0);
    // Same bits as a non-leaf level-2 entry (PS=0) are an ordinary table pointer.
    assert_eq!(SlPte::reserved_bits(0x4020_1003, 2, 48, &cap, &ecap), 0);
    // SNP set with SC=0 -> Ch.
    assert_eq!(SlPte::reserved_bits(0x1000_0803, 1, 48, &cap, &ecap), 0x800);
    // TM set with DT=0 -> Ch.
    assert_eq!(
        SlPte::reserved_bits(0x4000_0000_1000_0003, 1, 48, &cap, &ecap),
        0x4000_0000_0000_0000
    );
    // Ignored bits never count.
    assert_eq!(
        SlPte::reserved_bits(0xBFF0_0000_1000_047B, 1, 48, &cap, &ecap),
        0
    );
    // PS in a level-4 entry.
    assert_eq!(SlPte::reserved_bits(0x1000_0083, 4, 48, &cap, &ecap), 0x80);
}

#[test]
fn walk_helpers() {
    // iova = 5<<39 | 6<<30 | 7<<21 | 8<<12 | 0x123.
    let iova = Iova(0x0000_0281_80E0_8123);
    assert_eq!(sl_index(iova, 4), 5);
    assert_eq!(sl_index(iova, 3), 6);
    assert_eq!(sl_index(iova, 2), 7);
    assert_eq!(sl_index(iova, 1), 8);
    assert_eq!(sl_index(Iova(0x01FF_0000_0000_0000), 5), 0x1FF); // addr[56:48]
    assert_eq!(sl_entry_addr(Hpa(0x5000), iova, 4), Hpa(0x5028));
    assert_eq!(level_page_size(1), 0x1000);
    assert_eq!(level_page_size(2), 0x20_0000);
    assert_eq!(level_page_size(3), 0x4000_0000);
    // 2 MiB leaf at 0x4020_0000: offset = iova & 0x1F_FFFF.
    assert_eq!(
        leaf_output(Hpa(0x4020_0000), Iova(0x1234_5678), 2),
        Hpa(0x4034_5678)
    );
    // Garbage low address bits in a superpage are masked away (D5 #15).
    assert_eq!(
        leaf_output(Hpa(0x4020_1000), Iova(0x1234_5678), 2),
        Hpa(0x4034_5678)
    );
    // 1 GiB leaf at 0x1_4000_0000.
    assert_eq!(
        leaf_output(Hpa(0x1_4000_0000), Iova(0x1234_5678), 3),
        Hpa(0x1_5234_5678)
    );
    assert_eq!(leaf_output(Hpa(0x9000), Iova(0xABC_D123), 1), Hpa(0x9123));
}
