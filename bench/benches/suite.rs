//! eddy against tokio and smol, side by side in one process (see ../shared/BENCH.md).
//!
//! Every runtime runs the same workload with the same completion signal (`async-channel`), so
//! the figures differ only by the runtime. Rows report the median of several runs, the min–max
//! spread, and the ratio eddy / best peer of the same family (multi-threaded or single-threaded).
//!
//! `cargo xtask bench [--filter NAME] [--json PATH]`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::RefCell;
use std::future::Future;
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_lite::{AsyncReadExt, AsyncWriteExt};

/// What a workload needs from a runtime.
trait Runtime: 'static {
    const NAME: &'static str;
    /// Runs `future` on the calling thread until done, running the runtime's tasks meanwhile.
    fn block_on<F: Future>(&self, future: F) -> F::Output;
    /// Spawns a detached task from inside the runtime (each runtime's own way of finding the
    /// current runtime).
    fn spawn<F: Future<Output = ()> + Send + 'static>(future: F);
    /// Spawns a detached task from outside the runtime.
    fn spawn_remote<F: Future<Output = ()> + Send + 'static>(&self, future: F);
    /// Yields to the scheduler.
    fn yield_now() -> impl Future<Output = ()> + Send;
    /// The runtime's own timer.
    fn sleep(duration: Duration) -> impl Future<Output = ()> + Send;
    /// Binds a loopback listener with the runtime's own sockets, spawns a task that accepts
    /// `conns` connections and echoes each one on its own task, and returns the address.
    fn echo_server(conns: usize) -> impl Future<Output = SocketAddr> + Send;
    /// Connects to `addr` (`TCP_NODELAY`) and does `rounds` round trips of `MESSAGE` bytes.
    fn echo_client(addr: SocketAddr, rounds: usize) -> impl Future<Output = ()> + Send;
    /// One ping-pong over two of the runtime's own one-shot channels: spawns the partner, sends
    /// the ping, waits for the pong. smol has no one-shot type; its users take `smol::channel`
    /// (async-channel), and so does this.
    fn native_round_trip() -> impl Future<Output = ()> + Send;
}

/// `native_round_trip` for runtimes whose channel is async-channel (smol).
async fn async_channel_round_trip<R: Runtime>() {
    let (ping_tx, ping_rx) = async_channel::bounded::<()>(1);
    let (pong_tx, pong_rx) = async_channel::bounded::<()>(1);
    R::spawn(async move {
        ping_rx.recv().await.unwrap();
        pong_tx.send(()).await.unwrap();
    });
    ping_tx.send(()).await.unwrap();
    pong_rx.recv().await.unwrap();
}

/// Bytes per echo round trip.
const MESSAGE: usize = 64;

// ---------------------------------------------------------------- eddy

struct EddyRt(eddy::Runtime);

impl EddyRt {
    fn steal(workers: usize) -> EddyRt {
        EddyRt(eddy::Runtime::builder().work_stealing(workers).build().unwrap())
    }
    fn local() -> EddyRt {
        EddyRt(eddy::Runtime::builder().local().build().unwrap())
    }
}

impl Runtime for EddyRt {
    const NAME: &'static str = "eddy";
    fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.0.block_on(future)
    }
    fn spawn<F: Future<Output = ()> + Send + 'static>(future: F) {
        eddy::spawn(future).detach();
    }
    fn spawn_remote<F: Future<Output = ()> + Send + 'static>(&self, future: F) {
        self.0.handle().spawn(future).detach();
    }
    fn yield_now() -> impl Future<Output = ()> + Send {
        eddy::yield_now()
    }
    async fn sleep(duration: Duration) {
        eddy::sleep(duration).await;
    }
    async fn echo_server(conns: usize) -> SocketAddr {
        let listener = eddy::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        eddy::spawn(async move {
            for _ in 0..conns {
                let (mut stream, _) = listener.accept().await.unwrap();
                stream.set_nodelay(true).unwrap();
                eddy::spawn(async move {
                    let mut buf = [0; MESSAGE];
                    while let Ok(n @ 1..) = stream.read(&mut buf).await {
                        stream.write_all(&buf[..n]).await.unwrap();
                    }
                })
                .detach();
            }
        })
        .detach();
        addr
    }
    async fn echo_client(addr: SocketAddr, rounds: usize) {
        let mut stream = eddy::net::TcpStream::connect(addr).await.unwrap();
        stream.set_nodelay(true).unwrap();
        let (out, mut back) = ([7; MESSAGE], [0; MESSAGE]);
        for _ in 0..rounds {
            stream.write_all(&out).await.unwrap();
            stream.read_exact(&mut back).await.unwrap();
        }
    }
    async fn native_round_trip() {
        let (ping_tx, ping_rx) = eddy::channel::oneshot::<()>();
        let (pong_tx, pong_rx) = eddy::channel::oneshot::<()>();
        eddy::spawn(async move {
            ping_rx.await.unwrap();
            pong_tx.send(()).unwrap();
        })
        .detach();
        ping_tx.send(()).unwrap();
        pong_rx.await.unwrap();
    }
}

// ---------------------------------------------------------------- tokio

struct TokioRt(tokio::runtime::Runtime);

impl TokioRt {
    fn multi(workers: usize) -> TokioRt {
        TokioRt(
            tokio::runtime::Builder::new_multi_thread().worker_threads(workers).enable_all().build().unwrap(),
        )
    }
    fn current() -> TokioRt {
        TokioRt(tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap())
    }
}

