//! Directed tests of queued invalidation through the RTL (spec A12, decisions.md, the model's
//! register-interface decisions in driver/src/model/qi.rs): every test body is generic over the
//! platform and runs twice, on the golden model alone (`<name>::model`, which proves the
//! hand-decoded expected values) and on the RTL in lockstep with the model (`<name>::rtl`, default
//! configuration; a few also `<name>::rtl_tiny`), where any disagreement of an outcome, a register
//! read (IQH, FSTS, IQERCD, ICS, IECTL, ...) or an event message fails the test at once.
//!
//! Covered:
//! - every invalidation-queue error IQEI 1..6 as the model defines them (1 tail beyond the queue,
//!   2 descriptor fetch error and wait status-write error, 3 invalid type, 4 reserved field,
//!   5 256-bit descriptors without SMTS/ADMS, 6 tail misaligned for 256-bit descriptors):
//!   FSTS.IQE, IQH pinned on the offending descriptor, IQERCD, the fault event (and its pending
//!   bit while masked), and recovery, after which a good wait descriptor completes;
//! - wait descriptors: SW (the exact 32-bit status write), IF (ICS.IWC, the invalidation-completion
//!   event IEUADDR:IEADDR / IEDATA with IECTL.IM=0, IECTL.IP while masked and the event at
//!   unmask, IWC already set), SW+IF;
//! - queue wrap-around (IQT moved past the end with `qi_set_tail`, batches crossing the end);
//! - context-cache (global, domain, device with FM), IOTLB (global, domain, page with AM) and IEC
//!   (index with IM, global) invalidations through the queue, each followed by a request proving
//!   it happened (the changed entry now gives the new outcome), with non-covering ones first;
//! - register-based invalidation is not performed while GSTS.QIES=1 (CAIG / IAIG read 00).
//!
//! Descriptors are hand-assembled hex from the A12 table: type in qw0\[3:0\] (and \[11:9\]);
//! CC: G \[5:4\], DID \[31:16\], SID \[47:32\], FM \[49:48\]; IOTLB: G \[5:4\], DID \[31:16\], qw1
//! AM \[5:0\], IH \[6\], ADDR \[63:12\]; IEC: G \[4\], IM \[31:27\], IIDX \[47:32\]; wait: IF \[4\],
//! SW \[5\], FN \[6\], PD \[7\], STATUS DATA \[63:32\], qw1 STATUS ADDR \[63:2\].

use iommu_cosim::dut::DutConfig;
use iommu_cosim::hdr::Req;
use iommu_driver::model::{Msi, Outcome, Request};
use iommu_driver::os::GlobalCommand;
use iommu_driver::os::IrSetup;
use iommu_driver::os::{
    BringUp, InvRequest, InvalidationStatus, Iommu, OsConfig, OsError, PageSize, Perms,
    RemappedIrte, WaitKind,
};
use iommu_driver::{DomainId, Hpa, Iova, Rid};

#[macro_use]
mod unit_common;
use unit_common::{irq, model, remappable_addr, rtl, Unit};

// ---- the bench ------------------------------------------------------------------------------

/// The device under test: 03:02.0, in domain 1 (4-level tables).
const DEV: Rid = Rid(0x0310);
const DID: DomainId = DomainId(1);
const IOVA: u64 = 0x10_0000;
const HPA: u64 = 0x8000_0000;
/// Where a changed mapping points.
const NEW_HPA: u64 = 0x9000_0000;
/// Status-write target of the hand-made wait descriptors (outside the driver's table region).
const STATUS: u64 = 0x0009_0000;
/// Register offsets (spec A1).
const CCMD: u16 = 0x028;
const FSTS: u16 = 0x034;
const FECTL: u16 = 0x038;
const IQH: u16 = 0x080;
const IQT: u16 = 0x088;
const IQA: u16 = 0x090;
const ICS: u16 = 0x09C;
const IECTL: u16 = 0x0A0;
const IQERCD: u16 = 0x0B0;
/// IOTLB_REG: ECAP.IRO = 0x10 -> IVA_REG at 0x100, IOTLB_REG at 0x108 (default identity).
const IOTLB_REG: u16 = 0x108;
/// Fault-event message (FEUADDR 0, FEADDR, FEDATA).
const FE: Msi = Msi {
    addr: 0xFEE0_F000,
    data: 0xE1,
};
/// Invalidation-completion event message (IEUADDR 2, IEADDR, IEDATA).
const IE: Msi = Msi {
    addr: 0x0000_0002_FEE0_E000,
    data: 0xE2,
};
/// IOTLB domain-selective for DID 2 (nobody's domain here): a harmless filler descriptor.
const FILLER: (u64, u64) = (0x0000_0000_0002_0022, 0);

