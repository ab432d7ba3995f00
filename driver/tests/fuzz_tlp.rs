//! Fuzz property: the TLP decoders never panic on arbitrary input, and whatever they accept
//! re-encodes to the same wire bits.
//!
//! The case count comes from the `PROPTEST_CASES` environment variable (default 100 000, well
//! under a few seconds); run e.g. `PROPTEST_CASES=5000000 cargo test --test fuzz_tlp` for a
//! long campaign.

use iommu_driver::tlp::{self, Completion, CplStatus, Limits, RequestHeader, Tlp};
use iommu_driver::Rid;
use proptest::prelude::*;

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000)
}

/// DW0 values: fully random, or a random body under a Fmt/Type byte that decodes (so the later
/// checks are reached).
fn dw0() -> impl Strategy<Value = u32> {
    let bytes = vec![
        0x00u8, 0x20, 0x01, 0x21, 0x40, 0x60, 0x4C, 0x6C, 0x4D, 0x6D, 0x4E, 0x6E, 0x0A, 0x4A, 0x0B,
        0x4B, 0x02, 0x42, 0x04, 0x44, 0x30, 0x70, 0x80, 0xA0,
    ];
    prop_oneof![
        any::<u32>(),
        (prop::sample::select(bytes), any::<u32>())
            .prop_map(|(b, r)| (b as u32) << 24 | (r & 0x00FF_FFFF)),
    ]
}

fn limits() -> impl Strategy<Value = Limits> {
    (0u32..8, 0u32..8).prop_map(|(a, b)| Limits {
        mps: 128 << a.min(5),
        mrrs: 128 << b.min(5),
    })
}

/// Exercise every accessor of a decoded request (none may panic).
fn poke(h: &RequestHeader) {
    let _ = (
        h.byte_count(),
        h.lower_address(),
        h.first_byte_address(),
        h.steering_tag(),
    );
    let _ = (h.header_dws(), h.to_bytes(), h.atomic_operand_bytes());
    for st in [CplStatus::Sc, CplStatus::Ur, CplStatus::Crs, CplStatus::Ca] {
        if let Ok(c) = Completion::for_request(h, Rid(0), st) {
            assert_eq!(Completion::decode(&c.encode()), Ok(c));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn decode_dws_never_panics(d0 in dw0(), d1 in any::<u32>(), d2 in any::<u32>(), d3 in any::<u32>(), lim in limits()) {
        let raw = [d0, d1, d2, d3];
        if let Ok(h) = RequestHeader::decode_with(&raw, lim) {
            // Accepted headers re-encode bit-exactly (DW3 only for 4DW).
            let n = h.header_dws();
            prop_assert_eq!(&h.encode()[..n], &raw[..n]);
            prop_assert_eq!(n == 4, d0 & (1 << 29) != 0);
            prop_assert!(h.validate(lim).is_ok());
            poke(&h);
        }
        if let Ok(c) = Completion::decode(&raw) {
            // Re-encoding clears only reserved bits (DW0 LN/TH/AT, DW2[7]) and maps a reserved
            // status to UR.
            let e = c.encode();
            prop_assert_eq!(e[0], raw[0] & !(1 << 17 | 1 << 16 | 0b11 << 10));
            let st_mask = 0b111 << 13;
            prop_assert_eq!(e[1] & !st_mask, raw[1] & !st_mask);
            prop_assert_eq!(e[2], raw[2] & !0x80);
            if Completion::decode_strict(&raw).is_ok() {
                prop_assert_eq!(e[1], raw[1]);
            }
        }
        let _ = Tlp::decode(&raw, lim);
    }

    #[test]
    fn decode_bytes_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..40), lim in limits()) {
        if let Ok(h) = RequestHeader::from_bytes_with(&bytes, lim) {
            let b = h.to_bytes();
            prop_assert_eq!(&b[..], &bytes[..b.len()]);
            poke(&h);
        }
        if let Ok(c) = Completion::from_bytes(&bytes) {
            prop_assert!(bytes.len() >= 12);
            let _ = c.to_bytes();
        }
        let _ = Tlp::from_bytes(&bytes, lim);
        let _ = tlp::dws_from_bytes(&bytes);
    }

    #[test]
    fn builders_never_panic(rid in any::<u16>(), tag in any::<u16>(), addr in any::<u64>(), len in any::<u64>(), op in any::<u32>()) {
        let reqs = [tlp::mem_read(Rid(rid), tag, addr, len), tlp::mem_write(Rid(rid), tag, addr, len % 0x2000)];
        for h in reqs.into_iter().flatten() {
            prop_assert_eq!(RequestHeader::decode(&h.encode()), Ok(h));
            poke(&h);
        }
        for k in [tlp::RequestKind::FetchAdd, tlp::RequestKind::Swap, tlp::RequestKind::Cas] {
            if let Ok(h) = tlp::atomic(k, Rid(rid), tag, addr, op % 40) {
                prop_assert_eq!(RequestHeader::decode(&h.encode()), Ok(h));
                poke(&h);
            }
        }
        let m = tlp::msi_write(Rid(rid), addr, op);
        prop_assert!(RequestHeader::decode(&m.hdr()).is_ok());
    }
}
