//! Property tests of second-level walks: random mappings (4 KiB / 2 MiB / 1 GiB leaves, 3/4/5-level
//! tables) built by the OS driver, checked against the model through DMA TLPs:
//! every mapped address translates to exactly what was mapped (with the mapped permissions),
//! unmapped addresses fault (6h/5h not present, 4h beyond the AGAW), and after unmap the stale
//! window holds the old and the new outcome until the page-selective invalidation the driver
//! returned, after which only the new (faulting) outcome is allowed.
//!
//! Case count: PROPTEST_CASES (default 48 here).

mod os_common;
use os_common::*;

use iommu_driver::model::{Msi, Outcome};
use iommu_driver::os::{BringUp, InvRequest, Mapping, OsError, PageSize, Perms, WaitKind};
use iommu_driver::tlp::CplStatus;
use iommu_driver::{Hpa, Iova};
use proptest::prelude::*;

#[derive(Debug, Clone)]
struct Case {
    levels: u8,
    maps: Vec<(u8, u64, u64, u8, bool)>,
    probes: Vec<u64>,
    unmap: Vec<bool>,
    offsets: Vec<u64>,
}

fn arb_case() -> impl Strategy<Value = Case> {
    (
        3u8..=5,
        prop::collection::vec(
            (0u8..3, any::<u64>(), any::<u64>(), 0u8..3, any::<bool>()),
            1..24,
        ),
        prop::collection::vec(any::<u64>(), 0..24),
        prop::collection::vec(any::<bool>(), 24),
        prop::collection::vec(any::<u64>(), 24),
    )
        .prop_map(|(levels, maps, probes, unmap, offsets)| Case {
            levels,
            maps,
            probes,
            unmap,
            offsets,
        })
}

fn size_of(sel: u8) -> PageSize {
    [PageSize::Size4K, PageSize::Size2M, PageSize::Size1G][sel as usize]
}

fn perms_of(sel: u8) -> Perms {
    [Perms::RW, Perms::RO, Perms::WO][sel as usize]
}

/// Address width of a context with `levels` (spec A6: 30 + 9*AW, AW = levels - 2), capped by
/// MGAW+1 = 57.
fn agaw(levels: u8) -> u32 {
    (30 + 9 * (levels as u32 - 2)).min(57)
}

fn covering(maps: &[Mapping], iova: u64) -> Option<Mapping> {
    maps.iter()
        .copied()
        .find(|m| iova >= m.iova.0 && iova < m.iova.0 + m.size.bytes())
}

/// Untranslated requests to 0xFEE0_0000..=0xFEEF_FFFF are interrupt requests, never DMA
/// (spec A8 step 1).
fn in_window(iova: u64) -> bool {
    (0xFEE0_0000..=0xFEEF_FFFF).contains(&iova)
}

fn expect_read(m: Option<Mapping>, iova: u64, width: u32) -> Outcome {
    if in_window(iova) {
        // decisions.md: MRd to the interrupt window -> UR, no fault.
        return Outcome::Complete {
            status: CplStatus::Ur,
            fault: None,
        };
    }
    match m {
        Some(m) if m.perms.r => fwd(m.hpa.0 + (iova - m.iova.0)),
        Some(_) => ur(0x06),
        None if iova >= 1u64 << width => ur(0x04),
        None => ur(0x06),
    }
}

fn expect_write(m: Option<Mapping>, iova: u64, width: u32) -> Outcome {
    if in_window(iova) {
        // An interrupt request; IRE=0 delivers it unchanged (B3 step 1).
        return Outcome::Interrupt {
            msi: Msi {
                addr: iova,
                data: 0xDEAD_BEEF,
            },
        };
    }
    match m {
        Some(m) if m.perms.w => fwd(m.hpa.0 + (iova - m.iova.0)),
        Some(_) => dropped(0x05),
        None if iova >= 1u64 << width => dropped(0x04),
        None => dropped(0x05),
    }
}