struct Bench<P: Unit> {
    os: Iommu<P>,
    tag: u8,
}

impl<P: Unit> Bench<P> {
    /// DEV in domain 1 with IOVA -> HPA (4 KiB, RW); QI (one 4 KiB queue, 256 descriptors) and
    /// translation enabled; fault events unmasked to FE; invalidation events at IE, masked (reset).
    fn new(p: P) -> Self {
        let mut os = Iommu::new(p, OsConfig::default()).expect("attach");
        os.create_domain(DID, 4).expect("domain");
        os.assign_device(DEV, DID).expect("assign");
        os.map(DID, Iova(IOVA), Hpa(HPA), PageSize::Size4K, Perms::RW)
            .expect("map");
        os.bring_up(BringUp::default()).expect("bring-up");
        os.setup_fault_event(FE.addr, FE.data, false)
            .expect("fault event");
        os.setup_inv_event(IE.addr, IE.data, true)
            .expect("inv event");
        // Bring-up queued CC global, IOTLB global and a wait (slots 0..=2).
        assert_eq!(os.qi_state().expect("queue").2, 3);
        Bench { os, tag: 0 }
    }

    /// As `new`, plus interrupt remapping (S=3, x2APIC): bring-up also queued an IEC global and
    /// a wait (slots 0..=4).
    fn with_ir(p: P) -> Self {
        let mut os = Iommu::new(p, OsConfig::default()).expect("attach");
        os.bring_up(BringUp {
            qi: true,
            ir: Some(IrSetup {
                s: 3,
                eime: true,
                cfi: false,
            }),
            te: false,
        })
        .expect("bring-up");
        os.setup_fault_event(FE.addr, FE.data, false)
            .expect("fault event");
        assert_eq!(os.qi_state().expect("queue").2, 5);
        Bench { os, tag: 0 }
    }

    fn p(&mut self) -> &mut P {
        self.os.platform_mut()
    }

    fn request(&mut self, r: Req, data: u32) -> Request {
        self.tag = self.tag.wrapping_add(1);
        Request {
            hdr: Req { tag: self.tag, ..r }.encode(),
            data0: data,
        }
    }

    /// A 64-byte read by DEV at `iova`.
    fn read(&mut self, iova: u64) -> Outcome {
        let req = self.request(Req::read(DEV.0, 0, iova, 64), 0);
        self.p().send(req)
    }

    /// Changed in memory, not yet invalidated: the model allows exactly `new` (fresh) and `old`;
    /// the unit gives one of them.
    fn expect_stale(&mut self, iova: u64, old: u64, new: u64) {
        let req = self.request(Req::read(DEV.0, 0, iova, 64), 0);
        if let Some(a) = self.p().allowed(&req) {
            assert_eq!(a, vec![fwd(new), fwd(old)], "allowed at {iova:#x}");
        }
        let o = self.read(iova);
        assert!(o == fwd(old) || o == fwd(new), "{o:?}");
    }

    /// Invalidated: only `new` is allowed, and the unit gives it.
    fn expect_fresh(&mut self, iova: u64, new: u64) {
        let req = self.request(Req::read(DEV.0, 0, iova, 64), 0);
        if let Some(a) = self.p().allowed(&req) {
            assert_eq!(a, vec![fwd(new)], "allowed at {iova:#x}");
        }
        assert_eq!(self.read(iova), fwd(new));
    }

    /// As `expect_stale` / `expect_fresh` for a remappable MSI from DEV to `handle`.
    fn expect_irq(&mut self, handle: u16, want: &[Outcome]) {
        let req = self.request(Req::write(DEV.0, 0, remappable_addr(handle, false), 4), 0);
        if let Some(a) = self.p().allowed(&req) {
            assert_eq!(a, want, "allowed for handle {handle}");
        }
        let o = self.p().send(req);
        assert!(want.contains(&o), "{o:?} not in {want:?}");
    }

    fn reg32(&mut self, off: u16) -> u32 {
        self.p().read32(off).expect("register read")
    }

    fn reg64(&mut self, off: u16) -> u64 {
        self.p().read64(off).expect("register read")
    }

    fn wr32(&mut self, off: u16, v: u32) {
        self.p().write32(off, v).expect("register write");
    }

    fn wr64(&mut self, off: u16, v: u64) {
        self.p().write64(off, v).expect("register write");
    }

    fn status(&mut self) -> u32 {
        self.os.mem().read_u32(Hpa(STATUS)).expect("status read")
    }

    /// Hand-made descriptors, then the driver's own wait (SW), through `qi_submit_and_wait`.
    fn submit(&mut self, descs: &[(u64, u64)]) -> Result<InvalidationStatus, OsError> {
        self.os.qi_submit_and_wait(descs, WaitKind::StatusWrite)
    }

