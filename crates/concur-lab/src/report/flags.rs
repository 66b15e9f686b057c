//! Which figures a reader should not take at face value, and the warnings
//! that say so.
//!
//! | flag | when | why |
//! |---|---|---|
//! | `busy` | other processes kept at least [`BUSY_CORES`] busy on average while the cell ran, and the cell was computing (it kept that much busy itself) — or the others left less than that idle | the cell shared the processors: its time is not this machine's best |
//! | `beyond limit` | faster than its workload's bound by more than [`BOUND_SLACK`] | nothing can beat a bound: the limit or the cell was measured wrong (most often the `serial` cpu cell that sets the limit was slowed by other work) |
//! | `wide spread` | (max − min) ÷ median of its runs above [`WIDE_SPREAD`] | one median of runs that far apart says little |
//!
//! A cell beyond its limit shows no speedup and no % of limit in the
//! table: those would be results, and they are not.

use super::schema::{Cell, Flag, Limit, Report};

/// Other processes' use, in cores, from which a cell counts as busy.
pub const BUSY_CORES: f64 = 0.25;

/// The spread above which a cell's runs disagree too much.
pub const WIDE_SPREAD: f64 = 0.20;

/// How far past a bound a cell may be before it is flagged: 1 %, the
/// spread of a quiet machine's runs. So a `cpu` speedup above the number of
/// cores is flagged: no two cores run ten tasks more than twice as fast as
/// one core; when it seems they did, the serial cell was slowed.
pub const BOUND_SLACK: f64 = 1.01;

/// Whether a span in which others kept `others` cores busy and the bench
/// `own` was disturbed by them, on a machine of `cores`. A cell that waits
/// (a sleep, a GET) is woken on time beside other work, so it counts as
/// disturbed only when the others leave the machine no room at all.
pub(crate) fn is_busy(others: Option<f64>, own: Option<f64>, cores: usize) -> bool {
    match (others, own) {
        (Some(others), Some(own)) => others >= BUSY_CORES && (own >= BUSY_CORES || others >= cores as f64 - BUSY_CORES),
        _ => false,
    }
}

/// The flags of `cell`, judged against its workload's `limit`.
pub(crate) fn flags(cell: &Cell, limit: Option<&Limit>, cores: usize) -> Vec<Flag> {
    let mut flags = Vec::new();
    if is_busy(cell.others_cores, cell.own_cores, cores) {
        flags.push(Flag::Busy);
    }
    if limit.is_some_and(|limit| limit.bound) && cell.percent_of_limit > 100.0 * BOUND_SLACK {
        flags.push(Flag::BeyondLimit);
    }
    if cell.times_s.len() >= 2 && cell.spread > WIDE_SPREAD {
        flags.push(Flag::WideSpread);
    }
    flags
}

/// The cells by name, or by number when there are many.
fn names(cells: &[&Cell]) -> String {
    if cells.len() > 4 {
        return format!("{} cells", cells.len());
    }
    let names: Vec<String> = cells.iter().map(|cell| format!("{} × {}", cell.workload, cell.model)).collect();
    names.join(", ")
}

