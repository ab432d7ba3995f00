//! The OS driver against the golden model: Linux programming order, capability discovery,
//! queued invalidation (wrap, IQE with IQH pinned), register-based invalidation, map/unmap
//! errors, pass-through, IRTE blocks, and SR-IOV PF + VFs isolated in separate domains.

mod os_common;
use iommu_driver::os::IrSetup;
use os_common::*;

use iommu_driver::mem::HostMemory;
use iommu_driver::model::{ModelConfig, ModelPlatform, Msi, Outcome};
use iommu_driver::os::{
    unit, BringUp, DeviceAssignment, InvRequest, Iommu, MsiMessage, OsConfig, OsError, PageSize,
    Perms, RemappedIrte, WaitKind,
};
use iommu_driver::platform::{Platform, PlatformError};
use iommu_driver::sriov::SriovPf;
use iommu_driver::{DomainId, Hpa, Iova, Rid};

/// A platform that logs every register write and can hide GSTS bits (to test poll bounds).
struct Rec {
    inner: ModelPlatform,
    writes: Vec<(u16, u8, u64)>,
    gsts_mask: u32,
}

impl Platform for Rec {
    fn reg_read(&mut self, offset: u16, size: u8) -> Result<u64, PlatformError> {
        let v = self.inner.reg_read(offset, size)?;
        Ok(if offset == unit::GSTS_REG {
            v & self.gsts_mask as u64
        } else {
            v
        })
    }
    fn reg_write(&mut self, offset: u16, size: u8, value: u64) -> Result<(), PlatformError> {
        self.writes.push((offset, size, value));
        self.inner.reg_write(offset, size, value)
    }
    fn mem(&mut self) -> &mut HostMemory {
        &mut self.inner.mem
    }
}

fn rec_os() -> Iommu<Rec> {
    let p = Rec {
        inner: ModelPlatform::new(ModelConfig::default()),
        writes: Vec::new(),
        gsts_mask: !0,
    };
    Iommu::new(p, OsConfig::default()).unwrap()
}

#[test]
fn capabilities_read_from_cap_ecap() {
    let os = os();
    let c = os.caps();
    // decisions.md hardware identity.
    assert_eq!(c.nd, 6);
    assert_eq!(c.domain_id_bits(), 16);
    assert_eq!(c.sagaw, 0b01110);
    assert_eq!(c.mgaw, 56);
    assert_eq!(c.sllps, 0b11);
    assert!(c.psi && c.pi && !c.cm && !c.rwbf);
    assert_eq!(c.mamv, 18);
    assert_eq!((c.frcd_offset, c.num_fault_records), (0x200, 8));
    assert!(c.c && c.qi && c.ir && c.eim && c.pt && !c.dt && !c.sc);
    assert_eq!(c.iva_offset, 0x100);
    assert_eq!(c.mhmv, 15);
    assert_eq!(c.max_levels(), Some(5));
    assert!(!c.supports_levels(2) && c.supports_levels(3));
}

