//! Sparse host physical memory with error injection and a saveable image.
//!
//! [`HostMemory`] covers the whole 64-bit host physical address space (or `[0, limit)` with
//! [`HostMemory::with_limit`]). Backing is allocated lazily in [`CHUNK_SIZE`] chunks of anonymous
//! memory on the first write that stores a non-zero byte there; reads of memory never written
//! return zeros and allocate nothing, so a 64 GiB guest costs only what it touches. Accesses may be
//! of any length and alignment and may straddle chunk boundaries. Multi-byte values are
//! little-endian, as the VT-d tables are (spec A/B: "qword 0 holds bits 63:0").
//!
//! The scalar reads ([`HostMemory::read_u32`], [`HostMemory::read_u64`],
//! [`HostMemory::read_u128`]), which the golden model makes several times per request, take a
//! fast path when the access lies inside one chunk: a fixed-size load after the limit check, the
//! error-range scan only when errors are injected, and the chunk found through a small cache of
//! recently used chunks. They return exactly what [`HostMemory::read`] returns.
//!
//! Error injection ([`HostMemory::inject_error`]) marks an address range so that every access
//! overlapping it fails with [`MemError::Injected`]: this is how a table-read error (VT-d fault
//! reasons 7h/8h/9h/23h) is provoked without poking into a model's internals.
//!
//! A journal ([`HostMemory::start_journal`], [`HostMemory::take_journal`]) records every change
//! (writes with the bytes they replaced, error-range changes) as [`MemChange`]s, so that another
//! copy can follow the same edits ([`HostMemory::apply_change`]) and a scoreboard can look at the
//! memory as it was before them ([`HostMemory::revert_change`]).
//!
//! # Image format (version 1)
//!
//! [`HostMemory::save`] writes, all integers little-endian:
//!
//! | field | size | meaning |
//! |---|---|---|
//! | magic | 8 | ASCII `IOMMUMEM` |
//! | version | u32 | `1` |
//! | flags | u32 | bit 0: a limit is present; other bits must be 0 |
//! | limit | u64 | the limit when flag bit 0 is set, else 0 |
//! | n_errors | u64 | number of injected error ranges |
//! | errors | n_errors x (u64 start, u64 len) | the injected ranges |
//! | n_records | u64 | number of data records |
//! | records | n_records x (u64 base, u64 len, len bytes) | memory contents |
//!
//! Records are in strictly ascending, non-overlapping address order, each non-empty and inside the
//! limit; bytes not covered by any record are zero. The writer emits only runs of non-zero 4 KiB
//! pages. Nothing may follow the last record. [`HostMemory::load`] checks all of this and reports a
//! violation as [`MemError::BadImage`] with the byte offset and an [`ImageDefect`].

use crate::types::Hpa;
use memmap2::MmapMut;
use std::collections::BTreeMap;
use std::fmt;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use thiserror::Error;

/// Size of one lazily allocated backing chunk (2 MiB).
pub const CHUNK_SIZE: u64 = 1 << 21;
/// Granule at which [`Clone`] and [`HostMemory::save`] skip all-zero memory.
const PAGE: usize = 4096;
/// Magic bytes at the start of a saved image.
pub const IMAGE_MAGIC: [u8; 8] = *b"IOMMUMEM";
/// Image format version written by [`HostMemory::save`] and accepted by [`HostMemory::load`].
pub const IMAGE_VERSION: u32 = 1;

/// What is wrong with a memory image given to [`HostMemory::load`].
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ImageDefect {
    /// The first 8 bytes are not [`IMAGE_MAGIC`].
    #[error("bad magic {found:02x?} (expected \"IOMMUMEM\")")]
    BadMagic {
        /// The bytes found where the magic should be.
        found: Vec<u8>,
    },
    /// The version field is not [`IMAGE_VERSION`].
    #[error("unsupported version {found} (this build reads version {IMAGE_VERSION})")]
    UnsupportedVersion {
        /// The version number in the image.
        found: u32,
    },
    /// The flags field has bits other than bit 0 (limit present) set.
    #[error("unknown flag bits {flags:#x}")]
    UnknownFlags {
        /// The whole flags field.
        flags: u32,
    },
    /// The limit field is non-zero although flag bit 0 says no limit is present.
    #[error("limit field is {limit:#x} but the limit flag is clear")]
    LimitWithoutFlag {
        /// The limit field's value.
        limit: u64,
    },
    /// The image ends before a field or record is complete.
    #[error("file ends inside the {what}")]
    Truncated {
        /// Which part of the image was cut short (e.g. "record data").
        what: &'static str,
    },
    /// A data record has length 0.
    #[error("record {index} is empty")]
    EmptyRecord {
        /// Zero-based index of the record.
        index: u64,
    },
    /// A data record reaches past 2^64 or past the image's limit.
    #[error("record {index} [{base:#x}, +{len:#x}) is outside the address space or the limit")]
    RecordOutOfRange {
        /// Zero-based index of the record.
        index: u64,
        /// The record's first host physical address.
        base: u64,
        /// The record's length in bytes.
        len: u64,
    },
    /// A data record starts below the end of the previous one (records must ascend without
    /// overlap).
    #[error("record {index} at {base:#x} overlaps or precedes the previous record")]
    RecordOrder {
        /// Zero-based index of the record.
        index: u64,
        /// The record's first host physical address.
        base: u64,
    },
    /// Bytes follow the last record.
    #[error("bytes after the last record")]
    TrailingBytes,
}

/// Why a memory access, save or load failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum MemError {
    /// The access overlaps a range marked with [`HostMemory::inject_error`]; `addr` is the first
    /// byte of the access that lies in such a range.
    #[error("injected memory error at {addr}")]
    Injected {
        /// First byte of the access that lies in an injected range.
        addr: Hpa,
    },
    /// The access `[addr, addr+len)` reaches the limit or wraps past 2^64.
    #[error("access of {len} bytes at {addr} is outside host memory")]
    OutOfRange {
        /// Start of the access.
        addr: Hpa,
        /// Length of the access in bytes.
        len: u64,
    },
    /// A file operation failed (message includes the path).
    #[error("I/O error: {0}")]
    Io(String),
    /// A memory image is malformed.
    #[error("bad memory image at byte offset {offset}: {defect}")]
    BadImage {
        /// Byte offset in the image file where the defect was found.
        offset: u64,
        /// What is wrong.
        defect: ImageDefect,
    },
}

/// One recorded change of a [`HostMemory`] (see [`HostMemory::start_journal`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MemChange {
    /// `new` was written at `addr` over `old` (same length).
    Write {
        /// Host physical address of the first written byte.
        addr: Hpa,
        /// The bytes that were there before the write.
        old: Vec<u8>,
        /// The bytes written.
        new: Vec<u8>,
    },
    /// The injected error ranges changed from `old` to `new`.
    Errors {
        /// The injected error ranges as (start, length) before the change.
        old: Vec<(u64, u64)>,
        /// The injected error ranges as (start, length) after the change.
        new: Vec<(u64, u64)>,
    },
}

