//! Interrupt remapping: the IR table (spec B1), IRTEs in remapped and posted format (B4),
//! posted-interrupt descriptors (B8) and the remappable MSI a device is given (B2).
//!
//! IRTE encodings, written from spec B4:
//! - remapped: P\[0\] FPD\[1\] DM\[2\] RH\[3\] TM\[4\] DLM\[7:5\] AVAIL\[11:8\] IM\[15\]=0
//!   V\[23:16\] DST\[63:32\] SID\[79:64\] SQ\[81:80\] SVT\[83:82\];
//! - posted: P\[0\] FPD\[1\] AVAIL\[11:8\] URG\[14\] IM\[15\]=1 V\[23:16\] PDA\[31:6\] at
//!   \[63:38\], SID/SQ/SVT, PDA\[63:32\] at \[127:96\].

use super::{Iommu, OsError, PAGE_SIZE};
use crate::platform::Platform;
use crate::types::{Hpa, Rid};

/// The driver's view of the interrupt-remapping table.
#[derive(Debug, Clone)]
pub(crate) struct IrTable {
    pub base: Hpa,
    pub s: u8,
    pub eime: bool,
    pub used: Vec<bool>,
}

impl IrTable {
    fn entries(&self) -> u32 {
        1u32 << (self.s + 1)
    }
}

/// IRTE.IM.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IrteMode {
    /// IM=0 (IRTE bit 15 clear): the request becomes an interrupt message to DST
    /// ([`RemappedIrte`]).
    Remapped,
    /// IM=1: the vector is posted into a posted-interrupt descriptor ([`PostedIrte`]; needs
    /// CAP.PI).
    Posted,
}

/// A remapped-format IRTE (spec B4, IM=0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RemappedIrte {
    /// P (bit 0): the entry is present; a request through an entry with P=0 faults 22h.
    pub present: bool,
    /// FPD (bit 1): qualified faults (22h, 24h, 26h) through this entry are not recorded.
    pub fpd: bool,
    /// Destination mode: 0 physical, 1 logical.
    pub dm: bool,
    /// Redirection hint.
    pub rh: bool,
    /// Trigger mode: 0 edge, 1 level.
    pub tm: bool,
    /// Delivery mode (3 bits).
    pub dlm: u8,
    /// AVAIL (bits 11:8): four bits left to software, ignored by the unit.
    pub avail: u8,
    /// V (bits 23:16): the interrupt vector delivered.
    pub vector: u8,
    /// The raw DST field (bits 63:32): the x2APIC id with EIME=1; with EIME=0 the 8-bit APIC id
    /// sits in DST\[15:8\] (see [`RemappedIrte::xapic_dst`]).
    pub dst: u32,
    /// SID (bits 79:64): the requester checked with SVT=01, or the bus range start\[15:8\] /
    /// end\[7:0\] with SVT=10 ([`RemappedIrte::verify_bus_range`]).
    pub sid: Rid,
    /// SQ (bits 81:80): which low SID bits the SVT=01 check ignores (0: compare all 16).
    pub sq: u8,
    /// SVT (bits 83:82): 00 no source check, 01 requester ID, 10 bus range, 11 reserved.
    pub svt: u8,
}

impl RemappedIrte {
    /// DST field value for an 8-bit xAPIC destination (IRTE bits 47:40).
    pub const fn xapic_dst(apic_id: u8) -> u32 {
        (apic_id as u32) << 8
    }

    /// A present IRTE delivering `vector` to `dst` (fixed, edge, physical), with no source-ID
    /// check (SVT=00): any requester may use it. Add one with
    /// [`RemappedIrte::verify_requester`] or [`RemappedIrte::verify_bus_range`].
    ///
    /// ```
    /// use iommu_driver::os::RemappedIrte;
    /// use iommu_driver::Rid;
    /// let e = RemappedIrte::new(0x30, 1).verify_requester(Rid::from_bdf(3, 0, 0));
    /// assert_eq!((e.svt, e.sq, e.sid), (1, 0, Rid(0x0300)));
    /// ```
    pub fn new(vector: u8, dst: u32) -> Self {
        RemappedIrte {
            present: true,
            vector,
            dst,
            ..Default::default()
        }
    }

    /// Only requester `sid` may use the entry (SVT=01, SQ=00: all 16 bits compared).
    pub fn verify_requester(self, sid: Rid) -> Self {
        RemappedIrte {
            sid,
            sq: 0,
            svt: 1,
            ..self
        }
    }

