//! Fault reason codes (A9, B7) and the FRCD layout (A10) against hand-assembled hex.

use iommu_driver::vtd::fault::FaultReason;
use iommu_driver::vtd::frcd::FaultRecord;
use iommu_driver::{Iova, Rid};

#[test]
fn fault_codes_and_qualification() {
    use FaultReason::*;
    // (code, reason, qualified) from the A9 and B7 tables.
    let table = [
        (0x01, RootEntryNotPresent, false),
        (0x02, ContextEntryNotPresent, true),
        (0x03, InvalidContextEntry, true),
        (0x04, AddressBeyondAgaw, true),
        (0x05, WriteNotPermitted, true),
        (0x06, ReadNotPermitted, true),
        (0x07, SlTableReadError, true),
        (0x08, RootTableReadError, false),
        (0x09, ContextTableReadError, false),
        (0x0A, RootEntryReserved, false),
        (0x0B, ContextEntryReserved, false),
        (0x0C, SlEntryReserved, true),
        (0x0D, TranslationRequestBlocked, true),
        (0x0E, OutputInInterruptRange, true),
        (0x20, IrRequestReserved, false),
        (0x21, IrIndexOutOfRange, false),
        (0x22, IrteNotPresent, true),
        (0x23, IrteReadError, false),
        (0x24, IrteReserved, true),
        (0x25, CompatInterruptBlocked, false),
        (0x26, IrSidCheckFailed, true),
        (0x27, PidReadError, true),
        (0x28, PidReserved, true),
        (0x29, IrRequestInvalid, false),
        (0x30, InvalidRootTableType, false),
    ];
    assert_eq!(table.len(), FaultReason::ALL.len());
    for (code, r, q) in table {
        assert_eq!(r.code(), code);
        assert_eq!(FaultReason::from_code(code), Some(r));
        assert_eq!(r.is_qualified(), q, "{r}");
        assert_eq!(r.is_interrupt_remapping(), (0x20..=0x2F).contains(&code));
        assert_eq!(u8::from(r), code);
        assert_eq!(FaultReason::try_from(code), Ok(r));
    }
    for code in [0x00u8, 0x0F, 0x1F, 0x2A, 0x2F, 0x31, 0x87, 0xFF] {
        assert_eq!(FaultReason::from_code(code), None);
    }
}

#[test]
fn frcd_with_pasid_keeps_other_fields_d5_4() {
    // FI 0x1234_5000, SID 0x0300, PP=1 (bit 95 = qword1 bit 31), FR=6 (qword1 39:32),
    // PV=0xFFFFF (qword1 59:40), T=1 read (qword1 bit 62), F=1 (qword1 bit 63):
    // qword1 = 0x8000.. | 0x4000.. | 0x0FFF_FF00_0000_0000 | 0x6_0000_0000 | 0x8000_0000 | 0x0300.
    let qw0 = 0x0000_0000_1234_5000u64;
    let qw1 = 0xCFFF_FF06_8000_0300u64;
    let raw = (qw1 as u128) << 64 | qw0 as u128;
    let f = FaultRecord::decode(raw);
    assert_eq!(f.fi, 0x1234_5000);
    assert_eq!(f.sid, Rid(0x0300));
    assert!(f.pp && f.t && f.f);
    assert!(!f.t2 && !f.priv_ && !f.exe);
    assert_eq!(f.fr, 6);
    assert_eq!(f.pv, 0xFFFFF);
    assert_eq!(f.at, 0);
    assert_eq!(f.reason(), Some(FaultReason::ReadNotPermitted));
    assert_eq!(f.encode(), raw);
    let built = FaultRecord {
        fi: 0x1234_5000,
        sid: Rid(0x0300),
        t2: false,
        priv_: false,
        exe: false,
        pp: true,
        fr: 6,
        pv: 0xFFFFF,
        at: 0,
        t: true,
        f: true,
    };
    assert_eq!(built.encode(), raw);
}

#[test]
fn frcd_remaining_bits() {
    // T2 bit 92 (qword1 28), PRIV 93 (29), EXE 94 (30), AT=10 in 125:124 (qword1 61:60).
    let qw1 = 0x2000_0000_7000_0000u64;
    let f = FaultRecord::decode((qw1 as u128) << 64);
    assert!(f.t2 && f.priv_ && f.exe && !f.pp && !f.t && !f.f);
    assert_eq!(f.at, 2);
    // Reserved 11:0 and 91:80 decode to nothing.
    assert_eq!(FaultRecord::RESERVED, (0xFFFu128 << 80) | 0xFFF);
    assert_eq!(
        FaultRecord::decode(FaultRecord::RESERVED),
        FaultRecord::default()
    );
}

#[test]
fn frcd_constructors() {
    // Write fault 5h at IOVA 0x1234_5678 from 03:00.0: FI = 0x1234_5000; qword1 = F | FR 5 | SID.
    let d = FaultRecord::dma(
        Rid(0x0300),
        Iova(0x1234_5678),
        FaultReason::WriteNotPermitted,
        false,
        0,
    );
    assert_eq!(d.encode(), (0x8000_0005_0000_0300u128 << 64) | 0x1234_5000);
    // Read fault 6h: T=1 (qword1 bit 62).
    let r = FaultRecord::dma(
        Rid(0x0300),
        Iova(0x1234_5678),
        FaultReason::ReadNotPermitted,
        true,
        0,
    );
    assert_eq!(r.encode(), (0xC000_0006_0000_0300u128 << 64) | 0x1234_5000);
    // IR fault 22h for index 0x1236: FI[63:48] = 0x1236.
    let i = FaultRecord::ir(Rid(0x0300), 0x1236, FaultReason::IrteNotPresent);
    assert_eq!(
        i.encode(),
        (0x8000_0022_0000_0300u128 << 64) | 0x1236_0000_0000_0000
    );
    assert_eq!(FaultRecord::decode(i.encode()).ir_index(), 0x1236);
}

#[test]
fn fault_30h_invalid_root_table_type() {
    // A9 scalable-mode table, RTA.1.x: FR 30h "invalid RTA / TTM"; not qualified (no context
    // entry, so no FPD), and a DMA fault (FI is the page address), not an IR one.
    let r = FaultReason::InvalidRootTableType;
    assert_eq!(r.code(), 0x30);
    assert_eq!(FaultReason::from_code(0x30), Some(r));
    assert!(!r.is_qualified());
    assert!(!r.is_interrupt_remapping());
    assert_eq!(r.to_string(), format!("0x30 ({})", r.description()));
    // Read at IOVA 0x0007_6543_2ABC from 00:1f.2 (SID 0x00FA): FI = 0x7_6543_2000;
    // qword1 = F (bit 63) | T (bit 62, read) | FR 30h (39:32) | SID: 0xC000_0030_0000_00FA.
    let raw = (0xC000_0030_0000_00FAu128 << 64) | 0x0000_0007_6543_2000;
    let d = FaultRecord::dma(Rid(0x00FA), Iova(0x0007_6543_2ABC), r, true, 0);
    assert_eq!(d.encode(), raw);
    let f = FaultRecord::decode(raw);
    assert_eq!(f.fr, 0x30);
    assert_eq!(f.reason(), Some(r));
    assert_eq!(f.fi, 0x0007_6543_2000);
    // The same write fault: T=0, so qword1 = 0x8000_0030_0000_00FA.
    let w = FaultRecord::dma(Rid(0x00FA), Iova(0x0007_6543_2ABC), r, false, 0);
    assert_eq!(
        w.encode(),
        (0x8000_0030_0000_00FAu128 << 64) | 0x0007_6543_2000
    );
}
