//! Random lockstep regressions: one seed = one reproducible run. The seed picks the memory-server
//! behaviour (latency, outstanding limit, out-of-order), the back-pressure/idle knobs, a random table
//! set built by the OS driver (domains of 3/4/5 levels, 4 KiB/2 MiB/1 GiB mappings with mixed
//! permissions anywhere in the domain's width and sometimes with their buddy page, pass-through and
//! FPD devices, multi-function devices, unassigned devices and buses), then a stream of random
//! requests (reads, writes, atomics, interrupt-window writes, malformed headers, other address
//! types, the edges of the requester's address width) mixed with mid-run table changes: unmap +
//! invalidation (page-selective, sometimes wider than the page, domain or global), whole leaf
//! tables replaced, corrupted entries left un-invalidated (stale windows, some with two faults),
//! injected read errors on context entries, SLPTPTR tables and leaf tables, devices (with their
//! sibling functions) moved to another domain with their requests in flight, and fault handling;
//! after each invalidation the edges of what it covered are probed.
//!
//! When the DUT has them, a seed also picks register-based or queued invalidation and, with the
//! queue, interrupt remapping (IRTA size, x2APIC or xAPIC mode, CFI): a random interrupt
//! remapping table of remapped and posted IRTEs (with their posted-interrupt descriptors), entries
//! that are not present, have reserved bits, fail the SID check (SVT 00/01 with every SQ, 10 bus
//! ranges, 11) or suppress faults (FPD); the request stream then carries remappable MSIs (with and
//! without subhandle, some out of range, some with reserved bits), compatibility-format MSIs, and
//! the mid-run changes include IRTE rewrites with or without an IEC invalidation (global or
//! index-selective, with the rest of the invalidated block probed) and edits of posted-interrupt
//! descriptors.

use crate::coverage::Coverage;
use crate::dut::DutConfig;
use crate::hdr::{Kind, Req};
use crate::lockstep::{Lockstep, Mismatch, Stats, StepLog};
use crate::memsrv::MemConfig;
use crate::sim::{Knobs, Sabotage};
use iommu_driver::mem::HostMemory;
use iommu_driver::model::Request;
use iommu_driver::os::tables::level_index;
use iommu_driver::os::IrSetup;
use iommu_driver::os::{
    BringUp, DeviceAssignment, InvRequest, Iommu, MsiMessage, OsConfig, PageSize, Perms,
    PostedInterruptDescriptor, PostedIrte, RemappedIrte,
};
use iommu_driver::vtd::irte::Irte;
use iommu_driver::{DomainId, Hpa, Iova, Rid};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::VecDeque;
use std::path::PathBuf;

/// Options of one random run.
#[derive(Debug, Clone)]
pub struct RunOpts {
    /// RTL parameter set to run.
    pub config: DutConfig,
    /// Upstream requests to send.
    pub requests: u64,
    /// Write an FST waveform of the run here: from cycle `wave_from` on (0: the whole run).
    pub wave: Option<PathBuf>,
    /// First cycle written to the waveform when `wave` is set (0: from the start).
    pub wave_from: u64,
    /// Log the stimulus ([`SeedResult::log`]), to shrink a failure into a vector suite.
    pub log: bool,
    /// A bug injected between the DUT and the harness (`Sabotage`).
    pub sabotage: Option<Sabotage>,
}

impl RunOpts {
    /// `requests` requests on `config`, nothing else.
    pub fn new(config: DutConfig, requests: u64) -> Self {
        RunOpts {
            config,
            requests,
            wave: None,
            wave_from: 0,
            log: false,
            sabotage: None,
        }
    }
}

/// Result of one seed.
#[derive(Debug, Clone)]
pub struct SeedResult {
    /// The seed that determined everything in the run.
    pub seed: u64,
    /// RTL parameter set the run used.
    pub config: DutConfig,
    /// Lockstep counters of the run: requests and their outcomes by kind, faults, latencies.
    pub stats: Stats,
    /// Clock cycles simulated.
    pub cycles: u64,
    /// Scoreboard mismatches (the run stops at the first).
    pub failures: Vec<Mismatch>,
    /// A harness/OS-driver error that stopped the run (also a failure).
    pub error: Option<String>,
    /// The memory-server and back-pressure settings the seed chose.
    pub setup: String,
    /// Functional coverage of the run (`coverage` module).
    pub coverage: Coverage,
    /// The run's stimulus, when [`RunOpts::log`] asked for it.
    pub log: Option<StepLog>,
}

impl SeedResult {
    /// True when there was no mismatch and no error.
    pub fn passed(&self) -> bool {
        self.failures.is_empty() && self.error.is_none()
    }

    /// The command that reruns this seed alone.
    pub fn rerun_command(&self, requests: u64) -> String {
        format!(
            "cargo run --release -p iommu-cosim -- regress --seeds {}..{} --config {} --requests {} --wave seed{}.fst",
            self.seed,
            self.seed + 1,
            self.config,
            requests,
            self.seed
        )
    }
}

#[derive(Debug, Clone, Copy)]
struct Dev {
    rid: Rid,
    did: Option<DomainId>,
}

