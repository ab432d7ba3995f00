//! Hand-decoded TLP headers from spec section C (C1-C7) and D5 #17. Every expected value here is
//! worked out from the field tables of the spec, not taken from the code under test.

use iommu_driver::tlp::{
    self, Completion, CplStatus, Limits, RequestHeader, RequestKind, Tlp, TlpError,
};
use iommu_driver::Rid;

const RID_03_00_0: Rid = Rid(0x0300);

fn dws(d: &[u32]) -> [u32; 4] {
    let mut a = [0u32; 4];
    a[..d.len()].copy_from_slice(d);
    a
}

// ---------------------------------------------------------------- C7 worked examples

#[test]
fn c7_msi_write_bytes() {
    let m = tlp::msi_write(RID_03_00_0, 0xFEE2_4698, 2);
    assert_eq!(
        m.header.to_bytes(),
        vec![0x40, 0x00, 0x00, 0x01, 0x03, 0x00, 0x00, 0x0F, 0xFE, 0xE2, 0x46, 0x98]
    );
    assert_eq!(m.payload(), [0x02, 0x00, 0x00, 0x00]);
    assert_eq!(m.hdr(), [0x4000_0001, 0x0300_000F, 0xFEE2_4698, 0]);
}

#[test]
fn c7_msi_write_decodes() {
    let bytes = [
        0x40, 0x00, 0x00, 0x01, 0x03, 0x00, 0x00, 0x0F, 0xFE, 0xE2, 0x46, 0x98, 2, 0, 0, 0,
    ];
    let h = RequestHeader::from_bytes(&bytes).unwrap();
    assert_eq!(h.kind, RequestKind::MemWrite);
    assert!(!h.is_4dw());
    assert_eq!(h.header_dws(), 3);
    assert_eq!((h.tc, h.at, h.length, h.tag), (0, 0, 1, 0));
    assert_eq!(h.requester_id, RID_03_00_0);
    assert_eq!((h.first_be, h.last_be), (0xF, 0));
    assert_eq!(h.address, 0xFEE2_4698);
    assert_eq!(h.byte_count(), 4);
}

#[test]
fn c7_64bit_16dw_write() {
    let h = tlp::mem_write(RID_03_00_0, 0x12, 0x1_2345_6000, 64).unwrap();
    assert_eq!(
        h.encode(),
        [0x6000_0010, 0x0300_12FF, 0x0000_0001, 0x2345_6000]
    );
    assert_eq!(
        h.to_bytes(),
        vec![0x60, 0, 0, 0x10, 0x03, 0x00, 0x12, 0xFF, 0, 0, 0, 1, 0x23, 0x45, 0x60, 0x00]
    );
    let d = RequestHeader::decode(&[0x6000_0010, 0x0300_12FF, 0x0000_0001, 0x2345_6000]).unwrap();
    assert_eq!(d, h);
    assert_eq!(
        (d.length, d.address, d.byte_count()),
        (16, 0x1_2345_6000, 64)
    );
}

#[test]
fn c7_one_dw_read_completion() {
    // MRd of one DW at 0x1234_5678 from 03:00.0, tag 0x12; completer ID 0x0010.
    let r = tlp::mem_read(RID_03_00_0, 0x12, 0x1234_5678, 4).unwrap();
    assert_eq!(r.encode(), [0x0000_0001, 0x0300_120F, 0x1234_5678, 0]);
    let c = Completion::for_request(&r, Rid(0x0010), CplStatus::Sc).unwrap();
    // DW0 4A 00 00 01; DW1 = CID<<16 | SC<<13 | byte count 4; DW2 = RID<<16 | tag<<8 | 0x78.
    assert_eq!(c.encode(), [0x4A00_0001, 0x0010_0004, 0x0300_1278, 0]);
    assert_eq!(
        c.to_bytes(),
        vec![0x4A, 0, 0, 0x01, 0x00, 0x10, 0x00, 0x04, 0x03, 0x00, 0x12, 0x78]
    );
    let d = Completion::decode(&[0x4A00_0001, 0x0010_0004, 0x0300_1278, 0]).unwrap();
    assert_eq!(d, c);
    assert!(d.with_data && !d.locked);
    assert_eq!((d.length, d.byte_count, d.lower_address), (1, 4, 0x78));
}

