//! Fault reason codes: legacy DMA remapping (spec A9), interrupt remapping (B7), and the one
//! root-table code (30h, spec A4/A9) a legacy-only unit reports for an unsupported TTM.

use std::fmt;

/// A VT-d fault reason (the FR field of a fault record).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum FaultReason {
    /// 1h (LRT.2): root entry P=0.
    RootEntryNotPresent = 0x01,
    /// 2h (LCT.2): context entry P=0.
    ContextEntryNotPresent = 0x02,
    /// 3h (LCT.4.x): invalid context entry (TT/AW unsupported, SLPTPTR unreadable).
    InvalidContextEntry = 0x03,
    /// 4h (LGN.1.x): input address beyond 2^min(MGAW+1, AGAW) - 1.
    AddressBeyondAgaw = 0x04,
    /// 5h (LGN.2): write to an entry without W.
    WriteNotPermitted = 0x05,
    /// 6h (LGN.3): read to an entry without R.
    ReadNotPermitted = 0x06,
    /// 7h (LSL.1): error reading a second-level table.
    SlTableReadError = 0x07,
    /// 8h (LRT.1): error reading the root entry.
    RootTableReadError = 0x08,
    /// 9h (LCT.1): error reading the context entry.
    ContextTableReadError = 0x09,
    /// Ah (LRT.3): reserved bits in a present root entry.
    RootEntryReserved = 0x0A,
    /// Bh (LCT.3): reserved bits in a present context entry.
    ContextEntryReserved = 0x0B,
    /// Ch (LSL.2): reserved bits in a present second-level entry.
    SlEntryReserved = 0x0C,
    /// Dh (LCT.5): translation or translated request blocked by TT.
    TranslationRequestBlocked = 0x0D,
    /// Eh (LGN.4): translation output in the interrupt address range.
    OutputInInterruptRange = 0x0E,
    /// 20h: reserved fields set in a remappable interrupt request (address/data).
    IrRequestReserved = 0x20,
    /// 21h: interrupt index beyond the table size.
    IrIndexOutOfRange = 0x21,
    /// 22h: IRTE P=0.
    IrteNotPresent = 0x22,
    /// 23h: error reading the IRTE.
    IrteReadError = 0x23,
    /// 24h: IRTE reserved bits set while P=1.
    IrteReserved = 0x24,
    /// 25h: compatibility-format interrupt blocked (EIME=1 or CFIS=0).
    CompatInterruptBlocked = 0x25,
    /// 26h: source-ID verification failed.
    IrSidCheckFailed = 0x26,
    /// 27h: error reading the posted-interrupt descriptor.
    PidReadError = 0x27,
    /// 28h: posted-interrupt descriptor reserved bits set.
    PidReserved = 0x28,
    /// 29h: untranslated interrupt request (without PASID) invalid.
    IrRequestInvalid = 0x29,
    /// 30h (RTA.1.x): invalid root-table address / type: the RTADDR_REG.TTM latched by the last
    /// SRTP is not a mode the unit supports (spec A4; this legacy-only unit: any TTM != 00).
    /// Not qualified: FPD cannot apply, no context entry is read.
    InvalidRootTableType = 0x30,
}

impl FaultReason {
    /// Every defined code, ascending.
    pub const ALL: [FaultReason; 25] = [
        FaultReason::RootEntryNotPresent,
        FaultReason::ContextEntryNotPresent,
        FaultReason::InvalidContextEntry,
        FaultReason::AddressBeyondAgaw,
        FaultReason::WriteNotPermitted,
        FaultReason::ReadNotPermitted,
        FaultReason::SlTableReadError,
        FaultReason::RootTableReadError,
        FaultReason::ContextTableReadError,
        FaultReason::RootEntryReserved,
        FaultReason::ContextEntryReserved,
        FaultReason::SlEntryReserved,
        FaultReason::TranslationRequestBlocked,
        FaultReason::OutputInInterruptRange,
        FaultReason::IrRequestReserved,
        FaultReason::IrIndexOutOfRange,
        FaultReason::IrteNotPresent,
        FaultReason::IrteReadError,
        FaultReason::IrteReserved,
        FaultReason::CompatInterruptBlocked,
        FaultReason::IrSidCheckFailed,
        FaultReason::PidReadError,
        FaultReason::PidReserved,
        FaultReason::IrRequestInvalid,
        FaultReason::InvalidRootTableType,
    ];

