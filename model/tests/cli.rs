//! The command line as a newcomer meets it: help on stdout with exit 0,
//! usage errors with exit 2, a violation with exit 1, and configurations
//! that cannot reach something reported as not applicable, not failed.

#![allow(clippy::unwrap_used, clippy::panic)] // test code: a failed unwrap is a failed test

use std::process::{Command, Output};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_oplife-model")).args(args).output().unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn help_and_version_go_to_stdout_with_exit_0() {
    for args in
        [&["--help"][..], &["-h"], &["help"], &["check", "--help"], &["explore", "--help"], &["table", "--help"]]
    {
        let output = run(args);
        assert_eq!(output.status.code(), Some(0), "{args:?}");
        assert!(stdout(&output).contains("Usage:"), "{args:?}: {}", stdout(&output));
    }
    let check = stdout(&run(&["check", "--help"]));
    for flag in [
        "--ops",
        "--max-completed",
        "--max-concurrent",
        "--waits",
        "--watchers",
        "--progress",
        "--feed",
        "--deep",
        "--crashes",
        "--simulate",
        "--seed",
        "--threads",
        "--mutant",
        "--breadth-first",
    ] {
        assert!(check.contains(flag), "check --help does not explain {flag}");
    }
    assert!(check.contains("Exit status"));
    let version = run(&["--version"]);
    assert_eq!(version.status.code(), Some(0));
    assert!(stdout(&version).contains(env!("CARGO_PKG_VERSION")));
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        &["check", "--symmetry", "--no-symmetry"][..],
        &["check", "--restarts", "--no-restarts"],
        &["check", "--crashes", "--no-crashes"],
        &["check", "--ops", "3", "--ops", "2"],
        &["check", "--ops", "7"],
        &["check", "--max-concurrent", "0"],
        &["check", "--threads", "1000"],
        &["table", "--matrix", "--mermaid"],
        &["check", "--mutant", "no-such-mutant"],
        &["check", "--simulate", "--breadth-first"],
        &["frobnicate"],
    ] {
        let output = run(args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(String::from_utf8_lossy(&output.stderr).contains("error"), "{args:?}");
    }
}

#[test]
fn a_configuration_that_cannot_reach_something_passes_and_says_so() {
    let output = run(&["check", "--ops", "1", "--no-mutants", "--threads", "1"]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    let text = stdout(&output);
    assert!(
        text.contains("not applicable here  sometimes: a record is evicted (no state of this configuration shows it")
    );
    assert!(text.contains("RESULT: ok"));
}

#[test]
fn the_flags_that_once_raised_false_alarms_end_ok() {
    // Neither configuration can reach some examples ("a refused call is a
    // repeat" without retained records, "a wait is satisfied after its op
    // was evicted" with one live operation): they once ended FAILED.
    for flag in [["--max-completed", "0"], ["--max-concurrent", "1"]] {
        let output = run(&["check", "--no-mutants", flag[0], flag[1]]);
        let text = stdout(&output);
        assert_eq!(output.status.code(), Some(0), "{flag:?}: {text}");
        assert!(text.contains("RESULT: ok"), "{flag:?}: {text}");
        assert!(!text.contains("NEVER REACHED"), "{flag:?}: {text}");
        assert!(text.contains("not applicable here"), "{flag:?}: {text}");
    }
}

#[test]
fn both_searches_reach_the_same_states_and_say_what_their_depth_means() {
    let args = ["check", "--ops", "2", "--waits", "1", "--watchers", "1", "--no-mutants"];
    let unique = |text: &str| text.lines().find(|line| line.starts_with("unique states:")).map(str::to_owned);
    let depth_first = stdout(&run(&args));
    let breadth_first = stdout(&run(&[&args[..], &["--breadth-first"]].concat()));
    assert!(depth_first.contains("longest path:") && !depth_first.contains("max depth:"), "{depth_first}");
    assert!(breadth_first.contains("max depth:") && !breadth_first.contains("longest path:"), "{breadth_first}");
    assert!(unique(&depth_first).is_some());
    assert_eq!(unique(&depth_first), unique(&breadth_first));
    assert!(depth_first.contains("RESULT: ok") && breadth_first.contains("RESULT: ok"));
}

#[test]
fn a_violated_property_exits_1_with_a_counterexample() {
    let output =
        run(&["check", "--mutant", "complete-forgets-active-count", "--ops", "2", "--waits", "0", "--no-mutants"]);
    assert_eq!(output.status.code(), Some(1), "{}", stdout(&output));
    let text = stdout(&output);
    assert!(text.contains("VIOLATED"));
    assert!(text.contains("shortest counterexample"));
    assert!(text.contains("RESULT: FAILED"));
}

#[test]
fn explore_refuses_a_busy_port_with_exit_2() {
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = busy.local_addr().unwrap().port().to_string();
    let output = run(&["explore", "--port", &port]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("cannot serve"));
}

#[test]
fn a_crash_mutant_is_found_by_a_custom_check_with_crashes() {
    let args = ["check", "--mutant", "cancel-not-journaled", "--ops", "2", "--waits", "0", "--no-mutants"];
    let without = run(&args);
    assert_eq!(without.status.code(), Some(0), "without --crashes the journal is not checked: {}", stdout(&without));
    let with = run(&[&args[..], &["--crashes"]].concat());
    assert_eq!(with.status.code(), Some(1), "{}", stdout(&with));
    assert!(stdout(&with).contains("VIOLATED  18 a crash loses no acknowledged call"), "{}", stdout(&with));
}

#[test]
fn simulate_prints_its_seed_and_finds_a_mutant_with_a_shrunk_call_list() {
    let ok = run(&["check", "--simulate", "--seed", "7", "--walks", "50", "--no-mutants"]);
    assert_eq!(ok.status.code(), Some(0), "{}", stdout(&ok));
    assert!(stdout(&ok).contains("replay with --seed 7"), "{}", stdout(&ok));
    let caught = run(&["check", "--simulate", "--seed", "7", "--mutant", "peer-ready-for-background"]);
    assert_eq!(caught.status.code(), Some(1), "{}", stdout(&caught));
    let text = stdout(&caught);
    assert!(text.contains("VIOLATED  2 peer-ready only for kinds with a peer"), "{text}");
    assert!(text.contains("  3. peer_ready(op"), "{text}");
    assert_eq!(run(&["check", "--walks", "5"]).status.code(), Some(2), "--walks needs --simulate");
}