#[test]
fn c7_ur_completion() {
    // UR for the 16-DW read at 0x1_2345_6000 (64 bytes): DW0 0A 00 00 00, DW1 = CID<<16 | 0x2000 | 64.
    let r = tlp::mem_read(RID_03_00_0, 0x34, 0x1_2345_6000, 64).unwrap();
    let c = Completion::for_request(&r, Rid(0x0010), CplStatus::Ur).unwrap();
    assert_eq!(c.encode(), [0x0A00_0000, 0x0010_2040, 0x0300_3400, 0]);
    // CA: status 100 -> 0x8000.
    let c = Completion::for_request(&r, Rid(0), CplStatus::Ca).unwrap();
    assert_eq!(c.encode(), [0x0A00_0000, 0x0000_8040, 0x0300_3400, 0]);
    let d = Completion::decode(&[0x0A00_0000, 0x0000_8040, 0x0300_3400, 0]).unwrap();
    assert_eq!((d.status, d.with_data, d.length), (CplStatus::Ca, false, 0));
}

#[test]
fn completion_for_posted_write_is_an_error() {
    let w = tlp::mem_write(RID_03_00_0, 0, 0x1000, 4).unwrap();
    assert_eq!(
        Completion::for_request(&w, Rid(0), CplStatus::Ur),
        Err(TlpError::PostedHasNoCompletion)
    );
}

#[test]
fn completion_copies_tc_attr_and_locked() {
    // MRdLk (0x01), TC 5, RO+NS, 10-bit tag 0x3C1, 2 DW at 0x2008, BEs 1111/0011.
    // DW0 = 0x01 <<24 | T9 (bit 23) | TC 5 <<20 | T8 (bit 19) | RO bit 13 | NS bit 12 | 2.
    let dw0 = 0x0100_0000 | 1 << 23 | 5 << 20 | 1 << 19 | 1 << 13 | 1 << 12 | 2;
    let r = RequestHeader::decode(&dws(&[dw0, 0x0300_C13F, 0x0000_2008])).unwrap();
    assert_eq!(r.kind, RequestKind::MemReadLocked);
    assert_eq!(r.tag, 0x3C1);
    assert_eq!(r.byte_count(), 6);
    let c = Completion::for_request(&r, Rid(0x0001), CplStatus::Ur).unwrap();
    // CplLk (0x0B), same T9/TC/T8/RO/NS bits, Length 0; byte count 6; lower address 0x08.
    let cdw0 = 0x0B00_0000 | 1 << 23 | 5 << 20 | 1 << 19 | 1 << 13 | 1 << 12;
    assert_eq!(c.encode(), [cdw0, 0x0001_2006, 0x0300_C108, 0]);
    let c = Completion::for_request(&r, Rid(0x0001), CplStatus::Sc).unwrap();
    assert_eq!(
        c.encode()[0],
        0x4B00_0000 | 1 << 23 | 5 << 20 | 1 << 19 | 1 << 13 | 1 << 12 | 2
    );
}

// ---------------------------------------------------------------- C1/C5 fields

#[test]
fn ten_bit_tags() {
    // Tag 0x2A5 = 10_1010_0101b: T9 = 1 (DW0[23]), T8 = 0 (DW0[19]), Tag[7:0] = 0xA5.
    let h = RequestHeader::decode(&dws(&[0x0080_0001, 0x0100_A50F, 0x0000_1000])).unwrap();
    assert_eq!(h.tag, 0x2A5);
    // Tag 0x1FF: T8 only.
    let h = RequestHeader::decode(&dws(&[0x0008_0001, 0x0100_FF0F, 0x0000_1000])).unwrap();
    assert_eq!(h.tag, 0x1FF);
    // Encoding puts the bits back.
    let h = tlp::mem_read(Rid(0x0100), 0x2A5, 0x1000, 4).unwrap();
    assert_eq!(h.encode(), [0x0080_0001, 0x0100_A50F, 0x0000_1000, 0]);
    let h = tlp::mem_read(Rid(0x0100), 0x1FF, 0x1000, 4).unwrap();
    assert_eq!(h.encode()[0], 0x0008_0001);
    // Completion: T9/T8 in DW0, Tag[7:0] in DW2[15:8].
    let c = Completion::decode(&dws(&[0x4A88_0001, 0x0000_0004, 0x0100_7F00])).unwrap();
    assert_eq!(c.tag, 0x37F);
}

