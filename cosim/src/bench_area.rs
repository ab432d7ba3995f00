//! BenchSuite `area`: what Yosys makes of the RTL, as cell and flop counts and logic depth.
//!
//! Every figure comes from a `yosys -q -p "..."` subprocess (at most two at once) on the files
//! in `rtl/`; each is deterministic for a given RTL and Yosys version. Every run leaves out Yosys'
//! SAT-based resource sharing (`synth -noshare`, and `synth_xilinx`'s script without its `share`
//! step): it changes no figure where it finishes, but does not finish on a 1024-entry IOTLB
//! (see [`AreaPlan::share`]).
//!
//! - scope `design`, flow `synth`: `read_verilog -sv rtl/*.v; chparam ... iommu_top;
//!   synth -noshare -top iommu_top; stat`, the whole-design totals (its `design hierarchy`):
//!   `cells` (every cell) and `flops` (the flop cell types `rtl/check.sh` counts: `$_DFF*`,
//!   `$_SDFF*`, `$_ADFF*`, `$_ALDFF*`); for the `default` and `tiny` configurations and for the
//!   default with the IOTLB resized (`iotlb<N>`: `TLB_WAYS` = 4, `TLB_SETS` = N / 4).
//! - scope `iotlb`, flow `synth`: `iommu_iotlb` alone (`SETS` = N / 4, `WAYS` = 4, `PFN_W` = 36 as
//!   `iommu_core` instantiates it: `HAW - 12`), `synth -flatten`: `cells`, `flops`, and the
//!   longest topological path as `ltp -noff` counts it (in cells, flops excluded) of the lookup
//!   (`ltp_hit`: into the `lk_*_o` outputs, from the lookup inputs and the entry flops to hit /
//!   size / frame / permissions; what `ltp -noff w:lk_*_o %cie*` prints) and of the whole module
//!   (`ltp_all`, what `ltp -noff` prints: the fill / replacement path when that is deeper). Both
//!   are computed by [`blif_depth`] from the netlist Yosys writes (`write_blif -icells -conn`),
//!   because `ltp` itself does not finish on a 1024-entry IOTLB.
//! - scope `iotlb`, flow `synth_xilinx`: `synth_xilinx -flatten` of the same module (7-series):
//!   `bram` (cells whose type starts with `RAMB`: RAMB18E1, RAMB36E1), `lutram` (other types
//!   starting with `RAM`: RAM32M, RAM64M, RAM32X1D, RAM64X1D, RAM128X1D, RAM256X1S, ...), `ff`
//!   (types starting with `FD`) and `luts` (types starting with `LUT`).
//!
//! Cells per IOTLB entry ([`cells_per_entry`]) are not measured but derived: the slope between
//! consecutive IOTLB sizes of one scope, (cells(b) - cells(a)) / (b - a), so what does not grow
//! with the IOTLB cancels out.

use anyhow::{anyhow, bail, Context, Result};
use plotters::prelude::*;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The `iommu_top` parameters of the whole-design runs, in CSV column order, with
/// `iommu_top`'s own defaults (the `default` configuration).
pub const DESIGN_PARAMS: [(&str, u32); 8] = [
    ("CC_ENTRIES", 8),
    ("TLB_SETS", 8),
    ("TLB_WAYS", 4),
    ("PSC_ENTRIES", 8),
    ("WALKERS", 4),
    ("ROB_DEPTH", 16),
    ("IEC_ENTRIES", 8),
    ("NFR", 8),
];

/// The `tiny` configuration (as `cosim/build.rs` and `rtl/check.sh` set it).
pub const TINY_PARAMS: [(&str, u32); 8] = [
    ("CC_ENTRIES", 2),
    ("TLB_SETS", 1),
    ("TLB_WAYS", 2),
    ("PSC_ENTRIES", 2),
    ("WALKERS", 1),
    ("ROB_DEPTH", 2),
    ("IEC_ENTRIES", 2),
    ("NFR", 8),
];

/// The `iommu_iotlb` parameters of the IOTLB-alone runs, in CSV column order.
pub const IOTLB_PARAMS: [&str; 3] = ["SETS", "WAYS", "PFN_W"];

/// Ways of every resized IOTLB.
pub const IOTLB_WAYS: u32 = 4;

/// The frame width `iommu_core` gives its IOTLB: `PTR_W = HAW - 12`, `HAW` = 48.
pub const IOTLB_PFN_W: u32 = 36;

/// IOTLB sizes (entries) of the full suite.
pub const IOTLB_SIZES: [u32; 4] = [16, 64, 256, 1024];

/// Every figure and its unit, in the order the rows and the CSV list them.
pub const FIGURES: [(&str, &str); 8] = [
    ("cells", "cells"),
    ("flops", "cells"),
    ("ltp_hit", "levels"),
    ("ltp_all", "levels"),
    ("bram", "cells"),
    ("lutram", "cells"),
    ("ff", "cells"),
    ("luts", "cells"),
];

/// One measured figure of the area suite.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AreaRow {
    /// `design` (`iommu_top`) or `iotlb` (`iommu_iotlb` alone).
    pub scope: &'static str,
    /// Configuration name: `default`, `tiny`, `iotlb<entries>`, or a caller's name.
    pub config: String,
    /// The parameters set on the synthesized top: every one of [`DESIGN_PARAMS`] for `design`,
    /// [`IOTLB_PARAMS`] for `iotlb`, in that order.
    pub params: Vec<(&'static str, u32)>,
    /// `synth` or `synth_xilinx`.
    pub flow: &'static str,
    /// Figure name (see the module documentation and [`FIGURES`]).
    pub figure: &'static str,
    /// The figure.
    pub value: u64,
}

impl AreaRow {
    /// The value of parameter `name`, if the row has it.
    pub fn param(&self, name: &str) -> Option<u32> {
        self.params.iter().find(|(n, _)| *n == name).map(|p| p.1)
    }

    /// IOTLB entries of the synthesized top (sets times ways).
    pub fn entries(&self) -> u32 {
        let (s, w) = if self.scope == "design" {
            ("TLB_SETS", "TLB_WAYS")
        } else {
            ("SETS", "WAYS")
        };
        self.param(s).unwrap_or(0) * self.param(w).unwrap_or(0)
    }

