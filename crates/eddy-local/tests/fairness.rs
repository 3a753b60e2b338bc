//! A task that keeps waking itself cannot starve other tasks or the main future.

use std::cell::Cell;
use std::rc::Rc;

use eddy_local::LocalExecutor;
use futures_lite::future;

#[test]
fn a_self_waking_task_does_not_starve_others() {
    let ex = LocalExecutor::new();
    let spins = Rc::new(Cell::new(0u64));
    let _spinner = ex.spawn({
        let spins = spins.clone();
        async move {
            loop {
                spins.set(spins.get() + 1);
                eddy_task::yield_now().await;
            }
        }
    });
    let other = ex.spawn(async {
        for _ in 0..100 {
            eddy_task::yield_now().await;
        }
        "other finished"
    });
    assert_eq!(future::block_on(ex.run(other)).unwrap(), "other finished");
    // Round-robin: the spinner got about as many turns as the other task, not unboundedly more.
    assert!(spins.get() <= 1_000, "spinner ran {} times while the other task yielded 100", spins.get());
}

#[test]
fn the_main_future_gets_turns_while_tasks_spin() {
    let ex = LocalExecutor::new();
    for _ in 0..4 {
        ex.spawn(async {
            loop {
                eddy_task::yield_now().await;
            }
        })
        .detach();
    }
    let mut main_turns = 0;
    future::block_on(ex.run(async {
        while main_turns < 50 {
            main_turns += 1;
            eddy_task::yield_now().await;
        }
    }));
    assert_eq!(main_turns, 50);
}

#[test]
fn run_yields_to_the_outer_block_on() {
    // An outer future racing `run` must be polled even though the executor always has work.
    let ex = LocalExecutor::new();
    ex.spawn(async {
        loop {
            eddy_task::yield_now().await;
        }
    })
    .detach();
    let outer_polls = Cell::new(0);
    let outer = future::poll_fn(|cx| {
        outer_polls.set(outer_polls.get() + 1);
        if outer_polls.get() == 10 {
            std::task::Poll::Ready("outer won")
        } else {
            cx.waker().wake_by_ref();
            std::task::Poll::Pending
        }
    });
    let winner = future::block_on(future::or(outer, ex.run(future::pending::<&str>())));
    assert_eq!(winner, "outer won");
}

#[test]
fn the_main_future_takes_turns_with_tasks_round_robin() {
    let ex = LocalExecutor::new();
    let spins = Rc::new(Cell::new(0u64));
    ex.spawn({
        let spins = spins.clone();
        async move {
            loop {
                spins.set(spins.get() + 1);
                eddy_task::yield_now().await;
            }
        }
    })
    .detach();
    future::block_on(ex.run(async {
        for _ in 0..100 {
            eddy_task::yield_now().await;
        }
    }));
    // One spinning task and a yielding main future alternate: about one spin per main turn.
    assert!(spins.get() <= 102, "the spinner ran {} times while the main future yielded 100", spins.get());
}
