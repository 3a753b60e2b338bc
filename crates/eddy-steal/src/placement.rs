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
//! iteration for a CPU, against 0–0.15 ms otherwise).
//!
//! Two rules undo it:
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
//!
//! Known cost: the rules see workers only. While a thread outside the workers spawns a burst of
//! tasks, a move can land a worker on that thread's CPU and slow the thread that bounds the
//! burst: `spawn_many_remote` at W = 2 takes 2.75 ms per iteration with the rules and 2.03 ms
//! without (docs/BENCHMARKS.md, "Where eddy stands").
//!
//! Elsewhere than on Linux (and under loom) [`current_cpu`] knows no CPU and neither rule acts.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// How long an unparked worker may take to come back before a busy worker yields to it.
pub(crate) const WAKE_PATIENCE: Duration = Duration::from_micros(50);
/// The least time between two moves of the same worker.
pub(crate) const MOVE_INTERVAL: Duration = Duration::from_millis(1);

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

/// Nanoseconds since `epoch`, plus one (never `NOT_WOKEN`).
pub(crate) fn since(epoch: Instant) -> u64 {
    u64::try_from(epoch.elapsed().as_nanos()).unwrap_or(u64::MAX - 1) + 1
}

/// The CPU the calling thread runs on, where the rules act.
pub(crate) fn current_cpu() -> Option<usize> {
    #[cfg(all(target_os = "linux", not(loom)))]
    return Some(rustix::thread::sched_getcpu());
    #[cfg(not(all(target_os = "linux", not(loom))))]
    return None;
}

/// Among `allowed`, the CPUs other than `current` that `taken` does not claim; picks the
/// `turn`-th of them (modulo their number), so that workers moving at the same time tend to pick
/// different ones.
pub(crate) fn free_cpu(
    allowed: impl Iterator<Item = usize> + Clone,
    current: usize,
    turn: usize,
    taken: impl Fn(usize) -> bool,
) -> Option<usize> {
    let free = allowed.filter(|&cpu| cpu != current && !taken(cpu));
    let count = free.clone().count();
    if count == 0 {
        return None;
    }
    free.clone().nth(turn % count)
}

/// Moves the calling thread off `current` to a CPU of its affinity mask that `taken` does not
/// claim, and restores the mask; returns the CPU it moved to.
pub(crate) fn move_off(current: usize, turn: usize, taken: impl Fn(usize) -> bool) -> Option<usize> {
    #[cfg(all(target_os = "linux", not(loom)))]
    {
        use rustix::thread::{sched_getaffinity, sched_setaffinity, CpuSet};
        let mask = sched_getaffinity(None).ok()?;
        let allowed = (0..CpuSet::MAX_CPU).filter(|&cpu| mask.is_set(cpu));
        let target = free_cpu(allowed, current, turn, taken)?;
        let mut only = CpuSet::new();
        only.set(target);
        sched_setaffinity(None, &only).ok()?;
        // Restoring can only fail if the mask stopped being valid meanwhile (a cpuset shrank);
        // the thread then keeps the narrow mask, which the kernel also resets on such changes.
        let _ = sched_setaffinity(None, &mask);
        Some(target)
    }
    #[cfg(not(all(target_os = "linux", not(loom))))]
    {
        let _ = (current, turn, taken);
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
        assert_eq!(free_cpu(allowed.clone(), 0, 0, |cpu| cpu == 1), Some(2));
        assert_eq!(free_cpu(allowed.clone(), 0, 1, |cpu| cpu == 1), Some(3));
        assert_eq!(free_cpu(allowed.clone(), 0, 2, |cpu| cpu == 1), Some(2));
        assert_eq!(free_cpu(allowed.clone(), 3, 0, |_| true), None, "every other CPU is taken");
        assert_eq!(free_cpu([5].into_iter(), 5, 0, |_| false), None, "a pinned thread never moves");
    }

    proptest! {
        #[test]
        fn free_cpu_finds_a_free_cpu_exactly_when_there_is_one(
            allowed in proptest::collection::btree_set(0usize..64, 0..16),
            taken in proptest::collection::btree_set(0usize..64, 0..16),
            current in 0usize..64,
            turn in 0usize..100,
        ) {
            let picked = free_cpu(allowed.iter().copied(), current, turn, |cpu| taken.contains(&cpu));
            let exists = allowed.iter().any(|cpu| *cpu != current && !taken.contains(cpu));
            prop_assert_eq!(picked.is_some(), exists);
            if let Some(cpu) = picked {
                prop_assert!(allowed.contains(&cpu) && cpu != current && !taken.contains(&cpu));
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

    /// The move really migrates the thread, and leaves its mask as it was.
    #[cfg(target_os = "linux")]
    #[test]
    fn moving_off_migrates_the_thread_and_restores_its_mask() {
        use rustix::thread::{sched_getaffinity, sched_getcpu, CpuSet};
        std::thread::spawn(|| {
            let mask = sched_getaffinity(None).unwrap();
            if mask.count() < 2 {
                eprintln!("skipped: this thread may run on one CPU only");
                return;
            }
            let current = sched_getcpu();
            let target = move_off(current, 0, |_| false).expect("another CPU is allowed");
            assert_ne!(target, current);
            assert_eq!(sched_getcpu(), target, "the thread runs on the CPU it moved to");
            let after = sched_getaffinity(None).unwrap();
            assert!((0..CpuSet::MAX_CPU).all(|cpu| after.is_set(cpu) == mask.is_set(cpu)));
            // Every other allowed CPU taken: nowhere to go.
            assert_eq!(move_off(target, 0, |cpu| cpu != target), None);
            assert_eq!(sched_getcpu(), target);
        })
        .join()
        .unwrap();
    }
}