#[test]
fn ari_requester_ids() {
    // ARI: bus 0x81, function 0x42 -> RID 0x8142 in DW1[31:16].
    let rid = Rid::from_ari(0x81, 0x42);
    let h = tlp::mem_read(rid, 0, 0x4000, 4).unwrap();
    assert_eq!(h.encode()[1], 0x8142_000F);
    let d = RequestHeader::decode(&dws(&[0x0000_0001, 0x81FF_000F, 0x0000_4000])).unwrap();
    assert_eq!(d.requester_id, Rid::from_ari(0x81, 0xFF));
    assert_eq!((d.requester_id.bus(), d.requester_id.devfn()), (0x81, 0xFF));
    // Non-ARI 00:1f.3 = 0x00FB.
    let d = RequestHeader::decode(&dws(&[0x0000_0001, 0x00FB_000F, 0x0000_4000])).unwrap();
    assert_eq!(d.requester_id, Rid::from_bdf(0, 0x1F, 3));
}

#[test]
fn dw0_flag_bits() {
    // MWr 3DW: TC 7 (22:20), IDO (18), TH (16), TD (15), EP (14), RO (13), NS (12), AT=10 (11:10), Length 1.
    let dw0 = 0x4000_0000
        | 7 << 20
        | 1 << 18
        | 1 << 16
        | 1 << 15
        | 1 << 14
        | 1 << 13
        | 1 << 12
        | 2 << 10
        | 1;
    let h = RequestHeader::decode(&dws(&[dw0, 0x0000_000F, 0x0000_2003])).unwrap();
    assert_eq!(h.tc, 7);
    assert!(h.attr.ido && h.attr.ro && h.attr.ns);
    assert!(h.th && h.td && h.ep && !h.ln);
    assert_eq!(h.at, 2);
    assert_eq!((h.address, h.ph), (0x2000, 3));
    assert_eq!(h.encode(), dws(&[dw0, 0x0000_000F, 0x0000_2003]));
}

#[test]
fn length_zero_means_1024() {
    // MRd 3DW, Length field 0, BEs F/F, at 0x2000: 1024 DW = 4096 bytes.
    let h = RequestHeader::decode(&dws(&[0x0000_0000, 0x0300_00FF, 0x0000_2000])).unwrap();
    assert_eq!(h.length, 1024);
    assert_eq!(h.byte_count(), 4096);
    assert_eq!(h.encode()[0] & 0x3FF, 0);
    let b = tlp::mem_read(RID_03_00_0, 0, 0x2000, 4096).unwrap();
    assert_eq!(b.encode(), [0x0000_0000, 0x0300_00FF, 0x0000_2000, 0]);
    // A 4096-byte completion: byte count field 0 = 4096, Length 0 = 1024.
    let c = Completion::for_request(&b, Rid(0), CplStatus::Sc).unwrap();
    assert_eq!((c.length, c.byte_count), (1024, 4096));
    assert_eq!(c.encode(), [0x4A00_0000, 0x0000_0000, 0x0300_0000, 0]);
    let d = Completion::decode(&[0x4A00_0000, 0, 0x0300_0000, 0]).unwrap();
    assert_eq!((d.length, d.byte_count), (1024, 4096));
}

