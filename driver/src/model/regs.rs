//! The register file (spec A1-A4, A10, A11; common.md "Project register map"; model_shared.md
//! "Register-interface decisions").
//!
//! - Accesses are 4 or 8 bytes, naturally aligned, inside the 4 KiB region; anything else is
//!   [`PlatformError::BadAccess`]. Unimplemented offsets read 0 and ignore writes; writes to
//!   read-only registers are ignored.
//! - An 8-byte write outside 0x80..0xBF is carried out as two dword writes, lower dword first, so a
//!   64-bit register may equally be written as two dwords; a command starts when the dword holding
//!   its trigger bit is written (CCMD.ICC and IOTLB.IVT: upper dword). 0x80..0xBF (queued
//!   invalidation, IRTA) is delegated unsplit to the `qi` / `ir` hooks.
//! - GCMD is write-only (reads 0). Level bits (TE, QIE, IRE, CFI) act when they differ from GSTS;
//!   one-shots (SRTP, SIRTP) act when written as 1 and their status bit is set at once and stays
//!   set. SFL/EAFL (CAP.AFL=0) and WBF (CAP.RWBF=0) are ignored. With ECAP.QI=0 QIE is ignored;
//!   with ECAP.IR=0 IRE/SIRTP/CFI are ignored and IRTA reads 0. TE=1 with RTPS=0 is accepted
//!   (translation then uses the reset latched RTA = 0).
//! - RTADDR reads back the whole value as written, including TTM (D5 #6); SRTP latches it.
//! - CCMD / IOTLB invalidation is synchronous: done at the write of the upper dword with ICC/IVT
//!   set; ICC/IVT read 0 afterwards; CAIG = CIRG, IAIG = IIRG, except: requested granularity 00,
//!   PSI with AM > MAMV, or any request while GSTS.QIES=1 is not performed (actual granularity
//!   00). PSI requested while CAP.PSI=0 is performed domain-selective (IAIG = 10).
//!   CCMD keeps DID, SID, FM, CIRG as written; IOTLB_REG keeps DID, IIRG (DW/DR only with
//!   CAP.DWD/DRD); IVA keeps AM, IH, ADDR.
//! - FSTS: PFO/IQE/ICE/ITE (and AFO/APF) RW1C; PPF derived; FRI RO. FRCD: only F is writable
//!   (RW1C, bit 31 of the dword at +12). FECTL: IM RW, IP RO; IM 1->0 with IP=1 sends the event.
//!   FEDATA keeps bits 15:0 (31:16 reserved), FEADDR bits 31:2, FEUADDR bits 31:0.
//! - Performance counters at 0x300..0x34F are read-only.

use super::{gsts, Model};
use crate::mem::HostMemory;
use crate::platform::PlatformError;
use crate::types::{DomainId, Rid};

pub(crate) const VER_REG: u16 = 0x000;
pub(crate) const CAP_REG: u16 = 0x008;
pub(crate) const ECAP_REG: u16 = 0x010;
pub(crate) const GCMD_REG: u16 = 0x018;
pub(crate) const RTADDR_REG: u16 = 0x020;
pub(crate) const CCMD_REG: u16 = 0x028;
pub(crate) const FSTS_REG: u16 = 0x034;
pub(crate) const FECTL_REG: u16 = 0x038;
pub(crate) const FEDATA_REG: u16 = 0x03C;
pub(crate) const FEADDR_REG: u16 = 0x040;
pub(crate) const FEUADDR_REG: u16 = 0x044;
pub(crate) const IRTA_REG: u16 = 0x0B8;
pub(crate) const PERF_BASE: u16 = 0x300;
const PERF_COUNT: u16 = 10;

const CCMD_ICC: u64 = 1 << 63;
const CCMD_CAIG_SHIFT: u32 = 59;
const CCMD_WRITABLE: u64 = 0xFFFF_FFFF | (0x3 << 32) | (0x3 << 61);
const IOTLB_IVT: u64 = 1 << 63;
const IOTLB_IAIG_SHIFT: u32 = 57;
const IVA_WRITABLE: u64 = !0xF80;
const FECTL_IM: u32 = 1 << 31;
const FECTL_IP: u32 = 1 << 30;
/// FSTS bits that are RW1C: PFO, AFO, APF, IQE, ICE, ITE.
const FSTS_RW1C: u32 = 0x7D;

impl Model {
    fn check_access(offset: u16, size: u8) -> Result<(), PlatformError> {
        let ok = (size == 4 || size == 8)
            && offset % size as u16 == 0
            && (offset as u32 + size as u32) <= 0x1000;
        if ok {
            Ok(())
        } else {
            Err(PlatformError::BadAccess { offset, size })
        }
    }