/// The warnings a report's cells and load call for, worst first.
pub(crate) fn warnings(report: &Report) -> Vec<String> {
    let mut warnings = Vec::new();
    let flagged = |flag: Flag| -> Vec<&Cell> { report.cells.iter().filter(|c| c.flags.contains(&flag)).collect() };
    let beyond = flagged(Flag::BeyondLimit);
    if !beyond.is_empty() {
        warnings.push(format!(
            "{} ran faster than the limit allows, which no run can: a measurement problem, not a result \
             (most often other work slowed the serial cell that sets the cpu limit); their speedup and % of \
             limit are not shown",
            names(&beyond)
        ));
    }
    let busy = flagged(Flag::Busy);
    if let (false, Some(load)) = (busy.is_empty(), &report.load) {
        warnings.push(format!(
            "the machine was busy: other processes kept {:.1} of its {} cores busy on average during the runs \
             ({:.1} before the run began{}); cells that needed the processors meanwhile are marked busy ({} of \
             {}): their times are slower than this machine can do. Run again when it is quiet",
            load.during_cores,
            report.machine.cores,
            load.before_cores,
            load.load_average_before.map_or(String::new(), |avg| format!(", load average {avg:.2}")),
            busy.len(),
            report.cells.len(),
        ));
    }
    let wide = flagged(Flag::WideSpread);
    if !wide.is_empty() {
        warnings.push(format!(
            "the runs of {} differ by more than {:.0} % of their median: marked wide spread; more runs \
             (--repeat) or a quieter machine narrow it",
            names(&wide),
            WIDE_SPREAD * 100.0
        ));
    }
    if report.load.is_none() {
        warnings.push(
            "this system does not say what else used the processors (no /proc): busy cells cannot be marked"
                .to_string(),
        );
    }
    if report.cells.iter().any(|cell| cell.times_s.len() == 1) {
        warnings.push(
            "some cells ran once: they have no spread to judge them by (--repeat 3, or leave --repeat out)".to_string(),
        );
    }
    warnings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Model;
    use crate::workload::Workload;

    fn cell(times: &[f64], percent: f64, others: Option<f64>, own: Option<f64>) -> Cell {
        Cell {
            workload: Workload::Cpu,
            model: Model::Threads,
            n: 10,
            workers: 10,
            times_s: times.to_vec(),
            median_s: times[0],
            min_s: times.iter().copied().fold(f64::INFINITY, f64::min),
            max_s: times.iter().copied().fold(0.0, f64::max),
            spread: (times.iter().copied().fold(0.0, f64::max) - times.iter().copied().fold(f64::INFINITY, f64::min))
                / times[0],
            speedup: Some(1.0),
            limit_s: 1.0,
            percent_of_limit: percent,
            others_cores: others,
            own_cores: own,
            flags: Vec::new(),
            python: None,
        }
    }

    #[test]
    fn busy_needs_others_and_a_cell_that_computes() {
        assert!(is_busy(Some(0.5), Some(1.0), 2));
        assert!(!is_busy(Some(0.1), Some(1.0), 2), "background noise");
        assert!(!is_busy(Some(1.4), Some(0.0), 2), "a sleeping cell is woken on time beside others");
        assert!(is_busy(Some(1.8), Some(0.0), 2), "but not when they leave no room at all");
        assert!(!is_busy(None, None, 2), "unknown is not busy");
    }

    #[test]
    fn bounds_and_spreads_are_judged() {
        let bound = Limit { workload: Workload::Cpu, limit_s: 1.0, bound: true, basis: String::new() };
        let reference = Limit { bound: false, ..bound.clone() };
        assert_eq!(flags(&cell(&[1.0, 1.01, 0.99], 143.0, None, None), Some(&bound), 2), [Flag::BeyondLimit]);
        assert!(flags(&cell(&[1.0], 100.8, None, None), Some(&bound), 2).is_empty(), "noise within 1 %");
        assert_eq!(flags(&cell(&[1.0], 104.6, None, None), Some(&bound), 2), [Flag::BeyondLimit], "2.09× on 2 cores");
        assert!(flags(&cell(&[1.0], 172.0, None, None), Some(&reference), 2).is_empty(), "disk may pass one writer");
        assert_eq!(flags(&cell(&[1.0, 1.5, 0.9], 50.0, None, None), Some(&bound), 2), [Flag::WideSpread]);
        assert!(flags(&cell(&[1.0], 50.0, None, None), Some(&bound), 2).is_empty(), "one run has no spread");
        assert_eq!(
            flags(&cell(&[1.0, 1.0], 150.0, Some(1.2), Some(1.0)), Some(&bound), 2),
            [Flag::Busy, Flag::BeyondLimit]
        );
    }
}
