//! Cache *observations* (decisions.md "Caching and the scoreboard", CM=0).
//!
//! The model keeps no cache of its own. It remembers every cacheable item that a committed request
//! used since the last invalidation covering it, because the hardware may still hold that item:
//! - root entries per bus and context entries per source ID (present, valid; raw 128-bit values);
//! - non-leaf second-level entries per (DID, level, address prefix): next-table address and the
//!   R/W permissions AND-ed over the levels down to this one (paging-structure caches);
//! - leaf translations per (DID, page size, page): output page and AND-ed R/W (IOTLB).
//!
//! A key may hold several values (the old and the new entry, both seen by committed requests).
//! Invalidation removes what it covers:
//! - context-cache global: every root and context observation; domain-selective: the context
//!   observations whose DID matches; device-selective: the context observations whose SID matches
//!   under the function mask FM. It never touches the IOTLB side (software follows with an IOTLB
//!   flush, as Linux does).
//! - IOTLB global: every leaf and non-leaf observation; domain-selective: those of the DID;
//!   page-selective: the DID's leaves overlapping the 2^AM pages at ADDR (aligned down to 2^AM
//!   pages), whatever their page size (D5 #3), and with IH=0 also the DID's non-leaf entries
//!   whose covered range overlaps it.
//!
//! Nothing else removes observations: not SRTP (ESRTPS=0: old-table entries stay usable until
//! software invalidates), not a GCMD.TE change, not a table write.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use crate::types::{DomainId, Rid};
use crate::vtd::context::ContextEntry;
use crate::vtd::regs::fm_sid_mask;

