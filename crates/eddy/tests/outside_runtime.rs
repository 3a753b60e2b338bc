//! Spawning with no runtime running panics with a message that says how to fix it.

mod common;

fn panic_message(result: std::thread::Result<()>) -> String {
    common::panic_text(result.expect_err("expected a panic"))
}

#[test]
fn spawn_outside_a_runtime_says_how_to_fix_it() {
    let msg = panic_message(std::panic::catch_unwind(|| drop(eddy::spawn(async {}))));
    assert!(msg.contains("outside of an eddy runtime"), "{msg}");
    assert!(msg.contains("eddy::run"), "{msg}");
}

#[test]
fn spawn_local_outside_a_runtime_says_how_to_fix_it() {
    let msg = panic_message(std::panic::catch_unwind(|| drop(eddy::spawn_local(async {}))));
    assert!(msg.contains("outside of an eddy runtime"), "{msg}");
    assert!(msg.contains("eddy::run_local"), "{msg}");
}

#[test]
fn spawn_after_the_runtime_is_gone_panics_cleanly() {
    common::block_on(async {});
    let msg = panic_message(std::panic::catch_unwind(|| drop(eddy::spawn(async {}))));
    assert!(msg.contains("outside of an eddy runtime"), "{msg}");
}
