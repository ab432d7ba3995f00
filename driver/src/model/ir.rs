//! Interrupt remapping (spec B1-B9 with `decisions.md`): the IRTA register and its SIRTP latch,
//! the handling of a memory write into the interrupt window 0xFEE0_0000..=0xFEEF_FFFF, posted
//! interrupts, and the interrupt-entry cache (IEC) as *observations* for the allowed set.
//!
//! Order of checks for an interrupt request (B3 with decisions.md; the first that applies wins):
//!
//! 1. Not exactly one DW with first BE 0xF: malformed interrupt request, fault 20h (FI index 0).
//!    Decided here: this shape check comes first, whatever GSTS.IRES / ECAP.IR say, because such
//!    a write cannot be delivered as an interrupt message at all (decisions.md states it without
//!    condition).
//! 2. GSTS.IRES=0: delivered unchanged (address, data = first payload DW).
//! 3. Compatibility format (addr\[4\]=0): 25h if the latched IRTA.EIME=1 or GSTS.CFIS=0, else
//!    delivered unchanged (FI index 0).
//! 4. Remappable: addr\[63:32\] != 0 or data\[31:16\] != 0: 20h, FI index 0 (decisions.md: before
//!    the IRTE fetch).
//! 5. index = handle, or (handle + data\[15:0\]) mod 2^16 with SHV=1. From here on the fault
//!    record carries FI\[63:48\] = index.
//! 6. index >= 2^(S+1) of the latched IRTA: 21h.
//! 7. Error reading the IRTE at IRTA + 16*index: 23h.
//! 8. IRTE.P=0: 22h (qualified by IRTE.FPD even with P=0).
//! 9. Reserved IRTE bits (EIME- and CAP.PI-dependent, [`Irte::reserved_bits`]): 24h (qualified).
//! 10. Source-ID check (B5, SVT=10 as start/end bus, SVT=11 fails): 26h (qualified).
//! 11. IM=0: remapped message (B6). Input address bits 1:0 are not copied: the output has them 0
//!     (they are 0 in any case: a TLP address is DW aligned).
//!     IM=1 (posted, B8): read the 64-byte PID at PDA: read error 27h, reserved bits 28h (both
//!     qualified by IRTE.FPD); else PIR\[V\] is set and X = (ON==0) && (URG==1 || SN==0); if X, ON
//!     is set and a notification (vector NV to NDST, fixed, edge, physical, RH=0) goes out.
//!
//! A faulting interrupt request is dropped ([`Outcome::Drop`]) and the fault is recorded through
//! [`Model::record_fault`] with SID = requester, FI = index << 48, T=0, AT=0.
//!
//! [`Model::ir_evaluate`] is pure. [`Model::ir_commit`] applies the side effects of the outcome
//! the DUT produced: the fault record, the PID read-modify-write (PIR bit and ON, on the model's
//! memory), the counters (`irq_remapped` for a remapped message, `irq_posted` for a posting; an
//! unchanged delivery counts in neither; every IRTE fetch counts as an IEC miss, since hits are
//! micro-architectural) and the IEC observation.
//!
//! IEC (B9, decisions.md "Caching and the scoreboard", D5 #11/#13): a present IRTE without
//! reserved bits that a committed request used is *observed* for its index. An observed IRTE stays
//! usable until a queued IEC invalidation covers its index (global, or 2^IM entries from IIDX
//! aligned down); SIRTP does not invalidate (ESIRTPS=0), so a stale entry of the old table may be
//! used after a table switch. The allowed set is the fresh outcome (from memory) plus the outcome
//! of every observed IRTE of the index. Decided here: an IRTE is observed whenever it was
//! valid (present, no reserved bits), including when the request then failed the SID check or the
//! PID access; this only widens the allowed set (an RTL that does not cache in those cases is
//! still inside it).

use super::{gsts, Allowed, Model, ModelError, Msi, Outcome, PendingFault};
use crate::mem::{HostMemory, MemError};
use crate::tlp;
use crate::types::{Hpa, Rid};
use crate::vtd::fault::FaultReason;
use crate::vtd::irte::Irte;
use crate::vtd::msi::{
    interrupt_index, notification_msi, remappable_request_reserved, remapped_msi, MsiAddress,
};
use crate::vtd::pid::{PostedInterruptDescriptor, PID_BYTES};
use crate::vtd::regs::{Irta, IRTA_REG};
use std::collections::BTreeMap;

