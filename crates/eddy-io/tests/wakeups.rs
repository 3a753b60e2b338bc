//! Several threads can be in `block_on` at once, I/O reaches threads that do not drive the
//! reactor, and the reactor keeps being driven when the driving thread leaves.

use std::sync::mpsc;
use std::thread;
use std::time::Duration;

/// Runs `f` on a new thread and waits at most `limit` for it, so a hang fails the test.
fn within<T: Send + 'static>(limit: Duration, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || tx.send(f()).unwrap());
    rx.recv_timeout(limit).expect("did not finish: a wakeup was lost")
}

#[test]
fn two_threads_in_block_on_at_once() {
    within(Duration::from_secs(30), || {
        let a = thread::spawn(|| {
            eddy_io::block_on(async {
                eddy_io::sleep(Duration::from_millis(50)).await;
                "a"
            })
        });
        let b = thread::spawn(|| {
            eddy_io::block_on(async {
                eddy_io::sleep(Duration::from_millis(80)).await;
                "b"
            })
        });
        (a.join().unwrap(), b.join().unwrap())
    });
}

#[test]
fn the_driver_role_is_handed_over_when_the_driver_leaves() {
    // Thread A drives the reactor and leaves early; thread B, parked without driving, must take
    // over so that its own timer still fires.
    within(Duration::from_secs(30), || {
        let (a_driving_tx, a_driving_rx) = mpsc::channel();
        let a = thread::spawn(move || {
            eddy_io::block_on(async move {
                let timer = eddy_io::sleep(Duration::from_millis(100));
                a_driving_tx.send(()).unwrap();
                timer.await;
            })
        });
        a_driving_rx.recv().unwrap();
        thread::sleep(Duration::from_millis(20)); // A is in the poller now
        let b = thread::spawn(|| eddy_io::block_on(eddy_io::sleep(Duration::from_millis(300))));
        a.join().unwrap();
        b.join().unwrap();
    });
}

#[test]
fn io_events_reach_a_thread_that_is_not_driving() {
    within(Duration::from_secs(30), || {
        let (tx, rx) = mpsc::channel();
        // This thread drives: it waits on a long timer.
        let driver = thread::spawn(|| eddy_io::block_on(eddy_io::sleep(Duration::from_millis(300))));
        thread::sleep(Duration::from_millis(20));
        // This one waits for a datagram, parked while the other thread drives.
        let receiver = thread::spawn(move || {
            eddy_io::block_on(async move {
                let socket = eddy_io::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
                tx.send(socket.local_addr().unwrap()).unwrap();
                let mut buf = [0; 4];
                socket.recv_from(&mut buf).await.unwrap().0
            })
        });
        let addr = rx.recv().unwrap();
        thread::sleep(Duration::from_millis(20));
        std::net::UdpSocket::bind("127.0.0.1:0").unwrap().send_to(b"ping", addr).unwrap();
        assert_eq!(receiver.join().unwrap(), 4);
        driver.join().unwrap();
    });
}

#[test]
fn nested_block_on_works() {
    let out = eddy_io::block_on(async { eddy_io::block_on(async { 1 }) + 1 });
    assert_eq!(out, 2);
}
