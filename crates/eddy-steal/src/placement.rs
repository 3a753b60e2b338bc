//! Keeping busy workers on different CPUs (Linux).
//!
//! Linux places a woken thread on the CPU of the thread that woke it or on the CPU it last ran
//! on, and searches for an idle CPU only while the machine does not look busy (`SIS_UTIL`). So
//! when a worker wakes another while a third thread holds the other CPU (a thread spawning a
//! burst of tasks from outside, say), the wakee can be queued behind its waker. Neither worker
//! sleeps while there is work, so the two then share one CPU, each waiting about half the time,
//! while the other CPU idles as soon as the third thread blocks; only the kernel's periodic load
//! balancing separates them, and the wakee, having last run there, tends to be queued on the
//! same CPU at its next wake. `ping_pong` on 2 workers spent 17–77% of its 100-iteration blocks
//! in that state (1.4–1.6 ms per iteration instead of 0.85–0.95; each worker waited ~0.5 ms per
//! iteration for a CPU, against 0–0.15 ms otherwise). On the virtual machines this project is
//! measured on (a kernel that packs wakes onto busy virtual CPUs), every wake in a trace of 200
//! `chained_spawn` iterations landed on the waker's CPU, the other CPU idle or not. Narrowing
//! the wakee's mask before the unpark, to keep it off the waker's CPU, was slower there: waking
//! an idle virtual CPU costs more than sharing one for a moment.
//!
//! Two rules undo it, and a third keeps them from slowing a thread that spawns from outside:
//!
//! - **Moving off.** Each worker publishes the CPU it runs on when it comes back from a park and
//!   every `IO_INTERVAL` ticks. A worker that finds another worker that is not parked on its CPU,
//!   while some CPU of its affinity mask holds no such worker, moves there: it narrows its mask
//!   to that CPU (Linux migrates a thread at once when its mask excludes the CPU it runs on),
//!   then restores the mask it had. Only the mask the thread already has is used, so a worker
//!   pinned to one CPU (by `on_thread_start`, `taskset`, a cpuset) never moves; and a worker
//!   moves at most once per [`MOVE_INTERVAL`], so other load on the machine cannot make workers
//!   bounce.
//! - **Yielding to a late wakee.** A worker can notice only once it runs, and a wakee queued
//!   behind a busy worker runs when its waker's time slice ends (milliseconds). So each unpark
//!   is timestamped, and a worker that sees a worker still not back [`WAKE_PATIENCE`] after its
//!   unpark yields its CPU, once per unpark: if the wakee waits behind it, it runs now, sees its
//!   waker on its CPU, and moves off. If it waits elsewhere, the yield costs one system call.
//! - **Leaving a busy spawner alone.** A thread outside the workers that spawns a burst of tasks
//!   (through a handle, or from `block_on`) bounds that burst when the workers keep up with it,
//!   and a worker beside it on its CPU halves its pace. With more busy threads than CPUs (W
//!   workers and the spawner on W CPUs), two workers should share a CPU rather than a worker and
//!   the spawner. So such a thread publishes its CPU every `OUTSIDE_INTERVAL` tasks it spawns (a
//!   CPU lookup and a clock read). For [`OUTSIDE_FRESH`] after that, while the injector holds
//!   fewer than [`OUTSIDE_BACKLOG`] tasks (the workers keep up), a worker does not move to that
//!   CPU, and a worker on it moves off, onto another worker's CPU if no CPU is free. When the
//!   workers fall behind, or the burst ends, the first two rules apply alone. Wakes from outside
//!   do not count: a thread that wakes tasks (a consumer that frees room for producers) works in
//!   turn with them, and keeping it alone made `queue_mpsc`'s eddy queue on the work-stealing
//!   host about 12% slower. In a copy of `spawn_many_remote` at W = 2, the median iteration took
//!   2.17 ms before this rule (the other rules moved workers beside the spawner) and 1.85 ms
//!   with it; at W = 1, 2.13 ms.
//!
//! Elsewhere than on Linux (and under loom) [`current_cpu`] knows no CPU and no rule acts.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// How long an unparked worker may take to come back before a busy worker yields to it.
pub(crate) const WAKE_PATIENCE: Duration = Duration::from_micros(50);
/// The least time between two moves of the same worker.
pub(crate) const MOVE_INTERVAL: Duration = Duration::from_millis(1);
/// A thread outside the workers publishes its CPU every this many tasks it spawns.
const OUTSIDE_INTERVAL: u32 = 32;
/// How long after its last publication a thread outside the workers counts as busy spawning.
pub(crate) const OUTSIDE_FRESH: Duration = Duration::from_micros(50);
/// While the injector holds this many tasks or more, the workers are behind a thread outside
/// them that spawns tasks, and that thread does not bound the burst.
pub(crate) const OUTSIDE_BACKLOG: usize = 256;

