//! Rust-style message passing: [`bounded`] and [`unbounded`] multi-producer multi-consumer
//! channels (async-channel's, re-exported) and a [`oneshot`] channel for a single value.
//!
//! Use a channel where Rust code would pass ownership along a pipeline, and a
//! [`Queue`](crate::queue::Queue) where asyncio code would (it adds `task_done`/`join`,
//! `shutdown` and the asyncio names). Both work across threads and under any executor.
//!
//! ```
//! # futures_lite::future::block_on(async {
//! let (tx, rx) = eddy_sync::channel::bounded(8);
//! tx.send("hello").await.unwrap();
//! drop(tx); // closing: the receiver drains, then sees the end
//! assert_eq!(rx.recv().await, Ok("hello"));
//! assert!(rx.recv().await.is_err());
//!
//! let (reply, answer) = eddy_sync::channel::oneshot();
//! reply.send(42).unwrap();
//! assert_eq!(answer.await, Ok(42));
//! # });
//! ```

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};

use atomic_waker::AtomicWaker;

#[doc(inline)]
pub use async_channel::{
    bounded, unbounded, Receiver, Recv, RecvError, Send, SendError, Sender, TryRecvError, TrySendError,
};

/// Creates a channel for exactly one value: the [`OneshotSender`] sends it, the
/// [`OneshotReceiver`] is a future of it.
///
/// If the sender is dropped without sending, the receiver completes with [`RecvError`]; if the
/// receiver is gone, [`OneshotSender::send`] gives the value back.
pub fn oneshot<T>() -> (OneshotSender<T>, OneshotReceiver<T>) {
    let shared = Arc::new(Shared {
        slot: Mutex::new(Slot { value: None, sender_alive: true, receiver_alive: true }),
        receiver: AtomicWaker::new(),
        sender: AtomicWaker::new(),
    });
    (OneshotSender { shared: shared.clone() }, OneshotReceiver { shared })
}

struct Shared<T> {
    slot: Mutex<Slot<T>>,
    /// Woken when a value arrives or the sender is dropped.
    receiver: AtomicWaker,
    /// Woken when the receiver is dropped (for [`OneshotSender::closed`]).
    sender: AtomicWaker,
}

struct Slot<T> {
    value: Option<T>,
    sender_alive: bool,
    receiver_alive: bool,
}

impl<T> Shared<T> {
    fn slot(&self) -> MutexGuard<'_, Slot<T>> {
        crate::lock(&self.slot)
    }
}

/// Sends the one value of a [`oneshot`] channel.
pub struct OneshotSender<T> {
    shared: Arc<Shared<T>>,
}

impl<T> OneshotSender<T> {
    /// Sends the value, waking the receiver.
    ///
    /// # Errors
    ///
    /// [`SendError`] with the value if the receiver was dropped.
    pub fn send(self, value: T) -> Result<(), SendError<T>> {
        {
            let mut slot = self.shared.slot();
            if !slot.receiver_alive {
                return Err(SendError(value));
            }
            slot.value = Some(value);
        }
        self.shared.receiver.wake();
        Ok(())
    }

    /// Whether the receiver was dropped (a value sent now would be returned).
    pub fn is_closed(&self) -> bool {
        !self.shared.slot().receiver_alive
    }

    /// Completes when the receiver is dropped: a way to stop working on an answer nobody
    /// waits for.
    pub async fn closed(&self) {
        std::future::poll_fn(|cx| {
            self.shared.sender.register(cx.waker());
            if self.is_closed() {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        })
        .await
    }
}

impl<T> Drop for OneshotSender<T> {
    fn drop(&mut self) {
        self.shared.slot().sender_alive = false;
        self.shared.receiver.wake();
    }
}

impl<T> fmt::Debug for OneshotSender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OneshotSender").field("closed", &self.is_closed()).finish()
    }
}

/// Receives the one value of a [`oneshot`] channel: a future of `Result<T, RecvError>`.
#[must_use = "futures do nothing unless awaited"]
pub struct OneshotReceiver<T> {
    shared: Arc<Shared<T>>,
}

impl<T> OneshotReceiver<T> {
    /// Takes the value if it has been sent.
    ///
    /// # Errors
    ///
    /// [`TryRecvError::Empty`] if not yet, [`TryRecvError::Closed`] if the sender was dropped
    /// without sending (or the value was already taken).
    pub fn try_recv(&self) -> Result<T, TryRecvError> {
        let mut slot = self.shared.slot();
        match slot.value.take() {
            Some(value) => Ok(value),
            None if slot.sender_alive => Err(TryRecvError::Empty),
            None => Err(TryRecvError::Closed),
        }
    }
}

impl<T> Future for OneshotReceiver<T> {
    type Output = Result<T, RecvError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.shared.receiver.register(cx.waker());
        match self.try_recv() {
            Ok(value) => Poll::Ready(Ok(value)),
            Err(TryRecvError::Empty) => Poll::Pending,
            Err(TryRecvError::Closed) => Poll::Ready(Err(RecvError)),
        }
    }
}

impl<T> Drop for OneshotReceiver<T> {
    fn drop(&mut self) {
        self.shared.slot().receiver_alive = false;
        self.shared.sender.wake();
    }
}

impl<T> fmt::Debug for OneshotReceiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OneshotReceiver").finish_non_exhaustive()
    }
}
