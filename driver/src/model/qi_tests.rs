//! Unit tests of queued invalidation (spec A12, decisions.md, D5 #1/#2/#9/#11/#16).
//!
//! Descriptors are hand-assembled hex from the A12 table: type in qw0\[3:0\] (and \[11:9\]),
//! CC: G \[5:4\], DID \[31:16\], SID \[47:32\], FM \[49:48\]; IOTLB: G \[5:4\], DID \[31:16\],
//! qw1 AM \[5:0\], IH \[6\], ADDR \[63:12\]; IEC: G \[4\], IM \[31:27\], IIDX \[47:32\];
//! wait: IF \[4\], SW \[5\], FN \[6\], PD \[7\], STATUS DATA \[63:32\], qw1 STATUS ADDR \[63:2\].

use crate::mem::HostMemory;
use crate::model::{Model, ModelConfig, Msi, Outcome, Request};
use crate::types::Hpa;

const GCMD: u16 = 0x18;
const FSTS: u16 = 0x34;
const FECTL: u16 = 0x38;
const FEDATA: u16 = 0x3C;
const FEADDR: u16 = 0x40;
const IQH: u16 = 0x80;
const IQT: u16 = 0x88;
const IQA: u16 = 0x90;
const ICS: u16 = 0x9C;
const IECTL: u16 = 0xA0;
const IEDATA: u16 = 0xA4;
const IEADDR: u16 = 0xA8;
const IEUADDR: u16 = 0xAC;
const IQERCD: u16 = 0xB0;
const QIE: u64 = 1 << 26;
/// Queue base used by the tests (QS=0: one 4 KiB page, 256 descriptors).
const QBASE: u64 = 0x0004_0000;
/// Status-write target.
const STATUS: u64 = 0x0009_0000;

/// wait, SW=1, STATUS DATA = `data`: qw0 = data<<32 | SW (0x20) | type 5.
fn wait_sw(data: u32) -> (u64, u64) {
    ((u64::from(data) << 32) | 0x25, STATUS)
}
/// wait, IF=1: qw0 = IF (0x10) | type 5.
const WAIT_IF: (u64, u64) = (0x15, 0);

struct Q {
    m: Model,
    mem: HostMemory,
    /// Next free slot (descriptor index).
    next: u64,
}

impl Q {
    /// QI enabled on a queue of 2^`qs` pages at QBASE; IE event address/data programmed.
    fn new(cfg: ModelConfig, qs: u64) -> Q {
        let mut m = Model::new(cfg);
        let mut mem = HostMemory::new();
        m.reg_write(&mut mem, IQA, 8, QBASE | qs).unwrap();
        m.reg_write(&mut mem, IEDATA, 4, 0x4061).unwrap();
        m.reg_write(&mut mem, IEADDR, 4, 0xFEE0_1000).unwrap();
        m.reg_write(&mut mem, IEUADDR, 4, 0x0000_0002).unwrap();
        m.reg_write(&mut mem, GCMD, 4, QIE).unwrap();
        Q { m, mem, next: 0 }
    }

    fn default() -> Q {
        Q::new(ModelConfig::default(), 0)
    }

    fn rd(&mut self, off: u16, size: u8) -> u64 {
        self.m.reg_read(&mut self.mem, off, size).unwrap()
    }

    fn wr(&mut self, off: u16, size: u8, v: u64) {
        self.m.reg_write(&mut self.mem, off, size, v).unwrap()
    }

    /// Put descriptors in the queue (wrapping at 256) without moving the tail.
    fn put(&mut self, descs: &[(u64, u64)]) {
        for &(q0, q1) in descs {
            let at = QBASE + 16 * (self.next % 256);
            self.mem.write_u64(Hpa(at), q0).unwrap();
            self.mem.write_u64(Hpa(at + 8), q1).unwrap();
            self.next += 1;
        }
    }

    /// Put descriptors and write IQT (lower dword) past them.
    fn submit(&mut self, descs: &[(u64, u64)]) {
        self.put(descs);
        let t = 16 * (self.next % 256);
        self.wr(IQT, 4, t);
    }

