//! Rogue-device scenarios (the threats `../shared/background/` describes: a device or VF that
//! reaches outside its domain, spoofs or injects interrupts, or floods the unit with faults), each
//! showing that nothing escapes and that the right fault is recorded. Every body runs on the golden
//! model alone (`<name>::model`, which proves the hand-decoded expectations) and on the RTL in
//! lockstep with it (`<name>::rtl`; some also `rtl_tiny`), where any disagreement fails at once.
//!
//! Fault records are literal hex decoded by hand (spec A10): F = bit 127, T = bit 126 (1 = read),
//! FR = bits 103:96, SID = bits 79:64, FI = bits 63:12 (the page) for DMA and FI\[63:48\] = the
//! interrupt index for interrupt requests.

use iommu_cosim::dut::DutConfig;
use iommu_cosim::hdr::Req;
use iommu_driver::model::{Msi, Outcome, Request};
use iommu_driver::os::IrSetup;
use iommu_driver::os::{
    BringUp, InvRequest, Iommu, OsConfig, PageSize, Perms, PostedInterruptDescriptor, PostedIrte,
    RemappedIrte,
};
use iommu_driver::sriov::SriovPf;
use iommu_driver::tlp::CplStatus;
use iommu_driver::{DomainId, Hpa, Iova, Rid};

#[macro_use]
mod unit_common;
use unit_common::{expect_drop, irq, model, remappable_addr, rtl, Unit};

/// The legitimate device, 03:02.0.
const DEV: Rid = Rid(0x0310);
/// The rogue requester, 04:03.0.
const ROGUE: Rid = Rid(0x0418);
/// IRTA.S = 3: 16 entries.
const S: u8 = 3;
const FE: Msi = Msi {
    addr: 0xFEE0_F000,
    data: 0xE1,
};

struct Bench<P: Unit> {
    os: Iommu<P>,
    tag: u8,
}

impl<P: Unit> Bench<P> {
    fn attach(p: P) -> Self {
        Bench {
            os: Iommu::new(p, OsConfig::default()).expect("attach"),
            tag: 0,
        }
    }

    fn up(&mut self, up: BringUp) {
        self.os.bring_up(up).expect("bring-up");
        self.os
            .setup_fault_event(FE.addr, FE.data, false)
            .expect("fault event");
    }

    /// Interrupt remapping with queued invalidation: S=3, EIME and CFI as given.
    fn ir(p: P, eime: bool, cfi: bool) -> Self {
        let mut b = Self::attach(p);
        b.up(BringUp {
            qi: true,
            ir: Some(IrSetup { s: S, eime, cfi }),
            te: false,
        });
        b
    }

    fn p(&mut self) -> &mut P {
        self.os.platform_mut()
    }

    fn send(&mut self, r: Req, data: u32) -> Outcome {
        self.tag = self.tag.wrapping_add(1);
        let req = Request {
            hdr: Req { tag: self.tag, ..r }.encode(),
            data0: data,
        };
        self.p().send(req)
    }

    fn read(&mut self, rid: Rid, addr: u64) -> Outcome {
        self.send(Req::read(rid.0, 0, addr, 4), 0)
    }

    fn write(&mut self, rid: Rid, addr: u64, data: u32) -> Outcome {
        self.send(Req::write(rid.0, 0, addr, 4), data)
    }

    /// A remappable-format MSI for `handle` with data `data` (B2).
    fn remappable(&mut self, rid: Rid, handle: u16, data: u32) -> Outcome {
        self.write(rid, remappable_addr(handle, false), data)
    }

    fn irte(&mut self, index: u32, e: &RemappedIrte) {
        self.os.set_irte_remapped(index, e).expect("irte");
    }

    fn frcd(&mut self, n: u16) -> u128 {
        self.os.read_frcd(n).expect("frcd")
    }

    fn fsts(&mut self) -> u32 {
        self.p().read32(0x034).expect("fsts")
    }