/// Run one seed.
pub fn run_seed(seed: u64, opts: &RunOpts) -> SeedResult {
    let mut res = SeedResult {
        seed,
        config: opts.config,
        stats: Stats::default(),
        cycles: 0,
        failures: Vec::new(),
        error: None,
        setup: String::new(),
        coverage: Coverage::default(),
        log: None,
    };
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let lo = rng.gen_range(1..=40u32);
    let memcfg = MemConfig {
        latency_min: lo,
        latency_max: if rng.gen_bool(0.5) {
            lo
        } else {
            lo + rng.gen_range(0..=200)
        },
        max_outstanding: rng.gen_range(1..=32),
        out_of_order: rng.gen_bool(0.5),
        ready_prob: if rng.gen_bool(0.5) {
            1.0
        } else {
            rng.gen_range(0.2..1.0)
        },
    };
    let knobs = if rng.gen_bool(0.2) {
        Knobs::full_speed()
    } else {
        Knobs::random(&mut rng)
    };
    res.setup = format!("{memcfg:?} {knobs:?}");
    res.coverage.setup(&memcfg, &knobs);
    let mut ls = match Lockstep::new(opts.config, HostMemory::new(), memcfg, knobs, seed) {
        Ok(l) => l,
        Err(e) => {
            res.error = Some(format!("bring-up: {e}"));
            return res;
        }
    };
    ls.collect_coverage();
    ls.sim.sabotage = opts.sabotage;
    if opts.log {
        ls.start_log();
    }
    let mut os = match Iommu::new(ls, OsConfig::default()) {
        Ok(o) => o,
        Err(e) => {
            res.error = Some(format!("OS driver attach: {e}"));
            return res;
        }
    };
    if let Some(w) = &opts.wave {
        let sim = &mut os.platform_mut().sim;
        if opts.wave_from > sim.cycle() {
            sim.trace_from(opts.wave_from, w.clone());
        } else if let Err(e) = sim.dut.trace_open(w) {
            res.error = Some(e);
            return res;
        }
    }
    let r = drive(&mut os, &mut rng, opts.requests);
    let ls = os.platform_mut();
    if let Err(e) = r {
        if !ls.failed() {
            res.error = Some(e);
        }
    }
    if !ls.failed() && res.error.is_none() {
        ls.finish();
    }
    ls.sim.dut.trace_close();
    if let (Some(e), None) = (ls.sim.trace_error.take(), &res.error) {
        res.error = Some(e);
    }
    res.stats = ls.stats.clone();
    res.cycles = ls.sim.cycle();
    res.failures = ls.failures.clone();
    if let Some(c) = &ls.coverage {
        res.coverage.merge(c);
    }
    res.log = ls.log.take().map(|l| *l);
    res
}

