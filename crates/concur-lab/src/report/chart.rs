//! The report's charts, drawn with `plotters` into SVG text.
//!
//! `report.svg` has a panel per workload: a bar per model (and, after
//! `--python`, Python's bar beside each), and the workload's limit as a red
//! line. `report-sweep.svg` has a panel per swept workload: time against N,
//! both on log axes, a line per model.

use plotters::coord::ranged1d::SegmentValue;
use plotters::prelude::*;

use super::{Report, Sweep};
use crate::model::Model;

const CONCUR: RGBColor = RGBColor(31, 119, 180);
const PYTHON: RGBColor = RGBColor(255, 127, 14);
const LIMIT: RGBColor = RGBColor(214, 39, 40);

fn model_color(model: Model) -> RGBColor {
    match model {
        Model::Serial => RGBColor(127, 127, 127),
        Model::Threads => RGBColor(31, 119, 180),
        Model::Processes => RGBColor(44, 160, 44),
        Model::Async => RGBColor(148, 103, 189),
    }
}

/// Seconds on a log axis: as many decimals as the magnitude needs.
fn axis_seconds(s: f64) -> String {
    match s {
        s if s >= 10.0 => format!("{s:.0}"),
        s if s >= 1.0 => format!("{s:.1}"),
        s if s >= 0.1 => format!("{s:.2}"),
        s if s >= 0.01 => format!("{s:.3}"),
        s => format!("{s:.4}"),
    }
}

fn drawing_error<E: std::error::Error + Send + Sync>(error: DrawingAreaErrorKind<E>) -> String {
    format!("the chart could not be drawn: {error}")
}

/// `report.svg`: grouped bars per workload.
pub(crate) fn cells_svg(report: &Report) -> Result<String, String> {
    let workloads: Vec<_> = report.limits.iter().map(|limit| limit.workload).collect();
    let panels = workloads.len().max(1);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (360 * panels as u32, 420)).into_drawing_area();
        root.fill(&WHITE).map_err(drawing_error)?;
        let title = format!("concur bench: median wall time of N = {} tasks (red line: the limit)", report.settings.n);
        let root = root.titled(&title, ("sans-serif", 18)).map_err(drawing_error)?;
        for (area, workload) in root.split_evenly((1, panels)).iter().zip(&workloads) {
            let cells: Vec<_> = report.cells.iter().filter(|cell| cell.workload == *workload).collect();
            let mut labels = Vec::new();
            let mut bars = Vec::new();
            for cell in &cells {
                labels.push(cell.model.to_string());
                bars.push((labels.len() - 1, cell.median_s, CONCUR));
                if let Some(python) = &cell.python {
                    labels.push(format!("{} (py)", cell.model));
                    bars.push((labels.len() - 1, python.median_s, PYTHON));
                }
            }
            if labels.is_empty() {
                continue;
            }
            let limit = report.limit(*workload).map_or(0.0, |limit| limit.limit_s);
            let top = bars.iter().map(|bar| bar.1).fold(limit, f64::max) * 1.12;
            let mut chart = ChartBuilder::on(area)
                .caption(workload.name(), ("sans-serif", 16))
                .margin(10)
                .x_label_area_size(60)
                .y_label_area_size(55)
                .build_cartesian_2d((0..labels.len() - 1).into_segmented(), 0f64..top.max(1e-6))
                .map_err(drawing_error)?;
            chart
                .configure_mesh()
                .disable_x_mesh()
                .y_desc("seconds")
                .x_label_style(("sans-serif", 11))
                .x_labels(labels.len())
                .x_label_formatter(&|value| match value {
                    SegmentValue::CenterOf(index) | SegmentValue::Exact(index) => {
                        labels.get(*index).cloned().unwrap_or_default()
                    }
                    SegmentValue::Last => String::new(),
                })
                .draw()
                .map_err(drawing_error)?;
            for (index, value, color) in bars {
                chart
                    .draw_series(Histogram::vertical(&chart).style(color.filled()).margin(6).data([(index, value)]))
                    .map_err(drawing_error)?;
            }
            chart
                .draw_series(LineSeries::new(
                    [(SegmentValue::Exact(0), limit), (SegmentValue::Last, limit)],
                    LIMIT.stroke_width(2),
                ))
                .map_err(drawing_error)?;
        }
        root.present().map_err(drawing_error)?;
    }
    Ok(svg)
}

/// `report-sweep.svg`: time against N on log axes.
pub(crate) fn sweep_svg(sweep: &Sweep) -> Result<String, String> {
    let mut workloads = Vec::new();
    for point in &sweep.points {
        if !workloads.contains(&point.workload) {
            workloads.push(point.workload);
        }
    }
    let panels = workloads.len().max(1);
    let max_n = sweep.ns.iter().copied().max().unwrap_or(1) as f64;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (520 * panels as u32, 440)).into_drawing_area();
        root.fill(&WHITE).map_err(drawing_error)?;
        let root = root
            .titled("concur bench --sweep: wall time as the number of tasks grows", ("sans-serif", 18))
            .map_err(drawing_error)?;
        for (area, workload) in root.split_evenly((1, panels)).iter().zip(&workloads) {
            let times: Vec<f64> = sweep
                .points
                .iter()
                .filter(|p| p.workload == *workload)
                .filter_map(|p| p.median_s)
                .filter(|s| *s > 0.0)
                .collect();
            let low = times.iter().copied().fold(f64::INFINITY, f64::min);
            let high = times.iter().copied().fold(0.0, f64::max);
            let (low, high) = if times.is_empty() { (0.01, 1.0) } else { (low / 1.5, high * 1.5) };
            let mut chart = ChartBuilder::on(area)
                .caption(format!("{workload} (log–log)"), ("sans-serif", 16))
                .margin(12)
                .x_label_area_size(45)
                .y_label_area_size(60)
                .build_cartesian_2d((0.8f64..max_n * 1.25).log_scale(), (low..high).log_scale())
                .map_err(drawing_error)?;
            chart
                .configure_mesh()
                .x_desc("N, tasks")
                .y_desc("seconds")
                .x_label_formatter(&|n| format!("{n:.0}"))
                .y_labels(15)
                .y_label_formatter(&|s| axis_seconds(*s))
                .draw()
                .map_err(drawing_error)?;
            for model in Model::ALL {
                let line: Vec<(f64, f64)> = sweep
                    .points
                    .iter()
                    .filter(|p| p.workload == *workload && p.model == model)
                    .filter_map(|p| p.median_s.map(|s| (p.n as f64, s)))
                    .collect();
                if line.is_empty() {
                    continue;
                }
                let color = model_color(model);
                chart
                    .draw_series(LineSeries::new(line.clone(), color.stroke_width(2)))
                    .map_err(drawing_error)?
                    .label(model.name())
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2)));
                chart
                    .draw_series(line.into_iter().map(|point| Circle::new(point, 3, color.filled())))
                    .map_err(drawing_error)?;
            }
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::UpperLeft)
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK)
                .draw()
                .map_err(drawing_error)?;
        }
        root.present().map_err(drawing_error)?;
    }
    Ok(svg)
}