/// Sparse host physical memory (see the module documentation).
///
/// Tables are written little-endian, memory never written reads as zero, and an injected error
/// range makes every overlapping access fail (how a table-read fault such as 8h is provoked):
///
/// ```
/// use iommu_driver::mem::{HostMemory, MemError};
/// use iommu_driver::Hpa;
///
/// let mut mem = HostMemory::with_limit(1 << 32);
/// // A present root entry (spec A5): CTP = 0x2000, P = 1, high qword 0.
/// mem.write_u128(Hpa(0x1000), 0x2001).unwrap();
/// assert_eq!(mem.read_u64(Hpa(0x1000)).unwrap(), 0x2001);
/// assert_eq!(mem.read_u32(Hpa(0x1008)).unwrap(), 0);
/// assert_eq!(mem.read_u64(Hpa(0x5000_0000)).unwrap(), 0); // never written
///
/// mem.inject_error(Hpa(0x1000), 16);
/// assert_eq!(mem.read_u128(Hpa(0x1000)), Err(MemError::Injected { addr: Hpa(0x1000) }));
/// assert!(matches!(
///     mem.read_u32(Hpa(0xFFFF_FFFE)),
///     Err(MemError::OutOfRange { .. })
/// ));
/// ```
pub struct HostMemory {
    /// Backing chunks in allocation order. Chunks are never freed, so an index stays valid.
    store: Vec<Chunk>,
    /// Chunk base address (a multiple of [`CHUNK_SIZE`]) -> index in `store`, ascending by base.
    index: BTreeMap<u64, usize>,
    /// Injected error ranges as (start, length).
    errors: Vec<(u64, u64)>,
    /// Exclusive upper bound of addressable memory; `None` = the whole 64-bit space.
    limit: Option<u64>,
    /// Recently used chunks, a small direct-mapped cache in front of `index` (see
    /// [`HostMemory::chunk`]).
    recent: Recent,
    /// Changes since [`HostMemory::start_journal`], while journaling.
    journal: Option<Vec<MemChange>>,
}

/// Number of slots of the recent-chunk cache.
const RECENT_SLOTS: usize = 8;
/// Low bits of a chunk base, where a recent-chunk slot keeps `store index + 1` (0 = empty).
const IN_CHUNK: u64 = CHUNK_SIZE - 1;

/// The recent-chunk cache: each slot is 0 (empty) or `base | (store index + 1)` of a chunk
/// (bases are multiples of [`CHUNK_SIZE`], so the index fits in the low bits). Reads take
/// `&self`, so the slots are relaxed atomics rather than `Cell`s: [`HostMemory`] stays `Send`
/// and `Sync`, and a slot is one word, so a racing reader sees either value, both valid.
#[derive(Default)]
struct Recent([AtomicU64; RECENT_SLOTS]);

impl Recent {
    /// The slot of chunk `base`: Fibonacci hashing of the chunk number, so that neighbouring
    /// chunks (a table pool) land in different slots.
    #[inline]
    fn slot(&self, base: u64) -> &AtomicU64 {
        let n = base >> CHUNK_SIZE.trailing_zeros();
        &self.0[(n.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 61) as usize]
    }
}

impl Default for HostMemory {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for HostMemory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HostMemory")
            .field(
                "chunks",
                &self.index.keys().map(|b| Hpa(*b)).collect::<Vec<_>>(),
            )
            .field("errors", &self.errors)
            .field("limit", &self.limit)
            .finish()
    }
}

/// Pages per chunk.
const PAGES: usize = CHUNK_SIZE as usize / PAGE;

/// One backing chunk and the set of its pages ever written (so that clone, compare and save
/// never touch, and fault in, pages that are still all zero).
struct Chunk {
    map: MmapMut,
    dirty: [u64; PAGES / 64],
}

impl Chunk {
    fn new() -> Result<Self, MemError> {
        let map = MmapMut::map_anon(CHUNK_SIZE as usize)
            .map_err(|e| MemError::Io(format!("allocating a {CHUNK_SIZE}-byte chunk: {e}")))?;
        Ok(Chunk {
            map,
            dirty: [0; PAGES / 64],
        })
    }
    fn is_dirty(&self, page: usize) -> bool {
        self.dirty[page / 64] >> (page % 64) & 1 != 0
    }
    /// Store `data` at byte offset `off` and mark the pages it covers.
    fn store(&mut self, off: usize, data: &[u8]) {
        if data.is_empty() {
            return;
        }
        self.map[off..off + data.len()].copy_from_slice(data);
        for p in off / PAGE..=(off + data.len() - 1) / PAGE {
            self.dirty[p / 64] |= 1 << (p % 64);
        }
    }
    fn page(&self, page: usize) -> &[u8] {
        &self.map[page * PAGE..(page + 1) * PAGE]
    }
    /// Indices of written pages, ascending.
    fn dirty_pages(&self) -> impl Iterator<Item = usize> + '_ {
        (0..PAGES).filter(|p| self.is_dirty(*p))
    }
}

impl Clone for HostMemory {
    /// Deep copy: the clone has its own backing (only non-zero pages are copied).
    fn clone(&self) -> Self {
        let mut m = HostMemory {
            store: Vec::with_capacity(self.store.len()),
            index: BTreeMap::new(),
            errors: self.errors.clone(),
            limit: self.limit,
            recent: Recent::default(),
            journal: None,
        };
        for (base, src) in self.chunks() {
            // Allocation failure here is an out-of-memory condition, like `Vec::clone`.
            let mut dst = Chunk::new().expect("out of memory cloning HostMemory");
            for p in src.dirty_pages() {
                let s = src.page(p);
                if s.iter().any(|b| *b != 0) {
                    dst.store(p * PAGE, s);
                }
            }
            m.index.insert(base, m.store.len());
            m.store.push(dst);
        }
        m
    }
}

impl PartialEq for HostMemory {
    /// Equal when every byte reads the same and the error ranges and limit are the same.
    fn eq(&self, other: &Self) -> bool {
        if self.errors != other.errors || self.limit != other.limit {
            return false;
        }
        let zero = [0u8; PAGE];
        let bases: std::collections::BTreeSet<u64> = self
            .index
            .keys()
            .chain(other.index.keys())
            .copied()
            .collect();
        bases.into_iter().all(|b| {
            let a = self.chunk(b);
            let o = other.chunk(b);
            fn page<'a>(c: Option<&'a Chunk>, p: usize, zero: &'a [u8]) -> &'a [u8] {
                match c {
                    Some(c) if c.is_dirty(p) => c.page(p),
                    _ => zero,
                }
            }
            (0..PAGES).all(|p| page(a, p, &zero) == page(o, p, &zero))
        })
    }
}

impl HostMemory {
    /// Empty memory covering the whole 64-bit space.
    pub fn new() -> Self {
        HostMemory {
            store: Vec::new(),
            index: BTreeMap::new(),
            errors: Vec::new(),
            limit: None,
            recent: Recent::default(),
            journal: None,
        }
    }

    /// Empty memory covering `[0, limit)`: any access touching `[limit, 2^64)` fails with
    /// [`MemError::OutOfRange`].
    pub fn with_limit(limit: u64) -> Self {
        HostMemory {
            store: Vec::new(),
            index: BTreeMap::new(),
            errors: Vec::new(),
            limit: Some(limit),
            recent: Recent::default(),
            journal: None,
        }
    }

    /// The exclusive upper bound set by [`HostMemory::with_limit`], if any.
    pub fn limit(&self) -> Option<u64> {
        self.limit
    }

    /// The injected error ranges as (start, length), in injection order.
    pub fn injected_errors(&self) -> &[(u64, u64)] {
        &self.errors
    }

