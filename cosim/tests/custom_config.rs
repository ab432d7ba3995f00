//! RTL configurations beyond `default` and `tiny` (`--param NAME=VALUE`): a bad value is refused
//! with the parameter's rule before anything is built; a new set is built once, cached, and runs
//! in lockstep with a model configured from its CAP (here NFR=4: four fault records).

use iommu_cosim::custom::{cache_dir, Params};
use iommu_cosim::dut::DutConfig;
use iommu_cosim::lockstep::Lockstep;
use iommu_cosim::regress::{run_seed, RunOpts};

fn with(base: DutConfig, a: &[&str]) -> Result<DutConfig, String> {
    base.with(&a.iter().map(|s| s.to_string()).collect::<Vec<_>>())
}

#[test]
fn bad_values_are_refused_with_the_rule() {
    let e = with(DutConfig::Default, &["TLB_SETS=48"]).unwrap_err();
    assert_eq!(
        e,
        "TLB_SETS=48 is out of range: TLB_SETS (IOTLB sets) must be a power of two in 1..=512"
    );
    let e = with(DutConfig::Default, &["WALKERS=31"]).unwrap_err();
    assert!(
        e.contains("WALKERS (page walks in flight) must be 1..=30"),
        "{e}"
    );
    let e = with(DutConfig::Default, &["ROB_DEPTH=1"]).unwrap_err();
    assert!(e.contains("a power of two in 2..=256"), "{e}");
    let e = with(DutConfig::Default, &["TLB_ENTRIES=64"]).unwrap_err();
    assert!(e.starts_with("unknown parameter \"TLB_ENTRIES\""), "{e}");
    let e = with(DutConfig::Default, &["WALKERS=two"]).unwrap_err();
    assert!(e.contains("not a whole number"), "{e}");
    let e = "huge+WALKERS=2".parse::<DutConfig>().unwrap_err();
    assert!(e.contains("expected default or tiny"), "{e}");
}

#[test]
fn names_round_trip_and_known_sets_keep_their_names() {
    let c = with(DutConfig::Default, &["WALKERS=8", "TLB_SETS=64"]).unwrap();
    assert_eq!(c.name(), "default+TLB_SETS=64+WALKERS=8");
    assert_eq!(c.name().parse::<DutConfig>().unwrap(), c);
    assert_eq!(c.params().get("TLB_WAYS"), Some(4));
    // The tiny parameters on top of the default are the tiny configuration, and back.
    let tiny: Vec<String> = Params::TINY
        .list()
        .iter()
        .map(|(n, v)| format!("{n}={v}"))
        .collect();
    assert_eq!(DutConfig::Default.with(&tiny).unwrap(), DutConfig::Tiny);
    assert_eq!(
        with(DutConfig::Tiny, &["WALKERS=4", "CC_ENTRIES=8"])
            .unwrap()
            .name(),
        "default+TLB_SETS=1+TLB_WAYS=2+PSC_ENTRIES=2+ROB_DEPTH=2+IEC_ENTRIES=2"
    );
}

#[test]
fn a_custom_configuration_builds_once_and_runs_in_lockstep() {
    let c = with(DutConfig::Tiny, &["WALKERS=2", "NFR=4"]).unwrap();
    c.prepare(true).unwrap();
    let dir = cache_dir(&c.params()).unwrap();
    let params = std::fs::read_to_string(dir.join("params.txt")).unwrap();
    assert!(
        params.contains("WALKERS=2\n") && params.contains("NFR=4\n"),
        "{params}"
    );
    let stamp = std::fs::metadata(dir.join("libiommu_dut.so"))
        .unwrap()
        .modified()
        .unwrap();
    c.prepare(true).unwrap();
    // The model follows the DUT's CAP: NFR=4 fault records.
    let ls = Lockstep::builder().config(c).build().unwrap();
    assert_eq!(ls.model.config().num_fault_records(), 4);
    assert_eq!(ls.config(), c);
    drop(ls);
    for seed in [3, 4] {
        let r = run_seed(seed, &RunOpts::new(c, 600));
        assert!(r.passed(), "seed {seed}: {:?} {:?}", r.error, r.failures);
        assert!(r.stats.requests >= 600, "{:?}", r.stats);
    }
    assert_eq!(
        std::fs::metadata(dir.join("libiommu_dut.so"))
            .unwrap()
            .modified()
            .unwrap(),
        stamp,
        "the cached library was rebuilt"
    );
}
