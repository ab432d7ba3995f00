//! What `ir_rtl.rs` and `qi_rtl.rs` share: the [`Unit`] platform trait, implemented by the golden
//! model alone and by the RTL in lockstep ([`Rtl`], which fails the test at the first mismatch),
//! and the `variants!` macro that runs each generic test body on both.

use iommu_cosim::dut::DutConfig;
use iommu_cosim::lockstep::Lockstep;
use iommu_cosim::memsrv::MemConfig;
use iommu_cosim::sim::Knobs;
use iommu_driver::mem::HostMemory;
use iommu_driver::model::{ModelConfig, ModelPlatform, Msi, Outcome, Request};
use iommu_driver::platform::{Platform, PlatformError};

// ---- platforms ------------------------------------------------------------------------------

/// What a test body needs from the platform beyond registers and host memory.
pub trait Unit: Platform {
    /// Send one upstream request; what the unit did with it.
    fn send(&mut self, req: Request) -> Outcome;
    /// The unit's own interrupt messages (fault / invalidation-completion events) since the last
    /// call are exactly `want`. Lockstep: the DUT sent as many as the model did, each equal to the
    /// model's (the lockstep compares them).
    fn expect_events(&mut self, want: &[Msi]);
    /// The model's allowed outcomes for `req` now, fresh first (the model platform only).
    fn allowed(&mut self, req: &Request) -> Option<Vec<Outcome>>;
    /// End of a test: settle, compare the fault registers, no event left unaccounted for.
    fn finish(&mut self);
}

impl Unit for ModelPlatform {
    fn send(&mut self, req: Request) -> Outcome {
        self.process(&req)
    }
    fn expect_events(&mut self, want: &[Msi]) {
        assert_eq!(self.model.take_events(), want, "event messages");
    }
    fn allowed(&mut self, req: &Request) -> Option<Vec<Outcome>> {
        Some(self.model.evaluate(&self.mem, req).to_vec())
    }
    fn finish(&mut self) {
        assert_eq!(self.model.take_events(), vec![], "events left over");
    }
}

/// The RTL in lockstep with the model; every access checks that no mismatch was recorded.
pub struct Rtl {
    ls: Lockstep,
    /// `ls.stats.events` at the last `expect_events`.
    events: u64,
}

impl Rtl {
    /// The lockstep itself, for tests of the scoreboard (they check its failures themselves).
    #[allow(dead_code)] // not every test file looks inside
    pub fn lockstep(&mut self) -> &mut Lockstep {
        &mut self.ls
    }

    fn check(&self) {
        let f = &self.ls.failures;
        assert!(
            f.is_empty(),
            "lockstep mismatch:\n{}",
            f.iter()
                .map(|m| m.to_string())
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}

impl Platform for Rtl {
    fn reg_read(&mut self, offset: u16, size: u8) -> Result<u64, PlatformError> {
        let v = self.ls.reg_read(offset, size);
        self.check();
        v
    }
    fn reg_write(&mut self, offset: u16, size: u8, value: u64) -> Result<(), PlatformError> {
        let r = self.ls.reg_write(offset, size, value);
        self.check();
        r
    }
    fn mem(&mut self) -> &mut HostMemory {
        self.ls.drain(false);
        self.check();
        self.ls.mem()
    }
}

impl Unit for Rtl {
    fn send(&mut self, req: Request) -> Outcome {
        let o = self.ls.send(req);
        self.check();
        o.unwrap_or_else(|m| panic!("{m}")).outcome
    }
    fn expect_events(&mut self, want: &[Msi]) {
        self.ls.drain(true);
        self.check();
        let n = self.ls.stats.events - self.events;
        self.events = self.ls.stats.events;
        assert_eq!(n, want.len() as u64, "event messages (want {want:x?})");
    }
    fn allowed(&mut self, _req: &Request) -> Option<Vec<Outcome>> {
        None
    }
    fn finish(&mut self) {
        self.ls.finish();
        self.check();
        assert_eq!(self.ls.stats.events, self.events, "events left over");
    }
}

// ---- interrupt helpers ----------------------------------------------------------------------

/// The outcome of a delivered interrupt message.
pub fn irq(addr: u64, data: u32) -> Outcome {
    Outcome::Interrupt {
        msi: Msi { addr, data },
    }
}

/// Remappable-format MSI address (B2): 0xFEE<<20 | handle\[14:0\]<<5 | 1<<4 | SHV<<3 |
/// handle\[15\]<<2.
#[allow(dead_code)] // not every test file sends remappable MSIs
pub fn remappable_addr(handle: u16, shv: bool) -> u64 {
    let h = u64::from(handle);
    0xFEE0_0000 | (h & 0x7FFF) << 5 | 1 << 4 | u64::from(shv) << 3 | (h >> 15) << 2
}

/// `o` is a drop with fault `code`.
#[allow(dead_code)] // not every test file expects a dropped request
pub fn expect_drop(o: &Outcome, code: u8) {
    assert!(
        matches!(o, Outcome::Drop { fault: Some(f) } if f.code() == code),
        "expected a drop with fault {code:#04x}, got {o:?}"
    );
}

pub fn model() -> ModelPlatform {
    ModelPlatform::new(ModelConfig::default())
}

pub fn rtl(config: DutConfig) -> Rtl {
    let mem = MemConfig {
        latency_min: 7,
        latency_max: 7,
        ..MemConfig::default()
    };
    let ls = Lockstep::new(config, HostMemory::new(), mem, Knobs::full_speed(), 1)
        .expect("DUT comes out of reset");
    Rtl { ls, events: 0 }
}

/// For each generic body `fn name<P: Unit>(p: P)`, a module `name` with the tests `model` and
/// `rtl`; the names after `tiny:` also get `rtl_tiny`.
macro_rules! variants {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[test]
            fn model() {
                super::$name(super::model())
            }
            #[test]
            fn rtl() {
                super::$name(super::rtl(super::DutConfig::Default))
            }
        }
    )*};
    (tiny: $($name:ident),* $(,)?) => {$(
        mod $name {
            #[test]
            fn model() {
                super::$name(super::model())
            }
            #[test]
            fn rtl() {
                super::$name(super::rtl(super::DutConfig::Default))
            }
            #[test]
            fn rtl_tiny() {
                super::$name(super::rtl(super::DutConfig::Tiny))
            }
        }
    )*};
}
