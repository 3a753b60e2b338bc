//! Task identifiers.

use std::fmt;
use std::num::NonZeroU64;
use std::sync::atomic::{AtomicU64, Ordering};

/// A process-wide unique identifier of a task.
///
/// Ids are never reused while the process runs. A task gets its id the first time anyone asks
/// for it ([`Task::id`](crate::Task::id), [`current`](crate::current), a
/// [`JoinError`](crate::JoinError) that names it), so tasks nobody asks about cost no id and no
/// trip to the shared counter; ids therefore follow the order of those first questions, not the
/// order of spawns.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TaskId(NonZeroU64);

impl TaskId {
    pub(crate) fn next() -> TaskId {
        // Relaxed is enough: uniqueness comes from the atomic increment itself, and nothing else
        // is published through this counter.
        static NEXT: AtomicU64 = AtomicU64::new(1);
        let id = NEXT.fetch_add(1, Ordering::Relaxed);
        TaskId(NonZeroU64::new(id).expect("task id counter overflowed"))
    }

    /// Returns the id as a plain number, for logs and metrics.
    pub fn as_u64(self) -> u64 {
        self.0.get()
    }
}

impl fmt::Debug for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TaskId({})", self.0)
    }
}

impl fmt::Display for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}
