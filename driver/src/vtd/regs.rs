//! VT-d register file: offsets, command/status bits and typed 64-bit registers (spec A1-A4,
//! A10-A12, B1; project register map in `common.md` / decisions.md "Hardware identity").
//!
//! Every typed register has `decode(raw) -> Self` (reserved bits dropped), `encode(&self) -> raw`
//! (reserved bits 0) and a `RESERVED` mask (bits that are reserved in the register layout).

use super::bits::*;
use crate::types::{DomainId, Hpa, Iova, Rid};

// ---------------------------------------------------------------------------------------------
// Offsets (A1 + project map)
// ---------------------------------------------------------------------------------------------

/// Version register (32-bit): \[7:4\] major, \[3:0\] minor.
pub const VER_REG: u16 = 0x000;
/// Capability register (64-bit, RO), see [`Cap`].
pub const CAP_REG: u16 = 0x008;
/// Extended capability register (64-bit, RO), see [`Ecap`].
pub const ECAP_REG: u16 = 0x010;
/// Global command (32-bit, WO).
pub const GCMD_REG: u16 = 0x018;
/// Global status (32-bit, RO).
pub const GSTS_REG: u16 = 0x01C;
/// Root-table address (64-bit), see [`RtAddr`].
pub const RTADDR_REG: u16 = 0x020;
/// Context command (64-bit), see [`Ccmd`].
pub const CCMD_REG: u16 = 0x028;
/// Fault status (32-bit), see [`Fsts`].
pub const FSTS_REG: u16 = 0x034;
/// Fault event control (32-bit): [`FECTL_IM`], [`FECTL_IP`]. Reset value IM=1.
pub const FECTL_REG: u16 = 0x038;
/// Fault event MSI data (32-bit).
pub const FEDATA_REG: u16 = 0x03C;
/// Fault event MSI address (32-bit, \[31:2\]).
pub const FEADDR_REG: u16 = 0x040;
/// Fault event MSI upper address (32-bit).
pub const FEUADDR_REG: u16 = 0x044;
/// Invalidation queue head (64-bit, RO): \[18:4\] offset in 16-byte units.
pub const IQH_REG: u16 = 0x080;
/// Invalidation queue tail (64-bit): \[18:4\] offset in 16-byte units.
pub const IQT_REG: u16 = 0x088;
/// Invalidation queue address (64-bit), see [`Iqa`].
pub const IQA_REG: u16 = 0x090;
/// Invalidation completion status (32-bit): [`ICS_IWC`].
pub const ICS_REG: u16 = 0x09C;
/// Invalidation event control (32-bit): [`IECTL_IM`], [`IECTL_IP`]. Reset value IM=1.
pub const IECTL_REG: u16 = 0x0A0;
/// Invalidation event MSI data (32-bit).
pub const IEDATA_REG: u16 = 0x0A4;
/// Invalidation event MSI address (32-bit).
pub const IEADDR_REG: u16 = 0x0A8;
/// Invalidation event MSI upper address (32-bit).
pub const IEUADDR_REG: u16 = 0x0AC;
/// Invalidation queue error record (64-bit), see [`IqErcd`].
pub const IQERCD_REG: u16 = 0x0B0;
/// Interrupt remapping table address (64-bit), see [`Irta`].
pub const IRTA_REG: u16 = 0x0B8;
/// IVA_REG (ECAP.IRO x 16 = 0x100 in this project), see [`Iva`].
pub const IVA_REG: u16 = 0x100;
/// IOTLB_REG (IVA_REG + 8), see [`IotlbReg`].
pub const IOTLB_REG: u16 = 0x108;
/// First fault-recording register (CAP.FRO x 16 = 0x200); FRCD\[n\] at `FRCD_BASE + 16*n`.
pub const FRCD_BASE: u16 = 0x200;
/// Size of one fault-recording register in bytes.
pub const FRCD_STRIDE: u16 = 16;
/// Base of the project's 64-bit read-only performance counters.
pub const PERF_BASE: u16 = 0x300;
/// Counter: IOTLB lookups (micro-architectural).
pub const PERF_IOTLB_LOOKUPS: u16 = 0x300;
/// Counter: IOTLB misses (micro-architectural).
pub const PERF_IOTLB_MISSES: u16 = 0x308;
/// Counter: page walks (micro-architectural).
pub const PERF_PAGE_WALKS: u16 = 0x310;
/// Counter: walk memory reads (micro-architectural).
pub const PERF_WALK_READS: u16 = 0x318;
/// Counter: context-cache misses (micro-architectural).
pub const PERF_CTX_MISSES: u16 = 0x320;
/// Counter: interrupt-entry-cache misses (micro-architectural).
pub const PERF_IEC_MISSES: u16 = 0x328;
/// Counter: interrupts remapped (architectural, model-exact).
pub const PERF_IRQ_REMAPPED: u16 = 0x330;
/// Counter: interrupts posted (architectural, model-exact).
pub const PERF_IRQ_POSTED: u16 = 0x338;
/// Counter: faults recorded (architectural, model-exact).
pub const PERF_FAULTS_RECORDED: u16 = 0x340;
/// Counter: malformed TLPs (architectural, model-exact).
pub const PERF_MALFORMED_TLPS: u16 = 0x348;
/// Number of performance counters.
pub const PERF_COUNT: u16 = 10;

/// VER_REG value of this project: 1.0.
pub const VER_DEFAULT: u32 = 0x10;

