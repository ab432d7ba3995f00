//! Property tests: for every VT-d format, encode(decode(raw)) keeps exactly the non-reserved bits
//! and decode(encode(v)) gives v back. (The raw-hex tests in the other vtd_*.rs files pin the
//! field positions; these pin losslessness.)

use iommu_driver::vtd::context::ContextEntry;
use iommu_driver::vtd::frcd::FaultRecord;
use iommu_driver::vtd::inv::*;
use iommu_driver::vtd::irte::Irte;
use iommu_driver::vtd::msi::MsiAddress;
use iommu_driver::vtd::pid::{PostedInterruptDescriptor, PID_CONTROL_RESERVED};
use iommu_driver::vtd::regs::*;
use iommu_driver::vtd::root::RootEntry;
use iommu_driver::vtd::slpte::SlPte;
use proptest::prelude::*;

fn u128s() -> impl Strategy<Value = u128> {
    (any::<u64>(), any::<u64>()).prop_map(|(a, b)| (b as u128) << 64 | a as u128)
}

proptest! {
    #[test]
    fn registers_round_trip(raw in any::<u64>()) {
        prop_assert_eq!(Cap::decode(raw).encode(), raw & !Cap::RESERVED);
        prop_assert_eq!(Ecap::decode(raw).encode(), raw & !Ecap::RESERVED);
        prop_assert_eq!(RtAddr::decode(raw).encode(), raw & !RtAddr::RESERVED);
        prop_assert_eq!(Ccmd::decode(raw).encode(), raw & !Ccmd::RESERVED);
        prop_assert_eq!(Iva::decode(raw).encode(), raw & !Iva::RESERVED);
        prop_assert_eq!(IotlbReg::decode(raw).encode(), raw & !IotlbReg::RESERVED);
        prop_assert_eq!(Iqa::decode(raw).encode(), raw & !Iqa::RESERVED);
        prop_assert_eq!(Irta::decode(raw).encode(), raw & !Irta::RESERVED);
        prop_assert_eq!(IqErcd::decode(raw).encode(), raw & !IqErcd::RESERVED);
        let r32 = raw as u32;
        prop_assert_eq!(Fsts::decode(r32).encode(), r32 & !FSTS_RESERVED);
        // decode(encode(v)) == v
        let c = Cap::decode(raw);
        prop_assert_eq!(Cap::decode(c.encode()), c);
        let e = Ecap::decode(raw);
        prop_assert_eq!(Ecap::decode(e.encode()), e);
    }

    #[test]
    fn root_and_context_round_trip(raw in u128s()) {
        prop_assert_eq!(RootEntry::decode(raw).encode(), raw & !RootEntry::reserved_mask(64));
        prop_assert_eq!(
            ContextEntry::decode(raw).encode(),
            raw & !ContextEntry::reserved_mask(64, 16)
        );
        let c = ContextEntry::decode(raw);
        prop_assert_eq!(ContextEntry::decode(c.encode()), c);
        let r = RootEntry::decode(raw);
        prop_assert_eq!(RootEntry::decode(r.encode()), r);
    }

    #[test]
    fn slpte_is_lossless(raw in any::<u64>()) {
        let p = SlPte::decode(raw);
        prop_assert_eq!(p.encode(), raw);
        prop_assert_eq!(SlPte::decode(p.encode()), p);
        prop_assert_eq!(p.is_present(), raw & 3 != 0);
    }

    #[test]
    fn irte_round_trip(raw in u128s()) {
        let im = raw >> 15 & 1 == 1;
        let e = Irte::decode(raw);
        prop_assert_eq!(e.im(), im);
        prop_assert_eq!(e.encode(), raw & !Irte::reserved_mask(im, true, true));
        prop_assert_eq!(Irte::decode(e.encode()), e);
    }

    #[test]
    fn frcd_round_trip(raw in u128s()) {
        let f = FaultRecord::decode(raw);
        prop_assert_eq!(f.encode(), raw & !FaultRecord::RESERVED);
        prop_assert_eq!(FaultRecord::decode(f.encode()), f);
    }

    #[test]
    fn pid_round_trip(q in proptest::array::uniform8(any::<u64>())) {
        let mut b = [0u8; 64];
        for (i, v) in q.iter().enumerate() {
            b[i * 8..i * 8 + 8].copy_from_slice(&v.to_le_bytes());
        }
        let p = PostedInterruptDescriptor::decode(&b);
        let mut want = q;
        want[4] &= !PID_CONTROL_RESERVED;
        prop_assert_eq!(p.encode_qwords(), want);
        prop_assert_eq!(PostedInterruptDescriptor::decode(&p.encode()), p);
        prop_assert_eq!(
            PostedInterruptDescriptor::has_reserved_bits(&b),
            q[4] & PID_CONTROL_RESERVED != 0
        );
    }

    #[test]
    fn msi_address_round_trip(low in 0u64..0x10_0000) {
        let addr = 0xFEE0_0000 | (low & !3);
        let m = MsiAddress::decode(addr);
        prop_assert_eq!(m.is_remappable(), addr & 0x10 != 0);
        prop_assert_eq!(m.encode(), addr);
    }

    #[test]
    fn inv_descriptors_round_trip(ty in 1u8..=8, qw0 in any::<u64>(), qw1 in any::<u64>()) {
        let allowed = match ty {
            1 => CC_ALLOWED,
            2 => IOTLB_ALLOWED,
            3 => DEV_TLB_ALLOWED,
            4 => IEC_ALLOWED,
            5 => WAIT_ALLOWED,
            6 => PASID_IOTLB_ALLOWED,
            7 => PASID_CACHE_ALLOWED,
            _ => PASID_DEV_TLB_ALLOWED,
        };
        // Only the allowed bits, with the type in 3:0 and 11:9 = 0.
        let q0 = (qw0 & allowed.0 & !0xF & !0xE00) | ty as u64;
        let q1 = qw1 & allowed.1;
        let d = InvDescriptor::decode(q0, q1).unwrap();
        prop_assert_eq!(d.desc_type(), ty);
        prop_assert_eq!(d.encode(), (q0, q1));
        prop_assert_eq!(InvDescriptor::decode(d.encode().0, d.encode().1), Ok(d));
        // Any bit outside the allowed set is a reserved-bit error.
        let extra0 = qw0 & !allowed.0 & !0xF & !0xE00;
        let extra1 = qw1 & !allowed.1;
        if extra0 | extra1 != 0 {
            prop_assert_eq!(
                InvDescriptor::decode(q0 | extra0, q1 | extra1),
                Err(InvDescError::ReservedBits { ty, qw0: extra0, qw1: extra1 })
            );
        }
    }
}