#[test]
fn linux_programming_order() {
    let mut os = rec_os();
    os.create_domain(DOM, 4).unwrap();
    os.assign_device(DEV, DOM).unwrap();
    os.map(DOM, Iova(IOVA), Hpa(HPA), PageSize::Size4K, Perms::RW)
        .unwrap();
    os.setup_ir_table(3, true).unwrap();
    os.set_irte_remapped(2, &RemappedIrte::new(0x30, 1).verify_requester(DEV))
        .unwrap();
    os.bring_up(BringUp {
        qi: true,
        ir: Some(IrSetup {
            s: 3,
            eime: true,
            cfi: true,
        }),
        te: true,
    })
    .unwrap();
    let root = os.root_table().0;
    let irta = os.irta_value().unwrap();
    let (iq_base, _, _) = os.qi_state().unwrap();
    let w = std::mem::take(&mut os.platform_mut().writes);
    let gcmd: Vec<u64> = w
        .iter()
        .filter(|x| x.0 == unit::GCMD_REG)
        .map(|x| x.2)
        .collect();
    // Read GSTS, drop the one-shot status bits (RTPS 30, IRTPS 24), set one command bit:
    // SRTP; QIE; QIES|SIRTP; QIES|IRE; QIES|IRES|CFI; QIES|IRES|CFIS|TE.
    assert_eq!(
        gcmd,
        vec![
            0x4000_0000,
            0x0400_0000,
            0x0500_0000,
            0x0600_0000,
            0x0680_0000,
            0x8680_0000
        ]
    );
    let pos = |off: u16| w.iter().position(|x| x.0 == off).unwrap();
    let gcmd_pos: Vec<usize> = w
        .iter()
        .enumerate()
        .filter(|x| x.1 .0 == unit::GCMD_REG)
        .map(|x| x.0)
        .collect();
    assert_eq!(w[pos(unit::RTADDR_REG)].2, root);
    assert!(pos(unit::RTADDR_REG) < gcmd_pos[0]);
    // QI: IQT=0, then IQA, then QIE.
    assert!(pos(unit::IQT_REG) < pos(unit::IQA_REG) && pos(unit::IQA_REG) < gcmd_pos[1]);
    assert_eq!(w[pos(unit::IQT_REG)].2, 0);
    assert_eq!(w[pos(unit::IQA_REG)].2, iq_base.0);
    // IRTA before SIRTP; an IEC flush (an IQT write) between SIRTP and IRE.
    assert_eq!(w[pos(unit::IRTA_REG)].2, irta);
    assert!(pos(unit::IRTA_REG) < gcmd_pos[2]);
    assert!(w[gcmd_pos[2]..gcmd_pos[3]]
        .iter()
        .any(|x| x.0 == unit::IQT_REG));
    // Context + IOTLB flush before TE.
    assert!(w[gcmd_pos[4]..gcmd_pos[5]]
        .iter()
        .any(|x| x.0 == unit::IQT_REG));
    // GSTS: TES|RTPS|QIES|IRES|IRTPS|CFIS.
    assert_eq!(
        os.platform_mut().read32(unit::GSTS_REG).unwrap(),
        0xC780_0000
    );
    // And it works: DMA translated, MSI remapped.
    let p = &mut os.platform_mut().inner;
    assert_eq!(p.process(&read_req(DEV, IOVA + 4)), fwd(HPA + 4));
    let m = MsiMessage::remappable(2, None);
    assert_eq!(
        p.process(&msi_req(DEV, m.addr, m.data)),
        Outcome::Interrupt {
            msi: Msi {
                addr: 0xFEE0_1000,
                data: 0x4030
            }
        }
    );
}

#[test]
fn polls_are_bounded() {
    let mut os = rec_os();
    os.platform_mut().gsts_mask = !unit::GCMD_SRTP;
    match os.set_root_table() {
        Err(OsError::Platform(PlatformError::PollTimeout { polls, .. })) => {
            assert_eq!(polls, OsConfig::default().max_polls)
        }
        other => panic!("expected a poll timeout, got {other:?}"),
    }
}

#[test]
fn translation_off_is_identity_and_pass_through_is_identity() {
    let mut os = os();
    os.create_domain(DOM, 4).unwrap();
    os.bring_up(BringUp {
        te: false,
        ..Default::default()
    })
    .unwrap();
    assert_eq!(read(&mut os, DEV, 0x1234_5678), fwd(0x1234_5678));
    os.assign_device_with(DEV, DeviceAssignment::pass_through(DOM))
        .unwrap();
    os.enable_translation().unwrap();
    assert_eq!(read(&mut os, DEV, 0x1234_5678), fwd(0x1234_5678));
    assert_eq!(write(&mut os, DEV, 0x7_0000_0000), fwd(0x7_0000_0000));
    // A device not assigned at all faults (root not present for bus 9).
    assert_eq!(read(&mut os, Rid(0x0900), 0x1000), ur(0x01));
}

