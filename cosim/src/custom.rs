//! RTL configurations beyond the two built into every binary (`--param NAME=VALUE`,
//! `--config default+NAME=VALUE+...`): [`Params`] holds the `iommu_top` parameters a user may
//! set, each checked against the rule the RTL itself enforces before anything is built; a set not
//! built yet is verilated and compiled on first use into a shared library (the same Verilator and
//! C++ flags as `build.rs`), cached under the target directory by a hash of the RTL, the shim,
//! the tools' versions and the parameters, and loaded with `dlopen`.
//!
//! A first build takes about as long as one configuration in `build.rs` (a minute or two on 2
//! cores); later runs, in any process, load the cached library at once. Builds of the same set
//! by concurrent processes do not clash: each builds in its own folder and the first to finish
//! renames it into place.

use crate::dut::{DutIn, DutOut, Vtable};
use crate::verilate::{
    mk_list, CXX_DEFINES, CXX_FLAGS, GLOBAL_LISTS, MODEL_LISTS, VERILATOR_FLAGS,
};
use std::ffi::{c_char, c_int, c_void, CStr, CString};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::Instant;

/// One settable parameter of `iommu_top` and the range the RTL accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParamRule {
    /// The Verilog parameter name.
    pub name: &'static str,
    /// Smallest value.
    pub min: u32,
    /// Largest value.
    pub max: u32,
    /// The value must be a power of two.
    pub pow2: bool,
    /// What it sizes.
    pub what: &'static str,
}

/// Every settable parameter, in the order of [`Params::list`] (the ranges are the RTL's own
/// elaboration checks: `g_bad_*` blocks in `rtl/`).
pub const RULES: [ParamRule; 8] = [
    rule("CC_ENTRIES", 1, 64, false, "context-cache entries"),
    rule("TLB_SETS", 1, 512, true, "IOTLB sets"),
    rule("TLB_WAYS", 1, 16, false, "IOTLB ways"),
    rule(
        "PSC_ENTRIES",
        1,
        64,
        false,
        "paging-structure-cache entries",
    ),
    rule("WALKERS", 1, 30, false, "page walks in flight"),
    rule("ROB_DEPTH", 2, 256, true, "reorder-buffer entries"),
    rule("IEC_ENTRIES", 1, 64, false, "interrupt-entry-cache entries"),
    rule("NFR", 1, 16, false, "fault-recording registers"),
];

const fn rule(name: &'static str, min: u32, max: u32, pow2: bool, what: &'static str) -> ParamRule {
    ParamRule {
        name,
        min,
        max,
        pow2,
        what,
    }
}

/// The settable `iommu_top` parameters of one configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Params(pub [u32; 8]);

impl Params {
    /// `iommu_top`'s own defaults (the `default` configuration).
    pub const DEFAULT: Params = Params([8, 8, 4, 8, 4, 16, 8, 8]);
    /// The `tiny` configuration (`build.rs` TINY_PARAMS).
    pub const TINY: Params = Params([2, 1, 2, 2, 1, 2, 2, 8]);

