//! The built-in scenario of `iommu-cosim run`: an SR-IOV NIC (a PF and 8 VFs in 4 domains) doing
//! ring-buffer DMA — descriptor reads, packet-buffer writes, descriptor write-backs and MSI-X
//! interrupts — over 4 KiB and 2 MiB mappings, with streaming unmap + invalidate + remap cycles
//! like a Linux driver's dma_unmap/dma_map, and one rogue VF that DMAs into another domain's IOVA
//! range. Every request is checked in lockstep against the golden model.
//!
//! With interrupt remapping (ECAP.IR, with queued invalidation), each function has two MSI-X
//! vectors, each its own IRTE (remappable format, x2APIC when ECAP.EIM): the PF and VF1-4 are
//! remapped to host CPUs; VF5-8 (domain 4) form a VM whose vectors are posted to its two vCPUs'
//! posted-interrupt descriptors, which the "hypervisor" drains now and then (PIR and ON cleared).
//! The rogue VF also spoofs interrupts: another function's handle (SID check, 26h), a
//! compatibility-format MSI (25h), and a burst of DMA data written into the interrupt window (20h).

use crate::dut::DutConfig;
use crate::hdr::Req;
use crate::lockstep::{Lockstep, Mismatch, Stats};
use crate::memsrv::MemConfig;
use crate::sim::Knobs;
use iommu_driver::mem::HostMemory;
use iommu_driver::model::Request;
use iommu_driver::os::IrSetup;
use iommu_driver::os::{
    BringUp, InvRequest, Iommu, MsiMessage, OsConfig, PageSize, Perms, PostedInterruptDescriptor,
    PostedIrte, RemappedIrte,
};
use iommu_driver::{DomainId, Hpa, Iova, Rid};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Options of the NIC scenario.
#[derive(Debug, Clone)]
pub struct NicOpts {
    /// RTL parameter set to run.
    pub config: DutConfig,
    /// Seed of the run's random choices (traffic, back-pressure knobs, harness); the same seed
    /// repeats the same run.
    pub seed: u64,
    /// Upstream requests to send.
    pub requests: u64,
    /// Memory latency in cycles (fixed).
    pub mem_latency: u32,
    /// Random back-pressure and idle cycles (else full speed).
    pub backpressure: bool,
    /// Write an FST waveform of the whole run to this file.
    pub wave: Option<PathBuf>,
    /// Show a progress bar.
    pub progress: bool,
}

/// What the scenario reports.
#[derive(Debug, Clone)]
pub struct NicReport {
    /// Lockstep counters of the run: requests and their outcomes by kind, faults, latencies.
    pub stats: Stats,
    /// Clock cycles simulated.
    pub cycles: u64,
    /// Wall-clock time of the whole run, bring-up included.
    pub wall: Duration,
    /// Performance counters read from the DUT at the end: IOTLB lookups, misses, page walks, walk
    /// memory reads, context-cache misses, faults recorded.
    pub iotlb_lookups: u64,
    /// IOTLB lookups (performance counter at 0x300).
    pub iotlb_misses: u64,
    /// IOTLB misses, requests sent to a walker (counter 0x308).
    pub walks: u64,
    /// Page walks (counter 0x310).
    pub walk_reads: u64,
    /// Memory reads made by page walks (counter 0x318).
    pub ctx_misses: u64,
    /// Context-cache misses (counter 0x320).
    pub faults_recorded: u64,
    /// Interrupt counters read from the DUT: remapped (IM=0), posted (IM=1), IEC lookups and
    /// misses (IRTE fetches).
    pub irq_remapped: u64,
    /// Interrupts posted (IM=1, counter 0x338).
    pub irq_posted: u64,
    /// Interrupt-entry-cache lookups (counter 0x350).
    pub iec_lookups: u64,
    /// Interrupt-entry-cache misses, i.e. IRTE fetches (counter 0x328).
    pub iec_misses: u64,
    /// Number of unmap + page-selective invalidate + remap cycles done during the run (a count, not
    /// clock cycles).
    pub unmap_cycles: u64,
    /// Mismatches between the RTL and the golden model, in the order found.
    pub failures: Vec<Mismatch>,
    /// Why the run stopped early (bring-up, driver or scenario error), if it did.
    pub error: Option<String>,
}

impl NicReport {
    /// True when there was no mismatch and no error.
    pub fn passed(&self) -> bool {
        self.failures.is_empty() && self.error.is_none()
    }
}