#[test]
fn three_dw_four_dw_boundary_at_4gib() {
    let h = tlp::mem_read(RID_03_00_0, 0, 0xFFFF_FFFC, 4).unwrap();
    assert_eq!(h.encode(), [0x0000_0001, 0x0300_000F, 0xFFFF_FFFC, 0]);
    assert_eq!(h.to_bytes().len(), 12);
    let h = tlp::mem_read(RID_03_00_0, 0, 0x1_0000_0000, 4).unwrap();
    assert_eq!(
        h.encode(),
        [0x2000_0001, 0x0300_000F, 0x0000_0001, 0x0000_0000]
    );
    assert_eq!(h.to_bytes().len(), 16);
    let w = tlp::mem_write(RID_03_00_0, 0, 0x1_0000_0000, 4).unwrap();
    assert_eq!(w.encode()[0], 0x6000_0001);
    // MSI above 4 GiB uses 4DW too.
    assert_eq!(
        tlp::msi_write(RID_03_00_0, 0x1_FEE0_0000, 0).hdr()[0],
        0x6000_0001
    );
    // 4DW with a zero upper address is accepted and re-encodes as 4DW.
    let raw = [0x2000_0001, 0x0300_000F, 0, 0x0000_1000];
    let d = RequestHeader::decode(&raw).unwrap();
    assert!(d.four_dw);
    assert_eq!(d.address, 0x1000);
    assert_eq!(d.encode(), raw);
    // A 3DW header ignores DW3.
    let d = RequestHeader::decode(&[0x0000_0001, 0x0300_000F, 0x1000, 0xDEAD_BEEF]).unwrap();
    assert_eq!(d.address, 0x1000);
}

#[test]
fn atomics_decode_as_their_own_kinds() {
    // FetchAdd 32-bit 3DW: 0x4C; Swap 64-bit 4DW: 0x6D; CAS 128-bit operands (8 DW): 0x4E.
    let h = RequestHeader::decode(&dws(&[0x4C00_0001, 0x0300_050F, 0x0000_1004])).unwrap();
    assert_eq!(
        (h.kind, h.length, h.byte_count()),
        (RequestKind::FetchAdd, 1, 4)
    );
    let h = RequestHeader::decode(&[0x6D00_0002, 0x0300_06FF, 0x2, 0x0000_1008]).unwrap();
    assert_eq!(
        (h.kind, h.address, h.byte_count()),
        (RequestKind::Swap, 0x2_0000_1008, 8)
    );
    let h = RequestHeader::decode(&dws(&[0x4E00_0008, 0x0300_07FF, 0x0000_1010])).unwrap();
    assert_eq!((h.kind, h.atomic_operand_bytes()), (RequestKind::Cas, 16));
    assert!(h.kind.is_atomic() && !h.kind.is_posted());
    // Completion of a CAS with 16-byte operands carries 4 DW, byte count 16, lower address 0x10.
    let c = Completion::for_request(&h, Rid(0), CplStatus::Sc).unwrap();
    assert_eq!(c.encode(), [0x4A00_0004, 0x0000_0010, 0x0300_0710, 0]);
    // Builder.
    let b = tlp::atomic(RequestKind::Swap, RID_03_00_0, 6, 0x2_0000_1008, 8).unwrap();
    assert_eq!(b.encode(), [0x6D00_0002, 0x0300_06FF, 0x2, 0x0000_1008]);
    assert_eq!(
        tlp::atomic(RequestKind::FetchAdd, RID_03_00_0, 0, 0x1000, 16),
        Err(TlpError::BadAtomicLength {
            kind: RequestKind::FetchAdd,
            length: 4
        })
    );
    assert!(tlp::atomic(RequestKind::MemRead, RID_03_00_0, 0, 0x1000, 4).is_err());
}

#[test]
fn steering_tag_replaces_byte_enables_on_reads() {
    // MRd with TH=1: DW1[7:0] = ST 0xA5 (would be an illegal LastBE for Length 1 otherwise).
    let h = RequestHeader::decode(&dws(&[0x0001_0001, 0x0300_00A5, 0x0000_1002])).unwrap();
    assert_eq!(h.steering_tag(), Some(0xA5));
    assert_eq!((h.ph, h.byte_count(), h.lower_address()), (2, 4, 0x00));
    // The same DW1 without TH is malformed.
    assert_eq!(
        RequestHeader::decode(&dws(&[0x0000_0001, 0x0300_00A5, 0x0000_1002])),
        Err(TlpError::BadByteEnables {
            length: 1,
            first_be: 0x5,
            last_be: 0xA
        })
    );
    // MWr with TH keeps its byte enables.
    assert_eq!(
        RequestHeader::decode(&dws(&[0x4001_0001, 0x0300_00A5, 0x0000_1002])),
        Err(TlpError::BadByteEnables {
            length: 1,
            first_be: 0x5,
            last_be: 0xA
        })
    );
}

// ---------------------------------------------------------------- byte count / lower address

