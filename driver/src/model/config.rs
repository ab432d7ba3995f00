//! [`ModelConfig`]: the capability identity the model follows (CAP_REG / ECAP_REG, spec A2) and
//! the host address width.
//!
//! The model acts on the named fields; `cap_other` / `ecap_other` keep any other CAP/ECAP bits so
//! that CAP/ECAP read back exactly what [`ModelConfig::from_cap_ecap`] was given.

/// Get bits `hi..=lo` of `v`.
const fn bits(v: u64, hi: u32, lo: u32) -> u64 {
    (v >> lo) & (u64::MAX >> (63 - (hi - lo)))
}
const fn bit(v: u64, b: u32) -> bool {
    (v >> b) & 1 == 1
}

/// CAP_REG bits the model names (spec A2): ND 2:0, AFL 3, RWBF 4, PLMR 5, PHMR 6, CM 7, SAGAW
/// 12:8, MGAW 21:16, ZLR 22, FRO 33:24, SLLPS 37:34, PSI 39, NFR 47:40, MAMV 53:48, DWD 54, DRD 55,
/// PI 59, ESIRTPS 62, ESRTPS 63.
const CAP_NAMED: u64 = 0x7
    | 0xF8
    | (0x1F << 8)
    | (0x3F << 16)
    | (1 << 22)
    | (0x3FF << 24)
    | (0xF << 34)
    | (1 << 39)
    | (0xFF << 40)
    | (0x3F << 48)
    | (1 << 54)
    | (1 << 55)
    | (1 << 59)
    | (1 << 62)
    | (1 << 63);
/// ECAP_REG bits the model names: C 0, QI 1, DT 2, IR 3, EIM 4, PT 6, SC 7, IRO 17:8, MHMV
/// 23:20, NEST 26, SMTS 43, ADMS 52.
const ECAP_NAMED: u64 =
    0x1F | (1 << 6) | (1 << 7) | (0x3FF << 8) | (0xF << 20) | (1 << 26) | (1 << 43) | (1 << 52);

/// What the modelled remapping unit advertises and how it is built.
/// `Default` = decisions.md "Hardware identity" (CAP 0x0812_078C_2038_0E06, ECAP 0x00F0_105B,
/// HAW 48).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelConfig {
    /// VER_REG value (0x10 = 1.0).
    pub ver: u32,
    /// Host address width: table-pointer / PTE address bits >= `haw` are reserved.
    pub haw: u8,
    // ---- CAP_REG ----
    /// Number of domains supported = 2^(4 + 2*nd).
    pub nd: u8,
    pub afl: bool,
    pub rwbf: bool,
    pub plmr: bool,
    pub phmr: bool,
    /// Caching mode (the model implements CM=0 caching rules only).
    pub cm: bool,
    /// Supported AGAWs: bit n = context AW value n.
    pub sagaw: u8,
    /// Maximum guest address width minus 1 (56 = 57-bit).
    pub mgaw: u8,
    pub zlr: bool,
    /// Fault-recording register offset / 16.
    pub fro: u16,
    /// Second-level large pages: bit 0 = 2 MiB, bit 1 = 1 GiB.
    pub sllps: u8,
    /// Page-selective IOTLB invalidation supported.
    pub psi: bool,
    /// Number of fault-recording registers minus 1.
    pub nfr: u8,
    /// Maximum address-mask value for PSI.
    pub mamv: u8,
    pub dwd: bool,
    pub drd: bool,
    /// Posted interrupts (CAP.PI).
    pub pi: bool,
    pub esirtps: bool,
    pub esrtps: bool,
    /// Every other CAP bit, read back unchanged.
    pub cap_other: u64,
    // ---- ECAP_REG ----
    /// Page-walk coherency.
    pub c: bool,
    /// Queued invalidation.
    pub qi: bool,
    /// Device-TLB (ATS).
    pub dt: bool,
    /// Interrupt remapping.
    pub ir: bool,
    /// Extended interrupt mode (x2APIC).
    pub eim: bool,
    /// Pass-through translation type.
    pub pt: bool,
    /// Snoop control.
    pub sc: bool,
    /// IOTLB register offset / 16 (IVA_REG at iro*16, IOTLB_REG at iro*16 + 8).
    pub iro: u16,
    /// Maximum handle-mask value.
    pub mhmv: u8,
    pub nest: bool,
    pub smts: bool,
    pub adms: bool,
    /// Every other ECAP bit, read back unchanged.
    pub ecap_other: u64,
}

impl Default for ModelConfig {
    /// The project hardware identity (decisions.md; common.md "Project register map").
    fn default() -> Self {
        ModelConfig {
            ver: 0x10,
            haw: 48,
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
            pi: true,
            esirtps: false,
            esrtps: false,
            cap_other: 0,
            c: true,
            qi: true,
            dt: false,
            ir: true,
            eim: true,
            pt: true,
            sc: false,
            iro: 0x10,
            mhmv: 15,
            nest: false,
            smts: false,
            adms: false,
            ecap_other: 0,
        }
    }
}

