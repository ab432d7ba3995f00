//! The committed test-vector suites (`testvectors/`): current with the generator, replaying on
//! the golden model and on the RTL (through the Rust replayer, and through the plain-Verilog
//! bench `testvectors/tb/` under Icarus and under Verilator), and the format's error handling
//! (testvectors/README.md).

use iommu_cosim::coverage::{Coverage, BINS, RUN_ONLY};
use iommu_cosim::vectors::replay::{replay, Backend};
use iommu_cosim::vectors::{suites, Suite, VectorError};
use std::path::{Path, PathBuf};

fn committed() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../testvectors")
}

/// A fresh scratch folder for one test.
fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("iommu-vectors-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("scratch folder");
    d
}

/// A copy of committed suite `name` in a scratch folder.
fn copy(name: &str, tag: &str) -> PathBuf {
    let d = scratch(tag).join(name);
    std::fs::create_dir_all(&d).expect("suite folder");
    for e in std::fs::read_dir(committed().join(name)).expect("committed suite") {
        let p = e.expect("entry").path();
        std::fs::copy(&p, d.join(p.file_name().expect("file"))).expect("copy");
    }
    d
}

fn edit(dir: &Path, file: &str, f: impl FnOnce(String) -> String) {
    let p = dir.join(file);
    let t = std::fs::read_to_string(&p).expect("read");
    std::fs::write(&p, f(t)).expect("write");
}

#[test]
fn every_suite_is_committed_and_current() {
    let out = scratch("regen");
    for n in suites::names() {
        let s = suites::generate(n).expect("generate");
        s.write(&out.join(n)).expect("write");
        for f in [
            "manifest.csv",
            "memory.csv",
            "stimulus.csv",
            "expected.csv",
            "events.csv",
            "final.csv",
            "manifest.hex",
            "memory.hex",
            "stimulus.hex",
            "expected.hex",
            "events.hex",
            "final.hex",
        ] {
            let fresh = std::fs::read_to_string(out.join(n).join(f)).expect("fresh");
            let old = std::fs::read_to_string(committed().join(n).join(f)).unwrap_or_else(|_| {
                panic!("testvectors/{n}/{f} is missing: run `iommu-cosim vectors gen --all --out testvectors`")
            });
            assert!(
                fresh == old,
                "testvectors/{n}/{f} is stale: run `iommu-cosim vectors gen --all --out testvectors`"
            );
        }
    }
}

#[test]
fn committed_suites_replay_on_the_model_and_the_rtl() {
    for n in suites::names() {
        let s = Suite::read(&committed().join(n)).expect("committed suite reads");
        assert!(s.requests() > 0, "{n}: no requests");
        for b in [Backend::Model, Backend::Verilator] {
            let r = replay(&s, b);
            assert!(
                r.failures.is_empty(),
                "{n} on {b:?}:\n{}",
                r.failures
                    .iter()
                    .map(|f| f.to_string())
                    .collect::<Vec<_>>()
                    .join("\n")
            );
            // Every request judged, plus the reads, events and final state.
            assert!(
                r.checks >= s.requests() + s.final_regs.len(),
                "{n} on {b:?}: {} checks",
                r.checks
            );
        }
    }
}

/// Together the committed suites hit every functional-coverage bin a vector replay can hit
/// (all but the harness-timing and scoreboard bins of `RUN_ONLY`).
#[test]
fn committed_suites_together_hit_every_coverage_bin() {
    let mut cov = Coverage::default();
    for n in suites::names() {
        let s = Suite::read(&committed().join(n)).expect("committed suite reads");
        cov.merge(&replay(&s, Backend::Model).coverage);
    }
    let missed: Vec<&str> = cov
        .missed()
        .into_iter()
        .filter(|b| !RUN_ONLY.contains(b))
        .collect();
    assert!(missed.is_empty(), "no committed suite hits {missed:?}");
    // The suites are not padded: each bin outside RUN_ONLY is in the table once.
    assert_eq!(
        BINS.iter().filter(|(n, _)| RUN_ONLY.contains(n)).count(),
        RUN_ONLY.len()
    );
}

/// A wrong forward address in expected.csv is found on both backends, naming the tag.
#[test]
fn replay_fails_a_suite_whose_expected_outcome_is_wrong() {
    let d = copy("dma-translate", "wrong");
    // Tag 0: a write to IOVA 0x1000 forwarded to 0x4_0000_0000; claim 0x4_0000_1000 instead.
    edit(&d, "expected.csv", |t| {
        t.replacen(
            "0x0000,forward,0x400000000,",
            "0x0000,forward,0x400001000,",
            1,
        )
    });
    let s = Suite::read(&d).expect("still well-formed");
    for b in [Backend::Model, Backend::Verilator] {
        let r = replay(&s, b);
        assert_eq!(r.failures.len(), 1, "{b:?}: {:?}", r.failures);
        assert_eq!(r.failures[0].tag, Some(0), "{b:?}: {}", r.failures[0]);
    }
}

