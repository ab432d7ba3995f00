//! `iommu-cosim`: run the Verilated IOMMU RTL in lockstep with the golden model.

use anyhow::{bail, Result};
use clap::{Args, Parser, Subcommand};
use iommu_cosim::bench::{BenchOpts, BenchSuite};
use iommu_cosim::coverage::{Coverage, BINS};
use iommu_cosim::dut::DutConfig;
use iommu_cosim::lockstep::{Stats, MAX_WORLDS};
use iommu_cosim::measure::{run_measure, MeasureOpts};
use iommu_cosim::regress::{run_seed, RunOpts, SeedResult};
use iommu_cosim::report::{xml_escape, Report};
use iommu_cosim::scenario::{run_nic, NicOpts};
use iommu_cosim::shrink::{shrink, ShrinkOpts};
use iommu_cosim::sim::Sabotage;
use iommu_cosim::vectors::replay::{replay, Backend};
use iommu_cosim::vectors::{suites, Suite};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Co-simulation of the iommu_top RTL (Verilator) against the bit-accurate golden model.
///
/// Every upstream request the harness sends is checked against the set of outcomes the model
/// allows (translated address, UR/CA completion, drop, interrupt), in the DUT's egress order, with
/// the PCIe ordering rules, fault registers and a no-hang bound. Any mismatch prints the seed, the
/// transaction and expected vs actual, and the exit status is non-zero.
#[derive(Parser, Debug)]
#[command(name = "iommu-cosim", version, about, long_about)]
struct Cli {
    #[command(subcommand)]
    cmd: Option<Cmd>,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// The built-in scenario (default): an SR-IOV NIC (PF + 8 VFs in 4 domains) doing ring-buffer
    /// DMA over 4 KiB and 2 MiB mappings, unmap + invalidate cycles, and a rogue VF that DMAs
    /// outside its domain. Prints a summary (requests, translations, IOTLB hit rate, walks, faults
    /// by code, cycles, simulated cycles/s).
    Run(RunArgs),
    /// Random lockstep regressions, one reproducible run per seed.
    Regress(RegressArgs),
    /// Directed micro-benchmarks of the RTL, every outcome still checked against the golden
    /// model: IOTLB-hit throughput (translations per clock), miss latency of a 4-level walk with
    /// the context cache warm and cold (median), and walk overlap (K back-to-back misses: total
    /// cycles, cycles per miss, requests in flight, most memory reads outstanding). Fixed memory
    /// latency, no back-pressure, fixed seed: the numbers are deterministic.
    Measure(MeasureArgs),
    /// Hardware benchmark suites: each writes SUITE.csv (git revision, configuration, every RTL
    /// parameter and workload knob, the figure and its unit) and SUITE.svg into the output
    /// folder, and rebuilds its README.md from every suite's CSV there. Every outcome is still
    /// checked against the golden model; the figures are deterministic.
    /// Suites: latency (IOTLB hit; 3/4/5-level walks with the paging-structure cache cold and
    /// warm at each level; context-cache miss; interrupt remap with IEC hit and miss; posted
    /// interrupt; page-selective invalidation by queue and by register; at memory latencies
    /// 20/100/300); throughput (streaming, random, NIC ring, SR-IOV, miss-rate sweep; 1/2/4/8
    /// walkers); area (Yosys cells and flops of default, tiny and IOTLBs of 16 to 1024 entries,
    /// the IOTLB hit-path depth, what synth_xilinx maps the entries to; hours in full).
    Bench(BenchArgs),
    /// Test-vector suites for other simulators and other RTL (format: testvectors/README.md):
    /// generate them from the golden model, check them, replay them on the RTL or the model.
    #[command(subcommand)]
    Vectors(VectorsCmd),
    /// Regression reports: join the report folders of shards (`regress --shard i/n --out DIR`)
    /// into one.
    #[command(subcommand)]
    Report(ReportCmd),
}

#[derive(Subcommand, Debug)]
enum ReportCmd {
    /// Join report folders of disjoint seed sets (seeds.csv, coverage.csv, junit.xml) into one
    /// folder with the same four files and print its summary. The merge of shards that ran a
    /// seed range equals one `regress --out` run of that range (junit.xml up to its times).
    /// The exit status is non-zero when any merged seed failed.
    Merge(MergeArgs),
}

