//! Shared set-up for the OS-driver integration tests (faults_*, os_*, d5_*, walk_*).
//!
//! Everything goes through the external interface: TLPs built with `iommu_driver::tlp` into
//! `model::Request`, registers through `Platform` on `model::ModelPlatform`.
#![allow(dead_code)]

use iommu_driver::model::{Allowed, ModelConfig, ModelPlatform, Msi, Outcome, Request};
use iommu_driver::os::IrSetup;
use iommu_driver::os::{unit, BringUp, Iommu, OsConfig, PageSize, Perms};
use iommu_driver::platform::Platform;
use iommu_driver::tlp::{self, CplStatus};
use iommu_driver::vtd::fault::FaultReason;
use iommu_driver::{DomainId, Hpa, Iova, Rid};

pub type Os = Iommu<ModelPlatform>;

/// The device under test: 03:02.0.
pub const DEV: Rid = Rid(0x0310);
/// Its domain.
pub const DOM: DomainId = DomainId(1);
/// A mapped IOVA (4 KiB, RW) and where it lands.
pub const IOVA: u64 = 0x4000_0000;
pub const HPA: u64 = 0x8000_0000;
/// Fault-event MSI programmed by the tests.
pub const FE_ADDR: u64 = 0xFEE0_1000;
pub const FE_DATA: u32 = 0x0000_0041;

pub fn os_with(cfg: ModelConfig) -> Os {
    Iommu::new(ModelPlatform::new(cfg), OsConfig::default()).expect("attach")
}

pub fn os() -> Os {
    os_with(ModelConfig::default())
}

/// QI on, translation on, DEV in DOM (4-level) with IOVA -> HPA (4 KiB, RW), fault events
/// unmasked to FE_ADDR/FE_DATA.
pub fn dma_setup() -> Os {
    dma_setup_levels(4)
}

pub fn dma_setup_levels(levels: u8) -> Os {
    let mut os = os();
    os.create_domain(DOM, levels).unwrap();
    os.assign_device(DEV, DOM).unwrap();
    os.map(DOM, Iova(IOVA), Hpa(HPA), PageSize::Size4K, Perms::RW)
        .unwrap();
    os.bring_up(BringUp::default()).unwrap();
    os.setup_fault_event(FE_ADDR, FE_DATA, false).unwrap();
    os
}

/// QI on, IR table with 2^(s+1) entries and EIME, IRE (+CFI), translation off.
pub fn ir_setup(s: u8, eime: bool, cfi: bool) -> Os {
    let mut os = os();
    os.bring_up(BringUp {
        qi: true,
        ir: Some(IrSetup { s, eime, cfi }),
        te: false,
    })
    .unwrap();
    os.setup_fault_event(FE_ADDR, FE_DATA, false).unwrap();
    os
}

// --- requests -------------------------------------------------------------------------------

pub fn read_req(rid: Rid, addr: u64) -> Request {
    let h = tlp::mem_read(rid, 0x11, addr, 4).expect("valid MRd");
    Request {
        hdr: h.encode(),
        data0: 0,
    }
}

pub fn read_req_at(rid: Rid, addr: u64, at: u8) -> Request {
    let mut h = tlp::mem_read(rid, 0x12, addr, 4).expect("valid MRd");
    h.at = at;
    Request {
        hdr: h.encode(),
        data0: 0,
    }
}

pub fn write_req(rid: Rid, addr: u64) -> Request {
    let h = tlp::mem_write(rid, 0x13, addr, 4).expect("valid MWr");
    Request {
        hdr: h.encode(),
        data0: 0xDEAD_BEEF,
    }
}

pub fn msi_req(rid: Rid, addr: u64, data: u32) -> Request {
    let m = tlp::msi_write(rid, addr, data);
    Request {
        hdr: m.hdr(),
        data0: m.data,
    }
}

pub fn read(os: &mut Os, rid: Rid, addr: u64) -> Outcome {
    os.platform_mut().process(&read_req(rid, addr))
}

pub fn write(os: &mut Os, rid: Rid, addr: u64) -> Outcome {
    os.platform_mut().process(&write_req(rid, addr))
}

pub fn msi(os: &mut Os, rid: Rid, addr: u64, data: u32) -> Outcome {
    os.platform_mut().process(&msi_req(rid, addr, data))
}

pub fn evaluate(os: &mut Os, req: &Request) -> Allowed {
    let p = os.platform_mut();
    p.model.evaluate(&p.mem, req)
}

pub fn events(os: &mut Os) -> Vec<Msi> {
    os.platform_mut().model.take_events()
}

// --- expected outcomes (spec A8/C8 + decisions.md) -------------------------------------------

pub fn fr(code: u8) -> FaultReason {
    FaultReason::from_code(code).expect("defined fault code")
}

pub fn ur(code: u8) -> Outcome {
    Outcome::Complete {
        status: CplStatus::Ur,
        fault: Some(fr(code)),
    }
}

pub fn ca(code: u8) -> Outcome {
    Outcome::Complete {
        status: CplStatus::Ca,
        fault: Some(fr(code)),
    }
}

pub fn dropped(code: u8) -> Outcome {
    Outcome::Drop {
        fault: Some(fr(code)),
    }
}

pub fn fwd(addr: u64) -> Outcome {
    Outcome::Forward { addr: Hpa(addr) }
}

// --- registers --------------------------------------------------------------------------------

pub fn reg32(os: &mut Os, off: u16) -> u32 {
    os.platform_mut().read32(off).unwrap()
}

pub fn reg64(os: &mut Os, off: u16) -> u64 {
    os.platform_mut().read64(off).unwrap()
}

pub fn fsts(os: &mut Os) -> u32 {
    reg32(os, unit::FSTS_REG)
}

pub fn fectl(os: &mut Os) -> u32 {
    reg32(os, unit::FECTL_REG)
}

/// FRCD[i] as 128 bits (qword0 at +0, qword1 at +8), read through registers.
pub fn frcd(os: &mut Os, i: u16) -> u128 {
    os.read_frcd(i).unwrap()
}

/// The FRCD a DMA fault must produce (spec A10): F=1, T, AT, FR, SID, FI = page address.
pub fn frcd_dma(code: u8, sid: Rid, addr: u64, read: bool, at: u8) -> u128 {
    1u128 << 127
        | (read as u128) << 126
        | (at as u128) << 124
        | (code as u128) << 96
        | (sid.0 as u128) << 64
        | (addr & !0xFFF) as u128
}

/// The FRCD an IR fault must produce (spec B7/A10): F=1, FR, SID, FI[63:48] = index, T=0
/// (an interrupt request is a write), AT=0.
pub fn frcd_ir(code: u8, sid: Rid, index: u16) -> u128 {
    1u128 << 127 | (code as u128) << 96 | (sid.0 as u128) << 64 | (index as u128) << 48
}

/// FSTS with PPF and FRI = `fri` (spec A10).
pub const fn fsts_ppf(fri: u32) -> u32 {
    unit::FSTS_PPF | fri << 8
}
