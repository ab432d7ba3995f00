//! Unit tests of the model internals: register side effects, fault logging corner cases, the
//! allowed set with stale observations, and invalidation coverage.
//!
//! Tables are written as raw hex assembled by hand from spec A5-A7 (root = CTP | P; context
//! qword0 = SLPTPTR | TT<<2 | FPD<<1 | P, qword1 = DID<<8 | AW; SL PTE = ADDR | PS<<7 | W<<1 | R),
//! and requests as raw TLP DWs (spec C: DW0 = Fmt<<29 | Type<<24 | AT<<10 | Length,
//! DW1 = RID<<16 | Tag<<8 | LastBE<<4 | FirstBE).

use super::*;
use crate::tlp::CplStatus;
use crate::types::Hpa;

const RTA: u64 = 0x0010_0000;
const CTP: u64 = 0x0011_0000;
const SLPT: u64 = 0x0020_0000;
const SID: Rid = Rid(0x0008); // 00:01.0
const DID: u16 = 5;

const FEDATA: u32 = 0x00A1;
const FEADDR: u32 = 0xFEE0_1000;

const R: u64 = 1;
const W: u64 = 2;
const PS: u64 = 1 << 7;

/// A model plus memory with one device (SID 00:01.0, DID 5, 4-level tables at SLPT) and a bump
/// allocator for SL table pages.
struct Env {
    m: Model,
    mem: HostMemory,
    next_table: u64,
}

impl Env {
    fn new() -> Env {
        Self::with(ModelConfig::default())
    }

    fn with(cfg: ModelConfig) -> Env {
        let mut e = Env {
            m: Model::new(cfg),
            mem: HostMemory::new(),
            next_table: 0x0030_0000,
        };
        // Root entry for bus 0: CTP | P.
        e.mem.write_u128(Hpa(RTA), (CTP | 1) as u128).unwrap();
        e.set_ctx(SID, SLPT, 2, DID, 0, false);
        e.wr(0x020, 8, RTA);
        e.wr(0x018, 4, 1 << 30); // SRTP
        e.wr(0x018, 4, 1 << 31); // TE
        e.wr(0x03C, 4, FEDATA as u64);
        e.wr(0x040, 4, FEADDR as u64);
        e
    }

    /// Context entry for `sid` in the table at CTP: qword0 = SLPTPTR | TT<<2 | FPD<<1 | P,
    /// qword1 = DID<<8 | AW.
    fn set_ctx(&mut self, sid: Rid, slpt: u64, aw: u64, did: u16, tt: u64, fpd: bool) {
        let qw0 = slpt | (tt << 2) | ((fpd as u64) << 1) | 1;
        let qw1 = ((did as u64) << 8) | aw;
        self.mem
            .write_u128(
                Hpa(CTP + 16 * sid.devfn() as u64),
                ((qw1 as u128) << 64) | qw0 as u128,
            )
            .unwrap();
    }

    fn wr(&mut self, off: u16, size: u8, v: u64) {
        self.m.reg_write(&mut self.mem, off, size, v).unwrap();
    }
    fn rd(&mut self, off: u16, size: u8) -> u64 {
        self.m.reg_read(&mut self.mem, off, size).unwrap()
    }

    fn alloc(&mut self) -> u64 {
        let t = self.next_table;
        self.next_table += 0x1000;
        t
    }

    /// Address of the PTE for `iova` at `level` (4-level table at SLPT), creating the
    /// intermediate tables (non-leaf entries R|W) as needed.
    fn pte_addr(&mut self, iova: u64, level: u8) -> u64 {
        let mut table = SLPT;
        for l in (level + 1..=4).rev() {
            let a = table + 8 * ((iova >> (12 + 9 * (l as u64 - 1))) & 0x1FF);
            let e = self.mem.read_u64(Hpa(a)).unwrap();
            table = if e & 3 == 0 {
                let t = self.alloc();
                self.mem.write_u64(Hpa(a), t | R | W).unwrap();
                t
            } else {
                e & 0x000F_FFFF_FFFF_F000
            };
        }
        table + 8 * ((iova >> (12 + 9 * (level as u64 - 1))) & 0x1FF)
    }

    /// Map `iova` to `hpa` with a leaf at `level` (1 = 4 KiB, 2 = 2 MiB with PS, 3 = 1 GiB).
    fn map(&mut self, iova: u64, hpa: u64, level: u8, perm: u64) {
        let a = self.pte_addr(iova, level);
        let ps = if level > 1 { PS } else { 0 };
        self.mem.write_u64(Hpa(a), hpa | ps | perm).unwrap();
    }

    fn process(&mut self, req: Request) -> Outcome {
        self.m.process(&mut self.mem, &req)
    }
    fn eval(&self, req: Request) -> Vec<Outcome> {
        self.m.evaluate(&self.mem, &req).to_vec()
    }
    fn frcd(&mut self, n: u16) -> (u64, u64) {
        (self.rd(0x200 + 16 * n, 8), self.rd(0x208 + 16 * n, 8))
    }
}

/// MRd of one DW (3DW header below 4 GiB, else 4DW): Fmt 000/001, Type 00000.
fn rd(rid: Rid, addr: u64) -> Request {
    req(0b000, 0, rid, addr, 0)
}
/// MWr of one DW: Fmt 010/011, Type 00000.
fn wr(rid: Rid, addr: u64) -> Request {
    req(0b010, 0, rid, addr, 0)
}
fn req(fmt3: u32, ty: u32, rid: Rid, addr: u64, at: u32) -> Request {
    let four = addr > 0xFFFF_FFFF;
    let fmt = fmt3 | four as u32;
    let dw0 = (fmt << 29) | (ty << 24) | (at << 10) | 1;
    let dw1 = ((rid.0 as u32) << 16) | 0x0F;
    let hdr = if four {
        [dw0, dw1, (addr >> 32) as u32, addr as u32 & !3]
    } else {
        [dw0, dw1, addr as u32 & !3, 0]
    };
    Request { hdr, data0: 0 }
}

fn fwd(a: u64) -> Outcome {
    Outcome::Forward { addr: Hpa(a) }
}
fn ur(f: FaultReason) -> Outcome {
    Outcome::Complete {
        status: CplStatus::Ur,
        fault: Some(f),
    }
}
fn ca(f: FaultReason) -> Outcome {
    Outcome::Complete {
        status: CplStatus::Ca,
        fault: Some(f),
    }
}
fn drop_(f: FaultReason) -> Outcome {
    Outcome::Drop { fault: Some(f) }
}

// ------------------------------------------------------------------------------------------
// Registers
// ------------------------------------------------------------------------------------------

