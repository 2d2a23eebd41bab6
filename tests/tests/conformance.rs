//! Conformance: random sequences of registry calls, valid or not, run
//! against the shell and against the machine alone. After every step the
//! return values, the outcomes delivered to watchers and waits, and the
//! snapshots must agree. A failure is shrunk by proptest and reported as a
//! numbered call list with the first difference.

#![allow(clippy::unwrap_used, clippy::panic)] // test code: a failed unwrap is a failed test

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use oplife_machine::{Limits, Machine, Output, Request};
use oplife_shell::{
    OperationCompletionWatch, OperationId, OpsLifecycleConfig, OpsLifecycleError, OpsLifecycleRegistry, RunId,
    RuntimeOpsLifecycleRegistry, SharedTerminalOutcome, ShellDomain, WaitAllFuture, WaitAllResult, WaitRequestId,
};
use oplife_spec::Input;
use proptest::prelude::*;

const POOL: usize = 4;

#[path = "conformance/calls.rs"]
mod calls;

use calls::{Call, call, on_shell, payload};

/// What the shell and the reference answered one call.
type Answers = (Result<(), OpsLifecycleError>, Result<(), OpsLifecycleError>);

/// The outcomes a satisfied wait reports.
type Outcomes = Vec<(OperationId, SharedTerminalOutcome)>;

/// The machine alone, with the bookkeeping a caller of it would do.
struct Reference {
    machine: Machine<ShellDomain>,
    waits: Vec<(WaitRequestId, Option<Outcomes>)>,
    /// Each watch registered: the operation, the outcome delivered, and
    /// whether the caller dropped it before that.
    watches: Vec<(OperationId, Option<SharedTerminalOutcome>, bool)>,
}

/// The shell, with the watches and wait futures the caller holds.
struct Shell {
    registry: &'static RuntimeOpsLifecycleRegistry,
    dropped: Vec<bool>,
    waits: Vec<Option<WaitAllFuture<'static>>>,
    wait_results: Vec<Option<Result<WaitAllResult, OpsLifecycleError>>>,
    watches: Vec<Option<OperationCompletionWatch>>,
}

fn poll_now<T>(future: &mut Pin<Box<dyn Future<Output = T> + Send + '_>>) -> Option<T> {
    match future.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(value) => Some(value),
        Poll::Pending => None,
    }
}

struct Harness {
    ids: Vec<OperationId>,
    reference: Reference,
    shell: Shell,
    log: Vec<String>,
}

impl Harness {
    fn new(max_completed: usize, max_concurrent: Option<usize>) -> Self {
        let config =
            OpsLifecycleConfig { max_completed, max_concurrent, feed_retention: 3, ..OpsLifecycleConfig::default() };
        // Wait futures borrow the registry and live next to it in this
        // harness, so the registry is leaked: one small registry per case.
        let registry: &'static RuntimeOpsLifecycleRegistry =
            Box::leak(Box::new(RuntimeOpsLifecycleRegistry::with_config(config)));
        Harness {
            ids: (0..=POOL).map(|_| OperationId::new()).collect(),
            reference: Reference {
                machine: Machine::new(Limits { max_completed, max_concurrent, feed_retention: 3 }),
                waits: Vec::new(),
                watches: Vec::new(),
            },
            shell: Shell {
                registry,
                dropped: Vec::new(),
                waits: Vec::new(),
                wait_results: Vec::new(),
                watches: Vec::new(),
            },
            log: Vec::new(),
        }
    }

    fn fail(&self, difference: String) -> String {
        let mut text = String::from("calls:\n");
        for (i, line) in self.log.iter().enumerate() {
            text.push_str(&format!("  {}. {line}\n", i + 1));
        }
        text.push_str(&format!("first difference after call {}: {difference}", self.log.len()));
        text
    }

    /// Applies to the reference; records what it delivers.
    fn reference(&mut self, request: Request<ShellDomain>) -> Result<(), OpsLifecycleError> {
        let outputs = self.reference.machine.apply(request).map_err(OpsLifecycleError::from)?;
        for output in outputs {
            match output {
                Output::WatchPending { id } => self.reference.watches.push((id, None, false)),
                Output::WatchResolved { id, outcome } => self.reference.watches.push((id, Some(outcome), false)),
                Output::WatchersNotified { id, outcome, count } => {
                    let mut notified = 0;
                    for (watched, got, dropped) in &mut self.reference.watches {
                        if *watched == id && got.is_none() && !*dropped {
                            *got = Some(outcome.clone());
                            notified += 1;
                        }
                    }
                    // Dropped watchers are neither counted nor notified.
                    if notified != count {
                        return Err(OpsLifecycleError::Internal(format!("{count} watchers notified, {notified} held")));
                    }
                }
                Output::WaitSatisfied(report) => {
                    if let Some(slot) = self.reference.waits.iter_mut().find(|(w, _)| *w == report.wait) {
                        slot.1 = Some(report.outcomes);
                    } else {
                        self.reference.waits.push((report.wait, Some(report.outcomes)));
                    }
                }
                Output::WaitPending { wait } => self.reference.waits.push((wait, None)),
                _ => {}
            }
        }
        Ok(())
    }

