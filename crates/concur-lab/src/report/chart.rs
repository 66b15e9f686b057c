//! The report's charts, drawn with `plotters` into SVG text.
//!
//! `report.svg` has a panel per workload, a group per model in each, with
//! concur's bar (and, after `--python`, Python's beside it), the
//! workload's limit as a red line, and a star over a flagged cell.
//! `report-sweep.svg` has a panel per swept workload: time against N, both
//! on log axes, a line per model. Both say at the top which machine they
//! were made on, and when.
//!
//! The model names under the groups are drawn as text by this module, one
//! per group, not left to the axis: an axis picks its own label positions,
//! and with two bars a group it put a label under each bar, which
//! overlapped.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::schema::{Report, Sweep};
use crate::model::Model;

const CONCUR: RGBColor = RGBColor(31, 119, 180);
const PYTHON: RGBColor = RGBColor(255, 127, 14);
const LIMIT: RGBColor = RGBColor(214, 39, 40);
const GREY: RGBColor = RGBColor(90, 90, 90);

/// Pixels above the panels for the title, the machine line and the legend.
const HEADER: u32 = 64;

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
        0.0 => "0".to_string(),
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

/// The machine and the date, for the line under a chart's title.
fn made_on(report: &Report) -> String {
    let mut line = format!("{} — {} — concur {}", report.machine.label(), report.started_utc, report.concur_version);
    if report.partial {
        line.push_str(" — PARTIAL: the run was stopped early");
    }
    line
}

/// Draws the title and the machine line; returns the area below them.
fn header<'a>(
    root: &DrawingArea<SVGBackend<'a>, Shift>,
    title: &str,
    report: &Report,
) -> Result<DrawingArea<SVGBackend<'a>, Shift>, String> {
    root.fill(&WHITE).map_err(drawing_error)?;
    root.draw_text(title, &("sans-serif", 18).into_font().color(&BLACK), (12, 8)).map_err(drawing_error)?;
    root.draw_text(&made_on(report), &("sans-serif", 12).into_font().color(&GREY), (12, 32)).map_err(drawing_error)?;
    Ok(root.split_vertically(HEADER).1)
}

/// A legend entry: a swatch and its words, from `x`; returns where the
/// next one starts.
fn legend_entry(
    root: &DrawingArea<SVGBackend<'_>, Shift>,
    x: i32,
    color: RGBColor,
    line: bool,
    words: &str,
) -> Result<i32, String> {
    let y = 50;
    if line {
        root.draw(&PathElement::new(vec![(x, y), (x + 16, y)], color.stroke_width(2))).map_err(drawing_error)?;
    } else {
        root.draw(&Rectangle::new([(x, y - 6), (x + 12, y + 6)], color.filled())).map_err(drawing_error)?;
    }
    let style = ("sans-serif", 12).into_font().color(&BLACK).pos(Pos::new(HPos::Left, VPos::Center));
    root.draw_text(words, &style, (x + 20, y)).map_err(drawing_error)?;
    Ok(x + 28 + 7 * words.chars().count() as i32)
}

