//! Open a durable registry, crash, and recover.
//!
//! The example runs itself twice. The child opens a registry on a SQLite
//! file, registers three operations, completes one, and then kills itself
//! (`abort`: no destructor runs, nothing is flushed on the way out). The
//! parent reopens the file: the completed operation is there with its
//! outcome, and the two that were still running end `Terminated`, as the
//! restore policy says.
//!
//! `cargo run -p oplife-shell --features durable --example durable`

#![allow(clippy::unwrap_used, clippy::panic)] // an example: a failed unwrap is a failed run

use oplife_shell::prelude::*;
use oplife_shell::{DurableOptions, OperationId};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    match (args.next().as_deref(), args.next()) {
        (Some("child"), Some(path)) => child(&path),
        _ => parent(),
    }
}

fn child(path: &str) -> Result<(), Box<dyn std::error::Error>> {
    let (registry, _) = RuntimeOpsLifecycleRegistry::open(path, DurableOptions::default())?;
    let owner = SessionId::new();
    let ids: Vec<OperationId> = ["crawl", "index", "embed"]
        .into_iter()
        .map(|name| {
            let spec = OperationSpec::background_tool(owner, name);
            let id = spec.id;
            registry.register_operation(spec).and_then(|()| registry.provisioning_succeeded(&id)).map(|()| id)
        })
        .collect::<Result<_, _>>()?;
    registry.complete_operation(&ids[0], OperationResult::new(ids[0], "1,204 pages"))?;
    println!("child: crawl completed, index and embed running; crashing now");
    std::process::abort();
}

fn parent() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::temp_dir().join(format!("oplife-example-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("ops.db");
    let status = std::process::Command::new(std::env::current_exe()?).arg("child").arg(&path).status()?;
    println!("parent: the child ended with {status}");
    assert!(!status.success(), "the child was meant to crash");

    let (registry, report) = RuntimeOpsLifecycleRegistry::open(&path, DurableOptions::default())?;
    println!("parent: recovered {} journaled calls; {} lost operations ended", report.replayed, report.lost);
    let page = registry.list_since(0)?;
    for entry in &page.entries {
        println!("  feed #{}: {} {:?}", entry.seq, entry.display_name, entry.outcome);
    }
    assert_eq!(report.lost, 2);
    assert_eq!(page.entries.len(), 3);
    assert!(matches!(*page.entries[0].outcome, OperationTerminalOutcome::Completed(_)));
    drop(registry);
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