    /// The chunks in ascending base order.
    fn chunks(&self) -> impl Iterator<Item = (u64, &Chunk)> + '_ {
        self.index.iter().map(|(b, i)| (*b, &self.store[*i]))
    }

    /// The chunk based at `base` (a multiple of [`CHUNK_SIZE`]), if allocated: from the
    /// recent-chunk cache when it holds `base`, else from the index (and then cached).
    #[inline]
    fn chunk(&self, base: u64) -> Option<&Chunk> {
        let slot = self.recent.slot(base);
        let v = slot.load(Ordering::Relaxed);
        if v & !IN_CHUNK == base && v & IN_CHUNK != 0 {
            return self.store.get((v & IN_CHUNK) as usize - 1);
        }
        let i = *self.index.get(&base)?;
        if (i as u64) < IN_CHUNK {
            slot.store(base | (i as u64 + 1), Ordering::Relaxed);
        }
        self.store.get(i)
    }

    /// Check an access of `len` bytes at `addr` against the limit and the injected ranges.
    fn check(&self, addr: u64, len: u64) -> Result<(), MemError> {
        if len == 0 {
            return Ok(());
        }
        self.check_range(addr, len)?;
        self.check_errors(addr, len)
    }

    /// The limit check alone (also for replaying a recorded change, which passed the error check
    /// where it was made).
    fn check_range(&self, addr: u64, len: u64) -> Result<(), MemError> {
        let end = addr as u128 + len as u128;
        let top = self.limit.map_or(1u128 << 64, |l| l as u128);
        if end > top {
            return Err(MemError::OutOfRange {
                addr: Hpa(addr),
                len,
            });
        }
        Ok(())
    }

    /// Check a non-empty access of `len` bytes at `addr` (not wrapping) against the injected
    /// ranges: the lowest byte of the access inside one of them is reported.
    fn check_errors(&self, addr: u64, len: u64) -> Result<(), MemError> {
        let end = addr as u128 + len as u128;
        let hit = self
            .errors
            .iter()
            .filter(|(s, l)| {
                *l != 0 && (*s as u128) < end && (addr as u128) < *s as u128 + *l as u128
            })
            .map(|(s, _)| (*s).max(addr))
            .min();
        match hit {
            Some(a) => Err(MemError::Injected { addr: Hpa(a) }),
            None => Ok(()),
        }
    }

    /// Split `[addr, addr+len)` into per-chunk pieces: (chunk base, offset in chunk, offset in
    /// buffer, length). The caller has checked that the range does not wrap.
    fn pieces(addr: u64, len: usize) -> impl Iterator<Item = (u64, usize, usize, usize)> {
        let mut done = 0usize;
        std::iter::from_fn(move || {
            if done >= len {
                return None;
            }
            let a = addr.wrapping_add(done as u64);
            let base = a & !(CHUNK_SIZE - 1);
            let off = (a - base) as usize;
            let n = (CHUNK_SIZE as usize - off).min(len - done);
            let item = (base, off, done, n);
            done += n;
            Some(item)
        })
    }

    /// Read `buf.len()` bytes starting at `addr`. Unwritten bytes read as zero.
    pub fn read(&self, addr: Hpa, buf: &mut [u8]) -> Result<(), MemError> {
        self.check(addr.0, buf.len() as u64)?;
        self.read_unchecked(addr.0, buf);
        Ok(())
    }

    /// Write `data` starting at `addr`. Either the whole write happens or (on a limit or injected
    /// error) nothing changes. Writing zeros to never-written memory allocates nothing.
    pub fn write(&mut self, addr: Hpa, data: &[u8]) -> Result<(), MemError> {
        self.check(addr.0, data.len() as u64)?;
        if self.journal.is_some() {
            let mut old = vec![0u8; data.len()];
            self.read_unchecked(addr.0, &mut old);
            if let Some(j) = self.journal.as_mut() {
                j.push(MemChange::Write {
                    addr,
                    old,
                    new: data.to_vec(),
                });
            }
        }
        self.write_unchecked(addr.0, data)
    }

    /// Read without the limit and error checks (the range does not wrap).
    fn read_unchecked(&self, addr: u64, buf: &mut [u8]) {
        for (base, off, at, n) in Self::pieces(addr, buf.len()) {
            match self.chunk(base) {
                Some(c) => buf[at..at + n].copy_from_slice(&c.map[off..off + n]),
                None => buf[at..at + n].fill(0),
            }
        }
    }

    /// Write without the limit and error checks (the range does not wrap).
    fn write_unchecked(&mut self, addr: u64, data: &[u8]) -> Result<(), MemError> {
        let addr = Hpa(addr);
        // Allocate first so that an allocation failure leaves memory unchanged.
        for (base, _, at, n) in Self::pieces(addr.0, data.len()) {
            if !self.index.contains_key(&base) && data[at..at + n].iter().any(|b| *b != 0) {
                let c = Chunk::new()?;
                self.index.insert(base, self.store.len());
                self.store.push(c);
            }
        }
        for (base, off, at, n) in Self::pieces(addr.0, data.len()) {
            if let Some(&i) = self.index.get(&base) {
                self.store[i].store(off, &data[at..at + n]);
            }
        }
        Ok(())
    }

    /// Read `N` bytes at `addr`, as [`HostMemory::read`] does. Fast path for the table reads
    /// of the model: an access inside one chunk is a fixed-size load after the limit check and
    /// (only when errors are injected) the error-range check, with the chunk found through the
    /// recent-chunk cache. An access straddling two chunks takes the general path.
    #[inline]
    fn read_array<const N: usize>(&self, addr: Hpa) -> Result<[u8; N], MemError> {
        let mut b = [0u8; N];
        let a = addr.0;
        let off = (a & IN_CHUNK) as usize;
        if off > CHUNK_SIZE as usize - N {
            self.read(addr, &mut b)?;
            return Ok(b);
        }
        // Inside one chunk, so the access ends at or below 2^64: a + (N - 1) does not wrap.
        if let Some(limit) = self.limit {
            if a + (N as u64 - 1) >= limit {
                return Err(MemError::OutOfRange {
                    addr,
                    len: N as u64,
                });
            }
        }
        if !self.errors.is_empty() {
            self.check_errors(a, N as u64)?;
        }
        if let Some(c) = self.chunk(a & !IN_CHUNK) {
            b.copy_from_slice(&c.map[off..off + N]);
        }
        Ok(b)
    }

    /// Read a little-endian `u32` at `addr` (any alignment).
    pub fn read_u32(&self, addr: Hpa) -> Result<u32, MemError> {
        self.read_array(addr).map(u32::from_le_bytes)
    }

    /// Read a little-endian `u64` at `addr` (any alignment).
    pub fn read_u64(&self, addr: Hpa) -> Result<u64, MemError> {
        self.read_array(addr).map(u64::from_le_bytes)
    }

    /// Read a 128-bit entry at `addr`: qword 0 (bits 63:0) at `addr`, qword 1 at `addr + 8`.
    pub fn read_u128(&self, addr: Hpa) -> Result<u128, MemError> {
        self.read_array(addr).map(u128::from_le_bytes)
    }

    /// Write a little-endian `u32` at `addr`.
    pub fn write_u32(&mut self, addr: Hpa, v: u32) -> Result<(), MemError> {
        self.write(addr, &v.to_le_bytes())
    }

    /// Write a little-endian `u64` at `addr`.
    pub fn write_u64(&mut self, addr: Hpa, v: u64) -> Result<(), MemError> {
        self.write(addr, &v.to_le_bytes())
    }

    /// Write a 128-bit entry at `addr`: bits 63:0 at `addr`, bits 127:64 at `addr + 8`.
    pub fn write_u128(&mut self, addr: Hpa, v: u128) -> Result<(), MemError> {
        self.write(addr, &v.to_le_bytes())
    }

    /// Make every later access overlapping `[addr, addr+len)` fail with [`MemError::Injected`].
    /// A range reaching past 2^64 is clipped there; `len == 0` marks nothing.
    pub fn inject_error(&mut self, addr: Hpa, len: u64) {
        let mut new = self.errors.clone();
        new.push((addr.0, len));
        self.set_errors(new);
    }

    /// Remove all injected error ranges.
    pub fn clear_errors(&mut self) {
        self.set_errors(Vec::new());
    }

    fn set_errors(&mut self, new: Vec<(u64, u64)>) {
        if let Some(j) = self.journal.as_mut() {
            j.push(MemChange::Errors {
                old: self.errors.clone(),
                new: new.clone(),
            });
        }
        self.errors = new;
    }

    /// Start recording every change (writes and error-range changes) until
    /// [`HostMemory::take_journal`]. Reads are not recorded.
    pub fn start_journal(&mut self) {
        if self.journal.is_none() {
            self.journal = Some(Vec::new());
        }
    }

    /// Whether a journal is being recorded.
    pub fn journaling(&self) -> bool {
        self.journal.is_some()
    }

    /// Stop recording and return the changes since [`HostMemory::start_journal`], oldest first
    /// (empty when no journal was started).
    pub fn take_journal(&mut self) -> Vec<MemChange> {
        self.journal.take().unwrap_or_default()
    }

    /// Make the change's new state hold here (bytes or error ranges), whatever was there, and
    /// without recording it. Fails only when backing cannot be allocated.
    pub fn apply_change(&mut self, c: &MemChange) -> Result<(), MemError> {
        match c {
            MemChange::Write { addr, new, .. } => {
                self.check_range(addr.0, new.len() as u64)?;
                self.write_unchecked(addr.0, new)
            }
            MemChange::Errors { new, .. } => {
                self.errors = new.clone();
                Ok(())
            }
        }
    }

    /// Put back the change's old state, without recording it, and return the change that
    /// restores what was here before this call (apply it to undo the revert).
    pub fn revert_change(&mut self, c: &MemChange) -> Result<MemChange, MemError> {
        match c {
            MemChange::Write { addr, old, .. } => {
                self.check_range(addr.0, old.len() as u64)?;
                let mut cur = vec![0u8; old.len()];
                self.read_unchecked(addr.0, &mut cur);
                self.write_unchecked(addr.0, old)?;
                Ok(MemChange::Write {
                    addr: *addr,
                    old: old.clone(),
                    new: cur,
                })
            }
            MemChange::Errors { old, .. } => {
                let cur = std::mem::replace(&mut self.errors, old.clone());
                Ok(MemChange::Errors {
                    old: old.clone(),
                    new: cur,
                })
            }
        }
    }

    /// Bytes of backing actually allocated (a multiple of [`CHUNK_SIZE`]).
    pub fn resident_bytes(&self) -> u64 {
        self.store.len() as u64 * CHUNK_SIZE
    }

    /// Runs of non-zero pages as (address, bytes), ascending: everything written that is not
    /// zero, page-granular (an image of the memory, e.g. for a test-vector suite).
    pub fn runs(&self) -> Vec<(u64, Vec<u8>)> {
        let mut runs: Vec<(u64, Vec<u8>)> = Vec::new();
        for (base, c) in self.chunks() {
            for i in c.dirty_pages() {
                let p = c.page(i);
                if p.iter().all(|b| *b == 0) {
                    continue;
                }
                let a = base + (i * PAGE) as u64;
                match runs.last_mut() {
                    Some((s, d)) if *s + d.len() as u64 == a => d.extend_from_slice(p),
                    _ => runs.push((a, p.to_vec())),
                }
            }
        }
        runs
    }

    /// Write the image (format in the module documentation) to `path`.
    pub fn save(&self, path: &Path) -> Result<(), MemError> {
        let io = |e: io::Error| MemError::Io(format!("writing {}: {e}", path.display()));
        let f = std::fs::File::create(path).map_err(io)?;
        let mut w = BufWriter::new(f);
        let mut put = |b: &[u8]| w.write_all(b).map_err(io);
        put(&IMAGE_MAGIC)?;
        put(&IMAGE_VERSION.to_le_bytes())?;
        put(&(self.limit.is_some() as u32).to_le_bytes())?;
        put(&self.limit.unwrap_or(0).to_le_bytes())?;
        put(&(self.errors.len() as u64).to_le_bytes())?;
        for (s, l) in &self.errors {
            put(&s.to_le_bytes())?;
            put(&l.to_le_bytes())?;
        }
        let runs = self.runs();
        put(&(runs.len() as u64).to_le_bytes())?;
        for (a, d) in &runs {
            put(&a.to_le_bytes())?;
            put(&(d.len() as u64).to_le_bytes())?;
            put(d)?;
        }
        w.flush().map_err(io)
    }

    /// Read an image written by [`HostMemory::save`]. A malformed image gives
    /// [`MemError::BadImage`] naming the offset and the defect.
    pub fn load(path: &Path) -> Result<Self, MemError> {
        let f = std::fs::File::open(path)
            .map_err(|e| MemError::Io(format!("reading {}: {e}", path.display())))?;
        let mut r = ImageReader {
            inner: BufReader::new(f),
            offset: 0,
            path,
        };
        let bad = |offset: u64, defect| MemError::BadImage { offset, defect };

        let mut magic = [0u8; 8];
        let n = r.read_upto(&mut magic)?;
        if n < 8 || magic != IMAGE_MAGIC {
            return Err(bad(
                0,
                ImageDefect::BadMagic {
                    found: magic[..n].to_vec(),
                },
            ));
        }
        let at = r.offset;
        let version = r.u32("version")?;
        if version != IMAGE_VERSION {
            return Err(bad(at, ImageDefect::UnsupportedVersion { found: version }));
        }
        let at = r.offset;
        let flags = r.u32("flags")?;
        if flags & !1 != 0 {
            return Err(bad(at, ImageDefect::UnknownFlags { flags }));
        }
        let at = r.offset;
        let limit = r.u64("limit")?;
        if flags & 1 == 0 && limit != 0 {
            return Err(bad(at, ImageDefect::LimitWithoutFlag { limit }));
        }
        let mut mem = if flags & 1 != 0 {
            Self::with_limit(limit)
        } else {
            Self::new()
        };
        let top = mem.limit.map_or(1u128 << 64, |l| l as u128);

        let n_errors = r.u64("error count")?;
        for _ in 0..n_errors {
            let s = r.u64("error range")?;
            let l = r.u64("error range")?;
            mem.errors.push((s, l));
        }
        let n_records = r.u64("record count")?;
        let mut prev_end: u128 = 0;
        let mut buf = vec![0u8; 64 * 1024];
        for index in 0..n_records {
            let at = r.offset;
            let base = r.u64("record header")?;
            let len = r.u64("record header")?;
            if len == 0 {
                return Err(bad(at, ImageDefect::EmptyRecord { index }));
            }
            let end = base as u128 + len as u128;
            if end > top {
                return Err(bad(at, ImageDefect::RecordOutOfRange { index, base, len }));
            }
            if index > 0 && (base as u128) < prev_end {
                return Err(bad(at, ImageDefect::RecordOrder { index, base }));
            }
            prev_end = end;
            let mut done = 0u64;
            while done < len {
                let n = (len - done).min(buf.len() as u64) as usize;
                r.exact(&mut buf[..n], "record data")?;
                // Bypass error injection while restoring contents.
                let saved = std::mem::take(&mut mem.errors);
                let res = mem.write(Hpa(base + done), &buf[..n]);
                mem.errors = saved;
                res?;
                done += n as u64;
            }
        }
        let mut probe = [0u8; 1];
        if r.read_upto(&mut probe)? != 0 {
            return Err(bad(r.offset - 1, ImageDefect::TrailingBytes));
        }
        Ok(mem)
    }
}

