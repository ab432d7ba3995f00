//! The one interface the "OS driver" uses to reach an IOMMU: its register file and the host memory
//! that holds its tables.
//!
//! The golden model implements it (registers act synchronously), and so does the co-simulation
//! (a register access advances the RTL clock until the register port answers). The OS driver is
//! written once against this trait and drives either.

use crate::mem::HostMemory;
use thiserror::Error;

/// Why a register access failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PlatformError {
    /// Offset not naturally aligned for the size, size not 4 or 8, or outside the 4 KiB region.
    #[error("register access at offset {offset:#05x} of size {size} is not a valid VT-d register access")]
    BadAccess { offset: u16, size: u8 },
    /// The device did not answer within the bound (co-simulation only).
    #[error("register access at offset {offset:#05x} timed out after {cycles} cycles")]
    Timeout { offset: u16, cycles: u64 },
    /// Polling a status bit did not reach the wanted state.
    #[error("waiting for {what} did not complete after {polls} polls")]
    PollTimeout { what: &'static str, polls: u32 },
    /// Anything else the platform reports (e.g. a simulator error).
    #[error("{0}")]
    Other(String),
}

/// Register access plus host memory: what an OS driver sees of a remapping unit.
pub trait Platform {
    /// Read `size` (4 or 8) bytes at `offset` of the remapping unit's 4 KiB register region.
    fn reg_read(&mut self, offset: u16, size: u8) -> Result<u64, PlatformError>;
    /// Write `size` (4 or 8) bytes at `offset`.
    fn reg_write(&mut self, offset: u16, size: u8, value: u64) -> Result<(), PlatformError>;
    /// Host physical memory holding the tables (root/context/SL/IR tables, QI queue, PIDs).
    fn mem(&mut self) -> &mut HostMemory;

    fn read32(&mut self, offset: u16) -> Result<u32, PlatformError> {
        self.reg_read(offset, 4).map(|v| v as u32)
    }
    fn read64(&mut self, offset: u16) -> Result<u64, PlatformError> {
        self.reg_read(offset, 8)
    }
    fn write32(&mut self, offset: u16, value: u32) -> Result<(), PlatformError> {
        self.reg_write(offset, 4, value as u64)
    }
    fn write64(&mut self, offset: u16, value: u64) -> Result<(), PlatformError> {
        self.reg_write(offset, 8, value)
    }
}
