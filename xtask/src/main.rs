//! eddy's project automation: `cargo xtask <command>`.
//!
//! - `cargo xtask test` runs the whole test matrix, the same steps CI runs:
//!   1. `cargo fmt --check`;
//!   2. `cargo clippy` on every target with warnings denied;
//!   3. `cargo doc` with warnings denied;
//!   4. each crate's own tests with `-p`, so a crate whose `Cargo.toml` forgets a dependency
//!      that the rest of the workspace happens to enable fails here;
//!   5. the facade's test suite once per executor (`EDDY_TEST_EXECUTOR`);
//!   6. the workspace tests and doc tests together, doc tests with warnings denied;
//!   7. the loom models of eddy-steal's sleep/wake protocol (`--cfg loom`) and of eddy-sync's
//!      one-shot channel (`--cfg eddy_sync_loom`), each in its own target dir;
//!   8. every example built in release mode and run as a smoke test.
//! - `cargo xtask test --quick` runs steps 1, 2 and 6: a fast check before a commit.
//! - `cargo xtask bench [--filter NAME] [--json PATH] [--workers N] [--runs N] [--scaling]
//!   [--no-asyncio]` runs the benchmark suite (`bench/benches/suite.rs`) in release mode and
//!   prints its tables.
//!
//! Each step streams its output; test counts from cargo's `test result:` lines are summed
//! into a closing `N passed, N failed` line. The first failing step stops the run.

use std::env;
use std::ffi::OsStr;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{self, Command, ExitCode, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// The executors the facade's suite runs under (values of `EDDY_TEST_EXECUTOR`).
const EXECUTORS: &[&str] = &["local", "steal"];

/// Longest any one step may take before it is killed and counted as failed.
const STEP_LIMIT: Duration = Duration::from_secs(15 * 60);

/// Longest one example may run as a smoke test.
const EXAMPLE_LIMIT: Duration = Duration::from_secs(90);

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match args.as_slice() {
        ["test"] => test(false),
        ["test", "--quick"] => test(true),
        ["bench", rest @ ..] => bench(rest),
        ["help" | "--help" | "-h"] | [] => {
            print_help();
            return ExitCode::SUCCESS;
        }
        _ => {
            eprintln!("xtask: unknown arguments {args:?}\n");
            print_help();
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("\nxtask: FAILED: {err}");
            ExitCode::FAILURE
        }
    }
}

fn print_help() {
    println!(
        "usage: cargo xtask <command>\n\n\
         commands:\n  \
         test           run the full test matrix (what CI runs)\n  \
         test --quick   fmt, clippy and the workspace tests only\n  \
         bench [--filter NAME] [--json PATH] [--workers N] [--runs N] [--scaling] [--no-asyncio]\n                 \
         eddy against tokio, smol and asyncio, in release mode"
    );
}

/// Sums of the `test result:` lines seen so far.
#[derive(Default)]
struct Tally {
    passed: u64,
    failed: u64,
    ignored: u64,
}

fn test(quick: bool) -> Result<(), String> {
    let root = project_root();
    env::set_current_dir(&root).map_err(|e| format!("cannot enter {}: {e}", root.display()))?;
    let started = Instant::now();
    let mut tally = Tally::default();

    step(&mut tally, "rustfmt", cargo(["fmt", "--all", "--", "--check"]))?;
    step(
        &mut tally,
        "clippy",
        cargo(["clippy", "--workspace", "--all-targets", "--locked", "--", "-D", "warnings"]),
    )?;
    if !quick {
        let mut doc = cargo(["doc", "--workspace", "--no-deps", "--locked"]);
        doc.env("RUSTDOCFLAGS", "-D warnings");
        step(&mut tally, "docs", doc)?;
        for krate in crates(&root)? {
            step(
                &mut tally,
                &format!("tests of {krate} alone"),
                cargo(["test", "--locked", "-p", &krate, "--lib", "--tests"]),
            )?;
        }
        for executor in EXECUTORS {
            let mut facade = cargo(["test", "--locked", "-p", "eddy", "--tests"]);
            facade.env("EDDY_TEST_EXECUTOR", executor);
            step(&mut tally, &format!("facade tests on the {executor} executor"), facade)?;
        }
    }
    let mut workspace = cargo(["test", "--workspace", "--locked"]);
    workspace.env("RUSTDOCFLAGS", "-D warnings");
    step(&mut tally, "workspace tests and doc tests", workspace)?;
    if !quick {
        // (crate, cfg, target dir, step name): each under its own cfg, in its own target dir.
        let models = [
            ("eddy-steal", "loom", "loom", "loom model of the sleep/wake protocol"),
            ("eddy-sync", "eddy_sync_loom", "loom-sync", "loom models of the one-shot channel"),
        ];
        for (krate, cfg, dir, name) in models {
            let mut loom = cargo(["test", "--locked", "--release", "-p", krate, "--lib"]);
            loom.env("RUSTFLAGS", format!("--cfg {cfg}"))
                .env("CARGO_TARGET_DIR", root.join("target").join(dir));
            step(&mut tally, name, loom)?;
        }
        examples(&root, &mut tally)?;
    }

    println!("\nxtask: matrix finished in {:.0?}; {} ignored", started.elapsed(), tally.ignored);
    println!("{} passed, {} failed", tally.passed, tally.failed);
    Ok(())
}