/// Build a random table set, then send `requests` random requests with mid-run changes.
fn drive(os: &mut Iommu<Lockstep>, rng: &mut ChaCha8Rng, requests: u64) -> Result<(), String> {
    let e = |x: iommu_driver::os::OsError| x.to_string();
    let levels: Vec<u8> = [3u8, 4, 5]
        .into_iter()
        .filter(|l| os.caps().supports_levels(*l))
        .collect();
    if levels.is_empty() {
        return Err("DUT supports no SL table depth".into());
    }
    if rng.gen_bool(0.7) {
        os.setup_fault_event(0xFEE0_1000, 0x40 + rng.gen_range(0..16), rng.gen_bool(0.3))
            .map_err(e)?;
    }
    // Domains.
    let ndom = rng.gen_range(1..=4);
    let mut dids = Vec::new();
    let mut doms: Vec<(DomainId, u8)> = Vec::new();
    for k in 0..ndom {
        let did = DomainId(1 + k as u16 * rng.gen_range(1..50));
        if dids.contains(&did) {
            continue;
        }
        let l = *levels.choose(rng).expect("non-empty");
        os.create_domain(did, l).map_err(e)?;
        dids.push(did);
        doms.push((did, l));
    }
    // Devices: a few buses, some functions translated, pass-through, FPD, or unassigned; now
    // and then another function of the device before (a multi-function device).
    let mut devs: Vec<Dev> = Vec::new();
    for _ in 0..rng.gen_range(3..=10) {
        let rid = match devs.last() {
            Some(d) if rng.gen_bool(0.3) => Rid(d.rid.0 ^ rng.gen_range(1..8)),
            _ => Rid::from_bdf(
                rng.gen_range(0..4),
                rng.gen_range(0..32),
                rng.gen_range(0..8),
            ),
        };
        if devs.iter().any(|d: &Dev| d.rid == rid) {
            continue;
        }
        let did = *dids.choose(rng).expect("non-empty");
        let p: f64 = rng.gen();
        let dev = if p < 0.7 {
            os.assign_device(rid, did).map_err(e)?;
            Dev {
                rid,
                did: Some(did),
            }
        } else if p < 0.8 {
            os.assign_device_with(rid, DeviceAssignment::pass_through(did))
                .map_err(e)?;
            Dev { rid, did: None }
        } else if p < 0.92 {
            os.assign_device_with(rid, DeviceAssignment::translated(did).with_fpd(true))
                .map_err(e)?;
            Dev {
                rid,
                did: Some(did),
            }
        } else {
            Dev { rid, did: None }
        };
        devs.push(dev);
    }
    // Mappings: most in the low 16 GiB (shared upper-level tables, IOTLB sets in use), the rest
    // anywhere in the domain's address width, so that walks of every depth see every index bit
    // of every level; some with their buddy (the same-size page that differs in the lowest bit
    // of its page number: the neighbour that an IOTLB tag one bit short would alias).
    let mut maps: Vec<(DomainId, u64, u64, PageSize)> = Vec::new();
    for &(did, l) in &doms {
        for _ in 0..rng.gen_range(4..40) {
            let size = match rng.gen_range(0..100) {
                0..=69 => PageSize::Size4K,
                70..=94 => PageSize::Size2M,
                _ => PageSize::Size1G,
            };
            let sz = size.bytes();
            let span = if rng.gen_bool(0.6) {
                16u64 << 30
            } else {
                1u64 << iova_bits(l)
            };
            let iova = rng.gen_range(0..span / sz) * sz;
            let buddy = rng.gen_bool(0.25);
            for va in [Some(iova), buddy.then_some(iova ^ sz)]
                .into_iter()
                .flatten()
            {
                let hpa = if rng.gen_bool(0.02) {
                    0xFEE0_0000 & !(sz - 1)
                } else {
                    rng.gen_range(0..(1u64 << 39) / sz) * sz
                };
                let perms = match rng.gen_range(0..20) {
                    0 => Perms::RO,
                    1 => Perms::WO,
                    2 => Perms::NONE,
                    _ => Perms::RW,
                };
                if os.map(did, Iova(va), Hpa(hpa), size, perms).is_ok() && perms != Perms::NONE {
                    maps.push((did, va, hpa, size));
                }
            }
        }
    }
    let te = !rng.gen_bool(0.08);
    let caps = *os.caps();
    let qi = caps.qi && rng.gen_bool(0.75);
    let ir = if qi && caps.ir && rng.gen_bool(0.75) {
        Some(IrSetup {
            s: rng.gen_range(2..=6u8),
            eime: caps.eim && rng.gen_bool(0.5),
            cfi: rng.gen_bool(0.5),
        })
    } else {
        None
    };
    os.bring_up(BringUp { qi, ir, te }).map_err(e)?;
    let mut irs = match ir {
        Some(ir) => Some(IrSet::build(os, rng, &devs, ir.s, ir.eime, caps.pi)?),
        None => None,
    };

    let window = rng.gen_range(1..=24usize);
    let mut tag8 = 0u8;
    // Requests submitted before the last mid-run change: they retire before the next one, so no
    // request's window holds two table edits (a walk never mixes two edits' reads; Lockstep).
    let mut last_change = 0u64;
    // Requests aimed at the edges of the last change, sent before the random ones.
    let mut probes: VecDeque<Request> = VecDeque::new();
    // Every submission counts, including those a mid-run change makes itself.
    while os.platform_mut().submitted() < requests {
        if os.platform_mut().failed() {
            return Ok(());
        }
        // Mid-run changes, now and then, racing the requests in flight.
        if rng.gen_bool(0.004) {
            os.platform_mut().retire_before(last_change);
            if irs.is_some() && rng.gen_bool(0.3) {
                if let Some(set) = irs.as_mut() {
                    set.mutate(os, rng, &devs, &mut probes)?;
                }
            } else {
                mutate(os, rng, &dids, &mut devs, &mut maps, &mut probes, &mut tag8)?;
            }
            last_change = os.platform_mut().submitted();
            continue;
        }
        // Software services the fault records now and then (as on a fault event), so they keep
        // room for new faults and their reasons are compared before the records overflow; and
        // whenever drops whose fault reason the ports do not show have left many worlds open.
        if rng.gen_bool(0.003) || os.platform_mut().worlds() > 32 {
            os.handle_faults().map_err(e)?;
            continue;
        }
        let ls = os.platform_mut();
        if ls.in_flight() < window && ls.queued() < 2 {
            let req = match (probes.pop_front(), irs.as_ref()) {
                (Some(r), _) => r,
                (None, Some(set)) if rng.gen_bool(0.08) => set.request(rng, &devs),
                _ => random_request(rng, &devs, &doms, &maps, &mut tag8),
            };
            ls.submit(req);
        } else {
            ls.tick();
        }
    }
    Ok(())
}

/// A small read or write by `rid` at `addr` (probing the edge of a change).
fn probe(rng: &mut ChaCha8Rng, rid: Rid, addr: u64, tag8: &mut u8) -> Request {
    *tag8 = tag8.wrapping_add(1);
    let addr = addr & !3;
    let len = (rng.gen_range(1..=16u64) * 4).min(0x1000 - (addr & 0xFFF)) as u32;
    let r = if rng.gen_bool(0.5) {
        Req::read(rid.0, *tag8, addr, len)
    } else {
        Req::write(rid.0, *tag8, addr, len)
    };
    Request {
        hdr: r.encode(),
        data0: rng.gen(),
    }
}

/// The IOTLB invalidation after a table change: domain-selective or global a quarter of the time
/// each, else page-selective over `addr` with `am` and `ih`.
fn iotlb_inv(rng: &mut ChaCha8Rng, did: DomainId, addr: Iova, am: u8, ih: bool) -> InvRequest {
    match rng.gen_range(0..4) {
        0 => InvRequest::IotlbDomain(did),
        1 => InvRequest::IotlbGlobal,
        _ => InvRequest::IotlbPage { did, addr, am, ih },
    }
}

