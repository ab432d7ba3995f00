//! `iommu-cosim bench`: the suites run (at their smallest size), their figures relate as the
//! micro-architecture says they must, the committed `bench-results/` reproduce, and a damaged
//! CSV is reported by file and line.

use iommu_cosim::bench::{self, BenchOpts, BenchSuite, LatencyRow};
use iommu_cosim::dut::DutConfig;
use std::path::Path;

fn find<'a>(rows: &'a [LatencyRow], figure: &str, levels: u8, psc: Option<u8>) -> &'a LatencyRow {
    rows.iter()
        .find(|r| r.figure == figure && r.levels == levels && r.psc_hit == psc)
        .unwrap_or_else(|| panic!("no {figure} {levels} {psc:?} in {rows:?}"))
}

#[test]
fn latency_suite_figures_follow_the_walks_they_make() {
    let rows = bench::latency(DutConfig::Tiny, &[20, 100], &mut || {}).unwrap();
    for lat in [20u32, 100] {
        let at: Vec<LatencyRow> = rows
            .iter()
            .filter(|r| r.mem_latency == lat)
            .cloned()
            .collect();
        let c = |f, l, p| find(&at, f, l, p).cycles;
        let m = u64::from(lat);
        // A walk reads one table entry per level: each level costs one memory latency (and a
        // few cycles of logic), the context-cache miss two more reads (root and context entry).
        assert!(c("walk", 4, None) - c("walk", 3, None) >= m);
        assert!(c("walk", 5, None) - c("walk", 4, None) >= m);
        assert!(c("walk_context_miss", 4, None) - c("walk", 4, None) >= 2 * m);
        // A PSC hit at the PDE leaves only the leaf read.
        assert!(c("walk", 4, Some(2)) < c("walk", 4, None) - 2 * m);
        assert!(c("walk", 4, Some(2)) >= m);
        // A hit reads no memory.
        assert!(c("iotlb_hit", 4, None) < m);
        assert!(c("iec_hit", 0, None) < c("iec_miss", 0, None));
        assert!(c("iec_miss", 0, None) >= m);
        assert!(c("posted", 0, None) > c("iec_miss", 0, None));
    }
    // Only memory-bound figures grow with the memory latency.
    let hit = |lat| {
        rows.iter()
            .find(|r| r.figure == "iotlb_hit" && r.mem_latency == lat)
            .unwrap()
            .cycles
    };
    assert_eq!(hit(20), hit(100));
}

