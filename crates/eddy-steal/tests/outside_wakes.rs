//! How many sleeping workers a thread outside the executor wakes. A burst of spawns wakes one:
//! the spawns after the first are left to the worker it claimed, which, once up, wakes the next
//! if more than one task waits. Each wake of a task that waited keeps a notification of its own.
//!
//! The workers park through a gate: a wake is counted as soon as it is sent, but the worker
//! returns from its park only while the gate is open, so a claimed worker can be held "not yet
//! up" for as long as the test needs.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::task::{Wake, Waker};
use std::time::{Duration, Instant};

use common::{within, Door};
use eddy_steal::Executor;
use eddy_task::Park;

const WORKERS: usize = 2;

#[derive(Default)]
struct Gate {
    state: Mutex<GateState>,
    changed: Condvar,
}

#[derive(Default)]
struct GateState {
    open: bool,
    /// Per worker: woken, and not yet back from its park.
    woken: [bool; WORKERS],
    /// How many workers are inside a park with no time limit (asleep, not just taking a turn).
    asleep: usize,
    /// How many times a worker was woken through its park's waker.
    wakes: usize,
}

impl Gate {
    fn wait_until(&self, mut done: impl FnMut(&GateState) -> bool) {
        let mut state = self.state.lock().unwrap();
        while !done(&state) {
            state = self.changed.wait(state).unwrap();
        }
    }

    /// Waits until every worker is parked with no time limit and none has a wake on its way:
    /// a worker that a notification claimed is still inside its park (and counted asleep) until
    /// it sees its wake, and a notification sent by a worker reaches the park before that
    /// worker parks itself. Counting `asleep` alone, a test could close the gate on a worker
    /// claimed during setup, which then took the first wake it meant to count.
    fn wait_until_settled(&self) {
        self.wait_until(|s| s.asleep == WORKERS && !s.woken.contains(&true));
    }

    fn set_open(&self, open: bool) {
        self.state.lock().unwrap().open = open;
        self.changed.notify_all();
    }

    fn wakes(&self) -> usize {
        self.state.lock().unwrap().wakes
    }
}

struct GatedPark {
    gate: Arc<Gate>,
    index: usize,
}

struct GatedWaker {
    gate: Arc<Gate>,
    index: usize,
}

impl Wake for GatedWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let mut state = self.gate.state.lock().unwrap();
        state.woken[self.index] = true;
        state.wakes += 1;
        self.gate.changed.notify_all();
    }
}

impl Park for GatedPark {
    fn park(&mut self, timeout: Option<Duration>) {
        let deadline = timeout.map(|t| Instant::now() + t);
        let mut state = self.gate.state.lock().unwrap();
        state.asleep += usize::from(timeout.is_none());
        self.gate.changed.notify_all();
        while !(state.woken[self.index] && state.open) {
            state = match deadline {
                None => self.gate.changed.wait(state).unwrap(),
                Some(deadline) => {
                    let now = Instant::now();
                    if now >= deadline {
                        break;
                    }
                    self.gate.changed.wait_timeout(state, deadline - now).unwrap().0
                }
            };
        }
        state.woken[self.index] = false;
        state.asleep -= usize::from(timeout.is_none());
        self.gate.changed.notify_all();
    }

    fn waker(&self) -> Waker {
        Waker::from(Arc::new(GatedWaker { gate: self.gate.clone(), index: self.index }))
    }
}

/// An executor of `WORKERS` workers parking through one gate (open), once both are asleep.
fn gated_executor() -> (Executor, Arc<Gate>) {
    let gate = Arc::new(Gate::default());
    gate.set_open(true);
    let next = AtomicUsize::new(0);
    let ex = Executor::builder()
        .workers(WORKERS)
        .park_with({
            let gate = gate.clone();
            move || Box::new(GatedPark { gate: gate.clone(), index: next.fetch_add(1, Ordering::SeqCst) })
        })
        .build()
        .unwrap();
    gate.wait_until_settled();
    (ex, gate)
}

#[test]
fn a_burst_of_spawns_from_outside_wakes_one_worker_which_wakes_the_next() {
    within(Duration::from_secs(60), || {
        let (ex, gate) = gated_executor();
        gate.set_open(false);
        let before = gate.wakes();
        let tasks: Vec<_> = (0..8u64).map(|i| ex.spawn(async move { i })).collect();
        let woken = gate.wakes() - before;
        // Opened before asserting, so that a failure does not leave the workers held.
        gate.set_open(true);
        // The first spawn claimed a sleeping worker, which the gate held in its park; the other
        // seven spawns were left to it instead of waking the second worker.
        assert_eq!(woken, 1, "spawns left to the claimed worker woke another");
        let sum = ex.run(async move {
            let mut sum = 0;
            for task in tasks {
                sum += task.await.unwrap();
            }
            sum
        });
        assert_eq!(sum, 28);
        // Up, the claimed worker found more than one task waiting and woke the second worker.
        gate.wait_until(|s| s.wakes - before >= 2);
    });
}

#[test]
fn each_wake_from_outside_of_a_task_that_waited_wakes_a_worker() {
    within(Duration::from_secs(60), || {
        let (ex, gate) = gated_executor();
        let doors = [Door::default(), Door::default()];
        let tasks: Vec<_> = doors
            .iter()
            .map(|door| {
                ex.spawn({
                    let door = door.clone();
                    async move { door.pass().await }
                })
            })
            .collect();
        while !doors.iter().all(Door::is_waited_at) {
            std::thread::sleep(Duration::from_millis(1));
        }
        gate.wait_until_settled();
        gate.set_open(false);
        let before = gate.wakes();
        for door in &doors {
            door.open();
        }
        let woken = gate.wakes() - before;
        gate.set_open(true);
        // Unlike spawns, the second wake is not left to the worker the first one claimed.
        assert_eq!(woken, 2, "a wake from outside was left to a claimed worker");
        ex.run(async move {
            for task in tasks {
                task.await.unwrap();
            }
        });
    });
}

#[test]
fn a_burst_of_blocking_tasks_spawned_from_outside_reaches_every_worker() {
    within(Duration::from_secs(60), || {
        // Each task blocks its worker until all have started: the spawns left to the first
        // claimed worker must still wake every worker, including for tasks that a worker now
        // blocked took from the injector into its local queue.
        const BLOCKING: usize = 4;
        let ex = Executor::builder().workers(BLOCKING).build().unwrap();
        for _ in 0..20 {
            let barrier = Arc::new(std::sync::Barrier::new(BLOCKING));
            let tasks: Vec<_> = (0..BLOCKING)
                .map(|_| {
                    let barrier = barrier.clone();
                    ex.spawn(async move {
                        barrier.wait();
                    })
                })
                .collect();
            ex.run(async move {
                for task in tasks {
                    task.await.unwrap();
                }
            });
        }
    });
}
