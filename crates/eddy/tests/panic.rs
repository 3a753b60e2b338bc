//! A panic inside a task becomes a `JoinError` for its awaiter; the executor keeps serving.

mod common;

use std::process::Command;

#[test]
fn panic_becomes_a_join_error() {
    let err = common::block_on(async { eddy::spawn(async { panic!("Something went wrong!") }).await });
    let err = err.unwrap_err();
    assert!(err.is_panic());
    assert!(!err.is_cancelled());
    assert!(err.to_string().ends_with("panicked: Something went wrong!"), "{err}");
    let payload = err.into_panic();
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"Something went wrong!"));
}

#[test]
fn the_executor_keeps_serving_after_panics() {
    common::block_on(async {
        let failing: Vec<_> =
            (0..10).map(|i| eddy::spawn(async move { panic!("task {i} failed") })).collect();
        let healthy: Vec<_> = (0..10).map(|i| eddy::spawn(async move { i })).collect();
        for task in failing {
            assert!(task.await.unwrap_err().is_panic());
        }
        for (i, task) in healthy.into_iter().enumerate() {
            assert_eq!(task.await.unwrap(), i);
        }
        // And new work is still accepted afterwards.
        assert_eq!(eddy::spawn(async { "still here" }).await.unwrap(), "still here");
    });
}

#[test]
fn join_error_names_the_task() {
    let err = common::block_on(async {
        eddy::task::Builder::new().name("parser").spawn(async { panic!("bad byte") }).await.unwrap_err()
    });
    assert_eq!(err.to_string(), format!("task {} \"parser\" panicked: bad byte", err.id()));
}

#[test]
fn join_errors_convert_into_io_errors() {
    let err = common::block_on(async { eddy::spawn(async { panic!("io") }).await.unwrap_err() });
    let io: std::io::Error = err.into();
    assert!(io.to_string().contains("panicked: io"));
}

const REPORT: &str = "panicked and no one awaited it";

/// The scenario run in a child process by `unobserved_panic_is_reported_once`.
#[test]
#[ignore = "run as a child process by unobserved_panic_is_reported_once"]
fn child_unobserved_panics() {
    if std::env::var_os("EDDY_PANIC_CHILD").is_none() {
        return;
    }
    // Note when the detached task has panicked: on a multi-threaded runtime it may not have run
    // yet when the main future ends, and shutdown would then cancel it (no panic, no report).
    // Once it has panicked, shutdown joins its worker, which finishes the task and reports.
    static LOST_PANICKED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if info.payload().downcast_ref::<&str>() == Some(&"lost") {
            LOST_PANICKED.store(true, std::sync::atomic::Ordering::SeqCst);
        }
        default_hook(info);
    }));
    common::block_on(async {
        eddy::task::Builder::new().name("detached").spawn(async { panic!("lost") }).detach();
        common::eventually("the detached task panicked", || {
            LOST_PANICKED.load(std::sync::atomic::Ordering::SeqCst)
        })
        .await;
        let dropped = eddy::task::Builder::new().name("dropped").spawn(async { panic!("ignored") });
        common::eventually("the task has panicked", || dropped.is_finished()).await;
        drop(dropped); // finished with a panic that nobody looked at
        let observed = eddy::spawn(async { panic!("seen") });
        assert!(observed.await.unwrap_err().is_panic());
    });
}

#[test]
fn unobserved_panic_is_reported_once() {
    let output = Command::new(std::env::current_exe().unwrap())
        .args(["child_unobserved_panics", "--exact", "--ignored", "--nocapture", "--test-threads=1"])
        .env("EDDY_PANIC_CHILD", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "child failed:\n{stderr}");
    let reports: Vec<_> = stderr.lines().filter(|l| l.contains(REPORT)).collect();
    assert_eq!(reports.len(), 2, "expected one report per unobserved panic:\n{stderr}");
    assert!(
        reports.iter().any(|l| l.contains("\"detached\"") && l.contains("lost") && l.contains("panic.rs")),
        "no report for the detached task:\n{stderr}"
    );
    assert!(
        reports.iter().any(|l| l.contains("\"dropped\"") && l.contains("ignored")),
        "no report for the dropped task:\n{stderr}"
    );
    assert!(
        !stderr.lines().any(|l| l.contains(REPORT) && l.contains("seen")),
        "an awaited panic was reported"
    );
}