    /// The FR code.
    pub const fn code(self) -> u8 {
        self as u8
    }

    /// The reason for a code, `None` for codes this project does not define.
    pub const fn from_code(code: u8) -> Option<FaultReason> {
        use FaultReason::*;
        Some(match code {
            0x01 => RootEntryNotPresent,
            0x02 => ContextEntryNotPresent,
            0x03 => InvalidContextEntry,
            0x04 => AddressBeyondAgaw,
            0x05 => WriteNotPermitted,
            0x06 => ReadNotPermitted,
            0x07 => SlTableReadError,
            0x08 => RootTableReadError,
            0x09 => ContextTableReadError,
            0x0A => RootEntryReserved,
            0x0B => ContextEntryReserved,
            0x0C => SlEntryReserved,
            0x0D => TranslationRequestBlocked,
            0x0E => OutputInInterruptRange,
            0x20 => IrRequestReserved,
            0x21 => IrIndexOutOfRange,
            0x22 => IrteNotPresent,
            0x23 => IrteReadError,
            0x24 => IrteReserved,
            0x25 => CompatInterruptBlocked,
            0x26 => IrSidCheckFailed,
            0x27 => PidReadError,
            0x28 => PidReserved,
            0x29 => IrRequestInvalid,
            0x30 => InvalidRootTableType,
            _ => return None,
        })
    }

    /// Qualified faults are not logged when the FPD of the context entry / IRTE is set
    /// (A9 table: 2h-7h, Ch, Dh, Eh; B7 table: 22h, 24h, 26h, 27h, 28h).
    pub const fn is_qualified(self) -> bool {
        use FaultReason::*;
        matches!(
            self,
            ContextEntryNotPresent
                | InvalidContextEntry
                | AddressBeyondAgaw
                | WriteNotPermitted
                | ReadNotPermitted
                | SlTableReadError
                | SlEntryReserved
                | TranslationRequestBlocked
                | OutputInInterruptRange
                | IrteNotPresent
                | IrteReserved
                | IrSidCheckFailed
                | PidReadError
                | PidReserved
        )
    }

    /// Interrupt-remapping fault (20h..2Fh; this project defines 20h..29h): the record carries
    /// the interrupt index in FI\[63:48\].
    pub const fn is_interrupt_remapping(self) -> bool {
        matches!(self.code(), 0x20..=0x2F)
    }

    /// Short description (after the spec tables / Linux strings).
    pub const fn description(self) -> &'static str {
        use FaultReason::*;
        match self {
            RootEntryNotPresent => "root entry not present",
            ContextEntryNotPresent => "context entry not present",
            InvalidContextEntry => "invalid context entry",
            AddressBeyondAgaw => "address beyond the guest address width",
            WriteNotPermitted => "write to an entry without write permission",
            ReadNotPermitted => "read from an entry without read permission",
            SlTableReadError => "error reading a second-level table",
            RootTableReadError => "error reading the root entry",
            ContextTableReadError => "error reading the context entry",
            RootEntryReserved => "reserved bits in a root entry",
            ContextEntryReserved => "reserved bits in a context entry",
            SlEntryReserved => "reserved bits in a second-level entry",
            TranslationRequestBlocked => "translation request or translated request blocked",
            OutputInInterruptRange => "translation output in the interrupt range",
            IrRequestReserved => "reserved fields in a remappable interrupt request",
            IrIndexOutOfRange => "interrupt index beyond the table size",
            IrteNotPresent => "IRTE not present",
            IrteReadError => "error reading the IRTE",
            IrteReserved => "reserved bits in an IRTE",
            CompatInterruptBlocked => "compatibility-format interrupt blocked",
            IrSidCheckFailed => "source-ID verification failed",
            PidReadError => "error reading the posted-interrupt descriptor",
            PidReserved => "reserved bits in the posted-interrupt descriptor",
            IrRequestInvalid => "untranslated interrupt request invalid",
            InvalidRootTableType => "invalid root-table address or translation-table mode (TTM)",
        }
    }
}

impl fmt::Display for FaultReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#04x} ({})", self.code(), self.description())
    }
}

impl From<FaultReason> for u8 {
    fn from(r: FaultReason) -> u8 {
        r.code()
    }
}

impl TryFrom<u8> for FaultReason {
    type Error = u8;
    fn try_from(code: u8) -> Result<Self, u8> {
        FaultReason::from_code(code).ok_or(code)
    }
}
