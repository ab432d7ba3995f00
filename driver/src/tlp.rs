//! PCIe transaction-layer packet headers: memory requests, atomics, completions and MSI writes
//! (spec section C, PCIe Base 3.0+ non-flit mode).
//!
//! A header is handled as up to four dwords `[u32; 4]`, DW0 first, each dword as a `u32` whose bit
//! 31 is bit 7 of its first byte on the wire (spec C: "big-endian within each DW"). 3DW headers
//! leave DW3 zero (and ignore it when decoding). [`RequestHeader::to_bytes`] /
//! [`RequestHeader::from_bytes`] convert to and from the wire byte order.
//!
//! Decoding validates what a receiver must check and returns a typed [`TlpError`] for a malformed
//! header (reserved Fmt/Type, TLP prefixes, AT=11, 4 KiB crossing, byte-enable rules, Length
//! beyond Max_Payload_Size / Max_Read_Request_Size, AtomicOp operand size and alignment). Decoding
//! never panics, whatever the input.

use crate::types::Rid;
use thiserror::Error;

/// Default Max_Payload_Size and Max_Read_Request_Size in bytes (the architectural maximum).
pub const DEFAULT_MAX_SIZE: u32 = 4096;

/// Fmt values (spec C2), DW0\[31:29\].
pub mod fmt {
    /// 3DW header, no data.
    pub const DW3_NO_DATA: u8 = 0b000;
    /// 4DW header, no data.
    pub const DW4_NO_DATA: u8 = 0b001;
    /// 3DW header with data.
    pub const DW3_DATA: u8 = 0b010;
    /// 4DW header with data.
    pub const DW4_DATA: u8 = 0b011;
    /// TLP prefix (not supported by this codec).
    pub const PREFIX: u8 = 0b100;
}

/// Type values (spec C2), DW0\[28:24\].
pub mod typ {
    /// Type 0_0000: memory request (MRd with Fmt 000/001, MWr with Fmt 010/011).
    pub const MEM: u8 = 0b0_0000;
    /// Type 0_0001: locked memory read (MRdLk), and nothing else.
    pub const MEM_LOCKED: u8 = 0b0_0001;
    /// Type 0_0010: I/O request (IORd / IOWr), 3DW only.
    pub const IO: u8 = 0b0_0010;
    /// Type 0_0100: Type 0 configuration request (CfgRd0 / CfgWr0).
    pub const CFG0: u8 = 0b0_0100;
    /// Type 0_0101: Type 1 configuration request (CfgRd1 / CfgWr1).
    pub const CFG1: u8 = 0b0_0101;
    /// Type 0_1010: completion (Cpl without data, CplD with data).
    pub const CPL: u8 = 0b0_1010;
    /// Type 0_1011: completion of a locked read (CplLk / CplDLk).
    pub const CPL_LOCKED: u8 = 0b0_1011;
    /// Type 0_1100: FetchAdd AtomicOp (always carries data).
    pub const FETCH_ADD: u8 = 0b0_1100;
    /// Type 0_1101: unconditional Swap AtomicOp (always carries data).
    pub const SWAP: u8 = 0b0_1101;
    /// Type 0_1110: Compare-and-Swap AtomicOp (always carries data).
    pub const CAS: u8 = 0b0_1110;
    /// Message, routing in bits 2:0.
    pub const MSG: u8 = 0b1_0000;
}

