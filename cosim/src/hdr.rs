//! The few TLP header fields the harness itself needs (PCIe Base spec 2.2 request header; the
//! project reference is shared/spec/vtd-pcie.md section C): building requests for random traffic,
//! classifying a request for the ordering rules, and checking the DUT's translated header and
//! completion field by field. Kept independent of `iommu_driver::tlp` on purpose: the checker
//! should not share a field-position mistake with the code under test.
//!
//! Headers are `[u32; 4]`, DW0 first, each DW as on the wire (bit 31 = first byte's bit 7).

/// Fmt/Type of the requests the generators produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Memory read (non-posted).
    Read,
    /// Memory write (posted).
    Write,
    /// FetchAdd atomic (non-posted, needs R and W).
    FetchAdd,
}

/// Fields of a request header as the harness builds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Req {
    /// Which request this is; selects Fmt/Type.
    pub kind: Kind,
    /// Requester ID (bus/device/function), DW1 bits 31:16.
    pub rid: u16,
    /// Tag, DW1 bits 15:8.
    pub tag: u8,
    /// Byte address; the low two bits are dropped when encoding.
    pub addr: u64,
    /// Length in DWs (1..=1024; 1024 is encoded as 0).
    pub len_dw: u16,
    /// First DW byte enables, DW1 bits 3:0.
    pub first_be: u8,
    /// Last DW byte enables, DW1 bits 7:4 (0 for a one-DW request).
    pub last_be: u8,
    /// Traffic class, DW0 bits 22:20.
    pub tc: u8,
    /// Attr bits: bit 0 NS, bit 1 RO, bit 2 IDO.
    pub attr: u8,
    /// Address Type (0 untranslated, 1 translation request, 2 translated, 3 reserved).
    pub at: u8,
    /// Force a 4DW header even below 4 GiB.
    pub force_4dw: bool,
}

impl Req {
    /// A read of `len` bytes at a DW-aligned `addr` (byte enables all set).
    pub fn read(rid: u16, tag: u8, addr: u64, len: u32) -> Self {
        Req::simple(Kind::Read, rid, tag, addr, len)
    }
    /// A write of `len` bytes at a DW-aligned `addr`.
    pub fn write(rid: u16, tag: u8, addr: u64, len: u32) -> Self {
        Req::simple(Kind::Write, rid, tag, addr, len)
    }
    fn simple(kind: Kind, rid: u16, tag: u8, addr: u64, len: u32) -> Self {
        let len_dw = (len.div_ceil(4)).clamp(1, 1024) as u16;
        Req {
            kind,
            rid,
            tag,
            addr: addr & !3,
            len_dw,
            first_be: 0xF,
            last_be: if len_dw == 1 { 0 } else { 0xF },
            tc: 0,
            attr: 0,
            at: 0,
            force_4dw: false,
        }
    }

    /// Encode as header DWs (DW0 first).
    pub fn encode(&self) -> [u32; 4] {
        let four = self.force_4dw || self.addr > 0xFFFF_FFFF;
        let (fmt, ty): (u32, u32) = match (self.kind, four) {
            (Kind::Read, false) => (0b000, 0b00000),
            (Kind::Read, true) => (0b001, 0b00000),
            (Kind::Write, false) => (0b010, 0b00000),
            (Kind::Write, true) => (0b011, 0b00000),
            (Kind::FetchAdd, false) => (0b010, 0b01100),
            (Kind::FetchAdd, true) => (0b011, 0b01100),
        };
        let len = (self.len_dw as u32) & 0x3FF;
        let dw0 = fmt << 29
            | ty << 24
            | ((self.tc as u32) & 7) << 20
            | (((self.attr >> 2) & 1) as u32) << 18
            | ((self.attr & 3) as u32) << 12
            | ((self.at as u32) & 3) << 10
            | len;
        let dw1 = (self.rid as u32) << 16
            | (self.tag as u32) << 8
            | ((self.last_be as u32) & 0xF) << 4
            | (self.first_be as u32) & 0xF;
        if four {
            [dw0, dw1, (self.addr >> 32) as u32, self.addr as u32 & !3]
        } else {
            [dw0, dw1, self.addr as u32 & !3, 0]
        }
    }
}

/// What the ordering rules and the checks need to know about a request header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Info {
    /// Fmt field, DW0 bits 31:29.
    pub fmt: u8,
    /// Type field, DW0 bits 28:24.
    pub ty: u8,
    /// Memory write (posted).
    pub posted: bool,
    /// Requester ID, DW1 bits 31:16.
    pub rid: u16,
    /// Attr RO (relaxed ordering).
    pub ro: bool,
    /// Attr IDO (ID-based ordering).
    pub ido: bool,
    /// 4DW header.
    pub four_dw: bool,
    /// Request address (DW aligned) and PH bits.
    pub addr: u64,
    /// Processing Hint bits, the low two bits of the last address DW.
    pub ph: u8,
}

