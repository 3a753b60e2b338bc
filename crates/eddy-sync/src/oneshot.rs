//! The one-shot channel behind [`channel::oneshot`](crate::channel::oneshot): one value, one
//! sender, one receiver, and one state word between them.
//!
//! # Protocol
//!
//! `state` holds five bits. Each side sets its own "done" bit once, with one read-modify-write,
//! and what the other side may touch follows from the bits that write returns:
//!
//! - `COMPLETE` (sender done): the sender sent a value or was dropped without. Before it is set
//!   the sender owns `value`; after, the receiver does, unless `CLOSED` was already set, in which
//!   case the sender takes its value back.
//! - `CLOSED` (receiver done): the receiver was dropped. If `COMPLETE` was already set, the value
//!   is the receiver's to drop; otherwise the receiver never touches `value` again.
//! - `RX_WAKER` / `TX_WAKER`: the receiver's waker (in `rx_waker`) or the waker of the sender's
//!   [`closed`](OneshotSender::closed) (in `tx_waker`) is in place, and the other side may wake
//!   it. A side writes its own waker cell only while its bit is clear; while the bit is set both
//!   sides only read the cell. The other side reads it only if its done-write returned the bit
//!   set, so a side that clears its bit and finds the other one done leaves the cell alone.
//! - `TAKEN`: [`OneshotReceiver::try_recv`] claimed the value. It takes `&self`, so two threads
//!   may call it at once; the claim picks one. Polling takes `&mut self` and needs no claim.
//!
//! Sending costs one read-modify-write and, if the receiver waits, one wake; a receive that
//! finds the value costs one load. async-channel's one-slot channel, which `BENCH.md`'s
//! `ping_pong` uses, does several times that (a lock, listener lists, three reference counts).

use std::fmt;
use std::future::Future;
use std::mem::ManuallyDrop;
use std::pin::Pin;
use std::ptr;
use std::task::{Context, Poll, Waker};

use crate::channel::{RecvError, SendError, TryRecvError};
use crate::shim::{Arc, AtomicUsize, Ordering, UnsafeCell};

/// The sender is done: it sent (the value is in `value`) or was dropped without sending.
const COMPLETE: usize = 0b0_0001;
/// The receiver is done: it was dropped.
const CLOSED: usize = 0b0_0010;
/// `rx_waker` holds the receiver's waker.
const RX_WAKER: usize = 0b0_0100;
/// `tx_waker` holds the waker of the sender's `closed()`.
const TX_WAKER: usize = 0b0_1000;
/// `try_recv` claimed the value.
const TAKEN: usize = 0b1_0000;

/// Creates a channel for exactly one value: the [`OneshotSender`] sends it, the
/// [`OneshotReceiver`] is a future of it.
///
/// If the sender is dropped without sending, the receiver completes with [`RecvError`]; if the
/// receiver is gone, [`OneshotSender::send`] gives the value back.
///
/// ```
/// # futures_lite::future::block_on(async {
/// let (reply, answer) = eddy_sync::channel::oneshot();
/// std::thread::spawn(move || reply.send("pong").unwrap());
/// assert_eq!(answer.await, Ok("pong"));
/// # });
/// ```
pub fn oneshot<T>() -> (OneshotSender<T>, OneshotReceiver<T>) {
    let shared = Arc::new(Shared {
        state: AtomicUsize::new(0),
        value: UnsafeCell::new(None),
        rx_waker: UnsafeCell::new(None),
        tx_waker: UnsafeCell::new(None),
    });
    (OneshotSender { shared: shared.clone() }, OneshotReceiver { shared })
}

struct Shared<T> {
    state: AtomicUsize,
    /// Owned by the sender until `COMPLETE`, then by the receiver (see the module docs).
    value: UnsafeCell<Option<T>>,
    /// Written by the receiver while `RX_WAKER` is clear.
    rx_waker: UnsafeCell<Option<Waker>>,
    /// Written by the sender while `TX_WAKER` is clear.
    tx_waker: UnsafeCell<Option<Waker>>,
}

// SAFETY: the cells are reached only as the protocol in the module docs allows: `value` by one
// side at a time (it moves `T` between threads, so `T: Send` is needed, not `T: Sync`), a waker
// cell written only by its owner while no one else may read it.
unsafe impl<T: Send> Send for Shared<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Sync for Shared<T> {}

