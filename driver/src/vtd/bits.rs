//! The one bit-field helper every VT-d format in this module uses.
//!
//! Field positions are written `[hi:lo]` exactly as in the spec tables, so a reader can compare
//! `get64(raw, 87, 72)` with "87:72 DID" at a glance. Setting a field truncates the value to the
//! field width (bits beyond it are dropped, never spilled into a neighbour).

/// Mask with bits `hi..=lo` set (`hi >= lo`, `hi <= 63`).
pub const fn mask64(hi: u32, lo: u32) -> u64 {
    let width = hi - lo + 1;
    if width >= 64 {
        u64::MAX
    } else {
        ((1u64 << width) - 1) << lo
    }
}

/// Mask with bits `hi..=lo` set (`hi >= lo`, `hi <= 127`).
pub const fn mask128(hi: u32, lo: u32) -> u128 {
    let width = hi - lo + 1;
    if width >= 128 {
        u128::MAX
    } else {
        ((1u128 << width) - 1) << lo
    }
}

/// Bits `top..=from` of a 64-bit value, or 0 when `from > top` (e.g. "bits 51:HAW" with HAW=52).
pub const fn range64_from(from: u32, top: u32) -> u64 {
    if from > top {
        0
    } else {
        mask64(top, from)
    }
}

/// Field `[hi:lo]` of `v`, shifted down to bit 0.
pub const fn get64(v: u64, hi: u32, lo: u32) -> u64 {
    (v & mask64(hi, lo)) >> lo
}

/// `v` with field `[hi:lo]` replaced by `f` (truncated to the field width).
pub const fn set64(v: u64, hi: u32, lo: u32, f: u64) -> u64 {
    let m = mask64(hi, lo);
    (v & !m) | ((f << lo) & m)
}

/// Bit `b` of `v`.
pub const fn bit64(v: u64, b: u32) -> bool {
    (v >> b) & 1 == 1
}

/// `v` with bit `b` set to `on`.
pub const fn setb64(v: u64, b: u32, on: bool) -> u64 {
    if on {
        v | (1u64 << b)
    } else {
        v & !(1u64 << b)
    }
}

/// Field `[hi:lo]` of a 128-bit value, shifted down to bit 0.
pub const fn get128(v: u128, hi: u32, lo: u32) -> u128 {
    (v & mask128(hi, lo)) >> lo
}

/// `v` with field `[hi:lo]` replaced by `f` (truncated to the field width).
pub const fn set128(v: u128, hi: u32, lo: u32, f: u128) -> u128 {
    let m = mask128(hi, lo);
    (v & !m) | ((f << lo) & m)
}

/// Bit `b` of a 128-bit value.
pub const fn bit128(v: u128, b: u32) -> bool {
    (v >> b) & 1 == 1
}

/// `v` with bit `b` set to `on`.
pub const fn setb128(v: u128, b: u32, on: bool) -> u128 {
    if on {
        v | (1u128 << b)
    } else {
        v & !(1u128 << b)
    }
}

/// Split a 128-bit entry into (qword0 = bits 63:0, qword1 = bits 127:64).
pub const fn split128(v: u128) -> (u64, u64) {
    (v as u64, (v >> 64) as u64)
}

/// Join (qword0, qword1) into a 128-bit entry.
pub const fn join128(qw0: u64, qw1: u64) -> u128 {
    (qw0 as u128) | ((qw1 as u128) << 64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_and_fields() {
        assert_eq!(mask64(3, 2), 0b1100);
        assert_eq!(mask64(63, 0), u64::MAX);
        assert_eq!(mask64(63, 63), 1 << 63);
        assert_eq!(mask128(127, 0), u128::MAX);
        assert_eq!(mask128(87, 72), 0xFFFFu128 << 72);
        assert_eq!(range64_from(52, 51), 0);
        assert_eq!(range64_from(48, 51), 0xF << 48);
        assert_eq!(get64(0xABCD, 11, 4), 0xBC);
        assert_eq!(set64(0xFFFF, 11, 4, 0x1FF), 0xFFFF); // 0x1FF truncated to 0xFF
        assert_eq!(set64(0, 11, 4, 0x1FF), 0xFF0);
        assert_eq!(set128(0, 83, 82, 3), 3u128 << 82);
        assert_eq!(get128(3u128 << 82, 83, 82), 3);
        assert!(bit128(1u128 << 127, 127));
        assert_eq!(setb64(0, 7, true), 0x80);
        assert_eq!(join128(1, 2), (2u128 << 64) | 1);
        assert_eq!(split128((2u128 << 64) | 1), (1, 2));
    }
}