    /// Read `size` (4 or 8) bytes at `offset` of the register region.
    pub fn reg_read(
        &mut self,
        _mem: &mut HostMemory,
        offset: u16,
        size: u8,
    ) -> Result<u64, PlatformError> {
        Self::check_access(offset, size)?;
        let slot = offset & !7;
        let qword = if (0x080..IRTA_REG).contains(&slot) {
            if !self.cfg.ecap.qi {
                return Ok(0);
            }
            // Delegated unsplit: the hook answers the exact access.
            return Ok(self.qi_reg_read(offset, size).unwrap_or(0));
        } else if slot == IRTA_REG {
            if self.cfg.ecap.ir {
                self.ir_reg_read(IRTA_REG).unwrap_or(0)
            } else {
                0
            }
        } else {
            self.slot_read(slot)
        };
        Ok(match (size, offset & 4) {
            (8, _) => qword,
            (_, 0) => qword & 0xFFFF_FFFF,
            _ => qword >> 32,
        })
    }

    /// The 64-bit value of the 8-byte slot at `slot` (outside 0x80..0xBF).
    fn slot_read(&self, slot: u16) -> u64 {
        let iva = self.cfg.iva_offset();
        let frcd_base = self.cfg.frcd_base();
        let frcd_end = frcd_base + 16 * self.frcd.len() as u32;
        let s = slot as u32;
        match slot {
            VER_REG => self.cfg.ver as u64,
            CAP_REG => self.cfg.cap(),
            ECAP_REG => self.cfg.ecap(),
            GCMD_REG => (self.gsts as u64) << 32,
            RTADDR_REG => self.rtaddr,
            CCMD_REG => self.ccmd,
            0x030 => (self.fsts_value() as u64) << 32,
            FECTL_REG => {
                let fectl = if self.fectl_im { FECTL_IM } else { 0 }
                    | if self.fectl_ip { FECTL_IP } else { 0 };
                fectl as u64 | ((self.fedata as u64) << 32)
            }
            FEADDR_REG => self.feaddr as u64 | ((self.feuaddr as u64) << 32),
            _ if s == iva => self.iva,
            _ if s == iva + 8 => self.iotlb,
            _ if (frcd_base..frcd_end).contains(&s) => {
                let r = self.frcd[((s - frcd_base) / 16) as usize];
                if s % 16 == 0 {
                    r as u64
                } else {
                    (r >> 64) as u64
                }
            }
            _ if (PERF_BASE..PERF_BASE + 8 * PERF_COUNT).contains(&slot) => {
                let c = &self.counters;
                [
                    c.iotlb_lookups,
                    c.iotlb_misses,
                    c.page_walks,
                    c.walk_reads,
                    c.ctx_misses,
                    c.iec_misses,
                    c.irq_remapped,
                    c.irq_posted,
                    c.faults_recorded,
                    c.malformed,
                ][((slot - PERF_BASE) / 8) as usize]
            }
            _ => 0,
        }
    }

    /// Write `size` (4 or 8) bytes at `offset` of the register region.
    pub fn reg_write(
        &mut self,
        mem: &mut HostMemory,
        offset: u16,
        size: u8,
        value: u64,
    ) -> Result<(), PlatformError> {
        Self::check_access(offset, size)?;
        let slot = offset & !7;
        if (0x080..IRTA_REG).contains(&slot) {
            if self.cfg.ecap.qi {
                self.qi_reg_write(mem, offset, size, value);
            }
            return Ok(());
        }
        if slot == IRTA_REG {
            if self.cfg.ecap.ir {
                self.ir_reg_write(offset, size, value);
            }
            return Ok(());
        }
        self.dword_write(mem, offset, value as u32);
        if size == 8 {
            self.dword_write(mem, offset + 4, (value >> 32) as u32);
        }
        Ok(())
    }

    /// Replace the lower (`offset & 4 == 0`) or upper dword of a 64-bit register value.
    fn merge(old: u64, offset: u16, v: u32) -> u64 {
        if offset & 4 == 0 {
            (old & !0xFFFF_FFFF) | v as u64
        } else {
            (old & 0xFFFF_FFFF) | ((v as u64) << 32)
        }
    }

