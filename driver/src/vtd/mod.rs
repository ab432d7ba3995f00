//! Every VT-d register and in-memory structure as a typed value (spec sections A and B of
//! `vtd-pcie.md`, with the project rules of `decisions.md`).
//!
//! Each format has `decode` (raw bits -> typed value; reserved bits dropped), `encode` (typed
//! value -> raw bits; reserved bits 0) and a reserved-bit mask the model checks on the raw value.
//! Fields are named as in the spec (lower snake case). All bit positions go through the single
//! helper module [`bits`].
//!
//! | module | spec | contents |
//! |---|---|---|
//! | [`regs`] | A1-A4, A10-A12, B1 | offsets, GCMD/GSTS/FSTS bits, `Cap`, `Ecap`, `RtAddr`, `Ccmd`, `Iva`, `IotlbReg`, `Iqa`, `IqErcd`, `Irta`, `Fsts` |
//! | [`root`] | A5 | `RootEntry` |
//! | [`context`] | A6 | `ContextEntry`, `TranslationType` |
//! | [`slpte`] | A7 | `SlPte`, `reserved_mask`, walk index helpers |
//! | [`irte`] | B4, B5 | `Irte`, `IrteRemapped`, `IrtePosted`, `Sq`, `Svt`, `source_id_valid` |
//! | [`pid`] | B8 | `PostedInterruptDescriptor` |
//! | [`msi`] | B2, B3, B6 | `MsiAddress`, `remappable_msi_addr`, `interrupt_index`, `remapped_msi` |
//! | [`fault`] | A9, B7 | `FaultReason` |
//! | [`frcd`] | A10 | `FaultRecord` |
//! | [`inv`] | A12 | `InvDescriptor`, `InvDescError` |

pub mod bits;
pub mod context;
pub mod fault;
pub mod frcd;
pub mod inv;
pub mod irte;
pub mod msi;
pub mod pid;
pub mod regs;
pub mod root;
pub mod slpte;

pub use context::{ContextEntry, TranslationType};
pub use fault::FaultReason;
pub use frcd::FaultRecord;
pub use inv::{InvDescError, InvDescriptor};
pub use irte::{Irte, IrtePosted, IrteRemapped, Sq, Svt};
pub use msi::MsiAddress;
pub use pid::PostedInterruptDescriptor;
pub use regs::{Cap, Ccmd, Ecap, Fsts, IotlbReg, IqErcd, Iqa, Irta, Iva, RtAddr};
pub use root::RootEntry;
pub use slpte::SlPte;
