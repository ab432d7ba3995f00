//! `iommu-driver`: everything about an Intel VT-d-style IOMMU that needs no simulator.
//!
//! - [`tlp`]: PCIe request/completion/MSI header codec (spec section C).
//! - [`mem`]: sparse host physical memory with error injection.
//! - [`vtd`]: every VT-d register and in-memory structure as a typed value (spec sections A, B).
//! - [`os`]: the "OS driver": builds tables and programs the unit through [`platform::Platform`].
//! - [`sriov`]: SR-IOV PF/VF routing-ID topology.
//! - [`model`]: the bit-accurate golden model, the judge of every co-simulation outcome.
//!
//! The model reads tables only through [`vtd`] decoders and never calls into [`os`]: a field
//! placed wrongly in [`vtd`] is caught by the raw-hex tests written from the spec.

#![warn(missing_docs)]

pub mod mem;
pub mod model;
pub mod os;
pub mod platform;
pub mod sriov;
pub mod tlp;
pub mod types;
pub mod vtd;

pub use types::{DomainId, Hpa, Iova, Rid};
