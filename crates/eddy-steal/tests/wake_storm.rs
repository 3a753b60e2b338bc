//! Many plain threads waking many tasks at once: no wakeup is lost.

mod common;

use std::time::Duration;

use common::{within, Signal};
use eddy_steal::Executor;

#[test]
fn cross_thread_wake_storm() {
    within(Duration::from_secs(120), || {
        const TASKS: usize = 64;
        const WAKES: u64 = 2_000;
        let ex = Executor::builder().workers(4).build().unwrap();
        let signals: Vec<Signal> = (0..TASKS).map(|_| Signal::default()).collect();
        let tasks: Vec<_> = signals
            .iter()
            .map(|signal| {
                let signal = signal.clone();
                ex.spawn(async move {
                    for n in 1..=WAKES {
                        signal.reached(n).await;
                    }
                })
            })
            .collect();
        let wakers: Vec<_> = (0..8)
            .map(|t| {
                let signals = signals.clone();
                std::thread::spawn(move || {
                    for _ in 0..WAKES {
                        for (i, signal) in signals.iter().enumerate() {
                            if i % 8 == t {
                                signal.bump();
                            }
                        }
                    }
                })
            })
            .collect();
        for waker in wakers {
            waker.join().unwrap();
        }
        ex.run(async {
            for task in tasks {
                task.await.unwrap();
            }
        });
    });
}

#[test]
fn ping_pong_between_tasks_on_different_workers() {
    within(Duration::from_secs(60), || {
        let ex = Executor::builder().workers(2).build().unwrap();
        let (ping, pong) = (Signal::default(), Signal::default());
        let a = ex.spawn({
            let (ping, pong) = (ping.clone(), pong.clone());
            async move {
                for n in 1..=10_000 {
                    ping.bump();
                    pong.reached(n).await;
                }
            }
        });
        let b = ex.spawn(async move {
            for n in 1..=10_000 {
                ping.reached(n).await;
                pong.bump();
            }
        });
        ex.run(async {
            a.await.unwrap();
            b.await.unwrap();
        });
    });
}