    fn submit_ok(&mut self, descs: &[(u64, u64)]) -> InvalidationStatus {
        self.submit(descs).expect("queued invalidation")
    }

    /// Write descriptor `d` into queue slot `slot` (no tail move).
    fn put(&mut self, slot: u32, d: (u64, u64)) {
        let (base, _, _) = self.os.qi_state().expect("queue");
        self.os
            .mem()
            .write_u128(
                Hpa(base.0 + 16 * u64::from(slot)),
                (d.1 as u128) << 64 | d.0 as u128,
            )
            .expect("descriptor write");
    }

    /// The queue stopped: FSTS = IQE only, IQH = `iqh`, IQERCD = `iqei` (ITESID/ICESID 0), one
    /// fault event (FECTL.IM=0).
    fn expect_iqe(&mut self, iqh: u64, iqei: u64) {
        // FSTS bit 4 (IQE), nothing else.
        assert_eq!(self.reg32(FSTS), 0x0000_0010, "FSTS");
        assert_eq!(self.reg64(IQH), iqh, "IQH on the offending descriptor");
        assert_eq!(self.reg64(IQERCD), iqei, "IQERCD");
        self.p().expect_events(&[FE]);
    }

    /// `r` is the driver's view of the same queue error.
    fn expect_iqe_err(&mut self, r: Result<InvalidationStatus, OsError>, iqh: u64, iqei: u64) {
        match r {
            Err(OsError::Queue(q)) => {
                assert_eq!((q.fsts, q.iqh, q.iqercd), (0x10, iqh, iqei), "{q:?}");
            }
            other => panic!("expected an invalidation queue error, got {other:?}"),
        }
        self.expect_iqe(iqh, iqei);
    }

    /// `qi_recover` (clear IQE, QIE off and on: head and tail restart at 0), then a good wait
    /// descriptor completes in slot 0 (IQH 0x10).
    fn recover(&mut self) {
        self.os.qi_recover().expect("recover");
        assert_eq!(self.reg32(FSTS), 0, "FSTS clear");
        assert_eq!(self.reg64(IQH), 0);
        let st = self
            .os
            .invalidate_qi(&[], WaitKind::StatusWrite)
            .expect("a good wait after recovery");
        assert_eq!((st.tail, st.iqh), (1, 0x10));
        self.p().expect_events(&[]);
    }

    fn done(mut self) {
        self.p().finish();
    }
}

fn fwd(addr: u64) -> Outcome {
    Outcome::Forward { addr: Hpa(addr) }
}

// ---- queue errors IQEI 1..6 ----------------------------------------------------------------

fn iqe_1_tail_beyond_the_queue<P: Unit>(p: P) {
    let mut b = Bench::new(p);
    // QS=0: 4096 bytes; IQT = 0x1000 (slot 256) is outside. The head stays at slot 3.
    b.wr64(IQT, 0x1000);
    assert_eq!(b.reg64(IQT), 0x1000, "IQT keeps bits 18:4");
    b.expect_iqe(0x30, 0x1);
    // An IQT write while IQE=1 runs nothing.
    b.wr64(IQT, 0x40);
    assert_eq!(b.reg64(IQH), 0x30);
    b.recover();
    b.done();
}

fn iqe_2_descriptor_fetch_error<P: Unit>(p: P) {
    let mut b = Bench::new(p);
    // Slot 3: wait SW, STATUS DATA 1: qw0 = 1<<32 | SW 0x20 | type 5.
    b.os.mem().write_u32(Hpa(STATUS), 0).expect("status");
    b.put(3, (0x0000_0001_0000_0025, STATUS));
    let (base, _, _) = b.os.qi_state().expect("queue");
    b.os.mem().inject_error(Hpa(base.0 + 0x30), 16);
    b.os.qi_set_tail(4).expect("tail");
    b.expect_iqe(0x30, 0x2);
    assert_eq!(b.status(), 0, "not executed");
    // Recovery as the model allows it: the memory is readable again; an IQT write while IQE=1
    // runs nothing; clearing IQE (RW1C) alone does not restart; the next IQT write does.
    b.os.mem().clear_errors();
    b.os.qi_set_tail(4).expect("tail");
    assert_eq!(b.reg64(IQH), 0x30);
    b.wr32(FSTS, 0x10);
    assert_eq!(b.reg32(FSTS), 0);
    assert_eq!(b.reg64(IQH), 0x30);
    b.os.qi_set_tail(4).expect("tail");
    assert_eq!(b.reg64(IQH), 0x40);
    assert_eq!(b.status(), 1);
    // IQERCD keeps the last error.
    assert_eq!(b.reg64(IQERCD), 0x2);
    // A good wait through the driver (slot 4).
    let st = b.submit_ok(&[]);
    assert_eq!(st.iqh, 0x50);
    b.p().expect_events(&[]);
    b.done();
}

