//! One named test per interrupt-remapping fault code 20h..28h (spec B3/B7, decisions.md), each
//! through an MSI TLP from a device, with the FRCD read through registers: FR, SID,
//! FI[63:48] = interrupt index (A10), F=1, T=0 (an interrupt request is a write), AT=0.
//! FPD suppression for the qualified codes 22h/24h/26h/27h/28h.

mod os_common;
use os_common::*;

use iommu_driver::model::{Msi, Outcome};
use iommu_driver::os::{unit, MsiMessage, PostedInterruptDescriptor, PostedIrte, RemappedIrte};
use iommu_driver::Rid;

/// IRTA.S = 3: 16 entries.
const S: u8 = 3;
const OTHER: Rid = Rid(0x0418);

/// x2APIC (EIME=1) unit with IRTE `idx` = fixed vector 0x30 to APIC 1, SVT=01 SID=DEV.
fn with_irte(idx: u32) -> Os {
    let mut os = ir_setup(S, true, false);
    os.set_irte_remapped(idx, &RemappedIrte::new(0x30, 1).verify_requester(DEV))
        .unwrap();
    os
}

fn send(os: &mut Os, rid: Rid, m: MsiMessage) -> Outcome {
    msi(os, rid, m.addr, m.data)
}

fn expect_recorded(os: &mut Os, got: Outcome, code: u8, sid: Rid, index: u16) {
    assert_eq!(got, dropped(code));
    assert_eq!(
        frcd(os, 0),
        frcd_ir(code, sid, index),
        "FRCD[0] = {:#034x}",
        frcd(os, 0)
    );
    assert_eq!(fsts(os), fsts_ppf(0));
    assert_eq!(
        events(os),
        vec![Msi {
            addr: FE_ADDR,
            data: FE_DATA
        }]
    );
}

fn expect_suppressed(os: &mut Os, got: Outcome, code: u8) {
    assert_eq!(got, dropped(code));
    assert_eq!(frcd(os, 0), 0);
    assert_eq!(fsts(os), 0);
    assert!(events(os).is_empty());
}

#[test]
fn remappable_msi_worked_example_address() {
    // Spec B2: handle 0x1234, SHV=1 -> 0xFEE2_4698; data 2 -> index 0x1236.
    let m = MsiMessage::remappable(0x1234, Some(2));
    assert_eq!((m.addr, m.data), (0xFEE2_4698, 2));
}

#[test]
fn remapped_interrupt_delivered() {
    let mut os = with_irte(5);
    let o = send(&mut os, DEV, MsiMessage::remappable(5, None));
    // B6: addr = 0xFEE<<20 | dest[7:0]<<12 (RH=DM=0); x2APIC dest 1 -> 0xFEE0_1000, upper 0.
    // data = V | DLM<<8 | 1<<14 | TM<<15 = 0x4030.
    assert_eq!(
        o,
        Outcome::Interrupt {
            msi: Msi {
                addr: 0xFEE0_1000,
                data: 0x4030
            }
        }
    );
    assert_eq!(fsts(&mut os), 0);
}

#[test]
fn remapped_interrupt_x2apic_high_destination() {
    let mut os = ir_setup(S, true, false);
    let e = RemappedIrte {
        dm: true,
        rh: true,
        tm: true,
        dlm: 1,
        ..RemappedIrte::new(0x41, 0x0001_2345).verify_requester(DEV)
    };
    os.set_irte_remapped(2, &e).unwrap();
    let o = send(&mut os, DEV, MsiMessage::remappable(2, None));
    // addr = 0xFEE<<20 | 0x45<<12 | RH<<3 | DM<<2, addr_hi = 0x0001_2300;
    // data = 0x41 | 1<<8 | 1<<14 | 1<<15 = 0xC141.
    assert_eq!(
        o,
        Outcome::Interrupt {
            msi: Msi {
                addr: 0x0001_2300_FEE4_500C,
                data: 0xC141
            }
        }
    );
}

// ---- 20h reserved fields in the request ----

#[test]
fn fault_20h_request_reserved_data_high() {
    let mut os = with_irte(5);
    let mut m = MsiMessage::remappable(5, Some(0));
    m.data |= 0x0001_0000;
    let o = send(&mut os, DEV, m);
    // decisions.md: checked before the IRTE fetch, FI index 0.
    expect_recorded(&mut os, o, 0x20, DEV, 0);
}

