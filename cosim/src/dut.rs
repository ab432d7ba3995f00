//! The Verilated `iommu_top` behind the C ABI shim (`csrc/shim.cpp`): one call per clock cycle with an
//! input and an output struct. Port contract: shared/design/ARCHITECTURE.md "The DUT port contract".
//!
//! Cycle semantics of [`Dut::step`]: the inputs in [`Dut::inp`] are applied with `clk` low and the
//! model settles; the outputs are sampled (these are the values the rising edge sees, so a beat moves
//! on a channel when its valid and ready are both high in this pair of structs); then `clk` rises.

use crate::custom::Params;
use std::ffi::{c_char, c_int, c_void, CString};
use std::path::Path;

/// Inputs of one cycle (mirrors `CosimIn` in csrc/shim.cpp; field order matters).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct DutIn {
    /// Header word `i` = bits `32*i+31 .. 32*i` of `up_hdr` (word 3 = TLP DW0).
    pub up_hdr: [u32; 4],
    /// `mem_rsp_data[127:0]`: the 16 bytes of a memory response, word `i` = bits `32*i+31 .. 32*i`
    /// (byte 0 in bits 7:0).
    pub mem_rsp_data: [u32; 4],
    /// `csr_wdata[63:0]`: register write data (for a 4-byte access only bits 31:0 count).
    pub csr_wdata: u64,
    /// `up_data0[31:0]`: the first payload DW of the upstream request as a little-endian value (the
    /// MSI data).
    pub up_data0: u32,
    /// `mem_rsp_id`: id of the memory request being answered (the `mem_req_id` it echoes).
    pub mem_rsp_id: u32,
    /// `up_tag[15:0]`: harness sequence tag of the upstream request, returned on `dn_tag` /
    /// `cpl_tag`.
    pub up_tag: u16,
    /// `csr_addr[11:0]`: byte offset of the register access.
    pub csr_addr: u16,
    /// `rst_n`: asynchronous reset, active low (0 = held in reset).
    pub rst_n: u8,
    /// `up_valid`: an upstream request beat is offered on `up_hdr` / `up_data0` / `up_tag`.
    pub up_valid: u8,
    /// `dn_ready`: the harness accepts the translated request on the `dn_*` outputs.
    pub dn_ready: u8,
    /// `cpl_ready`: the harness accepts the completion on the `cpl_*` outputs.
    pub cpl_ready: u8,
    /// `irq_ready`: the harness accepts the interrupt message on `irq_addr` / `irq_data`.
    pub irq_ready: u8,
    /// `mem_req_ready`: the memory side accepts the request on the `mem_req_*` outputs.
    pub mem_req_ready: u8,
    /// `mem_rsp_valid`: a memory response is presented this cycle (there is no ready; it is always
    /// taken).
    pub mem_rsp_valid: u8,
    /// `mem_rsp_err`: the answered access failed; this is how table-read and status-write errors
    /// are injected.
    pub mem_rsp_err: u8,
    /// `csr_valid`: a register access is offered on `csr_write` / `csr_addr` / `csr_size` /
    /// `csr_wdata`.
    pub csr_valid: u8,
    /// `csr_write`: 1 = the register access is a write, 0 = a read.
    pub csr_write: u8,
    /// `csr_size`: access size in bytes, 4 or 8 (naturally aligned); other values are ignored by
    /// the RTL.
    pub csr_size: u8,
    /// Padding so the layout matches `CosimIn`; not a port, keep it 0.
    pub pad0: u8,
}

/// Outputs sampled at the rising edge (mirrors `CosimOut` in csrc/shim.cpp).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct DutOut {
    /// `dn_hdr[127:0]`: the translated request header (output address in place of the input one),
    /// word 3 = DW0.
    pub dn_hdr: [u32; 4],
    /// `cpl_hdr[95:0]`: the UR/CA completion header, word 2 = DW0 (see [`cpl_from_port`]).
    pub cpl_hdr: [u32; 3],
    /// `mem_req_wdata[127:0]`: write data of a memory request, or for op 2 the vector (bits 7:0)
    /// and URG (bit 8).
    pub mem_req_wdata: [u32; 4],
    /// `irq_data[31:0]`: data of the outgoing interrupt message (MSI data, or FEDATA for a fault
    /// event).
    pub irq_data: u32,
    /// `irq_addr[63:0]`: address of the outgoing interrupt message (MSI address, or FEUADDR:FEADDR
    /// for a fault event).
    pub irq_addr: u64,
    /// `mem_req_addr[63:0]`: byte address of the memory request.
    pub mem_req_addr: u64,
    /// `csr_rdata[63:0]`: read data of the register access finishing this cycle (0 for writes).
    pub csr_rdata: u64,
    /// `mem_req_id`: id of the memory request (walker n = n, interrupt remapping = WALKERS, QI =
    /// WALKERS+1).
    pub mem_req_id: u32,
    /// `dn_tag[15:0]`: the `up_tag` of the request leaving on `dn_hdr`.
    pub dn_tag: u16,
    /// `cpl_tag[15:0]`: the `up_tag` of the request this completion answers.
    pub cpl_tag: u16,
    /// `mem_req_wstrb[15:0]`: byte strobes of a memory write, bit `b` enabling byte `b` of
    /// `mem_req_wdata`.
    pub mem_req_wstrb: u16,
    /// `up_ready`: the DUT accepts the upstream request beat offered this cycle.
    pub up_ready: u8,
    /// `dn_valid`: a translated request is presented on `dn_hdr` / `dn_tag`.
    pub dn_valid: u8,
    /// `cpl_valid`: a completion is presented on `cpl_hdr` / `cpl_tag`.
    pub cpl_valid: u8,
    /// `irq_valid`: an interrupt message is presented on `irq_addr` / `irq_data`.
    pub irq_valid: u8,
    /// `mem_req_valid`: a memory request is presented on the `mem_req_*` outputs.
    pub mem_req_valid: u8,
    /// `mem_req_op`: memory operation: 0 = 16-byte read, 1 = strobed 16-byte write, 2 = atomic
    /// posted-interrupt descriptor update.
    pub mem_req_op: u8,
    /// `csr_ready`: the DUT accepts the register access offered this cycle.
    pub csr_ready: u8,
    /// `csr_rvalid`: one pulse per accepted register access, in order; `csr_rdata` is valid with
    /// it.
    pub csr_rvalid: u8,
    /// Padding so the layout matches `CosimOut`; not a port.
    pub pad0: [u8; 6],
}

