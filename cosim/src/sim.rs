//! Cycle driver around [`Dut`]: feeds the upstream request queue, drives random back-pressure on
//! every output channel and random idle cycles on the upstream input (all from one seeded RNG, so a
//! run is reproducible), serves the memory port ([`MemServer`]) and runs register accesses through
//! the csr port. Egress beats and accepted requests are queued for the scoreboard.

use crate::dut::{cpl_from_port, hdr_from_port, hdr_to_port, Dut, DutConfig};
use crate::memsrv::{MemConfig, MemServer};
use iommu_driver::mem::HostMemory;
use iommu_driver::model::Msi;
use iommu_driver::platform::PlatformError;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::VecDeque;

/// Random stimulus knobs (probabilities per cycle).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Knobs {
    /// Probability that the harness holds back a queued upstream request for one more cycle.
    pub up_idle: f64,
    /// Probability that `dn_ready` is high.
    pub dn_ready: f64,
    /// Probability that `cpl_ready` is high.
    pub cpl_ready: f64,
    /// Probability that `irq_ready` is high.
    pub irq_ready: f64,
}

impl Knobs {
    /// No back-pressure and no idle cycles: full speed.
    pub fn full_speed() -> Self {
        Knobs {
            up_idle: 0.0,
            dn_ready: 1.0,
            cpl_ready: 1.0,
            irq_ready: 1.0,
        }
    }
    /// A random but fixed mix for one seed of a regression.
    pub fn random<R: Rng>(rng: &mut R) -> Self {
        let mut p = || {
            if rng.gen_bool(0.3) {
                1.0
            } else {
                rng.gen_range(0.3..1.0)
            }
        };
        Knobs {
            dn_ready: p(),
            cpl_ready: p(),
            irq_ready: p(),
            up_idle: 1.0 - p(),
        }
    }
}

impl Default for Knobs {
    fn default() -> Self {
        Knobs::full_speed()
    }
}

/// One beat leaving the DUT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Beat {
    /// Translated request toward memory (header DW0 first).
    Dn {
        /// Harness tag of the request (`dn_tag`, the `up_tag` it was accepted with).
        tag: u16,
        /// The translated request's TLP header; the fourth DW is unused for a 3DW header.
        hdr: [u32; 4],
    },
    /// Completion to the device (header DW0 first).
    Cpl {
        /// Harness tag of the blocked request (`cpl_tag`).
        tag: u16,
        /// The 3DW completion header (spec C4).
        hdr: [u32; 3],
    },
    /// Interrupt message.
    Irq {
        /// The DWORD write on the irq channel: a remapped interrupt, a posted interrupt's
        /// notification, or the unit's own fault / invalidation-completion event.
        msi: Msi,
    },
}

/// A bug injected between the DUT and the harness, to demonstrate and test what happens with a
/// failing DUT (`regress --inject-bug`, failure shrinking): the RTL stays correct, what the
/// harness sees of it does not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sabotage {
    /// Translated requests whose output address has this bit (12..=63) set leave with it clear.
    ClearDnAddrBit(u8),
    /// Downstream beats 1-2, 3-4, ... are seen in swapped order (a beat with no successor is
    /// seen once the unit is idle): a unit that reorders its translated requests.
    SwapDnPairs,
}

impl Sabotage {
    fn apply(self, hdr: &mut [u32; 4]) {
        match self {
            Sabotage::SwapDnPairs => {}
            Sabotage::ClearDnAddrBit(b) => {
                let four = hdr[0] & (1 << 29) != 0;
                let b = u32::from(b);
                if four && b >= 32 {
                    hdr[2] &= !(1 << (b - 32));
                } else if b < 32 {
                    hdr[if four { 3 } else { 2 }] &= !(1 << b);
                }
            }
        }
    }
}

impl std::str::FromStr for Sabotage {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || {
            format!("unknown bug {s:?} (known: clear-dn-addr-bit:N, N in 12..=63: translated addresses with bit N set leave with it clear; swap-dn-pairs: downstream beats seen in swapped pairs)")
        };
        if s == "swap-dn-pairs" {
            return Ok(Sabotage::SwapDnPairs);
        }
        let n = s.strip_prefix("clear-dn-addr-bit:").ok_or_else(bad)?;
        let n: u8 = n.parse().map_err(|_| bad())?;
        if !(12..=63).contains(&n) {
            return Err(bad());
        }
        Ok(Sabotage::ClearDnAddrBit(n))
    }
}