fn iqe_2_wait_status_write_error<P: Unit>(p: P) {
    // Model decision (driver/src/model/qi.rs): a wait whose status write fails is IQEI=2, IQH
    // stays on it and its IF part is not done.
    let mut b = Bench::new(p);
    b.os.setup_inv_event(IE.addr, IE.data, false)
        .expect("inv event");
    b.os.mem().inject_error(Hpa(STATUS), 4);
    // Wait SW+IF, STATUS DATA 1: qw0 = 1<<32 | SW 0x20 | IF 0x10 | 5.
    let r = b.submit(&[(0x0000_0001_0000_0035, STATUS)]);
    b.expect_iqe_err(r, 0x30, 0x2);
    assert_eq!(b.reg32(ICS), 0, "IWC not set");
    b.os.mem().clear_errors();
    b.recover();
    b.done();
}

fn iqe_3_invalid_descriptor_type<P: Unit>(p: P) {
    let mut b = Bench::new(p);
    let bad: [(u64, u64); 6] = [
        (0x0000_0000_0000_0000, 0), // type 0
        (0x0000_0000_0000_0003, 0), // device-TLB with ECAP.DT=0
        (0x0000_0000_0000_0006, 0), // PASID-IOTLB (legacy mode)
        (0x0000_0000_0000_0009, 0), // page-group response
        (0x0000_0000_0000_000F, 0), // type 15
        (0x0000_0000_0000_0211, 0), // {qw0[11:9]=001, qw0[3:0]=0001} = type 11h, not CC (D5 #1)
    ];
    // First in slot 3 (after bring-up); after each recovery the good wait used slot 0, so the
    // next bad descriptor is in slot 1.
    let mut iqh = 0x30;
    for d in bad {
        let r = b.submit(&[d]);
        b.expect_iqe_err(r, iqh, 0x3);
        b.recover();
        iqh = 0x10;
    }
    b.done();
}

fn iqe_4_reserved_field<P: Unit>(p: P) {
    let mut b = Bench::new(p);
    let bad: [(u64, u64); 10] = [
        // CC with G=00.
        (0x0000_0000_0000_0001, 0),
        // CC global, qw1 bit 0 (qw1 is all reserved).
        (0x0000_0000_0000_0011, 1),
        // IOTLB global, qw0 bit 8 (allowed mask 0x0000_0000_FFFF_00FF).
        (0x0000_0000_0000_0112, 0),
        // IOTLB global, qw1 bit 7 (allowed mask 0xFFFF_FFFF_FFFF_F07F).
        (0x0000_0000_0000_0012, 0x80),
        // PSI DID 1 (1<<16 | G 11<<4 | 2), ADDR 0x10_0000, AM=19 > MAMV=18.
        (0x0000_0000_0001_0032, 0x0010_0013),
        // IEC index-selective (G=1), IM=16 (31:27) > MHMV=15.
        (0x0000_0000_8000_0014, 0),
        // IEC, qw0 bit 5 (allowed mask 0x0000_FFFF_F800_001F).
        (0x0000_0000_0000_0024, 0),
        // Wait SW, qw0 bit 8 (allowed mask 0xFFFF_FFFF_0000_007F).
        (0x0000_0000_0000_0125, STATUS),
        // Wait SW, STATUS ADDR bit 0 (allowed mask 0xFFFF_FFFF_FFFF_FFFC).
        (0x0000_0000_0000_0025, STATUS | 1),
        // Wait PD=1 (bit 7) without ECAP.PDS.
        (0x0000_0000_0000_0085, 0),
    ];
    let mut iqh = 0x30;
    for d in bad {
        let r = b.submit(&[d]);
        b.expect_iqe_err(r, iqh, 0x4);
        b.recover();
        iqh = 0x10;
    }
    b.done();
}

/// QIE off; IQT = 0; IQA = base | DW (bit 11), QS=0; QIE on (head 0 = tail: nothing runs).
fn wide_descriptors<P: Unit>(b: &mut Bench<P>) {
    b.os.disable_qi().expect("qie off");
    b.wr64(IQT, 0);
    let (base, _, _) = b.os.qi_state().expect("queue");
    b.wr64(IQA, base.0 | 1 << 11);
    // IQA reads back QS and DW (D5 #2).
    assert_eq!(b.reg64(IQA), base.0 | 0x800);
    b.os.gcmd(GlobalCommand::QueuedInvalidationEnable, true)
        .expect("qie on");
    assert_eq!(b.reg32(FSTS), 0);
}

