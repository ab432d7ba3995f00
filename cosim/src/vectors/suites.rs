//! The committed suites, each generated from the golden model by the OS driver programming a
//! [`Recorder`]. Names are the folder names under `testvectors/`.

use super::record::Recorder;
use super::Suite;
use crate::dut::DutConfig;
use crate::hdr::Req;
use iommu_driver::model::{ModelConfig, Outcome, Request};
use iommu_driver::os::{BringUp, InvRequest, Iommu, OsConfig, PageSize, Perms};
use iommu_driver::{DomainId, Hpa, Iova, Rid};

/// A suite generator: name, one-line description (no commas), body.
struct Def {
    name: &'static str,
    description: &'static str,
    config: DutConfig,
    body: fn(&mut Gen) -> Result<(), String>,
}

const SUITES: &[Def] = &[
    Def {
        name: "dma-translate",
        description: "DMA translation with 4 KiB / 2 MiB / 1 GiB pages; permission; not-present and address-width faults; register-based invalidation",
        config: DutConfig::Default,
        body: dma_translate,
    },
    Def {
        name: "dma-walks",
        description: "3- 4- and 5-level walks with IOVAs that set every index bit of every level; queued invalidation",
        config: DutConfig::Default,
        body: dma_walks,
    },
    Def {
        name: "dma-translate-tiny",
        description: "the dma-translate traffic on the tiny configuration (2-entry caches and one walker)",
        config: DutConfig::Tiny,
        body: dma_translate,
    },
];

/// Every suite name, in order.
pub fn names() -> Vec<&'static str> {
    SUITES.iter().map(|d| d.name).collect()
}

/// The CAP/ECAP each configuration of `rtl/iommu_top` advertises (checked against the RTL by
/// a test): what a suite generated for it assumes.
pub fn identity(config: DutConfig) -> (u64, u64) {
    match config {
        DutConfig::Default => (DEFAULT_CAP, DEFAULT_ECAP),
        DutConfig::Tiny => (TINY_CAP, TINY_ECAP),
    }
}

/// Both configurations advertise the same identity (decisions.md "Hardware identity"); they
/// differ only in cache sizes and walkers, which CAP/ECAP do not show.
const DEFAULT_CAP: u64 = 0x08d2_078c_2038_0e06;
const DEFAULT_ECAP: u64 = 0x0000_0000_00f0_105b;
const TINY_CAP: u64 = DEFAULT_CAP;
const TINY_ECAP: u64 = DEFAULT_ECAP;

/// Generate suite `name`.
pub fn generate(name: &str) -> Result<Suite, String> {
    let d = SUITES
        .iter()
        .find(|d| d.name == name)
        .ok_or_else(|| format!("unknown suite {name:?} (known: {})", names().join(", ")))?;
    let (cap, ecap) = identity(d.config);
    let rec = Recorder::new(ModelConfig::from_cap_ecap(cap, ecap, 48));
    let os = Iommu::new(rec, OsConfig::default()).map_err(|e| e.to_string())?;
    let mut g = Gen { os, tag: 0 };
    (d.body)(&mut g)?;
    Ok(g.os
        .into_platform()
        .finish(d.name, d.description, 0, d.config))
}

/// The OS driver over the recorder, and request helpers.
struct Gen {
    os: Iommu<Recorder>,
    tag: u8,
}

const FE_ADDR: u64 = 0xFEE0_F000;
const FE_DATA: u32 = 0xE1;

impl Gen {
    fn e<T, E: std::fmt::Display>(r: Result<T, E>) -> Result<T, String> {
        r.map_err(|e| e.to_string())
    }

    fn send(&mut self, r: Req) -> Result<Outcome, String> {
        self.tag = self.tag.wrapping_add(1);
        let req = Request {
            hdr: Req { tag: self.tag, ..r }.encode(),
            data0: 0x5a5a_0000 | u32::from(self.tag),
        };
        self.os.platform_mut().send(req)
    }