/// Why a header could not be decoded or built.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum TlpError {
    /// Fmt=100: a TLP prefix, which this codec does not support.
    #[error("TLP prefix (Fmt=100) not supported")]
    Prefix,
    /// A Fmt/Type combination the PCIe spec does not define (spec C2).
    #[error("reserved Fmt/Type combination fmt={fmt:#05b} type={typ:#07b}")]
    ReservedFmtType {
        /// The Fmt field, DW0\[31:29\].
        fmt: u8,
        /// The Type field, DW0\[28:24\].
        typ: u8,
    },
    /// A defined TLP that is not a memory/atomic request (IO, Cfg, Msg, Cpl) given to the
    /// request decoder.
    #[error("fmt={fmt:#05b} type={typ:#07b} is not a memory or atomic request")]
    NotARequest {
        /// The Fmt field, DW0\[31:29\].
        fmt: u8,
        /// The Type field, DW0\[28:24\].
        typ: u8,
    },
    /// A defined TLP that is not a completion given to the completion decoder.
    #[error("fmt={fmt:#05b} type={typ:#07b} is not a completion")]
    NotACompletion {
        /// The Fmt field, DW0\[31:29\].
        fmt: u8,
        /// The Type field, DW0\[28:24\].
        typ: u8,
    },
    /// AT=11 is reserved (spec C1, C6).
    #[error("address type AT=11 is reserved")]
    ReservedAt,
    /// The request's DW range crosses a 4 KiB boundary (spec C3).
    #[error("request at {address:#x} of {length} DW crosses a 4 KiB boundary")]
    Crosses4k {
        /// The request's DW-aligned start address.
        address: u64,
        /// The request's Length in DW.
        length: u16,
    },
    /// Byte enables break the rules of spec C3 (Length=1 with LastBE!=0; Length>1 with FirstBE
    /// or LastBE zero).
    #[error("bad byte enables for Length {length}: first {first_be:#06b}, last {last_be:#06b}")]
    BadByteEnables {
        /// The request's Length in DW.
        length: u16,
        /// First DW BE, DW1\[3:0\].
        first_be: u8,
        /// Last DW BE, DW1\[7:4\].
        last_be: u8,
    },
    /// A write's (or AtomicOp's) payload exceeds Max_Payload_Size.
    #[error("payload of {bytes} bytes exceeds Max_Payload_Size {mps}")]
    ExceedsMps {
        /// Payload size in bytes (Length x 4).
        bytes: u32,
        /// The receiver's Max_Payload_Size in bytes.
        mps: u32,
    },
    /// A read's Length exceeds Max_Read_Request_Size.
    #[error("read of {bytes} bytes exceeds Max_Read_Request_Size {mrrs}")]
    ExceedsMrrs {
        /// Requested size in bytes (Length x 4).
        bytes: u32,
        /// The receiver's Max_Read_Request_Size in bytes.
        mrrs: u32,
    },
    /// AtomicOp with an unsupported payload length (FetchAdd/Swap: 1 or 2 DW; CAS: 2, 4 or 8 DW).
    #[error("{kind:?} with Length {length} DW is not a valid AtomicOp operand size")]
    BadAtomicLength {
        /// Which AtomicOp (FetchAdd, Swap or CAS).
        kind: RequestKind,
        /// The payload Length in DW.
        length: u16,
    },
    /// AtomicOp address not naturally aligned to the operand size.
    #[error("{kind:?} at {address:#x} is not aligned to its operand size")]
    MisalignedAtomic {
        /// Which AtomicOp (FetchAdd, Swap or CAS).
        kind: RequestKind,
        /// The request's address, which is not a multiple of the operand size.
        address: u64,
    },
    /// A completion status value other than SC/UR/CRS/CA (strict decoding only).
    #[error("reserved completion status {status:#05b}")]
    ReservedCplStatus {
        /// The 3-bit Completion Status field, DW1\[15:13\].
        status: u8,
    },
    /// Fewer bytes than the header needs.
    #[error("header needs {need} bytes, got {got}")]
    Truncated {
        /// Header bytes required (12 for 3DW, 16 for 4DW).
        need: usize,
        /// Bytes supplied.
        got: usize,
    },
    /// A posted request (MWr) has no completion.
    #[error("a posted request has no completion")]
    PostedHasNoCompletion,
    /// Builder: a transfer longer than one request may carry (4096 bytes / MPS / MRRS).
    #[error("transfer of {len_bytes} bytes is longer than one request may carry")]
    TooLong {
        /// The requested transfer size in bytes.
        len_bytes: u64,
    },
}

/// Receiver limits used by decoding (Device Control MPS / MRRS), in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Max_Payload_Size: MWr and AtomicOp payloads above this are malformed.
    pub mps: u32,
    /// Max_Read_Request_Size: MRd / MRdLk Lengths above this are malformed.
    pub mrrs: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            mps: DEFAULT_MAX_SIZE,
            mrrs: DEFAULT_MAX_SIZE,
        }
    }
}

/// The request kinds this codec decodes (spec C2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RequestKind {
    /// MRd (Type 0_0000, no data).
    MemRead,
    /// MRdLk (Type 0_0001, no data).
    MemReadLocked,
    /// MWr (Type 0_0000, with data): the only posted kind.
    MemWrite,
    /// FetchAdd AtomicOp (Type 0_1100).
    FetchAdd,
    /// Unconditional Swap AtomicOp (Type 0_1101).
    Swap,
    /// Compare-and-Swap AtomicOp (Type 0_1110).
    Cas,
}

impl RequestKind {
    /// The Type field value.
    pub const fn type_bits(self) -> u8 {
        match self {
            RequestKind::MemRead | RequestKind::MemWrite => typ::MEM,
            RequestKind::MemReadLocked => typ::MEM_LOCKED,
            RequestKind::FetchAdd => typ::FETCH_ADD,
            RequestKind::Swap => typ::SWAP,
            RequestKind::Cas => typ::CAS,
        }
    }
    /// Whether the request carries a payload (Fmt bit 1).
    pub const fn has_data(self) -> bool {
        !matches!(self, RequestKind::MemRead | RequestKind::MemReadLocked)
    }
    /// Posted (no completion): only MWr.
    pub const fn is_posted(self) -> bool {
        matches!(self, RequestKind::MemWrite)
    }
    /// One of the three AtomicOps.
    pub const fn is_atomic(self) -> bool {
        matches!(
            self,
            RequestKind::FetchAdd | RequestKind::Swap | RequestKind::Cas
        )
    }
    /// A read (MRd or MRdLk).
    pub const fn is_read(self) -> bool {
        matches!(self, RequestKind::MemRead | RequestKind::MemReadLocked)
    }
}

/// Attr bits (spec C1): RO = DW0\[13\], NS = DW0\[12\], IDO = DW0\[18\].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Attr {
    /// Relaxed ordering (Attr\[1\]).
    pub ro: bool,
    /// No snoop (Attr\[0\]).
    pub ns: bool,
    /// ID-based ordering (Attr\[2\]).
    pub ido: bool,
}

/// What a Fmt/Type pair is (spec C2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Request(RequestKind),
    /// Cpl/CplD/CplLk/CplDLk.
    Completion,
    /// IO, Cfg, Msg: defined but not handled here.
    Other,
}

