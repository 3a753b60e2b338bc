//! Queues: order, limits, `task_done`/`join`, shutdown, and cancellation that loses nothing.

mod common;

use std::collections::VecDeque;
use std::task::Poll;

use common::{local, poll, Pending};
use eddy_sync::queue::{LifoQueue, PriorityQueue, Queue, QueueShutDown, TryGetError, TryPutError};
use proptest::prelude::*;

#[test]
fn nowait_errors_name_the_asyncio_exceptions() {
    let queue = Queue::new(1);
    assert_eq!(queue.get_nowait(), Err(TryGetError::QueueEmpty));
    queue.put_nowait("a").unwrap();
    assert!(queue.full());
    let err = queue.put_nowait("b").unwrap_err();
    assert!(err.is_full());
    assert_eq!(err.to_string(), "the queue is full");
    assert_eq!(err.into_inner(), "b");
    assert_eq!(queue.qsize(), 1);
    assert_eq!(queue.maxsize(), 1);
    assert_eq!(queue.get_nowait(), Ok("a"));
    assert!(queue.empty());
}

#[test]
fn maxsize_zero_means_no_limit_and_huge_limits_do_not_allocate_up_front() {
    let queue = Queue::new(0);
    for i in 0..100_000 {
        queue.put_nowait(i).unwrap();
    }
    assert!(!queue.full());
    let huge = Queue::new(usize::MAX);
    huge.put_nowait(1).unwrap();
    assert_eq!(huge.get_nowait(), Ok(1));
    // A limit above the ring-buffer size is still enforced.
    let big = Queue::new(70_000);
    for i in 0..70_000 {
        big.put_nowait(i).unwrap();
    }
    assert!(big.full());
    assert!(big.put_nowait(0).unwrap_err().is_full());
    assert_eq!(big.get_nowait(), Ok(0));
    big.put_nowait(1).unwrap();
}

#[test]
fn lifo_and_priority_limits() {
    let stack = LifoQueue::new(2);
    stack.put_nowait(1).unwrap();
    stack.put_nowait(2).unwrap();
    assert!(stack.put_nowait(3).unwrap_err().is_full());
    let heap = PriorityQueue::new(1);
    heap.put_nowait(5).unwrap();
    assert!(heap.put_nowait(1).unwrap_err().is_full());
}

#[test]
fn put_waits_for_room_and_get_for_an_item() {
    let queue = Queue::new(1);
    queue.put_nowait(1).unwrap();
    let mut put = Box::pin(queue.put(2));
    assert!(poll(&mut put).is_pending());
    assert_eq!(queue.get_nowait(), Ok(1));
    assert!(poll(&mut put).is_ready());
    assert_eq!(queue.get_nowait(), Ok(2));
    let mut get = Box::pin(queue.get());
    assert!(poll(&mut get).is_pending());
    queue.put_nowait(3).unwrap();
    assert_eq!(poll(&mut get), Poll::Ready(Ok(3)));
}

#[test]
fn join_waits_for_every_task_done_and_too_many_is_an_error() {
    let queue = Queue::new(0);
    assert!(poll(&mut Box::pin(queue.join())).is_ready(), "nothing put: join returns at once");
    queue.put_nowait(1).unwrap();
    queue.put_nowait(2).unwrap();
    let mut join = Box::pin(queue.join());
    assert!(poll(&mut join).is_pending());
    queue.get_nowait().unwrap();
    queue.task_done().unwrap();
    assert!(poll(&mut join).is_pending());
    queue.get_nowait().unwrap();
    queue.task_done().unwrap();
    assert!(poll(&mut join).is_ready());
    let err = queue.task_done().unwrap_err();
    assert_eq!(err.to_string(), "task_done() called more times than items were put in the queue");
}

