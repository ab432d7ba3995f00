//! Programming the remapping unit through its registers: the Linux enable sequence (spec A3),
//! register-based (A11) and queued (A12) invalidation, and the primary fault handler (A10).

use crate::vtd::fault::FaultReason;
use thiserror::Error;

use super::{bits, Iommu, OsError, PAGE_SIZE};
use crate::platform::{Platform, PlatformError};
use crate::types::{DomainId, Hpa, Iova, Rid};
use crate::vtd::frcd::FaultRecord;

// Register offsets (spec A1 and the project register map).
/// VER_REG (0x000, 32-bit, RO): architecture version, major in bits 7:4, minor in bits 3:0 (spec A1).
pub const VER_REG: u16 = 0x000;
/// CAP_REG (0x008, 64-bit, RO): capabilities (ND, SAGAW, FRO, NFR, PI, ...), decoded into
/// [`super::HwCaps`] (spec A2).
pub const CAP_REG: u16 = 0x008;
/// ECAP_REG (0x010, 64-bit, RO): extended capabilities (QI, IR, EIM, PT, IRO, MHMV, ...), decoded
/// into [`super::HwCaps`] (spec A2).
pub const ECAP_REG: u16 = 0x010;
/// GCMD_REG (0x018, 32-bit, write-only): global command bits 31:23, written by [`Iommu::gcmd`]
/// (spec A3).
pub const GCMD_REG: u16 = 0x018;
/// GSTS_REG (0x01C, 32-bit, RO): global status; each status bit sits at its GCMD command bit
/// (spec A3).
pub const GSTS_REG: u16 = 0x01C;
/// RTADDR_REG (0x020, 64-bit): root-table base in bits 63:12 and TTM in bits 11:10, latched by
/// GCMD.SRTP (spec A4).
pub const RTADDR_REG: u16 = 0x020;
/// CCMD_REG (0x028, 64-bit): register-based context-cache invalidation; software sets ICC
/// (bit 63), hardware clears it when done and reports CAIG in bits 60:59 (spec A11).
pub const CCMD_REG: u16 = 0x028;
/// FSTS_REG (0x034, 32-bit): fault status, PFO/PPF/IQE/ICE/ITE in bits 0/1/4/5/6 and FRI in
/// bits 15:8 (spec A10).
pub const FSTS_REG: u16 = 0x034;
/// FECTL_REG (0x038, 32-bit): fault-event control, IM in bit 31 and IP in bit 30 (spec A10).
pub const FECTL_REG: u16 = 0x038;
/// FEDATA_REG (0x03C, 32-bit): data DWORD of the fault-event MSI (spec A10).
pub const FEDATA_REG: u16 = 0x03C;
/// FEADDR_REG (0x040, 32-bit): low 32 bits of the fault-event MSI address, bits 1:0 zero
/// (spec A10).
pub const FEADDR_REG: u16 = 0x040;
/// FEUADDR_REG (0x044, 32-bit): high 32 bits of the fault-event MSI address (spec A10).
pub const FEUADDR_REG: u16 = 0x044;
/// IQH_REG (0x080, 64-bit, RO): invalidation-queue head, the next descriptor the unit fetches, as
/// a byte offset in 16-byte units (bits 18:4) (spec A12).
pub const IQH_REG: u16 = 0x080;
/// IQT_REG (0x088, 64-bit): invalidation-queue tail written by software, encoded as IQH
/// (bits 18:4); writing it starts processing (spec A12).
pub const IQT_REG: u16 = 0x088;
/// IQA_REG (0x090, 64-bit): invalidation-queue base in bits 63:12, DW in bit 11 and the size QS
/// (2^QS 4 KiB pages) in bits 2:0 (spec A12).
pub const IQA_REG: u16 = 0x090;
/// ICS_REG (0x09C, 32-bit): invalidation completion status, IWC in bit 0 (RW1C) (spec A12).
pub const ICS_REG: u16 = 0x09C;
/// IECTL_REG (0x0A0, 32-bit): invalidation-completion event control, IM in bit 31 and IP in
/// bit 30 (spec A12).
pub const IECTL_REG: u16 = 0x0A0;
/// IEDATA_REG (0x0A4, 32-bit): data DWORD of the invalidation-completion event MSI (spec A12).
pub const IEDATA_REG: u16 = 0x0A4;
/// IEADDR_REG (0x0A8, 32-bit): low 32 bits of the invalidation-completion event MSI address
/// (spec A12).
pub const IEADDR_REG: u16 = 0x0A8;
/// IEUADDR_REG (0x0AC, 32-bit): high 32 bits of the invalidation-completion event MSI address
/// (spec A12).
pub const IEUADDR_REG: u16 = 0x0AC;
/// IQERCD_REG (0x0B0, 64-bit, RO): invalidation-queue error record, IQEI code in bits 3:0, ITESID
/// in bits 47:32, ICESID in bits 63:48 (spec A12).
pub const IQERCD_REG: u16 = 0x0B0;
/// IRTA_REG (0x0B8, 64-bit): interrupt-remapping table base in bits 63:12, EIME in bit 11 and the
/// size S (2^(S+1) entries) in bits 3:0, latched by GCMD.SIRTP (spec B1).
pub const IRTA_REG: u16 = 0x0B8;

