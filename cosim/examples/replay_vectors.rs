//! Replay the committed test-vector suites on the golden model and on the RTL, then once more
//! with a bug injected at the RTL's `dn` port, to see a replay fail.
//!
//! The suites (`testvectors/`, format in `testvectors/README.md`) need no model to judge: each
//! step's expected outcomes are in the suite, so the same files check any other IOMMU RTL.
//!
//! `cargo run --release --example replay_vectors -- [DIR]` (default: the repository's
//! `testvectors/`)

use iommu_cosim::sim::Sabotage;
use iommu_cosim::vectors::replay::{replay, replay_sabotaged, Backend};
use iommu_cosim::vectors::Suite;
use std::path::{Path, PathBuf};

fn run(dir: &Path) -> anyhow::Result<()> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| anyhow::anyhow!("{}: {e}", dir.display()))?
        .filter_map(|d| d.ok().map(|d| d.path()))
        .filter(|p| p.join("manifest.csv").is_file())
        .collect();
    dirs.sort();
    anyhow::ensure!(!dirs.is_empty(), "{}: no vector suite in it", dir.display());
    println!(
        "{:<20} {:>6} {:>12} {:>12} {:>8}",
        "suite", "steps", "model", "RTL", "cycles"
    );
    for d in &dirs {
        let suite = Suite::read(d)?;
        let model = replay(&suite, Backend::Model);
        let rtl = replay(&suite, Backend::Verilator);
        println!(
            "{:<20} {:>6} {:>5}/{:<6} {:>5}/{:<6} {:>8}",
            suite.manifest.suite,
            suite.steps.len(),
            model.passed(),
            model.checks,
            rtl.passed(),
            rtl.checks,
            rtl.cycles
        );
        for f in model.failures.iter().chain(&rtl.failures) {
            println!("  {f}");
        }
        anyhow::ensure!(
            model.failures.is_empty() && rtl.failures.is_empty(),
            "{}: replay failed",
            d.display()
        );
    }

    // The same RTL with address bit 12 of every translated request cleared on its way out.
    let suite = Suite::read(&dir.join("dma-translate"))?;
    let broken = replay_sabotaged(&suite, Some(Sabotage::ClearDnAddrBit(12)));
    anyhow::ensure!(!broken.failures.is_empty(), "the broken RTL passed");
    println!(
        "with dn address bit 12 stuck at 0: {} of {} checks fail; the first:\n  {}",
        broken.failures.len(),
        broken.checks,
        broken.failures[0]
    );
    Ok(())
}

fn default_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../testvectors")
}

fn main() -> anyhow::Result<()> {
    let dir = std::env::args()
        .nth(1)
        .map_or_else(default_dir, PathBuf::from);
    run(&dir)
}

#[cfg(test)]
mod tests {
    #[test]
    fn example_runs() {
        super::run(&super::default_dir()).unwrap();
    }
}
