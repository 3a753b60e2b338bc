//! Timers fire in deadline order and never early; intervals keep their cadence; timeouts drop
//! what they time out.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use eddy_io::{interval, sleep, sleep_until, timeout, Timer};
use eddy_local::LocalExecutor;
use proptest::prelude::*;

fn run<T>(f: impl std::future::Future<Output = T>) -> T {
    let ex = LocalExecutor::new();
    eddy_io::block_on(ex.run(f))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn timers_fire_in_deadline_order_and_never_early(offsets in proptest::collection::vec(0u64..40_000, 1..40)) {
        // Deadlines start 100 ms out, so that every timer is registered before the first one is
        // due: a timer whose deadline has passed by its first poll completes at that poll, in
        // poll order, and the property is about timers that wait.
        let (fired, last_registered) = run(async {
            let start = Instant::now() + Duration::from_millis(100);
            let log = Rc::new(RefCell::new(Vec::new()));
            let last_registered = Rc::new(Cell::new(Instant::now()));
            let tasks: Vec<_> = offsets
                .iter()
                .enumerate()
                .map(|(i, &micros)| {
                    let (log, last_registered) = (log.clone(), last_registered.clone());
                    let deadline = start + Duration::from_micros(micros);
                    eddy_task::spawn_local(async move {
                        last_registered.set(last_registered.get().max(Instant::now()));
                        let due = sleep_until(deadline).await;
                        log.borrow_mut().push((deadline, Instant::now(), i));
                        assert_eq!(due, deadline);
                    })
                })
                .collect();
            for task in tasks {
                task.await.unwrap();
            }
            (Rc::try_unwrap(log).unwrap().into_inner(), last_registered.get())
        });
        let first_deadline = fired.iter().map(|(d, _, _)| *d).min().unwrap();
        prop_assume!(last_registered < first_deadline, "the machine was too slow to register every timer in time");
        prop_assert_eq!(fired.len(), offsets.len());
        for (deadline, at, i) in &fired {
            prop_assert!(at >= deadline, "timer {} fired {:?} early", i, *deadline - *at);
        }
        for pair in fired.windows(2) {
            prop_assert!(pair[0].0 <= pair[1].0, "timer with deadline {:?} fired after a later one", pair[0].0);
        }
    }
}

#[test]
fn sleep_waits_at_least_its_duration() {
    run(async {
        for ms in [0, 1, 5, 20] {
            let start = Instant::now();
            sleep(Duration::from_millis(ms)).await;
            assert!(start.elapsed() >= Duration::from_millis(ms));
        }
    });
}

#[test]
fn interval_keeps_cadence() {
    run(async {
        let period = Duration::from_millis(10);
        let mut ticks = interval(period);
        let first = ticks.tick().await;
        let mut previous = first;
        for k in 1..=10u32 {
            let due = ticks.tick().await;
            // On the grid `first + m * period`: no drift, whatever the delays. (A consumer that
            // falls a whole period behind skips ticks, as documented; that keeps the grid too.)
            let offset = due - first;
            assert_eq!(offset.as_nanos() % period.as_nanos(), 0, "tick {k} drifted off the cadence");
            assert!(due > previous, "tick {k} is not after the previous one");
            assert!(Instant::now() >= due, "tick {k} fired early");
            previous = due;
        }
    });
}

#[test]
fn interval_skips_missed_ticks_but_keeps_phase() {
    run(async {
        let period = Duration::from_millis(10);
        let mut ticks = interval(period);
        let first = ticks.tick().await;
        std::thread::sleep(Duration::from_millis(35)); // miss three ticks
        let late = ticks.tick().await; // the tick that was due at +10 ms fires late, once
        assert_eq!(late, first + period);
        let next = ticks.tick().await;
        assert!(next > first + period * 3, "missed ticks were not skipped");
        assert_eq!((next - first).as_nanos() % period.as_nanos(), 0, "the phase was lost");
    });
}

#[test]
fn a_timer_can_be_reset_and_reused() {
    run(async {
        let mut timer = Timer::after(Duration::from_secs(3600));
        let start = Instant::now();
        timer.set_after(Duration::from_millis(5));
        (&mut timer).await;
        timer.set_at(Instant::now() + Duration::from_millis(5));
        (&mut timer).await;
        assert!(start.elapsed() >= Duration::from_millis(10));
        assert!(start.elapsed() < Duration::from_secs(3600));
        let never = Timer::never();
        assert!(never.deadline().is_none());
        assert!(timeout(Duration::from_millis(5), never).await.is_err());
    });
}

struct CountDrop(Arc<AtomicUsize>);

impl Drop for CountDrop {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn timeout_drops_the_inner_future_on_expiry() {
    let drops = Arc::new(AtomicUsize::new(0));
    run({
        let drops = drops.clone();
        async move {
            let guard = CountDrop(drops.clone());
            let slow = async move {
                let _guard = guard;
                sleep(Duration::from_secs(3600)).await;
            };
            let err = timeout(Duration::from_millis(10), slow).await.unwrap_err();
            assert_eq!(err.to_string(), "deadline has elapsed");
            assert_eq!(drops.load(Ordering::SeqCst), 1, "the timed-out future was not dropped at expiry");
            let io: std::io::Error = err.into();
            assert_eq!(io.kind(), std::io::ErrorKind::TimedOut);
        }
    });
}

#[test]
fn timeout_cancels_a_task_inside_it() {
    let drops = Arc::new(AtomicUsize::new(0));
    run({
        let drops = drops.clone();
        async move {
            let guard = CountDrop(drops.clone());
            let task = eddy_task::spawn_local(async move {
                let _guard = guard;
                sleep(Duration::from_secs(3600)).await;
            });
            assert!(timeout(Duration::from_millis(10), task).await.is_err());
            eddy_task::yield_now().await; // the executor drops the cancelled task's future
            assert_eq!(drops.load(Ordering::SeqCst), 1);
        }
    });
}
