//! Combinators and structured concurrency for eddy (in progress).
//!
//! This crate will hold `gather`, `try_gather`, `join!`, `wait`, `as_completed`, `race`,
//! `shield` and `TaskGroup`, written as plain futures on `futures-lite` so that they work on any
//! executor.
//!
//! It is empty until the combinators land.
