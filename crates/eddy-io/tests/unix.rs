//! Unix-domain stream and datagram sockets.

use std::path::PathBuf;
use std::time::Duration;

use eddy_io::net::{UnixDatagram, UnixListener, UnixStream};
use eddy_local::LocalExecutor;
use futures_lite::io::{AsyncReadExt, AsyncWriteExt};

fn run<T>(f: impl std::future::Future<Output = T>) -> T {
    let ex = LocalExecutor::new();
    eddy_io::block_on(
        ex.run(async { eddy_io::timeout(Duration::from_secs(30), f).await.expect("test timed out") }),
    )
}

/// A directory of one test's socket files, removed with everything in it when dropped (also
/// when the test fails).
struct TempDir(PathBuf);

impl TempDir {
    fn new(test: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("eddy-io-test-{}-{test}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn stream_echo_over_a_socket_file() {
    let dir = TempDir::new("echo");
    let path = dir.path("echo.sock");
    run(async {
        let listener = UnixListener::bind(&path).unwrap();
        let server = eddy_task::spawn_local(async move {
            for _ in 0..3 {
                let (mut stream, _) = listener.accept().await.unwrap();
                let mut buf = [0; 64];
                let n = stream.read(&mut buf).await.unwrap();
                stream.write_all(&buf[..n]).await.unwrap();
            }
        });
        for i in 0..3 {
            let mut client = UnixStream::connect(&path).await.unwrap();
            let msg = format!("message {i}");
            client.write_all(msg.as_bytes()).await.unwrap();
            let mut back = vec![0; msg.len()];
            client.read_exact(&mut back).await.unwrap();
            assert_eq!(back, msg.as_bytes());
        }
        server.await.unwrap();
    });
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn stream_pair_transfers_both_ways() {
    run(async {
        let (mut a, mut b) = UnixStream::pair().unwrap();
        a.write_all(b"to b").await.unwrap();
        b.write_all(b"to a").await.unwrap();
        let mut buf = [0; 4];
        b.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"to b");
        a.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"to a");
        a.close().await.unwrap();
        let mut rest = Vec::new();
        b.read_to_end(&mut rest).await.unwrap();
        assert!(rest.is_empty());
    });
}

#[test]
fn datagrams_to_bound_paths() {
    let dir = TempDir::new("dgram");
    let server_path = dir.path("dgram-server.sock");
    run(async {
        let server = UnixDatagram::bind(&server_path).unwrap();
        let client = UnixDatagram::unbound().unwrap();
        client.send_to(b"ping", &server_path).await.unwrap();
        let mut buf = [0; 8];
        let (n, _) = server.recv_from(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"ping");
        client.connect(&server_path).unwrap();
        client.send(b"again").await.unwrap();
        let n = server.recv(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"again");
    });
    std::fs::remove_file(&server_path).unwrap();
}

#[test]
fn connecting_to_a_missing_path_is_an_error() {
    let dir = TempDir::new("missing");
    let path = dir.path("nobody-listens.sock");
    let err = run(UnixStream::connect(&path)).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::NotFound, "{err}");
    assert!(err.to_string().contains("nobody-listens.sock"), "{err}");
}
