//! Queued-invalidation descriptors (spec A12).
//!
//! The descriptor type is 7 bits: `{qw0[11:9], qw0[3:0]}` (D5 #1): a descriptor whose qw0\[11:9\]
//! is non-zero is never one of types 1-9 and decodes as [`InvDescError::InvalidType`].
//! [`InvDescriptor::decode`] checks the layout's reserved bits (A12 masks);
//! capability-dependent validity (PSI, MAMV, MHMV, DT, IR, PDS, legacy vs scalable mode) is
//! checked by [`InvDescriptor::check_caps`], which the model calls after a successful decode.

use super::bits::*;
use super::regs::{Cap, Ecap, IOTLB_G_PAGE, IQEI_INVALID_TYPE, IQEI_RESERVED_FIELD};
use crate::types::{DomainId, Hpa, Iova, Rid};
use thiserror::Error;

/// Type 1: context-cache invalidation.
pub const INV_TYPE_CC: u8 = 1;
/// Type 2: IOTLB invalidation.
pub const INV_TYPE_IOTLB: u8 = 2;
/// Type 3: device-TLB invalidation.
pub const INV_TYPE_DEV_TLB: u8 = 3;
/// Type 4: interrupt-entry-cache invalidation.
pub const INV_TYPE_IEC: u8 = 4;
/// Type 5: invalidation wait.
pub const INV_TYPE_WAIT: u8 = 5;
/// Type 6: PASID-based IOTLB invalidation.
pub const INV_TYPE_PASID_IOTLB: u8 = 6;
/// Type 7: PASID-cache invalidation.
pub const INV_TYPE_PASID_CACHE: u8 = 7;
/// Type 8: PASID-based device-TLB invalidation.
pub const INV_TYPE_PASID_DEV_TLB: u8 = 8;
/// Type 9: page-group response.
pub const INV_TYPE_PAGE_GROUP_RESPONSE: u8 = 9;

/// Context-cache descriptor (type 1) allowed bits as (qw0, qw1), from the A12 masks: qw0
/// \[3:0\] type, \[5:4\] G, \[31:16\] DID, \[47:32\] SID, \[49:48\] FM; qw1 entirely reserved.
pub const CC_ALLOWED: (u64, u64) = (0x0003_FFFF_FFFF_003F, 0);
/// IOTLB descriptor (type 2) allowed bits as (qw0, qw1), from the A12 masks: qw0 \[3:0\] type,
/// \[5:4\] G, \[6\] DW, \[7\] DR, \[31:16\] DID; qw1 \[5:0\] AM, \[6\] IH, \[63:12\] ADDR.
pub const IOTLB_ALLOWED: (u64, u64) = (0x0000_0000_FFFF_00FF, 0xFFFF_FFFF_FFFF_F07F);
/// Device-TLB: qw0 \[3:0\] type, \[15:12\] PFSID\[3:0\], \[20:16\] MIP, \[47:32\] SID, \[63:52\]
/// PFSID\[15:4\]; qw1 \[0\] S, \[63:12\] ADDR.
pub const DEV_TLB_ALLOWED: (u64, u64) = (0xFFF0_FFFF_001F_F00F, 0xFFFF_FFFF_FFFF_F001);
/// Interrupt-entry-cache descriptor (type 4) allowed bits as (qw0, qw1), from the A12 masks: qw0
/// \[3:0\] type, \[4\] G, \[31:27\] IM, \[47:32\] IIDX; qw1 entirely reserved.
pub const IEC_ALLOWED: (u64, u64) = (0x0000_FFFF_F800_001F, 0);
/// Wait: bit 7 (PD) is included here; it is reserved unless ECAP.PDS (see `check_caps`).
pub const WAIT_ALLOWED: (u64, u64) = (0xFFFF_FFFF_0000_00FF, 0xFFFF_FFFF_FFFF_FFFC);
/// PASID-IOTLB: qw0 \[3:0\], \[5:4\] G, \[31:16\] DID, \[51:32\] PASID; qw1 as IOTLB.
pub const PASID_IOTLB_ALLOWED: (u64, u64) = (0x000F_FFFF_FFFF_003F, 0xFFFF_FFFF_FFFF_F07F);
/// PASID-cache: qw0 \[3:0\], \[5:4\] G, \[31:16\] DID, \[51:32\] PASID; qw1 reserved.
pub const PASID_CACHE_ALLOWED: (u64, u64) = (0x000F_FFFF_FFFF_003F, 0);
/// PASID device-TLB: qw0 \[3:0\], \[8:4\] MIP, \[15:12\] PFSID\[3:0\], \[31:16\] SID, \[51:32\]
/// PASID, \[63:52\] PFSID\[15:4\]; qw1 \[0\] G, \[11\] S, \[63:12\] ADDR.
pub const PASID_DEV_TLB_ALLOWED: (u64, u64) = (0xFFFF_FFFF_FFFF_F1FF, 0xFFFF_FFFF_FFFF_F801);

