//! The `area` bench suite on its smallest sizes (the `tiny` design, IOTLBs of 8 and 16 entries):
//! the figures relate as the RTL's structure says they must, the CSV round-trips, a damaged line
//! is reported by file and line, and a missing or failing Yosys is a clear error.
//!
//! Every test that runs Yosys holds [`YOSYS`], so no more than two Yosys processes run at once.

use iommu_cosim::bench::{self};
use iommu_cosim::bench_area::{
    self, AreaDesign, AreaPlan, AreaRow, DESIGN_PARAMS, IOTLB_PFN_W, TINY_PARAMS,
};
use iommu_cosim::dut::DutConfig;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::Duration;

static YOSYS: Mutex<()> = Mutex::new(());

fn yosys_lock() -> MutexGuard<'static, ()> {
    YOSYS.lock().unwrap_or_else(|e| e.into_inner())
}

/// Bits every IOTLB entry must hold: DID (16), page number (45) and frame (PFN_W).
const ENTRY_BITS: u64 = 16 + 45 + IOTLB_PFN_W as u64;

/// The suite on the tiny design and IOTLBs of 8 and 16 entries, run once for all tests.
fn rows() -> &'static [AreaRow] {
    static ROWS: OnceLock<Vec<AreaRow>> = OnceLock::new();
    ROWS.get_or_init(|| {
        let _y = yosys_lock();
        let mut plan = AreaPlan::new(&[8, 16], false).unwrap();
        plan.designs = vec![AreaDesign::tiny()];
        assert_eq!(plan.runs(), 5);
        let mut ticks = 0;
        let (rows, runs) = bench_area::area_plan(&plan, &mut || ticks += 1).unwrap();
        assert_eq!(ticks, 5);
        assert_eq!(runs.len(), 5);
        rows
    })
}

fn get(rows: &[AreaRow], scope: &str, config: &str, flow: &str, figure: &str) -> u64 {
    rows.iter()
        .find(|r| r.scope == scope && r.config == config && r.flow == flow && r.figure == figure)
        .unwrap_or_else(|| panic!("no {scope} {config} {flow} {figure} in {rows:?}"))
        .value
}

#[test]
fn iotlb_figures_grow_with_its_entries() {
    let rows = rows();
    let g = |config, flow, figure| get(rows, "iotlb", config, flow, figure);
    for (config, n) in [("iotlb8", 8u64), ("iotlb16", 16)] {
        // Generic synth keeps the storage in flops: at least the tag and frame bits per entry.
        assert!(g(config, "synth", "flops") >= n * ENTRY_BITS, "{config}");
        assert!(g(config, "synth", "cells") > g(config, "synth", "flops"));
        // The hit path compares a tag and selects a frame: some depth, and no deeper than the
        // deepest path of the module.
        assert!(g(config, "synth", "ltp_hit") > 0);
        assert!(g(config, "synth", "ltp_all") >= g(config, "synth", "ltp_hit"));
        // The FPGA flow holds the same bits, in flops or in RAM.
        let ram = g(config, "synth_xilinx", "bram") + g(config, "synth_xilinx", "lutram");
        if ram == 0 {
            assert!(
                g(config, "synth_xilinx", "ff") >= n * ENTRY_BITS,
                "{config}"
            );
        }
        assert!(g(config, "synth_xilinx", "luts") > 0);
    }
    for (flow, figure) in [
        ("synth", "cells"),
        ("synth", "flops"),
        ("synth_xilinx", "ff"),
        ("synth_xilinx", "luts"),
    ] {
        assert!(
            g("iotlb16", flow, figure) > g("iotlb8", flow, figure),
            "{flow} {figure}"
        );
    }
    // Eight more entries cost at least their storage bits.
    assert!(g("iotlb16", "synth", "flops") - g("iotlb8", "synth", "flops") >= 8 * ENTRY_BITS);
    assert!(g("iotlb16", "synth", "ltp_hit") >= g("iotlb8", "synth", "ltp_hit"));
    let per = bench_area::cells_per_entry(rows, "iotlb");
    assert_eq!(per.len(), 1);
    assert_eq!(per[0].0, 16);
    let slope = (g("iotlb16", "synth", "cells") - g("iotlb8", "synth", "cells")) as f64 / 8.0;
    assert_eq!(per[0].1, slope);
    assert!(slope >= ENTRY_BITS as f64);
}

