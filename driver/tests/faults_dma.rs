//! One named test per legacy DMA-remapping fault reason 1h..Eh (spec A8/A9/A10, decisions.md),
//! provoked through a TLP, with the exact FRCD contents read through the registers, FSTS, the
//! outcome (UR/CA completion for reads, drop for writes), and the FPD-suppression variant of every
//! qualified code. Expected values are assembled from the spec's FRCD layout (A10):
//! F[127] T[126] AT[125:124] FR[103:96] SID[79:64] FI[63:12].

mod os_common;
use iommu_driver::os::GlobalCommand;
use os_common::*;

use iommu_driver::model::{Msi, Outcome};
use iommu_driver::os::{unit, DeviceAssignment, PageSize, Perms};
use iommu_driver::platform::Platform;
use iommu_driver::{DomainId, Hpa, Iova, Rid};

/// A device on bus 5, which has no root entry.
const NO_ROOT: Rid = Rid(0x0500);
/// 03:03.0: bus 3 has a context table (DEV is there) but this entry is zero.
const NO_CTX: Rid = Rid(0x0318);
const ADDR: u64 = IOVA + 0x10;

/// Expect exactly one recorded fault: outcome, FRCD[0], FSTS (PPF, FRI=0), one fault event.
fn expect_recorded(os: &mut Os, got: Outcome, want: Outcome, frcd0: u128) {
    assert_eq!(got, want);
    assert_eq!(frcd(os, 0), frcd0, "FRCD[0] = {:#034x}", frcd(os, 0));
    assert_eq!(frcd(os, 1), 0, "only one record");
    assert_eq!(fsts(os), fsts_ppf(0), "FSTS: PPF=1, FRI=0");
    assert_eq!(
        events(os),
        vec![Msi {
            addr: FE_ADDR,
            data: FE_DATA
        }]
    );
}

/// Expect the fault to be suppressed (FPD=1 and a qualified reason): same outcome, nothing logged.
fn expect_suppressed(os: &mut Os, got: Outcome, want: Outcome) {
    assert_eq!(got, want);
    assert_eq!(frcd(os, 0), 0, "FRCD[0] must stay clear");
    assert_eq!(fsts(os), 0, "FSTS must stay clear");
    assert!(events(os).is_empty(), "no fault event");
}

/// Re-assign DEV with FPD=1 (same domain, TT=00).
fn set_fpd(os: &mut Os) {
    os.assign_device_with(DEV, DeviceAssignment::translated(DOM).with_fpd(true))
        .unwrap();
    os.invalidate(&[
        unit::InvRequest::ContextGlobal,
        unit::InvRequest::IotlbGlobal,
    ])
    .unwrap();
}

#[test]
fn mapped_read_and_write_forward() {
    let mut os = dma_setup();
    assert_eq!(read(&mut os, DEV, ADDR), fwd(HPA + 0x10));
    assert_eq!(write(&mut os, DEV, ADDR), fwd(HPA + 0x10));
    assert_eq!(fsts(&mut os), 0);
}

// ---- 1h root entry not present (not qualified) ----

#[test]
fn fault_01h_root_not_present() {
    let mut os = dma_setup();
    let o = read(&mut os, NO_ROOT, ADDR);
    // FR=01, SID=0x0500, T=1 (read), AT=0, FI=0x4000_0000.
    expect_recorded(
        &mut os,
        o,
        ur(0x01),
        0xC000_0001_0000_0500_0000_0000_4000_0000,
    );
}

#[test]
fn fault_01h_root_not_present_write_dropped() {
    let mut os = dma_setup();
    let o = write(&mut os, NO_ROOT, ADDR);
    // T=0 for a write: qword1 = 0x8000_0001_0000_0500.
    expect_recorded(
        &mut os,
        o,
        dropped(0x01),
        0x8000_0001_0000_0500_0000_0000_4000_0000,
    );
}

// ---- 2h context entry not present (qualified; FPD latched even with P=0) ----

#[test]
fn fault_02h_context_not_present() {
    let mut os = dma_setup();
    let o = read(&mut os, NO_CTX, ADDR);
    expect_recorded(&mut os, o, ur(0x02), frcd_dma(0x02, NO_CTX, ADDR, true, 0));
    assert_eq!(frcd(&mut os, 0), 0xC000_0002_0000_0318_0000_0000_4000_0000);
}

