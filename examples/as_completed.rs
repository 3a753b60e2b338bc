//! `as_completed`: handle results in the order they finish, not the order they started.
//!
//! asyncio: two tasks of 2 s and 1 s, started in that order; `for coro in
//! asyncio.as_completed(tasks)` handles the 1 s result first.
//!
//! Run with `cargo run --release --example as_completed`.

use std::time::{Duration, Instant};

use eddy::stream::StreamExt;

/// Scales the delays down when the test matrix runs this as a smoke test.
fn scaled(seconds: f64) -> Duration {
    let factor = if std::env::var_os("EDDY_EXAMPLE_SMOKE").is_some() { 0.1 } else { 1.0 };
    Duration::from_secs_f64(seconds * factor)
}

async fn job(seconds: f64) -> String {
    eddy::sleep(scaled(seconds)).await;
    format!("the {seconds} s job")
}

async fn main_async() {
    let start = Instant::now();
    let tasks = [eddy::spawn(job(2.0)), eddy::spawn(job(1.0))]; // the slow one first
    let mut finished = eddy::as_completed(tasks);
    while let Some(result) = finished.next().await {
        println!("{} done at {:.2}s", result.expect("job failed"), start.elapsed().as_secs_f64());
    }
}

fn main() {
    eddy::run(main_async());
}
