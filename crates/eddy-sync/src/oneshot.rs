//! The one-shot channel behind [`channel::oneshot`](crate::channel::oneshot): one value, one
//! sender, one receiver, and one state word between them.
//!
//! # Protocol
//!
//! The channel is one allocation with no reference count: each side sets its own "gone" bit as
//! the last thing it does to the channel, and the side whose write finds the other's already set
//! frees it. `state` holds seven bits. Each side sets its own "done" bit once, and what the other
//! side may touch follows from the bits that write returns:
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
//! - `TX_GONE` / `RX_GONE`: the sender / the receiver will not touch the channel again. A side
//!   with nothing left to do after its done bit (no waker of the other side to wake, no value to
//!   take back) sets both in one compare-exchange; otherwise it sets its gone bit after the wake.
//!   A side that finds the other one gone before it writes anything frees the channel at once.
//!
//! So a value sent before the receiver waits costs one atomic read-modify-write in all (the send;
//! the receive and both drops only load), and one the receiver waits for costs six (the waker's
//! clone, registration and drop, the send, the wake, the sender's gone bit). With a reference
//! count it was five and nine. async-channel's one-slot channel, which `BENCH.md`'s `ping_pong`
//! uses, does several times that (a lock, listener lists, three reference counts).

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::pin::Pin;
use std::ptr::NonNull;
use std::task::{Context, Poll, Waker};

use crate::channel::{RecvError, SendError, TryRecvError};
use crate::shim::{AtomicUsize, Ordering, UnsafeCell};

/// The sender is done: it sent (the value is in `value`) or was dropped without sending.
const COMPLETE: usize = 0b000_0001;
/// The receiver is done: it was dropped.
const CLOSED: usize = 0b000_0010;
/// `rx_waker` holds the receiver's waker.
const RX_WAKER: usize = 0b000_0100;
/// `tx_waker` holds the waker of the sender's `closed()`.
const TX_WAKER: usize = 0b000_1000;
/// `try_recv` claimed the value.
const TAKEN: usize = 0b001_0000;
/// The sender will not touch the channel again.
const TX_GONE: usize = 0b010_0000;
/// The receiver will not touch the channel again.
const RX_GONE: usize = 0b100_0000;

/// One side's bits: its done bit, its waker bit, its gone bit.
#[derive(Clone, Copy)]
struct Side {
    done: usize,
    waker: usize,
    gone: usize,
}

const SENDER: Side = Side { done: COMPLETE, waker: TX_WAKER, gone: TX_GONE };
const RECEIVER: Side = Side { done: CLOSED, waker: RX_WAKER, gone: RX_GONE };

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
    let shared = Box::new(Shared {
        state: AtomicUsize::new(0),
        value: UnsafeCell::new(None),
        rx_waker: UnsafeCell::new(None),
        tx_waker: UnsafeCell::new(None),
        #[cfg(eddy_sync_loom)]
        _leak_check: loom::alloc::Track::new(()),
    });
    let shared = NonNull::from(Box::leak(shared));
    (OneshotSender { shared, _owns: PhantomData }, OneshotReceiver { shared, _owns: PhantomData })
}

struct Shared<T> {
    state: AtomicUsize,
    /// Owned by the sender until `COMPLETE`, then by the receiver (see the module docs).
    value: UnsafeCell<Option<T>>,
    /// Written by the receiver while `RX_WAKER` is clear.
    rx_waker: UnsafeCell<Option<Waker>>,
    /// Written by the sender while `TX_WAKER` is clear.
    tx_waker: UnsafeCell<Option<Waker>>,
    /// Makes loom report a channel that neither side freed.
    #[cfg(eddy_sync_loom)]
    _leak_check: loom::alloc::Track<()>,
}

