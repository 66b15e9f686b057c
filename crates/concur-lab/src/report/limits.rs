//! The report's arithmetic: medians, speedups, the physical limit of each
//! workload, and how close a cell came to it.
//!
//! The limit is the shortest time any model could take for N tasks on this
//! machine:
//!
//! | workload | limit for N tasks on C cores | measured how |
//! |---|---|---|
//! | `cpu` | T₁ × N / min(N, C) | T₁ = one task's time: the `serial` cell's median ÷ N, or one task timed alone when `serial` is not run |
//! | `disk` | N × B / W | B = bytes per task; W = the write bandwidth of one task alone before the run, fastest of three |
//! | `net` | one round trip | one GET timed alone before the run (median of three) |
//! | `sleep` | 2 s × scale | the sleep itself |
//!
//! "% of limit" is limit ÷ time × 100: 100 % is as fast as the machine
//! allows, 10 % is ten times slower than that. It can pass 100 % a little
//! by noise, and for `disk` by more, since several writers can keep a disk
//! (or the page cache) busier than one.

/// The median of `times`: the middle one, or the mean of the two middle
/// ones; `None` for no times.
///
/// # Examples
///
/// ```
/// use concur_lab::limits::median;
///
/// assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
/// assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), Some(2.5));
/// assert_eq!(median(&[]), None);
/// ```
pub fn median(times: &[f64]) -> Option<f64> {
    let mut sorted = times.to_vec();
    sorted.sort_by(f64::total_cmp);
    let middle = sorted.len() / 2;
    match sorted.len() {
        0 => None,
        len if len % 2 == 1 => Some(sorted[middle]),
        _ => Some((sorted[middle - 1] + sorted[middle]) / 2.0),
    }
}

/// How many times faster than `serial` a cell ran: serial time ÷ its time.
///
/// # Examples
///
/// ```
/// assert_eq!(concur_lab::limits::speedup(10.0, 2.5), 4.0);
/// ```
pub fn speedup(serial_s: f64, time_s: f64) -> f64 {
    serial_s / time_s
}

/// How close `time_s` came to the limit, in percent: limit ÷ time × 100.
///
/// # Examples
///
/// ```
/// use concur_lab::limits::percent_of_limit;
///
/// assert_eq!(percent_of_limit(2.0, 2.0), 100.0);
/// assert_eq!(percent_of_limit(2.0, 20.0), 10.0);
/// ```
pub fn percent_of_limit(limit_s: f64, time_s: f64) -> f64 {
    limit_s / time_s * 100.0
}

/// The `cpu` limit: N tasks of `one_task_s` each, spread over
/// min(N, cores) cores.
///
/// # Examples
///
/// ```
/// use concur_lab::limits::cpu_limit;
///
/// // Ten 1.5 s tasks on 2 cores: 7.5 s at best.
/// assert_eq!(cpu_limit(1.5, 10, 2), 7.5);
/// // One task cannot use a second core.
/// assert_eq!(cpu_limit(1.5, 1, 2), 1.5);
/// ```
pub fn cpu_limit(one_task_s: f64, n: usize, cores: usize) -> f64 {
    one_task_s * n as f64 / n.min(cores).max(1) as f64
}

/// The `disk` limit: N tasks' bytes at the measured write bandwidth.
///
/// # Examples
///
/// ```
/// use concur_lab::limits::disk_limit;
///
/// // Ten 80 MB files at 400 MB/s: 2 s.
/// assert_eq!(disk_limit(10, 80_000_000, 400_000_000.0), 2.0);
/// ```
pub fn disk_limit(n: usize, bytes_per_task: u64, bytes_per_s: f64) -> f64 {
    n as f64 * bytes_per_task as f64 / bytes_per_s
}

/// Python's time over concur's for the same cell: above 1, concur is that
/// many times faster; below 1, Python is.
///
/// # Examples
///
/// ```
/// assert_eq!(concur_lab::limits::python_ratio(3.0, 1.5), 2.0);
/// ```
pub fn python_ratio(python_s: f64, concur_s: f64) -> f64 {
    python_s / concur_s
}
