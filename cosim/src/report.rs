//! Regression reports: what `regress --out DIR` writes and `report merge` joins.
//!
//! A report folder holds four files:
//! - `seeds.csv`: one row per seed ([`COLUMNS`]), sorted by seed; deterministic (no times);
//! - `coverage.csv`: the functional coverage of all its seeds ([`Coverage::csv`]);
//! - `junit.xml`: one test case per seed with the seed, the rerun command and, for a failing
//!   seed, the first mismatch; the only file with wall-clock times;
//! - `summary.txt`: totals, failing seeds and the coverage table, computed from the rows and the
//!   coverage alone.
//!
//! So the merge of shard folders that together ran a seed range is byte-identical to one run of
//! that range, `junit.xml` apart from its `time` attributes.

use crate::coverage::Coverage;
use crate::regress::SeedResult;
use anyhow::{bail, Context, Result};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The columns of `seeds.csv`, in order. `failure` is last and may hold commas.
pub const COLUMNS: &[&str] = &[
    "seed",
    "config",
    "requests_per_seed",
    "result",
    "requests",
    "cycles",
    "forwarded",
    "completions",
    "drops",
    "interrupts",
    "posted",
    "events",
    "faults",
    "reg_accesses",
    "racing_edits",
    "racing_invalidations",
    "stale_commits",
    "peak_worlds",
    "world_cap_hits",
    "failure",
];

/// One row of `seeds.csv`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeedRow {
    /// The `seed` column: the random seed the row's run used.
    pub seed: u64,
    /// The `config` column: the RTL parameter set (`default` or `tiny`).
    pub config: String,
    /// The `requests_per_seed` column: upstream requests the run was asked to send.
    pub requests_per_seed: u64,
    /// The `result` column: `pass` (true) or `fail` (false).
    pub passed: bool,
    /// `requests` .. `world_cap_hits`, in [`COLUMNS`] order.
    pub counts: [u64; 15],
    /// The first mismatch or error, on one line (empty when passed).
    pub failure: String,
}

/// One JUnit test case as written (kept verbatim through a merge).
#[derive(Clone, Debug)]
pub struct JunitCase {
    /// Seed of the run this test case reports.
    pub seed: u64,
    /// Wall-clock time of the run in seconds (the `time` attribute).
    pub secs: f64,
    /// The seed failed, so the case holds a `<failure>` element.
    pub failed: bool,
    /// The `<testcase ...>` element, indented, with its trailing newline.
    pub xml: String,
}

/// Everything a report folder holds.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// The `seeds.csv` rows, sorted by seed.
    pub rows: Vec<SeedRow>,
    /// The coverage of all seeds together (`coverage.csv`).
    pub coverage: Coverage,
    /// The `junit.xml` test cases, one per seed.
    pub cases: Vec<JunitCase>,
}

fn one_line(s: &str) -> String {
    s.split(['\n', '\r'])
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" | ")
}

/// `s` with `&`, `<`, `>` and `"` escaped, for XML text and double-quoted attribute values.
pub fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

impl SeedRow {
    /// The row of a finished seed run with `requests_per_seed` requests.
    pub fn of(r: &SeedResult, requests_per_seed: u64) -> SeedRow {
        let s = &r.stats;
        let failure = match (&r.error, r.failures.first()) {
            (Some(e), _) => one_line(e),
            (None, Some(m)) => one_line(&m.to_string()),
            (None, None) => String::new(),
        };
        SeedRow {
            seed: r.seed,
            config: r.config.to_string(),
            requests_per_seed,
            passed: r.passed(),
            counts: [
                s.requests,
                r.cycles,
                s.forwarded,
                s.completions,
                s.drops,
                s.interrupts,
                s.posted,
                s.events,
                s.faults.values().sum(),
                s.reg_accesses,
                s.racing_edits,
                s.racing_invalidations,
                s.stale_commits,
                s.peak_worlds,
                s.world_cap_hits,
            ],
            failure,
        }
    }

