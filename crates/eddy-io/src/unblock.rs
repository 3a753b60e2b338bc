//! Runs a blocking closure on a helper thread and awaits its result.
//!
//! Used for name resolution, which the OS only offers as a blocking call. Each call gets its
//! own short-lived thread; the facade's blocking pool (`eddy::to_thread`) is the general tool.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::{io, thread};

use crate::reactor::lock;

struct Slot<T> {
    value: Option<T>,
    waker: Option<Waker>,
}

/// Runs `f` on a new thread; the returned future resolves to its result.
pub(crate) fn unblock<T, F>(name: &str, f: F) -> io::Result<Unblock<T>>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let slot = Arc::new(Mutex::new(Slot { value: None, waker: None }));
    let filler = slot.clone();
    thread::Builder::new().name(name.to_owned()).spawn(move || {
        let value = f();
        let waker = {
            let mut slot = lock(&filler);
            slot.value = Some(value);
            slot.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    })?;
    Ok(Unblock { slot })
}

pub(crate) struct Unblock<T> {
    slot: Arc<Mutex<Slot<T>>>,
}

impl<T> Future for Unblock<T> {
    type Output = T;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let mut slot = lock(&self.slot);
        match slot.value.take() {
            Some(value) => Poll::Ready(value),
            None => {
                slot.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}