/// The 7-bit descriptor type `{qw0[11:9], qw0[3:0]}`.
pub const fn desc_type(qw0: u64) -> u8 {
    ((get64(qw0, 11, 9) << 4) | get64(qw0, 3, 0)) as u8
}

/// qw0 bits holding a 7-bit type.
const fn type_bits(ty: u8) -> u64 {
    set64(set64(0, 3, 0, (ty & 0xF) as u64), 11, 9, (ty >> 4) as u64)
}

/// Why a descriptor is invalid (each maps to an IQEI code, [`InvDescError::iqei`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
pub enum InvDescError {
    /// Type 0, 10+, any type with qw0\[11:9\] != 0, or a type the capabilities/mode do not allow.
    #[error("invalid invalidation descriptor type {0:#x}")]
    InvalidType(u8),
    /// Reserved bits set; `qw0`/`qw1` hold the offending bits.
    #[error(
        "reserved bits set in invalidation descriptor type {ty}: qw0 {qw0:#018x}, qw1 {qw1:#018x}"
    )]
    ReservedBits {
        /// The 7-bit descriptor type that was decoded.
        ty: u8,
        /// The set qw0 bits that lie outside the type's allowed mask.
        qw0: u64,
        /// The set qw1 bits that lie outside the type's allowed mask.
        qw1: u64,
    },
    /// A 256-bit legacy descriptor (types 1-5) with non-zero qwords 2-3.
    #[error("invalidation descriptor type {ty} has non-zero qwords 2-3")]
    ReservedHighQwords {
        /// The legacy descriptor type (1-5) whose qwords 2-3 were non-zero.
        ty: u8,
    },
    /// A field value the capabilities do not allow (G=0, PSI without CAP.PSI, AM > MAMV,
    /// IM > MHMV, ...).
    #[error("invalidation descriptor type {ty}: {what}")]
    Unsupported {
        /// The 7-bit descriptor type that was decoded.
        ty: u8,
        /// Which capability rule the descriptor breaks, for diagnostics.
        what: &'static str,
    },
}

impl InvDescError {
    /// The IQERCD.IQEI code for this error: 3 for an invalid type, 4 for a reserved-field
    /// violation (A12).
    pub const fn iqei(&self) -> u8 {
        match self {
            InvDescError::InvalidType(_) => IQEI_INVALID_TYPE,
            _ => IQEI_RESERVED_FIELD,
        }
    }
}