#[test]
fn fault_02h_context_not_present_write_dropped() {
    let mut os = dma_setup();
    let o = write(&mut os, NO_CTX, ADDR);
    expect_recorded(
        &mut os,
        o,
        dropped(0x02),
        frcd_dma(0x02, NO_CTX, ADDR, false, 0),
    );
}

#[test]
fn fault_02h_context_not_present_fpd_suppressed() {
    let mut os = dma_setup();
    // P=0, FPD=1 (spec A8 step 5: FPD is latched even when P=0).
    os.write_context_entry_raw(NO_CTX, 0b10).unwrap();
    let o = read(&mut os, NO_CTX, ADDR);
    expect_suppressed(&mut os, o, ur(0x02));
}

// ---- 3h invalid context entry (qualified) ----

/// Context entry of DEV with TT=11 (reserved): qword0 = SLPTPTR | 3<<2 | FPD<<1 | 1.
fn ctx_tt11(os: &mut Os, fpd: bool) {
    let root = os.domain(DOM).unwrap().root.0;
    let lo = root | 3 << 2 | (fpd as u64) << 1 | 1;
    let hi = (DOM.0 as u64) << 8 | 2;
    os.write_context_entry_raw(DEV, (hi as u128) << 64 | lo as u128)
        .unwrap();
    os.invalidate(&[unit::InvRequest::ContextGlobal]).unwrap();
}

#[test]
fn fault_03h_invalid_context_tt11() {
    let mut os = dma_setup();
    ctx_tt11(&mut os, false);
    let o = read(&mut os, DEV, ADDR);
    expect_recorded(&mut os, o, ur(0x03), frcd_dma(0x03, DEV, ADDR, true, 0));
}

#[test]
fn fault_03h_invalid_context_tt11_write_dropped() {
    let mut os = dma_setup();
    ctx_tt11(&mut os, false);
    let o = write(&mut os, DEV, ADDR);
    expect_recorded(
        &mut os,
        o,
        dropped(0x03),
        frcd_dma(0x03, DEV, ADDR, false, 0),
    );
}

#[test]
fn fault_03h_invalid_context_tt11_fpd_suppressed() {
    let mut os = dma_setup();
    ctx_tt11(&mut os, true);
    let o = read(&mut os, DEV, ADDR);
    expect_suppressed(&mut os, o, ur(0x03));
}

#[test]
fn fault_03h_aw_not_in_sagaw() {
    // SAGAW = 0b01110: AW=0 (2-level, 30-bit) is not supported.
    let mut os = dma_setup();
    let a = DeviceAssignment {
        aw: Some(0),
        ..DeviceAssignment::translated(DOM)
    };
    os.assign_device_with(DEV, a).unwrap();
    os.invalidate(&[unit::InvRequest::ContextGlobal]).unwrap();
    let o = read(&mut os, DEV, ADDR);
    expect_recorded(&mut os, o, ur(0x03), frcd_dma(0x03, DEV, ADDR, true, 0));
}

#[test]
fn fault_03h_unreadable_slptptr_is_ca() {
    let mut os = dma_setup();
    let root = os.domain(DOM).unwrap().root;
    os.mem().inject_error(root, 4096);
    let o = read(&mut os, DEV, ADDR);
    // decisions.md: 3h caused by an unreadable SLPTPTR is a table-read error -> CA.
    expect_recorded(&mut os, o, ca(0x03), frcd_dma(0x03, DEV, ADDR, true, 0));
}

#[test]
fn fault_03h_unreadable_slptptr_fpd_suppressed() {
    let mut os = dma_setup();
    set_fpd(&mut os);
    let root = os.domain(DOM).unwrap().root;
    os.mem().inject_error(root, 4096);
    let o = read(&mut os, DEV, ADDR);
    expect_suppressed(&mut os, o, ca(0x03));
}

// ---- 4h address beyond AGAW (qualified) ----

#[test]
fn fault_04h_address_beyond_agaw() {
    // 3-level (AW=1, 39-bit): 2^39 is the first address out of range.
    let mut os = dma_setup_levels(3);
    let a = 1u64 << 39;
    let o = read(&mut os, DEV, a);
    // FI = 0x80_0000_0000.
    expect_recorded(
        &mut os,
        o,
        ur(0x04),
        0xC000_0004_0000_0310_0000_0080_0000_0000,
    );
}

