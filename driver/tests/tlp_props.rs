//! Property tests for the TLP codec: encode -> decode round trips of arbitrary valid headers, and
//! the byte-range semantics of the builders checked against an independent expansion of the
//! byte enables.

use iommu_driver::tlp::{
    self, Attr, Completion, CplStatus, Limits, RequestHeader, RequestKind, TlpError,
};
use iommu_driver::Rid;
use proptest::prelude::*;

fn kind() -> impl Strategy<Value = RequestKind> {
    prop::sample::select(vec![
        RequestKind::MemRead,
        RequestKind::MemReadLocked,
        RequestKind::MemWrite,
        RequestKind::FetchAdd,
        RequestKind::Swap,
        RequestKind::Cas,
    ])
}

fn attr() -> impl Strategy<Value = Attr> {
    (any::<bool>(), any::<bool>(), any::<bool>()).prop_map(|(ro, ns, ido)| Attr { ro, ns, ido })
}

/// An arbitrary header that satisfies every decode rule (default limits).
fn valid_request() -> impl Strategy<Value = RequestHeader> {
    (
        kind(),
        any::<bool>(),
        0u8..8,
        attr(),
        (any::<bool>(), any::<bool>(), any::<bool>(), any::<bool>()),
        0u8..3,
        any::<u16>(),
        0u16..0x400,
        (any::<u8>(), any::<u8>(), 1u16..=1024),
        any::<u64>(),
        0u8..4,
    )
        .prop_map(
            |(kind, four, tc, attr, (ln, th, td, ep), at, rid, tag, (fb, lb, len), addr, ph)| {
                let (length, address) = if kind.is_atomic() {
                    let lens: &[u16] = if kind == RequestKind::Cas {
                        &[2, 4, 8]
                    } else {
                        &[1, 2]
                    };
                    let length = lens[len as usize % lens.len()];
                    let op = if kind == RequestKind::Cas {
                        length as u64 * 2
                    } else {
                        length as u64 * 4
                    };
                    (length, addr & !(op - 1))
                } else {
                    // Place the DW range inside one 4 KiB page.
                    let room = (0x1000 - length_bytes(len)) / 4;
                    let off = (addr >> 2) % (room + 1) * 4;
                    (len, (addr & !0xFFF) | off)
                };
                let be_free = th && kind != RequestKind::MemWrite || kind.is_atomic();
                let (first_be, last_be) = if be_free {
                    (fb & 0xF, lb & 0xF)
                } else if length == 1 {
                    (fb & 0xF, 0)
                } else {
                    ((fb & 0xF).max(1), (lb & 0xF).max(1))
                };
                RequestHeader {
                    kind,
                    four_dw: four || address > 0xFFFF_FFFF,
                    tc,
                    attr,
                    ln,
                    th,
                    td,
                    ep,
                    at,
                    length,
                    requester_id: Rid(rid),
                    tag,
                    last_be,
                    first_be,
                    address,
                    ph,
                }
            },
        )
}

fn length_bytes(len: u16) -> u64 {
    len as u64 * 4
}

fn status() -> impl Strategy<Value = CplStatus> {
    prop::sample::select(vec![
        CplStatus::Sc,
        CplStatus::Ur,
        CplStatus::Crs,
        CplStatus::Ca,
    ])
}

fn completion() -> impl Strategy<Value = Completion> {
    (
        (
            any::<bool>(),
            any::<bool>(),
            0u8..8,
            attr(),
            any::<bool>(),
            any::<bool>(),
        ),
        (
            0u16..1024,
            any::<u16>(),
            status(),
            any::<bool>(),
            1u16..=4096,
        ),
        (any::<u16>(), 0u16..0x400, 0u8..0x80),
    )
        .prop_map(
            |(
                (with_data, locked, tc, attr, td, ep),
                (len, cid, status, bcm, bc),
                (rid, tag, la),
            )| {
                Completion {
                    with_data,
                    locked,
                    tc,
                    attr,
                    td,
                    ep,
                    length: if with_data { len + 1 } else { len },
                    completer_id: Rid(cid),
                    status,
                    bcm,
                    byte_count: bc,
                    requester_id: Rid(rid),
                    tag,
                    lower_address: la,
                }
            },
        )
}

