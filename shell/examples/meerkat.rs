//! Hand the durable registry to a Meerkat runtime.
//!
//! A Meerkat runtime holds its operation registry as
//! `Arc<dyn OpsLifecycleRegistry>` (meerkat-core 0.9.8). This example opens a
//! durable registry on a SQLite file, hands it out behind that interface,
//! runs a background tool job to its completion-feed entry, reads the feed
//! as Meerkat's agent boundary does, and advances that consumer's cursor,
//! which the registry journals: after reopening the file it is still there.
//!
//! `cargo run -p oplife-shell --features durable,meerkat-0-9 --example meerkat`

use std::sync::Arc;

use meerkat_core_0_9::ops_lifecycle::{
    CompletionCursorConsumer, OperationId, OperationKind, OperationResult, OperationSpec, OperationTerminalOutcome,
    OpsLifecycleRegistry,
};
use meerkat_core_0_9::types::SessionId;
use oplife_shell::uuid::Uuid;
use oplife_shell::{DurableOptions, MeerkatRegistry, RuntimeOpsLifecycleRegistry};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::temp_dir().join(format!("oplife-meerkat-example-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("registry.db");
    let agent = CompletionCursorConsumer::AgentApplied;

    {
        // The registry, durable, behind Meerkat's interface.
        let (ours, _report) = RuntimeOpsLifecycleRegistry::open(&path, DurableOptions::default())?;
        let registry: Arc<dyn OpsLifecycleRegistry> = Arc::new(MeerkatRegistry::new(Arc::new(ours)));

        // The runtime starts a background tool job, and it completes.
        let id = OperationId(Uuid::new_v4());
        registry.register_operation(OperationSpec {
            id: id.clone(),
            kind: OperationKind::BackgroundToolOp,
            owner_session_id: SessionId(Uuid::new_v4()),
            display_name: "grep".into(),
            source_label: "shell".into(),
            operation_source: None,
            child_session_id: None,
            expect_peer_channel: false,
        })?;
        registry.provisioning_succeeded(&id)?;
        let result = OperationResult {
            id: id.clone(),
            content: "3 matches".into(),
            is_error: false,
            duration_ms: 40,
            tokens_used: 0,
        };
        registry.complete_operation(&id, result)?;

        // The agent boundary reads the feed past its cursor...
        let feed = registry.completion_feed().ok_or("the registry has a completion feed")?;
        let cursor = registry.completion_cursor(agent)?.unwrap_or_default();
        let batch = feed.list_since(cursor);
        for entry in &batch.entries {
            let what = match &entry.terminal_outcome {
                OperationTerminalOutcome::Completed(result) => result.content.clone(),
                other => format!("{other:?}"),
            };
            println!("feed #{}: {} {}", entry.seq, entry.display_name, what);
        }
        assert_eq!(batch.entries.len(), 1);
        // ...and acknowledges what it applied.
        let moved = registry.advance_completion_cursor(agent, batch.watermark, None)?;
        println!("agent cursor at {moved} of watermark {}", feed.watermark());
    }

    // A new process would reopen the file: the cursor was journaled.
    let (reopened, _) = RuntimeOpsLifecycleRegistry::open(&path, DurableOptions::default())?;
    let registry: Arc<dyn OpsLifecycleRegistry> = Arc::new(MeerkatRegistry::new(Arc::new(reopened)));
    let cursor = registry.completion_cursor(agent)?;
    println!("after reopening, the agent cursor is at {cursor:?}");
    assert_eq!(cursor, Some(1));
    drop(registry);
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