/// One mid-run table change, made while requests are in flight.
fn mutate(
    os: &mut Iommu<Lockstep>,
    rng: &mut ChaCha8Rng,
    dids: &[DomainId],
    devs: &mut [Dev],
    maps: &mut Vec<(DomainId, u64, u64, PageSize)>,
    probes: &mut VecDeque<Request>,
    tag8: &mut u8,
) -> Result<(), String> {
    let e = |x: iommu_driver::os::OsError| x.to_string();
    let case = rng.gen_range(0..12);
    // Injected read errors model the unit's reads failing; software's own table edits would
    // fail on them too: they end before one, a cycle earlier (a version of their own: a walk that
    // read an entry while the error stood and the next one after both the clearing and the edit
    // would mix two edits, which no single version explains).
    if (case <= 6 || case >= 10) && !os.mem().injected_errors().is_empty() {
        os.mem().clear_errors();
        os.platform_mut().tick();
    }
    match case {
        // Unmap (sometimes remap elsewhere) + page-selective invalidation (what Linux does),
        // sometimes a wider one. Requests to the page are in flight across the change, and the
        // edges of the invalidated range are probed right after it: its first and last 4 KiB
        // page, the pages just outside it, and the same IOVA in another domain.
        0..=3 if !maps.is_empty() => {
            let i = rng.gen_range(0..maps.len());
            let (did, iova, _hpa, size) = maps.swap_remove(i);
            let mine: Vec<Rid> = devs
                .iter()
                .filter(|d| d.did == Some(did))
                .map(|d| d.rid)
                .collect();
            let others: Vec<Rid> = devs
                .iter()
                .filter(|d| d.did.is_some_and(|x| x != did))
                .map(|d| d.rid)
                .collect();
            if let Some(&rid) = mine.choose(rng) {
                let ls = os.platform_mut();
                for _ in 0..rng.gen_range(1..=3) {
                    let a = iova + (rng.gen_range(0..size.bytes()) & !0xFFF);
                    ls.submit(probe(rng, rid, a, tag8));
                }
                for _ in 0..rng.gen_range(0..120) {
                    ls.tick();
                }
            }
            let u = os.unmap(did, Iova(iova), size).map_err(e)?;
            if rng.gen_bool(0.5) {
                let hpa = rng.gen_range(0..(1u64 << 39) / size.bytes()) * size.bytes();
                if os.map(did, Iova(iova), Hpa(hpa), size, Perms::RW).is_ok() {
                    maps.push((did, iova, hpa, size));
                }
            }
            // Sometimes a page-selective range wider than the page (a driver batching unmaps):
            // the page then sits anywhere in it, often in its upper half.
            let am = if rng.gen_bool(0.4) {
                (u.am + rng.gen_range(1..=3)).min(os.caps().mamv)
            } else {
                u.am
            };
            let span = 0x1000u64 << am.min(30);
            let start = u.addr.0 & !(span - 1);
            let inv = iotlb_inv(rng, did, Iova(start), am, u.ih);
            os.invalidate(&[inv]).map_err(e)?;
            if let Some(&rid) = mine.choose(rng) {
                for a in [
                    iova,
                    start,
                    start + span - 0x1000,
                    start + span,
                    start.wrapping_sub(0x1000),
                ] {
                    probes.push_back(probe(rng, rid, a, tag8));
                }
            }
            if let Some(&rid) = others.choose(rng) {
                probes.push_back(probe(rng, rid, iova, tag8));
            }
        }
        // Remap something new (no invalidation needed for a not-present -> present change).
        4 | 5 => {
            if let Some(&did) = dids.choose(rng) {
                let iova = rng.gen_range(0..(16u64 << 30) >> 12) << 12;
                let hpa = rng.gen_range(0..(1u64 << 39) >> 12) << 12;
                if os
                    .map(did, Iova(iova), Hpa(hpa), PageSize::Size4K, Perms::RW)
                    .is_ok()
                {
                    maps.push((did, iova, hpa, PageSize::Size4K));
                }
            }
        }
        // Corrupt an entry with a reserved bit (Ch) and do not invalidate: a stale window. The
        // leaf sometimes also lacks a permission, so a request meets two faults at once (the
        // permission is checked first, vtd-pcie.md A8); sometimes the table entry above the
        // leaf is the one corrupted.
        6 if !maps.is_empty() => {
            let (did, iova, hpa, size) = maps[rng.gen_range(0..maps.len())];
            let lvl = size.level();
            let top = os.domain(did).map_or(lvl, |d| d.levels);
            // Reserved in every entry: address bits HAW..51 (61:52 are ignored, vtd-pcie.md
            // A7); in a leaf also SNP without ECAP.SC, TM without ECAP.DT and a large page's
            // low address bits. (PS in a level-4/5 table entry is reserved too, but would make
            // the OS driver's own walks stop there.)
            let caps = *os.caps();
            let mut rsv_bits: Vec<u32> = (u32::from(os.config().haw)..52).collect();
            if lvl < top && rng.gen_bool(0.3) {
                let rsv = 1u64 << *rsv_bits.choose(rng).expect("HAW < 52");
                let a = os.pte_addr(did, Iova(iova), lvl + 1).map_err(e)?;
                let v = os.mem().read_u64(a).map_err(|x| x.to_string())?;
                os.write_pte_raw(did, Iova(iova), lvl + 1, v | rsv)
                    .map_err(e)?;
            } else {
                if !caps.sc {
                    rsv_bits.push(11);
                }
                if !caps.dt {
                    rsv_bits.push(62);
                }
                rsv_bits.extend(12..12 + 9 * (u32::from(lvl) - 1));
                let rsv = 1u64 << *rsv_bits.choose(rng).expect("HAW < 52");
                let ps = if lvl > 1 { 1 << 7 } else { 0 };
                let rw = [3u64, 3, 1, 2][rng.gen_range(0..4)];
                os.write_pte_raw(did, Iova(iova), lvl, hpa | ps | rw | rsv)
                    .map_err(e)?;
            }
        }
        // Inject a read error on a context entry, on the top-level table its SLPTPTR points to
        // (3h) or on a leaf table (7h); clear it the next time.
        7 => {
            let mem = os.mem();
            if !mem.injected_errors().is_empty() {
                mem.clear_errors();
            } else if let Some(d) = devs.choose(rng) {
                let root = d.did.and_then(|did| os.domain(did)).map(|x| x.root);
                let own: Vec<_> = maps.iter().filter(|m| Some(m.0) == d.did).collect();
                let leaf = own.choose(rng).map(|m| **m);
                match (rng.gen_range(0..3), root, leaf) {
                    (1, Some(r), _) => os.mem().inject_error(r, 0x1000),
                    (2, _, Some((did, iova, _, size))) => {
                        let lvl = size.level();
                        // A whole cache line (poisoned memory is per line; the unit reads
                        // 16 bytes, the model 8: both meet it on any entry of the line).
                        let a = os.pte_addr(did, Iova(iova), lvl).map_err(e)?;
                        os.mem().inject_error(Hpa(a.0 & !63), 64);
                    }
                    _ => {
                        if let Some(a) = os.context_entry_addr(d.rid) {
                            os.mem().inject_error(a, 16);
                        }
                    }
                }
            }
        }
        // Fault handling: read and clear the records (compared with the model on the way).
        8 => {
            os.handle_faults().map_err(e)?;
        }
        // Replace the whole table that holds a leaf (what a driver freeing and reallocating a
        // table page does): a copy on a fresh page with that leaf pointing elsewhere, then the
        // entry above it switched to the copy, then an invalidation with IH=0 (page-selective
        // over the leaf, or domain or global). A paging-structure cache entry that survives it
        // still leads to the old table and the old page.
        11 if !maps.is_empty() => {
            let (did, iova, _hpa, size) = maps[rng.gen_range(0..maps.len())];
            let lvl = size.level();
            let top = os.domain(did).map_or(lvl, |d| d.levels);
            if lvl >= top {
                return Ok(());
            }
            let above = os.pte_addr(did, Iova(iova), lvl + 1).map_err(e)?;
            let ptr = os.mem().read_u64(above).map_err(|x| x.to_string())?;
            // The table address (a reserved bit HAW..51 a corruption left stays where it is).
            let amask = ((1u64 << os.config().haw) - 1) & !0xFFF;
            let old = ptr & amask;
            let mut table = vec![0u8; 0x1000];
            os.mem()
                .read(Hpa(old), &mut table)
                .map_err(|x| x.to_string())?;
            let sz = size.bytes();
            let hpa = rng.gen_range(0..(1u64 << 39) / sz) * sz;
            let k = 8 * level_index(iova, lvl) as usize;
            let leaf = u64::from_le_bytes(table[k..k + 8].try_into().expect("8 bytes"));
            let moved = (leaf & !amask) | hpa;
            table[k..k + 8].copy_from_slice(&moved.to_le_bytes());
            let new = os.alloc_page().map_err(e)?;
            os.mem().write(new, &table).map_err(|x| x.to_string())?;
            os.write_pte_raw(did, Iova(iova), lvl + 1, (ptr & !amask) | new.0)
                .map_err(e)?;
            if let Some(m) = maps.iter_mut().find(|m| m.0 == did && m.1 == iova) {
                m.2 = hpa;
            }
            let inv = iotlb_inv(rng, did, Iova(iova), size.am(), false);
            os.invalidate(&[inv]).map_err(e)?;
            let rids: Vec<Rid> = devs
                .iter()
                .filter(|d| d.did == Some(did))
                .map(|d| d.rid)
                .collect();
            if let Some(&rid) = rids.choose(rng) {
                // The moved leaf, and a neighbour that shares the replaced table.
                let span = 1u64 << (12 + 9 * u32::from(lvl));
                let near: Vec<u64> = maps
                    .iter()
                    .filter(|m| {
                        m.0 == did && m.1 != iova && m.1 & !(span - 1) == iova & !(span - 1)
                    })
                    .map(|m| m.1)
                    .collect();
                probes.push_back(probe(rng, rid, iova, tag8));
                if let Some(&n) = near.choose(rng) {
                    probes.push_back(probe(rng, rid, n, tag8));
                }
            }
        }
        // Move a device to another domain with its requests in flight (its context entry is
        // rewritten under a context fetch that may be on its way), then invalidate what Linux
        // does: the device's context entry, the old domain's IOTLB entries. Its next requests
        // probe both domains' mappings.
        10 if dids.len() > 1 => {
            let movable: Vec<usize> = (0..devs.len())
                .filter(|k| {
                    devs[*k].did.is_some() && os.device(devs[*k].rid).is_some_and(|a| !a.fpd)
                })
                .collect();
            let Some(&k) = movable.choose(rng) else {
                return Ok(());
            };
            let (rid, old) = (devs[k].rid, devs[k].did.expect("translated"));
            // Sometimes its sibling functions in the same domain move too, under one
            // device-selective invalidation whose function mask covers them all.
            let fm = if rng.gen_bool(0.4) {
                rng.gen_range(1..=3u8)
            } else {
                0
            };
            let fmask = [0u16, 0b100, 0b110, 0b111][usize::from(fm)];
            let group: Vec<usize> = movable
                .iter()
                .copied()
                .filter(|j| devs[*j].did == Some(old) && (devs[*j].rid.0 ^ rid.0) & !fmask == 0)
                .collect();
            let new = **dids
                .iter()
                .filter(|d| **d != old)
                .collect::<Vec<_>>()
                .choose(rng)
                .expect("two domains");
            let probes_of = |rng: &mut ChaCha8Rng, did: DomainId, tag8: &mut u8| {
                let own: Vec<_> = maps.iter().filter(|m| m.0 == did).collect();
                let m = **own.choose(rng)?;
                let a = m.1 + (rng.gen_range(0..m.3.bytes()) & !0xFFF);
                Some(probe(rng, rid, a, tag8))
            };
            let ls = os.platform_mut();
            for _ in 0..rng.gen_range(1..=3) {
                if let Some(r) = probes_of(rng, old, tag8) {
                    ls.submit(r);
                }
            }
            for _ in 0..rng.gen_range(0..120) {
                ls.tick();
            }
            for &j in &group {
                os.assign_device(devs[j].rid, new).map_err(e)?;
                devs[j].did = Some(new);
            }
            os.invalidate(&[
                InvRequest::ContextDevice {
                    did: old,
                    sid: rid,
                    fm,
                },
                InvRequest::IotlbDomain(old),
            ])
            .map_err(e)?;
            for did in [new, old, new] {
                if let Some(r) = probes_of(rng, did, tag8) {
                    probes.push_back(r);
                }
            }
            // Each sibling's first request goes to its new domain.
            for &j in group.iter().filter(|j| devs[**j].rid != rid) {
                let own: Vec<_> = maps.iter().filter(|m| m.0 == new).collect();
                if let Some(m) = own.choose(rng) {
                    let a = m.1 + (rng.gen_range(0..m.3.bytes()) & !0xFFF);
                    probes.push_back(probe(rng, devs[j].rid, a, tag8));
                }
            }
        }
        // Context-cache flush + IOTLB flush: all stale windows close.
        _ => {
            os.invalidate(&[InvRequest::ContextGlobal, InvRequest::IotlbGlobal])
                .map_err(e)?;
        }
    }
    Ok(())
}