    fn iqe(&mut self) -> bool {
        self.rd(FSTS, 4) & 0x10 != 0
    }

    fn iqei(&mut self) -> u64 {
        self.rd(IQERCD, 8) & 0xF
    }
}

#[test]
fn reset_values() {
    let mut m = Model::new(ModelConfig::default());
    let mut mem = HostMemory::new();
    for off in [IQH, IQT, IQA, IQERCD] {
        assert_eq!(m.reg_read(&mut mem, off, 8).unwrap(), 0, "{off:#x}");
    }
    assert_eq!(m.reg_read(&mut mem, ICS, 4).unwrap(), 0);
    // IECTL.IM resets to 1.
    assert_eq!(m.reg_read(&mut mem, IECTL, 4).unwrap(), 0x8000_0000);
    // A qword read at 0xA0 returns IEDATA:IECTL.
    assert_eq!(m.reg_read(&mut mem, IECTL, 8).unwrap(), 0x8000_0000);
}

#[test]
fn d5_02_iqa_reads_back_qs_and_dw_and_masks_reserved_bits() {
    let mut m = Model::new(ModelConfig::default());
    let mut mem = HostMemory::new();
    // DW (bit 11) and QS=5 read back; bits 10:3 and >= HAW (48) read 0.
    m.reg_write(&mut mem, IQA, 8, 0xFFFF_0000_1234_5FFD)
        .unwrap();
    assert_eq!(m.reg_read(&mut mem, IQA, 8).unwrap(), 0x0000_0000_1234_5805);
    m.reg_write(&mut mem, IQA + 4, 4, 0x0000_0012).unwrap();
    assert_eq!(m.reg_read(&mut mem, IQA + 4, 4).unwrap(), 0x12);
    assert_eq!(m.reg_read(&mut mem, IQA, 4).unwrap(), 0x1234_5805);
}

#[test]
fn event_registers_keep_only_their_defined_bits() {
    let mut m = Model::new(ModelConfig::default());
    let mut mem = HostMemory::new();
    m.reg_write(&mut mem, IEDATA, 4, 0xFFFF_FFFF).unwrap();
    m.reg_write(&mut mem, IEADDR, 4, 0xFFFF_FFFF).unwrap();
    m.reg_write(&mut mem, IEUADDR, 4, 0xFFFF_FFFF).unwrap();
    assert_eq!(m.reg_read(&mut mem, IEDATA, 4).unwrap(), 0xFFFF);
    assert_eq!(m.reg_read(&mut mem, IEADDR, 4).unwrap(), 0xFFFF_FFFC);
    assert_eq!(m.reg_read(&mut mem, IEUADDR, 4).unwrap(), 0xFFFF_FFFF);
    // IP is read-only.
    m.reg_write(&mut mem, IECTL, 4, 0xC000_0000).unwrap();
    assert_eq!(m.reg_read(&mut mem, IECTL, 4).unwrap(), 0x8000_0000);
    // IQT keeps bits 18:4 only; IQH is read-only.
    m.reg_write(&mut mem, IQT, 8, 0xFFFF_FFFF_FFFF_FFFF)
        .unwrap();
    assert_eq!(m.reg_read(&mut mem, IQT, 8).unwrap(), 0x7_FFF0);
    m.reg_write(&mut mem, IQH, 8, 0x100).unwrap();
    assert_eq!(m.reg_read(&mut mem, IQH, 8).unwrap(), 0);
}

#[test]
fn without_ecap_qi_registers_read_0_and_ignore_writes() {
    let cfg = {
        let mut c = ModelConfig::default();
        c.ecap.qi = false;
        c
    };
    let mut m = Model::new(cfg);
    let mut mem = HostMemory::new();
    m.reg_write(&mut mem, IQA, 8, QBASE).unwrap();
    m.reg_write(&mut mem, GCMD, 4, QIE).unwrap();
    m.reg_write(&mut mem, IQT, 4, 0x10).unwrap();
    assert_eq!(m.reg_read(&mut mem, IQA, 8).unwrap(), 0);
    assert_eq!(m.reg_read(&mut mem, IQT, 8).unwrap(), 0);
    assert_eq!(m.reg_read(&mut mem, IECTL, 4).unwrap(), 0);
}