    fn dword_write(&mut self, mem: &mut HostMemory, offset: u16, v: u32) {
        let iva = self.cfg.iva_offset();
        let frcd_base = self.cfg.frcd_base();
        let frcd_end = frcd_base + 16 * self.frcd.len() as u32;
        let o = offset as u32;
        match offset {
            GCMD_REG => self.gcmd_write(mem, v),
            RTADDR_REG | 0x024 => self.rtaddr = Self::merge(self.rtaddr, offset, v),
            CCMD_REG | 0x02C => {
                let nv = Self::merge(self.ccmd, offset, v);
                self.ccmd = (self.ccmd & !CCMD_WRITABLE) | (nv & CCMD_WRITABLE);
                if offset == 0x02C && v & (1 << 31) != 0 {
                    self.ccmd_invalidate();
                }
            }
            FSTS_REG => {
                self.fsts &= !(v & FSTS_RW1C);
                self.fault_status_cleared();
            }
            FECTL_REG => {
                self.fectl_im = v & FECTL_IM != 0;
                if !self.fectl_im && self.fectl_ip {
                    self.send_fault_event();
                }
            }
            FEDATA_REG => self.fedata = v & 0xFFFF,
            FEADDR_REG => self.feaddr = v & !3,
            FEUADDR_REG => self.feuaddr = v,
            _ if o & !4 == iva => {
                let nv = Self::merge(self.iva, offset, v);
                self.iva = nv & IVA_WRITABLE;
            }
            _ if o & !4 == iva + 8 => {
                let mut writable = (0xFFFFu64 << 32) | (0x3 << 60);
                if self.cfg.cap.dwd {
                    writable |= 1 << 48;
                }
                if self.cfg.cap.drd {
                    writable |= 1 << 49;
                }
                let nv = Self::merge(self.iotlb, offset, v);
                self.iotlb = (self.iotlb & !writable) | (nv & writable);
                if o == iva + 12 && v & (1 << 31) != 0 {
                    self.iotlb_invalidate();
                }
            }
            // FRCD: only F (bit 31 of the dword at +12) is writable, RW1C.
            _ if (frcd_base..frcd_end).contains(&o)
                && (o - frcd_base) % 16 == 12
                && v & (1 << 31) != 0 =>
            {
                let i = ((o - frcd_base) / 16) as usize;
                self.frcd[i] &= !super::fault::frcd::F_BIT;
                self.fault_status_cleared();
            }
            _ => {}
        }
    }

    /// GCMD_REG write (spec A3 with the register-interface decisions in the module doc).
    fn gcmd_write(&mut self, mem: &mut HostMemory, v: u32) {
        // One-shots first, so that a write carrying SRTP|TE translates with the new table.
        if v & gsts::RTPS != 0 {
            self.rta_latched = self.rtaddr;
            self.gsts |= gsts::RTPS;
        }
        if self.cfg.ecap.ir && v & gsts::IRTPS != 0 {
            self.ir_latch_irta();
            self.gsts |= gsts::IRTPS;
        }
        self.gsts = (self.gsts & !gsts::TES) | (v & gsts::TES);
        if self.cfg.ecap.ir {
            self.gsts = (self.gsts & !(gsts::IRES | gsts::CFIS)) | (v & (gsts::IRES | gsts::CFIS));
        }
        if self.cfg.ecap.qi && (v ^ self.gsts) & gsts::QIES != 0 {
            let enable = v & gsts::QIES != 0;
            self.gsts ^= gsts::QIES;
            self.qi_on_enable(mem, enable);
        }
    }

    /// Register-based context-cache invalidation (spec A11), run at the CCMD upper-dword write.
    fn ccmd_invalidate(&mut self) {
        let cirg = ((self.ccmd >> 61) & 3) as u8;
        let actual = if self.gsts & gsts::QIES != 0 { 0 } else { cirg };
        let did = DomainId(self.ccmd as u16);
        let sid = Rid((self.ccmd >> 16) as u16);
        let fm = ((self.ccmd >> 32) & 3) as u8;
        if actual != 0 {
            self.invalidate_context_cache(actual, did, sid, fm);
        }
        self.ccmd = (self.ccmd & !(CCMD_ICC | (3 << CCMD_CAIG_SHIFT)))
            | ((actual as u64) << CCMD_CAIG_SHIFT);
    }

    /// Register-based IOTLB invalidation (spec A11), run at the IOTLB_REG upper-dword write.
    fn iotlb_invalidate(&mut self) {
        let iirg = ((self.iotlb >> 60) & 3) as u8;
        let did = DomainId((self.iotlb >> 32) as u16);
        let am = (self.iva & 0x3F) as u8;
        let ih = self.iva & (1 << 6) != 0;
        let addr = self.iva & !0xFFF;
        let actual = if self.gsts & gsts::QIES != 0 {
            0
        } else {
            match iirg {
                3 if !self.cfg.cap.psi => 2,
                3 if am > self.cfg.cap.mamv => 0,
                g => g,
            }
        };
        if actual != 0 {
            self.invalidate_iotlb(actual, did, addr, am, ih);
        }
        self.iotlb = (self.iotlb & !(IOTLB_IVT | (3 << IOTLB_IAIG_SHIFT)))
            | ((actual as u64) << IOTLB_IAIG_SHIFT);
    }
}