/// Offset of FRCD\[n\] in the project's register map (CAP.FRO = 0x20).
pub const fn frcd_reg(n: u16) -> u16 {
    FRCD_BASE + FRCD_STRIDE * n
}

// ---------------------------------------------------------------------------------------------
// GCMD / GSTS (A3), FSTS (A10), FECTL/IECTL, ICS, IQH/IQT (A12)
// ---------------------------------------------------------------------------------------------

/// GCMD bit 31: translation enable (level).
pub const GCMD_TE: u32 = 1 << 31;
/// GCMD bit 30: set root table pointer (one-shot).
pub const GCMD_SRTP: u32 = 1 << 30;
/// GCMD bit 29: set fault log (one-shot, AFL).
pub const GCMD_SFL: u32 = 1 << 29;
/// GCMD bit 28: enable advanced fault logging (level).
pub const GCMD_EAFL: u32 = 1 << 28;
/// GCMD bit 27: write-buffer flush (one-shot).
pub const GCMD_WBF: u32 = 1 << 27;
/// GCMD bit 26: queued-invalidation enable (level).
pub const GCMD_QIE: u32 = 1 << 26;
/// GCMD bit 25: interrupt-remapping enable (level).
pub const GCMD_IRE: u32 = 1 << 25;
/// GCMD bit 24: set interrupt-remap table pointer (one-shot).
pub const GCMD_SIRTP: u32 = 1 << 24;
/// GCMD bit 23: compatibility-format interrupts allowed (level).
pub const GCMD_CFI: u32 = 1 << 23;
/// GCMD one-shot command bits (status set when done, never cleared by software).
pub const GCMD_ONE_SHOT: u32 = GCMD_SRTP | GCMD_SFL | GCMD_WBF | GCMD_SIRTP;
/// GCMD level bits (the status follows the command).
pub const GCMD_LEVEL: u32 = GCMD_TE | GCMD_EAFL | GCMD_QIE | GCMD_IRE | GCMD_CFI;
/// GCMD/GSTS bits 22:0 are reserved.
pub const GCMD_RESERVED: u32 = 0x007F_FFFF;

/// GSTS bit 31: translation enable status.
pub const GSTS_TES: u32 = 1 << 31;
/// GSTS bit 30: root table pointer status.
pub const GSTS_RTPS: u32 = 1 << 30;
/// GSTS bit 29: fault log status.
pub const GSTS_FLS: u32 = 1 << 29;
/// GSTS bit 28: advanced fault logging status.
pub const GSTS_AFLS: u32 = 1 << 28;
/// GSTS bit 27: write buffer flush status.
pub const GSTS_WBFS: u32 = 1 << 27;
/// GSTS bit 26: queued invalidation enable status.
pub const GSTS_QIES: u32 = 1 << 26;
/// GSTS bit 25: interrupt remapping enable status.
pub const GSTS_IRES: u32 = 1 << 25;
/// GSTS bit 24: interrupt remapping table pointer status.
pub const GSTS_IRTPS: u32 = 1 << 24;
/// GSTS bit 23: compatibility format interrupt status.
pub const GSTS_CFIS: u32 = 1 << 23;

/// FSTS bit 0: primary fault overflow (RW1C).
pub const FSTS_PFO: u32 = 1 << 0;
/// FSTS bit 1: primary pending fault (RO, OR of all FRCD.F).
pub const FSTS_PPF: u32 = 1 << 1;
/// FSTS bit 2: advanced fault overflow.
pub const FSTS_AFO: u32 = 1 << 2;
/// FSTS bit 3: advanced pending fault.
pub const FSTS_APF: u32 = 1 << 3;
/// FSTS bit 4: invalidation queue error (RW1C).
pub const FSTS_IQE: u32 = 1 << 4;
/// FSTS bit 5: invalidation completion error (RW1C).
pub const FSTS_ICE: u32 = 1 << 5;
/// FSTS bit 6: invalidation time-out error (RW1C).
pub const FSTS_ITE: u32 = 1 << 6;
/// FSTS bits 15:8: fault record index, shift.
pub const FSTS_FRI_SHIFT: u32 = 8;
/// FSTS bits 15:8: fault record index, mask (in place).
pub const FSTS_FRI_MASK: u32 = 0xFF << 8;
/// FSTS bits written-1-to-clear by software.
pub const FSTS_RW1C: u32 = FSTS_PFO | FSTS_AFO | FSTS_IQE | FSTS_ICE | FSTS_ITE;
/// FSTS reserved bits: 7 (deprecated) and 31:16.
pub const FSTS_RESERVED: u32 = 0xFFFF_0080;

/// FECTL bit 31: interrupt mask.
pub const FECTL_IM: u32 = 1 << 31;
/// FECTL bit 30: interrupt pending (RO).
pub const FECTL_IP: u32 = 1 << 30;
/// IECTL bit 31: interrupt mask.
pub const IECTL_IM: u32 = 1 << 31;
/// IECTL bit 30: interrupt pending (RO).
pub const IECTL_IP: u32 = 1 << 30;
/// ICS bit 0: invalidation wait descriptor complete (RW1C).
pub const ICS_IWC: u32 = 1 << 0;
/// FEADDR/IEADDR: bits 31:2 hold the message address; bits 1:0 reserved.
pub const EVENT_ADDR_MASK: u32 = 0xFFFF_FFFC;
/// FEDATA/IEDATA: bits 15:0 hold the message data.
pub const EVENT_DATA_MASK: u32 = 0x0000_FFFF;

