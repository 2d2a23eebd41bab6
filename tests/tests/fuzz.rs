//! Fuzzing every public input surface on the stable toolchain: snapshot
//! bytes (arbitrary, and valid ones with bytes altered), configurations,
//! and arbitrary call sequences with drops of watches, waits,
//! subscriptions and watermark waits at any point. No input may panic, and
//! once a caller has dropped everything, nothing stays held.
//!
//! `cargo test` runs a bounded budget (each test prints how many cases it
//! ran; together at least 100,000). A longer run sets the number of cases
//! per test:
//!
//! ```text
//! OPLIFE_FUZZ_CASES=1000000 cargo test --release -p oplife-tests --test fuzz -- --nocapture
//! ```

#![allow(clippy::unwrap_used, clippy::panic)] // test code: a failed unwrap is a failed test

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use oplife_shell::{
    HeldHandles, OperationCompletionWatch, OperationEvents, OperationId, OperationKind, OperationPeerHandle,
    OperationProgressUpdate, OperationResult, OperationSpec, OpsLifecycleConfig, OpsLifecycleRegistry,
    RegistrySnapshot, RestorePolicy, RunId, RuntimeOpsLifecycleRegistry, SessionId, WaitAllFuture,
};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

/// Cases per test: `OPLIFE_FUZZ_CASES`, or `default`.
fn cases(default: u32) -> u32 {
    std::env::var("OPLIFE_FUZZ_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(default)
}

/// Runs `test` on `cases` inputs of `strategy`, and returns how many ran.
fn fuzz<S: Strategy>(name: &str, cases: u32, strategy: S, test: impl Fn(S::Value)) -> u32
where
    S::Value: std::fmt::Debug,
{
    let config = Config { cases, failure_persistence: None, ..Config::default() };
    let mut runner = TestRunner::new(config);
    let ran = std::cell::Cell::new(0u32);
    let result = runner.run(&strategy, |input| {
        ran.set(ran.get() + 1);
        test(input);
        Ok(())
    });
    if let Err(failure) = result {
        panic!("{name}: {failure}");
    }
    println!("{name}: {} cases", ran.get());
    ran.get()
}

fn poll_now<T>(future: &mut Pin<Box<dyn Future<Output = T> + Send + '_>>) -> Option<T> {
    match future.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(value) => Some(value),
        Poll::Pending => None,
    }
}

/// The bytes of a real snapshot: operations in every status, a feed, records.
fn valid_snapshot_bytes() -> Vec<u8> {
    let registry = RuntimeOpsLifecycleRegistry::new();
    for (n, end) in [(1, true), (2, false), (4, true)] {
        let id = OperationId::new();
        registry.register_operation(spec(id, n)).unwrap();
        registry.provisioning_succeeded(&id).unwrap();
        if end {
            registry
                .complete_operation(&id, OperationResult { id, content: "done".into(), ..Default::default() })
                .unwrap();
        }
    }
    registry.capture().unwrap().to_bytes().unwrap()
}

fn spec(id: OperationId, seed: u8) -> OperationSpec {
    let kind = if seed.is_multiple_of(3) { OperationKind::MobMemberChild } else { OperationKind::BackgroundToolOp };
    OperationSpec {
        id,
        kind,
        owner_session_id: SessionId::new(),
        display_name: format!("op{seed}"),
        source_label: "fuzz".into(),
        child_session_id: None,
        expect_peer_channel: !seed.is_multiple_of(5) && kind == OperationKind::MobMemberChild,
        operation_source: None,
    }
}

/// Whatever bytes arrive, reading and restoring returns a value or a typed
/// error.
fn read_and_restore(bytes: &[u8]) {
    if let Ok(snapshot) = RegistrySnapshot::from_bytes(bytes)
        && let Ok(registry) = RuntimeOpsLifecycleRegistry::restore(snapshot, RestorePolicy::default())
    {
        registry.list_operations().unwrap();
        registry.collect_completed().unwrap();
    }
}

#[test]
fn snapshot_bytes_never_panic() {
    let valid = valid_snapshot_bytes();
    let arbitrary = fuzz("arbitrary bytes", cases(20_000), proptest::collection::vec(any::<u8>(), 0..256), |bytes| {
        read_and_restore(&bytes);
    });
    let altered =
        (proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4), any::<prop::sample::Index>());
    let altered = fuzz("altered snapshots", cases(20_000), altered, |(edits, cut)| {
        let mut bytes = valid.clone();
        for (at, byte) in edits {
            let i = at.index(bytes.len());
            bytes[i] = byte;
        }
        bytes.truncate(cut.index(bytes.len() + 1).max(1));
        read_and_restore(&bytes);
    });
    assert!(arbitrary + altered >= cases(20_000) * 2);
}