impl Runtime for TokioRt {
    const NAME: &'static str = "tokio";
    fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.0.block_on(future)
    }
    fn spawn<F: Future<Output = ()> + Send + 'static>(future: F) {
        drop(tokio::spawn(future));
    }
    fn spawn_remote<F: Future<Output = ()> + Send + 'static>(&self, future: F) {
        drop(self.0.spawn(future));
    }
    fn yield_now() -> impl Future<Output = ()> + Send {
        tokio::task::yield_now()
    }
    fn sleep(duration: Duration) -> impl Future<Output = ()> + Send {
        tokio::time::sleep(duration)
    }
    async fn echo_server(conns: usize) -> SocketAddr {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            for _ in 0..conns {
                let (mut stream, _) = listener.accept().await.unwrap();
                stream.set_nodelay(true).unwrap();
                tokio::spawn(async move {
                    let mut buf = [0; MESSAGE];
                    while let Ok(n @ 1..) = stream.read(&mut buf).await {
                        stream.write_all(&buf[..n]).await.unwrap();
                    }
                });
            }
        });
        addr
    }
    async fn echo_client(addr: SocketAddr, rounds: usize) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        stream.set_nodelay(true).unwrap();
        let (out, mut back) = ([7; MESSAGE], [0; MESSAGE]);
        for _ in 0..rounds {
            stream.write_all(&out).await.unwrap();
            stream.read_exact(&mut back).await.unwrap();
        }
    }
    async fn native_round_trip() {
        let (ping_tx, ping_rx) = tokio::sync::oneshot::channel::<()>();
        let (pong_tx, pong_rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            ping_rx.await.unwrap();
            pong_tx.send(()).unwrap();
        });
        ping_tx.send(()).unwrap();
        pong_rx.await.unwrap();
    }
}

// ---------------------------------------------------------------- smol (async-executor + async-io)

thread_local! {
    static SMOL_MT: RefCell<Option<Arc<async_executor::Executor<'static>>>> = const { RefCell::new(None) };
    static SMOL_LOCAL: RefCell<Option<Rc<async_executor::LocalExecutor<'static>>>> = const { RefCell::new(None) };
}

/// The parts of `Runtime` that smol's two executors share: async-io's timer and sockets,
/// futures-lite's yield, async-channel as the one-shot.
macro_rules! smol_parts {
    () => {
        fn yield_now() -> impl Future<Output = ()> + Send {
            futures_lite::future::yield_now()
        }
        async fn sleep(duration: Duration) {
            async_io::Timer::after(duration).await;
        }
        fn echo_server(conns: usize) -> impl Future<Output = SocketAddr> + Send {
            smol_echo_server::<Self>(conns)
        }
        fn echo_client(addr: SocketAddr, rounds: usize) -> impl Future<Output = ()> + Send {
            smol_echo_client(addr, rounds)
        }
        fn native_round_trip() -> impl Future<Output = ()> + Send {
            async_channel_round_trip::<Self>()
        }
    };
}

struct SmolMt {
    ex: Arc<async_executor::Executor<'static>>,
    stop: Option<async_channel::Sender<()>>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl SmolMt {
    fn new(workers: usize) -> SmolMt {
        let ex = Arc::new(async_executor::Executor::new());
        let (stop, stopped) = async_channel::bounded::<()>(1);
        let threads = (0..workers)
            .map(|_| {
                let (ex, stopped) = (ex.clone(), stopped.clone());
                std::thread::spawn(move || {
                    SMOL_MT.with(|c| *c.borrow_mut() = Some(ex.clone()));
                    async_io::block_on(ex.run(stopped.recv())).ok();
                })
            })
            .collect();
        SmolMt { ex, stop: Some(stop), threads }
    }
}

impl Drop for SmolMt {
    fn drop(&mut self) {
        drop(self.stop.take());
        for thread in self.threads.drain(..) {
            thread.join().unwrap();
        }
    }
}

impl Runtime for SmolMt {
    const NAME: &'static str = "smol";
    fn block_on<F: Future>(&self, future: F) -> F::Output {
        SMOL_MT.with(|c| *c.borrow_mut() = Some(self.ex.clone()));
        let out = async_io::block_on(self.ex.run(future));
        SMOL_MT.with(|c| c.borrow_mut().take());
        out
    }
    fn spawn<F: Future<Output = ()> + Send + 'static>(future: F) {
        SMOL_MT.with(|c| c.borrow().as_ref().expect("inside smol-mt").spawn(future).detach());
    }
    fn spawn_remote<F: Future<Output = ()> + Send + 'static>(&self, future: F) {
        self.ex.spawn(future).detach();
    }
    smol_parts!();
}

struct SmolLocal(Rc<async_executor::LocalExecutor<'static>>);

impl Runtime for SmolLocal {
    const NAME: &'static str = "smol";
    fn block_on<F: Future>(&self, future: F) -> F::Output {
        SMOL_LOCAL.with(|c| *c.borrow_mut() = Some(self.0.clone()));
        let out = async_io::block_on(self.0.run(future));
        SMOL_LOCAL.with(|c| c.borrow_mut().take());
        out
    }
    fn spawn<F: Future<Output = ()> + Send + 'static>(future: F) {
        SMOL_LOCAL.with(|c| c.borrow().as_ref().expect("inside smol-local").spawn(future).detach());
    }
    fn spawn_remote<F: Future<Output = ()> + Send + 'static>(&self, future: F) {
        self.0.spawn(future).detach();
    }
    smol_parts!();
}

/// smol's sockets: async-io's `Async` around the std types.
async fn smol_echo_server<R: Runtime>(conns: usize) -> SocketAddr {
    let listener = async_io::Async::<std::net::TcpListener>::bind(([127, 0, 0, 1], 0)).unwrap();
    let addr = listener.get_ref().local_addr().unwrap();
    R::spawn(async move {
        for _ in 0..conns {
            let (mut stream, _) = listener.accept().await.unwrap();
            stream.get_ref().set_nodelay(true).unwrap();
            R::spawn(async move {
                let mut buf = [0; MESSAGE];
                while let Ok(n @ 1..) = stream.read(&mut buf).await {
                    stream.write_all(&buf[..n]).await.unwrap();
                }
            });
        }
    });
    addr
}