#[derive(Args, Debug)]
struct MergeArgs {
    /// Report folders to join (each written by `regress --out`).
    #[arg(required = true, value_name = "DIR")]
    dirs: Vec<PathBuf>,
    /// Folder to write the merged report into.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

#[derive(Subcommand, Debug)]
enum VectorsCmd {
    /// Generate suites from the golden model alone (no RTL involved).
    Gen(GenArgs),
    /// Validate suites: every file parses, tags and outcomes match up, lines ascend; a bad file
    /// is named with its path, line and field.
    Check(DirsArgs),
    /// Replay suites and print `N passed, M failed`, each failure with its step, tag, and
    /// expected vs actual.
    Replay(ReplayArgs),
    /// Functional coverage of suites: replay them on the golden model and print which bins
    /// (fault codes, page sizes, walk depths, warm caches, MSI formats, IRTE kinds,
    /// invalidation kinds, ...) they hit together.
    Coverage(CoverageArgs),
    /// List the suites `gen` knows.
    List,
}

#[derive(Args, Debug)]
struct CoverageArgs {
    /// Suite folders (a folder holding suite folders stands for all of them).
    #[arg(required = true, value_name = "DIR")]
    dirs: Vec<PathBuf>,
    /// Also write the coverage CSV (bin,hits,description) to FILE.
    #[arg(long, value_name = "FILE")]
    csv: Option<PathBuf>,
}

#[derive(Args, Debug)]
struct GenArgs {
    /// Suite to generate (repeatable); see `vectors list`.
    #[arg(long = "suite", value_name = "NAME", required_unless_present = "all")]
    suites: Vec<String>,
    /// Generate every suite.
    #[arg(long)]
    all: bool,
    /// Folder to write into: one subfolder per suite.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

#[derive(Args, Debug)]
struct DirsArgs {
    /// Suite folders (a folder holding suite folders stands for all of them).
    #[arg(required = true, value_name = "DIR")]
    dirs: Vec<PathBuf>,
}

#[derive(Args, Debug)]
struct ReplayArgs {
    /// Suite folders (a folder holding suite folders stands for all of them).
    #[arg(required = true, value_name = "DIR")]
    dirs: Vec<PathBuf>,
    /// Where to replay: the verilated RTL, or the golden model.
    #[arg(long, default_value = "verilator", value_parser = parse_backend)]
    backend: Backend,
    /// Also write a JUnit XML report (one test case per suite) to FILE.
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Replay on this RTL parameter set (default or tiny) instead of the one each manifest
    /// names; both advertise the same CAP/ECAP, so every suite applies to both.
    #[arg(long, value_parser = parse_config)]
    config: Option<DutConfig>,
}

fn parse_backend(s: &str) -> Result<Backend, String> {
    match s {
        "verilator" => Ok(Backend::Verilator),
        "model" => Ok(Backend::Model),
        _ => Err(format!(
            "unknown backend {s:?} (expected verilator or model)"
        )),
    }
}

#[derive(Args, Debug)]
struct MeasureArgs {
    /// RTL parameter set: default or tiny (2-entry caches, one walker).
    #[arg(long, default_value = "default", value_parser = parse_config)]
    config: DutConfig,
    /// Set an `iommu_top` parameter (repeatable), e.g. `--param TLB_SETS=64 --param WALKERS=8`:
    /// CC_ENTRIES, TLB_SETS, TLB_WAYS, PSC_ENTRIES, WALKERS, ROB_DEPTH, IEC_ENTRIES, NFR. A set not
    /// built yet is verilated on first use and cached under the target directory.
    #[arg(long = "param", value_name = "NAME=VALUE")]
    params: Vec<String>,
    /// Fixed memory read latency in cycles.
    #[arg(long, default_value_t = 100)]
    mem_latency: u32,
    /// Back-to-back requests of the IOTLB-hit throughput run.
    #[arg(long, default_value_t = 20_000)]
    hit_requests: u64,
    /// Back-to-back all-miss requests of the walk-overlap run.
    #[arg(long, default_value_t = 64)]
    overlap: usize,
    /// Samples per miss-latency median.
    #[arg(long, default_value_t = 7)]
    samples: usize,
    /// Also write the numbers as CSV (config,mem_latency,metric,value) to FILE.
    #[arg(long, value_name = "FILE")]
    csv: Option<PathBuf>,
}

#[derive(Args, Debug)]
struct BenchArgs {
    /// Suite to run (repeatable; default: every suite): latency, throughput, area.
    #[arg(long = "suite", value_name = "NAME", value_parser = parse_suite)]
    suites: Vec<BenchSuite>,
    /// RTL parameter set to measure (repeatable; default: each suite's own: default and tiny,
    /// and for throughput also 1, 2 and 8 walkers).
    #[arg(long = "config", value_parser = parse_config)]
    configs: Vec<DutConfig>,
    /// Set an `iommu_top` parameter (repeatable), e.g. `--param TLB_SETS=64 --param WALKERS=8`:
    /// CC_ENTRIES, TLB_SETS, TLB_WAYS, PSC_ENTRIES, WALKERS, ROB_DEPTH, IEC_ENTRIES, NFR. A set not
    /// built yet is verilated on first use and cached under the target directory.
    #[arg(long = "param", value_name = "NAME=VALUE")]
    params: Vec<String>,
    /// Output folder.
    #[arg(long, default_value = "bench-results")]
    out: PathBuf,
    /// The smallest size of each suite (one memory latency): a quick check, not for committing.
    #[arg(long)]
    quick: bool,
}

#[derive(Args, Debug, Clone)]
struct RunArgs {
    /// RTL parameter set: default or tiny (2-entry caches, one walker).
    #[arg(long, default_value = "default", value_parser = parse_config)]
    config: DutConfig,
    /// Set an `iommu_top` parameter (repeatable), e.g. `--param TLB_SETS=64 --param WALKERS=8`:
    /// CC_ENTRIES, TLB_SETS, TLB_WAYS, PSC_ENTRIES, WALKERS, ROB_DEPTH, IEC_ENTRIES, NFR. A set not
    /// built yet is verilated on first use and cached under the target directory.
    #[arg(long = "param", value_name = "NAME=VALUE")]
    params: Vec<String>,
    /// Upstream requests to send.
    #[arg(long, default_value_t = 200_000)]
    requests: u64,
    /// Seed of the traffic mix.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Memory latency in cycles.
    #[arg(long, default_value_t = 40)]
    mem_latency: u32,
    /// Random back-pressure on every output channel and idle cycles on the inputs.
    #[arg(long)]
    backpressure: bool,
    /// Write an FST waveform of the run to FILE (slows the run several times).
    #[arg(long, value_name = "FILE")]
    wave: Option<PathBuf>,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
}

impl Default for RunArgs {
    fn default() -> Self {
        RunArgs {
            config: DutConfig::Default,
            params: Vec::new(),
            requests: 200_000,
            seed: 1,
            mem_latency: 40,
            backpressure: false,
            wave: None,
            quiet: false,
        }
    }
}

#[derive(Args, Debug)]
struct RegressArgs {
    /// Seed range A..B (B exclusive), or a single seed A.
    #[arg(long, value_parser = parse_range)]
    seeds: (u64, u64),
    /// Run only shard i of n (seeds with seed % n == i), e.g. 0/4.
    #[arg(long, value_parser = parse_shard)]
    shard: Option<(u64, u64)>,
    /// Parallel worker threads.
    #[arg(long, default_value_t = 1)]
    jobs: usize,
    /// RTL parameter set: default or tiny.
    #[arg(long, default_value = "default", value_parser = parse_config)]
    config: DutConfig,
    /// Set an `iommu_top` parameter (repeatable), e.g. `--param TLB_SETS=64 --param WALKERS=8`:
    /// CC_ENTRIES, TLB_SETS, TLB_WAYS, PSC_ENTRIES, WALKERS, ROB_DEPTH, IEC_ENTRIES, NFR. A set not
    /// built yet is verilated on first use and cached under the target directory.
    #[arg(long = "param", value_name = "NAME=VALUE")]
    params: Vec<String>,
    /// Upstream requests per seed.
    #[arg(long, default_value_t = 2000)]
    requests: u64,
    /// Write an FST waveform (use with a single seed): the seed runs once, then again with the
    /// waveform on for the last --wave-window cycles before its first failure (or its end).
    #[arg(long, value_name = "FILE")]
    wave: Option<PathBuf>,
    /// Cycles of waveform before the failure (0: the whole run).
    #[arg(long, default_value_t = 20_000, value_name = "CYCLES")]
    wave_window: u64,
    /// Write the report into DIR: seeds.csv (a row per seed), coverage.csv (functional coverage),
    /// junit.xml (a test case per seed, with its rerun command) and summary.txt. Shards' folders
    /// join with `report merge`. A failing seed is also shrunk into a vector suite
    /// DIR/shrunk-seed<N>/ (see --shrink-budget).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Suites to build and replay at most while shrinking one failing seed (0: do not shrink).
    /// The seed's stimulus is replayed in order on the RTL and delta-debugged while it keeps
    /// failing the same way; a failure that needs the run's timing does not reproduce that way.
    #[arg(long, default_value_t = 2000, value_name = "N")]
    shrink_budget: usize,
    /// Shrink at most this many failing seeds (the lowest).
    #[arg(long, default_value_t = 3, value_name = "N")]
    shrink_seeds: usize,
    /// Inject a bug between the DUT and the harness, to see a failure, its report and its
    /// shrinking: clear-dn-addr-bit:N (translated addresses with bit N set leave with it clear),
    /// swap-dn-pairs (downstream beats seen in swapped pairs: a unit breaking PCIe ordering).
    #[arg(long, value_name = "BUG")]
    inject_bug: Option<Sabotage>,
}

fn parse_config(s: &str) -> Result<DutConfig, String> {
    s.parse()
}

fn parse_range(s: &str) -> Result<(u64, u64), String> {
    let bad = || format!("expected A..B or A, got {s:?}");
    if let Some((a, b)) = s.split_once("..") {
        let a: u64 = a.trim().parse().map_err(|_| bad())?;
        let b: u64 = b.trim().parse().map_err(|_| bad())?;
        if b <= a {
            return Err(format!("empty seed range {s:?}"));
        }
        Ok((a, b))
    } else {
        let a: u64 = s.trim().parse().map_err(|_| bad())?;
        Ok((a, a + 1))
    }
}

fn parse_shard(s: &str) -> Result<(u64, u64), String> {
    let bad = || format!("expected i/n with i < n, got {s:?}");
    let (i, n) = s.split_once('/').ok_or_else(bad)?;
    let i: u64 = i.trim().parse().map_err(|_| bad())?;
    let n: u64 = n.trim().parse().map_err(|_| bad())?;
    if n == 0 || i >= n {
        return Err(bad());
    }
    Ok((i, n))
}

fn main() {
    let cli = Cli::parse();
    let r = match cli.cmd {
        None => run(RunArgs::default()),
        Some(Cmd::Run(mut a)) => with_params(&mut a.config, &a.params).and_then(|_| run(a)),
        Some(Cmd::Regress(mut a)) => with_params(&mut a.config, &a.params).and_then(|_| regress(a)),
        Some(Cmd::Measure(mut a)) => with_params(&mut a.config, &a.params).and_then(|_| measure(a)),
        Some(Cmd::Bench(a)) => bench(a),
        Some(Cmd::Vectors(c)) => vectors(c),
        Some(Cmd::Report(ReportCmd::Merge(a))) => report_merge(a),
    };
    if let Err(e) = r {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

fn run(a: RunArgs) -> Result<()> {
    let opts = NicOpts {
        config: a.config,
        seed: a.seed,
        requests: a.requests,
        mem_latency: a.mem_latency,
        backpressure: a.backpressure,
        wave: a.wave.clone(),
        progress: !a.quiet,
    };
    let rep = run_nic(&opts);
    let s = &rep.stats;
    let secs = rep.wall.as_secs_f64().max(1e-9);
    println!(
        "iommu-cosim run: SR-IOV NIC (PF + {} VFs, 4 domains), config {}, seed {}",
        8, a.config, a.seed
    );
    println!("  requests            {}", s.requests);
    println!("  translations        {} forwarded", s.forwarded);
    println!("  completions (UR/CA) {}", s.completions);
    println!("  dropped writes      {}", s.drops);
    println!(
        "  interrupts          {} delivered, {} posted, {} unit events (fault / invalidation)",
        s.interrupts, s.posted, s.events
    );
    let iec = if rep.iec_lookups > 0 && rep.iec_lookups >= rep.iec_misses {
        format!(
            "{:.2}%",
            100.0 * (1.0 - rep.iec_misses as f64 / rep.iec_lookups as f64)
        )
    } else {
        "n/a".to_string()
    };
    println!(
        "  interrupt remapping {} remapped, {} posted (DUT counters); IEC {} lookups, {} misses, hit rate {iec}",
        rep.irq_remapped, rep.irq_posted, rep.iec_lookups, rep.iec_misses
    );
    let blocked: Vec<String> = s
        .faults
        .iter()
        .filter(|(c, _)| (0x20..=0x28).contains(*c))
        .map(|(c, n)| format!("{c:#04x}: {n}"))
        .collect();
    println!(
        "  interrupts blocked  {}",
        if blocked.is_empty() {
            "none".into()
        } else {
            blocked.join(", ")
        }
    );
    let hit = if rep.iotlb_lookups >= rep.iotlb_misses && rep.iotlb_lookups > 0 {
        format!(
            "{:.2}%",
            100.0 * (1.0 - rep.iotlb_misses as f64 / rep.iotlb_lookups as f64)
        )
    } else {
        "n/a (DUT counters: misses > lookups)".to_string()
    };
    println!(
        "  IOTLB               {} lookups, {} misses, hit rate {hit}",
        rep.iotlb_lookups, rep.iotlb_misses
    );
    let faults: Vec<String> = s
        .faults
        .iter()
        .map(|(c, n)| format!("{c:#04x}: {n}"))
        .collect();
    println!(
        "  faults by code      {} (recorded by the DUT: {})",
        if faults.is_empty() {
            "none".into()
        } else {
            faults.join(", ")
        },
        rep.faults_recorded
    );
    println!("  unmap+invalidate    {} cycles", rep.unmap_cycles);
    let avg = if s.forwarded + s.completions + s.interrupts > 0 {
        s.latency_sum as f64 / (s.forwarded + s.completions + s.interrupts) as f64
    } else {
        0.0
    };
    println!(
        "  latency             {avg:.1} cycles mean, {} max (accept to egress)",
        s.latency_max
    );
    println!("  cycles              {}", rep.cycles);
    println!(
        "  wall time           {:.2} s, {:.0} simulated cycles/s, {:.0} requests/s",
        secs,
        rep.cycles as f64 / secs,
        s.requests as f64 / secs
    );
    if let Some(e) = &rep.error {
        bail!("the run stopped: {e}");
    }
    if !rep.failures.is_empty() {
        for f in &rep.failures {
            eprintln!("{f}");
        }
        eprintln!("rerun: cargo run --release -p iommu-cosim -- run --seed {} --config {} --requests {} --wave run.fst", a.seed, a.config, a.requests);
        bail!("{} mismatch(es)", rep.failures.len());
    }
    println!("PASS");
    Ok(())
}

fn measure(a: MeasureArgs) -> Result<()> {
    let opts = MeasureOpts {
        config: a.config,
        mem_latency: a.mem_latency,
        hit_requests: a.hit_requests,
        samples: a.samples,
        overlap_requests: a.overlap,
        ..MeasureOpts::default()
    };
    let rep = run_measure(&opts).map_err(|e| anyhow::anyhow!("measure: {e}"))?;
    print!("{}", rep.table());
    if let Some(p) = &a.csv {
        std::fs::write(p, rep.csv())
            .map_err(|e| anyhow::anyhow!("writing {}: {e}", p.display()))?;
    }
    println!("PASS (every outcome checked against the golden model)");
    Ok(())
}

/// Apply `--param` assignments to `config` (each checked against its rule before anything is
/// built), then build the configuration if it is new.
fn with_params(config: &mut DutConfig, params: &[String]) -> Result<()> {
    *config = config
        .with(params)
        .map_err(|e| anyhow::anyhow!("--param {e}"))?;
    config.prepare(true).map_err(anyhow::Error::msg)
}

fn parse_suite(s: &str) -> Result<BenchSuite, String> {
    s.parse()
}

fn bench(a: BenchArgs) -> Result<()> {
    let opts = BenchOpts {
        suites: if a.suites.is_empty() {
            BenchSuite::ALL.to_vec()
        } else {
            a.suites
        },
        configs: a.configs,
        params: a.params,
        out: a.out,
        quick: a.quick,
        progress: std::io::IsTerminal::is_terminal(&std::io::stderr()),
    };
    for p in iommu_cosim::bench::run(&opts)? {
        println!("wrote {}", p.display());
    }
    println!("PASS (every outcome checked against the golden model)");
    Ok(())
}

fn regress(a: RegressArgs) -> Result<()> {
    let (lo, hi) = a.seeds;
    let seeds: Vec<u64> = (lo..hi)
        .filter(|s| a.shard.map_or(true, |(i, n)| s % n == i))
        .collect();
    if seeds.is_empty() {
        bail!("no seed left in {lo}..{hi} for shard {:?}", a.shard);
    }
    if a.wave.is_some() && seeds.len() > 1 {
        bail!("--wave needs a single seed (e.g. --seeds {lo})");
    }
    let jobs = a.jobs.clamp(1, 64);
    let mut opts = RunOpts {
        wave: a.wave.clone(),
        sabotage: a.inject_bug,
        ..RunOpts::new(a.config, a.requests)
    };
    if let (Some(w), true) = (&a.wave, a.wave_window > 0) {
        // A first run finds where the window ends; the traced rerun is the one reported.
        let probe = run_seed(
            seeds[0],
            &RunOpts {
                wave: None,
                ..opts.clone()
            },
        );
        let end = probe.failures.first().map_or(probe.cycles, |f| f.cycle);
        opts.wave_from = end.saturating_sub(a.wave_window);
        println!(
            "waveform: {} from cycle {} to {} ({}){}",
            w.display(),
            opts.wave_from,
            end,
            if probe.passed() {
                "the end of the run"
            } else {
                "the first failure"
            },
            if opts.wave_from == 0 {
                ", the whole run"
            } else {
                ""
            }
        );
    }
    let start = Instant::now();
    let next = Arc::new(AtomicU64::new(0));
    let results: Arc<Mutex<Vec<(SeedResult, f64)>>> = Arc::new(Mutex::new(Vec::new()));
    let seeds = Arc::new(seeds);
    let bar = indicatif::ProgressBar::new(seeds.len() as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} seeds {msg}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    std::thread::scope(|sc| {
        for _ in 0..jobs {
            let (next, results, seeds, opts, bar) = (
                next.clone(),
                results.clone(),
                seeds.clone(),
                opts.clone(),
                bar.clone(),
            );
            sc.spawn(move || loop {
                let k = next.fetch_add(1, Ordering::Relaxed) as usize;
                let Some(&seed) = seeds.get(k) else { break };
                let t = Instant::now();
                let r = run_seed(seed, &opts);
                let secs = t.elapsed().as_secs_f64();
                if !r.passed() {
                    bar.suspend(|| report_failure(&r, opts.requests));
                }
                bar.inc(1);
                results.lock().map(|mut v| v.push((r, secs))).ok();
            });
        }
    });
    bar.finish_and_clear();
    let timed = results.lock().map(|v| v.clone()).unwrap_or_default();
    let mut report = Report::default();
    for (r, secs) in &timed {
        report.add(r, a.requests, *secs);
    }
    let results: Vec<SeedResult> = timed.into_iter().map(|(r, _)| r).collect();
    let failed: Vec<&SeedResult> = results.iter().filter(|r| !r.passed()).collect();
    let reqs: u64 = results.iter().map(|r| r.stats.requests).sum();
    let cycles: u64 = results.iter().map(|r| r.cycles).sum();
    let secs = start.elapsed().as_secs_f64();
    println!(
        "regress: {} seeds ({}..{}{}), config {}, {} requests, {} cycles, {:.1} s ({:.0} cycles/s)",
        results.len(),
        lo,
        hi,
        a.shard
            .map(|(i, n)| format!(", shard {i}/{n}"))
            .unwrap_or_default(),
        a.config,
        reqs,
        cycles,
        secs,
        cycles as f64 / secs.max(1e-9)
    );
    let sum = |f: fn(&Stats) -> u64| results.iter().map(|r| f(&r.stats)).sum::<u64>();
    println!(
        "racing the traffic: {} table-edit versions and {} invalidating register writes with requests in flight; {} requests explained only by an older table version or a pre-invalidation cache",
        sum(|s| s.racing_edits),
        sum(|s| s.racing_invalidations),
        sum(|s| s.stale_commits)
    );
    if let Some(r) = results
        .iter()
        .max_by_key(|r| (r.stats.peak_worlds, std::cmp::Reverse(r.seed)))
    {
        println!(
            "scoreboard worlds: at most {} alive at once (seed {})",
            r.stats.peak_worlds, r.seed
        );
    }
    let mut capped: Vec<u64> = results
        .iter()
        .filter(|r| r.stats.world_cap_hits > 0)
        .map(|r| r.seed)
        .collect();
    if !capped.is_empty() {
        capped.sort_unstable();
        println!(
            "warning: {} commits reached the cap of {MAX_WORLDS} worlds and dropped the rest (seeds {capped:?}); a mismatch after that may be the scoreboard's",
            sum(|s| s.world_cap_hits)
        );
    }
    let cov = &report.coverage;
    println!(
        "coverage: {} of {} bins hit{}",
        BINS.len() - cov.missed().len(),
        BINS.len(),
        if a.out.is_some() {
            " (table in summary.txt)"
        } else {
            ""
        }
    );
    if let Some(dir) = &a.out {
        report.write(dir)?;
        println!(
            "report: {} (seeds.csv, coverage.csv, junit.xml, summary.txt)",
            dir.display()
        );
        if a.shrink_budget > 0 {
            let mut fs: Vec<u64> = failed.iter().map(|r| r.seed).collect();
            fs.sort_unstable();
            for &seed in fs.iter().take(a.shrink_seeds) {
                shrink_seed(seed, &opts, a.shrink_budget, dir)?;
            }
        }
    }
    println!(
        "{} passed, {} failed",
        results.len() - failed.len(),
        failed.len()
    );
    if !failed.is_empty() {
        let mut s: Vec<u64> = failed.iter().map(|r| r.seed).collect();
        s.sort_unstable();
        bail!("failing seeds: {s:?}");
    }
    Ok(())
}

/// Rerun failing `seed` with its stimulus logged, shrink it and write the suite into `dir`.
fn shrink_seed(seed: u64, opts: &RunOpts, budget: usize, dir: &std::path::Path) -> Result<()> {
    let r = run_seed(
        seed,
        &RunOpts {
            log: true,
            wave: None,
            ..opts.clone()
        },
    );
    let Some(log) = r.log.as_ref().filter(|_| !r.passed()) else {
        println!("shrink seed {seed}: the rerun did not fail again; nothing to shrink");
        return Ok(());
    };
    let (cap, ecap) = suites::identity(opts.config);
    let name = format!("shrunk-seed{seed}");
    let sopts = ShrinkOpts {
        cap,
        ecap,
        config: opts.config,
        seed,
        name: name.clone(),
        description: format!(
            "regress seed {seed} (config {} with {} requests) shrunk to its first failure",
            opts.config, opts.requests
        ),
        sabotage: opts.sabotage,
        budget,
    };
    let bar = indicatif::ProgressBar::new(budget as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] shrinking seed {msg} {wide_bar} {pos}/{len} trials",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let mut progress = |t: usize, n: usize| {
        bar.set_position(t as u64);
        bar.set_message(format!("{seed}: {n} steps"));
    };
    let res = shrink(log, &sopts, &mut progress);
    bar.finish_and_clear();
    match res.map_err(anyhow::Error::msg)? {
        None => println!(
            "shrink seed {seed}: its stimulus replayed in order passes on the RTL (the failure needs the run's timing); no suite written"
        ),
        Some(s) => {
            let out = dir.join(&name);
            s.suite.write(&out)?;
            println!(
                "shrink seed {seed}: {} steps / {} requests -> {} steps / {} requests in {} trials{}: {}",
                s.from_steps,
                s.from_requests,
                s.suite.steps.len(),
                s.suite.requests(),
                s.trials,
                if s.minimal { "" } else { " (budget reached)" },
                out.display()
            );
            println!("  it fails with: {}", s.failure.to_string().replace('\n', "\n  "));
        }
    }
    Ok(())
}

fn report_merge(a: MergeArgs) -> Result<()> {
    let mut parts = Vec::new();
    for d in &a.dirs {
        parts.push((d.clone(), Report::read(d)?));
    }
    let mut m = Report::merge(&parts)?;
    m.write(&a.out)?;
    print!("{}", m.summary());
    println!(
        "report: {} (merged from {} folders)",
        a.out.display(),
        a.dirs.len()
    );
    let failing = m.failing();
    if !failing.is_empty() {
        bail!("{} merged seeds failed: {failing:?}", failing.len());
    }
    Ok(())
}

fn report_failure(r: &SeedResult, requests: u64) {
    eprintln!("FAIL seed {} (config {})", r.seed, r.config);
    eprintln!("  setup: {}", r.setup);
    if let Some(e) = &r.error {
        eprintln!("  error: {e}");
    }
    for f in &r.failures {
        eprintln!("{f}");
    }
    if r.stats.world_cap_hits > 0 {
        eprintln!(
            "  note: {} commits before this reached the cap of {MAX_WORLDS} scoreboard worlds and dropped the rest; the DUT may have been in one of them",
            r.stats.world_cap_hits
        );
    }
    eprintln!("  rerun: {}", r.rerun_command(requests));
}

/// Suite folders named by `dirs`: a folder with a manifest.csv is a suite; any other folder
/// stands for the suite folders directly inside it.
fn suite_dirs(dirs: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut v = Vec::new();
    for d in dirs {
        if d.join("manifest.csv").is_file() {
            v.push(d.clone());
            continue;
        }
        let rd = std::fs::read_dir(d).map_err(|e| anyhow::anyhow!("{}: {e}", d.display()))?;
        let mut inner: Vec<PathBuf> = rd
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.join("manifest.csv").is_file())
            .collect();
        if inner.is_empty() {
            bail!(
                "{}: not a suite (no manifest.csv) and holds no suite folders",
                d.display()
            );
        }
        inner.sort();
        v.extend(inner);
    }
    Ok(v)
}

fn vectors(c: VectorsCmd) -> Result<()> {
    match c {
        VectorsCmd::List => {
            for n in suites::names() {
                println!("{n}");
            }
            Ok(())
        }
        VectorsCmd::Gen(a) => {
            let names: Vec<String> = if a.all {
                suites::names().into_iter().map(String::from).collect()
            } else {
                a.suites.clone()
            };
            for n in &names {
                let s = suites::generate(n).map_err(|e| anyhow::anyhow!("suite {n}: {e}"))?;
                let dir = a.out.join(n);
                s.write(&dir)?;
                println!(
                    "{}: {} steps, {} requests, {} image lines, {} events -> {}",
                    n,
                    s.steps.len(),
                    s.requests(),
                    s.image.len(),
                    s.events.len(),
                    dir.display()
                );
            }
            Ok(())
        }
        VectorsCmd::Check(a) => {
            let dirs = suite_dirs(&a.dirs)?;
            let mut bad = 0;
            for d in &dirs {
                match Suite::read(d) {
                    Ok(s) => println!(
                        "{}: ok (format {}.{}, {} steps, {} requests)",
                        d.display(),
                        s.manifest.major,
                        s.manifest.minor,
                        s.steps.len(),
                        s.requests()
                    ),
                    Err(e) => {
                        bad += 1;
                        println!("{e}");
                    }
                }
            }
            if bad > 0 {
                bail!("{bad} of {} suites are malformed", dirs.len());
            }
            Ok(())
        }
        VectorsCmd::Coverage(a) => {
            let dirs = suite_dirs(&a.dirs)?;
            let mut cov = Coverage::default();
            for d in &dirs {
                let s = Suite::read(d)?;
                let r = replay(&s, Backend::Model);
                if !r.failures.is_empty() {
                    bail!(
                        "{}: the suite fails on the golden model ({} failures); run vectors replay --backend model",
                        d.display(),
                        r.failures.len()
                    );
                }
                cov.merge(&r.coverage);
            }
            print!("{} suites: {}", dirs.len(), cov.table());
            if let Some(p) = &a.csv {
                std::fs::write(p, cov.csv())
                    .map_err(|e| anyhow::anyhow!("writing {}: {e}", p.display()))?;
            }
            Ok(())
        }
        VectorsCmd::Replay(a) => {
            let dirs = suite_dirs(&a.dirs)?;
            let mut cases = Vec::new();
            let (mut passed, mut failed) = (0usize, 0usize);
            for d in &dirs {
                let mut s = Suite::read(d)?;
                if let Some(c) = a.config {
                    s.manifest.config = c;
                }
                let t = Instant::now();
                let r = replay(&s, a.backend);
                let secs = t.elapsed().as_secs_f64();
                let name = s.manifest.suite.clone();
                if r.failures.is_empty() {
                    passed += 1;
                    println!("PASS {name}: {} checks, {} cycles", r.checks, r.cycles);
                } else {
                    failed += 1;
                    println!(
                        "FAIL {name}: {} of {} checks failed",
                        r.failures.len(),
                        r.checks
                    );
                    for f in &r.failures {
                        println!("  {f}");
                    }
                }
                cases.push((name, secs, r));
            }
            if let Some(p) = &a.junit {
                write_junit(p, &cases)?;
            }
            println!("{passed} passed, {failed} failed");
            if failed > 0 {
                bail!("{failed} suites failed");
            }
            Ok(())
        }
    }
}

fn write_junit(
    path: &std::path::Path,
    cases: &[(String, f64, iommu_cosim::vectors::replay::Report)],
) -> Result<()> {
    use std::fmt::Write as _;
    let fails = cases.iter().filter(|c| !c.2.failures.is_empty()).count();
    let total: f64 = cases.iter().map(|c| c.1).sum();
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        x,
        "<testsuite name=\"iommu-vectors\" tests=\"{}\" failures=\"{fails}\" time=\"{total:.3}\">",
        cases.len()
    );
    for (name, secs, r) in cases {
        let _ = write!(
            x,
            "  <testcase classname=\"vectors\" name=\"{}\" time=\"{secs:.3}\"",
            xml_escape(name)
        );
        if r.failures.is_empty() {
            x.push_str("/>\n");
        } else {
            let body: Vec<String> = r.failures.iter().map(|f| f.to_string()).collect();
            let _ = writeln!(
                x,
                ">\n    <failure message=\"{} of {} checks failed\">{}</failure>\n  </testcase>",
                r.failures.len(),
                r.checks,
                xml_escape(&body.join("\n"))
            );
        }
    }
    x.push_str("</testsuite>\n");
    std::fs::write(path, x).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}
