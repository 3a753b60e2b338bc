//! An I/O object made outside any runtime (from a `std` socket, before the runtime exists)
//! works inside one. Alone in its binary: it checks that the global reactor gets a driver of its
//! own once such an object waits where a runtime's reactor is current, and another test's
//! `eddy::block_on` would drive the global reactor by accident.

mod common;

use std::io::Write;
use std::time::Duration;

use eddy::io::AsyncReadExt;
use eddy::net::TcpListener;

#[test]
fn a_listener_made_outside_any_runtime_accepts_inside_one() {
    let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = std_listener.local_addr().unwrap();
    std_listener.set_nonblocking(true).unwrap();
    let listener = TcpListener::try_from(std_listener).unwrap();
    let received = common::block_on(async move {
        // The client connects only once the accept below waits.
        let client = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            let mut stream = std::net::TcpStream::connect(addr).unwrap();
            stream.write_all(b"hello").unwrap();
        });
        let received = eddy::timeout(Duration::from_secs(10), async {
            let (mut stream, _) = listener.accept().await?;
            let mut buf = [0; 5];
            stream.read_exact(&mut buf).await?;
            std::io::Result::Ok(buf)
        })
        .await;
        client.join().unwrap();
        received
    });
    let received = received.expect("the listener made outside the runtime never saw its client");
    assert_eq!(&received.unwrap(), b"hello");
}
