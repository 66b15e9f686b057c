//! Decides whether the lock-order checker is compiled in.
//!
//! The checker is on in every build with debug assertions and in release builds
//! with the `lock-order` feature. Under loom it is always off: loom models the
//! primitives themselves, and the checker's global graph would only add states.

fn main() {
    println!("cargo:rustc-check-cfg=cfg(concur_lock_order)");
    println!("cargo:rerun-if-env-changed=CARGO_CFG_LOOM");
    let debug = std::env::var_os("CARGO_CFG_DEBUG_ASSERTIONS").is_some();
    let feature = std::env::var_os("CARGO_FEATURE_LOCK_ORDER").is_some();
    let loom = std::env::var_os("CARGO_CFG_LOOM").is_some();
    if (debug || feature) && !loom {
        println!("cargo:rustc-cfg=concur_lock_order");
    }
}
