//! Unit tests of interrupt remapping (spec B1-B9, decisions.md, D5 #8/#11/#12/#13/#18).
//!
//! Requests enter as raw TLP headers through [`Model::evaluate`] / [`Model::process`] /
//! [`Model::commit`]; IRTEs, PIDs and expected messages are hand-assembled hex from the spec
//! tables (B2, B4, B6, B8), never produced by the code under test.

use super::IrRequest;
use crate::mem::HostMemory;
use crate::model::{Model, ModelConfig, ModelError, Msi, Outcome, Request};
use crate::types::{Hpa, Rid};
use crate::vtd::fault::FaultReason;

const GCMD: u16 = 0x18;
const GSTS: u16 = 0x1C;
const FSTS: u16 = 0x34;
const IRTA: u16 = 0xB8;
const SIRTP: u64 = 1 << 24;
const IRE: u64 = 1 << 25;
const CFI: u64 = 1 << 23;
/// The interrupt-remapping table used by most tests.
const IRT: u64 = 0x0010_0000;
/// A requester: 03:00.0.
const RID: u16 = 0x0300;

/// An MWr (3DW, Fmt=010 Type=00000, Length=1) of one DW with first BE 0xF (spec C7:
/// 40 00 00 01 / RID<<16 | tag 00 | BEs 0F / address).
fn msi(rid: u16, addr: u32, data: u32) -> Request {
    Request {
        hdr: [0x4000_0001, (u32::from(rid) << 16) | 0x0F, addr, 0],
        data0: data,
    }
}

fn drop(reason: FaultReason) -> Outcome {
    Outcome::Drop {
        fault: Some(reason),
    }
}

fn irq(addr: u64, data: u32) -> Outcome {
    Outcome::Interrupt {
        msi: Msi { addr, data },
    }
}

/// A unit with IRTA = `irta` latched by SIRTP and IRE (plus `extra` GCMD bits) set.
fn unit(cfg: ModelConfig, irta: u64, extra: u64) -> (Model, HostMemory) {
    let mut m = Model::new(cfg);
    let mut mem = HostMemory::new();
    m.reg_write(&mut mem, IRTA, 8, irta).unwrap();
    m.reg_write(&mut mem, GCMD, 4, SIRTP).unwrap();
    m.reg_write(&mut mem, GCMD, 4, IRE | extra).unwrap();
    (m, mem)
}

/// Default identity, table at IRT with S=7 (256 entries), x2APIC mode (EIME=1).
fn x2apic() -> (Model, HostMemory) {
    unit(ModelConfig::default(), IRT | 1 << 11 | 7, 0)
}

/// Default identity, table at IRT with S=7, xAPIC mode (EIME=0), CFI=1.
fn xapic() -> (Model, HostMemory) {
    unit(ModelConfig::default(), IRT | 7, CFI)
}

fn set_irte(mem: &mut HostMemory, index: u64, qw0: u64, qw1: u64) {
    mem.write_u64(Hpa(IRT + 16 * index), qw0).unwrap();
    mem.write_u64(Hpa(IRT + 16 * index + 8), qw1).unwrap();
}

/// Remappable address for `handle` without SHV (B2): 0xFEE0_0000 | handle[14:0]<<5 | 1<<4 |
/// handle[15]<<2.
fn raddr(handle: u32) -> u32 {
    0xFEE0_0000 | ((handle & 0x7FFF) << 5) | 0x10 | ((handle >> 15) << 2)
}

/// FRCD[n] as (low qword, high qword).
fn frcd(m: &mut Model, mem: &mut HostMemory, n: u16) -> (u64, u64) {
    let lo = m.reg_read(mem, 0x200 + 16 * n, 8).unwrap();
    let hi = m.reg_read(mem, 0x208 + 16 * n, 8).unwrap();
    (lo, hi)
}

/// Expected FRCD high qword of a recorded IR fault: F=1, T=0, AT=0, FR, SID.
fn ir_frcd_hi(fr: u8, sid: u16) -> u64 {
    (1 << 63) | (u64::from(fr) << 32) | u64::from(sid)
}

fn fsts(m: &mut Model, mem: &mut HostMemory) -> u64 {
    m.reg_read(mem, FSTS, 4).unwrap()
}

/// IRTE "remapped, P=1, V=0x31, xAPIC destination 0x12 (bits 47:40), DLM=001, TM=1, RH=1, DM=1":
/// qw0 = DST 0x0000_1200 <<32 | V 0x31<<16 | DLM 1<<5 (0x20) | TM 0x10 | RH 0x08 | DM 0x04 | P.
const IRTE_XAPIC: u64 = 0x0000_1200_0031_003D;
/// Its message (B6): 0xFEE0_0000 | 0x12<<12 | RH<<3 | DM<<2; data 0x31 | 1<<8 | 1<<14 | 1<<15.
const IRTE_XAPIC_ADDR: u64 = 0xFEE1_200C;
const IRTE_XAPIC_DATA: u32 = 0xC131;