    /// FRCD\[0..\] are exactly `want` (each F=1); no other record is pending (F=0).
    fn expect_records(&mut self, want: &[u128]) {
        let n = self.os.caps().num_fault_records;
        for i in 0..n {
            let r = self.frcd(i);
            match want.get(i as usize) {
                Some(w) => assert_eq!(r, *w, "FRCD[{i}] = {r:#034x}, want {w:#034x}"),
                None => assert_eq!(r >> 127, 0, "FRCD[{i}] = {r:#034x} pending"),
            }
        }
    }

    /// The model's allowed outcomes for a remappable MSI now (model platform only).
    fn allowed_remappable(&mut self, rid: Rid, handle: u16) -> Option<Vec<Outcome>> {
        let req = Request {
            hdr: Req::write(rid.0, 0, remappable_addr(handle, false), 4).encode(),
            data0: 0,
        };
        self.p().allowed(&req)
    }

    fn done(mut self) {
        self.p().finish();
    }
}

fn expect_ur(o: &Outcome, code: u8) {
    assert!(
        matches!(o, Outcome::Complete { status: CplStatus::Ur, fault: Some(f) } if f.code() == code),
        "expected UR with fault {code:#04x}, got {o:?}"
    );
}

// ---- DMA ------------------------------------------------------------------------------------

/// Two VFs of one PF (ARI, offset 1, stride 1: 03:00.1 and 03:00.2) in different domains and a
/// third VF left unassigned. Neither reaches the other's memory: the other domain's IOVA is not
/// mapped in its own (6h read, 5h write), and the unassigned VF has no context entry (2h).
fn rogue_vf_dma_into_another_domain<P: Unit>(p: P) {
    let mut pf = SriovPf::new(Rid(0x0300), 8, 1, 1, true);
    pf.set_num_vfs(3).expect("3 VFs");
    let vfs = pf.vf_rids().expect("VF routing IDs");
    assert_eq!(vfs, vec![Rid(0x0301), Rid(0x0302), Rid(0x0303)]);
    let mut b = Bench::attach(p);
    let (d1, d2) = (DomainId(1), DomainId(2));
    b.os.create_domain(d1, 4).expect("domain 1");
    b.os.create_domain(d2, 4).expect("domain 2");
    b.os.assign_device(vfs[0], d1).expect("VF1");
    b.os.assign_device(vfs[1], d2).expect("VF2");
    b.os.map(
        d1,
        Iova(0x10_0000),
        Hpa(0x5000_0000),
        PageSize::Size4K,
        Perms::RW,
    )
    .expect("map 1");
    b.os.map(
        d2,
        Iova(0x20_0000),
        Hpa(0x6000_0000),
        PageSize::Size4K,
        Perms::RW,
    )
    .expect("map 2");
    b.up(BringUp {
        qi: true,
        ir: None,
        te: true,
    });
    let fwd = |a: u64| Outcome::Forward { addr: Hpa(a) };
    assert_eq!(b.read(vfs[0], 0x10_0040), fwd(0x5000_0040));
    assert_eq!(b.read(vfs[1], 0x20_0040), fwd(0x6000_0040));
    // VF1 at VF2's IOVA, VF2 at VF1's, and the unassigned VF3 at both.
    let o = b.read(vfs[0], 0x20_0040);
    expect_ur(&o, 0x06);
    let o = b.write(vfs[0], 0x20_0080, 0xDEAD_BEEF);
    expect_drop(&o, 0x05);
    let o = b.read(vfs[1], 0x10_0040);
    expect_ur(&o, 0x06);
    let o = b.read(vfs[2], 0x10_0040);
    expect_ur(&o, 0x02);
    let o = b.write(vfs[2], 0x20_0040, 0x1234);
    // Same SID and reason as the record before: compressed (decisions.md), not recorded again.
    expect_drop(&o, 0x02);
    b.expect_records(&[
        // F | T=1 | FR 06h | SID 0x0301 | FI 0x20_0000
        0xC000_0006_0000_0301_0000_0000_0020_0000,
        // F | T=0 | FR 05h | SID 0x0301 | FI 0x20_0000
        0x8000_0005_0000_0301_0000_0000_0020_0000,
        // F | T=1 | FR 06h | SID 0x0302 | FI 0x10_0000
        0xC000_0006_0000_0302_0000_0000_0010_0000,
        // F | T=1 | FR 02h | SID 0x0303 | FI 0x10_0000
        0xC000_0002_0000_0303_0000_0000_0010_0000,
    ]);
    b.p().expect_events(&[FE]);
    // Memory behind the other domain is untouched by the faulting write: nothing left the unit
    // toward it (the outcomes above), and the legitimate mapping still works.
    assert_eq!(b.read(vfs[1], 0x20_0040), fwd(0x6000_0040));
    b.done();
}