    fn csv(&self) -> String {
        let mut s = format!(
            "{},{},{},{}",
            self.seed,
            self.config,
            self.requests_per_seed,
            if self.passed { "pass" } else { "fail" }
        );
        for c in self.counts {
            let _ = write!(s, ",{c}");
        }
        let _ = writeln!(s, ",{}", self.failure);
        s
    }

    fn parse(line: &str, path: &Path, n: usize) -> Result<SeedRow> {
        let f: Vec<&str> = line.splitn(COLUMNS.len(), ',').collect();
        if f.len() != COLUMNS.len() {
            bail!(
                "{}:{n}: {} fields, expected {} ({})",
                path.display(),
                f.len(),
                COLUMNS.len(),
                COLUMNS.join(",")
            );
        }
        let num = |i: usize| -> Result<u64> {
            f[i].parse().with_context(|| {
                format!(
                    "{}:{n}: field {}: {:?} is not a number",
                    path.display(),
                    COLUMNS[i],
                    f[i]
                )
            })
        };
        let passed = match f[3] {
            "pass" => true,
            "fail" => false,
            x => bail!(
                "{}:{n}: field result: {x:?} is neither pass nor fail",
                path.display()
            ),
        };
        let mut counts = [0u64; 15];
        for (k, c) in counts.iter_mut().enumerate() {
            *c = num(4 + k)?;
        }
        Ok(SeedRow {
            seed: num(0)?,
            config: f[1].to_string(),
            requests_per_seed: num(2)?,
            passed,
            counts,
            failure: f[COLUMNS.len() - 1].to_string(),
        })
    }
}

impl JunitCase {
    /// The test case of a finished seed run that took `secs`.
    pub fn of(r: &SeedResult, requests_per_seed: u64, secs: f64) -> JunitCase {
        let mut xml = format!(
            "  <testcase classname=\"regress.{}\" name=\"seed {}\" time=\"{secs:.3}\">\n",
            r.config, r.seed
        );
        if !r.passed() {
            let (msg, body) = match (&r.error, r.failures.first()) {
                (Some(e), _) => (one_line(e), e.clone()),
                (None, Some(m)) => (one_line(&m.what), m.to_string()),
                (None, None) => (String::new(), String::new()),
            };
            let _ = writeln!(
                xml,
                "    <failure message=\"{}\">{}</failure>",
                xml_escape(&msg),
                xml_escape(&body)
            );
        }
        let _ = writeln!(
            xml,
            "    <system-out>seed {} ({})\nrerun: {}</system-out>\n  </testcase>",
            r.seed,
            xml_escape(&r.setup),
            xml_escape(&r.rerun_command(requests_per_seed))
        );
        JunitCase {
            seed: r.seed,
            secs,
            failed: !r.passed(),
            xml,
        }
    }
}

/// `0..8` for a contiguous set, else the seeds listed (ranges joined).
fn seed_set(seeds: &[u64]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < seeds.len() {
        let mut j = i;
        while j + 1 < seeds.len() && seeds[j + 1] == seeds[j] + 1 {
            j += 1;
        }
        parts.push(if j > i {
            format!("{}..{}", seeds[i], seeds[j] + 1)
        } else {
            seeds[i].to_string()
        });
        i = j + 1;
    }
    parts.join(",")
}

impl Report {
    /// Add one finished seed.
    pub fn add(&mut self, r: &SeedResult, requests_per_seed: u64, secs: f64) {
        self.rows.push(SeedRow::of(r, requests_per_seed));
        self.cases.push(JunitCase::of(r, requests_per_seed, secs));
        self.coverage.merge(&r.coverage);
    }

    fn sort(&mut self) {
        self.rows.sort_by_key(|r| r.seed);
        self.cases.sort_by_key(|c| c.seed);
    }

    /// Seeds that failed, ascending.
    pub fn failing(&self) -> Vec<u64> {
        let mut v: Vec<u64> = self
            .rows
            .iter()
            .filter(|r| !r.passed)
            .map(|r| r.seed)
            .collect();
        v.sort_unstable();
        v
    }

    /// `seeds.csv`.
    pub fn seeds_csv(&self) -> String {
        let mut s = COLUMNS.join(",");
        s.push('\n');
        for r in &self.rows {
            s.push_str(&r.csv());
        }
        s
    }

