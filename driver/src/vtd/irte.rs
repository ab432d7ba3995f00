//! Interrupt-remapping table entry (spec B4), both formats, and source-ID validation (B5).

use super::bits::*;
use crate::types::{Hpa, Rid};

/// Source-ID qualifier (IRTE bits 81:80, B5): which low RID bits are ignored with SVT=01.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[repr(u8)]
pub enum Sq {
    /// 00: compare all 16 bits.
    #[default]
    All = 0b00,
    /// 01: ignore RID\[2\].
    IgnoreBit2 = 0b01,
    /// 10: ignore RID\[2:1\].
    IgnoreBits2To1 = 0b10,
    /// 11: ignore RID\[2:0\] (the whole function number).
    IgnoreBits2To0 = 0b11,
}

impl Sq {
    /// The qualifier encoded by the 2-bit SQ field (IRTE bits 81:80); bits of `v` above bit 1 are
    /// ignored.
    pub const fn from_bits(v: u8) -> Sq {
        match v & 3 {
            0 => Sq::All,
            1 => Sq::IgnoreBit2,
            2 => Sq::IgnoreBits2To1,
            _ => Sq::IgnoreBits2To0,
        }
    }
    /// The 2-bit SQ encoding, as stored in IRTE bits 81:80.
    pub const fn bits(self) -> u8 {
        self as u8
    }
    /// Compare mask: 0xFFFF, 0xFFFB, 0xFFF9, 0xFFF8.
    pub const fn mask(self) -> u16 {
        match self {
            Sq::All => 0xFFFF,
            Sq::IgnoreBit2 => 0xFFFB,
            Sq::IgnoreBits2To1 => 0xFFF9,
            Sq::IgnoreBits2To0 => 0xFFF8,
        }
    }
}

/// Source validation type (IRTE bits 83:82, B5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[repr(u8)]
pub enum Svt {
    /// 00: no check.
    #[default]
    None = 0b00,
    /// 01: requester ID must equal SID under the SQ mask.
    RequesterId = 0b01,
    /// 10: requester bus must lie in \[SID\[15:8\], SID\[7:0\]\] (start, end; decisions.md).
    BusRange = 0b10,
    /// 11: reserved; always fails validation.
    Reserved = 0b11,
}

impl Svt {
    /// The type encoded by the 2-bit SVT field (IRTE bits 83:82); bits of `v` above bit 1 are
    /// ignored.
    pub const fn from_bits(v: u8) -> Svt {
        match v & 3 {
            0 => Svt::None,
            1 => Svt::RequesterId,
            2 => Svt::BusRange,
            _ => Svt::Reserved,
        }
    }
    /// The 2-bit SVT encoding, as stored in IRTE bits 83:82.
    pub const fn bits(self) -> u8 {
        self as u8
    }
}

/// Source-ID validation (B5 + decisions.md): `true` when a request from `rid` may use an IRTE with
/// these SVT/SQ/SID fields. SVT=10 reads SID\[15:8\] as the start bus and SID\[7:0\] as the end bus;
/// SVT=11 always fails. A failure is fault 26h.
pub const fn source_id_valid(svt: Svt, sq: Sq, sid: u16, rid: Rid) -> bool {
    match svt {
        Svt::None => true,
        Svt::RequesterId => (rid.0 & sq.mask()) == (sid & sq.mask()),
        Svt::BusRange => {
            let bus = rid.bus();
            let start = (sid >> 8) as u8;
            let end = sid as u8;
            bus >= start && bus <= end
        }
        Svt::Reserved => false,
    }
}

/// Remapped-format IRTE (IM=0), B4.
///
/// \[0\] P, \[1\] FPD, \[2\] DM, \[3\] RH, \[4\] TM, \[7:5\] DLM, \[11:8\] AVAIL, \[14:12\] reserved,
/// \[15\] IM=0, \[23:16\] V, \[31:24\] reserved, \[63:32\] DST, \[79:64\] SID, \[81:80\] SQ,
/// \[83:82\] SVT, \[127:84\] reserved.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct IrteRemapped {
    /// P (bit 0): the entry is present (P=0 is fault 22h).
    pub present: bool,
    /// FPD (bit 1): fault processing disable, qualified faults through the entry are not recorded.
    pub fpd: bool,
    /// Destination mode: false physical, true logical.
    pub dm: bool,
    /// Redirection hint.
    pub rh: bool,
    /// Trigger mode: false edge, true level.
    pub tm: bool,
    /// Delivery mode (000 fixed, 001 lowest priority, ...).
    pub dlm: u8,
    /// Available to software.
    pub avail: u8,
    /// Vector.
    pub vector: u8,
    /// Destination ID, the raw bits 63:32 (xAPIC: APIC ID in bits 15:8 of this value).
    pub dst: u32,
    /// SID (bits 79:64): the requester ID (SVT=01) or start:end bus pair (SVT=10) of the source
    /// check.
    pub sid: u16,
    /// SQ (bits 81:80): which RID function bits the SVT=01 comparison ignores.
    pub sq: Sq,
    /// SVT (bits 83:82): which source-ID check applies (B5).
    pub svt: Svt,
}