#[test]
fn irta_register_masks_reserved_bits_and_latches_on_sirtp() {
    let mut m = Model::new(ModelConfig::default());
    let mut mem = HostMemory::new();
    // Bits 10:4 reserved, base bits >= HAW (48) reserved.
    m.reg_write(&mut mem, IRTA, 8, 0xFFFF_1234_5678_9FFF)
        .unwrap();
    assert_eq!(
        m.reg_read(&mut mem, IRTA, 8).unwrap(),
        0x0000_1234_5678_980F
    );
    // Dword writes.
    m.reg_write(&mut mem, IRTA + 4, 4, 0x0000_00AB).unwrap();
    m.reg_write(&mut mem, IRTA, 4, 0x0020_0805).unwrap();
    assert_eq!(
        m.reg_read(&mut mem, IRTA, 8).unwrap(),
        0x0000_00AB_0020_0805
    );
    assert_eq!(m.reg_read(&mut mem, IRTA + 4, 4).unwrap(), 0xAB);
    // Nothing latched yet.
    assert_eq!(m.ir.latched.entries(), 2);
    m.reg_write(&mut mem, GCMD, 4, SIRTP).unwrap();
    assert_eq!(m.ir.latched.irta, Hpa(0x0000_00AB_0020_0000));
    assert!(m.ir.latched.eime);
    assert_eq!(m.ir.latched.entries(), 64);
    // A later write does not act until the next SIRTP, even with IRE=1 (decisions.md).
    m.reg_write(&mut mem, GCMD, 4, IRE).unwrap();
    m.reg_write(&mut mem, IRTA, 8, 0x0030_0001).unwrap();
    assert_eq!(m.ir.latched.irta, Hpa(0x0000_00AB_0020_0000));
    assert_ne!(m.reg_read(&mut mem, GSTS, 4).unwrap() & (1 << 24), 0);
}

#[test]
fn irta_eime_not_writable_without_ecap_eim_and_irta_reads_0_without_ir() {
    let cfg = {
        let mut c = ModelConfig::default();
        c.ecap.eim = false;
        c
    };
    let mut m = Model::new(cfg);
    let mut mem = HostMemory::new();
    m.reg_write(&mut mem, IRTA, 8, 0x5000 | 1 << 11 | 3)
        .unwrap();
    assert_eq!(m.reg_read(&mut mem, IRTA, 8).unwrap(), 0x5003);

    let cfg = {
        let mut c = ModelConfig::default();
        c.ecap.ir = false;
        c
    };
    let mut m = Model::new(cfg);
    m.reg_write(&mut mem, IRTA, 8, 0x5003).unwrap();
    assert_eq!(m.reg_read(&mut mem, IRTA, 8).unwrap(), 0);
    // Interrupt-window MWr delivered unchanged.
    let out = m.process(&mut mem, &msi(RID, raddr(5), 0));
    assert_eq!(out, irq(u64::from(raddr(5)), 0));
}

#[test]
fn ires_0_delivers_unchanged() {
    let mut m = Model::new(ModelConfig::default());
    let mut mem = HostMemory::new();
    let r = msi(RID, 0xFEE0_1000, 0x4031);
    assert_eq!(m.process(&mut mem, &r), irq(0xFEE0_1000, 0x4031));
    // A remappable-format message too, even with bad data[31:16].
    let r = msi(RID, raddr(3), 0xFFFF_0000);
    assert_eq!(
        m.process(&mut mem, &r),
        irq(u64::from(raddr(3)), 0xFFFF_0000)
    );
    assert_eq!(m.counters.irq_remapped, 0);
    assert_eq!(fsts(&mut m, &mut mem), 0);
}

#[test]
fn not_one_full_dword_is_20h_whatever_ires_says() {
    for ires in [false, true] {
        let (mut m, mut mem) = x2apic();
        if !ires {
            m.reg_write(&mut mem, GCMD, 4, 0).unwrap();
        }
        set_irte(&mut mem, 1, IRTE_XAPIC, 0);
        // Two DWs (Length=2, first/last BE 0xF).
        let r2 = Request {
            hdr: [0x4000_0002, (u32::from(RID) << 16) | 0xFF, raddr(1), 0],
            data0: 0,
        };
        assert_eq!(
            m.process(&mut mem, &r2),
            drop(FaultReason::IrRequestReserved)
        );
        // One DW with first BE 0x7.
        let r1 = Request {
            hdr: [0x4000_0001, (u32::from(RID) << 16) | 0x07, raddr(1), 0],
            data0: 0,
        };
        assert_eq!(
            m.process(&mut mem, &r1),
            drop(FaultReason::IrRequestReserved)
        );
        // Recorded once (compression: same SID and FR), FI index 0, T=0, AT=0.
        assert_eq!(frcd(&mut m, &mut mem, 0), (0, ir_frcd_hi(0x20, RID)));
        assert_eq!(frcd(&mut m, &mut mem, 1).1 >> 63, 0);
    }
}

