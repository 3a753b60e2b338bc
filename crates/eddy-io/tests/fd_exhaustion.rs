//! `accept` hitting the open-file limit fails that call only, and succeeds again once
//! descriptors are freed. Runs in a child process, since it lowers `RLIMIT_NOFILE`.

use std::process::Command;
use std::time::Duration;

use eddy_io::net::TcpListener;

const CHILD_ENV: &str = "EDDY_FD_EXHAUSTION_CHILD";

#[test]
#[ignore = "run as a child process by accept_recovers_after_emfile"]
fn child_accept_under_a_low_fd_limit() {
    if std::env::var_os(CHILD_ENV).is_none() {
        return;
    }
    eddy_io::block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();

        // Lower the limit a little above what is open now, then use up every descriptor.
        let open = std::fs::read_dir("/proc/self/fd").map(|d| d.count()).unwrap_or(16) as u64;
        let limit = rustix::process::Rlimit { current: Some(open + 8), maximum: None };
        let maximum = rustix::process::getrlimit(rustix::process::Resource::Nofile).maximum;
        rustix::process::setrlimit(
            rustix::process::Resource::Nofile,
            rustix::process::Rlimit { maximum, ..limit },
        )
        .unwrap();
        let mut hog = Vec::new();
        loop {
            match std::fs::File::open("/dev/null") {
                Ok(f) => hog.push(f),
                Err(e) if e.raw_os_error() == Some(rustix::io::Errno::MFILE.raw_os_error()) => break,
                Err(e) => panic!("unexpected error while exhausting fds: {e}"),
            }
        }
        // Free one descriptor for the client side of a connection, then connect.
        drop(hog.pop());
        let _client = std::net::TcpStream::connect(addr).unwrap();

        let err = listener.accept().await.unwrap_err();
        assert_eq!(err.raw_os_error(), None, "the error carries context: {err}");
        let source = std::error::Error::source(err.get_ref().unwrap()).unwrap();
        assert!(source.to_string().contains("Too many open files"), "{err}");
        assert!(err.to_string().contains("accept on 127.0.0.1:"), "{err}");

        // Free descriptors: the same listener accepts the connection that was waiting.
        hog.clear();
        let accepted = eddy_io::timeout(Duration::from_secs(10), listener.accept()).await;
        let (_stream, peer) = accepted.expect("accept did not recover").unwrap();
        assert_eq!(peer.ip().to_string(), "127.0.0.1");
        println!("CHILD-OK");
    });
}

#[test]
fn accept_recovers_after_emfile() {
    let output = Command::new(std::env::current_exe().unwrap())
        .args([
            "child_accept_under_a_low_fd_limit",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "child failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("CHILD-OK"), "the child did not run the scenario:\n{stdout}\n{stderr}");
}
