//! A whole runtime runs under valgrind: tasks, sockets, timers, `to_thread` and spawns through a
//! handle from another thread. Users profile with callgrind and check memory with memcheck, and
//! code that reads the vDSO itself (rustix does, for `sched_getcpu` and the clocks) crashes
//! there: the work-stealing executor once did, at its first spawn from outside.
//!
//! The test runs itself again under `valgrind --tool=none` (the crash did not depend on the
//! tool) with the same `EDDY_TEST_EXECUTOR`, and checks the child's exit status. Where valgrind
//! is not installed it says so and passes.

mod common;

use std::process::Command;
use std::time::Duration;

use eddy::io::{AsyncReadExt, AsyncWriteExt};
use eddy::net::{TcpListener, TcpStream};

/// Set in the child run under valgrind.
const CHILD: &str = "EDDY_UNDER_VALGRIND";

fn workload() {
    let runtime = common::runtime();
    let handle = runtime.handle().clone();
    let total = runtime.block_on(async move {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        eddy::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut buf = [0; 64];
            loop {
                match stream.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => stream.write_all(&buf[..n]).await.unwrap(),
                }
            }
        })
        .detach();
        let mut stream = TcpStream::connect(addr).await.unwrap();
        for round in 0u8..10 {
            stream.write_all(&[round; 16]).await.unwrap();
            let mut buf = [0; 16];
            stream.read_exact(&mut buf).await.unwrap();
            assert_eq!(buf, [round; 16]);
        }
        eddy::sleep(Duration::from_millis(5)).await;
        let from_thread = eddy::to_thread(|| 20).await.unwrap();
        // Spawns from a plain thread through the handle, as an embedding program would.
        let spawned =
            std::thread::spawn(move || (0..64).map(|i| handle.spawn(async move { i })).collect::<Vec<_>>())
                .join()
                .unwrap();
        let mut total = from_thread;
        for task in spawned {
            total += task.await.unwrap();
        }
        total
    });
    assert_eq!(total, 20 + (0..64).sum::<i32>());
}

#[test]
fn a_runtime_runs_under_valgrind() {
    if std::env::var_os(CHILD).is_some() {
        workload();
        return;
    }
    let valgrind = Command::new("valgrind").arg("--version").output();
    if !valgrind.is_ok_and(|out| out.status.success()) {
        eprintln!("skipped: valgrind is not installed");
        return;
    }
    let out = Command::new("valgrind")
        .args(["--tool=none", "--quiet"])
        .arg(std::env::current_exe().unwrap())
        .args(["--exact", "a_runtime_runs_under_valgrind", "--test-threads=1"])
        .env(CHILD, "1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "the runtime failed under valgrind ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