/// A flood of faults from many requesters: the records fill, FSTS.PFO sets, every request still
/// gets its outcome (no hang), and once software drains the records new faults record again.
fn rogue_fault_flood<P: Unit>(p: P) {
    let mut b = Bench::attach(p);
    b.os.create_domain(DomainId(1), 4).expect("domain");
    b.os.assign_device(DEV, DomainId(1)).expect("assign");
    b.up(BringUp {
        qi: true,
        ir: None,
        te: true,
    });
    let n = b.os.caps().num_fault_records;
    // 3n requesters 05:dd.f with no context entry (bus 5 has no context table): 1h each.
    for k in 0..3 * n {
        let rid = Rid(0x0500 | k);
        let o = b.read(rid, 0x1000 * u64::from(k));
        expect_ur(&o, 0x01);
    }
    // FSTS: PFO (bit 0) | PPF (bit 1), FRI 0 (the first record is the oldest pending); one
    // fault event (the first fault; the later ones find PPF already set).
    assert_eq!(b.fsts(), 0x0000_0003);
    b.p().expect_events(&[FE]);
    for i in 0..n {
        // F | T=1 | FR 01h | SID 0x05kk | FI the page.
        let want: u128 = 0xC000_0001u128 << 96
            | u128::from(0x0500 | i) << 64
            | u128::from(0x1000 * u64::from(i));
        let r = b.frcd(i);
        assert_eq!(r, want, "FRCD[{i}] = {r:#034x}");
    }
    let report = b.os.handle_faults().expect("fault handler");
    assert_eq!(report.records.len(), n as usize);
    assert!(report.pfo());
    assert_eq!(b.fsts(), 0);
    // Recording resumes, in the slot after the last one used (n records wrap to 0).
    let o = b.write(Rid(0x05FF), 0x7000, 0);
    expect_drop(&o, 0x01);
    assert_eq!(b.fsts(), 0x0000_0002);
    b.expect_records(&[0x8000_0001_0000_05FF_0000_0000_0000_7000]);
    b.p().expect_events(&[FE]);
    b.done();
}

// ---- interrupts -----------------------------------------------------------------------------

