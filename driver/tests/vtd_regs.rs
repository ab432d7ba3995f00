//! VT-d register formats against hand-assembled hex (spec A1-A4, A10-A12, B1; common.md map).

use iommu_driver::vtd::regs::*;
use iommu_driver::{DomainId, Hpa, Iova, Rid};

#[test]
fn cap_project_default_is_hand_assembled_hex() {
    // ND=6            bits 2:0            -> 0x0000_0000_0000_0006
    // SAGAW=0b01110   bits 12:8           -> 0x0000_0000_0000_0E00
    // MGAW=56=0x38    bits 21:16          -> 0x0000_0000_0038_0000
    // FRO=0x20        bits 33:24          -> 0x0000_0000_2000_0000
    // SLLPS=0b0011    bits 37:34          -> 0x0000_000C_0000_0000
    // PSI             bit 39              -> 0x0000_0080_0000_0000
    // NFR=7           bits 47:40          -> 0x0000_0700_0000_0000
    // MAMV=18=0x12    bits 53:48          -> 0x0012_0000_0000_0000
    // PI              bit 59              -> 0x0800_0000_0000_0000
    const RAW: u64 = 0x0812_078C_2038_0E06;
    assert_eq!(Cap::project_default().encode(), RAW);
    let c = Cap::decode(RAW);
    assert_eq!(c, Cap::project_default());
    assert_eq!(c.nd, 6);
    assert_eq!(c.sagaw, 0b01110);
    assert_eq!(c.mgaw, 56);
    assert_eq!(c.mgaw_bits(), 57);
    assert_eq!(c.fro, 0x20);
    assert_eq!(c.sllps, 0b11);
    assert!(c.psi && c.pi);
    assert!(!c.cm && !c.rwbf && !c.afl && !c.zlr && !c.esirtps && !c.esrtps);
    assert_eq!(c.nfr, 7);
    assert_eq!(c.mamv, 18);
    assert_eq!(c.num_fault_records(), 8);
    assert_eq!(c.frcd_offset(), 0x200);
    assert_eq!(c.frcd_reg_offset(7), 0x270);
    assert_eq!(c.domain_id_bits(), 16);
    assert_eq!(c.num_domains(), 65536);
    assert!(!c.supports_aw(0) && c.supports_aw(1) && c.supports_aw(2) && c.supports_aw(3));
    assert!(!c.supports_aw(4) && !c.supports_aw(5));
    assert!(c.supports_large_page(2) && c.supports_large_page(3));
    assert!(!c.supports_large_page(4) && !c.supports_large_page(1));
    assert_eq!(c.frcd_offset(), FRCD_BASE as u32);
}

#[test]
fn ecap_project_default_is_hand_assembled_hex() {
    // C bit0 0x1, QI bit1 0x2, IR bit3 0x8, EIM bit4 0x10, PT bit6 0x40   -> 0x5B
    // IRO=0x10 bits 17:8 -> 0x1000; MHMV=15 bits 23:20 -> 0xF0_0000
    const RAW: u64 = 0x0000_0000_00F0_105B;
    assert_eq!(Ecap::project_default().encode(), RAW);
    let e = Ecap::decode(RAW);
    assert_eq!(e, Ecap::project_default());
    assert!(e.c && e.qi && e.ir && e.eim && e.pt);
    assert!(!e.dt && !e.sc && !e.nest && !e.pds && !e.smts && !e.adms);
    assert_eq!(e.iro, 0x10);
    assert_eq!(e.mhmv, 15);
    assert_eq!(e.iva_reg_offset(), 0x100);
    assert_eq!(e.iotlb_reg_offset(), 0x108);
    assert_eq!(e.iva_reg_offset(), IVA_REG as u32);
    assert_eq!(e.iotlb_reg_offset(), IOTLB_REG as u32);
}

