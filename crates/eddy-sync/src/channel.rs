//! Rust-style message passing: [`bounded`] and [`unbounded`] multi-producer multi-consumer
//! channels (async-channel's, re-exported) and a [`oneshot`] channel for a single value.
//!
//! Use a channel where Rust code would pass ownership along a pipeline, and a
//! [`Queue`](crate::queue::Queue) where asyncio code would (it adds `task_done`/`join`,
//! `shutdown` and the asyncio names). Both work across threads and under any executor.
//!
//! ```
//! # futures_lite::future::block_on(async {
//! let (tx, rx) = eddy_sync::channel::bounded(8);
//! tx.send("hello").await.unwrap();
//! drop(tx); // closing: the receiver drains, then sees the end
//! assert_eq!(rx.recv().await, Ok("hello"));
//! assert!(rx.recv().await.is_err());
//!
//! let (reply, answer) = eddy_sync::channel::oneshot();
//! reply.send(42).unwrap();
//! assert_eq!(answer.await, Ok(42));
//! # });
//! ```

#[doc(inline)]
pub use async_channel::{
    bounded, unbounded, Receiver, Recv, RecvError, Send, SendError, Sender, TryRecvError, TrySendError,
};

pub use crate::oneshot::{oneshot, OneshotReceiver, OneshotSender};
