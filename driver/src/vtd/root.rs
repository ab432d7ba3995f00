//! Legacy root entry (spec A5): 128 bits, 256 per 4 KiB table, indexed by SID\[15:8\] (bus).

use super::bits::*;
use crate::types::{Hpa, Rid};

/// Legacy root entry: \[0\] P, \[11:1\] reserved, \[63:12\] CTP, \[127:64\] reserved.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct RootEntry {
    /// \[0\] present.
    pub present: bool,
    /// \[63:12\] context-table pointer (4 KiB aligned).
    pub ctp: Hpa,
}

impl RootEntry {
    /// Decode a raw entry (qword0 = bits 63:0). Reserved bits are dropped.
    pub const fn decode(raw: u128) -> RootEntry {
        let qw0 = raw as u64;
        RootEntry {
            present: bit64(qw0, 0),
            ctp: Hpa(qw0 & mask64(63, 12)),
        }
    }

    /// Encode (reserved bits 0; CTP bits below 12 dropped).
    pub const fn encode(&self) -> u128 {
        let qw0 = setb64(self.ctp.0 & mask64(63, 12), 0, self.present);
        qw0 as u128
    }

    /// Reserved bits for host address width `haw`: 11:1, 63:HAW and 127:64 (A5).
    pub const fn reserved_mask(haw: u8) -> u128 {
        mask128(11, 1) | (range64_from(haw as u32, 63) as u128) | mask128(127, 64)
    }

    /// Whether `raw` has a reserved bit set (fault Ah if present).
    pub const fn has_reserved_bits(raw: u128, haw: u8) -> bool {
        raw & Self::reserved_mask(haw) != 0
    }

    /// Host address of the root entry for `sid` in a table at `rta`: RTA + 16 x SID\[15:8\].
    pub const fn entry_addr(rta: Hpa, sid: Rid) -> Hpa {
        Hpa(rta.0.wrapping_add(16 * sid.bus() as u64))
    }
}