/// IRTA_REG bit 11: EIME.
const IRTA_EIME: u64 = 1 << 11;

/// Interrupt-remapping state (B1, B9).
#[derive(Default, Clone, Debug)]
pub(crate) struct IrState {
    /// IRTA_REG as software wrote it. Reserved bits (10:4, base bits >= HAW, and EIME when
    /// ECAP.EIM=0) are not stored and read 0.
    pub(crate) irta: u64,
    /// The IRTA latched by the last GCMD.SIRTP (reset: all zero = 2 entries at address 0).
    pub(crate) latched: Irta,
    /// IEC observations: for each interrupt index, the distinct raw IRTEs committed requests used
    /// since the last IEC invalidation covering the index.
    pub(crate) iec: BTreeMap<u16, Vec<u128>>,
}

impl IrState {
    /// IEC invalidation (QI type 4, B9): `global`, or 2^`im` entries from `iidx` aligned down to
    /// 2^`im`. Removes the covered observations.
    pub(crate) fn invalidate_iec(&mut self, global: bool, im: u8, iidx: u16) {
        invalidate_iec_map(&mut self.iec, global, im, iidx);
    }
}

/// IEC invalidation of an observation map: `global`, or 2^`im` entries from `iidx` aligned
/// down to 2^`im`.
pub(crate) fn invalidate_iec_map(
    iec: &mut BTreeMap<u16, Vec<u128>>,
    global: bool,
    im: u8,
    iidx: u16,
) {
    if global {
        iec.clear();
        return;
    }
    let im = u32::from(im.min(16));
    let count = 1u32 << im;
    let start = u32::from(iidx) & !(count - 1);
    let end = start + count - 1; // <= 0xFFFF
    let doomed: Vec<u16> = iec
        .range(start as u16..=end as u16)
        .map(|(k, _)| *k)
        .collect();
    for k in doomed {
        iec.remove(&k);
    }
}

/// Add every IRTE observation of `from` to `iec`.
pub(crate) fn merge_iec(iec: &mut BTreeMap<u16, Vec<u128>>, from: &BTreeMap<u16, Vec<u128>>) {
    for (index, raws) in from {
        for raw in raws {
            observe_iec(iec, *index, *raw);
        }
    }
}

/// Remember in `iec` that a committed request used the valid IRTE `raw` at `index`.
pub(crate) fn observe_iec(iec: &mut BTreeMap<u16, Vec<u128>>, index: u16, raw: u128) {
    let v = iec.entry(index).or_default();
    if !v.contains(&raw) {
        v.push(raw);
    }
}

/// The fault an interrupt-request outcome records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct IrFault {
    reason: FaultReason,
    /// Interrupt index for FI\[63:48\] (0 for 20h and 25h).
    index: u16,
    /// FPD of the IRTE that applies (false when no IRTE was read).
    fpd: bool,
}

/// What an outcome did, for the counters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum IrKind {
    /// Delivered unchanged (IRES=0, or an allowed compatibility-format interrupt).
    Unchanged,
    /// Blocked with a fault.
    Fault,
    /// Remapped through an IM=0 IRTE.
    Remapped,
    /// Posted through an IM=1 IRTE.
    Posted,
}

/// One member of the allowed set with what committing it needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct IrResult {
    outcome: Outcome,
    kind: IrKind,
    fault: Option<IrFault>,
    /// The valid IRTE (index, raw) the outcome used: observed in the IEC at commit.
    used: Option<(u16, u128)>,
    /// The request got as far as the IRTE fetch (IEC-miss counter).
    fetched: bool,
}

impl IrResult {
    /// Committing it writes a fault record (a fault FPD does not suppress).
    fn records(&self) -> bool {
        self.fault
            .is_some_and(|f| !(f.fpd && f.reason.is_qualified()))
    }

    fn fault(reason: FaultReason, index: u16, fpd: bool, fetched: bool) -> Self {
        IrResult {
            outcome: Outcome::Drop {
                fault: Some(reason),
            },
            kind: IrKind::Fault,
            fault: Some(IrFault { reason, index, fpd }),
            used: None,
            fetched,
        }
    }
}

/// The stage before the IRTE fetch: either an outcome already, or the index to look up.
enum Front {
    Done(IrResult),
    Lookup { index: u16 },
}