/// A final fault record that differs from what the unit recorded is found on the RTL.
#[test]
fn replay_checks_the_final_fault_records() {
    let d = copy("dma-translate", "final");
    edit(&d, "final.csv", |t| {
        t.replacen("reg,0x034,4,0x500", "reg,0x034,4,0x501", 1)
    });
    let s = Suite::read(&d).expect("well-formed");
    let r = replay(&s, Backend::Verilator);
    let what: Vec<&str> = r.failures.iter().map(|f| f.what.as_str()).collect();
    assert_eq!(what, ["register 0x034"], "{:?}", r.failures);
}

#[test]
fn a_malformed_field_is_named_with_path_line_and_field() {
    let d = copy("dma-translate", "field");
    // Line 3 of stimulus.csv is step 1 (a read of ECAP): make its size not a number.
    edit(&d, "stimulus.csv", |t| {
        t.replacen("1,read,0x010,8,", "1,read,0x010,eight,", 1)
    });
    let e = Suite::read(&d).expect_err("malformed");
    match &e {
        VectorError::Field {
            path, line, field, ..
        } => {
            assert!(path.ends_with("stimulus.csv"), "{e}");
            assert_eq!((*line, field.as_str()), (3, "size"), "{e}");
        }
        other => panic!("not a field error: {other}"),
    }
    assert!(e.to_string().contains("stimulus.csv:3: size:"), "{e}");
}

#[test]
fn a_newer_major_version_is_refused_with_a_clear_message() {
    let d = copy("dma-translate", "major");
    edit(&d, "manifest.csv", |t| {
        t.replacen("format,1.1", "format,2.0", 1)
    });
    let e = Suite::read(&d).expect_err("newer major");
    let m = e.to_string();
    assert!(m.contains("manifest.csv:2: value:"), "{m}");
    assert!(m.contains("format 2.0 is newer than this reader"), "{m}");
    // A newer minor version of the same major is read.
    let d = copy("dma-translate", "minor");
    edit(&d, "manifest.csv", |t| {
        t.replacen("format,1.1", "format,1.7", 1)
    });
    Suite::read(&d).expect("a newer minor version reads");
}

/// Format 1.1 timing rows: a 1.0 manifest without them replays with the defaults, a value out
/// of range is named, and the suites that have them replay under that timing.
#[test]
fn timing_rows_of_format_1_1() {
    let d = copy("pcie-ordering", "timing");
    let s = Suite::read(&d).expect("suite");
    assert_eq!(s.manifest.timing.backpressure, 30);
    assert!(s.manifest.timing.mem_out_of_order);
    edit(&d, "manifest.csv", |t| {
        t.replacen("backpressure,30", "backpressure,95", 1)
    });
    let m = Suite::read(&d).expect_err("out of range").to_string();
    assert!(m.contains("backpressure: \"95\" is not in 0..=90"), "{m}");
    // As a 1.0 suite: no timing rows, so fixed latency and no back-pressure; still passes.
    edit(&d, "manifest.csv", |t| {
        t.lines()
            .filter(|l| {
                ![
                    "mem_latency_max",
                    "mem_outstanding",
                    "mem_ready",
                    "mem_out_of_order",
                    "backpressure",
                ]
                .iter()
                .any(|k| l.starts_with(&format!("{k},")))
            })
            .map(|l| format!("{}\n", l.replacen("format,1.1", "format,1.0", 1)))
            .collect()
    });
    let old = Suite::read(&d).expect("a 1.0 suite reads");
    assert_eq!(
        old.manifest.timing,
        iommu_cosim::vectors::Timing::plain(old.manifest.mem_latency)
    );
    let (fast, slow) = (
        replay(&old, Backend::Verilator),
        replay(&s, Backend::Verilator),
    );
    assert!(fast.failures.is_empty() && slow.failures.is_empty());
    assert!(
        slow.cycles > fast.cycles,
        "{} vs {}",
        slow.cycles,
        fast.cycles
    );
}

#[test]
fn a_request_without_outcome_and_an_outcome_without_request_are_errors() {
    let d = copy("dma-translate", "orphan");
    edit(&d, "expected.csv", |t| {
        t.lines()
            .filter(|l| !l.starts_with("0x0003,"))
            .map(|l| format!("{l}\n"))
            .collect()
    });
    let m = Suite::read(&d)
        .expect_err("tag 3 has no outcome")
        .to_string();
    assert!(
        m.contains("request tag 0x0003 has no outcome in expected.csv"),
        "{m}"
    );

    let d = copy("dma-translate", "stray");
    edit(&d, "expected.csv", |t| format!("{t}0x7777,drop,,,,,,\n"));
    let m = Suite::read(&d)
        .expect_err("tag 0x7777 has no request")
        .to_string();
    assert!(m.contains("names tag 0x7777, which no request"), "{m}");
}