    /// Drops watch `k`. A watch still pending releases its watcher, which
    /// the reference caller tells the machine by hand (the shell does so at
    /// its next call).
    fn drop_watch(&mut self, k: usize) -> Result<Answers, String> {
        let Some(watch) = self.shell.watches.get_mut(k).and_then(Option::take) else { return Ok((Ok(()), Ok(()))) };
        drop(watch);
        let (id, got, dropped) = &mut self.reference.watches[k];
        let pending = got.is_none() && !*dropped;
        *dropped = true;
        let id = *id;
        if pending && self.reference(Request::ReleaseWatcher { id }).is_err() {
            return Err(self.fail(format!("the machine had no pending watcher of {id} to release")));
        }
        Ok((Ok(()), Ok(())))
    }

    fn step(&mut self, call: &Call) -> Result<(), String> {
        self.log.push(format!("{call:?}"));
        let id = |i: usize| self.ids[i];
        let registry = self.shell.registry;
        let (shell, reference): Answers = match call.clone() {
            // Releasing a watcher is exposed by dropping a watch: the caller
            // drops the first watch it holds on that operation, if any.
            Call::Op(Input::ReleaseWatcher, i, _) => {
                let held = self
                    .reference
                    .watches
                    .iter()
                    .position(|(watched, got, dropped)| *watched == id(i) && got.is_none() && !*dropped);
                match held {
                    Some(k) => self.drop_watch(k)?,
                    None => (Ok(()), Ok(())),
                }
            }
            Call::Op(input, i, seed) => {
                let payload = payload(input, id(i), seed);
                let request = Request::for_operation(input, id(i), payload.clone())
                    .ok_or_else(|| self.fail(format!("{input} is not a per-operation request")))?;
                let shell = on_shell(registry, input, id(i), payload).map(|watch| {
                    if let Some(watch) = watch {
                        self.shell.watches.push(Some(watch));
                    }
                });
                (shell, self.reference(request))
            }
            Call::TerminateOwner => (
                registry.terminate_owner("bye".into()),
                self.reference(Request::TerminateOwner { reason: "bye".into() }),
            ),
            Call::Collect => {
                let shell = registry.collect_completed();
                let before: Vec<OperationId> = self.reference.machine.state().retained().copied().collect();
                let reference = self.reference(Request::CollectCompleted);
                let expected: Vec<OperationId> = before;
                match &shell {
                    Ok(list) if list.iter().map(|(id, _)| *id).collect::<Vec<_>>() != expected => {
                        return Err(
                            self.fail(format!("collect_completed handed over {list:?}, machine retained {expected:?}"))
                        );
                    }
                    _ => {}
                }
                (shell.map(|_| ()), reference)
            }
            Call::Wait(indices) => {
                let ids: Vec<OperationId> = indices.iter().map(|i| id(*i)).collect();
                let mut future = registry.wait_all(&RunId::new(), &ids);
                let ready = poll_now(&mut future);
                let shell = match &ready {
                    Some(Err(error)) => Err(error.clone()),
                    _ => Ok(()),
                };
                let reference =
                    self.reference(Request::BeginWait { wait: WaitRequestId::new(), ids, run: RunId::new() });
                if shell.is_ok() {
                    self.shell.wait_results.push(ready);
                    self.shell.waits.push(Some(future));
                    self.shell.dropped.push(false);
                }
                (shell, reference)
            }
            Call::DropWait(k) => {
                // Dropping a future that has not resolved cancels its wait
                // in the shell; the reference caller cancels it by hand.
                let pending =
                    self.shell.waits.get(k).is_some_and(|w| w.is_some()) && self.shell.wait_results[k].is_none();
                if pending {
                    self.shell.waits[k] = None;
                    self.shell.dropped[k] = true;
                    let wait = self.reference.waits[k].0;
                    let cancelled = self.reference.machine.apply(Request::CancelWait { wait });
                    if cancelled.is_err() {
                        return Err(self.fail(format!("the machine had no pending wait {k} to cancel")));
                    }
                }
                (Ok(()), Ok(()))
            }
            Call::DropWatch(k) => self.drop_watch(k)?,
        };
        if shell != reference {
            return Err(self.fail(format!("shell returned {shell:?}, machine {reference:?}")));
        }
        self.compare()
    }

