//! Queued invalidation (spec A12 with `decisions.md` and the register-interface decisions of the
//! model): the IQ registers IQH/IQT/IQA, ICS, IECTL/IEDATA/IEADDR/IEUADDR and IQERCD, and the
//! synchronous processing of the queue.
//!
//! Registers (offsets 0x80..=0xB7; all read 0 and ignore writes with ECAP.QI=0):
//! - IQH 0x80 (RO): \[18:4\] head offset; reads 0 while GSTS.QIES=0.
//! - IQT 0x88 (RW): \[18:4\] tail offset (other bits read 0). Writing the lower dword (or the
//!   qword) runs the queue at once when QIES=1 and FSTS.IQE=0.
//! - IQA 0x90 (RW): \[2:0\] QS, \[11\] DW, \[63:12\] base; reads return QS *and* DW (D5 #2);
//!   reserved bits (10:3, base bits >= HAW) read 0. The value acts at the next QIE enable
//!   (decisions.md), not while the queue runs.
//! - ICS 0x9C: \[0\] IWC, RW1C. Clearing IWC clears IECTL.IP.
//! - IECTL 0xA0: \[31\] IM (RW, reset 1), \[30\] IP (RO). IM 1->0 with IP=1 sends the pending
//!   invalidation-completion event and clears IP.
//! - IEDATA 0xA4 (\[15:0\]), IEADDR 0xA8 (\[31:2\]), IEUADDR 0xAC (\[31:0\]): the event MSI,
//!   (IEUADDR<<32 | IEADDR, IEDATA); like FEDATA/FEADDR.
//! - IQERCD 0xB0 (RO): \[3:0\] IQEI of the last queue error (ITESID/ICESID 0: no device-TLB).
//!
//! Processing (A12): while head != tail and FSTS.IQE=0, fetch the descriptor at IQA + head,
//! decode it with [`crate::vtd::inv`], execute it, and advance head by 16 bytes (mod the queue
//! size). On an error, IQERCD.IQEI is set, [`Model::raise_iqe`] sets FSTS.IQE (and applies the
//! fault-event rule), and IQH stays on the offending descriptor; processing resumes only on a later
//! IQT write once software has cleared IQE. IQEI codes: 1 tail >= queue size; 6 tail misaligned
//! for 256-bit descriptors; 5 DW=1 (256-bit descriptors need ECAP.SMTS/ADMS, which the project
//! does not have) at the first fetch; 2 descriptor fetch error; 3 invalid type (type 0, > 9,
//! qw0\[11:9\] != 0 (D5 #1), type 3 without ECAP.DT, type 4 without ECAP.IR, types 6-9 in legacy
//! mode); 4 reserved field (A12 masks, G=0 for CC/IOTLB, PSI without CAP.PSI, AM > MAMV, IEC
//! index-selective with IM > MHMV, wait PD=1 without ECAP.PDS).
//!
//! Execution: context-cache -> [`Model::invalidate_context_cache`]; IOTLB ->
//! [`Model::invalidate_iotlb`] (DW/DR drain hints have nothing to drain in a synchronous model);
//! device-TLB (only with ECAP.DT) -> nothing to invalidate; IEC -> the IEC observations (global, or
//! 2^IM indices from IIDX aligned down); wait -> SW=1 writes STATUS DATA (32-bit little-endian) to
//! STATUS ADDR, then IF=1 sets ICS.IWC and IECTL.IP unless IWC is already 1, and with IM=0 sends
//! the event at once and clears IP (SW and IF together: status write first, D5 #9); FN (fence) is a
//! no-op since every descriptor completes before the next is fetched.
//!
//! Decided here: a wait descriptor whose status write fails (memory error) is a queue error with
//! IQEI=2 (the queue's own memory access failed; the IF part is not done) and IQH stays on it.
//! Decided here: enabling the queue (QIE 0->1) latches IQA, resets the head to 0 and, if IQT is
//! already non-zero (Windows programs the tail before enabling), processes the queue at once.

use super::{gsts, Model, Msi};
use crate::mem::HostMemory;
use crate::types::Hpa;
use crate::vtd::inv::{InvDescError, InvDescriptor};
use crate::vtd::regs::{
    iq_tail_misaligned, IqErcd, Iqa, EVENT_ADDR_MASK, EVENT_DATA_MASK, ICS_IWC, IECTL_IM, IECTL_IP,
    IQEI_FETCH_ERROR, IQEI_INVALID_TAIL, IQEI_INVALID_WIDTH, IQEI_TAIL_MISALIGNED, IQ_OFFSET_MASK,
};

/// First offset of the QI register block handled here.
const QI_FIRST: u16 = 0x80;
/// Last byte of the QI register block handled here (IRTA at 0xB8 is interrupt remapping's).
const QI_LAST: u16 = 0xB7;

