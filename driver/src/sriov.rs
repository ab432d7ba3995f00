//! SR-IOV topology: the routing IDs of a Physical Function's Virtual Functions.
//!
//! PCIe SR-IOV: VF *n* (1-based) has routing ID
//! `PF RID + First VF Offset + (n - 1) * VF Stride`, computed in 16-bit arithmetic over the whole
//! routing ID, so VFs may spill onto the following bus numbers. A VF whose RID would pass
//! 0xFFFF (beyond bus 255) or equal the PF's RID is a configuration error here.
//!
//! With ARI the low byte of a RID is an 8-bit function number (up to 256 functions on one bus);
//! without ARI it is device\[7:3\] / function\[2:0\]. The arithmetic is the same either way; ARI
//! only changes how a RID is named. VT-d uses the raw 16-bit RID as the source ID either way (spec
//! C5).

use crate::types::Rid;
use std::fmt;
use std::ops::RangeInclusive;
use thiserror::Error;

/// Why a VF routing ID cannot be produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum SriovError {
    /// NumVFs is larger than TotalVFs.
    #[error("NumVFs {num_vfs} exceeds TotalVFs {total_vfs}")]
    NumVfsExceedsTotal {
        /// The requested NumVFs.
        num_vfs: u16,
        /// The PF's TotalVFs capability value.
        total_vfs: u16,
    },
    /// VF number outside 1..=NumVFs.
    #[error("VF {n} does not exist (NumVFs = {num_vfs})")]
    NoSuchVf {
        /// The requested VF number.
        n: u16,
        /// The currently enabled NumVFs.
        num_vfs: u16,
    },
    /// The VF's routing ID would be past bus 255.
    #[error("VF {n} routing ID overflows past bus 255")]
    RidOverflow {
        /// The VF number (1-based) whose routing ID overflows.
        n: u16,
    },
    /// The VF's routing ID equals the PF's.
    #[error("VF {n} routing ID collides with the PF {pf}")]
    CollidesWithPf {
        /// The VF number (1-based) whose routing ID equals the PF's.
        n: u16,
        /// The PF's routing ID.
        pf: Rid,
    },
    /// VF Stride 0 with more than one VF enabled: every VF would share one routing ID.
    #[error("VF Stride 0 with {num_vfs} VFs gives duplicate routing IDs")]
    ZeroStride {
        /// The requested NumVFs (more than one).
        num_vfs: u16,
    },
}

/// The SR-IOV capability values of one PF that decide its VFs' routing IDs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SriovPf {
    /// Routing ID of the PF.
    pub pf: Rid,
    /// TotalVFs (read-only capability value).
    pub total_vfs: u16,
    /// NumVFs (number of VFs enabled).
    pub num_vfs: u16,
    /// First VF Offset.
    pub first_vf_offset: u16,
    /// VF Stride.
    pub vf_stride: u16,
    /// ARI Capable Hierarchy: name RIDs as bus/function\[7:0\] instead of bus/device/function.
    pub ari: bool,
}

/// One VF: its number, routing ID and how the routing ID splits into bus / devfn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct VfInfo {
    /// VF number, 1-based.
    pub n: u16,
    /// Routing ID (the VT-d source ID).
    pub rid: Rid,
    /// RID\[15:8\]: the root-table index.
    pub bus: u8,
    /// RID\[7:0\]: the context-table index.
    pub devfn: u8,
    /// Device number RID\[7:3\] without ARI; 0 with ARI.
    pub device: u8,
    /// Function number: RID\[2:0\] without ARI, RID\[7:0\] with ARI.
    pub function: u8,
}

impl fmt::Display for VfInfo {
    /// `bb:dd.f` without ARI, `bb:00.ff` (8-bit function) with ARI.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:02x}:{:02x}.{:x}",
            self.bus, self.device, self.function
        )
    }
}

impl SriovPf {
    /// A PF with no VFs enabled yet.
    pub const fn new(
        pf: Rid,
        total_vfs: u16,
        first_vf_offset: u16,
        vf_stride: u16,
        ari: bool,
    ) -> Self {
        SriovPf {
            pf,
            total_vfs,
            num_vfs: 0,
            first_vf_offset,
            vf_stride,
            ari,
        }
    }

    /// Enable `num_vfs` VFs, checking that every one of them gets a valid, distinct routing ID.
    /// On error nothing changes.
    pub fn set_num_vfs(&mut self, num_vfs: u16) -> Result<(), SriovError> {
        let mut t = *self;
        t.num_vfs = num_vfs;
        t.validate()?;
        *self = t;
        Ok(())
    }