async fn smol_echo_client(addr: SocketAddr, rounds: usize) {
    let mut stream = async_io::Async::<std::net::TcpStream>::connect(addr).await.unwrap();
    stream.get_ref().set_nodelay(true).unwrap();
    let (out, mut back) = ([7; MESSAGE], [0; MESSAGE]);
    for _ in 0..rounds {
        stream.write_all(&out).await.unwrap();
        stream.read_exact(&mut back).await.unwrap();
    }
}

// ---------------------------------------------------------------- workloads

const SPAWN_MANY: usize = 10_000;
const YIELD_TASKS: usize = 200;
const YIELDS: usize = 1_000;
const PING_PONGS: usize = 1_000;
const CHAIN: usize = 1_000;

/// The completion signal of the workloads whose tasks end independently: each of `n` tasks
/// counts down once, and the last one sends on an async-channel (the same for every runtime).
#[derive(Clone)]
struct Countdown {
    left: Arc<AtomicUsize>,
    done: async_channel::Sender<()>,
}

impl Countdown {
    fn new(n: usize) -> (Countdown, async_channel::Receiver<()>) {
        let (done, finished) = async_channel::bounded::<()>(1);
        (Countdown { left: Arc::new(AtomicUsize::new(n)), done }, finished)
    }

    fn count(&self) {
        if self.left.fetch_sub(1, Ordering::Relaxed) == 1 {
            self.done.try_send(()).unwrap();
        }
    }
}

fn spawn_many_local<R: Runtime>(rt: &R) -> Duration {
    let (countdown, finished) = Countdown::new(SPAWN_MANY);
    let start = Instant::now();
    rt.block_on(async {
        for _ in 0..SPAWN_MANY {
            let countdown = countdown.clone();
            R::spawn(async move { countdown.count() });
        }
        finished.recv().await.unwrap();
    });
    start.elapsed()
}

fn spawn_many_remote<R: Runtime>(rt: &R) -> Duration {
    let (countdown, finished) = Countdown::new(SPAWN_MANY);
    let start = Instant::now();
    for _ in 0..SPAWN_MANY {
        let countdown = countdown.clone();
        rt.spawn_remote(async move { countdown.count() });
    }
    rt.block_on(async { finished.recv().await.unwrap() });
    start.elapsed()
}

fn yield_many<R: Runtime>(rt: &R) -> Duration {
    let (tx, rx) = async_channel::bounded::<()>(YIELD_TASKS);
    let start = Instant::now();
    rt.block_on(async {
        for _ in 0..YIELD_TASKS {
            let tx = tx.clone();
            R::spawn(async move {
                for _ in 0..YIELDS {
                    R::yield_now().await;
                }
                tx.send(()).await.unwrap();
            });
        }
        for _ in 0..YIELD_TASKS {
            rx.recv().await.unwrap();
        }
    });
    start.elapsed()
}

fn ping_pong<R: Runtime>(rt: &R) -> Duration {
    pairs(rt, async_channel_round_trip::<R>)
}

/// Not a row of BENCH.md: `ping_pong` over each runtime's own one-shot channel (eddy's
/// `channel::oneshot`, tokio's `sync::oneshot`; smol has none and keeps async-channel), which is
/// what a port of the asyncio program (two bare futures per pair) would use.
fn ping_pong_native<R: Runtime>(rt: &R) -> Duration {
    pairs(rt, R::native_round_trip)
}

/// `PING_PONGS` spawned tasks, each doing one `round_trip` with a partner it spawns.
fn pairs<R: Runtime, F: Future<Output = ()> + Send + 'static>(rt: &R, round_trip: fn() -> F) -> Duration {
    let (countdown, finished) = Countdown::new(PING_PONGS);
    let start = Instant::now();
    rt.block_on(async {
        for _ in 0..PING_PONGS {
            let countdown = countdown.clone();
            R::spawn(async move {
                round_trip().await;
                countdown.count();
            });
        }
        finished.recv().await.unwrap();
    });
    start.elapsed()
}

fn chain<R: Runtime>(n: usize, done: async_channel::Sender<()>) {
    if n == 0 {
        done.try_send(()).unwrap();
    } else {
        R::spawn(async move { chain::<R>(n - 1, done) });
    }
}

fn chained_spawn<R: Runtime>(rt: &R) -> Duration {
    let (tx, rx) = async_channel::bounded::<()>(1);
    let start = Instant::now();
    rt.block_on(async {
        R::spawn(async move { chain::<R>(CHAIN, tx) });
        rx.recv().await.unwrap();
    });
    start.elapsed()
}

const TIMERS: usize = 100_000;
const CLIENTS: usize = 32;
const ROUNDS: usize = 500;

fn timers<R: Runtime>(rt: &R) -> Duration {
    let (countdown, finished) = Countdown::new(TIMERS);
    let start = Instant::now();
    rt.block_on(async {
        for i in 0..TIMERS {
            let countdown = countdown.clone();
            R::spawn(async move {
                R::sleep(Duration::from_micros(1000 + (i as u64 * 7919) % 9000)).await;
                countdown.count();
            });
        }
        finished.recv().await.unwrap();
    });
    start.elapsed()
}

fn tcp_echo<R: Runtime>(rt: &R) -> Duration {
    let (tx, rx) = async_channel::bounded::<()>(CLIENTS);
    let start = Instant::now();
    rt.block_on(async {
        let addr = R::echo_server(CLIENTS).await;
        for _ in 0..CLIENTS {
            let tx = tx.clone();
            R::spawn(async move {
                R::echo_client(addr, ROUNDS).await;
                tx.send(()).await.unwrap();
            });
        }
        for _ in 0..CLIENTS {
            rx.recv().await.unwrap();
        }
    });
    start.elapsed()
}

// ---------------------------------------------------------------- floors

