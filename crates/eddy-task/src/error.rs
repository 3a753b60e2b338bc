//! The error a task's awaiter receives when the task did not return a value.

use std::any::Any;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use crate::header::Describe;
use crate::TaskId;

/// Why awaiting a [`Task`](crate::Task) produced no value: it was cancelled, or it panicked.
///
/// `Display` names the task, so `println!("{err}")` tells which of many tasks failed:
///
/// ```
/// # let ex = eddy_local::LocalExecutor::new();
/// # futures_lite::future::block_on(ex.run(async {
/// let task = eddy_task::Builder::new().name("parser").spawn_on(&ex, async { panic!("bad input") });
/// let err = task.await.unwrap_err();
/// assert!(err.is_panic());
/// assert!(err.to_string().contains("\"parser\" panicked: bad input"));
/// # }));
/// ```
pub struct JoinError {
    id: TaskId,
    name: Option<Arc<str>>,
    repr: Repr,
}

enum Repr {
    Cancelled,
    /// The payload sits in a mutex only so that `JoinError` is `Sync` (and so converts into
    /// `io::Error` and `Box<dyn Error + Send + Sync>`); it is locked just to format the message.
    Panic(Mutex<Box<dyn Any + Send + 'static>>),
}

impl JoinError {
    pub(crate) fn cancelled(id: TaskId, name: Option<Arc<str>>) -> JoinError {
        JoinError { id, name, repr: Repr::Cancelled }
    }

    pub(crate) fn panic(id: TaskId, name: Option<Arc<str>>, payload: Box<dyn Any + Send>) -> JoinError {
        JoinError { id, name, repr: Repr::Panic(Mutex::new(payload)) }
    }

    /// Whether the task was cancelled before it finished.
    pub fn is_cancelled(&self) -> bool {
        matches!(self.repr, Repr::Cancelled)
    }

    /// Whether the task panicked.
    pub fn is_panic(&self) -> bool {
        matches!(self.repr, Repr::Panic(_))
    }

    /// The id of the task that failed.
    pub fn id(&self) -> TaskId {
        self.id
    }

    /// Returns the panic payload, to re-raise it with [`std::panic::resume_unwind`].
    ///
    /// # Panics
    ///
    /// Panics if the task was cancelled rather than panicked; use
    /// [`try_into_panic`](Self::try_into_panic) to check first.
    #[track_caller]
    pub fn into_panic(self) -> Box<dyn Any + Send + 'static> {
        self.try_into_panic()
            .unwrap_or_else(|err| panic!("`JoinError::into_panic` called on a cancelled task: {err}"))
    }

    /// Returns the panic payload if the task panicked, or gives the error back.
    pub fn try_into_panic(self) -> Result<Box<dyn Any + Send + 'static>, JoinError> {
        match self.repr {
            Repr::Panic(payload) => Ok(payload.into_inner().unwrap_or_else(PoisonError::into_inner)),
            Repr::Cancelled => Err(self),
        }
    }
}

/// Extracts the message of a panic payload, which is a `&str` or a `String` for `panic!`.
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> &str {
    if let Some(s) = payload.downcast_ref::<&'static str>() {
        s
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s
    } else {
        "Box<dyn Any>"
    }
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let task = Describe(self.id, self.name.as_deref());
        match &self.repr {
            Repr::Cancelled => write!(f, "{task} was cancelled"),
            Repr::Panic(payload) => {
                let payload = payload.lock().unwrap_or_else(PoisonError::into_inner);
                write!(f, "{task} panicked: {}", panic_message(&**payload))
            }
        }
    }
}

impl fmt::Debug for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.repr {
            Repr::Cancelled => "Cancelled",
            Repr::Panic(_) => "Panic",
        };
        f.debug_struct("JoinError")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("kind", &format_args!("{kind}"))
            .finish()
    }
}

impl std::error::Error for JoinError {}

impl From<JoinError> for std::io::Error {
    fn from(err: JoinError) -> std::io::Error {
        std::io::Error::other(err)
    }
}