impl<T> Shared<T> {
    /// Puts `waker` in `cell` (the caller's own waker cell, flagged by `bit`) unless the other
    /// side's `done` bit is set. Returns whether `done` is set: the caller is then ready.
    ///
    /// # Safety
    ///
    /// Only the side that owns `cell` may call this, and not from two threads at once.
    unsafe fn register(
        &self,
        cell: &UnsafeCell<Option<Waker>>,
        bit: usize,
        done: usize,
        waker: &Waker,
    ) -> bool {
        // Acquire: if `done` is set, what the other side wrote before setting it is visible.
        let state = self.state.load(Ordering::Acquire);
        if state & done != 0 {
            return true;
        }
        if state & bit != 0 {
            // SAFETY: with `bit` set, both sides only read the cell.
            if cell.with(|slot| unsafe { &*slot }.as_ref().is_some_and(|old| old.will_wake(waker))) {
                return false;
            }
            // Take the cell back before replacing the waker in it.
            if self.state.fetch_and(!bit, Ordering::AcqRel) & done != 0 {
                return true;
            }
        }
        // SAFETY: `bit` is clear, so the other side will not read the cell; the caller is its
        // only writer.
        cell.with_mut(|slot| unsafe { *slot = Some(waker.clone()) });
        // Release publishes the waker to the side that sees `bit`.
        self.state.fetch_or(bit, Ordering::AcqRel) & done != 0
    }

    /// Sets the caller's `done` bit; if the other side's waker is in place (`bit`) and the other
    /// side is not done itself, wakes it. Returns the state before.
    fn finish(&self, done: usize, cell: &UnsafeCell<Option<Waker>>, bit: usize, other_done: usize) -> usize {
        // AcqRel: releases what this side wrote (the value), acquires the other side's waker.
        let before = self.state.fetch_or(done, Ordering::AcqRel);
        if before & (bit | other_done) == bit {
            cell.with(|slot| {
                // SAFETY: `bit` was set when `done` went in, so the cell's owner no longer writes
                // it (it clears `bit` first and would find `done`); reading it is allowed.
                if let Some(waker) = unsafe { &*slot } {
                    waker.wake_by_ref();
                }
            });
        }
        before
    }

    /// Takes the value out.
    ///
    /// # Safety
    ///
    /// The caller owns `value`: it is the receiver, has seen `COMPLETE`, and no other receiver
    /// call runs at the same time (or it is the sender, and `CLOSED` was set before `COMPLETE`).
    unsafe fn take_value(&self) -> Option<T> {
        // SAFETY: per the contract, no one else touches the cell now.
        self.value.with_mut(|value| unsafe { (*value).take() })
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
        // `send` does what `drop` would (set `COMPLETE`), so `drop` must not run as well.
        let this = ManuallyDrop::new(self);
        // SAFETY: `this` is never used or dropped again, so the `Arc` is moved out exactly once.
        let shared = unsafe { ptr::read(&this.shared) };
        // SAFETY: `COMPLETE` is not set yet, so `value` is the sender's.
        shared.value.with_mut(|slot| unsafe { *slot = Some(value) });
        let before = shared.finish(COMPLETE, &shared.rx_waker, RX_WAKER, CLOSED);
        if before & CLOSED != 0 {
            // The receiver left before the value arrived and will not look at it: take it back.
            // SAFETY: `CLOSED` came before `COMPLETE`, so the value is still the sender's.
            let value = unsafe { shared.take_value() }.expect("the value was just stored");
            return Err(SendError(value));
        }
        Ok(())
    }

    /// Whether the receiver was dropped (a value sent now would be returned).
    pub fn is_closed(&self) -> bool {
        self.shared.state.load(Ordering::Acquire) & CLOSED != 0
    }