#[test]
fn compatibility_format_blocked_by_eime_or_cfi_0() {
    let compat = msi(RID, 0xFEE0_5000, 0x0041);
    // EIME=0, CFI=1: delivered unchanged.
    let (mut m, mut mem) = xapic();
    assert_eq!(m.process(&mut mem, &compat), irq(0xFEE0_5000, 0x41));
    assert_eq!(fsts(&mut m, &mut mem), 0);
    // EIME=1 (CFI=1): 25h, FI 0.
    let (mut m, mut mem) = unit(ModelConfig::default(), IRT | 1 << 11 | 7, CFI);
    assert_eq!(
        m.process(&mut mem, &compat),
        drop(FaultReason::CompatInterruptBlocked)
    );
    assert_eq!(frcd(&mut m, &mut mem, 0), (0, ir_frcd_hi(0x25, RID)));
    // EIME=0, CFI=0: 25h.
    let (mut m, mut mem) = unit(ModelConfig::default(), IRT | 7, 0);
    assert_eq!(
        m.process(&mut mem, &compat),
        drop(FaultReason::CompatInterruptBlocked)
    );
    assert_eq!(frcd(&mut m, &mut mem, 0), (0, ir_frcd_hi(0x25, RID)));
}

#[test]
fn remappable_reserved_fields_are_20h_before_the_index_check() {
    let (mut m, mut mem) = x2apic();
    set_irte(&mut mem, 1, IRTE_XAPIC, 0);
    // data[31:16] != 0 with an index far beyond the table (0x7FFF >= 256): still 20h, FI 0.
    let r = msi(RID, raddr(0x7FFF), 0x0001_0000);
    assert_eq!(
        m.process(&mut mem, &r),
        drop(FaultReason::IrRequestReserved)
    );
    assert_eq!(frcd(&mut m, &mut mem, 0), (0, ir_frcd_hi(0x20, RID)));
    // addr[63:32] != 0 (not reachable through the window classification; checked anyway).
    let req = IrRequest {
        rid: Rid(RID),
        addr: 0x1_0000_0000 | u64::from(raddr(1)),
        len_dw: 1,
        first_be: 0xF,
        data: 0,
    };
    assert_eq!(
        *m.ir_evaluate_req(&mem, &req).fresh(),
        drop(FaultReason::IrRequestReserved)
    );
}

#[test]
fn b2_worked_example_index_0x1236() {
    // Table of 2^16 entries (S=15); address 0xFEE2_4698 (handle 0x1234, SHV=1), data 2.
    let (mut m, mut mem) = unit(ModelConfig::default(), IRT | 1 << 11 | 15, 0);
    // x2APIC IRTE at 0x1236: P, V=0x40, DST 0x0000_0105, fixed, edge:
    // qw0 = 0x0000_0105_0040_0001 -> addr 0xFEE0_0000 | 0x05<<12 | (0x100 << 32), data 0x4040.
    set_irte(&mut mem, 0x1236, 0x0000_0105_0040_0001, 0);
    let out = m.process(&mut mem, &msi(RID, 0xFEE2_4698, 2));
    assert_eq!(out, irq(0x0000_0100_FEE0_5000, 0x4040));
    assert_eq!(m.counters.irq_remapped, 1);
    assert_eq!(m.reg_read(&mut mem, 0x330, 8).unwrap(), 1);
}

#[test]
fn remapped_output_xapic_and_x2apic() {
    // xAPIC: destination IRTE[47:40].
    let (mut m, mut mem) = xapic();
    set_irte(&mut mem, 9, IRTE_XAPIC, 0);
    // The address's bits 3:2 (SHV=0, handle[15]=0) and data[15:0] do not leak into the output.
    assert_eq!(
        m.process(&mut mem, &msi(RID, raddr(9), 0x0000_FFFF)),
        irq(IRTE_XAPIC_ADDR, IRTE_XAPIC_DATA)
    );
    // x2APIC: all 32 DST bits, addr_hi = dest & 0xFFFF_FF00 (B6).
    // qw0 = DST 0x1234_5678 | V 0x31 | DLM 000 | TM 0 | RH 0 | DM 0 | P.
    let (mut m, mut mem) = x2apic();
    set_irte(&mut mem, 9, 0x1234_5678_0031_0001, 0);
    assert_eq!(
        m.process(&mut mem, &msi(RID, raddr(9), 0)),
        irq(0x1234_5600_FEE7_8000, 0x4031)
    );
    // The same IRTE in xAPIC mode has reserved DST bits (39:32 = 0x78, 63:48 = 0x1234): 24h.
    let (mut m, mut mem) = xapic();
    set_irte(&mut mem, 9, 0x1234_5678_0031_0001, 0);
    assert_eq!(
        m.process(&mut mem, &msi(RID, raddr(9), 0)),
        drop(FaultReason::IrteReserved)
    );
    assert_eq!(frcd(&mut m, &mut mem, 0), (9 << 48, ir_frcd_hi(0x24, RID)));
}