#[test]
fn map_rejects_misaligned_overlapping_and_unsupported() {
    let mut os = dma_setup();
    let e = os.map(
        DOM,
        Iova(0x20_1000),
        Hpa(0x40_0000),
        PageSize::Size2M,
        Perms::RW,
    );
    assert!(matches!(e, Err(OsError::Misaligned { .. })), "{e:?}");
    let e = os.map(
        DOM,
        Iova(0x20_0000),
        Hpa(0x40_1000),
        PageSize::Size2M,
        Perms::RW,
    );
    assert!(matches!(e, Err(OsError::Misaligned { .. })), "{e:?}");
    // IOVA (4 KiB at 0x4000_0000) is inside this 2 MiB range.
    let e = os.map(DOM, Iova(IOVA), Hpa(0x40_0000), PageSize::Size2M, Perms::RW);
    assert!(matches!(e, Err(OsError::Overlap { .. })), "{e:?}");
    let e = os.map(DOM, Iova(IOVA), Hpa(0x40_0000), PageSize::Size4K, Perms::RW);
    assert!(matches!(e, Err(OsError::Overlap { .. })), "{e:?}");
    os.map(
        DOM,
        Iova(0x20_0000),
        Hpa(0x40_0000),
        PageSize::Size2M,
        Perms::RW,
    )
    .unwrap();
    let e = os.map(
        DOM,
        Iova(0x20_3000),
        Hpa(0x40_0000),
        PageSize::Size4K,
        Perms::RW,
    );
    assert!(matches!(e, Err(OsError::Overlap { .. })), "{e:?}");
    let e = os.map(DOM, Iova(0), Hpa(0), PageSize::Size1G, Perms::RW);
    assert!(matches!(e, Err(OsError::Overlap { .. })), "{e:?}");
    // Unknown domain, domain-id too wide for ND=6 is impossible (16 bits), 2-level unsupported.
    assert!(matches!(
        os.map(DomainId(77), Iova(0), Hpa(0), PageSize::Size4K, Perms::RW),
        Err(OsError::UnknownDomain(_))
    ));
    assert!(matches!(
        os.create_domain(DomainId(2), 2),
        Err(OsError::UnsupportedLevels { levels: 2 })
    ));
    // HPA beyond HAW (48).
    let e = os.map(
        DOM,
        Iova(0x9000_0000),
        Hpa(1 << 48),
        PageSize::Size4K,
        Perms::RW,
    );
    assert!(matches!(e, Err(OsError::HpaTooWide { .. })), "{e:?}");
    // Nothing of the rejected mappings is visible.
    assert_eq!(read(&mut os, DEV, 0x20_1000), fwd(0x40_1000));
    assert_eq!(read(&mut os, DEV, 0x9000_0000), ur(0x06));
}

#[test]
fn large_pages_need_sllps() {
    let cfg = {
        let mut c = ModelConfig::default();
        c.cap.sllps = 0b01;
        c
    };
    let mut os = os_with(cfg);
    os.create_domain(DOM, 4).unwrap();
    os.map(
        DOM,
        Iova(0x20_0000),
        Hpa(0x40_0000),
        PageSize::Size2M,
        Perms::RW,
    )
    .unwrap();
    let e = os.map(
        DOM,
        Iova(1 << 30),
        Hpa(1 << 30),
        PageSize::Size1G,
        Perms::RW,
    );
    assert!(
        matches!(e, Err(OsError::UnsupportedPageSize { .. })),
        "{e:?}"
    );
}

#[test]
fn unmap_returns_invalidation_and_stale_window_closes() {
    let mut os = dma_setup();
    os.map(
        DOM,
        Iova(0x20_0000),
        Hpa(0x40_0000),
        PageSize::Size2M,
        Perms::RW,
    )
    .unwrap();
    assert_eq!(read(&mut os, DEV, 0x20_0010), fwd(0x40_0010));
    let u = os.unmap(DOM, Iova(0x20_0000), PageSize::Size2M).unwrap();
    assert_eq!((u.did, u.addr, u.am, u.ih), (DOM, Iova(0x20_0000), 9, true));
    assert!(matches!(
        os.unmap(DOM, Iova(0x20_0000), PageSize::Size2M),
        Err(OsError::NotMapped { .. })
    ));
    let req = read_req(DEV, 0x20_0010);
    let a = evaluate(&mut os, &req);
    assert!(
        a.contains(&fwd(0x40_0010)) && a.contains(&ur(0x06)),
        "{a:?}"
    );
    os.invalidate(&[InvRequest::IotlbPage {
        did: u.did,
        addr: u.addr,
        am: u.am,
        ih: u.ih,
    }])
    .unwrap();
    let a = evaluate(&mut os, &req);
    assert!(a.is_single() && *a.fresh() == ur(0x06), "{a:?}");
}