#[test]
fn identity_registers_and_access_rules() {
    let mut e = Env::new();
    assert_eq!(e.rd(0x000, 4), 0x10);
    assert_eq!(e.rd(0x008, 8), 0x0812_078C_2038_0E06);
    assert_eq!(e.rd(0x00C, 4), 0x0812_078C);
    assert_eq!(e.rd(0x010, 8), 0x00F0_105B);
    // GCMD reads 0; GSTS = TES | RTPS after setup; the qword at 0x18 has GSTS in the top half.
    assert_eq!(e.rd(0x018, 4), 0);
    assert_eq!(e.rd(0x01C, 4), 0xC000_0000);
    assert_eq!(e.rd(0x018, 8), 0xC000_0000_0000_0000);
    // FECTL resets with IM=1.
    assert_eq!(
        Model::new(ModelConfig::default())
            .reg_read(&mut e.mem, 0x038, 4)
            .unwrap(),
        0x8000_0000
    );
    for (off, size) in [
        (0x002u16, 4u8),
        (0x004, 8),
        (0x020, 2),
        (0x020, 16),
        (0xFFC, 8),
        (0x1000, 4),
    ] {
        assert_eq!(
            e.m.reg_read(&mut e.mem, off, size),
            Err(PlatformError::BadAccess { offset: off, size })
        );
        assert_eq!(
            e.m.reg_write(&mut e.mem, off, size, 0),
            Err(PlatformError::BadAccess { offset: off, size })
        );
    }
    // Unimplemented offsets read 0 and ignore writes; RO registers ignore writes.
    e.wr(0x058, 8, u64::MAX);
    assert_eq!(e.rd(0x058, 8), 0);
    e.wr(0x008, 8, 0);
    assert_eq!(e.rd(0x008, 8), 0x0812_078C_2038_0E06);
}

#[test]
fn rtaddr_reads_back_raw_value_with_ttm_d5_6() {
    let mut e = Env::new();
    // RTA 0x1234_5000 with TTM=01 (bit 10): 0x1234_5400.
    e.wr(0x020, 8, 0x1234_5400);
    assert_eq!(e.rd(0x020, 8), 0x1234_5400);
    e.wr(0x018, 4, 1 << 30);
    assert_eq!(e.rd(0x020, 8), 0x1234_5400);
    assert_eq!(e.rd(0x020, 4), 0x1234_5400);
    // Two dword writes compose the register.
    e.wr(0x024, 4, 0x1);
    assert_eq!(e.rd(0x020, 8), 0x1_1234_5400);
}

#[test]
fn gcmd_level_and_one_shot_bits() {
    let mut e = Env::new();
    // RTPS stays set across a later RTADDR write; TE off and on.
    e.wr(0x020, 8, 0x5000);
    assert_eq!(e.rd(0x01C, 4) & (1 << 30), 1 << 30);
    e.wr(0x018, 4, 0);
    assert_eq!(e.rd(0x01C, 4), 1 << 30);
    // IRE | CFI (ECAP.IR=1) -> IRES | CFIS; QIE -> QIES.
    e.wr(0x018, 4, (1 << 25) | (1 << 23) | (1 << 26));
    assert_eq!(
        e.rd(0x01C, 4),
        (1 << 30) | (1 << 25) | (1 << 23) | (1 << 26)
    );
    // SIRTP -> IRTPS; SFL/WBF/EAFL ignored (AFL=RWBF=0).
    e.wr(0x018, 4, (1 << 24) | (1 << 29) | (1 << 28) | (1 << 27));
    assert_eq!(e.rd(0x01C, 4), (1 << 30) | (1 << 24));
    // Milestone-1 identity: QI=IR=0 -> QIE/IRE/SIRTP/CFI ignored, IRTA/IQ registers read 0.
    let mut m1 = Env::with(ModelConfig::from_cap_ecap(
        0x0012_078C_2038_0E06,
        0x00F0_1041,
        48,
    ));
    m1.wr(
        0x018,
        4,
        (1 << 31) | (1 << 26) | (1 << 25) | (1 << 24) | (1 << 23),
    );
    assert_eq!(m1.rd(0x01C, 4), (1 << 31) | (1 << 30));
    m1.wr(0x0B8, 8, 0x1234_500F);
    assert_eq!(m1.rd(0x0B8, 8), 0);
    m1.wr(0x090, 8, 0x0012_3000);
    assert_eq!(m1.rd(0x090, 8), 0);
}

#[test]
fn ccmd_register_invalidation() {
    let mut e = Env::new();
    // Domain-selective, DID 5: CIRG=10 (bits 62:61) | ICC: 0xC000_0000_0000_0005 -> CAIG=10
    // (bits 60:59) = 0x1000_0000_0000_0000, ICC clear, DID kept.
    e.wr(0x028, 8, 0xC000_0000_0000_0005);
    assert_eq!(
        e.rd(0x028, 8),
        0x4000_0000_0000_0005 | 0x1000_0000_0000_0000
    );
    // As two dwords: the lower dword alone does not start anything.
    e.wr(0x028, 4, 0x0008_0000); // SID 0x0008
    assert_eq!(e.rd(0x028, 8) >> 59 & 3, 2); // CAIG of the previous command is still shown
                                             // Upper dword: ICC | CIRG=11 (device) | FM=11 -> 0xE000_0003.
    e.wr(0x02C, 4, 0xE000_0003);
    assert_eq!(e.rd(0x028, 8), 0x6000_0003_0008_0000 | (3 << 59));
    // Requested granularity 00: not performed, CAIG = 00.
    e.wr(0x028, 8, 0x8000_0000_0000_0000);
    assert_eq!(e.rd(0x028, 8), 0);
    // While QIES=1 nothing is performed.
    e.wr(0x018, 4, (1 << 31) | (1 << 26));
    e.wr(0x028, 8, 0xA000_0000_0000_0000);
    assert_eq!(e.rd(0x028, 8), 0x2000_0000_0000_0000);
}

#[test]
fn iotlb_register_invalidation_granularity() {
    let mut e = Env::new();
    // IVA: ADDR 0x4000_0000, IH=1, AM=9 -> 0x4000_0049; bits 11:7 are reserved and dropped.
    e.wr(0x100, 8, 0x4000_0F49);
    assert_eq!(e.rd(0x100, 8), 0x4000_0049);
    // IOTLB_REG: IVT | IIRG=11 | DID 5 -> 0xB000_0005_0000_0000; IAIG=11 (bits 58:57).
    e.wr(0x108, 8, 0xB000_0005_0000_0000);
    assert_eq!(e.rd(0x108, 8), 0x3000_0005_0000_0000 | (3 << 57));
    // AM=19 > MAMV=18: not performed.
    e.wr(0x100, 8, 0x4000_0013);
    e.wr(0x10C, 4, 0xB000_0005);
    assert_eq!(e.rd(0x108, 8), 0x3000_0005_0000_0000);
    // Global as one qword: IAIG = 01.
    e.wr(0x108, 8, 0x9000_0000_0000_0000);
    assert_eq!(e.rd(0x108, 8), 0x1000_0000_0000_0000 | (1 << 57));
}