// GCMD / GSTS bits (spec A3): the status bit sits at the command bit's position.
/// GCMD bit 31, TE (status GSTS.TES): DMA remapping enable, a level bit.
pub const GCMD_TE: u32 = 1 << 31;
/// GCMD bit 30, SRTP (status GSTS.RTPS): one-shot latch of RTADDR_REG.
pub const GCMD_SRTP: u32 = 1 << 30;
/// GCMD bit 29, SFL (status GSTS.FLS): one-shot latch of the advanced fault-log pointer.
pub const GCMD_SFL: u32 = 1 << 29;
/// GCMD bit 28, EAFL (status GSTS.AFLS): advanced fault logging enable, a level bit.
pub const GCMD_EAFL: u32 = 1 << 28;
/// GCMD bit 27, WBF (status GSTS.WBFS): one-shot write-buffer flush (needed when CAP.RWBF=1).
pub const GCMD_WBF: u32 = 1 << 27;
/// GCMD bit 26, QIE (status GSTS.QIES): queued invalidation enable, a level bit.
pub const GCMD_QIE: u32 = 1 << 26;
/// GCMD bit 25, IRE (status GSTS.IRES): interrupt remapping enable, a level bit.
pub const GCMD_IRE: u32 = 1 << 25;
/// GCMD bit 24, SIRTP (status GSTS.IRTPS): one-shot latch of IRTA_REG.
pub const GCMD_SIRTP: u32 = 1 << 24;
/// GCMD bit 23, CFI (status GSTS.CFIS): compatibility-format interrupts pass through
/// unremapped, a level bit.
pub const GCMD_CFI: u32 = 1 << 23;
/// One-shot status bits (RTPS, FLS, WBFS, IRTPS) that must not be echoed into GCMD
/// (Linux masks GSTS with 0x96FF_FFFF before writing it back).
pub const GSTS_ONE_SHOT: u32 = GCMD_SRTP | GCMD_SFL | GCMD_WBF | GCMD_SIRTP;

// FSTS bits (spec A10).
/// FSTS bit 0, PFO (RW1C): primary fault overflow, a fault was lost because the next FRCD still
/// held a record.
pub const FSTS_PFO: u32 = 1 << 0;
/// FSTS bit 1, PPF (RO): primary pending fault, the OR of every FRCD's F bit.
pub const FSTS_PPF: u32 = 1 << 1;
/// FSTS bit 4, IQE (RW1C): invalidation-queue error; the queue stopped with IQH at the bad
/// descriptor.
pub const FSTS_IQE: u32 = 1 << 4;
/// FSTS bit 5, ICE (RW1C): invalidation completion error (device-TLB invalidation).
pub const FSTS_ICE: u32 = 1 << 5;
/// FSTS bit 6, ITE (RW1C): invalidation time-out error (device-TLB invalidation).
pub const FSTS_ITE: u32 = 1 << 6;
/// FECTL/IECTL bit 31, IM: the event interrupt is masked; an event then only sets IP.
pub const CTL_IM: u32 = 1 << 31;
/// FECTL/IECTL bit 30, IP (RO): an event is pending, sent once software clears IM.
pub const CTL_IP: u32 = 1 << 30;
/// ICS_REG bit 0, IWC (RW1C): a wait descriptor with IF=1 has completed.
pub const ICS_IWC: u32 = 1;

/// What the driver does after submitting a batch to the invalidation queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitKind {
    /// Wait descriptor with SW=1: poll the status dword in memory (what Linux does).
    StatusWrite,
    /// Wait descriptor with IF=1: poll ICS.IWC, then clear it.
    Interrupt,
    /// SW=1 and IF=1 together (decisions.md: status write first, then IWC).
    Both,
}