    /// The figure's unit.
    pub fn unit(&self) -> &'static str {
        unit(self.figure)
    }
}

fn unit(figure: &str) -> &'static str {
    FIGURES
        .iter()
        .find(|f| f.0 == figure)
        .map_or("cells", |f| f.1)
}

/// One whole-design configuration to synthesize.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AreaDesign {
    /// Its name in the CSV (no commas).
    pub name: String,
    /// `iommu_top` parameters; those not given keep [`DESIGN_PARAMS`]' defaults.
    pub params: Vec<(&'static str, u32)>,
}

impl AreaDesign {
    /// The `default` configuration.
    pub fn default_config() -> Self {
        AreaDesign {
            name: "default".into(),
            params: DESIGN_PARAMS.to_vec(),
        }
    }

    /// The `tiny` configuration.
    pub fn tiny() -> Self {
        AreaDesign {
            name: "tiny".into(),
            params: TINY_PARAMS.to_vec(),
        }
    }

    /// The default with an IOTLB of `entries` entries (4 ways), named `iotlb<entries>`.
    pub fn iotlb(entries: u32) -> Result<Self> {
        let sets = iotlb_sets(entries)?;
        let mut params = DESIGN_PARAMS.to_vec();
        for p in &mut params {
            match p.0 {
                "TLB_SETS" => p.1 = sets,
                "TLB_WAYS" => p.1 = IOTLB_WAYS,
                _ => {}
            }
        }
        Ok(AreaDesign {
            name: format!("iotlb{entries}"),
            params,
        })
    }

    /// Every one of [`DESIGN_PARAMS`], with this configuration's values.
    fn full_params(&self) -> Result<Vec<(&'static str, u32)>> {
        let mut out = DESIGN_PARAMS.to_vec();
        for (n, v) in &self.params {
            let slot = out
                .iter_mut()
                .find(|p| p.0 == *n)
                .ok_or_else(|| anyhow!("{}: unknown iommu_top parameter {n}", self.name))?;
            slot.1 = *v;
        }
        Ok(out)
    }
}

/// Sets of a 4-way IOTLB of `entries` entries (a power of two, 1..=512, as the RTL demands).
fn iotlb_sets(entries: u32) -> Result<u32> {
    let sets = entries / IOTLB_WAYS;
    if entries % IOTLB_WAYS != 0 || !sets.is_power_of_two() || sets > 512 {
        bail!(
            "IOTLB size {entries}: must be {IOTLB_WAYS} ways times a power-of-two number of \
             sets up to 512 (4, 8, 16, ..., 2048 entries)"
        );
    }
    Ok(sets)
}

/// What the area suite runs.
#[derive(Debug, Clone)]
pub struct AreaPlan {
    /// Whole-design configurations (`design` scope).
    pub designs: Vec<AreaDesign>,
    /// IOTLB sizes (entries, 4 ways) synthesized alone (`iotlb` scope).
    pub iotlb_sizes: Vec<u32>,
    /// Also run `synth_xilinx` on each IOTLB size.
    pub xilinx: bool,
    /// Run Yosys' SAT-based resource sharing (`share`). Off by default ([`AreaPlan::new`]): it
    /// finds nothing to share in this RTL (the figures are the same with and without it for the
    /// `default` and `tiny` designs and for IOTLBs of 16 and 256 entries, both flows), but on a
    /// 1024-entry IOTLB it had not finished after 18 minutes and 9 GB.
    pub share: bool,
    /// Yosys processes at once (at least 1).
    pub jobs: usize,
    /// A run that takes longer is killed and fails the suite (`None`: no bound).
    pub timeout: Option<Duration>,
    /// The Yosys executable.
    pub yosys: PathBuf,
    /// The folder of the RTL (`rtl/`).
    pub rtl: PathBuf,
}

impl AreaPlan {
    /// The suite as [`area`] runs it: with `include_configs` the `default` and `tiny`
    /// configurations, and for each of `sizes` the default with that IOTLB (`iotlb<N>`) and the
    /// IOTLB alone under both flows. Two Yosys processes at once (fewer on one core).
    pub fn new(sizes: &[u32], include_configs: bool) -> Result<Self> {
        let mut designs = Vec::new();
        if include_configs {
            designs.push(AreaDesign::default_config());
            designs.push(AreaDesign::tiny());
        }
        for &n in sizes {
            designs.push(AreaDesign::iotlb(n)?);
        }
        Ok(AreaPlan {
            designs,
            iotlb_sizes: sizes.to_vec(),
            xilinx: true,
            share: false,
            jobs: std::thread::available_parallelism().map_or(1, |n| n.get().min(2)),
            timeout: None,
            yosys: PathBuf::from("yosys"),
            rtl: Path::new(env!("CARGO_MANIFEST_DIR")).join("../rtl"),
        })
    }

    /// How many Yosys runs the plan makes (the number of `tick`s of [`area_plan`]).
    pub fn runs(&self) -> usize {
        self.designs.len() + self.iotlb_sizes.len() * if self.xilinx { 2 } else { 1 }
    }
}

/// How long one Yosys run took.
#[derive(Debug, Clone)]
pub struct AreaRun {
    /// `<scope> <config> <flow>`.
    pub what: String,
    /// Wall-clock time.
    pub time: Duration,
}

/// Run the area suite (see [`AreaPlan::new`]); `tick` is called after each Yosys run.
pub fn area(sizes: &[u32], include_configs: bool, tick: &mut dyn FnMut()) -> Result<Vec<AreaRow>> {
    Ok(area_plan(&AreaPlan::new(sizes, include_configs)?, tick)?.0)
}

/// The Yosys version (`yosys -V`), or the "not found" error.
pub fn yosys_version(yosys: &Path) -> Result<String> {
    let out = Command::new(yosys)
        .arg("-V")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| not_found(yosys, e))?;
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn not_found(yosys: &Path, e: std::io::Error) -> anyhow::Error {
    if e.kind() == std::io::ErrorKind::NotFound {
        if yosys == Path::new("yosys") {
            anyhow!("yosys not found: apt-get install -y yosys")
        } else {
            anyhow!(
                "yosys not found ({}): apt-get install -y yosys",
                yosys.display()
            )
        }
    } else {
        anyhow!("cannot run {}: {e}", yosys.display())
    }
}