    /// Completes when the receiver is dropped: a way to stop working on an answer nobody
    /// waits for. (`&mut self`: one waiter at a time.)
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// let (mut reply, answer) = eddy_sync::channel::oneshot::<u32>();
    /// drop(answer);
    /// reply.closed().await; // returns at once: nobody waits for the answer
    /// assert!(reply.send(7).is_err());
    /// # });
    /// ```
    pub async fn closed(&mut self) {
        std::future::poll_fn(|cx| {
            let shared = &*self.shared;
            // SAFETY: the sender owns `tx_waker`, and `&mut self` keeps this call alone.
            if unsafe { shared.register(&shared.tx_waker, TX_WAKER, CLOSED, cx.waker()) } {
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
        // Dropped without sending: the receiver completes with `RecvError`.
        self.shared.finish(COMPLETE, &self.shared.rx_waker, RX_WAKER, CLOSED);
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
        let shared = &*self.shared;
        if shared.state.load(Ordering::Acquire) & COMPLETE == 0 {
            return Err(TryRecvError::Empty);
        }
        if shared.state.fetch_or(TAKEN, Ordering::Acquire) & TAKEN != 0 {
            return Err(TryRecvError::Closed);
        }
        // SAFETY: `COMPLETE` is set, and this call won the claim; a poll or drop needs `&mut
        // self`, so none runs meanwhile.
        unsafe { shared.take_value() }.ok_or(TryRecvError::Closed)
    }
}

impl<T> Future for OneshotReceiver<T> {
    type Output = Result<T, RecvError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let shared = &*self.shared;
        // SAFETY: the receiver owns `rx_waker`, and `&mut self` keeps this call alone.
        if unsafe { shared.register(&shared.rx_waker, RX_WAKER, COMPLETE, cx.waker()) } {
            // SAFETY: `COMPLETE` is set and `&mut self` excludes `try_recv`; a value it already
            // took left `None` behind.
            Poll::Ready(unsafe { shared.take_value() }.ok_or(RecvError))
        } else {
            Poll::Pending
        }
    }
}

impl<T> Drop for OneshotReceiver<T> {
    fn drop(&mut self) {
        let shared = &*self.shared;
        let before = shared.finish(CLOSED, &shared.tx_waker, TX_WAKER, COMPLETE);
        if before & COMPLETE != 0 {
            // A value nobody received is dropped now, not with the last reference.
            // SAFETY: `COMPLETE` came before `CLOSED`: the value is the receiver's.
            drop(unsafe { shared.take_value() });
        }
    }
}

impl<T> fmt::Debug for OneshotReceiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OneshotReceiver").finish_non_exhaustive()
    }
}

/// Model checks of the protocol: every interleaving of the two sides, for each way a channel
/// can end. `RUSTFLAGS="--cfg eddy_sync_loom" cargo test -p eddy-sync --lib --release`.
#[cfg(all(test, eddy_sync_loom))]
mod loom_models {
    use std::task::Waker;

    use loom::future::block_on;
    use loom::sync::atomic::AtomicUsize;
    use loom::sync::Arc;
    use loom::thread;

    use super::*;

    /// Counts its drops, to check that a value is dropped exactly once whoever ends up with it.
    struct Counted(Arc<AtomicUsize>);

    impl Drop for Counted {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn a_value_sent_from_another_thread_arrives() {
        loom::model(|| {
            let (tx, rx) = oneshot();
            let sender = thread::spawn(move || tx.send(7).unwrap());
            assert_eq!(block_on(rx), Ok(7));
            sender.join().unwrap();
        });
    }

    #[test]
    fn a_receiver_that_changes_wakers_is_woken_on_the_last_one() {
        loom::model(|| {
            let (tx, mut rx) = oneshot();
            // The first poll leaves a waker that never wakes anything; `block_on` polls with
            // its own, which must replace it while the sender may be reading it.
            let first = Pin::new(&mut rx).poll(&mut Context::from_waker(Waker::noop()));
            let sender = thread::spawn(move || tx.send(7).unwrap());
            match first {
                Poll::Ready(got) => assert_eq!(got, Ok(7)),
                Poll::Pending => assert_eq!(block_on(rx), Ok(7)),
            }
            sender.join().unwrap();
        });
    }

    #[test]
    fn a_sender_dropped_without_sending_ends_the_receiver() {
        loom::model(|| {
            let (tx, rx) = oneshot::<u8>();
            let sender = thread::spawn(move || drop(tx));
            assert_eq!(block_on(rx), Err(RecvError));
            sender.join().unwrap();
        });
    }

    #[test]
    fn closed_completes_when_the_receiver_leaves() {
        loom::model(|| {
            let (mut tx, rx) = oneshot::<u8>();
            let receiver = thread::spawn(move || drop(rx));
            block_on(tx.closed());
            assert!(tx.is_closed());
            assert_eq!(tx.send(1), Err(SendError(1)));
            receiver.join().unwrap();
        });
    }

    #[test]
    fn a_value_racing_the_receivers_drop_is_dropped_once() {
        loom::model(|| {
            let drops = Arc::new(AtomicUsize::new(0));
            let (tx, rx) = oneshot();
            let receiver = thread::spawn(move || drop(rx));
            let value = Counted(drops.clone());
            if let Err(SendError(back)) = tx.send(value) {
                drop(back);
            }
            receiver.join().unwrap();
            assert_eq!(drops.load(Ordering::SeqCst), 1);
        });
    }

    #[test]
    fn racing_try_recvs_take_the_value_once() {
        loom::model(|| {
            let (tx, rx) = oneshot();
            tx.send(7).unwrap();
            let rx = Arc::new(rx);
            let other = {
                let rx = rx.clone();
                thread::spawn(move || rx.try_recv().is_ok())
            };
            let here = rx.try_recv().is_ok();
            let there = other.join().unwrap();
            assert!(here ^ there, "exactly one try_recv gets the value");
        });
    }
}
