//! A task fails; the code awaiting it catches the error, and the event loop keeps running.
//!
//! asyncio: a task raises `ValueError("Something went wrong!")`, `await task` inside
//! `try/except` prints `Caught an error: Something went wrong!`.
//!
//! In Rust a task reports failure by returning `Err`, which its awaiter receives as a value;
//! a task that panics instead is caught too, as a `JoinError`.
//!
//! Run with `cargo run --release --example errors`.

use std::fmt;

#[derive(Debug)]
struct ValueError(String);

impl fmt::Display for ValueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ValueError {}

async fn faulty() -> Result<(), ValueError> {
    Err(ValueError("Something went wrong!".into()))
}

async fn main_async() {
    // The task returns an error: awaiting it gives `Ok(Err(..))`: it ran, and it failed.
    let task = eddy::spawn(faulty());
    match task.await {
        Ok(Err(e)) => println!("Caught an error: {e}"),
        Ok(Ok(())) => println!("No error?"),
        Err(join_error) => println!("The task did not finish: {join_error}"),
    }

    // A task that panics is caught as well; the panic never reaches the event loop.
    let task = eddy::task::Builder::new().name("divider").spawn(async {
        let divisor = std::hint::black_box(0);
        100 / divisor
    });
    match task.await {
        Ok(value) => println!("Got {value}"),
        Err(e) => println!("Caught a panic: {e}"),
    }

    // The loop keeps running.
    let after = eddy::spawn(async { "the event loop is still running" }).await.unwrap();
    println!("{after}");
}

fn main() {
    // The panic above is expected: keep the default hook from printing a backtrace hint.
    std::panic::set_hook(Box::new(|_| {}));
    eddy::run(main_async());
}
