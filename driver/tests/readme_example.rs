//! The README's example, kept compiling and checked: build tables with the OS driver on the golden
//! model, enable translation the way Linux does, send a DMA read and get the translated address.

use iommu_driver::model::{ModelPlatform, Outcome, Request};
use iommu_driver::os::{BringUp, Iommu, OsConfig, PageSize, Perms};
use iommu_driver::{tlp, DomainId, Hpa, Iova, Rid};

#[test]
fn readme_example_translates_a_dma_read() -> Result<(), Box<dyn std::error::Error>> {
    let mut iommu = Iommu::new(ModelPlatform::default(), OsConfig::default())?;
    let dev = Rid::from_bdf(3, 0, 0);
    iommu.create_domain(DomainId(1), 4)?;
    iommu.assign_device(dev, DomainId(1))?;
    iommu.map(
        DomainId(1),
        Iova(0x10_0000),
        Hpa(0x8000_0000),
        PageSize::Size4K,
        Perms::RW,
    )?;
    iommu.bring_up(BringUp::default())?;

    let rd = tlp::mem_read(dev, 0, 0x10_0040, 64)?;
    let out = iommu.platform_mut().process(&Request::from_header(&rd, 0));
    assert_eq!(
        out,
        Outcome::Forward {
            addr: Hpa(0x8000_0040)
        }
    );

    // An address the domain does not map is blocked: UR completion, fault 6h (read not permitted).
    let stray = tlp::mem_read(dev, 1, 0x20_0000, 64)?;
    let out = iommu
        .platform_mut()
        .process(&Request::from_header(&stray, 0));
    assert!(
        matches!(out, Outcome::Complete { fault: Some(f), .. } if f.code() == 0x6),
        "{out:?}"
    );
    Ok(())
}