#[test]
fn register_invalidation_granularity_and_effect() {
    let mut os = os();
    os.create_domain(DOM, 4).unwrap();
    os.assign_device(DEV, DOM).unwrap();
    os.map(DOM, Iova(IOVA), Hpa(HPA), PageSize::Size4K, Perms::RW)
        .unwrap();
    os.bring_up(BringUp {
        qi: false,
        ..Default::default()
    })
    .unwrap();
    assert!(!os.qi_enabled());
    // Actual granularity = requested (decisions).
    assert_eq!(os.invalidate_reg(InvRequest::ContextGlobal).unwrap(), 1);
    assert_eq!(
        os.invalidate_reg(InvRequest::ContextDomain(DOM)).unwrap(),
        2
    );
    let dev = InvRequest::ContextDevice {
        did: DOM,
        sid: DEV,
        fm: 0,
    };
    assert_eq!(os.invalidate_reg(dev).unwrap(), 3);
    assert_eq!(os.invalidate_reg(InvRequest::IotlbGlobal).unwrap(), 1);
    assert_eq!(os.invalidate_reg(InvRequest::IotlbDomain(DOM)).unwrap(), 2);
    let psi = |am| InvRequest::IotlbPage {
        did: DOM,
        addr: Iova(IOVA),
        am,
        ih: false,
    };
    assert_eq!(os.invalidate_reg(psi(0)).unwrap(), 3);
    // AM > MAMV (18): not performed, IAIG = 00.
    assert_eq!(os.invalidate_reg(psi(19)).unwrap(), 0);
    // Effect: a re-pointed leaf is stale until the PSI.
    assert_eq!(read(&mut os, DEV, IOVA), fwd(HPA));
    os.write_pte_raw(DOM, Iova(IOVA), 1, 0x9000_0000 | 3)
        .unwrap();
    let req = read_req(DEV, IOVA);
    assert_eq!(evaluate(&mut os, &req).len(), 2);
    assert_eq!(os.invalidate_reg(psi(19)).unwrap(), 0);
    assert_eq!(evaluate(&mut os, &req).len(), 2, "not performed");
    os.invalidate_reg(psi(0)).unwrap();
    let a = evaluate(&mut os, &req);
    assert!(a.is_single() && *a.fresh() == fwd(0x9000_0000), "{a:?}");
    // IEC needs the queue.
    assert!(matches!(
        os.invalidate_reg(InvRequest::IecGlobal),
        Err(OsError::NoQueue)
    ));
}

#[test]
fn register_invalidation_ignored_while_qi_enabled() {
    let mut os = dma_setup();
    assert_eq!(os.invalidate_reg(InvRequest::ContextGlobal).unwrap(), 0);
    assert_eq!(os.invalidate_reg(InvRequest::IotlbGlobal).unwrap(), 0);
}

#[test]
fn queued_context_invalidation_device_with_function_mask() {
    let mut os = dma_setup();
    let sib = Rid(0x0314); // 03:02.4
    os.assign_device(sib, DOM).unwrap();
    assert_eq!(read(&mut os, DEV, IOVA), fwd(HPA));
    assert_eq!(read(&mut os, sib, IOVA), fwd(HPA));
    let root = os.domain(DOM).unwrap().root.0;
    let bad = ((DOM.0 as u128) << 72 | 2 << 64) | (root | 3 << 2 | 1) as u128; // TT=11
    os.write_context_entry_raw(DEV, bad).unwrap();
    os.write_context_entry_raw(sib, bad).unwrap();
    // 0x0310 and 0x0314 differ only in SID[2]: FM=0 covers only DEV, FM=1 (ignore SID[2])
    // covers both.
    let fm0 = InvRequest::ContextDevice {
        did: DOM,
        sid: DEV,
        fm: 0,
    };
    os.invalidate_qi(&[fm0], WaitKind::StatusWrite).unwrap();
    let a = evaluate(&mut os, &read_req(DEV, IOVA));
    assert!(a.is_single() && *a.fresh() == ur(0x03), "{a:?}");
    let a = evaluate(&mut os, &read_req(sib, IOVA));
    assert!(a.contains(&fwd(HPA)), "FM=0 leaves 03:02.4: {a:?}");
    let fm1 = InvRequest::ContextDevice {
        did: DOM,
        sid: DEV,
        fm: 1,
    };
    os.invalidate_qi(&[fm1], WaitKind::Interrupt).unwrap();
    let a = evaluate(&mut os, &read_req(sib, IOVA));
    assert!(a.is_single() && *a.fresh() == ur(0x03), "{a:?}");
}