/// A small, fast, non-cryptographic hasher for the integer keys below (FxHash's mixing step).
#[derive(Default, Clone, Copy)]
pub(crate) struct FxHasher(u64);

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.write_u64(*b as u64);
        }
    }
    fn write_u8(&mut self, v: u8) {
        self.write_u64(v as u64);
    }
    fn write_u16(&mut self, v: u16) {
        self.write_u64(v as u64);
    }
    fn write_u32(&mut self, v: u32) {
        self.write_u64(v as u64);
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = (self.0.rotate_left(5) ^ v).wrapping_mul(0x51_7C_C1_B7_27_22_0A_95);
    }
    fn write_usize(&mut self, v: usize) {
        self.write_u64(v as u64);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// One or more distinct observed values of one key (no heap for the common single value).
#[derive(Clone, Debug)]
pub(crate) enum ObsVec<T> {
    One(T),
    Many(Vec<T>),
}

impl<T: Copy + PartialEq> ObsVec<T> {
    /// Add `v` unless present.
    fn push(&mut self, v: T) {
        match self {
            ObsVec::One(x) if *x == v => {}
            ObsVec::One(x) => *self = ObsVec::Many(vec![*x, v]),
            ObsVec::Many(xs) => {
                if !xs.contains(&v) {
                    xs.push(v)
                }
            }
        }
    }
    pub(crate) fn as_slice(&self) -> &[T] {
        match self {
            ObsVec::One(x) => std::slice::from_ref(x),
            ObsVec::Many(xs) => xs,
        }
    }
    /// Keep the values for which `f` holds; returns false when none is left.
    fn retain(&mut self, mut f: impl FnMut(&T) -> bool) -> bool {
        match self {
            ObsVec::One(x) => f(x),
            ObsVec::Many(xs) => {
                xs.retain(|x| f(x));
                !xs.is_empty()
            }
        }
    }
}

/// Key of a non-leaf or leaf observation, packed in a u64: DID in bits 63:48, the level of the
/// entry in bits 47:45 (a leaf's level is its page size: 1 = 4 KiB, 2 = 2 MiB, 3 = 1 GiB) and the
/// input-address prefix `iova >> (12 + 9 * (level - 1))` (the region the entry covers) in bits
/// 44:0 (enough for 57-bit input addresses, the largest that passes the address-width check).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct SlKey(pub u64);

impl SlKey {
    /// Shift of the region covered by an entry at `level`.
    pub(crate) const fn shift(level: u8) -> u32 {
        12 + 9 * (level as u32 - 1)
    }
    const PFX_MASK: u64 = (1 << 45) - 1;
    pub(crate) fn new(did: DomainId, level: u8, iova: u64) -> SlKey {
        Self::from_parts(did.0, level, iova >> Self::shift(level))
    }
    fn from_parts(did: u16, level: u8, pfx: u64) -> SlKey {
        SlKey(((did as u64) << 48) | ((level as u64 & 7) << 45) | (pfx & Self::PFX_MASK))
    }
    pub(crate) fn did(self) -> u16 {
        (self.0 >> 48) as u16
    }
    pub(crate) fn level(self) -> u8 {
        ((self.0 >> 45) & 7) as u8
    }
    fn pfx(self) -> u64 {
        self.0 & Self::PFX_MASK
    }
    /// Does the region this key covers overlap `[start, end)` (end exclusive, `end > start`)?
    fn overlaps(self, start: u64, end: u128) -> bool {
        let s = Self::shift(self.level());
        let lo = (self.pfx() as u128) << s;
        let hi = lo + (1u128 << s);
        lo < end && (start as u128) < hi
    }
}

/// A cached second-level entry, packed in a u64: the 4 KiB-aligned address (next table for a
/// non-leaf entry, output page for a leaf) with R in bit 0 and W in bit 1, the permissions
/// AND-ed over the levels down to this one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SlVal(pub u64);

impl SlVal {
    pub(crate) fn new(addr: u64, r: bool, w: bool) -> SlVal {
        SlVal((addr & !0xFFF) | r as u64 | ((w as u64) << 1))
    }
    pub(crate) fn addr(self) -> u64 {
        self.0 & !0xFFF
    }
    pub(crate) fn r(self) -> bool {
        self.0 & 1 != 0
    }
    pub(crate) fn w(self) -> bool {
        self.0 & 2 != 0
    }
}

/// Flag in a stored [`SlVal`]: more values of the key are in `ObsMap::extra`.
const EXTRA: u64 = 1 << 2;

/// Observed second-level entries: the first value of each key inline (16 bytes per key, so the
/// hot map stays small), further distinct values in a side map. A small direct-mapped memo of
/// `first` entries in front of the map makes the repeated observation of the same few non-leaf
/// entries cheap (0 is never a key: levels are 1..=5).
#[derive(Clone, Debug, Default)]
pub(crate) struct ObsMap {
    first: FxMap<u64, u64>,
    extra: FxMap<u64, Vec<u64>>,
    /// Number of keys per level, to skip lookups at empty levels.
    levels: [u32; 8],
    memo: [(u64, u64); 32],
}

impl ObsMap {
    fn slot(k: SlKey) -> usize {
        (k.0.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 59) as usize
    }

    pub(crate) fn insert(&mut self, k: SlKey, v: SlVal) {
        use std::collections::hash_map::Entry;
        let i = Self::slot(k);
        if self.memo[i] == (k.0, v.0) {
            return;
        }
        let stored = match self.first.entry(k.0) {
            Entry::Occupied(mut e) => {
                let f = *e.get();
                if f & !EXTRA != v.0 {
                    if f & EXTRA == 0 {
                        *e.get_mut() |= EXTRA;
                        self.extra.insert(k.0, vec![v.0]);
                    } else {
                        let x = self.extra.entry(k.0).or_default();
                        if !x.contains(&v.0) {
                            x.push(v.0);
                        }
                    }
                }
                *e.get()
            }
            Entry::Vacant(e) => {
                e.insert(v.0);
                self.levels[k.level() as usize] += 1;
                v.0
            }
        };
        self.memo[i] = (k.0, stored);
    }

    /// Every value observed for `k`.
    pub(crate) fn get(&self, k: SlKey) -> impl Iterator<Item = SlVal> + '_ {
        let (first, extra): (Option<u64>, &[u64]) = if self.levels[k.level() as usize] == 0 {
            (None, &[])
        } else {
            let m = self.memo[Self::slot(k)];
            let f = if m.0 == k.0 {
                Some(&m.1)
            } else {
                self.first.get(&k.0)
            };
            match f {
                None => (None, &[]),
                Some(f) if f & EXTRA == 0 => (Some(*f), &[]),
                Some(f) => (Some(f & !EXTRA), self.extra.get(&k.0).map_or(&[], |v| v)),
            }
        };
        first.into_iter().chain(extra.iter().copied()).map(SlVal)
    }

    /// Every (key, value) pair held.
    fn pairs(&self) -> impl Iterator<Item = (SlKey, SlVal)> + '_ {
        self.first.iter().flat_map(move |(k, f)| {
            let extra: &[u64] = if f & EXTRA != 0 {
                self.extra.get(k).map_or(&[], |v| v)
            } else {
                &[]
            };
            std::iter::once(f & !EXTRA)
                .chain(extra.iter().copied())
                .map(move |v| (SlKey(*k), SlVal(v)))
        })
    }

    fn clear(&mut self) {
        self.memo = Default::default();
        self.first.clear();
        self.extra.clear();
        self.levels = [0; 8];
    }

    fn remove(&mut self, k: SlKey) {
        self.memo = Default::default();
        if let Some(f) = self.first.remove(&k.0) {
            self.levels[k.level() as usize] -= 1;
            if f & EXTRA != 0 {
                self.extra.remove(&k.0);
            }
        }
    }

    fn retain(&mut self, mut keep: impl FnMut(SlKey) -> bool) {
        self.memo = Default::default();
        let levels = &mut self.levels;
        let extra = &mut self.extra;
        self.first.retain(|k, f| {
            let kept = keep(SlKey(*k));
            if !kept {
                levels[SlKey(*k).level() as usize] -= 1;
                if *f & EXTRA != 0 {
                    extra.remove(k);
                }
            }
            kept
        });
    }

    /// Remove the keys of `did` whose region overlaps `[start, end)`: by direct lookups when the
    /// range holds few keys at a level, else by a scan.
    fn remove_range(&mut self, did: DomainId, start: u64, end: u128) {
        let mut scan = false;
        for level in 1..=5u8 {
            if self.levels[level as usize] == 0 {
                continue;
            }
            let s = SlKey::shift(level);
            let first = start >> s;
            let last = ((end - 1) >> s) as u64;
            if last - first >= 64 {
                scan = true;
                continue;
            }
            for pfx in first..=last {
                self.remove(SlKey::from_parts(did.0, level, pfx));
            }
        }
        if scan {
            self.retain(|k| !(k.did() == did.0 && k.overlaps(start, end)));
        }
    }
}

