//! The `throughput` benchmark suite ([`crate::bench`]): translations per clock and DMA payload
//! bytes per clock of workloads kept flowing into the RTL (up to 64 requests in the unit, a new
//! one offered every cycle the DUT takes one), in lockstep with the golden model, at memory
//! latency 100, Max_Payload_Size 256 bytes, for any set of configurations (e.g. WALKERS 1/2/4/8
//! with `--param`). The span of a run is from the first request offered to the last egress beat.
//!
//! Workloads (each `requests` long; 70% reads unless stated):
//! - `stream`: 256-byte requests walking a 16 MiB buffer of 4 KiB pages in order (a miss every
//!   16 requests);
//! - `random`: 64-byte requests at random over the same buffer (4096 pages: nearly all misses);
//! - `nic_ring`: a NIC receive ring: per packet a 16-byte descriptor read from the ring page,
//!   then the packet written into its 2 KiB buffer as 256-byte writes (1,500-byte packets), over
//!   256 buffers in 128 pages;
//! - `sriov`: 16 VFs, each in its own domain, streaming through its own 1 MiB buffer;
//! - `miss_rate`: each request misses with probability `p` (a page never used before: a cold
//!   4-level walk with the context cache warm) and otherwise hits one warm page; `p` from 0 to
//!   50%, without and with RO=1 on every request. Beside the measured rate goes the walker
//!   bound, `min(1, W / (m * walk latency))` for the miss fraction `m` the run actually had
//!   (the DUT's IOTLB-miss counter): what the unit would reach if only the walkers limited it
//!   (the walk latency is the suite's own cold 4-level miss latency).

use crate::dut::DutConfig;
use crate::lockstep::Lockstep;
use crate::memsrv::MemConfig;
use anyhow::{bail, Context, Result};
use iommu_driver::model::Request;
use iommu_driver::os::{BringUp, InvRequest, Iommu, OsConfig, PageSize, Perms};
use iommu_driver::tlp;
use iommu_driver::{DomainId, Hpa, Iova, Rid};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Memory read latency of every throughput run, in cycles.
pub const MEM_LATENCY: u32 = 100;
/// Max_Payload_Size of the workloads, in bytes.
pub const MPS: u64 = 256;
/// Requests kept in the unit at most.
const IN_FLIGHT: usize = 64;
/// Miss probabilities of the `miss_rate` workload, in percent.
pub const MISS_PERCENT: [u32; 7] = [0, 5, 10, 15, 20, 30, 50];

/// One measured throughput figure.
#[derive(Debug, Clone, PartialEq)]
pub struct ThroughputRow {
    /// RTL configuration.
    pub config: DutConfig,
    /// Workload name (see the module documentation).
    pub workload: &'static str,
    /// Miss probability in percent (`miss_rate` only; 0 otherwise).
    pub miss_percent: u32,
    /// Every request had RO=1 (relaxed ordering).
    pub ro: bool,
    /// Requests sent.
    pub requests: u64,
    /// Payload bytes moved (reads: requested, writes: carried).
    pub bytes: u64,
    /// Cycles from the first request offered to the last egress beat.
    pub cycles: u64,
    /// Requests that missed the IOTLB (the DUT's counter 0x308, requests sent to a walker).
    pub misses: u64,
    /// The walker bound for this miss rate (`miss_rate` only; 0 otherwise).
    pub bound: f64,
}

impl ThroughputRow {
    /// Translations per clock.
    pub fn per_clock(&self) -> f64 {
        self.requests as f64 / self.cycles.max(1) as f64
    }
    /// Payload bytes per clock.
    pub fn bytes_per_clock(&self) -> f64 {
        self.bytes as f64 / self.cycles.max(1) as f64
    }
}

/// A request of the workload: device, address, length, write, relaxed ordering.
#[derive(Debug, Clone, Copy)]
struct Op {
    rid: Rid,
    addr: u64,
    len: u64,
    write: bool,
    ro: bool,
}

fn request(op: Op, tag: u16) -> Result<Request> {
    let mut h = if op.write {
        tlp::mem_write(op.rid, tag & 0xFF, op.addr, op.len)?
    } else {
        tlp::mem_read(op.rid, tag & 0xFF, op.addr, op.len)?
    };
    h.attr.ro = op.ro;
    let data0 = if op.write {
        0x5A5A_0000 | u32::from(tag)
    } else {
        0
    };
    Ok(Request::from_header(&h, data0))
}