/// One invalidation request, issued by register (A11) or by queue (A12).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvRequest {
    /// Global context-cache invalidation: CCMD.CIRG=01, or a type-1 descriptor with G=01.
    ContextGlobal,
    /// Domain-selective context-cache invalidation of this DID: CIRG / G = 10.
    ContextDomain(DomainId),
    /// Device-selective with function mask FM (0..3).
    ContextDevice {
        /// DID of the device's context entry (CCMD bits 15:0, descriptor qword0 bits 31:16).
        did: DomainId,
        /// Source ID of the device (CCMD bits 31:16, descriptor qword0 bits 47:32).
        sid: Rid,
        /// FM: 0 compares all SID bits, 1/2/3 ignore SID bit 2 / bits 2:1 / bits 2:0 (CCMD bits
        /// 33:32, descriptor qword0 bits 49:48).
        fm: u8,
    },
    /// Global IOTLB invalidation: IOTLB_REG.IIRG=01, or a type-2 descriptor with G=01.
    IotlbGlobal,
    /// Domain-selective IOTLB invalidation of this DID: IIRG / G = 10.
    IotlbDomain(DomainId),
    /// Page-selective: 2^AM pages at ADDR; IH = only leaves changed.
    IotlbPage {
        /// DID whose entries are invalidated (IOTLB_REG bits 47:32, descriptor qword0 bits 31:16).
        did: DomainId,
        /// ADDR: IOVA of the first page, size-aligned to 2^AM pages; bits 11:0 are dropped
        /// (IVA_REG / descriptor qword1 bits 63:12).
        addr: Iova,
        /// AM: the range is 2^AM 4 KiB pages (bits 5:0; at most CAP.MAMV).
        am: u8,
        /// IH (bit 6): only leaf entries changed, so cached non-leaf entries may be kept.
        ih: bool,
    },
    /// Interrupt-entry cache, global (queue only).
    IecGlobal,
    /// Interrupt-entry cache, 2^IM entries from IIDX (queue only).
    IecIndex {
        /// IIDX: the first interrupt index (descriptor qword0 bits 47:32).
        iidx: u16,
        /// IM: 2^IM entries are invalidated (descriptor qword0 bits 31:27; at most ECAP.MHMV).
        im: u8,
    },
}

impl InvRequest {
    /// The legacy 128-bit descriptor (qword0, qword1), spec A12.
    pub fn descriptor(&self) -> (u64, u64) {
        match *self {
            InvRequest::ContextGlobal => (1 | 1 << 4, 0),
            InvRequest::ContextDomain(d) => (1 | 2 << 4 | (d.0 as u64) << 16, 0),
            InvRequest::ContextDevice { did, sid, fm } => (
                1 | 3 << 4 | (did.0 as u64) << 16 | (sid.0 as u64) << 32 | (fm as u64 & 3) << 48,
                0,
            ),
            InvRequest::IotlbGlobal => (2 | 1 << 4, 0),
            InvRequest::IotlbDomain(d) => (2 | 2 << 4 | (d.0 as u64) << 16, 0),
            InvRequest::IotlbPage { did, addr, am, ih } => (
                2 | 3 << 4 | (did.0 as u64) << 16,
                (addr.0 & !0xFFF) | (ih as u64) << 6 | (am as u64 & 0x3F),
            ),
            InvRequest::IecGlobal => (4, 0),
            InvRequest::IecIndex { iidx, im } => (
                4 | 1 << 4 | (im as u64 & 0x1F) << 27 | (iidx as u64) << 32,
                0,
            ),
        }
    }

    /// Whether the request can be issued through CCMD/IOTLB registers.
    pub fn has_register_form(&self) -> bool {
        !matches!(self, InvRequest::IecGlobal | InvRequest::IecIndex { .. })
    }
}

/// Invalidation-wait descriptor (type 5): IF\[4\], SW\[5\], FN\[6\], STATUS DATA\[63:32\]; qword1 =
/// STATUS ADDR (dword aligned).
pub fn wait_descriptor(if_: bool, sw: bool, fn_: bool, data: u32, addr: Hpa) -> (u64, u64) {
    (
        5 | (if_ as u64) << 4 | (sw as u64) << 5 | (fn_ as u64) << 6 | (data as u64) << 32,
        addr.0 & !3,
    )
}

/// The queue stopped on an error (FSTS.IQE set).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("invalidation queue error: FSTS={fsts:#x} IQH={iqh:#x} IQERCD={iqercd:#x}")]
pub struct QueueError {
    /// FSTS_REG as read when IQE (bit 4) was seen.
    pub fsts: u32,
    /// IQH_REG then: the offset of the bad descriptor (16-byte units in bits 18:4).
    pub iqh: u64,
    /// IQERCD_REG then: the IQEI error code in bits 3:0 says what was wrong.
    pub iqercd: u64,
}

/// Result of a queued invalidation batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidationStatus {
    /// IQH after completion (byte offset, 16-byte units in bits 18:4).
    pub iqh: u64,
    /// The driver's tail index after the batch.
    pub tail: u32,
    /// Polls it took.
    pub polls: u32,
}

/// The driver's invalidation queue (spec A12, 128-bit descriptors).
#[derive(Debug, Clone)]
pub(crate) struct InvQueue {
    pub base: Hpa,
    pub qs: u8,
    pub entries: u32,
    pub tail: u32,
    pub status: Hpa,
    pub seq: u32,
}

/// One fault record found by the fault handler.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct FaultEntry {
    /// FRCD index.
    pub index: u16,
    /// The raw 128 bits (qword0 at FRCD+0, qword1 at FRCD+8), as read before clearing F.
    pub raw: u128,
}