/// PF 03:00.0 with First VF Offset 0x80 and VF Stride 1 (ARI): VF n has RID 0x0300 + 0x80 + (n-1)
/// (PCIe SR-IOV 9.3.3.9-10).
const PF: u16 = 0x0300;
const VF_OFFSET: u16 = 0x80;
const NUM_VFS: u16 = 8;

struct Ring {
    rid: Rid,
    did: DomainId,
    /// Descriptor ring IOVA (one 4 KiB page, 256 descriptors of 16 bytes).
    ring: u64,
    /// Buffer slots: (IOVA base, size of the mapping); 2 KiB packet slots inside.
    bufs: Vec<(u64, PageSize)>,
    head: u64,
    /// The interrupt the function sends (address, data) for each of its MSI-X vectors.
    msix: Vec<(u64, u32)>,
}

/// Run the NIC scenario.
pub fn run_nic(opts: &NicOpts) -> NicReport {
    let start = Instant::now();
    let mut rep = NicReport {
        stats: Stats::default(),
        cycles: 0,
        wall: Duration::ZERO,
        iotlb_lookups: 0,
        iotlb_misses: 0,
        walks: 0,
        walk_reads: 0,
        ctx_misses: 0,
        faults_recorded: 0,
        irq_remapped: 0,
        irq_posted: 0,
        iec_lookups: 0,
        iec_misses: 0,
        unmap_cycles: 0,
        failures: Vec::new(),
        error: None,
    };
    let mut rng = ChaCha8Rng::seed_from_u64(opts.seed);
    let memcfg = MemConfig {
        latency_min: opts.mem_latency,
        latency_max: opts.mem_latency,
        max_outstanding: 16,
        out_of_order: opts.backpressure,
        ready_prob: 1.0,
    };
    let knobs = if opts.backpressure {
        Knobs::random(&mut rng)
    } else {
        Knobs::full_speed()
    };
    let ls = match Lockstep::new(opts.config, HostMemory::new(), memcfg, knobs, opts.seed) {
        Ok(l) => l,
        Err(e) => {
            rep.error = Some(format!("bring-up: {e}"));
            return rep;
        }
    };
    let mut os = match Iommu::new(ls, OsConfig::default()) {
        Ok(o) => o,
        Err(e) => {
            rep.error = Some(format!("OS driver attach: {e}"));
            return rep;
        }
    };
    if let Some(w) = &opts.wave {
        if let Err(e) = os.platform_mut().sim.dut.trace_open(w) {
            rep.error = Some(e);
            return rep;
        }
    }
    let r = nic(&mut os, &mut rng, opts, &mut rep);
    let ls = os.platform_mut();
    if let Err(e) = r {
        if !ls.failed() {
            rep.error = Some(e);
        }
    }
    if !ls.failed() && rep.error.is_none() {
        ls.finish();
        let mut rd = |o: u16| ls.dut_reg_read(o, 8).unwrap_or(0);
        rep.iotlb_lookups = rd(0x300);
        rep.iotlb_misses = rd(0x308);
        rep.walks = rd(0x310);
        rep.walk_reads = rd(0x318);
        rep.ctx_misses = rd(0x320);
        rep.faults_recorded = rd(0x340);
        rep.irq_remapped = rd(0x330);
        rep.irq_posted = rd(0x338);
        rep.iec_lookups = rd(0x350);
        rep.iec_misses = rd(0x328);
    }
    ls.sim.dut.trace_close();
    rep.stats = ls.stats.clone();
    rep.cycles = ls.sim.cycle();
    rep.failures = ls.failures.clone();
    rep.wall = start.elapsed();
    rep
}