/// `report.svg`: a group of bars per model, a panel per workload.
pub(crate) fn cells_svg(report: &Report) -> Result<String, String> {
    let workloads: Vec<_> = report.limits.iter().map(|limit| limit.workload).collect();
    let panels = workloads.len().max(1);
    let python = report.cells.iter().any(|cell| cell.python.is_some());
    // Wide enough for the machine line, and for two bars a model.
    let width = (if python { 440 } else { 340 } * panels as u32).max(720);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, 440 + HEADER)).into_drawing_area();
        let title = format!("concur bench: median wall time of N = {} tasks, by model", report.settings.n);
        let body = header(&root, &title, report)?;
        let mut x = 12;
        x = legend_entry(&root, x, CONCUR, false, "concur")?;
        if python {
            x = legend_entry(&root, x, PYTHON, false, "Python")?;
        }
        x = legend_entry(&root, x, LIMIT, true, "the limit")?;
        let flagged = |cell: &&crate::report::Cell| {
            !cell.flags.is_empty() || cell.python.as_ref().is_some_and(|py| !py.flags.is_empty())
        };
        if report.cells.iter().any(|cell| flagged(&cell)) {
            root.draw_text(
                "* flagged: see the check column of report.md",
                &("sans-serif", 12).into_font().color(&BLACK).pos(Pos::new(HPos::Left, VPos::Center)),
                (x, 50),
            )
            .map_err(drawing_error)?;
        }
        for (area, workload) in body.split_evenly((1, panels)).iter().zip(&workloads) {
            let cells: Vec<_> = report.cells.iter().filter(|cell| cell.workload == *workload).collect();
            if cells.is_empty() {
                continue;
            }
            let limit = report.limit(*workload).map_or(0.0, |limit| limit.limit_s);
            let highest = cells
                .iter()
                .flat_map(|cell| [Some(cell.median_s), cell.python.as_ref().map(|py| py.median_s)])
                .flatten()
                .fold(limit, f64::max);
            let groups = cells.len() as f64;
            let mut chart = ChartBuilder::on(area)
                .caption(workload.name(), ("sans-serif", 16))
                .margin(10)
                .x_label_area_size(28)
                .y_label_area_size(55)
                .build_cartesian_2d(-0.5f64..groups - 0.5, 0f64..(highest * 1.15).max(1e-6))
                .map_err(drawing_error)?;
            chart
                .configure_mesh()
                .disable_x_mesh()
                .disable_x_axis()
                .x_labels(0)
                .y_desc("seconds")
                .y_label_formatter(&|s| axis_seconds(*s))
                .draw()
                .map_err(drawing_error)?;
            let half = if python { 0.18 } else { 0.3 };
            for (index, cell) in cells.iter().enumerate() {
                let center = index as f64;
                let mut bars = vec![(center - if python { half } else { 0.0 }, cell.median_s, CONCUR)];
                if let Some(py) = &cell.python {
                    bars.push((center + half, py.median_s, PYTHON));
                }
                for (middle, value, color) in bars {
                    chart
                        .draw_series([Rectangle::new(
                            [(middle - half * 0.9, 0.0), (middle + half * 0.9, value)],
                            color.filled(),
                        )])
                        .map_err(drawing_error)?;
                }
                let concur = (center - if python { half } else { 0.0 }, cell.median_s, !cell.flags.is_empty());
                let theirs = cell.python.as_ref().map(|py| (center + half, py.median_s, !py.flags.is_empty()));
                for (middle, value, _) in [Some(concur), theirs].into_iter().flatten().filter(|bar| bar.2) {
                    let (px, py) = chart.backend_coord(&(middle, value));
                    let style = ("sans-serif", 16).into_font().color(&BLACK).pos(Pos::new(HPos::Center, VPos::Bottom));
                    root.draw_text("*", &style, (px, py - 2)).map_err(drawing_error)?;
                }
                // The group's name, under its bars.
                let (px, py) = chart.backend_coord(&(center, 0.0));
                let style = ("sans-serif", 12).into_font().color(&BLACK).pos(Pos::new(HPos::Center, VPos::Top));
                root.draw_text(cell.model.name(), &style, (px, py + 6)).map_err(drawing_error)?;
            }
            chart
                .draw_series(LineSeries::new([(-0.5, limit), (groups - 0.5, limit)], LIMIT.stroke_width(2)))
                .map_err(drawing_error)?;
        }
        root.present().map_err(drawing_error)?;
    }
    Ok(svg)
}

/// `report-sweep.svg`: time against N on log axes.
pub(crate) fn sweep_svg(report: &Report, sweep: &Sweep) -> Result<String, String> {
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
        let root =
            SVGBackend::with_string(&mut svg, ((520 * panels as u32).max(720), 440 + HEADER)).into_drawing_area();
        let body = header(&root, "concur bench --sweep: wall time as the number of tasks grows", report)?;
        for (area, workload) in body.split_evenly((1, panels)).iter().zip(&workloads) {
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