#[test]
fn wait_status_write_and_head_advance() {
    let mut q = Q::default();
    q.submit(&[wait_sw(0x1234_5678)]);
    assert_eq!(q.mem.read_u32(Hpa(STATUS)).unwrap(), 0x1234_5678);
    assert_eq!(q.rd(IQH, 8), 0x10);
    assert!(!q.iqe());
    // Little-endian 32-bit write: only 4 bytes touched.
    q.mem.write_u64(Hpa(STATUS), 0xAAAA_AAAA_0000_0000).unwrap();
    q.submit(&[wait_sw(0x0102_0304)]);
    assert_eq!(q.mem.read_u64(Hpa(STATUS)).unwrap(), 0xAAAA_AAAA_0102_0304);
    assert_eq!(q.rd(IQH, 8), 0x20);
    assert!(q.m.take_events().is_empty());
}

#[test]
fn iqh_reads_0_while_disabled_and_iqt_keeps_its_value() {
    let mut q = Q::default();
    q.submit(&[wait_sw(1), wait_sw(2)]);
    assert_eq!(q.rd(IQH, 8), 0x20);
    q.wr(GCMD, 4, 0);
    assert_eq!(q.rd(IQH, 8), 0);
    assert_eq!(q.rd(IQT, 8), 0x20);
    // Descriptors queued while disabled are not run.
    q.put(&[wait_sw(3)]);
    q.wr(IQT, 4, 0x30);
    assert_eq!(q.mem.read_u32(Hpa(STATUS)).unwrap(), 2);
    // Re-enabling starts at head 0 and runs everything up to the tail (0, 1, 2).
    q.mem.write_u32(Hpa(STATUS), 0).unwrap();
    q.wr(GCMD, 4, QIE);
    assert_eq!(q.rd(IQH, 8), 0x30);
    assert_eq!(q.mem.read_u32(Hpa(STATUS)).unwrap(), 3);
}

#[test]
fn iqa_written_while_enabled_acts_at_the_next_enable() {
    let mut q = Q::default();
    q.wr(IQA, 8, 0x0008_0000);
    q.submit(&[wait_sw(7)]);
    assert_eq!(
        q.mem.read_u32(Hpa(STATUS)).unwrap(),
        7,
        "still the old queue"
    );
    q.wr(GCMD, 4, 0);
    // New queue at 0x8_0000: descriptor 0 writes 9.
    q.mem.write_u64(Hpa(0x0008_0000), wait_sw(9).0).unwrap();
    q.mem.write_u64(Hpa(0x0008_0008), wait_sw(9).1).unwrap();
    q.wr(IQT, 4, 0x10);
    q.wr(GCMD, 4, QIE);
    assert_eq!(q.mem.read_u32(Hpa(STATUS)).unwrap(), 9);
}

#[test]
fn tail_wraps_around_the_queue() {
    let mut q = Q::default();
    // Move head and tail to the last slot (255) with 255 no-op waits.
    let fill: Vec<(u64, u64)> = (0..255).map(|_| (0x05, 0)).collect();
    q.submit(&fill);
    assert_eq!(q.rd(IQH, 8), 0xFF0);
    // Two waits: slot 255 and slot 0; tail wraps to 0x10.
    q.submit(&[wait_sw(0x55), wait_sw(0x66)]);
    assert_eq!(q.rd(IQT, 8), 0x10);
    assert_eq!(q.rd(IQH, 8), 0x10);
    assert_eq!(q.mem.read_u32(Hpa(STATUS)).unwrap(), 0x66);
    assert!(!q.iqe());
}