/// A row's work that is not any runtime's, done with no runtime at all and in the cheapest
/// order. A runtime does that work and its own besides, so `asyncio / floor` is the most
/// `asyncio / runtime` can be on this machine (within the noise; a runtime that batched its
/// socket calls through io_uring would save their entries and exits, not the kernel's TCP work).
/// Only the rows where that work is most of the time have one: `ping_pong`
/// (async-channel, which BENCH.md gives every runtime) and `tcp_echo` (the kernel's socket
/// calls). `ping_pong_native`'s channel is each runtime's own, so its whole time is the
/// runtime's.
fn floor_of(workload: &str) -> Option<fn() -> Duration> {
    match workload {
        "ping_pong" => Some(ping_pong_floor),
        "tcp_echo" => Some(tcp_echo_floor),
        _ => None,
    }
}

/// `ping_pong`'s channel operations and completion signal, pair after pair, polled by hand with
/// a waker that does nothing, in the order the fastest runtime gets: the ping is sent before the
/// partner waits for it, so only the pong has a waiter, as in every runtime (the pinger waits in
/// the same poll that sends the ping). No task is made, scheduled or woken.
fn ping_pong_floor() -> Duration {
    use std::pin::pin;
    use std::task::{Context, Poll, Waker};

    let mut cx = Context::from_waker(Waker::noop());
    let (countdown, finished) = Countdown::new(PING_PONGS);
    let start = Instant::now();
    for _ in 0..PING_PONGS {
        let (ping_tx, ping_rx) = async_channel::bounded::<()>(1);
        let (pong_tx, pong_rx) = async_channel::bounded::<()>(1);
        assert!(pin!(ping_tx.send(())).poll(&mut cx) == Poll::Ready(Ok(())));
        let mut pong = pin!(pong_rx.recv());
        assert!(pong.as_mut().poll(&mut cx).is_pending());
        assert!(pin!(ping_rx.recv()).poll(&mut cx) == Poll::Ready(Ok(())));
        assert!(pin!(pong_tx.send(())).poll(&mut cx) == Poll::Ready(Ok(())));
        assert!(pong.poll(&mut cx) == Poll::Ready(Ok(())));
        countdown.count();
    }
    finished.try_recv().unwrap();
    start.elapsed()
}

/// `tcp_echo`'s socket calls and nothing else: the same listener, connections, `TCP_NODELAY` and
/// round trips, on blocking sockets driven in lockstep from one thread (every client sends, every
/// server side reads and echoes, every client reads), so each call finds its data already there.
/// A round trip costs the four calls no runtime can avoid, a send and a receive at each end, and
/// no wait for readiness.
fn tcp_echo_floor() -> Duration {
    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream};

    let start = Instant::now();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (mut clients, mut servers) = (Vec::with_capacity(CLIENTS), Vec::with_capacity(CLIENTS));
    for _ in 0..CLIENTS {
        let client = TcpStream::connect(addr).unwrap();
        client.set_nodelay(true).unwrap();
        let (server, _) = listener.accept().unwrap();
        server.set_nodelay(true).unwrap();
        clients.push(client);
        servers.push(server);
    }
    let (out, mut buf) = ([7; MESSAGE], [0; MESSAGE]);
    for _ in 0..ROUNDS {
        for client in &mut clients {
            client.write_all(&out).unwrap();
        }
        for server in &mut servers {
            server.read_exact(&mut buf).unwrap();
            server.write_all(&buf).unwrap();
        }
        for client in &mut clients {
            client.read_exact(&mut buf).unwrap();
            assert_eq!(buf, out);
        }
    }
    drop(clients);
    for server in &mut servers {
        assert_eq!(server.read(&mut buf).unwrap(), 0, "the client closed");
    }
    start.elapsed()
}

// ---------------------------------------------------------------- idle_task_bytes

/// The system allocator, counting live bytes while `COUNTING` is on. Off, it costs one relaxed
/// load per call, so the timed rows are not skewed.
struct Counting;

static COUNTING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
static LIVE: std::sync::atomic::AtomicIsize = std::sync::atomic::AtomicIsize::new(0);

// SAFETY: every call is forwarded to `System` unchanged; the counters are plain atomics.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        }
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract, which `System` shares.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if COUNTING.load(Ordering::Relaxed) {
            LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        }
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            LIVE.fetch_add(new_size as isize - layout.size() as isize, Ordering::Relaxed);
        }
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const IDLE_TASKS: usize = 100_000;

/// Live heap bytes per parked task: 100,000 tasks each awaiting its own channel. The channels
/// are made before counting starts; what is counted is the tasks, the runtime's bookkeeping for
/// them, and each one's wait registration (the same channel type for every runtime).
fn idle_task_bytes<R: Runtime>(rt: &R) -> f64 {
    rt.block_on(async {
        // Nothing made before counting is freed while counting: the channels are popped from a
        // vector that outlives the count, and every task of the previous run has finished.
        let mut channels: Vec<_> = (0..IDLE_TASKS).map(|_| async_channel::bounded::<()>(1)).collect();
        let mut senders = Vec::with_capacity(IDLE_TASKS);
        let (parked_tx, parked_rx) = async_channel::bounded::<()>(1);
        let (done_tx, done_rx) = async_channel::bounded::<()>(1);
        let parked = Arc::new(AtomicUsize::new(IDLE_TASKS));
        let running = Arc::new(AtomicUsize::new(IDLE_TASKS));
        LIVE.store(0, Ordering::SeqCst);
        COUNTING.store(true, Ordering::SeqCst);
        while let Some((tx, rx)) = channels.pop() {
            senders.push(tx);
            let (parked, parked_tx) = (parked.clone(), parked_tx.clone());
            let (running, done_tx) = (running.clone(), done_tx.clone());
            R::spawn(async move {
                let mut recv = std::pin::pin!(rx.recv());
                // Register with the channel, then report parked.
                assert!(futures_lite::future::poll_once(&mut recv).await.is_none());
                if parked.fetch_sub(1, Ordering::SeqCst) == 1 {
                    parked_tx.try_send(()).unwrap();
                }
                let _ = recv.await;
                if running.fetch_sub(1, Ordering::SeqCst) == 1 {
                    done_tx.try_send(()).unwrap();
                }
            });
        }
        parked_rx.recv().await.unwrap();
        // Let the last task get back to its wait before reading the counter.
        for _ in 0..16 {
            R::yield_now().await;
        }
        COUNTING.store(false, Ordering::SeqCst);
        let bytes = LIVE.load(Ordering::SeqCst) as f64 / IDLE_TASKS as f64;
        drop(senders);
        done_rx.recv().await.unwrap();
        bytes
    })
}