fn iqe_5_descriptor_width<P: Unit>(p: P) {
    let mut b = Bench::new(p);
    wide_descriptors(&mut b);
    // One 256-bit descriptor (IQT 0x20, bit 4 clear): DW=1 without SMTS/ADMS stops the queue at
    // the first fetch, head 0.
    b.wr64(IQT, 0x20);
    b.expect_iqe(0x0, 0x5);
    // qi_recover rewrites IQA with DW=0.
    b.recover();
    let (base, _, _) = b.os.qi_state().expect("queue");
    assert_eq!(b.reg64(IQA), base.0);
    b.done();
}

fn iqe_6_tail_misaligned<P: Unit>(p: P) {
    let mut b = Bench::new(p);
    wide_descriptors(&mut b);
    // 256-bit descriptors: IQT bit 4 must be 0; 0x10 is misaligned.
    b.wr64(IQT, 0x10);
    b.expect_iqe(0x0, 0x6);
    b.recover();
    b.done();
}

fn iqe_fault_event_pending_while_masked<P: Unit>(p: P) {
    let mut b = Bench::new(p);
    b.os.setup_fault_event(FE.addr, FE.data, true)
        .expect("fault event");
    let r = b.submit(&[(0x0000_0000_0000_0000, 0)]);
    assert!(matches!(r, Err(OsError::Queue(_))), "{r:?}");
    // FECTL: IM (31) and IP (30); no message yet.
    assert_eq!(b.reg32(FECTL), 0xC000_0000);
    b.p().expect_events(&[]);
    // Unmasking sends it and clears IP.
    b.wr32(FECTL, 0);
    b.p().expect_events(&[FE]);
    assert_eq!(b.reg32(FECTL), 0);
    assert_eq!(b.reg64(IQERCD), 0x3);
    b.recover();
    b.done();
}

// ---- wait descriptors ----------------------------------------------------------------------

fn wait_status_write<P: Unit>(p: P) {
    let mut b = Bench::new(p);
    b.os.mem()
        .write_u64(Hpa(STATUS), 0xAAAA_AAAA_5555_5555)
        .expect("status");
    // Wait SW, STATUS DATA 0x1234_5678 -> qw0 = 0x1234_5678<<32 | 0x20 | 5; slot 3, the driver's
    // wait in slot 4.
    let st = b.submit_ok(&[(0x1234_5678_0000_0025, STATUS)]);
    assert_eq!(st.iqh, 0x50);
    // A 32-bit little-endian write: the upper dword is untouched.
    assert_eq!(
        b.os.mem().read_u64(Hpa(STATUS)).expect("status"),
        0xAAAA_AAAA_1234_5678
    );
    // STATUS ADDR + 4 (dword aligned), data 0x9ABC_DEF0.
    let st = b.submit_ok(&[(0x9ABC_DEF0_0000_0025, STATUS + 4)]);
    assert_eq!(st.iqh, 0x70);
    assert_eq!(
        b.os.mem().read_u64(Hpa(STATUS)).expect("status"),
        0x9ABC_DEF0_1234_5678
    );
    // No IF: ICS.IWC stays 0, no event.
    assert_eq!(b.reg32(ICS), 0);
    b.p().expect_events(&[]);
    b.done();
}

fn wait_interrupt_unmasked<P: Unit>(p: P) {
    let mut b = Bench::new(p);
    b.os.setup_inv_event(IE.addr, IE.data, false)
        .expect("inv event");
    assert_eq!(b.reg32(IECTL), 0);
    // Wait IF (qw0 0x15): ICS.IWC set, IM=0 -> the event at once, IP stays clear.
    b.submit_ok(&[(0x0000_0000_0000_0015, 0)]);
    assert_eq!(b.reg32(ICS), 0x1);
    assert_eq!(b.reg32(IECTL), 0);
    b.p().expect_events(&[IE]);
    // IWC already 1: a second IF wait does nothing more.
    b.submit_ok(&[(0x0000_0000_0000_0015, 0)]);
    assert_eq!(b.reg32(ICS), 0x1);
    b.p().expect_events(&[]);
    // ICS is RW1C; writing 0 does nothing.
    b.wr32(ICS, 0);
    assert_eq!(b.reg32(ICS), 0x1);
    b.wr32(ICS, 1);
    assert_eq!(b.reg32(ICS), 0);
    // The driver's IF wait: it polls IWC, then clears it.
    b.os.invalidate_qi(&[], WaitKind::Interrupt)
        .expect("IF wait");
    b.p().expect_events(&[IE]);
    assert_eq!(b.reg32(ICS), 0);
    b.done();
}

