//! [`ModelConfig`]: the capability identity the model follows (CAP_REG / ECAP_REG, spec A2) and
//! the host address width.
//!

use crate::vtd::regs::{Cap, Ecap};

/// What the modelled remapping unit advertises and how it is built.
/// `Default` = decisions.md "Hardware identity" (CAP 0x0812_078C_2038_0E06, ECAP 0x00F0_105B,
/// HAW 48). The capability fields are the [`Cap`] / [`Ecap`] register values of `vtd::regs`, so the
/// model reads its identity through the same decoders as everything else.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelConfig {
    /// VER_REG value (0x10 = 1.0).
    pub ver: u32,
    /// Host address width: table-pointer / PTE address bits >= `haw` are reserved.
    pub haw: u8,
    /// CAP_REG (spec A2). The model acts on ND, CM (CM=0 rules only), SAGAW, MGAW, FRO, SLLPS,
    /// PSI, NFR, MAMV, DWD/DRD, PI; the other fields are only advertised.
    pub cap: Cap,
    /// ECAP_REG (spec A2). The model acts on QI, DT, IR, EIM, PT, SC, IRO, MHMV, SMTS, ADMS.
    pub ecap: Ecap,
}

impl Default for ModelConfig {
    /// The project hardware identity (decisions.md "Hardware identity").
    fn default() -> Self {
        ModelConfig {
            ver: 0x10,
            haw: 48,
            cap: Cap::project_default(),
            ecap: Ecap::project_default(),
        }
    }
}

impl ModelConfig {
    /// Configure from raw CAP/ECAP values (as read from the DUT after reset) and the HAW.
    /// Reserved CAP/ECAP bits are dropped: a unit must read them as 0.
    pub fn from_cap_ecap(cap: u64, ecap: u64, haw: u8) -> Self {
        ModelConfig {
            ver: 0x10,
            haw,
            cap: Cap::decode(cap),
            ecap: Ecap::decode(ecap),
        }
    }

    /// The CAP_REG value this configuration advertises.
    pub fn cap(&self) -> u64 {
        self.cap.encode()
    }

    /// The ECAP_REG value this configuration advertises.
    pub fn ecap(&self) -> u64 {
        self.ecap.encode()
    }

    /// Number of fault-recording registers (NFR + 1).
    pub fn num_fault_records(&self) -> usize {
        self.cap.nfr as usize + 1
    }

    /// Offset of FRCD_REG\[0\] (FRO * 16).
    pub fn frcd_base(&self) -> u32 {
        self.cap.fro as u32 * 16
    }

    /// Offset of IVA_REG (IRO * 16); IOTLB_REG is 8 bytes above.
    pub fn iva_offset(&self) -> u32 {
        self.ecap.iro as u32 * 16
    }

    /// Width of a valid domain ID in bits (4 + 2*ND, at most 16).
    pub fn did_bits(&self) -> u32 {
        (4 + 2 * self.cap.nd as u32).min(16)
    }

    /// Is a 2^(12 + 9*level - 9) page (level 2 = 2 MiB, 3 = 1 GiB) supported as a leaf?
    pub fn large_page_ok(&self, level: u8) -> bool {
        matches!(level, 2..=5) && (self.cap.sllps >> (level - 2)) & 1 == 1
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
    fn from_cap_ecap_round_trips() {
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
        assert!(
            !m1.ecap.qi && !m1.ecap.ir && !m1.ecap.eim && !m1.cap.pi && m1.ecap.pt && m1.ecap.c
        );
        assert_eq!(m1.num_fault_records(), 8);
        assert_eq!((m1.frcd_base(), m1.iva_offset()), (0x200, 0x100));
    }
}
