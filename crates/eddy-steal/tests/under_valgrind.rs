//! The executor runs under valgrind, where its users profile (`--tool=callgrind`) and check
//! memory (`memcheck`). It once crashed there with SIGSEGV at the first spawn from outside the
//! workers: the CPU lookup of its placement rules went through rustix's own vDSO parser, which
//! cannot read what valgrind gives a process in place of the vDSO.
//!
//! The test runs itself again under `valgrind --tool=none` (the fastest tool: the crash did not
//! depend on the tool) and checks the child's exit status. Where valgrind is not installed it says
//! so and passes.

mod common;

use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::within;
use eddy_steal::Executor;

/// Set in the child run under valgrind.
const CHILD: &str = "EDDY_STEAL_UNDER_VALGRIND";

/// What the child runs: spawns from outside (which look up the spawner's CPU every 32 spawns) and
/// from workers (which look up theirs when they start and after parks), on two workers.
fn workload() {
    let ex = Executor::builder().workers(2).build().unwrap();
    let ran = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..256)
        .map(|_| {
            let ran = ran.clone();
            ex.handle().spawn(async move {
                let inner = ran.clone();
                eddy_task::spawn(async move {
                    inner.fetch_add(1, Ordering::Relaxed);
                })
                .await
                .unwrap();
                ran.fetch_add(1, Ordering::Relaxed);
            })
        })
        .collect();
    ex.run(async move {
        for task in tasks {
            task.await.unwrap();
        }
    });
    assert_eq!(ran.load(Ordering::Relaxed), 512);
}

#[test]
fn the_executor_runs_under_valgrind() {
    if std::env::var_os(CHILD).is_some() {
        workload();
        return;
    }
    let valgrind = Command::new("valgrind").arg("--version").output();
    if !valgrind.is_ok_and(|out| out.status.success()) {
        eprintln!("skipped: valgrind is not installed");
        return;
    }
    let exe = std::env::current_exe().unwrap();
    let out = within(Duration::from_secs(300), move || {
        Command::new("valgrind")
            .args(["--tool=none", "--quiet"])
            .arg(exe)
            .args(["--exact", "the_executor_runs_under_valgrind", "--test-threads=1"])
            .env(CHILD, "1")
            .output()
            .unwrap()
    });
    assert!(
        out.status.success(),
        "the executor failed under valgrind ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
