//! The benchmark suite lives in `benches/suite.rs`; run it with `cargo xtask bench`.