#[test]
fn d5_09_sw_and_if_together_status_write_then_event() {
    let mut q = Q::default();
    q.wr(IECTL, 4, 0); // IM=0
                       // qw0 = data 0xCAFE<<32 | SW | IF | type 5 = 0x0000_CAFE_0000_0035.
    q.submit(&[(0x0000_CAFE_0000_0035, STATUS)]);
    assert_eq!(q.mem.read_u32(Hpa(STATUS)).unwrap(), 0xCAFE);
    assert_eq!(q.rd(ICS, 4), 1);
    // IM=0: sent at once (IEUADDR:IEADDR, IEDATA), IP clear.
    assert_eq!(
        q.m.take_events(),
        vec![Msi {
            addr: 0x2_FEE0_1000,
            data: 0x4061
        }]
    );
    assert_eq!(q.rd(IECTL, 4), 0);
}

#[test]
fn wait_status_write_error_is_iqe_2_and_if_not_done() {
    let mut q = Q::default();
    q.m.reg_write(&mut q.mem, IECTL, 4, 0).unwrap();
    q.mem.inject_error(Hpa(STATUS), 4);
    q.submit(&[wait_sw(1), (0x0000_0001_0000_0035, STATUS)]);
    assert!(q.iqe());
    assert_eq!(q.iqei(), 2);
    assert_eq!(q.rd(IQH, 8), 0, "IQH stays on the wait descriptor");
    assert_eq!(q.rd(ICS, 4), 0);
}

#[test]
fn if_with_im_1_latches_ip_until_unmasked_and_iwc_already_set_does_nothing() {
    let mut q = Q::default();
    q.submit(&[WAIT_IF]);
    assert_eq!(q.rd(ICS, 4), 1);
    assert_eq!(q.rd(IECTL, 4), 0xC000_0000, "IM=1, IP=1");
    assert!(q.m.take_events().is_empty());
    // IWC already 1: a second IF wait changes nothing.
    q.submit(&[WAIT_IF]);
    assert_eq!(q.rd(IECTL, 4), 0xC000_0000);
    // Unmask: the pending event goes out, IP clears.
    q.wr(IECTL, 4, 0);
    assert_eq!(
        q.m.take_events(),
        vec![Msi {
            addr: 0x2_FEE0_1000,
            data: 0x4061
        }]
    );
    assert_eq!(q.rd(IECTL, 4), 0);
    // IWC still set: another IF wait sends nothing.
    q.submit(&[WAIT_IF]);
    assert!(q.m.take_events().is_empty());
    // Clear IWC (RW1C), then an IF wait sends again.
    q.wr(ICS, 4, 1);
    assert_eq!(q.rd(ICS, 4), 0);
    q.submit(&[WAIT_IF]);
    assert_eq!(q.m.take_events().len(), 1);
}

#[test]
fn clearing_iwc_clears_a_pending_ip() {
    let mut q = Q::default();
    q.submit(&[WAIT_IF]);
    assert_eq!(q.rd(IECTL, 4), 0xC000_0000);
    q.wr(ICS, 4, 0); // writing 0 does nothing
    assert_eq!(q.rd(ICS, 4), 1);
    q.wr(ICS, 4, 1);
    assert_eq!(q.rd(IECTL, 4), 0x8000_0000);
    q.wr(IECTL, 4, 0);
    assert!(q.m.take_events().is_empty(), "nothing pending any more");
}

#[test]
fn d5_16_if_is_bit_4_and_pd_is_bit_7() {
    let mut q = Q::default();
    q.wr(IECTL, 4, 0);
    // IF=1, PD=0: interrupt.
    q.submit(&[(0x15, 0)]);
    assert_eq!(q.m.take_events().len(), 1);
    q.wr(ICS, 4, 1);
    // IF=0, PD=1 (0x85): PD needs ECAP.PDS -> IQE reserved field (4), no interrupt.
    q.submit(&[(0x85, 0)]);
    assert!(q.iqe());
    assert_eq!(q.iqei(), 4);
    assert_eq!(q.rd(IQH, 8), 0x10);
    assert_eq!(q.rd(ICS, 4), 0);
    assert!(q.m.take_events().is_empty());
}