/// Width in bits of the IOVAs a `levels`-level second-level table translates (39/48/57).
fn iova_bits(levels: u8) -> u32 {
    12 + 9 * u32::from(levels)
}

/// One random upstream request.
fn random_request(
    rng: &mut ChaCha8Rng,
    devs: &[Dev],
    doms: &[(DomainId, u8)],
    maps: &[(DomainId, u64, u64, PageSize)],
    tag8: &mut u8,
) -> Request {
    *tag8 = tag8.wrapping_add(1);
    let dev = devs.choose(rng).copied().unwrap_or(Dev {
        rid: Rid(0x0100),
        did: None,
    });
    let rid = if rng.gen_bool(0.03) {
        Rid(rng.gen())
    } else {
        dev.rid
    };
    let kind = match rng.gen_range(0..100) {
        0..=49 => Kind::Read,
        50..=95 => Kind::Write,
        _ => Kind::FetchAdd,
    };
    let own: Vec<&(DomainId, u64, u64, PageSize)> =
        maps.iter().filter(|m| Some(m.0) == dev.did).collect();
    let p: u32 = rng.gen_range(0..100);
    let (addr, window) = if p < 80 && !own.is_empty() {
        let m = own[rng.gen_range(0..own.len())];
        (m.1 + (rng.gen_range(0..m.3.bytes()) & !3), false)
    } else if p < 88 && !maps.is_empty() {
        // Someone else's mapping (another domain): usually a fault.
        let m = maps[rng.gen_range(0..maps.len())];
        (m.1 + (rng.gen_range(0..m.3.bytes()) & !3), false)
    } else if p < 93 {
        (0xFEE0_0000 + (rng.gen_range(0..0x10_0000u64) & !3), true)
    } else if p < 95 {
        (rng.gen::<u64>() & !3, false)
    } else if p < 97 {
        // The edges of the requester's address width: the last page inside it, the first
        // pages past it (4h), one bit further out.
        let bits = doms
            .iter()
            .find(|d| Some(d.0) == dev.did)
            .map_or(48, |d| iova_bits(d.1));
        let edge = match rng.gen_range(0..4) {
            0 => (1u64 << bits) - 0x1000,
            1 => 1u64 << bits,
            2 => (1u64 << bits) | (rng.gen_range(0..1u64 << bits) & !0xFFF),
            _ => (1u64 << (bits + 1)).wrapping_sub(0x1000),
        };
        (edge + (rng.gen_range(0..0x1000u64) & !3), false)
    } else {
        (rng.gen_range(0..(16u64 << 30)) & !3, false)
    };
    let room = 0x1000 - (addr & 0xFFF);
    let mut len = match kind {
        Kind::FetchAdd => {
            if rng.gen_bool(0.5) {
                4
            } else {
                8
            }
        }
        _ => (rng.gen_range(1..=64u64) * 4).min(room),
    };
    if window && kind == Kind::Write && rng.gen_bool(0.8) {
        len = 4;
    }
    let mut r = match kind {
        Kind::Read => Req::read(rid.0, *tag8, addr, len as u32),
        Kind::Write => Req::write(rid.0, *tag8, addr, len as u32),
        Kind::FetchAdd => {
            let mut r = Req::write(rid.0, *tag8, addr & !7, len as u32);
            r.kind = Kind::FetchAdd;
            r
        }
    };
    if rng.gen_bool(0.1) {
        r.attr |= 2; // RO
    }
    if rng.gen_bool(0.05) {
        r.attr |= 4; // IDO
    }
    if rng.gen_bool(0.03) {
        r.at = rng.gen_range(1..=3);
    }
    if rng.gen_bool(0.02) {
        // Crosses a 4 KiB boundary: malformed.
        r.addr = (addr & !0xFFF) | 0xFF0;
        r.len_dw = 8;
        r.last_be = 0xF;
    }
    if rng.gen_bool(0.03) {
        r.force_4dw = true;
    }
    r.tc = rng.gen_range(0..8) * rng.gen_range(0..2);
    let data0 = rng.gen();
    Request {
        hdr: r.encode(),
        data0,
    }
}

