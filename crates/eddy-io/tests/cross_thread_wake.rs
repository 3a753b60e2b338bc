//! A wake from another thread interrupts a thread blocked in the poller. Alone in its binary:
//! a test running beside it could wake the shared poller and hide a lost notification.

use std::future::poll_fn;
use std::sync::{mpsc, Arc, Mutex};
use std::task::{Poll, Waker};
use std::thread;
use std::time::Duration;

#[test]
fn a_wake_from_another_thread_interrupts_a_reactor_sleep() {
    let state: Arc<Mutex<(bool, Option<Waker>)>> = Arc::default();
    let waiter_state = state.clone();
    let (done_tx, done_rx) = mpsc::channel();
    thread::spawn(move || {
        eddy_io::block_on(async move {
            let woken = poll_fn(|cx| {
                let mut state = waiter_state.lock().unwrap();
                if state.0 {
                    return Poll::Ready(());
                }
                state.1 = Some(cx.waker().clone());
                Poll::Pending
            });
            // The hour-long timer is registered, so the thread blocks in the poller until then.
            futures_lite::future::or(woken, async {
                eddy_io::sleep(Duration::from_secs(3600)).await;
            })
            .await;
        });
        done_tx.send(()).unwrap();
    });
    thread::sleep(Duration::from_millis(50)); // the waiter is blocked in the poller by now
    let waker = {
        let mut state = state.lock().unwrap();
        state.0 = true;
        state.1.take()
    };
    waker.expect("the waiter registered its waker").wake();
    done_rx.recv_timeout(Duration::from_secs(20)).expect("the wake did not interrupt the reactor's sleep");
}
