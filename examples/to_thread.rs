//! Blocking work moved off the event loop, while a ticker keeps running.
//!
//! asyncio: `time.sleep`, a CPU-bound loop, or a blocking HTTP call inside a coroutine would
//! stall every other task; `await asyncio.to_thread(f)` runs `f` on a thread pool instead. Here
//! a ticker task prints while three kinds of blocking work run through `eddy::to_thread`.
//!
//! Run with `cargo run --release --example to_thread`.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use eddy::io::{AsyncReadExt, AsyncWriteExt};
use eddy::net::TcpListener;

/// Scales the delays down when the test matrix runs this as a smoke test.
fn scaled(seconds: f64) -> Duration {
    let factor = if std::env::var_os("EDDY_EXAMPLE_SMOKE").is_some() { 0.1 } else { 1.0 };
    Duration::from_secs_f64(seconds * factor)
}

/// A blocking HTTP GET with std's synchronous socket: fine on a pool thread, fatal on the loop.
fn blocking_get(addr: std::net::SocketAddr) -> std::io::Result<String> {
    let mut stream = std::net::TcpStream::connect(addr)?;
    stream.write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    Ok(response.lines().next().unwrap_or_default().to_owned())
}

async fn main_async() -> std::io::Result<()> {
    let start = Instant::now();
    let ticker = eddy::spawn(async move {
        loop {
            eddy::sleep(scaled(0.25)).await;
            println!("  tick at {:.2}s", start.elapsed().as_secs_f64());
        }
    });

    // A tiny async HTTP server on this loop, for the blocking client below to call.
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    eddy::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let mut request = [0; 1024];
            let _ = stream.read(&mut request).await;
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok").await;
        }
    })
    .detach();

    println!("blocking sleep of {:?} on a pool thread", scaled(1.0));
    let delay = scaled(1.0);
    eddy::to_thread(move || std::thread::sleep(delay)).await.map_err(std::io::Error::from)?;

    println!("CPU-bound loop on a pool thread");
    let sum = eddy::to_thread(|| (0..50_000_000u64).fold(0u64, |acc, x| acc.wrapping_add(x * x)))
        .await
        .map_err(std::io::Error::from)?;
    println!("  sum of squares: {sum}");

    println!("blocking HTTP call on a pool thread");
    let status = eddy::to_thread(move || blocking_get(addr)).await.map_err(std::io::Error::from)??;
    println!("  {status}");

    drop(ticker);
    println!("done in {:.2}s; the ticker never stopped", start.elapsed().as_secs_f64());
    Ok(())
}

fn main() -> std::io::Result<()> {
    eddy::run(main_async())
}
