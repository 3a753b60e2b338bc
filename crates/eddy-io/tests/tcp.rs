//! TCP over loopback: many concurrent connections, half-close, large transfers.

use std::time::Duration;

use eddy_io::net::{TcpListener, TcpStream};
use eddy_local::LocalExecutor;
use futures_lite::io::{AsyncReadExt, AsyncWriteExt};
use futures_lite::StreamExt;

/// Runs `f` on a local executor embedded in eddy-io's `block_on`, with a safety timeout.
fn run<T>(f: impl std::future::Future<Output = T>) -> T {
    let ex = LocalExecutor::new();
    eddy_io::block_on(
        ex.run(async { eddy_io::timeout(Duration::from_secs(60), f).await.expect("test timed out") }),
    )
}

async fn echo(mut stream: TcpStream) -> std::io::Result<()> {
    let mut buf = vec![0; 4096];
    loop {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        stream.write_all(&buf[..n]).await?;
    }
}

#[test]
fn echo_with_many_concurrent_connections() {
    const CLIENTS: usize = 64;
    const ROUNDS: usize = 50;
    run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = eddy_task::spawn_local(async move {
            let mut incoming = listener.incoming();
            let mut handlers = Vec::new();
            for _ in 0..CLIENTS {
                let stream = incoming.next().await.unwrap().unwrap();
                handlers.push(eddy_task::spawn_local(echo(stream)));
            }
            for handler in handlers {
                handler.await.unwrap().unwrap();
            }
        });
        let clients: Vec<_> = (0..CLIENTS)
            .map(|c| {
                eddy_task::spawn_local(async move {
                    let mut stream = TcpStream::connect(addr).await.unwrap();
                    stream.set_nodelay(true).unwrap();
                    for r in 0..ROUNDS {
                        let msg = format!("client {c:03} round {r:03} padding to sixty-four bytes........");
                        stream.write_all(msg.as_bytes()).await.unwrap();
                        let mut back = vec![0; msg.len()];
                        stream.read_exact(&mut back).await.unwrap();
                        assert_eq!(back, msg.as_bytes());
                    }
                })
            })
            .collect();
        for client in clients {
            client.await.unwrap();
        }
        server.await.unwrap();
    });
}

#[test]
fn half_close_lets_the_peer_finish_reading_and_reply() {
    run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = eddy_task::spawn_local(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut request = Vec::new();
            stream.read_to_end(&mut request).await.unwrap(); // ends at the client's half-close
            stream.write_all(format!("got {} bytes", request.len()).as_bytes()).await.unwrap();
            stream.close().await.unwrap();
        });
        let mut client = TcpStream::connect(addr).await.unwrap();
        client.write_all(&[7; 1000]).await.unwrap();
        client.close().await.unwrap(); // shut down the write side only
        let mut reply = String::new();
        client.read_to_string(&mut reply).await.unwrap();
        assert_eq!(reply, "got 1000 bytes");
        server.await.unwrap();
    });
}

#[test]
fn large_transfers_with_partial_reads_and_writes() {
    const SIZE: usize = 16 * 1024 * 1024;
    run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let data: Vec<u8> = (0..SIZE).map(|i| (i % 251) as u8).collect();
        let expected = data.clone();
        let sender = eddy_task::spawn_local(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            // Irregular chunk sizes, so writes end mid-buffer and the kernel buffer fills.
            let mut offset = 0;
            let mut chunk = 1;
            while offset < data.len() {
                let end = (offset + chunk).min(data.len());
                let n = stream.write(&data[offset..end]).await.unwrap();
                assert!(n > 0);
                offset += n;
                chunk = (chunk * 7 + 13) % 200_000 + 1;
            }
            stream.close().await.unwrap();
        });
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let mut received = Vec::with_capacity(SIZE);
        let mut buf = vec![0; 3333];
        loop {
            let n = stream.read(&mut buf).await.unwrap();
            if n == 0 {
                break;
            }
            received.extend_from_slice(&buf[..n]);
        }
        sender.await.unwrap();
        assert_eq!(received.len(), expected.len());
        assert!(received == expected, "the transferred bytes differ");
    });
}

#[test]
fn buffered_reading_of_lines() {
    use futures_lite::io::AsyncBufReadExt;
    run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let writer = eddy_task::spawn_local(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            stream.write_all(b"first\nsecond\nthird").await.unwrap();
        });
        let stream = TcpStream::connect(addr).await.unwrap();
        let lines: Vec<String> = stream.lines().map(Result::unwrap).collect().await;
        assert_eq!(lines, ["first", "second", "third"]);
        writer.await.unwrap();
    });
}

#[test]
fn addresses_and_options() {
    run(async {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let client = TcpStream::connect(format!("localhost:{}", addr.port())).await.unwrap();
        let (server, peer) = listener.accept().await.unwrap();
        assert_eq!(client.peer_addr().unwrap(), addr);
        assert_eq!(client.local_addr().unwrap(), peer);
        assert_eq!(server.peer_addr().unwrap(), peer);
        client.set_nodelay(true).unwrap();
        assert!(client.nodelay().unwrap());
        assert!(format!("{client:?}").contains("TcpStream"));
    });
}
