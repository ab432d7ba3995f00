//! The public API a user's own tests are written against: the `Lockstep` builder, `send` and
//! its `Egress`, mismatches returned as errors, and the one memory a user edits.

use iommu_cosim::dut::DutConfig;
use iommu_cosim::lockstep::{Channel, Lockstep};
use iommu_cosim::memsrv::MemConfig;
use iommu_cosim::sim::{Beat, Knobs, Sabotage};
use iommu_driver::model::{Outcome, Request};
use iommu_driver::os::{BringUp, InvRequest, Iommu, OsConfig, PageSize, Perms};
use iommu_driver::platform::{Platform, PlatformError};
use iommu_driver::{DomainId, Hpa, Iova, Rid};

const DEV: Rid = Rid::from_bdf(3, 0, 0);

/// DEV in domain 1 with IOVA 0x10_0000 -> `hpa` (4 KiB, RW), translation on.
fn mapped(ls: Lockstep, hpa: u64) -> Iommu<Lockstep> {
    let mut os = Iommu::new(ls, OsConfig::default()).expect("attach");
    os.create_domain(DomainId(1), 4).unwrap();
    os.assign_device(DEV, DomainId(1)).unwrap();
    os.map(
        DomainId(1),
        Iova(0x10_0000),
        Hpa(hpa),
        PageSize::Size4K,
        Perms::RW,
    )
    .unwrap();
    os.bring_up(BringUp::default()).unwrap();
    os
}

#[test]
fn builder_applies_every_setting() {
    let ls = Lockstep::builder()
        .config(DutConfig::Tiny)
        .seed(99)
        .mem_latency(37)
        .back_pressure(Knobs {
            dn_ready: 0.5,
            ..Knobs::full_speed()
        })
        .build()
        .unwrap();
    assert_eq!(ls.config(), DutConfig::Tiny);
    assert_eq!(ls.seed, 99);
    assert!(ls.strict);
    assert_eq!(
        (ls.sim.memsrv.cfg.latency_min, ls.sim.memsrv.cfg.latency_max),
        (37, 37)
    );
    assert_eq!(ls.sim.knobs.dn_ready, 0.5);
    assert!(!Lockstep::builder().lenient().build().unwrap().strict);
}

#[test]
fn builder_rejects_settings_out_of_range_naming_them() {
    let err = |b: iommu_cosim::lockstep::LockstepBuilder| match b.build() {
        Err(PlatformError::Other(m)) => m,
        Err(e) => panic!("wrong error kind: {e}"),
        Ok(_) => panic!("accepted"),
    };
    let m = err(Lockstep::builder().mem_latency(0));
    assert!(m.contains("memory latency 0..=0"), "{m}");
    let m = err(Lockstep::builder().mem_port(MemConfig {
        latency_min: 50,
        latency_max: 10,
        ..MemConfig::default()
    }));
    assert!(m.contains("memory latency 50..=10"), "{m}");
    let m = err(Lockstep::builder().back_pressure(Knobs {
        cpl_ready: 0.0,
        ..Knobs::full_speed()
    }));
    assert!(m.contains("cpl_ready probability 0"), "{m}");
    let m = err(Lockstep::builder().back_pressure(Knobs {
        up_idle: 1.0,
        ..Knobs::full_speed()
    }));
    assert!(m.contains("up_idle probability 1"), "{m}");
}

/// The egress is the beat as it left: a 3DW read of a page above 4 GiB leaves with a 4DW header
/// carrying the translated address, on the dn channel, after the cycles it took.
#[test]
fn send_returns_the_egress_beat_with_its_header_and_cycles() {
    let mut os = mapped(
        Lockstep::builder().mem_latency(30).build().unwrap(),
        0x2_0000_3000,
    );
    let req = Request::read(DEV, 0x10_0044, 8).unwrap();
    assert!(!req.header().unwrap().four_dw);
    let e = os.platform_mut().send(req).unwrap();
    assert_eq!(e.request, req);
    assert_eq!(e.outcome, Outcome::forward(Hpa(0x2_0000_3044)));
    assert_eq!(e.channel(), Some(Channel::Dn));
    let Some(Beat::Dn { tag, hdr }) = e.beat else {
        panic!("{e:?}")
    };
    assert_eq!(tag, e.tag);
    assert_eq!(hdr[0] >> 29, 0b001, "Fmt 001: 4DW header, no data");
    assert_eq!((hdr[2], hdr[3]), (0x2, 0x0000_3044));
    let dn = e.downstream().unwrap().unwrap();
    assert!(dn.four_dw);
    assert_eq!(
        (dn.address, dn.requester_id, dn.length),
        (0x2_0000_3044, DEV, 2)
    );
    assert!(e.cycle > e.accepted && e.latency() == e.cycle - e.accepted);
    // The second read hits the IOTLB: fewer cycles than the walk.
    let hit = os
        .platform_mut()
        .send(Request::read(DEV, 0x10_0080, 8).unwrap())
        .unwrap();
    assert!(
        hit.latency() < e.latency(),
        "{} vs {}",
        hit.latency(),
        e.latency()
    );
}

