//! I/O, timers and tasks together on one runtime.

mod common;

use std::time::{Duration, Instant};

use eddy::io::{AsyncReadExt, AsyncWriteExt};
use eddy::net::{TcpListener, TcpStream};

#[test]
fn an_echo_server_and_its_clients_run_as_tasks() {
    common::block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        eddy::spawn(async move {
            loop {
                let (mut stream, _) = listener.accept().await.unwrap();
                eddy::spawn(async move {
                    let mut buf = [0; 1024];
                    loop {
                        match stream.read(&mut buf).await {
                            Ok(0) | Err(_) => break,
                            Ok(n) => stream.write_all(&buf[..n]).await.unwrap(),
                        }
                    }
                })
                .detach();
            }
        })
        .detach();
        let clients: Vec<_> = (0..20)
            .map(|i| {
                eddy::spawn(async move {
                    let mut stream = TcpStream::connect(addr).await.unwrap();
                    for round in 0..10 {
                        let msg = format!("{i}:{round}");
                        stream.write_all(msg.as_bytes()).await.unwrap();
                        let mut buf = vec![0; msg.len()];
                        stream.read_exact(&mut buf).await.unwrap();
                        assert_eq!(buf, msg.as_bytes());
                    }
                })
            })
            .collect();
        for client in clients {
            client.await.unwrap();
        }
    });
}

#[test]
fn sleeping_tasks_overlap() {
    let start = Instant::now();
    common::block_on(async {
        let tasks: Vec<_> = (0..100).map(|_| eddy::spawn(eddy::sleep(Duration::from_millis(50)))).collect();
        for task in tasks {
            task.await.unwrap();
        }
    });
    // A hundred 50 ms sleeps run at once, not one after another (5 s).
    assert!(start.elapsed() < Duration::from_secs(4), "sleeps ran sequentially: {:?}", start.elapsed());
}

#[test]
fn a_timeout_cancels_the_task_it_wraps() {
    let drops = common::DropCounter::new();
    common::block_on(async {
        let guard = drops.guard();
        let task = eddy::spawn(async move {
            let _guard = guard;
            eddy::sleep(Duration::from_secs(3600)).await;
        });
        assert!(eddy::timeout(Duration::from_millis(10), task).await.is_err());
        common::eventually("the timed-out task's future is dropped", || drops.count() == 1).await;
    });
}

#[test]
fn a_task_waiting_on_a_timer_is_cancelled_at_shutdown() {
    let drops = common::DropCounter::new();
    let rt = common::runtime();
    rt.block_on(async {
        let guard = drops.guard();
        eddy::spawn(async move {
            let _guard = guard;
            eddy::sleep(Duration::from_secs(3600)).await;
        })
        .detach();
        eddy::sleep(Duration::from_millis(5)).await;
    });
    drop(rt);
    assert_eq!(drops.count(), 1);
}

#[test]
fn eddy_block_on_drives_io_without_a_runtime() {
    let out = eddy::block_on(async {
        eddy::sleep(Duration::from_millis(1)).await;
        "no executor needed"
    });
    assert_eq!(out, "no executor needed");
}