impl<T> Shared<T> {
    /// Puts `waker` in side `me`'s waker cell unless side `other` is done. Returns whether
    /// `other` is done: the caller is then ready.
    ///
    /// # Safety
    ///
    /// Only side `me` may call this, and not from two threads at once.
    unsafe fn register(&self, me: Side, other: Side, waker: &Waker) -> bool {
        let (cell, bit, done) = (self.waker_cell(me), me.waker, other.done);
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

    /// Ends side `me` (the other one being `other`): sets its done bit, wakes the other side if
    /// its waker is in place and it is not done itself, and leaves the channel. Returns the value
    /// if it is now `me`'s (the other side was done first): the sender takes it back, the
    /// receiver drops it.
    ///
    /// # Safety
    ///
    /// Called once per side, by that side, which does not touch the channel afterwards.
    unsafe fn finish(shared: NonNull<Shared<T>>, me: Side, other: Side) -> Option<T> {
        // SAFETY: `me`'s gone bit is not set yet, so the channel is alive.
        let this = unsafe { shared.as_ref() };
        let mut state = this.state.load(Ordering::Acquire);
        loop {
            if state & other.gone != 0 {
                // The other side has left for good: nobody else touches the channel.
                // SAFETY: the other side is done, so the value is `me`'s.
                let value = unsafe { this.take_value() };
                // SAFETY: both sides are gone now.
                unsafe { Shared::free(shared) };
                return value;
            }
            if state & other.done != 0 {
                // The other side will not look at the value again, but may still be waking
                // `me`'s waker: take the value, then leave.
                // SAFETY: the other side was done first, so the value is `me`'s.
                let value = unsafe { this.take_value() };
                // SAFETY: `me` is done with the channel.
                unsafe { Shared::leave(shared, me.done | me.gone, other.gone) };
                return value;
            }
            if state & other.waker != 0 {
                // The other side waits: set the done bit, wake it, then leave.
                // AcqRel: releases the value, acquires the other side's waker.
                let before = this.state.fetch_or(me.done, Ordering::AcqRel);
                let value = if before & other.done != 0 {
                    // SAFETY: as above, the other side was done first.
                    unsafe { this.take_value() }
                } else {
                    if before & other.waker != 0 {
                        // SAFETY: the other side's waker bit was set when `me.done` went in.
                        unsafe { wake(this.waker_cell(other)) };
                    }
                    None
                };
                // SAFETY: `me` is done with the channel.
                unsafe { Shared::leave(shared, me.gone, other.gone) };
                return value;
            }
            // Nobody to wake and no value to take: set the done and gone bits in one write. The
            // other side is not done, so it is the one that frees.
            match this.state.compare_exchange_weak(
                state,
                state | me.done | me.gone,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return None,
                Err(actual) => state = actual,
            }
        }
    }

    /// The waker cell of `side`.
    fn waker_cell(&self, side: Side) -> &UnsafeCell<Option<Waker>> {
        if side.waker == RX_WAKER {
            &self.rx_waker
        } else {
            &self.tx_waker
        }
    }

    /// Sets `bits`, which hold the caller's gone bit, and frees the channel if the other side's
    /// `other_gone` was already set.
    ///
    /// # Safety
    ///
    /// `shared` is the caller's channel, which the caller does not touch afterwards.
    unsafe fn leave(shared: NonNull<Shared<T>>, bits: usize, other_gone: usize) {
        // AcqRel: releases this side's last accesses to the side that frees; acquires the other
        // side's if this one frees.
        // SAFETY: the caller's gone bit is not set yet, so the channel is alive.
        if unsafe { shared.as_ref() }.state.fetch_or(bits, Ordering::AcqRel) & other_gone != 0 {
            // SAFETY: both sides are gone; this is the one that frees.
            unsafe { Shared::free(shared) };
        }
    }

    /// Drops the channel, with whatever value and wakers are still in it.
    ///
    /// # Safety
    ///
    /// Both sides are gone (or the caller is the only one left and has seen the other gone),
    /// and `shared` came from `oneshot`'s box.
    unsafe fn free(shared: NonNull<Shared<T>>) {
        // SAFETY: per the contract, nobody else touches the channel any more.
        drop(unsafe { Box::from_raw(shared.as_ptr()) });
    }
}

/// Wakes the waker in `cell`.
///
/// # Safety
///
/// The cell's flag bit was set when the caller's done bit went in, so its owner no longer
/// writes it (it clears the bit first and would find the caller done).
unsafe fn wake(cell: &UnsafeCell<Option<Waker>>) {
    cell.with(|slot| {
        // SAFETY: per the contract, the cell is only read now.
        if let Some(waker) = unsafe { &*slot } {
            waker.wake_by_ref();
        }
    });
}

/// Sends the one value of a [`oneshot`] channel.
pub struct OneshotSender<T> {
    shared: NonNull<Shared<T>>,
    _owns: PhantomData<Shared<T>>,
}

// SAFETY: the sender moves `T` to whichever thread holds the receiver (hence `T: Send`), and
// reaches the channel only as the protocol in the module docs allows; `&self` methods only load
// the state.
unsafe impl<T: Send> Send for OneshotSender<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Sync for OneshotSender<T> {}
// The value is moved in and out, never pinned.
impl<T> Unpin for OneshotSender<T> {}

impl<T> OneshotSender<T> {
    fn shared(&self) -> &Shared<T> {
        // SAFETY: the sender's gone bit is set only when it is consumed or dropped, so the
        // channel lives at least as long as `self`.
        unsafe { self.shared.as_ref() }
    }

    /// Sends the value, waking the receiver.
    ///
    /// # Errors
    ///
    /// [`SendError`] with the value if the receiver was dropped.
    pub fn send(self, value: T) -> Result<(), SendError<T>> {
        // `send` does what `drop` would (set `COMPLETE`), so `drop` must not run as well.
        let this = ManuallyDrop::new(self);
        // SAFETY: `COMPLETE` is not set yet, so `value` is the sender's.
        this.shared().value.with_mut(|slot| unsafe { *slot = Some(value) });
        // SAFETY: the sender ends here: `this` is never used or dropped again.
        match unsafe { Shared::finish(this.shared, SENDER, RECEIVER) } {
            Some(value) => Err(SendError(value)),
            None => Ok(()),
        }
    }

