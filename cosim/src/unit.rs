//! One trait for a test body that runs on the golden model alone and on the RTL in lockstep.
//!
//! ```
//! use iommu_cosim::lockstep::{Lockstep, Mismatch};
//! use iommu_cosim::unit::Unit;
//! use iommu_driver::model::{ModelPlatform, Outcome, Request};
//! use iommu_driver::vtd::fault::FaultReason;
//! use iommu_driver::Rid;
//!
//! // Translation is off after reset: a read passes through unchanged, on either unit.
//! fn identity<U: Unit>(u: &mut U) -> Result<(), Mismatch> {
//!     let o = u.request(Request::read(Rid(0x0300), 0x1000, 4).unwrap())?;
//!     assert_eq!(o, Outcome::forward(iommu_driver::Hpa(0x1000)));
//!     assert!(u.take_events()?.is_empty());
//!     Ok(())
//! }
//! identity(&mut ModelPlatform::default())?;
//! identity(&mut Lockstep::builder().build().unwrap())?;
//! # Ok::<(), Mismatch>(())
//! ```

use crate::lockstep::{Lockstep, Mismatch};
use iommu_driver::model::{ModelPlatform, Msi, Outcome, Request};
use iommu_driver::platform::Platform;

/// A remapping unit a test drives without caring which one it is: the golden model alone
/// ([`ModelPlatform`]) or the RTL checked in lockstep against it ([`Lockstep`]). Both are also a
/// [`Platform`], so the OS driver (`iommu_driver::os::Iommu`) programs either.
#[allow(clippy::result_large_err)] // a mismatch ends the run: its size costs nothing
pub trait Unit: Platform {
    /// Send one upstream request; what the unit did with it. On the RTL: once it retired, as
    /// matched by the scoreboard; a mismatch (now or earlier) is the error.
    fn request(&mut self, req: Request) -> Result<Outcome, Mismatch>;
    /// The unit's own interrupt messages (fault events, invalidation-completion events) since
    /// the last call, oldest first. On the RTL: the DUT's, once settled, each equal to the
    /// model's.
    fn take_events(&mut self) -> Result<Vec<Msi>, Mismatch>;
}

impl Unit for ModelPlatform {
    fn request(&mut self, req: Request) -> Result<Outcome, Mismatch> {
        Ok(self.process(&req))
    }
    fn take_events(&mut self) -> Result<Vec<Msi>, Mismatch> {
        Ok(ModelPlatform::take_events(self))
    }
}

impl Unit for Lockstep {
    fn request(&mut self, req: Request) -> Result<Outcome, Mismatch> {
        self.send(req).map(|e| e.outcome)
    }
    fn take_events(&mut self) -> Result<Vec<Msi>, Mismatch> {
        Lockstep::take_events(self)
    }
}
