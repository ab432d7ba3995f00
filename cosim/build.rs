//! Verilates `rtl/*.v` (top `iommu_top`) twice — the default parameter set and the "tiny" one (2-entry
//! caches, one walker) — and compiles both models plus the C ABI shim (`csrc/shim.cpp`) into one
//! static library with the `cc` crate.
//!
//! Flags follow shared/design/ARCHITECTURE.md "The co-simulation": Verilator `-O3 --x-assign fast
//! --x-initial fast --noassert --trace-fst --trace-threads 1` (never `--threads`), C++ at `-O3` even
//! for debug/test profiles, `-fno-semantic-interposition` (the `cc` crate's `-fPIC` otherwise costs
//! 15-20%), linked with `-lz` for FST. Rebuilds only when an RTL file listed in Verilator's own
//! dependency file, this script or the shim changes.
//!
//! `IOMMU_RTL_DIR` overrides the RTL folder (default `../rtl`).

use std::env;
use std::fs;
use std::path::PathBuf;
use std::process::{exit, Command};

#[path = "src/verilate.rs"]
mod verilate;

/// Parameter overrides of the "tiny" configuration: smallest caches so eviction paths run all the
/// time (STYLE.md "Tests"). A name the top module does not declare is skipped with a warning.
const TINY_PARAMS: &[(&str, &str)] = &[
    ("CC_ENTRIES", "2"),
    ("TLB_SETS", "1"),
    ("TLB_WAYS", "2"),
    ("PSC_ENTRIES", "2"),
    ("WALKERS", "1"),
    ("ROB_DEPTH", "2"),
    ("IEC_ENTRIES", "2"),
];

/// The configurations built: (name used in symbol prefixes, -G overrides).
fn configs() -> Vec<(&'static str, &'static [(&'static str, &'static str)])> {
    vec![("default", &[]), ("tiny", TINY_PARAMS)]
}

fn fail(msg: &str) -> ! {
    eprintln!("error: {msg}");
    exit(1);
}