/// A reader that tracks its byte offset and turns a short read into [`ImageDefect::Truncated`].
struct ImageReader<'a, R: Read> {
    inner: R,
    offset: u64,
    path: &'a Path,
}

impl<R: Read> ImageReader<'_, R> {
    fn read_upto(&mut self, buf: &mut [u8]) -> Result<usize, MemError> {
        let mut n = 0;
        while n < buf.len() {
            match self.inner.read(&mut buf[n..]) {
                Ok(0) => break,
                Ok(k) => n += k,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    return Err(MemError::Io(format!(
                        "reading {}: {e}",
                        self.path.display()
                    )))
                }
            }
        }
        self.offset += n as u64;
        Ok(n)
    }
    fn exact(&mut self, buf: &mut [u8], what: &'static str) -> Result<(), MemError> {
        let start = self.offset;
        if self.read_upto(buf)? < buf.len() {
            return Err(MemError::BadImage {
                offset: start,
                defect: ImageDefect::Truncated { what },
            });
        }
        Ok(())
    }
    fn u32(&mut self, what: &'static str) -> Result<u32, MemError> {
        let mut b = [0u8; 4];
        self.exact(&mut b, what)?;
        Ok(u32::from_le_bytes(b))
    }
    fn u64(&mut self, what: &'static str) -> Result<u64, MemError> {
        let mut b = [0u8; 8];
        self.exact(&mut b, what)?;
        Ok(u64::from_le_bytes(b))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("iommu-mem-test-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        d.join(name)
    }

    #[test]
    fn unwritten_memory_reads_zero_without_allocating() {
        let m = HostMemory::new();
        let mut b = [0xAAu8; 32];
        m.read(Hpa(0x1234_5678_9abc), &mut b).unwrap();
        assert_eq!(b, [0u8; 32]);
        assert_eq!(m.read_u64(Hpa(u64::MAX - 7)).unwrap(), 0);
        assert_eq!(m.resident_bytes(), 0);
    }

    #[test]
    fn little_endian_scalars() {
        let mut m = HostMemory::new();
        m.write_u32(Hpa(0x1000), 0x1122_3344).unwrap();
        let mut b = [0u8; 4];
        m.read(Hpa(0x1000), &mut b).unwrap();
        assert_eq!(b, [0x44, 0x33, 0x22, 0x11]);
        m.write_u64(Hpa(0x2000), 0x0102_0304_0506_0708).unwrap();
        assert_eq!(m.read_u32(Hpa(0x2000)).unwrap(), 0x0506_0708);
        assert_eq!(m.read_u32(Hpa(0x2004)).unwrap(), 0x0102_0304);
        // 128-bit: qword 0 = bits 63:0 at addr, qword 1 at addr + 8.
        m.write_u128(Hpa(0x3000), (0xdead_beefu128 << 64) | 0x1234)
            .unwrap();
        assert_eq!(m.read_u64(Hpa(0x3000)).unwrap(), 0x1234);
        assert_eq!(m.read_u64(Hpa(0x3008)).unwrap(), 0xdead_beef);
        assert_eq!(
            m.read_u128(Hpa(0x3000)).unwrap(),
            (0xdead_beefu128 << 64) | 0x1234
        );
        // Unaligned access.
        m.write_u32(Hpa(0x4001), 0xa1b2_c3d4).unwrap();
        assert_eq!(m.read_u64(Hpa(0x4000)).unwrap(), 0x00a1_b2c3_d400);
    }

    #[test]
    fn access_straddling_chunks() {
        let mut m = HostMemory::new();
        let edge = 5 * CHUNK_SIZE;
        m.write_u64(Hpa(edge - 3), 0x8877_6655_4433_2211).unwrap();
        assert_eq!(m.resident_bytes(), 2 * CHUNK_SIZE);
        assert_eq!(m.read_u32(Hpa(edge - 4)).unwrap(), 0x3322_1100);
        assert_eq!(m.read_u32(Hpa(edge)).unwrap(), 0x7766_5544);
        assert_eq!(m.read_u32(Hpa(edge + 4)).unwrap(), 0x0000_0088);
        // A write spanning three chunks.
        let data: Vec<u8> = (0..(2 * CHUNK_SIZE + 10))
            .map(|i| (i % 251) as u8 + 1)
            .collect();
        let a = 100 * CHUNK_SIZE - 5;
        m.write(Hpa(a), &data).unwrap();
        let mut back = vec![0u8; data.len()];
        m.read(Hpa(a), &mut back).unwrap();
        assert_eq!(back, data);
        assert_eq!(m.resident_bytes(), 6 * CHUNK_SIZE);
    }

    #[test]
    fn top_of_address_space() {
        let mut m = HostMemory::new();
        m.write_u64(Hpa(u64::MAX - 7), 0x0102_0304_0506_0708)
            .unwrap();
        assert_eq!(
            m.read_u64(Hpa(u64::MAX - 7)).unwrap(),
            0x0102_0304_0506_0708
        );
        // Wrapping past 2^64 is out of range.
        assert_eq!(
            m.read_u64(Hpa(u64::MAX - 3)),
            Err(MemError::OutOfRange {
                addr: Hpa(u64::MAX - 3),
                len: 8
            })
        );
        assert!(matches!(
            m.write_u32(Hpa(u64::MAX), 1),
            Err(MemError::OutOfRange { .. })
        ));
    }

    #[test]
    fn zero_writes_do_not_allocate() {
        let mut m = HostMemory::new();
        m.write(Hpa(0x10_0000_0000), &[0u8; 4096]).unwrap();
        assert_eq!(m.resident_bytes(), 0);
        m.write_u32(Hpa(0x10_0000_0000), 5).unwrap();
        m.write_u32(Hpa(0x10_0000_0000), 0).unwrap();
        assert_eq!(m.read_u32(Hpa(0x10_0000_0000)).unwrap(), 0);
    }

    #[test]
    fn large_sparse_guest_is_cheap() {
        // 64 GiB guest: touch one word every 1 GiB.
        let mut m = HostMemory::with_limit(64 << 30);
        for g in 0..64u64 {
            m.write_u64(Hpa(g << 30 | 0x18), g + 1).unwrap();
        }
        for g in 0..64u64 {
            assert_eq!(m.read_u64(Hpa(g << 30 | 0x18)).unwrap(), g + 1);
        }
        assert_eq!(m.resident_bytes(), 64 * CHUNK_SIZE);
    }

    #[test]
    fn limit() {
        let mut m = HostMemory::with_limit(0x1_0000);
        assert_eq!(m.limit(), Some(0x1_0000));
        m.write_u32(Hpa(0xfffc), 7).unwrap();
        assert_eq!(
            m.write_u32(Hpa(0xfffe), 7),
            Err(MemError::OutOfRange {
                addr: Hpa(0xfffe),
                len: 4
            })
        );
        assert_eq!(
            m.read_u64(Hpa(0x1_0000)),
            Err(MemError::OutOfRange {
                addr: Hpa(0x1_0000),
                len: 8
            })
        );
        // The failed write changed nothing.
        assert_eq!(m.read_u32(Hpa(0xfffc)).unwrap(), 7);
        let mut empty = [0u8; 0];
        m.read(Hpa(0x2_0000), &mut empty).unwrap();
    }

    #[test]
    fn injected_errors() {
        let mut m = HostMemory::new();
        m.write_u64(Hpa(0x5000), 0x55).unwrap();
        m.inject_error(Hpa(0x5004), 8);
        assert_eq!(m.read_u32(Hpa(0x5000)).unwrap(), 0x55);
        assert_eq!(
            m.read_u64(Hpa(0x5000)),
            Err(MemError::Injected { addr: Hpa(0x5004) })
        );
        assert_eq!(
            m.read_u32(Hpa(0x500b)),
            Err(MemError::Injected { addr: Hpa(0x500b) })
        );
        assert_eq!(m.read_u32(Hpa(0x500c)).unwrap(), 0);
        assert_eq!(
            m.write_u128(Hpa(0x4ff8), 1),
            Err(MemError::Injected { addr: Hpa(0x5004) })
        );
        // The rejected write changed nothing.
        assert_eq!(m.read_u32(Hpa(0x4ff8)).unwrap(), 0);
        // Lowest overlapping address reported when two ranges hit.
        m.inject_error(Hpa(0x4ffc), 1);
        assert_eq!(
            m.read_u128(Hpa(0x4ff8)),
            Err(MemError::Injected { addr: Hpa(0x4ffc) })
        );
        // A zero-length range marks nothing.
        m.inject_error(Hpa(0x9000), 0);
        assert_eq!(m.read_u32(Hpa(0x9000)).unwrap(), 0);
        // A range reaching past 2^64.
        m.inject_error(Hpa(u64::MAX - 1), u64::MAX);
        assert!(matches!(
            m.read_u32(Hpa(u64::MAX - 3)),
            Err(MemError::Injected { .. })
        ));
        m.clear_errors();
        assert_eq!(m.read_u64(Hpa(0x5000)).unwrap(), 0x55);
    }

    /// The scalar reads' fast path (one chunk, fixed-size load) must give exactly what the
    /// general byte read gives, value or error.
    fn scalar_reads_agree(m: &HostMemory, a: u64) {
        let mut b4 = [0u8; 4];
        let r4 = m.read(Hpa(a), &mut b4).map(|_| u32::from_le_bytes(b4));
        assert_eq!(m.read_u32(Hpa(a)), r4, "u32 at {a:#x}");
        let mut b8 = [0u8; 8];
        let r8 = m.read(Hpa(a), &mut b8).map(|_| u64::from_le_bytes(b8));
        assert_eq!(m.read_u64(Hpa(a)), r8, "u64 at {a:#x}");
        let mut b16 = [0u8; 16];
        let r16 = m.read(Hpa(a), &mut b16).map(|_| u128::from_le_bytes(b16));
        assert_eq!(m.read_u128(Hpa(a)), r16, "u128 at {a:#x}");
    }

    #[test]
    fn scalar_read_unaligned_inside_a_chunk() {
        let mut m = HostMemory::new();
        let bytes: Vec<u8> = (1..=32u8).collect();
        m.write(Hpa(0x1000), &bytes).unwrap();
        // Bytes 0x1003.. are 4, 5, 6, ...: little-endian values assembled by hand.
        assert_eq!(m.read_u32(Hpa(0x1003)).unwrap(), 0x0706_0504);
        assert_eq!(m.read_u64(Hpa(0x1005)).unwrap(), 0x0d0c_0b0a_0908_0706);
        assert_eq!(
            m.read_u128(Hpa(0x1007)).unwrap(),
            0x1716_1514_1312_1110_0f0e_0d0c_0b0a_0908
        );
        // Running off the written bytes into zeros.
        assert_eq!(m.read_u64(Hpa(0x101c)).unwrap(), 0x201f_1e1d);
        for a in 0xff0..0x1030 {
            scalar_reads_agree(&m, a);
        }
    }

    #[test]
    fn scalar_read_straddling_chunks() {
        let mut m = HostMemory::new();
        let edge = 3 * CHUNK_SIZE;
        // Only the lower chunk is allocated: the upper half of a straddling read is zero.
        m.write_u64(Hpa(edge - 8), 0x8877_6655_4433_2211).unwrap();
        assert_eq!(m.resident_bytes(), CHUNK_SIZE);
        assert_eq!(m.read_u32(Hpa(edge - 4)).unwrap(), 0x8877_6655); // last fit
        assert_eq!(m.read_u32(Hpa(edge - 3)).unwrap(), 0x0088_7766); // straddles
        assert_eq!(m.read_u64(Hpa(edge - 4)).unwrap(), 0x8877_6655);
        assert_eq!(m.read_u128(Hpa(edge - 8)).unwrap(), 0x8877_6655_4433_2211);
        // Then the upper one too.
        m.write_u64(Hpa(edge), 0x1122_3344_5566_7788).unwrap();
        assert_eq!(
            m.read_u128(Hpa(edge - 8)).unwrap(),
            0x1122_3344_5566_7788_8877_6655_4433_2211
        );
        assert_eq!(m.read_u64(Hpa(edge - 2)).unwrap(), 0x3344_5566_7788_8877);
        // And only the upper one allocated (a fresh memory).
        let mut u = HostMemory::new();
        u.write_u32(Hpa(edge), 0xa1b2_c3d4).unwrap();
        assert_eq!(u.read_u64(Hpa(edge - 4)).unwrap(), 0xa1b2_c3d4_0000_0000);
        for a in edge - 20..edge + 4 {
            scalar_reads_agree(&m, a);
            scalar_reads_agree(&u, a);
        }
    }

    #[test]
    fn scalar_read_with_injected_error() {
        let mut m = HostMemory::new();
        m.write_u128(Hpa(0x6000), u128::MAX).unwrap();
        // An error range elsewhere: reads still go through and see the data.
        m.inject_error(Hpa(0x9000), 4);
        assert_eq!(m.read_u64(Hpa(0x6000)).unwrap(), u64::MAX);
        // Error inside the access: the first failing byte is reported.
        m.inject_error(Hpa(0x6005), 1);
        assert_eq!(
            m.read_u64(Hpa(0x6000)),
            Err(MemError::Injected { addr: Hpa(0x6005) })
        );
        assert_eq!(
            m.read_u128(Hpa(0x6000)),
            Err(MemError::Injected { addr: Hpa(0x6005) })
        );
        assert_eq!(m.read_u32(Hpa(0x6000)).unwrap(), u32::MAX); // ends before 0x6005
        assert_eq!(m.read_u64(Hpa(0x6006)).unwrap(), u64::MAX); // starts after it
                                                                // A range that starts before the access and covers it.
        m.inject_error(Hpa(0x5ff0), 0x20);
        assert_eq!(
            m.read_u32(Hpa(0x6008)),
            Err(MemError::Injected { addr: Hpa(0x6008) })
        );
        // Unallocated memory with an error: the error wins over the zero fill.
        m.inject_error(Hpa(0x40_0000_0000), 1);
        assert_eq!(
            m.read_u128(Hpa(0x40_0000_0000 - 15)),
            Err(MemError::Injected {
                addr: Hpa(0x40_0000_0000)
            })
        );
        for a in (0x5fe8..0x6018).chain(0x40_0000_0000 - 20..0x40_0000_0004) {
            scalar_reads_agree(&m, a);
        }
        m.clear_errors();
        assert_eq!(m.read_u128(Hpa(0x6000)).unwrap(), u128::MAX);
    }

    #[test]
    fn scalar_read_at_the_limit() {
        // A limit that is not a chunk multiple, inside allocated memory.
        let limit = CHUNK_SIZE + 0x100;
        let mut m = HostMemory::with_limit(limit);
        m.write_u64(Hpa(limit - 8), 0x0102_0304_0506_0708).unwrap();
        assert_eq!(m.read_u64(Hpa(limit - 8)).unwrap(), 0x0102_0304_0506_0708);
        assert_eq!(
            m.read_u64(Hpa(limit - 7)),
            Err(MemError::OutOfRange {
                addr: Hpa(limit - 7),
                len: 8
            })
        );
        assert_eq!(
            m.read_u128(Hpa(limit - 16)).unwrap(),
            0x0102_0304_0506_0708u128 << 64
        );
        assert_eq!(
            m.read_u128(Hpa(limit - 15)),
            Err(MemError::OutOfRange {
                addr: Hpa(limit - 15),
                len: 16
            })
        );
        assert_eq!(
            m.read_u32(Hpa(limit)),
            Err(MemError::OutOfRange {
                addr: Hpa(limit),
                len: 4
            })
        );
        // The limit is checked before the error ranges.
        m.inject_error(Hpa(limit - 4), 4);
        assert!(matches!(
            m.read_u64(Hpa(limit - 4)),
            Err(MemError::OutOfRange { .. })
        ));
        assert_eq!(
            m.read_u64(Hpa(limit - 8)),
            Err(MemError::Injected {
                addr: Hpa(limit - 4)
            })
        );
        for a in limit - 24..limit + 4 {
            scalar_reads_agree(&m, a);
        }
        // A limit of 0 admits nothing; the top of the space with a limit at 2^64 - 1.
        let z = HostMemory::with_limit(0);
        scalar_reads_agree(&z, 0);
        assert!(z.read_u32(Hpa(0)).is_err());
        let t = HostMemory::with_limit(u64::MAX);
        assert_eq!(t.read_u64(Hpa(u64::MAX - 8)).unwrap(), 0);
        assert!(t.read_u64(Hpa(u64::MAX - 7)).is_err());
        for a in u64::MAX - 20..=u64::MAX {
            scalar_reads_agree(&t, a);
            scalar_reads_agree(&HostMemory::new(), a);
        }
    }

    #[test]
    fn recent_chunk_cache_is_per_memory_and_survives_collisions() {
        // 40 chunks: many share a recent-chunk slot. Interleaved reads must each find their own.
        let mut m = HostMemory::new();
        let bases: Vec<u64> = (0..40u64).map(|i| (i * 7 + 1) * CHUNK_SIZE).collect();
        for (i, b) in bases.iter().enumerate() {
            m.write_u64(Hpa(b + 0x18), i as u64 + 1).unwrap();
        }
        for _ in 0..3 {
            for (i, b) in bases.iter().enumerate().rev() {
                assert_eq!(m.read_u64(Hpa(b + 0x18)).unwrap(), i as u64 + 1);
                assert_eq!(m.read_u32(Hpa(b + 0x1c)).unwrap(), 0);
            }
        }
        // A clone has its own backing and cache; writes after reads are seen.
        let mut c = m.clone();
        for b in &bases {
            c.write_u64(Hpa(b + 0x18), 0xc10e).unwrap();
        }
        for (i, b) in bases.iter().enumerate() {
            assert_eq!(m.read_u64(Hpa(b + 0x18)).unwrap(), i as u64 + 1);
            assert_eq!(c.read_u64(Hpa(b + 0x18)).unwrap(), 0xc10e);
        }
        // A chunk allocated after its slot was used by another chunk.
        let late = 1000 * CHUNK_SIZE;
        assert_eq!(m.read_u64(Hpa(late)).unwrap(), 0);
        m.write_u64(Hpa(late), 0x1a7e).unwrap();
        assert_eq!(m.read_u64(Hpa(late)).unwrap(), 0x1a7e);
        assert_eq!(m.read_u64(Hpa(bases[0] + 0x18)).unwrap(), 1);
    }

    #[test]
    fn host_memory_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<HostMemory>();
    }

    #[test]
    fn journal_records_writes_and_error_changes_and_replays_on_a_copy() {
        let mut m = HostMemory::new();
        m.write_u64(Hpa(0x1000), 0x1111).unwrap();
        let mut copy = m.clone();
        assert!(!m.journaling());
        m.start_journal();
        m.write_u64(Hpa(0x1000), 0x2222).unwrap();
        m.inject_error(Hpa(0x5000), 8);
        // A write into an injected range fails and is not recorded; reads are not recorded.
        assert!(m.write_u64(Hpa(0x5000), 7).is_err());
        let _ = m.read_u64(Hpa(0x1000));
        let j = m.take_journal();
        assert!(!m.journaling());
        assert_eq!(
            j,
            vec![
                MemChange::Write {
                    addr: Hpa(0x1000),
                    old: 0x1111u64.to_le_bytes().to_vec(),
                    new: 0x2222u64.to_le_bytes().to_vec(),
                },
                MemChange::Errors {
                    old: vec![],
                    new: vec![(0x5000, 8)],
                },
            ]
        );
        // Nothing is recorded once the journal is taken.
        m.write_u64(Hpa(0x2000), 3).unwrap();
        assert!(m.take_journal().is_empty());
        m.write_u64(Hpa(0x2000), 0).unwrap();
        for c in &j {
            copy.apply_change(c).unwrap();
        }
        assert!(copy == m);
        // Reverting (newest first) gives the memory before the edits; the returned changes undo
        // the revert, even where the memory changed after the edit.
        copy.write_u64(Hpa(0x1004), 0xAB).unwrap();
        let after = copy.clone();
        let undo: Vec<MemChange> = j
            .iter()
            .rev()
            .map(|c| copy.revert_change(c).unwrap())
            .collect();
        assert_eq!(copy.read_u64(Hpa(0x1000)).unwrap(), 0x1111);
        assert!(copy.injected_errors().is_empty());
        for u in undo.iter().rev() {
            copy.apply_change(u).unwrap();
        }
        assert!(copy == after);
    }

    #[test]
    fn clone_is_deep() {
        let mut a = HostMemory::new();
        a.write_u64(Hpa(0x7000), 1).unwrap();
        a.inject_error(Hpa(0x9000), 4);
        let b = a.clone();
        a.write_u64(Hpa(0x7000), 2).unwrap();
        assert_eq!(b.read_u64(Hpa(0x7000)).unwrap(), 1);
        assert_eq!(a.read_u64(Hpa(0x7000)).unwrap(), 2);
        assert!(b.read_u32(Hpa(0x9000)).is_err());
        assert_ne!(a, b);
        let mut c = b.clone();
        assert_eq!(b, c);
        c.write_u64(Hpa(0x7000), 2).unwrap();
        c.write_u64(Hpa(0x7000 + CHUNK_SIZE), 0).unwrap();
        assert_eq!(a, c);
    }

    #[test]
    fn save_load_round_trip() {
        let mut m = HostMemory::with_limit(1 << 40);
        m.write_u64(Hpa(0x1000), 0x1111).unwrap();
        m.write_u64(Hpa(0x2ff8), 0x2222).unwrap(); // pages 1 and 2 are one run
        m.write_u32(Hpa(0x3_0000_0000), 0x3333).unwrap();
        m.write_u32(Hpa(CHUNK_SIZE - 2), 0xabcd_ef01).unwrap(); // straddles chunks
        m.inject_error(Hpa(0x8000), 0x10);
        let p = tmp("rt.img");
        m.save(&p).unwrap();
        let l = HostMemory::load(&p).unwrap();
        assert_eq!(l, m);
        assert_eq!(l.read_u64(Hpa(0x2ff8)).unwrap(), 0x2222);
        assert_eq!(l.read_u32(Hpa(CHUNK_SIZE - 2)).unwrap(), 0xabcd_ef01);
        assert_eq!(l.limit(), Some(1 << 40));
        assert_eq!(
            l.read_u32(Hpa(0x8008)),
            Err(MemError::Injected { addr: Hpa(0x8008) })
        );

        // Hand-built image: header, no errors, one 4-byte record at 0x10.
        let mut img = Vec::new();
        img.extend_from_slice(b"IOMMUMEM");
        img.extend_from_slice(&1u32.to_le_bytes());
        img.extend_from_slice(&0u32.to_le_bytes());
        img.extend_from_slice(&0u64.to_le_bytes());
        img.extend_from_slice(&0u64.to_le_bytes());
        img.extend_from_slice(&1u64.to_le_bytes());
        img.extend_from_slice(&0x10u64.to_le_bytes());
        img.extend_from_slice(&4u64.to_le_bytes());
        img.extend_from_slice(&[0xde, 0xad, 0xbe, 0xef]);
        let p = tmp("hand.img");
        std::fs::write(&p, &img).unwrap();
        let l = HostMemory::load(&p).unwrap();
        assert_eq!(l.read_u32(Hpa(0x10)).unwrap(), 0xefbe_adde);
        assert_eq!(l.limit(), None);
    }

    /// Build an image from parts for the bad-image tests.
    fn image(version: u32, flags: u32, limit: u64, records: &[(u64, u64, &[u8])]) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(b"IOMMUMEM");
        v.extend_from_slice(&version.to_le_bytes());
        v.extend_from_slice(&flags.to_le_bytes());
        v.extend_from_slice(&limit.to_le_bytes());
        v.extend_from_slice(&0u64.to_le_bytes());
        v.extend_from_slice(&(records.len() as u64).to_le_bytes());
        for (b, l, d) in records {
            v.extend_from_slice(&b.to_le_bytes());
            v.extend_from_slice(&l.to_le_bytes());
            v.extend_from_slice(d);
        }
        v
    }

    fn load_bytes(name: &str, b: &[u8]) -> Result<HostMemory, MemError> {
        let p = tmp(name);
        std::fs::write(&p, b).unwrap();
        HostMemory::load(&p)
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(200))]
        /// Random writes and reads against a byte-map reference, near chunk edges and the top.
        #[test]
        fn matches_a_byte_map(ops in proptest::collection::vec(
            (proptest::prelude::any::<bool>(), 0u64..6, 0u64..64, proptest::collection::vec(proptest::prelude::any::<u8>(), 0..40)),
            1..60,
        )) {
            let bases = [0, CHUNK_SIZE - 20, 7 * CHUNK_SIZE - 8, 1 << 40, u64::MAX - 100, 0x1000];
            let mut m = HostMemory::new();
            let mut r = std::collections::HashMap::<u64, u8>::new();
            for (write, b, off, data) in ops {
                let a = bases[b as usize] + off;
                if a.checked_add(data.len() as u64).is_none() {
                    continue;
                }
                if write {
                    m.write(Hpa(a), &data).unwrap();
                    for (i, v) in data.iter().enumerate() {
                        r.insert(a + i as u64, *v);
                    }
                } else {
                    let mut got = vec![0u8; data.len()];
                    m.read(Hpa(a), &mut got).unwrap();
                    let want: Vec<u8> =
                        (0..data.len() as u64).map(|i| *r.get(&(a + i)).unwrap_or(&0)).collect();
                    proptest::prop_assert_eq!(got, want);
                }
            }
            let c = m.clone();
            proptest::prop_assert!(c == m);
            for (a, v) in &r {
                let mut b = [0u8; 1];
                c.read(Hpa(*a), &mut b).unwrap();
                proptest::prop_assert_eq!(b[0], *v);
            }
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]
        /// Scalar reads (fast path) agree with byte reads near chunk edges, error ranges and a
        /// limit, on random contents.
        #[test]
        fn scalar_reads_match_byte_reads(
            writes in proptest::collection::vec((0u64..4, 0u64..48, proptest::prelude::any::<u64>()), 0..12),
            errs in proptest::collection::vec((0u64..4, 0u64..48, 0u64..20), 0..3),
            limited in proptest::prelude::any::<bool>(),
            probes in proptest::collection::vec((0u64..4, 0u64..48), 1..24),
        ) {
            let bases = [0, CHUNK_SIZE - 24, 9 * CHUNK_SIZE - 16, 0x7000];
            let mut m = if limited {
                HostMemory::with_limit(9 * CHUNK_SIZE)
            } else {
                HostMemory::new()
            };
            for (b, off, v) in writes {
                let _ = m.write_u64(Hpa(bases[b as usize] + off), v);
            }
            for (b, off, len) in errs {
                m.inject_error(Hpa(bases[b as usize] + off), len);
            }
            for (b, off) in probes {
                scalar_reads_agree(&m, bases[b as usize] + off);
            }
        }
    }

    #[test]
    fn bad_images_give_typed_errors() {
        let e = load_bytes("b0.img", b"NOTANIMG\x01\0\0\0").unwrap_err();
        assert!(matches!(
            e,
            MemError::BadImage {
                offset: 0,
                defect: ImageDefect::BadMagic { .. }
            }
        ));
        let e = load_bytes("b1.img", b"IOMM").unwrap_err();
        assert!(matches!(
            e,
            MemError::BadImage {
                offset: 0,
                defect: ImageDefect::BadMagic { .. }
            }
        ));
        let e = load_bytes("b2.img", &image(2, 0, 0, &[])).unwrap_err();
        assert_eq!(
            e,
            MemError::BadImage {
                offset: 8,
                defect: ImageDefect::UnsupportedVersion { found: 2 }
            }
        );
        let e = load_bytes("b3.img", &image(1, 6, 0, &[])).unwrap_err();
        assert_eq!(
            e,
            MemError::BadImage {
                offset: 12,
                defect: ImageDefect::UnknownFlags { flags: 6 }
            }
        );
        let e = load_bytes("b4.img", &image(1, 0, 5, &[])).unwrap_err();
        assert_eq!(
            e,
            MemError::BadImage {
                offset: 16,
                defect: ImageDefect::LimitWithoutFlag { limit: 5 }
            }
        );
        // Header is 40 bytes; the first record header starts there.
        let e = load_bytes("b5.img", &image(1, 0, 0, &[(0x10, 0, &[])])).unwrap_err();
        assert_eq!(
            e,
            MemError::BadImage {
                offset: 40,
                defect: ImageDefect::EmptyRecord { index: 0 }
            }
        );
        let e = load_bytes("b6.img", &image(1, 1, 0x100, &[(0xfe, 4, &[1, 2, 3, 4])])).unwrap_err();
        assert_eq!(
            e,
            MemError::BadImage {
                offset: 40,
                defect: ImageDefect::RecordOutOfRange {
                    index: 0,
                    base: 0xfe,
                    len: 4
                }
            }
        );
        let e = load_bytes("b7.img", &image(1, 0, 0, &[(u64::MAX, 2, &[1, 2])])).unwrap_err();
        assert!(matches!(
            e,
            MemError::BadImage {
                defect: ImageDefect::RecordOutOfRange { .. },
                ..
            }
        ));
        let e = load_bytes(
            "b8.img",
            &image(1, 0, 0, &[(0x10, 4, &[1; 4]), (0x12, 1, &[1])]),
        )
        .unwrap_err();
        assert_eq!(
            e,
            MemError::BadImage {
                offset: 60,
                defect: ImageDefect::RecordOrder {
                    index: 1,
                    base: 0x12
                }
            }
        );
        let e = load_bytes("b9.img", &image(1, 0, 0, &[(0x10, 4, &[1, 2])])).unwrap_err();
        assert_eq!(
            e,
            MemError::BadImage {
                offset: 56,
                defect: ImageDefect::Truncated {
                    what: "record data"
                }
            }
        );
        let mut t = image(1, 0, 0, &[]);
        t.push(0);
        let e = load_bytes("b10.img", &t).unwrap_err();
        assert_eq!(
            e,
            MemError::BadImage {
                offset: 40,
                defect: ImageDefect::TrailingBytes
            }
        );
        let e = load_bytes("b11.img", &image(1, 0, 0, &[])[..30]).unwrap_err();
        assert_eq!(
            e,
            MemError::BadImage {
                offset: 24,
                defect: ImageDefect::Truncated {
                    what: "error count"
                }
            }
        );
        // A huge record length with no data is reported as truncation, not an allocation blow-up.
        let e = load_bytes("b12.img", &image(1, 0, 0, &[(0, 1 << 40, &[])])).unwrap_err();
        assert!(matches!(
            e,
            MemError::BadImage {
                defect: ImageDefect::Truncated { .. },
                ..
            }
        ));
        let e = HostMemory::load(&tmp("does-not-exist.img")).unwrap_err();
        assert!(matches!(e, MemError::Io(_)));
    }
}
