//! Remap an MSI through the RTL and check what the interrupt-remapping table entry does.
//!
//! The OS gives a device a remappable MSI (a handle into the IR table) and programs the IRTE with
//! the real vector and destination. The example checks the message the unit sends for it, the
//! source-ID check the IRTE asks for, retargeting the IRTE (with the interrupt-entry-cache
//! invalidation that makes the change visible), and the blocking of compatibility-format MSIs in
//! x2APIC mode.
//!
//! `cargo run --release --example msi_remap`

use iommu_cosim::lockstep::{Channel, Lockstep};
use iommu_driver::model::{Outcome, Request};
use iommu_driver::os::{BringUp, InvRequest, Iommu, IrSetup, MsiMessage, OsConfig, RemappedIrte};
use iommu_driver::vtd::fault::FaultReason;
use iommu_driver::Rid;

fn run() -> anyhow::Result<()> {
    let ls = Lockstep::builder().build()?;
    let mut os = Iommu::new(ls, OsConfig::default())?;
    // Queued invalidation and a 16-entry IR table with x2APIC destinations; no DMA remapping.
    os.bring_up(BringUp {
        qi: true,
        ir: Some(IrSetup::x2apic(3)),
        te: false,
    })?;
    let nvme = Rid::from_bdf(2, 0, 0);
    let other = Rid::from_bdf(4, 0, 0);

    // Vector 0x41 to x2APIC id 5, usable by the NVMe controller only (SVT=01).
    let index = os.alloc_irtes(1)?;
    os.set_irte_remapped(index, &RemappedIrte::new(0x41, 5).verify_requester(nvme))?;
    let msi = MsiMessage::remappable(index as u16, None);
    println!("device's MSI: {msi:?} (handle {index})");

    // The remapped message (spec B5): address 0xFEE0_0000 | APIC id[7:0] << 12; data = the
    // vector, delivery mode fixed (bits 10:8 = 0), level assert (bit 14), edge (bit 15 = 0).
    let e = os
        .platform_mut()
        .send(Request::interrupt(nvme, msi.addr, msi.data))?;
    assert_eq!(e.outcome, Outcome::interrupt(0xFEE0_5000, 0x4041));
    assert_eq!(e.channel(), Some(Channel::Irq));
    println!("remapped to {:?} in {} cycles", e.outcome, e.latency());

    // Another requester using the same handle fails the source-ID check: dropped with 26h.
    let e = os
        .platform_mut()
        .send(Request::interrupt(other, msi.addr, msi.data))?;
    assert_eq!(e.outcome, Outcome::dropped(FaultReason::IrSidCheckFailed));
    let rec = os.fault_records()?[0];
    assert_eq!((rec.sid(), rec.fi() >> 48), (other, u64::from(index)));
    println!("from {other:?}: {:?}", e.outcome);
    os.handle_faults()?;

    // Retarget to vector 0x52 on APIC id 7; the change is seen after the IEC invalidation.
    os.set_irte_remapped(index, &RemappedIrte::new(0x52, 7).verify_requester(nvme))?;
    os.invalidate(&[InvRequest::IecIndex {
        iidx: index as u16,
        im: 0,
    }])?;
    let e = os
        .platform_mut()
        .send(Request::interrupt(nvme, msi.addr, msi.data))?;
    assert_eq!(e.outcome, Outcome::interrupt(0xFEE0_7000, 0x4052));
    println!("after retargeting: {:?}", e.outcome);

    // A compatibility-format MSI is blocked in x2APIC mode (EIME=1): 25h.
    let compat = MsiMessage::compat(5, 0x41);
    let e = os
        .platform_mut()
        .send(Request::interrupt(nvme, compat.addr, compat.data))?;
    assert_eq!(
        e.outcome,
        Outcome::dropped(FaultReason::CompatInterruptBlocked)
    );
    println!("compatibility format: {:?}", e.outcome);

    os.platform_mut().finish();
    os.platform_mut().check()?;
    println!("PASS: no mismatch");
    Ok(())
}

fn main() -> anyhow::Result<()> {
    run()
}

#[cfg(test)]
mod tests {
    #[test]
    fn example_runs() {
        super::run().unwrap();
    }
}