#[test]
fn byte_count_table() {
    // Length 1 (PCIe byte-count table): 1xx1 -> 4, 01x1 -> 3, 1x10 -> 3, 0011/0110/1100 -> 2,
    // single bits -> 1, 0000 -> 1.
    let one = |fbe: u32| {
        RequestHeader::decode(&dws(&[0x0000_0001, fbe, 0x1000]))
            .unwrap()
            .byte_count()
    };
    for (be, n) in [
        (0b1111, 4),
        (0b1001, 4),
        (0b1011, 4),
        (0b0101, 3),
        (0b0111, 3),
        (0b1010, 3),
        (0b1110, 3),
        (0b0011, 2),
        (0b0110, 2),
        (0b1100, 2),
        (0b0001, 1),
        (0b0010, 1),
        (0b0100, 1),
        (0b1000, 1),
        (0b0000, 1),
    ] {
        assert_eq!(one(be), n, "first BE {be:04b}");
    }
    // Length > 1: Length*4 - leading disabled bytes of FirstBE - trailing disabled of LastBE.
    let many = |len: u32, fbe: u32, lbe: u32| {
        RequestHeader::decode(&dws(&[len, lbe << 4 | fbe, 0x1000]))
            .unwrap()
            .byte_count()
    };
    assert_eq!(many(2, 0b1111, 0b1111), 8);
    assert_eq!(many(2, 0b1110, 0b0111), 6);
    assert_eq!(many(2, 0b1000, 0b0001), 2);
    assert_eq!(many(16, 0b1100, 0b0011), 60);
    assert_eq!(many(3, 0b0001, 0b1000), 12); // non-contiguous: the span still counts
}

#[test]
fn lower_address_d5_17() {
    // (addr + offset of first enabled byte) & 0x7F.
    let la = |addr: u32, fbe: u32| {
        RequestHeader::decode(&dws(&[0x0000_0001, fbe, addr]))
            .unwrap()
            .lower_address()
    };
    assert_eq!(la(0x1234_5678, 0b1100), 0x7A);
    assert_eq!(la(0x0000_10FC, 0b1000), 0x7F);
    assert_eq!(la(0x0000_107C, 0b0100), 0x7E);
    assert_eq!(la(0x0000_1080, 0b1111), 0x00);
    assert_eq!(la(0x0000_10FC, 0b0000), 0x7C); // zero-length read: offset 0
                                               // In a UR completion.
    let r = tlp::mem_read(RID_03_00_0, 1, 0x10FF, 1).unwrap();
    assert_eq!((r.first_be, r.address), (0b1000, 0x10FC));
    let c = Completion::for_request(&r, Rid(0), CplStatus::Ur).unwrap();
    assert_eq!(c.encode(), [0x0A00_0000, 0x0000_2001, 0x0300_017F, 0]);
}

#[test]
fn builders_derive_length_and_byte_enables() {
    // 2 bytes at 0x1003: bytes 3 of DW 0x1000 and 0 of DW 0x1004 -> Length 2, FirstBE 1000, LastBE 0001.
    let h = tlp::mem_read(RID_03_00_0, 0, 0x1003, 2).unwrap();
    assert_eq!(
        (h.address, h.length, h.first_be, h.last_be),
        (0x1000, 2, 0b1000, 0b0001)
    );
    assert_eq!(h.byte_count(), 2);
    // 2 bytes at 0x1001 -> Length 1, FirstBE 0110.
    let h = tlp::mem_write(RID_03_00_0, 0, 0x1001, 2).unwrap();
    assert_eq!((h.length, h.first_be, h.last_be), (1, 0b0110, 0));
    // 7 bytes at 0x1002 -> bytes 0x1002..0x1009: Length 3, FirstBE 1100, LastBE 0001.
    let h = tlp::mem_write(RID_03_00_0, 0, 0x1002, 7).unwrap();
    assert_eq!((h.length, h.first_be, h.last_be), (3, 0b1100, 0b0001));
    // Zero-length read: Length 1, FirstBE 0.
    let h = tlp::mem_read(RID_03_00_0, 0, 0x1004, 0).unwrap();
    assert_eq!((h.length, h.first_be, h.last_be), (1, 0, 0));
    // Crossing 4 KiB: 4 bytes at 0x1FFE.
    assert_eq!(
        tlp::mem_read(RID_03_00_0, 0, 0x1FFE, 4),
        Err(TlpError::Crosses4k {
            address: 0x1FFC,
            length: 2
        })
    );
    assert_eq!(
        tlp::mem_read(RID_03_00_0, 0, 0x1000, 4097),
        Err(TlpError::TooLong { len_bytes: 4097 })
    );
    // The top of the address space.
    let h = tlp::mem_read(RID_03_00_0, 0, u64::MAX - 3, 4).unwrap();
    assert_eq!(
        h.encode(),
        [0x2000_0001, 0x0300_000F, 0xFFFF_FFFF, 0xFFFF_FFFC]
    );
    assert!(tlp::mem_read(RID_03_00_0, 0, u64::MAX - 1, 4).is_err());
}

