//! `iommu-cosim`: the Verilated `iommu_top` RTL driven from Rust and checked, transaction by
//! transaction, against the golden model of `iommu-driver` (shared/design/ARCHITECTURE.md
//! "The co-simulation").

#![warn(missing_docs)]

pub mod bench;
pub mod bench_area;
pub mod bench_plot;
pub mod bench_throughput;
pub mod coverage;
pub mod custom;
pub mod dut;
pub mod hdr;
pub mod lockstep;
pub mod measure;
pub mod memsrv;
pub mod regress;
pub mod report;
pub mod scenario;
pub mod shrink;
pub mod sim;
pub mod unit;
pub mod vectors;
pub mod verilate;
