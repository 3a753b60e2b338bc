//! The reactor's driver role is never lost, even when it is handed to a thread that stops
//! parking at that very moment (its `block_on` just finished). Alone in its binary, so that no
//! other test keeps the reactor driven by accident.

use std::future::poll_fn;
use std::sync::{mpsc, Arc, Mutex};
use std::task::{Poll, Waker};
use std::thread;
use std::time::Duration;

type Flag = Arc<Mutex<(bool, Option<Waker>)>>;

fn wait(flag: &Flag) -> impl std::future::Future<Output = ()> + '_ {
    poll_fn(move |cx| {
        let mut state = flag.lock().unwrap();
        if state.0 {
            return Poll::Ready(());
        }
        state.1 = Some(cx.waker().clone());
        Poll::Pending
    })
}

fn set(flag: &Flag) {
    let waker = {
        let mut state = flag.lock().unwrap();
        state.0 = true;
        state.1.take()
    };
    if let Some(waker) = waker {
        waker.wake();
    }
}

#[test]
fn the_driver_role_survives_a_handover_to_a_leaving_thread() {
    for round in 0..20 {
        let (done_tx, done_rx) = mpsc::channel();
        let leaving: Flag = Arc::default();
        // The driver: waits on a short timer, then releases the leaving thread as it leaves.
        let driver = {
            let leaving = leaving.clone();
            thread::spawn(move || {
                eddy_io::block_on(eddy_io::sleep(Duration::from_millis(30)));
                set(&leaving);
            })
        };
        thread::sleep(Duration::from_millis(5));
        // A sleeper whose `block_on` finishes right when the role may be handed to it.
        let leaver = {
            let leaving = leaving.clone();
            thread::spawn(move || eddy_io::block_on(wait(&leaving)))
        };
        // A sleeper that needs the reactor driven after both others are gone.
        let waiter = thread::spawn(move || {
            eddy_io::block_on(eddy_io::sleep(Duration::from_millis(120)));
            done_tx.send(()).unwrap();
        });
        driver.join().unwrap();
        leaver.join().unwrap();
        done_rx
            .recv_timeout(Duration::from_secs(10))
            .unwrap_or_else(|_| panic!("round {round}: nobody drove the reactor after the hand-over"));
        waiter.join().unwrap();
    }
}
