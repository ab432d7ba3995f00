//! Functional coverage: which features of the unit a run (or a vector suite) exercised, as named
//! bins with hit counts. The bins are a fixed list ([`BINS`]), so a bin never hit shows as 0 and
//! two coverage sets of the same list merge by adding counts, whatever machine made them.
//!
//! Request bins come from what the DUT did (the committed outcome) and what the golden model's
//! fresh path exercised ([`Model::exercised`]): "warm" bins mean an earlier committed request
//! observed the same entry, so a cache in the unit may hit there. Invalidation bins come from
//! the invalidations the model carried out, by the interface that asked (register or queue).
//! Set-up bins come from the memory-server and back-pressure settings of the run.
//!
//! The CSV (`bin,hits,description`) lists every bin in [`BINS`] order. Fault 29h has no bin: it
//! needs interrupt requests with a PASID, which this legacy-mode unit does not take.
//!
//! A vector suite's set-up bins come from its manifest's timing; the bins of [`RUN_ONLY`] are
//! for lockstep runs only.
//!
//! [`Model::exercised`]: iommu_driver::model::Model::exercised

use crate::memsrv::MemConfig;
use crate::sim::Knobs;
use anyhow::{bail, Context, Result};
use iommu_driver::model::{Exercised, Invalidation, MsiFormat, Outcome, Request};
use iommu_driver::tlp::{CplStatus, RequestHeader, RequestKind};
use iommu_driver::vtd::irte::{Sq, Svt};
use std::path::Path;