fn classify(f: u8, t: u8) -> Result<Class, TlpError> {
    if f == fmt::PREFIX {
        return Err(TlpError::Prefix);
    }
    let reserved = Err(TlpError::ReservedFmtType { fmt: f, typ: t });
    if f > fmt::DW4_DATA {
        return reserved;
    }
    let data = f & 0b010 != 0;
    let four = f & 0b001 != 0;
    match t {
        typ::MEM => Ok(Class::Request(if data {
            RequestKind::MemWrite
        } else {
            RequestKind::MemRead
        })),
        typ::MEM_LOCKED if !data => Ok(Class::Request(RequestKind::MemReadLocked)),
        typ::FETCH_ADD if data => Ok(Class::Request(RequestKind::FetchAdd)),
        typ::SWAP if data => Ok(Class::Request(RequestKind::Swap)),
        typ::CAS if data => Ok(Class::Request(RequestKind::Cas)),
        typ::CPL | typ::CPL_LOCKED if !four => Ok(Class::Completion),
        typ::IO | typ::CFG0 | typ::CFG1 if !four => Ok(Class::Other),
        // Msg (Fmt 001) / MsgD (Fmt 011), routing 000-101 defined.
        t if t & 0b1_1000 == typ::MSG && four && t & 0b111 <= 0b101 => Ok(Class::Other),
        _ => reserved,
    }
}

/// Assemble up to four header DWs from wire bytes (big-endian within each DW). The header
/// length (3 or 4 DW) is taken from the Fmt field of byte 0; bytes after the header (payload)
/// are ignored. Returns the DWs (DW3 = 0 for a 3DW header) and the header length in DWs.
pub fn dws_from_bytes(bytes: &[u8]) -> Result<([u32; 4], usize), TlpError> {
    let Some(&b0) = bytes.first() else {
        return Err(TlpError::Truncated { need: 12, got: 0 });
    };
    let n = if b0 & 0x20 != 0 { 4 } else { 3 };
    if bytes.len() < 4 * n {
        return Err(TlpError::Truncated {
            need: 4 * n,
            got: bytes.len(),
        });
    }
    let mut dws = [0u32; 4];
    for (i, dw) in dws.iter_mut().enumerate().take(n) {
        *dw = u32::from_be_bytes([
            bytes[4 * i],
            bytes[4 * i + 1],
            bytes[4 * i + 2],
            bytes[4 * i + 3],
        ]);
    }
    Ok((dws, n))
}

fn dws_to_bytes(dws: &[u32; 4], n: usize) -> Vec<u8> {
    dws[..n].iter().flat_map(|d| d.to_be_bytes()).collect()
}

/// A decoded memory request or AtomicOp header (spec C1, C3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RequestHeader {
    /// MRd / MRdLk / MWr / FetchAdd / Swap / CAS.
    pub kind: RequestKind,
    /// The header uses the 4DW (64-bit address) format. Encoding uses 4DW when this is set or the
    /// address is above 0xFFFF_FFFF; builders set it iff the address is above 0xFFFF_FFFF.
    pub four_dw: bool,
    /// Traffic class, DW0\[22:20\].
    pub tc: u8,
    /// Attr\[2:0\] (RO, NS, IDO).
    pub attr: Attr,
    /// LN, DW0\[17\] (lightweight notification; normally 0).
    pub ln: bool,
    /// TH, DW0\[16\]: TLP processing hints present (PH valid; for reads and AtomicOps the BE
    /// fields carry the Steering Tag).
    pub th: bool,
    /// TD, DW0\[15\]: ECRC digest present.
    pub td: bool,
    /// EP, DW0\[14\]: poisoned.
    pub ep: bool,
    /// AT, DW0\[11:10\]: 0 untranslated, 1 translation request, 2 translated (3 is rejected).
    pub at: u8,
    /// Length in DW, 1..=1024 (the wire value 0 means 1024).
    pub length: u16,
    /// Requester ID, DW1\[31:16\].
    pub requester_id: Rid,
    /// Tag, 10 bits: T9 = DW0\[23\], T8 = DW0\[19\], Tag\[7:0\] = DW1\[15:8\].
    pub tag: u16,
    /// Last DW BE, DW1\[7:4\].
    pub last_be: u8,
    /// First DW BE, DW1\[3:0\].
    pub first_be: u8,
    /// DW-aligned address (bits 1:0 are zero; they carry PH on the wire).
    pub address: u64,
    /// Processing hint, address DW bits 1:0.
    pub ph: u8,
}

impl RequestHeader {
    /// Decode with the default limits (MPS = MRRS = 4096 bytes).
    pub fn decode(dws: &[u32; 4]) -> Result<Self, TlpError> {
        Self::decode_with(dws, Limits::default())
    }