    /// (name, value) of every parameter.
    pub fn list(&self) -> [(&'static str, u32); 8] {
        std::array::from_fn(|i| (RULES[i].name, self.0[i]))
    }

    /// The value of parameter `name`.
    pub fn get(&self, name: &str) -> Option<u32> {
        RULES.iter().position(|r| r.name == name).map(|i| self.0[i])
    }

    /// Set `name` to `value`, checked against its rule; the error names the parameter, the value
    /// and the rule.
    pub fn set(&mut self, name: &str, value: u32) -> Result<(), String> {
        let Some(i) = RULES.iter().position(|r| r.name == name) else {
            let names: Vec<_> = RULES.iter().map(|r| r.name).collect();
            return Err(format!(
                "unknown parameter {name:?} (parameters: {})",
                names.join(", ")
            ));
        };
        let r = RULES[i];
        if value < r.min || value > r.max || (r.pow2 && !value.is_power_of_two()) {
            return Err(format!(
                "{name}={value} is out of range: {} ({}) must be {}{}..={}",
                r.name,
                r.what,
                if r.pow2 { "a power of two in " } else { "" },
                r.min,
                r.max
            ));
        }
        self.0[i] = value;
        Ok(())
    }

    /// Apply `NAME=VALUE`.
    pub fn apply(&mut self, assignment: &str) -> Result<(), String> {
        let (name, value) = assignment
            .split_once('=')
            .ok_or_else(|| format!("{assignment:?} is not NAME=VALUE"))?;
        let value: u32 = value
            .trim()
            .parse()
            .map_err(|_| format!("{name}={value}: the value is not a whole number"))?;
        self.set(name.trim(), value)
    }

    /// The assignments that differ from [`Params::DEFAULT`], as `NAME=VALUE` joined by `+`.
    pub fn overrides(&self) -> String {
        self.list()
            .iter()
            .zip(Params::DEFAULT.0)
            .filter(|((_, v), d)| v != d)
            .map(|((n, v), _)| format!("{n}={v}"))
            .collect::<Vec<_>>()
            .join("+")
    }
}

/// Where built configurations are cached: `$IOMMU_CONFIG_CACHE`, else `iommu-configs/` in the
/// target directory this crate was built in.
pub fn cache_root() -> PathBuf {
    std::env::var_os("IOMMU_CONFIG_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("IOMMU_COSIM_CONFIG_CACHE")))
}

/// FNV-1a, 64 bits.
fn fnv(h: &mut u64, bytes: &[u8]) {
    for b in bytes {
        *h ^= u64::from(*b);
        *h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
}

fn tool_version(cmd: &str, arg: &str) -> Result<String, String> {
    let o = Command::new(cmd).arg(arg).output().map_err(|_| {
        format!("{cmd} not found: install it with `apt-get install -y verilator g++ zlib1g-dev`")
    })?;
    Ok(String::from_utf8_lossy(&o.stdout).to_string())
}

const PREFIX: &str = "Viommu_top_custom";
/// Verilator options of a custom build: the shared ones and the top module.
fn verilator_args() -> Vec<&'static str> {
    let mut v = VERILATOR_FLAGS.to_vec();
    v.extend(["--top-module", "iommu_top"]);
    v
}

/// g++ options of a custom build's objects: the shared ones, position-independent code for the
/// shared library, only the shim's entry points exported.
fn cxx_args() -> Vec<String> {
    let mut v: Vec<String> = ["-O3", "-fPIC", "-fvisibility=hidden", "-w", "-c"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    v.extend(CXX_FLAGS.iter().map(|s| s.to_string()));
    v.extend(CXX_DEFINES.iter().map(|(k, val)| format!("-D{k}={val}")));
    v
}

/// The RTL sources the crate was built from (`IOMMU_RTL_DIR` at build time, else `rtl/`).
fn rtl_files() -> Result<Vec<PathBuf>, String> {
    let dir = PathBuf::from(env!("IOMMU_COSIM_RTL_DIR"));
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map_err(|e| format!("cannot read the RTL folder {}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "v"))
        .collect();
    v.sort();
    if v.is_empty() {
        return Err(format!("no *.v files in {}", dir.display()));
    }
    Ok(v)
}

/// The cache folder of `p` for the current RTL, shim and tools.
pub fn cache_dir(p: &Params) -> Result<PathBuf, String> {
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    for f in rtl_files()? {
        let text = std::fs::read(&f).map_err(|e| format!("cannot read {}: {e}", f.display()))?;
        fnv(&mut h, f.file_name().unwrap_or_default().as_encoded_bytes());
        fnv(&mut h, &text);
    }
    let shim = std::fs::read(env!("IOMMU_COSIM_SHIM"))
        .map_err(|e| format!("cannot read {}: {e}", env!("IOMMU_COSIM_SHIM")))?;
    fnv(&mut h, &shim);
    fnv(&mut h, tool_version("verilator", "--version")?.as_bytes());
    fnv(&mut h, tool_version("g++", "--version")?.as_bytes());
    fnv(&mut h, verilator_args().join(" ").as_bytes());
    fnv(&mut h, cxx_args().join(" ").as_bytes());
    for (n, v) in p.list() {
        fnv(&mut h, format!("{n}={v};").as_bytes());
    }
    Ok(cache_root().join(format!("{h:016x}")))
}

fn run(cmd: &mut Command, what: &str) -> Result<(), String> {
    let o = cmd
        .output()
        .map_err(|e| format!("{what}: cannot start {:?}: {e}", cmd.get_program()))?;
    if o.status.success() {
        return Ok(());
    }
    let err = String::from_utf8_lossy(&o.stderr);
    let tail: Vec<&str> = err.lines().rev().take(20).collect();
    Err(format!(
        "{what} failed:\n{}",
        tail.into_iter().rev().collect::<Vec<_>>().join("\n")
    ))
}

/// Verilate and compile `p` into `dir/libiommu_dut.so`.
fn build(p: &Params, dir: &Path) -> Result<(), String> {
    let tmp = dir.with_extension(format!("tmp-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    let obj = tmp.join("obj");
    std::fs::create_dir_all(&obj).map_err(|e| format!("cannot create {}: {e}", obj.display()))?;
    let mut v = Command::new("verilator");
    v.arg("--cc")
        .args(["--prefix", PREFIX])
        .arg("-Mdir")
        .arg(&obj)
        .args(verilator_args());
    for (n, val) in p.list() {
        v.arg(format!("-G{n}={val}"));
    }
    v.args(rtl_files()?);
    run(&mut v, "verilator")?;

    let o = Command::new("verilator")
        .args(["--getenv", "VERILATOR_ROOT"])
        .output()
        .map_err(|e| format!("verilator --getenv VERILATOR_ROOT: {e}"))?;
    let root = PathBuf::from(String::from_utf8_lossy(&o.stdout).trim());
    let inc = root.join("include");
    let mk = std::fs::read_to_string(obj.join(format!("{PREFIX}_classes.mk")))
        .map_err(|e| format!("cannot read {PREFIX}_classes.mk: {e}"))?;
    let mut sources: Vec<PathBuf> = Vec::new();
    for var in MODEL_LISTS {
        sources.extend(
            mk_list(&mk, var)
                .iter()
                .map(|c| obj.join(format!("{c}.cpp"))),
        );
    }
    for var in GLOBAL_LISTS {
        sources.extend(
            mk_list(&mk, var)
                .iter()
                .map(|c| inc.join(format!("{c}.cpp"))),
        );
    }
    let wrapper = tmp.join("shim_custom.cpp");
    std::fs::write(
        &wrapper,
        format!(
            "#include \"{PREFIX}.h\"\n#define COSIM_TOP {PREFIX}\n#define COSIM_FN(name) cosim_custom_##name\n\
             #pragma GCC visibility push(default)\n#include \"{}\"\n#pragma GCC visibility pop\n",
            env!("IOMMU_COSIM_SHIM")
        ),
    )
    .map_err(|e| format!("cannot write {}: {e}", wrapper.display()))?;
    sources.push(wrapper);

    // Compile on every core, one file per process.
    let jobs = std::thread::available_parallelism().map_or(2, |n| n.get());
    let objects: Vec<PathBuf> = (0..sources.len())
        .map(|i| tmp.join(format!("o{i}.o")))
        .collect();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let errors = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..jobs {
            s.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(src) = sources.get(i) else { break };
                let mut c = Command::new("g++");
                c.args(cxx_args())
                    .arg("-I")
                    .arg(&inc)
                    .arg("-I")
                    .arg(inc.join("vltstd"))
                    .arg("-I")
                    .arg(&obj)
                    .arg(src)
                    .arg("-o")
                    .arg(&objects[i]);
                if let Err(e) = run(&mut c, &format!("g++ {}", src.display())) {
                    errors.lock().expect("no poisoned lock").push(e);
                    break;
                }
            });
        }
    });
    if let Some(e) = errors
        .into_inner()
        .expect("no poisoned lock")
        .into_iter()
        .next()
    {
        return Err(e);
    }
    let mut l = Command::new("g++");
    l.arg("-shared")
        .arg("-o")
        .arg(tmp.join("libiommu_dut.so"))
        .args(&objects)
        .args(["-Wl,-Bsymbolic", "-lz", "-pthread", "-latomic"]);
    run(&mut l, "linking the configuration")?;
    let _ = std::fs::remove_dir_all(&obj);
    for o in &objects {
        let _ = std::fs::remove_file(o);
    }
    std::fs::write(
        tmp.join("params.txt"),
        p.list()
            .iter()
            .map(|(n, v)| format!("{n}={v}\n"))
            .collect::<String>(),
    )
    .map_err(|e| format!("cannot write params.txt: {e}"))?;
    if let Some(parent) = dir.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
    }
    if std::fs::rename(&tmp, dir).is_err() {
        // Another process finished the same build first; use its library.
        let _ = std::fs::remove_dir_all(&tmp);
        if !dir.join("libiommu_dut.so").is_file() {
            return Err(format!("cannot move the build into {}", dir.display()));
        }
    }
    Ok(())
}

/// Configurations loaded so far in this process.
static LOADED: Mutex<Vec<(Params, &'static Vtable)>> = Mutex::new(Vec::new());

/// The entry points of configuration `p`: built first if the cache has no library for it (with
/// a line on stderr when `progress`), then loaded once per process.
pub(crate) fn load(p: &Params, progress: bool) -> Result<&'static Vtable, String> {
    let mut loaded = LOADED
        .lock()
        .map_err(|_| "configuration cache lock poisoned")?;
    if let Some((_, vt)) = loaded.iter().find(|(q, _)| q == p) {
        return Ok(vt);
    }
    let dir = cache_dir(p)?;
    let lib = dir.join("libiommu_dut.so");
    if !lib.is_file() {
        let t = Instant::now();
        if progress {
            eprintln!(
                "building RTL configuration {} (first use, cached in {}) ...",
                p.overrides(),
                dir.display()
            );
        }
        build(p, &dir).map_err(|e| format!("building RTL configuration {}: {e}", p.overrides()))?;
        if progress {
            eprintln!("built in {:.0} s", t.elapsed().as_secs_f64());
        }
    }
    let vt = open(&lib)?;
    loaded.push((*p, vt));
    Ok(vt)
}

/// dlopen `lib` and look up the shim's entry points.
fn open(lib: &Path) -> Result<&'static Vtable, String> {
    let c = CString::new(lib.as_os_str().as_encoded_bytes())
        .map_err(|_| format!("{}: path contains NUL", lib.display()))?;
    // SAFETY: c is a valid NUL-terminated path; the library stays loaded for the process's life.
    let h = unsafe { libc::dlopen(c.as_ptr(), libc::RTLD_NOW | libc::RTLD_LOCAL) };
    if h.is_null() {
        return Err(format!("cannot load {}: {}", lib.display(), dl_error()));
    }
    let sym = |name: &str| -> Result<*mut c_void, String> {
        let n = CString::new(name).expect("no NUL in symbol names");
        // SAFETY: h is a live handle from dlopen, n a valid C string.
        let p = unsafe { libc::dlsym(h, n.as_ptr()) };
        if p.is_null() {
            Err(format!(
                "{}: no symbol {name}: {}",
                lib.display(),
                dl_error()
            ))
        } else {
            Ok(p)
        }
    };
    // SAFETY: the symbols are the shim's extern "C" functions with exactly these signatures
    // (csrc/shim.cpp, compiled with COSIM_FN(name) = cosim_custom_##name).
    let vt = unsafe {
        Vtable {
            new: std::mem::transmute::<*mut c_void, unsafe extern "C" fn() -> *mut c_void>(sym(
                "cosim_custom_new",
            )?),
            delete: std::mem::transmute::<*mut c_void, unsafe extern "C" fn(*mut c_void)>(sym(
                "cosim_custom_delete",
            )?),
            step: std::mem::transmute::<
                *mut c_void,
                unsafe extern "C" fn(*mut c_void, *const DutIn, *mut DutOut),
            >(sym("cosim_custom_step")?),
            trace_open: std::mem::transmute::<
                *mut c_void,
                unsafe extern "C" fn(*mut c_void, *const c_char) -> c_int,
            >(sym("cosim_custom_trace_open")?),
            trace_close: std::mem::transmute::<*mut c_void, unsafe extern "C" fn(*mut c_void)>(
                sym("cosim_custom_trace_close")?,
            ),
        }
    };
    Ok(Box::leak(Box::new(vt)))
}

fn dl_error() -> String {
    // SAFETY: dlerror returns NULL or a valid C string owned by the loader.
    let e = unsafe { libc::dlerror() };
    if e.is_null() {
        "unknown error".into()
    } else {
        // SAFETY: non-null, NUL-terminated (see above).
        unsafe { CStr::from_ptr(e) }.to_string_lossy().into_owned()
    }
}
