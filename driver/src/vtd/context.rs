//! Legacy context entry (spec A6): 128 bits, 256 per table, indexed by devfn = SID\[7:0\].

use super::bits::*;
use crate::types::{DomainId, Hpa, Rid};

/// Context-entry translation type (A6 TT, bits 3:2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[repr(u8)]
pub enum TranslationType {
    /// 00: untranslated requests use the second-level tables; ATS blocked.
    #[default]
    Untranslated = 0b00,
    /// 01: as 00 plus translation / translated requests allowed (needs ECAP.DT).
    DevTlb = 0b01,
    /// 10: pass-through for untranslated requests (needs ECAP.PT).
    PassThrough = 0b10,
    /// 11: reserved.
    Reserved = 0b11,
}

impl TranslationType {
    /// From the 2-bit field (higher bits ignored).
    pub const fn from_bits(v: u8) -> TranslationType {
        match v & 3 {
            0 => TranslationType::Untranslated,
            1 => TranslationType::DevTlb,
            2 => TranslationType::PassThrough,
            _ => TranslationType::Reserved,
        }
    }

    /// The 2-bit encoding.
    pub const fn bits(self) -> u8 {
        self as u8
    }
}

/// Legacy context entry (A6).
///
/// qword0: \[0\] P, \[1\] FPD, \[3:2\] TT, \[11:4\] reserved, \[63:12\] SLPTPTR.
/// qword1: \[2:0\] AW, \[6:3\] AVAIL, \[7\] reserved, \[23:8\] DID, \[63:24\] reserved.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct ContextEntry {
    /// \[0\] present.
    pub present: bool,
    /// \[1\] fault processing disable (suppresses qualified faults).
    pub fpd: bool,
    /// \[3:2\] translation type.
    pub tt: TranslationType,
    /// \[63:12\] second-level page-table pointer (4 KiB aligned).
    pub slptptr: Hpa,
    /// \[66:64\] address width: levels = AW + 2, AGAW = 30 + 9 x AW (1xx reserved encodings).
    pub aw: u8,
    /// \[70:67\] available to software (ignored by hardware).
    pub avail: u8,
    /// \[87:72\] domain ID.
    pub did: DomainId,
}

impl ContextEntry {
    /// Decode a raw entry (qword0 = bits 63:0). Reserved bits are dropped.
    pub const fn decode(raw: u128) -> ContextEntry {
        let (qw0, qw1) = split128(raw);
        ContextEntry {
            present: bit64(qw0, 0),
            fpd: bit64(qw0, 1),
            tt: TranslationType::from_bits(get64(qw0, 3, 2) as u8),
            slptptr: Hpa(qw0 & mask64(63, 12)),
            aw: get64(qw1, 2, 0) as u8,
            avail: get64(qw1, 6, 3) as u8,
            did: DomainId(get64(qw1, 23, 8) as u16),
        }
    }

    /// Encode (reserved bits 0; fields truncated to their widths).
    pub const fn encode(&self) -> u128 {
        let mut qw0 = self.slptptr.0 & mask64(63, 12);
        qw0 = setb64(qw0, 0, self.present);
        qw0 = setb64(qw0, 1, self.fpd);
        qw0 = set64(qw0, 3, 2, self.tt.bits() as u64);
        let mut qw1 = set64(0, 2, 0, self.aw as u64);
        qw1 = set64(qw1, 6, 3, self.avail as u64);
        qw1 = set64(qw1, 23, 8, self.did.0 as u64);
        join128(qw0, qw1)
    }

    /// Reserved bits (A6): qword0 bits 11:4 and 63:HAW; qword1 bit 7, bits 63:24, and the DID
    /// bits at or above `did_bits` (pass `Cap::domain_id_bits()`, 16 for ND=6).
    pub const fn reserved_mask(haw: u8, did_bits: u8) -> u128 {
        let qw0 = mask64(11, 4) | range64_from(haw as u32, 63);
        let did_rsvd = if did_bits >= 16 {
            0
        } else {
            mask64(23, 8 + did_bits as u32)
        };
        let qw1 = (1 << 7) | mask64(63, 24) | did_rsvd;
        join128(qw0, qw1)
    }

    /// Whether `raw` has a reserved bit set (fault Bh if present).
    pub const fn has_reserved_bits(raw: u128, haw: u8, did_bits: u8) -> bool {
        raw & Self::reserved_mask(haw, did_bits) != 0
    }

    /// Number of second-level paging levels: AW + 2.
    pub const fn levels(&self) -> u8 {
        self.aw + 2
    }

    /// Adjusted guest address width in bits: 30 + 9 x AW (39 for AW=1, 48 for AW=2, 57 for AW=3).
    pub const fn agaw_bits(&self) -> u8 {
        30 + 9 * self.aw
    }

    /// Host address of the context entry for `sid` in a table at `ctp`: CTP + 16 x SID\[7:0\].
    pub const fn entry_addr(ctp: Hpa, sid: Rid) -> Hpa {
        Hpa(ctp.0.wrapping_add(16 * sid.devfn() as u64))
    }
}