/// The interrupt-remapping table of one seed: which indices hold an IRTE, for which requester.
struct IrSet {
    /// 2^(S+1).
    entries: u32,
    eime: bool,
    pi: bool,
    /// (index, the SID the entry is meant for).
    used: Vec<(u16, Rid)>,
    /// Posted-interrupt descriptors allocated so far.
    pids: Vec<Hpa>,
}

impl IrSet {
    fn build(
        os: &mut Iommu<Lockstep>,
        rng: &mut ChaCha8Rng,
        devs: &[Dev],
        s: u8,
        eime: bool,
        pi: bool,
    ) -> Result<Self, String> {
        let mut set = IrSet {
            entries: 1u32 << (s + 1),
            eime,
            pi,
            used: Vec::new(),
            pids: Vec::new(),
        };
        for _ in 0..rng.gen_range(4..24) {
            let index = rng.gen_range(0..set.entries) as u16;
            if set.used.iter().any(|u| u.0 == index) {
                continue;
            }
            let sid = devs.choose(rng).map(|d| d.rid).unwrap_or(Rid(0x0100));
            set.write_entry(os, rng, index, sid)?;
            set.used.push((index, sid));
        }
        Ok(set)
    }

    /// Write a random IRTE at `index` meant for `sid`.
    fn write_entry(
        &mut self,
        os: &mut Iommu<Lockstep>,
        rng: &mut ChaCha8Rng,
        index: u16,
        sid: Rid,
    ) -> Result<(), String> {
        let e = |x: iommu_driver::os::OsError| x.to_string();
        let fpd = rng.gen_bool(0.15);
        // SID check: mostly the requester (SVT 01, SQ 00), else other kinds and bad ones.
        let (svt, sq, sidf) = match rng.gen_range(0..100) {
            0..=64 => (1u8, 0u8, sid.0),
            65..=74 => (1, rng.gen_range(1..=3), sid.0 ^ rng.gen_range(0..8)),
            75..=82 => (0, 0, rng.gen()),
            83..=90 => {
                let bus = (sid.0 >> 8) as u8;
                let lo = bus.saturating_sub(rng.gen_range(0..2));
                let hi = bus.saturating_add(rng.gen_range(0..2));
                // Sometimes a range that misses the requester's bus.
                if rng.gen_bool(0.3) {
                    (
                        2,
                        0,
                        u16::from(hi.wrapping_add(1)) << 8 | u16::from(hi.wrapping_add(2)),
                    )
                } else {
                    (2, 0, u16::from(lo) << 8 | u16::from(hi))
                }
            }
            91..=95 => (1, 0, sid.0 ^ 0x0100),
            _ => (3, 0, sid.0),
        };
        let raw = match rng.gen_range(0..100) {
            0..=59 => {
                let dst = if self.eime {
                    rng.gen_range(0..0x1_0000u32) << rng.gen_range(0..16)
                } else {
                    RemappedIrte::xapic_dst(rng.gen())
                };
                RemappedIrte {
                    present: true,
                    fpd,
                    dm: rng.gen_bool(0.2),
                    rh: rng.gen_bool(0.2),
                    tm: rng.gen_bool(0.2),
                    dlm: if rng.gen_bool(0.8) {
                        0
                    } else {
                        rng.gen_range(0..8)
                    },
                    avail: rng.gen_range(0..16),
                    vector: rng.gen_range(0x20..=0xFF),
                    dst,
                    sid: Rid(sidf),
                    sq,
                    svt,
                }
                .encode()
            }
            60..=84 if self.pi => {
                let pid = if self.pids.is_empty() || rng.gen_bool(0.5) {
                    let p = os.alloc_pid().map_err(e)?;
                    os.write_pid(p, &random_pid(rng)).map_err(e)?;
                    self.pids.push(p);
                    p
                } else {
                    *self.pids.choose(rng).expect("non-empty")
                };
                PostedIrte {
                    present: true,
                    fpd,
                    avail: rng.gen_range(0..16),
                    urg: rng.gen_bool(0.3),
                    vector: rng.gen(),
                    pda: pid,
                    sid: Rid(sidf),
                    sq,
                    svt,
                }
                .encode()
            }
            85..=92 => u128::from(fpd) << 1, // not present
            _ => {
                // A reserved bit of the remapped format, present.
                let m = Irte::reserved_mask(false, self.eime, self.pi);
                let bits: Vec<u32> = (0..128).filter(|b| m >> b & 1 == 1).collect();
                let b = *bits.choose(rng).expect("the format has reserved bits");
                RemappedIrte::new(0x40, 0).verify_requester(sid).encode() | 1u128 << b
            }
        };
        os.write_irte_raw(u32::from(index), raw).map_err(e)
    }