#[test]
fn bench_writes_csv_svg_and_readme() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("bench-quick");
    let _ = std::fs::remove_dir_all(&dir);
    let written = bench::run(&BenchOpts {
        suites: vec![BenchSuite::Latency],
        configs: vec![DutConfig::Tiny],
        params: Vec::new(),
        out: dir.clone(),
        quick: true,
        progress: false,
    })
    .unwrap();
    assert_eq!(written.len(), 3);
    let csv = std::fs::read_to_string(dir.join("latency.csv")).unwrap();
    let rows = bench::parse_latency_csv(&csv, &dir.join("latency.csv")).unwrap();
    // 3-, 4- and 5-level walks cold and warm at each level, hit, context miss, psi by register,
    // and the four interrupt and queue figures.
    assert_eq!(rows.len(), (3 + 4 + 5) + 1 + 1 + 1 + 4);
    assert!(rows
        .iter()
        .all(|r| r.config == DutConfig::Tiny && r.mem_latency == 20));
    assert!(csv
        .lines()
        .nth(1)
        .unwrap()
        .contains(",tiny,2,1,2,2,1,2,2,8,"));
    let svg = std::fs::read_to_string(dir.join("latency.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("IOTLB miss, 4-level walk, PSC cold"));
    let readme = std::fs::read_to_string(dir.join("README.md")).unwrap();
    assert!(readme.contains("| IOTLB miss, 4-level walk, PSC warm at the PDE | "));
}

/// The committed latency figures are what the RTL measures now (all but the revision column).
#[test]
fn committed_latency_results_reproduce() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../bench-results/latency.csv");
    let text = std::fs::read_to_string(&path).unwrap();
    let committed = bench::parse_latency_csv(&text, &path).unwrap();
    let mut now = Vec::new();
    for c in [DutConfig::Default, DutConfig::Tiny] {
        now.extend(bench::latency(c, &bench::MEM_LATENCIES, &mut || {}).unwrap());
    }
    assert_eq!(
        committed, now,
        "bench-results/latency.csv is stale: rerun `iommu-cosim bench --suite latency`"
    );
    let strip = |s: &str| -> String {
        s.lines()
            .map(|l| l.split_once(',').map_or(l, |x| x.1).to_string())
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(strip(&text), strip(&bench::latency_csv(&now, "x")));
}

#[test]
fn damaged_csv_is_reported_by_file_and_line() {
    let p = Path::new("bench-results/latency.csv");
    let good = bench::latency_csv(
        &bench::latency(DutConfig::Tiny, &[20], &mut || {}).unwrap(),
        "r",
    );
    let bad = good.replacen(",cycles\n", ",cycles,extra\n", 1);
    let e = bench::parse_latency_csv(&bad, p).unwrap_err().to_string();
    assert!(
        e.contains("bench-results/latency.csv: line 2: 17 fields"),
        "{e}"
    );
    let bad = good.replacen(",iec_hit,", ",iec_hat,", 1);
    let e = format!("{:#}", bench::parse_latency_csv(&bad, p).unwrap_err());
    assert!(e.contains("line 2: unknown figure \"iec_hat\""), "{e}");
    let e = bench::parse_latency_csv("a,b\n", p)
        .unwrap_err()
        .to_string();
    assert!(e.contains("line 1 is not the latency header"), "{e}");
}

#[test]
fn throughput_suite_shows_what_misses_cost() {
    use iommu_cosim::bench_throughput as bt;
    let rows = bt::throughput(DutConfig::Tiny, 200, &mut || {}).unwrap();
    assert_eq!(rows.len(), 4 + 2 * bt::MISS_PERCENT.len());
    let get = |w: &str, pct: u32, ro: bool| {
        rows.iter()
            .find(|r| r.workload == w && r.miss_percent == pct && r.ro == ro)
            .unwrap_or_else(|| panic!("no {w} {pct} {ro}"))
    };
    // Hits flow; every miss costs a walk that the requests behind it wait for.
    assert!(get("miss_rate", 0, false).per_clock() > 0.2);
    assert!(get("miss_rate", 0, false).per_clock() > 4.0 * get("miss_rate", 10, false).per_clock());
    assert!(get("miss_rate", 10, false).per_clock() > get("miss_rate", 50, false).per_clock());
    assert!(get("miss_rate", 50, false).misses > get("miss_rate", 10, false).misses);
    // The walker bound is never beaten (one walker in tiny).
    for r in rows.iter().filter(|r| r.workload == "miss_rate") {
        assert!(r.per_clock() <= r.bound * 1.05, "{r:?}");
    }
    assert!(get("stream", 0, false).per_clock() > get("random", 0, false).per_clock());
    // The CSV reads back.
    let p = Path::new("throughput.csv");
    let back = bt::parse_throughput_csv(&bt::throughput_csv(&rows, "r"), p).unwrap();
    assert_eq!(back.len(), rows.len());
    for (a, b) in back.iter().zip(&rows) {
        assert_eq!(
            (a.config, a.workload, a.requests, a.cycles, a.misses, a.bytes),
            (b.config, b.workload, b.requests, b.cycles, b.misses, b.bytes)
        );
    }
    let bad = bt::throughput_csv(&rows, "r").replacen(",stream,", ",streem,", 1);
    let e = format!("{:#}", bt::parse_throughput_csv(&bad, p).unwrap_err());
    assert!(
        e.contains("throughput.csv: line 2: unknown workload \"streem\""),
        "{e}"
    );
}

/// The committed throughput figures of the built-in configurations are what the RTL does now.
#[test]
fn committed_throughput_results_reproduce() {
    use iommu_cosim::bench_throughput as bt;
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../bench-results/throughput.csv");
    let text = std::fs::read_to_string(&path).unwrap();
    let committed = bt::parse_throughput_csv(&text, &path).unwrap();
    for c in [DutConfig::Default, DutConfig::Tiny] {
        let mine: Vec<_> = committed.iter().filter(|r| r.config == c).collect();
        assert!(!mine.is_empty(), "no {c} rows in {}", path.display());
        let now = bt::throughput(c, mine[0].requests as usize, &mut || {}).unwrap();
        assert_eq!(now.len(), mine.len());
        for (a, b) in now.iter().zip(mine) {
            assert_eq!(
                (
                    a.workload,
                    a.miss_percent,
                    a.ro,
                    a.cycles,
                    a.misses,
                    a.bytes
                ),
                (
                    b.workload,
                    b.miss_percent,
                    b.ro,
                    b.cycles,
                    b.misses,
                    b.bytes
                ),
                "bench-results/throughput.csv is stale: rerun `iommu-cosim bench`"
            );
        }
    }
}