/// IQH/IQT bits 18:4: queue offset in bytes (16-byte granularity).
pub const IQ_OFFSET_MASK: u64 = 0x0007_FFF0;

/// IQH/IQT: the descriptor index for a register value, given the descriptor width (A12).
///
/// With 256-bit descriptors the index is `offset / 32` (bit 4 must then be 0, see
/// [`iq_tail_misaligned`]).
pub const fn iq_index(reg: u64, dw256: bool) -> u64 {
    let off = reg & IQ_OFFSET_MASK;
    if dw256 {
        off >> 5
    } else {
        off >> 4
    }
}

/// IQH/IQT register value for descriptor index `idx`.
pub const fn iq_reg_for_index(idx: u64, dw256: bool) -> u64 {
    (if dw256 { idx << 5 } else { idx << 4 }) & IQ_OFFSET_MASK
}

/// IQT with 256-bit descriptors and bit 4 set: IQE with IQEI "tail misaligned" (A12).
pub const fn iq_tail_misaligned(iqt: u64, dw256: bool) -> bool {
    dw256 && (iqt & 0x10) != 0
}

// ---------------------------------------------------------------------------------------------
// CAP_REG (A2)
// ---------------------------------------------------------------------------------------------

/// CAP_REG (0x008), spec A2. `mgaw` and `nfr` hold the raw (minus-one) encodings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Cap {
    /// \[2:0\] number of domains supported: 2^(4+2*ND).
    pub nd: u8,
    /// \[3\] advanced fault logging.
    pub afl: bool,
    /// \[4\] required write-buffer flushing.
    pub rwbf: bool,
    /// \[5\] protected low-memory region.
    pub plmr: bool,
    /// \[6\] protected high-memory region.
    pub phmr: bool,
    /// \[7\] caching mode.
    pub cm: bool,
    /// \[12:8\] supported adjusted guest address widths: bit n = context AW value n.
    pub sagaw: u8,
    /// \[21:16\] maximum guest address width minus one.
    pub mgaw: u8,
    /// \[22\] zero-length read.
    pub zlr: bool,
    /// \[33:24\] fault-recording register offset / 16.
    pub fro: u16,
    /// \[37:34\] second-level large-page support: bit 0 = 2 MiB, bit 1 = 1 GiB.
    pub sllps: u8,
    /// \[39\] page-selective invalidation.
    pub psi: bool,
    /// \[47:40\] number of fault-recording registers minus one.
    pub nfr: u8,
    /// \[53:48\] maximum address-mask value.
    pub mamv: u8,
    /// \[54\] write draining.
    pub dwd: bool,
    /// \[55\] read draining.
    pub drd: bool,
    /// \[56\] first-level 1 GiB pages.
    pub fl1gp: bool,
    /// \[59\] posted interrupts.
    pub pi: bool,
    /// \[60\] first-level 5-level paging.
    pub fl5lp: bool,
    /// \[61\] enhanced command support.
    pub ecmds: bool,
    /// \[62\] SIRTP also invalidates the interrupt-entry cache.
    pub esirtps: bool,
    /// \[63\] SRTP also invalidates root/context/IOTLB caches.
    pub esrtps: bool,
}

impl Cap {
    /// Reserved bits: 15:13, 23, 38, 58:57.
    pub const RESERVED: u64 = mask64(15, 13) | (1 << 23) | (1 << 38) | mask64(58, 57);

    /// Decode a raw CAP_REG value.
    pub const fn decode(raw: u64) -> Cap {
        Cap {
            nd: get64(raw, 2, 0) as u8,
            afl: bit64(raw, 3),
            rwbf: bit64(raw, 4),
            plmr: bit64(raw, 5),
            phmr: bit64(raw, 6),
            cm: bit64(raw, 7),
            sagaw: get64(raw, 12, 8) as u8,
            mgaw: get64(raw, 21, 16) as u8,
            zlr: bit64(raw, 22),
            fro: get64(raw, 33, 24) as u16,
            sllps: get64(raw, 37, 34) as u8,
            psi: bit64(raw, 39),
            nfr: get64(raw, 47, 40) as u8,
            mamv: get64(raw, 53, 48) as u8,
            dwd: bit64(raw, 54),
            drd: bit64(raw, 55),
            fl1gp: bit64(raw, 56),
            pi: bit64(raw, 59),
            fl5lp: bit64(raw, 60),
            ecmds: bit64(raw, 61),
            esirtps: bit64(raw, 62),
            esrtps: bit64(raw, 63),
        }
    }

    /// Encode to the raw register value (fields truncated to their widths).
    pub const fn encode(&self) -> u64 {
        let mut v = 0u64;
        v = set64(v, 2, 0, self.nd as u64);
        v = setb64(v, 3, self.afl);
        v = setb64(v, 4, self.rwbf);
        v = setb64(v, 5, self.plmr);
        v = setb64(v, 6, self.phmr);
        v = setb64(v, 7, self.cm);
        v = set64(v, 12, 8, self.sagaw as u64);
        v = set64(v, 21, 16, self.mgaw as u64);
        v = setb64(v, 22, self.zlr);
        v = set64(v, 33, 24, self.fro as u64);
        v = set64(v, 37, 34, self.sllps as u64);
        v = setb64(v, 39, self.psi);
        v = set64(v, 47, 40, self.nfr as u64);
        v = set64(v, 53, 48, self.mamv as u64);
        v = setb64(v, 54, self.dwd);
        v = setb64(v, 55, self.drd);
        v = setb64(v, 56, self.fl1gp);
        v = setb64(v, 59, self.pi);
        v = setb64(v, 60, self.fl5lp);
        v = setb64(v, 61, self.ecmds);
        v = setb64(v, 62, self.esirtps);
        v = setb64(v, 63, self.esrtps);
        v
    }