#[test]
fn cap_single_bits_land_in_their_fields() {
    // One bit (or field LSB) at a time, positions from the A2 table.
    assert!(Cap::decode(1 << 3).afl);
    assert!(Cap::decode(1 << 4).rwbf);
    assert!(Cap::decode(1 << 5).plmr);
    assert!(Cap::decode(1 << 6).phmr);
    assert!(Cap::decode(1 << 7).cm);
    assert!(Cap::decode(1 << 22).zlr);
    assert!(Cap::decode(1 << 54).dwd);
    assert!(Cap::decode(1 << 55).drd);
    assert!(Cap::decode(1 << 56).fl1gp);
    assert!(Cap::decode(1 << 60).fl5lp);
    assert!(Cap::decode(1 << 61).ecmds);
    assert!(Cap::decode(1 << 62).esirtps);
    assert!(Cap::decode(1 << 63).esrtps);
    assert_eq!(Cap::decode(0x3FF << 24).fro, 0x3FF);
    assert_eq!(Cap::decode(1 << 34).sllps, 1);
    assert_eq!(Cap::decode(1 << 37).sllps, 8);
    // PI is bit 59 of CAP (not ECAP): nothing else decodes from it.
    let pi_only = Cap::decode(1 << 59);
    assert!(pi_only.pi);
    assert_eq!(
        Cap {
            pi: false,
            ..pi_only
        },
        Cap::decode(0)
    );
    // Reserved positions decode to nothing: 15:13, 23, 38, 58:57.
    assert_eq!(Cap::decode(0x0600_0040_0080_E000), Cap::decode(0));
    assert_eq!(Cap::RESERVED, 0x0600_0040_0080_E000);
}

#[test]
fn ecap_single_bits_land_in_their_fields() {
    assert!(Ecap::decode(1 << 2).dt);
    assert!(Ecap::decode(1 << 7).sc);
    assert!(Ecap::decode(1 << 25).mts);
    assert!(Ecap::decode(1 << 26).nest);
    assert!(Ecap::decode(1 << 29).prs);
    assert!(Ecap::decode(1 << 40).pasid);
    assert!(Ecap::decode(1 << 42).pds);
    assert!(Ecap::decode(1 << 43).smts);
    assert!(Ecap::decode(1 << 52).adms);
    assert_eq!(Ecap::decode(0x1F << 35).pss, 0x1F);
    assert_eq!(Ecap::decode(0x3FF << 8).iro, 0x3FF);
    // Reserved: 5, 19:18, 24, 28:27, 32, 50, 63:54.
    let rsvd: u64 = 0xFFC4_0001_190C_0020;
    assert_eq!(Ecap::RESERVED, rsvd);
    assert_eq!(Ecap::decode(rsvd), Ecap::decode(0));
}

#[test]
fn rtaddr_keeps_ttm_and_address_d5_6() {
    // RTA 0x1_2345_6000, TTM=01 (bit 10 = 0x400).
    let raw = 0x0000_0001_2345_6400;
    let r = RtAddr::decode(raw);
    assert_eq!(r.rta, Hpa(0x1_2345_6000));
    assert_eq!(r.ttm, TTM_SCALABLE);
    assert_eq!(r.encode(), raw);
    // TTM=11 -> 0xC00.
    assert_eq!(RtAddr::decode(0x8000_0C00).ttm, TTM_ABORT_DMA);
    assert_eq!(
        RtAddr {
            rta: Hpa(0x8000_0000),
            ttm: 0b11
        }
        .encode(),
        0x8000_0C00
    );
    // Reserved: 9:0, plus 63:48 with HAW=48.
    assert_eq!(RtAddr::RESERVED, 0x3FF);
    assert_eq!(RtAddr::reserved_mask(48), 0xFFFF_0000_0000_03FF);
}

#[test]
fn iqa_reads_back_dw_d5_2() {
    // base 0x8000_0000, DW=1 (bit 11 = 0x800), QS=2.
    let raw = 0x0000_0000_8000_0802;
    let q = Iqa::decode(raw);
    assert_eq!(q.iqa, Hpa(0x8000_0000));
    assert!(q.dw);
    assert_eq!(q.qs, 2);
    assert_eq!(q.encode(), raw);
    // 4 KiB x 2^2 = 16 KiB; 32-byte descriptors -> 512 (= 2^(QS+7)).
    assert_eq!(q.queue_bytes(), 16384);
    assert_eq!(q.entries(), 512);
    // 128-bit, QS=0: 256 entries (2^(0+8)).
    assert_eq!(Iqa::decode(0x8000_0000).entries(), 256);
    assert_eq!(Iqa::RESERVED, 0x7F8);
}

