//! The host memory server behind the DUT's memory port (ARCHITECTURE.md "memory port"): reads of
//! 16 bytes (aligned down to 16, little-endian) and strobed writes, served from an
//! [`iommu_driver::mem::HostMemory`] with a configurable latency (fixed or a random range), an
//! outstanding-request limit, out-of-order returns and random back-pressure. A memory error in the
//! `HostMemory` (injected range or out of range) is returned as `mem_rsp_err`.
//!
//! Writes (`mem_req_op` = 1) get no response: the port contract defines responses for reads only.

use crate::dut::{DutIn, DutOut};
use iommu_driver::mem::HostMemory;
use iommu_driver::Hpa;
use rand::Rng;

/// Knobs of the memory server.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MemConfig {
    /// Smallest read latency in cycles (from request acceptance to the response beat), >= 1.
    pub latency_min: u32,
    /// Largest read latency; equal to `latency_min` for a fixed latency.
    pub latency_max: u32,
    /// Reads outstanding at most; `mem_req_ready` is low while the limit is reached.
    pub max_outstanding: usize,
    /// Return ready responses in random order (else oldest first).
    pub out_of_order: bool,
    /// Probability that `mem_req_ready` is high in a cycle (when below the limit).
    pub ready_prob: f64,
}

impl Default for MemConfig {
    fn default() -> Self {
        MemConfig {
            latency_min: 20,
            latency_max: 20,
            max_outstanding: 16,
            out_of_order: false,
            ready_prob: 1.0,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Pending {
    ready_at: u64,
    id: u32,
    data: [u32; 4],
    err: bool,
}

/// Counters of the memory traffic served.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MemStats {
    pub reads: u64,
    pub writes: u64,
    pub errors: u64,
}

/// Serves the DUT's memory port.
#[derive(Debug, Clone)]
pub struct MemServer {
    pub cfg: MemConfig,
    pending: Vec<Pending>,
    pub stats: MemStats,
    /// Protocol violations seen (e.g. an id reused while outstanding).
    pub violations: Vec<String>,
}

impl MemServer {
    pub fn new(cfg: MemConfig) -> Self {
        MemServer {
            cfg,
            pending: Vec::new(),
            stats: MemStats::default(),
            violations: Vec::new(),
        }
    }

    /// Reads accepted and not yet answered.
    pub fn outstanding(&self) -> usize {
        self.pending.len()
    }

    /// Set this cycle's memory-port inputs: `mem_req_ready` and at most one response.
    pub fn drive<R: Rng>(&mut self, now: u64, rng: &mut R, inp: &mut DutIn) {
        inp.mem_req_ready = (self.pending.len() < self.cfg.max_outstanding
            && (self.cfg.ready_prob >= 1.0 || rng.gen_bool(self.cfg.ready_prob.clamp(0.0, 1.0))))
            as u8;
        inp.mem_rsp_valid = 0;
        inp.mem_rsp_err = 0;
        let pick = if self.cfg.out_of_order {
            let ready = self.pending.iter().filter(|p| p.ready_at <= now).count();
            if ready == 0 {
                None
            } else {
                let k = rng.gen_range(0..ready);
                self.pending
                    .iter()
                    .enumerate()
                    .filter(|(_, p)| p.ready_at <= now)
                    .nth(k)
                    .map(|(i, _)| i)
            }
        } else {
            // In order: the oldest request, once its time has come.
            self.pending
                .first()
                .filter(|p| p.ready_at <= now)
                .map(|_| 0)
        };
        if let Some(i) = pick {
            let p = self.pending.remove(i);
            inp.mem_rsp_valid = 1;
            inp.mem_rsp_id = p.id;
            inp.mem_rsp_data = p.data;
            inp.mem_rsp_err = p.err as u8;
        }
    }

    /// Take the request accepted at this edge, if any (reads are answered later; writes apply now).
    pub fn observe<R: Rng>(
        &mut self,
        now: u64,
        rng: &mut R,
        mem: &mut HostMemory,
        inp: &DutIn,
        out: &DutOut,
    ) {
        if out.mem_req_valid == 0 || inp.mem_req_ready == 0 {
            return;
        }
        let addr = out.mem_req_addr & !0xF;
        if out.mem_req_op == 0 {
            self.stats.reads += 1;
            if self.pending.iter().any(|p| p.id == out.mem_req_id) {
                self.violations.push(format!(
                    "cycle {now}: memory read id {} issued while a read with that id is outstanding",
                    out.mem_req_id
                ));
            }
            let mut buf = [0u8; 16];
            let err = mem.read(Hpa(addr), &mut buf).is_err();
            if err {
                self.stats.errors += 1;
                buf = [0; 16];
            }
            let mut data = [0u32; 4];
            for (i, w) in data.iter_mut().enumerate() {
                *w = u32::from_le_bytes([
                    buf[4 * i],
                    buf[4 * i + 1],
                    buf[4 * i + 2],
                    buf[4 * i + 3],
                ]);
            }
            let lo = self.cfg.latency_min.max(1);
            let hi = self.cfg.latency_max.max(lo);
            let lat = if hi > lo { rng.gen_range(lo..=hi) } else { lo };
            self.pending.push(Pending {
                ready_at: now + lat as u64,
                id: out.mem_req_id,
                data,
                err,
            });
        } else {
            self.stats.writes += 1;
            let mut bytes = [0u8; 16];
            for (i, w) in out.mem_req_wdata.iter().enumerate() {
                bytes[4 * i..4 * i + 4].copy_from_slice(&w.to_le_bytes());
            }
            for (b, byte) in bytes.iter().enumerate() {
                if out.mem_req_wstrb & (1 << b) != 0
                    && mem.write(Hpa(addr + b as u64), &[*byte]).is_err()
                {
                    self.stats.errors += 1;
                }
            }
        }
    }
}
