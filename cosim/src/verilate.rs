//! What building a configuration of the verilated model takes, shared by `build.rs` (the two
//! built-in configurations) and [`crate::custom`] (any other, at run time), so both build with
//! the same flags (ARCHITECTURE.md "The co-simulation": Verilator `-O3`, never `--threads`; the
//! C++ at `-O3` in every profile). Compiled into the build script too (`#[path]`), so it uses
//! nothing but `std`.

/// Verilator options besides `--cc`, the top module, the prefix and the output folder.
pub const VERILATOR_FLAGS: [&str; 10] = [
    "-O3",
    "--x-assign",
    "fast",
    "--x-initial",
    "fast",
    "--noassert",
    "--trace-fst",
    "--trace-threads",
    "1",
    "-Wno-fatal",
];

/// C++ preprocessor definitions of the verilated sources and the shim.
pub const CXX_DEFINES: [(&str, &str); 5] = [
    ("VM_COVERAGE", "0"),
    ("VM_SC", "0"),
    ("VM_TRACE", "1"),
    ("VM_TRACE_FST", "1"),
    ("VM_TRACE_VCD", "0"),
];

/// C++ options besides the optimisation level (always `-O3`), warnings and includes.
pub const CXX_FLAGS: [&str; 2] = ["-std=gnu++17", "-fno-semantic-interposition"];

/// The space-separated names assigned to `var` (`VAR += \ a \ b \`) in a Verilator
/// `*_classes.mk`.
pub fn mk_list(mk: &str, var: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut lines = mk.lines();
    while let Some(line) = lines.next() {
        if line.trim_start().starts_with(var) && line.contains("+=") {
            for l in lines.by_ref() {
                let t = l.trim().trim_end_matches('\\').trim();
                if t.is_empty() {
                    break;
                }
                out.push(t.to_string());
            }
        }
    }
    out
}

/// The class lists of a `*_classes.mk` that name the model's own sources (in the output
/// folder) and the runtime's (in Verilator's `include/`).
pub const MODEL_LISTS: [&str; 4] = [
    "VM_CLASSES_FAST",
    "VM_CLASSES_SLOW",
    "VM_SUPPORT_FAST",
    "VM_SUPPORT_SLOW",
];
/// See [`MODEL_LISTS`].
pub const GLOBAL_LISTS: [&str; 2] = ["VM_GLOBAL_FAST", "VM_GLOBAL_SLOW"];