#[test]
fn fault_04h_address_beyond_agaw_write_dropped() {
    let mut os = dma_setup_levels(3);
    let a = (1u64 << 39) + 0x5000;
    let o = write(&mut os, DEV, a);
    expect_recorded(&mut os, o, dropped(0x04), frcd_dma(0x04, DEV, a, false, 0));
}

#[test]
fn fault_04h_address_beyond_agaw_fpd_suppressed() {
    let mut os = dma_setup_levels(3);
    set_fpd(&mut os);
    let o = read(&mut os, DEV, 1 << 39);
    expect_suppressed(&mut os, o, ur(0x04));
}

// ---- 5h write without W / 6h read without R (qualified) ----

const RO_IOVA: u64 = IOVA + 0x1000;
const WO_IOVA: u64 = IOVA + 0x2000;

fn perm_setup() -> Os {
    let mut os = dma_setup();
    os.map(
        DOM,
        Iova(RO_IOVA),
        Hpa(HPA + 0x1000),
        PageSize::Size4K,
        Perms::RO,
    )
    .unwrap();
    os.map(
        DOM,
        Iova(WO_IOVA),
        Hpa(HPA + 0x2000),
        PageSize::Size4K,
        Perms::WO,
    )
    .unwrap();
    os
}

#[test]
fn fault_05h_write_not_permitted() {
    let mut os = perm_setup();
    assert_eq!(read(&mut os, DEV, RO_IOVA + 8), fwd(HPA + 0x1008));
    let o = write(&mut os, DEV, RO_IOVA + 8);
    // T=0 (write), FI = 0x4000_1000.
    expect_recorded(
        &mut os,
        o,
        dropped(0x05),
        0x8000_0005_0000_0310_0000_0000_4000_1000,
    );
}

#[test]
fn fault_05h_write_not_permitted_fpd_suppressed() {
    let mut os = perm_setup();
    set_fpd(&mut os);
    let o = write(&mut os, DEV, RO_IOVA);
    expect_suppressed(&mut os, o, dropped(0x05));
}

#[test]
fn fault_06h_read_not_permitted() {
    let mut os = perm_setup();
    assert_eq!(write(&mut os, DEV, WO_IOVA + 4), fwd(HPA + 0x2004));
    let o = read(&mut os, DEV, WO_IOVA + 4);
    expect_recorded(
        &mut os,
        o,
        ur(0x06),
        0xC000_0006_0000_0310_0000_0000_4000_2000,
    );
}

#[test]
fn fault_06h_read_not_permitted_fpd_suppressed() {
    let mut os = perm_setup();
    set_fpd(&mut os);
    let o = read(&mut os, DEV, WO_IOVA);
    expect_suppressed(&mut os, o, ur(0x06));
}

#[test]
fn fault_06h_non_leaf_without_r() {
    // Permission is the AND over levels: clear R in the level-4 entry (keep W).
    let mut os = dma_setup();
    let pa = os.pte_addr(DOM, Iova(IOVA), 4).unwrap();
    let e = os.mem().read_u64(pa).unwrap();
    os.mem().write_u64(pa, e & !1).unwrap();
    os.invalidate(&[unit::InvRequest::IotlbGlobal]).unwrap();
    let o = read(&mut os, DEV, ADDR);
    expect_recorded(&mut os, o, ur(0x06), frcd_dma(0x06, DEV, ADDR, true, 0));
}

// ---- 7h error reading a lower-level SL table (qualified; CA) ----

fn poison_level3(os: &mut Os) {
    // The level-3 entry on IOVA's path lives in the table the level-4 entry points to.
    let pa = os.pte_addr(DOM, Iova(IOVA), 3).unwrap();
    os.mem().inject_error(pa, 8);
}

#[test]
fn fault_07h_sl_table_read_error() {
    let mut os = dma_setup();
    poison_level3(&mut os);
    let o = read(&mut os, DEV, ADDR);
    expect_recorded(&mut os, o, ca(0x07), frcd_dma(0x07, DEV, ADDR, true, 0));
}

#[test]
fn fault_07h_sl_table_read_error_write_dropped() {
    let mut os = dma_setup();
    poison_level3(&mut os);
    let o = write(&mut os, DEV, ADDR);
    expect_recorded(
        &mut os,
        o,
        dropped(0x07),
        frcd_dma(0x07, DEV, ADDR, false, 0),
    );
}