    /// Only requesters on buses `start..=end` may use the entry (SVT=10, SID = start:end).
    pub fn verify_bus_range(self, start: u8, end: u8) -> Self {
        RemappedIrte {
            sid: Rid(u16::from(start) << 8 | u16::from(end)),
            sq: 0,
            svt: 2,
            ..self
        }
    }

    /// The 128-bit entry.
    pub fn encode(&self) -> u128 {
        let lo = self.present as u64
            | (self.fpd as u64) << 1
            | (self.dm as u64) << 2
            | (self.rh as u64) << 3
            | (self.tm as u64) << 4
            | (self.dlm as u64 & 7) << 5
            | (self.avail as u64 & 0xF) << 8
            | (self.vector as u64) << 16
            | (self.dst as u64) << 32;
        let hi = self.sid.0 as u64 | (self.sq as u64 & 3) << 16 | (self.svt as u64 & 3) << 18;
        (hi as u128) << 64 | lo as u128
    }
}

/// A posted-format IRTE (spec B4, IM=1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PostedIrte {
    /// P (bit 0): the entry is present.
    pub present: bool,
    /// FPD (bit 1): qualified faults through this entry are not recorded.
    pub fpd: bool,
    /// AVAIL (bits 11:8): four bits left to software.
    pub avail: u8,
    /// URG (bit 14): urgent, the notification event is sent even while the descriptor's SN is set.
    pub urg: bool,
    /// V (bits 23:16): the vector whose PIR bit is set in the descriptor.
    pub vector: u8,
    /// Posted-interrupt descriptor address (64-byte aligned).
    pub pda: Hpa,
    /// SID, SQ, SVT: the source-ID check, as in [`RemappedIrte::sid`].
    pub sid: Rid,
    /// SQ (bits 81:80), as in [`RemappedIrte::sq`].
    pub sq: u8,
    /// SVT (bits 83:82), as in [`RemappedIrte::svt`].
    pub svt: u8,
}

impl PostedIrte {
    /// The 128-bit entry: IM (bit 15) set, PDA bits 31:6 in bits 63:38 and PDA bits 63:32 in
    /// bits 127:96.
    pub fn encode(&self) -> u128 {
        let lo = self.present as u64
            | (self.fpd as u64) << 1
            | (self.avail as u64 & 0xF) << 8
            | (self.urg as u64) << 14
            | 1 << 15
            | (self.vector as u64) << 16
            | ((self.pda.0 >> 6) & 0x3FF_FFFF) << 38;
        let hi = self.sid.0 as u64
            | (self.sq as u64 & 3) << 16
            | (self.svt as u64 & 3) << 18
            | (self.pda.0 >> 32) << 32;
        (hi as u128) << 64 | lo as u128
    }
}

/// Posted-interrupt descriptor (spec B8): PIR\[255:0\], ON\[256\], SN\[257\], NV\[279:272\],
/// NDST\[319:288\]; 64 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PostedInterruptDescriptor {
    /// PIR (bits 255:0): one pending bit per vector, vector v at bit v % 64 of word v / 64.
    pub pir: [u64; 4],
    /// ON (bit 256): outstanding notification, a notification event has been sent.
    pub on: bool,
    /// SN (bit 257): suppress notification events for non-urgent interrupts.
    pub sn: bool,
    /// NV (bits 279:272): vector of the notification event.
    pub nv: u8,
    /// NDST (bits 319:288): destination of the notification event, the x2APIC ID, or with xAPIC
    /// the APIC ID in bits 15:8.
    pub ndst: u32,
    /// Bits 511:256 other than ON/SN/NV/NDST, kept raw (qword 4 bits except 0,1,23:16,63:32 and
    /// qwords 5..7) so tests can plant reserved bits.
    pub other: [u64; 4],
}