#[test]
fn d5_01_type_bits_11_9_make_a_different_type() {
    for q0 in [0x201u64, 0x205, 0x1215, 0xE04] {
        let mut q = Q::default();
        q.submit(&[(q0, 0)]);
        assert!(q.iqe(), "{q0:#x}");
        assert_eq!(q.iqei(), 3, "{q0:#x}");
        assert_eq!(q.rd(IQH, 8), 0, "{q0:#x}");
    }
}

/// (qw0, qw1, expected IQEI) for each invalid descriptor case of the default identity.
const BAD: &[(u64, u64, u64)] = &[
    (0x00, 0, 3),               // type 0
    (0x03, 0, 3),               // device-TLB with ECAP.DT=0
    (0x06, 0, 3),               // PASID-IOTLB in legacy mode
    (0x07, 0, 3),               // PASID-cache
    (0x08, 0, 3),               // PASID device-TLB
    (0x09, 0, 3),               // page-group response
    (0x0A, 0, 3),               // type 10
    (0x0F, 0, 3),               // type 15
    (0x01, 0, 4),               // CC with G=0
    (0x11 | 1 << 6, 0, 4),      // CC reserved bit 6
    (0x11 | 1 << 50, 0, 4),     // CC reserved bit 50
    (0x11, 1, 4),               // CC qw1 reserved
    (0x02, 0, 4),               // IOTLB with G=0
    (0x12 | 1 << 8, 0, 4),      // IOTLB qw0 reserved bit 8
    (0x32, 1 << 7, 4),          // IOTLB qw1 reserved bit 7
    (0x32, 19, 4),              // PSI with AM=19 > MAMV=18
    (0x14 | 16 << 27, 0, 4),    // IEC index-selective IM=16 > MHMV=15
    (0x04 | 1 << 5, 0, 4),      // IEC reserved bit 5
    (0x04, 1 << 63, 4),         // IEC qw1 reserved
    (0x25 | 1 << 8, STATUS, 4), // wait reserved bit 8
    (0x25, STATUS | 1, 4),      // wait STATUS ADDR bit 0 reserved
];

#[test]
fn invalid_descriptors_stop_the_queue_with_their_iqei() {
    for &(q0, q1, iqei) in BAD {
        let mut q = Q::default();
        q.wr(FECTL, 4, 0);
        q.wr(FEDATA, 4, 0x4022);
        q.wr(FEADDR, 4, 0xFEE0_0000);
        // A good wait, the bad descriptor, then a wait that must not run.
        q.submit(&[wait_sw(1), (q0, q1), wait_sw(2)]);
        let case = format!("{q0:#x}/{q1:#x}");
        assert!(q.iqe(), "{case}");
        assert_eq!(q.iqei(), iqei, "{case}");
        assert_eq!(q.rd(IQH, 8), 0x10, "{case}: IQH on the bad descriptor");
        assert_eq!(q.mem.read_u32(Hpa(STATUS)).unwrap(), 1, "{case}");
        // IQE raises the fault event (FECTL.IM=0).
        assert_eq!(
            q.m.take_events(),
            vec![Msi {
                addr: 0xFEE0_0000,
                data: 0x4022
            }],
            "{case}"
        );
    }
}

#[test]
fn psi_without_cap_psi_is_iqe_4() {
    let cfg = {
        let mut c = ModelConfig::default();
        c.cap.psi = false;
        c
    };
    let mut q = Q::new(cfg, 0);
    // Page-selective IOTLB: G=11, DID 1, ADDR 0x5000, AM 0.
    q.submit(&[(0x0001_0032, 0x5000)]);
    assert_eq!(q.iqei(), 4);
    // Domain-selective is fine.
    let mut q = Q::new(
        {
            let mut c = ModelConfig::default();
            c.cap.psi = false;
            c
        },
        0,
    );
    q.submit(&[(0x0001_0022, 0), wait_sw(3)]);
    assert!(!q.iqe());
    assert_eq!(q.mem.read_u32(Hpa(STATUS)).unwrap(), 3);
}