// ------------------------------------------------------------------------------------------
// Fault recording (A10)
// ------------------------------------------------------------------------------------------

#[test]
fn fault_record_fields_event_and_clear() {
    let mut e = Env::new();
    // Read of an unmapped IOVA 0x1234_5678 from 00:01.0: L4 entry R=W=0 -> 6h, UR.
    assert_eq!(
        e.process(rd(SID, 0x1234_5678)),
        ur(FaultReason::ReadNotPermitted)
    );
    // FRCD[0]: FI = 0x1234_5000; hi = F(63) | T(62) | AT 0 | FR 6 <<32 | SID 0x0008.
    assert_eq!(e.frcd(0), (0x1234_5000, 0xC000_0006_0000_0008));
    // FSTS: PPF, FRI=0. IM=1 -> IP set, no event.
    assert_eq!(e.rd(0x034, 4), 0x2);
    assert_eq!(e.rd(0x038, 4), 0xC000_0000);
    assert!(e.m.take_events().is_empty());
    // Unmask: the pending event goes out, IP clears.
    e.wr(0x038, 4, 0);
    assert_eq!(
        e.m.take_events(),
        vec![Msi {
            addr: FEADDR as u64,
            data: FEDATA
        }]
    );
    assert_eq!(e.rd(0x038, 4), 0);
    // A write fault from another SID (00:02.0, no context: 2h) is recorded in FRCD[1],
    // FRI stays 0, no new event (PPF was already set).
    let sid2 = Rid(0x0010);
    assert_eq!(
        e.process(wr(sid2, 0x7000)),
        drop_(FaultReason::ContextEntryNotPresent)
    );
    assert_eq!(e.frcd(1), (0x7000, 0x8000_0002_0000_0010));
    assert_eq!(e.rd(0x034, 4), 0x2);
    assert!(e.m.take_events().is_empty());
    // Clear F of record 0 with a dword write to +12, then of record 1 with a qword to +8.
    e.wr(0x20C, 4, 0x8000_0000);
    assert_eq!(e.rd(0x034, 4), 0x2);
    e.wr(0x218, 8, 1 << 63);
    assert_eq!(e.rd(0x034, 4), 0x0);
    assert_eq!(e.frcd(1).1 >> 63, 0);
    // The next fault (PPF was 0) fires an event at once (IM=0) and sets FRI=2.
    e.process(rd(SID, 0x9000));
    assert_eq!(e.rd(0x034, 4), 0x0202);
    assert_eq!(e.m.take_events().len(), 1);
    assert_eq!(e.m.counters().faults_recorded, 3);
    assert_eq!(e.rd(0x340, 8), 3);
}

#[test]
fn fault_compression_same_sid_and_reason_only() {
    let mut e = Env::new();
    e.process(rd(SID, 0x1000));
    e.process(rd(SID, 0x2000)); // same SID, same FR 6h: compressed
    e.process(wr(SID, 0x3000)); // same SID, FR 5h: recorded
    assert_eq!(e.frcd(0).0, 0x1000);
    assert_eq!(e.frcd(1), (0x3000, 0x8000_0005_0000_0008));
    assert_eq!(e.frcd(2).1, 0);
    assert_eq!(e.m.counters().faults_recorded, 2);
    // After F of record 0 is cleared the same fault is logged again (in record 2).
    e.wr(0x20C, 4, 0x8000_0000);
    e.process(rd(SID, 0x2000));
    assert_eq!(e.frcd(2), (0x2000, 0xC000_0006_0000_0008));
}

#[test]
fn primary_fault_overflow_sets_pfo_and_stops_logging() {
    let mut e = Env::new();
    e.wr(0x038, 4, 0); // IM=0
                       // Eight faults from eight SIDs on bus 1 (no root entry: 1h) fill FRCD[0..8].
    for i in 0..8u16 {
        e.process(wr(Rid(0x0100 + i), 0x1000));
    }
    assert_eq!(e.rd(0x034, 4), 0x2); // PPF, FRI 0, no PFO yet
    assert_eq!(e.m.take_events().len(), 1);
    // The ninth finds FRCD[0].F=1: PFO, not logged, no event (PPF was set).
    e.process(wr(Rid(0x0200), 0x1000));
    assert_eq!(e.rd(0x034, 4), 0x3);
    assert_eq!(e.m.counters().faults_recorded, 8);
    assert!(e.m.take_events().is_empty());
    // Clearing all F: PFO still blocks logging until it is cleared too.
    for n in 0..8u16 {
        e.wr(0x20C + 16 * n, 4, 0x8000_0000);
    }
    assert_eq!(e.rd(0x034, 4), 0x1);
    e.process(wr(Rid(0x0300), 0x1000));
    assert_eq!(e.m.counters().faults_recorded, 8);
    e.wr(0x034, 4, 0x1);
    assert_eq!(e.rd(0x034, 4), 0);
    // Next record index wrapped to 0.
    e.process(wr(Rid(0x0300), 0x1000));
    assert_eq!(e.frcd(0).1, 0x8000_0001_0000_0300);
    assert_eq!(e.rd(0x034, 4), 0x2);
}

#[test]
fn fpd_suppresses_only_qualified_faults() {
    let mut e = Env::new();
    // Context with FPD=1 but P=0 (qword0 = FPD only): 2h is qualified -> suppressed.
    let sid = Rid(0x0018);
    e.mem.write_u128(Hpa(CTP + 16 * 0x18), 0b10).unwrap();
    assert_eq!(
        e.process(rd(sid, 0x1000)),
        ur(FaultReason::ContextEntryNotPresent)
    );
    assert_eq!(e.rd(0x034, 4), 0);
    // Present context with FPD=1: 6h suppressed too.
    e.set_ctx(sid, SLPT, 2, 9, 0, true);
    assert_eq!(
        e.process(rd(sid, 0x1000)),
        ur(FaultReason::ReadNotPermitted)
    );
    assert_eq!(e.m.counters().faults_recorded, 0);
    // Reserved bit in the context (qword1 bit 7, Bh) is not qualified: recorded despite FPD.
    let raw = e.mem.read_u128(Hpa(CTP + 16 * 0x18)).unwrap() | (1u128 << 71);
    e.mem.write_u128(Hpa(CTP + 16 * 0x18), raw).unwrap();
    assert_eq!(
        e.process(rd(sid, 0x1000)),
        ur(FaultReason::ContextEntryReserved)
    );
    assert_eq!(e.frcd(0).1, 0xC000_000B_0000_0018);
}