    /// A random interrupt request toward this table.
    fn request(&self, rng: &mut ChaCha8Rng, devs: &[Dev]) -> Request {
        let (index, sid) = self.used.choose(rng).copied().unwrap_or((0, Rid(0x0100)));
        let rid = if rng.gen_bool(0.85) {
            sid
        } else {
            devs.choose(rng).map(|d| d.rid).unwrap_or(sid)
        };
        let m = match rng.gen_range(0..100) {
            0..=59 => MsiMessage::remappable(index, None),
            60..=74 => {
                // Subhandle: handle + data = index (mod 2^16).
                let sub = rng.gen_range(0..8u16);
                MsiMessage::remappable(index.wrapping_sub(sub), Some(sub))
            }
            75..=82 => MsiMessage::remappable(rng.gen_range(0..2 * self.entries) as u16, None),
            83..=90 => MsiMessage::compat(rng.gen(), rng.gen()),
            _ => {
                let mut m = MsiMessage::remappable(index, None);
                m.data |= rng.gen_range(1..=0xFFFFu32) << 16;
                m
            }
        };
        let r = Req::write(rid.0, rng.gen(), m.addr, 4);
        Request {
            hdr: r.encode(),
            data0: m.data,
        }
    }

    /// One mid-run change of the interrupt side.
    fn mutate(
        &mut self,
        os: &mut Iommu<Lockstep>,
        rng: &mut ChaCha8Rng,
        devs: &[Dev],
        probes: &mut VecDeque<Request>,
    ) -> Result<(), String> {
        let e = |x: iommu_driver::os::OsError| x.to_string();
        match rng.gen_range(0..10) {
            // Rewrite an IRTE; usually invalidate its IEC entry (index-selective or global),
            // sometimes not (a stale window until a later invalidation covers it).
            0..=5 if !self.used.is_empty() => {
                let k = rng.gen_range(0..self.used.len());
                let (index, _) = self.used[k];
                // Interrupts through the entry right after the rewrite and its invalidation.
                let msi = |rid: Rid| {
                    let m = MsiMessage::remappable(index, None);
                    Request {
                        hdr: Req::write(rid.0, 0, m.addr, 4).encode(),
                        data0: m.data,
                    }
                };
                // Interrupts through the entry in flight across the rewrite: an IRTE fetch on
                // its way when the invalidation comes must not fill the cache.
                let before = self.used[k].1;
                let ls = os.platform_mut();
                for _ in 0..rng.gen_range(0..=2) {
                    ls.submit(msi(before));
                }
                for _ in 0..rng.gen_range(0..80) {
                    ls.tick();
                }
                let sid = devs.choose(rng).map(|d| d.rid).unwrap_or(Rid(0x0100));
                self.write_entry(os, rng, index, sid)?;
                probes.push_back(msi(sid));
                self.used[k].1 = sid;
                match rng.gen_range(0..10) {
                    0..=5 => {
                        let im = rng.gen_range(0..=3u8);
                        os.invalidate(&[InvRequest::IecIndex { iidx: index, im }])
                            .map_err(e)?;
                        // The other entries of the invalidated block (an entry rewritten earlier
                        // without invalidation is current from now on) and the one past it.
                        let first = index & !((1u16 << im) - 1);
                        let block: Vec<(u16, Rid)> = self
                            .used
                            .iter()
                            .copied()
                            .filter(|(i, _)| *i != index && *i >= first && *i <= first + (1 << im))
                            .collect();
                        for (i, r) in block {
                            let m = MsiMessage::remappable(i, None);
                            probes.push_back(Request {
                                hdr: Req::write(r.0, 0, m.addr, 4).encode(),
                                data0: m.data,
                            });
                        }
                    }
                    6 | 7 => os.invalidate(&[InvRequest::IecGlobal]).map_err(e)?,
                    _ => {}
                }
            }
            // Edit a posted-interrupt descriptor (software consumed the PIR, set SN, ...).
            6 | 7 if !self.pids.is_empty() => {
                // A plain rewrite would race the unit's atomic update of the descriptor (software
                // uses locked instructions there): make it with no posting in flight.
                let p = *self.pids.choose(rng).expect("non-empty");
                os.platform_mut().drain(false);
                os.write_pid(p, &random_pid(rng)).map_err(e)?;
            }
            // Close every IRTE stale window.
            _ => os.invalidate(&[InvRequest::IecGlobal]).map_err(e)?,
        }
        Ok(())
    }
}

/// A posted-interrupt descriptor with random ON/SN/NV/NDST and a few PIR bits.
fn random_pid(rng: &mut ChaCha8Rng) -> PostedInterruptDescriptor {
    PostedInterruptDescriptor {
        pir: [
            rng.gen::<u64>() & rng.gen::<u64>(),
            0,
            0,
            rng.gen::<u64>() & rng.gen::<u64>(),
        ],
        on: rng.gen_bool(0.3),
        sn: rng.gen_bool(0.3),
        nv: rng.gen(),
        ndst: if rng.gen_bool(0.5) {
            rng.gen::<u32>()
        } else {
            u32::from(rng.gen::<u8>()) << 8
        },
        ..Default::default()
    }
}