/// DMA writes of arbitrary data to the interrupt window with interrupt remapping on (x2APIC
/// mode, CFI=0): a rogue requester gets no interrupt delivered, whatever it writes; the device
/// that owns the IRTE does.
fn rogue_spoofed_interrupts_by_dma_writes<P: Unit>(p: P) {
    let mut b = Bench::ir(p, true, false);
    // IRTE 5: vector 0x30 to x2APIC 1, SVT=01 SQ=00 SID=DEV.
    b.irte(5, &RemappedIrte::new(0x30, 1).verify_requester(DEV));
    // Compatibility format (addr[4]=0): blocked, 25h (FI 0).
    let o = b.write(ROGUE, 0xFEE0_1000, 0x30);
    expect_drop(&o, 0x25);
    // Remappable format with arbitrary data (data[31:16] != 0): 20h (FI 0).
    let o = b.remappable(ROGUE, 5, 0xDEAD_BEEF);
    expect_drop(&o, 0x20);
    // A clean remappable message through DEV's IRTE: the SID check fails, 26h (FI index 5).
    let o = b.remappable(ROGUE, 5, 0);
    expect_drop(&o, 0x26);
    // Through an entry that is not present: 22h (FI index 9).
    let o = b.remappable(ROGUE, 9, 0);
    expect_drop(&o, 0x22);
    // The owner's interrupt: x2APIC destination 1 -> 0xFEE0_1000, data = vector 0x30 with
    // the x2APIC-format delivery bit 14 (as the IR tests decode).
    assert_eq!(b.remappable(DEV, 5, 0), irq(0xFEE0_1000, 0x4030));
    b.expect_records(&[
        0x8000_0025_0000_0418_0000_0000_0000_0000,
        0x8000_0020_0000_0418_0000_0000_0000_0000,
        0x8000_0026_0000_0418_0005_0000_0000_0000,
        0x8000_0022_0000_0418_0009_0000_0000_0000,
    ]);
    b.p().expect_events(&[FE]);
    b.done();
}

/// A remappable MSI using another device's handle, against every kind of source-id check: each
/// rogue just outside what the entry allows is blocked (26h); one just inside passes.
fn rogue_msi_with_another_devices_handle<P: Unit>(p: P) {
    let mut b = Bench::ir(p, true, false);
    let sv = |sq: u8, svt: u8, sid: u16| RemappedIrte {
        sq,
        svt,
        ..RemappedIrte::new(0x40, 2).verify_requester(Rid(sid))
    };
    let ok = irq(0xFEE0_2000, 0x4040);
    // SVT=01 SQ=00: all 16 bits; 03:02.1 is another function.
    b.irte(1, &sv(0, 1, DEV.0));
    // SVT=01 SQ=01: SID[2] ignored: 03:02.4 passes, 03:02.1 does not.
    b.irte(2, &sv(1, 1, DEV.0));
    // SVT=01 SQ=11: SID[2:0] ignored: 03:02.7 passes, 03:03.0 does not.
    b.irte(3, &sv(3, 1, DEV.0));
    // SVT=10: requester bus in 0x03..=0x04: bus 4 passes, bus 5 and bus 2 do not.
    b.irte(4, &sv(0, 2, 0x0304));
    let cases: [(u16, Rid, bool); 9] = [
        (1, DEV, true),
        (1, Rid(0x0311), false),
        (2, Rid(0x0314), true),
        (2, Rid(0x0311), false),
        (3, Rid(0x0317), true),
        (3, Rid(0x0318), false),
        (4, Rid(0x04F8), true),
        (4, Rid(0x0500), false),
        (4, Rid(0x02FF), false),
    ];
    for (handle, rid, pass) in cases {
        let o = b.remappable(rid, handle, 0);
        if pass {
            assert_eq!(o, ok, "handle {handle} from {rid:?}");
        } else {
            expect_drop(&o, 0x26);
        }
    }
    // One record per rogue (distinct SIDs): FR 26h, FI = the index.
    b.expect_records(&[
        0x8000_0026_0000_0311_0001_0000_0000_0000,
        0x8000_0026_0000_0318_0003_0000_0000_0000,
        0x8000_0026_0000_0500_0004_0000_0000_0000,
        0x8000_0026_0000_02FF_0004_0000_0000_0000,
    ]);
    b.p().expect_events(&[FE]);
    b.done();
}

/// Compatibility-format injection: blocked with CFI=0 in xAPIC mode, and blocked under x2APIC
/// (EIME=1) even with CFI=1 (B3 step 2); 25h with FI 0 each time.
fn rogue_compat_injection<P: Unit>(p: P) {
    let mut b = Bench::ir(p, false, false);
    let o = b.write(ROGUE, 0xFEE0_2000, 0x31);
    expect_drop(&o, 0x25);
    b.expect_records(&[0x8000_0025_0000_0418_0000_0000_0000_0000]);
    b.p().expect_events(&[FE]);
    b.done();
}