#[test]
fn iq_offsets() {
    // IQT bits 18:4. 0x20 = descriptor 2 (128-bit) or 1 (256-bit).
    assert_eq!(iq_index(0x20, false), 2);
    assert_eq!(iq_index(0x20, true), 1);
    assert_eq!(iq_reg_for_index(3, false), 0x30);
    assert_eq!(iq_reg_for_index(3, true), 0x60);
    assert!(iq_tail_misaligned(0x30, true));
    assert!(!iq_tail_misaligned(0x30, false));
    assert!(!iq_tail_misaligned(0x40, true));
    // Bits outside 18:4 are not part of the offset.
    assert_eq!(iq_index(0x0008_0010 | 0xF, false), 1);
}

#[test]
fn ccmd_fields() {
    // DID 0x1234 [15:0], SID 0x0300 [31:16], FM 3 [33:32], CAIG 01 [60:59], CIRG 11 [62:61],
    // ICC [63]: 0x8000.. | 0x6000.. | 0x0800.. | 0x3_0000_0000 | 0x0300_0000 | 0x1234.
    let raw = 0xE800_0003_0300_1234;
    let c = Ccmd::decode(raw);
    assert_eq!(c.did, DomainId(0x1234));
    assert_eq!(c.sid, Rid(0x0300));
    assert_eq!(c.fm, 3);
    assert_eq!(c.caig, 1);
    assert_eq!(c.cirg, CC_G_DEVICE);
    assert!(c.icc);
    assert_eq!(c.encode(), raw);
    assert_eq!(fm_sid_mask(0), 0xFFFF);
    assert_eq!(fm_sid_mask(1), 0xFFFB);
    assert_eq!(fm_sid_mask(2), 0xFFF9);
    assert_eq!(fm_sid_mask(3), 0xFFF8);
}

#[test]
fn iva_and_iotlb_fields() {
    // IVA: ADDR 0x1234_5000, IH (bit 6 = 0x40), AM 9 -> 0x1234_5049.
    let iva = Iva::decode(0x1234_5049);
    assert_eq!(iva.addr, Iova(0x1234_5000));
    assert!(iva.ih);
    assert_eq!(iva.am, 9);
    assert_eq!(iva.encode(), 0x1234_5049);
    assert_eq!(Iva::RESERVED, 0xF80);
    // IOTLB: DID 0xAB [47:32], DW [48], DR [49], IAIG 11 [58:57], IIRG 11 [61:60], IVT [63].
    let raw = 0x8000_0000_0000_0000
        | 0x3000_0000_0000_0000
        | 0x0600_0000_0000_0000
        | 0x0002_0000_0000_0000
        | 0x0001_0000_0000_0000
        | 0x0000_00AB_0000_0000;
    assert_eq!(raw, 0xB603_00AB_0000_0000u64);
    let t = IotlbReg::decode(raw);
    assert_eq!(t.did, DomainId(0xAB));
    assert!(t.dw && t.dr && t.ivt);
    assert_eq!(t.iaig, 3);
    assert_eq!(t.iirg, IOTLB_G_PAGE);
    assert_eq!(t.encode(), raw);
    // Reserved 31:0 (0xFFFF_FFFF), 56:50 (0x01FC_..), 59 (0x0800_..), 62 (0x4000_..).
    assert_eq!(IotlbReg::RESERVED, 0x49FC_0000_FFFF_FFFF);
}

