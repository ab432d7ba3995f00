//! What the golden model says about one upstream request: the [`Outcome`]s, the [`Allowed`] set,
//! the unit's own interrupt messages ([`Msi`]) and the [`ModelError`] of a rejected commit.

use crate::mem::MemError;
use crate::tlp::{self, CplStatus};
use crate::types::{Hpa, Rid};
use crate::vtd::fault::FaultReason;
use thiserror::Error;

/// One upstream request as it enters the unit (the DUT's `up_hdr` / `up_data0`). `Debug`
/// prints the header DWs and the data in hex.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Request {
    /// Raw TLP header DWs as on the wire, DW0 first (a 3DW header leaves `hdr[3]` unused).
    pub hdr: [u32; 4],
    /// First payload DW as a little-endian `u32` value (the MSI data of an interrupt request).
    pub data0: u32,
}

impl Request {
    /// A request from a decoded header (encoded back to wire DWs) and its first payload DW.
    pub fn from_header(hdr: &tlp::RequestHeader, data0: u32) -> Request {
        Request {
            hdr: hdr.encode(),
            data0,
        }
    }

    /// An MSI write as a request (header plus the message data as `data0`).
    pub fn msi(m: &tlp::MsiWrite) -> Request {
        Request {
            hdr: m.hdr(),
            data0: m.data,
        }
    }

    /// An untranslated memory read (MRd) of `len` bytes at `addr` from `rid`: tag 0, no
    /// attributes, AT=00. Fails as [`tlp::mem_read`] does (zero or oversized length, a read
    /// crossing a 4 KiB boundary, ...).
    ///
    /// ```
    /// use iommu_driver::model::Request;
    /// use iommu_driver::Rid;
    /// let r = Request::read(Rid::from_bdf(3, 0, 0), 0x10_0040, 64)?;
    /// assert_eq!(r.header()?.address, 0x10_0040);
    /// # Ok::<(), iommu_driver::tlp::TlpError>(())
    /// ```
    pub fn read(rid: Rid, addr: u64, len: u64) -> Result<Request, tlp::TlpError> {
        Ok(Request::from_header(&tlp::mem_read(rid, 0, addr, len)?, 0))
    }

    /// An untranslated memory write (MWr) of `len` bytes at `addr` from `rid` whose first
    /// payload DW is `data0`: tag 0, no attributes, AT=00. Fails as [`tlp::mem_write`] does.
    pub fn write(rid: Rid, addr: u64, len: u64, data0: u32) -> Result<Request, tlp::TlpError> {
        Ok(Request::from_header(
            &tlp::mem_write(rid, 0, addr, len)?,
            data0,
        ))
    }

    /// An interrupt request: the DWORD write of `data` to `addr` (0xFEEx_xxxx) that an MSI or
    /// MSI-X vector makes, from `rid`.
    pub fn interrupt(rid: Rid, addr: u64, data: u32) -> Request {
        Request::msi(&tlp::msi_write(rid, addr, data))
    }

    /// The header decoded (spec C1-C3): fails when the DWs do not form a valid request header.
    pub fn header(&self) -> Result<tlp::RequestHeader, tlp::TlpError> {
        tlp::RequestHeader::decode(&self.hdr)
    }
}

/// A message-signalled interrupt: a DWORD write of `data` to `addr`. `Debug` prints both in hex.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Msi {
    /// Address of the write: 0xFEEx_xxxx (bits 19:12 the destination APIC ID, bit 3 RH, bit 2 DM)
    /// for an interrupt to the local APICs.
    pub addr: u64,
    /// The DWORD written: vector in bits 7:0, delivery mode in bits 10:8, trigger mode in bit 15.
    pub data: u32,
}

impl std::fmt::Debug for Msi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Msi {{ addr: {:#x}, data: {:#x} }}",
            self.addr, self.data
        )
    }
}

impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Request {{ hdr: [{:#010x}, {:#010x}, {:#010x}, {:#010x}], data0: {:#010x} }}",
            self.hdr[0], self.hdr[1], self.hdr[2], self.hdr[3], self.data0
        )
    }
}

#[cfg(test)]
mod debug_tests {
    use super::*;

    #[test]
    fn addresses_and_message_data_print_in_hex() {
        let m = Msi {
            addr: 0xFEE0_1000,
            data: 0x4041,
        };
        assert_eq!(format!("{m:?}"), "Msi { addr: 0xfee01000, data: 0x4041 }");
        let o = Outcome::Interrupt { msi: m };
        assert_eq!(
            format!("{o:?}"),
            "Interrupt { msi: Msi { addr: 0xfee01000, data: 0x4041 } }"
        );
        let r = Request {
            hdr: [0x4000_0001, 0x0100_00ff, 0xfee0_0010, 0],
            data0: 0x22,
        };
        assert_eq!(
            format!("{r:?}"),
            "Request { hdr: [0x40000001, 0x010000ff, 0xfee00010, 0x00000000], data0: 0x00000022 }"
        );
    }
}

/// What the unit does with one upstream request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// DMA forwarded to memory at this host address (TE=0: identity).
    Forward {
        /// Host physical address the request leaves with (the translated address).
        addr: Hpa,
    },
    /// UR/CA completion without data to the requester (non-posted request blocked).
    /// `fault` is the fault reason whether or not it was recorded (FPD / PFO / compression);
    /// `None` when no VT-d fault applies (malformed TLP, read of the interrupt window).
    Complete {
        /// Completion status (spec C4): UR (unsupported request) or CA (completer abort).
        status: CplStatus,
        /// The fault reason (FRCD.FR code) behind the block, if any.
        fault: Option<FaultReason>,
    },
    /// Posted request dropped; `fault` as for [`Outcome::Complete`].
    Drop {
        /// The fault reason (FRCD.FR code) behind the drop, if any.
        fault: Option<FaultReason>,
    },
    /// Interrupt delivered (remapped, or unchanged when IRE=0 / compatibility format allowed).
    Interrupt {
        /// The interrupt message sent toward the APICs.
        msi: Msi,
    },
    /// Posted interrupt: PIR\[`vector`\] set in the descriptor at `pid`; maybe a notification event.
    Posted {
        /// Address of the posted-interrupt descriptor (the IRTE's PDA).
        pid: Hpa,
        /// The vector whose PIR bit was set (the IRTE's V).
        vector: u8,
        /// The notification event (vector NV to NDST, spec B8) when ON went from 0 to 1 with URG=1
        /// or SN=0; `None` when no notification was sent.
        notify: Option<Msi>,
    },
}