    /// Decode and validate a request header (spec C1-C3). DW3 is ignored for 3DW headers. A 4DW
    /// header whose upper address is zero is accepted (and keeps `four_dw` set).
    pub fn decode_with(dws: &[u32; 4], limits: Limits) -> Result<Self, TlpError> {
        let dw0 = dws[0];
        let f = (dw0 >> 29) as u8;
        let t = ((dw0 >> 24) & 0x1F) as u8;
        let kind = match classify(f, t)? {
            Class::Request(k) => k,
            _ => return Err(TlpError::NotARequest { fmt: f, typ: t }),
        };
        let four_dw = f & 1 != 0;
        let at = ((dw0 >> 10) & 3) as u8;
        if at == 3 {
            return Err(TlpError::ReservedAt);
        }
        let raw_len = (dw0 & 0x3FF) as u16;
        let length = if raw_len == 0 { 1024 } else { raw_len };
        let dw1 = dws[1];
        let (address, ph) = if four_dw {
            (
                ((dws[2] as u64) << 32) | (dws[3] & !3) as u64,
                (dws[3] & 3) as u8,
            )
        } else {
            ((dws[2] & !3) as u64, (dws[2] & 3) as u8)
        };
        let h = RequestHeader {
            kind,
            four_dw,
            tc: ((dw0 >> 20) & 7) as u8,
            attr: Attr {
                ro: dw0 & (1 << 13) != 0,
                ns: dw0 & (1 << 12) != 0,
                ido: dw0 & (1 << 18) != 0,
            },
            ln: dw0 & (1 << 17) != 0,
            th: dw0 & (1 << 16) != 0,
            td: dw0 & (1 << 15) != 0,
            ep: dw0 & (1 << 14) != 0,
            at,
            length,
            requester_id: Rid((dw1 >> 16) as u16),
            tag: (((dw0 >> 23) & 1) << 9 | ((dw0 >> 19) & 1) << 8 | ((dw1 >> 8) & 0xFF)) as u16,
            last_be: ((dw1 >> 4) & 0xF) as u8,
            first_be: (dw1 & 0xF) as u8,
            address,
            ph,
        };
        h.validate(limits)?;
        Ok(h)
    }

    /// Check the receiver rules of spec C3 (and the AtomicOp operand rules) on this header.
    pub fn validate(&self, limits: Limits) -> Result<(), TlpError> {
        if self.at == 3 {
            return Err(TlpError::ReservedAt);
        }
        let bytes = self.length as u32 * 4;
        if self.kind.is_read() {
            if bytes > limits.mrrs {
                return Err(TlpError::ExceedsMrrs {
                    bytes,
                    mrrs: limits.mrrs,
                });
            }
        } else if bytes > limits.mps {
            return Err(TlpError::ExceedsMps {
                bytes,
                mps: limits.mps,
            });
        }
        // An AtomicOp touches only its (naturally aligned) operand, not the whole payload.
        let span = if self.kind.is_atomic() {
            self.atomic_operand_bytes()
        } else {
            bytes
        };
        if (self.address & 0xFFF) + span as u64 > 0x1000 {
            return Err(TlpError::Crosses4k {
                address: self.address,
                length: self.length,
            });
        }
        if self.kind.is_atomic() {
            let ok = match self.kind {
                RequestKind::Cas => matches!(self.length, 2 | 4 | 8),
                _ => matches!(self.length, 1 | 2),
            };
            if !ok {
                return Err(TlpError::BadAtomicLength {
                    kind: self.kind,
                    length: self.length,
                });
            }
            if self.address % self.atomic_operand_bytes() as u64 != 0 {
                return Err(TlpError::MisalignedAtomic {
                    kind: self.kind,
                    address: self.address,
                });
            }
        } else if !self.be_is_steering_tag() {
            let bad = if self.length == 1 {
                self.last_be != 0
            } else {
                self.first_be == 0 || self.last_be == 0
            };
            if bad {
                return Err(TlpError::BadByteEnables {
                    length: self.length,
                    first_be: self.first_be,
                    last_be: self.last_be,
                });
            }
        }
        Ok(())
    }

    /// Whether the BE fields carry the Steering Tag instead of byte enables (TH=1 on a read or
    /// AtomicOp, spec C3); all bytes of the DW range are then implied enabled.
    pub const fn be_is_steering_tag(&self) -> bool {
        self.th && !matches!(self.kind, RequestKind::MemWrite)
    }

    /// The Steering Tag ST\[7:0\] carried in DW1\[7:0\] when [`Self::be_is_steering_tag`].
    pub const fn steering_tag(&self) -> Option<u8> {
        if self.be_is_steering_tag() {
            Some(self.last_be << 4 | self.first_be)
        } else {
            None
        }
    }

    /// AtomicOp operand size in bytes (FetchAdd/Swap: the payload; CAS: half the payload).
    /// 0 for non-atomic requests.
    pub const fn atomic_operand_bytes(&self) -> u32 {
        match self.kind {
            RequestKind::FetchAdd | RequestKind::Swap => self.length as u32 * 4,
            RequestKind::Cas => self.length as u32 * 2,
            _ => 0,
        }
    }

    /// Whether encoding produces a 4DW header.
    pub const fn is_4dw(&self) -> bool {
        self.four_dw || self.address > 0xFFFF_FFFF
    }

    /// Header length in DW (3 or 4).
    pub const fn header_dws(&self) -> usize {
        if self.is_4dw() {
            4
        } else {
            3
        }
    }

