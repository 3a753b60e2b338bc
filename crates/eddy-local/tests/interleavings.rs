//! Property: under any interleaving of spawn, wake, cancel, detach, abort, tick and await, every
//! future is either completed or dropped, and dropped exactly once, by the time the executor is.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use eddy_local::LocalExecutor;
use eddy_task::Task;
use futures_lite::future;
use proptest::prelude::*;

const SLOTS: usize = 8;

#[derive(Default)]
struct Probe {
    ready: bool,
    waker: Option<Waker>,
    completed: u32,
    dropped: u32,
}

/// A future that finishes once its probe is made ready, recording completion and drop.
struct Controlled {
    probe: Rc<RefCell<Probe>>,
    value: usize,
}

impl Future for Controlled {
    type Output = usize;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<usize> {
        let mut probe = self.probe.borrow_mut();
        if probe.ready {
            probe.completed += 1;
            Poll::Ready(self.value)
        } else {
            probe.waker = Some(cx.waker().clone());
            Poll::Pending
        }
    }
}

impl Drop for Controlled {
    fn drop(&mut self) {
        self.probe.borrow_mut().dropped += 1;
    }
}

#[derive(Debug, Clone)]
enum Op {
    Spawn(usize),
    Wake(usize),
    Cancel(usize),
    Detach(usize),
    Abort(usize),
    Tick,
    Await(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0..SLOTS).prop_map(Op::Spawn),
        (0..SLOTS).prop_map(Op::Wake),
        (0..SLOTS).prop_map(Op::Cancel),
        (0..SLOTS).prop_map(Op::Detach),
        (0..SLOTS).prop_map(Op::Abort),
        Just(Op::Tick),
        (0..SLOTS).prop_map(Op::Await),
    ]
}

#[derive(Default)]
struct Slot {
    probe: Option<Rc<RefCell<Probe>>>,
    handle: Option<Task<usize>>,
    aborted: bool,
    /// The result seen by awaiting the handle.
    result: Option<Result<usize, bool>>,
}

fn wake(probe: &Rc<RefCell<Probe>>) {
    let waker = {
        let mut p = probe.borrow_mut();
        p.ready = true;
        p.waker.take()
    };
    if let Some(waker) = waker {
        waker.wake();
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn every_future_ends_exactly_once(ops in proptest::collection::vec(op(), 0..60)) {
        let ex = LocalExecutor::new();
        let mut slots: Vec<Slot> = (0..SLOTS).map(|_| Slot::default()).collect();
        for op in ops {
            match op {
                Op::Spawn(i) if slots[i].probe.is_none() => {
                    let probe = Rc::new(RefCell::new(Probe::default()));
                    slots[i].handle = Some(ex.spawn(Controlled { probe: probe.clone(), value: i }));
                    slots[i].probe = Some(probe);
                }
                Op::Wake(i) => {
                    if let Some(probe) = &slots[i].probe {
                        wake(probe);
                    }
                }
                Op::Cancel(i) => drop(slots[i].handle.take()),
                Op::Detach(i) => {
                    if let Some(handle) = slots[i].handle.take() {
                        handle.detach();
                    }
                }
                Op::Abort(i) => {
                    let slot = &mut slots[i];
                    if let Some(handle) = &slot.handle {
                        slot.aborted |= !handle.is_finished();
                        handle.abort();
                    }
                }
                Op::Tick => {
                    ex.try_tick();
                }
                Op::Await(i) => {
                    if let (Some(probe), Some(handle)) = (slots[i].probe.clone(), slots[i].handle.take()) {
                        wake(&probe);
                        let result = future::block_on(ex.run(handle));
                        slots[i].result = Some(result.map_err(|e| e.is_cancelled()));
                    }
                }
                Op::Spawn(_) => {}
            }
        }
        let handles: Vec<_> = slots.iter_mut().map(|s| s.handle.take()).collect();
        drop(ex);
        drop(handles);
        for (i, slot) in slots.iter().enumerate() {
            let Some(probe) = &slot.probe else { continue };
            let probe = probe.borrow();
            prop_assert_eq!(probe.dropped, 1, "slot {} dropped {} times", i, probe.dropped);
            prop_assert!(probe.completed <= 1);
            match slot.result {
                Some(Ok(value)) => {
                    prop_assert_eq!(value, i);
                    prop_assert_eq!(probe.completed, 1);
                }
                Some(Err(cancelled)) => {
                    prop_assert!(cancelled, "slot {} failed without being cancelled", i);
                    prop_assert!(slot.aborted, "slot {} was cancelled without an abort", i);
                    prop_assert_eq!(probe.completed, 0);
                }
                None => {}
            }
        }
    }
}
