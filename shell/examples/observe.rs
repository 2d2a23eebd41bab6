//! A registry's spans, events and metrics: `tracing` to stdout at debug
//! level, and a snapshot of the metrics the calls recorded.
//!
//! ```text
//! cargo run -p oplife-shell --features tracing,metrics --example observe
//! ```

use std::time::Duration;

use metrics_util::debugging::{DebugValue, DebuggingRecorder};
use oplife_shell::prelude::*;
use tracing_subscriber::fmt::format::FmtSpan;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The application picks the subscriber and the recorder; the registry
    // only speaks to the facades.
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_span_events(FmtSpan::NONE)
        .with_target(false)
        .init();
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    recorder.install()?;

    let registry = RuntimeOpsLifecycleRegistry::new();
    let spec = OperationSpec::background_tool(SessionId::new(), "index the repository");
    let id = spec.id;
    registry.register_operation(spec)?;
    registry.provisioning_succeeded(&id)?;
    registry.complete_operation(&id, OperationResult::new(id, "4,112 files"))?;
    // A retry with another result is refused, and says so.
    if let Err(refused) = registry.complete_operation(&id, OperationResult::new(id, "4,113 files")) {
        println!("refused as {:?}: {refused}", refused.retry());
    }
    // Calls publish the metrics at most every 100 ms (the counters they
    // tallied, the gauges sampled); a scrape can ask for the latest.
    std::thread::sleep(Duration::from_millis(120));
    let other = OperationSpec::background_tool(SessionId::new(), "lint");
    registry.register_operation(other)?;
    registry.publish_metrics()?;

    println!("\nmetrics:");
    let mut lines: Vec<String> = snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .map(|(key, _, _, value)| {
            let labels: Vec<String> = key.key().labels().map(|l| format!("{}={}", l.key(), l.value())).collect();
            let value = match value {
                DebugValue::Counter(n) => n.to_string(),
                DebugValue::Gauge(g) => g.to_string(),
                DebugValue::Histogram(samples) => format!("{} samples", samples.len()),
            };
            format!("  {}{{{}}} {value}", key.key().name(), labels.join(","))
        })
        .collect();
    lines.sort();
    for line in lines {
        println!("{line}");
    }
    Ok(())
}
