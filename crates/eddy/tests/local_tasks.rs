//! `!Send` futures on the single-threaded runtime.

use std::cell::RefCell;
use std::rc::Rc;

#[test]
fn spawn_local_runs_non_send_futures() {
    let log = eddy::run_local(async {
        let log = Rc::new(RefCell::new(Vec::new()));
        let tasks: Vec<_> = (0..5)
            .map(|i| {
                let log = log.clone();
                eddy::spawn_local(async move {
                    eddy::yield_now().await;
                    log.borrow_mut().push(i);
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        Rc::try_unwrap(log).unwrap().into_inner()
    });
    assert_eq!(log, [0, 1, 2, 3, 4]);
}

#[test]
fn send_and_local_tasks_mix() {
    eddy::run_local(async {
        let counter = Rc::new(RefCell::new(0));
        let local = eddy::spawn_local({
            let counter = counter.clone();
            async move { *counter.borrow_mut() += 1 }
        });
        let sent = eddy::spawn(async { 2 });
        local.await.unwrap();
        let sent = sent.await.unwrap();
        assert_eq!(*counter.borrow() + sent, 3);
    });
}

#[test]
fn local_task_names_work() {
    eddy::run_local(async {
        let task = eddy::task::Builder::new().name("local").spawn_local(async { Rc::new(1) });
        assert_eq!(task.name(), Some("local"));
        assert_eq!(*task.await.unwrap(), 1);
    });
}