impl FaultEntry {
    /// The record decoded with [`crate::vtd::frcd::FaultRecord`].
    pub fn record(&self) -> FaultRecord {
        FaultRecord::decode(self.raw)
    }
    /// FR (bits 103:96).
    pub fn fr(&self) -> u8 {
        (self.raw >> 96) as u8
    }
    /// FR as a fault reason (`None` for a code the spec does not define).
    pub fn reason(&self) -> Option<FaultReason> {
        FaultReason::from_code(self.fr())
    }
    /// SID (bits 79:64).
    pub fn sid(&self) -> Rid {
        Rid((self.raw >> 64) as u16)
    }
    /// FI (bits 63:12, as an address).
    pub fn fi(&self) -> u64 {
        self.raw as u64 & !0xFFF
    }
    /// T (bit 126): 1 = read.
    pub fn t(&self) -> bool {
        (self.raw >> 126) & 1 == 1
    }
    /// AT (bits 125:124).
    pub fn at(&self) -> u8 {
        ((self.raw >> 124) & 3) as u8
    }
    /// Interrupt index of an IR fault (FI\[63:48\]).
    pub fn ir_index(&self) -> u16 {
        (self.raw >> 48) as u16
    }
}

/// What one run of the fault handler saw.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FaultReport {
    /// FSTS when the handler started.
    pub fsts: u32,
    /// The records walked from FSTS.FRI while F=1, in order.
    pub records: Vec<FaultEntry>,
}

impl FaultReport {
    /// FSTS.PFO (bit 0) when the handler started: a fault was lost because the next FRCD was full.
    pub fn pfo(&self) -> bool {
        self.fsts & FSTS_PFO != 0
    }
    /// FSTS.PPF (bit 1) when the handler started: at least one FRCD held a record.
    pub fn ppf(&self) -> bool {
        self.fsts & FSTS_PPF != 0
    }
    /// FSTS.FRI (bits 15:8) when the handler started: the FRCD index the walk began at.
    pub fn fri(&self) -> u16 {
        bits(self.fsts as u64, 8, 8) as u16
    }
}

/// Which optional parts [`Iommu::bring_up`] enables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BringUp {
    /// Use queued invalidation when ECAP.QI says it exists (else register-based invalidation).
    pub qi: bool,
    /// Enable interrupt remapping with this table (allocated unless one was set up already).
    pub ir: Option<IrSetup>,
    /// Enable DMA remapping (GCMD.TE) last.
    pub te: bool,
}

/// How [`Iommu::bring_up`] sets up interrupt remapping (spec A6 IRTA_REG, A3 GCMD.CFI).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IrSetup {
    /// IRTA.S: the table holds 2^(S+1) entries (0..=15).
    pub s: u8,
    /// IRTA.EIME: extended interrupt mode, 32-bit x2APIC destination IDs (else 8-bit xAPIC).
    pub eime: bool,
    /// Set GCMD.CFI: compatibility-format interrupts pass through unremapped (with EIME=0).
    pub cfi: bool,
}

impl IrSetup {
    /// A table of 2^(`s`+1) entries, x2APIC destinations (EIME=1), compatibility format blocked.
    pub const fn x2apic(s: u8) -> IrSetup {
        IrSetup {
            s,
            eime: true,
            cfi: false,
        }
    }

    /// A table of 2^(`s`+1) entries, 8-bit xAPIC destinations (EIME=0), compatibility format
    /// blocked.
    pub const fn xapic(s: u8) -> IrSetup {
        IrSetup {
            s,
            eime: false,
            cfi: false,
        }
    }

    /// The same, with compatibility-format interrupts allowed through (GCMD.CFI=1).
    pub const fn with_cfi(self, cfi: bool) -> IrSetup {
        IrSetup { cfi, ..self }
    }
}

/// A GCMD_REG command bit and the GSTS_REG status bit that reports it (spec A3): the argument of
/// [`Iommu::gcmd`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GlobalCommand {
    /// TE (bit 31), status TES: DMA remapping on/off.
    TranslationEnable,
    /// SRTP (bit 30, one-shot), status RTPS: latch RTADDR_REG.
    SetRootTablePointer,
    /// SFL (bit 29, one-shot), status FLS: latch the advanced fault log pointer.
    SetFaultLog,
    /// EAFL (bit 28), status AFLS: advanced fault logging.
    EnableAdvancedFaultLogging,
    /// WBF (bit 27, one-shot), status WBFS: flush the write buffer.
    WriteBufferFlush,
    /// QIE (bit 26), status QIES: queued invalidation on/off.
    QueuedInvalidationEnable,
    /// IRE (bit 25), status IRES: interrupt remapping on/off.
    InterruptRemappingEnable,
    /// SIRTP (bit 24, one-shot), status IRTPS: latch IRTA_REG.
    SetInterruptRemapTablePointer,
    /// CFI (bit 23), status CFIS: compatibility-format interrupts pass through.
    CompatibilityFormatInterrupt,
}

