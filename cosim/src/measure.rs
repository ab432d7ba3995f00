//! Directed micro-benchmarks of the RTL (`iommu-cosim measure`), run through the lockstep harness:
//! the OS driver programs the DUT over the csr port, and the scoreboard checks every outcome
//! against the golden model while the cycles are counted. Every run is deterministic: fixed memory
//! latency, in-order memory returns, no back-pressure on any channel, no idle cycles upstream,
//! fixed seed.
//!
//! 1. IOTLB-hit throughput: one warmed 4 KiB page, `hit_requests` back-to-back DMA reads and
//!    writes to it; translations per clock = N / (cycles from the first accept to the last egress).
//! 2. Miss latency of a 4-level walk (accept to egress of a single request), median of
//!    `samples`: (a) context-cache hit, IOTLB/PSC miss (a fresh page under its own PML4 entry,
//!    after a global IOTLB invalidation through the registers); (b) context-cache miss too (after
//!    a global context-cache invalidation).
//! 3. Walk overlap: `overlap_requests` back-to-back reads to distinct pages, all misses (each page
//!    under its own PML4 entry, IOTLB invalidated first): total cycles, cycles per miss, the mean
//!    number of requests in flight (sum of accept-to-egress latencies / total span, Little's law)
//!    and the most memory reads outstanding on the memory port at once.
//! 4. With interrupt remapping and queued invalidation (a second bring-up, so 1-3 are unchanged),
//!    when the DUT has them, medians of `samples`: remapped-interrupt latency (accept to the
//!    interrupt beat) with an interrupt-entry-cache miss (after a global IEC invalidation) and a
//!    hit (the same MSI again); posted-interrupt latency (accept to the notification beat, after the
//!    IEC flush, so the IRTE fetch and then the atomic update of the descriptor, which is reset
//!    to ON=0 before each sample);
//!    and the round trip of a page-selective IOTLB invalidation through the queue as software
//!    sees it (IQT write to the wait descriptor's status seen in memory).

use crate::dut::DutConfig;
use crate::hdr::Req;
use crate::lockstep::Lockstep;
use crate::memsrv::MemConfig;
use crate::sim::{Beat, Knobs};
use iommu_driver::mem::HostMemory;
use iommu_driver::model::Request;
use iommu_driver::os::IrSetup;
use iommu_driver::os::{
    BringUp, InvRequest, Iommu, MsiMessage, OsConfig, PageSize, Perms, PostedInterruptDescriptor,
    PostedIrte, RemappedIrte,
};
use iommu_driver::{DomainId, Hpa, Iova, Rid};
use std::collections::HashMap;
use std::fmt::Write as _;

/// The measured device: 02:00.0 in domain 1 with 4-level tables.
const DEV: Rid = Rid(0x0200);
const DID: DomainId = DomainId(1);
/// Host frames of the mapped pages start here.
const HPA_BASE: u64 = 0x1_0000_0000;
/// Each measured page sits under its own PML4 entry (512 GiB apart) so no paging-structure cache
/// entry of one helps the walk of another.
const REGION_SHIFT: u32 = 39;

/// What to measure.
#[derive(Debug, Clone)]
pub struct MeasureOpts {
    /// RTL parameter set to measure.
    pub config: DutConfig,
    /// Fixed memory read latency in cycles.
    pub mem_latency: u32,
    /// Back-to-back requests of the IOTLB-hit throughput run.
    pub hit_requests: u64,
    /// Samples per miss-latency median.
    pub samples: usize,
    /// Back-to-back all-miss requests of the overlap run.
    pub overlap_requests: usize,
    /// Seed handed to the lockstep harness (the run is deterministic for a given seed).
    pub seed: u64,
}

impl Default for MeasureOpts {
    fn default() -> Self {
        MeasureOpts {
            config: DutConfig::Default,
            mem_latency: 100,
            hit_requests: 20_000,
            samples: 7,
            overlap_requests: 64,
            seed: 1,
        }
    }
}