#[test]
fn iec_descriptor_without_ecap_ir_is_an_invalid_type() {
    let cfg = {
        let mut c = ModelConfig::default();
        c.ecap.ir = false;
        c
    };
    let mut q = Q::new(cfg, 0);
    q.submit(&[(0x04, 0)]);
    assert_eq!(q.iqei(), 3);
}

#[test]
fn valid_descriptors_of_every_legacy_kind_run() {
    let mut q = Q::default();
    q.submit(&[
        (0x11, 0),                                // CC global
        (0x0005_0021, 0),                         // CC domain DID 5
        (0x0003_0300_0005_0031, 0),               // CC device SID 03:00.0, FM 11
        (0x12 | 1 << 6 | 1 << 7, 0),              // IOTLB global, DW, DR
        (0x0005_0022, 0),                         // IOTLB domain DID 5
        (0x0005_0032, 0x1234_5000 | 1 << 6 | 18), // IOTLB page, IH, AM=18 (= MAMV)
        (0x04, 0),                                // IEC global
        (0x0000_0123_0000_0014 | 15 << 27, 0),    // IEC index, IM=15 (= MHMV), IIDX 0x123
        (0x45, 0),                                // wait FN=1
        wait_sw(0xBEEF),
    ]);
    assert!(!q.iqe());
    assert_eq!(q.rd(IQH, 8), 0xA0);
    assert_eq!(q.mem.read_u32(Hpa(STATUS)).unwrap(), 0xBEEF);
}

#[test]
fn tail_beyond_queue_is_iqe_1_and_dw_1_is_iqe_5() {
    let mut q = Q::default();
    // QS=0: 4096 bytes; IQT = 0x1000 is outside.
    q.wr(IQT, 4, 0x1000);
    assert!(q.iqe());
    assert_eq!(q.iqei(), 1);
    assert_eq!(q.rd(IQH, 8), 0);

    // DW=1 (256-bit) without SMTS/ADMS: IQE with IQEI=5 at the first fetch, not before.
    let mut m = Model::new(ModelConfig::default());
    let mut mem = HostMemory::new();
    m.reg_write(&mut mem, IQA, 8, QBASE | 1 << 11).unwrap();
    m.reg_write(&mut mem, GCMD, 4, QIE).unwrap();
    assert_eq!(m.reg_read(&mut mem, FSTS, 4).unwrap() & 0x10, 0);
    m.reg_write(&mut mem, IQT, 4, 0x20).unwrap();
    assert_eq!(m.reg_read(&mut mem, FSTS, 4).unwrap() & 0x10, 0x10);
    assert_eq!(m.reg_read(&mut mem, IQERCD, 8).unwrap(), 5);
    // With 256-bit descriptors a tail with bit 4 set is misaligned: IQEI=6.
    let mut m = Model::new(ModelConfig::default());
    m.reg_write(&mut mem, IQA, 8, QBASE | 1 << 11).unwrap();
    m.reg_write(&mut mem, GCMD, 4, QIE).unwrap();
    m.reg_write(&mut mem, IQT, 4, 0x30).unwrap();
    assert_eq!(m.reg_read(&mut mem, IQERCD, 8).unwrap(), 6);
}

#[test]
fn fetch_error_pins_iqh_and_recovery_needs_iqe_clear_plus_iqt_write() {
    let mut q = Q::default();
    q.put(&[wait_sw(1), wait_sw(2), wait_sw(3)]);
    q.mem.inject_error(Hpa(QBASE + 0x18), 1);
    q.wr(IQT, 4, 0x30);
    assert!(q.iqe());
    assert_eq!(q.iqei(), 2);
    assert_eq!(q.rd(IQH, 8), 0x10);
    q.mem.clear_errors();
    // IQT write while IQE=1: nothing runs.
    q.wr(IQT, 4, 0x30);
    assert_eq!(q.rd(IQH, 8), 0x10);
    // Clearing IQE alone does not restart the queue.
    q.wr(FSTS, 4, 0x10);
    assert!(!q.iqe());
    assert_eq!(q.rd(IQH, 8), 0x10);
    // The next IQT write does.
    q.wr(IQT, 4, 0x30);
    assert_eq!(q.rd(IQH, 8), 0x30);
    assert_eq!(q.mem.read_u32(Hpa(STATUS)).unwrap(), 3);
    // IQERCD keeps the last error code.
    assert_eq!(q.iqei(), 2);
}