    /// `junit.xml`.
    pub fn junit(&self) -> String {
        let fails = self.cases.iter().filter(|c| c.failed).count();
        let total: f64 = self.cases.iter().map(|c| c.secs).sum();
        let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let _ = writeln!(
            x,
            "<testsuite name=\"iommu-cosim regress\" tests=\"{}\" failures=\"{fails}\" time=\"{total:.3}\">",
            self.cases.len()
        );
        for c in &self.cases {
            x.push_str(&c.xml);
        }
        x.push_str("</testsuite>\n");
        x
    }

    /// `summary.txt`: deterministic, from the rows and the coverage only.
    pub fn summary(&self) -> String {
        let seeds: Vec<u64> = self.rows.iter().map(|r| r.seed).collect();
        let mut configs: Vec<&str> = self.rows.iter().map(|r| r.config.as_str()).collect();
        configs.dedup();
        let mut per: Vec<u64> = self.rows.iter().map(|r| r.requests_per_seed).collect();
        per.dedup();
        let sum = |k: usize| self.rows.iter().map(|r| r.counts[k]).sum::<u64>();
        let failing = self.failing();
        let mut s = String::new();
        let _ = writeln!(
            s,
            "regress: {} seeds ({}), config {}, {} requests per seed",
            seeds.len(),
            seed_set(&seeds),
            configs.join("+"),
            per.iter()
                .map(|p| p.to_string())
                .collect::<Vec<_>>()
                .join("+")
        );
        let _ = writeln!(
            s,
            "{} passed, {} failed",
            seeds.len() - failing.len(),
            failing.len()
        );
        let _ = writeln!(
            s,
            "requests {}, cycles {}: {} forwarded, {} completions, {} drops, {} interrupts, {} posted, {} fault events, {} faults, {} register accesses",
            sum(0), sum(1), sum(2), sum(3), sum(4), sum(5), sum(6), sum(7), sum(8), sum(9)
        );
        let _ = writeln!(
            s,
            "racing the traffic: {} table-edit versions, {} invalidating register writes, {} stale commits",
            sum(10),
            sum(11),
            sum(12)
        );
        if let Some(r) = self
            .rows
            .iter()
            .max_by_key(|r| (r.counts[13], std::cmp::Reverse(r.seed)))
        {
            let _ = writeln!(
                s,
                "scoreboard worlds: at most {} alive at once (seed {}); {} commits reached the cap",
                r.counts[13],
                r.seed,
                sum(14)
            );
        }
        if !failing.is_empty() {
            let _ = writeln!(s, "failing seeds: {failing:?}");
            for r in self.rows.iter().filter(|r| !r.passed) {
                let _ = writeln!(s, "  seed {}: {}", r.seed, r.failure);
            }
        }
        s.push_str(&self.coverage.table());
        s
    }

    /// Write the four files into `dir` (made if missing).
    pub fn write(&mut self, dir: &Path) -> Result<()> {
        self.sort();
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        for (name, text) in [
            ("seeds.csv", self.seeds_csv()),
            ("coverage.csv", self.coverage.csv()),
            ("junit.xml", self.junit()),
            ("summary.txt", self.summary()),
        ] {
            let p = dir.join(name);
            std::fs::write(&p, text).with_context(|| format!("writing {}", p.display()))?;
        }
        Ok(())
    }