/// Every bin: name (`area.what`) and what hitting it means.
pub const BINS: &[(&str, &str)] = &[
    ("req.read", "DMA memory read"),
    ("req.write", "DMA memory write"),
    ("req.atomic", "DMA AtomicOp (FetchAdd, Swap, CAS)"),
    (
        "req.addr64",
        "DMA request with a 4DW header (64-bit address)",
    ),
    ("req.ro", "request with relaxed ordering (Attr RO)"),
    ("req.ido", "request with ID-based ordering (Attr IDO)"),
    ("req.malformed", "malformed TLP"),
    (
        "req.window_read",
        "read or atomic aimed at the interrupt window",
    ),
    ("out.forward", "request forwarded downstream"),
    ("out.ur", "non-posted request answered UR"),
    ("out.ca", "non-posted request answered CA"),
    ("out.drop", "posted request dropped"),
    (
        "out.interrupt",
        "interrupt delivered (remapped or unchanged)",
    ),
    ("out.posted", "interrupt posted without notification"),
    (
        "out.posted_notify",
        "interrupt posted with a notification event",
    ),
    ("fault.01h", "root entry not present"),
    ("fault.02h", "context entry not present"),
    (
        "fault.03h",
        "invalid context entry / SLPTPTR table read error",
    ),
    ("fault.04h", "address beyond the AGAW"),
    ("fault.05h", "write not permitted"),
    ("fault.06h", "read not permitted"),
    ("fault.07h", "second-level table read error"),
    ("fault.08h", "root table read error"),
    ("fault.09h", "context table read error"),
    ("fault.0ah", "root entry reserved bits"),
    ("fault.0bh", "context entry reserved bits"),
    ("fault.0ch", "second-level entry reserved bits"),
    ("fault.0dh", "translation request blocked"),
    ("fault.0eh", "output address in the interrupt range"),
    ("fault.20h", "interrupt request reserved fields"),
    ("fault.21h", "interrupt index beyond the table"),
    ("fault.22h", "IRTE not present"),
    ("fault.23h", "IRTE read error"),
    ("fault.24h", "IRTE reserved bits"),
    ("fault.25h", "compatibility-format interrupt blocked"),
    ("fault.26h", "IRTE source-ID check failed"),
    ("fault.27h", "posted-interrupt descriptor read error"),
    ("fault.28h", "posted-interrupt descriptor reserved bits"),
    ("fault.30h", "invalid root-table type (TTM)"),
    ("walk.levels3", "second-level walk of a 3-level table"),
    ("walk.levels4", "second-level walk of a 4-level table"),
    ("walk.levels5", "second-level walk of a 5-level table"),
    ("page.4k", "translation through a 4 KiB leaf"),
    ("page.2m", "translation through a 2 MiB leaf"),
    ("page.1g", "translation through a 1 GiB leaf"),
    ("psc.warm.l2", "walk whose level-2 table entry is warm"),
    ("psc.warm.l3", "walk whose level-3 table entry is warm"),
    ("psc.warm.l4", "walk whose level-4 table entry is warm"),
    ("psc.warm.l5", "walk whose level-5 table entry is warm"),
    ("psc.cold", "walk with no warm non-leaf entry"),
    ("iotlb.warm", "translation whose leaf is warm"),
    (
        "iotlb.cold",
        "translation whose leaf no earlier request observed",
    ),
    ("ctx.warm", "context entry warm"),
    ("ctx.cold", "context entry no earlier request observed"),
    (
        "stale.window",
        "request with more than one allowed outcome (a stale window)",
    ),
    (
        "stale.outcome",
        "outcome other than the fresh one (stale cache or older table version)",
    ),
    ("ir.off", "interrupt-window write with remapping off"),
    ("ir.compat", "compatibility-format interrupt"),
    ("ir.remappable", "remappable-format interrupt, SHV=0"),
    (
        "ir.remappable_shv",
        "remappable-format interrupt, SHV=1 (subhandle)",
    ),
    (
        "ir.xapic",
        "remappable interrupt with xAPIC destinations (EIME=0)",
    ),
    (
        "ir.x2apic",
        "remappable interrupt with x2APIC destinations (EIME=1)",
    ),
    ("irte.remapped", "remapped-format IRTE (IM=0)"),
    ("irte.posted", "posted-format IRTE (IM=1)"),
    ("irte.svt00", "IRTE without source validation"),
    ("irte.svt01.sq00", "IRTE SVT=01, SQ=00 (all 16 bits)"),
    ("irte.svt01.sq01", "IRTE SVT=01, SQ=01 (ignore bit 2)"),
    ("irte.svt01.sq10", "IRTE SVT=01, SQ=10 (ignore bits 2:1)"),
    ("irte.svt01.sq11", "IRTE SVT=01, SQ=11 (ignore bits 2:0)"),
    ("irte.svt10", "IRTE SVT=10 (bus range)"),
    ("irte.svt11", "IRTE SVT=11 (reserved: always fails)"),
    ("iec.warm", "IRTE warm"),
    ("iec.cold", "IRTE no earlier request observed"),
    (
        "inv.reg.cc.global",
        "register-based context-cache invalidation, global",
    ),
    (
        "inv.reg.cc.domain",
        "register-based context-cache invalidation, domain",
    ),
    (
        "inv.reg.cc.device",
        "register-based context-cache invalidation, device",
    ),
    (
        "inv.reg.iotlb.global",
        "register-based IOTLB invalidation, global",
    ),
    (
        "inv.reg.iotlb.domain",
        "register-based IOTLB invalidation, domain",
    ),
    (
        "inv.reg.iotlb.page",
        "register-based IOTLB invalidation, page-selective",
    ),
    (
        "inv.qi.cc.global",
        "queued context-cache invalidation, global",
    ),
    (
        "inv.qi.cc.domain",
        "queued context-cache invalidation, domain",
    ),
    (
        "inv.qi.cc.device",
        "queued context-cache invalidation, device",
    ),
    ("inv.qi.iotlb.global", "queued IOTLB invalidation, global"),
    ("inv.qi.iotlb.domain", "queued IOTLB invalidation, domain"),
    (
        "inv.qi.iotlb.page",
        "queued IOTLB invalidation, page-selective",
    ),
    (
        "inv.qi.iec.global",
        "queued interrupt-entry-cache invalidation, global",
    ),
    (
        "inv.qi.iec.index",
        "queued interrupt-entry-cache invalidation, index-selective",
    ),
    (
        "inv.cc.fm",
        "device-selective context-cache invalidation with a function mask",
    ),
    (
        "inv.iotlb.am",
        "page-selective IOTLB invalidation of more than one page (AM > 0)",
    ),
    (
        "inv.iotlb.ih",
        "page-selective IOTLB invalidation with IH=1 (leaf entries only)",
    ),
    (
        "inv.iec.im",
        "index-selective IEC invalidation of more than one entry (IM > 0)",
    ),
    (
        "inv.racing",
        "invalidating write made with requests in flight",
    ),
    ("bp.none", "no back-pressure and no idle cycles"),
    (
        "bp.random",
        "random back-pressure on the outputs, idle cycles on the inputs",
    ),
    ("mem.fixed_latency", "memory server with a fixed latency"),
    ("mem.spread_latency", "memory server with a latency range"),
    ("mem.out_of_order", "memory responses out of order"),
    ("mem.throttled", "memory request port not always ready"),
    (
        "mem.serial",
        "memory server with one read outstanding at most",
    ),
];