/// A decoded invalidation descriptor (A12).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InvDescriptor {
    /// Type 1. qw0 \[5:4\] G, \[31:16\] DID, \[47:32\] SID, \[49:48\] FM.
    ContextCache {
        /// qw0\[5:4\] G, the requested granularity: 01 global, 10 domain-selective, 11
        /// device-selective ([`CC_G_GLOBAL`](super::regs::CC_G_GLOBAL) and friends).
        g: u8,
        /// qw0\[31:16\] DID, the domain whose context entries are invalidated (domain/device
        /// granularity).
        did: DomainId,
        /// qw0\[47:32\] SID, the source ID (requester ID) for a device-selective invalidation.
        sid: Rid,
        /// qw0\[49:48\] FM, the function mask: 00 none, 01 ignore SID bit 2, 10 ignore SID bits
        /// 2:1, 11 ignore SID bits 2:0.
        fm: u8,
    },
    /// Type 2. qw0 \[5:4\] G, \[6\] DW, \[7\] DR, \[31:16\] DID; qw1 \[5:0\] AM, \[6\] IH,
    /// \[63:12\] ADDR.
    Iotlb {
        /// qw0\[5:4\] G, the requested granularity: 01 global, 10 domain-selective, 11
        /// page-selective (PSI, needs CAP.PSI).
        g: u8,
        /// qw0\[6\] DW, drain writes before the invalidation completes.
        dw: bool,
        /// qw0\[7\] DR, drain reads before the invalidation completes.
        dr: bool,
        /// qw0\[31:16\] DID, the domain whose IOTLB entries are invalidated (domain/page
        /// granularity).
        did: DomainId,
        /// qw1\[5:0\] AM, the address mask: a page-selective invalidation covers 2^AM 4 KiB pages,
        /// aligned to their size (at most CAP.MAMV).
        am: u8,
        /// qw1\[6\] IH, the invalidation hint: true when only leaf entries changed, so
        /// paging-structure caches may be kept.
        ih: bool,
        /// qw1\[63:12\] ADDR, the page address of a page-selective invalidation (low 12 bits zero).
        addr: Iova,
    },
    /// Type 3. qw0 PFSID (\[15:12\] and \[63:52\]), \[20:16\] MIP, \[47:32\] SID; qw1 \[0\] S,
    /// \[63:12\] ADDR.
    DevTlb {
        /// PFSID, the source ID of the physical function (qw0\[15:12\] holds bits 3:0, qw0\[63:52\]
        /// bits 15:4).
        pfsid: u16,
        /// qw0\[20:16\] MIP, the device's maximum invalidations pending.
        mip: u8,
        /// qw0\[47:32\] SID, the requester ID of the device whose device-TLB (ATS cache) is
        /// invalidated.
        sid: Rid,
        /// qw1\[0\] S, the size bit: when set, the low-order ADDR bits encode the range size (ATS
        /// range encoding).
        s: bool,
        /// qw1\[63:12\] ADDR in place (low 12 bits zero), the untranslated address to invalidate.
        addr: u64,
    },
    /// Type 4. qw0 \[4\] G (false global, true index-selective), \[31:27\] IM, \[47:32\] IIDX.
    Iec {
        /// qw0\[4\] G: false = global, true = index-selective.
        g: bool,
        /// qw0\[31:27\] IM, the index mask: an index-selective invalidation covers 2^IM IRTEs
        /// (at most ECAP.MHMV).
        im: u8,
        /// qw0\[47:32\] IIDX, the first interrupt index of an index-selective invalidation.
        iidx: u16,
    },
    /// Type 5. qw0 \[4\] IF, \[5\] SW, \[6\] FN, \[7\] PD, \[63:32\] STATUS DATA; qw1 \[63:2\]
    /// STATUS ADDR.
    Wait {
        /// qw0\[4\] IF, interrupt flag: set ICS.IWC and signal the invalidation-completion event.
        if_: bool,
        /// qw0\[5\] SW, status write: store `status_data` at `status_addr` once earlier descriptors
        /// are done.
        sw: bool,
        /// qw0\[6\] FN, fence: later descriptors wait until everything earlier has completed.
        fn_: bool,
        /// qw0\[7\] PD, page-request drain (reserved unless ECAP.PDS).
        pd: bool,
        /// qw0\[63:32\] STATUS DATA, the 32-bit value written (little-endian) when SW is set.
        status_data: u32,
        /// qw1\[63:2\] STATUS ADDR, the dword-aligned host address the status data is written to.
        status_addr: Hpa,
    },
    /// Type 6. qw0 \[5:4\] G, \[31:16\] DID, \[51:32\] PASID; qw1 \[5:0\] AM, \[6\] IH, \[63:12\]
    /// ADDR.
    PasidIotlb {
        /// qw0\[5:4\] G: 10 all mappings of the PASID, 11 page-selective within the PASID.
        g: u8,
        /// qw0\[31:16\] DID, the domain the PASID's mappings belong to.
        did: DomainId,
        /// qw0\[51:32\] PASID (20 bits).
        pasid: u32,
        /// qw1\[5:0\] AM, the address mask (2^AM 4 KiB pages), as in the IOTLB descriptor.
        am: u8,
        /// qw1\[6\] IH, the invalidation hint (only leaf entries changed).
        ih: bool,
        /// qw1\[63:12\] ADDR, the page address of a page-selective invalidation.
        addr: Iova,
    },
    /// Type 7. qw0 \[5:4\] G, \[31:16\] DID, \[51:32\] PASID.
    PasidCache {
        /// qw0\[5:4\] G: 00 domain-selective, 01 PASID-selective, 11 global (10 is invalid).
        g: u8,
        /// qw0\[31:16\] DID, the domain whose PASID-cache entries are invalidated.
        did: DomainId,
        /// qw0\[51:32\] PASID (20 bits) for a PASID-selective invalidation.
        pasid: u32,
    },
    /// Type 8. qw0 \[8:4\] MIP, PFSID, \[31:16\] SID, \[51:32\] PASID; qw1 \[0\] G, \[11\] S,
    /// \[63:12\] ADDR.
    PasidDevTlb {
        /// qw0\[8:4\] MIP, the device's maximum invalidations pending.
        mip: u8,
        /// PFSID, the source ID of the physical function (qw0\[15:12\] holds bits 3:0, qw0\[63:52\]
        /// bits 15:4).
        pfsid: u16,
        /// qw0\[31:16\] SID, the requester ID of the device whose device-TLB is invalidated.
        sid: Rid,
        /// qw0\[51:32\] PASID (20 bits) whose device-TLB entries are invalidated.
        pasid: u32,
        /// qw1\[0\] G, the global flag of the PASID-based device-TLB invalidation.
        g: bool,
        /// qw1\[11\] S, the size bit: when set, the low-order ADDR bits encode the range size.
        s: bool,
        /// qw1\[63:12\] ADDR in place (low 12 bits zero), the address to invalidate.
        addr: u64,
    },
    /// Type 9 (scalable mode / PRS only), kept raw.
    PageGroupResponse {
        /// The raw low qword (type bits included).
        qw0: u64,
        /// The raw high qword.
        qw1: u64,
    },
}