#[test]
fn fault_20h_request_reserved_data_high_without_shv() {
    let mut os = with_irte(5);
    let mut m = MsiMessage::remappable(5, None);
    m.data = 0x8000_0000;
    let o = send(&mut os, DEV, m);
    expect_recorded(&mut os, o, 0x20, DEV, 0);
}

// ---- 21h index beyond the table ----

#[test]
fn fault_21h_index_out_of_range() {
    let mut os = with_irte(5);
    let o = send(&mut os, DEV, MsiMessage::remappable(16, None));
    expect_recorded(&mut os, o, 0x21, DEV, 16);
}

#[test]
fn fault_21h_index_out_of_range_via_subhandle() {
    let mut os = with_irte(15);
    // handle 15 + subhandle 1 = 16 >= 2^(S+1).
    let o = send(&mut os, DEV, MsiMessage::remappable(15, Some(1)));
    expect_recorded(&mut os, o, 0x21, DEV, 16);
}

// ---- 22h IRTE not present (qualified) ----

#[test]
fn fault_22h_irte_not_present() {
    let mut os = with_irte(5);
    let o = send(&mut os, DEV, MsiMessage::remappable(6, None));
    expect_recorded(&mut os, o, 0x22, DEV, 6);
}

#[test]
fn fault_22h_irte_not_present_fpd_suppressed() {
    let mut os = with_irte(5);
    // P=0, FPD=1.
    os.write_irte_raw(6, 0b10).unwrap();
    let o = send(&mut os, DEV, MsiMessage::remappable(6, None));
    expect_suppressed(&mut os, o, 0x22);
}

// ---- 23h error reading the IRTE ----

#[test]
fn fault_23h_irte_read_error() {
    let mut os = with_irte(7);
    let a = os.irte_addr(7).unwrap();
    os.mem().inject_error(a, 16);
    let o = send(&mut os, DEV, MsiMessage::remappable(7, None));
    expect_recorded(&mut os, o, 0x23, DEV, 7);
}

// ---- 24h reserved bits in the IRTE (qualified) ----

#[test]
fn fault_24h_irte_reserved() {
    let mut os = with_irte(5);
    // Bit 12 is reserved (B4: 14:12).
    let raw = RemappedIrte::new(0x30, 1).verify_requester(DEV).encode() | 1 << 12;
    os.write_irte_raw(5, raw).unwrap();
    let o = send(&mut os, DEV, MsiMessage::remappable(5, None));
    expect_recorded(&mut os, o, 0x24, DEV, 5);
}

#[test]
fn fault_24h_irte_reserved_high_bits() {
    let mut os = with_irte(5);
    // Bit 84 is reserved (B4: 127:84).
    let raw = RemappedIrte::new(0x30, 1).verify_requester(DEV).encode() | 1u128 << 84;
    os.write_irte_raw(5, raw).unwrap();
    let o = send(&mut os, DEV, MsiMessage::remappable(5, None));
    expect_recorded(&mut os, o, 0x24, DEV, 5);
}

#[test]
fn fault_24h_xapic_destination_reserved_bits() {
    // EIME=0: DST bits 39:32 are reserved (decisions.md).
    let mut os = ir_setup(S, false, false);
    let e = RemappedIrte::new(0x30, 0x0000_0105).verify_requester(DEV);
    os.set_irte_remapped(3, &e).unwrap();
    let o = send(&mut os, DEV, MsiMessage::remappable(3, None));
    expect_recorded(&mut os, o, 0x24, DEV, 3);
}

#[test]
fn xapic_destination_delivered() {
    let mut os = ir_setup(S, false, false);
    let e = RemappedIrte::new(0x30, RemappedIrte::xapic_dst(0x07)).verify_requester(DEV);
    os.set_irte_remapped(3, &e).unwrap();
    let o = send(&mut os, DEV, MsiMessage::remappable(3, None));
    // dest = IRTE[47:40] = 7 -> addr 0xFEE0_7000.
    assert_eq!(
        o,
        Outcome::Interrupt {
            msi: Msi {
                addr: 0xFEE0_7000,
                data: 0x4030
            }
        }
    );
}

