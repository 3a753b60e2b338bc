//! `EDDY_BLOCKING_THREADS` sets the blocking pool's limit; a bad value is a clear error. Alone in
//! its binary, since it changes the process environment.

#[test]
fn the_environment_variable_is_read_and_checked() {
    // SAFETY: this binary has no other test, so no other thread reads the environment now.
    unsafe { std::env::set_var(eddy::BLOCKING_THREADS_ENV, "not a number") };
    let err = eddy::Runtime::builder().local().build().unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    assert!(err.to_string().contains("EDDY_BLOCKING_THREADS"), "{err}");
    // The builder's own setting wins over the environment.
    assert!(eddy::Runtime::builder().local().blocking_threads(4).build().is_ok());

    // SAFETY: as above.
    unsafe { std::env::set_var(eddy::BLOCKING_THREADS_ENV, "1") };
    let rt = eddy::Runtime::builder().local().build().unwrap();
    let running = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let peak = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    rt.block_on(async {
        let tasks: Vec<_> = (0..4)
            .map(|_| {
                let (running, peak) = (running.clone(), peak.clone());
                eddy::to_thread(move || {
                    let now = running.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
                    peak.fetch_max(now, std::sync::atomic::Ordering::SeqCst);
                    std::thread::sleep(std::time::Duration::from_millis(5));
                    running.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
    });
    assert_eq!(peak.load(std::sync::atomic::Ordering::SeqCst), 1);
    // SAFETY: as above.
    unsafe { std::env::remove_var(eddy::BLOCKING_THREADS_ENV) };
}