const fn check_reserved(
    ty: u8,
    qw0: u64,
    qw1: u64,
    allowed: (u64, u64),
) -> Result<(), InvDescError> {
    let r0 = qw0 & !allowed.0;
    let r1 = qw1 & !allowed.1;
    if r0 != 0 || r1 != 0 {
        Err(InvDescError::ReservedBits {
            ty,
            qw0: r0,
            qw1: r1,
        })
    } else {
        Ok(())
    }
}

impl InvDescriptor {
    /// Decode a 128-bit descriptor (or the low half of a 256-bit one).
    pub fn decode(qw0: u64, qw1: u64) -> Result<InvDescriptor, InvDescError> {
        let ty = desc_type(qw0);
        let allowed = match ty {
            INV_TYPE_CC => CC_ALLOWED,
            INV_TYPE_IOTLB => IOTLB_ALLOWED,
            INV_TYPE_DEV_TLB => DEV_TLB_ALLOWED,
            INV_TYPE_IEC => IEC_ALLOWED,
            INV_TYPE_WAIT => WAIT_ALLOWED,
            INV_TYPE_PASID_IOTLB => PASID_IOTLB_ALLOWED,
            INV_TYPE_PASID_CACHE => PASID_CACHE_ALLOWED,
            INV_TYPE_PASID_DEV_TLB => PASID_DEV_TLB_ALLOWED,
            INV_TYPE_PAGE_GROUP_RESPONSE => (u64::MAX, u64::MAX),
            _ => return Err(InvDescError::InvalidType(ty)),
        };
        check_reserved(ty, qw0, qw1, allowed)?;
        let pfsid = (get64(qw0, 15, 12) | (get64(qw0, 63, 52) << 4)) as u16;
        Ok(match ty {
            INV_TYPE_CC => InvDescriptor::ContextCache {
                g: get64(qw0, 5, 4) as u8,
                did: DomainId(get64(qw0, 31, 16) as u16),
                sid: Rid(get64(qw0, 47, 32) as u16),
                fm: get64(qw0, 49, 48) as u8,
            },
            INV_TYPE_IOTLB => InvDescriptor::Iotlb {
                g: get64(qw0, 5, 4) as u8,
                dw: bit64(qw0, 6),
                dr: bit64(qw0, 7),
                did: DomainId(get64(qw0, 31, 16) as u16),
                am: get64(qw1, 5, 0) as u8,
                ih: bit64(qw1, 6),
                addr: Iova(qw1 & mask64(63, 12)),
            },
            INV_TYPE_DEV_TLB => InvDescriptor::DevTlb {
                pfsid,
                mip: get64(qw0, 20, 16) as u8,
                sid: Rid(get64(qw0, 47, 32) as u16),
                s: bit64(qw1, 0),
                addr: qw1 & mask64(63, 12),
            },
            INV_TYPE_IEC => InvDescriptor::Iec {
                g: bit64(qw0, 4),
                im: get64(qw0, 31, 27) as u8,
                iidx: get64(qw0, 47, 32) as u16,
            },
            INV_TYPE_WAIT => InvDescriptor::Wait {
                if_: bit64(qw0, 4),
                sw: bit64(qw0, 5),
                fn_: bit64(qw0, 6),
                pd: bit64(qw0, 7),
                status_data: get64(qw0, 63, 32) as u32,
                status_addr: Hpa(qw1 & mask64(63, 2)),
            },
            INV_TYPE_PASID_IOTLB => InvDescriptor::PasidIotlb {
                g: get64(qw0, 5, 4) as u8,
                did: DomainId(get64(qw0, 31, 16) as u16),
                pasid: get64(qw0, 51, 32) as u32,
                am: get64(qw1, 5, 0) as u8,
                ih: bit64(qw1, 6),
                addr: Iova(qw1 & mask64(63, 12)),
            },
            INV_TYPE_PASID_CACHE => InvDescriptor::PasidCache {
                g: get64(qw0, 5, 4) as u8,
                did: DomainId(get64(qw0, 31, 16) as u16),
                pasid: get64(qw0, 51, 32) as u32,
            },
            INV_TYPE_PASID_DEV_TLB => InvDescriptor::PasidDevTlb {
                mip: get64(qw0, 8, 4) as u8,
                pfsid,
                sid: Rid(get64(qw0, 31, 16) as u16),
                pasid: get64(qw0, 51, 32) as u32,
                g: bit64(qw1, 0),
                s: bit64(qw1, 11),
                addr: qw1 & mask64(63, 12),
            },
            _ => InvDescriptor::PageGroupResponse { qw0, qw1 },
        })
    }

