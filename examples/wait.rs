//! `wait`: split tasks into the finished and the still running, without cancelling any.
//!
//! asyncio: `done, pending = await asyncio.wait(tasks, return_when=FIRST_COMPLETED)` returns
//! as soon as one task finishes; the slower task is still pending and keeps running.
//!
//! Run with `cargo run --release --example wait`.

use std::time::{Duration, Instant};

use eddy::ReturnWhen;

/// Scales the delays down when the test matrix runs this as a smoke test.
fn scaled(seconds: f64) -> Duration {
    let factor = if std::env::var_os("EDDY_EXAMPLE_SMOKE").is_some() { 0.1 } else { 1.0 };
    Duration::from_secs_f64(seconds * factor)
}

async fn job(name: &'static str, seconds: f64) -> &'static str {
    eddy::sleep(scaled(seconds)).await;
    println!("  {name} finished");
    name
}

async fn main_async() {
    let start = Instant::now();
    println!("ALL_COMPLETED:");
    let tasks = vec![eddy::spawn(job("fast", 1.0)), eddy::spawn(job("slow", 2.0))];
    let (done, pending) = eddy::wait(tasks).return_when(ReturnWhen::AllCompleted).await;
    println!(
        "  done: {}, pending: {} after {:.2}s",
        done.len(),
        pending.len(),
        start.elapsed().as_secs_f64()
    );

    let start = Instant::now();
    println!("FIRST_COMPLETED:");
    let tasks = vec![eddy::spawn(job("fast", 1.0)), eddy::spawn(job("slow", 2.0))];
    let (done, pending) = eddy::wait(tasks).return_when(ReturnWhen::FirstCompleted).await;
    println!(
        "  done: {}, pending: {} after {:.2}s",
        done.len(),
        pending.len(),
        start.elapsed().as_secs_f64()
    );
    for task in done {
        println!("  done task returned {:?}", task.await.unwrap());
    }
    // Nothing was cancelled: the pending task is still running and finishes on its own.
    for task in pending {
        println!("  the pending task went on and returned {:?}", task.await.unwrap());
    }
    println!("  total {:.2}s", start.elapsed().as_secs_f64());
}

fn main() {
    eddy::run(main_async());
}