    fn compare(&mut self) -> Result<(), String> {
        // Snapshots agree with the machine.
        for (i, id) in self.ids.iter().enumerate() {
            let snapshot = self.shell.registry.snapshot(id).unwrap();
            let op = self.reference.machine.state().operation(id);
            match (snapshot, op) {
                (None, None) => {}
                (Some(s), Some(op)) => {
                    let agree = s.status == op.status()
                        && s.peer_ready == op.peer_ready()
                        && s.progress_count == op.progress_count()
                        && s.last_progress.as_ref() == op.last_progress()
                        && s.watcher_count == op.watcher_count()
                        && s.terminal_outcome.as_deref() == op.outcome();
                    if !agree {
                        return Err(self.fail(format!("op{i}: shell snapshot {s:?} vs machine {op:?}")));
                    }
                }
                (s, op) => return Err(self.fail(format!("op{i}: shell snapshot {s:?} vs machine {op:?}"))),
            }
        }
        let listed = self.shell.registry.list_operations().unwrap().len();
        if listed != self.reference.machine.state().operation_count() {
            return Err(self.fail(format!("list_operations has {listed} entries")));
        }
        // The completion feed is the machine's, with a name for every entry.
        let page = self.shell.registry.list_since(0).unwrap();
        let feed = self.reference.machine.state().feed();
        let shell_feed: Vec<_> = page.entries.iter().map(|e| (e.seq, e.id, e.kind, e.outcome.clone())).collect();
        let machine_feed: Vec<_> = feed.entries().map(|e| (e.seq, e.id, e.kind, e.outcome.clone())).collect();
        let dropped_through = feed.entries().next().map_or(feed.watermark(), |first| first.seq - 1);
        if shell_feed != machine_feed
            || page.watermark != feed.watermark()
            || page.missed != feed.since(0).missed
            || page.dropped_through != dropped_through
        {
            return Err(self.fail(format!("feed: shell {shell_feed:?}, machine {machine_feed:?}")));
        }
        if let Some(entry) = page.entries.iter().find(|e| !self.ids.contains(&e.id) || e.display_name.is_empty()) {
            return Err(self.fail(format!("feed entry {} has no name", entry.seq)));
        }
        // Watchers received exactly what the machine delivered.
        for (k, watch) in self.shell.watches.iter_mut().enumerate() {
            if let Some(watch) = watch {
                let got = watch.try_outcome();
                let expected = self.reference.watches[k].1.clone();
                if got != expected {
                    return Err(self.fail(format!("watch {k}: shell {got:?}, machine {expected:?}")));
                }
            }
        }
        // Waits resolve exactly when and how the machine satisfied them.
        for k in 0..self.shell.waits.len() {
            if self.shell.dropped[k] {
                continue;
            }
            if self.shell.wait_results[k].is_none()
                && let Some(future) = self.shell.waits[k].as_mut()
            {
                self.shell.wait_results[k] = poll_now(future);
            }
            let expected = self.reference.waits[k].1.clone();
            let got = match &self.shell.wait_results[k] {
                Some(Ok(result)) => Some(result.outcomes.clone()),
                Some(Err(error)) => return Err(self.fail(format!("wait {k} failed: {error}"))),
                None => None,
            };
            if got != expected {
                return Err(self.fail(format!("wait {k}: shell {got:?}, machine {expected:?}")));
            }
        }
        if self.shell.registry.pending_waits().unwrap() != self.reference.machine.state().pending_waits().count() {
            return Err(self.fail("pending wait counts differ".into()));
        }
        Ok(())
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    #[test]
    fn shell_and_machine_agree(
        calls in proptest::collection::vec(call(), 1..80),
        max_completed in 0usize..4,
        max_concurrent in proptest::option::of(1usize..4),
    ) {
        let mut harness = Harness::new(max_completed, max_concurrent);
        for call in &calls {
            if let Err(report) = harness.step(call) {
                prop_assert!(false, "{}", report);
            }
        }
    }
}

/// Every per-operation input of the table has a shell method: a new input
/// fails here until `on_shell` maps it.
#[test]
fn every_per_operation_input_has_a_shell_method() {
    let registry = RuntimeOpsLifecycleRegistry::new();
    let id = OperationId::new();
    for input in Input::per_operation() {
        let payload = payload(input, id, 0);
        assert!(Request::<ShellDomain>::for_operation(input, id, payload.clone()).is_some(), "{input}");
        let _ = on_shell(&registry, input, id, payload);
    }
    assert!(registry.snapshot(&id).unwrap().is_some());
}
