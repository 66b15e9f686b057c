//! What else uses the processors while the bench runs.
//!
//! A timing is only as good as the machine was quiet. Before the run and
//! around every timed run, the bench reads two counters from `/proc`:
//!
//! - `/proc/stat`: the processor time the whole machine spent busy (user,
//!   nice, system, interrupts) and stolen by the hypervisor for other
//!   virtual machines (`steal`);
//! - `/proc/self/stat` and the same file of each live child the bench
//!   started: the time the bench itself used — its threads, and its worker
//!   processes once they are reaped (`cutime`, `cstime`).
//!
//! The machine's busy time less the bench's own, divided by the wall time,
//! is how many cores *other* processes kept busy (steal counts as other).
//! Both counters tick in units of `sysconf(_SC_CLK_TCK)` (100 a second on
//! Linux), which bounds how short a span can be judged; see
//! [`Usage::others_cores`].
//!
//! Reading a counter is two small reads: negligible beside a run. Where
//! there is no `/proc` the bench runs without these checks and says so.

use std::time::Instant;

/// One reading of the counters.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sample {
    at: Instant,
    /// Busy and stolen ticks of the whole machine.
    machine_busy: u64,
    steal: u64,
    /// Ticks of the bench and its children.
    ours: u64,
}

/// The processor time used over a span between two samples.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Usage {
    pub(crate) wall_s: f64,
    /// Processor seconds other processes (and steal) used.
    pub(crate) others_s: f64,
    /// Processor seconds the bench and its children used.
    pub(crate) ours_s: f64,
    /// Processor seconds the hypervisor gave to other machines.
    pub(crate) steal_s: f64,
}

impl Usage {
    /// Adds another span's usage.
    pub(crate) fn add(&mut self, other: Usage) {
        self.wall_s += other.wall_s;
        self.others_s += other.others_s;
        self.ours_s += other.ours_s;
        self.steal_s += other.steal_s;
    }

    /// Cores other processes kept busy on average; `None` for a span too
    /// short to tell (under a tenth of a second).
    pub(crate) fn others_cores(&self) -> Option<f64> {
        (self.wall_s >= 0.1).then(|| self.others_s / self.wall_s)
    }

    /// Cores the bench kept busy on average; `None` as for
    /// [`others_cores`](Self::others_cores).
    pub(crate) fn ours_cores(&self) -> Option<f64> {
        (self.wall_s >= 0.1).then(|| self.ours_s / self.wall_s)
    }
}

fn ticks_per_second() -> f64 {
    // SAFETY: sysconf only reads a system constant.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if ticks > 0 {
        ticks as f64
    } else {
        100.0
    }
}

/// The fields of the first line of `/proc/stat`: busy and steal ticks.
fn machine_ticks() -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().find(|line| line.starts_with("cpu "))?;
    let fields: Vec<u64> = line.split_whitespace().skip(1).map_while(|f| f.parse().ok()).collect();
    // user nice system idle iowait irq softirq steal …; guest time is
    // already inside user and nice.
    let field = |index: usize| fields.get(index).copied().unwrap_or(0);
    let steal = field(7);
    let busy = field(0) + field(1) + field(2) + field(5) + field(6) + steal;
    (fields.len() >= 4).then_some((busy, steal))
}

/// utime + stime + cutime + cstime of one process, in ticks.
pub(crate) fn process_ticks(pid: Option<u32>) -> Option<u64> {
    let path = match pid {
        Some(pid) => format!("/proc/{pid}/stat"),
        None => "/proc/self/stat".to_string(),
    };
    let stat = std::fs::read_to_string(path).ok()?;
    // The command name is in parentheses and may hold spaces: fields are
    // counted after the last ')'. utime is field 14 of the line, the 12th
    // after the name.
    let (_, rest) = stat.rsplit_once(')')?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let field = |index: usize| fields.get(index).and_then(|f| f.parse::<u64>().ok());
    Some(field(11)? + field(12)? + field(13)? + field(14)?)
}

impl Sample {
    /// Reads the counters now, counting `children` (live processes the
    /// bench started and has not reaped) as the bench's own. `None` where
    /// there is no `/proc`.
    pub(crate) fn now(children: &[u32]) -> Option<Sample> {
        let (machine_busy, steal) = machine_ticks()?;
        let ours = process_ticks(None)? + children.iter().filter_map(|pid| process_ticks(Some(*pid))).sum::<u64>();
        Some(Sample { at: Instant::now(), machine_busy, steal, ours })
    }

    /// The usage from this sample to `later`.
    pub(crate) fn until(&self, later: &Sample) -> Usage {
        let tick = 1.0 / ticks_per_second();
        let busy = later.machine_busy.saturating_sub(self.machine_busy);
        let ours = later.ours.saturating_sub(self.ours);
        Usage {
            wall_s: later.at.duration_since(self.at).as_secs_f64(),
            // The two counters are sampled a moment apart and by ticks, so
            // ours can pass the machine's by a tick or two.
            others_s: busy.saturating_sub(ours) as f64 * tick,
            ours_s: ours as f64 * tick,
            steal_s: later.steal.saturating_sub(self.steal) as f64 * tick,
        }
    }
}

/// The load average over the last minute, from `/proc/loadavg`.
pub(crate) fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg").ok()?.split_whitespace().next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spin_counts_as_ours_not_others() {
        let Some(before) = Sample::now(&[]) else { return };
        let start = Instant::now();
        let mut x = 0u64;
        while start.elapsed().as_millis() < 300 {
            x = std::hint::black_box(x.wrapping_add(1));
        }
        let usage = before.until(&Sample::now(&[]).unwrap());
        assert!(usage.wall_s >= 0.3);
        // One thread spun: at most one core of ours (less on a busy
        // machine), and some of it seen.
        let ours = usage.ours_cores().unwrap();
        assert!(usage.ours_s > 0.0 && ours < 1.3, "ours {ours}");
        assert!(usage.others_s >= 0.0);
    }

    #[test]
    fn short_spans_are_not_judged() {
        let usage = Usage { wall_s: 0.05, others_s: 0.05, ours_s: 0.0, steal_s: 0.0 };
        assert_eq!(usage.others_cores(), None);
        let mut total = usage;
        total.add(Usage { wall_s: 0.15, others_s: 0.25, ours_s: 0.1, steal_s: 0.0 });
        assert_eq!(total.others_cores(), Some(0.3 / 0.2));
    }
}