/// The same workloads under Python's asyncio (`bench/asyncio_suite.py`), if `python3` runs:
/// workload → median µs. `None` if there is no Python or the script failed (said on stderr).
fn asyncio_figures(filter: &Option<String>) -> Option<Vec<(String, f64)>> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/asyncio_suite.py");
    let mut command = std::process::Command::new("python3");
    command.arg(script).args(["--runs", "5"]);
    if let Some(filter) = filter {
        command.args(["--filter", filter]);
    }
    let output = match command.stderr(std::process::Stdio::inherit()).output() {
        Ok(output) if output.status.success() => output,
        Ok(output) => {
            eprintln!("asyncio column skipped: the script failed ({})", output.status);
            return None;
        }
        Err(err) => {
            eprintln!("asyncio column skipped: cannot run python3 ({err})");
            return None;
        }
    };
    // The script prints one flat JSON object of numbers: {"name": 123.4, ...}.
    let text = String::from_utf8_lossy(&output.stdout);
    let body = text.trim().trim_start_matches('{').trim_end_matches('}');
    Some(
        body.split(',')
            .filter_map(|pair| {
                let (name, value) = pair.split_once(':')?;
                Some((name.trim().trim_matches('"').to_owned(), value.trim().parse().ok()?))
            })
            .collect(),
    )
}

/// `idle_task_bytes`, median of three runs.
fn bytes<R: Runtime>(rt: &R) -> f64 {
    let mut runs = [idle_task_bytes(rt), idle_task_bytes(rt), idle_task_bytes(rt)];
    runs.sort_by(f64::total_cmp);
    eprintln!("measured idle_task_bytes ({})", R::NAME);
    runs[1]
}

// ---------------------------------------------------------------- queues (issue 7)
//
// 4 producers × 10,000 items through a bounded queue of 64 to 1 consumer (the `block_on`
// future). The three queues run on the same host runtime, so a row compares queues only; the
// rows repeat that on each runtime, since eddy's queue must work (and be fast) on any of them.

const PRODUCERS: u64 = 4;
const ITEMS: u64 = 10_000;
const QUEUE_CAP: usize = 64;
const ITEMS_SUM: u64 = PRODUCERS * (ITEMS * (ITEMS - 1) / 2);

/// A bounded multi-producer queue, as each of the three libraries spells it.
trait BenchQueue {
    type Tx: Clone + Send + 'static;
    type Rx;
    fn bounded(capacity: usize) -> (Self::Tx, Self::Rx);
    fn send(tx: &Self::Tx, item: u64) -> impl Future<Output = ()> + Send;
    fn recv(rx: &mut Self::Rx) -> impl Future<Output = u64>;
}

struct EddyQueue;

impl BenchQueue for EddyQueue {
    type Tx = Arc<eddy::queue::Queue<u64>>;
    type Rx = Arc<eddy::queue::Queue<u64>>;
    fn bounded(capacity: usize) -> (Self::Tx, Self::Rx) {
        let queue = Arc::new(eddy::queue::Queue::new(capacity));
        (queue.clone(), queue)
    }
    async fn send(tx: &Self::Tx, item: u64) {
        tx.put(item).await.unwrap();
    }
    async fn recv(rx: &mut Self::Rx) -> u64 {
        rx.get().await.unwrap()
    }
}

struct TokioMpsc;

impl BenchQueue for TokioMpsc {
    type Tx = tokio::sync::mpsc::Sender<u64>;
    type Rx = tokio::sync::mpsc::Receiver<u64>;
    fn bounded(capacity: usize) -> (Self::Tx, Self::Rx) {
        tokio::sync::mpsc::channel(capacity)
    }
    async fn send(tx: &Self::Tx, item: u64) {
        tx.send(item).await.unwrap();
    }
    async fn recv(rx: &mut Self::Rx) -> u64 {
        rx.recv().await.unwrap()
    }
}

struct AsyncChannel;

impl BenchQueue for AsyncChannel {
    type Tx = async_channel::Sender<u64>;
    type Rx = async_channel::Receiver<u64>;
    fn bounded(capacity: usize) -> (Self::Tx, Self::Rx) {
        async_channel::bounded(capacity)
    }
    async fn send(tx: &Self::Tx, item: u64) {
        tx.send(item).await.unwrap();
    }
    async fn recv(rx: &mut Self::Rx) -> u64 {
        rx.recv().await.unwrap()
    }
}

fn queue_mpsc<R: Runtime, Q: BenchQueue>(rt: &R) -> Duration {
    let (tx, mut rx) = Q::bounded(QUEUE_CAP);
    let start = Instant::now();
    rt.block_on(async {
        for _ in 0..PRODUCERS {
            let tx = tx.clone();
            R::spawn(async move {
                for i in 0..ITEMS {
                    Q::send(&tx, i).await;
                }
            });
        }
        let mut sum = 0;
        for _ in 0..PRODUCERS * ITEMS {
            sum += Q::recv(&mut rx).await;
        }
        assert_eq!(sum, ITEMS_SUM);
    });
    start.elapsed()
}

