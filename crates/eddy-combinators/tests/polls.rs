//! The combinators poll only the futures that were woken: awaiting n futures that finish one
//! by one costs O(n) polls in all, not O(n) per wake-up.

use std::cell::Cell;
use std::future::{poll_fn, Future};
use std::rc::Rc;
use std::task::{Poll, Waker};

use futures_lite::future::block_on;

#[test]
fn gather_polls_each_future_about_twice() {
    const N: usize = 2_000;
    let polls = Rc::new(Cell::new(0usize));
    let wakers: Rc<std::cell::RefCell<Vec<Option<Waker>>>> = Rc::new(std::cell::RefCell::new(vec![None; N]));
    let done: Rc<std::cell::RefCell<Vec<bool>>> = Rc::new(std::cell::RefCell::new(vec![false; N]));
    let futures = (0..N).map(|i| {
        let (polls, wakers, done) = (polls.clone(), wakers.clone(), done.clone());
        poll_fn(move |cx| {
            polls.set(polls.get() + 1);
            if done.borrow()[i] {
                Poll::Ready(i)
            } else {
                wakers.borrow_mut()[i] = Some(cx.waker().clone());
                Poll::Pending
            }
        })
    });
    let mut gather = Box::pin(eddy_combinators::gather(futures));
    let out = block_on(poll_fn(|cx| {
        // Finish one future per outer poll, waking only it.
        if let Poll::Ready(out) = gather.as_mut().poll(cx) {
            return Poll::Ready(out);
        }
        let next = done.borrow().iter().position(|d| !d);
        if let Some(i) = next {
            done.borrow_mut()[i] = true;
            if let Some(waker) = wakers.borrow_mut()[i].take() {
                waker.wake();
            }
        }
        cx.waker().wake_by_ref();
        Poll::Pending
    }));
    assert_eq!(out, (0..N).collect::<Vec<_>>());
    // One poll to start each future, one to finish it.
    assert!(polls.get() <= 2 * N + 2, "{} polls for {N} futures", polls.get());
}