#[test]
fn index_0_max_and_max_plus_1() {
    // S=3: 16 entries, indices 0..=15.
    let (mut m, mut mem) = unit(ModelConfig::default(), IRT | 3, CFI);
    set_irte(&mut mem, 0, IRTE_XAPIC, 0);
    set_irte(&mut mem, 15, IRTE_XAPIC, 0);
    set_irte(&mut mem, 16, IRTE_XAPIC, 0);
    let ok = irq(IRTE_XAPIC_ADDR, IRTE_XAPIC_DATA);
    assert_eq!(m.process(&mut mem, &msi(RID, raddr(0), 0)), ok);
    assert_eq!(m.process(&mut mem, &msi(RID, raddr(15), 0)), ok);
    assert_eq!(
        m.process(&mut mem, &msi(RID, raddr(16), 0)),
        drop(FaultReason::IrIndexOutOfRange)
    );
    assert_eq!(frcd(&mut m, &mut mem, 0), (16 << 48, ir_frcd_hi(0x21, RID)));
    // handle[15] (addr bit 2) alone: index 0x8000.
    assert_eq!(raddr(0x8000), 0xFEE0_0014);
    assert_eq!(
        m.process(&mut mem, &msi(0x0400, raddr(0x8000), 0)),
        drop(FaultReason::IrIndexOutOfRange)
    );
    assert_eq!(
        frcd(&mut m, &mut mem, 1),
        (0x8000 << 48, ir_frcd_hi(0x21, 0x0400))
    );
    // Maximum table (S=15): index 0xFFFF is inside.
    let (mut m, mut mem) = unit(ModelConfig::default(), IRT | 15, CFI);
    set_irte(&mut mem, 0xFFFF, IRTE_XAPIC, 0);
    assert_eq!(m.process(&mut mem, &msi(RID, raddr(0xFFFF), 0)), ok);
}

#[test]
fn shv_subhandle_adds_and_wraps_mod_2_16() {
    let (mut m, mut mem) = unit(ModelConfig::default(), IRT | 15, CFI);
    set_irte(&mut mem, 1, IRTE_XAPIC, 0);
    // handle 0xFFFF, SHV=1 (addr bit 3), subhandle 2: index (0xFFFF + 2) mod 2^16 = 1.
    let a = raddr(0xFFFF) | 0x8;
    assert_eq!(a, 0xFEEF_FFFC);
    let ok = irq(IRTE_XAPIC_ADDR, IRTE_XAPIC_DATA);
    assert_eq!(m.process(&mut mem, &msi(RID, a, 0x0000_0002)), ok);
    // SHV=0: the subhandle is ignored (index 0xFFFF is not present -> 22h with FI 0xFFFF).
    assert_eq!(
        m.process(&mut mem, &msi(RID, raddr(0xFFFF), 2)),
        drop(FaultReason::IrteNotPresent)
    );
    assert_eq!(
        frcd(&mut m, &mut mem, 0),
        (0xFFFF << 48, ir_frcd_hi(0x22, RID))
    );
}

#[test]
fn irte_read_error_is_23h() {
    let (mut m, mut mem) = x2apic();
    mem.inject_error(Hpa(IRT + 16 * 4 + 8), 1);
    assert_eq!(
        m.process(&mut mem, &msi(RID, raddr(4), 0)),
        drop(FaultReason::IrteReadError)
    );
    assert_eq!(frcd(&mut m, &mut mem, 0), (4 << 48, ir_frcd_hi(0x23, RID)));
}

#[test]
fn not_present_22h_qualified_by_fpd_even_with_p_0() {
    let (mut m, mut mem) = x2apic();
    set_irte(&mut mem, 5, 0x0000_0001_0031_0000, 0); // P=0, FPD=0
    set_irte(&mut mem, 6, 0x0000_0001_0031_0002, 0); // P=0, FPD=1
    assert_eq!(
        m.process(&mut mem, &msi(0x0601, raddr(6), 0)),
        drop(FaultReason::IrteNotPresent)
    );
    assert_eq!(fsts(&mut m, &mut mem), 0, "FPD=1 suppresses the record");
    assert_eq!(
        m.process(&mut mem, &msi(0x0601, raddr(5), 0)),
        drop(FaultReason::IrteNotPresent)
    );
    assert_eq!(
        frcd(&mut m, &mut mem, 0),
        (5 << 48, ir_frcd_hi(0x22, 0x0601))
    );
    assert_eq!(fsts(&mut m, &mut mem), 0x2, "PPF, FRI 0");
}

