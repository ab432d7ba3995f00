//! Queued-invalidation descriptors against hand-assembled hex (spec A12, D5 #1 and #16).

use iommu_driver::vtd::inv::*;
use iommu_driver::vtd::regs::{Cap, Ecap};
use iommu_driver::{DomainId, Hpa, Iova, Rid};

#[test]
fn context_cache_descriptor() {
    // Global: type 1 | G=01 (5:4) = 0x11.
    assert_eq!(
        InvDescriptor::decode(0x11, 0),
        Ok(InvDescriptor::ContextCache {
            g: 1,
            did: DomainId(0),
            sid: Rid(0),
            fm: 0
        })
    );
    // Device-selective: G=11 (0x30) | type 1, DID 0xAB (31:16), SID 0x0300 (47:32), FM 3 (49:48).
    let qw0 = 0x0003_0300_00AB_0031;
    let d = InvDescriptor::ContextCache {
        g: 3,
        did: DomainId(0xAB),
        sid: Rid(0x0300),
        fm: 3,
    };
    assert_eq!(InvDescriptor::decode(qw0, 0), Ok(d));
    assert_eq!(d.encode(), (qw0, 0));
}

#[test]
fn iotlb_descriptor() {
    // Type 2, G=11 (0x30), DW bit 6 (0x40), DR bit 7 (0x80), DID 0xAB -> qw0 0x00AB_00F2.
    // qw1: ADDR 0x4020_0000, IH bit 6 (0x40), AM 9 -> 0x4020_0049.
    let d = InvDescriptor::Iotlb {
        g: 3,
        dw: true,
        dr: true,
        did: DomainId(0xAB),
        am: 9,
        ih: true,
        addr: Iova(0x4020_0000),
    };
    assert_eq!(InvDescriptor::decode(0x00AB_00F2, 0x4020_0049), Ok(d));
    assert_eq!(d.encode(), (0x00AB_00F2, 0x4020_0049));
}

#[test]
fn iec_descriptor() {
    // Type 4, G bit 4 (index-selective) = 0x14, IM=3 (31:27) = 0x1800_0000, IIDX 0x1236 (47:32).
    let qw0 = 0x0000_1236_1800_0014;
    let d = InvDescriptor::Iec {
        g: true,
        im: 3,
        iidx: 0x1236,
    };
    assert_eq!(InvDescriptor::decode(qw0, 0), Ok(d));
    assert_eq!(d.encode(), (qw0, 0));
    assert_eq!(
        InvDescriptor::decode(0x4, 0),
        Ok(InvDescriptor::Iec {
            g: false,
            im: 0,
            iidx: 0
        })
    );
}

#[test]
fn wait_descriptor() {
    // Type 5, IF bit 4 (0x10), SW bit 5 (0x20) -> 0x35; STATUS DATA 0xCAFE_F00D in 63:32;
    // qw1 STATUS ADDR 0x1_0000_1004 (dword aligned).
    let qw0 = 0xCAFE_F00D_0000_0035;
    let d = InvDescriptor::Wait {
        if_: true,
        sw: true,
        fn_: false,
        pd: false,
        status_data: 0xCAFE_F00D,
        status_addr: Hpa(0x1_0000_1004),
    };
    assert_eq!(InvDescriptor::decode(qw0, 0x1_0000_1004), Ok(d));
    assert_eq!(d.encode(), (qw0, 0x1_0000_1004));
    // FN bit 6.
    assert!(matches!(
        InvDescriptor::decode(0x45, 0),
        Ok(InvDescriptor::Wait { fn_: true, .. })
    ));
}

#[test]
fn wait_if_is_bit4_pd_is_bit7_d5_16() {
    let cap = Cap::project_default();
    let ecap = Ecap::project_default(); // PDS = 0
                                        // IF=1, PD=0: qw0 = 0x15.
    let a = InvDescriptor::decode(0x15, 0).unwrap();
    assert!(matches!(
        a,
        InvDescriptor::Wait {
            if_: true,
            pd: false,
            sw: false,
            ..
        }
    ));
    assert_eq!(a.check_caps(&cap, &ecap, false), Ok(()));
    // IF=0, PD=1: qw0 = 0x85 -> no interrupt; without PDS bit 7 is a reserved-field error (IQEI 4).
    let b = InvDescriptor::decode(0x85, 0).unwrap();
    assert!(matches!(
        b,
        InvDescriptor::Wait {
            if_: false,
            pd: true,
            ..
        }
    ));
    let e = b.check_caps(&cap, &ecap, false).unwrap_err();
    assert_eq!(
        e,
        InvDescError::ReservedBits {
            ty: 5,
            qw0: 0x80,
            qw1: 0
        }
    );
    assert_eq!(e.iqei(), 4);
    assert_eq!(
        b.check_caps(&cap, &Ecap { pds: true, ..ecap }, false),
        Ok(())
    );
}