// ---------------------------------------------------------------- every error variant

#[test]
fn reserved_fmt_type() {
    let bad = |dw0: u32| RequestHeader::decode(&dws(&[dw0, 0x0000_000F, 0x1000]));
    // MWr-format with Type 11111.
    assert_eq!(
        bad(0x5F00_0001),
        Err(TlpError::ReservedFmtType {
            fmt: 0b010,
            typ: 0b11111
        })
    );
    // MRdLk with data (0x41), AtomicOp without data (0x0C), 4DW completion (0x2A).
    assert_eq!(
        bad(0x4100_0001),
        Err(TlpError::ReservedFmtType {
            fmt: 0b010,
            typ: 0b00001
        })
    );
    assert_eq!(
        bad(0x0C00_0001),
        Err(TlpError::ReservedFmtType {
            fmt: 0b000,
            typ: 0b01100
        })
    );
    assert_eq!(
        bad(0x2A00_0001),
        Err(TlpError::ReservedFmtType {
            fmt: 0b001,
            typ: 0b01010
        })
    );
    // Fmt 101..111 are reserved.
    assert_eq!(
        bad(0xA000_0001),
        Err(TlpError::ReservedFmtType { fmt: 0b101, typ: 0 })
    );
    assert_eq!(
        bad(0xE000_0001),
        Err(TlpError::ReservedFmtType { fmt: 0b111, typ: 0 })
    );
    // Msg routing 110 is reserved; 3DW Msg is reserved.
    assert_eq!(
        bad(0x3600_0000),
        Err(TlpError::ReservedFmtType {
            fmt: 0b001,
            typ: 0b10110
        })
    );
    assert_eq!(
        bad(0x1000_0000),
        Err(TlpError::ReservedFmtType {
            fmt: 0b000,
            typ: 0b10000
        })
    );
}

#[test]
fn tlp_prefix_unsupported() {
    assert_eq!(
        RequestHeader::decode(&[0x8000_0000, 0, 0, 0]),
        Err(TlpError::Prefix)
    );
    assert_eq!(
        RequestHeader::decode(&[0x9F00_0000, 0, 0, 0]),
        Err(TlpError::Prefix)
    );
    assert_eq!(
        Completion::decode(&[0x8A00_0000, 0, 0, 0]),
        Err(TlpError::Prefix)
    );
}

#[test]
fn not_a_request_or_completion() {
    // CfgRd0 (0x04), IOWr (0x42), Msg to RC (0x30), Cpl (0x0A) given to the request decoder.
    for (dw0, f, t) in [
        (0x0400_0001u32, 0, 4),
        (0x4200_0001, 2, 2),
        (0x3000_0000, 1, 0x10),
        (0x0A00_0000, 0, 0xA),
    ] {
        assert_eq!(
            RequestHeader::decode(&dws(&[dw0, 0x0F, 0x1000])),
            Err(TlpError::NotARequest { fmt: f, typ: t })
        );
    }
    assert_eq!(
        Completion::decode(&dws(&[0x0000_0001, 0x0F, 0x1000])),
        Err(TlpError::NotACompletion { fmt: 0, typ: 0 })
    );
    assert!(matches!(
        Tlp::decode(&[0x0400_0001, 0, 0, 0], Limits::default()),
        Err(TlpError::NotARequest { .. })
    ));
    assert!(matches!(
        Tlp::decode(&[0x4A00_0001, 0, 0, 0], Limits::default()),
        Ok(Tlp::Completion(_))
    ));
    assert!(matches!(
        Tlp::decode(&[0x0000_0001, 0xF, 0, 0], Limits::default()),
        Ok(Tlp::Request(_))
    ));
}

