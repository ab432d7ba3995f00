//! MSI address/data formats for interrupt remapping (spec B2, B3 step 4, B6, B8 notification).

use super::bits::*;
use super::irte::IrteRemapped;
use super::pid::PostedInterruptDescriptor;

/// Lowest address of the interrupt window.
pub const INTERRUPT_WINDOW_BASE: u64 = 0xFEE0_0000;
/// Highest address of the interrupt window.
pub const INTERRUPT_WINDOW_LAST: u64 = 0xFEEF_FFFF;

/// Whether `addr` lies in 0xFEE0_0000..=0xFEEF_FFFF (A8 step 1).
pub const fn in_interrupt_window(addr: u64) -> bool {
    addr >= INTERRUPT_WINDOW_BASE && addr <= INTERRUPT_WINDOW_LAST
}

/// Whether the page range `[addr, addr + len)` overlaps the interrupt window (fault Eh, A8 step 9).
pub const fn overlaps_interrupt_window(addr: u64, len: u64) -> bool {
    let end = addr.saturating_add(len);
    addr <= INTERRUPT_WINDOW_LAST && end > INTERRUPT_WINDOW_BASE
}

/// An interrupt request address (bits 31:0) decoded by its format bit (addr\[4\]), B2.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MsiAddress {
    /// addr\[4\] = 0.
    Compatibility {
        /// \[19:12\] destination ID.
        dest_id: u8,
        /// \[11:5\] (reserved; Linux's extended destination ID bits 14:8).
        ext_dest: u8,
        /// \[3\] redirection hint.
        rh: bool,
        /// \[2\] destination mode (false physical, true logical).
        dm: bool,
    },
    /// addr\[4\] = 1.
    Remappable {
        /// handle\[15\] = addr\[2\], handle\[14:0\] = addr\[19:5\].
        handle: u16,
        /// \[3\] subhandle valid.
        shv: bool,
    },
}

impl MsiAddress {
    /// Decode bits 31:0 of an interrupt address (bits 63:32 and 31:20 are the caller's check).
    pub const fn decode(addr: u64) -> MsiAddress {
        if bit64(addr, 4) {
            let handle = ((get64(addr, 2, 2) << 15) | get64(addr, 19, 5)) as u16;
            MsiAddress::Remappable {
                handle,
                shv: bit64(addr, 3),
            }
        } else {
            MsiAddress::Compatibility {
                dest_id: get64(addr, 19, 12) as u8,
                ext_dest: get64(addr, 11, 5) as u8,
                rh: bit64(addr, 3),
                dm: bit64(addr, 2),
            }
        }
    }

    /// Encode to a 32-bit interrupt address in the window (bits 1:0 = 0).
    pub const fn encode(&self) -> u64 {
        match *self {
            MsiAddress::Compatibility {
                dest_id,
                ext_dest,
                rh,
                dm,
            } => {
                let mut a = INTERRUPT_WINDOW_BASE;
                a = set64(a, 19, 12, dest_id as u64);
                a = set64(a, 11, 5, ext_dest as u64);
                a = setb64(a, 3, rh);
                setb64(a, 2, dm)
            }
            MsiAddress::Remappable { handle, shv } => remappable_msi_addr(handle, shv),
        }
    }

    /// Whether address bit 4 (interrupt format) is 1, so the request must be remapped through an
    /// IRTE.
    pub const fn is_remappable(&self) -> bool {
        matches!(self, MsiAddress::Remappable { .. })
    }
}

/// Remappable-format address for `handle` (B2):
/// 0xFEE0_0000 | handle\[14:0\]<<5 | 1<<4 | SHV<<3 | handle\[15\]<<2.
pub const fn remappable_msi_addr(handle: u16, shv: bool) -> u64 {
    let mut a = INTERRUPT_WINDOW_BASE;
    a = set64(a, 19, 5, (handle & 0x7FFF) as u64);
    a = setb64(a, 4, true);
    a = setb64(a, 3, shv);
    setb64(a, 2, handle >> 15 == 1)
}

/// Remappable request with reserved bits set (fault 20h, decisions.md: checked first):
/// addr\[63:32\] != 0, addr\[31:20\] != 0xFEE, or data\[31:16\] != 0.
pub const fn remappable_request_reserved(addr: u64, data: u32) -> bool {
    (addr >> 20) != 0xFEE || (data >> 16) != 0
}

/// Interrupt index (B3 step 4): SHV ? (handle + data\[15:0\]) mod 2^16 : handle.
pub const fn interrupt_index(handle: u16, shv: bool, data: u32) -> u16 {
    if shv {
        handle.wrapping_add(data as u16)
    } else {
        handle
    }
}

/// Compatibility-format address for a destination (B2).
pub const fn compat_msi_addr(dest_id: u8, rh: bool, dm: bool) -> u64 {
    MsiAddress::Compatibility {
        dest_id,
        ext_dest: 0,
        rh,
        dm,
    }
    .encode()
}

/// Address and data of an interrupt message to `dest` (x2APIC ID with `eime`, else an 8-bit APIC
/// ID): addr = 0xFEE<<20 | dest\[7:0\]<<12 | RH<<3 | DM<<2, plus (dest & 0xFFFF_FF00)<<32 with
/// `eime`; data = vector | DLM<<8 | 1<<14 (level asserted) | TM<<15.
#[allow(clippy::too_many_arguments)]
pub const fn interrupt_message(
    dest: u32,
    eime: bool,
    rh: bool,
    dm: bool,
    vector: u8,
    dlm: u8,
    tm: bool,
) -> (u64, u32) {
    let mut a = INTERRUPT_WINDOW_BASE;
    a = set64(a, 19, 12, (dest & 0xFF) as u64);
    a = setb64(a, 3, rh);
    a = setb64(a, 2, dm);
    if eime {
        a |= ((dest & 0xFFFF_FF00) as u64) << 32;
    }
    let mut d = vector as u32 | ((dlm as u32 & 7) << 8) | (1 << 14);
    if tm {
        d |= 1 << 15;
    }
    (a, d)
}

/// The message a remapped-format IRTE produces (B6). With `eime == false` the destination is
/// IRTE\[47:40\] (= `dst[15:8]`). Input address bits 1:0 are not copied (they are 0 here).
pub const fn remapped_msi(irte: &IrteRemapped, eime: bool) -> (u64, u32) {
    interrupt_message(
        irte.apic_dest(eime),
        eime,
        irte.rh,
        irte.dm,
        irte.vector,
        irte.dlm,
        irte.tm,
    )
}

/// The notification event of a posted interrupt (B8 step 3): vector NV to NDST, fixed, physical,
/// RH=0, edge, level asserted. With `eime == false` the destination is NDST\[15:8\].
pub const fn notification_msi(pid: &PostedInterruptDescriptor, eime: bool) -> (u64, u32) {
    let dest = if eime {
        pid.ndst
    } else {
        (pid.ndst >> 8) & 0xFF
    };
    interrupt_message(dest, eime, false, false, pid.nv, 0, false)
}
