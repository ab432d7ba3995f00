//! Regression reports through the CLI: `regress --shard i/n --out DIR` per shard, `report merge`
//! of the shards equal to one run of the same seeds, and bad report folders named.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn cosim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_iommu-cosim"))
        .args(args)
        .output()
        .expect("run iommu-cosim")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("iommu-report-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("scratch folder");
    d
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn without_times(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find(" time=\"") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 7..];
        rest = &after[after.find('"').map_or(0, |e| e + 1)..];
    }
    out.push_str(rest);
    out
}

#[test]
fn merged_shards_equal_the_single_machine_run() {
    let d = scratch("merge");
    let s = |p: &str| d.join(p).to_string_lossy().into_owned();
    let base = ["regress", "--seeds", "0..6", "--requests", "150"];
    let one = cosim(&[&base[..], &["--out", &s("one")]].concat());
    assert!(one.status.success(), "{}", text(&one));
    assert!(text(&one).contains("6 passed, 0 failed"), "{}", text(&one));
    let mut shards = Vec::new();
    for i in 0..3 {
        let sh = format!("{i}/3");
        let out = s(&format!("shard{i}"));
        let o = cosim(&[&base[..], &["--shard", &sh, "--out", &out]].concat());
        assert!(o.status.success(), "{}", text(&o));
        shards.push(out);
    }
    let mut args = vec!["report", "merge"];
    args.extend(shards.iter().map(String::as_str));
    let merged = s("merged");
    args.extend(["--out", &merged]);
    let m = cosim(&args);
    assert!(m.status.success(), "{}", text(&m));
    assert!(text(&m).contains("6 passed, 0 failed"), "{}", text(&m));
    for f in ["seeds.csv", "coverage.csv", "summary.txt"] {
        assert_eq!(
            read(&d.join("merged").join(f)),
            read(&d.join("one").join(f)),
            "merged {f} differs from the single run's"
        );
    }
    let j = read(&d.join("merged").join("junit.xml"));
    assert_eq!(
        without_times(&j),
        without_times(&read(&d.join("one").join("junit.xml")))
    );
    assert_eq!(j.matches("<testcase ").count(), 6);
    assert!(j.contains("rerun: cargo run --release -p iommu-cosim -- regress --seeds 5..6"));
    // One shard holds only its seeds; the shards' coverage adds up to the whole.
    let s1 = read(&d.join("shard1").join("seeds.csv"));
    let seeds: Vec<&str> = s1.lines().skip(1).map(|l| &l[..2]).collect();
    assert_eq!(seeds, ["1,", "4,"]);
    let cov = read(&d.join("one").join("coverage.csv"));
    let hits = |c: &str, bin: &str| -> u64 {
        c.lines()
            .find(|l| l.starts_with(&format!("{bin},")))
            .and_then(|l| l.split(',').nth(1))
            .and_then(|h| h.parse().ok())
            .unwrap_or_else(|| panic!("bin {bin} missing"))
    };
    let sum: u64 = (0..3)
        .map(|i| {
            hits(
                &read(&d.join(format!("shard{i}")).join("coverage.csv")),
                "req.read",
            )
        })
        .sum();
    assert!(hits(&cov, "req.read") > 0);
    assert_eq!(sum, hits(&cov, "req.read"));
    // Merging a shard twice is refused: the seeds overlap.
    let o = cosim(&[
        "report",
        "merge",
        &shards[0],
        &shards[0],
        "--out",
        &s("twice"),
    ]);
    assert!(!o.status.success());
    assert!(text(&o).contains("is in both"), "{}", text(&o));
}

#[test]
fn bad_report_folders_are_named() {
    let d = scratch("bad");
    let s = |p: &str| d.join(p).to_string_lossy().into_owned();
    let o = cosim(&["report", "merge", &s("nothing"), "--out", &s("m")]);
    assert!(!o.status.success());
    assert!(text(&o).contains("not a report folder"), "{}", text(&o));
    let r = cosim(&[
        "regress",
        "--seeds",
        "3",
        "--requests",
        "50",
        "--out",
        &s("r"),
    ]);
    assert!(r.status.success(), "{}", text(&r));
    let p = d.join("r").join("seeds.csv");
    let t = read(&p);
    std::fs::write(&p, t.replacen(",pass,", ",maybe,", 1)).expect("write");
    let o = cosim(&["report", "merge", &s("r"), "--out", &s("m")]);
    assert!(!o.status.success());
    assert!(
        text(&o).contains("seeds.csv:2: field result"),
        "{}",
        text(&o)
    );
    std::fs::write(&p, t).expect("write");
    let c = d.join("r").join("coverage.csv");
    let t = read(&c);
    std::fs::write(&c, t.replacen("page.2m,", "page.3m,", 1)).expect("write");
    let o = cosim(&["report", "merge", &s("r"), "--out", &s("m")]);
    assert!(!o.status.success());
    assert!(
        text(&o).contains("unknown coverage bin \"page.3m\""),
        "{}",
        text(&o)
    );
}