#[test]
fn qi_wraps_around_the_queue() {
    let mut os = dma_setup();
    let (_, entries, start) = os.qi_state().unwrap();
    assert_eq!(entries, 256);
    let mut last = start;
    let mut wrapped = false;
    for _ in 0..6 {
        let st = os
            .invalidate_qi(&[InvRequest::IotlbGlobal; 50], WaitKind::StatusWrite)
            .unwrap();
        assert_eq!(st.tail, (last + 51) % entries);
        // IQH caught up with the tail (byte offset in 16-byte units).
        assert_eq!(st.iqh, (st.tail as u64) << 4);
        wrapped |= st.tail < last;
        last = st.tail;
    }
    assert!(wrapped);
    // Invalidations still act after the wrap.
    assert_eq!(read(&mut os, DEV, IOVA), fwd(HPA));
    os.write_pte_raw(DOM, Iova(IOVA), 1, 0x9000_0000 | 3)
        .unwrap();
    let (_, _, t) = os.qi_state().unwrap();
    os.qi_set_tail(t).unwrap();
    let mut batch = vec![InvRequest::ContextGlobal; 254 - 1];
    batch[200] = InvRequest::IotlbPage {
        did: DOM,
        addr: Iova(IOVA),
        am: 0,
        ih: true,
    };
    let st = os.invalidate_qi(&batch, WaitKind::StatusWrite).unwrap();
    assert!(st.tail < t, "the batch wrapped");
    let a = evaluate(&mut os, &read_req(DEV, IOVA));
    assert!(a.is_single() && *a.fresh() == fwd(0x9000_0000), "{a:?}");
    // A batch that cannot fit is refused by the driver.
    assert!(matches!(
        os.invalidate_qi(&vec![InvRequest::IotlbGlobal; 255], WaitKind::StatusWrite),
        Err(OsError::QueueFull(255))
    ));
}

#[test]
fn qi_error_pins_iqh_and_recovers() {
    let mut os = dma_setup();
    let (_, _, tail) = os.qi_state().unwrap();
    // IOTLB descriptor with reserved qword1 bit 7 (allowed mask 0xFFFF_FFFF_FFFF_F07F).
    let bad = (2 | 1 << 4, 1 << 7);
    let err = os
        .qi_submit_and_wait(&[(2 | 1 << 4, 0), bad], WaitKind::StatusWrite)
        .unwrap_err();
    let OsError::Queue(q) = err else {
        panic!("{err:?}")
    };
    assert_eq!(q.iqh, ((tail + 1) as u64) << 4, "IQH at the bad descriptor");
    assert_eq!(q.iqercd & 0xF, 4, "IQEI = reserved-field violation");
    // A new tail write does not move the queue while IQE is set.
    let (_, _, t2) = os.qi_state().unwrap();
    os.qi_set_tail(t2).unwrap();
    assert_eq!(reg64(&mut os, unit::IQH_REG), ((tail + 1) as u64) << 4);
    os.qi_recover().unwrap();
    assert_eq!(fsts(&mut os) & unit::FSTS_IQE, 0);
    let st = os
        .invalidate_qi(&[InvRequest::IotlbGlobal], WaitKind::StatusWrite)
        .unwrap();
    assert_eq!((st.tail, st.iqh), (2, 2 << 4));
}

#[test]
fn irte_blocks_are_aligned_and_bounded() {
    let mut os = ir_setup(5, true, false);
    assert_eq!(os.ir_entries(), Some(64));
    let a = os.alloc_irtes(1).unwrap();
    let b = os.alloc_irtes(4).unwrap();
    let c = os.alloc_irtes(8).unwrap();
    assert_eq!((a, b % 4, c % 8), (0, 0, 0));
    assert!(b >= 4 && c >= 8 && c != b);
    assert!(matches!(
        os.alloc_irtes(3),
        Err(OsError::InvalidArgument(_))
    ));
    assert!(matches!(
        os.alloc_irtes(1 << 16),
        Err(OsError::InvalidArgument(_))
    ));
    assert!(matches!(
        os.alloc_irtes(64),
        Err(OsError::NoFreeIrtes { .. })
    ));
    for n in 0..4u16 {
        let e = RemappedIrte::new(0x40 + n as u8, 1).verify_requester(DEV);
        os.set_irte_remapped(b + n as u32, &e).unwrap();
    }
    // Multi-vector MSI: handle = block start, SHV=1, subhandle = vector number.
    for n in 0..4u16 {
        let m = os.msi_for(b, n);
        assert_eq!(
            msi(&mut os, DEV, m.addr, m.data),
            Outcome::Interrupt {
                msi: Msi {
                    addr: 0xFEE0_1000,
                    data: 0x4040 + n as u32
                }
            }
        );
    }
}