fn run(case: Case) -> Result<(), TestCaseError> {
    let mut os = os();
    os.create_domain(DOM, case.levels).unwrap();
    os.assign_device(DEV, DOM).unwrap();
    let width = agaw(case.levels);
    let mut maps: Vec<Mapping> = Vec::new();
    for &(s, iraw, hraw, p, small_window) in &case.maps {
        let size = size_of(s);
        let sz = size.bytes();
        let win = if small_window { 33.min(width) } else { width };
        let iova = (iraw % (1u64 << win)) & !(sz - 1);
        // Outputs above 1 TiB: never in the interrupt window, never over the tables.
        let hpa = (1u64 << 40) | ((hraw % (1u64 << 39)) & !(sz - 1));
        let overlaps = maps
            .iter()
            .any(|m| iova < m.iova.0 + m.size.bytes() && m.iova.0 < iova + sz);
        let r = os.map(DOM, Iova(iova), Hpa(hpa), size, perms_of(p));
        if overlaps {
            prop_assert!(matches!(r, Err(OsError::Overlap { .. })), "{r:?}");
        } else {
            prop_assert!(r.is_ok(), "{r:?}");
            maps.push(Mapping {
                iova: Iova(iova),
                hpa: Hpa(hpa),
                size,
                perms: perms_of(p),
            });
        }
    }
    os.bring_up(BringUp::default()).unwrap();

    // Every mapping, at a random offset inside it, and the last byte's dword.
    for (k, m) in maps.iter().enumerate() {
        let off = (case.offsets[k % case.offsets.len()] % m.size.bytes()) & !3;
        for iova in [m.iova.0 + off, m.iova.0 + m.size.bytes() - 4] {
            let c = covering(&maps, iova);
            prop_assert_eq!(read(&mut os, DEV, iova), expect_read(c, iova, width));
            prop_assert_eq!(write(&mut os, DEV, iova), expect_write(c, iova, width));
        }
    }
    // Random addresses, mapped or not, in and beyond the AGAW.
    for &p in &case.probes {
        let iova = (p % (1u64 << (width + 1))) & !3;
        let c = covering(&maps, iova);
        prop_assert_eq!(read(&mut os, DEV, iova), expect_read(c, iova, width));
    }

    // Unmap a subset; the stale window allows old and new until the returned PSI is done.
    let mut removed = Vec::new();
    for (k, m) in maps.clone().iter().enumerate() {
        if !case.unmap[k % case.unmap.len()] {
            continue;
        }
        let u = os.unmap(DOM, m.iova, m.size).unwrap();
        prop_assert_eq!(u.mapping, *m);
        prop_assert_eq!(u.am, m.size.am());
        maps.retain(|x| x.iova != m.iova);
        removed.push(u);
    }
    for u in &removed {
        let m = u.mapping;
        let probe = m.iova.0 + m.size.bytes() / 2;
        let old = expect_read(Some(m), probe, width);
        let new = expect_read(covering(&maps, probe), probe, width);
        let a = evaluate(&mut os, &read_req(DEV, probe));
        prop_assert!(*a.fresh() == new, "fresh {:?} != {:?}", a.fresh(), new);
        prop_assert!(a.contains(&old), "stale {:?} missing from {:?}", old, a);
    }
    let reqs: Vec<InvRequest> = removed
        .iter()
        .map(|u| InvRequest::IotlbPage {
            did: u.did,
            addr: u.addr,
            am: u.am,
            ih: u.ih,
        })
        .collect();
    for chunk in reqs.chunks(64) {
        os.invalidate_qi(chunk, WaitKind::StatusWrite).unwrap();
    }
    for u in &removed {
        let m = u.mapping;
        for probe in [m.iova.0, m.iova.0 + m.size.bytes() - 4] {
            let new = expect_read(covering(&maps, probe), probe, width);
            let a = evaluate(&mut os, &read_req(DEV, probe));
            prop_assert!(a.is_single() && *a.fresh() == new, "{:?} vs {:?}", a, new);
            prop_assert_eq!(read(&mut os, DEV, probe), new);
        }
    }
    // What is still mapped still translates.
    for m in &maps {
        let iova = m.iova.0 + 8;
        prop_assert_eq!(read(&mut os, DEV, iova), expect_read(Some(*m), iova, width));
    }
    Ok(())
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(48)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn walk_matches_mappings(case in arb_case()) {
        run(case)?;
    }
}

#[test]
fn remap_stale_window_holds_old_and_new_translation() {
    for levels in [3u8, 4, 5] {
        let mut os = dma_setup_levels(levels);
        os.map(
            DOM,
            Iova(0x20_0000),
            Hpa(0x1_0000_0000),
            PageSize::Size2M,
            Perms::RW,
        )
        .unwrap();
        assert_eq!(read(&mut os, DEV, 0x20_1234 & !3), fwd(0x1_0000_1234 & !3));
        let u = os.unmap(DOM, Iova(0x20_0000), PageSize::Size2M).unwrap();
        os.map(
            DOM,
            Iova(0x20_0000),
            Hpa(0x2_0000_0000),
            PageSize::Size2M,
            Perms::RO,
        )
        .unwrap();
        let req = read_req(DEV, 0x20_1234 & !3);
        let a = evaluate(&mut os, &req);
        assert_eq!(*a.fresh(), fwd(0x2_0000_1234 & !3));
        assert!(a.contains(&fwd(0x1_0000_1234 & !3)), "{a:?}");
        os.invalidate(&[InvRequest::IotlbPage {
            did: u.did,
            addr: u.addr,
            am: u.am,
            ih: u.ih,
        }])
        .unwrap();
        let a = evaluate(&mut os, &req);
        assert!(a.is_single(), "{a:?}");
        // A write now faults (RO), where the old translation allowed it.
        assert_eq!(write(&mut os, DEV, 0x20_0000), dropped(0x05));
    }
}
