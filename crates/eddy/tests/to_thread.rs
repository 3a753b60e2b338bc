//! `to_thread`: blocking work on the pool while the event loop keeps going.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[test]
fn the_loop_keeps_ticking_while_blocking_work_runs() {
    let ticks = Arc::new(AtomicUsize::new(0));
    let (result, ticks_during) = common::block_on({
        let ticks = ticks.clone();
        async move {
            let ticker = eddy::spawn({
                let ticks = ticks.clone();
                async move {
                    loop {
                        eddy::sleep(Duration::from_millis(2)).await;
                        ticks.fetch_add(1, Ordering::SeqCst);
                    }
                }
            });
            let before = ticks.load(Ordering::SeqCst);
            let result = eddy::to_thread(|| {
                std::thread::sleep(Duration::from_millis(200)); // would stall a loop thread
                "slept"
            })
            .await
            .unwrap();
            let during = ticks.load(Ordering::SeqCst) - before;
            drop(ticker);
            (result, during)
        }
    });
    assert_eq!(result, "slept");
    assert!(ticks_during >= 5, "the ticker advanced only {ticks_during} times while the closure blocked");
}

#[test]
fn a_panic_in_the_closure_is_a_join_error() {
    common::block_on(async {
        let err = eddy::to_thread(|| -> u8 { panic!("blocking failure") }).await.unwrap_err();
        assert!(err.is_panic());
        assert!(err.to_string().contains("blocking failure"));
        assert_eq!(eddy::to_thread(|| 5).await.unwrap(), 5);
    });
}

#[test]
fn to_thread_outside_a_runtime_says_how_to_fix_it() {
    let payload = std::panic::catch_unwind(|| drop(eddy::to_thread(|| ()))).unwrap_err();
    let msg = common::panic_text(payload);
    assert!(msg.contains("outside of an eddy runtime"), "{msg}");
}

#[test]
fn the_builder_caps_the_pool() {
    let rt = eddy::Runtime::builder().blocking_threads(2).build().unwrap();
    let running = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    rt.block_on(async {
        let tasks: Vec<_> = (0..12)
            .map(|_| {
                let (running, peak) = (running.clone(), peak.clone());
                eddy::to_thread(move || {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(now, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(5));
                    running.fetch_sub(1, Ordering::SeqCst);
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
    });
    assert!(peak.load(Ordering::SeqCst) <= 2, "peak {}", peak.load(Ordering::SeqCst));
}

#[test]
fn dropping_the_runtime_does_not_wait_for_a_stuck_closure() {
    let rt = common::runtime();
    let (started_tx, started_rx) = std::sync::mpsc::channel();
    rt.block_on(async move {
        eddy::to_thread(move || {
            started_tx.send(()).unwrap();
            loop {
                std::thread::park();
            }
        })
        .detach();
    });
    started_rx.recv().unwrap();
    let begun = Instant::now();
    drop(rt);
    assert!(begun.elapsed() < Duration::from_secs(5), "shutdown waited for the stuck closure");
}