/// One Yosys run.
enum Job {
    Design {
        name: String,
        params: Vec<(&'static str, u32)>,
    },
    Iotlb {
        entries: u32,
        xilinx: bool,
    },
}

impl Job {
    fn scope(&self) -> &'static str {
        match self {
            Job::Design { .. } => "design",
            Job::Iotlb { .. } => "iotlb",
        }
    }
    fn config(&self) -> String {
        match self {
            Job::Design { name, .. } => name.clone(),
            Job::Iotlb { entries, .. } => format!("iotlb{entries}"),
        }
    }
    fn flow(&self) -> &'static str {
        match self {
            Job::Iotlb { xilinx: true, .. } => "synth_xilinx",
            _ => "synth",
        }
    }
    fn what(&self) -> String {
        format!("{} {} {}", self.scope(), self.config(), self.flow())
    }
    fn params(&self) -> Vec<(&'static str, u32)> {
        match self {
            Job::Design { params, .. } => params.clone(),
            Job::Iotlb { entries, .. } => vec![
                ("SETS", entries / IOTLB_WAYS),
                ("WAYS", IOTLB_WAYS),
                ("PFN_W", IOTLB_PFN_W),
            ],
        }
    }
    /// A rough cost, to start the longest runs first.
    fn cost(&self) -> u64 {
        let entries = match self {
            Job::Design { params, .. } => {
                let get = |n| params.iter().find(|p| p.0 == n).map_or(1, |p| p.1);
                get("TLB_SETS") * get("TLB_WAYS") + 64
            }
            Job::Iotlb { entries, xilinx } => entries + u32::from(*xilinx),
        };
        u64::from(entries)
    }

    fn script(&self, rtl: &Path, sources: &[PathBuf], share: bool) -> String {
        let synth = if share { "synth" } else { "synth -noshare" };
        let chparam = |top: &str| {
            let sets: Vec<String> = self
                .params()
                .iter()
                .map(|(n, v)| format!("-set {n} {v}"))
                .collect();
            format!("chparam {} {top}", sets.join(" "))
        };
        match self {
            Job::Design { .. } => {
                let src: Vec<String> = sources.iter().map(|p| p.display().to_string()).collect();
                format!(
                    "read_verilog -sv {}; {}; {synth} -top iommu_top; tee -q -o stat.txt stat",
                    src.join(" "),
                    chparam("iommu_top")
                )
            }
            Job::Iotlb { xilinx, .. } => {
                let src = rtl.join("iommu_iotlb.v");
                let head = format!(
                    "read_verilog -sv {}; {}; ",
                    src.display(),
                    chparam("iommu_iotlb")
                );
                let x = "synth_xilinx -top iommu_iotlb -flatten";
                if *xilinx && share {
                    format!("{head}{x}; tee -q -o stat.txt stat")
                } else if *xilinx {
                    // synth_xilinx has no -noshare: its script with the `coarse` step less `share`
                    format!(
                        "{head}{x} -run :coarse; \
                         techmap -map +/cmp2lut.v -map +/cmp2lcu.v -D LUT_WIDTH=6; alumacc; opt; \
                         memory -nomap; opt_clean; {x} -run map_memory:; tee -q -o stat.txt stat"
                    )
                } else {
                    format!(
                        "{head}{synth} -flatten -top iommu_iotlb; tee -q -o stat.txt stat; \
                         write_blif -icells -conn netlist.blif"
                    )
                }
            }
        }
    }

    /// The figures of a finished run, from the files it wrote in `dir`.
    fn figures(&self, dir: &Path) -> Result<Vec<(&'static str, u64)>> {
        let read = |f: &str| {
            let p = dir.join(f);
            std::fs::read_to_string(&p).with_context(|| format!("yosys wrote no {f}"))
        };
        let stat = parse_stat(&read("stat.txt")?)?;
        let count = |pred: &dyn Fn(&str) -> bool| -> u64 {
            stat.types
                .iter()
                .filter(|(t, _)| pred(t))
                .map(|(_, n)| n)
                .sum()
        };
        let flops = count(&is_flop);
        Ok(match self {
            Job::Design { .. } => vec![("cells", stat.cells), ("flops", flops)],
            Job::Iotlb { xilinx: false, .. } => {
                let d = blif_depth(&read("netlist.blif")?, &is_lookup_output)
                    .context("netlist.blif")?;
                vec![
                    ("cells", stat.cells),
                    ("flops", flops),
                    ("ltp_hit", d.selected),
                    ("ltp_all", d.all),
                ]
            }
            Job::Iotlb { xilinx: true, .. } => vec![
                ("bram", count(&|t| t.starts_with("RAMB"))),
                (
                    "lutram",
                    count(&|t| t.starts_with("RAM") && !t.starts_with("RAMB")),
                ),
                ("ff", count(&|t| t.starts_with("FD"))),
                ("luts", count(&|t| t.starts_with("LUT"))),
            ],
        })
    }
}

/// A lookup output of `iommu_iotlb` (`lk_*_o`, a bit of it as BLIF names it: `lk_pfn_o[3]`).
fn is_lookup_output(net: &str) -> bool {
    let base = net.split('[').next().unwrap_or(net);
    base.starts_with("lk_") && base.ends_with("_o")
}

/// The longest combinational paths of a netlist, in cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Depth {
    /// The longest path anywhere.
    pub all: u64,
    /// The longest path into the selected outputs.
    pub selected: u64,
}