/// Bins only a lockstep run can hit: the DUT choosing a stale outcome (a vector replay checks
/// that the outcome is allowed, the model replay takes the fresh one), and invalidations racing
/// requests in flight (a suite's register steps wait for the unit to settle).
pub const RUN_ONLY: &[&str] = &["stale.outcome", "inv.racing"];

/// Hit counts per bin of [`BINS`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Coverage {
    hits: Vec<u64>,
}

impl Default for Coverage {
    fn default() -> Self {
        Coverage {
            hits: vec![0; BINS.len()],
        }
    }
}

fn index(bin: &str) -> Option<usize> {
    BINS.iter().position(|(n, _)| *n == bin)
}

impl Coverage {
    /// Count one hit of `bin` (a name in [`BINS`]; others are a programming error, ignored in
    /// release builds and caught by the tests in debug builds).
    pub fn hit(&mut self, bin: &str) {
        match index(bin) {
            Some(i) => self.hits[i] += 1,
            None => debug_assert!(false, "unknown coverage bin {bin}"),
        }
    }

    /// Hits of `bin` (0 for a name not in [`BINS`]).
    pub fn hits(&self, bin: &str) -> u64 {
        index(bin).map_or(0, |i| self.hits[i])
    }

    /// Add `other`'s counts.
    pub fn merge(&mut self, other: &Coverage) {
        for (a, b) in self.hits.iter_mut().zip(&other.hits) {
            *a += b;
        }
    }

