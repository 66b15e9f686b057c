//! What the benches with a measurement of their own (beside criterion's)
//! share: reading criterion's name filter, and a median.

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