fn wait_interrupt_masked_then_unmasked<P: Unit>(p: P) {
    let mut b = Bench::new(p);
    // IECTL.IM = 1 (reset value, kept by the bench).
    assert_eq!(b.reg32(IECTL), 0x8000_0000);
    b.submit_ok(&[(0x0000_0000_0000_0015, 0)]);
    assert_eq!(b.reg32(ICS), 0x1);
    // IM=1, IP=1: pending, nothing sent.
    assert_eq!(b.reg32(IECTL), 0xC000_0000);
    b.p().expect_events(&[]);
    // Unmask: sent now, IP clears.
    b.wr32(IECTL, 0);
    b.p().expect_events(&[IE]);
    assert_eq!(b.reg32(IECTL), 0);
    // Again masked, then clearing IWC withdraws the pending event.
    b.wr32(ICS, 1);
    b.wr32(IECTL, 0x8000_0000);
    b.submit_ok(&[(0x0000_0000_0000_0015, 0)]);
    assert_eq!(b.reg32(IECTL), 0xC000_0000);
    b.wr32(ICS, 1);
    assert_eq!(b.reg32(IECTL), 0x8000_0000);
    b.wr32(IECTL, 0);
    b.p().expect_events(&[]);
    b.done();
}

fn wait_status_write_and_interrupt<P: Unit>(p: P) {
    let mut b = Bench::new(p);
    b.os.setup_inv_event(IE.addr, IE.data, false)
        .expect("inv event");
    // SW and IF together (decisions.md: status write first, then IWC and the event):
    // qw0 = 0xCAFE<<32 | SW 0x20 | IF 0x10 | 5.
    b.submit_ok(&[(0x0000_CAFE_0000_0035, STATUS)]);
    assert_eq!(b.status(), 0xCAFE);
    assert_eq!(b.reg32(ICS), 0x1);
    b.p().expect_events(&[IE]);
    // The driver's SW+IF wait.
    b.wr32(ICS, 1);
    b.os.invalidate_qi(&[], WaitKind::Both).expect("SW+IF wait");
    b.p().expect_events(&[IE]);
    assert_eq!(b.reg32(ICS), 0);
    b.done();
}

// ---- wrap-around -----------------------------------------------------------------------------

fn queue_wraps_around<P: Unit>(p: P) {
    let mut b = Bench::new(p);
    assert_eq!(b.read(IOVA + 0x40), fwd(HPA + 0x40));
    // 248 fillers + the wait from slot 3: slots 3..=251, tail 252 (IQH 0xFC0).
    let st = b.submit_ok(&[FILLER; 248]);
    assert_eq!((st.tail, st.iqh), (252, 0xFC0));
    // Four waits in slots 252..=255 (STATUS DATA 0x71..0x74), then IQT wraps to 0.
    for (i, slot) in (252..256).enumerate() {
        b.put(slot, ((0x71 + i as u64) << 32 | 0x25, STATUS));
    }
    b.os.qi_set_tail(256).expect("tail");
    assert_eq!(b.reg64(IQT), 0);
    assert_eq!(b.reg64(IQH), 0);
    assert_eq!(b.status(), 0x74);
    // 240 fillers + wait from slot 0: tail 241 (IQH 0xF10).
    let st = b.submit_ok(&[FILLER; 240]);
    assert_eq!((st.tail, st.iqh), (241, 0xF10));
    // Change the mapping, then a batch crossing the end: 20 descriptors in slots 241..=255 and
    // 0..=4, the page-selective one (index 17) in slot 2, the wait in slot 5: tail 6.
    b.os.write_pte_raw(DID, Iova(IOVA), 1, NEW_HPA | 3)
        .expect("pte");
    b.expect_stale(IOVA + 0x40, HPA + 0x40, NEW_HPA + 0x40);
    let mut batch = [FILLER; 20];
    // PSI: DID 1, AM 0, IH 0, ADDR IOVA: qw0 = 1<<16 | G 11<<4 | 2, qw1 = 0x10_0000.
    batch[17] = (0x0000_0000_0001_0032, 0x0000_0000_0010_0000);
    let st = b.submit_ok(&batch);
    assert_eq!((st.tail, st.iqh), (6, 0x060));
    b.expect_fresh(IOVA + 0x40, NEW_HPA + 0x40);
    assert_eq!(b.reg32(FSTS), 0);
    b.done();
}

// ---- invalidations through the queue ---------------------------------------------------------

fn iotlb_global_through_queue<P: Unit>(p: P) {
    let mut b = Bench::new(p);
    assert_eq!(b.read(IOVA), fwd(HPA));
    b.os.write_pte_raw(DID, Iova(IOVA), 1, NEW_HPA | 3)
        .expect("pte");
    b.expect_stale(IOVA, HPA, NEW_HPA);
    // IOTLB global: G=01 -> qw0 0x12.
    b.submit_ok(&[(0x0000_0000_0000_0012, 0)]);
    b.expect_fresh(IOVA, NEW_HPA);
    b.done();
}

