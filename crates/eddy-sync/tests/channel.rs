//! Channels: the oneshot's endings, wakes and value ownership, and the re-exported
//! bounded/unbounded channels.

mod common;

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use common::{poll, within};
use eddy_sync::channel::{self, RecvError, SendError, TryRecvError};

#[test]
fn oneshot_delivers_the_value() {
    let (tx, mut rx) = channel::oneshot();
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    assert!(poll(&mut rx).is_pending());
    tx.send("value").unwrap();
    assert_eq!(poll(&mut rx), Poll::Ready(Ok("value")));
}

#[test]
fn a_dropped_sender_ends_the_receiver_with_an_error() {
    let (tx, rx) = channel::oneshot::<u8>();
    drop(tx);
    assert_eq!(futures_lite::future::block_on(rx), Err(RecvError));
}

#[test]
fn sending_to_a_dropped_receiver_gives_the_value_back() {
    let (mut tx, rx) = channel::oneshot();
    assert!(!tx.is_closed());
    drop(rx);
    assert!(tx.is_closed());
    futures_lite::future::block_on(tx.closed());
    assert_eq!(tx.send(String::from("back")), Err(SendError(String::from("back"))));
}

#[test]
fn oneshot_wakes_a_receiver_on_another_thread() {
    within(Duration::from_secs(30), || {
        for _ in 0..1_000 {
            let (tx, rx) = channel::oneshot();
            let sender = std::thread::spawn(move || tx.send(7).unwrap());
            assert_eq!(futures_lite::future::block_on(rx), Ok(7));
            sender.join().unwrap();
        }
    });
}

/// A waker that counts its wakes.
struct CountingWaker(AtomicUsize);

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

fn counting_waker() -> (Arc<CountingWaker>, Waker) {
    let counter = Arc::new(CountingWaker(AtomicUsize::new(0)));
    (counter.clone(), Waker::from(counter))
}

#[test]
fn a_receiver_polled_with_a_new_waker_is_woken_through_it() {
    let (tx, mut rx) = channel::oneshot();
    let (first, first_waker) = counting_waker();
    let (second, second_waker) = counting_waker();
    assert!(Pin::new(&mut rx).poll(&mut Context::from_waker(&first_waker)).is_pending());
    assert!(Pin::new(&mut rx).poll(&mut Context::from_waker(&second_waker)).is_pending());
    tx.send(1).unwrap();
    assert_eq!(second.0.load(Ordering::SeqCst), 1);
    assert_eq!(first.0.load(Ordering::SeqCst), 0, "the replaced waker is not woken");
    assert_eq!(Pin::new(&mut rx).poll(&mut Context::from_waker(&second_waker)), Poll::Ready(Ok(1)));
}

#[test]
fn a_dropped_sender_wakes_a_waiting_receiver() {
    let (tx, mut rx) = channel::oneshot::<u8>();
    let (woken, waker) = counting_waker();
    assert!(Pin::new(&mut rx).poll(&mut Context::from_waker(&waker)).is_pending());
    drop(tx);
    assert_eq!(woken.0.load(Ordering::SeqCst), 1);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
}

/// Counts its drops in a shared counter, to see when (and how often) a sent value is dropped.
#[derive(Debug)]
struct Tracked(Arc<AtomicUsize>);

impl Drop for Tracked {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn a_value_nobody_receives_is_dropped_with_the_receiver_and_only_once() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = channel::oneshot();
    tx.send(Tracked(drops.clone())).unwrap();
    assert_eq!(drops.load(Ordering::SeqCst), 0);
    drop(rx);
    assert_eq!(drops.load(Ordering::SeqCst), 1, "dropped with the receiver");

    let (tx, rx) = channel::oneshot();
    drop(rx);
    let back = tx.send(Tracked(drops.clone())).unwrap_err().0;
    assert_eq!(drops.load(Ordering::SeqCst), 1, "given back, not dropped");
    drop(back);
    assert_eq!(drops.load(Ordering::SeqCst), 2);
}

#[test]
fn a_value_is_received_once() {
    let (tx, mut rx) = channel::oneshot();
    tx.send(5).unwrap();
    assert_eq!(rx.try_recv(), Ok(5));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    assert_eq!(poll(&mut rx), Poll::Ready(Err(RecvError)));
}

#[test]
fn closed_wakes_when_the_receiver_is_dropped_on_another_thread() {
    within(Duration::from_secs(30), || {
        for _ in 0..1_000 {
            let (mut tx, rx) = channel::oneshot::<u8>();
            let receiver = std::thread::spawn(move || drop(rx));
            futures_lite::future::block_on(tx.closed());
            assert!(tx.is_closed());
            receiver.join().unwrap();
        }
    });
}

#[test]
fn racing_try_recvs_on_a_shared_receiver_get_the_value_once() {
    within(Duration::from_secs(30), || {
        for _ in 0..1_000 {
            let (tx, rx) = channel::oneshot();
            let got = AtomicUsize::new(0);
            std::thread::scope(|scope| {
                let (rx, got) = (&rx, &got);
                let takers: Vec<_> = (0..2)
                    .map(|_| {
                        scope.spawn(move || loop {
                            match rx.try_recv() {
                                Ok(_) => break got.fetch_add(1, Ordering::SeqCst),
                                Err(TryRecvError::Empty) => std::hint::spin_loop(),
                                Err(TryRecvError::Closed) => break 0,
                            }
                        })
                    })
                    .collect();
                tx.send(9).unwrap();
                for taker in takers {
                    taker.join().unwrap();
                }
            });
            assert_eq!(got.load(Ordering::SeqCst), 1);
        }
    });
}

#[test]
fn oneshot_ends_are_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<channel::OneshotSender<std::cell::Cell<u8>>>();
    send_sync::<channel::OneshotReceiver<std::cell::Cell<u8>>>();
}

#[test]
fn oneshot_ends_are_unpin_whatever_they_carry() {
    // The value is only ever moved, never pinned, so a receiver can be polled through `&mut`
    // (in a `select`) even when it carries a `!Unpin` value.
    fn unpin<T: Unpin>() {}
    unpin::<channel::OneshotSender<std::marker::PhantomPinned>>();
    unpin::<channel::OneshotReceiver<std::marker::PhantomPinned>>();
}

#[test]
fn bounded_and_unbounded_channels_are_there() {
    futures_lite::future::block_on(async {
        let (tx, rx) = channel::bounded(1);
        tx.send(1).await.unwrap();
        assert!(tx.try_send(2).is_err());
        assert_eq!(rx.recv().await, Ok(1));
        let (tx, rx) = channel::unbounded();
        for i in 0..100 {
            tx.try_send(i).unwrap();
        }
        drop(tx);
        let mut got = Vec::new();
        while let Ok(i) = rx.recv().await {
            got.push(i);
        }
        assert_eq!(got, (0..100).collect::<Vec<_>>());
    });
}