/// One cache invalidation the unit carried out (register-based or queued), as
/// [`crate::model::Model::take_invalidations`] reports it to a scoreboard.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Invalidation {
    /// Context-cache invalidation: `g` 1 global, 2 domain (`did`), 3 device (`sid` under `fm`).
    Context {
        /// Granularity as in CCMD.CIRG / the CC descriptor G field: 1 global,
        /// 2 domain-selective, 3 device-selective.
        g: u8,
        /// Domain ID (DID) of a domain-selective invalidation.
        did: DomainId,
        /// Source ID (requester ID) of a device-selective invalidation.
        sid: Rid,
        /// Function mask FM of a device-selective invalidation: 0 none, 1/2/3 ignore SID
        /// bits 2, 2:1, 2:0.
        fm: u8,
    },
    /// IOTLB (and paging-structure cache) invalidation: `g` 1 global, 2 domain, 3 page-selective
    /// (2^`am` pages at `addr` aligned down; `ih` = leaf entries only).
    Iotlb {
        /// Granularity as in IOTLB_REG.IIRG / the IOTLB descriptor G field: 1 global,
        /// 2 domain-selective, 3 page-selective.
        g: u8,
        /// Domain ID (DID) of a domain- or page-selective invalidation.
        did: DomainId,
        /// IOVA byte address (IVA_REG.ADDR or the descriptor's ADDR) of a page-selective
        /// invalidation.
        addr: u64,
        /// Address mask AM: a page-selective invalidation covers 2^AM 4 KiB pages.
        am: u8,
        /// Invalidation hint IH: true when only leaf entries changed, so paging-structure
        /// caches may be kept.
        ih: bool,
    },
    /// Interrupt-entry-cache invalidation: `global`, or 2^`im` entries from `iidx` aligned down.
    Iec {
        /// IEC descriptor G=0: every interrupt-entry-cache entry is invalidated.
        global: bool,
        /// Index mask IM: an index-selective invalidation covers 2^IM interrupt indices.
        im: u8,
        /// First interrupt index (IIDX) of an index-selective invalidation.
        iidx: u16,
    },
}

/// A copy of every cache observation of a [`crate::model::Model`] (DMA side and IEC), for a
/// scoreboard that must still allow what the unit cached before an invalidation until the
/// hardware reports that invalidation complete ([`crate::model::Model::swap_cache`]).
#[derive(Clone, Debug, Default)]
pub struct CacheSnapshot {
    pub(crate) cache: Observations,
    pub(crate) iec: std::collections::BTreeMap<u16, Vec<u128>>,
}

impl CacheSnapshot {
    /// Add every observation of `other`.
    pub fn merge(&mut self, other: &CacheSnapshot) {
        self.cache.merge(&other.cache);
        crate::model::ir::merge_iec(&mut self.iec, &other.iec);
    }

    /// Apply one logged invalidation.
    pub(crate) fn apply(&mut self, inv: &Invalidation) {
        match *inv {
            Invalidation::Iec { global, im, iidx } => {
                crate::model::ir::invalidate_iec_map(&mut self.iec, global, im, iidx)
            }
            _ => self.cache.apply(inv),
        }
    }
}