fn rogue_compat_injection_under_x2apic<P: Unit>(p: P) {
    let mut b = Bench::ir(p, true, true);
    let o = b.write(ROGUE, 0xFEE0_2000, 0x31);
    expect_drop(&o, 0x25);
    b.expect_records(&[0x8000_0025_0000_0418_0000_0000_0000_0000]);
    b.p().expect_events(&[FE]);
    b.done();
}

/// An IRTE withdrawn (made not present) without an IEC invalidation: the old entry may still be
/// used until the invalidation completes, never after (22h from then on).
fn rogue_irte_changed_without_iec_invalidation<P: Unit>(p: P) {
    let mut b = Bench::ir(p, true, false);
    b.irte(6, &RemappedIrte::new(0x31, 1).verify_requester(DEV));
    let old = irq(0xFEE0_1000, 0x4031);
    assert_eq!(b.remappable(DEV, 6, 0), old);
    b.os.write_irte_raw(6, 0).expect("clear IRTE 6");
    let gone = Outcome::Drop {
        fault: iommu_driver::vtd::fault::FaultReason::from_code(0x22),
    };
    if let Some(a) = b.allowed_remappable(DEV, 6) {
        assert_eq!(
            a,
            vec![gone, old],
            "fresh 22h first, the cached entry still allowed"
        );
    }
    for _ in 0..3 {
        let o = b.remappable(DEV, 6, 0);
        assert!(
            o == old || matches!(o, Outcome::Drop { fault: Some(f) } if f.code() == 0x22),
            "{o:?}"
        );
    }
    b.os.invalidate(&[InvRequest::IecIndex { iidx: 6, im: 0 }])
        .expect("IEC invalidation");
    if let Some(a) = b.allowed_remappable(DEV, 6) {
        assert_eq!(a, vec![gone]);
    }
    for _ in 0..3 {
        let o = b.remappable(DEV, 6, 0);
        expect_drop(&o, 0x22);
    }
    // Recorded once (same SID and reason after that: compressed), F | FR 22h | SID | index 6.
    b.expect_records(&[0x8000_0022_0000_0310_0006_0000_0000_0000]);
    b.p().expect_events(&[FE]);
    b.done();
}

/// A posted IRTE whose posted-interrupt descriptor cannot be read: 27h, no notification, and the
/// IRTE's neighbours keep working.
fn rogue_posted_irte_with_unreadable_descriptor<P: Unit>(p: P) {
    let mut b = Bench::ir(p, true, false);
    let pid = b.os.alloc_pid().expect("pid");
    b.os.write_pid(
        pid,
        &PostedInterruptDescriptor {
            nv: 0xF2,
            ndst: 1,
            ..Default::default()
        },
    )
    .expect("pid");
    let e = PostedIrte {
        present: true,
        vector: 0x61,
        pda: pid,
        sid: DEV,
        svt: 1,
        ..Default::default()
    };
    b.os.set_irte_posted(3, &e).expect("posted IRTE");
    b.irte(4, &RemappedIrte::new(0x32, 1).verify_requester(DEV));
    b.os.mem().inject_error(pid, 64);
    let o = b.remappable(DEV, 3, 0);
    expect_drop(&o, 0x27);
    assert_eq!(b.remappable(DEV, 4, 0), irq(0xFEE0_1000, 0x4032));
    // F | FR 27h | SID 0x0310 | FI index 3.
    b.expect_records(&[0x8000_0027_0000_0310_0003_0000_0000_0000]);
    b.p().expect_events(&[FE]);
    b.done();
}

variants!(
    rogue_vf_dma_into_another_domain,
    rogue_spoofed_interrupts_by_dma_writes,
    rogue_msi_with_another_devices_handle,
    rogue_compat_injection,
    rogue_compat_injection_under_x2apic,
    rogue_irte_changed_without_iec_invalidation,
    rogue_posted_irte_with_unreadable_descriptor,
);

variants!(tiny: rogue_fault_flood);
