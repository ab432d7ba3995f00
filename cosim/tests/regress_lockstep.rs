//! Random lockstep regressions through the RTL: at least 200 seeds x 2,000 requests in each
//! configuration (default, and tiny: 2-entry caches and one walker). Each seed is one reproducible
//! run (see `iommu_cosim::regress`); a failure prints the seed, the transaction, expected vs actual
//! and the command that reruns it alone. `IOMMU_COSIM_SEEDS` / `IOMMU_COSIM_REQUESTS` override the
//! counts (e.g. for a quick local run).

use iommu_cosim::dut::DutConfig;
use iommu_cosim::regress::{run_seed, RunOpts};

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn regress(config: DutConfig, first_seed: u64) {
    let seeds = env_u64("IOMMU_COSIM_SEEDS", 200);
    run_seeds(config, first_seed..first_seed + seeds);
}

fn run_seeds(config: DutConfig, seeds: impl IntoIterator<Item = u64>) {
    let seeds: Vec<u64> = seeds.into_iter().collect();
    let requests = env_u64("IOMMU_COSIM_REQUESTS", 2000);
    let opts = RunOpts::new(config, requests);
    let mut failed = Vec::new();
    let mut short = Vec::new();
    for &seed in &seeds {
        let r = run_seed(seed, &opts);
        if r.stats.requests < requests {
            short.push(seed);
        }
        if !r.passed() {
            eprintln!("FAIL seed {seed} ({config}); setup: {}", r.setup);
            if let Some(e) = &r.error {
                eprintln!("  error: {e}");
            }
            for f in &r.failures {
                eprintln!("{f}");
            }
            eprintln!("  rerun: {}", r.rerun_command(requests));
            failed.push(seed);
        }
    }
    assert!(
        failed.is_empty(),
        "{} of {} seeds failed in the {config} configuration: {failed:?}",
        failed.len(),
        seeds.len()
    );
    // Every seed ran to the end (a run stops early only on a failure).
    assert!(short.is_empty(), "seeds that stopped early: {short:?}");
}

#[test]
fn lockstep_default_200_seeds() {
    regress(DutConfig::Default, 0);
}

#[test]
fn lockstep_tiny_200_seeds() {
    regress(DutConfig::Tiny, 10_000);
}