#[test]
fn fault_24h_irte_reserved_fpd_suppressed() {
    let mut os = with_irte(5);
    let e = RemappedIrte {
        fpd: true,
        ..RemappedIrte::new(0x30, 1).verify_requester(DEV)
    };
    os.write_irte_raw(5, e.encode() | 1 << 13).unwrap();
    let o = send(&mut os, DEV, MsiMessage::remappable(5, None));
    expect_suppressed(&mut os, o, 0x24);
}

// ---- 25h compatibility format blocked ----

fn expect_25h(os: &mut Os, o: Outcome) {
    assert_eq!(o, dropped(0x25));
    let r = frcd(os, 0);
    // FR, SID and F (FI is not defined for a compatibility-format request).
    assert_eq!(r >> 64, frcd_ir(0x25, DEV, 0) >> 64);
    assert_eq!(fsts(os), fsts_ppf(0));
}

#[test]
fn fault_25h_compat_blocked_with_eime() {
    // EIME=1 blocks compatibility format even with CFI=1.
    let mut os = ir_setup(S, true, true);
    let m = MsiMessage::compat(1, 0x30);
    let o = send(&mut os, DEV, m);
    expect_25h(&mut os, o);
}

#[test]
fn fault_25h_compat_blocked_without_cfi() {
    let mut os = ir_setup(S, false, false);
    let o = send(&mut os, DEV, MsiMessage::compat(1, 0x30));
    expect_25h(&mut os, o);
}

#[test]
fn compat_passes_with_cfi_and_xapic() {
    let mut os = ir_setup(S, false, true);
    let m = MsiMessage::compat(1, 0x30);
    let o = send(&mut os, DEV, m);
    assert_eq!(
        o,
        Outcome::Interrupt {
            msi: Msi {
                addr: m.addr,
                data: m.data
            }
        }
    );
    assert_eq!(fsts(&mut os), 0);
}

// ---- 26h source-id verification failed (qualified) ----

#[test]
fn fault_26h_sid_check_failed() {
    let mut os = with_irte(5);
    let o = send(&mut os, OTHER, MsiMessage::remappable(5, None));
    expect_recorded(&mut os, o, 0x26, OTHER, 5);
}

#[test]
fn fault_26h_sid_check_failed_fpd_suppressed() {
    let mut os = ir_setup(S, true, false);
    let e = RemappedIrte {
        fpd: true,
        ..RemappedIrte::new(0x30, 1).verify_requester(DEV)
    };
    os.set_irte_remapped(5, &e).unwrap();
    let o = send(&mut os, OTHER, MsiMessage::remappable(5, None));
    expect_suppressed(&mut os, o, 0x26);
}

#[test]
fn fault_26h_svt_reserved() {
    let mut os = ir_setup(S, true, false);
    let e = RemappedIrte {
        svt: 3,
        ..RemappedIrte::new(0x30, 1).verify_requester(DEV)
    };
    os.set_irte_remapped(5, &e).unwrap();
    let o = send(&mut os, DEV, MsiMessage::remappable(5, None));
    expect_recorded(&mut os, o, 0x26, DEV, 5);
}

// ---- posted interrupts, 27h / 28h through the PID (qualified) ----

fn posted_setup(fpd: bool) -> (Os, iommu_driver::Hpa) {
    let mut os = ir_setup(S, true, false);
    let pid = os.alloc_pid().unwrap();
    let d = PostedInterruptDescriptor {
        nv: 0xF2,
        ndst: 3,
        ..Default::default()
    };
    os.write_pid(pid, &d).unwrap();
    let e = PostedIrte {
        present: true,
        fpd,
        vector: 0x61,
        pda: pid,
        sid: DEV,
        svt: 1,
        ..Default::default()
    };
    os.set_irte_posted(9, &e).unwrap();
    (os, pid)
}