#[test]
fn reserved_irte_bits_24h_and_fpd() {
    let (mut m, mut mem) = x2apic();
    // Bit 12 (remapped 14:12 reserved), FPD=0 / FPD=1; bit 84 (127:84 reserved).
    set_irte(&mut mem, 7, IRTE_XAPIC | 1 << 12, 0);
    set_irte(&mut mem, 8, IRTE_XAPIC | 1 << 12 | 2, 0);
    set_irte(&mut mem, 10, IRTE_XAPIC, 1 << 20);
    assert_eq!(
        m.process(&mut mem, &msi(RID, raddr(8), 0)),
        drop(FaultReason::IrteReserved)
    );
    assert_eq!(fsts(&mut m, &mut mem), 0);
    assert_eq!(
        m.process(&mut mem, &msi(RID, raddr(7), 0)),
        drop(FaultReason::IrteReserved)
    );
    assert_eq!(frcd(&mut m, &mut mem, 0), (7 << 48, ir_frcd_hi(0x24, RID)));
    assert_eq!(
        m.process(&mut mem, &msi(0x0500, raddr(10), 0)),
        drop(FaultReason::IrteReserved)
    );
    assert_eq!(
        frcd(&mut m, &mut mem, 1),
        (10 << 48, ir_frcd_hi(0x24, 0x0500))
    );
}

#[test]
fn posted_irte_without_cap_pi_is_24h() {
    let cfg = {
        let mut c = ModelConfig::default();
        c.cap.pi = false;
        c
    };
    let (mut m, mut mem) = unit(cfg, IRT | 1 << 11 | 7, 0);
    // Posted IRTE: P, IM (bit 15), V=0x45, PDA 0x2345_6780 (qw0[63:38] = PDA[31:6]).
    set_irte(&mut mem, 3, 0x2345_6780_0045_8001, 0);
    assert_eq!(
        m.process(&mut mem, &msi(RID, raddr(3), 0)),
        drop(FaultReason::IrteReserved)
    );
    assert_eq!(frcd(&mut m, &mut mem, 0), (3 << 48, ir_frcd_hi(0x24, RID)));
}

/// qw1 of an IRTE with SID, SQ (81:80) and SVT (83:82): SID | SQ<<16 | SVT<<18.
fn sid_qw1(sid: u16, sq: u64, svt: u64) -> u64 {
    u64::from(sid) | sq << 16 | svt << 18
}

#[test]
fn every_svt_sq_combination() {
    let sid = 0x1A2D; // bus 0x1A, dev 5, fn 5 (0b101)
                      // (svt, sq, requester, passes)
    let cases: &[(u64, u64, u16, bool)] = &[
        // SVT=00: no check, any SQ.
        (0, 0, 0xFFFF, true),
        (0, 3, 0x0001, true),
        // SVT=01, SQ=00: all 16 bits.
        (1, 0, 0x1A2D, true),
        (1, 0, 0x1A29, false), // bit 2 differs
        (1, 0, 0x1A2C, false), // bit 0 differs
        // SQ=01: ignore bit 2 (mask 0xFFFB).
        (1, 1, 0x1A29, true),
        (1, 1, 0x1A2F, false), // bit 1 differs
        // SQ=10: ignore bits 2:1 (mask 0xFFF9).
        (1, 2, 0x1A2B, true),
        (1, 2, 0x1A2C, false), // bit 0 differs
        // SQ=11: ignore bits 2:0 (mask 0xFFF8): any function of device 5.
        (1, 3, 0x1A28, true),
        (1, 3, 0x1A2F, true),
        (1, 3, 0x1A30, false), // device 6
        (1, 3, 0x1B2D, false), // other bus
        // SVT=11: always fails.
        (3, 0, 0x1A2D, false),
        (3, 3, 0x1A2D, false),
    ];
    for (n, &(svt, sq, rid, pass)) in cases.iter().enumerate() {
        let (mut m, mut mem) = xapic();
        set_irte(&mut mem, 2, IRTE_XAPIC, sid_qw1(sid, sq, svt));
        set_irte(&mut mem, 3, IRTE_XAPIC | 2, sid_qw1(sid, sq, svt)); // FPD=1
        if pass {
            let out = m.process(&mut mem, &msi(rid, raddr(2), 0));
            assert_eq!(out, irq(IRTE_XAPIC_ADDR, IRTE_XAPIC_DATA), "case {n}");
        } else {
            // 26h is qualified: with FPD=1 nothing is recorded.
            let out = m.process(&mut mem, &msi(rid, raddr(3), 0));
            assert_eq!(out, drop(FaultReason::IrSidCheckFailed), "case {n}");
            assert_eq!(fsts(&mut m, &mut mem), 0, "case {n}");
            let out = m.process(&mut mem, &msi(rid, raddr(2), 0));
            assert_eq!(out, drop(FaultReason::IrSidCheckFailed), "case {n}");
            assert_eq!(
                frcd(&mut m, &mut mem, 0),
                (2 << 48, ir_frcd_hi(0x26, rid)),
                "case {n}"
            );
        }
    }
}