#[test]
fn fault_07h_sl_table_read_error_fpd_suppressed() {
    let mut os = dma_setup();
    set_fpd(&mut os);
    poison_level3(&mut os);
    let o = read(&mut os, DEV, ADDR);
    expect_suppressed(&mut os, o, ca(0x07));
}

// ---- 8h error reading the root entry (not qualified; CA) ----

#[test]
fn fault_08h_root_table_read_error() {
    let mut os = dma_setup();
    let re = os.root_entry_addr(DEV.bus());
    os.mem().inject_error(re, 16);
    let o = read(&mut os, DEV, ADDR);
    expect_recorded(&mut os, o, ca(0x08), frcd_dma(0x08, DEV, ADDR, true, 0));
}

#[test]
fn fault_08h_root_table_read_error_write_dropped() {
    let mut os = dma_setup();
    let re = os.root_entry_addr(DEV.bus());
    os.mem().inject_error(re, 16);
    let o = write(&mut os, DEV, ADDR);
    expect_recorded(
        &mut os,
        o,
        dropped(0x08),
        frcd_dma(0x08, DEV, ADDR, false, 0),
    );
}

// ---- 9h error reading the context entry (not qualified; CA) ----

#[test]
fn fault_09h_context_table_read_error() {
    let mut os = dma_setup();
    let ce = os.context_entry_addr(DEV).unwrap();
    os.mem().inject_error(ce, 16);
    let o = read(&mut os, DEV, ADDR);
    expect_recorded(&mut os, o, ca(0x09), frcd_dma(0x09, DEV, ADDR, true, 0));
}

#[test]
fn fault_09h_context_table_read_error_write_dropped() {
    let mut os = dma_setup();
    let ce = os.context_entry_addr(DEV).unwrap();
    os.mem().inject_error(ce, 16);
    let o = write(&mut os, DEV, ADDR);
    expect_recorded(
        &mut os,
        o,
        dropped(0x09),
        frcd_dma(0x09, DEV, ADDR, false, 0),
    );
}

// ---- Ah reserved bits in the root entry (not qualified) ----

#[test]
fn fault_0ah_root_entry_reserved() {
    let mut os = dma_setup();
    let ctp = os.context_table(DEV.bus()).unwrap().0;
    // Bit 1 is reserved (A5: bits 11:1).
    os.write_root_entry_raw(DEV.bus(), (ctp | 0b11) as u128)
        .unwrap();
    os.invalidate(&[unit::InvRequest::ContextGlobal]).unwrap();
    let o = read(&mut os, DEV, ADDR);
    expect_recorded(&mut os, o, ur(0x0A), frcd_dma(0x0A, DEV, ADDR, true, 0));
}

#[test]
fn fault_0ah_root_entry_reserved_high_qword_write_dropped() {
    let mut os = dma_setup();
    let ctp = os.context_table(DEV.bus()).unwrap().0;
    // Bits 127:64 are reserved in legacy mode.
    os.write_root_entry_raw(DEV.bus(), 1u128 << 64 | (ctp | 1) as u128)
        .unwrap();
    os.invalidate(&[unit::InvRequest::ContextGlobal]).unwrap();
    let o = write(&mut os, DEV, ADDR);
    expect_recorded(
        &mut os,
        o,
        dropped(0x0A),
        frcd_dma(0x0A, DEV, ADDR, false, 0),
    );
}

#[test]
fn fault_0ah_root_entry_ctp_beyond_haw() {
    let mut os = dma_setup();
    let ctp = os.context_table(DEV.bus()).unwrap().0;
    // HAW = 48: CTP bit 48 is reserved.
    os.write_root_entry_raw(DEV.bus(), (ctp | 1 << 48 | 1) as u128)
        .unwrap();
    os.invalidate(&[unit::InvRequest::ContextGlobal]).unwrap();
    let o = read(&mut os, DEV, ADDR);
    expect_recorded(&mut os, o, ur(0x0A), frcd_dma(0x0A, DEV, ADDR, true, 0));
}

// ---- Bh reserved bits in the context entry (not qualified: FPD does not suppress) ----

