//! The host memory server behind the DUT's memory port (ARCHITECTURE.md "memory port"): reads of
//! 16 bytes (aligned down to 16, little-endian) and strobed writes, served from an
//! [`iommu_driver::mem::HostMemory`] with a configurable latency (fixed or a random range), an
//! outstanding-request limit, out-of-order returns and random back-pressure. A memory error in the
//! `HostMemory` (injected range or out of range) is returned as `mem_rsp_err`.
//!
//! Ops (rtl/README.md "Memory port"):
//! - 0: read 16 bytes at the address aligned down to 16; one response.
//! - 1: write the strobed bytes of the 16 at the address aligned down to 16; one response (data
//!   0), with `mem_rsp_err` when a byte could not be written (injected error or out of range).
//! - 2: posted-interrupt descriptor update, performed atomically here (no other request is
//!   served between its read and its write): the 64-byte PID at the address aligned down to 64 is
//!   read (any byte unreadable: response with `mem_rsp_err`, nothing changed); if its control
//!   qword (bytes 32..39) has reserved bits set (vtd-pcie.md B8: bits 15:2 and 31:24) nothing is
//!   changed; else PIR\[`wdata[7:0]`\] is set and, when ON=0 and (URG=`wdata[8]` or SN=0), ON is
//!   set. The response carries the *old* bytes 32..47, from which the unit decides the fault
//!   (27h/28h) and whether to notify.

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

impl MemConfig {
    /// A fixed read latency of `cycles`, in-order returns, no request back-pressure and room for
    /// 256 reads outstanding: the deterministic memory of the benchmarks.
    pub const fn fixed(cycles: u32) -> MemConfig {
        MemConfig {
            latency_min: cycles,
            latency_max: cycles,
            max_outstanding: 256,
            out_of_order: false,
            ready_prob: 1.0,
        }
    }
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
    /// Read requests (op 0) accepted.
    pub reads: u64,
    /// Write requests (op 1) accepted.
    pub writes: u64,
    /// Posted-interrupt descriptor updates (op 2).
    pub posts: u64,
    /// Requests answered with `mem_rsp_err`: failed reads, writes with a byte not written, and
    /// unreadable posted-interrupt descriptors.
    pub errors: u64,
}

/// Serves the DUT's memory port.
#[derive(Debug, Clone)]
pub struct MemServer {
    /// The knobs this server runs with.
    pub cfg: MemConfig,
    pending: Vec<Pending>,
    /// Counts of the traffic served so far.
    pub stats: MemStats,
    /// Protocol violations seen (e.g. an id reused while outstanding).
    pub violations: Vec<String>,
}

impl MemServer {
    /// A server with nothing outstanding and zeroed counters.
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
        if out.mem_req_op == 2 {
            self.stats.posts += 1;
            if self.pending.iter().any(|p| p.id == out.mem_req_id) {
                self.violations.push(format!(
                    "cycle {now}: posted-interrupt update id {} issued while a request with that id is outstanding",
                    out.mem_req_id
                ));
            }
            let (data, err) = post_update(mem, out.mem_req_addr & !0x3F, out.mem_req_wdata[0]);
            if err {
                self.stats.errors += 1;
            }
            let lat = self.latency(rng);
            self.pending.push(Pending {
                ready_at: now + lat as u64,
                id: out.mem_req_id,
                data,
                err,
            });
        } else if out.mem_req_op == 0 {
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
            let lat = self.latency(rng);
            self.pending.push(Pending {
                ready_at: now + lat as u64,
                id: out.mem_req_id,
                data,
                err,
            });
        } else if out.mem_req_op != 1 {
            self.violations.push(format!(
                "cycle {now}: memory request with undefined op {} at {addr:#x}",
                out.mem_req_op
            ));
        } else {
            self.stats.writes += 1;
            if self.pending.iter().any(|p| p.id == out.mem_req_id) {
                self.violations.push(format!(
                    "cycle {now}: memory write id {} issued while a request with that id is outstanding",
                    out.mem_req_id
                ));
            }
            let mut failed = false;
            let mut bytes = [0u8; 16];
            for (i, w) in out.mem_req_wdata.iter().enumerate() {
                bytes[4 * i..4 * i + 4].copy_from_slice(&w.to_le_bytes());
            }
            for (b, byte) in bytes.iter().enumerate() {
                if out.mem_req_wstrb & (1 << b) != 0
                    && mem.write(Hpa(addr + b as u64), &[*byte]).is_err()
                {
                    failed = true;
                }
            }
            if failed {
                self.stats.errors += 1;
            }
            let lat = self.latency(rng);
            self.pending.push(Pending {
                ready_at: now + lat as u64,
                id: out.mem_req_id,
                data: [0; 4],
                err: failed,
            });
        }
    }
}

impl MemServer {
    /// One read latency drawn from the configured range.
    fn latency<R: Rng>(&self, rng: &mut R) -> u32 {
        let lo = self.cfg.latency_min.max(1);
        let hi = self.cfg.latency_max.max(lo);
        if hi > lo {
            rng.gen_range(lo..=hi)
        } else {
            lo
        }
    }
}

/// Reserved bits of the PID control qword (bytes 32..39): 15:2 and 31:24 (vtd-pcie.md B8).
const PID_CONTROL_RESERVED: u64 = 0xFF00_FFFC;

/// Op 2 on `mem` (see the module doc): returns the response data (old bytes 32..47 as four
/// little-endian words) and whether the descriptor was unreadable.
fn post_update(mem: &mut HostMemory, pda: u64, wdata0: u32) -> ([u32; 4], bool) {
    let mut pid = [0u8; 64];
    if mem.read(Hpa(pda), &mut pid).is_err() {
        return ([0; 4], true);
    }
    let mut data = [0u32; 4];
    for (i, w) in data.iter_mut().enumerate() {
        let o = 32 + 4 * i;
        *w = u32::from_le_bytes([pid[o], pid[o + 1], pid[o + 2], pid[o + 3]]);
    }
    let ctl = u64::from(data[0]) | u64::from(data[1]) << 32;
    if ctl & PID_CONTROL_RESERVED != 0 {
        return (data, false);
    }
    let vector = (wdata0 & 0xFF) as usize;
    let urg = wdata0 & 0x100 != 0;
    pid[vector / 8] |= 1 << (vector % 8);
    let on = ctl & 1 != 0;
    let sn = ctl & 2 != 0;
    if !on && (urg || !sn) {
        pid[32] |= 1;
    }
    // The read succeeded, so the write-back of the same bytes does too.
    let err = mem.write(Hpa(pda), &pid).is_err();
    (data, err)
}