impl ModelConfig {
    /// Configure from raw CAP/ECAP values (as read from the DUT after reset) and the HAW.
    pub fn from_cap_ecap(cap: u64, ecap: u64, haw: u8) -> Self {
        ModelConfig {
            ver: 0x10,
            haw,
            nd: bits(cap, 2, 0) as u8,
            afl: bit(cap, 3),
            rwbf: bit(cap, 4),
            plmr: bit(cap, 5),
            phmr: bit(cap, 6),
            cm: bit(cap, 7),
            sagaw: bits(cap, 12, 8) as u8,
            mgaw: bits(cap, 21, 16) as u8,
            zlr: bit(cap, 22),
            fro: bits(cap, 33, 24) as u16,
            sllps: bits(cap, 37, 34) as u8,
            psi: bit(cap, 39),
            nfr: bits(cap, 47, 40) as u8,
            mamv: bits(cap, 53, 48) as u8,
            dwd: bit(cap, 54),
            drd: bit(cap, 55),
            pi: bit(cap, 59),
            esirtps: bit(cap, 62),
            esrtps: bit(cap, 63),
            cap_other: cap & !CAP_NAMED,
            c: bit(ecap, 0),
            qi: bit(ecap, 1),
            dt: bit(ecap, 2),
            ir: bit(ecap, 3),
            eim: bit(ecap, 4),
            pt: bit(ecap, 6),
            sc: bit(ecap, 7),
            iro: bits(ecap, 17, 8) as u16,
            mhmv: bits(ecap, 23, 20) as u8,
            nest: bit(ecap, 26),
            smts: bit(ecap, 43),
            adms: bit(ecap, 52),
            ecap_other: ecap & !ECAP_NAMED,
        }
    }

    /// The CAP_REG value this configuration advertises.
    pub fn cap(&self) -> u64 {
        let b = |v: bool, at: u32| (v as u64) << at;
        (self.nd as u64 & 0x7)
            | b(self.afl, 3)
            | b(self.rwbf, 4)
            | b(self.plmr, 5)
            | b(self.phmr, 6)
            | b(self.cm, 7)
            | ((self.sagaw as u64 & 0x1F) << 8)
            | ((self.mgaw as u64 & 0x3F) << 16)
            | b(self.zlr, 22)
            | ((self.fro as u64 & 0x3FF) << 24)
            | ((self.sllps as u64 & 0xF) << 34)
            | b(self.psi, 39)
            | ((self.nfr as u64) << 40)
            | ((self.mamv as u64 & 0x3F) << 48)
            | b(self.dwd, 54)
            | b(self.drd, 55)
            | b(self.pi, 59)
            | b(self.esirtps, 62)
            | b(self.esrtps, 63)
            | (self.cap_other & !CAP_NAMED)
    }

    /// The ECAP_REG value this configuration advertises.
    pub fn ecap(&self) -> u64 {
        let b = |v: bool, at: u32| (v as u64) << at;
        b(self.c, 0)
            | b(self.qi, 1)
            | b(self.dt, 2)
            | b(self.ir, 3)
            | b(self.eim, 4)
            | b(self.pt, 6)
            | b(self.sc, 7)
            | ((self.iro as u64 & 0x3FF) << 8)
            | ((self.mhmv as u64 & 0xF) << 20)
            | b(self.nest, 26)
            | b(self.smts, 43)
            | b(self.adms, 52)
            | (self.ecap_other & !ECAP_NAMED)
    }

    /// Number of fault-recording registers (NFR + 1).
    pub fn num_fault_records(&self) -> usize {
        self.nfr as usize + 1
    }

    /// Offset of FRCD_REG\[0\] (FRO * 16).
    pub fn frcd_base(&self) -> u32 {
        self.fro as u32 * 16
    }

    /// Offset of IVA_REG (IRO * 16); IOTLB_REG is 8 bytes above.
    pub fn iva_offset(&self) -> u32 {
        self.iro as u32 * 16
    }

    /// Width of a valid domain ID in bits (4 + 2*ND, at most 16).
    pub fn did_bits(&self) -> u32 {
        (4 + 2 * self.nd as u32).min(16)
    }

    /// Is a 2^(12 + 9*level - 9) page (level 2 = 2 MiB, 3 = 1 GiB) supported as a leaf?
    pub fn large_page_ok(&self, level: u8) -> bool {
        matches!(level, 2..=5) && (self.sllps >> (level - 2)) & 1 == 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_identity_matches_hand_assembled_hex() {
        // CAP: PI(59) 0x0800_0000_0000_0000 | MAMV 18<<48 0x0012_0000_0000_0000
        //    | NFR 7<<40 0x0700_0000_0000 | PSI(39) 0x0080_0000_0000 | SLLPS 0b11<<34 0x000C_0000_0000
        //    | FRO 0x20<<24 0x2000_0000 | MGAW 56<<16 0x38_0000 | SAGAW 0b01110<<8 0xE00 | ND 6.
        assert_eq!(ModelConfig::default().cap(), 0x0812_078C_2038_0E06);
        // ECAP: MHMV 15<<20 0xF0_0000 | IRO 0x10<<8 0x1000 | PT 0x40 | EIM 0x10 | IR 0x8 | QI 0x2 | C 0x1.
        assert_eq!(ModelConfig::default().ecap(), 0x00F0_105B);
    }

    #[test]
    fn from_cap_ecap_round_trips_including_unnamed_bits() {
        let cap = 0x0812_078C_2038_0E06 | (1 << 56) | (1 << 61);
        let ecap = 0x00F0_105B | (1 << 25) | (1 << 40);
        let c = ModelConfig::from_cap_ecap(cap, ecap, 46);
        assert_eq!((c.cap(), c.ecap(), c.haw), (cap, ecap, 46));
        assert_eq!(
            ModelConfig::from_cap_ecap(0x0812_078C_2038_0E06, 0x00F0_105B, 48),
            ModelConfig::default()
        );
        // First RTL milestone: QI=IR=EIM=0, PI=0.
        let m1 = ModelConfig::from_cap_ecap(0x0012_078C_2038_0E06, 0x00F0_1041, 48);
        assert!(!m1.qi && !m1.ir && !m1.eim && !m1.pi && m1.pt && m1.c);
        assert_eq!(m1.num_fault_records(), 8);
        assert_eq!((m1.frcd_base(), m1.iva_offset()), (0x200, 0x100));
    }
}