/// Runs the benchmark suite in release mode, passing `args` through.
fn bench(args: &[&str]) -> Result<(), String> {
    let root = project_root();
    env::set_current_dir(&root).map_err(|e| format!("cannot enter {}: {e}", root.display()))?;
    let mut cmd = cargo(["bench", "--locked", "-p", "eddy-bench", "--bench", "suite", "--"]);
    cmd.args(args);
    let mut tally = Tally::default();
    run_limited(&mut tally, "benchmark suite", cmd, STEP_LIMIT)
}

/// Builds every example in release mode, then runs each with a time limit.
fn examples(root: &Path, tally: &mut Tally) -> Result<(), String> {
    let names = example_names(root)?;
    step(tally, "build examples", cargo(["build", "--release", "--locked", "--examples"]))?;
    for name in names {
        let mut run = cargo(["run", "--release", "--locked", "--quiet", "--example", &name]);
        run.env("EDDY_EXAMPLE_SMOKE", "1");
        run_limited(tally, &format!("example {name}"), run, EXAMPLE_LIMIT)?;
        tally.passed += 1;
    }
    Ok(())
}

fn cargo<I, S>(args: I) -> Command
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut cmd = Command::new(env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cmd.args(args);
    cmd
}

fn step(tally: &mut Tally, name: &str, cmd: Command) -> Result<(), String> {
    run_limited(tally, name, cmd, STEP_LIMIT)
}

/// Runs `cmd`, streaming its output, counting its test results, and killing it after `limit`.
fn run_limited(tally: &mut Tally, name: &str, mut cmd: Command, limit: Duration) -> Result<(), String> {
    println!("\n==> {name}\n$ {}", describe(&cmd));
    let started = Instant::now();
    let mut child = cmd.stdout(Stdio::piped()).spawn().map_err(|e| format!("{name}: cannot start: {e}"))?;
    let stdout = child.stdout.take().expect("stdout is piped");
    let (lines_tx, lines_rx) = mpsc::channel();
    let reader = thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            println!("{line}");
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|e| format!("{name}: {e}"))? {
            break status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("{name}: still running after {limit:?}; killed"));
        }
        thread::sleep(Duration::from_millis(50));
    };
    let _ = reader.join();
    for line in lines_rx.try_iter() {
        count_results(&line, tally);
    }
    println!("<== {name}: {} in {:.1?}", if status.success() { "ok" } else { "FAILED" }, started.elapsed());
    if status.success() {
        Ok(())
    } else {
        Err(format!("{name}: {status}"))
    }
}

/// Adds the counts of a libtest summary line, `test result: ok. 3 passed; 0 failed; 1 ignored; ...`.
fn count_results(line: &str, tally: &mut Tally) {
    let Some(rest) = line.trim().strip_prefix("test result: ") else { return };
    for part in rest.split(['.', ';']) {
        let mut words = part.split_whitespace();
        let (Some(number), Some(kind)) = (words.next(), words.next()) else { continue };
        let Ok(number) = number.parse::<u64>() else { continue };
        match kind {
            "passed" => tally.passed += number,
            "failed" => tally.failed += number,
            "ignored" => tally.ignored += number,
            _ => {}
        }
    }
}

fn describe(cmd: &Command) -> String {
    let envs: Vec<String> = cmd
        .get_envs()
        .filter_map(|(k, v)| Some(format!("{}={}", k.to_string_lossy(), v?.to_string_lossy())))
        .collect();
    let args: Vec<String> = cmd.get_args().map(|a| a.to_string_lossy().into_owned()).collect();
    let program = Path::new(cmd.get_program()).file_name().unwrap_or_default().to_string_lossy().into_owned();
    [envs, vec![program], args].concat().join(" ")
}

/// The crates under `crates/`, by directory name (which is each package's name).
fn crates(root: &Path) -> Result<Vec<String>, String> {
    list(&root.join("crates"), |p| p.join("Cargo.toml").is_file())
}

/// The examples under `examples/`, by file stem.
fn example_names(root: &Path) -> Result<Vec<String>, String> {
    let mut names = list(&root.join("examples"), |p| p.extension().is_some_and(|e| e == "rs"))?;
    for name in &mut names {
        if let Some(stem) = name.strip_suffix(".rs") {
            *name = stem.to_owned();
        }
    }
    Ok(names)
}

fn list(dir: &Path, keep: impl Fn(&Path) -> bool) -> Result<Vec<String>, String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| keep(p))
        .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .collect();
    names.sort();
    Ok(names)
}

fn project_root() -> PathBuf {
    let manifest = env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from).unwrap_or_else(|| {
        eprintln!("xtask: run me through `cargo xtask`");
        process::exit(2)
    });
    manifest.parent().expect("xtask lives one level below the root").to_path_buf()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_libtest_summaries() {
        let mut tally = Tally::default();
        count_results(
            "test result: ok. 12 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.1s",
            &mut tally,
        );
        count_results(
            "test result: FAILED. 3 passed; 2 failed; 0 ignored; 0 measured; 0 filtered out",
            &mut tally,
        );
        count_results("running 3 tests", &mut tally);
        assert_eq!((tally.passed, tally.failed, tally.ignored), (15, 2, 1));
    }
}