#[test]
fn at_11_reserved() {
    assert_eq!(
        RequestHeader::decode(&dws(&[0x0000_0C01, 0x0300_000F, 0x1000])),
        Err(TlpError::ReservedAt)
    );
    // AT=01 and AT=10 decode.
    assert_eq!(
        RequestHeader::decode(&dws(&[0x0000_0401, 0x0300_000F, 0x1000]))
            .unwrap()
            .at,
        1
    );
    assert_eq!(
        RequestHeader::decode(&dws(&[0x0000_0801, 0x0300_000F, 0x1000]))
            .unwrap()
            .at,
        2
    );
}

#[test]
fn crossing_4k() {
    // 2 DW at 0xFFC: bytes 0xFFC..0x1004.
    assert_eq!(
        RequestHeader::decode(&dws(&[0x0000_0002, 0x0300_00FF, 0x0000_0FFC])),
        Err(TlpError::Crosses4k {
            address: 0xFFC,
            length: 2
        })
    );
    // 1024 DW at 0x1004.
    assert_eq!(
        RequestHeader::decode(&dws(&[0x4000_0000, 0x0300_00FF, 0x0000_1004])),
        Err(TlpError::Crosses4k {
            address: 0x1004,
            length: 1024
        })
    );
    // Ending exactly at the boundary is fine: 2 DW at 0xFF8.
    assert!(RequestHeader::decode(&dws(&[0x0000_0002, 0x0300_00FF, 0x0000_0FF8])).is_ok());
    // 4DW at the top of the space: 2 DW at 0xFFFF_FFFF_FFFF_FFFC wraps.
    assert!(matches!(
        RequestHeader::decode(&[0x2000_0002, 0x0300_00FF, 0xFFFF_FFFF, 0xFFFF_FFFC]),
        Err(TlpError::Crosses4k { .. })
    ));
}

#[test]
fn bad_byte_enables() {
    let dec = |dw0: u32, dw1: u32| RequestHeader::decode(&dws(&[dw0, dw1, 0x1000]));
    // Length 1 with LastBE != 0.
    assert_eq!(
        dec(0x0000_0001, 0x0300_001F),
        Err(TlpError::BadByteEnables {
            length: 1,
            first_be: 0xF,
            last_be: 0x1
        })
    );
    // Length 2 with FirstBE 0 / LastBE 0.
    assert_eq!(
        dec(0x4000_0002, 0x0300_00F0),
        Err(TlpError::BadByteEnables {
            length: 2,
            first_be: 0,
            last_be: 0xF
        })
    );
    assert_eq!(
        dec(0x0000_0002, 0x0300_000F),
        Err(TlpError::BadByteEnables {
            length: 2,
            first_be: 0xF,
            last_be: 0
        })
    );
    // Length 1 with FirstBE 0 (zero-length) is legal.
    assert!(dec(0x0000_0001, 0x0300_0000).is_ok());
}

#[test]
fn length_beyond_mps_and_mrrs() {
    let lim = Limits {
        mps: 256,
        mrrs: 512,
    };
    // MWr 128 DW = 512 bytes > MPS 256.
    assert_eq!(
        RequestHeader::decode_with(&dws(&[0x4000_0080, 0x0300_00FF, 0x1000]), lim),
        Err(TlpError::ExceedsMps {
            bytes: 512,
            mps: 256
        })
    );
    // MWr 64 DW = 256 bytes is fine; MRd 128 DW = 512 is fine, 129 DW is not.
    assert!(RequestHeader::decode_with(&dws(&[0x4000_0040, 0x0300_00FF, 0x1000]), lim).is_ok());
    assert!(RequestHeader::decode_with(&dws(&[0x0000_0080, 0x0300_00FF, 0x1000]), lim).is_ok());
    assert_eq!(
        RequestHeader::decode_with(&dws(&[0x0000_0081, 0x0300_00FF, 0x1000]), lim),
        Err(TlpError::ExceedsMrrs {
            bytes: 516,
            mrrs: 512
        })
    );
    // Length 0 = 1024 DW = 4096 bytes against the default limits is fine.
    assert!(RequestHeader::decode(&dws(&[0x4000_0000, 0x0300_00FF, 0x1000])).is_ok());
}