#[test]
fn fault_event_rule_with_iqe_and_ip_clearing() {
    let mut e = Env::new();
    // IQE set first (IM=1): IP set, no event.
    e.m.raise_iqe();
    assert_eq!(e.rd(0x034, 4), 0x10);
    assert_eq!(e.rd(0x038, 4), 0xC000_0000);
    // A fault while IQE is pending: logged but no new event; unmasking sends one event.
    e.process(rd(SID, 0x1000));
    e.wr(0x038, 4, 0);
    assert_eq!(e.m.take_events().len(), 1);
    // Mask again, clear F (IQE remains: IP would stay), then a new fault: old FSTS had IQE, so no
    // event and no IP.
    e.wr(0x038, 4, 0x8000_0000);
    e.wr(0x20C, 4, 0x8000_0000);
    e.process(wr(SID, 0x1000));
    assert_eq!(e.rd(0x038, 4), 0x8000_0000);
    // Clearing IQE leaves PPF: IP unchanged (0). Clear all, new fault: IP set; clearing the F
    // withdraws it.
    e.wr(0x034, 4, 0x10);
    e.wr(0x21C, 4, 0x8000_0000);
    assert_eq!(e.rd(0x034, 4) & 0xFF, 0);
    e.process(rd(SID, 0x5000));
    assert_eq!(e.rd(0x038, 4), 0xC000_0000);
    let n = (e.rd(0x034, 4) >> 8) as u16;
    e.wr(0x20C + 16 * n, 4, 0x8000_0000);
    assert_eq!(e.rd(0x038, 4), 0x8000_0000);
    assert!(e.m.take_events().is_empty());
}

// ------------------------------------------------------------------------------------------
// Request path
// ------------------------------------------------------------------------------------------

#[test]
fn translation_4k_2m_1g_and_identity_when_te_off() {
    let mut e = Env::new();
    e.map(0x0000_1000, 0x0ABC_D000, 1, R | W);
    e.map(0x0040_0000, 0x8000_0000, 2, R);
    e.map(0x8000_0000, 0x1_4000_0000, 3, R | W);
    assert_eq!(e.process(rd(SID, 0x1234)), fwd(0x0ABC_D234));
    assert_eq!(e.process(wr(SID, 0x1234)), fwd(0x0ABC_D234));
    assert_eq!(e.process(rd(SID, 0x0055_6788)), fwd(0x8015_6788));
    assert_eq!(
        e.process(wr(SID, 0x0055_6788)),
        drop_(FaultReason::WriteNotPermitted)
    );
    assert_eq!(e.process(wr(SID, 0xBFFF_FFFC)), fwd(0x1_7FFF_FFFC));
    // TE=0: identity, even for addresses with no mapping.
    e.wr(0x018, 4, 0);
    assert_eq!(e.process(rd(SID, 0x5_0000_0000)), fwd(0x5_0000_0000));
    // Cache-less counters: 5 walks and 5 context reads; reads = root + context + one per level
    // walked: 4 KiB 2+4 (twice), 2 MiB 2+3 (twice), 1 GiB 2+2 -> 26. TE=0 counts nothing.
    assert_eq!(
        (
            e.rd(0x300, 8),
            e.rd(0x310, 8),
            e.rd(0x318, 8),
            e.rd(0x320, 8)
        ),
        (5, 5, 26, 5)
    );
}

#[test]
fn malformed_and_interrupt_window_reads() {
    let mut e = Env::new();
    // AT=11 is malformed: UR for a read, drop for a write, counter, no fault record.
    assert_eq!(
        e.process(req(0, 0, SID, 0x1000, 3)),
        Outcome::Complete {
            status: CplStatus::Ur,
            fault: None
        }
    );
    assert_eq!(
        e.process(req(0b010, 0, SID, 0x1000, 3)),
        Outcome::Drop { fault: None }
    );
    assert_eq!(e.rd(0x348, 8), 2);
    // MRd to the interrupt window: UR, no fault.
    assert_eq!(
        e.process(rd(SID, 0xFEE0_0000)),
        Outcome::Complete {
            status: CplStatus::Ur,
            fault: None
        }
    );
    assert_eq!(e.rd(0x034, 4), 0);
    // An MWr with upper address bits set is DMA, not an interrupt: unmapped -> 5h.
    assert_eq!(
        e.process(wr(SID, 0x1_FEE0_0000)),
        drop_(FaultReason::WriteNotPermitted)
    );
}

#[test]
fn ttm_nonzero_faults_30h_with_page_fi() {
    let mut e = Env::new();
    e.wr(0x020, 8, RTA | 0x400);
    e.wr(0x018, 4, (1 << 31) | (1 << 30));
    let o = e.process(rd(SID, 0x1234_5678));
    assert_eq!(
        o,
        Outcome::Complete {
            status: CplStatus::Ur,
            fault: FaultReason::from_code(0x30)
        }
    );
    // FI = 0x1234_5000; hi = F | T | FR 0x30 | SID 8.
    assert_eq!(e.frcd(0), (0x1234_5000, 0xC000_0030_0000_0008));
}