/// The measured numbers.
#[derive(Debug, Clone, PartialEq)]
pub struct MeasureReport {
    /// RTL parameter set the figures were measured on.
    pub config: DutConfig,
    /// Fixed memory read latency in cycles used for all runs.
    pub mem_latency: u32,
    /// IOTLB-hit run: requests, span in cycles (first accept to last egress), translations/clock.
    pub hit_requests: u64,
    /// IOTLB-hit run: cycles from the first accept to the last egress.
    pub hit_cycles: u64,
    /// IOTLB-hit run: translations per clock, `hit_requests / hit_cycles`.
    pub hit_per_clock: f64,
    /// Accept-to-egress latencies of the context-hit / IOTLB-miss samples, and their median.
    pub miss_ctx_hit: Vec<u64>,
    /// Median of `miss_ctx_hit`, in cycles.
    pub miss_ctx_hit_median: u64,
    /// Same with a context-cache miss.
    pub miss_ctx_miss: Vec<u64>,
    /// Median of `miss_ctx_miss`, in cycles.
    pub miss_ctx_miss_median: u64,
    /// Overlap run: requests, span in cycles, cycles per miss.
    pub overlap_requests: usize,
    /// Overlap run: cycles from the first accept to the last egress.
    pub overlap_cycles: u64,
    /// Overlap run: `overlap_cycles / overlap_requests`, in cycles per miss.
    pub overlap_cycles_per_miss: f64,
    /// Sum of the individual accept-to-egress latencies / span (mean requests in flight).
    pub overlap_in_flight: f64,
    /// Most memory reads outstanding at once on the memory port during the overlap run.
    pub overlap_max_mem_outstanding: usize,
    /// Walk memory reads counted by the memory server during the overlap run.
    pub overlap_mem_reads: u64,
    /// Interrupt-remapping and queue figures (4.), when the DUT has IR and QI.
    pub ir: Option<IrFigures>,
}

/// Medians (cycles) of the interrupt-remapping and queued-invalidation measurements.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IrFigures {
    /// Remapped-interrupt latency with an interrupt-entry-cache miss, accept to interrupt beat, in
    /// cycles.
    pub remap_iec_miss: u64,
    /// Remapped-interrupt latency with an interrupt-entry-cache hit (the same MSI again), in
    /// cycles.
    pub remap_iec_hit: u64,
    /// Posted-interrupt latency after an IEC flush (IRTE fetch plus atomic descriptor update),
    /// accept to notification beat, in cycles.
    pub posted_notify: u64,
    /// Round trip of a page-selective IOTLB invalidation through the queue, from the IQT write to
    /// the wait descriptor's status in memory, in cycles.
    pub psi_queue_round_trip: u64,
}

impl IrFigures {
    /// (CSV metric, table label, cycles) of each figure.
    fn rows(&self) -> [(&'static str, &'static str, u64); 4] {
        [
            (
                "remap_iec_miss_median",
                "interrupt remap latency, IEC miss (median)",
                self.remap_iec_miss,
            ),
            (
                "remap_iec_hit_median",
                "interrupt remap latency, IEC hit (median)",
                self.remap_iec_hit,
            ),
            (
                "posted_notify_median",
                "posted interrupt, IEC miss + atomic, to notification (median)",
                self.posted_notify,
            ),
            (
                "psi_queue_round_trip_median",
                "page-selective invalidation via the queue, round trip",
                self.psi_queue_round_trip,
            ),
        ]
    }
}

