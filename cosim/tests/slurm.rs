//! The farm flow on a real Slurm: `tools/slurm/ci-check.sh` starts a one-node Slurm on
//! localhost, runs `regress` as a 4-task `sbatch --array` job, merges the shards with
//! `report merge` and checks the merge equals one machine's run of the same seeds. Needs the
//! Debian packages slurmctld, slurmd, slurm-client and munge (`.ci/run` installs them).

use std::path::Path;
use std::process::Command;

#[test]
fn slurm_job_array_merge_equals_the_single_machine_run() {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tools/slurm/ci-check.sh");
    let o = Command::new("bash")
        .arg(&script)
        .env("IOMMU_COSIM", env!("CARGO_BIN_EXE_iommu-cosim"))
        .env("SLURM_CI_NO_INSTALL", "1")
        .output()
        .expect("run ci-check.sh");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(o.status.success(), "{text}");
    assert!(
        text.contains("slurm check: merge of 4 shards equals the single-machine run"),
        "{text}"
    );
    for f in ["seeds.csv", "coverage.csv", "summary.txt"] {
        assert!(text.contains(&format!("{f}: identical")), "{text}");
    }
}