    /// Encode to DWs (DW3 = 0 for a 3DW header). Fields are masked to their widths
    /// (Length 1024 is sent as 0; address bits 1:0 are replaced by PH).
    pub fn encode(&self) -> [u32; 4] {
        let four = self.is_4dw();
        let f = (self.kind.has_data() as u32) << 1 | four as u32;
        let dw0 = f << 29
            | (self.kind.type_bits() as u32) << 24
            | ((self.tag as u32 >> 9) & 1) << 23
            | (self.tc as u32 & 7) << 20
            | ((self.tag as u32 >> 8) & 1) << 19
            | (self.attr.ido as u32) << 18
            | (self.ln as u32) << 17
            | (self.th as u32) << 16
            | (self.td as u32) << 15
            | (self.ep as u32) << 14
            | (self.attr.ro as u32) << 13
            | (self.attr.ns as u32) << 12
            | (self.at as u32 & 3) << 10
            | (self.length as u32 & 0x3FF);
        let dw1 = (self.requester_id.0 as u32) << 16
            | (self.tag as u32 & 0xFF) << 8
            | (self.last_be as u32 & 0xF) << 4
            | (self.first_be as u32 & 0xF);
        let lo = (self.address as u32 & !3) | (self.ph as u32 & 3);
        if four {
            [dw0, dw1, (self.address >> 32) as u32, lo]
        } else {
            [dw0, dw1, lo, 0]
        }
    }

    /// Wire bytes of the header (12 or 16 bytes).
    pub fn to_bytes(&self) -> Vec<u8> {
        dws_to_bytes(&self.encode(), self.header_dws())
    }

    /// Decode from wire bytes (payload after the header is ignored), default limits.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, TlpError> {
        Self::from_bytes_with(bytes, Limits::default())
    }

    /// Decode from wire bytes with the given limits.
    pub fn from_bytes_with(bytes: &[u8], limits: Limits) -> Result<Self, TlpError> {
        let (dws, _) = dws_from_bytes(bytes)?;
        Self::decode_with(&dws, limits)
    }

    /// Offset (0..=3) of the first enabled byte in the first DW; 0 when FirstBE is 0 or the BE
    /// fields hold a Steering Tag.
    pub const fn first_byte_offset(&self) -> u8 {
        if self.be_is_steering_tag() || self.kind.is_atomic() || self.first_be & 0xF == 0 {
            0
        } else {
            (self.first_be & 0xF).trailing_zeros() as u8
        }
    }

    /// Byte address of the first enabled byte.
    pub const fn first_byte_address(&self) -> u64 {
        self.address.wrapping_add(self.first_byte_offset() as u64)
    }

    /// Byte count of the request (PCIe "Calculating Byte Count from Length and Byte Enables"):
    /// Length=1: span from the lowest to the highest enabled byte of FirstBE (1 when FirstBE=0);
    /// Length>1: Length*4 minus the disabled leading bytes of FirstBE and trailing bytes of LastBE.
    /// AtomicOps: the operand size. TH=1 reads: Length*4.
    pub const fn byte_count(&self) -> u32 {
        if self.kind.is_atomic() {
            return self.atomic_operand_bytes();
        }
        let len = self.length as u32;
        if self.be_is_steering_tag() {
            return len * 4;
        }
        let fb = self.first_be & 0xF;
        let lb = self.last_be & 0xF;
        if len == 1 {
            if fb == 0 {
                1
            } else {
                8 - fb.leading_zeros() - fb.trailing_zeros()
            }
        } else {
            let lead = if fb == 0 { 0 } else { fb.trailing_zeros() };
            let trail = if lb == 0 { 0 } else { lb.leading_zeros() - 4 };
            (len * 4).saturating_sub(lead + trail)
        }
    }

    /// Lower Address for a completion of this request (spec C4, D5 #17):
    /// `(address + offset of first enabled byte) & 0x7F`.
    pub const fn lower_address(&self) -> u8 {
        (self.first_byte_address() & 0x7F) as u8
    }
}

/// Completion status (spec C4), DW1\[15:13\].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CplStatus {
    /// 000 Successful Completion.
    Sc,
    /// 001 Unsupported Request.
    Ur,
    /// 010 Configuration Request Retry Status.
    Crs,
    /// 100 Completer Abort.
    Ca,
}

impl CplStatus {
    /// The 3-bit field value.
    pub const fn code(self) -> u8 {
        match self {
            CplStatus::Sc => 0b000,
            CplStatus::Ur => 0b001,
            CplStatus::Crs => 0b010,
            CplStatus::Ca => 0b100,
        }
    }
    /// Strict decode: reserved values give [`TlpError::ReservedCplStatus`].
    pub const fn from_code(code: u8) -> Result<Self, TlpError> {
        match code {
            0b000 => Ok(CplStatus::Sc),
            0b001 => Ok(CplStatus::Ur),
            0b010 => Ok(CplStatus::Crs),
            0b100 => Ok(CplStatus::Ca),
            s => Err(TlpError::ReservedCplStatus { status: s }),
        }
    }
    /// Receiver decode (spec C4): reserved values are treated as UR.
    pub const fn from_code_lossy(code: u8) -> Self {
        match Self::from_code(code) {
            Ok(s) => s,
            Err(_) => CplStatus::Ur,
        }
    }
}