/// A fresh unit in configuration `config` at memory latency 100, with `domains` domains (device
/// `02:n.0` in domain n+1, 4-level tables), `pages` 4 KiB pages mapped RW in each from IOVA
/// `base`, and translation on.
fn unit(config: DutConfig, domains: u16, pages: u64) -> Result<Iommu<Lockstep>> {
    let mut ls = Lockstep::builder()
        .config(config)
        .mem_port(MemConfig::fixed(MEM_LATENCY))
        .build()?;
    ls.bound = 5_000_000;
    let mut os = Iommu::new(ls, OsConfig::default())?;
    for d in 0..domains {
        let did = DomainId(d + 1);
        os.create_domain(did, 4)?;
        os.assign_device(dev(d), did)?;
        for p in 0..pages {
            os.map(
                did,
                Iova(BASE + p * 0x1000),
                Hpa(0x1_0000_0000 + (u64::from(d) << 28) + p * 0x1000),
                PageSize::Size4K,
                Perms::RW,
            )?;
        }
    }
    os.bring_up(BringUp {
        qi: false,
        ir: None,
        te: true,
    })?;
    Ok(os)
}

const BASE: u64 = 0x10_0000_0000;

fn dev(n: u16) -> Rid {
    Rid::from_bdf(2, (n % 32) as u8, (n / 32) as u8)
}

/// Feed `ops` through the unit as fast as it takes them; (cycles, IOTLB misses).
fn flow(os: &mut Iommu<Lockstep>, ops: &[Op]) -> Result<(u64, u64)> {
    let misses0 = os.platform_mut().dut_reg_read(0x308, 8)?;
    let ls = os.platform_mut();
    ls.drain(false);
    let start = ls.sim.cycle();
    for (i, op) in ops.iter().enumerate() {
        while ls.in_flight() >= IN_FLIGHT || ls.queued() >= 2 {
            ls.tick();
        }
        ls.submit(request(*op, i as u16)?);
    }
    ls.drain(false);
    ls.check()?;
    let end = ls.sim.last_activity;
    let misses = os.platform_mut().dut_reg_read(0x308, 8)? - misses0;
    Ok((end.saturating_sub(start).max(1), misses))
}

fn row(config: DutConfig, workload: &'static str, ops: &[Op], r: (u64, u64)) -> ThroughputRow {
    ThroughputRow {
        config,
        workload,
        miss_percent: 0,
        ro: false,
        requests: ops.len() as u64,
        bytes: ops.iter().map(|o| o.len).sum(),
        cycles: r.0,
        misses: r.1,
        bound: 0.0,
    }
}

