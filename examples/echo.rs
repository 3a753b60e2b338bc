//! A TCP echo server and client (asyncio's `start_server` / `open_connection`).
//!
//! ```text
//! cargo run --release --example echo                          # demo: server and client in one
//! cargo run --release --example echo -- server 127.0.0.1:7000 # serve until interrupted
//! cargo run --release --example echo -- client 127.0.0.1:7000 # send stdin lines, print replies
//! ```

use std::io;

use eddy::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use eddy::net::{TcpListener, TcpStream};

async fn serve(listener: TcpListener) -> io::Result<()> {
    println!("Serving on {}", listener.local_addr()?);
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(conn) => conn,
            // A failed accept (out of file descriptors, a connection reset before we got it)
            // concerns that connection only: report it and keep serving.
            Err(e) => {
                eprintln!("accept failed: {e}");
                eddy::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        eddy::spawn(async move {
            println!("{peer} connected");
            match echo(stream).await {
                Ok(bytes) => println!("{peer} closed after {bytes} bytes"),
                Err(e) => println!("{peer} failed: {e}"),
            }
        })
        .detach();
    }
}

/// Sends back everything it receives, until the peer closes.
async fn echo(mut stream: TcpStream) -> io::Result<u64> {
    let mut total = 0;
    let mut buf = vec![0; 16 * 1024];
    loop {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Ok(total);
        }
        stream.write_all(&buf[..n]).await?;
        total += n as u64;
    }
}

/// Sends each line and prints what comes back.
async fn client(addr: &str, lines: Vec<String>) -> io::Result<()> {
    let stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let mut reader = BufReader::new(stream);
    for line in lines {
        reader.get_mut().write_all(format!("{line}\n").as_bytes()).await?;
        let mut reply = String::new();
        reader.read_line(&mut reply).await?;
        println!("echo: {}", reply.trim_end());
    }
    reader.get_mut().close().await
}

fn stdin_lines() -> Vec<String> {
    io::stdin().lines().map_while(Result::ok).collect()
}

async fn main_async() -> io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["server", addr] => serve(TcpListener::bind(*addr).await?).await,
        ["client", addr] => client(addr, stdin_lines()).await,
        [] => {
            let listener = TcpListener::bind("127.0.0.1:0").await?;
            let addr = listener.local_addr()?.to_string();
            eddy::spawn(serve(listener)).detach();
            let lines = ["hello", "asyncio, meet eddy", "bye"].map(String::from).to_vec();
            client(&addr, lines).await
        }
        _ => {
            eprintln!("usage: echo [server ADDR | client ADDR]");
            Err(io::Error::new(io::ErrorKind::InvalidInput, "bad arguments"))
        }
    }
}

fn main() -> io::Result<()> {
    eddy::run(main_async())
}
