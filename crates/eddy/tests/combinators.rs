//! gather, try_gather, gather_limit, as_completed, wait, race and shield, over random
//! completion orders and failures, on every executor.

mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use common::{open_in_order, DropCounter, Gate};
use eddy::stream::StreamExt;
use eddy::ReturnWhen;
use proptest::prelude::*;

/// A permutation of `0..n`, for `n` in `1..=max`.
fn permutation(max: usize) -> impl Strategy<Value = Vec<usize>> {
    (1..=max).prop_flat_map(|n| Just((0..n).collect::<Vec<_>>()).prop_shuffle())
}

fn config() -> ProptestConfig {
    ProptestConfig { cases: 24, ..ProptestConfig::default() }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn gather_keeps_input_order(order in permutation(8)) {
        let n = order.len();
        let out = common::block_on(async {
            let gates: Vec<Gate> = (0..n).map(|_| Gate::default()).collect();
            let opener = open_in_order(&gates, &order);
            let out = eddy::gather(gates.iter().enumerate().map(|(i, g)| {
                let g = g.clone();
                async move { g.wait().await; i }
            }))
            .await;
            opener.await.unwrap();
            out
        });
        prop_assert_eq!(out, (0..n).collect::<Vec<_>>());
    }

    #[test]
    fn as_completed_yields_completion_order(order in permutation(8)) {
        let seen = common::block_on(async {
            let gates: Vec<Gate> = (0..order.len()).map(|_| Gate::default()).collect();
            let opener = open_in_order(&gates, &order);
            let mut stream = eddy::as_completed(gates.iter().enumerate().map(|(i, g)| {
                let g = g.clone();
                async move { g.wait().await; i }
            }));
            let mut seen = Vec::new();
            while let Some(i) = stream.next().await {
                seen.push(i);
            }
            opener.await.unwrap();
            seen
        });
        prop_assert_eq!(seen, order);
    }

    #[test]
    fn try_gather_returns_the_first_error_and_drops_every_future_once(
        order in permutation(8),
        failing in proptest::collection::vec(any::<bool>(), 8),
    ) {
        let n = order.len();
        let drops = DropCounter::new();
        let result = common::block_on(async {
            let gates: Vec<Gate> = (0..n).map(|_| Gate::default()).collect();
            let opener = open_in_order(&gates, &order);
            let result = eddy::try_gather(gates.iter().enumerate().map(|(i, g)| {
                let (g, guard, fails) = (g.clone(), drops.guard(), failing[i]);
                async move {
                    let _guard = guard;
                    g.wait().await;
                    if fails { Err(i) } else { Ok(i) }
                }
            }))
            .await;
            drop(opener);
            result
        });
        prop_assert_eq!(drops.count(), n, "every future is dropped exactly once");
        match order.iter().find(|&&i| failing[i]) {
            Some(&first) => prop_assert_eq!(result, Err(first)),
            None => prop_assert_eq!(result, Ok((0..n).collect::<Vec<_>>())),
        }
    }

    #[test]
    fn gather_limit_never_exceeds_its_limit(limit in 1usize..5, n in 0usize..20) {
        let in_flight = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let out = common::block_on(async {
            eddy::gather_limit(limit, (0..n).map(|i| {
                let (in_flight, peak) = (in_flight.clone(), peak.clone());
                async move {
                    let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(now, Ordering::SeqCst);
                    common::yield_times(i % 3 + 1).await;
                    in_flight.fetch_sub(1, Ordering::SeqCst);
                    i
                }
            }))
            .await
        });
        prop_assert_eq!(out, Ok((0..n).collect::<Vec<_>>()));
        prop_assert!(peak.load(Ordering::SeqCst) <= limit);
    }

    #[test]
    fn wait_cancels_nothing(
        order in permutation(6),
        failing in proptest::collection::vec(any::<bool>(), 6),
        when in prop_oneof![Just(ReturnWhen::FirstCompleted), Just(ReturnWhen::FirstException), Just(ReturnWhen::AllCompleted)],
    ) {
        let n = order.len();
        common::block_on(async {
            let gates: Vec<Gate> = (0..n).map(|_| Gate::default()).collect();
            let tasks: Vec<_> = (0..n)
                .map(|i| {
                    let (gate, fails) = (gates[i].clone(), failing[i]);
                    eddy::spawn(async move {
                        gate.wait().await;
                        if fails { Err(i) } else { Ok(i) }
                    })
                })
                .collect();
            let opener = open_in_order(&gates, &order);
            let (done, pending) = eddy::wait(tasks).return_when(when).await;
            assert_eq!(done.len() + pending.len(), n);
            if when == ReturnWhen::AllCompleted {
                assert!(pending.is_empty());
            }
            opener.await.unwrap();
            // Every task, done or pending, still delivers its own result: nothing was cancelled.
            for task in done.into_iter().chain(pending) {
                let value = task.await.expect("wait cancelled a task");
                let i = match value { Ok(i) | Err(i) => i };
                assert_eq!(value.is_err(), failing[i]);
            }
        });
    }
}