/// Run the throughput suite on `config` with `requests` requests per workload.
pub fn throughput(
    config: DutConfig,
    requests: usize,
    tick: &mut dyn FnMut(),
) -> Result<Vec<ThroughputRow>> {
    let walkers = config.params().get("WALKERS").unwrap_or(1);
    let mut rows = Vec::new();
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let pages = 4096u64;

    // stream and random over a 16 MiB buffer.
    let mut os = unit(config, 1, pages).context("stream set-up")?;
    let ops: Vec<Op> = (0..requests as u64)
        .map(|i| Op {
            rid: dev(0),
            addr: BASE + (i * MPS) % (pages * 0x1000),
            len: MPS,
            write: rng.gen_bool(0.3),
            ro: false,
        })
        .collect();
    rows.push(row(config, "stream", &ops, flow(&mut os, &ops)?));
    tick();
    let ops: Vec<Op> = (0..requests)
        .map(|_| Op {
            rid: dev(0),
            addr: BASE + rng.gen_range(0..pages * 64) * 64,
            len: 64,
            write: rng.gen_bool(0.3),
            ro: false,
        })
        .collect();
    rows.push(row(config, "random", &ops, flow(&mut os, &ops)?));
    tick();

    // NIC receive ring: descriptor reads from page 0, packets into 256 buffers of 2 KiB.
    let mut ops = Vec::new();
    let mut n = 0u64;
    while ops.len() < requests {
        let slot = n % 256;
        ops.push(Op {
            rid: dev(0),
            addr: BASE + slot * 16,
            len: 16,
            write: false,
            ro: false,
        });
        let buf = BASE + 0x1000 + slot * 2048;
        let mut off = 0;
        while off < 1500 && ops.len() < requests {
            let len = (1500 - off).min(MPS).div_ceil(4) * 4;
            ops.push(Op {
                rid: dev(0),
                addr: buf + off,
                len,
                write: true,
                ro: false,
            });
            off += MPS;
        }
        n += 1;
    }
    ops.truncate(requests);
    os.invalidate(&[InvRequest::IotlbGlobal])?;
    rows.push(row(config, "nic_ring", &ops, flow(&mut os, &ops)?));
    os.platform_mut().finish();
    os.platform_mut().check()?;
    tick();

    // SR-IOV: 16 VFs in 16 domains, each streaming its own 1 MiB.
    let mut os = unit(config, 16, 256).context("sriov set-up")?;
    let ops: Vec<Op> = (0..requests as u64)
        .map(|i| {
            let vf = (i % 16) as u16;
            Op {
                rid: dev(vf),
                addr: BASE + ((i / 16) * MPS) % (256 * 0x1000),
                len: MPS,
                write: rng.gen_bool(0.3),
                ro: false,
            }
        })
        .collect();
    rows.push(row(config, "sriov", &ops, flow(&mut os, &ops)?));
    os.platform_mut().finish();
    os.platform_mut().check()?;
    tick();

    // Miss rate sweep: misses to pages never used before (each under its own PDE, so no PSC
    // help), hits to one warm page.
    // Every sweep point draws p * requests cold pages: 2 x 130% of `requests` in all.
    let miss_pages = requests as u64 * 27 / 10 + 64;
    let mut os = unit(config, 1, 1).context("miss-rate set-up")?;
    for k in 0..miss_pages {
        os.map(
            DomainId(1),
            Iova(BASE + (1 + k) * 0x20_0000),
            Hpa(0x2_0000_0000 + k * 0x1000),
            PageSize::Size4K,
            Perms::RW,
        )?;
    }
    // The cold walk latency, with the context cache warm.
    let walk = {
        let ls = os.platform_mut();
        ls.send(request(op_at(BASE, false), 0)?)?;
        os.invalidate(&[InvRequest::IotlbGlobal])?;
        let e = os
            .platform_mut()
            .send(request(op_at(BASE + 0x20_0000, false), 1)?)?;
        e.latency()
    };
    let mut next_cold = 2u64;
    for ro in [false, true] {
        for &pct in &MISS_PERCENT {
            let p = f64::from(pct) / 100.0;
            let ops: Vec<Op> = (0..requests)
                .map(|_| {
                    let addr = if rng.gen_bool(p) {
                        next_cold += 1;
                        BASE + next_cold.min(miss_pages) * 0x20_0000
                    } else {
                        BASE + rng.gen_range(0..64u64) * 64
                    };
                    Op {
                        ro,
                        ..op_at(addr, rng.gen_bool(0.3))
                    }
                })
                .collect();
            if next_cold > miss_pages {
                bail!("miss-rate sweep ran out of cold pages ({miss_pages})");
            }
            let mut r = row(config, "miss_rate", &ops, flow(&mut os, &ops)?);
            r.miss_percent = pct;
            r.ro = ro;
            // The bound of the miss rate this run actually had (the DUT's miss counter).
            r.bound = if r.misses == 0 {
                1.0
            } else {
                let rate = r.misses as f64 / r.requests as f64;
                (f64::from(walkers) / (rate * walk as f64)).min(1.0)
            };
            rows.push(r);
            tick();
        }
    }
    os.platform_mut().finish();
    os.platform_mut().check()?;
    Ok(rows)
}

fn op_at(addr: u64, write: bool) -> Op {
    Op {
        rid: dev(0),
        addr,
        len: 64,
        write,
        ro: false,
    }
}

/// Progress steps of one configuration's run (for the progress bar).
pub const STEPS: u64 = 4 + 2 * MISS_PERCENT.len() as u64;

/// The CSV header of the throughput suite.
pub const THROUGHPUT_HEADER: &str = "revision,config,CC_ENTRIES,TLB_SETS,TLB_WAYS,PSC_ENTRIES,\
WALKERS,ROB_DEPTH,IEC_ENTRIES,NFR,workload,mem_latency,mps,miss_percent,ro,requests,bytes,\
cycles,iotlb_misses,translations_per_clock,bytes_per_clock,walker_bound";