    /// Whether the receiver was dropped (a value sent now would be returned).
    pub fn is_closed(&self) -> bool {
        self.shared().state.load(Ordering::Acquire) & CLOSED != 0
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
            let shared = self.shared();
            // SAFETY: this is the sender, and `&mut self` keeps this call alone.
            if unsafe { shared.register(SENDER, RECEIVER, cx.waker()) } {
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
        // SAFETY: this is the sender's drop; it does not touch the channel afterwards.
        unsafe { Shared::finish(self.shared, SENDER, RECEIVER) };
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
    shared: NonNull<Shared<T>>,
    _owns: PhantomData<Shared<T>>,
}

// SAFETY: the receiver takes `T` from whichever thread sent it (hence `T: Send`) and reaches the
// channel only as the protocol allows; `try_recv`, its one `&self` method that takes the value,
// claims it first (`TAKEN`), so two threads sharing the receiver cannot both take it.
unsafe impl<T: Send> Send for OneshotReceiver<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Sync for OneshotReceiver<T> {}
// The value is moved in and out, never pinned: the receiver is a future that can be polled
// through `&mut` whatever it carries.
impl<T> Unpin for OneshotReceiver<T> {}

impl<T> OneshotReceiver<T> {
    fn shared(&self) -> &Shared<T> {
        // SAFETY: the receiver's gone bit is set only when it is dropped, so the channel lives
        // at least as long as `self`.
        unsafe { self.shared.as_ref() }
    }

    /// Takes the value if it has been sent.
    ///
    /// # Errors
    ///
    /// [`TryRecvError::Empty`] if not yet, [`TryRecvError::Closed`] if the sender was dropped
    /// without sending (or the value was already taken).
    pub fn try_recv(&self) -> Result<T, TryRecvError> {
        let shared = self.shared();
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
        let shared = self.shared();
        // SAFETY: this is the receiver, and `&mut self` keeps this call alone.
        if unsafe { shared.register(RECEIVER, SENDER, cx.waker()) } {
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
        // A value nobody received is dropped here.
        // SAFETY: this is the receiver's drop; it does not touch the channel afterwards.
        drop(unsafe { Shared::finish(self.shared, RECEIVER, SENDER) });
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

    /// Which side has a waker in place before the send races the receiver's drop.
    #[derive(Clone, Copy)]
    enum Waiting {
        Nobody,
        /// The receiver: the sender takes its wake path.
        Receiver,
        /// The sender, in `closed()`: the receiver's drop takes its wake path.
        SenderInClosed,
    }

    /// A send racing the receiver's drop drops the value once, whoever waits first.
    fn send_racing_the_receivers_drop(waiting: Waiting) {
        loom::model(move || {
            let drops = Arc::new(AtomicUsize::new(0));
            let (mut tx, mut rx) = oneshot();
            let mut cx = Context::from_waker(Waker::noop());
            match waiting {
                Waiting::Nobody => {}
                Waiting::Receiver => assert!(Pin::new(&mut rx).poll(&mut cx).is_pending()),
                Waiting::SenderInClosed => assert!(std::pin::pin!(tx.closed()).poll(&mut cx).is_pending()),
            }
            let receiver = thread::spawn(move || drop(rx));
            let value = Counted(drops.clone());
            // A refused value comes back in the error, and is dropped with it.
            drop(tx.send(value));
            receiver.join().unwrap();
            assert_eq!(drops.load(Ordering::SeqCst), 1);
        });
    }

    #[test]
    fn a_value_racing_the_receivers_drop_is_dropped_once() {
        send_racing_the_receivers_drop(Waiting::Nobody);
    }

    #[test]
    fn a_receiver_woken_and_dropped_while_the_sender_leaves_frees_the_channel_once() {
        // The sender is between its wake and its gone bit while the receiver takes the value
        // and drops: whichever side is last frees (`Track` reports a channel nobody freed).
        loom::model(|| {
            let drops = Arc::new(AtomicUsize::new(0));
            let (tx, rx) = oneshot();
            let value = Counted(drops.clone());
            let sender = thread::spawn(move || assert!(tx.send(value).is_ok()));
            drop(block_on(rx).unwrap());
            sender.join().unwrap();
            assert_eq!(drops.load(Ordering::SeqCst), 1);
        });
    }

    #[test]
    fn both_ends_dropped_at_once_free_the_channel_once() {
        loom::model(|| {
            let (tx, rx) = oneshot::<u8>();
            let sender = thread::spawn(move || drop(tx));
            drop(rx);
            sender.join().unwrap();
        });
    }

    #[test]
    fn a_waiting_receiver_dropped_while_the_value_arrives_drops_it_once() {
        send_racing_the_receivers_drop(Waiting::Receiver);
    }

    #[test]
    fn a_sender_waiting_in_closed_and_sending_while_the_receiver_leaves() {
        send_racing_the_receivers_drop(Waiting::SenderInClosed);
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