#[test]
fn walk_faults_and_completion_status() {
    let mut e = Env::new();
    e.map(0x1000, 0x5000, 1, R | W);
    // Output page overlapping the interrupt window: Eh.
    e.map(0x2000, 0xFEE0_0000, 1, R | W);
    assert_eq!(
        e.process(rd(SID, 0x2000)),
        ur(FaultReason::OutputInInterruptRange)
    );
    // 2 MiB leaf with a low address bit set (bit 12): Ch.
    e.map(0x0020_0000, 0x0060_1000, 2, R | W);
    assert_eq!(
        e.process(rd(SID, 0x0020_0000)),
        ur(FaultReason::SlEntryReserved)
    );
    // Permission before reserved: the same entry with R=0 gives 6h for a read.
    e.map(0x0020_0000, 0x0060_1000, 2, W);
    assert_eq!(
        e.process(rd(SID, 0x0020_0000)),
        ur(FaultReason::ReadNotPermitted)
    );
    // Address beyond AGAW (4-level = 48 bits): 4h.
    assert_eq!(
        e.process(rd(SID, 1 << 48)),
        ur(FaultReason::AddressBeyondAgaw)
    );
    // Lower-level table read error: 7h with CA; top-level (SLPTPTR) read error: 3h with CA.
    let l3 = e.mem.read_u64(Hpa(SLPT)).unwrap() & !0xFFF;
    e.mem.inject_error(Hpa(l3), 0x1000);
    assert_eq!(
        e.process(rd(SID, 0x1000)),
        ca(FaultReason::SlTableReadError)
    );
    assert_eq!(
        e.process(wr(SID, 0x1000)),
        drop_(FaultReason::SlTableReadError)
    );
    e.mem.inject_error(Hpa(SLPT), 0x1000);
    assert_eq!(
        e.process(rd(SID, 0x1000)),
        ca(FaultReason::InvalidContextEntry)
    );
    e.mem.clear_errors();
    // Atomic (FetchAdd, Type 01100) on a R-only page: 5h; on a W-only page: 6h.
    e.map(0x3000, 0x7000, 1, R);
    assert_eq!(
        e.process(req(0b010, 0b01100, SID, 0x3000, 0)),
        ur(FaultReason::WriteNotPermitted)
    );
    e.map(0x3000, 0x7000, 1, W);
    assert_eq!(
        e.process(req(0b010, 0b01100, SID, 0x3000, 0)),
        ur(FaultReason::ReadNotPermitted)
    );
    e.map(0x3000, 0x7000, 1, R | W);
    assert_eq!(e.process(req(0b010, 0b01100, SID, 0x3004, 0)), fwd(0x7004));
    // Translated request (AT=10) with TT=00: Dh.
    assert_eq!(
        e.process(req(0, 0, SID, 0x1000, 2)),
        ur(FaultReason::TranslationRequestBlocked)
    );
}

#[test]
fn root_and_context_faults() {
    let mut e = Env::new();
    // Bus 1 root entry not present: 1h; root read error: 8h (CA); reserved root bit: Ah.
    assert_eq!(
        e.process(rd(Rid(0x0100), 0x1000)),
        ur(FaultReason::RootEntryNotPresent)
    );
    e.mem
        .write_u128(Hpa(RTA + 16 * 2), (CTP | 1 | 0x2) as u128)
        .unwrap();
    assert_eq!(
        e.process(rd(Rid(0x0200), 0x1000)),
        ur(FaultReason::RootEntryReserved)
    );
    e.mem.inject_error(Hpa(RTA + 16 * 3), 16);
    assert_eq!(
        e.process(rd(Rid(0x0300), 0x1000)),
        ca(FaultReason::RootTableReadError)
    );
    e.mem.inject_error(Hpa(CTP + 16 * 0x20), 16);
    assert_eq!(
        e.process(rd(Rid(0x0020), 0x1000)),
        ca(FaultReason::ContextTableReadError)
    );
    // TT=11: 3h; TT=10 pass-through: identity; AW=4 (not in SAGAW): 3h; AW=0 (2-level, not
    // in SAGAW 0b01110): 3h.
    e.set_ctx(Rid(0x0028), SLPT, 2, 7, 3, false);
    assert_eq!(
        e.process(rd(Rid(0x0028), 0x1000)),
        ur(FaultReason::InvalidContextEntry)
    );
    e.set_ctx(Rid(0x0028), 0, 2, 7, 2, false);
    assert_eq!(
        e.process(rd(Rid(0x0028), 0x1_2345_6788)),
        fwd(0x1_2345_6788)
    );
    e.set_ctx(Rid(0x0028), 0, 4, 7, 2, false);
    assert_eq!(
        e.process(rd(Rid(0x0028), 0x1000)),
        ur(FaultReason::InvalidContextEntry)
    );
    e.set_ctx(Rid(0x0028), SLPT, 0, 7, 0, false);
    assert_eq!(
        e.process(rd(Rid(0x0028), 0x1000)),
        ur(FaultReason::InvalidContextEntry)
    );
    // 3-level (AW=1): 39-bit limit (D5 #14).
    e.set_ctx(Rid(0x0028), SLPT, 1, 7, 0, false);
    assert_eq!(
        e.process(rd(Rid(0x0028), 1 << 39)),
        ur(FaultReason::AddressBeyondAgaw)
    );
}

// ------------------------------------------------------------------------------------------
// Allowed sets and invalidation
// ------------------------------------------------------------------------------------------

#[test]
fn stale_leaf_allowed_until_page_selective_invalidation() {
    let mut e = Env::new();
    e.map(0x4000, 0xA000, 1, R | W);
    assert_eq!(e.process(rd(SID, 0x4010)), fwd(0xA010));
    // Unchanged memory: the observation gives the same outcome, singleton.
    assert_eq!(e.eval(rd(SID, 0x4010)), vec![fwd(0xA010)]);
    // Remap without invalidation: fresh B first, stale A allowed.
    e.map(0x4000, 0xB000, 1, R | W);
    assert_eq!(e.eval(rd(SID, 0x4010)), vec![fwd(0xB010), fwd(0xA010)]);
    // Unmap: fresh 6h, stale hit still allowed.
    e.map(0x4000, 0, 1, 0);
    assert_eq!(
        e.eval(rd(SID, 0x4010)),
        vec![ur(FaultReason::ReadNotPermitted), fwd(0xA010)]
    );
    // Committing the stale hit is accepted and records nothing; a foreign outcome is refused.
    let req = rd(SID, 0x4010);
    e.m.commit(&mut e.mem, &req, &fwd(0xA010)).unwrap();
    assert_eq!(e.m.counters().faults_recorded, 0);
    assert!(matches!(
        e.m.commit(&mut e.mem, &req, &fwd(0xC010)),
        Err(ModelError::NotAllowed { .. })
    ));
    // PSI of another domain or another page does not cover it.
    e.m.invalidate_iotlb(3, DomainId(6), 0x4000, 0, true);
    e.m.invalidate_iotlb(3, DomainId(DID), 0x5000, 0, true);
    assert_eq!(e.eval(req).len(), 2);
    // A covering PSI (AM=2: pages 0x4000..0x7FFF, ADDR 0x6000 aligned down) removes it.
    e.m.invalidate_iotlb(3, DomainId(DID), 0x6000, 2, true);
    assert_eq!(e.eval(req), vec![ur(FaultReason::ReadNotPermitted)]);
}

