//! `iommu-cosim measure` at a small size, asserting architectural facts that no timing of the
//! host machine can change and no shortcut in the harness could fake:
//! - one upstream port accepts at most one request per clock, and with IOTLB hits and no
//!   back-pressure the default RTL sustains more than 0.9 translations per clock;
//! - a 4-level walk is four dependent table reads, so an IOTLB miss costs at least 4 x the memory
//!   latency; a context-cache miss adds the root and context entry reads (at least 6 x);
//! - every miss of the overlap run is a full walk under its own PML4 entry: at least 4 reads each;
//! - the default RTL (4 walkers) overlaps walks (more than one memory read outstanding, more than
//!   one request in flight); the tiny one (1 walker) never has more than one read outstanding, so
//!   its misses are serialised at >= 4 x latency each;
//! - an interrupt-entry-cache miss reads the IRTE (>= 1 x latency), a hit reads nothing (faster);
//!   a posted interrupt after an IEC flush reads the IRTE and then updates the descriptor
//!   atomically (>= 2 x); a queued invalidation fetches its descriptors (>= 1 x).
//!
//! Every request also goes through the lockstep scoreboard, so a wrong translation fails the run.

use iommu_cosim::dut::DutConfig;
use iommu_cosim::measure::{run_measure, MeasureOpts, MeasureReport};

const LAT: u32 = 50;

fn measure(config: DutConfig) -> MeasureReport {
    let opts = MeasureOpts {
        config,
        mem_latency: LAT,
        hit_requests: 2_000,
        samples: 3,
        overlap_requests: 16,
        seed: 1,
    };
    run_measure(&opts).unwrap_or_else(|e| panic!("measure ({config}) failed: {e}"))
}

fn common(r: &MeasureReport) {
    let lat = LAT as u64;
    assert_eq!(r.hit_requests, 2_000);
    assert!(
        r.hit_per_clock <= 1.0,
        "more than one translation per clock through one upstream port: {r:?}"
    );
    assert_eq!(r.miss_ctx_hit.len(), 3);
    assert_eq!(r.miss_ctx_miss.len(), 3);
    for &l in &r.miss_ctx_hit {
        assert!(
            l >= 4 * lat,
            "4-level walk faster than 4 reads: {l} < {}",
            4 * lat
        );
    }
    for &l in &r.miss_ctx_miss {
        assert!(
            l >= 6 * lat,
            "root + context + 4-level walk faster than 6 reads: {l} < {}",
            6 * lat
        );
    }
    assert!(r.miss_ctx_miss_median > r.miss_ctx_hit_median);
    assert_eq!(r.overlap_requests, 16);
    assert!(
        r.overlap_mem_reads >= 4 * 16,
        "16 full 4-level walks need >= 64 table reads, saw {}",
        r.overlap_mem_reads
    );
    assert!(r.overlap_max_mem_outstanding >= 1);
    let ir = r.ir.as_ref().expect("the DUT has IR and QI");
    assert!(ir.remap_iec_miss >= lat, "{ir:?}");
    assert!(
        ir.remap_iec_hit < lat && ir.remap_iec_hit < ir.remap_iec_miss,
        "{ir:?}"
    );
    assert!(ir.posted_notify >= 2 * lat, "{ir:?}");
    assert!(ir.psi_queue_round_trip >= lat, "{ir:?}");
}

#[test]
fn default_config_hits_at_full_rate_and_overlaps_walks() {
    let r = measure(DutConfig::Default);
    common(&r);
    assert!(r.hit_per_clock > 0.9, "IOTLB-hit throughput {r:?}");
    assert!(
        r.overlap_max_mem_outstanding > 1,
        "4 walkers but never more than one memory read outstanding: {r:?}"
    );
    assert!(r.overlap_in_flight > 1.0, "no overlap of misses: {r:?}");
    // Overlapped: 16 misses finish well before 16 serial walks would.
    assert!(r.overlap_cycles < 16 * 4 * LAT as u64, "{r:?}");
    let csv = r.csv();
    assert!(csv.starts_with("config,mem_latency,metric,value\n"));
    assert!(csv.contains("default,50,miss_ctx_hit_median,"));
}

#[test]
fn tiny_config_has_one_walk_at_a_time() {
    let r = measure(DutConfig::Tiny);
    common(&r);
    assert!(
        r.overlap_max_mem_outstanding <= 1,
        "1 walker but {} memory reads outstanding at once",
        r.overlap_max_mem_outstanding
    );
    assert!(
        r.overlap_cycles_per_miss >= (4 * LAT) as f64,
        "serial walks cannot take less than 4 reads each: {r:?}"
    );
}