fn ctx_reserved(os: &mut Os, fpd: bool) {
    let root = os.domain(DOM).unwrap().root.0;
    // qword0 bit 4 is reserved (A6: bits 11:4).
    let lo = root | 1 << 4 | (fpd as u64) << 1 | 1;
    let hi = (DOM.0 as u64) << 8 | 2;
    os.write_context_entry_raw(DEV, (hi as u128) << 64 | lo as u128)
        .unwrap();
    os.invalidate(&[unit::InvRequest::ContextGlobal]).unwrap();
}

#[test]
fn fault_0bh_context_entry_reserved() {
    let mut os = dma_setup();
    ctx_reserved(&mut os, false);
    let o = read(&mut os, DEV, ADDR);
    expect_recorded(&mut os, o, ur(0x0B), frcd_dma(0x0B, DEV, ADDR, true, 0));
}

#[test]
fn fault_0bh_context_entry_reserved_not_suppressed_by_fpd() {
    let mut os = dma_setup();
    ctx_reserved(&mut os, true);
    let o = write(&mut os, DEV, ADDR);
    expect_recorded(
        &mut os,
        o,
        dropped(0x0B),
        frcd_dma(0x0B, DEV, ADDR, false, 0),
    );
}

#[test]
fn fault_0bh_context_entry_reserved_qword1_bit7() {
    let mut os = dma_setup();
    let root = os.domain(DOM).unwrap().root.0;
    let hi = (DOM.0 as u64) << 8 | 1 << 7 | 2;
    os.write_context_entry_raw(DEV, (hi as u128) << 64 | (root | 1) as u128)
        .unwrap();
    os.invalidate(&[unit::InvRequest::ContextGlobal]).unwrap();
    let o = read(&mut os, DEV, ADDR);
    expect_recorded(&mut os, o, ur(0x0B), frcd_dma(0x0B, DEV, ADDR, true, 0));
}

// ---- Ch reserved bits in an SL entry (qualified) ----

fn leaf_snp(os: &mut Os) {
    // SNP (bit 11) is reserved while ECAP.SC=0 (decisions.md).
    os.write_pte_raw(DOM, Iova(IOVA), 1, HPA | 1 << 11 | 0b11)
        .unwrap();
    os.invalidate(&[unit::InvRequest::IotlbGlobal]).unwrap();
}

#[test]
fn fault_0ch_sl_entry_reserved() {
    let mut os = dma_setup();
    leaf_snp(&mut os);
    let o = read(&mut os, DEV, ADDR);
    expect_recorded(&mut os, o, ur(0x0C), frcd_dma(0x0C, DEV, ADDR, true, 0));
}

#[test]
fn fault_0ch_sl_entry_reserved_write_dropped() {
    let mut os = dma_setup();
    leaf_snp(&mut os);
    let o = write(&mut os, DEV, ADDR);
    expect_recorded(
        &mut os,
        o,
        dropped(0x0C),
        frcd_dma(0x0C, DEV, ADDR, false, 0),
    );
}

#[test]
fn fault_0ch_sl_entry_reserved_fpd_suppressed() {
    let mut os = dma_setup();
    set_fpd(&mut os);
    leaf_snp(&mut os);
    let o = read(&mut os, DEV, ADDR);
    expect_suppressed(&mut os, o, ur(0x0C));
}

#[test]
fn fault_0ch_ps_at_level4() {
    // PS is reserved at level 4 (A7).
    let mut os = dma_setup();
    let pa = os.pte_addr(DOM, Iova(IOVA), 4).unwrap();
    let e = os.mem().read_u64(pa).unwrap();
    os.mem().write_u64(pa, e | 1 << 7).unwrap();
    os.invalidate(&[unit::InvRequest::IotlbGlobal]).unwrap();
    let o = read(&mut os, DEV, ADDR);
    expect_recorded(&mut os, o, ur(0x0C), frcd_dma(0x0C, DEV, ADDR, true, 0));
}

#[test]
fn fault_0ch_permission_checked_before_reserved() {
    // A8 step 8: a level with the needed bit clear reports 5h/6h even if reserved bits are set.
    let mut os = dma_setup();
    // Leaf: R=1, W=0, SNP=1 (reserved). A write must report 5h, a read Ch.
    os.write_pte_raw(DOM, Iova(IOVA), 1, HPA | 1 << 11 | 0b01)
        .unwrap();
    os.invalidate(&[unit::InvRequest::IotlbGlobal]).unwrap();
    let o = write(&mut os, DEV, ADDR);
    expect_recorded(
        &mut os,
        o,
        dropped(0x05),
        frcd_dma(0x05, DEV, ADDR, false, 0),
    );
}

