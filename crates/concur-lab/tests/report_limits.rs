//! The report's arithmetic: medians, speedups, limits and percentages.

use concur_lab::limits::{cpu_limit, disk_limit, median, percent_of_limit, python_ratio, speedup};

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-12 * a.abs().max(b.abs()).max(1.0)
}

#[test]
fn median_of_odd_even_and_unsorted_lists() {
    assert_eq!(median(&[5.0]), Some(5.0));
    assert_eq!(median(&[9.0, 1.0, 5.0]), Some(5.0));
    assert_eq!(median(&[1.0, 2.0, 3.0, 10.0]), Some(2.5));
    assert_eq!(median(&[2.0, 2.0, 2.0, 100.0, 0.1]), Some(2.0), "an outlier does not move it");
    assert_eq!(median(&[]), None);
}

#[test]
fn cpu_limit_divides_by_the_cores_that_can_be_used() {
    // More tasks than cores: the cores are the limit.
    assert!(close(cpu_limit(2.0, 10, 2), 10.0));
    assert!(close(cpu_limit(2.0, 10, 4), 5.0));
    // Fewer tasks than cores: one core per task at most.
    assert!(close(cpu_limit(2.0, 3, 8), 2.0));
    assert!(close(cpu_limit(2.0, 1, 64), 2.0));
    // N = cores: every task on its own core.
    assert!(close(cpu_limit(1.5, 2, 2), 1.5));
}

#[test]
fn disk_limit_is_the_bytes_at_the_measured_bandwidth() {
    // Ten tasks of 80 MB at 200 MB/s.
    assert!(close(disk_limit(10, 80_000_000, 200e6), 4.0));
    // One task of the probe's size takes the probe's time.
    let (bytes, seconds) = (80_000_000u64, 0.37);
    assert!(close(disk_limit(1, bytes, bytes as f64 / seconds), seconds));
}

#[test]
fn speedup_and_percent_of_limit() {
    assert!(close(speedup(20.0, 2.0), 10.0));
    assert!(close(speedup(3.0, 6.0), 0.5), "slower than serial is a speedup below 1");
    // Serial sleep, N = 10: ten times the limit, so 10 %.
    assert!(close(percent_of_limit(2.0, 20.0), 10.0));
    // At the limit: 100 %; a hair faster by noise: a hair above.
    assert!(close(percent_of_limit(2.0, 2.0), 100.0));
    assert!(percent_of_limit(2.0, 1.99) > 100.0);
    // cpu threads on 2 cores reaching 0.9 × min(N, cores) speedup is 90 % of the limit.
    let serial = 20.0;
    let limit = cpu_limit(serial / 10.0, 10, 2);
    let threads = serial / (0.9 * 2.0);
    assert!(close(percent_of_limit(limit, threads), 90.0));
}

#[test]
fn python_ratio_is_python_over_concur() {
    assert!(close(python_ratio(30.0, 7.5), 4.0));
    assert!(close(python_ratio(1.0, 2.0), 0.5), "below 1 when Python is faster");
}
