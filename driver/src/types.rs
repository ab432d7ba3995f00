//! Address and identifier newtypes shared by every layer.
//!
//! A guest/IO virtual address ([`Iova`]) cannot be passed where a host physical address ([`Hpa`])
//! is meant, and a requester ID ([`Rid`]) is not a bare `u16`.

use std::fmt;

/// An I/O virtual address as carried by an untranslated DMA request (the input of translation).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Iova(pub u64);

/// A host physical address (the output of translation; where tables live).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Hpa(pub u64);

/// A VT-d domain identifier (context entry DID, 16 bits with CAP.ND=6).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct DomainId(pub u16);

/// A PCIe requester ID, used by VT-d as the source ID (SID) whatever ARI says (spec C5).
///
/// Bus in bits 15:8, then either device\[7:3\]/function\[2:0\] or, with ARI, function\[7:0\].
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Rid(pub u16);

impl Rid {
    /// Build a non-ARI routing ID from bus/device/function.
    pub const fn from_bdf(bus: u8, dev: u8, func: u8) -> Rid {
        Rid(((bus as u16) << 8) | (((dev & 0x1F) as u16) << 3) | ((func & 0x7) as u16))
    }
    /// Build an ARI routing ID from bus and an 8-bit function number.
    pub const fn from_ari(bus: u8, func: u8) -> Rid {
        Rid(((bus as u16) << 8) | func as u16)
    }
    /// SID\[15:8\], the root-table index.
    pub const fn bus(self) -> u8 {
        (self.0 >> 8) as u8
    }
    /// SID\[7:0\], the context-table index.
    pub const fn devfn(self) -> u8 {
        self.0 as u8
    }
    /// Device number (non-ARI interpretation).
    pub const fn dev(self) -> u8 {
        (self.0 >> 3) as u8 & 0x1F
    }
    /// Function number (non-ARI interpretation).
    pub const fn func(self) -> u8 {
        self.0 as u8 & 0x7
    }
}

impl Iova {
    /// The 4 KiB page number of this IOVA (bits 63:12), the granule of a second-level walk and of
    /// a page-selective invalidation.
    pub const fn page(self) -> u64 {
        self.0 >> 12
    }
}

impl Hpa {
    /// The 4 KiB frame number of this host address (bits 63:12), as stored in table pointers such
    /// as CTP and SLPTPTR.
    pub const fn page(self) -> u64 {
        self.0 >> 12
    }
}

impl fmt::Debug for Iova {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Iova({:#x})", self.0)
    }
}
impl fmt::Debug for Hpa {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hpa({:#x})", self.0)
    }
}
impl fmt::Debug for DomainId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DomainId({})", self.0)
    }
}
impl fmt::Debug for Rid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Rid({:02x}:{:02x}.{})",
            self.bus(),
            self.dev(),
            self.func()
        )
    }
}
impl fmt::Display for Rid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02x}:{:02x}.{}", self.bus(), self.dev(), self.func())
    }
}
impl fmt::Display for Iova {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#x}", self.0)
    }
}
impl fmt::Display for Hpa {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#x}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rid_bdf_layout_matches_spec_c5() {
        // 03:00.0 is 0x0300 (spec C7 worked example).
        assert_eq!(Rid::from_bdf(3, 0, 0).0, 0x0300);
        // 00:1f.3: device 0x1f in bits 7:3, function 3 in 2:0 -> 0xfb.
        assert_eq!(Rid::from_bdf(0, 0x1f, 3).0, 0x00fb);
        assert_eq!(Rid::from_ari(0x81, 0x42).0, 0x8142);
        let r = Rid(0x01fb);
        assert_eq!((r.bus(), r.devfn(), r.dev(), r.func()), (1, 0xfb, 0x1f, 3));
    }
}