    /// Check NumVFs against TotalVFs, the stride, and every VF's routing ID.
    pub fn validate(&self) -> Result<(), SriovError> {
        if self.num_vfs > self.total_vfs {
            return Err(SriovError::NumVfsExceedsTotal {
                num_vfs: self.num_vfs,
                total_vfs: self.total_vfs,
            });
        }
        if self.vf_stride == 0 && self.num_vfs > 1 {
            return Err(SriovError::ZeroStride {
                num_vfs: self.num_vfs,
            });
        }
        // The RIDs increase with n, so checking the first and last VF covers overflow; a
        // collision with the PF can only be VF 1 (all later VFs are above it when stride > 0).
        if self.num_vfs > 0 {
            self.vf_rid(1)?;
            self.vf_rid(self.num_vfs)?;
        }
        Ok(())
    }

    /// Routing ID of VF `n` (1-based): PF RID + First VF Offset + (n - 1) * VF Stride.
    pub fn vf_rid(&self, n: u16) -> Result<Rid, SriovError> {
        if n == 0 || n > self.num_vfs {
            return Err(SriovError::NoSuchVf {
                n,
                num_vfs: self.num_vfs,
            });
        }
        let rid =
            self.pf.0 as u64 + self.first_vf_offset as u64 + (n as u64 - 1) * self.vf_stride as u64;
        if rid > 0xFFFF {
            return Err(SriovError::RidOverflow { n });
        }
        let rid = Rid(rid as u16);
        if rid == self.pf {
            return Err(SriovError::CollidesWithPf { n, pf: self.pf });
        }
        Ok(rid)
    }

    /// Routing IDs of VFs 1..=NumVFs.
    pub fn vf_rids(&self) -> Result<Vec<Rid>, SriovError> {
        self.validate()?;
        (1..=self.num_vfs).map(|n| self.vf_rid(n)).collect()
    }

    /// Split a routing ID the way this PF's hierarchy names functions.
    pub const fn info(&self, n: u16, rid: Rid) -> VfInfo {
        let (device, function) = if self.ari {
            (0, rid.devfn())
        } else {
            (rid.dev(), rid.func())
        };
        VfInfo {
            n,
            rid,
            bus: rid.bus(),
            devfn: rid.devfn(),
            device,
            function,
        }
    }

    /// Every enabled VF with its bus / devfn split.
    pub fn vfs(&self) -> Result<Vec<VfInfo>, SriovError> {
        self.validate()?;
        (1..=self.num_vfs)
            .map(|n| self.vf_rid(n).map(|r| self.info(n, r)))
            .collect()
    }