    /// Decode a 256-bit descriptor: as [`InvDescriptor::decode`] on qwords 0-1; the legacy types
    /// 1-5 must have qwords 2-3 zero.
    pub fn decode_256(q: [u64; 4]) -> Result<InvDescriptor, InvDescError> {
        let d = Self::decode(q[0], q[1])?;
        let ty = d.desc_type();
        if ty <= INV_TYPE_WAIT && (q[2] | q[3]) != 0 {
            return Err(InvDescError::ReservedHighQwords { ty });
        }
        Ok(d)
    }

    /// The 7-bit type of this descriptor.
    pub const fn desc_type(&self) -> u8 {
        match self {
            InvDescriptor::ContextCache { .. } => INV_TYPE_CC,
            InvDescriptor::Iotlb { .. } => INV_TYPE_IOTLB,
            InvDescriptor::DevTlb { .. } => INV_TYPE_DEV_TLB,
            InvDescriptor::Iec { .. } => INV_TYPE_IEC,
            InvDescriptor::Wait { .. } => INV_TYPE_WAIT,
            InvDescriptor::PasidIotlb { .. } => INV_TYPE_PASID_IOTLB,
            InvDescriptor::PasidCache { .. } => INV_TYPE_PASID_CACHE,
            InvDescriptor::PasidDevTlb { .. } => INV_TYPE_PASID_DEV_TLB,
            InvDescriptor::PageGroupResponse { .. } => INV_TYPE_PAGE_GROUP_RESPONSE,
        }
    }