#[test]
fn seven_bit_type_d5_1() {
    // qw0[11:9] = 001 with qw0[3:0] = 1: type 0x11, not a context-cache descriptor.
    assert_eq!(
        InvDescriptor::decode(0x211, 0),
        Err(InvDescError::InvalidType(0x11))
    );
    // qw0[11:9] = 111, [3:0] = 5: type 0x75, not a wait descriptor.
    assert_eq!(
        InvDescriptor::decode(0xE35, 0),
        Err(InvDescError::InvalidType(0x75))
    );
    assert_eq!(desc_type(0xE35), 0x75);
    assert_eq!(
        InvDescriptor::decode(0x0, 0),
        Err(InvDescError::InvalidType(0))
    );
    assert_eq!(
        InvDescriptor::decode(0xA, 0),
        Err(InvDescError::InvalidType(0xA))
    );
    assert_eq!(
        InvDescriptor::decode(0xF, 0),
        Err(InvDescError::InvalidType(0xF))
    );
    assert_eq!(InvDescError::InvalidType(0x11).iqei(), 3);
}

/// Allowed bits from the A12 text (openvmm masks); everything else in qw0 (except the type bits
/// 3:0 and 11:9, which select the type) must be reported as reserved.
#[test]
fn reserved_masks_exact_a12() {
    let cases: [(u64, u64, u64); 4] = [
        (1, 0x0003_FFFF_FFFF_003F, 0),
        (2, 0x0000_0000_FFFF_00FF, 0xFFFF_FFFF_FFFF_F07F),
        (4, 0x0000_FFFF_F800_001F, 0),
        // Wait: bit 7 (PD) decodes; its PDS dependence is check_caps' job.
        (5, 0xFFFF_FFFF_0000_00FF, 0xFFFF_FFFF_FFFF_FFFC),
    ];
    for (ty, allowed0, allowed1) in cases {
        for b in 4..64 {
            if (9..=11).contains(&b) {
                continue;
            }
            let r = InvDescriptor::decode(ty | 1 << b, 0);
            if allowed0 >> b & 1 == 1 {
                assert!(r.is_ok(), "type {ty} qw0 bit {b}: {r:?}");
            } else {
                assert_eq!(
                    r,
                    Err(InvDescError::ReservedBits {
                        ty: ty as u8,
                        qw0: 1 << b,
                        qw1: 0
                    }),
                    "type {ty} qw0 bit {b}"
                );
            }
        }
        for b in 0..64 {
            let r = InvDescriptor::decode(ty, 1 << b);
            if allowed1 >> b & 1 == 1 {
                assert!(r.is_ok(), "type {ty} qw1 bit {b}: {r:?}");
            } else {
                assert_eq!(
                    r,
                    Err(InvDescError::ReservedBits {
                        ty: ty as u8,
                        qw0: 0,
                        qw1: 1 << b
                    }),
                    "type {ty} qw1 bit {b}"
                );
                assert_eq!(r.unwrap_err().iqei(), 4);
            }
        }
    }
}