/// Queued-invalidation registers (A12).
#[derive(Clone, Debug)]
pub(crate) struct QiState {
    /// IQA_REG as written (reserved bits read 0).
    pub(crate) iqa: u64,
    /// IQA latched at the last QIE enable: the queue in use.
    pub(crate) active: Iqa,
    /// Head byte offset (IQH\[18:4\]); 0 while the queue is disabled.
    pub(crate) iqh: u64,
    /// IQT_REG (bits 18:4).
    pub(crate) iqt: u64,
    /// ICS.IWC.
    pub(crate) iwc: bool,
    /// IECTL.IM (reset 1) and IECTL.IP.
    pub(crate) iectl_im: bool,
    pub(crate) iectl_ip: bool,
    /// IEDATA (\[15:0\]), IEADDR (\[31:2\]), IEUADDR.
    pub(crate) iedata: u32,
    pub(crate) ieaddr: u32,
    pub(crate) ieuaddr: u32,
    /// IQERCD_REG.
    pub(crate) iqercd: u64,
}

impl Default for QiState {
    /// Reset state: everything 0 except IECTL.IM = 1.
    fn default() -> Self {
        QiState {
            iqa: 0,
            active: Iqa::default(),
            iqh: 0,
            iqt: 0,
            iwc: false,
            iectl_im: true,
            iectl_ip: false,
            iedata: 0,
            ieaddr: 0,
            ieuaddr: 0,
            iqercd: 0,
        }
    }
}

/// Why queue processing stopped.
struct QueueError(u8);

impl Model {
    fn qies(&self) -> bool {
        self.gsts & gsts::QIES != 0
    }

    /// One 32-bit QI register as read at dword offset `off` (0x80..=0xB4, 4-aligned).
    fn qi_dword(&self, off: u16) -> u32 {
        let q = &self.qi;
        let iqh = if self.qies() {
            q.iqh & IQ_OFFSET_MASK
        } else {
            0
        };
        match off {
            0x80 => iqh as u32,
            0x84 => (iqh >> 32) as u32,
            0x88 => q.iqt as u32,
            0x8C => (q.iqt >> 32) as u32,
            0x90 => q.iqa as u32,
            0x94 => (q.iqa >> 32) as u32,
            0x9C => u32::from(q.iwc) * ICS_IWC,
            0xA0 => {
                (if q.iectl_im { IECTL_IM } else { 0 }) | (if q.iectl_ip { IECTL_IP } else { 0 })
            }
            0xA4 => q.iedata,
            0xA8 => q.ieaddr,
            0xAC => q.ieuaddr,
            0xB0 => q.iqercd as u32,
            0xB4 => (q.iqercd >> 32) as u32,
            _ => 0,
        }
    }

    /// Read a QI register (offsets 0x80..=0xB7); `None` outside that block. A qword read returns
    /// the two dwords at `offset` and `offset + 4`.
    pub(crate) fn qi_reg_read(&self, offset: u16, size: u8) -> Option<u64> {
        if !(QI_FIRST..=QI_LAST).contains(&offset) {
            return None;
        }
        if !self.cfg.ecap.qi {
            return Some(0);
        }
        let lo = u64::from(self.qi_dword(offset & !3));
        Some(if size == 8 {
            lo | (u64::from(self.qi_dword((offset & !3) + 4)) << 32)
        } else {
            lo
        })
    }

    /// Write one QI dword. Returns true if it was the IQT lower dword (run the queue).
    fn qi_write_dword(&mut self, off: u16, v: u32) -> bool {
        let v64 = u64::from(v);
        match off {
            0x88 => {
                self.qi.iqt = (self.qi.iqt & !0xFFFF_FFFF) | (v64 & IQ_OFFSET_MASK);
                return true;
            }
            0x8C => {} // IQT[63:32] reserved
            0x90 | 0x94 => {
                let (mask, val) = if off == 0x90 {
                    (0xFFFF_FFFF, v64)
                } else {
                    (0xFFFF_FFFF_0000_0000, v64 << 32)
                };
                self.qi.iqa =
                    ((self.qi.iqa & !mask) | (val & mask)) & !Iqa::reserved_mask(self.cfg.haw);
            }
            // ICS.IWC is RW1C; clearing it withdraws a pending event (IP).
            0x9C if v & ICS_IWC != 0 => {
                self.qi.iwc = false;
                self.qi.iectl_ip = false;
            }
            0xA0 => {
                let im = v & IECTL_IM != 0;
                self.qi.iectl_im = im;
                if !im && self.qi.iectl_ip {
                    self.send_ie_event();
                }
            }
            0xA4 => self.qi.iedata = v & EVENT_DATA_MASK,
            0xA8 => self.qi.ieaddr = v & EVENT_ADDR_MASK,
            0xAC => self.qi.ieuaddr = v,
            _ => {} // IQH (RO), 0x98 (reserved), IQERCD (RO)
        }
        false
    }

    /// Write a QI register (offsets 0x80..=0xB7); returns false outside that block. A qword
    /// write is the dword at `offset` then the one at `offset + 4`; an IQT lower-dword write then
    /// runs the queue (QIES=1 and IQE=0).
    pub(crate) fn qi_reg_write(
        &mut self,
        mem: &mut HostMemory,
        offset: u16,
        size: u8,
        value: u64,
    ) -> bool {
        if !(QI_FIRST..=QI_LAST).contains(&offset) {
            return false;
        }
        if !self.cfg.ecap.qi {
            return true;
        }
        let off = offset & !3;
        let mut run = self.qi_write_dword(off, value as u32);
        if size == 8 {
            run |= self.qi_write_dword(off + 4, (value >> 32) as u32);
        }
        if run {
            self.qi_run(mem);
        }
        true
    }