/// May a request leave the unit (toward memory or the interrupt controller) before an earlier
/// one? decisions.md "Ordering": a posted write or a read never passes an earlier posted write
/// unless it has RO=1, or IDO=1 and another requester ID; interrupt requests (`*_irq`) are posted
/// writes ordered only with the DMA writes of the same device. Completions to the device travel
/// the other way and are not ordered with upstream writes.
pub fn may_pass(later: &Info, later_irq: bool, earlier: &Info, earlier_irq: bool) -> bool {
    let (l, e) = (later, earlier);
    if !e.posted || l.ro || (l.ido && l.rid != e.rid) {
        return true;
    }
    if later_irq != earlier_irq {
        // An interrupt and a DMA request: ordered only between posted writes of one device.
        return !(l.posted && l.rid == e.rid);
    }
    false
}

/// Decode the fields of `hdr` the harness needs (no validity checks: the model judges those).
pub fn info(hdr: &[u32; 4]) -> Info {
    let dw0 = hdr[0];
    let fmt = (dw0 >> 29) as u8 & 7;
    let ty = (dw0 >> 24) as u8 & 0x1F;
    let four_dw = fmt & 1 == 1;
    let (addr, ph) = if four_dw {
        (
            ((hdr[2] as u64) << 32) | (hdr[3] & !3) as u64,
            (hdr[3] & 3) as u8,
        )
    } else {
        ((hdr[2] & !3) as u64, (hdr[2] & 3) as u8)
    };
    Info {
        fmt,
        ty,
        posted: (fmt & 0b110) == 0b010 && ty == 0,
        rid: (hdr[1] >> 16) as u16,
        ro: dw0 & (1 << 13) != 0,
        ido: dw0 & (1 << 18) != 0,
        four_dw,
        addr,
        ph,
    }
}

/// The header the DUT must send downstream for `hdr` translated to `out_addr` (DW aligned): every
/// field unchanged except the address, the Fmt 3DW/4DW bit (4DW iff the output address is at or
/// above 4 GiB) and the address DWs (rtl/README.md `dn_hdr`).
pub fn translated(hdr: &[u32; 4], out_addr: u64) -> [u32; 4] {
    let i = info(hdr);
    let four = out_addr > 0xFFFF_FFFF;
    let mut dw0 = hdr[0] & !(1 << 29);
    if four {
        dw0 |= 1 << 29;
        [
            dw0,
            hdr[1],
            (out_addr >> 32) as u32,
            (out_addr as u32 & !3) | i.ph as u32,
        ]
    } else {
        [dw0, hdr[1], (out_addr as u32 & !3) | i.ph as u32, 0]
    }
}

/// Fields of a completion header (3 DWs, DW0 first) the checks compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CplInfo {
    /// Fmt field, DW0 bits 31:29 (000 for a completion without data).
    pub fmt: u8,
    /// Type field, DW0 bits 28:24 (01010 for a completion).
    pub ty: u8,
    /// Completer ID, DW1 bits 31:16.
    pub completer: u16,
    /// Completion status: 0 SC, 1 UR, 2 CRS, 4 CA.
    pub status: u8,
    /// Requester ID of the request completed, DW2 bits 31:16.
    pub requester: u16,
    /// Tag of the request completed, DW2 bits 15:8.
    pub tag: u8,
}

/// Decode the fields of a completion header (DW0 first) that the checks compare.
pub fn cpl_info(hdr: &[u32; 3]) -> CplInfo {
    CplInfo {
        fmt: (hdr[0] >> 29) as u8 & 7,
        ty: (hdr[0] >> 24) as u8 & 0x1F,
        completer: (hdr[1] >> 16) as u16,
        status: (hdr[1] >> 13) as u8 & 7,
        requester: (hdr[2] >> 16) as u16,
        tag: (hdr[2] >> 8) as u8,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_3dw_hand_encoded() {
        // MRd 3DW: Fmt 000 Type 00000, Length 1, RID 0x0100, tag 0x05, LastBE 0, FirstBE F,
        // address 0x1234_5678 -> DW0 0x0000_0001, DW1 0x0100_050F, DW2 0x1234_5678.
        let h = Req::read(0x0100, 5, 0x1234_5678, 4).encode();
        assert_eq!(h, [0x0000_0001, 0x0100_050F, 0x1234_5678, 0]);
    }

    #[test]
    fn write_4dw_hand_encoded() {
        // MWr 4DW: Fmt 011, Length 16 DW, RID 0x0380, tag 0, BEs FF, address 0x1_2345_6000.
        let h = Req::write(0x0380, 0, 0x1_2345_6000, 64).encode();
        assert_eq!(h, [0x6000_0010, 0x0380_00FF, 0x0000_0001, 0x2345_6000]);
        let i = info(&h);
        assert!(i.posted && i.four_dw);
        assert_eq!(i.addr, 0x1_2345_6000);
    }

    #[test]
    fn translate_down_to_3dw() {
        let h = Req::write(0x0380, 0, 0x1_2345_6000, 64).encode();
        assert_eq!(
            translated(&h, 0x8000_1000),
            [0x4000_0010, 0x0380_00FF, 0x8000_1000, 0]
        );
    }
}