    fn read(&mut self, rid: Rid, addr: u64, len: u32) -> Result<Outcome, String> {
        self.send(Req::read(rid.0, 0, addr, len))
    }

    fn write(&mut self, rid: Rid, addr: u64, len: u32) -> Result<Outcome, String> {
        self.send(Req::write(rid.0, 0, addr, len))
    }

    fn map(
        &mut self,
        did: u16,
        iova: u64,
        hpa: u64,
        size: PageSize,
        p: Perms,
    ) -> Result<(), String> {
        Self::e(self.os.map(DomainId(did), Iova(iova), Hpa(hpa), size, p))
    }

    fn faults(&mut self) -> Result<(), String> {
        Self::e(self.os.handle_faults()).map(|_| ())
    }
}

const DEV_A: Rid = Rid(0x0008); // 00:01.0
const DEV_B: Rid = Rid(0x0010); // 00:02.0
const DEV_C: Rid = Rid(0x0118); // 01:03.0, assigned nowhere (no context entry)
const DEV_D: Rid = Rid(0x0500); // 05:00.0, a bus with no root entry

fn dma_translate(g: &mut Gen) -> Result<(), String> {
    Gen::e(g.os.create_domain(DomainId(1), 4))?;
    Gen::e(g.os.create_domain(DomainId(2), 3))?;
    Gen::e(g.os.assign_device(DEV_A, DomainId(1)))?;
    Gen::e(g.os.assign_device(DEV_B, DomainId(2)))?;
    // A context table for bus 1 exists (DEV_C's entry in it stays not present).
    Gen::e(g.os.context_table(1))?;
    g.map(1, 0x0000_1000, 0x4_0000_0000, PageSize::Size4K, Perms::RW)?;
    g.map(1, 0x0000_2000, 0x4_0000_5000, PageSize::Size4K, Perms::RO)?;
    g.map(1, 0x0000_3000, 0x4_0000_9000, PageSize::Size4K, Perms::WO)?;
    g.map(1, 0x0020_0000, 0x8_0020_0000, PageSize::Size2M, Perms::RW)?;
    let one_g = g.os.caps().supports_page(PageSize::Size1G);
    if one_g {
        g.map(1, 0x4000_0000, 0x1_c000_0000, PageSize::Size1G, Perms::RW)?;
    }
    g.map(2, 0x7f_ffff_f000, 0x0012_3000, PageSize::Size4K, Perms::RW)?;
    Gen::e(g.os.bring_up(BringUp {
        qi: false,
        ir: None,
        te: true,
    }))?;
    Gen::e(g.os.setup_fault_event(FE_ADDR, FE_DATA, false))?;
    // Translations: first and last bytes of each page, 3DW requests with 4DW results.
    for (a, len) in [(0x1000, 64), (0x1ffc, 4), (0x3010, 128), (0x3ffc, 4)] {
        g.write(DEV_A, a, len)?;
    }
    for (a, len) in [
        (0x1000, 512),
        (0x2ff0, 16),
        (0x20_0000, 256),
        (0x3f_fffc, 4),
    ] {
        g.read(DEV_A, a, len)?;
    }
    if one_g {
        g.read(DEV_A, 0x4000_0000, 64)?;
        g.write(DEV_A, 0x7fff_fffc, 4)?;
    }
    g.read(DEV_B, 0x7f_ffff_f800, 64)?;
    // Permission faults: write to read-only (5h), read of write-only (6h).
    g.write(DEV_A, 0x2000, 4)?;
    g.read(DEV_A, 0x3000, 4)?;
    // Not present: an unmapped page, a device without context entry, a bus without root entry.
    g.read(DEV_A, 0x9000, 4)?;
    g.write(DEV_A, 0x9000, 4)?;
    g.read(DEV_C, 0x1000, 4)?;
    g.read(DEV_D, 0x1000, 4)?;
    // Beyond the 3-level domain's 39 bits (4h).
    g.read(DEV_B, 0x80_0000_0000, 4)?;
    g.faults()?;
    // Unmap under a page-selective invalidation: the page faults afterwards.
    Gen::e(g.os.unmap(DomainId(1), Iova(0x1000), PageSize::Size4K))?;
    Gen::e(g.os.invalidate(&[InvRequest::IotlbPage {
        did: DomainId(1),
        addr: Iova(0x1000),
        am: 0,
        ih: false,
    }]))?;
    g.read(DEV_A, 0x1000, 4)?;
    g.read(DEV_A, 0x20_0000, 4)?;
    g.faults()?;
    Ok(())
}