/// Whether the placement rules act on this platform.
const ACTIVE: bool = cfg!(all(target_os = "linux", not(loom)));

/// No CPU published.
const NO_CPU: usize = usize::MAX;
/// No unpark pending.
const NOT_WOKEN: u64 = 0;

/// What a worker publishes about where it runs; one per worker, in its shared state.
#[derive(Debug)]
pub(crate) struct Seat {
    /// The CPU the worker last saw itself on, or `NO_CPU`.
    cpu: AtomicUsize,
    /// When the worker was last unparked (nanoseconds since the executor's epoch, plus one), until
    /// it is back at work; `NOT_WOKEN` otherwise.
    woken_at: AtomicU64,
}

impl Seat {
    pub(crate) fn new() -> Seat {
        Seat { cpu: AtomicUsize::new(NO_CPU), woken_at: AtomicU64::new(NOT_WOKEN) }
    }

    /// The CPU the worker last published.
    pub(crate) fn cpu(&self) -> Option<usize> {
        Some(self.cpu.load(Ordering::Relaxed)).filter(|&cpu| cpu != NO_CPU)
    }

    pub(crate) fn publish(&self, cpu: usize) {
        if self.cpu.load(Ordering::Relaxed) != cpu {
            self.cpu.store(cpu, Ordering::Relaxed);
        }
    }

    /// Called by whoever unparks the worker.
    pub(crate) fn unparked(&self, epoch: Instant) {
        if ACTIVE {
            self.woken_at.store(since(epoch), Ordering::Relaxed);
        }
    }

    /// Called by the worker once it is back at work.
    pub(crate) fn back(&self) {
        if self.woken_at.load(Ordering::Relaxed) != NOT_WOKEN {
            self.woken_at.store(NOT_WOKEN, Ordering::Relaxed);
        }
    }

    /// Whether an unpark is pending.
    pub(crate) fn woken(&self) -> bool {
        self.woken_at.load(Ordering::Relaxed) != NOT_WOKEN
    }