fn nic(
    os: &mut Iommu<Lockstep>,
    rng: &mut ChaCha8Rng,
    opts: &NicOpts,
    rep: &mut NicReport,
) -> Result<(), String> {
    let e = |x: iommu_driver::os::OsError| x.to_string();
    let levels = if os.caps().supports_levels(4) { 4 } else { 3 };
    let dids: Vec<DomainId> = (1..=4).map(DomainId).collect();
    for &d in &dids {
        os.create_domain(d, levels).map_err(e)?;
    }
    os.setup_fault_event(0xFEE0_0000, 0x30, false).map_err(e)?;
    // PF -> domain 1, VF1/2 -> 2, VF3/4 -> 3, VF5-8 -> 4; VF8 is the rogue one.
    let mut funcs = vec![Rid(PF)];
    funcs.extend((1..=NUM_VFS).map(|n| Rid(PF + VF_OFFSET + (n - 1))));
    let mut rings = Vec::new();
    let mut next_hpa = 0x4000_0000u64; // buffers from 1 GiB up (2 MiB aligned)
    for (i, &rid) in funcs.iter().enumerate() {
        let did = dids[i.div_ceil(2).min(3)];
        os.assign_device(rid, did).map_err(e)?;
        // Each function owns a 1 GiB IOVA slice of its domain; its descriptor ring sits at a
        // different 4 KiB offset in each slice (as an IOVA allocator would spread them).
        let base = (i as u64 + 1) << 30;
        let ring = base + 0x1000 * (3 * i as u64 + 1);
        os.map(did, Iova(ring), Hpa(next_hpa), PageSize::Size4K, Perms::RW)
            .map_err(e)?;
        next_hpa += 0x20_0000;
        let mut bufs = Vec::new();
        let large = i % 2 == 0; // half the functions use 2 MiB buffer mappings
        for k in 0..4u64 {
            if large {
                let iova = base + 0x20_0000 * (k + 1);
                os.map(did, Iova(iova), Hpa(next_hpa), PageSize::Size2M, Perms::RW)
                    .map_err(e)?;
                next_hpa += 0x20_0000;
                bufs.push((iova, PageSize::Size2M));
            } else {
                let iova = base + 0x10_0000 + 0x1000 * (4 * i as u64 + k);
                os.map(
                    did,
                    Iova(iova),
                    Hpa(next_hpa + 0x1000 * k),
                    PageSize::Size4K,
                    Perms::RW,
                )
                .map_err(e)?;
                bufs.push((iova, PageSize::Size4K));
            }
        }
        if !large {
            next_hpa += 0x20_0000;
        }
        rings.push(Ring {
            rid,
            did,
            ring,
            bufs,
            head: 0,
            msix: vec![(0xFEE0_0000, 0x40 + i as u32)],
        });
    }
    let ir = os.caps().ir && os.caps().qi;
    let eime = os.caps().eim;
    os.bring_up(BringUp {
        qi: ir,
        ir: ir.then_some(IrSetup {
            s: 5,
            eime,
            cfi: false,
        }),
        te: true,
    })
    .map_err(e)?;
    // MSI-X through interrupt remapping: IRTEs 2i and 2i+1 for function i.
    let mut vcpus: Vec<Hpa> = Vec::new();
    if ir {
        let posted = os.caps().pi;
        if posted {
            for v in 0..2u32 {
                let pid = os.alloc_pid().map_err(e)?;
                os.write_pid(
                    pid,
                    &PostedInterruptDescriptor {
                        nv: 0xF2,
                        ndst: if eime { v } else { v << 8 },
                        ..Default::default()
                    },
                )
                .map_err(e)?;
                vcpus.push(pid);
            }
        }
        for (i, r) in rings.iter_mut().enumerate() {
            r.msix.clear();
            for k in 0..2u32 {
                let index = 2 * i as u32 + k;
                if posted && r.did == DomainId(4) {
                    let e2 = PostedIrte {
                        present: true,
                        vector: 0x50 + index as u8,
                        pda: vcpus[k as usize],
                        sid: r.rid,
                        svt: 1,
                        ..Default::default()
                    };
                    os.set_irte_posted(index, &e2).map_err(e)?;
                } else {
                    let dst = if eime {
                        i as u32
                    } else {
                        RemappedIrte::xapic_dst(i as u8)
                    };
                    let e2 = RemappedIrte::new(0x40 + index as u8, dst).verify_requester(r.rid);
                    os.set_irte_remapped(index, &e2).map_err(e)?;
                }
                let m = MsiMessage::remappable(index as u16, None);
                r.msix.push((m.addr, m.data));
            }
        }
    }

    let bar = if opts.progress {
        let b = indicatif::ProgressBar::new(opts.requests);
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} requests ({per_sec}) {msg}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        Some(b)
    } else {
        None
    };
    let mut sent = 0u64;
    let mut tag8 = 0u8;
    let rogue = rings.len() - 1;
    let pf_bufs: Vec<u64> = rings[0].bufs.iter().map(|b| b.0).collect();
    let mut next_remap_hpa = 0x80_0000_0000u64;
    while sent < opts.requests {
        if os.platform_mut().failed() {
            break;
        }
        // Streaming DMA API: every ~2000 requests one 4 KiB-buffer function unmaps a buffer,
        // invalidates it (page-selective, as Linux), and maps a fresh page in its place.
        // The hypervisor runs a vCPU now and then: it consumes the posted vectors (PIR) and
        // clears ON, so the next posting notifies again.
        if sent > 0 && sent % 3000 == 1500 && !vcpus.is_empty() {
            // Read-modify-write of the descriptor: a real hypervisor uses locked instructions
            // that the unit's atomic update cannot interleave with; here no posting is in flight.
            os.platform_mut().drain(false);
            let pid = vcpus[rng.gen_range(0..vcpus.len())];
            let mut d = os.read_pid(pid).map_err(e)?;
            d.pir = [0; 4];
            d.on = false;
            os.write_pid(pid, &d).map_err(e)?;
        }
        if sent > 0 && sent % 2000 == 0 {
            let r = &mut rings[1 + 2 * rng.gen_range(0..4usize)];
            let k = rng.gen_range(0..r.bufs.len());
            let (iova, size) = r.bufs[k];
            if size == PageSize::Size4K {
                let u = os.unmap(r.did, Iova(iova), size).map_err(e)?;
                os.invalidate(&[InvRequest::IotlbPage {
                    did: r.did,
                    addr: u.addr,
                    am: u.am,
                    ih: u.ih,
                }])
                .map_err(e)?;
                os.map(r.did, Iova(iova), Hpa(next_remap_hpa), size, Perms::RW)
                    .map_err(e)?;
                next_remap_hpa += 0x1000;
                rep.unmap_cycles += 1;
            }
            if sent % 10_000 == 0 {
                os.handle_faults().map_err(e)?;
            }
        }
        let ls = os.platform_mut();
        if ls.in_flight() >= 32 || ls.queued() >= 2 {
            ls.tick();
            continue;
        }
        let i = rng.gen_range(0..rings.len());
        let r = &mut rings[i];
        tag8 = tag8.wrapping_add(1);
        let slot = r.head % 256;
        if i == rogue && !vcpus.is_empty() && rng.gen_bool(0.05) {
            // Interrupt spoofing: the PF's handle (26h), a compatibility-format MSI (25h), or
            // DMA data written into the interrupt window (20h).
            let (addr, data, len) = match rng.gen_range(0..3) {
                0 => (rings[0].msix[0].0, rings[0].msix[0].1, 4),
                1 => (0xFEE0_0000 | u64::from(rng.gen::<u8>()) << 12, 0x4030, 4),
                _ => (
                    0xFEE0_0000 + 0x40 * rng.gen_range(0..64u64),
                    0xDEAD_BEEF,
                    64,
                ),
            };
            let r = &rings[i];
            ls.submit(Request {
                hdr: Req::write(r.rid.0, tag8, addr, len).encode(),
                data0: data,
            });
            sent += 1;
            continue;
        }
        let req = if i == rogue && rng.gen_bool(0.5) {
            // The rogue VF aims at the PF's buffers (IOVAs its domain never mapped).
            let target = pf_bufs[rng.gen_range(0..pf_bufs.len())] + 0x800 * rng.gen_range(0..2u64);
            if rng.gen_bool(0.5) {
                Req::write(r.rid.0, tag8, target, 256)
            } else {
                Req::read(r.rid.0, tag8, target, 64)
            }
        } else {
            match rng.gen_range(0..10) {
                0..=2 => Req::read(r.rid.0, tag8, r.ring + slot * 16, 16),
                3..=7 => {
                    let (base, size) = r.bufs[(slot as usize) % r.bufs.len()];
                    let slots = size.bytes() / 0x800;
                    let off = 0x800 * rng.gen_range(0..slots);
                    Req::write(r.rid.0, tag8, base + off, 64 * rng.gen_range(1..=24))
                }
                8 => {
                    r.head += 1;
                    Req::write(r.rid.0, tag8, r.ring + slot * 16, 16)
                }
                _ => {
                    let (addr, data0) = r.msix[(slot as usize) % r.msix.len()];
                    let mut m = Req::write(r.rid.0, tag8, addr, 4);
                    m.len_dw = 1;
                    ls.submit(Request {
                        hdr: m.encode(),
                        data0,
                    });
                    sent += 1;
                    continue;
                }
            }
        };
        ls.submit(Request {
            hdr: req.encode(),
            data0: 0,
        });
        sent += 1;
        if let Some(b) = &bar {
            if sent % 1024 == 0 {
                b.set_position(sent);
            }
        }
    }
    if let Some(b) = bar {
        b.set_position(sent);
        b.finish_and_clear();
    }
    Ok(())
}
