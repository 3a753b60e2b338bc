//! Task names, ids and spawn locations, and `task::current`.

mod common;

use std::collections::HashSet;

#[test]
fn ids_are_unique() {
    common::block_on(async {
        let tasks: Vec<_> = (0..100).map(|_| eddy::spawn(async {})).collect();
        let ids: HashSet<_> = tasks.iter().map(|t| t.id()).collect();
        assert_eq!(ids.len(), 100);
        for task in tasks {
            task.await.unwrap();
        }
    });
}

#[test]
fn names_are_kept_and_optional() {
    common::block_on(async {
        let named = eddy::task::Builder::new().name(String::from("fetch")).spawn(async {});
        let unnamed = eddy::spawn(async {});
        assert_eq!(named.name(), Some("fetch"));
        assert_eq!(unnamed.name(), None);
        assert!(format!("{named:?}").contains("fetch"));
        named.await.unwrap();
        unnamed.await.unwrap();
    });
}

#[test]
fn current_describes_the_running_task() {
    common::block_on(async {
        assert!(eddy::task::current().is_none(), "the main future is not a task");
        let line = line!() + 1;
        let task = eddy::task::Builder::new().name("worker").spawn(async { eddy::task::current().unwrap() });
        let id = task.id();
        let info = task.await.unwrap();
        assert_eq!(info.id(), id);
        assert_eq!(info.name(), Some("worker"));
        assert!(info.location().file().ends_with("metadata.rs"), "{}", info.location());
        assert_eq!(info.location().line(), line);
    });
    assert!(eddy::task::current().is_none());
}

#[test]
fn spawn_location_is_the_callers() {
    common::block_on(async {
        let line = line!() + 1;
        let info = eddy::spawn(async { eddy::task::current().unwrap() }).await.unwrap();
        assert_eq!(info.location().line(), line);
        let line = line!() + 1;
        let info = eddy::task::Builder::new().spawn(async { eddy::task::current().unwrap() }).await.unwrap();
        assert_eq!(info.location().line(), line);
    });
}

#[test]
fn current_is_restored_after_nested_polls() {
    common::block_on(async {
        let outer = eddy::task::Builder::new().name("outer").spawn(async {
            let inner =
                eddy::task::Builder::new().name("inner").spawn(async { eddy::task::current().unwrap() });
            let inner_info = inner.await.unwrap();
            (inner_info, eddy::task::current().unwrap())
        });
        let (inner, outer) = outer.await.unwrap();
        assert_eq!(inner.name(), Some("inner"));
        assert_eq!(outer.name(), Some("outer"));
    });
}
