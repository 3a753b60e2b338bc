//! Tasks: handles, errors, names and the current task (asyncio's `Task`, `current_task`).
//!
//! ```
//! use eddy::task::Builder;
//!
//! eddy::run(async {
//!     let task = Builder::new().name("fetch").spawn(async {
//!         eddy::task::current().unwrap().name().unwrap().to_owned()
//!     });
//!     assert_eq!(task.await.unwrap(), "fetch");
//! });
//! ```

#[doc(inline)]
pub use eddy_task::{
    cancelled, current, yield_now, AbortHandle, Builder, Cancelled, JoinError, Task, TaskId, TaskInfo,
};