/// The longest topological paths of a flattened gate netlist written by Yosys
/// `write_blif -icells -conn`, counted as `ltp -noff` counts them: a path starts at a module
/// input, a constant or a storage cell's output (any cell with a `Q` port) and gains one level per
/// combinational cell (output `Y`); `.conn` aliases cost nothing. `selected` is the longest path
/// ending at a module output for which `is_selected` holds, which is what `ltp -noff` reports on
/// the combinational input cone of those outputs (`ltp -noff w:lk_*_o %cie*`).
///
/// Linear in the netlist: `ltp` itself revisits a net each time it finds a longer path to it and
/// did not finish within 14 minutes on a 1024-entry IOTLB; on the sizes it does finish (8 to 256
/// entries) the figures are the same.
pub fn blif_depth(text: &str, is_selected: &dyn Fn(&str) -> bool) -> Result<Depth> {
    use std::collections::HashMap;
    /// Net names to numbers, with a union-find over `.conn` aliases.
    #[derive(Default)]
    struct Nets {
        ids: HashMap<String, usize>,
        parent: Vec<usize>,
    }
    impl Nets {
        fn id(&mut self, name: &str) -> usize {
            if let Some(&i) = self.ids.get(name) {
                return i;
            }
            let i = self.parent.len();
            self.parent.push(i);
            self.ids.insert(name.to_string(), i);
            i
        }
        fn find(&mut self, mut x: usize) -> usize {
            while self.parent[x] != x {
                self.parent[x] = self.parent[self.parent[x]];
                x = self.parent[x];
            }
            x
        }
    }
    let mut nets = Nets::default();
    // (inputs, output) of every combinational cell
    let mut cells: Vec<(Vec<usize>, usize)> = Vec::new();
    let mut outputs: Vec<usize> = Vec::new();
    let mut lines = text.lines().enumerate();
    while let Some((n, first)) = lines.next() {
        // a trailing backslash continues the line
        let mut line = first.to_string();
        while line.ends_with('\\') {
            line.pop();
            match lines.next() {
                Some((_, more)) => line.push_str(more),
                None => break,
            }
        }
        let t: Vec<&str> = line.split_whitespace().collect();
        let at = || format!("line {}", n + 1);
        match t.first().copied() {
            Some(".outputs") => {
                for o in &t[1..] {
                    if is_selected(o) {
                        outputs.push(nets.id(o));
                    }
                }
            }
            Some(".conn") => {
                if t.len() != 3 {
                    bail!("{}: .conn needs two nets", at());
                }
                let (a, b) = (nets.id(t[1]), nets.id(t[2]));
                let (a, b) = (nets.find(a), nets.find(b));
                nets.parent[a] = b;
            }
            Some(".subckt") => {
                let ty = t
                    .get(1)
                    .with_context(|| format!("{}: .subckt without a type", at()))?;
                let mut ins = Vec::new();
                let mut out = None;
                let mut storage = false;
                for pc in &t[2..] {
                    let (port, net) = pc
                        .split_once('=')
                        .with_context(|| format!("{}: bad connection {pc:?}", at()))?;
                    match port {
                        "Q" => storage = true,
                        "Y" => out = Some(nets.id(net)),
                        _ => ins.push(nets.id(net)),
                    }
                }
                if !storage {
                    let out =
                        out.with_context(|| format!("{}: cell {ty} has no Y or Q port", at()))?;
                    cells.push((ins, out));
                }
            }
            Some(".names") if t.len() > 2 => {
                bail!(
                    "{}: a logic function (the netlist must be written with -icells)",
                    at()
                )
            }
            _ => {}
        }
    }
    let n_nets = nets.parent.len();
    for c in &mut cells {
        for i in &mut c.0 {
            *i = nets.find(*i);
        }
        c.1 = nets.find(c.1);
    }
    let mut driver = vec![usize::MAX; n_nets];
    for (k, c) in cells.iter().enumerate() {
        if driver[c.1] != usize::MAX {
            bail!("a net has two drivers");
        }
        driver[c.1] = k;
    }
    // Kahn's order: a cell is ready when every cell driving one of its inputs is done.
    let mut readers: Vec<Vec<usize>> = vec![Vec::new(); n_nets];
    let mut pending = vec![0usize; cells.len()];
    for (k, c) in cells.iter().enumerate() {
        for &i in &c.0 {
            if driver[i] != usize::MAX {
                readers[i].push(k);
                pending[k] += 1;
            }
        }
    }
    let mut level = vec![0u64; n_nets];
    let mut ready: Vec<usize> = (0..cells.len()).filter(|&k| pending[k] == 0).collect();
    let mut done = 0;
    while let Some(k) = ready.pop() {
        done += 1;
        let (ins, out) = &cells[k];
        level[*out] = ins.iter().map(|&i| level[i]).max().unwrap_or(0) + 1;
        for &r in &readers[*out] {
            pending[r] -= 1;
            if pending[r] == 0 {
                ready.push(r);
            }
        }
    }
    if done != cells.len() {
        bail!(
            "combinational loop: {} cells never ready",
            cells.len() - done
        );
    }
    Ok(Depth {
        all: level.iter().copied().max().unwrap_or(0),
        selected: outputs
            .iter()
            .map(|&o| level[nets.find(o)])
            .max()
            .unwrap_or(0),
    })
}

/// A flop cell type of the generic library, as `rtl/check.sh` counts them
/// (`\$_(S?DFF|DFFE|ADFF|SDFF|ALDFF)...`).
fn is_flop(t: &str) -> bool {
    ["$_DFF", "$_SDFF", "$_ADFF", "$_ALDFF"]
        .iter()
        .any(|p| t.starts_with(p))
}

/// The totals of a Yosys `stat` report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stat {
    /// `Number of cells`.
    pub cells: u64,
    /// Cell count by type.
    pub types: Vec<(String, u64)>,
}

/// Parse the whole-design totals of a Yosys `stat` report: the `design hierarchy` section when
/// there is one, else the (only) module's section.
pub fn parse_stat(text: &str) -> Result<Stat> {
    let section = match text.rfind("=== design hierarchy ===") {
        Some(i) => &text[i..],
        None => match text.rfind("=== ") {
            Some(i) => &text[i..],
            None => text,
        },
    };
    let mut stat = Stat::default();
    let mut found = false;
    let mut in_cells = false;
    for line in section.lines() {
        let t: Vec<&str> = line.split_whitespace().collect();
        match t.as_slice() {
            ["Number", "of", "cells:", n] | [n, "cells"] if n.parse::<u64>().is_ok() => {
                stat.cells = n.parse()?;
                found = true;
                in_cells = true;
            }
            [a, b] if in_cells => {
                if let Ok(n) = b.parse() {
                    stat.types.push((a.to_string(), n));
                } else if let Ok(n) = a.parse() {
                    stat.types.push((b.to_string(), n));
                } else {
                    in_cells = false;
                }
            }
            _ => in_cells = false,
        }
    }
    if !found {
        bail!("no cell count in the stat report");
    }
    Ok(stat)
}