#[test]
fn configurations_never_panic() {
    // Mostly small values, sometimes the extremes. A huge event capacity is
    // clamped to 65,536 slots allocated up front, so it is drawn rarely.
    let size = prop_oneof![8 => 0usize..64, 1 => Just(0usize), 1 => any::<usize>(), 1 => Just(usize::MAX)];
    let capacity = prop_oneof![60 => 0usize..64, 1 => any::<usize>(), 1 => Just(usize::MAX)];
    let config = (size.clone(), proptest::option::of(size.clone()), size, capacity).prop_map(
        |(max_completed, max_concurrent, feed_retention, event_capacity)| OpsLifecycleConfig {
            max_completed,
            max_concurrent,
            feed_retention,
            event_capacity,
        },
    );
    let ran = fuzz("configurations", cases(20_000), config, |config| {
        let fallible = RuntimeOpsLifecycleRegistry::try_with_config(config);
        assert_eq!(fallible.is_ok(), config.validate().is_ok());
        let registry = RuntimeOpsLifecycleRegistry::with_config(config);
        let id = OperationId::new();
        let _ = registry.register_operation(spec(id, 1));
        let _ = registry.cancel_operation(&id, None);
        let _ = registry.subscribe_events().map(|mut events| events.try_recv());
        let mut snapshot = registry.capture().unwrap();
        snapshot.config = config;
        let restored = RuntimeOpsLifecycleRegistry::restore(snapshot, RestorePolicy::default());
        assert_eq!(restored.is_ok(), config.validate().is_ok());
    });
    assert!(ran >= cases(20_000));
}

/// One step of a caller.
#[derive(Debug, Clone)]
enum Step {
    Register(usize, u8),
    Succeed(usize),
    Complete(usize),
    Fail(usize),
    Cancel(usize),
    ProvisioningFailed(usize),
    Abort(usize),
    PeerReady(usize),
    Progress(usize, u8),
    Retire(usize),
    Retired(usize),
    CollectTerminal(usize),
    Watch(usize),
    DropWatch(usize),
    AwaitWatch(usize),
    WaitAll(Vec<usize>),
    DropWait(usize),
    Subscribe,
    DropSubscription(usize),
    WaitWatermark(u64),
    TerminateOwner,
    Collect,
    Restart,
}

fn step() -> impl Strategy<Value = Step> {
    let id = 0usize..4;
    let held = 0usize..6;
    prop_oneof![
        3 => (id.clone(), any::<u8>()).prop_map(|(i, s)| Step::Register(i, s)),
        3 => id.clone().prop_map(Step::Succeed),
        2 => id.clone().prop_map(Step::Complete),
        1 => id.clone().prop_map(Step::Fail),
        1 => id.clone().prop_map(Step::Cancel),
        1 => id.clone().prop_map(Step::ProvisioningFailed),
        1 => id.clone().prop_map(Step::Abort),
        1 => id.clone().prop_map(Step::PeerReady),
        1 => (id.clone(), any::<u8>()).prop_map(|(i, p)| Step::Progress(i, p)),
        1 => id.clone().prop_map(Step::Retire),
        1 => id.clone().prop_map(Step::Retired),
        1 => id.clone().prop_map(Step::CollectTerminal),
        3 => id.clone().prop_map(Step::Watch),
        2 => held.clone().prop_map(Step::DropWatch),
        1 => held.clone().prop_map(Step::AwaitWatch),
        2 => proptest::collection::vec(0usize..5, 0..4).prop_map(Step::WaitAll),
        2 => held.clone().prop_map(Step::DropWait),
        1 => Just(Step::Subscribe),
        1 => held.prop_map(Step::DropSubscription),
        1 => (0u64..4).prop_map(Step::WaitWatermark),
        1 => Just(Step::TerminateOwner),
        1 => Just(Step::Collect),
        1 => Just(Step::Restart),
    ]
}

/// What a caller holds.
struct Caller<'a> {
    watches: Vec<OperationCompletionWatch>,
    waits: Vec<WaitAllFuture<'a>>,
    subscriptions: Vec<OperationEvents>,
}