impl PostedInterruptDescriptor {
    /// The 64 bytes as stored in memory (little-endian qwords, PIR first); ON/SN/NV/NDST replace
    /// those bits of `other[0]`.
    pub fn encode(&self) -> [u8; 64] {
        let mut q = [0u64; 8];
        q[..4].copy_from_slice(&self.pir);
        q[4] = (self.other[0] & !0xFFFF_FFFF_00FF_0003)
            | self.on as u64
            | (self.sn as u64) << 1
            | (self.nv as u64) << 16
            | (self.ndst as u64) << 32;
        q[5..8].copy_from_slice(&self.other[1..4]);
        let mut b = [0u8; 64];
        for (i, v) in q.iter().enumerate() {
            b[i * 8..i * 8 + 8].copy_from_slice(&v.to_le_bytes());
        }
        b
    }
    /// A descriptor from its 64 bytes in memory, the inverse of
    /// [`PostedInterruptDescriptor::encode`].
    pub fn decode(b: &[u8; 64]) -> Self {
        let q = |i: usize| u64::from_le_bytes(b[i * 8..i * 8 + 8].try_into().expect("8 bytes"));
        let q4 = q(4);
        PostedInterruptDescriptor {
            pir: [q(0), q(1), q(2), q(3)],
            on: q4 & 1 != 0,
            sn: q4 & 2 != 0,
            nv: (q4 >> 16) as u8,
            ndst: (q4 >> 32) as u32,
            other: [q4 & !0xFFFF_FFFF_00FF_0003, q(5), q(6), q(7)],
        }
    }
    /// PIR bit for `vector`.
    pub fn pir_bit(&self, vector: u8) -> bool {
        self.pir[vector as usize / 64] >> (vector % 64) & 1 != 0
    }
}

/// An MSI (address, data) as a device writes it. `Debug` prints both in hex.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct MsiMessage {
    /// Address of the DWORD write, in 0xFEE0_0000..=0xFEEF_FFFF for an interrupt (bits 63:32 zero).
    pub addr: u64,
    /// The DWORD written: the subhandle in bits 15:0 (remappable format) or the vector in bits
    /// 7:0 (compatibility format).
    pub data: u32,
}

impl std::fmt::Debug for MsiMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "MsiMessage {{ addr: {:#x}, data: {:#x} }}",
            self.addr, self.data
        )
    }
}

impl MsiMessage {
    /// Remappable-format MSI (spec B2): addr = 0xFEE0_0000 | handle\[14:0\]<<5 | 1<<4 | SHV<<3 |
    /// handle\[15\]<<2; data = subhandle when SHV=1, else 0.
    pub fn remappable(handle: u16, subhandle: Option<u16>) -> Self {
        let h = handle as u64;
        let addr = 0xFEE0_0000
            | (h & 0x7FFF) << 5
            | 1 << 4
            | (subhandle.is_some() as u64) << 3
            | ((h >> 15) & 1) << 2;
        MsiMessage {
            addr,
            data: subhandle.unwrap_or(0) as u32,
        }
    }
    /// Compatibility-format MSI (spec B2): physical destination `dest`, fixed, edge.
    pub fn compat(dest: u8, vector: u8) -> Self {
        MsiMessage {
            addr: 0xFEE0_0000 | (dest as u64) << 12,
            data: vector as u32,
        }
    }
}

impl<P: Platform> Iommu<P> {
    /// Allocate an IR table of 2^(s+1) entries (s <= 15) with the given EIME, zeroed.
    /// Programming IRTA happens in [`Iommu::enable_ir`].
    pub fn setup_ir_table(&mut self, s: u8, eime: bool) -> Result<Hpa, OsError> {
        if !self.caps.ir {
            return Err(OsError::NotSupported("interrupt remapping (ECAP.IR)"));
        }
        if s > 15 {
            return Err(OsError::InvalidArgument("IRTA.S > 15"));
        }
        if eime && !self.caps.eim {
            return Err(OsError::NotSupported("x2APIC mode (ECAP.EIM)"));
        }
        let entries = 1u64 << (s + 1);
        let pages = (entries * 16).div_ceil(PAGE_SIZE);
        let base = self
            .alloc
            .alloc_contiguous(self.plat.mem(), pages, PAGE_SIZE)?;
        self.ir = Some(IrTable {
            base,
            s,
            eime,
            used: vec![false; entries as usize],
        });
        Ok(base)
    }

    /// IRTA register value for the current table: base | EIME<<11 | S (spec B1).
    pub fn irta_value(&self) -> Result<u64, OsError> {
        let t = self.ir.as_ref().ok_or(OsError::NoIrTable)?;
        Ok(t.base.0 | (t.eime as u64) << 11 | t.s as u64)
    }

