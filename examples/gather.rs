//! Three coroutines run concurrently and their results come back in argument order.
//!
//! asyncio: `await asyncio.gather(count(), count(), count())` prints `One One One Two Two Two`
//! in about 1 s, and returns the results in argument order. In eddy: `eddy::join!` for a fixed
//! set of futures, `eddy::gather` for any number.
//!
//! Run with `cargo run --release --example gather`.

use std::time::{Duration, Instant};

/// Scales the delays down when the test matrix runs this as a smoke test.
fn scaled(seconds: f64) -> Duration {
    let factor = if std::env::var_os("EDDY_EXAMPLE_SMOKE").is_some() { 0.1 } else { 1.0 };
    Duration::from_secs_f64(seconds * factor)
}

async fn count(id: u32) -> u32 {
    println!("One");
    eddy::sleep(scaled(1.0)).await;
    println!("Two");
    id * 10
}

async fn main_async() {
    let start = Instant::now();
    let (a, b, c) = eddy::join!(count(1), count(2), count(3));
    println!("join!: ({a}, {b}, {c}) in {:.2} seconds.", start.elapsed().as_secs_f64());

    let start = Instant::now();
    let results = eddy::gather((1..=3).map(count)).await;
    println!("gather: {results:?}, in argument order, in {:.2} seconds.", start.elapsed().as_secs_f64());
}

fn main() {
    eddy::run(main_async());
}