#[test]
fn d5_08_svt_10_bus_range_start_high_byte_end_low_byte() {
    // SID = 0x0205: start bus 2, end bus 5 (decisions.md, Linux/VBox order).
    for (bus, pass) in [(1u16, false), (2, true), (3, true), (5, true), (6, false)] {
        let (mut m, mut mem) = xapic();
        set_irte(&mut mem, 2, IRTE_XAPIC, sid_qw1(0x0205, 0, 2));
        let rid = bus << 8 | 0x10;
        let out = m.process(&mut mem, &msi(rid, raddr(2), 0));
        if pass {
            assert_eq!(out, irq(IRTE_XAPIC_ADDR, IRTE_XAPIC_DATA), "bus {bus}");
        } else {
            assert_eq!(out, drop(FaultReason::IrSidCheckFailed), "bus {bus}");
        }
    }
}

#[test]
fn d5_12_foreign_requester_gets_26h_with_svt_01() {
    let (mut m, mut mem) = xapic();
    set_irte(&mut mem, 2, IRTE_XAPIC, sid_qw1(0x0300, 0, 1));
    assert_eq!(
        m.process(&mut mem, &msi(0x0300, raddr(2), 0)),
        irq(IRTE_XAPIC_ADDR, IRTE_XAPIC_DATA)
    );
    assert_eq!(
        m.process(&mut mem, &msi(0x0400, raddr(2), 0)),
        drop(FaultReason::IrSidCheckFailed)
    );
    assert_eq!(
        frcd(&mut m, &mut mem, 0),
        (2 << 48, ir_frcd_hi(0x26, 0x0400))
    );
}

#[test]
fn d5_18_rid_aliases_accepted_as_programmed() {
    // Device 00:10.6 (0x0086) whose MSIs carry the bridge alias 01:05.0 (0x0128).
    let (mut m, mut mem) = xapic();
    // Bus range 1..1 accepts the alias.
    set_irte(&mut mem, 2, IRTE_XAPIC, sid_qw1(0x0101, 0, 2));
    // SVT=01 with SQ=11 on SID 01:05.x accepts any function of the alias device.
    set_irte(&mut mem, 3, IRTE_XAPIC, sid_qw1(0x012B, 3, 1));
    let ok = irq(IRTE_XAPIC_ADDR, IRTE_XAPIC_DATA);
    assert_eq!(m.process(&mut mem, &msi(0x0128, raddr(2), 0)), ok);
    assert_eq!(m.process(&mut mem, &msi(0x0128, raddr(3), 0)), ok);
    // The real RID 00:10.6 is not what the OS programmed: 26h.
    assert_eq!(
        m.process(&mut mem, &msi(0x0086, raddr(2), 0)),
        drop(FaultReason::IrSidCheckFailed)
    );
}

/// Posted IRTE: P, URG (bit 14), IM (bit 15), V=0x45, PDA 0x1_2345_6780
/// (qw0[63:38] = PDA[31:6] -> qw0 high dword 0x2345_6780; qw1[63:32] = PDA[63:32] = 1).
fn posted_irte(urg: bool, fpd: bool) -> (u64, u64) {
    (
        0x2345_6780_0045_8001 | u64::from(urg) << 14 | u64::from(fpd) << 1,
        0x0000_0001_0000_0000,
    )
}
const PDA: u64 = 0x1_2345_6780;

/// PID control qword: ON bit 0, SN bit 1, NV [23:16], NDST [63:32].
fn pid_ctl(on: bool, sn: bool, nv: u8, ndst: u32) -> u64 {
    u64::from(on) | u64::from(sn) << 1 | u64::from(nv) << 16 | u64::from(ndst) << 32
}