#[test]
fn qword_iqt_write_runs_the_queue() {
    let mut q = Q::default();
    q.put(&[wait_sw(0x77)]);
    q.wr(IQT, 8, 0x10);
    assert_eq!(q.mem.read_u32(Hpa(STATUS)).unwrap(), 0x77);
    // An upper-dword IQT write does not run anything.
    q.put(&[wait_sw(0x88)]);
    q.wr(IQT + 4, 4, 0);
    assert_eq!(q.mem.read_u32(Hpa(STATUS)).unwrap(), 0x77);
}

/// Interrupt-remapping set-up on top of `q`: table at 0x10_0000 (S=7, xAPIC, CFI=1) with an
/// IRTE at index 6: P, V=0x31, destination 0x12 -> message (0xFEE1_2000, 0x4031).
fn with_ir(q: &mut Q) -> Request {
    q.wr(0xB8, 8, 0x0010_0007);
    q.wr(GCMD, 4, QIE | 1 << 24);
    q.wr(GCMD, 4, QIE | 1 << 25 | 1 << 23);
    q.mem
        .write_u64(Hpa(0x0010_0060), 0x0000_1200_0031_0001)
        .unwrap();
    // MSI from 03:00.0 to handle 6: 0xFEE0_0000 | 6<<5 | 1<<4.
    Request {
        hdr: [0x4000_0001, 0x0300_000F, 0xFEE0_00D0, 0],
        data0: 0,
    }
}

#[test]
fn d5_11_queued_iec_invalidation_ends_the_stale_window() {
    let mut q = Q::default();
    let r = with_ir(&mut q);
    let old = Outcome::Interrupt {
        msi: Msi {
            addr: 0xFEE1_2000,
            data: 0x4031,
        },
    };
    assert_eq!(q.m.process(&mut q.mem, &r), old);
    // New vector 0x32 without invalidation: both allowed.
    q.mem
        .write_u64(Hpa(0x0010_0060), 0x0000_1200_0032_0001)
        .unwrap();
    let new = Outcome::Interrupt {
        msi: Msi {
            addr: 0xFEE1_2000,
            data: 0x4032,
        },
    };
    assert_eq!(q.m.evaluate(&q.mem, &r).to_vec(), vec![new, old]);
    // Index-selective IIDX 8, IM=1 (8..=9): does not cover 6.
    q.submit(&[(0x0000_0008_0000_0014 | 1 << 27, 0)]);
    assert_eq!(q.m.evaluate(&q.mem, &r).len(), 2);
    // Index-selective IIDX 7, IM=1 -> aligned down to 6..=7: covers 6.
    q.submit(&[(0x0000_0007_0000_0014 | 1 << 27, 0)]);
    assert_eq!(q.m.evaluate(&q.mem, &r).to_vec(), vec![new]);
    // Observe the new one, change again, then a global IEC invalidation.
    q.m.process(&mut q.mem, &r);
    q.mem
        .write_u64(Hpa(0x0010_0060), 0x0000_1200_0033_0001)
        .unwrap();
    assert_eq!(q.m.evaluate(&q.mem, &r).len(), 2);
    q.submit(&[(0x04, 0)]);
    assert!(q.m.evaluate(&q.mem, &r).is_single());
}

