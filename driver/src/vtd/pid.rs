//! Posted-interrupt descriptor (spec B8): 64 bytes, 64-byte aligned, little-endian.
//!
//! | bits | field |
//! |---|---|
//! | 255:0 | PIR, one bit per vector |
//! | 256 | ON outstanding notification |
//! | 257 | SN suppress notification |
//! | 271:258 | reserved (non-zero blocks posting: fault 28h) |
//! | 279:272 | NV notification vector |
//! | 287:280 | reserved (fault 28h) |
//! | 319:288 | NDST notification destination |
//! | 511:320 | software / ignored |
//!
//! Project decision: bits 511:320 are **ignored** by the hardware (B8 "reserved / software"): they
//! are not checked (no 28h) and the posting update preserves them. [`PostedInterruptDescriptor`]
//! keeps them in `sw` so `encode(decode(b))` changes nothing but the checked reserved bits.

use super::bits::*;

/// Size of a PID in bytes.
pub const PID_BYTES: usize = 64;
/// Reserved bits in the control qword (qword 4 = bits 319:256): 15:2 and 31:24.
pub const PID_CONTROL_RESERVED: u64 = mask64(15, 2) | mask64(31, 24);

/// A posted-interrupt descriptor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct PostedInterruptDescriptor {
    /// Posted-interrupt requests: bit v of the 256-bit PIR is `pir[v / 64] >> (v % 64)`.
    pub pir: [u64; 4],
    /// \[256\] outstanding notification.
    pub on: bool,
    /// \[257\] suppress notification.
    pub sn: bool,
    /// \[279:272\] notification vector.
    pub nv: u8,
    /// \[319:288\] notification destination (x2APIC ID; xAPIC ID in bits 15:8).
    pub ndst: u32,
    /// \[511:320\] software-available qwords 5..7 (ignored by hardware, preserved).
    pub sw: [u64; 3],
}

impl PostedInterruptDescriptor {
    /// Decode from the 8 little-endian qwords (qword 0 = bytes 0..8).
    pub const fn decode_qwords(q: [u64; 8]) -> Self {
        let c = q[4];
        PostedInterruptDescriptor {
            pir: [q[0], q[1], q[2], q[3]],
            on: bit64(c, 0),
            sn: bit64(c, 1),
            nv: get64(c, 23, 16) as u8,
            ndst: get64(c, 63, 32) as u32,
            sw: [q[5], q[6], q[7]],
        }
    }

    /// The control qword (bits 319:256) as encoded.
    pub const fn control(&self) -> u64 {
        let mut c = 0u64;
        c = setb64(c, 0, self.on);
        c = setb64(c, 1, self.sn);
        c = set64(c, 23, 16, self.nv as u64);
        set64(c, 63, 32, self.ndst as u64)
    }

    /// Encode to 8 qwords (reserved bits 0).
    pub const fn encode_qwords(&self) -> [u64; 8] {
        [
            self.pir[0],
            self.pir[1],
            self.pir[2],
            self.pir[3],
            self.control(),
            self.sw[0],
            self.sw[1],
            self.sw[2],
        ]
    }

    /// Decode from the 64 bytes in memory order.
    pub fn decode(bytes: &[u8; PID_BYTES]) -> Self {
        Self::decode_qwords(bytes_to_qwords(bytes))
    }

    /// Encode to 64 bytes in memory order.
    pub fn encode(&self) -> [u8; PID_BYTES] {
        let q = self.encode_qwords();
        let mut b = [0u8; PID_BYTES];
        for (i, qw) in q.iter().enumerate() {
            b[i * 8..i * 8 + 8].copy_from_slice(&qw.to_le_bytes());
        }
        b
    }

    /// Whether the raw descriptor has reserved bits set (bits 271:258 or 287:280): fault 28h.
    pub fn has_reserved_bits(bytes: &[u8; PID_BYTES]) -> bool {
        bytes_to_qwords(bytes)[4] & PID_CONTROL_RESERVED != 0
    }

    /// PIR bit for `vector`.
    pub const fn pir_bit(&self, vector: u8) -> bool {
        (self.pir[(vector / 64) as usize] >> (vector % 64)) & 1 == 1
    }

    /// Set PIR bit `vector`.
    pub fn set_pir(&mut self, vector: u8) {
        self.pir[(vector / 64) as usize] |= 1u64 << (vector % 64);
    }

    /// The posting update of B8 / decisions.md on the decoded descriptor: set PIR\[vector\];
    /// X = (ON==0) && (URG==1 || SN==0); if X, set ON. Returns X (send a notification).
    pub fn post(&mut self, vector: u8, urg: bool) -> bool {
        self.set_pir(vector);
        let notify = !self.on && (urg || !self.sn);
        if notify {
            self.on = true;
        }
        notify
    }
}

fn bytes_to_qwords(bytes: &[u8; PID_BYTES]) -> [u64; 8] {
    let mut q = [0u64; 8];
    for (i, qw) in q.iter_mut().enumerate() {
        let mut b = [0u8; 8];
        b.copy_from_slice(&bytes[i * 8..i * 8 + 8]);
        *qw = u64::from_le_bytes(b);
    }
    q
}