/// A DUT that goes wrong makes `send` fail with the mismatch, and (strict, the builder's
/// default) every later `Platform` call and the OS driver's calls with it.
#[test]
fn mismatches_are_errors() {
    let mut os = mapped(Lockstep::builder().build().unwrap(), 0x8000_1000);
    os.platform_mut().sim.sabotage = Some(Sabotage::ClearDnAddrBit(12));
    let m = os
        .platform_mut()
        .send(Request::read(DEV, 0x10_0000, 4).unwrap())
        .unwrap_err();
    assert_eq!(m.what, "outcome not in the allowed set");
    assert!(m.actual.contains("0x80000000"), "{m}");
    assert_eq!(os.platform_mut().check(), Err(m.clone()));
    match os.platform_mut().read32(0x01C) {
        Err(PlatformError::Mismatch(s)) => assert_eq!(s, m.to_string()),
        other => panic!("GSTS read after a mismatch: {other:?}"),
    }
    assert!(os
        .invalidate(&[InvRequest::IotlbGlobal])
        .is_err_and(|e| e.to_string().contains("outcome not in the allowed set")));
    // Lenient: the same failure is only recorded.
    let mut os = mapped(Lockstep::builder().lenient().build().unwrap(), 0x8000_1000);
    os.platform_mut().sim.sabotage = Some(Sabotage::ClearDnAddrBit(12));
    assert!(os
        .platform_mut()
        .send(Request::read(DEV, 0x10_0000, 4).unwrap())
        .is_err());
    assert!(os.platform_mut().read32(0x01C).is_ok());
    assert_eq!(os.platform().failures.len(), 1);
}

/// Memory is edited in one place, `Platform::mem`, and the model's copy follows it: an edit is
/// never lost (the model's copy is read-only to users).
#[test]
fn memory_edits_reach_the_model() {
    let mut ls = Lockstep::builder().build().unwrap();
    ls.mem()
        .write_u64(Hpa(0x5000), 0x1122_3344_5566_7788)
        .unwrap();
    assert_eq!(
        ls.sim.mem.read_u64(Hpa(0x5000)).unwrap(),
        0x1122_3344_5566_7788
    );
    assert_eq!(
        ls.model_memory().read_u64(Hpa(0x5000)).unwrap(),
        0x1122_3344_5566_7788
    );
    // A read through `mem()` does not undo anything either.
    let _ = ls.mem().read_u64(Hpa(0x5000)).unwrap();
    ls.mem().write_u64(Hpa(0x5008), 1).unwrap();
    assert_eq!(
        ls.model_memory().read_u64(Hpa(0x5000)).unwrap(),
        0x1122_3344_5566_7788
    );
    assert_eq!(ls.model_memory().read_u64(Hpa(0x5008)).unwrap(), 1);
}

/// One test body for both units: a faulting read is answered UR, records a fault and sends the
/// fault event; the RTL's event is the model's.
fn fault_event_body<U: iommu_cosim::unit::Unit>(u: U) -> Vec<iommu_driver::model::Msi> {
    use iommu_driver::vtd::fault::FaultReason;
    let mut os = Iommu::new(u, OsConfig::default()).unwrap();
    os.create_domain(DomainId(1), 4).unwrap();
    os.assign_device(DEV, DomainId(1)).unwrap();
    os.bring_up(BringUp::default()).unwrap();
    os.setup_fault_event(0xFEE0_2000, 0x51, false).unwrap();
    let o = os
        .platform_mut()
        .request(Request::read(DEV, 0x7000, 4).unwrap())
        .unwrap();
    assert_eq!(o, Outcome::ur(FaultReason::ReadNotPermitted));
    let ev = os.platform_mut().take_events().unwrap();
    assert_eq!(os.platform_mut().take_events().unwrap(), vec![]);
    ev
}

#[test]
fn the_same_body_runs_on_the_model_and_on_the_rtl() {
    use iommu_driver::model::{ModelPlatform, Msi};
    let want = vec![Msi {
        addr: 0xFEE0_2000,
        data: 0x51,
    }];
    assert_eq!(fault_event_body(ModelPlatform::default()), want);
    assert_eq!(fault_event_body(Lockstep::builder().build().unwrap()), want);
}