    /// The project's default hardware identity (decisions.md "Hardware identity", common.md):
    /// ND=6, SAGAW=0b01110, MGAW=56, FRO=0x20, SLLPS=0b0011, PSI=1, NFR=7, MAMV=18, PI=1, rest 0.
    pub const fn project_default() -> Cap {
        Cap {
            nd: 6,
            afl: false,
            rwbf: false,
            plmr: false,
            phmr: false,
            cm: false,
            sagaw: 0b01110,
            mgaw: 56,
            zlr: false,
            fro: 0x20,
            sllps: 0b0011,
            psi: true,
            nfr: 7,
            mamv: 18,
            dwd: false,
            drd: false,
            fl1gp: false,
            pi: true,
            fl5lp: false,
            ecmds: false,
            esirtps: false,
            esrtps: false,
        }
    }

    /// NFR + 1: number of fault-recording registers.
    pub const fn num_fault_records(&self) -> u16 {
        self.nfr as u16 + 1
    }

    /// Byte offset of FRCD\[0\]: FRO x 16.
    pub const fn frcd_offset(&self) -> u32 {
        self.fro as u32 * 16
    }

    /// Byte offset of FRCD\[n\]: FRO x 16 + 16n.
    pub const fn frcd_reg_offset(&self, n: u16) -> u32 {
        self.frcd_offset() + 16 * n as u32
    }

    /// Width of a domain ID in bits: 4 + 2*ND (16 for ND=6).
    pub const fn domain_id_bits(&self) -> u8 {
        let b = 4 + 2 * self.nd;
        if b > 16 {
            16
        } else {
            b
        }
    }

    /// Number of supported domains: 2^(4+2*ND).
    pub const fn num_domains(&self) -> u32 {
        1u32 << self.domain_id_bits()
    }

    /// Maximum guest address width in bits: MGAW + 1.
    pub const fn mgaw_bits(&self) -> u8 {
        self.mgaw + 1
    }

    /// Whether the context-entry AW value `aw` (0..=4) is set in SAGAW.
    pub const fn supports_aw(&self, aw: u8) -> bool {
        aw < 5 && (self.sagaw >> aw) & 1 == 1
    }

    /// Whether a large-page leaf at second-level `level` is supported by SLLPS
    /// (level 2 = 2 MiB needs SLLPS bit 0, level 3 = 1 GiB needs bit 1; level 4 / 5 need bits 2 / 3).
    pub const fn supports_large_page(&self, level: u8) -> bool {
        level >= 2 && level <= 5 && (self.sllps >> (level - 2)) & 1 == 1
    }
}

// ---------------------------------------------------------------------------------------------
// ECAP_REG (A2)
// ---------------------------------------------------------------------------------------------

/// ECAP_REG (0x010), spec A2.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Ecap {
    /// \[0\] page-walk coherency.
    pub c: bool,
    /// \[1\] queued invalidation.
    pub qi: bool,
    /// \[2\] device-TLB (ATS).
    pub dt: bool,
    /// \[3\] interrupt remapping.
    pub ir: bool,
    /// \[4\] extended interrupt mode (x2APIC).
    pub eim: bool,
    /// \[6\] pass-through.
    pub pt: bool,
    /// \[7\] snoop control.
    pub sc: bool,
    /// \[17:8\] IOTLB register offset / 16.
    pub iro: u16,
    /// \[23:20\] maximum handle-mask value.
    pub mhmv: u8,
    /// \[25\] memory-type support.
    pub mts: bool,
    /// \[26\] nested translation.
    pub nest: bool,
    /// \[29\] page-request support.
    pub prs: bool,
    /// \[30\] execute-request support.
    pub ers: bool,
    /// \[31\] supervisor-request support.
    pub srs: bool,
    /// \[33\] no-write flag.
    pub nwfs: bool,
    /// \[34\] extended accessed flag.
    pub eafs: bool,
    /// \[39:35\] PASID size supported minus one.
    pub pss: u8,
    /// \[40\] PASID support.
    pub pasid: bool,
    /// \[41\] device-TLB invalidation throttle.
    pub dit: bool,
    /// \[42\] page-request drain.
    pub pds: bool,
    /// \[43\] scalable-mode translation.
    pub smts: bool,
    /// \[44\] virtual command.
    pub vcs: bool,
    /// \[45\] second-level A/D.
    pub slads: bool,
    /// \[46\] second-level translation.
    pub slts: bool,
    /// \[47\] first-level translation.
    pub flts: bool,
    /// \[48\] scalable-mode page-walk coherency.
    pub smpwcs: bool,
    /// \[49\] RID_PASID support.
    pub rps: bool,
    /// \[51\] (Linux: PMS).
    pub pms: bool,
    /// \[52\] abort-DMA mode.
    pub adms: bool,
    /// \[53\] RID_PRIV support.
    pub rprivs: bool,
}