fn main() {
    // First, so a machine without Verilator gets one clear line and nothing else.
    let root = match Command::new("verilator")
        .arg("--getenv")
        .arg("VERILATOR_ROOT")
        .output()
    {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).trim().to_string(),
        _ => fail(
            "verilator not found: install it with `apt-get install -y verilator g++ zlib1g-dev`",
        ),
    };
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".into()));
    let out = PathBuf::from(env::var("OUT_DIR").unwrap_or_else(|_| fail("OUT_DIR not set")));
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=csrc/shim.cpp");
    println!("cargo:rerun-if-changed=src/verilate.rs");
    println!("cargo:rerun-if-env-changed=IOMMU_RTL_DIR");

    let rtl_dir = env::var_os("IOMMU_RTL_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest.join("..").join("rtl"));
    println!("cargo:rerun-if-changed={}", rtl_dir.display());
    let mut rtl_files: Vec<PathBuf> = match fs::read_dir(&rtl_dir) {
        Ok(rd) => rd
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "v"))
            .collect(),
        Err(e) => fail(&format!(
            "cannot read the RTL folder {}: {e}",
            rtl_dir.display()
        )),
    };
    rtl_files.sort();
    if rtl_files.is_empty() {
        fail(&format!("no *.v files in {}", rtl_dir.display()));
    }
    let top_text = fs::read_to_string(rtl_dir.join("iommu_top.v")).unwrap_or_default();

    let vinc = PathBuf::from(&root).join("include");

    let mut build = cc::Build::new();
    build
        .cpp(true)
        .opt_level(3)
        .debug(false)
        .warnings(false)
        .flag_if_supported("-Wno-unused-parameter")
        .flag_if_supported("-Wno-unused-variable")
        .flag_if_supported("-Wno-shadow")
        .include(&vinc)
        .include(vinc.join("vltstd"));
    for f in verilate::CXX_FLAGS {
        build.flag(f);
    }
    for (k, v) in verilate::CXX_DEFINES {
        build.define(k, v);
    }

    let mut globals: Vec<String> = Vec::new();
    for (cfg, params) in configs() {
        let prefix = format!("Viommu_top_{cfg}");
        let mdir = out.join(cfg);
        let _ = fs::create_dir_all(&mdir);
        let mut cmd = Command::new("verilator");
        cmd.arg("--cc")
            .arg("--top-module")
            .arg("iommu_top")
            .arg("--prefix")
            .arg(&prefix)
            .arg("-Mdir")
            .arg(&mdir)
            .args(verilate::VERILATOR_FLAGS)
            .arg("--MMD");
        for (name, value) in params.iter() {
            if declares_param(&top_text, name) {
                cmd.arg(format!("-G{name}={value}"));
            } else {
                println!("cargo:warning=iommu_top has no parameter {name}; the {cfg} configuration leaves it at its default");
            }
        }
        cmd.args(&rtl_files);
        match cmd.output() {
            Ok(o) if o.status.success() => {}
            Ok(o) => fail(&format!(
                "verilator failed on {} ({cfg} configuration):\n{}",
                rtl_dir.display(),
                String::from_utf8_lossy(&o.stderr)
            )),
            Err(_) => fail("verilator not found: install it with `apt-get install -y verilator g++ zlib1g-dev`"),
        }

        // Rebuild when any file Verilator read changes (its dependency file lists them).
        let dfile = mdir.join(format!("{prefix}__ver.d"));
        if let Ok(text) = fs::read_to_string(&dfile) {
            if let Some((_, deps)) = text.split_once(" : ") {
                for d in deps.split_whitespace() {
                    if d.ends_with(".v")
                        || d.ends_with(".sv")
                        || d.ends_with(".vh")
                        || d.ends_with(".svh")
                    {
                        println!("cargo:rerun-if-changed={d}");
                    }
                }
            }
        }

        let mk = fs::read_to_string(mdir.join(format!("{prefix}_classes.mk")))
            .unwrap_or_else(|e| fail(&format!("cannot read {prefix}_classes.mk: {e}")));
        for var in verilate::MODEL_LISTS {
            for class in verilate::mk_list(&mk, var) {
                build.file(mdir.join(format!("{class}.cpp")));
            }
        }
        for var in verilate::GLOBAL_LISTS {
            for class in verilate::mk_list(&mk, var) {
                if !globals.contains(&class) {
                    globals.push(class);
                }
            }
        }
        build.include(&mdir);

        let wrapper = out.join(format!("shim_{cfg}.cpp"));
        let text = format!(
            "#include \"{prefix}.h\"\n#define COSIM_TOP {prefix}\n#define COSIM_FN(name) cosim_{cfg}_##name\n#include \"{}\"\n",
            manifest.join("csrc").join("shim.cpp").display()
        );
        if fs::read_to_string(&wrapper).ok().as_deref() != Some(text.as_str()) {
            fs::write(&wrapper, text)
                .unwrap_or_else(|e| fail(&format!("cannot write {}: {e}", wrapper.display())));
        }
        build.file(&wrapper);
    }
    for class in &globals {
        build.file(vinc.join(format!("{class}.cpp")));
    }
    if let Err(e) = build.try_compile("iommu_cosim_dut") {
        fail(&format!("compiling the verilated model failed: {e}"));
    }
    // What the runtime builder of other configurations (src/custom.rs) needs to do the same.
    println!(
        "cargo:rustc-env=IOMMU_COSIM_RTL_DIR={}",
        abs(&rtl_dir).display()
    );
    println!(
        "cargo:rustc-env=IOMMU_COSIM_SHIM={}",
        abs(&manifest.join("csrc").join("shim.cpp")).display()
    );
    let target = out.ancestors().nth(4).unwrap_or(&out).to_path_buf();
    println!(
        "cargo:rustc-env=IOMMU_COSIM_CONFIG_CACHE={}",
        target.join("iommu-configs").display()
    );
    println!("cargo:rustc-link-lib=z");
    println!("cargo:rustc-link-lib=pthread");
    println!("cargo:rustc-link-lib=atomic");
}

/// `p` made absolute (as it is, if that fails).
fn abs(p: &std::path::Path) -> PathBuf {
    fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf())
}

/// True when `text` declares a parameter called `name` (`parameter [type] NAME =`).
fn declares_param(text: &str, name: &str) -> bool {
    text.split("parameter").skip(1).any(|rest| {
        let head: String = rest.chars().take_while(|c| *c != '=').collect();
        head.split(|c: char| !(c.is_alphanumeric() || c == '_'))
            .any(|w| w == name)
    })
}
