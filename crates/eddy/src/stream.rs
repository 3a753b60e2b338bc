//! Streams (from `futures-lite`), re-exported so that `use eddy::stream::StreamExt;` is all a
//! program needs to consume `as_completed`, `interval` or a listener's `incoming()`.

#[doc(inline)]
pub use futures_lite::stream::{iter, once, Stream, StreamExt};