// ---- Dh translation / translated request blocked (qualified) ----

#[test]
fn fault_0dh_translated_request_blocked() {
    let mut os = dma_setup();
    // AT=10 (translated) with TT=00.
    let req = read_req_at(DEV, ADDR, 0b10);
    let o = os.platform_mut().process(&req);
    // AT=2 in FRCD[125:124]: qword1 = 0xE000_000D_0000_0310.
    expect_recorded(
        &mut os,
        o,
        ur(0x0D),
        0xE000_000D_0000_0310_0000_0000_4000_0000,
    );
}

#[test]
fn fault_0dh_translation_request_blocked() {
    let mut os = dma_setup();
    // AT=01 (translation request) with TT=00 (DT=0 so TT=01 cannot exist).
    let req = read_req_at(DEV, ADDR, 0b01);
    let o = os.platform_mut().process(&req);
    expect_recorded(&mut os, o, ur(0x0D), frcd_dma(0x0D, DEV, ADDR, true, 1));
}

#[test]
fn fault_0dh_translated_request_blocked_fpd_suppressed() {
    let mut os = dma_setup();
    set_fpd(&mut os);
    let req = read_req_at(DEV, ADDR, 0b10);
    let o = os.platform_mut().process(&req);
    expect_suppressed(&mut os, o, ur(0x0D));
}

// ---- Eh output in the interrupt range (qualified) ----

const IRQ_IOVA: u64 = IOVA + 0x10_0000;

fn map_into_irq_window(os: &mut Os) {
    os.map(
        DOM,
        Iova(IRQ_IOVA),
        Hpa(0xFEE0_0000),
        PageSize::Size4K,
        Perms::RW,
    )
    .unwrap();
}

#[test]
fn fault_0eh_output_in_interrupt_range() {
    let mut os = dma_setup();
    map_into_irq_window(&mut os);
    let o = read(&mut os, DEV, IRQ_IOVA + 0x40);
    expect_recorded(
        &mut os,
        o,
        ur(0x0E),
        0xC000_000E_0000_0310_0000_0000_4010_0000,
    );
}

#[test]
fn fault_0eh_output_in_interrupt_range_write_dropped() {
    let mut os = dma_setup();
    map_into_irq_window(&mut os);
    let o = write(&mut os, DEV, IRQ_IOVA);
    expect_recorded(
        &mut os,
        o,
        dropped(0x0E),
        frcd_dma(0x0E, DEV, IRQ_IOVA, false, 0),
    );
}

#[test]
fn fault_0eh_output_in_interrupt_range_fpd_suppressed() {
    let mut os = dma_setup();
    set_fpd(&mut os);
    map_into_irq_window(&mut os);
    let o = read(&mut os, DEV, IRQ_IOVA);
    expect_suppressed(&mut os, o, ur(0x0E));
}

#[test]
fn fault_0eh_large_page_overlapping_window() {
    // A 2 MiB leaf at 0xFEE0_0000 overlaps the window; any address inside faults.
    let mut os = dma_setup();
    os.map(
        DOM,
        Iova(0x8000_0000),
        Hpa(0xFEE0_0000),
        PageSize::Size2M,
        Perms::RW,
    )
    .unwrap();
    let o = read(&mut os, DEV, 0x8010_0000);
    expect_recorded(
        &mut os,
        o,
        ur(0x0E),
        frcd_dma(0x0E, DEV, 0x8010_0000, true, 0),
    );
}

// ---- 30h invalid root-table type: latched RTADDR.TTM != 00 (not qualified) ----

/// Point RTADDR at the same root table with TTM = `ttm` (bits 11:10, spec A4) and latch it with
/// GCMD.SRTP, as software would.
fn latch_ttm(os: &mut Os, ttm: u64) {
    let v = os.root_table().0 | ttm << 10;
    os.platform_mut().write64(unit::RTADDR_REG, v).unwrap();
    os.gcmd(GlobalCommand::SetRootTablePointer, true).unwrap();
}

