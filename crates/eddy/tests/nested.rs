//! Tasks spawning tasks, several levels deep.

mod common;

use std::future::Future;
use std::pin::Pin;

fn tree(depth: u32) -> Pin<Box<dyn Future<Output = u64> + Send>> {
    Box::pin(async move {
        if depth == 0 {
            return 1;
        }
        let left = eddy::spawn(tree(depth - 1));
        let right = eddy::spawn(tree(depth - 1));
        left.await.unwrap() + right.await.unwrap()
    })
}

#[test]
fn a_tree_of_spawns_completes() {
    assert_eq!(common::block_on(async { eddy::spawn(tree(10)).await }).unwrap(), 1024);
}

#[test]
fn a_chain_of_spawns_completes() {
    fn chain(n: u32) -> Pin<Box<dyn Future<Output = u32> + Send>> {
        Box::pin(async move {
            if n == 0 {
                0
            } else {
                eddy::spawn(chain(n - 1)).await.unwrap() + 1
            }
        })
    }
    assert_eq!(common::block_on(chain(1000)), 1000);
}