    /// Read a report folder written by [`Report::write`]. A missing or malformed file is an
    /// error naming it (and the line).
    pub fn read(dir: &Path) -> Result<Report> {
        let read = |name: &str| -> Result<(PathBuf, String)> {
            let p = dir.join(name);
            let t = std::fs::read_to_string(&p).with_context(|| {
                format!("{}: not a report folder (reading {name})", dir.display())
            })?;
            Ok((p, t))
        };
        let (p, t) = read("seeds.csv")?;
        let mut lines = t.lines();
        if lines.next() != Some(COLUMNS.join(",").as_str()) {
            bail!(
                "{}:1: expected the header {}",
                p.display(),
                COLUMNS.join(",")
            );
        }
        let mut rows = Vec::new();
        for (i, l) in lines.enumerate() {
            if !l.trim().is_empty() {
                rows.push(SeedRow::parse(l, &p, i + 2)?);
            }
        }
        let (p, t) = read("coverage.csv")?;
        let coverage = Coverage::parse_csv(&t, &p)?;
        let (p, t) = read("junit.xml")?;
        let cases = parse_cases(&t, &p)?;
        let mut seeds: Vec<u64> = rows.iter().map(|r| r.seed).collect();
        let mut case_seeds: Vec<u64> = cases.iter().map(|c| c.seed).collect();
        seeds.sort_unstable();
        case_seeds.sort_unstable();
        if seeds != case_seeds {
            bail!(
                "{}: junit.xml and seeds.csv list different seeds",
                dir.display()
            );
        }
        Ok(Report {
            rows,
            coverage,
            cases,
        })
    }

    /// Join reports of disjoint seed sets of one configuration. Overlapping seeds, or rows of
    /// different configurations or request counts, are an error.
    pub fn merge(parts: &[(PathBuf, Report)]) -> Result<Report> {
        let mut out = Report::default();
        let mut first: Option<(&Path, &SeedRow)> = None;
        let mut owner: std::collections::BTreeMap<u64, &Path> = Default::default();
        for (dir, r) in parts {
            for row in &r.rows {
                if let Some(prev) = owner.insert(row.seed, dir) {
                    bail!(
                        "seed {} is in both {} and {}",
                        row.seed,
                        prev.display(),
                        dir.display()
                    );
                }
                match first {
                    None => first = Some((dir, row)),
                    Some((d0, r0)) => {
                        if (r0.config.as_str(), r0.requests_per_seed)
                            != (row.config.as_str(), row.requests_per_seed)
                        {
                            bail!(
                                "{} ran config {} with {} requests per seed, {} config {} with {}: not one regression",
                                d0.display(),
                                r0.config,
                                r0.requests_per_seed,
                                dir.display(),
                                row.config,
                                row.requests_per_seed
                            );
                        }
                    }
                }
            }
            out.rows.extend(r.rows.iter().cloned());
            out.cases.extend(r.cases.iter().cloned());
            out.coverage.merge(&r.coverage);
        }
        out.sort();
        Ok(out)
    }
}