#[test]
fn bad_atomics() {
    // FetchAdd with 3 DW; CAS with 1 DW; Swap 64-bit at a 4-byte-aligned address; CAS 128-bit at 0x1008.
    assert_eq!(
        RequestHeader::decode(&dws(&[0x4C00_0003, 0x0300_00FF, 0x1000])),
        Err(TlpError::BadAtomicLength {
            kind: RequestKind::FetchAdd,
            length: 3
        })
    );
    assert_eq!(
        RequestHeader::decode(&dws(&[0x4E00_0001, 0x0300_000F, 0x1000])),
        Err(TlpError::BadAtomicLength {
            kind: RequestKind::Cas,
            length: 1
        })
    );
    assert_eq!(
        RequestHeader::decode(&dws(&[0x4D00_0002, 0x0300_00FF, 0x1004])),
        Err(TlpError::MisalignedAtomic {
            kind: RequestKind::Swap,
            address: 0x1004
        })
    );
    assert_eq!(
        RequestHeader::decode(&dws(&[0x4E00_0008, 0x0300_00FF, 0x1008])),
        Err(TlpError::MisalignedAtomic {
            kind: RequestKind::Cas,
            address: 0x1008
        })
    );
    // CAS with 64-bit operands (4 DW payload) at 0x1FF8: the payload is 16 bytes but the target
    // is the 8-byte operand, which does not cross 4 KiB.
    let h = RequestHeader::decode(&dws(&[0x4E00_0004, 0x0300_00FF, 0x1FF8])).unwrap();
    assert_eq!(
        (h.atomic_operand_bytes(), h.byte_count(), h.lower_address()),
        (8, 8, 0x78)
    );
    // CAS with 32-bit operands (2 DW) at a 4-byte-aligned address is fine.
    assert!(RequestHeader::decode(&dws(&[0x4E00_0002, 0x0300_00FF, 0x1004])).is_ok());
}

#[test]
fn truncated_bytes() {
    assert_eq!(
        RequestHeader::from_bytes(&[]),
        Err(TlpError::Truncated { need: 12, got: 0 })
    );
    assert_eq!(
        RequestHeader::from_bytes(&[0x60, 0, 0, 1, 0, 0, 0, 0xF, 0, 0, 0, 1]),
        Err(TlpError::Truncated { need: 16, got: 12 })
    );
    assert_eq!(
        Completion::from_bytes(&[0x4A, 0, 0, 1, 0, 0, 0, 4, 3]),
        Err(TlpError::Truncated { need: 12, got: 9 })
    );
}

#[test]
fn completion_status_codes() {
    for (code, s) in [
        (0u32, CplStatus::Sc),
        (1, CplStatus::Ur),
        (2, CplStatus::Crs),
        (4, CplStatus::Ca),
    ] {
        let c = Completion::decode_strict(&[0x0A00_0000, code << 13 | 4, 0, 0]).unwrap();
        assert_eq!(c.status, s);
        assert_eq!(s.code() as u32, code);
    }
    // Reserved 011, 101, 110, 111: error when strict, UR otherwise (spec C4).
    for code in [3u32, 5, 6, 7] {
        assert_eq!(
            Completion::decode_strict(&[0x0A00_0000, code << 13 | 4, 0, 0]),
            Err(TlpError::ReservedCplStatus { status: code as u8 })
        );
        assert_eq!(
            Completion::decode(&[0x0A00_0000, code << 13 | 4, 0, 0])
                .unwrap()
                .status,
            CplStatus::Ur
        );
    }
    // BCM is DW1[12]; byte count 0 = 4096.
    let c = Completion::decode(&[0x4A00_0001, 0x1234_1000, 0x5678_9A7F, 0]).unwrap();
    assert_eq!(c.completer_id, Rid(0x1234));
    assert!(c.bcm);
    assert_eq!(c.byte_count, 4096);
    assert_eq!(
        (c.requester_id, c.tag, c.lower_address),
        (Rid(0x5678), 0x9A, 0x7F)
    );
}
