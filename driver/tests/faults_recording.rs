//! Fault recording rules (spec A10 + decisions.md): PFO overflow with NFR+1 records, compression
//! (same SID + same FR dropped; same SID with a different FR logged), FRI wrap, and the fault-event
//! rule (no new event while PPF/PFO/IQE was already set).

mod os_common;
use os_common::*;

use iommu_driver::model::Msi;
use iommu_driver::os::{unit, OsError};
use iommu_driver::Rid;

const ADDR: u64 = IOVA + 0x10;
const UNMAPPED: u64 = 0x7000_0000;
/// Requesters on bus 5 (no root entry): each read faults with 1h.
fn stranger(i: u16) -> Rid {
    Rid(0x0500 + i)
}
const FE: Msi = Msi {
    addr: FE_ADDR,
    data: FE_DATA,
};

#[test]
fn default_unit_has_eight_fault_records() {
    let os = os();
    // CAP.NFR = 7 -> 8 records at FRO*16 = 0x200.
    assert_eq!(os.caps().num_fault_records, 8);
    assert_eq!(os.caps().frcd_offset, 0x200);
}

#[test]
fn pfo_overflow_with_nfr_plus_one_faults() {
    let mut os = dma_setup();
    for i in 0..9 {
        assert_eq!(read(&mut os, stranger(i), ADDR), ur(0x01));
    }
    for i in 0..8u16 {
        assert_eq!(
            frcd(&mut os, i),
            frcd_dma(0x01, stranger(i), ADDR, true, 0),
            "FRCD[{i}]"
        );
    }
    // PFO | PPF, FRI = 0.
    assert_eq!(fsts(&mut os), 0x0000_0003);
    assert_eq!(events(&mut os), vec![FE], "one event, for the first fault");
    let rep = os.handle_faults().unwrap();
    assert!(rep.pfo() && rep.ppf());
    let sids: Vec<u16> = rep.records.iter().map(|r| r.sid().0).collect();
    assert_eq!(sids, (0x0500..0x0508).collect::<Vec<_>>());
    assert_eq!(fsts(&mut os), 0);
    // Next record goes to index 8 mod 8 = 0.
    read(&mut os, stranger(9), ADDR);
    assert_eq!(frcd(&mut os, 0), frcd_dma(0x01, stranger(9), ADDR, true, 0));
    assert_eq!(fsts(&mut os), fsts_ppf(0));
}

#[test]
fn pfo_blocks_recording_until_cleared() {
    let mut os = dma_setup();
    for i in 0..9 {
        read(&mut os, stranger(i), ADDR);
    }
    // Clear F of every record but leave PFO set: faults are still dropped (A10 step 2).
    for i in 0..8u16 {
        let off = 0x200 + 16 * i + 12;
        iommu_driver::platform::Platform::write32(os.platform_mut(), off, 1 << 31).unwrap();
    }
    assert_eq!(fsts(&mut os), unit::FSTS_PFO);
    read(&mut os, stranger(10), ADDR);
    assert_eq!(frcd(&mut os, 0) >> 127, 0, "dropped while PFO=1");
    iommu_driver::platform::Platform::write32(os.platform_mut(), unit::FSTS_REG, unit::FSTS_PFO)
        .unwrap();
    read(&mut os, stranger(11), ADDR);
    assert_eq!(
        frcd(&mut os, 0),
        frcd_dma(0x01, stranger(11), ADDR, true, 0)
    );
}

#[test]
fn compression_same_sid_same_reason_dropped() {
    let mut os = dma_setup();
    // Two reads of unmapped pages from DEV: 6h twice (different addresses).
    assert_eq!(read(&mut os, DEV, UNMAPPED), ur(0x06));
    assert_eq!(read(&mut os, DEV, UNMAPPED + 0x1000), ur(0x06));
    assert_eq!(frcd(&mut os, 0), frcd_dma(0x06, DEV, UNMAPPED, true, 0));
    assert_eq!(
        frcd(&mut os, 1),
        0,
        "same SID + same FR is not logged again"
    );
    // Same SID, different FR (a write: 5h) is logged.
    assert_eq!(write(&mut os, DEV, UNMAPPED + 0x2000), dropped(0x05));
    assert_eq!(
        frcd(&mut os, 1),
        frcd_dma(0x05, DEV, UNMAPPED + 0x2000, false, 0)
    );
    // Different SID, same FR is logged.
    read(&mut os, stranger(0), ADDR);
    read(&mut os, stranger(1), ADDR);
    assert_eq!(frcd(&mut os, 2), frcd_dma(0x01, stranger(0), ADDR, true, 0));
    assert_eq!(frcd(&mut os, 3), frcd_dma(0x01, stranger(1), ADDR, true, 0));
    assert_eq!(fsts(&mut os), fsts_ppf(0));
}