fn remove<T>(held: &mut Vec<T>, k: usize) {
    if !held.is_empty() {
        drop(held.swap_remove(k % held.len()));
    }
}

fn run(registry: &RuntimeOpsLifecycleRegistry, ids: &[OperationId], steps: &[Step]) {
    let mut caller = Caller { watches: Vec::new(), waits: Vec::new(), subscriptions: Vec::new() };
    let id = |i: usize| ids[i % ids.len()];
    for step in steps {
        let _ = match step.clone() {
            Step::Register(i, seed) => registry.register_operation(spec(id(i), seed)),
            Step::Succeed(i) => registry.provisioning_succeeded(&id(i)),
            Step::Complete(i) => {
                registry.complete_operation(&id(i), OperationResult { id: id(i), ..Default::default() })
            }
            Step::Fail(i) => registry.fail_operation(&id(i), "e".into()),
            Step::Cancel(i) => registry.cancel_operation(&id(i), Some("c".into())),
            Step::ProvisioningFailed(i) => registry.provisioning_failed(&id(i), "p".into()),
            Step::Abort(i) => registry.abort_provisioning(&id(i), None),
            Step::PeerReady(i) => registry.peer_ready(&id(i), OperationPeerHandle::new("p", "p", "inproc://p")),
            Step::Progress(i, p) => registry
                .report_progress(&id(i), OperationProgressUpdate { message: format!("{p}"), percent: Some(p.into()) }),
            Step::Retire(i) => registry.request_retire(&id(i)),
            Step::Retired(i) => registry.mark_retired(&id(i)),
            Step::CollectTerminal(i) => registry.collect_terminal(&id(i)),
            Step::Watch(i) => registry.register_watcher(&id(i)).map(|watch| caller.watches.push(watch)),
            Step::DropWatch(k) => {
                remove(&mut caller.watches, k);
                Ok(())
            }
            Step::AwaitWatch(k) => {
                if !caller.watches.is_empty() {
                    let watch = caller.watches.swap_remove(k % caller.watches.len());
                    let mut future: Pin<Box<dyn Future<Output = _> + Send>> = Box::pin(watch.wait());
                    let _ = poll_now(&mut future);
                }
                Ok(())
            }
            Step::WaitAll(indices) => {
                let wanted: Vec<OperationId> = indices.iter().map(|i| id(*i)).collect();
                let mut future = registry.wait_all(&RunId::new(), &wanted);
                let _ = poll_now(&mut future);
                caller.waits.push(future);
                Ok(())
            }
            Step::DropWait(k) => {
                remove(&mut caller.waits, k);
                Ok(())
            }
            Step::Subscribe => registry.subscribe_events().map(|events| caller.subscriptions.push(events)),
            Step::DropSubscription(k) => {
                remove(&mut caller.subscriptions, k);
                Ok(())
            }
            Step::WaitWatermark(seq) => {
                let mut future: Pin<Box<dyn Future<Output = u64> + Send>> = Box::pin(registry.wait_for_watermark(seq));
                let _ = poll_now(&mut future);
                Ok(())
            }
            Step::TerminateOwner => registry.terminate_owner("t".into()),
            Step::Collect => registry.collect_completed().map(|_| ()),
            Step::Restart => {
                let bytes = registry.capture().unwrap().to_bytes().unwrap();
                let restored = RuntimeOpsLifecycleRegistry::restore(
                    RegistrySnapshot::from_bytes(&bytes).unwrap(),
                    RestorePolicy::default(),
                )
                .unwrap();
                assert_eq!(restored.held().unwrap(), HeldHandles::default());
                Ok(())
            }
        };
        for subscription in &mut caller.subscriptions {
            while subscription.try_recv().is_some() {}
        }
    }
    drop(caller);
    // Everything the caller held is released.
    assert_eq!(registry.held().unwrap(), HeldHandles::default());
}

#[test]
fn call_sequences_with_drops_never_panic_and_release_everything() {
    let config = OpsLifecycleConfig { max_completed: 2, max_concurrent: Some(3), feed_retention: 3, event_capacity: 2 };
    let ran = fuzz("call sequences", cases(40_000), proptest::collection::vec(step(), 1..40), |steps| {
        let registry = RuntimeOpsLifecycleRegistry::with_config(config);
        let ids: Vec<OperationId> = (0..5).map(|_| OperationId::new()).collect();
        run(&registry, &ids, &steps);
    });
    assert!(ran >= cases(40_000));
}