impl IrteRemapped {
    /// APIC destination: all 32 bits with EIME=1 (x2APIC), DST\[15:8\] (IRTE bits 47:40) with EIME=0.
    pub const fn apic_dest(&self, eime: bool) -> u32 {
        if eime {
            self.dst
        } else {
            (self.dst >> 8) & 0xFF
        }
    }

    /// Whether a request from `rid` passes this entry's SID check (B5).
    pub const fn sid_valid(&self, rid: Rid) -> bool {
        source_id_valid(self.svt, self.sq, self.sid, rid)
    }
}

/// Posted-format IRTE (IM=1, needs CAP.PI), B4.
///
/// \[0\] P, \[1\] FPD, \[7:2\] reserved, \[11:8\] AVAIL, \[13:12\] reserved, \[14\] URG,
/// \[15\] IM=1, \[23:16\] V, \[37:24\] reserved, \[63:38\] PDA\[31:6\], \[79:64\] SID,
/// \[81:80\] SQ, \[83:82\] SVT, \[95:84\] reserved, \[127:96\] PDA\[63:32\].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct IrtePosted {
    /// P (bit 0): the entry is present (P=0 is fault 22h).
    pub present: bool,
    /// FPD (bit 1): fault processing disable, qualified faults through the entry are not recorded.
    pub fpd: bool,
    /// AVAIL (bits 11:8): available to software.
    pub avail: u8,
    /// Urgent: notify even when the PID's SN is set.
    pub urg: bool,
    /// Vector to post into the PID's PIR.
    pub vector: u8,
    /// Posted-interrupt descriptor address (64-byte aligned; bits 5:0 never set by decode).
    pub pda: Hpa,
    /// SID (bits 79:64): the requester ID (SVT=01) or start:end bus pair (SVT=10) of the source
    /// check.
    pub sid: u16,
    /// SQ (bits 81:80): which RID function bits the SVT=01 comparison ignores.
    pub sq: Sq,
    /// SVT (bits 83:82): which source-ID check applies (B5).
    pub svt: Svt,
}

impl IrtePosted {
    /// Whether a request from `rid` passes this entry's SID check (B5).
    pub const fn sid_valid(&self, rid: Rid) -> bool {
        source_id_valid(self.svt, self.sq, self.sid, rid)
    }
}

/// An IRTE in either format, chosen by the IM bit (bit 15).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Irte {
    /// IM=0: remapped format, delivered as an interrupt message to DST.
    Remapped(IrteRemapped),
    /// IM=1: posted format, recorded in the posted-interrupt descriptor at PDA.
    Posted(IrtePosted),
}

/// IRTE bit 15: IM (IRTE mode).
pub const IRTE_IM_BIT: u32 = 15;

impl Irte {
    /// Decode by the IM bit. Reserved bits are dropped. (With CAP.PI=0 the IM bit is reserved:
    /// check [`Irte::reserved_mask`] first.)
    pub const fn decode(raw: u128) -> Irte {
        let (qw0, qw1) = split128(raw);
        let present = bit64(qw0, 0);
        let fpd = bit64(qw0, 1);
        let avail = get64(qw0, 11, 8) as u8;
        let vector = get64(qw0, 23, 16) as u8;
        let sid = get64(qw1, 15, 0) as u16;
        let sq = Sq::from_bits(get64(qw1, 17, 16) as u8);
        let svt = Svt::from_bits(get64(qw1, 19, 18) as u8);
        if bit64(qw0, IRTE_IM_BIT) {
            let pda = (get64(qw0, 63, 38) << 6) | (get64(qw1, 63, 32) << 32);
            Irte::Posted(IrtePosted {
                present,
                fpd,
                avail,
                urg: bit64(qw0, 14),
                vector,
                pda: Hpa(pda),
                sid,
                sq,
                svt,
            })
        } else {
            Irte::Remapped(IrteRemapped {
                present,
                fpd,
                dm: bit64(qw0, 2),
                rh: bit64(qw0, 3),
                tm: bit64(qw0, 4),
                dlm: get64(qw0, 7, 5) as u8,
                avail,
                vector,
                dst: get64(qw0, 63, 32) as u32,
                sid,
                sq,
                svt,
            })
        }
    }

