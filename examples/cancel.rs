//! Cancelling a task: its cleanup runs, and the caller learns it was cancelled.
//!
//! asyncio: a task prints "Task starts" and sleeps 10 s; after 1 s, main calls `task.cancel()`;
//! the task's `except CancelledError` prints "Task was cancelled!" and main's `await task`
//! raises, printing "Caught cancellation in main". The program ends after about 1 s.
//!
//! In Rust the cleanup is a `Drop` guard: cancelling drops the task's future, so its guards run.
//!
//! Run with `cargo run --release --example cancel`.

use std::time::{Duration, Instant};

/// Scales the delays down when the test matrix runs this as a smoke test.
fn scaled(seconds: f64) -> Duration {
    let factor = if std::env::var_os("EDDY_EXAMPLE_SMOKE").is_some() { 0.1 } else { 1.0 };
    Duration::from_secs_f64(seconds * factor)
}

/// Runs its cleanup when dropped, like a `finally` block.
struct OnCancel;

impl Drop for OnCancel {
    fn drop(&mut self) {
        println!("Task was cancelled!");
    }
}

async fn long_task() -> &'static str {
    println!("Task starts");
    let cleanup = OnCancel;
    eddy::sleep(scaled(10.0)).await;
    std::mem::forget(cleanup); // finished normally: no cancellation cleanup
    "finished"
}

async fn main_async() {
    let start = Instant::now();

    // `task.cancel()` from another task (here, `main`), then `await task`.
    let task = eddy::spawn(long_task());
    eddy::sleep(scaled(1.0)).await;
    task.abort();
    match task.await {
        Err(e) if e.is_cancelled() => println!("Caught cancellation in main ({e})"),
        other => println!("unexpected: {other:?}"),
    }

    // Or cancel and wait for the cleanup in one step.
    let task = eddy::spawn(long_task());
    eddy::sleep(scaled(0.1)).await;
    assert!(task.cancel().await.is_none());
    println!("Cancelled again; its cleanup ran before `cancel` returned");

    println!("Total: {:.2}s, not 10s", start.elapsed().as_secs_f64());
}

fn main() {
    eddy::run(main_async());
}