extern "C" {
    fn cosim_default_new() -> *mut c_void;
    fn cosim_default_delete(h: *mut c_void);
    fn cosim_default_step(h: *mut c_void, i: *const DutIn, o: *mut DutOut);
    fn cosim_default_trace_open(h: *mut c_void, path: *const c_char) -> c_int;
    fn cosim_default_trace_close(h: *mut c_void);
    fn cosim_tiny_new() -> *mut c_void;
    fn cosim_tiny_delete(h: *mut c_void);
    fn cosim_tiny_step(h: *mut c_void, i: *const DutIn, o: *mut DutOut);
    fn cosim_tiny_trace_open(h: *mut c_void, path: *const c_char) -> c_int;
    fn cosim_tiny_trace_close(h: *mut c_void);
}

/// Which verilated parameter set to run: the two compiled into every build, or any other set
/// of `iommu_top` parameters, built on first use ([`crate::custom`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum DutConfig {
    /// The default parameters of `iommu_top` (hardware identity of decisions.md).
    #[default]
    Default,
    /// 2-entry caches and one walker, so eviction paths run all the time.
    Tiny,
    /// Any other parameter set (never equal to the two above: [`DutConfig::from_params`]).
    Custom(Params),
}

impl DutConfig {
    /// The configuration with parameters `p`: `Default` or `Tiny` when `p` is theirs.
    pub fn from_params(p: Params) -> DutConfig {
        if p == Params::DEFAULT {
            DutConfig::Default
        } else if p == Params::TINY {
            DutConfig::Tiny
        } else {
            DutConfig::Custom(p)
        }
    }

    /// The `iommu_top` parameters of the configuration.
    pub fn params(self) -> Params {
        match self {
            DutConfig::Default => Params::DEFAULT,
            DutConfig::Tiny => Params::TINY,
            DutConfig::Custom(p) => p,
        }
    }

    /// The configuration with `NAME=VALUE` assignments applied (each checked against its rule).
    pub fn with(self, assignments: &[String]) -> Result<DutConfig, String> {
        let mut p = self.params();
        for a in assignments {
            p.apply(a)?;
        }
        Ok(DutConfig::from_params(p))
    }

    /// Name of the configuration as used on the command line and in reports: `default`, `tiny`,
    /// or `default+NAME=VALUE+...` (the parameters that differ from the default).
    pub fn name(self) -> String {
        match self {
            DutConfig::Default => "default".into(),
            DutConfig::Tiny => "tiny".into(),
            DutConfig::Custom(p) => format!("default+{}", p.overrides()),
        }
    }

    /// Make the configuration ready to simulate: a custom one is built (once, cached) and
    /// loaded, with a line on stderr while it builds when `progress`.
    pub fn prepare(self, progress: bool) -> Result<(), String> {
        match self {
            DutConfig::Custom(p) => crate::custom::load(&p, progress).map(|_| ()),
            _ => Ok(()),
        }
    }
}

impl std::str::FromStr for DutConfig {
    type Err = String;
    /// `default`, `tiny`, or either followed by `+NAME=VALUE` assignments.
    fn from_str(s: &str) -> Result<Self, String> {
        let mut parts = s.split('+');
        let base = match parts.next().unwrap_or_default() {
            "default" => DutConfig::Default,
            "tiny" => DutConfig::Tiny,
            _ => {
                return Err(format!(
                    "unknown configuration {s:?} (expected default or tiny, optionally followed \
                     by +NAME=VALUE, e.g. default+TLB_SETS=64)"
                ))
            }
        };
        let rest: Vec<String> = parts.map(str::to_string).collect();
        base.with(&rest)
    }
}

impl std::fmt::Display for DutConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name())
    }
}