#[test]
fn tiny_design_holds_its_caches() {
    let rows = rows();
    let cells = get(rows, "design", "tiny", "synth", "cells");
    let flops = get(rows, "design", "tiny", "synth", "flops");
    assert!(cells > flops);
    // The tiny IOTLB alone has 2 entries; the design holds those and every other cache.
    assert!(flops > 2 * ENTRY_BITS);
    // The whole design is more than its 2-entry IOTLB, and more than an 8-entry one alone.
    assert!(cells > get(rows, "iotlb", "iotlb8", "synth", "cells"));
    let tiny = rows.iter().find(|r| r.config == "tiny").unwrap();
    assert_eq!(tiny.params, TINY_PARAMS.to_vec());
    assert_eq!(tiny.entries(), 2);
}

#[test]
fn area_csv_round_trips_and_makes_the_readme_and_plot() {
    let rows = rows();
    let p = Path::new("bench-results/area.csv");
    let csv = bench_area::area_csv(rows, "r1");
    assert!(csv.starts_with(bench_area::AREA_HEADER));
    assert_eq!(csv.lines().count(), rows.len() + 1);
    assert!(
        csv.contains("\nr1,design,tiny,2,1,2,2,1,2,2,8,,,,2,synth,cells,"),
        "{csv}"
    );
    assert!(
        csv.contains("\nr1,iotlb,iotlb16,,,,,,,,,4,4,36,16,synth,ltp_hit,"),
        "{csv}"
    );
    let back = bench_area::parse_area_csv(&csv, p).unwrap();
    assert_eq!(back, rows);

    let table = bench_area::area_table(rows);
    assert!(table.starts_with("## Area (Yosys)\n"), "{table}");
    assert!(table.contains("| `tiny` | CC_ENTRIES=2, TLB_SETS=1, TLB_WAYS=2,"));
    let line16 = table
        .lines()
        .find(|l| l.starts_with("| 16 |"))
        .unwrap_or_else(|| panic!("{table}"));
    let cells16 = get(rows, "iotlb", "iotlb16", "synth", "cells").to_string();
    assert!(line16.contains(&format!("| {cells16} |")), "{line16}");
    assert!(
        table.contains("maps the IOTLB entry storage to RAM"),
        "{table}"
    );

    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("bench-area");
    std::fs::create_dir_all(&dir).unwrap();
    let svg = dir.join("area.svg");
    bench_area::area_svg(rows, &svg).unwrap();
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(text.starts_with("<svg") && text.contains("cells per IOTLB entry"));
    assert!(text.contains("hit: into lk_*_o"));
}

#[test]
fn damaged_area_csv_is_reported_by_file_and_line() {
    let p = Path::new("bench-results/area.csv");
    let good = bench_area::area_csv(rows(), "r");
    let err = |text: &str| format!("{:#}", bench_area::parse_area_csv(text, p).unwrap_err());
    let e = err(&good.replacen(",cells\n", ",cells,extra\n", 1));
    assert!(
        e.contains("bench-results/area.csv: line 2: 20 fields, expected 19"),
        "{e}"
    );
    let e = err(&good.replacen(",ltp_hit,", ",ltp_hat,", 1));
    assert!(
        e.contains("bench-results/area.csv: line ") && e.contains(": unknown figure \"ltp_hat\""),
        "{e}"
    );
    let third = good.lines().nth(2).unwrap();
    let bad = third.replacen(",synth,flops,", ",synth,flops,x", 1);
    let e = err(&good.replacen(third, &bad, 1));
    assert!(
        e.contains("bench-results/area.csv: line 3: bad value"),
        "{e}"
    );
    let e = err(&good.replacen(",design,tiny,2,1,2,", ",design,tiny,2,,2,", 1));
    assert!(e.contains("line 2: no TLB_SETS for scope design"), "{e}");
    let e = err("a,b\n");
    assert!(
        e.contains("bench-results/area.csv: line 1 is not the area header"),
        "{e}"
    );
}