/// The queue row on one host runtime: eddy's `Queue`, tokio's mpsc, async-channel.
fn queues<R: Runtime>(host: &'static str, rt: &R, filter: &Option<String>, rows: &mut Vec<Row>) {
    if filter.as_ref().is_some_and(|f| !"queue_mpsc".contains(f.as_str())) {
        return;
    }
    let figures = measure(&mut [
        &mut || queue_mpsc::<R, EddyQueue>(rt),
        &mut || queue_mpsc::<R, TokioMpsc>(rt),
        &mut || queue_mpsc::<R, AsyncChannel>(rt),
    ]);
    eprintln!("measured queue_mpsc (on {host}, {} runs)", figures[0].runs);
    let cells = ["eddy Queue", "tokio mpsc", "async-channel"].into_iter().zip(figures).collect();
    rows.push(Row { workload: "queue_mpsc", family: host, cells });
}

// ---------------------------------------------------------------- harness

/// Runs per cell unless `--runs N` says otherwise.
const RUNS: usize = 15;

static RUNS_SET: AtomicUsize = AtomicUsize::new(RUNS);

fn runs() -> usize {
    RUNS_SET.load(Ordering::Relaxed)
}
const WARMUP: usize = 3;

struct Figure {
    median: Duration,
    min: Duration,
    max: Duration,
    runs: usize,
    /// Every run, in seconds, for the ratio's interval.
    times: Vec<f64>,
}

/// Measures several cells of one row. Runs are interleaved (one run of each cell in turn, each
/// round starting one cell further on), so a machine that drifts — a runtime's threads still
/// spinning down, the CPU clocking up — affects every cell alike instead of whichever is
/// measured first, and no cell always runs right after the same other one.
fn measure(cells: &mut [&mut dyn FnMut() -> Duration]) -> Vec<Figure> {
    run_cells(cells, runs()).into_iter().map(Figure::of).collect()
}

/// How long the runs of one cell may take together before a fast row stops adding runs (see
/// [`runs_for`]).
const CELL_BUDGET: Duration = Duration::from_millis(60);
/// A fast row runs at most this many times the runs asked for.
const MAX_RUNS_FACTOR: usize = 10;

/// How many runs a row gets: at least `runs`, and for a fast row as many as fit in
/// [`CELL_BUDGET`] per cell, judged by the slowest cell's median warm-up run (one slow first run
/// does not decide), up to [`MAX_RUNS_FACTOR`] times `runs`. A 0.2 ms row thus gets as many
/// samples as fit in the time a 4 ms row spends on its `runs`, and its median as much
/// precision; every cell of the row gets the same count.
fn runs_for(runs: usize, per_run: Duration) -> usize {
    let fit = CELL_BUDGET.as_nanos() / per_run.as_nanos().max(1);
    runs.max(usize::try_from(fit).unwrap_or(usize::MAX).min(runs * MAX_RUNS_FACTOR))
}

/// Warms up, then runs every cell at least `runs` times (see [`runs_for`]), interleaved; the
/// times of each cell.
fn run_cells(cells: &mut [&mut dyn FnMut() -> Duration], runs: usize) -> Vec<Vec<Duration>> {
    let mut warmups = vec![Vec::with_capacity(WARMUP); cells.len()];
    for _ in 0..WARMUP {
        for (run, times) in cells.iter_mut().zip(&mut warmups) {
            times.push(run());
        }
    }
    let per_run = warmups.into_iter().map(|times| Figure::of(times).median).max().unwrap_or_default();
    let runs = runs_for(runs, per_run);
    let mut times = vec![Vec::with_capacity(runs); cells.len()];
    let n = cells.len();
    for round in 0..runs {
        for cell in (0..n).map(|k| (round + k) % n) {
            times[cell].push(cells[cell]());
        }
    }
    times
}

impl Figure {
    fn of(mut times: Vec<Duration>) -> Figure {
        times.sort();
        Figure {
            median: times[times.len() / 2],
            min: times[0],
            max: times[times.len() - 1],
            runs: times.len(),
            times: times.iter().map(Duration::as_secs_f64).collect(),
        }
    }
}

/// `figure`'s median against the best median of `others`, with its 95% interval (see
/// `eddy_bench::ratio_interval`).
fn ratio_of(figure: &Figure, others: &[&Figure]) -> (f64, (f64, f64)) {
    let others: Vec<&[f64]> = others.iter().map(|f| f.times.as_slice()).collect();
    (eddy_bench::ratio(&figure.times, &others), eddy_bench::ratio_interval(&figure.times, &others))
}

/// A ratio with its interval: `1.03× [0.97–1.10]`.
fn shown((ratio, (low, high)): (f64, (f64, f64))) -> String {
    format!("{ratio:.2}× [{low:.2}–{high:.2}]")
}

