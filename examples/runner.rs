//! An event loop you keep: build it once, run several things on it, then close it.
//!
//! asyncio: `loop = asyncio.new_event_loop()`, `loop.run_until_complete(...)` twice, then
//! `loop.close()` (or `asyncio.Runner` in a `with` block). In eddy: `Runtime::builder()`,
//! `block_on` as often as needed, then drop the runtime, which cancels whatever is left.
//!
//! Run with `cargo run --release --example runner`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

async fn count(label: &str, n: usize) -> usize {
    for i in 1..=n {
        println!("{label}: step {i}/{n}");
        eddy::yield_now().await;
    }
    n
}

fn main() -> std::io::Result<()> {
    let rt = eddy::Runtime::builder().local().build()?;

    // First `run_until_complete`.
    let first = rt.block_on(count("first run", 3));
    println!("first run returned {first}");

    // A background task started during one run keeps its state and goes on in the next.
    let heartbeats = Arc::new(AtomicUsize::new(0));
    rt.block_on({
        let heartbeats = heartbeats.clone();
        async move {
            eddy::spawn(async move {
                loop {
                    heartbeats.fetch_add(1, Ordering::Relaxed);
                    eddy::yield_now().await;
                }
            })
            .detach();
        }
    });

    // Second `run_until_complete`.
    let second = rt.block_on(count("second run", 2));
    println!(
        "second run returned {second}; the background task beat {} times",
        heartbeats.load(Ordering::Relaxed)
    );

    // `loop.close()`: dropping the runtime cancels the background task.
    drop(rt);
    println!("runtime closed");
    Ok(())
}