#[test]
fn compression_ends_when_record_cleared() {
    let mut os = dma_setup();
    read(&mut os, DEV, UNMAPPED);
    os.handle_faults().unwrap();
    // The pending record is gone: the same SID + FR is logged again, at the next index (1).
    read(&mut os, DEV, UNMAPPED);
    assert_eq!(frcd(&mut os, 1), frcd_dma(0x06, DEV, UNMAPPED, true, 0));
    assert_eq!(fsts(&mut os), fsts_ppf(1));
}

#[test]
fn fri_wraps_around() {
    let mut os = dma_setup();
    for i in 0..6 {
        read(&mut os, stranger(i), ADDR);
    }
    let rep = os.handle_faults().unwrap();
    assert_eq!(rep.records.len(), 6);
    events(&mut os);
    for i in 6..10 {
        read(&mut os, stranger(i), ADDR);
    }
    // Records land in 6, 7, 0, 1; FRI = 6.
    assert_eq!(fsts(&mut os), fsts_ppf(6));
    for (idx, i) in [(6u16, 6u16), (7, 7), (0, 8), (1, 9)] {
        assert_eq!(
            frcd(&mut os, idx),
            frcd_dma(0x01, stranger(i), ADDR, true, 0)
        );
    }
    let rep = os.handle_faults().unwrap();
    let order: Vec<(u16, u16)> = rep.records.iter().map(|r| (r.index, r.sid().0)).collect();
    assert_eq!(
        order,
        vec![(6, 0x0506), (7, 0x0507), (0, 0x0508), (1, 0x0509)]
    );
    // PPF clear; FRI is read-only and keeps the index it was last set to (A10 step 5 only
    // updates it when PPF goes 0 -> 1).
    assert_eq!(fsts(&mut os), 6 << 8);
}

#[test]
fn fault_event_only_when_no_status_was_set() {
    let mut os = dma_setup();
    read(&mut os, stranger(0), ADDR);
    assert_eq!(events(&mut os), vec![FE]);
    // PPF already set: the second fault is logged but raises no event.
    read(&mut os, stranger(1), ADDR);
    assert_eq!(frcd(&mut os, 1) >> 127, 1);
    assert!(events(&mut os).is_empty());
    os.handle_faults().unwrap();
    read(&mut os, stranger(2), ADDR);
    assert_eq!(events(&mut os), vec![FE], "status clear again: new event");
}

#[test]
fn fault_event_suppressed_while_iqe_set() {
    let mut os = dma_setup();
    // A context-cache descriptor with a reserved qword1 bit: IQE (and its own fault event).
    let err = os
        .qi_submit_and_wait(&[(0x1 | 1 << 4, 1)], unit::WaitKind::StatusWrite)
        .unwrap_err();
    assert!(matches!(err, OsError::Queue(_)), "{err:?}");
    assert_eq!(fsts(&mut os) & unit::FSTS_IQE, unit::FSTS_IQE);
    assert_eq!(events(&mut os), vec![FE], "IQE raises the fault event");
    // A DMA fault while IQE=1 is logged without a new event.
    read(&mut os, stranger(0), ADDR);
    assert_eq!(frcd(&mut os, 0), frcd_dma(0x01, stranger(0), ADDR, true, 0));
    assert_eq!(fsts(&mut os), unit::FSTS_IQE | fsts_ppf(0));
    assert!(events(&mut os).is_empty());
}

#[test]
fn fault_records_are_listed_without_clearing_them() {
    let mut os = dma_setup();
    assert_eq!(read(&mut os, stranger(1), ADDR), ur(0x01));
    assert_eq!(read(&mut os, stranger(2), ADDR), ur(0x01));
    let recs = os.fault_records().unwrap();
    assert_eq!(recs.len(), 2);
    let r = recs[1].record();
    assert_eq!(
        (recs[1].index, r.fr, r.sid, r.t, r.f),
        (1, 0x01, stranger(2), true, true)
    );
    assert_eq!(r.fi, ADDR & !0xFFF);
    // Listing again finds the same records: nothing was cleared, PPF stays.
    assert_eq!(os.fault_records().unwrap(), recs);
    assert_eq!(fsts(&mut os), fsts_ppf(0));
    // The handler takes them; then there is nothing to list.
    assert_eq!(os.handle_faults().unwrap().records, recs);
    assert!(os.fault_records().unwrap().is_empty());
}