impl Ecap {
    /// Reserved bits: 5, 19:18, 24, 28:27, 32, 50, 63:54.
    pub const RESERVED: u64 = (1 << 5)
        | mask64(19, 18)
        | (1 << 24)
        | mask64(28, 27)
        | (1 << 32)
        | (1 << 50)
        | mask64(63, 54);

    /// Decode a raw ECAP_REG value.
    pub const fn decode(raw: u64) -> Ecap {
        Ecap {
            c: bit64(raw, 0),
            qi: bit64(raw, 1),
            dt: bit64(raw, 2),
            ir: bit64(raw, 3),
            eim: bit64(raw, 4),
            pt: bit64(raw, 6),
            sc: bit64(raw, 7),
            iro: get64(raw, 17, 8) as u16,
            mhmv: get64(raw, 23, 20) as u8,
            mts: bit64(raw, 25),
            nest: bit64(raw, 26),
            prs: bit64(raw, 29),
            ers: bit64(raw, 30),
            srs: bit64(raw, 31),
            nwfs: bit64(raw, 33),
            eafs: bit64(raw, 34),
            pss: get64(raw, 39, 35) as u8,
            pasid: bit64(raw, 40),
            dit: bit64(raw, 41),
            pds: bit64(raw, 42),
            smts: bit64(raw, 43),
            vcs: bit64(raw, 44),
            slads: bit64(raw, 45),
            slts: bit64(raw, 46),
            flts: bit64(raw, 47),
            smpwcs: bit64(raw, 48),
            rps: bit64(raw, 49),
            pms: bit64(raw, 51),
            adms: bit64(raw, 52),
            rprivs: bit64(raw, 53),
        }
    }

    /// Encode to the raw register value.
    pub const fn encode(&self) -> u64 {
        let mut v = 0u64;
        v = setb64(v, 0, self.c);
        v = setb64(v, 1, self.qi);
        v = setb64(v, 2, self.dt);
        v = setb64(v, 3, self.ir);
        v = setb64(v, 4, self.eim);
        v = setb64(v, 6, self.pt);
        v = setb64(v, 7, self.sc);
        v = set64(v, 17, 8, self.iro as u64);
        v = set64(v, 23, 20, self.mhmv as u64);
        v = setb64(v, 25, self.mts);
        v = setb64(v, 26, self.nest);
        v = setb64(v, 29, self.prs);
        v = setb64(v, 30, self.ers);
        v = setb64(v, 31, self.srs);
        v = setb64(v, 33, self.nwfs);
        v = setb64(v, 34, self.eafs);
        v = set64(v, 39, 35, self.pss as u64);
        v = setb64(v, 40, self.pasid);
        v = setb64(v, 41, self.dit);
        v = setb64(v, 42, self.pds);
        v = setb64(v, 43, self.smts);
        v = setb64(v, 44, self.vcs);
        v = setb64(v, 45, self.slads);
        v = setb64(v, 46, self.slts);
        v = setb64(v, 47, self.flts);
        v = setb64(v, 48, self.smpwcs);
        v = setb64(v, 49, self.rps);
        v = setb64(v, 51, self.pms);
        v = setb64(v, 52, self.adms);
        v = setb64(v, 53, self.rprivs);
        v
    }

    /// The project's default: C=1, QI=1, DT=0, IR=1, EIM=1, PT=1, SC=0, IRO=0x10, MHMV=15, NEST=0.
    pub const fn project_default() -> Ecap {
        let mut e = Ecap::decode(0);
        e.c = true;
        e.qi = true;
        e.ir = true;
        e.eim = true;
        e.pt = true;
        e.iro = 0x10;
        e.mhmv = 15;
        e
    }

    /// Byte offset of IVA_REG: IRO x 16.
    pub const fn iva_reg_offset(&self) -> u32 {
        self.iro as u32 * 16
    }

    /// Byte offset of IOTLB_REG: IRO x 16 + 8.
    pub const fn iotlb_reg_offset(&self) -> u32 {
        self.iro as u32 * 16 + 8
    }
}

// ---------------------------------------------------------------------------------------------
// RTADDR_REG (A4)
// ---------------------------------------------------------------------------------------------

/// RTADDR.TTM (bits 11:10, A4) value 00: legacy mode, root entries point at 128-bit context
/// entries.
pub const TTM_LEGACY: u8 = 0b00;
/// RTADDR.TTM value 01: scalable mode (root entries split into lower/upper context tables).
pub const TTM_SCALABLE: u8 = 0b01;
/// RTADDR.TTM value 10: reserved encoding (a DMA request then faults).
pub const TTM_RESERVED: u8 = 0b10;
/// RTADDR.TTM value 11: abort-DMA mode, every DMA request is blocked (needs ECAP.ADMS).
pub const TTM_ABORT_DMA: u8 = 0b11;

/// RTADDR_REG (0x020), spec A4: \[63:12\] RTA, \[11:10\] TTM, \[9:0\] reserved.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct RtAddr {
    /// Root-table base (4 KiB aligned; the low 12 bits are never set by decode).
    pub rta: Hpa,
    /// Translation table mode: [`TTM_LEGACY`], [`TTM_SCALABLE`], ...
    pub ttm: u8,
}

impl RtAddr {
    /// Bits 9:0 are reserved.
    pub const RESERVED: u64 = mask64(9, 0);

    /// Reserved bits including the address bits at or above `haw`.
    pub const fn reserved_mask(haw: u8) -> u64 {
        Self::RESERVED | range64_from(haw as u32, 63)
    }