/// A completion header, Cpl / CplD / CplLk / CplDLk (spec C4). Always 3 DW.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Completion {
    /// CplD / CplDLk (Fmt 010) rather than Cpl / CplLk (Fmt 000).
    pub with_data: bool,
    /// CplLk / CplDLk (Type 0_1011): the completion of an MRdLk.
    pub locked: bool,
    /// Traffic class, copied from the request.
    pub tc: u8,
    /// Attr, copied from the request.
    pub attr: Attr,
    /// TD: ECRC digest present.
    pub td: bool,
    /// EP: poisoned.
    pub ep: bool,
    /// Length in DW: with data 1..=1024 (wire 0 = 1024); without data the (reserved) raw field,
    /// normally 0.
    pub length: u16,
    /// Completer ID, DW1\[31:16\].
    pub completer_id: Rid,
    /// Completion status, DW1\[15:13\].
    pub status: CplStatus,
    /// BCM, DW1\[12\] (byte count modified, PCI-X bridges only).
    pub bcm: bool,
    /// Byte Count 1..=4096 (wire 0 = 4096), DW1\[11:0\]: bytes left including this completion.
    pub byte_count: u16,
    /// Requester ID, DW2\[31:16\], copied from the request.
    pub requester_id: Rid,
    /// Tag, 10 bits (T9 = DW0\[23\], T8 = DW0\[19\], Tag\[7:0\] = DW2\[15:8\]).
    pub tag: u16,
    /// Lower Address, DW2\[6:0\].
    pub lower_address: u8,
}

impl Completion {
    /// Decode a completion header (DW3 ignored). A reserved status is treated as UR (spec C4);
    /// use [`Completion::decode_strict`] to reject it instead.
    pub fn decode(dws: &[u32; 4]) -> Result<Self, TlpError> {
        Self::decode_inner(dws, false)
    }

    /// Decode, rejecting reserved status values with [`TlpError::ReservedCplStatus`].
    pub fn decode_strict(dws: &[u32; 4]) -> Result<Self, TlpError> {
        Self::decode_inner(dws, true)
    }

    fn decode_inner(dws: &[u32; 4], strict: bool) -> Result<Self, TlpError> {
        let dw0 = dws[0];
        let f = (dw0 >> 29) as u8;
        let t = ((dw0 >> 24) & 0x1F) as u8;
        if classify(f, t)? != Class::Completion {
            return Err(TlpError::NotACompletion { fmt: f, typ: t });
        }
        let with_data = f & 0b010 != 0;
        let raw_len = (dw0 & 0x3FF) as u16;
        let code = ((dws[1] >> 13) & 7) as u8;
        let status = if strict {
            CplStatus::from_code(code)?
        } else {
            CplStatus::from_code_lossy(code)
        };
        let bc = (dws[1] & 0xFFF) as u16;
        Ok(Completion {
            with_data,
            locked: t == typ::CPL_LOCKED,
            tc: ((dw0 >> 20) & 7) as u8,
            attr: Attr {
                ro: dw0 & (1 << 13) != 0,
                ns: dw0 & (1 << 12) != 0,
                ido: dw0 & (1 << 18) != 0,
            },
            td: dw0 & (1 << 15) != 0,
            ep: dw0 & (1 << 14) != 0,
            length: if with_data && raw_len == 0 {
                1024
            } else {
                raw_len
            },
            completer_id: Rid((dws[1] >> 16) as u16),
            status,
            bcm: dws[1] & (1 << 12) != 0,
            byte_count: if bc == 0 { 4096 } else { bc },
            requester_id: Rid((dws[2] >> 16) as u16),
            tag: (((dw0 >> 23) & 1) << 9 | ((dw0 >> 19) & 1) << 8 | ((dws[2] >> 8) & 0xFF)) as u16,
            lower_address: (dws[2] & 0x7F) as u8,
        })
    }

    /// Encode to DWs (DW3 = 0). Fields are masked to their widths (Length 1024 and Byte Count
    /// 4096 are sent as 0).
    pub fn encode(&self) -> [u32; 4] {
        let f = (self.with_data as u32) << 1;
        let t = if self.locked {
            typ::CPL_LOCKED
        } else {
            typ::CPL
        } as u32;
        let dw0 = f << 29
            | t << 24
            | ((self.tag as u32 >> 9) & 1) << 23
            | (self.tc as u32 & 7) << 20
            | ((self.tag as u32 >> 8) & 1) << 19
            | (self.attr.ido as u32) << 18
            | (self.td as u32) << 15
            | (self.ep as u32) << 14
            | (self.attr.ro as u32) << 13
            | (self.attr.ns as u32) << 12
            | (self.length as u32 & 0x3FF);
        let dw1 = (self.completer_id.0 as u32) << 16
            | (self.status.code() as u32) << 13
            | (self.bcm as u32) << 12
            | (self.byte_count as u32 & 0xFFF);
        let dw2 = (self.requester_id.0 as u32) << 16
            | (self.tag as u32 & 0xFF) << 8
            | (self.lower_address as u32 & 0x7F);
        [dw0, dw1, dw2, 0]
    }

    /// Wire bytes (12).
    pub fn to_bytes(&self) -> Vec<u8> {
        dws_to_bytes(&self.encode(), 3)
    }

