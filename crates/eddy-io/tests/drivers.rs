//! A reactor of one's own ([`eddy_io::Driver`]): what registers under it is served by it, and
//! only its parkers drive it.

use std::future::Future;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use eddy_io::net::UnixStream;
use futures_lite::io::{AsyncReadExt, AsyncWriteExt};

/// Counts its wakes.
#[derive(Default)]
struct Count(AtomicUsize);

impl Wake for Count {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn a_parker_drives_its_own_reactor_only() {
    let (ours, theirs) = (eddy_io::Driver::new().unwrap(), eddy_io::Driver::new().unwrap());
    let (mut our_parker, mut their_parker) = (ours.parker(), theirs.parker());
    let (mut reader, mut writer) = {
        let _entered = ours.enter();
        UnixStream::pair().unwrap()
    };
    let count = Arc::new(Count::default());
    let waker = Waker::from(count.clone());
    let mut cx = Context::from_waker(&waker);
    let mut buf = [0; 4];
    let mut read = pin!(reader.read(&mut buf));
    assert!(read.as_mut().poll(&mut cx).is_pending());

    // The data arrives; a thread parked in the other reactor does not see it.
    eddy_io::block_on(writer.write_all(b"ping")).unwrap();
    their_parker.park_timeout(Some(Duration::from_millis(50))).unwrap();
    assert_eq!(count.0.load(Ordering::SeqCst), 0, "another reactor's parker delivered our event");

    // Ours does.
    our_parker.park_timeout(Some(Duration::from_secs(5))).unwrap();
    assert_eq!(count.0.load(Ordering::SeqCst), 1);
    assert!(matches!(read.as_mut().poll(&mut cx), Poll::Ready(Ok(4))));
    assert_eq!(&buf, b"ping");
}

#[test]
fn a_timer_registers_with_the_reactor_current_where_it_is_polled() {
    // Two drivers of the test's own: the global reactor's count is shared with other tests.
    let (first, second) = (eddy_io::Driver::new().unwrap(), eddy_io::Driver::new().unwrap());
    let timers = |driver: &eddy_io::Driver| {
        let _entered = driver.enter();
        eddy_io::registered_timers()
    };
    let mut parker = second.parker();
    let waker = parker.waker();
    let mut cx = Context::from_waker(&waker);
    let mut timer = eddy_io::sleep(Duration::from_millis(20));
    {
        let _entered = first.enter();
        assert!(Pin::new(&mut timer).poll(&mut cx).is_pending());
    }
    assert_eq!((timers(&first), timers(&second)), (1, 0));
    // Polled again, with the same waker, under the second driver: it moves there.
    let _entered = second.enter();
    assert!(Pin::new(&mut timer).poll(&mut cx).is_pending());
    assert_eq!((timers(&first), timers(&second)), (0, 1), "the timer did not move, or stayed behind");
    // And the second driver's parker fires it.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while Pin::new(&mut timer).poll(&mut cx).is_pending() {
        assert!(std::time::Instant::now() < deadline, "the timer never fired");
        parker.park_timeout(Some(Duration::from_millis(100))).unwrap();
    }
    assert_eq!((timers(&first), timers(&second)), (0, 0));
}

#[test]
fn waiting_on_a_reactor_that_shut_down_is_an_error_and_its_timers_move() {
    let driver = eddy_io::Driver::new().unwrap();
    let (mut reader, _writer) = {
        let _entered = driver.enter();
        UnixStream::pair().unwrap()
    };
    let waker = Waker::from(Arc::new(Count::default()));
    let mut timer = eddy_io::sleep(Duration::from_millis(20));
    {
        let _entered = driver.enter();
        assert!(Pin::new(&mut timer).poll(&mut Context::from_waker(&waker)).is_pending());
    }

    // A read waiting on the reactor is woken by its shutdown, and told why.
    let stopper = {
        let driver = driver.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            driver.shutdown();
        })
    };
    let mut buf = [0; 4];
    let result = eddy_io::block_on(eddy_io::timeout(Duration::from_secs(10), reader.read(&mut buf)));
    stopper.join().unwrap();
    let error = result.expect("the shutdown left the read waiting").unwrap_err();
    assert!(error.to_string().contains("shut down"), "unclear error: {error}");
    // And a new wait fails at once.
    assert!(eddy_io::block_on(reader.read(&mut buf)).is_err());

    // The timer it held moves to the reactor current where it is polled next (the global one,
    // even where the shut-down driver is still entered) and fires.
    let _entered = driver.enter();
    eddy_io::block_on(&mut timer);
}