    /// The bus numbers the PF and its enabled VFs occupy (root-table entries software must set up).
    pub fn bus_range(&self) -> Result<RangeInclusive<u8>, SriovError> {
        self.validate()?;
        let last = if self.num_vfs == 0 {
            self.pf
        } else {
            self.vf_rid(self.num_vfs)?
        };
        Ok(self.pf.bus()..=last.bus())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pf_03_00_0_offset_0x80_stride_1() {
        let mut pf = SriovPf::new(Rid::from_bdf(3, 0, 0), 256, 0x80, 1, true);
        pf.set_num_vfs(130).unwrap();
        // 0x0300 + 0x80 = 0x0380; VF128 = 0x0380 + 127 = 0x03FF; VF129 spills to bus 4 fn 0.
        assert_eq!(pf.vf_rid(1), Ok(Rid(0x0380)));
        assert_eq!(pf.vf_rid(2), Ok(Rid(0x0381)));
        assert_eq!(pf.vf_rid(128), Ok(Rid(0x03FF)));
        assert_eq!(pf.vf_rid(129), Ok(Rid(0x0400)));
        assert_eq!(pf.vf_rid(130), Ok(Rid(0x0401)));
        assert_eq!(pf.bus_range(), Ok(3..=4));
        let v = pf.vfs().unwrap();
        assert_eq!(v.len(), 130);
        assert_eq!((v[0].bus, v[0].devfn, v[0].function), (3, 0x80, 0x80));
        assert_eq!((v[128].n, v[128].bus, v[128].devfn), (129, 4, 0x00));
        assert_eq!(v[0].to_string(), "03:00.80");
    }

    #[test]
    fn stride_2() {
        let mut pf = SriovPf::new(Rid(0x0300), 128, 0x80, 2, true);
        pf.set_num_vfs(66).unwrap();
        // VFn = 0x0380 + 2(n-1): VF3 = 0x0384, VF64 = 0x03FE, VF65 = 0x0400.
        assert_eq!(pf.vf_rid(3), Ok(Rid(0x0384)));
        assert_eq!(pf.vf_rid(64), Ok(Rid(0x03FE)));
        assert_eq!(pf.vf_rid(65), Ok(Rid(0x0400)));
        let rids = pf.vf_rids().unwrap();
        assert_eq!(rids[65], Rid(0x0402));
    }

    #[test]
    fn non_ari_devfn_layout() {
        // PF 01:00.0, offset 0x80, stride 2 (no ARI): VF1 = 0x0180 = 01:10.0, VF2 = 0x0182 = 01:10.2,
        // VF5 = 0x0188 = 01:11.0.
        let mut pf = SriovPf::new(Rid::from_bdf(1, 0, 0), 8, 0x80, 2, false);
        pf.set_num_vfs(5).unwrap();
        let v = pf.vfs().unwrap();
        assert_eq!(v[0].rid, Rid::from_bdf(1, 0x10, 0));
        assert_eq!((v[1].device, v[1].function), (0x10, 2));
        assert_eq!(v[4].rid, Rid(0x0188));
        assert_eq!((v[4].device, v[4].function), (0x11, 0));
        assert_eq!(v[4].to_string(), "01:11.0");
        // PF function 1 (01:00.1): VF1 = 0x0181 = 01:10.1.
        let mut pf1 = SriovPf::new(Rid::from_bdf(1, 0, 1), 8, 0x80, 2, false);
        pf1.set_num_vfs(1).unwrap();
        assert_eq!(pf1.vf_rid(1), Ok(Rid::from_bdf(1, 0x10, 1)));
        // Offset 8, stride 1: VF1 = 03:01.0, VF9 = 03:02.0.
        let mut pf = SriovPf::new(Rid(0x0300), 16, 8, 1, false);
        pf.set_num_vfs(9).unwrap();
        assert_eq!(pf.vf_rid(1), Ok(Rid::from_bdf(3, 1, 0)));
        assert_eq!(pf.vf_rid(9), Ok(Rid::from_bdf(3, 2, 0)));
    }

    #[test]
    fn vf_range_spilling_into_next_buses() {
        // Offset 0x100 puts VF1 on the next bus: 05:00.0 -> 06:00.0; 300 VFs reach bus 7.
        let mut pf = SriovPf::new(Rid(0x0500), 512, 0x100, 1, true);
        pf.set_num_vfs(300).unwrap();
        assert_eq!(pf.vf_rid(1), Ok(Rid(0x0600)));
        assert_eq!(pf.vf_rid(256), Ok(Rid(0x06FF)));
        assert_eq!(pf.vf_rid(300), Ok(Rid(0x072B))); // 0x0600 + 299 = 0x072B
        assert_eq!(pf.bus_range(), Ok(5..=7));
    }

    #[test]
    fn overflow_past_bus_255() {
        let mut pf = SriovPf::new(Rid(0xFF00), 256, 0x80, 1, true);
        pf.set_num_vfs(128).unwrap();
        assert_eq!(pf.vf_rid(128), Ok(Rid(0xFFFF)));
        // VF129 = 0xFF00 + 0x80 + 128 = 0x1_0000.
        assert_eq!(pf.set_num_vfs(129), Err(SriovError::RidOverflow { n: 129 }));
        assert_eq!(pf.num_vfs, 128, "failed set_num_vfs changes nothing");
        // Large offset alone.
        let mut pf = SriovPf::new(Rid(0xFFFF), 4, 1, 1, true);
        assert_eq!(pf.set_num_vfs(1), Err(SriovError::RidOverflow { n: 1 }));
        // Large stride.
        let mut pf = SriovPf::new(Rid(0x0100), 4, 1, 0x8000, true);
        assert_eq!(pf.set_num_vfs(3), Err(SriovError::RidOverflow { n: 3 }));
        pf.set_num_vfs(2).unwrap();
        assert_eq!(pf.vf_rid(2), Ok(Rid(0x8101)));
    }

    #[test]
    fn collisions_and_bounds() {
        let mut pf = SriovPf::new(Rid(0x0300), 4, 0, 1, true);
        assert_eq!(
            pf.set_num_vfs(2),
            Err(SriovError::CollidesWithPf {
                n: 1,
                pf: Rid(0x0300)
            })
        );
        let mut pf = SriovPf::new(Rid(0x0300), 4, 1, 0, true);
        assert_eq!(
            pf.set_num_vfs(2),
            Err(SriovError::ZeroStride { num_vfs: 2 })
        );
        pf.set_num_vfs(1).unwrap();
        assert_eq!(pf.vf_rid(1), Ok(Rid(0x0301)));
        assert_eq!(
            pf.set_num_vfs(5),
            Err(SriovError::NumVfsExceedsTotal {
                num_vfs: 5,
                total_vfs: 4
            })
        );
        assert_eq!(pf.vf_rid(0), Err(SriovError::NoSuchVf { n: 0, num_vfs: 1 }));
        assert_eq!(pf.vf_rid(2), Err(SriovError::NoSuchVf { n: 2, num_vfs: 1 }));
        pf.set_num_vfs(0).unwrap();
        assert_eq!(pf.vf_rids(), Ok(vec![]));
        assert_eq!(pf.bus_range(), Ok(3..=3));
    }
}
