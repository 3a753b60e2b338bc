//! The headline demo: fetch URLs one after another, then all at once, and compare.
//!
//! asyncio tutorial: three URLs fetched sequentially take about the sum of their times; with
//! `create_task` + `gather` they take about as long as the slowest one. A third run uses
//! `gather_limit` to fetch at most two at a time (the "K at a time" pattern).
//!
//! ```text
//! cargo run --release --example fetch                       # against a built-in local server
//! cargo run --release --example fetch -- http://example.com/ http://example.org/
//! ```
//!
//! With no URLs, the program starts its own HTTP server on 127.0.0.1, whose responses take a set
//! delay (0.5 s, 1 s and 1.5 s), so it runs anywhere with no network. Only plain `http://` is
//! supported: the client is a few lines of HTTP/1.1 written against eddy's `TcpStream`.

use std::io;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use eddy::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use eddy::net::{TcpListener, TcpStream};

/// Scales the demo's delays down when the test matrix runs it as a smoke test.
fn scaled(seconds: f64) -> Duration {
    let factor = if std::env::var_os("EDDY_EXAMPLE_SMOKE").is_some() { 0.1 } else { 1.0 };
    Duration::from_secs_f64(seconds * factor)
}

/// A parsed `http://host[:port][/path]` URL.
struct Url {
    host: String,
    port: u16,
    path: String,
}

fn parse_url(url: &str) -> io::Result<Url> {
    let invalid = |why: &str| io::Error::new(io::ErrorKind::InvalidInput, format!("{url}: {why}"));
    let rest = url.strip_prefix("http://").ok_or_else(|| invalid("only plain http:// URLs are supported"))?;
    let (authority, path) =
        rest.split_once('/').map_or((rest, "/".to_owned()), |(a, p)| (a, format!("/{p}")));
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) => (host, port.parse().map_err(|_| invalid("bad port"))?),
        None => (authority, 80),
    };
    if host.is_empty() {
        return Err(invalid("no host"));
    }
    Ok(Url { host: host.to_owned(), port, path })
}

/// What a fetch returned: the status line and the body's size.
struct Response {
    status: String,
    bytes: usize,
}

/// GETs `url` with HTTP/1.1 and `Connection: close`, reading the response to its end.
async fn fetch(url: &str) -> io::Result<Response> {
    let Url { host, port, path } = parse_url(url)?;
    let mut stream = TcpStream::connect((host.as_str(), port)).await?;
    let request =
        format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: eddy-fetch\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await?;
    let text = String::from_utf8_lossy(&response);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status =
        head.lines().next().and_then(|l| l.split_once(' ')).map_or("(no status)", |(_, s)| s).to_owned();
    Ok(Response { status, bytes: body.len() })
}

/// Fetches `url`, printing how it went and how long it took.
async fn fetch_and_report(url: String, start: Instant) {
    let began = Instant::now();
    match fetch(&url).await {
        Ok(r) => println!(
            "  {url}: {} ({} bytes) in {:.2}s [at {:.2}s]",
            r.status,
            r.bytes,
            began.elapsed().as_secs_f64(),
            start.elapsed().as_secs_f64()
        ),
        Err(e) => println!("  {url}: error: {e}"),
    }
}

/// Serves `GET /delay/<ms>`: waits that long, then answers with a short text.
async fn serve(listener: TcpListener) {
    loop {
        let Ok((stream, _)) = listener.accept().await else { continue };
        eddy::spawn(async move {
            if let Err(e) = handle(stream).await {
                eprintln!("server: {e}");
            }
        })
        .detach();
    }
}

async fn handle(stream: TcpStream) -> io::Result<()> {
    let mut reader = BufReader::new(stream);
    let mut request_line = String::new();
    reader.read_line(&mut request_line).await?;
    // Skip the headers, up to the blank line.
    let mut line = String::new();
    while reader.read_line(&mut line).await? > 2 {
        line.clear();
    }
    let path = request_line.split_whitespace().nth(1).unwrap_or("/");
    let delay_ms: u64 = path.strip_prefix("/delay/").and_then(|ms| ms.parse().ok()).unwrap_or(0);
    eddy::sleep(Duration::from_millis(delay_ms)).await;
    let body = format!("Hello from eddy after {delay_ms} ms\n");
    let response = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let mut stream = reader.into_inner();
    stream.write_all(response.as_bytes()).await?;
    stream.close().await
}

/// Wall-clock time of day (UTC), as the asyncio tutorial prints with `time.strftime('%X')`.
fn time_of_day() -> String {
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    format!("{:02}:{:02}:{:02} UTC", secs / 3600 % 24, secs / 60 % 60, secs % 60)
}

async fn main_async() -> io::Result<()> {
    let mut urls: Vec<String> = std::env::args().skip(1).collect();
    if urls.is_empty() {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        eddy::spawn(serve(listener)).detach();
        urls = [0.5, 1.0, 1.5]
            .iter()
            .map(|&s| format!("http://{addr}/delay/{}", scaled(s).as_millis()))
            .collect();
        println!("No URLs given: serving delayed responses on http://{addr}/");
    }

    println!("\nSequential: one after another (started at {})", time_of_day());
    let start = Instant::now();
    for url in &urls {
        fetch_and_report(url.clone(), start).await;
    }
    let sequential = start.elapsed();
    println!("Sequential total: {:.2}s", sequential.as_secs_f64());

    println!("\nConcurrent: gather over one task per URL (started at {})", time_of_day());
    let start = Instant::now();
    let tasks = urls.iter().map(|url| eddy::spawn(fetch_and_report(url.clone(), start)));
    for result in eddy::gather(tasks).await {
        result.map_err(io::Error::from)?;
    }
    let concurrent = start.elapsed();
    println!("Concurrent total: {:.2}s", concurrent.as_secs_f64());

    println!("\nAt most 2 at a time: gather_limit (started at {})", time_of_day());
    let start = Instant::now();
    let fetches = urls.iter().map(|url| fetch_and_report(url.clone(), start));
    eddy::gather_limit(2, fetches).await.map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    println!("Two at a time total: {:.2}s", start.elapsed().as_secs_f64());

    println!(
        "\n{} URLs: sequential {:.2}s, concurrent {:.2}s ({:.1}x faster)",
        urls.len(),
        sequential.as_secs_f64(),
        concurrent.as_secs_f64(),
        sequential.as_secs_f64() / concurrent.as_secs_f64().max(1e-9)
    );
    Ok(())
}

fn main() -> io::Result<()> {
    eddy::run(main_async())
}