#[test]
fn posted_interrupt_sets_pir_and_notifies_once() {
    let (mut os, pid) = posted_setup(false);
    let o = send(&mut os, DEV, MsiMessage::remappable(9, None));
    match o {
        Outcome::Posted {
            pid: p,
            vector,
            notify,
        } => {
            assert_eq!((p, vector), (pid, 0x61));
            assert!(notify.is_some(), "ON was 0, SN=0: notify");
        }
        other => panic!("expected Posted, got {other:?}"),
    }
    let d = os.read_pid(pid).unwrap();
    assert!(d.pir_bit(0x61) && d.on);
    // ON=1 now: the next one posts without a notification.
    let o = send(&mut os, DEV, MsiMessage::remappable(9, None));
    assert!(matches!(o, Outcome::Posted { notify: None, .. }), "{o:?}");
    assert_eq!(fsts(&mut os), 0);
}

#[test]
fn fault_27h_pid_read_error() {
    let (mut os, pid) = posted_setup(false);
    os.mem().inject_error(pid, 64);
    let o = send(&mut os, DEV, MsiMessage::remappable(9, None));
    expect_recorded(&mut os, o, 0x27, DEV, 9);
}

#[test]
fn fault_27h_pid_read_error_fpd_suppressed() {
    let (mut os, pid) = posted_setup(true);
    os.mem().inject_error(pid, 64);
    let o = send(&mut os, DEV, MsiMessage::remappable(9, None));
    expect_suppressed(&mut os, o, 0x27);
}

fn poison_pid_reserved(os: &mut Os, pid: iommu_driver::Hpa) {
    // B8: bits 271:258 reserved; bit 258 = qword4 bit 2 (byte 32, bit 2).
    let mut d = os.read_pid(pid).unwrap();
    d.other[0] |= 1 << 2;
    os.write_pid(pid, &d).unwrap();
}

#[test]
fn fault_28h_pid_reserved() {
    let (mut os, pid) = posted_setup(false);
    poison_pid_reserved(&mut os, pid);
    let o = send(&mut os, DEV, MsiMessage::remappable(9, None));
    expect_recorded(&mut os, o, 0x28, DEV, 9);
}

#[test]
fn fault_28h_pid_reserved_fpd_suppressed() {
    let (mut os, pid) = posted_setup(true);
    poison_pid_reserved(&mut os, pid);
    let o = send(&mut os, DEV, MsiMessage::remappable(9, None));
    expect_suppressed(&mut os, o, 0x28);
}

#[test]
fn ir_fault_handler_reports_index() {
    let mut os = with_irte(5);
    send(&mut os, DEV, MsiMessage::remappable(11, None));
    let rep = os.handle_faults().unwrap();
    assert_eq!(rep.records.len(), 1);
    assert_eq!(rep.records[0].fr(), 0x22);
    assert_eq!(rep.records[0].ir_index(), 11);
    assert_eq!(rep.records[0].record().fi >> 48, 11);
    assert_eq!(fsts(&mut os), 0);
    let _ = unit::FSTS_PPF;
}

#[test]
fn posted_notification_truth_table() {
    // decisions.md: X = (ON==0) && (URG==1 || SN==0); PIR[V] is set in every case, ON set iff X.
    for on in [false, true] {
        for sn in [false, true] {
            for urg in [false, true] {
                let mut os = ir_setup(S, true, false);
                let pid = os.alloc_pid().unwrap();
                let d = PostedInterruptDescriptor {
                    on,
                    sn,
                    nv: 0xF2,
                    ndst: 3,
                    ..Default::default()
                };
                os.write_pid(pid, &d).unwrap();
                let e = PostedIrte {
                    present: true,
                    urg,
                    vector: 0x61,
                    pda: pid,
                    sid: DEV,
                    svt: 1,
                    ..Default::default()
                };
                os.set_irte_posted(4, &e).unwrap();
                let x = !on && (urg || !sn);
                let o = send(&mut os, DEV, MsiMessage::remappable(4, None));
                let Outcome::Posted {
                    pid: p,
                    vector,
                    notify,
                } = o
                else {
                    panic!("ON={on} SN={sn} URG={urg}: {o:?}")
                };
                assert_eq!((p, vector), (pid, 0x61));
                assert_eq!(notify.is_some(), x, "ON={on} SN={sn} URG={urg}");
                let after = os.read_pid(pid).unwrap();
                assert!(after.pir_bit(0x61));
                assert_eq!(after.on, on || x);
                assert_eq!((after.sn, after.nv, after.ndst), (sn, 0xF2, 3));
            }
        }
    }
}