/// The fields of an interrupt-window MWr that interrupt remapping looks at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct IrRequest {
    pub rid: Rid,
    /// Full 64-bit request address.
    pub addr: u64,
    /// Length in DWs (1..=1024).
    pub len_dw: u32,
    pub first_be: u8,
    /// First payload DW (the MSI data).
    pub data: u32,
}

impl IrRequest {
    /// Extract the fields from a decoded memory-write header.
    pub(crate) fn from_header(rid: Rid, hdr: &tlp::RequestHeader, data0: u32) -> Self {
        IrRequest {
            rid,
            addr: hdr.address,
            len_dw: u32::from(hdr.length),
            first_be: hdr.first_be,
            data: data0,
        }
    }
}

impl Model {
    /// The allowed outcomes of an MWr in the interrupt window (pure). See the module doc.
    pub(crate) fn ir_evaluate(
        &self,
        mem: &HostMemory,
        rid: Rid,
        hdr: &tlp::RequestHeader,
        data0: u32,
    ) -> Allowed {
        self.ir_evaluate_req(mem, &IrRequest::from_header(rid, hdr, data0))
    }

    /// [`Model::ir_evaluate`] on the extracted request fields.
    pub(crate) fn ir_evaluate_req(&self, mem: &HostMemory, req: &IrRequest) -> Allowed {
        let mut allowed: Option<Allowed> = None;
        self.ir_results(mem, req, |r| match allowed.as_mut() {
            None => allowed = Some(Allowed::one(r.outcome)),
            Some(a) => {
                a.insert(r.outcome);
            }
        });
        // ir_results always yields the fresh result first.
        allowed.unwrap_or_else(|| Allowed::one(Outcome::Drop { fault: None }))
    }

    /// Apply the side effects of `outcome` for an interrupt-window MWr: fault record, PID update,
    /// counters, IEC observation. `outcome` must be allowed ([`ModelError::NotAllowed`] else).
    pub(crate) fn ir_commit(
        &mut self,
        mem: &mut HostMemory,
        rid: Rid,
        hdr: &tlp::RequestHeader,
        data0: u32,
        outcome: &Outcome,
        variant: usize,
    ) -> Result<(), ModelError> {
        self.ir_commit_req(
            mem,
            &IrRequest::from_header(rid, hdr, data0),
            outcome,
            variant,
        )
    }

    /// How many fault-recording variants committing `outcome` has (see
    /// [`Model::commit_variants`]): 2 when the results giving it differ in whether the fault is
    /// recorded (a stale cached IRTE with another FPD), else 1; 0 if not allowed.
    pub(crate) fn ir_commit_variants(
        &self,
        mem: &HostMemory,
        rid: Rid,
        hdr: &tlp::RequestHeader,
        data0: u32,
        outcome: &Outcome,
    ) -> usize {
        let (mut rec, mut norec) = (false, false);
        self.ir_results(mem, &IrRequest::from_header(rid, hdr, data0), |r| {
            if r.outcome == *outcome {
                if r.records() {
                    rec = true;
                } else {
                    norec = true;
                }
            }
        });
        usize::from(rec) + usize::from(norec)
    }

    /// [`Model::ir_commit`] on the extracted request fields.
    pub(crate) fn ir_commit_req(
        &mut self,
        mem: &mut HostMemory,
        req: &IrRequest,
        outcome: &Outcome,
        variant: usize,
    ) -> Result<(), ModelError> {
        let mut all: Vec<IrResult> = Vec::with_capacity(2);
        self.ir_results(mem, req, |r| all.push(r));
        // Variant 0: the first result giving the outcome (fresh first); variant 1: the first one
        // whose fault recording differs from it.
        let first = all.iter().find(|r| r.outcome == *outcome).copied();
        let chosen = match (first, variant) {
            (Some(f), 0) => Some(f),
            (Some(f), _) => all
                .iter()
                .find(|r| r.outcome == *outcome && r.records() != f.records())
                .copied(),
            (None, _) => None,
        };
        let Some(chosen) = chosen else {
            let mut allowed: Vec<Outcome> = Vec::with_capacity(all.len());
            for r in &all {
                if !allowed.contains(&r.outcome) {
                    allowed.push(r.outcome);
                }
            }
            return Err(ModelError::NotAllowed {
                got: *outcome,
                allowed,
            });
        };
        // Memory side effect first: a failing PID update leaves the model unchanged.
        if let Outcome::Posted {
            pid,
            vector,
            notify,
        } = chosen.outcome
        {
            post_update(mem, pid, vector, notify.is_some())?;
        }
        if chosen.fetched {
            self.counters.iec_misses += 1;
        }
        if let Some((index, raw)) = chosen.used {
            match self.sink.as_deref_mut() {
                Some(sink) => observe_iec(&mut sink.iec, index, raw),
                None => observe_iec(&mut self.ir.iec, index, raw),
            }
        }
        match chosen.kind {
            IrKind::Remapped => self.counters.irq_remapped += 1,
            IrKind::Posted => self.counters.irq_posted += 1,
            IrKind::Unchanged | IrKind::Fault => {}
        }
        if let Some(f) = chosen.fault {
            self.record_fault(&PendingFault {
                reason: f.reason,
                sid: req.rid,
                fi: u64::from(f.index) << 48,
                t_read: false,
                t2: false,
                at: 0,
                fpd: f.fpd,
            });
        }
        Ok(())
    }