#[test]
fn shutdown_fails_puts_and_lets_gets_drain() {
    let queue = Queue::new(1);
    queue.put_nowait(1).unwrap();
    let mut blocked_put = Box::pin(queue.put(2));
    assert!(poll(&mut blocked_put).is_pending());
    queue.shutdown(false);
    assert!(queue.is_shutdown());
    assert_eq!(poll(&mut blocked_put), Poll::Ready(Err(QueueShutDown(2))));
    assert_eq!(queue.put_nowait(3), Err(TryPutError::QueueShutDown(3)));
    assert_eq!(local(queue.get()), Ok(1), "the item left is still delivered");
    assert_eq!(local(queue.get()), Err(QueueShutDown(())));
    assert_eq!(queue.get_nowait(), Err(TryGetError::QueueShutDown));
}

#[test]
fn shutdown_wakes_blocked_getters() {
    let queue = Queue::<u8>::new(0);
    let mut getter = Box::pin(queue.get());
    assert!(poll(&mut getter).is_pending());
    queue.shutdown(false);
    assert_eq!(poll(&mut getter), Poll::Ready(Err(QueueShutDown(()))));
}

#[test]
fn immediate_shutdown_drops_the_items_and_releases_join() {
    let queue = PriorityQueue::new(0);
    let marker = std::rc::Rc::new(());
    queue.put_nowait((1, marker.clone())).unwrap();
    queue.put_nowait((2, marker.clone())).unwrap();
    let mut join = Box::pin(queue.join());
    assert!(poll(&mut join).is_pending());
    queue.shutdown(true);
    assert_eq!(std::rc::Rc::strong_count(&marker), 1, "the items were dropped");
    assert!(queue.empty());
    assert!(poll(&mut join).is_ready(), "removed items count as done");
    assert_eq!(queue.get_nowait(), Err(TryGetError::QueueShutDown));
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    Fifo,
    Lifo,
    Priority,
}

enum AnyQueue {
    Fifo(Box<Queue<u32>>),
    Lifo(LifoQueue<u32>),
    Priority(PriorityQueue<u32>),
}

impl AnyQueue {
    fn new(kind: Kind, maxsize: usize) -> Self {
        match kind {
            Kind::Fifo => AnyQueue::Fifo(Box::new(Queue::new(maxsize))),
            Kind::Lifo => AnyQueue::Lifo(LifoQueue::new(maxsize)),
            Kind::Priority => AnyQueue::Priority(PriorityQueue::new(maxsize)),
        }
    }
    fn put_nowait(&self, item: u32) -> Result<(), TryPutError<u32>> {
        match self {
            AnyQueue::Fifo(q) => q.put_nowait(item),
            AnyQueue::Lifo(q) => q.put_nowait(item),
            AnyQueue::Priority(q) => q.put_nowait(item),
        }
    }
    fn get_nowait(&self) -> Result<u32, TryGetError> {
        match self {
            AnyQueue::Fifo(q) => q.get_nowait(),
            AnyQueue::Lifo(q) => q.get_nowait(),
            AnyQueue::Priority(q) => q.get_nowait(),
        }
    }
    fn qsize(&self) -> usize {
        match self {
            AnyQueue::Fifo(q) => q.qsize(),
            AnyQueue::Lifo(q) => q.qsize(),
            AnyQueue::Priority(q) => q.qsize(),
        }
    }
}

/// The reference model: what asyncio's queue of that kind would hold.
fn model_take(kind: Kind, model: &mut VecDeque<u32>) -> Option<u32> {
    match kind {
        Kind::Fifo => model.pop_front(),
        Kind::Lifo => model.pop_back(),
        Kind::Priority => {
            let (i, _) = model.iter().enumerate().min_by_key(|(_, v)| **v)?;
            model.remove(i)
        }
    }
}

fn kind() -> impl Strategy<Value = Kind> {
    prop_oneof![Just(Kind::Fifo), Just(Kind::Lifo), Just(Kind::Priority)]
}