    /// Decode a raw RTADDR_REG value: RTA from bits 63:12, TTM from bits 11:10.
    pub const fn decode(raw: u64) -> RtAddr {
        RtAddr {
            rta: Hpa(raw & mask64(63, 12)),
            ttm: get64(raw, 11, 10) as u8,
        }
    }

    /// Encode to the raw RTADDR_REG value: RTA in bits 63:12, TTM in bits 11:10, reserved bits 0.
    pub const fn encode(&self) -> u64 {
        set64(self.rta.0 & mask64(63, 12), 11, 10, self.ttm as u64)
    }
}

// ---------------------------------------------------------------------------------------------
// CCMD_REG (A11)
// ---------------------------------------------------------------------------------------------

/// CCMD/CC-descriptor granularity 01: global.
pub const CC_G_GLOBAL: u8 = 0b01;
/// Granularity 10: domain-selective.
pub const CC_G_DOMAIN: u8 = 0b10;
/// Granularity 11: device-selective.
pub const CC_G_DEVICE: u8 = 0b11;

/// CCMD_REG (0x028), spec A11.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Ccmd {
    /// \[15:0\] domain ID.
    pub did: DomainId,
    /// \[31:16\] source ID.
    pub sid: Rid,
    /// \[33:32\] function mask (00 none, 01 ignore SID\[2\], 10 SID\[2:1\], 11 SID\[2:0\]).
    pub fm: u8,
    /// \[60:59\] actual granularity (RO; 00 = not performed).
    pub caig: u8,
    /// \[62:61\] requested granularity ([`CC_G_GLOBAL`], [`CC_G_DOMAIN`], [`CC_G_DEVICE`]).
    pub cirg: u8,
    /// \[63\] invalidate context cache (set by software, cleared by hardware when done).
    pub icc: bool,
}

impl Ccmd {
    /// Bits 58:34 are reserved.
    pub const RESERVED: u64 = mask64(58, 34);

    /// Decode a raw CCMD_REG value into DID \[15:0\], SID \[31:16\], FM \[33:32\], CAIG \[60:59\],
    /// CIRG \[62:61\] and ICC \[63\].
    pub const fn decode(raw: u64) -> Ccmd {
        Ccmd {
            did: DomainId(get64(raw, 15, 0) as u16),
            sid: Rid(get64(raw, 31, 16) as u16),
            fm: get64(raw, 33, 32) as u8,
            caig: get64(raw, 60, 59) as u8,
            cirg: get64(raw, 62, 61) as u8,
            icc: bit64(raw, 63),
        }
    }

    /// Encode to the raw CCMD_REG value (fields truncated to their widths, reserved bits 0).
    pub const fn encode(&self) -> u64 {
        let mut v = 0u64;
        v = set64(v, 15, 0, self.did.0 as u64);
        v = set64(v, 31, 16, self.sid.0 as u64);
        v = set64(v, 33, 32, self.fm as u64);
        v = set64(v, 60, 59, self.caig as u64);
        v = set64(v, 62, 61, self.cirg as u64);
        setb64(v, 63, self.icc)
    }
}

/// SID mask implied by a CC function mask FM (A11): 00 -> 0xFFFF, 01 -> 0xFFFB, 10 -> 0xFFF9,
/// 11 -> 0xFFF8.
pub const fn fm_sid_mask(fm: u8) -> u16 {
    match fm & 3 {
        0 => 0xFFFF,
        1 => 0xFFFB,
        2 => 0xFFF9,
        _ => 0xFFF8,
    }
}

// ---------------------------------------------------------------------------------------------
// IVA_REG / IOTLB_REG (A11)
// ---------------------------------------------------------------------------------------------

/// IOTLB granularity 01: global.
pub const IOTLB_G_GLOBAL: u8 = 0b01;
/// IOTLB granularity 10: domain-selective.
pub const IOTLB_G_DOMAIN: u8 = 0b10;
/// IOTLB granularity 11: page-selective (PSI).
pub const IOTLB_G_PAGE: u8 = 0b11;

/// IVA_REG (IRO x 16), spec A11: \[5:0\] AM, \[6\] IH, \[11:7\] reserved, \[63:12\] ADDR.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Iva {
    /// Address mask: invalidate 2^AM 4 KiB pages.
    pub am: u8,
    /// Invalidation hint (1 = only leaf entries changed).
    pub ih: bool,
    /// Page address (bits 63:12; low 12 bits never set by decode).
    pub addr: Iova,
}

impl Iva {
    /// Bits 11:7 are reserved.
    pub const RESERVED: u64 = mask64(11, 7);

    /// Decode a raw IVA_REG value: AM \[5:0\], IH \[6\], ADDR \[63:12\].
    pub const fn decode(raw: u64) -> Iva {
        Iva {
            am: get64(raw, 5, 0) as u8,
            ih: bit64(raw, 6),
            addr: Iova(raw & mask64(63, 12)),
        }
    }

    /// Encode to the raw IVA_REG value (reserved bits 11:7 zero).
    pub const fn encode(&self) -> u64 {
        let v = set64(self.addr.0 & mask64(63, 12), 5, 0, self.am as u64);
        setb64(v, 6, self.ih)
    }
}