    /// Enumerate the candidate results: the fresh one first, then one per observed IRTE of the
    /// index whose outcome differs in raw value from the fresh IRTE.
    fn ir_results(&self, mem: &HostMemory, req: &IrRequest, mut each: impl FnMut(IrResult)) {
        let index = match self.ir_front(req) {
            Front::Done(r) => {
                each(r);
                return;
            }
            Front::Lookup { index } => index,
        };
        let fresh_raw = mem.read_u128(self.ir.latched.entry_addr(index));
        let fresh_ok = fresh_raw.as_ref().ok().copied();
        each(self.ir_with_irte(mem, req, index, fresh_raw));
        if let Some(obs) = self.ir.iec.get(&index) {
            for &raw in obs {
                if fresh_ok != Some(raw) {
                    // An IEC hit: no fetch.
                    let r = self.ir_with_irte(mem, req, index, Ok(raw));
                    each(IrResult {
                        fetched: false,
                        ..r
                    });
                }
            }
        }
    }

    /// B3 steps up to the IRTE fetch (module doc items 1-6).
    fn ir_front(&self, req: &IrRequest) -> Front {
        use FaultReason::*;
        // 1. Shape: one DW with all bytes enabled (decisions.md).
        if req.len_dw != 1 || req.first_be != 0xF {
            return Front::Done(IrResult::fault(IrRequestReserved, 0, false, false));
        }
        let unchanged = IrResult {
            outcome: Outcome::Interrupt {
                msi: Msi {
                    addr: req.addr,
                    data: req.data,
                },
            },
            kind: IrKind::Unchanged,
            fault: None,
            used: None,
            fetched: false,
        };
        // 2. Interrupt remapping disabled (or not supported: IRES then never sets).
        if !self.cfg.ecap.ir || self.gsts & gsts::IRES == 0 {
            return Front::Done(unchanged);
        }
        // 3. Compatibility format.
        let (handle, shv) = match MsiAddress::decode(req.addr) {
            MsiAddress::Compatibility { .. } => {
                return if self.ir.latched.eime || self.gsts & gsts::CFIS == 0 {
                    Front::Done(IrResult::fault(CompatInterruptBlocked, 0, false, false))
                } else {
                    Front::Done(unchanged)
                };
            }
            MsiAddress::Remappable { handle, shv } => (handle, shv),
        };
        // 4. Reserved request fields, checked before anything else of the remappable path.
        if remappable_request_reserved(req.addr, req.data) {
            return Front::Done(IrResult::fault(IrRequestReserved, 0, false, false));
        }
        // 5./6. Index and table size.
        let index = interrupt_index(handle, shv, req.data);
        if u32::from(index) >= self.ir.latched.entries() {
            return Front::Done(IrResult::fault(IrIndexOutOfRange, index, false, false));
        }
        Front::Lookup { index }
    }