impl MeasureReport {
    /// The printed table.
    pub fn table(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "iommu-cosim measure: config {}, memory latency {} cycles (fixed), no back-pressure",
            self.config, self.mem_latency
        );
        let _ = writeln!(s, "  {:<52} {:>12}", "measurement", "value");
        let mut row = |k: String, v: String| {
            let _ = writeln!(s, "  {k:<52} {v:>12}");
        };
        row(
            format!(
                "IOTLB-hit throughput ({} reqs, {} cycles)",
                self.hit_requests, self.hit_cycles
            ),
            format!("{:.3} /clk", self.hit_per_clock),
        );
        row(
            format!(
                "miss latency, ctx hit, 4-level walk (median of {})",
                self.miss_ctx_hit.len()
            ),
            format!("{} cyc", self.miss_ctx_hit_median),
        );
        row(
            format!(
                "miss latency, ctx miss + walk (median of {})",
                self.miss_ctx_miss.len()
            ),
            format!("{} cyc", self.miss_ctx_miss_median),
        );
        row(
            format!("overlap: {} misses, total", self.overlap_requests),
            format!("{} cyc", self.overlap_cycles),
        );
        row(
            "overlap: cycles per miss".into(),
            format!("{:.1} cyc", self.overlap_cycles_per_miss),
        );
        row(
            "overlap: requests in flight (sum latency / span)".into(),
            format!("{:.2}", self.overlap_in_flight),
        );
        row(
            "overlap: max memory reads outstanding".into(),
            format!("{}", self.overlap_max_mem_outstanding),
        );
        row(
            "overlap: memory reads".into(),
            format!("{}", self.overlap_mem_reads),
        );
        for (_, label, v) in self.ir.iter().flat_map(IrFigures::rows) {
            row(label.into(), format!("{v} cyc"));
        }
        s
    }

    /// CSV rows `config,mem_latency,metric,value` (with a header line).
    pub fn csv(&self) -> String {
        let mut s = String::from("config,mem_latency,metric,value\n");
        let rows: [(&str, String); 9] = [
            ("hit_requests", self.hit_requests.to_string()),
            ("hit_cycles", self.hit_cycles.to_string()),
            ("hit_per_clock", format!("{:.4}", self.hit_per_clock)),
            ("miss_ctx_hit_median", self.miss_ctx_hit_median.to_string()),
            (
                "miss_ctx_miss_median",
                self.miss_ctx_miss_median.to_string(),
            ),
            ("overlap_cycles", self.overlap_cycles.to_string()),
            (
                "overlap_cycles_per_miss",
                format!("{:.2}", self.overlap_cycles_per_miss),
            ),
            (
                "overlap_in_flight",
                format!("{:.3}", self.overlap_in_flight),
            ),
            (
                "overlap_max_mem_outstanding",
                self.overlap_max_mem_outstanding.to_string(),
            ),
        ];
        for (k, v) in rows {
            let _ = writeln!(s, "{},{},{k},{v}", self.config, self.mem_latency);
        }
        for (k, _, v) in self.ir.iter().flat_map(IrFigures::rows) {
            let _ = writeln!(s, "{},{},{k},{v}", self.config, self.mem_latency);
        }
        s
    }
}

/// Timing of one batch of back-to-back requests.
#[derive(Debug, Clone, Default)]
struct Batch {
    first_accept: u64,
    last_egress: u64,
    /// Accept-to-egress latency of each request, in submission order.
    latencies: Vec<u64>,
    max_mem_outstanding: usize,
    mem_reads: u64,
}

impl Batch {
    fn span(&self) -> u64 {
        self.last_egress.saturating_sub(self.first_accept)
    }
}

