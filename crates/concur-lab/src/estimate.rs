//! How long the run will take: a guess from the probes before the first
//! run, corrected by every run measured since.
//!
//! Each run's time is first predicted from what one task took alone (the
//! probes) and what the model should do with N of them — N times one task
//! for `serial`, one task's time spread over the cores for `cpu` in
//! `threads`, one sleep for a waiting workload in `threads` or `async` —
//! and, for Python, the ratios to concur a full run measured. Then, per
//! side and workload, the runs measured so far give a correction: the sum
//! of their times over the sum of their predictions. The time left is the
//! corrected prediction of every run still to come.

use std::time::Duration;

use crate::config::BenchConfig;
use crate::model::Model;
use crate::probe::Probes;
use crate::runner::workers_for;
use crate::workload::{Workload, SLEEP};

/// Which program runs a cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    Concur,
    Python,
}

/// What one worker process costs to start and stop, roughly.
const PROCESS_START_S: f64 = 0.005;
/// The same for a Python process.
const PYTHON_PROCESS_START_S: f64 = 0.02;
/// Python's big-integer additions against concur's, serial against serial.
const PYTHON_CPU: f64 = 2.1;
/// Python's threads on `cpu` against its serial: they take turns under the
/// GIL, and the turns cost.
const PYTHON_GIL_THREADS: f64 = 1.3;

/// One task's time alone, per workload, from the probes and the settings.
#[derive(Debug, Clone, Copy)]
struct Units {
    cpu_s: f64,
    disk_s: f64,
    net_s: f64,
    sleep_s: f64,
}

/// Runs planned for one cell (or sweep point), and how many have run.
#[derive(Debug, Clone)]
struct Planned {
    side: Side,
    workload: Workload,
    model: Model,
    n: usize,
    done: usize,
    first_s: Option<f64>,
    /// A sweep point runs `--repeat` times, once by default.
    sweep: bool,
}

/// The plan of a run and the estimate of its time left.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    config: BenchConfig,
    cores: usize,
    units: Units,
    items: Vec<Planned>,
    /// Per side and workload: (sum of predictions, sum of times) of the
    /// runs measured.
    learned: Vec<(Side, Workload, f64, f64)>,
}

impl Plan {
    /// The plan of `config`'s cells, its Python cells if asked, and the
    /// sweep `points` that will run.
    pub(crate) fn new(
        config: &BenchConfig,
        probes: &Probes,
        cores: usize,
        sweep_points: &[(Workload, Model, usize)],
    ) -> Plan {
        let units = Units {
            cpu_s: probes.cpu_task_s.unwrap_or(0.0),
            disk_s: probes.disk.map_or(0.0, |(_, seconds)| seconds),
            net_s: probes.net_round_trip_s.unwrap_or_else(|| config.net_delay().as_secs_f64()),
            sleep_s: SLEEP.as_secs_f64() * config.scale,
        };
        let mut items = Vec::new();
        let sides: &[Side] = if config.python { &[Side::Concur, Side::Python] } else { &[Side::Concur] };
        for &side in sides {
            for &workload in &config.workloads {
                for &model in &config.models {
                    items.push(Planned { side, workload, model, n: config.n, done: 0, first_s: None, sweep: false });
                }
            }
        }
        for &(workload, model, n) in sweep_points {
            items.push(Planned { side: Side::Concur, workload, model, n, done: 0, first_s: None, sweep: true });
        }
        Plan { config: config.clone(), cores, units, items, learned: Vec::new() }
    }

    /// The uncorrected prediction of one run.
    fn predict(&self, side: Side, workload: Workload, model: Model, n: usize) -> f64 {
        let nf = n as f64;
        let workers = workers_for(n);
        let cores = n.min(self.cores).min(workers).max(1) as f64;
        let waves = n.div_ceil(workers) as f64;
        let start = match side {
            Side::Concur => PROCESS_START_S,
            Side::Python => PYTHON_PROCESS_START_S,
        } * workers as f64;
        let Units { cpu_s, disk_s, net_s, sleep_s } = self.units;
        match (side, workload, model) {
            (Side::Concur, Workload::Cpu, Model::Serial | Model::Async) => nf * cpu_s,
            (Side::Concur, Workload::Cpu, Model::Threads) => nf * cpu_s / n.min(self.cores).max(1) as f64,
            (Side::Python, Workload::Cpu, Model::Serial | Model::Async) => nf * cpu_s * PYTHON_CPU,
            (Side::Python, Workload::Cpu, Model::Threads) => nf * cpu_s * PYTHON_CPU * PYTHON_GIL_THREADS,
            (side, Workload::Cpu, Model::Processes) => {
                let factor = if side == Side::Python { PYTHON_CPU } else { 1.0 };
                nf * cpu_s * factor / cores + start
            }
            // One writer alone against several; Python's write calls cost
            // far more than Rust's (the ratios of a full run).
            (Side::Concur, Workload::Disk, Model::Serial | Model::Async) => nf * disk_s,
            (Side::Concur, Workload::Disk, Model::Threads) => nf * disk_s * 0.6,
            (Side::Concur, Workload::Disk, Model::Processes) => nf * disk_s * 0.6 + start,
            (Side::Python, Workload::Disk, Model::Serial | Model::Async) => nf * disk_s * 5.7,
            (Side::Python, Workload::Disk, Model::Threads) => nf * disk_s * 10.0,
            (Side::Python, Workload::Disk, Model::Processes) => nf * disk_s * 3.4 + start,
            (_, Workload::Net | Workload::Sleep, model) => {
                let one = if workload == Workload::Net { net_s } else { sleep_s };
                match model {
                    Model::Serial => nf * one,
                    // Starting a thread or a task is tens of microseconds.
                    Model::Threads | Model::Async => one + nf * 30e-6,
                    Model::Processes => waves * one + start,
                }
            }
        }
    }