fn dma_walks(g: &mut Gen) -> Result<(), String> {
    let mut devs = Vec::new();
    for (k, levels) in [3u8, 4, 5].into_iter().enumerate() {
        if !g.os.caps().supports_levels(levels) {
            continue;
        }
        let did = 1 + k as u16;
        let rid = Rid(0x0008 * (1 + k as u16));
        Gen::e(g.os.create_domain(DomainId(did), levels))?;
        Gen::e(g.os.assign_device(rid, DomainId(did)))?;
        // IOVAs with one index bit of one level set each, within the domain's width.
        let bits = 12 + 9 * u32::from(levels);
        let mut iovas = Vec::new();
        for b in 12..bits.min(u32::from(g.os.caps().mgaw)) {
            iovas.push(1u64 << b);
        }
        iovas.push((1u64 << bits.min(u32::from(g.os.caps().mgaw))) - 0x1000);
        for (i, iova) in iovas.iter().enumerate() {
            let hpa = 0x2_0000_0000 + (u64::from(did) << 24) + ((i as u64) << 12);
            g.map(did, *iova, hpa, PageSize::Size4K, Perms::RW)?;
        }
        devs.push((rid, did, iovas));
    }
    Gen::e(g.os.bring_up(BringUp {
        qi: true,
        ir: None,
        te: true,
    }))?;
    Gen::e(g.os.setup_fault_event(FE_ADDR, FE_DATA, false))?;
    for (rid, _, iovas) in &devs {
        for iova in iovas {
            g.read(*rid, iova + 0x40, 16)?;
        }
        // Neighbours of each mapped page are not mapped: a fault each.
        for iova in iovas.iter().take(3) {
            g.write(*rid, iova + 0x1000, 4)?;
        }
        g.faults()?;
    }
    // Domain-selective invalidation after remapping one page per domain.
    for (_, did, iovas) in &devs {
        let d = DomainId(*did);
        Gen::e(g.os.unmap(d, Iova(iovas[0]), PageSize::Size4K))?;
        g.map(
            *did,
            iovas[0],
            0x3_0000_0000 + (u64::from(*did) << 20),
            PageSize::Size4K,
            Perms::RO,
        )?;
        Gen::e(g.os.invalidate(&[InvRequest::IotlbDomain(d)]))?;
    }
    for (rid, _, iovas) in &devs {
        g.read(*rid, iovas[0], 8)?;
        g.write(*rid, iovas[0], 8)?;
        g.read(*rid, iovas[1], 8)?;
    }
    g.faults()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memsrv::MemConfig;
    use crate::sim::{Knobs, Sim};
    use iommu_driver::mem::HostMemory;

    #[test]
    fn identity_is_what_the_rtl_advertises() {
        for c in [DutConfig::Default, DutConfig::Tiny] {
            let mut s = Sim::new(
                c,
                HostMemory::new(),
                MemConfig::default(),
                Knobs::full_speed(),
                0,
            );
            let cap = s.csr_access(false, 0x008, 8, 0, 1000).expect("CAP");
            let ecap = s.csr_access(false, 0x010, 8, 0, 1000).expect("ECAP");
            assert_eq!(
                (cap, ecap),
                identity(c),
                "{c}: CAP {cap:#018x} ECAP {ecap:#018x}"
            );
        }
    }
}
