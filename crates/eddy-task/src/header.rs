//! The per-task header stored inside the task's single allocation.
//!
//! async-task keeps one allocation per task holding its state word, the schedule function, this
//! header (async-task calls it "metadata") and the future. The header is created before the
//! future and dropped after it.
//!
//! A parked task costs its header on top of its future, so the header keeps only what every task
//! needs, in 24 bytes:
//!
//! - `scheduler`: the executor's wake path (one pointer; the schedule function async-task calls
//!   reads it from here, so that function captures nothing);
//! - `info`: one word that is either the spawn location or a pointer to the task's [`Extra`],
//!   plus the abort bit;
//! - `key`: the executor's registry key, written once by the spawning thread before the task is
//!   first scheduled (scheduling publishes it), read when the future is dropped;
//! - `owner`: the thread a `!Send` future is pinned to (0 for a `Send` future).
//!
//! What few tasks use lives in [`Extra`], boxed on first use: the id (handed out the first time
//! anyone asks for it), the name (a named task gets its `Extra` at spawn), and the state of
//! graceful cancellation. Once installed, an `Extra` stays until the header is dropped, so
//! references into it live as long as the task.

use std::fmt;
use std::panic::Location;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::Waker;

use crate::executor::Scheduler;
use crate::TaskId;

/// `info` holds a `Box<Extra>` rather than a `&'static Location`.
const EXTRA: usize = 0b01;
/// The task was asked to abort.
const ABORT: usize = 0b10;
const TAGS: usize = EXTRA | ABORT;

