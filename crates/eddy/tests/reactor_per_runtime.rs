//! Each runtime has a reactor of its own: I/O objects and timers that outlive their runtime, and
//! a `block_on` nested in a task, still behave.

mod common;

use std::io::{Read, Write};
use std::time::Duration;

use eddy::io::{AsyncReadExt, AsyncWriteExt};
use eddy::net::{TcpListener, TcpStream};
use futures_lite::future::poll_once;

#[test]
fn an_io_object_outliving_its_runtime_fails_its_waits_with_a_clear_error() {
    let rt = common::runtime();
    let listener = rt.block_on(TcpListener::bind("127.0.0.1:0")).unwrap();
    let addr = listener.local_addr().unwrap();
    drop(rt);
    // What needs no wait still works: a connection already queued is accepted.
    let client = std::net::TcpStream::connect(addr).unwrap();
    let accepted = eddy::block_on(eddy::timeout(Duration::from_secs(5), listener.accept()));
    assert!(accepted.expect("the queued connection was not accepted").is_ok());
    // A wait fails at once, and says why, instead of waiting on a reactor nobody drives.
    let waited = eddy::block_on(eddy::timeout(Duration::from_secs(5), listener.accept()));
    let error = waited.expect("the wait hung until the timeout").unwrap_err();
    assert!(error.to_string().contains("runtime"), "unclear error: {error}");
    assert!(error.to_string().contains("shut down"), "unclear error: {error}");
    drop(client);
    // The next runtime serves its own objects as usual.
    common::block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
        let (mut server, _) = listener.accept().await.unwrap();
        client.write_all(b"ok").await.unwrap();
        let mut buf = [0; 2];
        server.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"ok");
    });
}

#[test]
fn a_timer_outliving_its_runtime_fires_in_the_next() {
    let first = common::runtime();
    let mut timer = eddy::sleep(Duration::from_millis(30));
    assert!(first.block_on(poll_once(&mut timer)).is_none());
    drop(first);
    let second = common::runtime();
    second.block_on(eddy::timeout(Duration::from_secs(10), &mut timer)).expect("the timer was lost");
    // And outside any runtime as well.
    let mut timer = eddy::sleep(Duration::from_millis(30));
    assert!(second.block_on(poll_once(&mut timer)).is_none());
    drop(second);
    eddy::block_on(eddy::timeout(Duration::from_secs(10), &mut timer)).expect("the timer was lost");
}

#[test]
fn a_block_on_nested_in_a_task_drives_its_runtimes_io() {
    common::block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let client = std::thread::spawn(move || {
            let mut stream = std::net::TcpStream::connect(addr).unwrap();
            stream.write_all(b"nested").unwrap();
            let mut buf = [0; 6];
            stream.read_exact(&mut buf).unwrap();
            buf
        });
        // The task blocks its thread (the only one, on the local runtime) in a `block_on` that
        // waits on the runtime's own listener: that `block_on` must drive the runtime's reactor.
        let echoed = eddy::spawn(async move {
            eddy::block_on(eddy::timeout(Duration::from_secs(10), async {
                let (mut stream, _) = listener.accept().await?;
                let mut buf = [0; 6];
                stream.read_exact(&mut buf).await?;
                stream.write_all(&buf).await?;
                std::io::Result::Ok(())
            }))
        })
        .await
        .unwrap();
        echoed.expect("the nested block_on never saw the runtime's I/O").unwrap();
        assert_eq!(&client.join().unwrap(), b"nested");
    });
}

#[test]
fn two_runtimes_serve_their_own_io_side_by_side() {
    let (idle, busy) = (common::runtime(), common::runtime());
    // The idle runtime waits on a socket of its own, in a task, the whole time.
    let idle_listener = idle.block_on(TcpListener::bind("127.0.0.1:0")).unwrap();
    let idle_addr = idle_listener.local_addr().unwrap();
    let waiting = idle.handle().spawn(async move { idle_listener.accept().await.map(|_| ()) });
    let rounds = busy.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
        let (mut server, _) = listener.accept().await.unwrap();
        let echo = eddy::spawn(async move {
            let mut buf = [0; 8];
            for _ in 0..200 {
                server.read_exact(&mut buf).await.unwrap();
                server.write_all(&buf).await.unwrap();
            }
        });
        let mut buf = [0; 8];
        for round in 0..200u64 {
            client.write_all(&round.to_le_bytes()).await.unwrap();
            client.read_exact(&mut buf).await.unwrap();
            assert_eq!(u64::from_le_bytes(buf), round);
        }
        echo.await.unwrap();
        200
    });
    assert_eq!(rounds, 200);
    // The idle runtime still serves its own socket.
    let _client = std::net::TcpStream::connect(idle_addr).unwrap();
    idle.block_on(eddy::timeout(Duration::from_secs(10), waiting))
        .expect("the idle runtime's accept never completed")
        .unwrap()
        .unwrap();
}
