//! An agent runtime embedding the registry: a child agent hands over its
//! peer channel, background jobs report progress, a turn waits for them,
//! one job is cancelled, and the owner session terminates.
//!
//! Run with `cargo run -p oplife-shell --example runtime`.

use std::sync::Arc;
use std::time::Duration;

use oplife_shell::{
    OperationId, OperationKind, OperationPeerHandle, OperationProgressUpdate, OperationResult, OperationSpec,
    OperationTerminalOutcome, OpsLifecycleError, OpsLifecycleRegistry, RunId, RuntimeOpsLifecycleRegistry, SessionId,
};

fn spec(owner: SessionId, name: &str, kind: OperationKind) -> OperationSpec {
    let child = kind == OperationKind::MobMemberChild;
    OperationSpec {
        id: OperationId::new(),
        kind,
        owner_session_id: owner,
        display_name: name.into(),
        source_label: if child { "mob".into() } else { "tool".into() },
        child_session_id: child.then(SessionId::new),
        expect_peer_channel: child,
        operation_source: None,
    }
}

fn describe(outcome: &OperationTerminalOutcome) -> String {
    match outcome {
        OperationTerminalOutcome::Completed(result) => format!("completed: {}", result.content),
        other => format!("{other:?}"),
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), OpsLifecycleError> {
    let registry = Arc::new(RuntimeOpsLifecycleRegistry::new());
    let owner = SessionId::new();

    // A child agent: provisioned, then it hands over its peer channel.
    let child = spec(owner, "researcher", OperationKind::MobMemberChild);
    let child_id = child.id;
    registry.register_operation(child)?;
    registry.provisioning_succeeded(&child_id)?;
    registry.peer_ready(&child_id, OperationPeerHandle::new("researcher", "peer-7", "inproc://researcher"))?;
    let peer = registry.snapshot(&child_id)?.and_then(|s| s.peer_handle);
    println!("child {child_id} is peer-ready at {:?}", peer.map(|p| p.address));

    // Two background jobs that report progress from their own tasks.
    let mut jobs = Vec::new();
    for (name, steps) in [("index-repo", 3u8), ("run-tests", 2u8)] {
        let job = spec(owner, name, OperationKind::BackgroundToolOp);
        let id = job.id;
        registry.register_operation(job)?;
        registry.provisioning_succeeded(&id)?;
        let registry = registry.clone();
        jobs.push(id);
        tokio::spawn(async move {
            for step in 1..=steps {
                tokio::time::sleep(Duration::from_millis(20)).await;
                let percent = u8::try_from(u16::from(step) * 100 / u16::from(steps)).unwrap_or(100);
                let _ = registry.report_progress(
                    &id,
                    OperationProgressUpdate { message: format!("step {step}"), percent: Some(percent.into()) },
                );
            }
            let _ = registry
                .complete_operation(&id, OperationResult { id, content: format!("{name} done"), ..Default::default() });
        });
    }

    // A watcher on the first job, and the turn waiting for both.
    let watch = registry.register_watcher(&jobs[0])?;
    let watcher = tokio::spawn(async move { watch.wait().await });
    let turn = RunId::new();
    let done = registry.wait_all(&turn, &jobs).await?;
    for (id, outcome) in &done.outcomes {
        println!("wait_all: {id} {}", describe(outcome));
    }
    println!("watcher saw: {}", describe(&*watcher.await.map_err(|e| OpsLifecycleError::Internal(e.to_string()))??));
    let last = registry.snapshot(&jobs[0])?.and_then(|s| s.last_progress);
    println!("last progress of index-repo: {last:?}");

    // A job the user gives up on.
    let slow = spec(owner, "crawl-web", OperationKind::BackgroundToolOp);
    let slow_id = slow.id;
    registry.register_operation(slow)?;
    registry.provisioning_succeeded(&slow_id)?;
    registry.cancel_operation(&slow_id, Some("user gave up".into()))?;
    println!("crawl-web: {:?}", registry.snapshot(&slow_id)?.map(|s| s.status));

    // The session ends: the child is still running and gets terminated.
    let child_watch = registry.register_watcher(&child_id)?;
    registry.terminate_owner("session closed".into())?;
    println!("child after owner termination: {}", describe(&*child_watch.wait().await?));
    match registry.register_operation(spec(owner, "too-late", OperationKind::BackgroundToolOp)) {
        Err(error) => println!("registering after termination: {error}"),
        Ok(()) => println!("unexpected: registered after termination"),
    }

    for (id, outcome) in registry.collect_completed()? {
        println!("collected {id}: {}", describe(&outcome));
    }
    Ok(())
}