/// The set of byte addresses a request enables, expanded from Length/FirstBE/LastBE the way the
/// spec (C3) defines them.
fn enabled_bytes(h: &RequestHeader) -> Vec<u64> {
    let mut v = Vec::new();
    for i in 0..h.length as u64 {
        let be = if i == 0 {
            h.first_be
        } else if i == h.length as u64 - 1 {
            h.last_be
        } else {
            0xF
        };
        for b in 0..4 {
            if be >> b & 1 == 1 {
                v.push(h.address + 4 * i + b);
            }
        }
    }
    v
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(2000)))]

    #[test]
    fn request_round_trips(h in valid_request()) {
        let d = h.encode();
        prop_assert_eq!(RequestHeader::decode(&d), Ok(h));
        let b = h.to_bytes();
        prop_assert_eq!(b.len(), h.header_dws() * 4);
        prop_assert_eq!(b.len() == 16, h.four_dw);
        prop_assert_eq!(RequestHeader::from_bytes(&b), Ok(h));
        // Payload after the header is ignored.
        let mut with_payload = b.clone();
        with_payload.extend_from_slice(&[1, 2, 3, 4]);
        prop_assert_eq!(RequestHeader::from_bytes(&with_payload), Ok(h));
        // Wire order: DW i is bytes 4i..4i+4, big-endian.
        for i in 0..h.header_dws() {
            prop_assert_eq!(u32::from_be_bytes([b[4*i], b[4*i+1], b[4*i+2], b[4*i+3]]), d[i]);
        }
    }

    #[test]
    fn completion_round_trips(c in completion()) {
        prop_assert_eq!(Completion::decode(&c.encode()), Ok(c));
        prop_assert_eq!(Completion::decode_strict(&c.encode()), Ok(c));
        prop_assert_eq!(Completion::from_bytes(&c.to_bytes()), Ok(c));
        prop_assert_eq!(c.to_bytes().len(), 12);
    }

    #[test]
    fn builders_cover_exactly_the_byte_range(
        rid in any::<u16>(), tag in 0u16..0x400, page in any::<u64>(), off in 0u64..0x1000, len in 0u64..=0x1000,
        write in any::<bool>(),
    ) {
        let addr = (page & !0xFFF) | off;
        let r = if write {
            tlp::mem_write(Rid(rid), tag, addr, len)
        } else {
            tlp::mem_read(Rid(rid), tag, addr, len)
        };
        let fits = off + len <= 0x1000;
        if !fits {
            prop_assert!(matches!(r, Err(TlpError::Crosses4k { .. })), "{:?}", r);
            return Ok(());
        }
        let h = r.unwrap();
        prop_assert_eq!(h.kind, if write { RequestKind::MemWrite } else { RequestKind::MemRead });
        prop_assert_eq!(h.is_4dw(), addr > 0xFFFF_FFFF);
        prop_assert_eq!(RequestHeader::decode(&h.encode()), Ok(h));
        let want: Vec<u64> = (addr as u128..addr as u128 + len as u128).map(|a| a as u64).collect();
        prop_assert_eq!(enabled_bytes(&h), want);
        if len > 0 {
            prop_assert_eq!(h.byte_count() as u64, len);
            prop_assert_eq!(h.first_byte_address(), addr);
            prop_assert_eq!(h.lower_address() as u64, addr & 0x7F);
            // Minimal Length: the DWs touched by the range.
            prop_assert_eq!(h.length as u128, (addr as u128 + len as u128).div_ceil(4) - addr as u128 / 4);
        } else {
            prop_assert_eq!((h.length, h.first_be, h.last_be), (1, 0, 0));
        }
    }

    #[test]
    fn completion_for_read_matches_request(
        rid in any::<u16>(), tag in 0u16..0x400, addr in any::<u64>(), len in 1u64..=0x1000,
        cid in any::<u16>(), st in status(),
    ) {
        let addr = addr & !0xFFF | (addr & 0xFFF).min(0x1000 - len);
        let r = tlp::mem_read(Rid(rid), tag, addr, len).unwrap();
        let c = Completion::for_request(&r, Rid(cid), st).unwrap();
        prop_assert_eq!(c.byte_count as u64, len);
        prop_assert_eq!(c.lower_address as u64, addr & 0x7F);
        prop_assert_eq!((c.requester_id, c.tag, c.completer_id, c.status), (Rid(rid), tag, Rid(cid), st));
        prop_assert_eq!(c.with_data, st == CplStatus::Sc);
        prop_assert_eq!(c.length, if st == CplStatus::Sc { r.length } else { 0 });
        prop_assert_eq!(Completion::decode(&c.encode()), Ok(c));
    }

    #[test]
    fn msi_write_is_one_dw(rid in any::<u16>(), addr in any::<u64>(), data in any::<u32>()) {
        let m = tlp::msi_write(Rid(rid), addr, data);
        let h = RequestHeader::decode_with(&m.hdr(), Limits::default()).unwrap();
        prop_assert_eq!((h.kind, h.length, h.first_be, h.last_be), (RequestKind::MemWrite, 1, 0xF, 0));
        prop_assert_eq!(h.address, addr & !3);
        prop_assert_eq!(m.payload(), data.to_le_bytes());
    }
}
