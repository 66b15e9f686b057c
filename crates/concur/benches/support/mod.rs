//! What the benches with a measurement of their own (beside criterion's)
//! share: reading criterion's name filter, a median, and the alternating
//! pairs.

// Each bench that includes this module uses the part it needs.
#![allow(dead_code)]

/// Whether this run is `cargo bench` (criterion passes `--bench`; `cargo
/// test --benches` does not) and its filter, if any, selects `name`.
pub(crate) fn selects(name: &str) -> bool {
    let args: Vec<String> = std::env::args().skip(1).collect();
    args.iter().any(|arg| arg == "--bench") && filter(&args).is_none_or(|filter| name.contains(filter))
}

/// The median of `values` (the upper one of an even count).
pub(crate) fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// How many pairs to run: the variable `var` if set, else `default`.
pub(crate) fn pair_count(var: &str, default: usize) -> usize {
    std::env::var(var).ok().and_then(|n| n.parse().ok()).unwrap_or(default)
}

/// `count` alternating pairs of runs, concur's (`ours`) and the peer's, in
/// turn, which goes first alternating too; each run returns its seconds.
///
/// This machine's two cores run in one of two states for seconds at a time
/// (docs/BENCHMARKS.md), and criterion's one-function-at-a-time runs can
/// time each side in a different one; runs side by side share it.
pub(crate) fn in_pairs(
    count: usize,
    mut ours: impl FnMut() -> f64,
    mut theirs: impl FnMut() -> f64,
) -> Vec<(f64, f64)> {
    (0..count)
        .map(|n| {
            if n % 2 == 0 {
                let a = ours();
                (a, theirs())
            } else {
                let b = theirs();
                (ours(), b)
            }
        })
        .collect()
}

/// Prints `times` (from `in_pairs`, each run `per` operations) as
/// `scripts/compare` reads them: `pairs/NAME: ratio median …`, the median
/// of the peer's time over concur's with its range, and each side's median
/// per `operation`, times `scale` (per second) in `unit`.
pub(crate) fn print_pairs(name: &str, times: &[(f64, f64)], per: f64, scale: f64, unit: &str, operation: &str) {
    let count = times.len();
    let mut ratios: Vec<f64> = times.iter().map(|(a, b)| b / a).collect();
    let mut ours: Vec<f64> = times.iter().map(|(a, _)| a / per).collect();
    let mut theirs: Vec<f64> = times.iter().map(|(_, b)| b / per).collect();
    let ratio = median(&mut ratios);
    println!(
        "pairs/{name}: ratio median {ratio:.3} (lowest {:.3}, highest {:.3}) over {count} pairs; medians {:.2} {unit} \
         and {:.2} {unit} per {operation}",
        ratios[0],
        ratios[count - 1],
        median(&mut ours) * scale,
        median(&mut theirs) * scale,
    );
}

/// Criterion's name filter among the arguments, if one was given: the
/// first word that is neither an option nor an option's value.
pub(crate) fn filter(args: &[String]) -> Option<&str> {
    const WITH_VALUE: [&str; 15] = [
        "--warm-up-time",
        "--measurement-time",
        "--sample-size",
        "--save-baseline",
        "--baseline",
        "--baseline-lenient",
        "--load-baseline",
        "--color",
        "--output-format",
        "--noise-threshold",
        "--confidence-level",
        "--significance-level",
        "--nresamples",
        "--plotting-backend",
        "--profile-time",
    ];
    let mut words = args.iter();
    while let Some(arg) = words.next() {
        if WITH_VALUE.contains(&arg.as_str()) {
            words.next();
        } else if !arg.starts_with('-') {
            return Some(arg);
        }
    }
    None
}
