//! The Verilated `iommu_top` behind the C ABI shim (`csrc/shim.cpp`): one call per clock cycle with an
//! input and an output struct. Port contract: shared/design/ARCHITECTURE.md "The DUT port contract".
//!
//! Cycle semantics of [`Dut::step`]: the inputs in [`Dut::inp`] are applied with `clk` low and the
//! model settles; the outputs are sampled (these are the values the rising edge sees, so a beat moves
//! on a channel when its valid and ready are both high in this pair of structs); then `clk` rises.

use std::ffi::{c_char, c_int, c_void, CString};
use std::path::Path;

/// Inputs of one cycle (mirrors `CosimIn` in csrc/shim.cpp; field order matters).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct DutIn {
    /// Header word `i` = bits `32*i+31 .. 32*i` of `up_hdr` (word 3 = TLP DW0).
    pub up_hdr: [u32; 4],
    pub mem_rsp_data: [u32; 4],
    pub csr_wdata: u64,
    pub up_data0: u32,
    pub mem_rsp_id: u32,
    pub up_tag: u16,
    pub csr_addr: u16,
    pub rst_n: u8,
    pub up_valid: u8,
    pub dn_ready: u8,
    pub cpl_ready: u8,
    pub irq_ready: u8,
    pub mem_req_ready: u8,
    pub mem_rsp_valid: u8,
    pub mem_rsp_err: u8,
    pub csr_valid: u8,
    pub csr_write: u8,
    pub csr_size: u8,
    pub pad0: u8,
}

/// Outputs sampled at the rising edge (mirrors `CosimOut` in csrc/shim.cpp).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct DutOut {
    pub dn_hdr: [u32; 4],
    pub cpl_hdr: [u32; 3],
    pub mem_req_wdata: [u32; 4],
    pub irq_data: u32,
    pub irq_addr: u64,
    pub mem_req_addr: u64,
    pub csr_rdata: u64,
    pub mem_req_id: u32,
    pub dn_tag: u16,
    pub cpl_tag: u16,
    pub mem_req_wstrb: u16,
    pub up_ready: u8,
    pub dn_valid: u8,
    pub cpl_valid: u8,
    pub irq_valid: u8,
    pub mem_req_valid: u8,
    pub mem_req_op: u8,
    pub csr_ready: u8,
    pub csr_rvalid: u8,
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

/// Which verilated parameter set to run (both are compiled into every build).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum DutConfig {
    /// The default parameters of `iommu_top` (hardware identity of decisions.md).
    #[default]
    Default,
    /// 2-entry caches and one walker, so eviction paths run all the time.
    Tiny,
}

impl DutConfig {
    pub fn name(self) -> &'static str {
        match self {
            DutConfig::Default => "default",
            DutConfig::Tiny => "tiny",
        }
    }
}

impl std::str::FromStr for DutConfig {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "default" => Ok(DutConfig::Default),
            "tiny" => Ok(DutConfig::Tiny),
            _ => Err(format!(
                "unknown configuration {s:?} (expected default or tiny)"
            )),
        }
    }
}

impl std::fmt::Display for DutConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

struct Vtable {
    delete: unsafe extern "C" fn(*mut c_void),
    step: unsafe extern "C" fn(*mut c_void, *const DutIn, *mut DutOut),
    trace_open: unsafe extern "C" fn(*mut c_void, *const c_char) -> c_int,
    trace_close: unsafe extern "C" fn(*mut c_void),
}

static VT_DEFAULT: Vtable = Vtable {
    delete: cosim_default_delete,
    step: cosim_default_step,
    trace_open: cosim_default_trace_open,
    trace_close: cosim_default_trace_close,
};
static VT_TINY: Vtable = Vtable {
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
    pub fn new(config: DutConfig) -> Self {
        // SAFETY: the constructors have no preconditions and return an owned handle.
        let (handle, vt) = unsafe {
            match config {
                DutConfig::Default => (cosim_default_new(), &VT_DEFAULT),
                DutConfig::Tiny => (cosim_tiny_new(), &VT_TINY),
            }
        };
        Dut {
            handle,
            vt,
            config,
            inp: DutIn::default(),
            out: DutOut::default(),
            cycle: 0,
        }
    }

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
