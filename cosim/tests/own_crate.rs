//! The README's "Use it from your own crate" builds and runs as a crate outside the workspace:
//! its `Cargo.toml` lines (with this checkout's paths) and its `src/main.rs`, verbatim.
//!
//! The crate lives under the test target directory with its own target directory (a first run
//! verilates the RTL again, as a user's first build does; later runs are incremental) and
//! resolves offline from this workspace's `Cargo.lock`.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The fenced block right after the marker comment `<!-- own-crate: NAME -->`.
fn block(readme: &str, name: &str) -> String {
    let marker = format!("<!-- own-crate: {name} -->");
    let at = readme
        .find(&marker)
        .unwrap_or_else(|| panic!("README.md has no {marker}"));
    let rest = &readme[at + marker.len()..];
    let open = rest.find("```").expect("a fenced block after the marker");
    let body = &rest[open..];
    let start = body.find('\n').expect("fence line") + 1;
    let end = body[start..].find("```").expect("closing fence") + start;
    body[start..end].to_string()
}

#[test]
fn readme_example_builds_and_runs_as_a_crate_outside_the_workspace() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let readme = std::fs::read_to_string(repo.join("README.md")).expect("README.md");
    let deps = block(&readme, "Cargo.toml").replace("path/to/iommu", repo.to_str().unwrap());
    assert!(
        deps.contains(&format!("{}/cosim", repo.display())),
        "{deps}"
    );
    let main = block(&readme, "src/main.rs");

    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("own-crate");
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(
        dir.join("Cargo.toml"),
        format!(
            "[package]\nname = \"my-iommu-tests\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
             [workspace]\n\n{deps}"
        ),
    )
    .unwrap();
    std::fs::write(dir.join("src/main.rs"), main).unwrap();
    std::fs::copy(repo.join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();

    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["run", "--offline", "--quiet"])
        .current_dir(&dir)
        .env("CARGO_TARGET_DIR", dir.join("target"))
        .env_remove("RUSTFLAGS")
        .output()
        .expect("cargo runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the README's crate failed in {}:\n{}\n{stdout}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.starts_with("Forward { addr: Hpa(0x123456040) } after "),
        "{stdout}"
    );
}