fn iotlb_domain_through_queue<P: Unit>(p: P) {
    let mut b = Bench::new(p);
    assert_eq!(b.read(IOVA), fwd(HPA));
    b.os.write_pte_raw(DID, Iova(IOVA), 1, NEW_HPA | 3)
        .expect("pte");
    // Domain-selective for DID 2: not this domain.
    b.submit_ok(&[FILLER]);
    b.expect_stale(IOVA, HPA, NEW_HPA);
    // Domain-selective DID 1: qw0 = 1<<16 | G 10<<4 | 2 = 0x0001_0022.
    b.submit_ok(&[(0x0000_0000_0001_0022, 0)]);
    b.expect_fresh(IOVA, NEW_HPA);
    b.done();
}

fn iotlb_page_through_queue_with_am<P: Unit>(p: P) {
    let mut b = Bench::new(p);
    // Four pages at 0x20_0000 -> 0x8010_0000; page 3 is observed, then moved.
    b.os.map_range(DID, Iova(0x20_0000), Hpa(0x8010_0000), 0x4000, Perms::RW)
        .expect("map");
    assert_eq!(b.read(0x20_3040), fwd(0x8010_3040));
    b.os.write_pte_raw(DID, Iova(0x20_3000), 1, 0x9010_3000 | 3)
        .expect("pte");
    b.expect_stale(0x20_3040, 0x8010_3040, 0x9010_3040);
    // PSI DID 1 ADDR 0x20_0000 AM 0 (page 0 only), and DID 2 AM 2: neither covers page 3.
    b.submit_ok(&[
        (0x0000_0000_0001_0032, 0x0000_0000_0020_0000),
        (0x0000_0000_0002_0032, 0x0000_0000_0020_0002),
    ]);
    b.expect_stale(0x20_3040, 0x8010_3040, 0x9010_3040);
    // PSI DID 1 ADDR 0x20_0000 AM 2 (pages 0..=3) IH 1 (leaf only): qw1 = 0x20_0000 | 1<<6 | 2.
    b.submit_ok(&[(0x0000_0000_0001_0032, 0x0000_0000_0020_0042)]);
    b.expect_fresh(0x20_3040, 0x9010_3040);
    // The other pages still translate as before.
    assert_eq!(b.read(0x20_1000), fwd(0x8010_1000));
    b.done();
}

/// DEV observed in domain 1, then moved (context entry rewritten) to domain 2 whose tables map
/// IOVA to NEW_HPA.
fn move_to_domain_2<P: Unit>(b: &mut Bench<P>) {
    let d2 = DomainId(2);
    b.os.create_domain(d2, 4).expect("domain 2");
    b.os.map(d2, Iova(IOVA), Hpa(NEW_HPA), PageSize::Size4K, Perms::RW)
        .expect("map");
    assert_eq!(b.read(IOVA), fwd(HPA));
    b.os.assign_device(DEV, d2).expect("reassign");
    b.expect_stale(IOVA, HPA, NEW_HPA);
}

fn context_global_through_queue<P: Unit>(p: P) {
    let mut b = Bench::new(p);
    move_to_domain_2(&mut b);
    // CC global: G=01 -> qw0 0x11.
    b.submit_ok(&[(0x0000_0000_0000_0011, 0)]);
    b.expect_fresh(IOVA, NEW_HPA);
    b.done();
}

fn context_domain_through_queue<P: Unit>(p: P) {
    let mut b = Bench::new(p);
    move_to_domain_2(&mut b);
    // CC domain-selective DID 3 (qw0 = 3<<16 | G 10<<4 | 1): not the cached entry's domain.
    b.submit_ok(&[(0x0000_0000_0003_0021, 0)]);
    b.expect_stale(IOVA, HPA, NEW_HPA);
    // DID 1, the domain of the cached entry.
    b.submit_ok(&[(0x0000_0000_0001_0021, 0)]);
    b.expect_fresh(IOVA, NEW_HPA);
    b.done();
}

fn context_device_through_queue<P: Unit>(p: P) {
    let mut b = Bench::new(p);
    move_to_domain_2(&mut b);
    // CC device-selective (G=11), DID 1: SID 0x0318 FM 00, and SID 0x0314 FM 00 (03:02.4):
    // neither is 03:02.0. qw0 = FM<<48 | SID<<32 | DID<<16 | 0x31.
    b.submit_ok(&[(0x0000_0318_0001_0031, 0), (0x0000_0314_0001_0031, 0)]);
    b.expect_stale(IOVA, HPA, NEW_HPA);
    // SID 0x0314 with FM 01 (ignore SID[2]) covers 0x0310.
    b.submit_ok(&[(0x0001_0314_0001_0031, 0)]);
    b.expect_fresh(IOVA, NEW_HPA);
    b.done();
}

