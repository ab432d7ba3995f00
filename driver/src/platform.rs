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
    BadAccess {
        /// Byte offset of the access in the 4 KiB register region.
        offset: u16,
        /// Access size in bytes.
        size: u8,
    },
    /// The device did not answer within the bound (co-simulation only).
    #[error("register access at offset {offset:#05x} timed out after {cycles} cycles")]
    Timeout {
        /// Byte offset of the register access that got no answer.
        offset: u16,
        /// Clock cycles waited before giving up.
        cycles: u64,
    },
    /// Polling a status bit did not reach the wanted state.
    #[error("waiting for {what} did not complete after {polls} polls")]
    PollTimeout {
        /// What was being waited for (e.g. "invalidation wait descriptor").
        what: &'static str,
        /// Number of polls made before giving up.
        polls: u32,
    },
    /// The co-simulation's scoreboard found the DUT disagreeing with the golden model (the
    /// mismatch report in full).
    #[error("{0}")]
    Mismatch(String),
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

    /// Read the 32-bit register at `offset` (for example GSTS_REG at 0x01C or FSTS_REG at 0x034).
    fn read32(&mut self, offset: u16) -> Result<u32, PlatformError> {
        self.reg_read(offset, 4).map(|v| v as u32)
    }
    /// Read the 64-bit register at `offset` (for example CAP_REG at 0x008 or a FRCD qword).
    fn read64(&mut self, offset: u16) -> Result<u64, PlatformError> {
        self.reg_read(offset, 8)
    }
    /// Write the 32-bit register at `offset` (for example GCMD_REG at 0x018 or FECTL_REG at 0x038).
    fn write32(&mut self, offset: u16, value: u32) -> Result<(), PlatformError> {
        self.reg_write(offset, 4, value as u64)
    }
    /// Write the 64-bit register at `offset` (for example RTADDR_REG at 0x020 or IQT_REG at 0x088).
    fn write64(&mut self, offset: u16, value: u64) -> Result<(), PlatformError> {
        self.reg_write(offset, 8, value)
    }
}