#[test]
fn queued_iotlb_invalidation_ends_a_stale_dma_translation() {
    // Legacy tables (A5-A7): root table 0x1000, bus 3 -> context table 0x2000; devfn 0:
    // P, TT=00, SLPTPTR 0x3000, AW=2 (4-level), DID 1; PML4 0x3000 -> PDPT 0x4000 -> PD 0x5000
    // -> PT 0x6000, every entry R|W; PT[0] -> page 0x80_0000.
    let mut q = Q::default();
    let mem = &mut q.mem;
    mem.write_u64(Hpa(0x1000 + 3 * 16), 0x2001).unwrap();
    mem.write_u64(Hpa(0x2000), 0x3001).unwrap();
    mem.write_u64(Hpa(0x2008), 0x0102).unwrap();
    mem.write_u64(Hpa(0x3000), 0x4003).unwrap();
    mem.write_u64(Hpa(0x4000), 0x5003).unwrap();
    mem.write_u64(Hpa(0x5000), 0x6003).unwrap();
    mem.write_u64(Hpa(0x6000), 0x0080_0003).unwrap();
    q.wr(0x20, 8, 0x1000);
    q.wr(GCMD, 4, QIE | 1 << 30);
    q.wr(GCMD, 4, QIE | 1 << 31);
    // MRd (Fmt 000, Type 0, Length 1) from 03:00.0 of IOVA 0x10.
    let rd = Request {
        hdr: [0x0000_0001, 0x0300_000F, 0x10, 0],
        data0: 0,
    };
    let old = Outcome::Forward {
        addr: Hpa(0x0080_0010),
    };
    assert_eq!(q.m.process(&mut q.mem, &rd), old);
    q.mem.write_u64(Hpa(0x6000), 0x0090_0003).unwrap();
    let new = Outcome::Forward {
        addr: Hpa(0x0090_0010),
    };
    assert!(q.m.evaluate(&q.mem, &rd).contains(&old));
    // IOTLB domain-selective for another domain (DID 2): still stale.
    q.submit(&[(0x0002_0022, 0)]);
    assert!(q.m.evaluate(&q.mem, &rd).contains(&old));
    // Page-selective DID 1, ADDR 0, AM 0, IH=0: covers it.
    q.submit(&[(0x0001_0032, 0)]);
    assert_eq!(q.m.evaluate(&q.mem, &rd).to_vec(), vec![new]);
}

#[test]
fn queued_context_cache_invalidation_ends_a_stale_context() {
    // Tables as in the IOTLB test; then the context entry moves to a new SL table at 0x7000
    // (0x7000 -> 0x8000 -> 0x9000 -> PT 0xA000, PT[0] -> page 0xA0_0000).
    let mut q = Q::default();
    let mem = &mut q.mem;
    for (a, v) in [
        (0x1000 + 3 * 16, 0x2001u64),
        (0x2000, 0x3001),
        (0x2008, 0x0102),
        (0x3000, 0x4003),
        (0x4000, 0x5003),
        (0x5000, 0x6003),
        (0x6000, 0x0080_0003),
        (0x7000, 0x8003),
        (0x8000, 0x9003),
        (0x9000, 0xA003),
        (0xA000, 0x00A0_0003),
    ] {
        mem.write_u64(Hpa(a), v).unwrap();
    }
    q.wr(0x20, 8, 0x1000);
    q.wr(GCMD, 4, QIE | 1 << 30);
    q.wr(GCMD, 4, QIE | 1 << 31);
    let rd = Request {
        hdr: [0x0000_0001, 0x0300_000F, 0x10, 0],
        data0: 0,
    };
    let old = Outcome::Forward {
        addr: Hpa(0x0080_0010),
    };
    let new = Outcome::Forward {
        addr: Hpa(0x00A0_0010),
    };
    assert_eq!(q.m.process(&mut q.mem, &rd), old);
    q.mem.write_u64(Hpa(0x2000), 0x7001).unwrap();
    // IOTLB domain-selective DID 1: the cached context still leads to the old table.
    q.submit(&[(0x0001_0022, 0)]);
    assert_eq!(q.m.evaluate(&q.mem, &rd).to_vec(), vec![new, old]);
    // CC device-selective for 03:01.0 (SID 0x0308, FM 0): not this device.
    q.submit(&[(0x0000_0308_0001_0031, 0)]);
    assert_eq!(q.m.evaluate(&q.mem, &rd).len(), 2);
    // CC device-selective for 03:00.0.
    q.submit(&[(0x0000_0300_0001_0031, 0)]);
    assert_eq!(q.m.evaluate(&q.mem, &rd).to_vec(), vec![new]);
}
