//! An event loop you keep: build it once, run several things on it, then close it.
//!
//! asyncio: `loop = asyncio.new_event_loop()`, `loop.run_until_complete(...)` twice, then
//! `loop.close()` (or `asyncio.Runner` in a `with` block). In eddy: `Runtime::builder()`,
//! `block_on` as often as needed, then drop the runtime, which cancels whatever is left.
//!
//! Run with `cargo run --release --example runner`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Scales the delays down when the test matrix runs this as a smoke test.
fn scaled(seconds: f64) -> Duration {
    let factor = if std::env::var_os("EDDY_EXAMPLE_SMOKE").is_some() { 0.1 } else { 1.0 };
    Duration::from_secs_f64(seconds * factor)
}

async fn work(label: &str, seconds: f64) -> String {
    println!("{label}: working for {seconds}s");
    eddy::sleep(scaled(seconds)).await;
    format!("{label} done")
}

fn main() -> std::io::Result<()> {
    let start = Instant::now();
    let rt = eddy::Runtime::builder().local().build()?;

    // First `run_until_complete`.
    println!("{}", rt.block_on(work("first run", 0.5)));

    // A background task started during one run keeps going during the next.
    let heartbeats = Arc::new(AtomicUsize::new(0));
    rt.block_on({
        let heartbeats = heartbeats.clone();
        async move {
            eddy::spawn(async move {
                loop {
                    eddy::sleep(scaled(0.1)).await;
                    heartbeats.fetch_add(1, Ordering::Relaxed);
                }
            })
            .detach();
        }
    });

    // Second `run_until_complete`.
    println!("{}", rt.block_on(work("second run", 0.5)));
    println!("the background task beat {} times during the second run", heartbeats.load(Ordering::Relaxed));

    // `loop.close()`: dropping the runtime cancels the background task.
    drop(rt);
    println!("runtime closed after {:.2}s", start.elapsed().as_secs_f64());
    Ok(())
}