#[test]
fn sriov_pf_and_vfs_in_separate_domains_are_isolated() {
    let mut os = os();
    // PF 03:00.0, First VF Offset 0x80, stride 1: VF1 = 0x0380, VF2 = 0x0381, VF3 = 0x0382.
    let mut pf = SriovPf::new(Rid::from_bdf(3, 0, 0), 8, 0x80, 1, false);
    pf.set_num_vfs(3).unwrap();
    let doms = [DomainId(11), DomainId(12), DomainId(13)];
    os.create_domain(DomainId(10), 4).unwrap();
    for (k, &d) in doms.iter().enumerate() {
        os.create_domain(d, 3 + (k as u8 % 3)).unwrap();
    }
    os.assign_device(pf.pf, DomainId(10)).unwrap();
    let vfs = os.assign_vfs(&pf, &doms).unwrap();
    assert_eq!(vfs, vec![Rid(0x0380), Rid(0x0381), Rid(0x0382)]);
    // Same IOVA, a different page per function; a private page only in VF2's domain.
    let all: Vec<(Rid, DomainId)> = std::iter::once((pf.pf, DomainId(10)))
        .chain(vfs.iter().copied().zip(doms))
        .collect();
    for (k, &(_, d)) in all.iter().enumerate() {
        os.map(
            d,
            Iova(0x1000),
            Hpa(0x10_0000 * (k as u64 + 1)),
            PageSize::Size4K,
            Perms::RW,
        )
        .unwrap();
    }
    os.map(
        doms[1],
        Iova(0x5000),
        Hpa(0xA0_0000),
        PageSize::Size4K,
        Perms::RW,
    )
    .unwrap();
    os.bring_up(BringUp::default()).unwrap();
    for (k, &(r, _)) in all.iter().enumerate() {
        assert_eq!(
            read(&mut os, r, 0x1008),
            fwd(0x10_0000 * (k as u64 + 1) + 8),
            "{r:?}"
        );
    }
    assert_eq!(read(&mut os, vfs[1], 0x5000), fwd(0xA0_0000));
    assert_eq!(read(&mut os, vfs[0], 0x5000), ur(0x06));
    assert_eq!(write(&mut os, vfs[2], 0x5000), dropped(0x05));
    assert_eq!(read(&mut os, pf.pf, 0x5000), ur(0x06));
    // A VF beyond NumVFs is not assigned: its context entry is not present.
    assert_eq!(read(&mut os, Rid(0x0383), 0x1000), ur(0x02));
    assert_eq!(frcd(&mut os, 0), frcd_dma(0x06, vfs[0], 0x5000, true, 0));
}

#[test]
fn first_rtl_milestone_caps_without_qi_and_ir() {
    // The first RTL milestone advertises ECAP.QI=0, IR=0, EIM=0 and CAP.PI=0.
    let cfg = {
        let mut c = ModelConfig::default();
        c.ecap.qi = false;
        c.ecap.ir = false;
        c.ecap.eim = false;
        c.cap.pi = false;
        c
    };
    let mut os = os_with(cfg);
    assert!(!os.caps().qi && !os.caps().ir && !os.caps().pi);
    os.create_domain(DOM, 4).unwrap();
    os.assign_device(DEV, DOM).unwrap();
    os.map(DOM, Iova(IOVA), Hpa(HPA), PageSize::Size4K, Perms::RW)
        .unwrap();
    os.bring_up(BringUp::default()).unwrap();
    assert!(!os.qi_enabled());
    assert_eq!(reg32(&mut os, unit::GSTS_REG), 0xC000_0000, "TES|RTPS only");
    assert_eq!(read(&mut os, DEV, IOVA), fwd(HPA));
    assert!(matches!(
        os.setup_ir_table(3, false),
        Err(OsError::NotSupported(_))
    ));
    // Interrupt-window writes pass unchanged with IR absent.
    let m = MsiMessage::compat(1, 0x30);
    assert_eq!(
        msi(&mut os, DEV, m.addr, m.data),
        Outcome::Interrupt {
            msi: Msi {
                addr: m.addr,
                data: m.data
            }
        }
    );
}