struct Row {
    workload: &'static str,
    family: &'static str,
    cells: Vec<(&'static str, Figure)>,
}

type Workload<R> = fn(&R) -> Duration;

/// A workload by name, instantiated for each of the three runtimes of a family.
type Entry<E, T, S> = (&'static str, Workload<E>, Workload<T>, Workload<S>);

/// Measures `workloads` on the runtimes of one family (eddy, tokio, smol).
fn family<E: Runtime, T: Runtime, S: Runtime>(
    (name, label): (&'static str, &'static str),
    filter: &Option<String>,
    (eddy, tokio, smol): (&E, &T, &S),
    rows: &mut Vec<Row>,
    workloads: &[Entry<E, T, S>],
) {
    for &(workload, on_eddy, on_tokio, on_smol) in workloads {
        if filter.as_ref().is_some_and(|f| !workload.contains(f.as_str())) {
            continue;
        }
        let figures = measure(&mut [&mut || on_eddy(eddy), &mut || on_tokio(tokio), &mut || on_smol(smol)]);
        eprintln!("measured {workload} ({name}, {} runs)", figures[0].runs);
        let cells = [E::NAME, T::NAME, S::NAME].into_iter().zip(figures).collect();
        rows.push(Row { workload, family: label, cells });
    }
}

macro_rules! workloads {
    ($e:ty, $t:ty, $s:ty; $($name:ident),*) => {
        &[$((stringify!($name), $name::<$e> as Workload<$e>, $name::<$t> as Workload<$t>, $name::<$s> as Workload<$s>)),*]
    };
}

/// How many blocks of runs the scaling table alternates between W = 1 and W = N.
const SCALING_BLOCKS: usize = 3;

/// The multi-threaded rows at W = 1 and W = `workers`: the same work, so W = N taking no longer
/// than W = 1 means the per-task cost did not grow with W (BENCH.md's scaling target).
///
/// Each row alternates [`SCALING_BLOCKS`] blocks at W = 1 with as many at W = N, on runtimes
/// built for the block and dropped after it, and pools the runs: drift on the machine affects
/// both sizes alike, and the runtimes of the two sizes never coexist (an idle runtime can take a
/// share of the work: smol's reactor is per process, and a parked worker of the idle runtime may
/// be the thread that waits for I/O and timers; eddy's was until its runtimes had their own).
fn scaling_table(workers: usize, filter: &Option<String>) {
    let entries: &[Entry<EddyRt, TokioRt, SmolMt>] = workloads!(EddyRt, TokioRt, SmolMt;
        spawn_many_local, spawn_many_remote, yield_many, ping_pong, chained_spawn, timers, tcp_echo);
    let per_block = runs().div_ceil(SCALING_BLOCKS);
    let mut lines = Vec::new();
    for &(workload, on_eddy, on_tokio, on_smol) in entries {
        if filter.as_ref().is_some_and(|f| !workload.contains(f.as_str())) {
            continue;
        }
        // times[size][runtime]: size 0 is W = 1, size 1 is W = `workers`.
        let mut times: [[Vec<Duration>; 3]; 2] = Default::default();
        for _ in 0..SCALING_BLOCKS {
            for (size, w) in [1, workers].into_iter().enumerate() {
                let (eddy, tokio, smol) = (EddyRt::steal(w), TokioRt::multi(w), SmolMt::new(w));
                let block = run_cells(
                    &mut [&mut || on_eddy(&eddy), &mut || on_tokio(&tokio), &mut || on_smol(&smol)],
                    per_block,
                );
                for (all, block) in times[size].iter_mut().zip(block) {
                    all.extend(block);
                }
            }
        }
        let [one, many] = times.map(|sizes| sizes.map(Figure::of));
        eprintln!(
            "measured {workload} (multi-threaded, W = 1 and W = {workers}, {} and {} runs)",
            one[0].runs, many[0].runs
        );
        let ratio = |i: usize| shown(ratio_of(&many[i], &[&one[i]]));
        lines.push(format!(
            "| {workload} | {} | {} | {} | {} | {} |",
            micros(one[0].median),
            micros(many[0].median),
            ratio(0),
            ratio(1),
            ratio(2)
        ));
    }
    println!(
        "\nScaling: the multi-threaded rows at W = 1 and W = {workers}, in {SCALING_BLOCKS} alternated blocks; at least {} runs each (a fast row more, as many as fit in {} ms per cell and block, up to {}×); median µs; ratios with their 95% interval\n",
        per_block * SCALING_BLOCKS,
        CELL_BUDGET.as_millis(),
        MAX_RUNS_FACTOR
    );
    println!("| workload | eddy W=1 | eddy W={workers} | eddy W={workers} / W=1 | tokio W={workers} / W=1 | smol W={workers} / W=1 |");
    println!("|---|---|---|---|---|---|");
    for line in lines {
        println!("{line}");
    }
}

impl Row {
    /// The first cell (eddy) against the better of the other two, with its 95% interval.
    fn ratio(&self) -> (f64, (f64, f64)) {
        ratio_of(&self.cells[0].1, &[&self.cells[1].1, &self.cells[2].1])
    }
}

/// Prints `rows` as table lines (median [min–max] per cell, then the ratio) and adds each to
/// `json` under the given keys: the name of the row's group, then one key per cell.
fn print_rows(rows: &[Row], (group, keys): (&str, [&str; 3]), json: &mut Vec<String>) {
    for row in rows {
        let cell = |f: &Figure| format!("{} [{}–{}]", micros(f.median), micros(f.min), micros(f.max));
        let [a, b, c] = [0, 1, 2].map(|i| &row.cells[i].1);
        let (ratio, (low, high)) = row.ratio();
        println!(
            "| {} | {} | {} | {} | {} | {} |",
            row.workload,
            row.family,
            cell(a),
            cell(b),
            cell(c),
            shown((ratio, (low, high)))
        );
        json.push(format!(
            "{{\"workload\":\"{}\",\"{group}\":\"{}\",\"{}\":{},\"{}\":{},\"{}\":{},\"ratio\":{ratio:.4},\"ratio_low\":{low:.4},\"ratio_high\":{high:.4},\"runs\":{}}}",
            row.workload,
            row.family,
            keys[0],
            micros(a.median),
            keys[1],
            micros(b.median),
            keys[2],
            micros(c.median),
            a.runs,
        ));
    }
}

fn micros(d: Duration) -> String {
    format!("{:.0}", d.as_secs_f64() * 1e6)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut filter = None;
    let mut json = None;
    let mut no_asyncio = false;
    let mut scaling = false;
    let mut workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--filter" => filter = it.next().cloned(),
            "--json" => json = it.next().cloned(),
            "--workers" => workers = it.next().and_then(|w| w.parse().ok()).unwrap_or(workers),
            "--runs" => {
                let runs = it.next().and_then(|r| r.parse().ok()).filter(|&r| r > 0).unwrap_or(RUNS);
                RUNS_SET.store(runs, Ordering::Relaxed);
            }
            "--no-asyncio" => no_asyncio = true,
            "--scaling" => scaling = true,
            "--bench" => {}
            other => eprintln!("ignoring argument {other:?}"),
        }
    }

