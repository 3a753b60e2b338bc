//! UDP round trips.

use std::time::Duration;

use eddy_io::net::UdpSocket;

fn run<T>(f: impl std::future::Future<Output = T>) -> T {
    eddy_io::block_on(async { eddy_io::timeout(Duration::from_secs(30), f).await.expect("test timed out") })
}

#[test]
fn send_to_and_recv_from_round_trips() {
    run(async {
        let server = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let client = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let server_addr = server.local_addr().unwrap();
        for i in 0..100u32 {
            client.send_to(&i.to_be_bytes(), server_addr).await.unwrap();
            let mut buf = [0; 16];
            let (n, from) = server.recv_from(&mut buf).await.unwrap();
            assert_eq!(from, client.local_addr().unwrap());
            server.send_to(&buf[..n], from).await.unwrap();
            let (n, _) = client.recv_from(&mut buf).await.unwrap();
            assert_eq!(&buf[..n], i.to_be_bytes());
        }
    });
}

#[test]
fn connected_sockets_send_and_recv() {
    run(async {
        let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        a.connect(b.local_addr().unwrap()).await.unwrap();
        b.connect(a.local_addr().unwrap()).await.unwrap();
        assert_eq!(a.peer_addr().unwrap(), b.local_addr().unwrap());
        a.send(b"hello").await.unwrap();
        let mut buf = [0; 5];
        let mut peeked = [0; 5];
        let (n, _) = b.peek_from(&mut peeked).await.unwrap();
        assert_eq!(&peeked[..n], b"hello");
        assert_eq!(b.recv(&mut buf).await.unwrap(), 5);
        assert_eq!(&buf, b"hello");
    });
}

#[test]
fn a_waiting_receiver_is_woken_by_a_later_datagram() {
    let ex = eddy_local::LocalExecutor::new();
    run(ex.run(async {
        let server = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let addr = server.local_addr().unwrap();
        let receiver = eddy_task::spawn_local(async move {
            let mut buf = [0; 8];
            server.recv_from(&mut buf).await.unwrap().0
        });
        eddy_io::sleep(Duration::from_millis(20)).await; // the receiver is parked by now
        let client = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        client.send_to(b"late", addr).await.unwrap();
        assert_eq!(receiver.await.unwrap(), 4);
    }));
}