    /// Encode to (qw0, qw1); reserved bits 0, fields truncated to their widths.
    pub const fn encode(&self) -> (u64, u64) {
        let ty = self.desc_type();
        let t = type_bits(ty);
        match *self {
            InvDescriptor::ContextCache { g, did, sid, fm } => {
                let mut q0 = set64(t, 5, 4, g as u64);
                q0 = set64(q0, 31, 16, did.0 as u64);
                q0 = set64(q0, 47, 32, sid.0 as u64);
                q0 = set64(q0, 49, 48, fm as u64);
                (q0, 0)
            }
            InvDescriptor::Iotlb {
                g,
                dw,
                dr,
                did,
                am,
                ih,
                addr,
            } => {
                let mut q0 = set64(t, 5, 4, g as u64);
                q0 = setb64(q0, 6, dw);
                q0 = setb64(q0, 7, dr);
                q0 = set64(q0, 31, 16, did.0 as u64);
                (q0, Self::addr_qw1(am, ih, addr.0))
            }
            InvDescriptor::DevTlb {
                pfsid,
                mip,
                sid,
                s,
                addr,
            } => {
                let mut q0 = set64(t, 15, 12, pfsid as u64 & 0xF);
                q0 = set64(q0, 20, 16, mip as u64);
                q0 = set64(q0, 47, 32, sid.0 as u64);
                q0 = set64(q0, 63, 52, pfsid as u64 >> 4);
                (q0, setb64(addr & mask64(63, 12), 0, s))
            }
            InvDescriptor::Iec { g, im, iidx } => {
                let mut q0 = setb64(t, 4, g);
                q0 = set64(q0, 31, 27, im as u64);
                q0 = set64(q0, 47, 32, iidx as u64);
                (q0, 0)
            }
            InvDescriptor::Wait {
                if_,
                sw,
                fn_,
                pd,
                status_data,
                status_addr,
            } => {
                let mut q0 = setb64(t, 4, if_);
                q0 = setb64(q0, 5, sw);
                q0 = setb64(q0, 6, fn_);
                q0 = setb64(q0, 7, pd);
                q0 = set64(q0, 63, 32, status_data as u64);
                (q0, status_addr.0 & mask64(63, 2))
            }
            InvDescriptor::PasidIotlb {
                g,
                did,
                pasid,
                am,
                ih,
                addr,
            } => {
                let mut q0 = set64(t, 5, 4, g as u64);
                q0 = set64(q0, 31, 16, did.0 as u64);
                q0 = set64(q0, 51, 32, pasid as u64);
                (q0, Self::addr_qw1(am, ih, addr.0))
            }
            InvDescriptor::PasidCache { g, did, pasid } => {
                let mut q0 = set64(t, 5, 4, g as u64);
                q0 = set64(q0, 31, 16, did.0 as u64);
                q0 = set64(q0, 51, 32, pasid as u64);
                (q0, 0)
            }
            InvDescriptor::PasidDevTlb {
                mip,
                pfsid,
                sid,
                pasid,
                g,
                s,
                addr,
            } => {
                let mut q0 = set64(t, 8, 4, mip as u64);
                q0 = set64(q0, 15, 12, pfsid as u64 & 0xF);
                q0 = set64(q0, 31, 16, sid.0 as u64);
                q0 = set64(q0, 51, 32, pasid as u64);
                q0 = set64(q0, 63, 52, pfsid as u64 >> 4);
                let mut q1 = setb64(addr & mask64(63, 12), 0, g);
                q1 = setb64(q1, 11, s);
                (q0, q1)
            }
            InvDescriptor::PageGroupResponse { qw0, qw1 } => {
                ((qw0 & !mask64(11, 9) & !0xF) | t, qw1)
            }
        }
    }