/// An upstream request waiting to be presented.
#[derive(Debug, Clone, Copy)]
struct UpBeat {
    tag: u16,
    hdr: [u32; 4],
    data0: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CsrState {
    Idle,
    Present,
    Wait,
}

/// The DUT plus everything the harness drives around it, one cycle at a time.
pub struct Sim {
    /// The verilated `iommu_top` with its input and output port structs.
    pub dut: Dut,
    /// The memory the DUT's memory port sees (tables written by the OS driver).
    pub mem: HostMemory,
    /// Server of the DUT's memory port (latency, out-of-order returns, injected read errors).
    pub memsrv: MemServer,
    /// Back-pressure and idle-cycle probabilities used by every [`Sim::tick`].
    pub knobs: Knobs,
    rng: ChaCha8Rng,
    up_queue: VecDeque<UpBeat>,
    up_presenting: bool,
    csr_state: CsrState,
    csr_rdata: Option<u64>,
    /// Tags accepted by the DUT (in order) and not yet taken by the scoreboard.
    pub accepted: VecDeque<(u16, u64)>,
    /// Beats the DUT produced (in order), not yet taken by the scoreboard.
    pub egress: VecDeque<(u64, Beat)>,
    /// Cycle of the last handshake on any channel (or of outstanding memory traffic).
    pub last_activity: u64,
    /// Beats per channel so far: up, dn, cpl, irq.
    pub beats: [u64; 4],
    /// An injected bug (none normally).
    pub sabotage: Option<Sabotage>,
    /// A downstream beat held back by [`Sabotage::SwapDnPairs`].
    held_dn: Option<(u64, Beat)>,
    /// A waveform to open when the cycle count reaches the given cycle ([`Sim::trace_from`]).
    trace_at: Option<(u64, std::path::PathBuf)>,
    /// Why the waveform of [`Sim::trace_from`] could not be opened.
    pub trace_error: Option<String>,
}

impl Sim {
    /// A DUT in reset, released after a few cycles, with `mem` behind its memory port.
    pub fn new(
        config: DutConfig,
        mem: HostMemory,
        memcfg: MemConfig,
        knobs: Knobs,
        seed: u64,
    ) -> Self {
        let mut dut = Dut::new(config);
        dut.reset(5);
        Sim {
            dut,
            mem,
            memsrv: MemServer::new(memcfg),
            knobs,
            rng: ChaCha8Rng::seed_from_u64(seed ^ 0x5eed_0f51_u64),
            up_queue: VecDeque::new(),
            up_presenting: false,
            csr_state: CsrState::Idle,
            csr_rdata: None,
            accepted: VecDeque::new(),
            egress: VecDeque::new(),
            last_activity: 0,
            beats: [0; 4],
            sabotage: None,
            held_dn: None,
            trace_at: None,
            trace_error: None,
        }
    }

    /// Open an FST waveform at `path` once the clock reaches `cycle` (a window before a known
    /// failure, not the whole run).
    pub fn trace_from(&mut self, cycle: u64, path: std::path::PathBuf) {
        self.trace_at = Some((cycle, path));
    }

    /// Clock cycles stepped since the DUT was created, the reset cycles included.
    pub fn cycle(&self) -> u64 {
        self.dut.cycle()
    }

    /// Queue an upstream request (header DW0 first) with a harness tag.
    pub fn push_up(&mut self, tag: u16, hdr: [u32; 4], data0: u32) {
        self.up_queue.push_back(UpBeat { tag, hdr, data0 });
        // Queuing work is activity: the quiet-time measure restarts.
        self.last_activity = self.cycle();
    }

    /// Upstream requests queued and not yet accepted by the DUT.
    pub fn up_queued(&self) -> usize {
        self.up_queue.len()
    }

    /// Nothing moving: no memory read outstanding, nothing queued upstream, no register access.
    pub fn idle_for(&self) -> u64 {
        self.cycle().saturating_sub(self.last_activity)
    }