#[test]
fn capability_checks() {
    let cap = Cap::project_default(); // PSI=1, MAMV=18
    let ecap = Ecap::project_default(); // DT=0, IR=1, MHMV=15
    let psi = |am: u8| InvDescriptor::Iotlb {
        g: 3,
        dw: false,
        dr: false,
        did: DomainId(1),
        am,
        ih: false,
        addr: Iova(0),
    };
    assert_eq!(psi(18).check_caps(&cap, &ecap, false), Ok(()));
    assert!(matches!(
        psi(19).check_caps(&cap, &ecap, false),
        Err(InvDescError::Unsupported { ty: 2, .. })
    ));
    assert!(psi(0)
        .check_caps(&Cap { psi: false, ..cap }, &ecap, false)
        .is_err());
    // G=0 for CC and IOTLB.
    let (q0, q1) = InvDescriptor::decode(0x01, 0).unwrap().encode();
    assert_eq!((q0, q1), (0x01, 0));
    assert!(InvDescriptor::decode(0x01, 0)
        .unwrap()
        .check_caps(&cap, &ecap, false)
        .is_err());
    assert!(InvDescriptor::decode(0x02, 0)
        .unwrap()
        .check_caps(&cap, &ecap, false)
        .is_err());
    // Device-TLB without DT: invalid type (IQEI 3).
    let dev = InvDescriptor::decode(0x3, 0).unwrap();
    assert_eq!(
        dev.check_caps(&cap, &ecap, false),
        Err(InvDescError::InvalidType(3))
    );
    assert_eq!(
        dev.check_caps(&cap, &Ecap { dt: true, ..ecap }, false),
        Ok(())
    );
    // IEC: IM above MHMV (index-selective only); no IR -> invalid type.
    let iec = |g, im| InvDescriptor::Iec { g, im, iidx: 0 };
    assert_eq!(iec(true, 15).check_caps(&cap, &ecap, false), Ok(()));
    assert!(iec(true, 16).check_caps(&cap, &ecap, false).is_err());
    assert_eq!(iec(false, 16).check_caps(&cap, &ecap, false), Ok(()));
    assert_eq!(
        iec(false, 0).check_caps(&cap, &Ecap { ir: false, ..ecap }, false),
        Err(InvDescError::InvalidType(4))
    );
    // Types 6-9 in legacy mode.
    let pc = InvDescriptor::decode(0x7, 0).unwrap();
    assert_eq!(
        pc.check_caps(&cap, &ecap, false),
        Err(InvDescError::InvalidType(7))
    );
    assert_eq!(pc.check_caps(&cap, &ecap, true), Ok(()));
}

#[test]
fn other_descriptor_layouts() {
    // Device-TLB (type 3): PFSID 0xABC4 -> [15:12] = 0x4, [63:52] = 0xABC; MIP 0x1F (20:16);
    // SID 0x0300 (47:32); qw1 S bit 0, ADDR 0x7000.
    let qw0 = 0xABC0_0300_001F_4003;
    let d = InvDescriptor::DevTlb {
        pfsid: 0xABC4,
        mip: 0x1F,
        sid: Rid(0x0300),
        s: true,
        addr: 0x7000,
    };
    assert_eq!(InvDescriptor::decode(qw0, 0x7001), Ok(d));
    assert_eq!(d.encode(), (qw0, 0x7001));
    // PASID-cache (type 7): G=01 (0x10), DID 0xAB, PASID 0xFFFFF (51:32).
    let qw0 = 0x000F_FFFF_00AB_0017;
    let p = InvDescriptor::PasidCache {
        g: 1,
        did: DomainId(0xAB),
        pasid: 0xFFFFF,
    };
    assert_eq!(InvDescriptor::decode(qw0, 0), Ok(p));
    assert_eq!(p.encode(), (qw0, 0));
    // PASID-IOTLB (type 6), PASID 0x12345, G=11, qw1 like IOTLB.
    let qw0 = 0x0001_2345_0001_0036;
    let p = InvDescriptor::decode(qw0, 0x5000_0041).unwrap();
    assert_eq!(
        p,
        InvDescriptor::PasidIotlb {
            g: 3,
            did: DomainId(1),
            pasid: 0x12345,
            am: 1,
            ih: true,
            addr: Iova(0x5000_0000)
        }
    );
    assert_eq!(p.encode(), (qw0, 0x5000_0041));
}

#[test]
fn decode_256() {
    // A 256-bit legacy descriptor must have qwords 2-3 zero.
    assert!(InvDescriptor::decode_256([0x11, 0, 0, 0]).is_ok());
    assert_eq!(
        InvDescriptor::decode_256([0x11, 0, 1, 0]),
        Err(InvDescError::ReservedHighQwords { ty: 1 })
    );
    assert_eq!(
        InvDescriptor::decode_256([0x35, 0, 0, 1 << 63]),
        Err(InvDescError::ReservedHighQwords { ty: 5 })
    );
}
