//! Another OS thread submits a coroutine to the running loop and waits for its result.
//!
//! asyncio: `asyncio.run_coroutine_threadsafe(coro, loop).result()` from a plain thread. In
//! eddy: `handle.spawn(fut)` from any thread, and `eddy::block_on(task)` to wait for it there.
//!
//! Run with `cargo run --release --example threadsafe`.

use std::time::{Duration, Instant};

/// Scales the delays down when the test matrix runs this as a smoke test.
fn scaled(seconds: f64) -> Duration {
    let factor = if std::env::var_os("EDDY_EXAMPLE_SMOKE").is_some() { 0.1 } else { 1.0 };
    Duration::from_secs_f64(seconds * factor)
}

async fn slow_square(x: u64) -> u64 {
    eddy::sleep(scaled(0.5)).await;
    x * x
}

fn main() {
    let start = Instant::now();
    eddy::run(async move {
        let handle = eddy::Handle::current();

        // A plain thread, not part of the runtime, submits work and blocks on the result.
        let worker = std::thread::spawn(move || {
            let results: Vec<u64> = (1..=3)
                .map(|x| {
                    let task = handle.spawn(slow_square(x)); // run_coroutine_threadsafe
                    let result = eddy::block_on(task).expect("the coroutine failed"); // .result()
                    println!("[plain thread] square of {x} is {result}");
                    result
                })
                .collect();
            results.iter().sum::<u64>()
        });

        // Meanwhile the loop goes on with its own work.
        while !worker.is_finished() {
            println!("[event loop] still serving at {:.2}s", start.elapsed().as_secs_f64());
            eddy::sleep(scaled(0.4)).await;
        }
        let total = worker.join().expect("the plain thread panicked");
        println!("[event loop] the plain thread's total: {total}");
    });
}
