//! [`join!`](crate::join) and [`try_join!`](crate::try_join), and the `MaybeDone` they use.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

pin_project_lite::pin_project! {
    /// A future's progress inside `join!`: running, done with its output, or output taken.
    #[doc(hidden)]
    #[project = MaybeDoneProj]
    #[project_replace = MaybeDoneReplace]
    pub enum MaybeDone<F: Future> {
        Running { #[pin] future: F },
        Done { output: F::Output },
        Taken,
    }
}

impl<F: Future> MaybeDone<F> {
    #[doc(hidden)]
    pub fn new(future: F) -> MaybeDone<F> {
        MaybeDone::Running { future }
    }

    /// Polls the future if it is still running; returns whether it is done.
    #[doc(hidden)]
    pub fn poll_done(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> bool {
        if let MaybeDoneProj::Running { future } = self.as_mut().project() {
            match future.poll(cx) {
                Poll::Ready(output) => {
                    self.set(MaybeDone::Done { output });
                }
                Poll::Pending => return false,
            }
        }
        true
    }

    /// Takes the output of a finished future.
    #[doc(hidden)]
    pub fn take(self: Pin<&mut Self>) -> F::Output {
        match self.project_replace(MaybeDone::Taken) {
            MaybeDoneReplace::Done { output } => output,
            _ => unreachable!("`join!` takes each output once, after the future finished"),
        }
    }
}

impl<F: Future<Output = Result<T, E>>, T, E> MaybeDone<F> {
    /// Takes the error of a future that finished with one.
    #[doc(hidden)]
    pub fn take_err(self: Pin<&mut Self>) -> Option<E> {
        if let MaybeDone::Done { output: Err(_) } = &*self {
            match self.take() {
                Err(error) => return Some(error),
                Ok(_) => unreachable!(),
            }
        }
        None
    }

    /// Takes the value of a future that finished with one.
    #[doc(hidden)]
    pub fn take_ok(self: Pin<&mut Self>) -> T {
        match self.take() {
            Ok(value) => value,
            Err(_) => unreachable!("`try_join!` returns at the first error"),
        }
    }
}

/// Awaits several futures concurrently and returns their outputs as a tuple, in argument order
/// (asyncio's `gather` for a fixed set of awaitables). Use it inside `async` code.
///
/// ```
/// # futures_lite::future::block_on(async {
/// let (a, b, c) = eddy_combinators::join!(async { 1 }, async { "two" }, async { 3.0 });
/// assert_eq!((a, b, c), (1, "two", 3.0));
/// # });
/// ```
#[macro_export]
macro_rules! join {
    ($($future:expr),+ $(,)?) => {
        $crate::__join_internal!(@collect [] $($future,)+)
    };
}

/// Like [`join!`] for futures of `Result`: returns `Ok` of the tuple of values, or the first
/// `Err` at once (the other futures are then dropped).
///
/// ```
/// # futures_lite::future::block_on(async {
/// let both = eddy_combinators::try_join!(async { Ok::<_, String>(1) }, async { Ok(2) });
/// assert_eq!(both, Ok((1, 2)));
/// let failed = eddy_combinators::try_join!(async { Ok::<u8, _>(1) }, async { Err::<u8, _>("no") });
/// assert_eq!(failed, Err("no"));
/// # });
/// ```
#[macro_export]
macro_rules! try_join {
    ($($future:expr),+ $(,)?) => {
        $crate::__try_join_internal!(@collect [] $($future,)+)
    };
}

// Each recursion step introduces its own `slot` identifier; macro hygiene keeps the `slot`s of
// different steps distinct, which gives every future its own binding.
#[doc(hidden)]
#[macro_export]
macro_rules! __join_internal {
    (@collect [$($done:tt)*] $future:expr, $($rest:tt)*) => {
        $crate::__join_internal!(@collect [$($done)* [$future, slot]] $($rest)*)
    };
    (@collect [$([$future:expr, $slot:ident])*]) => {{
        $( let mut $slot = ::core::pin::pin!($crate::__private::MaybeDone::new($future)); )*
        ::core::future::poll_fn(|cx| {
            let mut ready = true;
            $( ready &= $slot.as_mut().poll_done(cx); )*
            if ready {
                ::core::task::Poll::Ready(($( $slot.as_mut().take(), )*))
            } else {
                ::core::task::Poll::Pending
            }
        })
        .await
    }};
}

#[doc(hidden)]
#[macro_export]
macro_rules! __try_join_internal {
    (@collect [$($done:tt)*] $future:expr, $($rest:tt)*) => {
        $crate::__try_join_internal!(@collect [$($done)* [$future, slot]] $($rest)*)
    };
    (@collect [$([$future:expr, $slot:ident])*]) => {{
        $( let mut $slot = ::core::pin::pin!($crate::__private::MaybeDone::new($future)); )*
        ::core::future::poll_fn(|cx| {
            let mut ready = true;
            $(
                if $slot.as_mut().poll_done(cx) {
                    if let ::core::option::Option::Some(error) = $slot.as_mut().take_err() {
                        return ::core::task::Poll::Ready(::core::result::Result::Err(error));
                    }
                } else {
                    ready = false;
                }
            )*
            if ready {
                ::core::task::Poll::Ready(::core::result::Result::Ok(($( $slot.as_mut().take_ok(), )*)))
            } else {
                ::core::task::Poll::Pending
            }
        })
        .await
    }};
}
