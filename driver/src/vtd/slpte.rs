//! Legacy second-level paging entry (spec A7): 64 bits, 512 per 4 KiB table.
//!
//! Layout: \[0\] R, \[1\] W, \[2\] X, \[6:3\] ignored, \[7\] PS, \[8\] A, \[9\] D, \[10\] ignored,
//! \[11\] SNP, \[51:12\] ADDR (bits 51:HAW reserved), \[61:52\] ignored, \[62\] TM, \[63\] ignored.
//!
//! Project decisions (decisions.md): SNP (bit 11) is reserved while ECAP.SC=0; TM (bit 62) is
//! reserved while ECAP.DT=0 and, as A7 says "leaf only", in every non-leaf entry. PS is reserved
//! at levels 4 and 5 and where CAP.SLLPS lacks the size; bit 7 of a level-1 entry is ignored.

use super::bits::*;
use super::regs::{Cap, Ecap};
use crate::types::{Hpa, Iova};

/// Bits the hardware ignores in legacy mode and that [`SlPte`] keeps verbatim in `ignored`:
/// 6:3, 10, 61:52, 63.
pub const SLPTE_IGNORED_MASK: u64 = mask64(6, 3) | (1 << 10) | mask64(61, 52) | (1 << 63);
/// The ADDR field as decoded: bits 51:12 (bits at or above HAW are reserved, see
/// [`reserved_mask`]).
pub const SLPTE_ADDR_MASK: u64 = mask64(51, 12);

/// A second-level paging entry, lossless: `encode(decode(x)) == x` for every `x`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct SlPte {
    /// \[0\] read.
    pub r: bool,
    /// \[1\] write.
    pub w: bool,
    /// \[2\] execute (ignored in legacy mode; does not make an entry present).
    pub x: bool,
    /// \[7\] page size: a 2 MiB leaf at level 2, a 1 GiB leaf at level 3.
    pub ps: bool,
    /// \[8\] accessed (ignored in legacy mode).
    pub a: bool,
    /// \[9\] dirty (ignored in legacy mode).
    pub d: bool,
    /// \[11\] snoop (reserved while ECAP.SC=0).
    pub snp: bool,
    /// \[62\] transient mapping (reserved while ECAP.DT=0 and in non-leaf entries).
    pub tm: bool,
    /// \[51:12\] next-table or page-frame address (low 12 bits never set by decode).
    pub addr: Hpa,
    /// The ignored bits ([`SLPTE_IGNORED_MASK`]) in place.
    pub ignored: u64,
}

impl SlPte {
    /// Decode a raw 64-bit second-level entry; every bit is kept (flags, ADDR 51:12, ignored bits).
    pub const fn decode(raw: u64) -> SlPte {
        SlPte {
            r: bit64(raw, 0),
            w: bit64(raw, 1),
            x: bit64(raw, 2),
            ps: bit64(raw, 7),
            a: bit64(raw, 8),
            d: bit64(raw, 9),
            snp: bit64(raw, 11),
            tm: bit64(raw, 62),
            addr: Hpa(raw & SLPTE_ADDR_MASK),
            ignored: raw & SLPTE_IGNORED_MASK,
        }
    }

    /// Encode to the raw 64-bit entry; the inverse of [`SlPte::decode`] for every value.
    pub const fn encode(&self) -> u64 {
        let mut v = (self.addr.0 & SLPTE_ADDR_MASK) | (self.ignored & SLPTE_IGNORED_MASK);
        v = setb64(v, 0, self.r);
        v = setb64(v, 1, self.w);
        v = setb64(v, 2, self.x);
        v = setb64(v, 7, self.ps);
        v = setb64(v, 8, self.a);
        v = setb64(v, 9, self.d);
        v = setb64(v, 11, self.snp);
        setb64(v, 62, self.tm)
    }

    /// Present: R or W set (X alone does not count), A7.
    pub const fn is_present(&self) -> bool {
        self.r || self.w
    }

    /// Whether this entry at `level` is a leaf: level 1, or PS=1 at level 2/3 (at levels 4/5 PS is
    /// reserved, so such an entry faults Ch before it is used).
    pub const fn is_leaf(&self, level: u8) -> bool {
        level <= 1 || (self.ps && (level == 2 || level == 3))
    }

    /// Non-zero reserved bits of `raw` at `level` (0 = none): [`reserved_mask`] with the large-leaf
    /// flag taken from the entry's own PS bit.
    pub const fn reserved_bits(raw: u64, level: u8, haw: u8, cap: &Cap, ecap: &Ecap) -> u64 {
        let large = bit64(raw, 7) && (level == 2 || level == 3);
        raw & reserved_mask(level, large, haw, cap, ecap)
    }
}

/// Reserved bits of a second-level entry (A7 + decisions.md).
///
/// * bits 51:HAW always;
/// * bit 11 (SNP) when `!ecap.sc`;
/// * bit 62 (TM) when `!ecap.dt`, and always in a non-leaf entry;
/// * bit 7 (PS) at levels 4 and 5, and at level 2 / 3 when CAP.SLLPS lacks 2 MiB / 1 GiB;
/// * for a large leaf (`is_leaf_large`, PS=1 at level 2 or 3): address bits 20:12 (2 MiB) or
///   29:12 (1 GiB).
///
/// Level 1 entries are always leaves and bit 7 there is ignored.
pub const fn reserved_mask(level: u8, is_leaf_large: bool, haw: u8, cap: &Cap, ecap: &Ecap) -> u64 {
    let mut m = range64_from(haw as u32, 51);
    if !ecap.sc {
        m |= 1 << 11;
    }
    let leaf = level <= 1 || (is_leaf_large && (level == 2 || level == 3));
    if !ecap.dt || !leaf {
        m |= 1 << 62;
    }
    if level >= 4 || ((level == 2 || level == 3) && !cap.supports_large_page(level)) {
        m |= 1 << 7;
    }
    if is_leaf_large {
        if level == 2 {
            m |= mask64(20, 12);
        } else if level == 3 {
            m |= mask64(29, 12);
        }
    }
    m
}

/// Bytes mapped by one entry at `level`: 4 KiB x 512^(level-1) (level 1 = 4 KiB, 2 = 2 MiB,
/// 3 = 1 GiB).
pub const fn level_page_size(level: u8) -> u64 {
    1u64 << (12 + 9 * (level as u32 - 1))
}

/// Table index used at `level`: `(iova >> (12 + 9 x (level-1))) & 0x1FF` (A8 step 8).
pub const fn sl_index(iova: Iova, level: u8) -> u64 {
    (iova.0 >> (12 + 9 * (level as u32 - 1))) & 0x1FF
}

/// Host address of the entry for `iova` at `level` in the table at `table`.
pub const fn sl_entry_addr(table: Hpa, iova: Iova, level: u8) -> Hpa {
    Hpa((table.0 & !0xFFF).wrapping_add(8 * sl_index(iova, level)))
}

/// Output address of a leaf at `level`: the PTE address masked to the page size, or'ed with the
/// page offset of `iova` (A8 step 8; D5 #15).
pub const fn leaf_output(pte_addr: Hpa, iova: Iova, level: u8) -> Hpa {
    let size = level_page_size(level);
    Hpa((pte_addr.0 & SLPTE_ADDR_MASK & !(size - 1)) | (iova.0 & (size - 1)))
}