/// Every cacheable item committed requests used since the last invalidation covering it.
#[derive(Clone, Debug, Default)]
pub(crate) struct Observations {
    pub root: FxMap<u8, ObsVec<u128>>,
    pub ctx: FxMap<u16, ObsVec<u128>>,
    pub nonleaf: ObsMap,
    pub leaf: ObsMap,
    /// Direct-mapped memos of the last (key | 1 << 16, value) observed per slot, so that
    /// re-observing an unchanged root / context entry costs no map lookup.
    root_memo: [(u32, u128); 4],
    ctx_memo: [(u32, u128); 16],
}

impl Observations {
    pub(crate) fn observe_root(&mut self, bus: u8, raw: u128) {
        let m = (bus as u32 | 1 << 16, raw);
        if self.root_memo[bus as usize & 3] == m {
            return;
        }
        self.root_memo[bus as usize & 3] = m;
        match self.root.get_mut(&bus) {
            Some(v) => v.push(raw),
            None => {
                self.root.insert(bus, ObsVec::One(raw));
            }
        }
    }

    /// The `ctx_memo` slot of a source ID: Fibonacci hashing, so that devices of one bus
    /// (SIDs a multiple of 8 apart: function 0 of each device) spread over all 16 slots.
    fn ctx_slot(sid: Rid) -> usize {
        ((sid.0 as u32).wrapping_mul(0x9E37_79B9) >> 28) as usize
    }

    pub(crate) fn observe_ctx(&mut self, sid: Rid, raw: u128) {
        let m = (sid.0 as u32 | 1 << 16, raw);
        let slot = Self::ctx_slot(sid);
        if self.ctx_memo[slot] == m {
            return;
        }
        self.ctx_memo[slot] = m;
        match self.ctx.get_mut(&sid.0) {
            Some(v) => v.push(raw),
            None => {
                self.ctx.insert(sid.0, ObsVec::One(raw));
            }
        }
    }

    pub(crate) fn roots(&self, bus: u8) -> &[u128] {
        self.root.get(&bus).map_or(&[], |v| v.as_slice())
    }

    pub(crate) fn ctxs(&self, sid: Rid) -> &[u128] {
        self.ctx.get(&sid.0).map_or(&[], |v| v.as_slice())
    }

    /// Add every observation of `other`.
    pub(crate) fn merge(&mut self, other: &Observations) {
        for (bus, v) in &other.root {
            for raw in v.as_slice() {
                self.observe_root(*bus, *raw);
            }
        }
        for (sid, v) in &other.ctx {
            for raw in v.as_slice() {
                self.observe_ctx(Rid(*sid), *raw);
            }
        }
        for (k, v) in other.nonleaf.pairs() {
            self.nonleaf.insert(k, v);
        }
        for (k, v) in other.leaf.pairs() {
            self.leaf.insert(k, v);
        }
    }

    /// Apply one logged invalidation of the DMA side (IEC ones touch nothing here).
    pub(crate) fn apply(&mut self, inv: &Invalidation) {
        match *inv {
            Invalidation::Context { g, did, sid, fm } => self.invalidate_context(g, did, sid, fm),
            Invalidation::Iotlb {
                g,
                did,
                addr,
                am,
                ih,
            } => self.invalidate_iotlb(g, did, addr, am, ih),
            Invalidation::Iec { .. } => {}
        }
    }

    /// Context-cache invalidation: `g` 1 global, 2 domain, 3 device (SID under FM).
    pub(crate) fn invalidate_context(&mut self, g: u8, did: DomainId, sid: Rid, fm: u8) {
        self.root_memo = Default::default();
        self.ctx_memo = Default::default();
        match g {
            1 => {
                self.root.clear();
                self.ctx.clear();
            }
            2 => self
                .ctx
                .retain(|_, v| v.retain(|raw| ContextEntry::decode(*raw).did != did)),
            3 => {
                let m = fm_sid_mask(fm);
                self.ctx.retain(|k, _| k & m != sid.0 & m);
            }
            _ => {}
        }
    }

    /// IOTLB invalidation: `g` 1 global, 2 domain, 3 page-selective.
    pub(crate) fn invalidate_iotlb(&mut self, g: u8, did: DomainId, addr: u64, am: u8, ih: bool) {
        match g {
            1 => {
                self.leaf.clear();
                self.nonleaf.clear();
            }
            2 => {
                self.leaf.retain(|k| k.did() != did.0);
                self.nonleaf.retain(|k| k.did() != did.0);
            }
            3 => {
                // 2^AM pages at ADDR aligned down to 2^AM pages (u128: AM up to 63 must not
                // overflow, D5 #3).
                let span: u128 = 1u128 << (12 + am.min(52) as u32);
                let start = ((addr as u128) & !(span - 1)) as u64;
                let end = start as u128 + span;
                self.leaf.remove_range(did, start, end);
                if !ih {
                    self.nonleaf.remove_range(did, start, end);
                }
            }
            _ => {}
        }
    }
}