    /// GCMD.QIE changed; GSTS.QIES already reflects `enable`. Enable: latch IQA, head = 0, and
    /// process anything already queued. Disable: the queue stops, IQH resets to 0, IQT keeps its
    /// value.
    pub(crate) fn qi_on_enable(&mut self, mem: &mut HostMemory, enable: bool) {
        self.qi.iqh = 0;
        if enable {
            self.qi.active = Iqa::decode(self.qi.iqa);
            self.qi_run(mem);
        }
    }

    /// Send the invalidation-completion event MSI(IEUADDR:IEADDR, IEDATA) and clear IECTL.IP.
    fn send_ie_event(&mut self) {
        self.qi.iectl_ip = false;
        let msi = Msi {
            addr: (u64::from(self.qi.ieuaddr) << 32) | u64::from(self.qi.ieaddr),
            data: self.qi.iedata,
        };
        self.send_event(msi);
    }

    /// Process the queue until head == tail or an error (see the module doc).
    fn qi_run(&mut self, mem: &mut HostMemory) {
        if !self.qies() || self.iqe() {
            return;
        }
        if let Err(QueueError(iqei)) = self.qi_process(mem) {
            self.qi.iqercd = IqErcd {
                iqei,
                itesid: 0,
                icesid: 0,
            }
            .encode();
            self.raise_iqe();
        }
    }

    fn qi_process(&mut self, mem: &mut HostMemory) -> Result<(), QueueError> {
        let q = self.qi.active;
        let size = q.queue_bytes();
        let tail = self.qi.iqt & IQ_OFFSET_MASK;
        if self.qi.iqh == tail {
            return Ok(());
        }
        if tail >= size {
            return Err(QueueError(IQEI_INVALID_TAIL));
        }
        if iq_tail_misaligned(tail, q.dw) {
            return Err(QueueError(IQEI_TAIL_MISALIGNED));
        }
        let wide_ok = self.cfg.ecap.smts || self.cfg.ecap.adms;
        if q.dw && !wide_ok {
            return Err(QueueError(IQEI_INVALID_WIDTH));
        }
        let (cap, ecap) = (self.cfg.cap, self.cfg.ecap);
        let step = q.desc_bytes();
        while self.qi.iqh != tail {
            let at = Hpa(q.iqa.0.wrapping_add(self.qi.iqh));
            let desc = if q.dw {
                let mut b = [0u8; 32];
                mem.read(at, &mut b)
                    .map_err(|_| QueueError(IQEI_FETCH_ERROR))?;
                let mut w = [0u64; 4];
                for (i, x) in w.iter_mut().enumerate() {
                    *x = u64::from_le_bytes(b[i * 8..i * 8 + 8].try_into().unwrap_or([0; 8]));
                }
                InvDescriptor::decode_256(w)
            } else {
                let raw = mem
                    .read_u128(at)
                    .map_err(|_| QueueError(IQEI_FETCH_ERROR))?;
                InvDescriptor::decode(raw as u64, (raw >> 64) as u64)
            };
            let desc = desc
                .and_then(|d| d.check_caps(&cap, &ecap, false).map(|()| d))
                .map_err(|e: InvDescError| QueueError(e.iqei()))?;
            self.qi_execute(mem, &desc)?;
            self.qi.iqh = (self.qi.iqh + step) % size;
        }
        Ok(())
    }

    /// Carry out one valid descriptor.
    fn qi_execute(&mut self, mem: &mut HostMemory, d: &InvDescriptor) -> Result<(), QueueError> {
        match *d {
            InvDescriptor::ContextCache { g, did, sid, fm } => {
                self.invalidate_context_cache(g, did, sid, fm)
            }
            InvDescriptor::Iotlb {
                g,
                did,
                am,
                ih,
                addr,
                ..
            } => self.invalidate_iotlb(g, did, addr.0, am, ih),
            InvDescriptor::Iec { g, im, iidx } => self.invalidate_iec(!g, im, iidx),
            InvDescriptor::Wait {
                if_,
                sw,
                status_data,
                status_addr,
                ..
            } => {
                if sw {
                    mem.write_u32(status_addr, status_data)
                        .map_err(|_| QueueError(IQEI_FETCH_ERROR))?;
                }
                if if_ && !self.qi.iwc {
                    self.qi.iwc = true;
                    self.qi.iectl_ip = true;
                    if !self.qi.iectl_im {
                        self.send_ie_event();
                    }
                }
            }
            // Device-TLB (ECAP.DT=1 only): no device TLB is modelled. Types 6-9 are rejected by
            // check_caps in legacy mode.
            _ => {}
        }
        Ok(())
    }
}

#[cfg(test)]
#[path = "qi_tests.rs"]
mod tests;