    if scaling {
        return scaling_table(workers, &filter);
    }
    let mut rows = Vec::new();
    let mut queue_rows = Vec::new();
    let mut memory_rows: Vec<(&str, [f64; 3])> = Vec::new();
    let want_memory = filter.as_ref().is_none_or(|f| "idle_task_bytes".contains(f.as_str()));
    {
        let (eddy, tokio, smol) = (EddyRt::steal(workers), TokioRt::multi(workers), SmolMt::new(workers));
        if want_memory {
            memory_rows.push(("mt", [bytes(&eddy), bytes(&tokio), bytes(&smol)]));
        }
        queues("eddy mt", &eddy, &filter, &mut queue_rows);
        queues("tokio mt", &tokio, &filter, &mut queue_rows);
        queues("smol mt", &smol, &filter, &mut queue_rows);
        family(
            ("multi-threaded", "mt"),
            &filter,
            (&eddy, &tokio, &smol),
            &mut rows,
            workloads!(EddyRt, TokioRt, SmolMt; spawn_many_local, spawn_many_remote, yield_many, ping_pong, ping_pong_native, chained_spawn, timers, tcp_echo),
        );
    }
    {
        let (eddy, tokio, smol) =
            (EddyRt::local(), TokioRt::current(), SmolLocal(Rc::new(async_executor::LocalExecutor::new())));
        family(
            ("single-threaded", "st"),
            &filter,
            (&eddy, &tokio, &smol),
            &mut rows,
            workloads!(EddyRt, TokioRt, SmolLocal; spawn_many_local, yield_many, ping_pong, ping_pong_native, chained_spawn, timers, tcp_echo),
        );
        if want_memory {
            memory_rows.push(("st", [bytes(&eddy), bytes(&tokio), bytes(&smol)]));
        }
        queues("eddy st", &eddy, &filter, &mut queue_rows);
    }

    println!(
        "\nW = {workers} workers for the multi-threaded rows; {} runs after {WARMUP} warm-ups (a row under {} ms per run: as many as fit in {} ms per cell, up to {}×); median µs [min–max]; eddy / best peer with its 95% interval\n",
        runs(),
        CELL_BUDGET.as_millis() / runs() as u128,
        CELL_BUDGET.as_millis(),
        MAX_RUNS_FACTOR
    );
    println!("| workload | family | eddy | tokio | smol | eddy / best peer |");
    println!("|---|---|---|---|---|---|");
    let mut json_rows = Vec::new();
    print_rows(&rows, ("family", ["eddy_us", "tokio_us", "smol_us"]), &mut json_rows);
    let asyncio = if no_asyncio { None } else { asyncio_figures(&filter) };
    if let Some(asyncio) = asyncio.filter(|figures| !figures.is_empty()) {
        let mut lines = Vec::new();
        for (workload, asyncio_us) in asyncio {
            let Some(row) = rows.iter().find(|row| row.family == "st" && row.workload == workload) else {
                continue;
            };
            let eddy_us = row.cells[0].1.median.as_secs_f64() * 1e6;
            let speedup = asyncio_us / eddy_us;
            let (floor_cell, most_cell, floor_json) = match floor_of(&workload) {
                Some(floor) => {
                    let floor_us = measure(&mut [&mut || floor()])[0].median.as_secs_f64() * 1e6;
                    eprintln!("measured {workload} (no runtime)");
                    let most = asyncio_us / floor_us;
                    (
                        format!("{floor_us:.0}"),
                        format!("{most:.1}×"),
                        format!(",\"floor_us\":{floor_us:.0},\"most_speedup\":{most:.2}"),
                    )
                }
                None => ("–".to_owned(), "–".to_owned(), String::new()),
            };
            lines.push(format!("| {workload} | {eddy_us:.0} | {asyncio_us:.0} | {speedup:.1}× | {floor_cell} | {most_cell} |"));
            json_rows.push(format!(
                "{{\"workload\":\"{workload}\",\"family\":\"asyncio\",\"eddy_us\":{eddy_us:.0},\"asyncio_us\":{asyncio_us:.0},\"speedup\":{speedup:.2}{floor_json}}}"
            ));
        }
        println!("\nPython asyncio on the same workloads (5 runs after 1 warm-up) against eddy's single-threaded runtime; no runtime: the row's work that is no runtime's (async-channel's, the kernel's), done alone, median µs, and the most asyncio / runtime can be\n");
        println!("| workload | eddy st | asyncio | asyncio / eddy | no runtime | asyncio / no runtime |");
        println!("|---|---|---|---|---|---|");
        for line in lines {
            println!("{line}");
        }
    }
    if !memory_rows.is_empty() {
        println!("\nidle_task_bytes: live heap bytes per parked task ({IDLE_TASKS} tasks, each awaiting its own channel); median of 3\n");
        println!("| workload | family | eddy | tokio | smol | eddy / best peer |");
        println!("|---|---|---|---|---|---|");
    }
    for (family, [eddy, tokio, smol]) in &memory_rows {
        let ratio = eddy / tokio.min(*smol);
        println!("| idle_task_bytes | {family} | {eddy:.0} | {tokio:.0} | {smol:.0} | {ratio:.2}× |");
        json_rows.push(format!(
            "{{\"workload\":\"idle_task_bytes\",\"family\":\"{family}\",\"eddy_bytes\":{eddy:.0},\"tokio_bytes\":{tokio:.0},\"smol_bytes\":{smol:.0},\"ratio\":{ratio:.4}}}"
        ));
    }
    if !queue_rows.is_empty() {
        println!("\nQueues: {PRODUCERS} producers × {ITEMS} items, bounded {QUEUE_CAP}, 1 consumer; all three on the host runtime\n");
        println!("| workload | host runtime | eddy Queue | tokio mpsc | async-channel | eddy / best |");
        println!("|---|---|---|---|---|---|");
    }
    print_rows(&queue_rows, ("host", ["eddy_queue_us", "tokio_mpsc_us", "async_channel_us"]), &mut json_rows);
    if let Some(path) = json {
        std::fs::write(&path, format!("[{}]\n", json_rows.join(","))).expect("write the JSON file");
        eprintln!("wrote {path}");
    }
}