    fn correction(&self, side: Side, workload: Workload) -> f64 {
        let mine = self.learned.iter().find(|(s, w, ..)| *s == side && *w == workload);
        let side_wide =
            self.learned.iter().filter(|(s, ..)| *s == side).fold((0.0, 0.0), |(p, a), (.., pp, aa)| (p + pp, a + aa));
        match mine {
            Some(&(.., predicted, actual)) if predicted > 0.0 => actual / predicted,
            _ if side_wide.0 > 0.0 => side_wide.1 / side_wide.0,
            _ => 1.0,
        }
    }

    /// The runs `item` gets in all, given its first run or the prediction
    /// of it.
    fn runs_of(&self, item: &Planned) -> usize {
        if item.sweep {
            return self.config.repeat.unwrap_or(1);
        }
        let first = item.first_s.unwrap_or_else(|| self.corrected(item));
        self.config.runs(Some(first))
    }

    fn corrected(&self, item: &Planned) -> f64 {
        self.predict(item.side, item.workload, item.model, item.n) * self.correction(item.side, item.workload)
    }

    /// Records a run that ended.
    pub(crate) fn ran(&mut self, side: Side, workload: Workload, model: Model, n: usize, sweep: bool, seconds: f64) {
        let predicted = self.predict(side, workload, model, n);
        if let Some(item) = self
            .items
            .iter_mut()
            .find(|i| i.side == side && i.workload == workload && i.model == model && i.n == n && i.sweep == sweep)
        {
            item.done += 1;
            item.first_s.get_or_insert(seconds);
        }
        match self.learned.iter_mut().find(|(s, w, ..)| *s == side && *w == workload) {
            Some(entry) => {
                entry.2 += predicted;
                entry.3 += seconds;
            }
            None => self.learned.push((side, workload, predicted, seconds)),
        }
    }

    /// A cell or point has no runs left: stopped early, or its side gave
    /// up (Python missing).
    pub(crate) fn drop_side(&mut self, side: Side) {
        self.items.retain(|item| item.side != side);
    }

    /// Runs ended so far.
    pub(crate) fn done(&self) -> u64 {
        self.items.iter().map(|item| item.done as u64).sum()
    }

    /// Runs in all, as planned now.
    pub(crate) fn total(&self) -> u64 {
        self.items.iter().map(|item| self.runs_of(item).max(item.done) as u64).sum()
    }

    /// The time the runs still to come should take.
    pub(crate) fn left(&self) -> Duration {
        let seconds: f64 = self
            .items
            .iter()
            .map(|item| self.runs_of(item).saturating_sub(item.done) as f64 * self.corrected(item))
            .sum();
        Duration::from_secs_f64(seconds.max(0.0))
    }
}

/// A duration the way a person says it: `about 4 min 10 s`, `about 2 h 5
/// min`, `under a second`.
pub(crate) fn human(duration: Duration) -> String {
    let seconds = duration.as_secs_f64().round() as u64;
    match seconds {
        0 => "under a second".to_string(),
        s if s < 60 => format!("about {s} s"),
        s if s < 3600 => format!("about {} min {} s", s / 60, s % 60),
        s => format!("about {} h {} min", s / 3600, s % 3600 / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probes() -> Probes {
        Probes { cpu_task_s: Some(2.0), disk: Some((80_000_000, 0.1)), net_round_trip_s: Some(0.1) }
    }

    #[test]
    fn the_full_run_is_predicted_from_one_task_of_each() {
        let config = BenchConfig::default();
        let plan = Plan::new(&config, &probes(), 2, &[]);
        // cpu: serial and async 20 s, threads and processes 10 s.
        assert_eq!(plan.predict(Side::Concur, Workload::Cpu, Model::Serial, 10), 20.0);
        assert_eq!(plan.predict(Side::Concur, Workload::Cpu, Model::Threads, 10), 10.0);
        assert_eq!(plan.predict(Side::Concur, Workload::Sleep, Model::Serial, 10), 20.0);
        // Cells over 10 s get two runs, the rest three: serial and async
        // cpu, processes cpu (10 s and the workers' start) and serial sleep.
        let cpu_serial = plan.items.iter().find(|i| i.workload == Workload::Cpu && i.model == Model::Serial).unwrap();
        assert_eq!(plan.runs_of(cpu_serial), 2);
        assert_eq!(plan.total(), 3 * 16 - 4);
        assert!(plan.left() > Duration::from_secs(150), "{:?}", plan.left());
    }

    #[test]
    fn measured_runs_correct_the_rest() {
        let config = BenchConfig { workloads: vec![Workload::Cpu], repeat: Some(1), ..BenchConfig::default() };
        let mut plan = Plan::new(&config, &probes(), 2, &[]);
        let before = plan.left();
        // The machine is twice as slow as the probe said.
        plan.ran(Side::Concur, Workload::Cpu, Model::Serial, 10, false, 40.0);
        assert_eq!(plan.done(), 1);
        let left = plan.left().as_secs_f64();
        let expected = (before.as_secs_f64() - 20.0) * 2.0;
        assert!((left - expected).abs() < 1e-6, "{left} vs {expected}");
    }

    #[test]
    fn durations_read_as_a_person_says_them() {
        assert_eq!(human(Duration::from_millis(300)), "under a second");
        assert_eq!(human(Duration::from_secs(42)), "about 42 s");
        assert_eq!(human(Duration::from_secs(250)), "about 4 min 10 s");
        assert_eq!(human(Duration::from_secs(7500)), "about 2 h 5 min");
    }
}
