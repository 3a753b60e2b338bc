//! The runtime builder's options take effect.

use std::collections::HashSet;
use std::sync::{Arc, Barrier};

#[test]
fn thread_names_and_worker_count_are_applied() {
    let rt = eddy::Runtime::builder().work_stealing(3).thread_name("custom").build().unwrap();
    let (workers, blocking) = rt.block_on(async {
        // Three tasks that can only finish together: they run on three distinct workers.
        let barrier = Arc::new(Barrier::new(3));
        let tasks: Vec<_> = (0..3)
            .map(|_| {
                let barrier = barrier.clone();
                eddy::spawn(async move {
                    barrier.wait();
                    std::thread::current().name().unwrap_or_default().to_owned()
                })
            })
            .collect();
        let mut names = HashSet::new();
        for task in tasks {
            names.insert(task.await.unwrap());
        }
        let blocking = eddy::to_thread(|| std::thread::current().name().unwrap_or_default().to_owned());
        (names, blocking.await.unwrap())
    });
    let expected: HashSet<String> = (0..3).map(|i| format!("custom-{i}")).collect();
    assert_eq!(workers, expected);
    assert_eq!(blocking, "custom-blocking");
}

#[test]
fn the_local_runtime_runs_tasks_on_the_calling_thread() {
    let rt = eddy::Runtime::builder().local().build().unwrap();
    let caller = std::thread::current().id();
    let ran_on = rt.block_on(async { eddy::spawn(async { std::thread::current().id() }).await.unwrap() });
    assert_eq!(ran_on, caller);
}

#[test]
fn the_work_stealing_runtime_runs_tasks_off_the_calling_thread() {
    let rt = eddy::Runtime::builder().work_stealing(2).build().unwrap();
    let caller = std::thread::current().id();
    let ran_on = rt.block_on(async { eddy::spawn(async { std::thread::current().id() }).await.unwrap() });
    assert_ne!(ran_on, caller);
}
