//! Channels: the oneshot's three endings, and the re-exported bounded/unbounded channels.

mod common;

use std::time::Duration;

use common::{poll, within};
use eddy_sync::channel::{self, RecvError, SendError, TryRecvError};

#[test]
fn oneshot_delivers_the_value() {
    let (tx, mut rx) = channel::oneshot();
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    assert!(poll(&mut rx).is_pending());
    tx.send("value").unwrap();
    assert_eq!(poll(&mut rx), std::task::Poll::Ready(Ok("value")));
}

#[test]
fn a_dropped_sender_ends_the_receiver_with_an_error() {
    let (tx, rx) = channel::oneshot::<u8>();
    drop(tx);
    assert_eq!(futures_lite::future::block_on(rx), Err(RecvError));
}

#[test]
fn sending_to_a_dropped_receiver_gives_the_value_back() {
    let (tx, rx) = channel::oneshot();
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