    const fn addr_qw1(am: u8, ih: bool, addr: u64) -> u64 {
        let q1 = set64(addr & mask64(63, 12), 5, 0, am as u64);
        setb64(q1, 6, ih)
    }

    /// Capability- and mode-dependent validity (A12 "other invalid cases", openvmm policy):
    ///
    /// * CC / IOTLB with G=0 -> `Unsupported`;
    /// * IOTLB page-selective without CAP.PSI, or AM > CAP.MAMV -> `Unsupported`;
    /// * type 3 without ECAP.DT, type 4 without ECAP.IR -> `InvalidType`;
    /// * IEC index-selective with IM > ECAP.MHMV -> `Unsupported`;
    /// * wait with PD=1 without ECAP.PDS -> `ReservedBits` (bit 7);
    /// * types 6-9 when `scalable == false` -> `InvalidType`.
    pub const fn check_caps(
        &self,
        cap: &Cap,
        ecap: &Ecap,
        scalable: bool,
    ) -> Result<(), InvDescError> {
        let ty = self.desc_type();
        match *self {
            InvDescriptor::ContextCache { g, .. } => {
                if g == 0 {
                    return Err(InvDescError::Unsupported {
                        ty,
                        what: "granularity 0",
                    });
                }
            }
            InvDescriptor::Iotlb { g, am, .. } => {
                if g == 0 {
                    return Err(InvDescError::Unsupported {
                        ty,
                        what: "granularity 0",
                    });
                }
                if g == IOTLB_G_PAGE {
                    if !cap.psi {
                        return Err(InvDescError::Unsupported {
                            ty,
                            what: "page-selective invalidation without CAP.PSI",
                        });
                    }
                    if am > cap.mamv {
                        return Err(InvDescError::Unsupported {
                            ty,
                            what: "AM above CAP.MAMV",
                        });
                    }
                }
            }
            InvDescriptor::DevTlb { .. } => {
                if !ecap.dt {
                    return Err(InvDescError::InvalidType(ty));
                }
            }
            InvDescriptor::Iec { g, im, .. } => {
                if !ecap.ir {
                    return Err(InvDescError::InvalidType(ty));
                }
                if g && im > ecap.mhmv {
                    return Err(InvDescError::Unsupported {
                        ty,
                        what: "IM above ECAP.MHMV",
                    });
                }
            }
            InvDescriptor::Wait { pd, .. } => {
                if pd && !ecap.pds {
                    return Err(InvDescError::ReservedBits {
                        ty,
                        qw0: 1 << 7,
                        qw1: 0,
                    });
                }
            }
            _ => {
                if !scalable {
                    return Err(InvDescError::InvalidType(ty));
                }
            }
        }
        Ok(())
    }
}