/// The test cases of a `junit.xml` written by [`Report::junit`].
fn parse_cases(text: &str, path: &Path) -> Result<Vec<JunitCase>> {
    let mut cases = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("  <testcase ") {
        let tail = &rest[at..];
        let end = tail
            .find("</testcase>\n")
            .with_context(|| format!("{}: a <testcase> without its end", path.display()))?;
        let xml = &tail[..end + "</testcase>\n".len()];
        let attr = |name: &str| -> Option<&str> {
            let k = format!(" {name}=\"");
            let s = xml.find(&k)? + k.len();
            let e = xml[s..].find('"')?;
            Some(&xml[s..s + e])
        };
        let seed = attr("name")
            .and_then(|n| n.strip_prefix("seed "))
            .and_then(|n| n.parse().ok())
            .with_context(|| {
                format!(
                    "{}: a test case whose name is not \"seed N\"",
                    path.display()
                )
            })?;
        let secs = attr("time").and_then(|t| t.parse().ok()).unwrap_or(0.0);
        cases.push(JunitCase {
            seed,
            secs,
            failed: xml.contains("<failure"),
            xml: xml.to_string(),
        });
        rest = &tail[end..];
    }
    Ok(cases)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(seed: u64, fail: bool) -> SeedResult {
        use crate::dut::DutConfig;
        use crate::lockstep::{Mismatch, Stats};
        let mut r = SeedResult {
            seed,
            config: DutConfig::Tiny,
            stats: Stats::default(),
            cycles: 1000 + seed,
            failures: Vec::new(),
            error: None,
            setup: "setup <x>".into(),
            coverage: Coverage::default(),
            log: None,
        };
        r.stats.requests = 10;
        r.coverage.hit("page.4k");
        if fail {
            r.failures.push(Mismatch {
                seed,
                config: DutConfig::Tiny,
                cycle: 77,
                what: "outcome not in the allowed set".into(),
                tag: Some(5),
                request: None,
                expected: "Forward { addr: 0x1000 }".into(),
                actual: "Drop, with \"quotes\" & <brackets>".into(),
            });
        }
        r
    }

    #[test]
    fn a_failing_seed_is_a_junit_failure_with_its_rerun_command_and_a_csv_row() {
        let mut rep = Report::default();
        rep.add(&result(4, true), 50, 1.5);
        rep.add(&result(3, false), 50, 0.5);
        rep.sort();
        let x = rep.junit();
        assert!(
            x.contains("tests=\"2\" failures=\"1\" time=\"2.000\""),
            "{x}"
        );
        assert!(
            x.contains("<failure message=\"outcome not in the allowed set\">"),
            "{x}"
        );
        assert!(
            x.contains("&quot;quotes&quot; &amp; &lt;brackets&gt;"),
            "{x}"
        );
        assert!(x.contains("rerun: cargo run --release -p iommu-cosim -- regress --seeds 4..5 --config tiny --requests 50"), "{x}");
        assert!(x.find("name=\"seed 3\"") < x.find("name=\"seed 4\""));
        let csv = rep.seeds_csv();
        let row4 = csv.lines().find(|l| l.starts_with("4,")).unwrap();
        assert!(row4.starts_with("4,tiny,50,fail,10,1004,"), "{row4}");
        assert!(row4.contains("outcome not in the allowed set"), "{row4}");
        assert!(!row4.contains('\n'));
        assert_eq!(rep.failing(), vec![4]);
        assert!(rep.summary().contains("failing seeds: [4]"));
        assert_eq!(rep.coverage.hits("page.4k"), 2);
        // The JUnit cases survive a parse (a merge keeps them verbatim).
        let cases = parse_cases(&x, Path::new("j.xml")).unwrap();
        assert_eq!(cases.len(), 2);
        assert_eq!(
            (cases[1].seed, cases[1].failed, cases[1].secs),
            (4, true, 1.5)
        );
    }

    #[test]
    fn merge_refuses_overlapping_seeds_and_mixed_runs() {
        let mut a = Report::default();
        a.add(&result(1, false), 50, 0.1);
        let mut b = Report::default();
        b.add(&result(1, false), 50, 0.1);
        let e = Report::merge(&[("a".into(), a.clone()), ("b".into(), b)]).unwrap_err();
        assert!(e.to_string().contains("seed 1 is in both a and b"), "{e}");
        let mut c = Report::default();
        c.add(&result(2, false), 60, 0.1);
        let e = Report::merge(&[("a".into(), a), ("c".into(), c)]).unwrap_err();
        assert!(e.to_string().contains("not one regression"), "{e}");
    }

    #[test]
    fn seed_sets_print_as_ranges() {
        assert_eq!(seed_set(&[0, 1, 2, 3]), "0..4");
        assert_eq!(seed_set(&[1, 3, 4, 9]), "1,3..5,9");
        assert_eq!(seed_set(&[]), "");
    }

    #[test]
    fn a_bad_row_is_named_with_line_and_field() {
        let p = Path::new("s/seeds.csv");
        let good = "3,default,200,pass,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,";
        let r = SeedRow::parse(good, p, 2).unwrap();
        assert_eq!((r.seed, r.counts[14], r.failure.as_str()), (3, 15, ""));
        let e = SeedRow::parse(&good.replace(",7,", ",x,"), p, 5).unwrap_err();
        assert!(e.to_string().contains("seeds.csv:5: field posted"), "{e}");
        let e = SeedRow::parse(&good.replace("pass", "ok"), p, 5).unwrap_err();
        assert!(e.to_string().contains("field result"), "{e}");
        let e = SeedRow::parse("3,default", p, 7).unwrap_err();
        assert!(e.to_string().contains(":7: 2 fields"), "{e}");
        let with_commas = format!("{}a, b, c", &good[..good.len()]);
        let r = SeedRow::parse(&with_commas, p, 2).unwrap();
        assert_eq!(r.failure, "a, b, c");
    }
}