    /// Decode from wire bytes (payload ignored).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, TlpError> {
        let (dws, _) = dws_from_bytes(bytes)?;
        Self::decode(&dws)
    }

    /// The single completion a completer returns for a non-posted request (spec C4):
    /// Requester ID, Tag, TC and Attr copied; SC gives a CplD (CplDLk for MRdLk) carrying the
    /// whole read (or the AtomicOp's original value: operand-size data); any other status gives a
    /// Cpl (CplLk) without data, Length 0. Byte Count is the request's byte count (operand size
    /// for AtomicOps) and Lower Address is (address + first enabled byte) & 0x7F.
    /// A posted request (MWr) gives [`TlpError::PostedHasNoCompletion`].
    ///
    /// ```
    /// use iommu_driver::tlp::{mem_read, Completion, CplStatus};
    /// use iommu_driver::Rid;
    ///
    /// let req = mem_read(Rid(0x0300), 5, 0x1000_0044, 4).unwrap();
    /// // Successful 1-DW read completion from completer 00:00.0 (CplD, Byte Count 4).
    /// let cpl = Completion::for_request(&req, Rid(0), CplStatus::Sc).unwrap();
    /// assert_eq!(cpl.encode(), [0x4A00_0001, 0x0000_0004, 0x0300_0544, 0]);
    /// // An Unsupported Request gets a Cpl without data (Length 0).
    /// let ur = Completion::for_request(&req, Rid(0), CplStatus::Ur).unwrap();
    /// assert_eq!(ur.encode()[0], 0x0A00_0000);
    /// assert_eq!(ur.encode()[1], 0x0000_2004);
    /// ```
    pub fn for_request(
        req: &RequestHeader,
        completer_id: Rid,
        status: CplStatus,
    ) -> Result<Self, TlpError> {
        if req.kind.is_posted() {
            return Err(TlpError::PostedHasNoCompletion);
        }
        let with_data = status == CplStatus::Sc;
        let data_dws = if req.kind.is_atomic() {
            (req.atomic_operand_bytes() / 4) as u16
        } else {
            req.length
        };
        Ok(Completion {
            with_data,
            locked: req.kind == RequestKind::MemReadLocked,
            tc: req.tc & 7,
            attr: req.attr,
            td: false,
            ep: false,
            length: if with_data { data_dws } else { 0 },
            completer_id,
            status,
            bcm: false,
            byte_count: req.byte_count() as u16,
            requester_id: req.requester_id,
            tag: req.tag & 0x3FF,
            lower_address: req.lower_address(),
        })
    }
}

/// Either kind of header this codec handles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tlp {
    /// A memory read/write or AtomicOp request header.
    Request(RequestHeader),
    /// A completion header (Cpl, CplD, CplLk or CplDLk).
    Completion(Completion),
}

impl Tlp {
    /// Decode any memory/atomic request or completion header.
    pub fn decode(dws: &[u32; 4], limits: Limits) -> Result<Self, TlpError> {
        let f = (dws[0] >> 29) as u8;
        let t = ((dws[0] >> 24) & 0x1F) as u8;
        match classify(f, t)? {
            Class::Request(_) => RequestHeader::decode_with(dws, limits).map(Tlp::Request),
            Class::Completion => Completion::decode(dws).map(Tlp::Completion),
            Class::Other => Err(TlpError::NotARequest { fmt: f, typ: t }),
        }
    }

    /// Decode from wire bytes.
    pub fn from_bytes(bytes: &[u8], limits: Limits) -> Result<Self, TlpError> {
        let (dws, _) = dws_from_bytes(bytes)?;
        Self::decode(&dws, limits)
    }
}

/// Build a request covering `len_bytes` bytes from byte address `addr` (like cocotbext
/// `set_addr_be`): Length, FirstBE and LastBE derived from the byte range; 4DW iff `addr` is
/// above 0xFFFF_FFFF. `len_bytes == 0` gives a zero-length request (Length 1, FirstBE 0).
/// Errors: longer than 4096 bytes, or crossing a 4 KiB boundary.
fn build(
    kind: RequestKind,
    rid: Rid,
    tag: u16,
    addr: u64,
    len_bytes: u64,
) -> Result<RequestHeader, TlpError> {
    if len_bytes > DEFAULT_MAX_SIZE as u64 {
        return Err(TlpError::TooLong { len_bytes });
    }
    let start = addr & !3;
    let (length, first_be, last_be) = if len_bytes == 0 {
        (1u16, 0u8, 0u8)
    } else {
        let end = addr as u128 + len_bytes as u128; // exclusive
        let dws = (end.div_ceil(4) - (addr as u128) / 4) as u64;
        let first = (0xFu8 << (addr & 3)) & 0xF;
        let last_off = ((end - 1) & 3) as u32; // offset of the last byte in its DW
        let last = 0xFu8 >> (3 - last_off);
        if dws == 1 {
            (1, first & last, 0)
        } else {
            // At most 1025 DWs here (4096 bytes from an unaligned start), which always crosses
            // 4 KiB and is rejected below.
            (dws as u16, first, last)
        }
    };
    if (start & 0xFFF) + length as u64 * 4 > 0x1000 {
        return Err(TlpError::Crosses4k {
            address: start,
            length,
        });
    }
    Ok(RequestHeader {
        kind,
        four_dw: addr > 0xFFFF_FFFF,
        tc: 0,
        attr: Attr::default(),
        ln: false,
        th: false,
        td: false,
        ep: false,
        at: 0,
        length,
        requester_id: rid,
        tag: tag & 0x3FF,
        last_be,
        first_be,
        address: start,
        ph: 0,
    })
}