#[test]
fn stale_nonleaf_kept_by_ih1_removed_by_ih0() {
    let mut e = Env::new();
    e.map(0x4000, 0xA000, 1, R | W);
    e.process(rd(SID, 0x4000));
    // Move the level-1 table: copy to a new page with a different leaf, repoint the L2 entry.
    let l2e = e.pte_addr(0x4000, 2);
    let new_l1 = e.alloc();
    e.mem
        .write_u64(Hpa(new_l1 + 8 * 4), 0xC000 | R | W)
        .unwrap();
    e.mem.write_u64(Hpa(l2e), new_l1 | R | W).unwrap();
    // Fresh = C; stale leaf = A; the stale L2 entry leads to the old L1 table (still A).
    assert_eq!(e.eval(rd(SID, 0x4000)), vec![fwd(0xC000), fwd(0xA000)]);
    // Change the old L1 table's leaf too (the old L1 table is the third page allocated: L3 at
    // 0x30_0000, L2 at 0x30_1000, L1 at 0x30_2000): now the stale non-leaf path gives D.
    let old_leaf_addr = 0x0030_2000 + 8 * 4;
    assert_eq!(e.mem.read_u64(Hpa(old_leaf_addr)).unwrap(), 0xA000 | R | W);
    e.mem.write_u64(Hpa(old_leaf_addr), 0xD000 | R | W).unwrap();
    assert_eq!(
        e.eval(rd(SID, 0x4000)),
        vec![fwd(0xC000), fwd(0xD000), fwd(0xA000)]
    );
    // IH=1: leaves removed, non-leaf observations kept.
    e.m.invalidate_iotlb(3, DomainId(DID), 0x4000, 0, true);
    assert_eq!(e.eval(rd(SID, 0x4000)), vec![fwd(0xC000), fwd(0xD000)]);
    // IH=0: non-leaf entries covering the page removed too.
    e.m.invalidate_iotlb(3, DomainId(DID), 0x4000, 0, false);
    assert_eq!(e.eval(rd(SID, 0x4000)), vec![fwd(0xC000)]);
}

#[test]
fn psi_am9_and_am18_cover_superpages_d5_3() {
    let mut e = Env::new();
    e.map(0x0040_0000, 0x0080_0000, 2, R | W); // 2 MiB
    e.map(0x4000_0000, 0x8000_0000, 3, R | W); // 1 GiB
    e.process(rd(SID, 0x0040_0000));
    e.process(rd(SID, 0x4000_0000));
    e.map(0x0040_0000, 0x00C0_0000, 2, R | W);
    // (0xC000_0000 would overlap the interrupt window: Eh.)
    e.map(0x4000_0000, 0x1_4000_0000, 3, R | W);
    let a = rd(SID, 0x0051_2344);
    let b = rd(SID, 0x7654_3210);
    assert_eq!(e.eval(a), vec![fwd(0x00D1_2344), fwd(0x0091_2344)]);
    assert_eq!(e.eval(b), vec![fwd(0x1_7654_3210), fwd(0xB654_3210)]);
    // AM=9 at an address inside the 2 MiB page (aligned down to 0x40_0000): covers it, not the
    // 1 GiB page.
    e.m.invalidate_iotlb(3, DomainId(DID), 0x0045_6000, 9, true);
    assert_eq!(e.eval(a).len(), 1);
    assert_eq!(e.eval(b).len(), 2);
    // AM=18 (1 GiB) with ADDR inside the 1 GiB page.
    e.m.invalidate_iotlb(3, DomainId(DID), 0x7000_0000, 18, true);
    assert_eq!(e.eval(b).len(), 1);
    // A 4 KiB PSI (AM=0) inside a superpage removes the overlapping superpage entry as well.
    e.process(rd(SID, 0x0040_0000));
    e.map(0x0040_0000, 0x0080_0000, 2, R | W);
    assert_eq!(e.eval(a).len(), 2);
    e.m.invalidate_iotlb(3, DomainId(DID), 0x005F_F000, 0, true);
    assert_eq!(e.eval(a).len(), 1);
    // Through the register interface: AM=9 PSI (IVA 0x0040_0009, IOTLB IVT|IIRG=11|DID 5).
    e.process(rd(SID, 0x0040_0000));
    e.map(0x0040_0000, 0x00C0_0000, 2, R | W);
    assert_eq!(e.eval(a).len(), 2);
    e.wr(0x100, 8, 0x0040_0009);
    e.wr(0x108, 8, 0xB000_0005_0000_0000);
    assert_eq!(e.eval(a).len(), 1);
}

#[test]
fn domain_and_global_iotlb_invalidation() {
    let mut e = Env::new();
    e.map(0x4000, 0xA000, 1, R | W);
    e.process(rd(SID, 0x4000));
    e.map(0x4000, 0xB000, 1, R | W);
    e.m.invalidate_iotlb(2, DomainId(DID + 1), 0, 0, false);
    assert_eq!(e.eval(rd(SID, 0x4000)).len(), 2);
    e.m.invalidate_iotlb(2, DomainId(DID), 0, 0, false);
    assert_eq!(e.eval(rd(SID, 0x4000)).len(), 1);
    e.process(rd(SID, 0x4000));
    e.map(0x4000, 0xA000, 1, R | W);
    e.m.invalidate_iotlb(1, DomainId(0), 0, 0, false);
    assert_eq!(e.eval(rd(SID, 0x4000)), vec![fwd(0xA000)]);
}

#[test]
fn stale_context_until_context_cache_invalidation() {
    let mut e = Env::new();
    e.map(0x4000, 0xA000, 1, R | W);
    e.process(rd(SID, 0x4000));
    // New context for the SID: pass-through, DID 9. Without CC invalidation the old context
    // (DID 5 with its IOTLB entry) stays usable.
    e.set_ctx(SID, 0, 2, 9, 2, false);
    assert_eq!(e.eval(rd(SID, 0x4000)), vec![fwd(0x4000), fwd(0xA000)]);
    // Device-selective for another function that FM=00 does not cover: kept.
    e.m.invalidate_context_cache(3, DomainId(0), Rid(0x0009), 0);
    assert_eq!(e.eval(rd(SID, 0x4000)).len(), 2);
    // FM=11 ignores SID[2:0]: 00:01.1 covers 00:01.0.
    e.m.invalidate_context_cache(3, DomainId(0), Rid(0x0009), 3);
    assert_eq!(e.eval(rd(SID, 0x4000)), vec![fwd(0x4000)]);
    // Domain-selective: only contexts of that DID.
    e.process(rd(SID, 0x4000)); // observes the PT context (DID 9)
    e.set_ctx(SID, SLPT, 2, DID, 0, false);
    assert_eq!(e.eval(rd(SID, 0x4000)), vec![fwd(0xA000), fwd(0x4000)]);
    e.m.invalidate_context_cache(2, DomainId(DID), SID, 0);
    assert_eq!(e.eval(rd(SID, 0x4000)).len(), 2);
    e.m.invalidate_context_cache(2, DomainId(9), SID, 0);
    assert_eq!(e.eval(rd(SID, 0x4000)), vec![fwd(0xA000)]);
    // Context-cache invalidation does not flush the IOTLB: an old leaf of DID 5 stays.
    e.process(rd(SID, 0x4000));
    e.map(0x4000, 0xB000, 1, R | W);
    e.m.invalidate_context_cache(1, DomainId(0), SID, 0);
    assert_eq!(e.eval(rd(SID, 0x4000)), vec![fwd(0xB000), fwd(0xA000)]);
}