fn iec_through_queue<P: Unit>(p: P) {
    let mut b = Bench::with_ir(p);
    b.os.set_irte_remapped(6, &RemappedIrte::new(0x31, 1).verify_requester(DEV))
        .expect("irte");
    // Remapped to x2APIC 1: 0xFEE0_1000, data V | 1<<14.
    let v31 = irq(0xFEE0_1000, 0x4031);
    let v32 = irq(0xFEE0_1000, 0x4032);
    let v33 = irq(0xFEE0_1000, 0x4033);
    b.expect_irq(6, &[v31]);
    b.os.set_irte_remapped(6, &RemappedIrte::new(0x32, 1).verify_requester(DEV))
        .expect("irte");
    b.expect_irq(6, &[v32, v31]);
    // IEC index-selective (G=1) IIDX 8 IM 1 (8..=9): qw0 = 8<<32 | 1<<27 | 0x10 | 4.
    b.submit_ok(&[(0x0000_0008_0800_0014, 0)]);
    b.expect_irq(6, &[v32, v31]);
    // IIDX 7 IM 1: aligned down to 6..=7, covers 6.
    b.submit_ok(&[(0x0000_0007_0800_0014, 0)]);
    b.expect_irq(6, &[v32]);
    b.os.set_irte_remapped(6, &RemappedIrte::new(0x33, 1).verify_requester(DEV))
        .expect("irte");
    b.expect_irq(6, &[v33, v32]);
    // IEC global (G=0): qw0 0x04.
    b.submit_ok(&[(0x0000_0000_0000_0004, 0)]);
    b.expect_irq(6, &[v33]);
    b.done();
}

fn register_invalidation_not_performed_while_qies<P: Unit>(p: P) {
    let mut b = Bench::new(p);
    assert_eq!(b.read(IOVA), fwd(HPA));
    b.os.write_pte_raw(DID, Iova(IOVA), 1, NEW_HPA | 3)
        .expect("pte");
    // QIES=1: CCMD / IOTLB_REG requests are not performed: actual granularity 00.
    assert_eq!(
        b.os.invalidate_reg(InvRequest::ContextGlobal).expect("cc"),
        0
    );
    assert_eq!(
        b.os.invalidate_reg(InvRequest::IotlbGlobal).expect("iotlb"),
        0
    );
    // CCMD: CIRG 01 (62:61), ICC 0, CAIG 00 (60:59).
    assert_eq!(b.reg64(CCMD), 0x2000_0000_0000_0000);
    // IOTLB_REG: IIRG 01 (61:60), IVT 0, IAIG 00 (58:57).
    assert_eq!(b.reg64(IOTLB_REG), 0x1000_0000_0000_0000);
    b.expect_stale(IOVA, HPA, NEW_HPA);
    // With the queue disabled the same requests are performed (global: 01).
    b.os.disable_qi().expect("qie off");
    assert_eq!(b.reg32(0x01C) & 1 << 26, 0, "GSTS.QIES clear");
    assert_eq!(
        b.os.invalidate_reg(InvRequest::ContextGlobal).expect("cc"),
        1
    );
    assert_eq!(
        b.os.invalidate_reg(InvRequest::IotlbGlobal).expect("iotlb"),
        1
    );
    // CAIG 01 (1<<59) | CIRG 01; IAIG 01 (1<<57) | IIRG 01.
    assert_eq!(b.reg64(CCMD), 0x2800_0000_0000_0000);
    assert_eq!(b.reg64(IOTLB_REG), 0x1200_0000_0000_0000);
    b.expect_fresh(IOVA, NEW_HPA);
    b.done();
}

variants!(
    iqe_1_tail_beyond_the_queue,
    iqe_2_wait_status_write_error,
    iqe_3_invalid_descriptor_type,
    iqe_4_reserved_field,
    iqe_5_descriptor_width,
    iqe_6_tail_misaligned,
    iqe_fault_event_pending_while_masked,
    wait_interrupt_unmasked,
    wait_interrupt_masked_then_unmasked,
    wait_status_write_and_interrupt,
    iotlb_global_through_queue,
    iotlb_domain_through_queue,
    context_global_through_queue,
    context_domain_through_queue,
    iec_through_queue,
    register_invalidation_not_performed_while_qies,
);

variants!(
    tiny: iqe_2_descriptor_fetch_error,
    wait_status_write,
    queue_wraps_around,
    iotlb_page_through_queue_with_am,
    context_device_through_queue,
);
