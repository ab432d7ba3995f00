//! A directed DMA test against the RTL, checked in lockstep with the golden model.
//!
//! One device, one domain, two pages. A read is translated (and its 3DW header leaves as 4DW,
//! since the page sits above 4 GiB); a write to a read-only page is dropped with fault 5h; a read
//! of an unmapped page is answered with an Unsupported Request completion and fault 6h; the two
//! fault records are then listed without clearing them.
//!
//! `cargo run --release --example directed_dma`

use iommu_cosim::lockstep::{Channel, Lockstep};
use iommu_driver::model::{Outcome, Request};
use iommu_driver::os::{BringUp, Iommu, OsConfig, PageSize, Perms};
use iommu_driver::tlp::CplStatus;
use iommu_driver::vtd::fault::FaultReason;
use iommu_driver::{DomainId, Hpa, Iova, Rid};

fn run() -> anyhow::Result<()> {
    // The RTL with 100-cycle memory, driven by the same OS driver as the model.
    let ls = Lockstep::builder().mem_latency(100).build()?;
    let mut os = Iommu::new(ls, OsConfig::default())?;
    let nic = Rid::from_bdf(3, 0, 0);
    let dom = DomainId(1);
    os.create_domain(dom, 4)?;
    os.assign_device(nic, dom)?;
    os.map(
        dom,
        Iova(0x10_0000),
        Hpa(0x1_2345_6000),
        PageSize::Size4K,
        Perms::RW,
    )?;
    os.map(
        dom,
        Iova(0x20_0000),
        Hpa(0x8000_0000),
        PageSize::Size4K,
        Perms::RO,
    )?;
    os.bring_up(BringUp::default())?;
    let unit = os.platform_mut();

    // A 64-byte read: forwarded to the translated address, as a 4DW header.
    let e = unit.send(Request::read(nic, 0x10_0040, 64)?)?;
    assert_eq!(e.outcome, Outcome::forward(Hpa(0x1_2345_6040)));
    let dn = e.downstream().expect("a translated request leaves on dn")?;
    assert!(dn.four_dw, "an address above 4 GiB needs the 4DW format");
    assert_eq!(
        (dn.address, dn.length, dn.requester_id),
        (0x1_2345_6040, 16, nic)
    );
    println!(
        "read:  {:?} on {:?}, {} cycles (page walk)",
        e.outcome,
        e.channel(),
        e.latency()
    );
    let again = unit.send(Request::read(nic, 0x10_0080, 64)?)?;
    println!("read:  {} cycles (IOTLB hit)", again.latency());

    // A write to the read-only page: a posted request, so dropped with nothing on any channel.
    let e = unit.send(Request::write(nic, 0x20_0000, 4, 0xDEAD_BEEF)?)?;
    assert_eq!(e.outcome, Outcome::dropped(FaultReason::WriteNotPermitted));
    assert_eq!(e.channel(), None);
    println!("write: {:?}", e.outcome);

    // A read of an unmapped page: a UR completion back to the device.
    let e = unit.send(Request::read(nic, 0x30_0000, 4)?)?;
    assert_eq!(e.outcome, Outcome::ur(FaultReason::ReadNotPermitted));
    assert_eq!(e.channel(), Some(Channel::Cpl));
    let cpl = e.completion().expect("a completion")?;
    assert_eq!((cpl.status, cpl.requester_id), (CplStatus::Ur, nic));
    println!("read:  {:?}, completion {:?}", e.outcome, cpl.status);

    // The fault records, read without clearing them (the model's records were compared too).
    let recs = os.fault_records()?;
    let seen: Vec<_> = recs
        .iter()
        .map(|r| (r.reason(), r.sid(), r.fi(), r.t()))
        .collect();
    assert_eq!(
        seen,
        [
            (Some(FaultReason::WriteNotPermitted), nic, 0x20_0000, false),
            (Some(FaultReason::ReadNotPermitted), nic, 0x30_0000, true),
        ]
    );
    for r in &recs {
        println!("FRCD{}: {:?}", r.index, r.record());
    }
    // Still there: the fault handler reads and clears them.
    assert_eq!(os.handle_faults()?.records.len(), 2);
    os.platform_mut().finish();
    os.platform_mut().check()?;
    println!("PASS: no mismatch in {} cycles", os.platform().sim.cycle());
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