    /// Number of IRTEs of the table.
    pub fn ir_entries(&self) -> Option<u32> {
        self.ir.as_ref().map(|t| t.entries())
    }

    /// Address of IRTE `index` (IRTA + 16*index).
    pub fn irte_addr(&self, index: u32) -> Result<Hpa, OsError> {
        let t = self.ir.as_ref().ok_or(OsError::NoIrTable)?;
        if index >= t.entries() {
            return Err(OsError::IrteIndexOutOfRange {
                index,
                entries: t.entries(),
            });
        }
        Ok(Hpa(t.base.0 + 16 * index as u64))
    }

    /// Reserve a block of `count` (a power of two, at most 2^MHMV) contiguous IRTEs aligned to
    /// `count`, as a multi-vector MSI needs; returns the first index.
    pub fn alloc_irtes(&mut self, count: u32) -> Result<u32, OsError> {
        if !count.is_power_of_two() || count > 1u32 << self.caps.mhmv {
            return Err(OsError::InvalidArgument(
                "IRTE block size (power of two <= 2^MHMV)",
            ));
        }
        let t = self.ir.as_mut().ok_or(OsError::NoIrTable)?;
        let n = t.entries();
        let mut start = 0u32;
        while start + count <= n {
            let r = start as usize..(start + count) as usize;
            if t.used[r.clone()].iter().all(|u| !u) {
                t.used[r].iter_mut().for_each(|u| *u = true);
                return Ok(start);
            }
            start += count;
        }
        Err(OsError::NoFreeIrtes { count })
    }

    /// Release IRTEs (and clear them in memory). The caller invalidates the IEC.
    pub fn free_irtes(&mut self, first: u32, count: u32) -> Result<(), OsError> {
        for i in first..first.saturating_add(count) {
            self.write_irte_raw(i, 0)?;
            if let Some(t) = self.ir.as_mut() {
                t.used[i as usize] = false;
            }
        }
        Ok(())
    }

    /// Raw setter: IRTE `index` (even malformed).
    pub fn write_irte_raw(&mut self, index: u32, raw: u128) -> Result<(), OsError> {
        let a = self.irte_addr(index)?;
        self.plat.mem().write_u128(a, raw)?;
        Ok(())
    }

    /// Write a remapped-format IRTE.
    pub fn set_irte_remapped(&mut self, index: u32, e: &RemappedIrte) -> Result<(), OsError> {
        self.write_irte_raw(index, e.encode())
    }

    /// Write a posted-format IRTE (needs CAP.PI).
    pub fn set_irte_posted(&mut self, index: u32, e: &PostedIrte) -> Result<(), OsError> {
        if !self.caps.pi {
            return Err(OsError::NotSupported("posted interrupts (CAP.PI)"));
        }
        if e.pda.0 % 64 != 0 {
            return Err(OsError::InvalidArgument("PID address not 64-byte aligned"));
        }
        self.write_irte_raw(index, e.encode())
    }

    /// A zeroed 64-byte-aligned posted-interrupt descriptor from driver memory.
    pub fn alloc_pid(&mut self) -> Result<Hpa, OsError> {
        let a = self.alloc_scratch(64, 64)?;
        self.plat.mem().write(a, &[0u8; 64])?;
        Ok(a)
    }

    /// Write `pid` into host memory at `addr` (64 bytes, laid out by
    /// [`PostedInterruptDescriptor::encode`]); no register is touched.
    pub fn write_pid(&mut self, addr: Hpa, pid: &PostedInterruptDescriptor) -> Result<(), OsError> {
        self.plat.mem().write(addr, &pid.encode())?;
        Ok(())
    }

    /// Read the 64-byte descriptor at `addr` from host memory (e.g. to see the PIR and ON bits the
    /// unit set when posting); no register is touched.
    pub fn read_pid(&mut self, addr: Hpa) -> Result<PostedInterruptDescriptor, OsError> {
        let mut b = [0u8; 64];
        self.plat.mem().read(addr, &mut b)?;
        Ok(PostedInterruptDescriptor::decode(&b))
    }

    /// The MSI a device uses for vector `n` of a block starting at IRTE `first`: remappable
    /// format with handle = first, SHV=1, subhandle = n (Linux's multi-MSI layout).
    pub fn msi_for(&self, first: u32, n: u16) -> MsiMessage {
        MsiMessage::remappable(first as u16, Some(n))
    }
}
