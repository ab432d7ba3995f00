//! SVG plots of the benchmark suites ([`crate::bench`]), drawn with `plotters`.

use crate::bench::{label, LatencyRow};
use crate::dut::DutConfig;
use anyhow::{anyhow, Result};
use plotters::prelude::*;
use std::path::Path;

/// The series of the latency plot: (figure, levels, PSC warm level).
const SERIES: [(&str, u8, Option<u8>); 8] = [
    ("walk_context_miss", 4, None),
    ("walk", 5, None),
    ("walk", 4, None),
    ("walk", 3, None),
    ("walk", 4, Some(2)),
    ("posted", 0, None),
    ("iec_miss", 0, None),
    ("iotlb_hit", 4, None),
];

/// `latency.svg`: cycles against memory latency, a panel per configuration.
pub fn latency_svg(rows: &[LatencyRow], path: &Path) -> Result<()> {
    let mut configs: Vec<DutConfig> = rows.iter().map(|r| r.config).collect();
    configs.dedup();
    let err = |e: &dyn std::fmt::Display| anyhow!("{}: {e}", path.display());
    let root = SVGBackend::new(path, (560 * configs.len().max(1) as u32, 440)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(&e))?;
    let panels = root.split_evenly((1, configs.len().max(1)));
    let x_max = rows
        .iter()
        .map(|r| r.mem_latency)
        .max()
        .unwrap_or(300)
        .max(1);
    let y_max = rows
        .iter()
        .filter(|r| r.figure != "psi_register" && r.figure != "psi_queue")
        .map(|r| r.cycles)
        .max()
        .unwrap_or(100)
        .max(1);
    for (panel, config) in panels.iter().zip(&configs) {
        let mut chart = ChartBuilder::on(panel)
            .caption(
                format!("latency, {config} configuration"),
                ("sans-serif", 18),
            )
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(56)
            .build_cartesian_2d(0u32..x_max + x_max / 20, 0u64..y_max + y_max / 10)
            .map_err(|e| err(&e))?;
        chart
            .configure_mesh()
            .x_desc("memory read latency (cycles)")
            .y_desc("cycles, accept to egress")
            .draw()
            .map_err(|e| err(&e))?;
        for (i, (figure, levels, psc)) in SERIES.iter().enumerate() {
            let mut pts: Vec<(u32, u64)> = rows
                .iter()
                .filter(|r| {
                    r.config == *config
                        && r.figure == *figure
                        && r.levels == *levels
                        && r.psc_hit == *psc
                })
                .map(|r| (r.mem_latency, r.cycles))
                .collect();
            pts.sort_unstable();
            if pts.is_empty() {
                continue;
            }
            let colour = Palette99::pick(i).to_rgba();
            chart
                .draw_series(LineSeries::new(pts.clone(), colour.stroke_width(2)))
                .map_err(|e| err(&e))?
                .label(label(figure, *levels, *psc))
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
    }
    root.present().map_err(|e| err(&e))?;
    Ok(())
}

/// `throughput.svg`: translations per clock against the miss rate, a line per configuration
/// (RO=0), each with its walker bound dashed.
pub fn throughput_svg(rows: &[crate::bench_throughput::ThroughputRow], path: &Path) -> Result<()> {
    let err = |e: &dyn std::fmt::Display| anyhow!("{}: {e}", path.display());
    let root = SVGBackend::new(path, (720, 480)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(&e))?;
    let mut configs: Vec<DutConfig> = Vec::new();
    for r in rows.iter().filter(|r| r.workload == "miss_rate") {
        if !configs.contains(&r.config) {
            configs.push(r.config);
        }
    }
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "throughput against IOTLB miss rate (memory latency 100)",
            ("sans-serif", 18),
        )
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(56)
        .build_cartesian_2d(0u32..52u32, (0.002f64..1.2f64).log_scale())
        .map_err(|e| err(&e))?;
    chart
        .configure_mesh()
        .x_desc("requests that miss (%)")
        .y_desc("translations per clock (log scale; dashed: walker bound)")
        .draw()
        .map_err(|e| err(&e))?;
    for (i, c) in configs.iter().enumerate() {
        let colour = Palette99::pick(i).to_rgba();
        let pick = |f: &dyn Fn(&crate::bench_throughput::ThroughputRow) -> f64| {
            let mut v: Vec<(u32, f64)> = rows
                .iter()
                .filter(|r| r.config == *c && r.workload == "miss_rate" && !r.ro)
                .map(|r| (r.miss_percent, f(r)))
                .collect();
            v.sort_by_key(|p| p.0);
            v
        };
        let measured = pick(&|r| r.per_clock());
        chart
            .draw_series(LineSeries::new(measured.clone(), colour.stroke_width(2)))
            .map_err(|e| err(&e))?
            .label(format!("{c}"))
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 16, y)], colour.stroke_width(2))
            });
        chart
            .draw_series(measured.iter().map(|p| Circle::new(*p, 3, colour.filled())))
            .map_err(|e| err(&e))?;
        let bound = pick(&|r| r.bound);
        chart
            .draw_series(DashedLineSeries::new(bound, 4, 4, colour.stroke_width(1)))
            .map_err(|e| err(&e))?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font(("sans-serif", 11))
        .draw()
        .map_err(|e| err(&e))?;
    root.present().map_err(|e| err(&e))?;
    Ok(())
}
