//! TaskGroup: the first failure cancels the siblings, every failure is reported, no child is
//! left running after `join` or drop, and groups nest.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use common::{DropCounter, Gate};
use eddy::TaskGroup;
use proptest::prelude::*;

/// Counts children that are inside their future right now.
#[derive(Clone, Default)]
struct Running(Arc<AtomicUsize>);

struct RunningGuard(Arc<AtomicUsize>);

impl Running {
    fn enter(&self) -> RunningGuard {
        self.0.fetch_add(1, Ordering::SeqCst);
        RunningGuard(self.0.clone())
    }

    fn count(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

impl Drop for RunningGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

#[test]
fn all_children_succeed() {
    let values = common::block_on(async {
        let mut group = TaskGroup::<usize, String>::new();
        for i in 0..10 {
            group.spawn(async move {
                common::yield_times(i % 3).await;
                Ok(i)
            });
        }
        group.join().await
    });
    assert_eq!(values.unwrap(), (0..10).collect::<Vec<_>>());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn the_first_failure_cancels_the_siblings_and_every_failure_is_reported(
        outcomes in proptest::collection::vec(0u8..3, 1..8),
    ) {
        // 0: succeeds, 1: returns Err, 2: would wait forever (must be cancelled if anyone fails).
        // Without a failure, a child that waits forever keeps `join` waiting forever, as it should.
        prop_assume!(!outcomes.contains(&2) || outcomes.contains(&1));
        let running = Running::default();
        let errors_returned = Arc::new(AtomicUsize::new(0));
        let result = common::block_on(async {
            let mut group = TaskGroup::<usize, usize>::new();
            for (i, &outcome) in outcomes.iter().enumerate() {
                let (running, errors_returned) = (running.clone(), errors_returned.clone());
                group.spawn(async move {
                    let _running = running.enter();
                    common::yield_times(i % 2).await;
                    match outcome {
                        0 => Ok(i),
                        1 => {
                            errors_returned.fetch_add(1, Ordering::SeqCst);
                            Err(i)
                        }
                        _ => std::future::pending().await,
                    }
                });
            }
            group.join().await
        });
        prop_assert_eq!(running.count(), 0, "a child is still running after join");
        let any_failure = outcomes.contains(&1);
        match result {
            Ok(values) => {
                prop_assert!(!any_failure);
                prop_assert!(!outcomes.contains(&2), "join returned while a child was pending");
                prop_assert_eq!(values.len(), outcomes.len());
            }
            Err(failure) => {
                prop_assert!(any_failure);
                prop_assert_eq!(failure.errors.len(), errors_returned.load(Ordering::SeqCst), "a failure was lost");
                prop_assert!(!failure.errors.is_empty());
                prop_assert!(failure.cancelled >= outcomes.iter().filter(|&&o| o == 2).count());
            }
        }
    }
}

#[test]
fn a_panicking_child_cancels_its_siblings_and_is_reported() {
    let failure = common::block_on(async {
        let mut group = TaskGroup::<(), String>::new();
        group.spawn(std::future::pending());
        group.spawn(async { panic!("child exploded") });
        group.join().await.unwrap_err()
    });
    assert_eq!(failure.panics.len(), 1);
    assert!(failure.panics[0].to_string().contains("child exploded"));
    assert_eq!(failure.cancelled, 1);
}

#[test]
fn dropping_the_group_cancels_its_children() {
    let running = Running::default();
    let drops = DropCounter::new();
    common::block_on(async {
        let mut group = TaskGroup::<(), ()>::new();
        for _ in 0..5 {
            let (running, guard) = (running.clone(), drops.guard());
            group.spawn(async move {
                let _guard = guard;
                let _running = running.enter();
                std::future::pending().await
            });
        }
        common::eventually("the children started", || running.count() == 5).await;
        drop(group);
        common::eventually("every child was dropped", || drops.count() == 5).await;
    });
    assert_eq!(running.count(), 0);
}

#[test]
fn groups_nest_and_cancellation_reaches_grandchildren() {
    let drops = DropCounter::new();
    let failure = common::block_on(async {
        let mut outer = TaskGroup::<(), &'static str>::new();
        let inner_guard = drops.guard();
        outer.spawn(async move {
            let mut inner = TaskGroup::<(), &'static str>::new();
            inner.spawn(async move {
                let _guard = inner_guard;
                std::future::pending().await
            });
            inner.join().await.map(drop).map_err(|_| "inner failed")
        });
        let gate = Gate::default();
        let opener = gate.clone();
        outer.spawn(async move {
            gate.wait().await;
            Err("outer child failed")
        });
        common::yield_times(3).await;
        opener.open();
        outer.join().await.unwrap_err()
    });
    assert_eq!(failure.errors, ["outer child failed"]);
    assert_eq!(drops.count(), 1, "the grandchild was not cancelled");
}

#[test]
fn spawning_into_a_cancelled_group_cancels_the_child() {
    let failure = common::block_on(async {
        let mut group = TaskGroup::<u8, u8>::new();
        group.cancel();
        group.spawn(async { Ok(1) });
        group.join().await.unwrap_err()
    });
    assert_eq!(failure.cancelled, 1);
}