/// IOTLB_REG (IRO x 16 + 8), spec A11.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct IotlbReg {
    /// \[47:32\] domain ID.
    pub did: DomainId,
    /// \[48\] drain writes.
    pub dw: bool,
    /// \[49\] drain reads.
    pub dr: bool,
    /// \[58:57\] actual granularity (RO; 00 = not performed).
    pub iaig: u8,
    /// \[61:60\] requested granularity ([`IOTLB_G_GLOBAL`], [`IOTLB_G_DOMAIN`], [`IOTLB_G_PAGE`]).
    pub iirg: u8,
    /// \[63\] invalidate IOTLB (set by software, cleared when done).
    pub ivt: bool,
}

impl IotlbReg {
    /// Bits 31:0, 56:50, 59 and 62 are reserved.
    pub const RESERVED: u64 = mask64(31, 0) | mask64(56, 50) | (1 << 59) | (1 << 62);

    /// Decode a raw IOTLB_REG value: DID \[47:32\], DW \[48\], DR \[49\], IAIG \[58:57\], IIRG
    /// \[61:60\], IVT \[63\].
    pub const fn decode(raw: u64) -> IotlbReg {
        IotlbReg {
            did: DomainId(get64(raw, 47, 32) as u16),
            dw: bit64(raw, 48),
            dr: bit64(raw, 49),
            iaig: get64(raw, 58, 57) as u8,
            iirg: get64(raw, 61, 60) as u8,
            ivt: bit64(raw, 63),
        }
    }

    /// Encode to the raw IOTLB_REG value (fields truncated to their widths, reserved bits 0).
    pub const fn encode(&self) -> u64 {
        let mut v = 0u64;
        v = set64(v, 47, 32, self.did.0 as u64);
        v = setb64(v, 48, self.dw);
        v = setb64(v, 49, self.dr);
        v = set64(v, 58, 57, self.iaig as u64);
        v = set64(v, 61, 60, self.iirg as u64);
        setb64(v, 63, self.ivt)
    }
}

// ---------------------------------------------------------------------------------------------
// IQA_REG (A12)
// ---------------------------------------------------------------------------------------------

/// IQA_REG (0x090), spec A12: \[63:12\] IQA base, \[11\] DW, \[10:3\] reserved, \[2:0\] QS.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Iqa {
    /// Queue base (4 KiB aligned).
    pub iqa: Hpa,
    /// Descriptor width: false = 128-bit, true = 256-bit.
    pub dw: bool,
    /// Queue size: 2^QS 4 KiB pages.
    pub qs: u8,
}

impl Iqa {
    /// Bits 10:3 are reserved.
    pub const RESERVED: u64 = mask64(10, 3);

    /// Reserved bits including the base bits at or above `haw`.
    pub const fn reserved_mask(haw: u8) -> u64 {
        Self::RESERVED | range64_from(haw as u32, 63)
    }

    /// Decode a raw IQA_REG value: base \[63:12\], DW \[11\], QS \[2:0\].
    pub const fn decode(raw: u64) -> Iqa {
        Iqa {
            iqa: Hpa(raw & mask64(63, 12)),
            dw: bit64(raw, 11),
            qs: get64(raw, 2, 0) as u8,
        }
    }

    /// Encode to the raw IQA_REG value (reserved bits 10:3 zero).
    pub const fn encode(&self) -> u64 {
        let v = setb64(self.iqa.0 & mask64(63, 12), 11, self.dw);
        set64(v, 2, 0, self.qs as u64)
    }

    /// Queue size in bytes: 4 KiB x 2^QS.
    pub const fn queue_bytes(&self) -> u64 {
        4096u64 << (self.qs & 7)
    }

    /// Descriptor size in bytes (16 or 32).
    pub const fn desc_bytes(&self) -> u64 {
        if self.dw {
            32
        } else {
            16
        }
    }

    /// Number of descriptors: 2^(QS+8) 128-bit or 2^(QS+7) 256-bit.
    pub const fn entries(&self) -> u64 {
        self.queue_bytes() / self.desc_bytes()
    }
}

// ---------------------------------------------------------------------------------------------
// IQERCD_REG (A12)
// ---------------------------------------------------------------------------------------------

/// IQEI 0: no information.
pub const IQEI_NONE: u8 = 0;
/// IQEI 1: invalid tail pointer.
pub const IQEI_INVALID_TAIL: u8 = 1;
/// IQEI 2: descriptor fetch error.
pub const IQEI_FETCH_ERROR: u8 = 2;
/// IQEI 3: invalid descriptor type.
pub const IQEI_INVALID_TYPE: u8 = 3;
/// IQEI 4: reserved-field violation.
pub const IQEI_RESERVED_FIELD: u8 = 4;
/// IQEI 5: invalid descriptor width.
pub const IQEI_INVALID_WIDTH: u8 = 5;
/// IQEI 6: tail misaligned (256-bit descriptors, IQT bit 4 set).
pub const IQEI_TAIL_MISALIGNED: u8 = 6;
/// IQEI 7: invalid TTM.
pub const IQEI_INVALID_TTM: u8 = 7;

/// IQERCD_REG (0x0B0), spec A12: \[3:0\] IQEI, \[47:32\] ITESID, \[63:48\] ICESID.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct IqErcd {
    /// \[3:0\] IQEI: why the queue stopped (one of the `IQEI_*` codes).
    pub iqei: u8,
    /// \[47:32\] ITESID: source ID of the device whose device-TLB invalidation timed out
    /// (FSTS.ITE).
    pub itesid: u16,
    /// \[63:48\] ICESID: source ID of the device that returned an invalid invalidation completion
    /// (FSTS.ICE).
    pub icesid: u16,
}