impl Outcome {
    /// Forwarded to host physical address `addr`.
    pub const fn forward(addr: Hpa) -> Outcome {
        Outcome::Forward { addr }
    }

    /// A non-posted request blocked with an Unsupported Request completion for `fault`.
    pub const fn ur(fault: FaultReason) -> Outcome {
        Outcome::Complete {
            status: CplStatus::Ur,
            fault: Some(fault),
        }
    }

    /// A non-posted request blocked with a Completer Abort completion for `fault`.
    pub const fn ca(fault: FaultReason) -> Outcome {
        Outcome::Complete {
            status: CplStatus::Ca,
            fault: Some(fault),
        }
    }

    /// A posted request (a write, or an interrupt request) dropped for `fault`.
    pub const fn dropped(fault: FaultReason) -> Outcome {
        Outcome::Drop { fault: Some(fault) }
    }

    /// An interrupt message delivered: the DWORD write of `data` to `addr`.
    pub const fn interrupt(addr: u64, data: u32) -> Outcome {
        Outcome::Interrupt {
            msi: Msi { addr, data },
        }
    }

    /// The fault reason this outcome carries, if any.
    pub fn fault(&self) -> Option<FaultReason> {
        match self {
            Outcome::Complete { fault, .. } | Outcome::Drop { fault } => *fault,
            _ => None,
        }
    }
}

/// Inline capacity of [`Allowed`]; more distinct outcomes spill to the heap (rare: only
/// inside several overlapping stale-cache windows).
const INLINE: usize = 4;

/// The non-empty set of outcomes the spec and `decisions.md` allow for one request right now
/// (decisions.md "Caching and the scoreboard"). The first member is the *fresh* outcome, computed
/// from current memory with no cached state; the others come from observed (possibly stale)
/// cached items. Members are distinct. No heap allocation unless more than 4 outcomes exist.
#[derive(Clone)]
pub struct Allowed {
    len: u8,
    inline: [Outcome; INLINE],
    spill: Vec<Outcome>,
}

impl Allowed {
    /// The set holding only `fresh`.
    pub fn one(fresh: Outcome) -> Self {
        Allowed {
            len: 1,
            inline: [fresh; INLINE],
            spill: Vec::new(),
        }
    }

    /// Alias of [`Allowed::one`].
    pub fn single(fresh: Outcome) -> Self {
        Self::one(fresh)
    }

    /// Add `o` unless it is already a member. Returns true if it was added.
    pub fn insert(&mut self, o: Outcome) -> bool {
        if self.contains(&o) {
            return false;
        }
        if (self.len as usize) < INLINE {
            self.inline[self.len as usize] = o;
            self.len += 1;
        } else {
            self.spill.push(o);
        }
        true
    }

    /// The outcome computed from current memory alone (always the first member).
    pub fn fresh(&self) -> &Outcome {
        &self.inline[0]
    }

    /// Is `o` allowed?
    pub fn contains(&self, o: &Outcome) -> bool {
        self.inline[..self.len as usize].contains(o) || self.spill.contains(o)
    }

    /// Number of distinct allowed outcomes (at least 1).
    pub fn len(&self) -> usize {
        self.len as usize + self.spill.len()
    }

    /// Never true (the set always holds the fresh outcome); provided for API symmetry.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Exactly one outcome is allowed (no stale-cache window affects this request).
    pub fn is_single(&self) -> bool {
        self.len() == 1
    }

    /// The members, fresh first.
    pub fn iter(&self) -> impl Iterator<Item = &Outcome> + '_ {
        self.inline[..self.len as usize]
            .iter()
            .chain(self.spill.iter())
    }

    /// The members as a vector, fresh first.
    pub fn to_vec(&self) -> Vec<Outcome> {
        self.iter().copied().collect()
    }

    /// Merge every member of `other` into `self` (keeps `self`'s fresh outcome first).
    pub fn extend(&mut self, other: &Allowed) {
        for o in other.iter() {
            self.insert(*o);
        }
    }
}

impl std::fmt::Debug for Allowed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

impl PartialEq for Allowed {
    /// Set equality (the fresh outcome must match too).
    fn eq(&self, other: &Self) -> bool {
        self.fresh() == other.fresh()
            && self.len() == other.len()
            && self.iter().all(|o| other.contains(o))
    }
}
impl Eq for Allowed {}

/// Why [`crate::model::Model::commit`] refused an outcome.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ModelError {
    /// The DUT's outcome is not in the allowed set: a scoreboard mismatch.
    #[error("outcome {got:?} is not allowed; allowed: {allowed:?}")]
    NotAllowed {
        /// The outcome the DUT produced.
        got: Outcome,
        /// The allowed set at that point, fresh outcome first.
        allowed: Vec<Outcome>,
    },
    /// A memory side effect of the outcome (e.g. a posted-interrupt descriptor update) failed.
    #[error("memory side effect failed: {0}")]
    Mem(#[from] MemError),
}