impl GlobalCommand {
    /// The command's bit in GCMD_REG (the same position as its status bit in GSTS_REG).
    pub const fn bit(self) -> u32 {
        match self {
            GlobalCommand::TranslationEnable => GCMD_TE,
            GlobalCommand::SetRootTablePointer => GCMD_SRTP,
            GlobalCommand::SetFaultLog => GCMD_SFL,
            GlobalCommand::EnableAdvancedFaultLogging => GCMD_EAFL,
            GlobalCommand::WriteBufferFlush => GCMD_WBF,
            GlobalCommand::QueuedInvalidationEnable => GCMD_QIE,
            GlobalCommand::InterruptRemappingEnable => GCMD_IRE,
            GlobalCommand::SetInterruptRemapTablePointer => GCMD_SIRTP,
            GlobalCommand::CompatibilityFormatInterrupt => GCMD_CFI,
        }
    }

    /// The GSTS_REG status field that reports the command.
    pub const fn status_name(self) -> &'static str {
        match self {
            GlobalCommand::TranslationEnable => "GSTS.TES",
            GlobalCommand::SetRootTablePointer => "GSTS.RTPS",
            GlobalCommand::SetFaultLog => "GSTS.FLS",
            GlobalCommand::EnableAdvancedFaultLogging => "GSTS.AFLS",
            GlobalCommand::WriteBufferFlush => "GSTS.WBFS",
            GlobalCommand::QueuedInvalidationEnable => "GSTS.QIES",
            GlobalCommand::InterruptRemappingEnable => "GSTS.IRES",
            GlobalCommand::SetInterruptRemapTablePointer => "GSTS.IRTPS",
            GlobalCommand::CompatibilityFormatInterrupt => "GSTS.CFIS",
        }
    }
}

impl Default for BringUp {
    fn default() -> Self {
        BringUp {
            qi: true,
            ir: None,
            te: true,
        }
    }
}

impl<P: Platform> Iommu<P> {
    /// Poll `offset` (32-bit) until `(value & mask) == want`, at most `max_polls` reads.
    pub fn poll32(
        &mut self,
        offset: u16,
        mask: u32,
        want: u32,
        what: &'static str,
    ) -> Result<u32, OsError> {
        for i in 0..self.cfg.max_polls.max(1) {
            let v = self.plat.read32(offset)?;
            if v & mask == want {
                return Ok(i + 1);
            }
        }
        Err(PlatformError::PollTimeout {
            what,
            polls: self.cfg.max_polls,
        }
        .into())
    }

    /// Poll a 64-bit register until `(value & mask) == want`.
    fn poll64(
        &mut self,
        offset: u16,
        mask: u64,
        want: u64,
        what: &'static str,
    ) -> Result<u64, OsError> {
        for _ in 0..self.cfg.max_polls.max(1) {
            let v = self.plat.read64(offset)?;
            if v & mask == want {
                return Ok(v);
            }
        }
        Err(PlatformError::PollTimeout {
            what,
            polls: self.cfg.max_polls,
        }
        .into())
    }

    /// "Read GSTS, set/clear one bit, write GCMD, poll GSTS" (Linux `iommu_enable_translation`
    /// and friends). One-shot status bits are masked out of the written value. For the
    /// one-shots (SRTP, SIRTP) the status bit is polled until set.
    pub fn gcmd(&mut self, cmd: GlobalCommand, set: bool) -> Result<(), OsError> {
        let bit = cmd.bit();
        let sts = self.plat.read32(GSTS_REG)? & !GSTS_ONE_SHOT;
        let val = if set { sts | bit } else { sts & !bit };
        self.plat.write32(GCMD_REG, val)?;
        let want = if set { bit } else { 0 };
        self.poll32(GSTS_REG, bit, want, cmd.status_name())?;
        Ok(())
    }

    /// RTADDR = root table (TTM=00, legacy), GCMD.SRTP, poll GSTS.RTPS.
    pub fn set_root_table(&mut self) -> Result<(), OsError> {
        self.plat.write64(RTADDR_REG, self.root.0)?;
        self.gcmd(GlobalCommand::SetRootTablePointer, true)
    }

    /// Set up and enable queued invalidation: one 4 KiB queue (QS=0, 256 descriptors), IQT=0,
    /// IQA, GCMD.QIE, poll QIES.
    pub fn enable_qi(&mut self) -> Result<(), OsError> {
        self.enable_qi_sized(0)
    }

    /// As [`Iommu::enable_qi`] with 2^qs pages of queue.
    pub fn enable_qi_sized(&mut self, qs: u8) -> Result<(), OsError> {
        if !self.caps.qi {
            return Err(OsError::NotSupported("queued invalidation (ECAP.QI)"));
        }
        if qs > 7 {
            return Err(OsError::InvalidArgument("IQA.QS > 7"));
        }
        let q = match self.qi.take() {
            Some(q) if q.qs == qs => InvQueue { tail: 0, ..q },
            _ => {
                let pages = 1u64 << qs;
                let base =
                    self.alloc
                        .alloc_contiguous(self.plat.mem(), pages, pages * PAGE_SIZE)?;
                let status = self.alloc_scratch(4, 4)?;
                InvQueue {
                    base,
                    qs,
                    entries: 1 << (qs + 8),
                    tail: 0,
                    status,
                    seq: 0,
                }
            }
        };
        self.plat.write64(IQT_REG, 0)?;
        self.plat.write64(IQA_REG, q.base.0 | q.qs as u64)?;
        self.qi = Some(q);
        self.gcmd(GlobalCommand::QueuedInvalidationEnable, true)
    }

