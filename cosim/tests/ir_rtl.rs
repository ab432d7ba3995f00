//! Directed tests of interrupt remapping through the RTL (spec B1-B9, decisions.md): every test
//! body is generic over the platform and runs twice, on the golden model alone (`<name>::model`,
//! which proves the hand-decoded expected values) and on the RTL in lockstep with the model
//! (`<name>::rtl`, default configuration; a few also `<name>::rtl_tiny`), where any disagreement
//! of an outcome, a register read or an event message fails the test at once.
//!
//! Covered:
//! - remapped delivery with the exact output message (B6): x2APIC (low and high destination
//!   bits, DM/RH/TM/DLM), xAPIC destination IRTE\[47:40\], subhandle indexing (SHV, handle\[15\],
//!   wrap mod 2^16), the source-id checks that pass (SVT 00, SVT 01 with each SQ mask, SVT 10
//!   bus range and its bounds);
//! - every IR fault 20h..28h (B3/B7): the drop, FRCD\[0\] (F=1, T=0, AT=0, FR, SID, FI\[63:48\] =
//!   index; A10), FSTS, the fault event; FPD suppression of the qualified 22h/24h/26h/27h/28h;
//!   the interrupt-window shape fault 20h (decisions.md);
//! - posted interrupts (B8): PIR and ON in memory, one notification (NV to NDST), none while ON=1,
//!   URG overriding SN, SN suppressing;
//! - the interrupt-entry cache (B9, decisions.md "Caching and the scoreboard"): a changed IRTE
//!   may be seen old or new until a queued IEC invalidation (index-selective or global) covers it;
//! - the remapped / posted counters (0x330 / 0x338), compatibility format with CFI in xAPIC mode,
//!   and IRES=0 pass-through;
//! - the scoreboard reading posted-interrupt descriptors back from the DUT's memory (RTL only).
//!
//! Expected values are literal hex decoded by hand from the spec (comments show the decoding).

use iommu_cosim::dut::DutConfig;
use iommu_cosim::hdr::Req;
use iommu_driver::model::{Msi, Outcome, Request};
use iommu_driver::os::IrSetup;
use iommu_driver::os::{
    BringUp, InvRequest, Iommu, OsConfig, PostedInterruptDescriptor, PostedIrte, RemappedIrte,
};
use iommu_driver::{Hpa, Rid};

#[macro_use]
mod unit_common;
use unit_common::{expect_drop, irq, model, remappable_addr, rtl, Unit};

// ---- the bench ------------------------------------------------------------------------------

/// The device under test: 03:02.0.
const DEV: Rid = Rid(0x0310);
/// Another requester, 04:03.0.
const OTHER: Rid = Rid(0x0418);
/// IRTA.S = 3: 16 entries.
const S: u8 = 3;
/// Fault-event message (FEADDR / FEDATA), unmasked.
const FE: Msi = Msi {
    addr: 0xFEE0_F000,
    data: 0xE1,
};

struct Bench<P: Unit> {
    os: Iommu<P>,
    tag: u8,
}

impl<P: Unit> Bench<P> {
    /// `up` (QI and IR as given), then fault events unmasked to FE.
    fn new(p: P, up: BringUp) -> Self {
        let mut os = Iommu::new(p, OsConfig::default()).expect("attach");
        os.bring_up(up).expect("bring-up");
        os.setup_fault_event(FE.addr, FE.data, false)
            .expect("fault event");
        Bench { os, tag: 0 }
    }

    /// x2APIC mode: S=3, EIME=1, CFI=0, translation off.
    fn x2apic(p: P) -> Self {
        Self::new(
            p,
            BringUp {
                qi: true,
                ir: Some(IrSetup {
                    s: S,
                    eime: true,
                    cfi: false,
                }),
                te: false,
            },
        )
    }

