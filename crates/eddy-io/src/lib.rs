//! The I/O driver of the eddy async runtime (in progress).
//!
//! This crate will hold the reactor built on `polling`, timers, a `block_on` that drives the
//! reactor while the thread is parked (built on `parking`), `Async<T>` for any file descriptor,
//! and the `net` types: TCP, UDP and Unix sockets. Executors never depend on it; the `eddy`
//! facade joins the two through the park hook.
//!
//! It is empty until the I/O driver lands; see `docs/ARCHITECTURE.md`.