#[test]
fn posted_on_sn_urg_truth_table() {
    // X = (ON==0) && (URG==1 || SN==0) (decisions.md).
    for on in [false, true] {
        for sn in [false, true] {
            for urg in [false, true] {
                let x = !on && (urg || !sn);
                let (mut m, mut mem) = xapic();
                let (q0, q1) = posted_irte(urg, false);
                set_irte(&mut mem, 4, q0, q1);
                // xAPIC NDST: APIC ID 0x07 in NDST[15:8]; NV 0xF2. PIR word 1 has bit 0 set already.
                mem.write_u64(Hpa(PDA + 8), 1).unwrap();
                mem.write_u64(Hpa(PDA + 32), pid_ctl(on, sn, 0xF2, 0x0000_0700))
                    .unwrap();
                mem.write_u64(Hpa(PDA + 40), 0xDEAD_BEEF).unwrap(); // software bits, preserved
                let out = m.process(&mut mem, &msi(RID, raddr(4), 0));
                // Notification: 0xFEE0_0000 | 0x07<<12, data NV | 1<<14.
                let notify = x.then_some(Msi {
                    addr: 0xFEE0_7000,
                    data: 0x40F2,
                });
                let case = format!("ON={on} SN={sn} URG={urg}");
                assert_eq!(
                    out,
                    Outcome::Posted {
                        pid: Hpa(PDA),
                        vector: 0x45,
                        notify
                    },
                    "{case}"
                );
                // Vector 0x45 = 69: PIR qword 1, bit 5.
                assert_eq!(mem.read_u64(Hpa(PDA + 8)).unwrap(), 0x21, "{case}");
                let ctl = pid_ctl(on || x, sn, 0xF2, 0x0000_0700);
                assert_eq!(mem.read_u64(Hpa(PDA + 32)).unwrap(), ctl, "{case}");
                assert_eq!(mem.read_u64(Hpa(PDA + 40)).unwrap(), 0xDEAD_BEEF, "{case}");
                assert_eq!(m.counters.irq_posted, 1, "{case}");
                assert_eq!(m.counters.irq_remapped, 0, "{case}");
            }
        }
    }
}

#[test]
fn posted_notification_x2apic_destination() {
    let (mut m, mut mem) = x2apic();
    let (q0, q1) = posted_irte(false, false);
    set_irte(&mut mem, 4, q0, q1);
    mem.write_u64(Hpa(PDA + 32), pid_ctl(false, false, 0xF2, 0x0001_0203))
        .unwrap();
    let out = m.process(&mut mem, &msi(RID, raddr(4), 0));
    // dest 0x0001_0203: addr 0xFEE0_0000 | 0x03<<12 | (0x0001_0200 << 32).
    let notify = Some(Msi {
        addr: 0x0001_0200_FEE0_3000,
        data: 0x40F2,
    });
    assert_eq!(
        out,
        Outcome::Posted {
            pid: Hpa(PDA),
            vector: 0x45,
            notify
        }
    );
    assert_eq!(m.reg_read(&mut mem, 0x338, 8).unwrap(), 1);
    // A second request: ON is now set, so no notification; PIR unchanged.
    let out = m.process(&mut mem, &msi(RID, raddr(4), 0));
    assert_eq!(
        out,
        Outcome::Posted {
            pid: Hpa(PDA),
            vector: 0x45,
            notify: None
        }
    );
    assert_eq!(m.counters.irq_posted, 2);
}

#[test]
fn pid_read_error_27h_and_reserved_28h() {
    let (mut m, mut mem) = x2apic();
    let (q0, q1) = posted_irte(false, false);
    set_irte(&mut mem, 4, q0, q1);
    let (q0f, q1f) = posted_irte(false, true);
    set_irte(&mut mem, 5, q0f, q1f);
    mem.inject_error(Hpa(PDA + 60), 4);
    assert_eq!(
        m.process(&mut mem, &msi(RID, raddr(5), 0)),
        drop(FaultReason::PidReadError)
    );
    assert_eq!(fsts(&mut m, &mut mem), 0, "27h qualified: FPD=1 suppresses");
    assert_eq!(
        m.process(&mut mem, &msi(RID, raddr(4), 0)),
        drop(FaultReason::PidReadError)
    );
    assert_eq!(frcd(&mut m, &mut mem, 0), (4 << 48, ir_frcd_hi(0x27, RID)));
    mem.clear_errors();
    // Reserved control bits 15:2 (bit 2) and 31:24 (bit 24).
    for bad in [1u64 << 2, 1 << 24] {
        mem.write_u64(Hpa(PDA + 32), pid_ctl(false, false, 0xF2, 7) | bad)
            .unwrap();
        assert_eq!(
            m.process(&mut mem, &msi(0x0700, raddr(4), 0)),
            drop(FaultReason::PidReserved)
        );
        // Nothing posted.
        assert_eq!(mem.read_u64(Hpa(PDA + 8)).unwrap(), 0);
    }
    assert_eq!(
        frcd(&mut m, &mut mem, 1),
        (4 << 48, ir_frcd_hi(0x28, 0x0700))
    );
    assert_eq!(m.counters.irq_posted, 0);
}