/// Submit `reqs` keeping the DUT's upstream input always offered (no idle cycles), tick until all
/// retired, and time them from the harness's view of the ports. The scoreboard checks each one.
fn batch(ls: &mut Lockstep, reqs: &[Request]) -> Result<Batch, String> {
    ls.drain(false);
    let reads0 = ls.sim.memsrv.stats.reads;
    let mut tags = Vec::with_capacity(reqs.len());
    let mut accept: HashMap<u16, u64> = HashMap::new();
    let mut egress: HashMap<u16, u64> = HashMap::new();
    let mut b = Batch::default();
    let mut next = 0usize;
    let limit = ls.sim.cycle() + 1_000 * (reqs.len() as u64 + 100) + 1_000_000;
    while next < reqs.len() || ls.in_flight() > 0 {
        if ls.failed() {
            return Err(ls.failures[0].to_string());
        }
        if ls.sim.cycle() > limit {
            return Err(format!(
                "batch of {} requests did not finish by cycle {limit}",
                reqs.len()
            ));
        }
        while next < reqs.len() && ls.queued() < 2 {
            tags.push(ls.submit(reqs[next]));
            next += 1;
        }
        ls.sim.tick();
        b.max_mem_outstanding = b.max_mem_outstanding.max(ls.sim.memsrv.outstanding());
        for &(tag, c) in &ls.sim.accepted {
            accept.insert(tag, c);
        }
        for &(c, e) in &ls.sim.egress {
            match e {
                Beat::Dn { tag, .. } | Beat::Cpl { tag, .. } => {
                    egress.insert(tag, c);
                }
                Beat::Irq { .. } => {}
            }
        }
        ls.process();
    }
    ls.drain(false);
    if ls.failed() {
        return Err(ls.failures[0].to_string());
    }
    b.mem_reads = ls.sim.memsrv.stats.reads - reads0;
    b.first_accept = u64::MAX;
    for t in &tags {
        let (Some(&a), Some(&e)) = (accept.get(t), egress.get(t)) else {
            return Err(format!("request tag {t:#06x} has no accept or no egress"));
        };
        b.first_accept = b.first_accept.min(a);
        b.last_egress = b.last_egress.max(e);
        b.latencies.push(e.saturating_sub(a));
    }
    Ok(b)
}

fn median(v: &[u64]) -> u64 {
    let mut s = v.to_vec();
    s.sort_unstable();
    s.get(s.len() / 2).copied().unwrap_or(0)
}

/// IOVA of measured page `i`: under PML4 entry `i + 1`, at a 4 KiB offset that varies with `i`.
fn page(i: u64) -> u64 {
    ((i + 1) << REGION_SHIFT) | ((i % 512) << 12)
}

fn read(tag: u8, addr: u64) -> Request {
    Request {
        hdr: Req::read(DEV.0, tag, addr, 64).encode(),
        data0: 0,
    }
}

fn write(tag: u8, addr: u64) -> Request {
    Request {
        hdr: Req::write(DEV.0, tag, addr, 64).encode(),
        data0: 0x1234_5678,
    }
}

