//! `Barrier`: rounds of `parties`, arrival indexes, abort, reset, and leaving a round.

mod common;

use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use common::{poll, within};
use eddy_sync::Barrier;

#[test]
fn a_round_passes_when_all_parties_arrive_and_the_barrier_starts_over() {
    let barrier = Barrier::new(3);
    for _round in 0..3 {
        let mut first = Box::pin(barrier.wait());
        let mut second = Box::pin(barrier.wait());
        assert!(poll(&mut first).is_pending());
        assert!(poll(&mut second).is_pending());
        assert_eq!(barrier.n_waiting(), 2);
        let Poll::Ready(last) = poll(&mut Box::pin(barrier.wait())) else { panic!("the third passes") };
        assert_eq!(last, Ok(2));
        assert_eq!(poll(&mut first), Poll::Ready(Ok(0)));
        assert_eq!(poll(&mut second), Poll::Ready(Ok(1)));
        assert_eq!(barrier.n_waiting(), 0);
    }
    assert_eq!(barrier.parties(), 3);
}

#[test]
fn abort_breaks_waiting_and_later_waits_until_reset() {
    let barrier = Barrier::new(2);
    let mut waiter = Box::pin(barrier.wait());
    assert!(poll(&mut waiter).is_pending());
    barrier.abort();
    assert!(barrier.broken());
    assert!(poll(&mut waiter).ready_and(|r| r.as_ref().is_err_and(|e| e.to_string().contains("broken"))));
    assert!(poll(&mut Box::pin(barrier.wait())).ready_and(Result::is_err));
    barrier.reset();
    assert!(!barrier.broken());
    let mut a = Box::pin(barrier.wait());
    assert!(poll(&mut a).is_pending());
    assert_eq!(poll(&mut Box::pin(barrier.wait())), Poll::Ready(Ok(1)));
    assert_eq!(poll(&mut a), Poll::Ready(Ok(0)));
}

trait ReadyAnd<T> {
    fn ready_and(self, f: impl FnOnce(&T) -> bool) -> bool;
}

impl<T> ReadyAnd<T> for Poll<T> {
    fn ready_and(self, f: impl FnOnce(&T) -> bool) -> bool {
        matches!(self, Poll::Ready(ref v) if f(v))
    }
}

#[test]
fn reset_fails_the_waiting_tasks_and_empties_the_barrier() {
    let barrier = Barrier::new(2);
    let mut waiter = Box::pin(barrier.wait());
    assert!(poll(&mut waiter).is_pending());
    barrier.reset();
    assert!(poll(&mut waiter).ready_and(Result::is_err));
    assert_eq!(barrier.n_waiting(), 0);
    assert!(!barrier.broken());
}

#[test]
fn a_dropped_wait_leaves_the_round() {
    let barrier = Barrier::new(2);
    let mut leaver = Box::pin(barrier.wait());
    assert!(poll(&mut leaver).is_pending());
    drop(leaver);
    assert_eq!(barrier.n_waiting(), 0);
    let mut a = Box::pin(barrier.wait());
    assert!(poll(&mut a).is_pending(), "one arrival is not a round of two");
    assert!(poll(&mut Box::pin(barrier.wait())).ready_and(Result::is_ok));
    assert!(poll(&mut a).ready_and(Result::is_ok));
}

#[test]
#[should_panic(expected = "parties must be at least 1")]
fn zero_parties_is_refused() {
    let _ = Barrier::new(0);
}

#[test]
fn threads_pass_rounds_together() {
    within(Duration::from_secs(60), || {
        const THREADS: usize = 4;
        const ROUNDS: usize = 200;
        let barrier = Arc::new(Barrier::new(THREADS));
        let threads: Vec<_> = (0..THREADS)
            .map(|_| {
                let barrier = barrier.clone();
                std::thread::spawn(move || {
                    let mut indexes = Vec::new();
                    for _ in 0..ROUNDS {
                        indexes.push(futures_lite::future::block_on(barrier.wait()).unwrap());
                    }
                    indexes
                })
            })
            .collect();
        let all: Vec<Vec<usize>> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        for round in 0..ROUNDS {
            let mut indexes: Vec<_> = all.iter().map(|v| v[round]).collect();
            indexes.sort();
            assert_eq!(indexes, (0..THREADS).collect::<Vec<_>>(), "round {round}");
        }
    });
}