    /// GCMD.QIE=0, poll QIES clear. The driver's tail restarts at 0 on the next enable.
    pub fn disable_qi(&mut self) -> Result<(), OsError> {
        self.gcmd(GlobalCommand::QueuedInvalidationEnable, false)?;
        if let Some(q) = self.qi.as_mut() {
            q.tail = 0;
        }
        Ok(())
    }

    /// Whether the driver has the queue enabled.
    pub fn qi_enabled(&self) -> bool {
        self.qi.is_some()
    }

    /// Queue base, entries and the driver's tail index.
    pub fn qi_state(&self) -> Option<(Hpa, u32, u32)> {
        self.qi.as_ref().map(|q| (q.base, q.entries, q.tail))
    }

    /// Move the driver's tail (and IQT) without submitting anything: only for tests that
    /// exercise queue wrap-around. The queue must be idle.
    pub fn qi_set_tail(&mut self, tail: u32) -> Result<(), OsError> {
        let q = self.qi.as_mut().ok_or(OsError::NoQueue)?;
        q.tail = tail % q.entries;
        let t = q.tail as u64;
        self.plat.write64(IQT_REG, t << 4)?;
        Ok(())
    }

    /// Write `descs` (raw descriptors, qword 0 first, even malformed ones) at the tail
    /// (wrapping) and advance IQT past them, nothing else: no wait descriptor is added and
    /// nothing is polled, so the caller sees to completion (its own wait descriptor, IQH, FSTS).
    /// Returns the new tail index.
    pub fn qi_push(&mut self, descs: &[(u64, u64)]) -> Result<u32, OsError> {
        let mut q = self.qi.clone().ok_or(OsError::NoQueue)?;
        if descs.len() > q.entries as usize - 1 {
            return Err(OsError::QueueFull(descs.len()));
        }
        for &(lo, hi) in descs {
            let a = Hpa(q.base.0 + 16 * q.tail as u64);
            self.plat
                .mem()
                .write_u128(a, (hi as u128) << 64 | lo as u128)?;
            q.tail = (q.tail + 1) % q.entries;
        }
        self.plat.write64(IQT_REG, (q.tail as u64) << 4)?;
        let tail = q.tail;
        self.qi = Some(q);
        Ok(tail)
    }

    /// Submit `descs` (raw, even malformed) the way Linux's `qi_submit_sync` does: write them
    /// at the tail, append the driver's own wait descriptor of kind `wait` (status write to the
    /// driver's status dword, and/or IF), advance IQT, then poll until the wait completes,
    /// failing with [`QueueError`] as soon as FSTS.IQE shows. With IF=1 it clears ICS.IWC
    /// afterwards (RW1C) so that the next wait can signal. Use [`Iommu::qi_push`] to place
    /// descriptors without any of this.
    pub fn qi_submit_and_wait(
        &mut self,
        descs: &[(u64, u64)],
        wait: WaitKind,
    ) -> Result<InvalidationStatus, OsError> {
        let mut q = self.qi.clone().ok_or(OsError::NoQueue)?;
        if descs.len() + 1 > q.entries as usize - 1 {
            return Err(OsError::QueueFull(descs.len()));
        }
        q.seq = q.seq.wrapping_add(1);
        let (if_, sw) = match wait {
            WaitKind::StatusWrite => (false, true),
            WaitKind::Interrupt => (true, false),
            WaitKind::Both => (true, true),
        };
        let token = q.seq | 0x8000_0000;
        self.plat.mem().write_u32(q.status, 0)?;
        let wd = wait_descriptor(if_, sw, false, token, q.status);
        for &(lo, hi) in descs.iter().chain(std::iter::once(&wd)) {
            let a = Hpa(q.base.0 + 16 * q.tail as u64);
            self.plat
                .mem()
                .write_u128(a, (hi as u128) << 64 | lo as u128)?;
            q.tail = (q.tail + 1) % q.entries;
        }
        self.qi = Some(q.clone());
        self.plat.write64(IQT_REG, (q.tail as u64) << 4)?;
        let mut polls = 0;
        loop {
            polls += 1;
            let fsts = self.plat.read32(FSTS_REG)?;
            if fsts & FSTS_IQE != 0 {
                let iqh = self.plat.read64(IQH_REG)?;
                let iqercd = self.plat.read64(IQERCD_REG)?;
                return Err(QueueError { fsts, iqh, iqercd }.into());
            }
            let done = if sw {
                self.plat.mem().read_u32(q.status)? == token
            } else {
                self.plat.read32(ICS_REG)? & ICS_IWC != 0
            };
            if done {
                break;
            }
            if polls >= self.cfg.max_polls.max(1) {
                return Err(PlatformError::PollTimeout {
                    what: "invalidation wait descriptor",
                    polls,
                }
                .into());
            }
        }
        if if_ {
            // Linux clears IWC (RW1C) so the next wait can signal again.
            self.plat.write32(ICS_REG, ICS_IWC)?;
        }
        let iqh = self.plat.read64(IQH_REG)?;
        Ok(InvalidationStatus {
            iqh,
            tail: q.tail,
            polls,
        })
    }