#[test]
fn irta_fields_and_size() {
    // base 0x7FFF_F000, EIME (bit 11), S=15.
    let i = Irta::decode(0x7FFF_F80F);
    assert_eq!(i.irta, Hpa(0x7FFF_F000));
    assert!(i.eime);
    assert_eq!(i.s, 15);
    assert_eq!(i.entries(), 65536);
    assert_eq!(i.encode(), 0x7FFF_F80F);
    assert_eq!(Irta::decode(0x1000).entries(), 2);
    assert_eq!(Irta::decode(0x1007).entries(), 256);
    assert_eq!(Irta::decode(0x1007).entry_addr(0x10), Hpa(0x1100));
    assert_eq!(Irta::RESERVED, 0x7F0);
}

#[test]
fn iqercd_and_fsts() {
    // ICESID 0x1234 [63:48], ITESID 0x5678 [47:32], IQEI 4 [3:0].
    let e = IqErcd::decode(0x1234_5678_0000_0004);
    assert_eq!(
        (e.iqei, e.itesid, e.icesid),
        (IQEI_RESERVED_FIELD, 0x5678, 0x1234)
    );
    assert_eq!(e.encode(), 0x1234_5678_0000_0004);
    // FSTS: FRI 3 [15:8], IQE [4], PPF [1].
    let f = Fsts::decode(0x0312);
    assert_eq!(f.fri, 3);
    assert!(f.iqe && f.ppf && !f.pfo && !f.ice && !f.ite);
    assert_eq!(f.encode(), 0x0312);
    assert!(Fsts::event_already_pending(0x0002));
    assert!(Fsts::event_already_pending(0x0010));
    assert!(!Fsts::event_already_pending(0x0300));
}

#[test]
fn command_and_status_bits() {
    assert_eq!(GCMD_TE, 0x8000_0000);
    assert_eq!(GCMD_SRTP, 0x4000_0000);
    assert_eq!(GCMD_QIE, 0x0400_0000);
    assert_eq!(GCMD_IRE, 0x0200_0000);
    assert_eq!(GCMD_SIRTP, 0x0100_0000);
    assert_eq!(GCMD_CFI, 0x0080_0000);
    assert_eq!(GSTS_TES, GCMD_TE);
    assert_eq!(GSTS_IRTPS, GCMD_SIRTP);
    assert_eq!(GSTS_CFIS, GCMD_CFI);
    assert_eq!(GCMD_ONE_SHOT | GCMD_LEVEL, 0xFF80_0000);
    assert_eq!(GCMD_ONE_SHOT & GCMD_LEVEL, 0);
    assert_eq!(FSTS_PFO | FSTS_PPF | FSTS_IQE | FSTS_ICE | FSTS_ITE, 0x73);
    assert_eq!(FECTL_IM, 0x8000_0000);
    assert_eq!(FECTL_IP, 0x4000_0000);
    assert_eq!(ICS_IWC, 1);
}

#[test]
fn register_map_offsets() {
    let map: [(u16, u16); 26] = [
        (VER_REG, 0x000),
        (CAP_REG, 0x008),
        (ECAP_REG, 0x010),
        (GCMD_REG, 0x018),
        (GSTS_REG, 0x01C),
        (RTADDR_REG, 0x020),
        (CCMD_REG, 0x028),
        (FSTS_REG, 0x034),
        (FECTL_REG, 0x038),
        (FEDATA_REG, 0x03C),
        (FEADDR_REG, 0x040),
        (FEUADDR_REG, 0x044),
        (IQH_REG, 0x080),
        (IQT_REG, 0x088),
        (IQA_REG, 0x090),
        (ICS_REG, 0x09C),
        (IECTL_REG, 0x0A0),
        (IEDATA_REG, 0x0A4),
        (IEADDR_REG, 0x0A8),
        (IEUADDR_REG, 0x0AC),
        (IQERCD_REG, 0x0B0),
        (IRTA_REG, 0x0B8),
        (IVA_REG, 0x100),
        (IOTLB_REG, 0x108),
        (PERF_FAULTS_RECORDED, 0x340),
        (PERF_MALFORMED_TLPS, 0x348),
    ];
    for (got, want) in map {
        assert_eq!(got, want);
    }
    assert_eq!(frcd_reg(0), 0x200);
    assert_eq!(frcd_reg(7), 0x270);
}