    /// xAPIC mode: S=3, EIME=0, CFI as given, translation on.
    fn xapic(p: P, cfi: bool) -> Self {
        Self::new(
            p,
            BringUp {
                qi: true,
                ir: Some(IrSetup {
                    s: S,
                    eime: false,
                    cfi,
                }),
                te: true,
            },
        )
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

    fn send(&mut self, r: Req, data: u32) -> Outcome {
        let req = self.request(r, data);
        self.p().send(req)
    }

    /// A one-DW MWr of `data` to `addr` (an MSI when `addr` is in the interrupt window).
    fn msi(&mut self, rid: Rid, addr: u64, data: u32) -> Outcome {
        self.send(Req::write(rid.0, 0, addr, 4), data)
    }

    /// A remappable-format MSI for `handle` (data = subhandle with SHV).
    fn remappable(&mut self, rid: Rid, handle: u16, sub: Option<u16>) -> Outcome {
        let data = sub.map_or(0, u32::from);
        self.msi(rid, remappable_addr(handle, sub.is_some()), data)
    }

    /// The model's allowed set for a remappable MSI (model platform only).
    fn allowed(&mut self, rid: Rid, handle: u16) -> Option<Vec<Outcome>> {
        let req = self.request(Req::write(rid.0, 0, remappable_addr(handle, false), 4), 0);
        self.p().allowed(&req)
    }

    fn irte(&mut self, index: u32, e: &RemappedIrte) {
        self.os.set_irte_remapped(index, e).expect("irte");
    }

    fn raw_irte(&mut self, index: u32, raw: u128) {
        self.os.write_irte_raw(index, raw).expect("raw irte");
    }

    fn reg64(&mut self, off: u16) -> u64 {
        self.p().read64(off).expect("register read")
    }

    fn fsts(&mut self) -> u32 {
        self.p().read32(0x034).expect("fsts")
    }

    fn frcd(&mut self, n: u16) -> u128 {
        self.os.read_frcd(n).expect("frcd")
    }

    /// A posted-interrupt descriptor NV=0xF2 with `ndst`, ON/SN as given, and a posted IRTE at
    /// `index` (vector 0x61, SVT=01 SID=DEV) pointing at it.
    fn posted(&mut self, index: u32, ndst: u32, on: bool, sn: bool, urg: bool, fpd: bool) -> Hpa {
        let pid = self.os.alloc_pid().expect("pid");
        let d = PostedInterruptDescriptor {
            on,
            sn,
            nv: 0xF2,
            ndst,
            ..Default::default()
        };
        self.os.write_pid(pid, &d).expect("write pid");
        let e = PostedIrte {
            present: true,
            fpd,
            urg,
            vector: 0x61,
            pda: pid,
            sid: DEV,
            svt: 1,
            ..Default::default()
        };
        self.os.set_irte_posted(index, &e).expect("posted irte");
        pid
    }

    /// qword `i` of the 64-byte descriptor at `pid`, read back from memory.
    fn pid_qword(&mut self, pid: Hpa, i: u64) -> u64 {
        self.os
            .mem()
            .read_u64(Hpa(pid.0 + 8 * i))
            .expect("pid read")
    }

    /// A dropped interrupt request with fault `code`, recorded in FRCD\[0\] as `frcd0` (the only
    /// record), FSTS = PPF with FRI 0, and one fault event.
    fn expect_recorded(&mut self, o: Outcome, code: u8, frcd0: u128) {
        expect_drop(&o, code);
        let r = self.frcd(0);
        assert_eq!(r, frcd0, "FRCD[0] = {r:#034x}, want {frcd0:#034x}");
        assert_eq!(self.frcd(1), 0, "only one record");
        // FSTS: PPF (bit 1), FRI (15:8) = 0.
        assert_eq!(self.fsts(), 0x0000_0002);
        self.p().expect_events(&[FE]);
    }

    /// A dropped interrupt request with fault `code` that FPD kept out of the records.
    fn expect_suppressed(&mut self, o: Outcome, code: u8) {
        expect_drop(&o, code);
        assert_eq!(self.frcd(0), 0, "no record (FPD)");
        assert_eq!(self.fsts(), 0, "FSTS clear");
        self.p().expect_events(&[]);
    }

    fn done(mut self) {
        self.p().finish();
    }
}

#[test]
fn remappable_address_matches_the_b2_worked_example() {
    // B2: handle 0x1234, SHV=1 -> 0xFEE2_4698.
    assert_eq!(remappable_addr(0x1234, true), 0xFEE2_4698);
    // handle 0xFFFF: 0x7FFF<<5 = 0xF_FFE0, | 0x10 | 0x08 | 1<<2 -> 0xFEEF_FFFC.
    assert_eq!(remappable_addr(0xFFFF, true), 0xFEEF_FFFC);
}

// ---- remapped delivery ---------------------------------------------------------------------

fn remapped_interrupt_delivered<P: Unit>(p: P) {
    let mut b = Bench::x2apic(p);
    b.irte(5, &RemappedIrte::new(0x30, 1).verify_requester(DEV));
    // B6: addr = 0xFEE<<20 | dest[7:0]<<12 (RH=DM=0), dest 1 -> 0xFEE0_1000, addr_hi = 0;
    // data = V 0x30 | DLM 0<<8 | 1<<14 | TM 0<<15 = 0x4030.
    assert_eq!(b.remappable(DEV, 5, None), irq(0xFEE0_1000, 0x4030));
    // The same entry again (an IEC hit in the RTL, if it caches).
    assert_eq!(b.remappable(DEV, 5, None), irq(0xFEE0_1000, 0x4030));
    assert_eq!(b.fsts(), 0);
    b.done();
}

fn x2apic_high_destination<P: Unit>(p: P) {
    let mut b = Bench::x2apic(p);
    let e = RemappedIrte {
        dm: true,
        rh: true,
        tm: true,
        dlm: 1,
        ..RemappedIrte::new(0x41, 0x0001_2345).verify_requester(DEV)
    };
    b.irte(2, &e);
    // addr = 0xFEE<<20 | 0x45<<12 | RH<<3 | DM<<2 = 0xFEE4_500C; addr_hi = 0x0001_2345 &
    // 0xFFFF_FF00 = 0x0001_2300; data = 0x41 | 1<<8 | 1<<14 | 1<<15 = 0xC141.
    assert_eq!(
        b.remappable(DEV, 2, None),
        irq(0x0001_2300_FEE4_500C, 0xC141)
    );
    b.done();
}

fn xapic_destination<P: Unit>(p: P) {
    let mut b = Bench::xapic(p, false);
    // EIME=0: the APIC id is IRTE[47:40] = DST[15:8].
    b.irte(
        3,
        &RemappedIrte::new(0x33, 0x0000_0700).verify_requester(DEV),
    );
    // dest 7 -> addr 0xFEE0_7000 (no addr_hi in xAPIC mode); data 0x33 | 1<<14 = 0x4033.
    assert_eq!(b.remappable(DEV, 3, None), irq(0xFEE0_7000, 0x4033));
    let e = RemappedIrte {
        dm: true,
        dlm: 4,
        ..RemappedIrte::new(0x02, 0x0000_FF00).verify_requester(DEV)
    };
    b.irte(4, &e);
    // dest 0xFF, DM=1 -> 0xFEEF_F004; data 0x02 | 4<<8 | 1<<14 = 0x4402.
    assert_eq!(b.remappable(DEV, 4, None), irq(0xFEEF_F004, 0x4402));
    b.done();
}

fn subhandle_indexing<P: Unit>(p: P) {
    let mut b = Bench::x2apic(p);
    b.irte(4, &RemappedIrte::new(0x34, 1).verify_requester(DEV));
    b.irte(7, &RemappedIrte::new(0x37, 2).verify_requester(DEV));
    b.irte(1, &RemappedIrte::new(0x21, 3).verify_requester(DEV));
    // SHV=1: index = handle 4 + subhandle 3 = 7 -> vector 0x37 to APIC 2.
    assert_eq!(b.remappable(DEV, 4, Some(3)), irq(0xFEE0_2000, 0x4037));
    // SHV=1 with subhandle 0: index 4.
    assert_eq!(b.remappable(DEV, 4, Some(0)), irq(0xFEE0_1000, 0x4034));
    // SHV=0: the data (here 3) is not added: index 4.
    assert_eq!(
        b.msi(DEV, remappable_addr(4, false), 3),
        irq(0xFEE0_1000, 0x4034)
    );
    // handle 0xFFFF (handle[15] in addr[2]) + 2 = 0x1_0001 mod 2^16 = index 1 -> APIC 3.
    assert_eq!(b.remappable(DEV, 0xFFFF, Some(2)), irq(0xFEE0_3000, 0x4021));
    assert_eq!(b.fsts(), 0);
    b.done();
}

fn sid_checks_that_pass<P: Unit>(p: P) {
    let mut b = Bench::x2apic(p);
    let sv = |v: u8, sid: u16, sq: u8, svt: u8| RemappedIrte {
        sq,
        svt,
        ..RemappedIrte::new(v, 1).verify_requester(Rid(sid))
    };
    // B5 SVT=01, IRTE.SID = 0x0310 (03:02.0).
    b.irte(1, &sv(0x51, 0x0310, 0, 1)); // SQ=00: all 16 bits
    b.irte(2, &sv(0x52, 0x0310, 1, 1)); // SQ=01: ignore RID[2]
    b.irte(3, &sv(0x53, 0x0310, 2, 1)); // SQ=10: ignore RID[2:1]
    b.irte(4, &sv(0x54, 0x0310, 3, 1)); // SQ=11: ignore RID[2:0]
    b.irte(5, &sv(0x55, 0x0205, 0, 2)); // SVT=10: buses 02..05 (start<<8 | end)
    b.irte(6, &sv(0x56, 0x0310, 0, 0)); // SVT=00: no check
    let cases: [(u16, u16, u32); 10] = [
        (1, 0x0310, 0x4051), // exact
        (2, 0x0314, 0x4052), // 03:02.4: only RID[2] differs
        (3, 0x0316, 0x4053), // 03:02.6: RID[2:1] differ
        (3, 0x0312, 0x4053), // 03:02.2
        (4, 0x0317, 0x4054), // 03:02.7: RID[2:0] differ
        (5, 0x0200, 0x4055), // bus 2 = start
        (5, 0x0310, 0x4055), // bus 3
        (5, 0x05FF, 0x4055), // bus 5 = end
        (6, 0x0418, 0x4056), // anyone
        (6, 0xFF07, 0x4056),
    ];
    for (index, rid, data) in cases {
        // Each to APIC 1: 0xFEE0_1000, data = vector | 1<<14.
        assert_eq!(
            b.remappable(Rid(rid), index, None),
            irq(0xFEE0_1000, data),
            "IRTE {index} from {rid:#06x}"
        );
    }
    assert_eq!(b.fsts(), 0, "no fault");
    b.done();
}

// ---- faults 20h..28h -------------------------------------------------------------------------

fn fault_20h_request_reserved_data_high<P: Unit>(p: P) {
    let mut b = Bench::x2apic(p);
    b.irte(5, &RemappedIrte::new(0x30, 1).verify_requester(DEV));
    // SHV=1, data[31:16] = 1: checked before the IRTE fetch (decisions.md), FI index 0.
    let o = b.msi(DEV, remappable_addr(5, true), 0x0001_0000);
    // F=1 | FR 20h | SID 0x0310 | FI[63:48] = 0.
    b.expect_recorded(o, 0x20, 0x8000_0020_0000_0310_0000_0000_0000_0000);
    b.done();
}

fn fault_20h_request_reserved_data_high_without_shv<P: Unit>(p: P) {
    let mut b = Bench::x2apic(p);
    b.irte(5, &RemappedIrte::new(0x30, 1).verify_requester(DEV));
    let o = b.msi(OTHER, remappable_addr(5, false), 0x8000_0000);
    // F=1 | FR 20h | SID 0x0418 | FI index 0.
    b.expect_recorded(o, 0x20, 0x8000_0020_0000_0418_0000_0000_0000_0000);
    b.done();
}

fn fault_20h_two_dw_write_to_the_window<P: Unit>(p: P) {
    let mut b = Bench::x2apic(p);
    b.irte(5, &RemappedIrte::new(0x30, 1).verify_requester(DEV));
    // Length 2 DW (decisions.md: not one DW with first BE 0xF -> malformed interrupt, 20h).
    let o = b.send(Req::write(DEV.0, 0, remappable_addr(5, false), 8), 0);
    b.expect_recorded(o, 0x20, 0x8000_0020_0000_0310_0000_0000_0000_0000);
    b.done();
}

fn fault_20h_partial_byte_enable<P: Unit>(p: P) {
    let mut b = Bench::x2apic(p);
    b.irte(5, &RemappedIrte::new(0x30, 1).verify_requester(DEV));
    let r = Req {
        first_be: 0x3,
        ..Req::write(DEV.0, 0, remappable_addr(5, false), 4)
    };
    let o = b.send(r, 0);
    b.expect_recorded(o, 0x20, 0x8000_0020_0000_0310_0000_0000_0000_0000);
    b.done();
}

fn fault_20h_two_dw_write_with_ir_disabled<P: Unit>(p: P) {
    // The shape check comes first whatever IRES says (model decision, driver/src/model/ir.rs).
    let mut b = Bench::new(
        p,
        BringUp {
            qi: true,
            ir: None,
            te: false,
        },
    );
    let o = b.send(Req::write(DEV.0, 0, 0xFEE0_1000, 8), 0x30);
    b.expect_recorded(o, 0x20, 0x8000_0020_0000_0310_0000_0000_0000_0000);
    b.done();
}

fn fault_21h_index_out_of_range<P: Unit>(p: P) {
    let mut b = Bench::x2apic(p);
    b.irte(5, &RemappedIrte::new(0x30, 1).verify_requester(DEV));
    // S=3: 16 entries; handle 16 is outside. FI[63:48] = 0x0010.
    let o = b.remappable(DEV, 16, None);
    b.expect_recorded(o, 0x21, 0x8000_0021_0000_0310_0010_0000_0000_0000);
    b.done();
}

fn fault_21h_index_out_of_range_via_subhandle<P: Unit>(p: P) {
    let mut b = Bench::x2apic(p);
    b.irte(15, &RemappedIrte::new(0x30, 1).verify_requester(DEV));
    // handle 15 + subhandle 1 = 16 >= 2^(S+1).
    let o = b.remappable(DEV, 15, Some(1));
    b.expect_recorded(o, 0x21, 0x8000_0021_0000_0310_0010_0000_0000_0000);
    b.done();
}

fn fault_22h_irte_not_present<P: Unit>(p: P) {
    let mut b = Bench::x2apic(p);
    b.irte(5, &RemappedIrte::new(0x30, 1).verify_requester(DEV));
    // IRTE 6 is zero (P=0). F=1 | FR 22h | SID 0x0310 | FI index 6.
    let o = b.remappable(DEV, 6, None);
    b.expect_recorded(o, 0x22, 0x8000_0022_0000_0310_0006_0000_0000_0000);
    b.done();
}

fn fault_22h_fpd_suppressed<P: Unit>(p: P) {
    let mut b = Bench::x2apic(p);
    // P=0, FPD=1 (bit 1): FPD is honoured even when P=0 (B3 step 7).
    b.raw_irte(6, 0b10);
    let o = b.remappable(DEV, 6, None);
    b.expect_suppressed(o, 0x22);
    b.done();
}

fn fault_23h_irte_read_error<P: Unit>(p: P) {
    let mut b = Bench::x2apic(p);
    b.irte(7, &RemappedIrte::new(0x30, 1).verify_requester(DEV));
    let a = b.os.irte_addr(7).expect("irte addr");
    b.os.mem().inject_error(a, 16);
    // F=1 | FR 23h | SID 0x0310 | FI index 7.
    let o = b.remappable(DEV, 7, None);
    b.expect_recorded(o, 0x23, 0x8000_0023_0000_0310_0007_0000_0000_0000);
    b.done();
}

fn fault_24h_irte_reserved<P: Unit>(p: P) {
    let mut b = Bench::x2apic(p);
    // B4: bits 14:12 reserved; set bit 12.
    let raw = RemappedIrte::new(0x30, 1).verify_requester(DEV).encode() | 1 << 12;
    b.raw_irte(5, raw);
    let o = b.remappable(DEV, 5, None);
    b.expect_recorded(o, 0x24, 0x8000_0024_0000_0310_0005_0000_0000_0000);
    b.done();
}

fn fault_24h_irte_reserved_high_bits<P: Unit>(p: P) {
    let mut b = Bench::x2apic(p);
    // B4: bits 127:84 reserved; set bit 100.
    let raw = RemappedIrte::new(0x30, 1).verify_requester(DEV).encode() | 1u128 << 100;
    b.raw_irte(9, raw);
    let o = b.remappable(DEV, 9, None);
    b.expect_recorded(o, 0x24, 0x8000_0024_0000_0310_0009_0000_0000_0000);
    b.done();
}

fn fault_24h_xapic_destination_reserved<P: Unit>(p: P) {
    let mut b = Bench::xapic(p, false);
    // EIME=0: DST bits 39:32 are reserved (decisions.md); DST = 0x0105 sets bit 32.
    b.irte(
        3,
        &RemappedIrte::new(0x30, 0x0000_0105).verify_requester(DEV),
    );
    let o = b.remappable(DEV, 3, None);
    b.expect_recorded(o, 0x24, 0x8000_0024_0000_0310_0003_0000_0000_0000);
    b.done();
}

fn fault_24h_posted_irte_reserved<P: Unit>(p: P) {
    let mut b = Bench::x2apic(p);
    let pid = b.posted(9, 3, false, false, false, false);
    // Posted format: bits 7:2 reserved; set bit 2 (B4).
    let a = b.os.irte_addr(9).expect("irte addr");
    let raw = b.os.mem().read_u128(a).expect("irte read") | 1 << 2;
    b.raw_irte(9, raw);
    let o = b.remappable(DEV, 9, None);
    b.expect_recorded(o, 0x24, 0x8000_0024_0000_0310_0009_0000_0000_0000);
    // Nothing posted: PIR qword 1 and the control qword are unchanged
    // (NV 0xF2 at 279:272, NDST 3 at 319:288 -> qword 4 = 0x0000_0003_00F2_0000).
    assert_eq!(b.pid_qword(pid, 1), 0);
    assert_eq!(b.pid_qword(pid, 4), 0x0000_0003_00F2_0000);
    b.done();
}

fn fault_24h_fpd_suppressed<P: Unit>(p: P) {
    let mut b = Bench::x2apic(p);
    let e = RemappedIrte {
        fpd: true,
        ..RemappedIrte::new(0x30, 1).verify_requester(DEV)
    };
    b.raw_irte(5, e.encode() | 1 << 13);
    let o = b.remappable(DEV, 5, None);
    b.expect_suppressed(o, 0x24);
    b.done();
}

fn fault_25h_compat_blocked_with_eime<P: Unit>(p: P) {
    // EIME=1 blocks compatibility format even with CFI=1 (B3 step 2).
    let mut b = Bench::new(
        p,
        BringUp {
            qi: true,
            ir: Some(IrSetup {
                s: S,
                eime: true,
                cfi: true,
            }),
            te: false,
        },
    );
    // Compatibility format: addr[4]=0, dest 1 -> 0xFEE0_1000; data vector 0x30.
    let o = b.msi(DEV, 0xFEE0_1000, 0x30);
    // F=1 | FR 25h | SID 0x0310 | FI 0 (the model's choice: no index for a compatibility request).
    b.expect_recorded(o, 0x25, 0x8000_0025_0000_0310_0000_0000_0000_0000);
    b.done();
}

fn fault_25h_compat_blocked_without_cfi<P: Unit>(p: P) {
    let mut b = Bench::xapic(p, false);
    let o = b.msi(OTHER, 0xFEE0_2000, 0x31);
    b.expect_recorded(o, 0x25, 0x8000_0025_0000_0418_0000_0000_0000_0000);
    b.done();
}

fn fault_26h_sid_check_failed<P: Unit>(p: P) {
    let mut b = Bench::x2apic(p);
    let sv = |sid: u16, sq: u8, svt: u8| RemappedIrte {
        sq,
        svt,
        ..RemappedIrte::new(0x30, 1).verify_requester(Rid(sid))
    };
    b.irte(5, &sv(0x0310, 0, 1)); // SVT=01 SQ=00
    b.irte(6, &sv(0x0310, 1, 1)); // SVT=01 SQ=01 (ignore RID[2])
    b.irte(7, &sv(0x0310, 3, 1)); // SVT=01 SQ=11 (ignore the function)
    b.irte(8, &sv(0x0205, 0, 2)); // SVT=10 buses 2..5
    b.irte(10, &sv(0x0310, 0, 3)); // SVT=11 reserved: always fails (decisions.md)

    // (index, requester, FRCD): F=1 | FR 26h | SID = requester | FI[63:48] = index.
    let cases: [(u16, u16, u128); 6] = [
        (5, 0x0418, 0x8000_0026_0000_0418_0005_0000_0000_0000),
        (6, 0x0312, 0x8000_0026_0000_0312_0006_0000_0000_0000), // RID[1] differs
        (7, 0x0318, 0x8000_0026_0000_0318_0007_0000_0000_0000), // device 3
        (8, 0x0600, 0x8000_0026_0000_0600_0008_0000_0000_0000), // bus 6 > end
        (8, 0x0110, 0x8000_0026_0000_0110_0008_0000_0000_0000), // bus 1 < start
        (10, 0x0310, 0x8000_0026_0000_0310_000A_0000_0000_0000),
    ];
    for &(index, rid, _) in &cases {
        let o = b.remappable(Rid(rid), index, None);
        expect_drop(&o, 0x26);
    }
    // One record each (distinct source-ids: no compression), in order from FRCD[0].
    for (n, &(_, _, want)) in cases.iter().enumerate() {
        let r = b.frcd(n as u16);
        assert_eq!(r, want, "FRCD[{n}] = {r:#034x}");
    }
    assert_eq!(b.frcd(6), 0);
    // PPF, FRI 0; one fault event (PPF was already set for the later ones).
    assert_eq!(b.fsts(), 0x0000_0002);
    b.p().expect_events(&[FE]);
    b.done();
}

fn fault_26h_fpd_suppressed<P: Unit>(p: P) {
    let mut b = Bench::x2apic(p);
    let e = RemappedIrte {
        fpd: true,
        ..RemappedIrte::new(0x30, 1).verify_requester(DEV)
    };
    b.irte(5, &e);
    let o = b.remappable(OTHER, 5, None);
    b.expect_suppressed(o, 0x26);
    b.done();
}

fn fault_27h_pid_read_error<P: Unit>(p: P) {
    let mut b = Bench::x2apic(p);
    let pid = b.posted(9, 3, false, false, false, false);
    b.os.mem().inject_error(pid, 64);
    let o = b.remappable(DEV, 9, None);
    b.expect_recorded(o, 0x27, 0x8000_0027_0000_0310_0009_0000_0000_0000);
    b.done();
}

fn fault_27h_fpd_suppressed<P: Unit>(p: P) {
    let mut b = Bench::x2apic(p);
    let pid = b.posted(9, 3, false, false, false, true);
    b.os.mem().inject_error(pid, 64);
    let o = b.remappable(DEV, 9, None);
    b.expect_suppressed(o, 0x27);
    b.done();
}

/// B8: bits 271:258 are reserved; bit 258 = qword 4 bit 2.
fn poison_pid<P: Unit>(b: &mut Bench<P>, pid: Hpa) {
    let q4 = b.pid_qword(pid, 4);
    b.os.mem()
        .write_u64(Hpa(pid.0 + 32), q4 | 1 << 2)
        .expect("pid write");
}

fn fault_28h_pid_reserved<P: Unit>(p: P) {
    let mut b = Bench::x2apic(p);
    let pid = b.posted(9, 3, false, false, false, false);
    poison_pid(&mut b, pid);
    let o = b.remappable(DEV, 9, None);
    b.expect_recorded(o, 0x28, 0x8000_0028_0000_0310_0009_0000_0000_0000);
    // Nothing posted: PIR clear, ON clear (qword 4 = NDST 3<<32 | NV 0xF2<<16 | bit 2).
    assert_eq!(b.pid_qword(pid, 1), 0);
    assert_eq!(b.pid_qword(pid, 4), 0x0000_0003_00F2_0004);
    b.done();
}

fn fault_28h_fpd_suppressed<P: Unit>(p: P) {
    let mut b = Bench::x2apic(p);
    let pid = b.posted(9, 3, false, false, false, true);
    poison_pid(&mut b, pid);
    let o = b.remappable(DEV, 9, None);
    b.expect_suppressed(o, 0x28);
    b.done();
}

// ---- posted interrupts -------------------------------------------------------------------------

fn posted_interrupt_sets_pir_and_notifies_once<P: Unit>(p: P) {
    let mut b = Bench::x2apic(p);
    let pid = b.posted(9, 0x0000_0103, false, false, false, false);
    // Notification (B8 step 3): vector NV 0xF2 to NDST 0x103, fixed, edge, physical, RH=0:
    // addr = 0xFEE<<20 | 0x03<<12 = 0xFEE0_3000, addr_hi = 0x103 & 0xFFFF_FF00 = 0x100;
    // data = 0xF2 | 1<<14 = 0x40F2.
    let note = Msi {
        addr: 0x0000_0100_FEE0_3000,
        data: 0x40F2,
    };
    assert_eq!(
        b.remappable(DEV, 9, None),
        Outcome::Posted {
            pid,
            vector: 0x61,
            notify: Some(note)
        }
    );
    // PIR bit 0x61 = 97 -> qword 1 bit 33; qword 4 = NDST 0x103<<32 | NV 0xF2<<16 | ON.
    assert_eq!(b.pid_qword(pid, 0), 0);
    assert_eq!(b.pid_qword(pid, 1), 0x0000_0002_0000_0000);
    assert_eq!(b.pid_qword(pid, 4), 0x0000_0103_00F2_0001);
    // ON=1 now: posted again without a notification.
    assert_eq!(
        b.remappable(DEV, 9, None),
        Outcome::Posted {
            pid,
            vector: 0x61,
            notify: None
        }
    );
    assert_eq!(b.pid_qword(pid, 1), 0x0000_0002_0000_0000);
    assert_eq!(b.pid_qword(pid, 4), 0x0000_0103_00F2_0001);
    let d = b.os.read_pid(pid).expect("pid");
    assert!(d.on && !d.sn && d.pir_bit(0x61));
    assert_eq!(b.fsts(), 0);
    b.done();
}

/// With nothing in flight the scoreboard reads every descriptor a posting touched back from the
/// DUT's memory: an update the model did not make is a mismatch. Here the neighbouring PIR bit is
/// set behind the scoreboard's back, as a unit off by one in the vector would.
#[test]
fn scoreboard_compares_posted_interrupt_descriptors_with_the_dut_memory() {
    let mut b = Bench::x2apic(rtl(DutConfig::Default));
    let pid = b.posted(9, 0x0000_0103, false, false, false, false);
    let o = b.remappable(DEV, 9, None);
    assert!(matches!(o, Outcome::Posted { vector: 0x61, .. }), "{o:?}");
    let ls = b.p().lockstep();
    ls.drain(false);
    assert!(ls.failures.is_empty(), "{:?}", ls.failures);
    // PIR bit 0x61 is qword 1 bit 33 (set by the posting); bit 34 is vector 0x62.
    let q1 = Hpa(pid.0 + 8);
    let v = ls.sim.mem.read_u64(q1).expect("pid readable");
    assert_eq!(v, 0x0000_0002_0000_0000);
    ls.sim
        .mem
        .write(q1, &(v | 1 << 34).to_le_bytes())
        .expect("pid writable");
    ls.drain(false);
    let what: Vec<&str> = ls.failures.iter().map(|f| f.what.as_str()).collect();
    assert_eq!(
        what,
        [format!(
            "posted-interrupt descriptor at {:#x} (qwords 0..7)",
            pid.0
        )],
        "{:?}",
        ls.failures
    );
    let f = &ls.failures[0];
    assert!(f.expected.contains("0000000200000000"), "{}", f.expected);
    assert!(f.actual.contains("0000000600000000"), "{}", f.actual);
}

fn posted_urgent_with_sn_notifies<P: Unit>(p: P) {
    let mut b = Bench::x2apic(p);
    // ON=0, SN=1, URG=1: X = (ON==0) && (URG || !SN) = 1.
    let pid = b.posted(4, 0x0000_0002, false, true, true, false);
    assert_eq!(
        b.remappable(DEV, 4, None),
        Outcome::Posted {
            pid,
            vector: 0x61,
            // dest 2 -> 0xFEE0_2000; data 0x40F2.
            notify: Some(Msi {
                addr: 0xFEE0_2000,
                data: 0x40F2
            })
        }
    );
    // qword 4 = NDST 2<<32 | NV 0xF2<<16 | SN<<1 | ON.
    assert_eq!(b.pid_qword(pid, 4), 0x0000_0002_00F2_0003);
    assert_eq!(b.pid_qword(pid, 1), 0x0000_0002_0000_0000);
    b.done();
}

fn posted_sn_without_urgent_does_not_notify<P: Unit>(p: P) {
    let mut b = Bench::x2apic(p);
    // ON=0, SN=1, URG=0: X = 0: PIR set, ON stays 0, no notification.
    let pid = b.posted(4, 0x0000_0002, false, true, false, false);
    assert_eq!(
        b.remappable(DEV, 4, None),
        Outcome::Posted {
            pid,
            vector: 0x61,
            notify: None
        }
    );
    assert_eq!(b.pid_qword(pid, 1), 0x0000_0002_0000_0000);
    // qword 4 = NDST 2<<32 | NV 0xF2<<16 | SN<<1.
    assert_eq!(b.pid_qword(pid, 4), 0x0000_0002_00F2_0002);
    b.done();
}

fn posted_xapic_notification_destination<P: Unit>(p: P) {
    let mut b = Bench::xapic(p, false);
    // xAPIC: the notification goes to NDST[15:8] (KVM writes id<<8): NDST 0x0500 -> APIC 5.
    let pid = b.posted(2, 0x0000_0500, false, false, false, false);
    assert_eq!(
        b.remappable(DEV, 2, None),
        Outcome::Posted {
            pid,
            vector: 0x61,
            notify: Some(Msi {
                addr: 0xFEE0_5000,
                data: 0x40F2
            })
        }
    );
    assert_eq!(b.pid_qword(pid, 4), 0x0000_0500_00F2_0001);
    b.done();
}

// ---- interrupt-entry cache -------------------------------------------------------------------

fn iec_index_invalidation_ends_the_stale_window<P: Unit>(p: P) {
    let mut b = Bench::x2apic(p);
    b.irte(6, &RemappedIrte::new(0x31, 1).verify_requester(DEV));
    let old = irq(0xFEE0_1000, 0x4031);
    let new = irq(0xFEE0_2000, 0x4032);
    assert_eq!(b.remappable(DEV, 6, None), old);
    // Changed in memory without invalidation: old (cached) or new.
    b.irte(6, &RemappedIrte::new(0x32, 2).verify_requester(DEV));
    if let Some(a) = b.allowed(DEV, 6) {
        assert_eq!(a, vec![new, old]);
    }
    let o = b.remappable(DEV, 6, None);
    assert!(o == old || o == new, "{o:?}");
    // IIDX 7, IM=1 (2 entries) is aligned down to 6..=7: covers 6.
    b.os.invalidate(&[InvRequest::IecIndex { iidx: 7, im: 1 }])
        .expect("iec index");
    if let Some(a) = b.allowed(DEV, 6) {
        assert_eq!(a, vec![new]);
    }
    assert_eq!(b.remappable(DEV, 6, None), new);
    assert_eq!(b.remappable(DEV, 6, None), new);
    b.done();
}

fn iec_global_invalidation_ends_the_stale_window<P: Unit>(p: P) {
    let mut b = Bench::x2apic(p);
    // Four entries used (more than a tiny IEC holds), then all changed.
    for i in 1..=4u8 {
        b.irte(
            u32::from(i),
            &RemappedIrte::new(0x40 + i, 1).verify_requester(DEV),
        );
    }
    for i in 1..=4u8 {
        // vector 0x41..0x44 to APIC 1.
        let want = irq(0xFEE0_1000, 0x4040 + u32::from(i));
        assert_eq!(b.remappable(DEV, u16::from(i), None), want);
    }
    for i in 1..=4u8 {
        b.irte(
            u32::from(i),
            &RemappedIrte::new(0x50 + i, 3).verify_requester(DEV),
        );
    }
    for i in 1..=4u8 {
        let old = irq(0xFEE0_1000, 0x4040 + u32::from(i));
        let new = irq(0xFEE0_3000, 0x4050 + u32::from(i));
        let o = b.remappable(DEV, u16::from(i), None);
        assert!(o == old || o == new, "IRTE {i}: {o:?}");
    }
    b.os.invalidate(&[InvRequest::IecGlobal])
        .expect("iec global");
    for i in 1..=4u8 {
        // vector 0x51..0x54 to APIC 3: 0xFEE0_3000.
        let new = irq(0xFEE0_3000, 0x4050 + u32::from(i));
        if let Some(a) = b.allowed(DEV, u16::from(i)) {
            assert_eq!(a, vec![new]);
        }
        assert_eq!(b.remappable(DEV, u16::from(i), None), new, "IRTE {i}");
    }
    b.done();
}

fn iec_invalidation_not_covering_keeps_old_allowed<P: Unit>(p: P) {
    let mut b = Bench::x2apic(p);
    b.irte(3, &RemappedIrte::new(0x31, 1).verify_requester(DEV));
    let old = irq(0xFEE0_1000, 0x4031);
    let new = irq(0xFEE0_1000, 0x4039);
    assert_eq!(b.remappable(DEV, 3, None), old);
    b.irte(3, &RemappedIrte::new(0x39, 1).verify_requester(DEV));
    // IIDX 4 IM=2 -> 4..=7, and IIDX 2 IM=0 -> 2: neither covers 3.
    b.os.invalidate(&[
        InvRequest::IecIndex { iidx: 4, im: 2 },
        InvRequest::IecIndex { iidx: 2, im: 0 },
    ])
    .expect("iec index");
    if let Some(a) = b.allowed(DEV, 3) {
        assert_eq!(a, vec![new, old]);
    }
    for _ in 0..2 {
        let o = b.remappable(DEV, 3, None);
        assert!(o == old || o == new, "{o:?}");
    }
    b.done();
}

// ---- counters, compatibility format, IRES=0 ---------------------------------------------------

fn counters_remapped_and_posted<P: Unit>(p: P) {
    let mut b = Bench::x2apic(p);
    // 0x330 interrupts remapped, 0x338 interrupts posted: both 0 after reset.
    assert_eq!(b.reg64(0x330), 0);
    assert_eq!(b.reg64(0x338), 0);
    b.irte(1, &RemappedIrte::new(0x30, 1).verify_requester(DEV));
    b.posted(2, 1, false, false, false, false);
    for _ in 0..3 {
        assert_eq!(b.remappable(DEV, 1, None), irq(0xFEE0_1000, 0x4030));
    }
    // One posting with a notification, one without (ON=1 by then).
    assert!(matches!(
        b.remappable(DEV, 2, None),
        Outcome::Posted {
            notify: Some(_),
            ..
        }
    ));
    assert!(matches!(
        b.remappable(DEV, 2, None),
        Outcome::Posted { notify: None, .. }
    ));
    // A fault counts in neither (22h, IRTE 3 not present).
    let o = b.remappable(DEV, 3, None);
    expect_drop(&o, 0x22);
    b.p().expect_events(&[FE]);
    assert_eq!(b.reg64(0x330), 3);
    assert_eq!(b.reg64(0x338), 2);
    b.done();
}

fn compat_passes_with_cfi_in_xapic_mode<P: Unit>(p: P) {
    let mut b = Bench::xapic(p, true);
    // Compatibility format (addr[4]=0), dest 1, RH=DM=0 -> delivered unchanged.
    assert_eq!(b.msi(DEV, 0xFEE0_1000, 0x30), irq(0xFEE0_1000, 0x30));
    // Dest 0x23, RH=1, DM=1 (addr 0xFEE2_300C); level-triggered fixed vector 0x45 (0xC045).
    assert_eq!(b.msi(OTHER, 0xFEE2_300C, 0xC045), irq(0xFEE2_300C, 0xC045));
    assert_eq!(b.fsts(), 0);
    // Unchanged deliveries are not remapped ones.
    assert_eq!(b.reg64(0x330), 0);
    b.done();
}

fn ir_disabled_passes_window_writes_unchanged<P: Unit>(p: P) {
    let mut b = Bench::new(
        p,
        BringUp {
            qi: true,
            ir: None,
            te: false,
        },
    );
    // IRES=0: any one-DW, BE 0xF write to the window is delivered as is, whatever its format.
    let cases: [(u64, u32); 4] = [
        (0xFEE0_1000, 0x0000_0030), // compatibility format
        (0xFEE0_00B8, 0x0000_0002), // remappable: handle 5, SHV
        (0xFEE0_00B0, 0x0001_0000), // remappable with data[31:16] != 0 (20h with IRES=1)
        (0xFEEF_FFFC, 0xFFFF_FFFF),
    ];
    for (addr, data) in cases {
        assert_eq!(b.msi(DEV, addr, data), irq(addr, data), "{addr:#x}");
    }
    assert_eq!(b.fsts(), 0);
    assert_eq!(b.reg64(0x330), 0);
    b.done();
}

variants!(
    x2apic_high_destination,
    xapic_destination,
    subhandle_indexing,
    sid_checks_that_pass,
    fault_20h_request_reserved_data_high,
    fault_20h_request_reserved_data_high_without_shv,
    fault_20h_two_dw_write_to_the_window,
    fault_20h_partial_byte_enable,
    fault_20h_two_dw_write_with_ir_disabled,
    fault_21h_index_out_of_range,
    fault_21h_index_out_of_range_via_subhandle,
    fault_22h_irte_not_present,
    fault_22h_fpd_suppressed,
    fault_24h_irte_reserved,
    fault_24h_irte_reserved_high_bits,
    fault_24h_xapic_destination_reserved,
    fault_24h_posted_irte_reserved,
    fault_24h_fpd_suppressed,
    fault_25h_compat_blocked_with_eime,
    fault_25h_compat_blocked_without_cfi,
    fault_26h_sid_check_failed,
    fault_26h_fpd_suppressed,
    fault_27h_pid_read_error,
    fault_27h_fpd_suppressed,
    fault_28h_pid_reserved,
    fault_28h_fpd_suppressed,
    posted_urgent_with_sn_notifies,
    posted_sn_without_urgent_does_not_notify,
    posted_xapic_notification_destination,
    iec_index_invalidation_ends_the_stale_window,
    iec_invalidation_not_covering_keeps_old_allowed,
    iec_index_invalidation_after_a_posting_through_a_subhandle,
    compat_passes_with_cfi_in_xapic_mode,
    ir_disabled_passes_window_writes_unchanged,
);

variants!(
    tiny: remapped_interrupt_delivered,
    fault_23h_irte_read_error,
    posted_interrupt_sets_pir_and_notifies_once,
    iec_global_invalidation_ends_the_stale_window,
    counters_remapped_and_posted,
);

/// A posted IRTE used through a subhandle, then rewritten as a remapped IRTE for another
/// requester and invalidated index-selectively (each IM covering it): the next interrupt from the
/// new requester uses the new entry.
fn iec_index_invalidation_after_a_posting_through_a_subhandle<P: Unit>(p: P) {
    let mut b = Bench::x2apic(p);
    for im in 0..=3u8 {
        let pid = b.posted(8, 1, false, false, false, false);
        b.os.invalidate(&[InvRequest::IecGlobal])
            .expect("iec global");
        // Handle 3 + subhandle 5 = index 8, from DEV: posted (ON was 0: a notification).
        let o = b.remappable(DEV, 3, Some(5));
        assert!(
            matches!(o, Outcome::Posted { pid: p, notify: Some(_), .. } if p == pid),
            "{o:?}"
        );
        b.irte(8, &RemappedIrte::new(0x40 + im, 2).verify_requester(OTHER));
        // IIDX 8, 9, 11, 15 with IM 0..3: aligned down, each covers 8.
        let iidx = 8 + (1u16 << im) - 1;
        b.os.invalidate(&[InvRequest::IecIndex { iidx, im }])
            .expect("iec index");
        assert_eq!(
            b.remappable(OTHER, 8, None),
            irq(0xFEE0_2000, 0x4040 + u32::from(im)),
            "IM {im}"
        );
    }
    b.done();
}
