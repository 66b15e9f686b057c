//! Throughput charts: bars drawn on the server as SVG, so the page needs no
//! charting script and the Content-Security-Policy no inline style (the
//! bars' sizes are SVG attributes).

use super::format::{count, when};
use crate::views::Period;

/// The drawing's size, in SVG units; it stretches to the page's width.
const WIDTH: f64 = 600.0;
const HEIGHT: f64 = 80.0;

/// One bar and what hovering over it says.
pub(crate) struct Bar {
    pub(crate) x: String,
    pub(crate) y: String,
    pub(crate) w: String,
    pub(crate) h: String,
    pub(crate) label: String,
}

/// A chart of tasks done per period.
pub(crate) struct Chart {
    pub(crate) title: String,
    pub(crate) width: u32,
    pub(crate) height: u32,
    pub(crate) bars: Vec<Bar>,
    pub(crate) total: String,
    pub(crate) max: String,
    pub(crate) from: String,
    pub(crate) to: String,
}

impl Chart {
    /// The chart of `periods`, oldest first.
    pub(crate) fn new(title: impl Into<String>, periods: &[Period]) -> Chart {
        let max = periods.iter().map(|p| p.done).max().unwrap_or(0);
        let width = WIDTH / periods.len().max(1) as f64;
        let bars = periods
            .iter()
            .enumerate()
            .filter(|(_, p)| p.done > 0)
            .map(|(i, p)| {
                // At least a pixel, so a period with one task shows.
                let h = (p.done as f64 / max as f64 * HEIGHT).max(1.0);
                Bar {
                    x: format!("{:.2}", i as f64 * width),
                    y: format!("{:.2}", HEIGHT - h),
                    w: format!("{:.2}", (width - 1.0).max(0.5)),
                    h: format!("{h:.2}"),
                    label: format!("{}: {} done", when(p.start), count(p.done)),
                }
            })
            .collect();
        Chart {
            title: title.into(),
            width: WIDTH as u32,
            height: HEIGHT as u32,
            bars,
            total: count(periods.iter().map(|p| p.done).sum()),
            max: count(max),
            from: periods.first().map(|p| when(p.start)).unwrap_or_default(),
            to: periods.last().map(|p| when(p.start)).unwrap_or_default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Chart;
    use crate::views::Period;

    #[test]
    fn bars_scale_to_the_busiest_period() {
        let periods = [
            Period { start: 1_764_000_000.0, done: 0 },
            Period { start: 1_764_000_060.0, done: 10 },
            Period { start: 1_764_000_120.0, done: 5 },
        ];
        let chart = Chart::new("per minute", &periods);
        assert_eq!(chart.bars.len(), 2, "an empty period draws no bar");
        assert_eq!(chart.bars[0].h, "80.00");
        assert_eq!(chart.bars[1].h, "40.00");
        assert_eq!(chart.bars[0].x, "200.00");
        assert_eq!(chart.total, "15");
        assert!(chart.bars[1].label.ends_with("5 done"));
        assert!(Chart::new("empty", &[]).bars.is_empty());
    }
}