/// MRd of `len_bytes` bytes at byte address `addr` (tag masked to 10 bits).
///
/// An unaligned 6-byte read below 4 GiB uses the 3DW format and spans two DWs:
///
/// ```
/// use iommu_driver::tlp::{mem_read, RequestKind};
/// use iommu_driver::Rid;
///
/// let h = mem_read(Rid(0x0300), 7, 0x1002, 6).unwrap();
/// assert_eq!(h.kind, RequestKind::MemRead);
/// assert_eq!((h.length, h.first_be, h.last_be), (2, 0b1100, 0b1111));
/// assert_eq!(h.encode(), [0x0000_0002, 0x0300_07FC, 0x0000_1000, 0]);
/// assert_eq!(h.byte_count(), 6);
/// ```
pub fn mem_read(rid: Rid, tag: u16, addr: u64, len_bytes: u64) -> Result<RequestHeader, TlpError> {
    build(RequestKind::MemRead, rid, tag, addr, len_bytes)
}

/// MWr of `len_bytes` bytes at byte address `addr` (tag masked to 10 bits).
///
/// The 64-bit DMA write of spec C7 (16 DW to 0x1_2345_6000) needs the 4DW format:
///
/// ```
/// use iommu_driver::tlp::{mem_write, RequestHeader};
/// use iommu_driver::Rid;
///
/// let h = mem_write(Rid(0x0300), 0, 0x1_2345_6000, 64).unwrap();
/// assert!(h.is_4dw());
/// assert_eq!(h.encode(), [0x6000_0010, 0x0300_00FF, 0x0000_0001, 0x2345_6000]);
/// // The wire form is big-endian within each DW and decodes back to the same header.
/// let bytes = h.to_bytes();
/// assert_eq!(&bytes[..4], &[0x60, 0x00, 0x00, 0x10]);
/// assert_eq!(RequestHeader::from_bytes(&bytes), Ok(h));
/// ```
pub fn mem_write(rid: Rid, tag: u16, addr: u64, len_bytes: u64) -> Result<RequestHeader, TlpError> {
    build(RequestKind::MemWrite, rid, tag, addr, len_bytes)
}

/// An AtomicOp of the given operand size (FetchAdd/Swap: 4 or 8; CAS: 4, 8 or 16 bytes) at a
/// naturally aligned `addr`. The BE fields are set to all-enabled for the payload DWs.
pub fn atomic(
    kind: RequestKind,
    rid: Rid,
    tag: u16,
    addr: u64,
    operand_bytes: u32,
) -> Result<RequestHeader, TlpError> {
    if !kind.is_atomic() {
        return Err(TlpError::NotARequest {
            fmt: fmt::DW3_DATA,
            typ: kind.type_bits(),
        });
    }
    let payload = if kind == RequestKind::Cas {
        operand_bytes as u64 * 2
    } else {
        operand_bytes as u64
    };
    let length = if payload % 4 == 0 && payload <= 32 {
        (payload / 4) as u16
    } else {
        0
    };
    let h = RequestHeader {
        kind,
        four_dw: addr > 0xFFFF_FFFF,
        tc: 0,
        attr: Attr::default(),
        ln: false,
        th: false,
        td: false,
        ep: false,
        at: 0,
        length,
        requester_id: rid,
        tag: tag & 0x3FF,
        last_be: if length > 1 { 0xF } else { 0 },
        first_be: 0xF,
        address: addr,
        ph: 0,
    };
    if length == 0 {
        return Err(TlpError::BadAtomicLength { kind, length });
    }
    h.validate(Limits::default())?;
    Ok(h)
}

/// An MSI as a TLP (spec C7): MWr, Length 1, FirstBE 0xF, LastBE 0, tag 0, payload = `data`
/// (little-endian in the payload bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MsiWrite {
    /// The MWr header: Length 1, FirstBE 0xF, LastBE 0, 3DW below 4 GiB.
    pub header: RequestHeader,
    /// The message data (the first payload DW as a little-endian value).
    pub data: u32,
}

impl MsiWrite {
    /// Header DWs.
    pub fn hdr(&self) -> [u32; 4] {
        self.header.encode()
    }
    /// Payload bytes in address order.
    pub fn payload(&self) -> [u8; 4] {
        self.data.to_le_bytes()
    }
}

/// Build the MSI write from `rid` to `addr` (bits 1:0 ignored) with message `data` (spec C7).
///
/// The worked example of spec C7: device 03:00.0 sends the remappable MSI with handle 0x1234,
/// SHV=1 and subhandle 2:
///
/// ```
/// use iommu_driver::tlp::msi_write;
/// use iommu_driver::Rid;
///
/// let m = msi_write(Rid::from_bdf(3, 0, 0), 0xFEE2_4698, 2);
/// assert_eq!(m.hdr(), [0x4000_0001, 0x0300_000F, 0xFEE2_4698, 0]);
/// assert_eq!(m.payload(), [0x02, 0x00, 0x00, 0x00]);
/// ```
pub fn msi_write(rid: Rid, addr: u64, data: u32) -> MsiWrite {
    let header = RequestHeader {
        kind: RequestKind::MemWrite,
        four_dw: addr > 0xFFFF_FFFF,
        tc: 0,
        attr: Attr::default(),
        ln: false,
        th: false,
        td: false,
        ep: false,
        at: 0,
        length: 1,
        requester_id: rid,
        tag: 0,
        last_be: 0,
        first_be: 0xF,
        address: addr & !3,
        ph: 0,
    };
    MsiWrite { header, data }
}