    /// Queued invalidation of `reqs` followed by a wait of `wait`.
    pub fn invalidate_qi(
        &mut self,
        reqs: &[InvRequest],
        wait: WaitKind,
    ) -> Result<InvalidationStatus, OsError> {
        let d: Vec<(u64, u64)> = reqs.iter().map(|r| r.descriptor()).collect();
        self.qi_submit_and_wait(&d, wait)
    }

    /// After an IQE: clear FSTS.IQE, disable and re-enable the queue (IQH and the tail restart
    /// at 0), as a driver recovering from a bad descriptor would.
    pub fn qi_recover(&mut self) -> Result<(), OsError> {
        self.plat.write32(FSTS_REG, FSTS_IQE)?;
        let qs = self.qi.as_ref().ok_or(OsError::NoQueue)?.qs;
        self.disable_qi()?;
        self.enable_qi_sized(qs)
    }

    /// Register-based invalidation (spec A11): returns the actual granularity (CAIG/IAIG) the
    /// unit reported (0 = not performed).
    pub fn invalidate_reg(&mut self, req: InvRequest) -> Result<u8, OsError> {
        let ccmd = |g: u64, did: u16, sid: u16, fm: u8| {
            1u64 << 63 | g << 61 | (fm as u64 & 3) << 32 | (sid as u64) << 16 | did as u64
        };
        let iva = self.caps.iva_offset;
        let iotlb = iva + 8;
        let iotlb_cmd = |g: u64, did: u16| 1u64 << 63 | g << 60 | (did as u64) << 32;
        match req {
            InvRequest::ContextGlobal => self.ccmd(ccmd(1, 0, 0, 0)),
            InvRequest::ContextDomain(d) => self.ccmd(ccmd(2, d.0, 0, 0)),
            InvRequest::ContextDevice { did, sid, fm } => self.ccmd(ccmd(3, did.0, sid.0, fm)),
            InvRequest::IotlbGlobal => self.iotlb(iotlb, iotlb_cmd(1, 0)),
            InvRequest::IotlbDomain(d) => self.iotlb(iotlb, iotlb_cmd(2, d.0)),
            InvRequest::IotlbPage { did, addr, am, ih } => {
                self.plat.write64(
                    iva,
                    (addr.0 & !0xFFF) | (ih as u64) << 6 | (am as u64 & 0x3F),
                )?;
                self.iotlb(iotlb, iotlb_cmd(3, did.0))
            }
            InvRequest::IecGlobal | InvRequest::IecIndex { .. } => Err(OsError::NoQueue),
        }
    }

    fn ccmd(&mut self, v: u64) -> Result<u8, OsError> {
        self.plat.write64(CCMD_REG, v)?;
        let r = self.poll64(CCMD_REG, 1 << 63, 0, "CCMD.ICC clear")?;
        Ok(bits(r, 59, 2) as u8)
    }

    fn iotlb(&mut self, off: u16, v: u64) -> Result<u8, OsError> {
        self.plat.write64(off, v)?;
        let r = self.poll64(off, 1 << 63, 0, "IOTLB.IVT clear")?;
        Ok(bits(r, 57, 2) as u8)
    }

    /// Invalidate through the queue when it is enabled, else through the registers (IEC
    /// requests need the queue).
    pub fn invalidate(&mut self, reqs: &[InvRequest]) -> Result<(), OsError> {
        if self.qi.is_some() {
            self.invalidate_qi(reqs, WaitKind::StatusWrite)?;
        } else {
            for r in reqs {
                self.invalidate_reg(*r)?;
            }
        }
        Ok(())
    }

    /// Program IRTA with the IR table and latch it: IRTA, GCMD.SIRTP, poll IRTPS; then a global
    /// IEC flush through the queue; then GCMD.IRE (poll IRES) and optionally GCMD.CFI (poll CFIS).
    pub fn enable_ir(&mut self, cfi: bool) -> Result<(), OsError> {
        let irta = self.irta_value()?;
        self.plat.write64(IRTA_REG, irta)?;
        self.gcmd(GlobalCommand::SetInterruptRemapTablePointer, true)?;
        if self.qi.is_some() {
            self.invalidate_qi(&[InvRequest::IecGlobal], WaitKind::StatusWrite)?;
        }
        self.gcmd(GlobalCommand::InterruptRemappingEnable, true)?;
        if cfi {
            self.gcmd(GlobalCommand::CompatibilityFormatInterrupt, true)?;
        }
        Ok(())
    }