#[test]
fn empty_inputs_return_at_once() {
    common::block_on(async {
        assert!(eddy::gather(Vec::<std::future::Ready<u8>>::new()).await.is_empty());
        assert_eq!(eddy::try_gather(Vec::<std::future::Ready<Result<u8, ()>>>::new()).await, Ok(vec![]));
        let (done, pending) = eddy::wait(Vec::<eddy::Task<()>>::new()).await;
        assert!(done.is_empty() && pending.is_empty());
        assert!(eddy::as_completed(Vec::<std::future::Ready<u8>>::new()).next().await.is_none());
        assert_eq!(eddy::gather_limit(3, Vec::<std::future::Ready<u8>>::new()).await, Ok(vec![]));
    });
}

#[test]
fn gather_limit_zero_is_an_error_not_a_hang() {
    let result = common::block_on(eddy::gather_limit(0, [std::future::ready(1)]));
    assert_eq!(result, Err(eddy::ZeroLimit));
}

#[test]
fn race_with_no_futures_panics_with_a_message() {
    let payload =
        std::panic::catch_unwind(|| drop(eddy::race(Vec::<std::future::Ready<u8>>::new()))).unwrap_err();
    assert!(common::panic_text(payload).contains("at least one future"));
}

#[test]
fn race_returns_the_first_and_drops_the_rest() {
    let drops = DropCounter::new();
    let winner = common::block_on(async {
        let gates: Vec<Gate> = (0..4).map(|_| Gate::default()).collect();
        let opener = open_in_order(&gates, &[2]);
        let winner = eddy::race(gates.iter().enumerate().map(|(i, g)| {
            let (g, guard) = (g.clone(), drops.guard());
            async move {
                let _guard = guard;
                g.wait().await;
                i
            }
        }))
        .await;
        opener.await.unwrap();
        winner
    });
    assert_eq!(winner, 2);
    assert_eq!(drops.count(), 4);
}

#[test]
fn race_ok_returns_the_first_success_or_the_last_error() {
    common::block_on(async {
        let first_ok = eddy::race_ok([Err("a"), Ok(2), Ok(3)].map(std::future::ready)).await;
        assert_eq!(first_ok, Ok(2));
        let all_failed = eddy::race_ok([Err::<u8, _>("a"), Err("b")].map(std::future::ready)).await;
        assert_eq!(all_failed, Err("b"));
    });
}

#[test]
fn join_and_try_join_macros() {
    common::block_on(async {
        let (a, b) = eddy::join!(async { 1 }, eddy::spawn(async { "two" }));
        assert_eq!((a, b.unwrap()), (1, "two"));
        let failed: Result<(u8, u8), &str> = eddy::try_join!(async { Ok(1) }, async { Err("nope") });
        assert_eq!(failed, Err("nope"));
    });
}

#[test]
fn shield_survives_its_callers_cancellation() {
    let finished = Arc::new(Mutex::new(false));
    common::block_on(async {
        let gate = Gate::default();
        let inner = eddy::spawn({
            let (gate, finished) = (gate.clone(), finished.clone());
            async move {
                gate.wait().await;
                *finished.lock().unwrap() = true;
            }
        });
        let shielding = Arc::new(AtomicBool::new(false));
        let caller = eddy::spawn({
            let shielding = shielding.clone();
            async move {
                let shielded = eddy::shield(inner);
                shielding.store(true, Ordering::SeqCst);
                shielded.await
            }
        });
        // Until the caller has run, its future holds `inner` itself, and cancelling the caller
        // would drop, and so cancel, `inner` as it drops any `Task`.
        common::eventually("the caller awaits the shield", || shielding.load(Ordering::SeqCst)).await;
        assert!(caller.cancel().await.is_none()); // the caller is cancelled, its future dropped...
        gate.open(); // ...but the shielded task goes on
        common::eventually("the shielded task finishes", || *finished.lock().unwrap()).await;
    });
}