    /// One clock cycle with random idle/back-pressure; handshakes are recorded in the queues.
    pub fn tick(&mut self) {
        let now = self.dut.cycle();
        if self.trace_at.as_ref().is_some_and(|(c, _)| now >= *c) {
            if let Some((_, p)) = self.trace_at.take() {
                if let Err(e) = self.dut.trace_open(&p) {
                    self.trace_error = Some(e);
                }
            }
        }
        let k = self.knobs;
        {
            let inp = &mut self.dut.inp;
            if !self.up_presenting {
                if let Some(b) = self.up_queue.front() {
                    if k.up_idle <= 0.0 || !self.rng.gen_bool(k.up_idle.clamp(0.0, 1.0)) {
                        self.up_presenting = true;
                        inp.up_hdr = hdr_to_port(&b.hdr);
                        inp.up_data0 = b.data0;
                        inp.up_tag = b.tag;
                    }
                }
            }
            inp.up_valid = self.up_presenting as u8;
            inp.dn_ready = chance(&mut self.rng, k.dn_ready);
            inp.cpl_ready = chance(&mut self.rng, k.cpl_ready);
            inp.irq_ready = chance(&mut self.rng, k.irq_ready);
            inp.csr_valid = (self.csr_state == CsrState::Present) as u8;
        }
        self.memsrv.drive(now, &mut self.rng, &mut self.dut.inp);
        self.dut.step();
        let (inp, out) = (self.dut.inp, self.dut.out);
        let mut active = self.memsrv.outstanding() > 0;
        if inp.up_valid != 0 && out.up_ready != 0 {
            let b = self.up_queue.pop_front().expect("presented beat is queued");
            self.up_presenting = false;
            self.accepted.push_back((b.tag, now));
            self.beats[0] += 1;
            active = true;
        }
        if out.dn_valid != 0 && inp.dn_ready != 0 {
            let mut hdr = hdr_from_port(&out.dn_hdr);
            if let Some(b) = self.sabotage {
                b.apply(&mut hdr);
            }
            let beat = (
                now,
                Beat::Dn {
                    tag: out.dn_tag,
                    hdr,
                },
            );
            if self.sabotage == Some(Sabotage::SwapDnPairs) {
                match self.held_dn.take() {
                    None => self.held_dn = Some(beat),
                    Some(h) => {
                        self.egress.push_back(beat);
                        self.egress.push_back(h);
                    }
                }
            } else {
                self.egress.push_back(beat);
            }
            self.beats[1] += 1;
            active = true;
        }
        if out.cpl_valid != 0 && inp.cpl_ready != 0 {
            self.egress.push_back((
                now,
                Beat::Cpl {
                    tag: out.cpl_tag,
                    hdr: cpl_from_port(&out.cpl_hdr),
                },
            ));
            self.beats[2] += 1;
            active = true;
        }
        if out.irq_valid != 0 && inp.irq_ready != 0 {
            self.egress.push_back((
                now,
                Beat::Irq {
                    msi: Msi {
                        addr: out.irq_addr,
                        data: out.irq_data,
                    },
                },
            ));
            self.beats[3] += 1;
            active = true;
        }
        if out.mem_req_valid != 0 && inp.mem_req_ready != 0 {
            active = true;
        }
        self.memsrv
            .observe(now, &mut self.rng, &mut self.mem, &inp, &out);
        if out.csr_rvalid != 0 && self.csr_state == CsrState::Wait {
            self.csr_rdata = Some(out.csr_rdata);
            self.csr_state = CsrState::Idle;
            active = true;
        }
        if inp.csr_valid != 0 && out.csr_ready != 0 {
            self.csr_state = CsrState::Wait;
            active = true;
        }
        if active || self.csr_state != CsrState::Idle {
            self.last_activity = now;
        }
        // A held-back beat with no successor shows up once the unit has been idle a while.
        if self.held_dn.is_some() && now.saturating_sub(self.last_activity) >= 20 {
            if let Some(h) = self.held_dn.take() {
                self.egress.push_back(h);
                self.last_activity = now;
            }
        }
    }

    /// One register access through the csr port, ticking (with all other traffic) until the DUT
    /// answers; at most `bound` cycles. Returns the read data (0 for writes).
    pub fn csr_access(
        &mut self,
        write: bool,
        offset: u16,
        size: u8,
        value: u64,
        bound: u64,
    ) -> Result<u64, PlatformError> {
        check_access(offset, size)?;
        {
            let inp = &mut self.dut.inp;
            inp.csr_write = write as u8;
            inp.csr_addr = offset;
            inp.csr_size = size;
            inp.csr_wdata = if size == 4 {
                value & 0xFFFF_FFFF
            } else {
                value
            };
        }
        self.csr_state = CsrState::Present;
        self.csr_rdata = None;
        let start = self.cycle();
        while self.csr_rdata.is_none() {
            if self.cycle() - start > bound {
                self.csr_state = CsrState::Idle;
                self.dut.inp.csr_valid = 0;
                return Err(PlatformError::Timeout {
                    offset,
                    cycles: bound,
                });
            }
            self.tick();
        }
        self.dut.inp.csr_valid = 0;
        let v = self.csr_rdata.take().unwrap_or(0);
        Ok(if size == 4 { v & 0xFFFF_FFFF } else { v })
    }
}

/// Reject what is not a VT-d register access: size 4/8, naturally aligned, inside the 4 KiB page.
pub fn check_access(offset: u16, size: u8) -> Result<(), PlatformError> {
    if !(size == 4 || size == 8)
        || offset % size as u16 != 0
        || offset as u32 + size as u32 > 0x1000
    {
        return Err(PlatformError::BadAccess { offset, size });
    }
    Ok(())
}

fn chance<R: Rng>(rng: &mut R, p: f64) -> u8 {
    (p >= 1.0 || (p > 0.0 && rng.gen_bool(p))) as u8
}