    /// GCMD.TE=1, poll TES.
    pub fn enable_translation(&mut self) -> Result<(), OsError> {
        self.gcmd(GlobalCommand::TranslationEnable, true)
    }

    /// GCMD.TE=0, poll TES clear.
    pub fn disable_translation(&mut self) -> Result<(), OsError> {
        self.gcmd(GlobalCommand::TranslationEnable, false)
    }

    /// The whole enable sequence in Linux order: RTADDR + SRTP; QI set-up (skipped when ECAP.QI=0);
    /// IRTA + SIRTP, global IEC flush, IRE (+CFI) (an error when ECAP.IR=0); global context-cache
    /// and IOTLB invalidation (queued, or by register without QI); TE.
    pub fn bring_up(&mut self, opts: BringUp) -> Result<(), OsError> {
        self.set_root_table()?;
        if opts.qi && self.caps.qi {
            self.enable_qi()?;
        }
        if let Some(ir) = opts.ir {
            if self.ir.is_none() {
                self.setup_ir_table(ir.s, ir.eime)?;
            }
            self.enable_ir(ir.cfi)?;
        }
        self.invalidate(&[InvRequest::ContextGlobal, InvRequest::IotlbGlobal])?;
        if opts.te {
            self.enable_translation()?;
        }
        Ok(())
    }

    /// Fault-event MSI: FEDATA/FEADDR/FEUADDR, and FECTL.IM.
    pub fn setup_fault_event(&mut self, addr: u64, data: u32, masked: bool) -> Result<(), OsError> {
        self.plat.write32(FEDATA_REG, data)?;
        self.plat.write32(FEADDR_REG, addr as u32)?;
        self.plat.write32(FEUADDR_REG, (addr >> 32) as u32)?;
        self.plat
            .write32(FECTL_REG, if masked { CTL_IM } else { 0 })?;
        Ok(())
    }

    /// Invalidation-completion event MSI: IEDATA/IEADDR/IEUADDR, and IECTL.IM.
    pub fn setup_inv_event(&mut self, addr: u64, data: u32, masked: bool) -> Result<(), OsError> {
        self.plat.write32(IEDATA_REG, data)?;
        self.plat.write32(IEADDR_REG, addr as u32)?;
        self.plat.write32(IEUADDR_REG, (addr >> 32) as u32)?;
        self.plat
            .write32(IECTL_REG, if masked { CTL_IM } else { 0 })?;
        Ok(())
    }

    /// Read one FRCD (qword0, qword1).
    pub fn read_frcd(&mut self, index: u16) -> Result<u128, OsError> {
        let off = self.caps.frcd_offset + 16 * index;
        let lo = self.plat.read64(off)?;
        let hi = self.plat.read64(off + 8)?;
        Ok((hi as u128) << 64 | lo as u128)
    }

    /// Every fault-recording register holding a record (F=1), in index order, read and left as
    /// it is: nothing is cleared, so a test can look at the records and still leave them to the
    /// fault handler ([`Iommu::handle_faults`]). Each entry decodes with [`FaultEntry::record`].
    pub fn fault_records(&mut self) -> Result<Vec<FaultEntry>, OsError> {
        let mut v = Vec::new();
        for index in 0..self.caps.num_fault_records.max(1) {
            let raw = self.read_frcd(index)?;
            if raw >> 127 != 0 {
                v.push(FaultEntry { index, raw });
            }
        }
        Ok(v)
    }

    /// The primary fault handler, as Linux's `dmar_fault`: read FSTS; if PPF, walk the FRCDs from
    /// FRI while F=1 (reading the top dword first), record each, clear F by writing bit 31 of the
    /// dword at +12, advance modulo NFR+1; finally write PFO|PPF to FSTS.
    pub fn handle_faults(&mut self) -> Result<FaultReport, OsError> {
        let fsts = self.plat.read32(FSTS_REG)?;
        let mut report = FaultReport {
            fsts,
            records: Vec::new(),
        };
        if fsts & FSTS_PPF != 0 {
            let n = self.caps.num_fault_records.max(1);
            let mut i = bits(fsts as u64, 8, 8) as u16 % n;
            for _ in 0..n {
                let off = self.caps.frcd_offset + 16 * i;
                let top = self.plat.read32(off + 12)?;
                if top & (1 << 31) == 0 {
                    break;
                }
                let raw = self.read_frcd(i)?;
                report.records.push(FaultEntry { index: i, raw });
                self.plat.write32(off + 12, 1 << 31)?;
                i = (i + 1) % n;
            }
        }
        self.plat.write32(FSTS_REG, FSTS_PFO | FSTS_PPF)?;
        Ok(report)
    }
}

impl std::fmt::Debug for FaultEntry {
    /// The index, the raw record in hex, and the record decoded.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "FaultEntry {{ index: {}, raw: {:#034x}, {:?} }}",
            self.index,
            self.raw,
            self.record()
        )
    }
}