/// Run all three measurements.
pub fn run_measure(opts: &MeasureOpts) -> Result<MeasureReport, String> {
    let e = |x: iommu_driver::os::OsError| x.to_string();
    let lat = opts.mem_latency.max(1);
    let memcfg = MemConfig::fixed(lat);
    let mut ls = Lockstep::new(
        opts.config,
        HostMemory::new(),
        memcfg,
        Knobs::full_speed(),
        opts.seed,
    )
    .map_err(|x| format!("bring-up: {x}"))?;
    // A walk at 100+ cycles per read times dozens of queued misses stays far below this.
    ls.bound = 2_000_000;
    ls.quiet = ls.quiet.max(8 * lat as u64 + 64);
    let mut os = Iommu::new(ls, OsConfig::default()).map_err(e)?;
    if !os.caps().supports_levels(4) {
        return Err("the DUT does not support 4-level tables".into());
    }
    os.create_domain(DID, 4).map_err(e)?;
    os.assign_device(DEV, DID).map_err(e)?;
    let samples = opts.samples.max(1);
    let k = opts.overlap_requests.max(1);
    let n_pages = 1 + 2 * samples + k;
    if n_pages > 511 {
        return Err(format!(
            "{n_pages} pages under distinct PML4 entries needed, at most 511 available"
        ));
    }
    for i in 0..n_pages as u64 {
        os.map(
            DID,
            Iova(page(i)),
            Hpa(HPA_BASE + 0x1000 * i),
            PageSize::Size4K,
            Perms::RW,
        )
        .map_err(e)?;
    }
    os.bring_up(BringUp {
        qi: false,
        ir: None,
        te: true,
    })
    .map_err(e)?;

    // 1. IOTLB-hit throughput on page 0 (warmed by one read first).
    let hot = page(0);
    batch(os.platform_mut(), &[read(0, hot)])?;
    let reqs: Vec<Request> = (0..opts.hit_requests.max(1))
        .map(|i| {
            let addr = hot + 64 * (i % 64);
            if i % 2 == 0 {
                read(i as u8, addr)
            } else {
                write(i as u8, addr)
            }
        })
        .collect();
    let hit = batch(os.platform_mut(), &reqs)?;
    let hit_cycles = hit.span().max(1);

    // 2a. Context-cache hit, IOTLB and PSC miss: a fresh page under its own PML4 entry, after a
    // global IOTLB invalidation (which leaves the context cache warm).
    let mut miss_ctx_hit = Vec::new();
    for s in 0..samples as u64 {
        os.invalidate(&[InvRequest::IotlbGlobal]).map_err(e)?;
        let b = batch(os.platform_mut(), &[read(s as u8, page(1 + s))])?;
        miss_ctx_hit.extend(b.latencies);
    }
    // 2b. Context-cache miss as well: global context invalidation, then a global IOTLB one (the
    // order software must use, spec 6.5.1).
    let mut miss_ctx_miss = Vec::new();
    for s in 0..samples as u64 {
        os.invalidate(&[InvRequest::ContextGlobal, InvRequest::IotlbGlobal])
            .map_err(e)?;
        let b = batch(
            os.platform_mut(),
            &[read(s as u8, page(1 + samples as u64 + s))],
        )?;
        miss_ctx_miss.extend(b.latencies);
    }

    // 3. Overlap: K back-to-back reads, all IOTLB misses with no PSC help; context cache warm.
    os.invalidate(&[InvRequest::IotlbGlobal]).map_err(e)?;
    batch(os.platform_mut(), &[read(0, hot)])?; // re-warm the context cache
    os.invalidate(&[InvRequest::IotlbGlobal]).map_err(e)?;
    let base = 1 + 2 * samples as u64;
    let reqs: Vec<Request> = (0..k as u64)
        .map(|i| read(i as u8, page(base + i)))
        .collect();
    let ov = batch(os.platform_mut(), &reqs)?;
    let ov_cycles = ov.span().max(1);

    let ls = os.platform_mut();
    ls.finish();
    if ls.failed() {
        return Err(ls.failures[0].to_string());
    }
    let caps = *os.caps();
    let ir = if caps.ir && caps.qi {
        Some(measure_ir(opts, memcfg)?)
    } else {
        None
    };
    Ok(MeasureReport {
        ir,
        config: opts.config,
        mem_latency: lat,
        hit_requests: reqs_len(&hit),
        hit_cycles,
        hit_per_clock: reqs_len(&hit) as f64 / hit_cycles as f64,
        miss_ctx_hit_median: median(&miss_ctx_hit),
        miss_ctx_hit,
        miss_ctx_miss_median: median(&miss_ctx_miss),
        miss_ctx_miss,
        overlap_requests: k,
        overlap_cycles: ov_cycles,
        overlap_cycles_per_miss: ov_cycles as f64 / k as f64,
        overlap_in_flight: ov.latencies.iter().sum::<u64>() as f64 / ov_cycles as f64,
        overlap_max_mem_outstanding: ov.max_mem_outstanding,
        overlap_mem_reads: ov.mem_reads,
    })
}

