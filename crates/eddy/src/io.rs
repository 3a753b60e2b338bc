//! The async I/O traits and their extension methods (from `futures-lite`), re-exported so that
//! `use eddy::io::{AsyncReadExt, AsyncWriteExt};` is all a program needs.
//!
//! ```
//! use eddy::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
//! use eddy::net::UnixStream;
//!
//! eddy::run(async {
//!     let (mut a, b) = UnixStream::pair()?;
//!     a.write_all(b"one line\n").await?;
//!     let mut line = String::new();
//!     BufReader::new(b).read_line(&mut line).await?;
//!     assert_eq!(line, "one line\n");
//!     std::io::Result::Ok(())
//! })?;
//! # std::io::Result::Ok(())
//! ```

#[doc(inline)]
pub use futures_lite::io::{
    copy, empty, repeat, sink, split, AsyncBufRead, AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncSeek,
    AsyncSeekExt, AsyncWrite, AsyncWriteExt, BufReader, BufWriter, Cursor, ReadHalf, WriteHalf,
};