#[test]
fn fault_30h_invalid_ttm() {
    let mut os = dma_setup();
    // TTM=10 is reserved (A4); this unit supports only legacy mode (00).
    latch_ttm(&mut os, 0b10);
    let req = read_req(DEV, ADDR);
    // Checked before the root entry is read, so no cached entry can give another outcome.
    assert_eq!(evaluate(&mut os, &req).to_vec(), vec![ur(0x30)]);
    let o = os.platform_mut().process(&req);
    // F=1, T=1 (read), AT=0, FR=30h, SID=0x0310, FI=0x4000_0000: UR completion.
    expect_recorded(
        &mut os,
        o,
        ur(0x30),
        0xC000_0030_0000_0310_0000_0000_4000_0000,
    );
    assert_eq!(
        o,
        Outcome::Complete {
            status: iommu_driver::tlp::CplStatus::Ur,
            fault: Some(iommu_driver::vtd::fault::FaultReason::InvalidRootTableType)
        }
    );
}

#[test]
fn fault_30h_invalid_ttm_write_dropped() {
    let mut os = dma_setup();
    // TTM=11 (abort-DMA) without ECAP.ADMS is invalid too.
    latch_ttm(&mut os, 0b11);
    let o = write(&mut os, DEV, ADDR + 0x2000);
    // T=0 for a write; FI = 0x4000_2000.
    expect_recorded(
        &mut os,
        o,
        dropped(0x30),
        0x8000_0030_0000_0310_0000_0000_4000_2000,
    );
}

#[test]
fn fault_30h_scalable_ttm_not_suppressed_by_fpd() {
    // TTM=01 (scalable) in a unit without scalable mode; FPD=1 in DEV's context entry does not
    // apply (30h is not qualified and no context entry is read).
    let mut os = dma_setup();
    set_fpd(&mut os);
    latch_ttm(&mut os, 0b01);
    let o = read(&mut os, NO_ROOT, ADDR);
    expect_recorded(
        &mut os,
        o,
        ur(0x30),
        0xC000_0030_0000_0500_0000_0000_4000_0000,
    );
    // Latching TTM=00 again restores translation.
    latch_ttm(&mut os, 0b00);
    assert_eq!(read(&mut os, DEV, ADDR), fwd(HPA + 0x10));
}

// ---- fault event: IM=0 sends, IM=1 latches IP ----

#[test]
fn fault_event_msi_with_im0() {
    let mut os = dma_setup();
    os.setup_fault_event(0x1_FEE0_2000, 0x55, false).unwrap();
    read(&mut os, NO_ROOT, ADDR);
    // addr = FEUADDR<<32 | FEADDR.
    assert_eq!(
        events(&mut os),
        vec![Msi {
            addr: 0x1_FEE0_2000,
            data: 0x55
        }]
    );
    assert_eq!(fectl(&mut os), 0, "IM=0, IP cleared after sending");
}

#[test]
fn fault_event_ip_latched_with_im1() {
    let mut os = dma_setup();
    os.setup_fault_event(FE_ADDR, FE_DATA, true).unwrap();
    read(&mut os, NO_ROOT, ADDR);
    assert!(events(&mut os).is_empty(), "masked: no MSI");
    assert_eq!(fectl(&mut os), unit::CTL_IM | unit::CTL_IP);
    // Unmasking while IP=1 sends the pending event and clears IP (A10 step 7).
    os.platform_mut().write32(unit::FECTL_REG, 0).unwrap();
    assert_eq!(
        events(&mut os),
        vec![Msi {
            addr: FE_ADDR,
            data: FE_DATA
        }]
    );
    assert_eq!(fectl(&mut os), 0);
}

#[test]
fn fault_event_ip_cleared_when_faults_handled_while_masked() {
    let mut os = dma_setup();
    os.setup_fault_event(FE_ADDR, FE_DATA, true).unwrap();
    read(&mut os, NO_ROOT, ADDR);
    assert_eq!(fectl(&mut os), unit::CTL_IM | unit::CTL_IP);
    let rep = os.handle_faults().unwrap();
    assert_eq!(rep.records.len(), 1);
    assert_eq!(fsts(&mut os), 0);
    // No status left: IP clears; unmasking sends nothing.
    assert_eq!(fectl(&mut os), unit::CTL_IM);
    os.platform_mut().write32(unit::FECTL_REG, 0).unwrap();
    assert!(events(&mut os).is_empty());
}

