//! A runtime's reactor (its poller and notifier descriptors) is freed with the runtime. Alone in
//! its binary: it counts the process's open descriptors, which other tests would change.

mod common;

use std::time::Duration;

use eddy::net::{TcpListener, TcpStream};

#[cfg(target_os = "linux")]
fn open_descriptors() -> usize {
    std::fs::read_dir("/proc/self/fd").expect("/proc/self/fd").count()
}

#[cfg(target_os = "linux")]
#[test]
fn dropping_a_runtime_frees_its_reactor() {
    // The global reactor is made once per process; make it before counting.
    eddy::block_on(eddy::sleep(Duration::from_millis(1)));
    let before = open_descriptors();
    for _ in 0..50 {
        let rt = common::runtime();
        rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let server = eddy::spawn(async move { listener.accept().await.map(drop) });
            let client = TcpStream::connect(addr).await.unwrap();
            server.await.unwrap().unwrap();
            drop(client);
            // Tasks still asleep on the reactor when the runtime drops.
            for _ in 0..4 {
                eddy::spawn(eddy::sleep(Duration::from_secs(60))).detach();
            }
            eddy::sleep(Duration::from_millis(1)).await;
        });
    }
    let after = open_descriptors();
    assert_eq!(after, before, "50 runtimes left {} descriptors open", after.saturating_sub(before));
}