    /// B3 steps from the IRTE on (module doc items 7-11), given the IRTE read result.
    fn ir_with_irte(
        &self,
        mem: &HostMemory,
        req: &IrRequest,
        index: u16,
        raw: Result<u128, MemError>,
    ) -> IrResult {
        use FaultReason::*;
        let Ok(raw) = raw else {
            return IrResult::fault(IrteReadError, index, false, true);
        };
        // P (bit 0) and FPD (bit 1) are at the same place in both formats.
        let fpd = raw & 2 != 0;
        if raw & 1 == 0 {
            return IrResult::fault(IrteNotPresent, index, fpd, true);
        }
        let eime = self.ir.latched.eime;
        if Irte::reserved_bits(raw, eime, self.cfg.cap.pi) != 0 {
            return IrResult::fault(IrteReserved, index, fpd, true);
        }
        let irte = Irte::decode(raw);
        let used = Some((index, raw));
        if !irte.sid_valid(req.rid) {
            return IrResult {
                used,
                ..IrResult::fault(IrSidCheckFailed, index, fpd, true)
            };
        }
        match irte {
            Irte::Remapped(e) => {
                let (addr, data) = remapped_msi(&e, eime);
                IrResult {
                    outcome: Outcome::Interrupt {
                        msi: Msi { addr, data },
                    },
                    kind: IrKind::Remapped,
                    fault: None,
                    used,
                    fetched: true,
                }
            }
            Irte::Posted(e) => {
                let mut bytes = [0u8; PID_BYTES];
                if mem.read(e.pda, &mut bytes).is_err() {
                    return IrResult {
                        used,
                        ..IrResult::fault(PidReadError, index, fpd, true)
                    };
                }
                if PostedInterruptDescriptor::has_reserved_bits(&bytes) {
                    return IrResult {
                        used,
                        ..IrResult::fault(PidReserved, index, fpd, true)
                    };
                }
                let mut pid = PostedInterruptDescriptor::decode(&bytes);
                let notify = pid.post(e.vector, e.urg).then(|| {
                    let (addr, data) = notification_msi(&pid, eime);
                    Msi { addr, data }
                });
                IrResult {
                    outcome: Outcome::Posted {
                        pid: e.pda,
                        vector: e.vector,
                        notify,
                    },
                    kind: IrKind::Posted,
                    fault: None,
                    used,
                    fetched: true,
                }
            }
        }
    }

    /// GCMD.SIRTP: latch IRTA_REG (A3, B1). Does not touch the IEC (ESIRTPS=0).
    pub(crate) fn ir_latch_irta(&mut self) {
        self.ir.latched = Irta::decode(self.ir.irta);
    }

    /// The IRTA_REG value (B1) for an access in 0xB8..=0xBF (the whole 64-bit register; the
    /// caller picks the dword). Reads 0 with ECAP.IR=0.
    pub(crate) fn ir_reg_read(&self, offset: u16) -> Option<u64> {
        if !(IRTA_REG..IRTA_REG + 8).contains(&offset) {
            return None;
        }
        Some(if self.cfg.ecap.ir { self.ir.irta } else { 0 })
    }

    /// Write IRTA_REG (a qword at 0xB8 or a dword at 0xB8 / 0xBC). Returns true if the offset is
    /// IRTA's. The value acts only at the next SIRTP (decisions.md), even while IRE=1. Ignored with
    /// ECAP.IR=0.
    pub(crate) fn ir_reg_write(&mut self, offset: u16, size: u8, value: u64) -> bool {
        if !(IRTA_REG..IRTA_REG + 8).contains(&offset) {
            return false;
        }
        if !self.cfg.ecap.ir {
            return true;
        }
        let (mask, v) = match (offset - IRTA_REG, size) {
            (0, 8) => (u64::MAX, value),
            (0, 4) => (0xFFFF_FFFF, value & 0xFFFF_FFFF),
            (4, 4) => (0xFFFF_FFFF_0000_0000, value << 32),
            _ => return true, // misaligned / bad size: the core rejects these first
        };
        let mut writable = !Irta::reserved_mask(self.cfg.haw);
        if !self.cfg.ecap.eim {
            writable &= !IRTA_EIME;
        }
        self.ir.irta = ((self.ir.irta & !mask) | (v & mask)) & writable;
        true
    }
}

/// The posting update of B8 on memory: set PIR\[vector\] and, when a notification was sent, ON.
/// Only the two qwords holding those bits are rewritten (the rest is preserved).
fn post_update(mem: &mut HostMemory, pid: Hpa, vector: u8, set_on: bool) -> Result<(), MemError> {
    let pir_q = Hpa(pid.0.wrapping_add(8 * u64::from(vector / 64)));
    let v = mem.read_u64(pir_q)?;
    mem.write_u64(pir_q, v | (1u64 << (vector % 64)))?;
    if set_on {
        let ctl = Hpa(pid.0.wrapping_add(32));
        let c = mem.read_u64(ctl)?;
        mem.write_u64(ctl, c | 1)?;
    }
    Ok(())
}

#[cfg(test)]
#[path = "ir_tests.rs"]
mod tests;