#[test]
fn stale_root_after_srtp_until_global_cc() {
    let mut e = Env::new();
    e.map(0x4000, 0xA000, 1, R | W);
    e.process(rd(SID, 0x4000));
    // A new, empty root table latched by SRTP: ESRTPS=0, so old root/context stay usable.
    e.wr(0x020, 8, 0x0090_0000);
    e.wr(0x018, 4, (1 << 31) | (1 << 30));
    assert_eq!(
        e.eval(rd(SID, 0x4000)),
        vec![ur(FaultReason::RootEntryNotPresent), fwd(0xA000)]
    );
    // Another device on the old bus 0 (never observed) can use the stale root entry: its
    // context (read from the old table) is not present there -> 2h either way.
    let other = Rid(0x0030);
    assert_eq!(
        e.eval(rd(other, 0x4000)),
        vec![
            ur(FaultReason::RootEntryNotPresent),
            ur(FaultReason::ContextEntryNotPresent)
        ]
    );
    e.m.invalidate_context_cache(1, DomainId(0), SID, 0);
    e.m.invalidate_iotlb(1, DomainId(0), 0, 0, false);
    assert_eq!(
        e.eval(rd(SID, 0x4000)),
        vec![ur(FaultReason::RootEntryNotPresent)]
    );
}

#[test]
fn faulting_lookups_are_not_observed() {
    let mut e = Env::new();
    // A read fault (not present) then a mapping: only the fresh outcome.
    e.process(rd(SID, 0x4000));
    e.map(0x4000, 0xA000, 1, R | W);
    assert_eq!(e.eval(rd(SID, 0x4000)), vec![fwd(0xA000)]);
    // A write to a R-only page faults; the leaf was never used for a successful translation by
    // that request, but the earlier read made it observed with W=0: a stale hit faults 5h too.
    e.map(0x5000, 0xB000, 1, R);
    e.process(rd(SID, 0x5000));
    e.map(0x5000, 0xB000, 1, R | W);
    assert_eq!(
        e.eval(wr(SID, 0x5000)),
        vec![fwd(0xB000), drop_(FaultReason::WriteNotPermitted)]
    );
    // commit of the stale fault records it.
    e.m.commit(
        &mut e.mem,
        &wr(SID, 0x5000),
        &drop_(FaultReason::WriteNotPermitted),
    )
    .unwrap();
    // (FRCD[0] holds the 6h of the first read.)
    assert_eq!(e.frcd(1).1, 0x8000_0005_0000_0008);
}

#[test]
fn allowed_set_type() {
    let mut a = Allowed::one(fwd(1));
    assert!(a.is_single() && !a.is_empty());
    assert!(!a.insert(fwd(1)));
    for i in 2..8 {
        assert!(a.insert(fwd(i)));
    }
    assert_eq!(a.len(), 7);
    assert_eq!(*a.fresh(), fwd(1));
    assert!(a.contains(&fwd(7)) && !a.contains(&fwd(8)));
    assert_eq!(a.to_vec(), (1..8).map(fwd).collect::<Vec<_>>());
}

#[test]
fn model_platform_implements_platform() {
    let mut p = ModelPlatform::default();
    assert_eq!(p.read64(0x008).unwrap(), 0x0812_078C_2038_0E06);
    p.write64(0x020, 0x1000).unwrap();
    p.mem().write_u32(Hpa(0x40), 7).unwrap();
    assert_eq!(p.read64(0x020).unwrap(), 0x1000);
    assert_eq!(p.mem.read_u32(Hpa(0x40)).unwrap(), 7);
}

/// Random table garbage, random requests, random invalidations: never a panic; the evaluated
/// set always holds the fresh outcome first; any member commits; `process` gives the fresh
/// outcome; right after a global context-cache + IOTLB flush every set is a singleton.
#[test]
fn random_tables_and_requests_keep_the_allowed_set_invariants() {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    let mut e = Env::new();
    for p in 0..16u64 {
        e.map(p << 12, 0x0100_0000 + (p << 12), 1, R | W);
    }
    e.map(0x0020_0000, 0x0040_0000, 2, R | W);
    let sids = [SID, Rid(0x0009), Rid(0x0010), Rid(0x0100)];
    e.set_ctx(Rid(0x0009), SLPT, 2, DID, 0, false);
    e.set_ctx(Rid(0x0010), SLPT, 1, 7, 0, true);
    // Table pages that get scribbled on: root, context, SL tables.
    let pages: Vec<u64> = [RTA, CTP, SLPT]
        .into_iter()
        .chain((0..4).map(|i| 0x0030_0000 + i * 0x1000))
        .collect();
    let mut flushed = false;
    for i in 0..4000 {
        match rng.gen_range(0..10) {
            0 => {
                let page = pages[rng.gen_range(0..pages.len())];
                let slot = page + 8 * rng.gen_range(0..8u64);
                let v: u64 = match rng.gen_range(0..3) {
                    0 => rng.gen(),
                    1 => (rng.gen_range(0..0x40u64) << 12) | rng.gen_range(0..4),
                    _ => (0x0030_0000 + (rng.gen_range(0..4u64) << 12)) | 3,
                };
                e.mem.write_u64(Hpa(slot), v).unwrap();
                flushed = false;
            }
            1 => {
                let am = rng.gen_range(0..20u8);
                e.m.invalidate_iotlb(
                    rng.gen_range(1..=3),
                    DomainId(DID),
                    rng.gen_range(0..0x40u64) << 12,
                    am,
                    rng.gen(),
                );
                flushed = false;
            }
            2 if i % 7 == 0 => {
                e.wr(0x028, 8, 0xA000_0000_0000_0000); // global CC
                e.wr(0x108, 8, 0x9000_0000_0000_0000); // global IOTLB
                flushed = true;
            }
            _ => {}
        }
        let sid = sids[rng.gen_range(0..sids.len())];
        let addr = match rng.gen_range(0..4) {
            0 => rng.gen::<u64>() & !3,
            1 => 0x0020_0000 + (rng.gen_range(0..0x200u64) << 12),
            _ => rng.gen_range(0..0x20u64) << 12,
        };
        let (fmt, ty) = [(0b000, 0), (0b010, 0), (0b010, 0b01100)][rng.gen_range(0..3)];
        let r = req(fmt, ty, sid, addr, [0, 0, 0, 2][rng.gen_range(0..4)]);
        let allowed = e.m.evaluate(&e.mem, &r);
        if flushed {
            assert!(allowed.is_single(), "after a global flush: {allowed:?}");
        }
        let mut m2 = e.m.clone();
        let mut mem2 = e.mem.clone();
        assert_eq!(m2.process(&mut mem2, &r), *allowed.fresh());
        let pick = allowed.to_vec()[rng.gen_range(0..allowed.len())];
        e.m.commit(&mut e.mem, &r, &pick).unwrap();
        if rng.gen_range(0..50) == 0 {
            // Keep the fault log from filling up (PFO would hide nothing we check here).
            for n in 0..8u16 {
                e.wr(0x20C + 16 * n, 4, 0x8000_0000);
            }
            e.wr(0x034, 4, 0x7F);
        }
    }
}

