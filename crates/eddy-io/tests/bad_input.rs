//! Bad input is an `io::Error` with context on that operation only; nothing panics and every
//! other operation keeps working.

use std::io::ErrorKind;
use std::time::Duration;

use eddy_io::net::{TcpListener, TcpStream, UdpSocket};
use eddy_local::LocalExecutor;
use futures_lite::io::{AsyncReadExt, AsyncWriteExt};

fn run<T>(f: impl std::future::Future<Output = T>) -> T {
    let ex = LocalExecutor::new();
    eddy_io::block_on(
        ex.run(async { eddy_io::timeout(Duration::from_secs(30), f).await.expect("test timed out") }),
    )
}

/// A loopback port with nothing listening on it.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

#[test]
fn a_refused_connection_names_the_address() {
    let port = closed_port();
    let err = run(TcpStream::connect(("127.0.0.1", port))).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ConnectionRefused, "{err}");
    assert!(err.to_string().contains(&format!("connect to 127.0.0.1:{port}")), "{err}");
    let source = std::error::Error::source(err.get_ref().unwrap()).expect("the OS error is the source");
    assert!(source.to_string().contains("refused"), "{source}");
}

#[test]
fn an_unresolvable_host_is_an_error() {
    // `.invalid` is reserved and never resolves (RFC 2606); the lookup runs off the reactor.
    let err = run(TcpStream::connect("no-such-host.invalid:80")).unwrap_err();
    assert!(err.to_string().contains("resolve \"no-such-host.invalid:80\""), "{err}");
}

#[test]
fn malformed_addresses_are_errors() {
    let err = run(TcpStream::connect("not an address")).unwrap_err();
    assert!(err.to_string().contains("resolve"), "{err}");
    let err = run(TcpListener::bind(Vec::new())).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
}

#[test]
fn binding_an_address_in_use_names_it() {
    run(async {
        let first = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = first.local_addr().unwrap();
        let err = TcpListener::bind(addr).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::AddrInUse, "{err}");
        assert!(err.to_string().contains(&addr.to_string()), "{err}");
    });
}

#[test]
fn a_peer_reset_is_an_error_on_that_stream_only() {
    run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut client = TcpStream::connect(addr).await.unwrap();
        let (server, _) = listener.accept().await.unwrap();
        // SO_LINGER with a zero timeout makes close() send RST instead of FIN.
        rustix::net::sockopt::set_socket_linger(&server, Some(Duration::ZERO)).unwrap();
        drop(server);
        eddy_io::sleep(Duration::from_millis(20)).await;
        let mut buf = [0; 16];
        let err = client.read(&mut buf).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ConnectionReset, "{err}");

        // The listener and new connections are unaffected.
        let mut again = TcpStream::connect(addr).await.unwrap();
        let (mut server, _) = listener.accept().await.unwrap();
        again.write_all(b"ok").await.unwrap();
        server.read_exact(&mut buf[..2]).await.unwrap();
        assert_eq!(&buf[..2], b"ok");
    });
}

#[test]
fn writing_to_a_closed_socket_is_an_error() {
    run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
        let (server, _) = listener.accept().await.unwrap();
        drop(server);
        // The first writes may be accepted by the kernel; the peer answers with RST, after which
        // writes fail with a broken pipe or a reset, never a panic or a SIGPIPE death.
        let mut failure = None;
        for _ in 0..100 {
            if let Err(e) = client.write_all(&[0; 1024]).await {
                failure = Some(e);
                break;
            }
            eddy_io::sleep(Duration::from_millis(5)).await;
        }
        let err = failure.expect("writes to a closed peer kept succeeding");
        assert!(matches!(err.kind(), ErrorKind::BrokenPipe | ErrorKind::ConnectionReset), "{err}");
    });
}

#[test]
fn udp_to_a_closed_port_reports_refusal_on_the_connected_socket() {
    run(async {
        let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        socket.connect(("127.0.0.1", closed_port())).await.unwrap();
        socket.send(b"anyone?").await.unwrap();
        // The ICMP port-unreachable comes back as an error on a later call.
        let mut buf = [0; 8];
        let err = eddy_io::timeout(Duration::from_secs(5), socket.recv(&mut buf)).await.unwrap().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ConnectionRefused, "{err}");
    });
}