/// The throughput suite as CSV.
pub fn throughput_csv(rows: &[ThroughputRow], revision: &str) -> String {
    use std::fmt::Write as _;
    let mut s = String::from(THROUGHPUT_HEADER);
    s.push('\n');
    for r in rows {
        let p: Vec<String> = r
            .config
            .params()
            .list()
            .iter()
            .map(|(_, v)| v.to_string())
            .collect();
        let _ = writeln!(
            s,
            "{revision},{},{},{},{MEM_LATENCY},{MPS},{},{},{},{},{},{},{:.4},{:.3},{:.4}",
            r.config,
            p.join(","),
            r.workload,
            r.miss_percent,
            r.ro as u8,
            r.requests,
            r.bytes,
            r.cycles,
            r.misses,
            r.per_clock(),
            r.bytes_per_clock(),
            r.bound
        );
    }
    s
}

/// Parse a throughput CSV written by [`throughput_csv`]; a bad line is an error naming the file
/// and the line.
pub fn parse_throughput_csv(text: &str, path: &std::path::Path) -> Result<Vec<ThroughputRow>> {
    let mut lines = text.lines();
    if lines.next().unwrap_or_default() != THROUGHPUT_HEADER {
        bail!("{}: line 1 is not the throughput header", path.display());
    }
    let mut rows = Vec::new();
    for (i, line) in lines.enumerate() {
        let at = || format!("{}: line {}", path.display(), i + 2);
        let f: Vec<&str> = line.split(',').collect();
        if f.len() != 22 {
            bail!("{}: {} fields, expected 22", at(), f.len());
        }
        let workload = WORKLOADS
            .iter()
            .find(|w| **w == f[10])
            .with_context(|| format!("{}: unknown workload {:?}", at(), f[10]))?;
        rows.push(ThroughputRow {
            config: f[1].parse().map_err(anyhow::Error::msg).with_context(at)?,
            workload,
            miss_percent: f[13].parse().with_context(at)?,
            ro: f[14] == "1",
            requests: f[15].parse().with_context(at)?,
            bytes: f[16].parse().with_context(at)?,
            cycles: f[17].parse().with_context(at)?,
            misses: f[18].parse().with_context(at)?,
            bound: f[21].parse().with_context(at)?,
        });
    }
    Ok(rows)
}

const WORKLOADS: [&str; 5] = ["stream", "random", "nic_ring", "sriov", "miss_rate"];

/// The throughput section of the README.
pub fn throughput_table(rows: &[ThroughputRow]) -> String {
    use std::fmt::Write as _;
    let mut s = format!(
        "## Throughput\n\n\
         Translations per clock (and payload bytes per clock) with up to {IN_FLIGHT} requests in \
         the unit, memory latency {MEM_LATENCY}, MPS {MPS} bytes. Plot: \
         [throughput.svg](throughput.svg).\n\n"
    );
    let mut configs: Vec<DutConfig> = Vec::new();
    for r in rows {
        if !configs.contains(&r.config) {
            configs.push(r.config);
        }
    }
    let _ = write!(s, "| workload |");
    for c in &configs {
        let _ = write!(s, " `{c}` |");
    }
    let _ = write!(s, "\n|---|");
    for _ in &configs {
        s.push_str("---:|");
    }
    s.push('\n');
    let mut keys: Vec<(&str, u32, bool)> = Vec::new();
    for r in rows {
        let k = (r.workload, r.miss_percent, r.ro);
        if !keys.contains(&k) {
            keys.push(k);
        }
    }
    for (w, pct, ro) in keys {
        let name = if w == "miss_rate" {
            format!("{pct}% misses{}", if ro { ", RO=1" } else { "" })
        } else {
            w.to_string()
        };
        let _ = write!(s, "| {name} |");
        for c in &configs {
            match rows
                .iter()
                .find(|r| r.config == *c && (r.workload, r.miss_percent, r.ro) == (w, pct, ro))
            {
                Some(r) if w == "miss_rate" => {
                    let _ = write!(s, " {:.3} (bound {:.3}) |", r.per_clock(), r.bound);
                }
                Some(r) => {
                    let _ = write!(
                        s,
                        " {:.3} ({:.1} B/clk) |",
                        r.per_clock(),
                        r.bytes_per_clock()
                    );
                }
                None => s.push_str(" |"),
            }
        }
        s.push('\n');
    }
    s.push('\n');
    s
}