    /// Whether the worker has been unparked for longer than [`WAKE_PATIENCE`] at `now` (as
    /// returned by [`since`]) without coming back; true once per unpark.
    pub(crate) fn take_late(&self, now: u64) -> bool {
        let woken_at = self.woken_at.load(Ordering::Relaxed);
        woken_at != NOT_WOKEN
            && now.saturating_sub(woken_at) > WAKE_PATIENCE.as_nanos() as u64
            && self
                .woken_at
                .compare_exchange(woken_at, NOT_WOKEN, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
    }
}

/// Where a thread outside the workers last spawned tasks from, and when: the thread that bounds a
/// burst of spawns from outside (see the module docs). Whichever such thread published last is
/// the one known; a thread counts its spawns to every executor together.
#[derive(Debug)]
pub(crate) struct Outside {
    /// `(microseconds since the executor's epoch) << 16 | (CPU + 1)`, or 0 if nothing was
    /// published yet.
    word: AtomicU64,
}

/// Low bits of [`Outside`]'s word: the CPU plus one.
const CPU_BITS: u32 = 16;

thread_local! {
    /// Tasks this thread spawned from outside the workers, counted to publish every
    /// `OUTSIDE_INTERVAL`th.
    static SPAWNED: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

impl Outside {
    pub(crate) fn new() -> Outside {
        Outside { word: AtomicU64::new(0) }
    }

    /// Called by a thread outside the workers after it spawned a task; publishes its CPU every
    /// `OUTSIDE_INTERVAL` spawns (a CPU lookup and a clock read).
    pub(crate) fn spawned(&self, epoch: Instant) {
        if !ACTIVE {
            return;
        }
        let count = SPAWNED.with(|spawned| {
            let count = spawned.get().wrapping_add(1);
            spawned.set(count);
            count
        });
        if count % OUTSIDE_INTERVAL != 0 {
            return;
        }
        if let Some(cpu) = current_cpu().filter(|&cpu| cpu < (1 << CPU_BITS) - 1) {
            let micros = since(epoch) / 1_000;
            self.word.store(micros << CPU_BITS | (cpu as u64 + 1), Ordering::Relaxed);
        }
    }

    /// The CPU of a thread outside the workers that spawned tasks within [`OUTSIDE_FRESH`] before
    /// `now` (as returned by [`since`]).
    pub(crate) fn busy_cpu(&self, now: u64) -> Option<usize> {
        let word = self.word.load(Ordering::Relaxed);
        let cpu = (word & ((1 << CPU_BITS) - 1)).checked_sub(1)?;
        let age = (now / 1_000).saturating_sub(word >> CPU_BITS);
        (age <= OUTSIDE_FRESH.as_micros() as u64).then_some(cpu as usize)
    }
}

/// Nanoseconds since `epoch`, plus one (never `NOT_WOKEN`).
pub(crate) fn since(epoch: Instant) -> u64 {
    u64::try_from(epoch.elapsed().as_nanos()).unwrap_or(u64::MAX - 1) + 1
}

/// The CPU the calling thread runs on, where the rules act.
///
/// From the C library's `sched_getcpu` (glibc reads it from the thread's `rseq` area, without a
/// system call), not from rustix's: rustix parses the vDSO itself, which a process under
/// valgrind does not have in a form it can read, and the first spawn from outside then crashed
/// with SIGSEGV (rustix issue 1559) under every valgrind tool.
#[cfg(all(target_os = "linux", not(loom)))]
pub(crate) fn current_cpu() -> Option<usize> {
    // SAFETY: `sched_getcpu` takes no arguments and touches no memory of the caller's.
    let cpu = unsafe { libc::sched_getcpu() };
    usize::try_from(cpu).ok()
}

/// Elsewhere no CPU is known, and no placement rule acts.
#[cfg(not(all(target_os = "linux", not(loom))))]
pub(crate) fn current_cpu() -> Option<usize> {
    None
}

/// Where a worker on `current` should go, among `allowed`: a CPU other than `current` that
/// `taken` does not claim (another awake worker runs there) and that is not `outside` (the CPU of
/// a thread outside the workers that bounds a burst it spawns). Failing that, if the worker is
/// on `outside`, any other CPU: that thread goes faster alone, even if two workers then share a
/// CPU. Picks the `turn`-th candidate (modulo their number), so that workers moving at the same
/// time tend to pick different CPUs.
// Used by `move_off` only where it moves threads: on Linux, outside the loom models.
#[cfg_attr(any(loom, not(target_os = "linux")), allow(dead_code))]
pub(crate) fn free_cpu(
    allowed: impl Iterator<Item = usize> + Clone,
    current: usize,
    turn: usize,
    taken: impl Fn(usize) -> bool,
    outside: Option<usize>,
) -> Option<usize> {
    let pick = |keep: &dyn Fn(usize) -> bool| {
        let candidates = allowed.clone().filter(|&cpu| cpu != current && keep(cpu));
        let count = candidates.clone().count();
        candidates.clone().nth(turn % count.max(1))
    };
    pick(&|cpu| !taken(cpu) && outside != Some(cpu)).or_else(|| {
        if outside == Some(current) {
            pick(&|_| true)
        } else {
            None
        }
    })
}

/// Moves the calling thread off `current` to a CPU of its affinity mask chosen by [`free_cpu`],
/// and restores the mask; returns the CPU it moved to.
///
/// The target is published in `seat` before the move. The move hands `current` to whatever
/// waited for it, maybe another worker about to look for a CPU of its own: it must see this
/// worker's CPU as taken, or the two can follow each other from CPU to CPU.
pub(crate) fn move_off(
    seat: &Seat,
    current: usize,
    turn: usize,
    taken: impl Fn(usize) -> bool,
    outside: Option<usize>,
) -> Option<usize> {
    #[cfg(all(target_os = "linux", not(loom)))]
    {
        use rustix::thread::{sched_getaffinity, sched_setaffinity, CpuSet};
        let mask = sched_getaffinity(None).ok()?;
        let allowed = (0..CpuSet::MAX_CPU).filter(|&cpu| mask.is_set(cpu));
        let target = free_cpu(allowed, current, turn, taken, outside)?;
        let mut only = CpuSet::new();
        only.set(target);
        seat.publish(target);
        if sched_setaffinity(None, &only).is_err() {
            seat.publish(current);
            return None;
        }
        // Restoring can only fail if the mask stopped being valid meanwhile (a cpuset shrank);
        // the thread then keeps the narrow mask, which the kernel also resets on such changes.
        let _ = sched_setaffinity(None, &mask);
        Some(target)
    }
    #[cfg(not(all(target_os = "linux", not(loom))))]
    {
        let _ = (seat, current, turn, taken, outside);
        None
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn a_free_cpu_is_allowed_not_current_and_not_taken() {
        let allowed = [0, 1, 2, 3].into_iter();
        assert_eq!(free_cpu(allowed.clone(), 0, 0, |cpu| cpu == 1, None), Some(2));
        assert_eq!(free_cpu(allowed.clone(), 0, 1, |cpu| cpu == 1, None), Some(3));
        assert_eq!(free_cpu(allowed.clone(), 0, 2, |cpu| cpu == 1, None), Some(2));
        assert_eq!(free_cpu(allowed.clone(), 3, 0, |_| true, None), None, "every other CPU is taken");
        assert_eq!(free_cpu([5].into_iter(), 5, 0, |_| false, None), None, "a pinned thread never moves");
    }

    #[test]
    fn a_worker_leaves_a_busy_outside_thread_alone() {
        let allowed = [0, 1].into_iter();
        // Worker 1 runs on CPU 1, the outside thread on CPU 0.
        let worker_on_1 = |cpu| cpu == 1;
        assert_eq!(free_cpu(allowed.clone(), 1, 0, |_| false, Some(0)), None, "not onto its CPU");
        assert_eq!(free_cpu(allowed.clone(), 0, 0, worker_on_1, Some(0)), Some(1), "off its CPU");
        assert_eq!(free_cpu(allowed.clone(), 0, 0, worker_on_1, None), None, "no need to double up");
        let allowed = [0, 1, 2].into_iter();
        assert_eq!(free_cpu(allowed.clone(), 0, 0, worker_on_1, Some(0)), Some(2), "a free CPU first");
        assert_eq!(free_cpu([0].into_iter(), 0, 0, |_| false, Some(0)), None, "a pinned thread never moves");
    }

    proptest! {
        #[test]
        fn free_cpu_finds_a_free_cpu_exactly_when_there_is_one(
            allowed in proptest::collection::btree_set(0usize..64, 0..16),
            taken in proptest::collection::btree_set(0usize..64, 0..16),
            current in 0usize..64,
            turn in 0usize..100,
            outside in proptest::option::of(0usize..64),
        ) {
            let taken = |cpu| taken.contains(&cpu);
            let picked = free_cpu(allowed.iter().copied(), current, turn, taken, outside);
            let others = || allowed.iter().copied().filter(|&cpu| cpu != current);
            let free_exists = others().any(|cpu| !taken(cpu) && Some(cpu) != outside);
            let exists = free_exists || (outside == Some(current) && others().next().is_some());
            prop_assert_eq!(picked.is_some(), exists);
            if let Some(cpu) = picked {
                prop_assert!(allowed.contains(&cpu) && cpu != current && Some(cpu) != outside);
                prop_assert!(!taken(cpu) || !free_exists, "a free CPU comes first");
            }
        }
    }

    #[test]
    fn a_late_wakee_is_reported_once_per_unpark() {
        let seat = Seat::new();
        let epoch = Instant::now() - Duration::from_secs(1);
        assert!(!seat.take_late(since(epoch)), "never unparked");
        seat.unparked(epoch);
        if !ACTIVE {
            return;
        }
        let now = since(epoch);
        assert!(!seat.take_late(now), "not late yet");
        let later = now + 2 * WAKE_PATIENCE.as_nanos() as u64;
        assert!(seat.take_late(later));
        assert!(!seat.take_late(later), "reported once");
        seat.unparked(epoch);
        seat.back();
        assert!(!seat.take_late(later), "back at work");
    }

    #[test]
    fn an_outside_thread_counts_as_busy_while_it_spawns() {
        // A thread of its own: the count of spawns is per thread.
        std::thread::spawn(|| {
            let outside = Outside::new();
            let epoch = Instant::now() - Duration::from_secs(1);
            for _ in 1..OUTSIDE_INTERVAL {
                outside.spawned(epoch);
            }
            assert_eq!(outside.busy_cpu(since(epoch)), None, "nothing published yet");
            outside.spawned(epoch);
            let now = since(epoch);
            if !ACTIVE {
                assert_eq!(outside.busy_cpu(now), None);
                return;
            }
            assert!(outside.busy_cpu(now).is_some(), "published with the last spawn");
            let later = now + 2 * OUTSIDE_FRESH.as_nanos() as u64;
            assert_eq!(outside.busy_cpu(later), None, "no longer busy");
        })
        .join()
        .unwrap();
    }

    /// The move really migrates the thread, and leaves its mask as it was.
    #[cfg(target_os = "linux")]
    #[test]
    fn moving_off_migrates_the_thread_and_restores_its_mask() {
        use rustix::thread::{sched_getaffinity, CpuSet};
        let sched_getcpu = || current_cpu().expect("Linux knows the CPU");
        std::thread::spawn(move || {
            let mask = sched_getaffinity(None).unwrap();
            if mask.count() < 2 {
                eprintln!("skipped: this thread may run on one CPU only");
                return;
            }
            let current = sched_getcpu();
            let seat = Seat::new();
            let target = move_off(&seat, current, 0, |_| false, None).expect("another CPU is allowed");
            assert_ne!(target, current);
            assert_eq!(sched_getcpu(), target, "the thread runs on the CPU it moved to");
            assert_eq!(seat.cpu(), Some(target), "and published it");
            let after = sched_getaffinity(None).unwrap();
            assert!((0..CpuSet::MAX_CPU).all(|cpu| after.is_set(cpu) == mask.is_set(cpu)));
            // Every other allowed CPU taken: nowhere to go.
            assert_eq!(move_off(&seat, target, 0, |cpu| cpu != target, None), None);
            assert_eq!(sched_getcpu(), target);
        })
        .join()
        .unwrap();
    }
}