impl IqErcd {
    /// Bits 31:4 are reserved.
    pub const RESERVED: u64 = mask64(31, 4);

    /// Decode a raw IQERCD_REG value.
    pub const fn decode(raw: u64) -> IqErcd {
        IqErcd {
            iqei: get64(raw, 3, 0) as u8,
            itesid: get64(raw, 47, 32) as u16,
            icesid: get64(raw, 63, 48) as u16,
        }
    }

    /// Encode to the raw IQERCD_REG value (reserved bits 31:4 zero).
    pub const fn encode(&self) -> u64 {
        let v = set64(0, 3, 0, self.iqei as u64);
        let v = set64(v, 47, 32, self.itesid as u64);
        set64(v, 63, 48, self.icesid as u64)
    }
}

// ---------------------------------------------------------------------------------------------
// IRTA_REG (B1)
// ---------------------------------------------------------------------------------------------

/// IRTA_REG (0x0B8), spec B1: \[63:12\] IRTA base, \[11\] EIME, \[10:4\] reserved, \[3:0\] S.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Irta {
    /// Interrupt remapping table base (4 KiB aligned).
    pub irta: Hpa,
    /// Extended interrupt mode enable (x2APIC; blocks compatibility-format interrupts).
    pub eime: bool,
    /// Table size: 2^(S+1) entries.
    pub s: u8,
}

impl Irta {
    /// Bits 10:4 are reserved.
    pub const RESERVED: u64 = mask64(10, 4);

    /// Reserved bits including the base bits at or above `haw`.
    pub const fn reserved_mask(haw: u8) -> u64 {
        Self::RESERVED | range64_from(haw as u32, 63)
    }

    /// Decode a raw IRTA_REG value: base \[63:12\], EIME \[11\], S \[3:0\].
    pub const fn decode(raw: u64) -> Irta {
        Irta {
            irta: Hpa(raw & mask64(63, 12)),
            eime: bit64(raw, 11),
            s: get64(raw, 3, 0) as u8,
        }
    }

    /// Encode to the raw IRTA_REG value (reserved bits 10:4 zero).
    pub const fn encode(&self) -> u64 {
        let v = setb64(self.irta.0 & mask64(63, 12), 11, self.eime);
        set64(v, 3, 0, self.s as u64)
    }

    /// Number of IRTEs: 2^(S+1) (2 .. 65,536).
    pub const fn entries(&self) -> u32 {
        1u32 << ((self.s & 0xF) + 1)
    }

    /// Host address of IRTE `index` (16 bytes each).
    pub const fn entry_addr(&self, index: u16) -> Hpa {
        Hpa(self.irta.0.wrapping_add(16 * index as u64))
    }
}

// ---------------------------------------------------------------------------------------------
// FSTS_REG (A10)
// ---------------------------------------------------------------------------------------------

/// FSTS_REG (0x034) decoded, spec A10.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Fsts {
    /// \[0\] PFO: primary fault overflow, a fault was dropped because the next FRCD was still full
    /// (RW1C).
    pub pfo: bool,
    /// \[1\] PPF: primary pending fault, the OR of every FRCD.F (RO).
    pub ppf: bool,
    /// \[2\] AFO: advanced fault overflow.
    pub afo: bool,
    /// \[3\] APF: advanced pending fault.
    pub apf: bool,
    /// \[4\] IQE: invalidation queue error; queued invalidation stopped at IQH (RW1C).
    pub iqe: bool,
    /// \[5\] ICE: invalidation completion error (RW1C).
    pub ice: bool,
    /// \[6\] ITE: invalidation time-out error (RW1C).
    pub ite: bool,
    /// \[15:8\] fault record index.
    pub fri: u8,
}

impl Fsts {
    /// Decode a raw 32-bit FSTS_REG value (reserved bits dropped).
    pub const fn decode(raw: u32) -> Fsts {
        Fsts {
            pfo: raw & FSTS_PFO != 0,
            ppf: raw & FSTS_PPF != 0,
            afo: raw & FSTS_AFO != 0,
            apf: raw & FSTS_APF != 0,
            iqe: raw & FSTS_IQE != 0,
            ice: raw & FSTS_ICE != 0,
            ite: raw & FSTS_ITE != 0,
            fri: ((raw & FSTS_FRI_MASK) >> FSTS_FRI_SHIFT) as u8,
        }
    }

    /// Encode to the raw 32-bit FSTS_REG value (FRI in bits 15:8).
    pub const fn encode(&self) -> u32 {
        let mut v = (self.fri as u32) << FSTS_FRI_SHIFT;
        if self.pfo {
            v |= FSTS_PFO;
        }
        if self.ppf {
            v |= FSTS_PPF;
        }
        if self.afo {
            v |= FSTS_AFO;
        }
        if self.apf {
            v |= FSTS_APF;
        }
        if self.iqe {
            v |= FSTS_IQE;
        }
        if self.ice {
            v |= FSTS_ICE;
        }
        if self.ite {
            v |= FSTS_ITE;
        }
        v
    }

    /// The old FSTS already holds PPF, PFO or IQE: a new fault event is then not signalled
    /// (A10 step 6).
    pub const fn event_already_pending(raw: u32) -> bool {
        raw & (FSTS_PFO | FSTS_PPF | FSTS_IQE) != 0
    }
}
