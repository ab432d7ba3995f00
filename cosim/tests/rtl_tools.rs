//! The RTL on the three tools: Verilator lint (-Wall, zero warnings), Icarus (-g2012) and Yosys
//! synthesis without latches, for the default and tiny parameter sets (`rtl/check.sh`), and the
//! directed self-checking Verilog bench under Icarus (`rtl/tb/run.sh`).

use std::path::PathBuf;
use std::process::Command;

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn run_script(rel: &str) {
    let root = repo_root();
    let out = Command::new("bash")
        .arg(root.join(rel))
        .current_dir(&root)
        .output()
        .unwrap_or_else(|e| panic!("cannot run bash {rel}: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    print!("{stdout}");
    eprint!("{stderr}");
    assert!(
        out.status.success(),
        "{rel} failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
}

#[test]
fn rtl_is_clean_under_verilator_lint_icarus_and_yosys() {
    run_script("rtl/check.sh");
}

#[test]
fn rtl_directed_bench_passes_under_icarus() {
    run_script("rtl/tb/run.sh");
}