#[test]
fn fault_handler_decodes_with_vtd_frcd() {
    let mut os = perm_setup();
    write(&mut os, DEV, RO_IOVA);
    let rep = os.handle_faults().unwrap();
    assert_eq!(rep.fsts, fsts_ppf(0));
    assert_eq!(rep.records.len(), 1);
    let r = rep.records[0].record();
    assert_eq!(
        (r.fr, r.sid, r.fi, r.t, r.at, r.f, r.pp),
        (0x05, DEV, RO_IOVA, false, 0, true, false)
    );
    // F cleared, PPF cleared.
    assert_eq!(frcd(&mut os, 0) >> 127, 0);
    assert_eq!(fsts(&mut os), 0);
    let _ = DomainId(0);
}

// ---- atomics, AGAW at MGAW, interrupt-window reads, malformed TLPs ----

fn atomic_req(rid: Rid, addr: u64) -> iommu_driver::model::Request {
    let h = iommu_driver::tlp::atomic(iommu_driver::tlp::RequestKind::FetchAdd, rid, 0x21, addr, 4)
        .unwrap();
    iommu_driver::model::Request {
        hdr: h.encode(),
        data0: 1,
    }
}

#[test]
fn fault_05h_atomic_needs_write_permission() {
    // A8 step 10 + decisions: an atomic needs R and W; W missing -> 5h; non-posted -> UR; T=1.
    let mut os = perm_setup();
    let o = os.platform_mut().process(&atomic_req(DEV, RO_IOVA + 4));
    // Decoded by hand: F=1 T=1 (127:126) FR=05 (103:96) | T2=1 (92) SID=0310 | FI=RO_IOVA page.
    // {T,T2} = 11 marks an AtomicOp (EDK2 Vtd.h, VirtualBox); a read would have T2=0.
    expect_recorded(
        &mut os,
        o,
        ur(0x05),
        0xC000_0005_1000_0310_0000_0000_0000_0000 | RO_IOVA as u128,
    );
}

#[test]
fn fault_06h_atomic_needs_read_permission() {
    let mut os = perm_setup();
    let o = os.platform_mut().process(&atomic_req(DEV, WO_IOVA));
    expect_recorded(
        &mut os,
        o,
        ur(0x06),
        0xC000_0006_1000_0310_0000_0000_0000_0000 | WO_IOVA as u128,
    );
    // With R and W the atomic is forwarded.
    assert_eq!(
        os.platform_mut().process(&atomic_req(DEV, ADDR)),
        fwd(HPA + 0x10)
    );
}

#[test]
fn fault_04h_five_level_limit_is_mgaw() {
    // 5-level: AGAW 57 = MGAW+1; 2^57 - 4 is in range (unmapped: 6h), 2^57 is 4h.
    let mut os = dma_setup_levels(5);
    let top = (1u64 << 57) - 0x1000;
    os.map(
        DOM,
        Iova(top),
        Hpa(0x9000_0000),
        PageSize::Size4K,
        Perms::RW,
    )
    .unwrap();
    assert_eq!(read(&mut os, DEV, top + 0xFFC), fwd(0x9000_0FFC));
    let o = read(&mut os, DEV, 1 << 57);
    expect_recorded(&mut os, o, ur(0x04), frcd_dma(0x04, DEV, 1 << 57, true, 0));
}

#[test]
fn interrupt_window_read_is_ur_without_fault() {
    let mut os = dma_setup();
    let o = read(&mut os, DEV, 0xFEE0_0000);
    assert_eq!(
        o,
        Outcome::Complete {
            status: iommu_driver::tlp::CplStatus::Ur,
            fault: None
        }
    );
    assert_eq!(fsts(&mut os), 0);
    assert_eq!(frcd(&mut os, 0), 0);
    // The window ends at 0xFEEF_FFFF: the next page is ordinary DMA (unmapped here: 6h).
    assert_eq!(read(&mut os, DEV, 0xFEF0_0000), ur(0x06));
}

#[test]
fn malformed_tlp_is_ur_without_fault() {
    let mut os = dma_setup();
    let mut req = read_req(DEV, ADDR);
    // AT=11 is reserved (C6): DW0 bits 11:10.
    req.hdr[0] |= 0b11 << 10;
    let o = os.platform_mut().process(&req);
    assert_eq!(
        o,
        Outcome::Complete {
            status: iommu_driver::tlp::CplStatus::Ur,
            fault: None
        }
    );
    assert_eq!(fsts(&mut os), 0);
    // Malformed-TLP counter at 0x348.
    assert_eq!(reg64(&mut os, 0x348), 1);
}