    /// Encode (reserved bits 0).
    pub const fn encode(&self) -> u128 {
        match self {
            Irte::Remapped(e) => {
                let mut qw0 = 0u64;
                qw0 = setb64(qw0, 0, e.present);
                qw0 = setb64(qw0, 1, e.fpd);
                qw0 = setb64(qw0, 2, e.dm);
                qw0 = setb64(qw0, 3, e.rh);
                qw0 = setb64(qw0, 4, e.tm);
                qw0 = set64(qw0, 7, 5, e.dlm as u64);
                qw0 = set64(qw0, 11, 8, e.avail as u64);
                qw0 = set64(qw0, 23, 16, e.vector as u64);
                qw0 = set64(qw0, 63, 32, e.dst as u64);
                join128(qw0, Self::qw1(e.sid, e.sq, e.svt, 0))
            }
            Irte::Posted(e) => {
                let mut qw0 = 0u64;
                qw0 = setb64(qw0, 0, e.present);
                qw0 = setb64(qw0, 1, e.fpd);
                qw0 = set64(qw0, 11, 8, e.avail as u64);
                qw0 = setb64(qw0, 14, e.urg);
                qw0 = setb64(qw0, IRTE_IM_BIT, true);
                qw0 = set64(qw0, 23, 16, e.vector as u64);
                qw0 = set64(qw0, 63, 38, get64(e.pda.0, 31, 6));
                join128(qw0, Self::qw1(e.sid, e.sq, e.svt, get64(e.pda.0, 63, 32)))
            }
        }
    }

    const fn qw1(sid: u16, sq: Sq, svt: Svt, pda_hi: u64) -> u64 {
        let mut qw1 = set64(0, 15, 0, sid as u64);
        qw1 = set64(qw1, 17, 16, sq.bits() as u64);
        qw1 = set64(qw1, 19, 18, svt.bits() as u64);
        set64(qw1, 63, 32, pda_hi)
    }

    /// Reserved bits (B4 + decisions.md) for an entry whose IM bit is `im`:
    ///
    /// * `pi == false`: the remapped layout's reserved bits plus the IM bit itself (whatever `im`);
    /// * remapped (IM=0): 14:12, 31:24, 127:84; with `eime == false` also DST bits 39:32 and
    ///   63:48 (xAPIC mode);
    /// * posted (IM=1): 7:2, 13:12, 37:24, 95:84 (`eime` does not matter).
    pub const fn reserved_mask(im: bool, eime: bool, pi: bool) -> u128 {
        if im && pi {
            mask128(7, 2) | mask128(13, 12) | mask128(37, 24) | mask128(95, 84)
        } else {
            let mut m = mask128(14, 12) | mask128(31, 24) | mask128(127, 84);
            if !eime {
                m |= mask128(39, 32) | mask128(63, 48);
            }
            if !pi {
                m |= 1u128 << IRTE_IM_BIT;
            }
            m
        }
    }

    /// Non-zero reserved bits of `raw` (0 = none), taking IM from `raw`; non-zero while P=1 is
    /// fault 24h.
    pub const fn reserved_bits(raw: u128, eime: bool, pi: bool) -> u128 {
        raw & Self::reserved_mask(bit128(raw, IRTE_IM_BIT), eime, pi)
    }

    /// P (bit 0) of either format.
    pub const fn present(&self) -> bool {
        match self {
            Irte::Remapped(e) => e.present,
            Irte::Posted(e) => e.present,
        }
    }

    /// FPD (bit 1) of either format.
    pub const fn fpd(&self) -> bool {
        match self {
            Irte::Remapped(e) => e.fpd,
            Irte::Posted(e) => e.fpd,
        }
    }

    /// IM bit: true for the posted format.
    pub const fn im(&self) -> bool {
        matches!(self, Irte::Posted(_))
    }

    /// Whether a request from `rid` passes the entry's SID check (B5).
    pub const fn sid_valid(&self, rid: Rid) -> bool {
        match self {
            Irte::Remapped(e) => e.sid_valid(rid),
            Irte::Posted(e) => e.sid_valid(rid),
        }
    }
}
