//! Fault-recording register FRCD\[n\] (spec A10): 128 bits at FRO x 16 + 16n.
//!
//! | bits | qword1 bits | field |
//! |---|---|---|
//! | 11:0 | - | reserved |
//! | 63:12 | - | FI (page address; IR faults: FI\[63:48\] = interrupt index) |
//! | 79:64 | 15:0 | SID |
//! | 91:80 | 27:16 | reserved |
//! | 92 | 28 | T2 |
//! | 93 | 29 | PRIV |
//! | 94 | 30 | EXE |
//! | 95 | 31 | PP |
//! | 103:96 | 39:32 | FR |
//! | 123:104 | 59:40 | PV |
//! | 125:124 | 61:60 | AT |
//! | 126 | 62 | T (0 write, 1 read) |
//! | 127 | 63 | F (RW1C) |

use super::bits::*;
use super::fault::FaultReason;
use crate::types::{Iova, Rid};

/// Bit of F in the 128-bit record.
pub const FRCD_F_BIT: u32 = 127;
/// F as a bit of the top dword (the dword at +12), which software writes to clear it.
pub const FRCD_F_DWORD3: u32 = 1 << 31;

/// A decoded fault record. `Debug` prints FI and FR in hex, with FR's reason name.
#[derive(Clone, Copy, PartialEq, Eq, Default)]
pub struct FaultRecord {
    /// Fault info, bits 63:12 in place (low 12 bits never set by decode).
    pub fi: u64,
    /// Bits 79:64 (qword1 15:0) SID: the source ID (requester ID) of the faulting request.
    pub sid: Rid,
    /// Type bit 2.
    pub t2: bool,
    /// Privilege-mode requested.
    pub priv_: bool,
    /// Execute requested.
    pub exe: bool,
    /// PASID present.
    pub pp: bool,
    /// Fault reason code.
    pub fr: u8,
    /// PASID value (20 bits).
    pub pv: u32,
    /// Address type of the faulting request.
    pub at: u8,
    /// Type: false = write, true = read.
    pub t: bool,
    /// Fault (record valid).
    pub f: bool,
}

impl FaultRecord {
    /// Reserved bits: 11:0 and 91:80.
    pub const RESERVED: u128 = mask128(11, 0) | mask128(91, 80);

    /// Decode a raw 128-bit FRCD value (qword0 = bits 63:0); reserved bits 11:0 and 91:80 dropped.
    pub const fn decode(raw: u128) -> FaultRecord {
        let (qw0, qw1) = split128(raw);
        FaultRecord {
            fi: qw0 & mask64(63, 12),
            sid: Rid(get64(qw1, 15, 0) as u16),
            t2: bit64(qw1, 28),
            priv_: bit64(qw1, 29),
            exe: bit64(qw1, 30),
            pp: bit64(qw1, 31),
            fr: get64(qw1, 39, 32) as u8,
            pv: get64(qw1, 59, 40) as u32,
            at: get64(qw1, 61, 60) as u8,
            t: bit64(qw1, 62),
            f: bit64(qw1, 63),
        }
    }

    /// Encode to the raw 128-bit FRCD value (reserved bits 0, fields truncated to their widths).
    pub const fn encode(&self) -> u128 {
        let qw0 = self.fi & mask64(63, 12);
        let mut qw1 = set64(0, 15, 0, self.sid.0 as u64);
        qw1 = setb64(qw1, 28, self.t2);
        qw1 = setb64(qw1, 29, self.priv_);
        qw1 = setb64(qw1, 30, self.exe);
        qw1 = setb64(qw1, 31, self.pp);
        qw1 = set64(qw1, 39, 32, self.fr as u64);
        qw1 = set64(qw1, 59, 40, self.pv as u64);
        qw1 = set64(qw1, 61, 60, self.at as u64);
        qw1 = setb64(qw1, 62, self.t);
        qw1 = setb64(qw1, 63, self.f);
        join128(qw0, qw1)
    }

    /// A DMA-remapping fault record (F=1): FI = the faulting page, T = `is_read`, AT as given.
    pub const fn dma(sid: Rid, addr: Iova, reason: FaultReason, is_read: bool, at: u8) -> Self {
        FaultRecord {
            fi: addr.0 & mask64(63, 12),
            sid,
            t2: false,
            priv_: false,
            exe: false,
            pp: false,
            fr: reason.code(),
            pv: 0,
            at: at & 3,
            t: is_read,
            f: true,
        }
    }

    /// An interrupt-remapping fault record (F=1): FI\[63:48\] = `index`, T/AT/PP unused (B7).
    pub const fn ir(sid: Rid, index: u16, reason: FaultReason) -> Self {
        FaultRecord {
            fi: (index as u64) << 48,
            sid,
            t2: false,
            priv_: false,
            exe: false,
            pp: false,
            fr: reason.code(),
            pv: 0,
            at: 0,
            t: false,
            f: true,
        }
    }

    /// FI\[63:48\]: the interrupt index of an IR fault.
    pub const fn ir_index(&self) -> u16 {
        (self.fi >> 48) as u16
    }

    /// The fault reason, if the code is one this project defines.
    pub const fn reason(&self) -> Option<FaultReason> {
        FaultReason::from_code(self.fr)
    }
}

impl std::fmt::Debug for FaultRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FaultRecord {{ fr: {:#04x}", self.fr)?;
        if let Some(r) = FaultReason::from_code(self.fr) {
            write!(f, " ({r:?})")?;
        }
        write!(
            f,
            ", sid: {:?}, fi: {:#x}, t: {} ({}), at: {}, f: {}",
            self.sid,
            self.fi,
            self.t as u8,
            if self.t { "read" } else { "write" },
            self.at,
            self.f as u8
        )?;
        if self.t2 || self.priv_ || self.exe || self.pp || self.pv != 0 {
            write!(
                f,
                ", t2: {}, priv: {}, exe: {}, pp: {}, pv: {:#x}",
                self.t2 as u8, self.priv_ as u8, self.exe as u8, self.pp as u8, self.pv
            )?;
        }
        write!(f, " }}")
    }
}

#[cfg(test)]
mod debug_tests {
    use super::*;

    #[test]
    fn fault_info_and_reason_print_in_hex() {
        let r = FaultRecord {
            fi: 0x20_0000,
            sid: Rid(0x0300),
            fr: 5,
            f: true,
            ..Default::default()
        };
        assert_eq!(
            format!("{r:?}"),
            "FaultRecord { fr: 0x05 (WriteNotPermitted), sid: Rid(03:00.0), fi: 0x200000, \
             t: 0 (write), at: 0, f: 1 }"
        );
    }
}
