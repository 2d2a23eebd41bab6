//! A crash worker process (`src/bin/crash_worker.rs`) as the ownership
//! tests drive it: the lines it prints as they come, signals, and what a
//! store must hold after two owners.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use oplife_shell::{OpsLifecycleError, RestorePolicy, RuntimeOpsLifecycleRegistry};

use crate::workload::{DurableView, Rng, Step, crash_config, reopened_view};

/// A worker process and the lines it prints, as they come.
#[derive(Debug)]
pub struct Worker {
    /// The process.
    pub child: Child,
    lines: mpsc::Receiver<String>,
}

impl Worker {
    /// Starts `program` (the crash worker) with `args` and `env`.
    ///
    /// # Errors
    ///
    /// When it cannot be started.
    pub fn spawn(program: &str, args: &[String], env: &[(&str, String)]) -> std::io::Result<Worker> {
        let mut command = Command::new(program);
        command.args(args).stdout(Stdio::piped()).stderr(Stdio::inherit());
        for (name, value) in env {
            command.env(name, value);
        }
        let mut child = command.spawn()?;
        let stdout = child.stdout.take().ok_or_else(|| std::io::Error::other("no stdout"))?;
        let (send, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        Ok(Worker { child, lines })
    }

    /// The next line, waiting up to twenty seconds.
    pub fn next(&self) -> Option<String> {
        self.lines.recv_timeout(Duration::from_secs(20)).ok()
    }

    /// Waits for the `n`th acknowledgement: false if the worker stopped
    /// first.
    pub fn wait_for_ack(&self, n: u64) -> bool {
        let ack = format!("ack {n}");
        while let Some(line) = self.next() {
            if line == ack {
                return true;
            }
        }
        false
    }

    /// Every line printed so far, without waiting.
    pub fn drain(&self) -> Vec<String> {
        self.lines.try_iter().collect()
    }

    /// Sends it `signal` (`-STOP`, `-CONT`…): whether `kill` succeeded.
    pub fn signal(&self, signal: &str) -> bool {
        Command::new("kill").args([signal, &self.child.id().to_string()]).status().is_ok_and(|s| s.success())
    }

    /// Kills it (SIGKILL) and returns every line it printed and was not
    /// read yet.
    pub fn kill(mut self) -> Vec<String> {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // The reader thread ends with the pipe: collect what is left.
        self.lines.iter().collect()
    }
}

/// The last number printed after `prefix` (`ack `, `durable `) among
/// `lines` (0 without one).
pub fn last(lines: &[String], prefix: &str) -> u64 {
    lines.iter().filter_map(|l| l.strip_prefix(prefix)).filter_map(|n| n.parse().ok()).max().unwrap_or(0)
}

/// What a store must hold after the first `a` calls of the workload of
/// `seed_a` made by one owner and, after a takeover (which ends the first
/// owner's unfinished operations as a reopening does), the first `b` calls
/// of the workload of `seed_b`.
///
/// # Errors
///
/// A call of either workload failed.
pub fn two_owners(seed_a: u64, a: u64, seed_b: u64, b: u64) -> Result<DurableView, String> {
    let text = |e: OpsLifecycleError| e.to_string();
    let first = RuntimeOpsLifecycleRegistry::with_config(crash_config());
    let mut rng = Rng::new(seed_a);
    for _ in 0..a {
        Step::draw(&mut rng, true).run(seed_a, &first).map_err(text)?;
    }
    let image = first.capture().map_err(text)?;
    let second = RuntimeOpsLifecycleRegistry::restore(image, RestorePolicy::default()).map_err(|e| e.to_string())?;
    for c in 0..3 {
        let name = format!("consumer {c}");
        let at = first.cursor(&name).map_err(text)?;
        if at > 0 {
            second.advance_cursor(&name, at).map_err(text)?;
        }
    }
    let mut rng = Rng::new(seed_b);
    for _ in 0..b {
        Step::draw(&mut rng, true).run(seed_b, &second).map_err(text)?;
    }
    reopened_view(&second)
}