proptest! {
    /// Contents and order match asyncio's queue of the same kind, including the limit.
    #[test]
    fn contents_follow_the_model(
        kind in kind(),
        maxsize in 0..5usize,
        ops in prop::collection::vec(prop::option::of(0..100u32), 1..100),
    ) {
        let queue = AnyQueue::new(kind, maxsize);
        let mut model = VecDeque::new();
        for op in ops {
            match op {
                Some(item) => {
                    let full = maxsize != 0 && model.len() >= maxsize;
                    match queue.put_nowait(item) {
                        Ok(()) => { prop_assert!(!full); model.push_back(item); }
                        Err(err) => { prop_assert!(full && err.is_full()); }
                    }
                }
                None => {
                    let expected = model_take(kind, &mut model);
                    prop_assert_eq!(queue.get_nowait().ok(), expected);
                }
            }
            prop_assert_eq!(queue.qsize(), model.len());
        }
    }

    /// `join` is ready exactly when every put has a matching `task_done`.
    #[test]
    fn join_returns_exactly_when_all_work_is_done(ops in prop::collection::vec(0..3u8, 1..80)) {
        let queue = Queue::new(0);
        let (mut put, mut taken, mut done) = (0u32, 0u32, 0u32);
        for op in ops {
            match op {
                0 => { queue.put_nowait(put).unwrap(); put += 1; }
                1 => if queue.get_nowait().is_ok() { taken += 1 },
                _ => {
                    let result = queue.task_done();
                    prop_assert_eq!(result.is_ok(), done < put);
                    if result.is_ok() { done += 1; }
                }
            }
            prop_assert!(taken <= put);
            let ready = poll(&mut Box::pin(queue.join())).is_ready();
            prop_assert_eq!(ready, done == put, "put {} done {}", put, done);
        }
    }
}

type PendingPut<'a> = Pending<'a, Result<(), QueueShutDown<u32>>>;

#[derive(Debug, Clone)]
enum Op {
    Put(u32),
    StartGet,
    DropGet(usize),
    StartPut(u32),
    DropPut(usize),
    PollAll,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        2 => (0..1000u32).prop_map(Op::Put),
        3 => Just(Op::StartGet),
        2 => (0..8usize).prop_map(Op::DropGet),
        2 => (0..1000u32).prop_map(Op::StartPut),
        1 => (0..8usize).prop_map(Op::DropPut),
        3 => Just(Op::PollAll),
    ]
}

proptest! {
    /// A `get()` dropped at any point loses no item and a dropped `put()` adds none: what was
    /// delivered plus what is left is exactly what was put, in FIFO order.
    #[test]
    fn dropped_gets_and_puts_lose_nothing(maxsize in 0..4usize, ops in prop::collection::vec(op(), 1..80)) {
        let queue = Queue::new(maxsize);
        let mut accepted = Vec::new(); // items whose put completed, in order
        let mut delivered = Vec::new();
        let mut getters: Vec<Pending<'_, Result<u32, QueueShutDown>>> = Vec::new();
        let mut putters: Vec<(u32, PendingPut<'_>)> = Vec::new();
        for op in ops {
            match op {
                Op::Put(item) => if queue.put_nowait(item).is_ok() { accepted.push(item) },
                Op::StartGet => {
                    let mut get: Pending<'_, _> = Box::pin(queue.get());
                    match poll(&mut get) {
                        Poll::Ready(item) => delivered.push(item.unwrap()),
                        Poll::Pending => getters.push(get),
                    }
                }
                Op::DropGet(i) => if !getters.is_empty() { drop(getters.remove(i % getters.len())); },
                Op::StartPut(item) => {
                    let mut put: Pending<'_, _> = Box::pin(queue.put(item));
                    match poll(&mut put) {
                        Poll::Ready(result) => { result.unwrap(); accepted.push(item) }
                        Poll::Pending => putters.push((item, put)),
                    }
                }
                Op::DropPut(i) => if !putters.is_empty() { drop(putters.remove(i % putters.len())); },
                Op::PollAll => {
                    putters.retain_mut(|(item, put)| match poll(put) {
                        Poll::Ready(result) => { result.unwrap(); accepted.push(*item); false }
                        Poll::Pending => true,
                    });
                    getters.retain_mut(|get| match poll(get) {
                        Poll::Ready(item) => { delivered.push(item.unwrap()); false }
                        Poll::Pending => true,
                    });
                }
            }
        }
        drop(getters);
        drop(putters);
        while let Ok(item) = queue.get_nowait() {
            delivered.push(item);
        }
        // Items leave in the order their puts completed, so the two lists are equal, order included.
        prop_assert_eq!(delivered, accepted);
    }
}