/// The shim's entry points for one configuration.
pub(crate) struct Vtable {
    pub(crate) new: unsafe extern "C" fn() -> *mut c_void,
    pub(crate) delete: unsafe extern "C" fn(*mut c_void),
    pub(crate) step: unsafe extern "C" fn(*mut c_void, *const DutIn, *mut DutOut),
    pub(crate) trace_open: unsafe extern "C" fn(*mut c_void, *const c_char) -> c_int,
    pub(crate) trace_close: unsafe extern "C" fn(*mut c_void),
}

static VT_DEFAULT: Vtable = Vtable {
    new: cosim_default_new,
    delete: cosim_default_delete,
    step: cosim_default_step,
    trace_open: cosim_default_trace_open,
    trace_close: cosim_default_trace_close,
};
static VT_TINY: Vtable = Vtable {
    new: cosim_tiny_new,
    delete: cosim_tiny_delete,
    step: cosim_tiny_step,
    trace_open: cosim_tiny_trace_open,
    trace_close: cosim_tiny_trace_close,
};

/// One instance of the verilated RTL. Owns its own Verilator context, so several may run in
/// parallel threads.
pub struct Dut {
    handle: *mut c_void,
    vt: &'static Vtable,
    config: DutConfig,
    /// Inputs applied at the next [`Dut::step`].
    pub inp: DutIn,
    /// Outputs sampled at the last rising edge.
    pub out: DutOut,
    cycle: u64,
}

// SAFETY: the handle is only touched through &mut self; each model owns an independent
// VerilatedContext, which Verilator 5 allows to be driven from any one thread at a time.
unsafe impl Send for Dut {}

impl Dut {
    /// Create the model (reset asserted: `rst_n` = 0 until [`Dut::reset`] or the caller releases it).
    ///
    /// A custom configuration is built and loaded here if [`DutConfig::prepare`] did not do it
    /// already; if that fails this panics with the reason ([`crate::lockstep::Lockstep::new`]
    /// prepares first and returns the error instead).
    pub fn new(config: DutConfig) -> Self {
        let vt: &'static Vtable = match config {
            DutConfig::Default => &VT_DEFAULT,
            DutConfig::Tiny => &VT_TINY,
            DutConfig::Custom(p) => crate::custom::load(&p, true).unwrap_or_else(|e| panic!("{e}")),
        };
        // SAFETY: the constructors have no preconditions and return an owned handle.
        let handle = unsafe { (vt.new)() };
        Dut {
            handle,
            vt,
            config,
            inp: DutIn::default(),
            out: DutOut::default(),
            cycle: 0,
        }
    }

    /// The parameter set this model was built from.
    pub fn config(&self) -> DutConfig {
        self.config
    }

    /// Cycles stepped so far.
    pub fn cycle(&self) -> u64 {
        self.cycle
    }

    /// One clock cycle (see the module docs for what is sampled when).
    #[inline]
    pub fn step(&mut self) {
        // SAFETY: handle is live (freed only in Drop); the structs are repr(C) mirrors of the shim's.
        unsafe { (self.vt.step)(self.handle, &self.inp, &mut self.out) };
        self.cycle += 1;
    }

    /// Hold reset for `cycles` cycles with every input idle, then release it.
    pub fn reset(&mut self, cycles: u32) {
        self.inp = DutIn::default();
        for _ in 0..cycles.max(1) {
            self.step();
        }
        self.inp.rst_n = 1;
    }

    /// Start writing an FST waveform of every following cycle to `path`.
    pub fn trace_open(&mut self, path: &Path) -> Result<(), String> {
        let c = CString::new(path.to_string_lossy().as_bytes())
            .map_err(|_| "path contains NUL".to_string())?;
        // SAFETY: handle live, c is a valid NUL-terminated string for the duration of the call.
        let rc = unsafe { (self.vt.trace_open)(self.handle, c.as_ptr()) };
        if rc == 0 {
            Ok(())
        } else {
            Err(format!("cannot open FST trace {}", path.display()))
        }
    }

    /// Flush and close the waveform, if one is open.
    pub fn trace_close(&mut self) {
        // SAFETY: handle live.
        unsafe { (self.vt.trace_close)(self.handle) };
    }
}

impl Drop for Dut {
    fn drop(&mut self) {
        // SAFETY: handle came from the matching constructor and is freed exactly once.
        unsafe { (self.vt.delete)(self.handle) };
    }
}

/// Pack a TLP header (DW0 first, as in `model::Request::hdr`) into the port's word order.
pub fn hdr_to_port(hdr: &[u32; 4]) -> [u32; 4] {
    [hdr[3], hdr[2], hdr[1], hdr[0]]
}

/// Unpack the port's word order into a header, DW0 first.
pub fn hdr_from_port(w: &[u32; 4]) -> [u32; 4] {
    [w[3], w[2], w[1], w[0]]
}

/// Unpack a 3-DW completion header (DW0 in bits 95:64).
pub fn cpl_from_port(w: &[u32; 3]) -> [u32; 3] {
    [w[2], w[1], w[0]]
}
