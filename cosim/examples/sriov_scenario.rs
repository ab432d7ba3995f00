//! Your own traffic scenario on your own SR-IOV topology, through the RTL in lockstep.
//!
//! A PF at 10:00.0 (ARI) enables 16 VFs; four tenants each own four VFs and one domain with a
//! 64 KiB buffer. Every VF streams 64-byte reads and writes into its tenant's buffer, and now and
//! then reaches past it (into memory no domain maps). The requests overlap in the unit (up to
//! 32 in flight, random back-pressure, 60-cycle memory); the scoreboard judges each one, and
//! the example checks the totals against what it sent.
//!
//! `cargo run --release --example sriov_scenario -- [SEED]`

use iommu_cosim::lockstep::Lockstep;
use iommu_cosim::sim::Knobs;
use iommu_driver::model::Request;
use iommu_driver::os::{BringUp, Iommu, OsConfig, PageSize, Perms};
use iommu_driver::sriov::SriovPf;
use iommu_driver::vtd::fault::FaultReason;
use iommu_driver::{DomainId, Hpa, Iova, Rid};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const TENANTS: u16 = 4;
const BUF_IOVA: u64 = 0x4000_0000;
const BUF_PAGES: u64 = 16;

fn run(seed: u64, requests: u32) -> anyhow::Result<()> {
    println!("seed {seed} (rerun: cargo run --release --example sriov_scenario -- {seed})");
    let ls = Lockstep::builder()
        .seed(seed)
        .mem_latency(60)
        .back_pressure(Knobs {
            dn_ready: 0.8,
            cpl_ready: 0.9,
            ..Knobs::full_speed()
        })
        .build()?;
    let mut os = Iommu::new(ls, OsConfig::default())?;

    // The topology: 16 VFs of one PF, VF n in tenant n % 4.
    let mut pf = SriovPf::new(Rid::from_ari(0x10, 0), 64, 1, 1, true);
    pf.set_num_vfs(16)?;
    let vfs = pf.vf_rids()?;
    for t in 0..TENANTS {
        let dom = DomainId(1 + t);
        os.create_domain(dom, 4)?;
        for p in 0..BUF_PAGES {
            let hpa = Hpa(0x1_0000_0000 + u64::from(t) * 0x100_0000 + p * 0x1000);
            os.map(
                dom,
                Iova(BUF_IOVA + p * 0x1000),
                hpa,
                PageSize::Size4K,
                Perms::RW,
            )?;
        }
    }
    for (n, vf) in vfs.iter().enumerate() {
        os.assign_device(*vf, DomainId(1 + n as u16 % TENANTS))?;
    }
    os.bring_up(BringUp::default())?;

    // The traffic: keep up to 32 requests in the unit.
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (mut inside, mut reads_outside, mut writes_outside) = (0u64, 0u64, 0u64);
    let ls = os.platform_mut();
    let start = ls.sim.cycle();
    for _ in 0..requests {
        while ls.in_flight() >= 32 || ls.queued() >= 2 {
            ls.tick();
        }
        let vf = vfs[rng.gen_range(0..vfs.len())];
        let outside = rng.gen_bool(0.05);
        let page = if outside {
            BUF_PAGES + rng.gen_range(0..16)
        } else {
            rng.gen_range(0..BUF_PAGES)
        };
        let addr = BUF_IOVA + page * 0x1000 + rng.gen_range(0..64u64) * 64;
        let write = rng.gen_bool(0.4);
        let req = if write {
            Request::write(vf, addr, 64, rng.gen())?
        } else {
            Request::read(vf, addr, 64)?
        };
        match (outside, write) {
            (false, _) => inside += 1,
            (true, false) => reads_outside += 1,
            (true, true) => writes_outside += 1,
        }
        ls.submit(req);
    }
    ls.finish();
    ls.check()?;

    // Every request inside a buffer was translated; every one outside faulted (a read with a UR
    // completion and 6h, a write dropped with 5h).
    let st = &ls.stats;
    let cycles = ls.sim.cycle() - start;
    let fault = |f: FaultReason| st.faults.get(&f.code()).copied().unwrap_or(0);
    assert_eq!(st.forwarded, inside);
    assert_eq!(fault(FaultReason::ReadNotPermitted), reads_outside);
    assert_eq!(fault(FaultReason::WriteNotPermitted), writes_outside);
    assert_eq!(st.completions, reads_outside);
    println!(
        "{} requests from {} VFs in {cycles} cycles ({:.3} per clock): {} forwarded, \
         {} UR completions (6h), {} dropped writes (5h), mean latency {:.1} cycles \
         (forwarded and completed)",
        st.requests,
        vfs.len(),
        st.requests as f64 / cycles as f64,
        st.forwarded,
        st.completions,
        st.drops,
        st.latency_sum as f64 / (st.forwarded + st.completions).max(1) as f64,
    );
    println!("PASS: no mismatch");
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let seed = match std::env::args().nth(1) {
        Some(s) => s
            .parse()
            .map_err(|e| anyhow::anyhow!("SEED {s:?} is not a number: {e}"))?,
        None => 42,
    };
    run(seed, 4000)
}

#[cfg(test)]
mod tests {
    #[test]
    fn example_runs() {
        super::run(42, 1000).unwrap();
    }
}