#[test]
fn a_truncated_suite_names_the_missing_file() {
    let d = copy("dma-translate", "trunc");
    std::fs::remove_file(d.join("final.csv")).expect("remove");
    let m = Suite::read(&d).expect_err("no final.csv").to_string();
    assert!(m.contains("final.csv"), "{m}");
    // A row cut short.
    let d = copy("dma-translate", "short");
    edit(&d, "memory.csv", |t| {
        let mut l: Vec<&str> = t.lines().collect();
        let cut = l[1].rsplit_once(',').expect("three fields").0.to_string();
        let mut out = String::new();
        l[1] = &cut;
        for x in l {
            out.push_str(x);
            out.push('\n');
        }
        out
    });
    let m = Suite::read(&d).expect_err("short row").to_string();
    assert!(m.contains("memory.csv:2: row: 2 fields, expected 3"), "{m}");
}

/// `testvectors/tb/run.sh` with `args`: (exit success, stdout + stderr).
fn bench(args: &[&str]) -> (bool, String) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = std::process::Command::new("bash")
        .arg(root.join("testvectors/tb/run.sh"))
        .args(args)
        .current_dir(&root)
        .output()
        .expect("run testvectors/tb/run.sh");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

fn expect_every_suite_passes(sim: &str) {
    let (ok, text) = bench(&["--sim", sim]);
    assert!(ok, "{sim}:\n{text}");
    for n in suites::names() {
        let line = text
            .lines()
            .find(|l| l.starts_with(&format!("== {n} [{sim},")))
            .unwrap_or_else(|| panic!("{sim}: no result for {n}:\n{text}"));
        assert!(line.contains(" passed, 0 failed"), "{line}");
    }
}

#[test]
fn plain_verilog_bench_replays_every_suite_under_icarus() {
    expect_every_suite_passes("icarus");
}

#[test]
fn plain_verilog_bench_replays_every_suite_under_verilator() {
    expect_every_suite_passes("verilator");
}

/// The ordering rule both replayers apply (decisions.md "Ordering").
#[test]
fn ordering_rule_of_the_replay() {
    use iommu_cosim::hdr::Req;
    use iommu_cosim::vectors::replay::may_pass;
    let w = |rid: u16, attr: u8| {
        Req {
            attr,
            ..Req::write(rid, 0, 0x1000, 4)
        }
        .encode()
    };
    let r = |rid: u16, attr: u8| {
        Req {
            attr,
            ..Req::read(rid, 0, 0x1000, 4)
        }
        .encode()
    };
    let msi = Req::write(0x10, 0, 0xFEE0_0010, 4).encode();
    assert!(!may_pass(&w(0x10, 0), &w(0x10, 0)), "write behind write");
    assert!(
        !may_pass(&r(0x10, 0), &w(0x20, 0)),
        "read behind a write, any requester"
    );
    assert!(may_pass(&w(0x10, 0b010), &w(0x10, 0)), "RO");
    assert!(
        may_pass(&w(0x10, 0b100), &w(0x20, 0)),
        "IDO, another requester"
    );
    assert!(
        !may_pass(&w(0x10, 0b100), &w(0x10, 0)),
        "IDO, the same requester"
    );
    assert!(
        may_pass(&w(0x10, 0), &r(0x10, 0)),
        "a write may pass a read"
    );
    assert!(
        !may_pass(&msi, &w(0x10, 0)),
        "an MSI behind its device's DMA write"
    );
    assert!(
        may_pass(&msi, &w(0x20, 0)),
        "an MSI behind another device's DMA write"
    );
    assert!(may_pass(&r(0x10, 0), &msi), "a DMA read behind an MSI");
}

/// A unit that reorders its translated requests (beats seen in swapped pairs) fails the
/// pcie-ordering suite in the Rust replayer and in the bench, and passes it otherwise.
#[test]
fn pcie_ordering_suite_catches_a_reordering_unit() {
    use iommu_cosim::sim::Sabotage;
    use iommu_cosim::vectors::replay::replay_sabotaged;
    let s = Suite::read(&committed().join("pcie-ordering")).expect("suite");
    let r = replay_sabotaged(&s, Some(Sabotage::SwapDnPairs));
    let ord: Vec<_> = r
        .failures
        .iter()
        .filter(|f| f.what == "PCIe ordering")
        .collect();
    assert!(!ord.is_empty(), "{:?}", r.failures);
    assert!(replay_sabotaged(&s, None).failures.is_empty());
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = std::process::Command::new("bash")
        .arg(root.join("testvectors/tb/run.sh"))
        .args(["--sim", "icarus", "testvectors/pcie-ordering"])
        .env("TB_PLUSARGS", "+swap_dn_pairs")
        .current_dir(&root)
        .output()
        .expect("run testvectors/tb/run.sh");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{text}");
    assert!(text.contains("PCIe ordering: left after tag"), "{text}");
}