/// Accept-to-interrupt-beat latency of one interrupt request, on a drained DUT.
fn irq_latency(ls: &mut Lockstep, req: Request) -> Result<u64, String> {
    ls.drain(false);
    let tag = ls.submit(req);
    let start = ls.sim.cycle();
    let mut accepted = None;
    loop {
        if ls.failed() {
            return Err(ls.failures[0].to_string());
        }
        if ls.sim.cycle() - start > 1_000_000 {
            return Err("no interrupt beat within 1,000,000 cycles".into());
        }
        ls.sim.tick();
        for &(t, c) in &ls.sim.accepted {
            if t == tag {
                accepted = Some(c);
            }
        }
        let beat = ls
            .sim
            .egress
            .iter()
            .find(|(_, e)| matches!(e, Beat::Irq { .. }))
            .map(|(c, _)| *c);
        ls.process();
        if let (Some(a), Some(b)) = (accepted, beat) {
            ls.drain(false);
            return Ok(b - a);
        }
    }
}

/// 4.: interrupt remapping (x2APIC mode) and queued invalidation.
pub(crate) fn measure_ir(opts: &MeasureOpts, memcfg: MemConfig) -> Result<IrFigures, String> {
    let e = |x: iommu_driver::os::OsError| x.to_string();
    let mut ls = Lockstep::new(
        opts.config,
        HostMemory::new(),
        memcfg,
        Knobs::full_speed(),
        opts.seed,
    )
    .map_err(|x| format!("bring-up: {x}"))?;
    ls.bound = 2_000_000;
    ls.quiet = ls.quiet.max(8 * memcfg.latency_max as u64 + 64);
    let mut os = Iommu::new(ls, OsConfig::default()).map_err(e)?;
    os.create_domain(DID, 4).map_err(e)?;
    os.assign_device(DEV, DID).map_err(e)?;
    os.map(
        DID,
        Iova(page(0)),
        Hpa(HPA_BASE),
        PageSize::Size4K,
        Perms::RW,
    )
    .map_err(e)?;
    os.bring_up(BringUp {
        qi: true,
        ir: Some(IrSetup {
            s: 3,
            eime: true,
            cfi: false,
        }),
        te: true,
    })
    .map_err(e)?;
    os.set_irte_remapped(1, &RemappedIrte::new(0x30, 1).verify_requester(DEV))
        .map_err(e)?;
    let pid = os.alloc_pid().map_err(e)?;
    let fresh = PostedInterruptDescriptor {
        nv: 0xF2,
        ndst: 1,
        ..Default::default()
    };
    os.write_pid(pid, &fresh).map_err(e)?;
    os.set_irte_posted(
        2,
        &PostedIrte {
            present: true,
            vector: 0x61,
            pda: pid,
            sid: DEV,
            svt: 1,
            ..Default::default()
        },
    )
    .map_err(e)?;
    let msi = |handle: u16, tag: u8| {
        let m = MsiMessage::remappable(handle, None);
        Request {
            hdr: Req::write(DEV.0, tag, m.addr, 4).encode(),
            data0: m.data,
        }
    };
    let (mut miss, mut hit, mut posted, mut psi) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for s in 0..opts.samples.max(1) as u8 {
        os.invalidate(&[InvRequest::IecGlobal]).map_err(e)?;
        miss.push(irq_latency(os.platform_mut(), msi(1, s))?);
        hit.push(irq_latency(os.platform_mut(), msi(1, s))?);
        os.write_pid(pid, &fresh).map_err(e)?;
        posted.push(irq_latency(os.platform_mut(), msi(2, s))?);
        let t0 = os.platform_mut().sim.cycle();
        os.invalidate(&[InvRequest::IotlbPage {
            did: DID,
            addr: Iova(page(0)),
            am: 0,
            ih: false,
        }])
        .map_err(e)?;
        psi.push(os.platform_mut().sim.cycle() - t0);
    }
    let ls = os.platform_mut();
    ls.finish();
    if ls.failed() {
        return Err(ls.failures[0].to_string());
    }
    Ok(IrFigures {
        remap_iec_miss: median(&miss),
        remap_iec_hit: median(&hit),
        posted_notify: median(&posted),
        psi_queue_round_trip: median(&psi),
    })
}

fn reqs_len(b: &Batch) -> u64 {
    b.latencies.len() as u64
}