#[test]
fn missing_yosys_is_a_clear_error() {
    let mut plan = AreaPlan::new(&[8], false).unwrap();
    plan.yosys = PathBuf::from("/nonexistent/bin/yosys");
    let e = bench_area::area_plan(&plan, &mut || {})
        .unwrap_err()
        .to_string();
    assert!(e.contains("yosys not found"), "{e}");
    assert!(e.contains("apt-get install -y yosys"), "{e}");
}

#[test]
fn failing_yosys_run_names_the_configuration() {
    // TLB_SETS must be a power of two: the RTL's elaboration check makes Yosys fail.
    let mut plan = AreaPlan::new(&[], false).unwrap();
    plan.designs = vec![AreaDesign {
        name: "three_sets".into(),
        params: vec![("TLB_SETS", 3)],
    }];
    let e = {
        let _y = yosys_lock();
        bench_area::area_plan(&plan, &mut || {})
            .unwrap_err()
            .to_string()
    };
    assert!(e.contains("yosys failed for three_sets (synth"), "{e}");
    assert!(e.contains("-set TLB_SETS 3"), "{e}");
    assert!(e.contains("log tail:\n") && e.contains("ERROR"), "{e}");
}

#[test]
fn a_run_over_the_time_bound_is_stopped_and_named() {
    let mut plan = AreaPlan::new(&[8], false).unwrap();
    plan.xilinx = false;
    plan.timeout = Some(Duration::from_millis(200));
    let e = {
        let _y = yosys_lock();
        bench_area::area_plan(&plan, &mut || {})
            .unwrap_err()
            .to_string()
    };
    assert!(
        e.contains("yosys for iotlb8 (synth) took longer than 200ms and was stopped"),
        "{e}"
    );
}

#[test]
fn bad_sizes_and_parameters_are_refused_before_yosys_runs() {
    let e = AreaPlan::new(&[12], false).unwrap_err().to_string();
    assert!(e.contains("IOTLB size 12"), "{e}");
    let e = AreaDesign::iotlb(4096).unwrap_err().to_string();
    assert!(e.contains("IOTLB size 4096"), "{e}");
    let mut plan = AreaPlan::new(&[], false).unwrap();
    plan.designs = vec![AreaDesign {
        name: "x".into(),
        params: vec![("TLB_SETZ", 4)],
    }];
    let e = bench_area::area_plan(&plan, &mut || {})
        .unwrap_err()
        .to_string();
    assert!(e.contains("unknown iommu_top parameter TLB_SETZ"), "{e}");
}

#[test]
fn design_parameters_are_the_cosim_configurations() {
    for (mine, config) in [
        (DESIGN_PARAMS, DutConfig::Default),
        (TINY_PARAMS, DutConfig::Tiny),
    ] {
        for (name, value) in bench::params(config) {
            assert_eq!(
                mine.iter().find(|p| p.0 == name).map(|p| p.1),
                Some(value),
                "{config:?} {name}"
            );
        }
    }
    let d = AreaDesign::iotlb(1024).unwrap();
    assert_eq!(d.name, "iotlb1024");
    assert!(d.params.contains(&("TLB_SETS", 256)) && d.params.contains(&("TLB_WAYS", 4)));
}