#[test]
fn d5_11_stale_irte_until_index_selective_iec_covering_it() {
    let (mut m, mut mem) = xapic();
    set_irte(&mut mem, 6, IRTE_XAPIC, 0);
    let r = msi(RID, raddr(6), 0);
    let old = irq(IRTE_XAPIC_ADDR, IRTE_XAPIC_DATA);
    assert_eq!(m.process(&mut mem, &r), old);
    assert!(m.evaluate(&mem, &r).is_single());
    // Software clears P without invalidating: old or new allowed, fresh first.
    set_irte(&mut mem, 6, IRTE_XAPIC & !1, 0);
    let a = m.evaluate(&mem, &r);
    assert_eq!(a.to_vec(), vec![drop(FaultReason::IrteNotPresent), old]);
    // The DUT may use the cached entry: commit accepted, nothing recorded.
    m.commit(&mut mem, &r, &old).unwrap();
    assert_eq!(fsts(&mut m, &mut mem), 0);
    // An IEC invalidation that does not cover index 6 (IM=1 from 4: 4..=5) keeps the window.
    m.ir.invalidate_iec(false, 1, 4);
    assert_eq!(m.evaluate(&mem, &r).len(), 2);
    // Index-selective, IM=2 from IIDX 5 -> aligned down to 4..=7: covers 6.
    m.ir.invalidate_iec(false, 2, 5);
    assert_eq!(
        m.evaluate(&mem, &r).to_vec(),
        vec![drop(FaultReason::IrteNotPresent)]
    );
    // The old outcome is no longer accepted.
    assert!(matches!(
        m.commit(&mut mem, &r, &old),
        Err(ModelError::NotAllowed { .. })
    ));
}

#[test]
fn stale_window_commit_of_fresh_records_fault_and_keeps_observation() {
    let (mut m, mut mem) = xapic();
    set_irte(&mut mem, 6, IRTE_XAPIC, 0);
    let r = msi(RID, raddr(6), 0);
    m.process(&mut mem, &r);
    set_irte(&mut mem, 6, IRTE_XAPIC & !1, 0);
    // The DUT re-fetched: 22h recorded with the fresh IRTE's FPD (0).
    m.commit(&mut mem, &r, &drop(FaultReason::IrteNotPresent))
        .unwrap();
    assert_eq!(frcd(&mut m, &mut mem, 0), (6 << 48, ir_frcd_hi(0x22, RID)));
    // Committing the fresh outcome does not drop the observation (only an IEC invalidation
    // does): the set still has both.
    assert_eq!(m.evaluate(&mem, &r).len(), 2);
}

#[test]
fn faulting_irte_is_not_observed() {
    let (mut m, mut mem) = xapic();
    set_irte(&mut mem, 6, IRTE_XAPIC & !1, 0);
    let r = msi(RID, raddr(6), 0);
    assert_eq!(m.process(&mut mem, &r), drop(FaultReason::IrteNotPresent));
    set_irte(&mut mem, 6, IRTE_XAPIC, 0);
    assert_eq!(
        m.evaluate(&mem, &r).to_vec(),
        vec![irq(IRTE_XAPIC_ADDR, IRTE_XAPIC_DATA)]
    );
}

#[test]
fn d5_13_sirtp_keeps_stale_iec_until_global_flush() {
    let (mut m, mut mem) = xapic();
    set_irte(&mut mem, 2, IRTE_XAPIC, 0);
    let r = msi(RID, raddr(2), 0);
    let old = irq(IRTE_XAPIC_ADDR, IRTE_XAPIC_DATA);
    assert_eq!(m.process(&mut mem, &r), old);
    // New table at 0x20_0000 with a different vector (0x55) at index 2.
    let new_irt = 0x0020_0000u64;
    mem.write_u64(Hpa(new_irt + 32), 0x0000_1200_0055_0001)
        .unwrap();
    m.reg_write(&mut mem, IRTA, 8, new_irt | 7).unwrap();
    m.reg_write(&mut mem, GCMD, 4, SIRTP | IRE | CFI).unwrap();
    let new = irq(0xFEE1_2000, 0x4055);
    assert_eq!(m.evaluate(&mem, &r).to_vec(), vec![new, old]);
    // A global IEC invalidation ends the window.
    m.ir.invalidate_iec(true, 0, 0);
    assert_eq!(m.evaluate(&mem, &r).to_vec(), vec![new]);
}

#[test]
fn commit_rejects_an_outcome_outside_the_set_and_changes_nothing() {
    let (mut m, mut mem) = xapic();
    set_irte(&mut mem, 2, IRTE_XAPIC, 0);
    let r = msi(RID, raddr(2), 0);
    let wrong = irq(0xFEE0_0000, 0x31);
    match m.commit(&mut mem, &r, &wrong) {
        Err(ModelError::NotAllowed { got, allowed }) => {
            assert_eq!(got, wrong);
            assert_eq!(allowed, vec![irq(IRTE_XAPIC_ADDR, IRTE_XAPIC_DATA)]);
        }
        other => panic!("expected NotAllowed, got {other:?}"),
    }
    assert_eq!(m.counters.irq_remapped, 0);
    assert!(m.ir.iec.is_empty());
}