// Both pointers `info` may hold leave its two low bits free for the tags.
const _: () = assert!(std::mem::align_of::<Location<'static>>() > TAGS);
const _: () = assert!(std::mem::align_of::<Extra>() > TAGS);

/// A registry key that means "not registered (yet)".
pub(crate) const UNREGISTERED: u32 = u32::MAX;

/// Everything a task knows about itself, shared by its handle, its runnable and its future.
pub(crate) struct Header {
    pub(crate) scheduler: Scheduler,
    /// The spawn location (`EXTRA` clear) or a `Box<Extra>` (`EXTRA` set), and the `ABORT` bit.
    info: AtomicUsize,
    /// The executor's registry key, or [`UNREGISTERED`].
    pub(crate) key: AtomicU32,
    /// For a `!Send` future, the token of the thread that spawned it; 0 for a `Send` future.
    pub(crate) owner: u32,
}

/// What a header's `info` word points to.
enum Info<'a> {
    Location(&'static Location<'static>),
    Extra(&'a Extra),
}

/// The parts of a header that few tasks use, boxed on first use.
#[repr(align(8))]
struct Extra {
    id: TaskId,
    location: &'static Location<'static>,
    name: Option<Arc<str>>,
    /// Set by [`Task::request_cancel`](crate::Task::request_cancel): the task is asked to wind
    /// down on its own (see [`cancelled`](crate::cancelled)); nothing is dropped.
    cancel_requested: AtomicBool,
    /// The wakers of the [`cancelled`](crate::cancelled) futures waiting inside the task. A
    /// combinator re-polls only the branches whose own waker fired, so waking the task alone
    /// would not reach them.
    cancel_wakers: Mutex<Vec<Waker>>,
}

impl Extra {
    fn boxed(id: TaskId, location: &'static Location<'static>, name: Option<Arc<str>>) -> usize {
        let extra = Extra {
            id,
            location,
            name,
            cancel_requested: AtomicBool::new(false),
            cancel_wakers: Mutex::new(Vec::new()),
        };
        Box::into_raw(Box::new(extra)) as usize
    }
}

impl Header {
    pub(crate) fn new(
        scheduler: Scheduler,
        location: &'static Location<'static>,
        name: Option<Arc<str>>,
        owner: u32,
    ) -> Header {
        let info = match name {
            None => location as *const Location<'static> as usize,
            Some(name) => Extra::boxed(TaskId::next(), location, Some(name)) | EXTRA,
        };
        Header { scheduler, info: AtomicUsize::new(info), key: AtomicU32::new(UNREGISTERED), owner }
    }

    /// A header with the id, name and location of `like`.
    pub(crate) fn like(scheduler: Scheduler, like: &Header) -> Header {
        let (id, name) = like.describe();
        let info = Extra::boxed(id, like.location(), name) | EXTRA;
        Header { scheduler, info: AtomicUsize::new(info), key: AtomicU32::new(UNREGISTERED), owner: 0 }
    }

    /// What `info` holds now. Acquire pairs with the release of the compare-exchange in
    /// `extra`, which published the box's contents.
    fn load(&self) -> Info<'_> {
        let info = self.info.load(Ordering::Acquire);
        let pointer = info & !TAGS;
        if info & EXTRA != 0 {
            // SAFETY: with `EXTRA` set, `info` holds a `Box<Extra>` that lives until `self` drops.
            Info::Extra(unsafe { &*(pointer as *const Extra) })
        } else {
            // SAFETY: without `EXTRA`, `info` holds a `&'static Location`.
            Info::Location(unsafe { &*(pointer as *const Location<'static>) })
        }
    }

    /// The task's `Extra`, if it has one yet.
    fn try_extra(&self) -> Option<&Extra> {
        match self.load() {
            Info::Extra(extra) => Some(extra),
            Info::Location(_) => None,
        }
    }

    /// The task's `Extra`, made and installed now if it has none.
    fn extra(&self) -> &Extra {
        let location = match self.load() {
            Info::Extra(extra) => return extra,
            Info::Location(location) => location,
        };
        let boxed = Extra::boxed(TaskId::next(), location, None);
        let mut info = self.info.load(Ordering::Acquire);
        loop {
            if info & EXTRA != 0 {
                // Another thread installed one first: ours was never seen, free it.
                // SAFETY: `boxed` came from `Box::into_raw` above and was never shared.
                drop(unsafe { Box::from_raw(boxed as *mut Extra) });
                break;
            }
            // The abort bit may change meanwhile; keep whatever it is.
            let new = boxed | EXTRA | (info & ABORT);
            match self.info.compare_exchange_weak(info, new, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => break,
                Err(actual) => info = actual,
            }
        }
        self.try_extra().expect("an Extra was just installed")
    }

    /// The task's id, handed out the first time anyone asks.
    pub(crate) fn id(&self) -> TaskId {
        self.extra().id
    }

    pub(crate) fn name(&self) -> Option<&str> {
        self.try_extra().and_then(|extra| extra.name.as_deref())
    }

    pub(crate) fn location(&self) -> &'static Location<'static> {
        match self.load() {
            Info::Extra(extra) => extra.location,
            Info::Location(location) => location,
        }
    }

    pub(crate) fn info(&self) -> TaskInfo {
        let extra = self.extra();
        TaskInfo { id: extra.id, name: extra.name.clone(), location: extra.location }
    }

    /// Id and name, for a [`JoinError`](crate::JoinError).
    pub(crate) fn describe(&self) -> (TaskId, Option<Arc<str>>) {
        let extra = self.extra();
        (extra.id, extra.name.clone())
    }

    pub(crate) fn abort(&self) {
        // Release pairs with the Acquire load in `abort_requested`.
        self.info.fetch_or(ABORT, Ordering::Release);
    }

    pub(crate) fn abort_requested(&self) -> bool {
        self.info.load(Ordering::Acquire) & ABORT != 0
    }

    /// Marks cancellation as requested and wakes every `cancelled()` future waiting for it.
    pub(crate) fn request_cancel(&self) {
        let extra = self.extra();
        extra.cancel_requested.store(true, Ordering::Release);
        let wakers = std::mem::take(&mut *extra.cancel_wakers.lock().unwrap_or_else(PoisonError::into_inner));
        for waker in wakers {
            waker.wake();
        }
    }

    /// Registers `waker` to be woken by [`request_cancel`](Self::request_cancel); returns
    /// whether cancellation was requested already.
    pub(crate) fn wait_cancel(&self, waker: &Waker) -> bool {
        let extra = self.extra();
        let mut wakers = extra.cancel_wakers.lock().unwrap_or_else(PoisonError::into_inner);
        // Checked under the lock `request_cancel` takes after setting the flag, so either this
        // load sees the flag or `request_cancel` sees the waker.
        if extra.cancel_requested.load(Ordering::Acquire) {
            return true;
        }
        if !wakers.iter().any(|w| w.will_wake(waker)) {
            wakers.push(waker.clone());
        }
        false
    }
}

impl Drop for Header {
    fn drop(&mut self) {
        let info = *self.info.get_mut();
        if info & EXTRA != 0 {
            // SAFETY: with `EXTRA` set, `info` holds a `Box<Extra>` owned by this header.
            drop(unsafe { Box::from_raw((info & !TAGS) as *mut Extra) });
        }
    }
}

impl fmt::Debug for Header {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Task")
            .field("id", &self.id())
            .field("name", &self.name())
            .field("location", &format_args!("{}", self.location()))
            .finish()
    }
}

/// A description of a task: its id, optional name and where it was spawned.
///
/// Returned by [`current()`](crate::current) for the task that is running on this thread.
#[derive(Clone, Debug)]
pub struct TaskInfo {
    id: TaskId,
    name: Option<Arc<str>>,
    location: &'static Location<'static>,
}

impl TaskInfo {
    /// The task's unique id.
    pub fn id(&self) -> TaskId {
        self.id
    }

    /// The name given with [`Builder::name`](crate::Builder::name), if any.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The source location of the `spawn` call that created the task.
    pub fn location(&self) -> &'static Location<'static> {
        self.location
    }
}

/// Formats a task for messages: `task 7` or `task 7 "fetch"`.
pub(crate) struct Describe<'a>(pub(crate) TaskId, pub(crate) Option<&'a str>);

impl fmt::Display for Describe<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.1 {
            Some(name) => write!(f, "task {} {:?}", self.0, name),
            None => write!(f, "task {}", self.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::executor::{Runnable, Schedule, ScheduleInfo};

    struct Never;

    impl Schedule for Never {
        fn schedule(&self, _runnable: Runnable, _info: ScheduleInfo) {}
    }

    fn header(name: Option<&str>) -> Header {
        Header::new(Scheduler::new(Arc::new(Never)), Location::caller(), name.map(Arc::from), 0)
    }

    #[test]
    fn a_header_is_three_words() {
        // A scheduler pointer, the info word, and the 32-bit key and owner: every parked task
        // carries this, so growing it is a decision, not an accident.
        assert_eq!(std::mem::size_of::<Header>(), 2 * std::mem::size_of::<usize>() + 8);
    }

    #[test]
    fn an_unnamed_task_has_no_extra_until_asked() {
        let header = header(None);
        assert!(header.try_extra().is_none());
        assert_eq!(header.location().file(), file!());
        assert_eq!(header.name(), None);
        assert!(header.try_extra().is_none(), "name and location cost no box");
        let id = header.id();
        assert!(header.try_extra().is_some());
        assert_eq!(header.id(), id, "the id is handed out once");
        assert_eq!(header.location().file(), file!(), "the location moved into the box intact");
    }

    #[test]
    fn a_named_task_has_its_name_and_location() {
        let header = header(Some("fetch"));
        assert_eq!(header.name(), Some("fetch"));
        assert_eq!(header.location().file(), file!());
        let copy = Header::like(Scheduler::new(Arc::new(Never)), &header);
        assert_eq!((copy.id(), copy.name()), (header.id(), Some("fetch")));
    }

    #[test]
    fn ids_are_unique() {
        let headers: Vec<_> = (0..1000).map(|_| header(None)).collect();
        let ids: std::collections::HashSet<_> = headers.iter().map(Header::id).collect();
        assert_eq!(ids.len(), headers.len());
    }

    #[test]
    fn racing_first_questions_agree_and_keep_the_abort_bit() {
        for round in 0..500 {
            let header = Arc::new(header(None));
            let threads: Vec<_> = (0..3)
                .map(|i| {
                    let header = header.clone();
                    std::thread::spawn(move || {
                        if i == round % 3 {
                            header.abort();
                        }
                        header.id()
                    })
                })
                .collect();
            let ids: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
            assert!(ids.iter().all(|&id| id == ids[0]), "round {round}: {ids:?}");
            assert!(header.abort_requested(), "round {round}: installing the box lost the abort bit");
            assert!(!header.extra().cancel_requested.load(Ordering::Relaxed));
        }
    }

    #[test]
    fn cancellation_is_seen_by_a_waiter_registered_before_or_after() {
        let (before, after) = (header(None), header(None));
        let waker = Waker::noop();
        assert!(!before.wait_cancel(waker));
        before.request_cancel();
        assert!(before.wait_cancel(waker));
        after.request_cancel();
        assert!(after.wait_cancel(waker));
    }
}
