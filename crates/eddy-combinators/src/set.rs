//! A set of items polled only when woken: the engine of the combinators.
//!
//! Each item gets its own waker, which queues the item's index and wakes whoever polls the set.
//! A poll of the set polls only the queued items, so awaiting n futures costs O(n) polls in
//! total, not O(n) per wake-up.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Wake, Waker};

struct Shared {
    ready: Mutex<VecDeque<usize>>,
    parent: Mutex<Option<Waker>>,
}

struct Child {
    index: usize,
    queued: AtomicBool,
    shared: Arc<Shared>,
}

impl Wake for Child {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if !self.queued.swap(true, Ordering::AcqRel) {
            self.shared.ready.lock().unwrap_or_else(PoisonError::into_inner).push_back(self.index);
            let parent = self.shared.parent.lock().unwrap_or_else(PoisonError::into_inner).clone();
            if let Some(parent) = parent {
                parent.wake();
            }
        }
    }
}

pub(crate) struct Set<I> {
    items: Vec<Option<I>>,
    children: Vec<(Arc<Child>, Waker)>,
    shared: Arc<Shared>,
    remaining: usize,
}

impl<I: Unpin> Set<I> {
    pub(crate) fn new() -> Set<I> {
        Set {
            items: Vec::new(),
            children: Vec::new(),
            shared: Arc::new(Shared { ready: Mutex::new(VecDeque::new()), parent: Mutex::new(None) }),
            remaining: 0,
        }
    }

    /// Adds an item; it is polled at the next `poll_next`. Returns its index.
    pub(crate) fn push(&mut self, item: I) -> usize {
        let index = self.items.len();
        let child = Arc::new(Child { index, queued: AtomicBool::new(true), shared: self.shared.clone() });
        let waker = Waker::from(child.clone());
        self.items.push(Some(item));
        self.children.push((child, waker));
        self.remaining += 1;
        self.shared.ready.lock().unwrap_or_else(PoisonError::into_inner).push_back(index);
        index
    }

    /// How many items have not finished.
    pub(crate) fn remaining(&self) -> usize {
        self.remaining
    }

    /// Polls the woken items with `poll_item` until one finishes; returns its index, what
    /// `poll_item` returned, and the item. `Ready(None)` once every item has finished.
    pub(crate) fn poll_next<R>(
        &mut self,
        cx: &mut Context<'_>,
        mut poll_item: impl FnMut(&mut I, &mut Context<'_>) -> Poll<R>,
    ) -> Poll<Option<(usize, R, I)>> {
        *self.shared.parent.lock().unwrap_or_else(PoisonError::into_inner) = Some(cx.waker().clone());
        loop {
            let next = self.shared.ready.lock().unwrap_or_else(PoisonError::into_inner).pop_front();
            let Some(index) = next else { break };
            let (child, waker) = &self.children[index];
            child.queued.store(false, Ordering::Release);
            let Some(item) = self.items[index].as_mut() else { continue };
            if let Poll::Ready(result) = poll_item(item, &mut Context::from_waker(waker)) {
                let item = self.items[index].take().expect("polled items are present");
                self.remaining -= 1;
                return Poll::Ready(Some((index, result, item)));
            }
        }
        if self.remaining == 0 {
            Poll::Ready(None)
        } else {
            Poll::Pending
        }
    }

    /// Takes the unfinished items out, with their indices, in index order.
    pub(crate) fn take_remaining(&mut self) -> Vec<(usize, I)> {
        self.remaining = 0;
        self.items.iter_mut().enumerate().filter_map(|(i, item)| item.take().map(|item| (i, item))).collect()
    }

    /// Drops every unfinished item now.
    pub(crate) fn clear(&mut self) {
        drop(self.take_remaining());
    }
}