/// The path length of a Yosys `ltp` report ("Longest topological path in M (length=N):").
pub fn parse_ltp(text: &str) -> Result<u64> {
    let i = text
        .find("(length=")
        .ok_or_else(|| anyhow!("no path length in the ltp report"))?;
    let rest = &text[i + "(length=".len()..];
    let n = rest.split(')').next().unwrap_or_default();
    n.parse()
        .with_context(|| format!("bad ltp path length {n:?}"))
}

/// A scratch folder per Yosys run.
fn scratch() -> Result<PathBuf> {
    static N: AtomicUsize = AtomicUsize::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let dir = std::env::temp_dir().join(format!(
        "iommu_area.{}.{}.{nanos}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    Ok(dir)
}

/// The last `n` lines of `text`.
fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let from = lines.len().saturating_sub(n);
    if lines.is_empty() {
        "(no output)".into()
    } else {
        lines[from..].join("\n")
    }
}

/// The processes below `pid` (Linux: `/proc/<pid>/task/*/children`; elsewhere none).
fn descendants(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    let mut todo = vec![pid];
    while let Some(p) = todo.pop() {
        let Ok(tasks) = std::fs::read_dir(format!("/proc/{p}/task")) else {
            continue;
        };
        for t in tasks.flatten() {
            let text = std::fs::read_to_string(t.path().join("children")).unwrap_or_default();
            for c in text.split_whitespace().filter_map(|c| c.parse().ok()) {
                out.push(c);
                todo.push(c);
            }
        }
    }
    out
}

/// Run one job; `stop` kills it early (another run failed).
fn run_job(
    plan: &AreaPlan,
    rtl: &Path,
    sources: &[PathBuf],
    job: &Job,
    stop: &AtomicBool,
) -> Result<Vec<AreaRow>> {
    let dir = scratch()?;
    let result = (|| {
        let log_path = dir.join("yosys.log");
        let log = std::fs::File::create(&log_path)?;
        let script = job.script(rtl, sources, plan.share);
        let mut cmd = Command::new(&plan.yosys);
        cmd.arg("-q")
            .arg("-p")
            .arg(&script)
            .current_dir(&dir)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log);
        let t0 = Instant::now();
        let mut child = cmd.spawn().map_err(|e| not_found(&plan.yosys, e))?;
        let status = loop {
            if let Some(s) = child.try_wait()? {
                break s;
            }
            let late = plan.timeout.is_some_and(|t| t0.elapsed() > t);
            if late || stop.load(Ordering::Relaxed) {
                // yosys runs ABC as a child process (through `sh -c`): end those too
                let below = descendants(child.id());
                let _ = child.kill();
                for p in below {
                    let _ = Command::new("kill")
                        .args(["-KILL", &p.to_string()])
                        .stderr(Stdio::null())
                        .status();
                }
                let _ = child.wait();
                if late {
                    bail!(
                        "yosys for {} ({}) took longer than {:?} and was stopped; the script \
                         was\n  {script}",
                        job.config(),
                        job.flow(),
                        plan.timeout.unwrap_or_default()
                    );
                }
                bail!("stopped");
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        if !status.success() {
            let text = std::fs::read_to_string(&log_path).unwrap_or_default();
            bail!(
                "yosys failed for {} ({}, {status}); the script was\n  {script}\nlog tail:\n{}",
                job.config(),
                job.flow(),
                tail(&text, 20)
            );
        }
        let figures = job
            .figures(&dir)
            .with_context(|| format!("yosys run for {} ({})", job.config(), job.flow()))?;
        let params = job.params();
        Ok(figures
            .into_iter()
            .map(|(figure, value)| AreaRow {
                scope: job.scope(),
                config: job.config(),
                params: params.clone(),
                flow: job.flow(),
                figure,
                value,
            })
            .collect())
    })();
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// Run an [`AreaPlan`]: the rows (whole-design runs in the plan's order, then each IOTLB size
/// with `synth` before `synth_xilinx`; figures in [`FIGURES`] order) and how long each run took.
/// The first failing run stops the others and is the error.
pub fn area_plan(plan: &AreaPlan, tick: &mut dyn FnMut()) -> Result<(Vec<AreaRow>, Vec<AreaRun>)> {
    let mut jobs = Vec::new();
    for d in &plan.designs {
        if d.name.is_empty() || d.name.contains([',', '\n']) {
            bail!("bad configuration name {:?}", d.name);
        }
        jobs.push(Job::Design {
            name: d.name.clone(),
            params: d.full_params()?,
        });
    }
    for &n in &plan.iotlb_sizes {
        iotlb_sets(n)?;
        jobs.push(Job::Iotlb {
            entries: n,
            xilinx: false,
        });
        if plan.xilinx {
            jobs.push(Job::Iotlb {
                entries: n,
                xilinx: true,
            });
        }
    }
    if jobs.is_empty() {
        return Ok((Vec::new(), Vec::new()));
    }
    let rtl = plan.rtl.canonicalize().unwrap_or_else(|_| plan.rtl.clone());
    let rtl_text = rtl.display().to_string();
    if rtl_text.contains(|c: char| c.is_whitespace() || c == ';' || c == '"') {
        bail!("{rtl_text}: the RTL path must not hold blanks, quotes or ';' (Yosys scripts)");
    }
    let mut sources: Vec<PathBuf> = std::fs::read_dir(&rtl)
        .with_context(|| format!("cannot read {}", rtl.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "v"))
        .collect();
    sources.sort();
    if sources.is_empty() {
        bail!("{}: no Verilog files", rtl.display());
    }
    yosys_version(&plan.yosys)?;

    // Longest runs first, so the two slots finish close together.
    let mut order: Vec<usize> = (0..jobs.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(jobs[i].cost()));
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let mut results: Vec<Option<(Vec<AreaRow>, Duration)>> =
        (0..jobs.len()).map(|_| None).collect();
    let mut first_err: Option<anyhow::Error> = None;
    std::thread::scope(|s| {
        let (tx, rx) = mpsc::channel();
        for _ in 0..plan.jobs.clamp(1, jobs.len()) {
            let tx = tx.clone();
            let (jobs, order, next, stop, sources, rtl) =
                (&jobs, &order, &next, &stop, &sources, &rtl);
            s.spawn(move || loop {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let k = next.fetch_add(1, Ordering::Relaxed);
                let Some(&i) = order.get(k) else { break };
                let t0 = Instant::now();
                let r = run_job(plan, rtl, sources, &jobs[i], stop);
                if r.is_err() {
                    stop.store(true, Ordering::Relaxed);
                }
                if tx.send((i, r.map(|rows| (rows, t0.elapsed())))).is_err() {
                    break;
                }
            });
        }
        drop(tx);
        for (i, r) in rx {
            match r {
                Ok(x) => {
                    results[i] = Some(x);
                    tick();
                }
                Err(e) => {
                    stop.store(true, Ordering::Relaxed);
                    // the runs ended by the stop say "stopped": keep the real failure
                    let keep = match &first_err {
                        None => true,
                        Some(f) => f.to_string() == "stopped" && e.to_string() != "stopped",
                    };
                    if keep {
                        first_err = Some(e);
                    }
                }
            }
        }
    });
    if let Some(e) = first_err {
        return Err(e);
    }
    let mut rows = Vec::new();
    let mut runs = Vec::new();
    for (job, r) in jobs.iter().zip(results) {
        let (r, time) = r.ok_or_else(|| anyhow!("{}: no result", job.what()))?;
        rows.extend(r);
        runs.push(AreaRun {
            what: job.what(),
            time,
        });
    }
    Ok((rows, runs))
}

/// The parameter columns of the CSV: [`DESIGN_PARAMS`], then [`IOTLB_PARAMS`].
fn param_columns() -> Vec<&'static str> {
    DESIGN_PARAMS
        .iter()
        .map(|p| p.0)
        .chain(IOTLB_PARAMS)
        .collect()
}

/// The CSV header of the area suite.
pub const AREA_HEADER: &str = "revision,scope,config,CC_ENTRIES,TLB_SETS,TLB_WAYS,PSC_ENTRIES,\
WALKERS,ROB_DEPTH,IEC_ENTRIES,NFR,SETS,WAYS,PFN_W,tlb_entries,flow,figure,value,unit";

const AREA_FIELDS: usize = 19;

/// The area suite as CSV: a parameter column is empty where the scope has no such parameter
/// (`iommu_top`'s for `iotlb` rows, `iommu_iotlb`'s for `design` rows).
pub fn area_csv(rows: &[AreaRow], revision: &str) -> String {
    let mut s = String::from(AREA_HEADER);
    s.push('\n');
    for r in rows {
        let p: Vec<String> = param_columns()
            .iter()
            .map(|n| r.param(n).map_or(String::new(), |v| v.to_string()))
            .collect();
        let _ = writeln!(
            s,
            "{revision},{},{},{},{},{},{},{},{}",
            r.scope,
            r.config,
            p.join(","),
            r.entries(),
            r.flow,
            r.figure,
            r.value,
            r.unit()
        );
    }
    s
}

/// Parse an area CSV written by [`area_csv`]; an unreadable line is an error naming the file and
/// the line.
pub fn parse_area_csv(text: &str, path: &Path) -> Result<Vec<AreaRow>> {
    let mut lines = text.lines();
    let head = lines.next().unwrap_or_default();
    if head != AREA_HEADER {
        bail!("{}: line 1 is not the area header", path.display());
    }
    let cols = param_columns();
    let mut rows = Vec::new();
    for (i, line) in lines.enumerate() {
        let at = || format!("{}: line {}", path.display(), i + 2);
        let f: Vec<&str> = line.split(',').collect();
        if f.len() != AREA_FIELDS {
            bail!("{}: {} fields, expected {AREA_FIELDS}", at(), f.len());
        }
        let scope = match f[1] {
            "design" => "design",
            "iotlb" => "iotlb",
            x => bail!("{}: unknown scope {x:?}", at()),
        };
        if f[2].is_empty() {
            bail!("{}: empty configuration", at());
        }
        let mut params = Vec::new();
        for (k, name) in cols.iter().enumerate() {
            let v = f[3 + k];
            let wanted = if scope == "design" {
                k < DESIGN_PARAMS.len()
            } else {
                k >= DESIGN_PARAMS.len()
            };
            match (wanted, v.is_empty()) {
                (true, true) => bail!("{}: no {name} for scope {scope}", at()),
                (false, false) => bail!("{}: {name} is not a parameter of scope {scope}", at()),
                (true, false) => params.push((
                    *name,
                    v.parse()
                        .with_context(|| format!("{}: bad {name} {v:?}", at()))?,
                )),
                (false, true) => {}
            }
        }
        let flow = match f[15] {
            "synth" => "synth",
            "synth_xilinx" => "synth_xilinx",
            x => bail!("{}: unknown flow {x:?}", at()),
        };
        let (figure, unit) = FIGURES
            .iter()
            .find(|x| x.0 == f[16])
            .with_context(|| format!("{}: unknown figure {:?}", at(), f[16]))?;
        let row = AreaRow {
            scope,
            config: f[2].to_string(),
            params,
            flow,
            figure,
            value: f[17]
                .parse()
                .with_context(|| format!("{}: bad value {:?}", at(), f[17]))?,
        };
        if f[14] != row.entries().to_string() {
            bail!(
                "{}: tlb_entries {} is not sets x ways = {}",
                at(),
                f[14],
                row.entries()
            );
        }
        if f[18] != *unit {
            bail!("{}: unit {:?}, expected {unit:?}", at(), f[18]);
        }
        rows.push(row);
    }
    Ok(rows)
}

/// The figure of one (scope, flow, figure) at `entries`, for the size-sweep rows of that scope.
fn sweep_value(
    rows: &[AreaRow],
    scope: &str,
    flow: &str,
    figure: &str,
    entries: u32,
) -> Option<u64> {
    rows.iter()
        .find(|r| {
            r.scope == scope
                && r.flow == flow
                && r.figure == figure
                && r.entries() == entries
                && in_sweep(r)
        })
        .map(|r| r.value)
}

/// A row of the IOTLB size sweep: every `iotlb` row, and the `design` rows whose parameters are
/// the defaults but for the IOTLB size (with 4 ways).
fn in_sweep(r: &AreaRow) -> bool {
    match r.scope {
        "iotlb" => r.param("WAYS") == Some(IOTLB_WAYS),
        _ => DESIGN_PARAMS.iter().all(|(n, v)| {
            *n == "TLB_SETS" || r.param(n) == Some(if *n == "TLB_WAYS" { IOTLB_WAYS } else { *v })
        }),
    }
}

/// The IOTLB sizes of a scope's sweep, ascending.
fn sweep_sizes(rows: &[AreaRow], scope: &str) -> Vec<u32> {
    let mut v: Vec<u32> = rows
        .iter()
        .filter(|r| r.scope == scope && in_sweep(r))
        .map(AreaRow::entries)
        .collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// Cells per IOTLB entry of a scope (`design` or `iotlb`) at each swept size but the smallest:
/// the slope (cells(b) - cells(a)) / (b - a) from the next smaller size a to the size b.
pub fn cells_per_entry(rows: &[AreaRow], scope: &str) -> Vec<(u32, f64)> {
    let pts: Vec<(u32, u64)> = sweep_sizes(rows, scope)
        .into_iter()
        .filter_map(|n| sweep_value(rows, scope, "synth", "cells", n).map(|c| (n, c)))
        .collect();
    pts.windows(2)
        .map(|w| {
            let (a, ca) = w[0];
            let (b, cb) = w[1];
            (b, (cb as f64 - ca as f64) / f64::from(b - a))
        })
        .collect()
}

/// The smallest IOTLB size whose entry storage `synth_xilinx` maps to block or LUT RAM, and
/// whether every larger size measured does too; `None` when no size does.
pub fn ram_from(rows: &[AreaRow]) -> Option<(u32, bool)> {
    let sizes: Vec<u32> = sweep_sizes(rows, "iotlb")
        .into_iter()
        .filter(|&n| sweep_value(rows, "iotlb", "synth_xilinx", "ff", n).is_some())
        .collect();
    let ram = |n| {
        sweep_value(rows, "iotlb", "synth_xilinx", "bram", n).unwrap_or(0)
            + sweep_value(rows, "iotlb", "synth_xilinx", "lutram", n).unwrap_or(0)
            > 0
    };
    let k = sizes.iter().position(|&n| ram(n))?;
    Some((sizes[k], sizes[k..].iter().all(|&n| ram(n))))
}

/// The area section of the README.
pub fn area_table(rows: &[AreaRow]) -> String {
    let mut s = String::from(
        "## Area (Yosys)\n\n\
         Cell counts of Yosys `synth` (generic gates; flops are the `$_*DFF*` cells, as \
         `rtl/check.sh` counts them), logic depth as the longest topological path after \
         `synth -flatten` as `ltp -noff` counts it (in cells, flops excluded), and what \
         `synth_xilinx` (7-series) makes of the IOTLB alone. Every run leaves out the SAT-based \
         `share` pass, which changes no figure where it finishes but does not finish on a \
         1024-entry IOTLB. Plot: [area.svg](area.svg).\n\n",
    );
    let get = |scope: &str, config: &str, figure: &str| {
        rows.iter()
            .find(|r| {
                r.scope == scope && r.config == config && r.flow == "synth" && r.figure == figure
            })
            .map_or(String::new(), |r| r.value.to_string())
    };
    let mut designs: Vec<&AreaRow> = rows
        .iter()
        .filter(|r| r.scope == "design" && r.figure == "cells")
        .collect();
    designs.dedup_by(|a, b| a.config == b.config);
    if !designs.is_empty() {
        s.push_str(
            "### Whole design (`synth -noshare -top iommu_top`)\n\n\
             | configuration | parameters (other than the defaults) | IOTLB entries | cells | \
             flops |\n\
             |---|---|---:|---:|---:|\n",
        );
        for r in designs {
            let diff: Vec<String> = DESIGN_PARAMS
                .iter()
                .filter(|(n, v)| r.param(n) != Some(*v))
                .map(|(n, _)| format!("{n}={}", r.param(n).unwrap_or(0)))
                .collect();
            let _ = writeln!(
                s,
                "| `{}` | {} | {} | {} | {} |",
                r.config,
                if diff.is_empty() {
                    "(`iommu_top` defaults)".to_string()
                } else {
                    diff.join(", ")
                },
                r.entries(),
                get("design", &r.config, "cells"),
                get("design", &r.config, "flops"),
            );
        }
        s.push('\n');
    }

    let mut sizes = sweep_sizes(rows, "design");
    sizes.extend(sweep_sizes(rows, "iotlb"));
    sizes.sort_unstable();
    sizes.dedup();
    if sizes.is_empty() {
        return s;
    }
    let per_design = cells_per_entry(rows, "design");
    let per_iotlb = cells_per_entry(rows, "iotlb");
    let slope = |v: &[(u32, f64)], n: u32| {
        v.iter()
            .find(|p| p.0 == n)
            .map_or(String::new(), |p| format!("{:.0}", p.1))
    };
    let val = |scope: &str, flow: &str, figure: &str, n: u32| {
        sweep_value(rows, scope, flow, figure, n).map_or(String::new(), |v| v.to_string())
    };
    let _ = write!(
        s,
        "### IOTLB size sweep ({IOTLB_WAYS} ways)\n\n\
         Design: the default configuration with `TLB_SETS` = entries / {IOTLB_WAYS}. IOTLB: \
         `iommu_iotlb` alone (`PFN_W` = {IOTLB_PFN_W}, as `iommu_core` instantiates it), \
         `synth -flatten`; hit depth is the longest path into the lookup outputs `lk_*_o`, \
         deepest the longest path of the whole module. Cells per entry is the slope from the next \
         smaller size: (cells(b) - cells(a)) / (b - a). FPGA: `synth_xilinx -flatten` of the \
         IOTLB alone: block RAMs (RAMB*), LUT RAMs (RAM* but RAMB*), flip-flops (FD*), LUTs \
         (LUT*).\n\n\
         | IOTLB entries | design cells | design flops | design cells/entry | IOTLB cells | \
         IOTLB flops | IOTLB cells/entry | hit depth | deepest path | FPGA BRAM | FPGA LUTRAM | \
         FPGA FF | FPGA LUT |\n\
         |---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n"
    );
    for &n in &sizes {
        let _ = writeln!(
            s,
            "| {n} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            val("design", "synth", "cells", n),
            val("design", "synth", "flops", n),
            slope(&per_design, n),
            val("iotlb", "synth", "cells", n),
            val("iotlb", "synth", "flops", n),
            slope(&per_iotlb, n),
            val("iotlb", "synth", "ltp_hit", n),
            val("iotlb", "synth", "ltp_all", n),
            val("iotlb", "synth_xilinx", "bram", n),
            val("iotlb", "synth_xilinx", "lutram", n),
            val("iotlb", "synth_xilinx", "ff", n),
            val("iotlb", "synth_xilinx", "luts", n),
        );
    }
    s.push('\n');
    let xsizes: Vec<u32> = sizes
        .iter()
        .copied()
        .filter(|&n| sweep_value(rows, "iotlb", "synth_xilinx", "ff", n).is_some())
        .collect();
    if let (Some(lo), Some(hi)) = (xsizes.first(), xsizes.last()) {
        match ram_from(rows) {
            Some((n, true)) => {
                let _ = writeln!(
                    s,
                    "`synth_xilinx` maps the IOTLB entry storage to RAM from {n} entries on.\n"
                );
            }
            Some((n, false)) => {
                let _ = writeln!(
                    s,
                    "`synth_xilinx` maps the IOTLB entry storage to RAM at {n} entries, but not \
                     at every larger size measured (see the table).\n"
                );
            }
            None => {
                let _ = writeln!(
                    s,
                    "`synth_xilinx` maps the IOTLB entry storage to RAM at no size measured \
                     ({lo} to {hi} entries): every entry stays in flip-flops (FPGA FF grows with \
                     the entries). Every entry's tag is compared in parallel on each lookup and \
                     the arrays are reset as a whole, so there is no addressed read port for a \
                     RAM to implement.\n"
                );
            }
        }
    }
    s
}

/// `area.svg`: cells per IOTLB entry (left) and the IOTLB's logic depth (right) against the
/// IOTLB entries, on a log2 axis.
pub fn area_svg(rows: &[AreaRow], path: &Path) -> Result<()> {
    let err = |e: &dyn std::fmt::Display| anyhow!("{}: {e}", path.display());
    let mut sizes = sweep_sizes(rows, "design");
    sizes.extend(sweep_sizes(rows, "iotlb"));
    sizes.sort_unstable();
    sizes.dedup();
    let log2 = |n: u32| n.max(1).ilog2();
    let x_lo = sizes.first().map_or(4, |&n| log2(n));
    let x_hi = sizes.last().map_or(10, |&n| log2(n)).max(x_lo + 1);
    let x_range = x_lo as f64 - 0.3..x_hi as f64 + 0.3;
    let x_fmt = |x: &f64| {
        let r = x.round();
        if (x - r).abs() < 1e-6 && r >= 0.0 {
            format!("{}", 1u64 << r as u32)
        } else {
            String::new()
        }
    };

    let root = SVGBackend::new(path, (1120, 440)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(&e))?;
    let panels = root.split_evenly((1, 2));

    type Series = (String, Vec<(f64, f64)>);
    let draw = |panel: &DrawingArea<SVGBackend, plotters::coord::Shift>,
                caption: &str,
                y_desc: &str,
                series: Vec<Series>|
     -> Result<()> {
        let y_max = series
            .iter()
            .flat_map(|s| s.1.iter().map(|p| p.1))
            .fold(1.0f64, f64::max);
        let mut chart = ChartBuilder::on(panel)
            .caption(caption, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(56)
            .build_cartesian_2d(x_range.clone(), 0f64..y_max * 1.1)
            .map_err(|e| err(&e))?;
        chart
            .configure_mesh()
            .x_desc("IOTLB entries")
            .y_desc(y_desc)
            .x_labels((x_hi - x_lo + 1) as usize * 2 + 1)
            .x_label_formatter(&x_fmt)
            .y_label_formatter(&|y| format!("{y:.0}"))
            .draw()
            .map_err(|e| err(&e))?;
        for (i, (name, pts)) in series.into_iter().enumerate() {
            if pts.is_empty() {
                continue;
            }
            let colour = Palette99::pick(i).to_rgba();
            chart
                .draw_series(LineSeries::new(pts.clone(), colour.stroke_width(2)))
                .map_err(|e| err(&e))?
                .label(name)
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 16, y)], colour.stroke_width(2))
                });
            chart
                .draw_series(pts.iter().map(|p| Circle::new(*p, 3, colour.filled())))
                .map_err(|e| err(&e))?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .label_font(("sans-serif", 11))
            .draw()
            .map_err(|e| err(&e))?;
        Ok(())
    };
    let per = |scope| {
        cells_per_entry(rows, scope)
            .into_iter()
            .map(|(n, c)| (f64::from(log2(n)), c))
            .collect::<Vec<_>>()
    };
    draw(
        &panels[0],
        "cells per IOTLB entry (slope from the next smaller size)",
        "cells per entry",
        vec![
            ("whole design, synth".into(), per("design")),
            ("IOTLB alone, synth -flatten".into(), per("iotlb")),
        ],
    )?;
    let depth = |figure| {
        sweep_sizes(rows, "iotlb")
            .into_iter()
            .filter_map(|n| {
                sweep_value(rows, "iotlb", "synth", figure, n)
                    .map(|v| (f64::from(log2(n)), v as f64))
            })
            .collect::<Vec<_>>()
    };
    draw(
        &panels[1],
        "IOTLB logic depth (longest path after synth -flatten)",
        "cells on the longest path",
        vec![
            ("hit: into lk_*_o".into(), depth("ltp_hit")),
            ("whole module".into(), depth("ltp_all")),
        ],
    )?;
    root.present().map_err(|e| err(&e))?;
    Ok(())
}