/// The depth figures are what Yosys `ltp -noff` reports, on a size it finishes quickly.
#[test]
fn depth_is_what_yosys_ltp_reports() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("bench-area-ltp");
    std::fs::create_dir_all(&dir).unwrap();
    let rtl = Path::new(env!("CARGO_MANIFEST_DIR")).join("../rtl/iommu_iotlb.v");
    let script = format!(
        "read_verilog -sv {}; chparam -set SETS 2 -set WAYS 4 -set PFN_W 36 iommu_iotlb; \
         synth -noshare -flatten -top iommu_iotlb; tee -q -o ltp_hit.txt ltp -noff w:lk_*_o %cie*; \
         tee -q -o ltp_all.txt ltp -noff; write_blif -icells -conn netlist.blif",
        rtl.display()
    );
    let out = {
        let _y = yosys_lock();
        Command::new("yosys")
            .args(["-q", "-p", &script])
            .current_dir(&dir)
            .output()
            .expect("yosys not found: apt-get install -y yosys")
    };
    assert!(out.status.success(), "{out:?}");
    let read = |f: &str| std::fs::read_to_string(dir.join(f)).unwrap();
    let lookup = |n: &str| n.starts_with("lk_") && n.split('[').next().unwrap().ends_with("_o");
    let d = bench_area::blif_depth(&read("netlist.blif"), &lookup).unwrap();
    assert_eq!(
        d.selected,
        bench_area::parse_ltp(&read("ltp_hit.txt")).unwrap()
    );
    assert_eq!(d.all, bench_area::parse_ltp(&read("ltp_all.txt")).unwrap());
    assert!(d.all > d.selected && d.selected > 0);
    // and the suite's figures for the same IOTLB
    let g = |f| get(rows(), "iotlb", "iotlb8", "synth", f);
    assert_eq!((g("ltp_hit"), g("ltp_all")), (d.selected, d.all));
}

#[test]
fn blif_depth_counts_cells_and_stops_at_flops() {
    let blif = "\
.model m
.inputs a b
.outputs y z
.names $false
.subckt $_AND_ A=a B=b Y=n1
.subckt $_NOT_ A=n1 Y=n2
.conn n2 n3
.subckt $_DFF_P_ C=clk D=n3 Q=q
.subckt $_OR_ A=q B=n3 Y=n4
.subckt $_XOR_ A=n4 B=\\
a Y=y
.conn q z
.end
";
    let d = bench_area::blif_depth(blif, &|n| n == "y").unwrap();
    assert_eq!(
        d,
        bench_area::Depth {
            all: 4,
            selected: 4
        }
    );
    let d = bench_area::blif_depth(blif, &|n| n == "z").unwrap();
    assert_eq!((d.all, d.selected), (4, 0));
    let looped = "\
.subckt $_AND_ A=a B=n2 Y=n1
.subckt $_NOT_ A=n1 Y=n2
";
    let e = bench_area::blif_depth(looped, &|_| true).unwrap_err();
    assert!(e.to_string().contains("combinational loop"), "{e}");
    let e = bench_area::blif_depth(".names a b y\n11 1\n", &|_| true).unwrap_err();
    assert!(e.to_string().contains("-icells"), "{e}");
}

#[test]
fn stat_and_ltp_reports_parse() {
    let stat = "\
=== iommu_core ===

   Number of cells:                 12
     $_AND_                          2

=== design hierarchy ===

   iommu_top                         1
     iommu_core                      1

   Number of wires:                 40
   Number of cells:                 30
     $_ANDNOT_                      10
     $_DFFE_PN0P_                    7
     $_SDFF_PP0_                     3
     $_MUX_                         10

";
    let s = bench_area::parse_stat(stat).unwrap();
    assert_eq!(s.cells, 30);
    assert_eq!(s.types.len(), 4);
    assert_eq!(s.types[1], ("$_DFFE_PN0P_".to_string(), 7));
    assert!(bench_area::parse_stat("nothing").is_err());
    let ltp = "5. Executing LTP pass.\n\nLongest topological path in iommu_iotlb (length=27):\n";
    assert_eq!(bench_area::parse_ltp(ltp).unwrap(), 27);
    assert!(bench_area::parse_ltp("no path").is_err());
}
