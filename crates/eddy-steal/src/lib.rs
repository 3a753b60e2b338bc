//! The work-stealing executor of the eddy async runtime (in progress).
//!
//! This crate will hold a multi-threaded executor: one worker per core, each with a bounded
//! local queue and a LIFO slot, a global injector from `concurrent-queue`, and stealing of half
//! a victim's queue when a worker runs dry. It implements the `Spawn` contract of `eddy-task`,
//! like `eddy-local` does.
//!
//! It is empty until the work-stealing executor lands; `eddy::run` uses `eddy-local` meanwhile.
