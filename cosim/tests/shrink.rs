//! From a failing random run to a vector suite: a bug injected between the DUT and the harness
//! makes a seed fail; its stimulus shrinks to a suite that replays and fails the same way with
//! the bug, and passes without it. Also `regress --out` writing the shrunk suite, and `--wave`
//! dumping only a window before the failure.

use iommu_cosim::dut::DutConfig;
use iommu_cosim::regress::{run_seed, RunOpts};
use iommu_cosim::shrink::{shrink, ShrinkOpts};
use iommu_cosim::sim::Sabotage;
use iommu_cosim::vectors::replay::{replay, replay_sabotaged, Backend};
use iommu_cosim::vectors::{suites, Step, Suite};
use std::path::PathBuf;
use std::process::Command;

const BUG: Sabotage = Sabotage::ClearDnAddrBit(14);

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("iommu-shrink-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("scratch folder");
    d
}

fn opts(seed: u64, budget: usize) -> ShrinkOpts {
    let (cap, ecap) = suites::identity(DutConfig::Default);
    ShrinkOpts {
        cap,
        ecap,
        config: DutConfig::Default,
        seed,
        name: format!("shrunk-seed{seed}"),
        description: "test".into(),
        sabotage: Some(BUG),
        budget,
    }
}

#[test]
fn an_injected_failure_shrinks_to_a_suite_that_fails_the_same_way() {
    let run = RunOpts {
        log: true,
        sabotage: Some(BUG),
        ..RunOpts::new(DutConfig::Default, 400)
    };
    // The first seed of a few whose run meets the bug after some traffic.
    let (seed, r) = (1..20)
        .map(|s| (s, run_seed(s, &run)))
        .find(|(_, r)| !r.passed() && r.stats.requests > 20)
        .expect("a seed fails with the injected bug");
    let log = r.log.as_ref().expect("stimulus logged");
    let lockstep_failure = &r.failures[0];
    assert!(
        lockstep_failure.actual.contains("Forward"),
        "{lockstep_failure}"
    );
    let s = shrink(log, &opts(seed, 3000), &mut |_, _| {})
        .expect("shrink")
        .expect("the failure reproduces in order");
    assert!(s.minimal, "budget reached after {} trials", s.trials);
    assert!(
        s.suite.requests() <= 2,
        "{} requests left",
        s.suite.requests()
    );
    assert!(
        s.suite.steps.len() * 10 < s.from_steps,
        "{} of {} steps left",
        s.suite.steps.len(),
        s.from_steps
    );
    assert_eq!(s.failure.what, "downstream request");
    // Written and read back, it replays the same way: fails with the bug on the RTL, passes on
    // the RTL without it and on the model.
    let d = scratch("suite").join(&s.suite.manifest.suite);
    s.suite.write(&d).expect("write");
    let back = Suite::read(&d).expect("read back");
    let again = replay_sabotaged(&back, Some(BUG));
    assert_eq!(again.failures.first(), Some(&s.failure));
    assert!(replay(&back, Backend::Verilator).failures.is_empty());
    assert!(replay(&back, Backend::Model).failures.is_empty());
    // The failing request is in it, and its output address has the sabotaged bit set.
    let Some(Step::Request { .. }) = back.steps.last() else {
        panic!(
            "the failing request ends the suite: {:?}",
            back.steps.last()
        );
    };
    let exp = back.expected.values().last().expect("an expected outcome");
    assert!(
        exp.iter().any(|o| matches!(o,
            iommu_driver::model::Outcome::Forward { addr } if addr.0 & (1 << 14) != 0)),
        "{exp:?}"
    );
}

#[test]
fn a_passing_run_has_nothing_to_shrink() {
    let run = RunOpts {
        log: true,
        ..RunOpts::new(DutConfig::Default, 100)
    };
    let r = run_seed(3, &run);
    assert!(r.passed());
    let mut o = opts(3, 50);
    o.sabotage = None;
    assert!(shrink(r.log.as_ref().expect("log"), &o, &mut |_, _| {})
        .expect("shrink")
        .is_none());
}

fn cosim(args: &[&str]) -> (bool, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_iommu-cosim"))
        .args(args)
        .output()
        .expect("run iommu-cosim");
    (
        o.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ),
    )
}

#[test]
fn regress_writes_the_shrunk_suite_next_to_its_report() {
    let d = scratch("cli");
    let out = d.join("rep").to_string_lossy().into_owned();
    let (ok, text) = cosim(&[
        "regress",
        "--seeds",
        "1..3",
        "--requests",
        "300",
        "--inject-bug",
        "clear-dn-addr-bit:14",
        "--out",
        &out,
    ]);
    assert!(!ok, "{text}");
    assert!(text.contains("shrink seed 1:"), "{text}");
    let suite = d.join("rep").join("shrunk-seed1");
    let suite = suite.to_string_lossy();
    let (ok, t) = cosim(&["vectors", "check", &suite]);
    assert!(ok, "{t}");
    // Without the bug the RTL passes it (the bug was the harness's).
    let (ok, t) = cosim(&["vectors", "replay", &suite]);
    assert!(ok, "{t}");
    let j = std::fs::read_to_string(d.join("rep").join("junit.xml")).expect("junit");
    assert!(
        j.contains("<failure message=\"outcome not in the allowed set\">"),
        "{j}"
    );
    let (ok, t) = cosim(&["regress", "--seeds", "1", "--inject-bug", "flip-everything"]);
    assert!(!ok);
    assert!(t.contains("unknown bug \"flip-everything\""), "{t}");
}

#[test]
fn wave_dumps_a_window_before_the_failure() {
    let d = scratch("wave");
    let (full, part) = (d.join("full.fst"), d.join("part.fst"));
    let args = |w: &PathBuf, window: &str| {
        vec![
            "regress".to_string(),
            "--seeds".into(),
            "4".into(),
            "--requests".into(),
            "600".into(),
            "--wave".into(),
            w.to_string_lossy().into_owned(),
            "--wave-window".into(),
            window.into(),
        ]
    };
    let run = |a: Vec<String>| {
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        cosim(&a)
    };
    let (ok, t) = run(args(&full, "0"));
    assert!(ok, "{t}");
    let (ok, t) = run(args(&part, "500"));
    assert!(ok, "{t}");
    assert!(
        t.contains("to the end of the run") || t.contains("(the end of the run)"),
        "{t}"
    );
    let size = |p: &PathBuf| std::fs::metadata(p).expect("waveform written").len();
    assert!(
        size(&part) * 3 < size(&full),
        "window {} bytes, whole run {} bytes",
        size(&part),
        size(&full)
    );
}