#[test]
fn request_helpers_match_the_c7_wire_format() {
    // Spec C7: MSI from 03:00.0 to 0xFEE2_4698 with data 2: DW0 40 00 00 01, DW1 03 00 00 0F,
    // DW2 FE E2 46 98, payload 02 00 00 00.
    let m = Request::msi(&crate::tlp::msi_write(Rid(0x0300), 0xFEE2_4698, 2));
    assert_eq!(m.hdr[..3], [0x4000_0001, 0x0300_000F, 0xFEE2_4698]);
    assert_eq!(m.data0, 2);
    // A 4-byte MRd built with the tlp builder translates like the hand-assembled header.
    let mut e = Env::new();
    e.map(0x4000, 0xA000, 1, R | W);
    let h = crate::tlp::mem_read(SID, 0, 0x4008, 4).unwrap();
    assert_eq!(
        Request::from_header(&h, 0).hdr[..3],
        rd(SID, 0x4008).hdr[..3]
    );
    assert_eq!(e.process(Request::from_header(&h, 0)), fwd(0xA008));
}

#[test]
fn a_walk_straddling_a_covering_invalidation_leaves_no_observation() {
    // The walk read the old leaf (A); software then remapped to B and invalidated the page
    // before the request committed. The request's own outcome (A) is allowed, but its fill must
    // not survive the invalidation: afterwards only B.
    let mut e = Env::new();
    e.map(0x4000, 0xA000, 1, R | W);
    let req = rd(SID, 0x4010);
    let old = e.mem.clone();
    e.map(0x4000, 0xB000, 1, R | W);
    let mut old_mem = old.clone();
    let psi = Invalidation::Iotlb {
        g: 3,
        did: DomainId(DID),
        addr: 0x4000,
        am: 0,
        ih: false,
    };
    e.m.commit_variant_after(&mut old_mem, &req, &fwd(0xA010), 0, None, &[psi])
        .unwrap();
    assert_eq!(e.eval(req), vec![fwd(0xB010)]);
    // The same commit with an invalidation of another page keeps the stale A.
    let other = Invalidation::Iotlb {
        g: 3,
        did: DomainId(DID),
        addr: 0x8000,
        am: 0,
        ih: false,
    };
    let mut old_mem = old.clone();
    e.m.commit_variant_after(&mut old_mem, &req, &fwd(0xA010), 0, None, &[other])
        .unwrap();
    assert_eq!(e.eval(req), vec![fwd(0xB010), fwd(0xA010)]);
}

#[test]
fn a_pre_invalidation_snapshot_explains_a_stale_hit_and_its_fill_does_not_come_back() {
    let mut e = Env::new();
    e.m.log_invalidations(true);
    e.map(0x4000, 0xA000, 1, R | W);
    let req = rd(SID, 0x4010);
    assert_eq!(e.process(req), fwd(0xA010));
    e.map(0x4000, 0xB000, 1, R | W);
    let mut snap = e.m.cache_snapshot();
    e.m.invalidate_iotlb(3, DomainId(DID), 0x4000, 0, false);
    let later = e.m.take_invalidations();
    assert_eq!(
        later,
        vec![Invalidation::Iotlb {
            g: 3,
            did: DomainId(DID),
            addr: 0x4000,
            am: 0,
            ih: false
        }]
    );
    // After the invalidation only B; through the snapshot A is still allowed.
    assert_eq!(e.eval(req), vec![fwd(0xB010)]);
    assert_eq!(
        e.m.evaluate_via(&e.mem, &req, &mut snap).to_vec(),
        vec![fwd(0xB010), fwd(0xA010)]
    );
    assert!(e.m.commit(&mut e.mem, &req, &fwd(0xA010)).is_err());
    assert_eq!(
        e.m.commit_variants_via(&e.mem, &req, &fwd(0xA010), Some(&mut snap)),
        1
    );
    e.m.commit_variant_after(&mut e.mem, &req, &fwd(0xA010), 0, Some(&mut snap), &later)
        .unwrap();
    // The snapshot is unchanged and the model's cache did not get A back.
    assert_eq!(e.eval(req), vec![fwd(0xB010)]);
    assert_eq!(
        e.m.evaluate_via(&e.mem, &req, &mut snap).to_vec(),
        vec![fwd(0xB010), fwd(0xA010)]
    );
}

/// A scoreboard joining two worlds keeps what either one's last commit cached before the
/// invalidations that followed it filtered it out: the unit may serve requests from it until it
/// shows those invalidations complete.
#[test]
fn absorbing_a_world_keeps_its_unfiltered_fills() {
    let mut a = Model::new(ModelConfig::default());
    let mut b = a.clone();
    let mut snap = CacheSnapshot::default();
    ir::observe_iec(&mut snap.iec, 7, 0x0000_0000_0002_0310_0000_0000_4040_0001);
    b.unfiltered = Some(Box::new(snap));
    a.absorb_cache(&b);
    let got = a.take_unfiltered_fills().expect("the other world's fills");
    assert_eq!(
        got.iec.get(&7),
        Some(&vec![0x0000_0000_0002_0310_0000_0000_4040_0001u128])
    );
    // And the absorbing world's own fills stay beside them.
    let mut own = CacheSnapshot::default();
    ir::observe_iec(&mut own.iec, 3, 0x11);
    a.unfiltered = Some(Box::new(own));
    a.absorb_cache(&b);
    let got = a.take_unfiltered_fills().expect("both");
    assert_eq!(got.iec.keys().copied().collect::<Vec<_>>(), [3, 7]);
}
