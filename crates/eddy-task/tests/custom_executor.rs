//! The executor contract, exercised by a minimal third-party executor.

use std::collections::VecDeque;
use std::rc::Rc;
use std::sync::{Arc, Mutex};

use eddy_task::{enter, Runnable, Schedule, ScheduleInfo, Scheduler, Spawn};

/// The smallest executor that honours the contract: a mutex-protected FIFO, no registry
/// (`register` hands out dummy keys), and a flag saying whether it claims to be local.
#[derive(Clone)]
struct Tiny {
    queue: Arc<TinyQueue>,
    scheduler: Scheduler,
    local: bool,
}

#[derive(Default)]
struct TinyQueue(Mutex<VecDeque<Runnable>>);

impl Schedule for TinyQueue {
    fn schedule(&self, runnable: Runnable, _info: ScheduleInfo) {
        self.0.lock().unwrap().push_back(runnable);
    }
}

impl Spawn for Tiny {
    fn scheduler(&self) -> Scheduler {
        self.scheduler.clone()
    }
    fn is_local(&self) -> bool {
        self.local
    }
    fn is_closed(&self) -> bool {
        false
    }
    fn register(&self, _waker: &std::task::Waker) -> Option<usize> {
        Some(0)
    }
    fn unregister(&self, _key: usize) {}
}

impl Tiny {
    fn new(local: bool) -> Tiny {
        let queue = Arc::<TinyQueue>::default();
        Tiny { scheduler: Scheduler::new(queue.clone()), queue, local }
    }

    fn pop(&self) -> Option<Runnable> {
        self.queue.0.lock().unwrap().pop_front()
    }

    /// Runs queued tasks on this thread, with the executor entered, until none is ready.
    fn run_until_idle(&self) {
        let _enter = enter(Rc::new(self.clone()));
        while let Some(runnable) = self.pop() {
            runnable.run();
        }
    }
}

fn panic_text(payload: Box<dyn std::any::Any + Send>) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

#[test]
#[allow(clippy::async_yields_async)] // The outer task hands its child's handle back on purpose.
fn spawn_reaches_the_entered_executor() {
    let ex = Tiny::new(false);
    let outer = eddy_task::spawn_on(&ex, async { eddy_task::spawn(async { 21 * 2 }) });
    ex.run_until_idle();
    let inner = futures_lite::future::block_on(outer).unwrap();
    ex.run_until_idle();
    assert_eq!(futures_lite::future::block_on(inner).unwrap(), 42);
}

#[test]
fn spawn_local_on_a_multi_threaded_executor_panics_with_advice() {
    let ex = Tiny::new(false);
    let _enter = enter(Rc::new(ex.clone()));
    let payload = std::panic::catch_unwind(|| drop(eddy_task::spawn_local(async {}))).unwrap_err();
    let msg = panic_text(payload);
    assert!(msg.contains("needs a single-threaded executor"), "{msg}");
    assert!(msg.contains("run_local"), "{msg}");
}

#[test]
fn a_local_task_run_on_a_foreign_thread_fails_instead_of_running() {
    // An executor that claims to be local but runs tasks on another thread: the task layer
    // refuses to poll the `!Send` future there, and fails the task instead.
    let ex = Tiny::new(true);
    let task = eddy_task::Builder::new().spawn_local_on(&ex, async { Rc::new("not Send") });
    let runner = ex.clone();
    std::thread::spawn(move || runner.pop().unwrap().run()).join().unwrap();
    let err = futures_lite::future::block_on(task).unwrap_err();
    assert!(err.is_panic());
    assert!(err.to_string().contains("polled on a thread other than"), "{err}");
}

#[test]
fn a_runnable_dropped_unrun_cancels_its_task() {
    let ex = Tiny::new(false);
    let task = eddy_task::spawn_on(&ex, async { 1 });
    drop(ex.pop().unwrap());
    assert!(futures_lite::future::block_on(task).unwrap_err().is_cancelled());
}

#[test]
fn join_error_reports_cancellation_with_the_name() {
    let ex = Tiny::new(false);
    let task = eddy_task::Builder::new().name("job").spawn_on(&ex, async { 1 });
    task.abort();
    ex.run_until_idle();
    let err = futures_lite::future::block_on(task).unwrap_err();
    assert_eq!(err.to_string(), format!("task {} \"job\" was cancelled", err.id()));
    assert!(format!("{err:?}").contains("Cancelled"));
    let err = err.try_into_panic().unwrap_err();
    assert!(err.is_cancelled());
}

#[test]
fn a_runnable_tells_a_first_run_from_a_wake() {
    let ex = Tiny::new(false);
    let mut yielded = false;
    let task = eddy_task::spawn_on(
        &ex,
        std::future::poll_fn(move |cx| {
            if yielded {
                return std::task::Poll::Ready(());
            }
            yielded = true;
            cx.waker().wake_by_ref();
            std::task::Poll::Pending
        }),
    );
    let first = ex.pop().unwrap();
    assert!(!first.has_waited(), "a spawned task's first schedule reads as a wake");
    {
        let _enter = enter(Rc::new(ex.clone()));
        first.run();
    }
    let again = ex.pop().unwrap();
    assert!(again.has_waited(), "a task that returned Pending reads as never having waited");
    ex.queue.0.lock().unwrap().push_front(again);
    ex.run_until_idle();
    futures_lite::future::block_on(task).unwrap();
}

#[test]
fn a_scheduler_lives_exactly_as_long_as_its_executor_and_tasks() {
    // The scheduler holds the executor's `Arc<TinyQueue>` until it is freed: the strong count
    // tells whether it is. Spawns from inside a task, on the thread where the executor is
    // entered, take their references from that thread's reserve, and tasks freed there give
    // them back; crossing the reserve's batches many times must lose or keep none.
    let ex = Tiny::new(false);
    let queue = ex.queue.clone();
    let outer = eddy_task::spawn_on(&ex, async {
        for i in 0..1_000 {
            eddy_task::spawn(async move { i }).detach();
        }
        (0..300).map(|i| eddy_task::spawn(async move { i })).collect::<Vec<_>>()
    });
    ex.run_until_idle();
    let handles = futures_lite::future::block_on(outer).unwrap();
    ex.run_until_idle();
    drop(ex);
    assert_eq!(Arc::strong_count(&queue), 2, "the unawaited tasks keep their scheduler alive");
    let sum: usize = handles.into_iter().map(|task| futures_lite::future::block_on(task).unwrap()).sum();
    assert_eq!(sum, (0..300).sum());
    assert_eq!(Arc::strong_count(&queue), 1, "the scheduler outlived its executor and tasks");
}