/// The bench judges: a wrong forward address in expected.hex fails the suite, naming the tag.
#[test]
fn plain_verilog_bench_fails_a_wrong_outcome() {
    let d = copy("dma-translate", "tbwrong");
    // Row 1 (after the count) is tag 0's forward to 0x4_0000_0000: kind 01, tag 0000, status 00,
    // vector 00, then the address in digits 10..26.
    edit(&d, "expected.hex", |t| {
        let mut l: Vec<String> = t.lines().map(String::from).collect();
        assert_eq!(&l[1][..26], "01000000000000000400000000", "{}", l[1]);
        l[1].replace_range(10..26, "0000000400001000");
        l.join("\n") + "\n"
    });
    let (ok, text) = bench(&["--sim", "icarus", d.to_str().expect("utf-8 path")]);
    assert!(!ok, "{text}");
    assert!(
        text.contains(
            "FAIL tag 0000: forwarded to 0000000400000000, which no allowed outcome names"
        ),
        "{text}"
    );
    assert!(
        text.contains("vectors: ") && text.contains(" passed, 1 failed"),
        "{text}"
    );
}

/// The suites have teeth: each of these realistic one-line RTL bugs, made in a copy of `rtl/`,
/// fails the suite named beside it on the plain-Verilog bench (Icarus).
#[test]
fn suites_fail_broken_rtl_variants() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    // (what, file, text, replacement, suite)
    let bugs: [(&str, &str, &str, &str, &str); 5] = [
        (
            "paging-structure cache flushed only by a global invalidation",
            "iommu_psc.v",
            ".inv_i(inv_i && inv_on),",
            ".inv_i(inv_i && inv_on && inv_g_i == 2'b01),",
            "dma-invalidation",
        ),
        (
            "page-selective invalidation covering 2^(AM-1) pages",
            "iommu_iotlb.v",
            "wire [VPN_W-1:0] im0 = {VPN_W{1'b1}} << inv_am_i;",
            "wire [VPN_W-1:0] im0 = {VPN_W{1'b1}} << ((inv_am_i == 6'd0) ? 6'd0 : inv_am_i - 6'd1);",
            "dma-invalidation",
        ),
        (
            "device-selective context invalidation ignoring the function mask",
            "iommu_ctx_cache.v",
            "2'b11:   inv_care = {16'h0000, fm_mask};",
            "2'b11:   inv_care = {16'h0000, 16'hFFFF};",
            "dma-invalidation",
        ),
        (
            "level-5 index from IOVA bits 55:47",
            "iommu_walker.v",
            "default: idx = addr_q[56:48];",
            "default: idx = addr_q[55:47];",
            "dma-walks",
        ),
        (
            "2 MiB IOTLB tag ignoring address bit 21",
            "iommu_iotlb.v",
            "vpn[VPN_W-1:9] == lk_addr_i[56:21];",
            "vpn[VPN_W-1:10] == lk_addr_i[56:22];",
            "dma-translate-tiny",
        ),
    ];
    for (what, file, from, to, suite) in bugs {
        let d = scratch(&format!("mut-{}", &suite[..3])).join("rtl");
        std::fs::create_dir_all(&d).expect("rtl copy");
        for e in std::fs::read_dir(root.join("rtl")).expect("rtl/") {
            let p = e.expect("entry").path();
            if p.extension().is_some_and(|x| x == "v") {
                std::fs::copy(&p, d.join(p.file_name().expect("name"))).expect("copy");
            }
        }
        let t = std::fs::read_to_string(d.join(file)).expect("source");
        assert_eq!(
            t.matches(from).count(),
            1,
            "{what}: rtl/{file} no longer holds {from:?} once; update the mutation"
        );
        std::fs::write(d.join(file), t.replacen(from, to, 1)).expect("mutate");
        let suite_dir = committed().join(suite);
        let (ok, text) = bench(&[
            "--sim",
            "icarus",
            "--rtl",
            d.to_str().expect("utf-8"),
            suite_dir.to_str().expect("utf-8"),
        ]);
        assert!(!ok, "{what}: {suite} passed on the broken RTL:\n{text}");
        assert!(text.contains("FAIL "), "{what}: {text}");
    }
}