    /// Bins never hit, in [`BINS`] order.
    pub fn missed(&self) -> Vec<&'static str> {
        BINS.iter()
            .zip(&self.hits)
            .filter(|(_, h)| **h == 0)
            .map(|((n, _), _)| *n)
            .collect()
    }

    /// A committed request: its header, what the model's fresh path exercised, the DUT's
    /// outcome, whether that outcome is the fresh one, and how many outcomes were allowed.
    pub fn request(
        &mut self,
        req: &Request,
        ex: &Exercised,
        outcome: &Outcome,
        fresh: bool,
        allowed: usize,
    ) {
        if allowed > 1 {
            self.hit("stale.window");
        }
        match RequestHeader::decode(&req.hdr) {
            Err(_) => self.hit("req.malformed"),
            Ok(h) => {
                if matches!(ex, Exercised::Dma { .. }) {
                    self.hit(match h.kind {
                        RequestKind::MemRead | RequestKind::MemReadLocked => "req.read",
                        RequestKind::MemWrite => "req.write",
                        _ => "req.atomic",
                    });
                    if h.four_dw {
                        self.hit("req.addr64");
                    }
                } else if matches!(ex, Exercised::Other) {
                    self.hit("req.window_read");
                }
                if h.attr.ro {
                    self.hit("req.ro");
                }
                if h.attr.ido {
                    self.hit("req.ido");
                }
            }
        }
        self.hit(match outcome {
            Outcome::Forward { .. } => "out.forward",
            Outcome::Complete {
                status: CplStatus::Ca,
                ..
            } => "out.ca",
            Outcome::Complete { .. } => "out.ur",
            Outcome::Drop { .. } => "out.drop",
            Outcome::Interrupt { .. } => "out.interrupt",
            Outcome::Posted { notify: None, .. } => "out.posted",
            Outcome::Posted { .. } => "out.posted_notify",
        });
        if let Some(f) = outcome.fault() {
            let bin = format!("fault.{:02x}h", f.code());
            self.hit(&bin);
        }
        if !fresh {
            self.hit("stale.outcome");
            // What the fresh path exercised is not what the DUT did.
            return;
        }
        match *ex {
            Exercised::Other => {}
            Exercised::Dma { context_warm, walk } => {
                if let Some(w) = context_warm {
                    self.hit(if w { "ctx.warm" } else { "ctx.cold" });
                }
                if let Some(w) = walk {
                    match w.levels {
                        3 => self.hit("walk.levels3"),
                        4 => self.hit("walk.levels4"),
                        5 => self.hit("walk.levels5"),
                        _ => {}
                    }
                    for l in 2..=5u8 {
                        if w.warm_nonleaf & (1 << l) != 0 {
                            let bin = format!("psc.warm.l{l}");
                            self.hit(&bin);
                        }
                    }
                    if w.warm_nonleaf == 0 {
                        self.hit("psc.cold");
                    }
                    if matches!(outcome, Outcome::Forward { .. }) {
                        match w.leaf_level {
                            Some(1) => self.hit("page.4k"),
                            Some(2) => self.hit("page.2m"),
                            Some(3) => self.hit("page.1g"),
                            _ => {}
                        }
                        self.hit(if w.warm_leaf {
                            "iotlb.warm"
                        } else {
                            "iotlb.cold"
                        });
                    }
                }
            }
            Exercised::Interrupt {
                remapping,
                format,
                x2apic,
                irte,
            } => {
                if !remapping {
                    self.hit("ir.off");
                    return;
                }
                match format {
                    MsiFormat::Compatibility => {
                        self.hit("ir.compat");
                        return;
                    }
                    MsiFormat::Remappable { shv: false } => self.hit("ir.remappable"),
                    MsiFormat::Remappable { shv: true } => self.hit("ir.remappable_shv"),
                }
                self.hit(if x2apic { "ir.x2apic" } else { "ir.xapic" });
                if let Some(e) = irte {
                    self.hit(if e.posted {
                        "irte.posted"
                    } else {
                        "irte.remapped"
                    });
                    self.hit(match (e.svt, e.sq) {
                        (Svt::None, _) => "irte.svt00",
                        (Svt::RequesterId, Sq::All) => "irte.svt01.sq00",
                        (Svt::RequesterId, Sq::IgnoreBit2) => "irte.svt01.sq01",
                        (Svt::RequesterId, Sq::IgnoreBits2To1) => "irte.svt01.sq10",
                        (Svt::RequesterId, Sq::IgnoreBits2To0) => "irte.svt01.sq11",
                        (Svt::BusRange, _) => "irte.svt10",
                        (Svt::Reserved, _) => "irte.svt11",
                    });
                    self.hit(if e.warm { "iec.warm" } else { "iec.cold" });
                }
            }
        }
    }

    /// An invalidation the model carried out; `queued`: asked through the invalidation queue
    /// (else a register command); `racing`: requests were in flight.
    pub fn invalidation(&mut self, inv: &Invalidation, queued: bool, racing: bool) {
        let via = if queued { "qi" } else { "reg" };
        let gran = |g: u8| match g {
            1 => "global",
            2 => "domain",
            _ => "device",
        };
        let bin = match *inv {
            Invalidation::Context { g, fm, .. } => {
                if g == 3 && fm != 0 {
                    self.hit("inv.cc.fm");
                }
                format!("inv.{via}.cc.{}", gran(g))
            }
            Invalidation::Iotlb { g, am, ih, .. } => {
                if g == 3 {
                    if am != 0 {
                        self.hit("inv.iotlb.am");
                    }
                    if ih {
                        self.hit("inv.iotlb.ih");
                    }
                }
                let kind = match g {
                    1 => "global",
                    2 => "domain",
                    _ => "page",
                };
                format!("inv.{via}.iotlb.{kind}")
            }
            Invalidation::Iec { global, im, .. } => {
                if !global && im != 0 {
                    self.hit("inv.iec.im");
                }
                format!("inv.{via}.iec.{}", if global { "global" } else { "index" })
            }
        };
        // There is no register-based IEC invalidation: such a bin would be a model bug.
        if index(&bin).is_some() {
            self.hit(&bin);
        }
        if racing {
            self.hit("inv.racing");
        }
    }

    /// The memory-server and back-pressure settings of a run.
    pub fn setup(&mut self, mem: &MemConfig, knobs: &Knobs) {
        let full = knobs.up_idle == 0.0
            && knobs.dn_ready >= 1.0
            && knobs.cpl_ready >= 1.0
            && knobs.irq_ready >= 1.0;
        self.hit(if full { "bp.none" } else { "bp.random" });
        self.hit(if mem.latency_max > mem.latency_min {
            "mem.spread_latency"
        } else {
            "mem.fixed_latency"
        });
        if mem.out_of_order {
            self.hit("mem.out_of_order");
        }
        if mem.ready_prob < 1.0 {
            self.hit("mem.throttled");
        }
        if mem.max_outstanding == 1 {
            self.hit("mem.serial");
        }
    }

    /// `bin,hits,description` for every bin, in [`BINS`] order, with a header line.
    pub fn csv(&self) -> String {
        let mut s = String::from("bin,hits,description\n");
        for ((n, d), h) in BINS.iter().zip(&self.hits) {
            s.push_str(&format!("{n},{h},{d}\n"));
        }
        s
    }

    /// Read a coverage CSV written by [`Coverage::csv`]; `path` names the file in errors. A bin
    /// this build does not know, a missing bin or a bad count is an error naming the line.
    pub fn parse_csv(text: &str, path: &Path) -> Result<Coverage> {
        let mut cov = Coverage::default();
        let mut seen = vec![false; BINS.len()];
        let mut lines = text.lines().enumerate();
        match lines.next() {
            Some((_, h)) if h.trim_end() == "bin,hits,description" => {}
            _ => bail!(
                "{}:1: expected the header \"bin,hits,description\"",
                path.display()
            ),
        }
        for (i, line) in lines {
            if line.trim().is_empty() {
                continue;
            }
            let mut f = line.splitn(3, ',');
            let name = f.next().unwrap_or("");
            let hits = f.next().unwrap_or("");
            let Some(k) = index(name) else {
                bail!(
                    "{}:{}: unknown coverage bin {name:?}",
                    path.display(),
                    i + 1
                );
            };
            if seen[k] {
                bail!("{}:{}: bin {name} listed twice", path.display(), i + 1);
            }
            seen[k] = true;
            cov.hits[k] = hits.parse().with_context(|| {
                format!(
                    "{}:{}: field hits: {hits:?} is not a count",
                    path.display(),
                    i + 1
                )
            })?;
        }
        if let Some(k) = seen.iter().position(|s| !s) {
            bail!(
                "{}: bin {} is missing (a coverage file from another version?)",
                path.display(),
                BINS[k].0
            );
        }
        Ok(cov)
    }

    /// A table for people: one line per area (the part of the name before the first dot) with
    /// the bins hit out of all, then the missed bins.
    pub fn table(&self) -> String {
        let mut areas: Vec<(&str, usize, usize)> = Vec::new();
        for ((n, _), h) in BINS.iter().zip(&self.hits) {
            let area = n.split('.').next().unwrap_or(n);
            match areas.last_mut() {
                Some(a) if a.0 == area => {
                    a.2 += 1;
                    a.1 += usize::from(*h > 0);
                }
                _ => areas.push((area, usize::from(*h > 0), 1)),
            }
        }
        let total: usize = areas.iter().map(|a| a.1).sum();
        let mut s = format!("coverage: {total} of {} bins hit\n", BINS.len());
        for (a, hit, all) in areas {
            s.push_str(&format!("  {a:<8} {hit:>3}/{all:<3}\n"));
        }
        let missed = self.missed();
        if !missed.is_empty() {
            s.push_str(&format!("  never hit: {}\n", missed.join(" ")));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bins_are_unique_and_csv_round_trips() {
        for (i, (n, _)) in BINS.iter().enumerate() {
            assert_eq!(index(n), Some(i), "bin {n} listed twice");
            assert!(!n.contains(','), "bin {n} would break the CSV");
        }
        let mut c = Coverage::default();
        c.hit("fault.05h");
        c.hit("fault.05h");
        c.hit("page.2m");
        let back = Coverage::parse_csv(&c.csv(), Path::new("c.csv")).unwrap();
        assert_eq!(back, c);
        assert_eq!(back.hits("fault.05h"), 2);
        assert!(!back.missed().contains(&"page.2m"));
        assert!(back.missed().contains(&"page.1g"));
    }

    #[test]
    fn merge_adds_counts() {
        let (mut a, mut b) = (Coverage::default(), Coverage::default());
        a.hit("ir.x2apic");
        b.hit("ir.x2apic");
        b.hit("inv.racing");
        a.merge(&b);
        assert_eq!(a.hits("ir.x2apic"), 2);
        assert_eq!(a.hits("inv.racing"), 1);
    }

    #[test]
    fn bad_coverage_files_are_named_with_their_line() {
        let p = Path::new("shard/coverage.csv");
        let good = Coverage::default().csv();
        let e = Coverage::parse_csv(&good.replace("page.4k,0", "page.8k,0"), p).unwrap_err();
        assert!(e.to_string().contains("coverage.csv:") && e.to_string().contains("page.8k"));
        let e = Coverage::parse_csv(&good.replace("page.4k,0", "page.4k,x"), p).unwrap_err();
        assert!(e.to_string().contains("field hits"), "{e}");
        let e = Coverage::parse_csv("nope\n", p).unwrap_err();
        assert!(e.to_string().contains(":1:"), "{e}");
        let short: String = good.lines().take(5).map(|l| format!("{l}\n")).collect();
        let e = Coverage::parse_csv(&short, p).unwrap_err();
        assert!(e.to_string().contains("missing"), "{e}");
    }
}
