//! Every span and event `docs/OBSERVABILITY.md` lists is emitted with its
//! fields on the path that should emit it, and none while the registry's
//! lock is held: a capturing subscriber records each, with whether the
//! thread held the lock (the registry runs under a lock that flags it).

#![allow(clippy::unwrap_used, clippy::panic)] // test code: a failed unwrap is a failed test

mod common;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use common::{Flagged, HELD, background_spec, result};
use oplife_shell::{
    Claim, Durability, DurableOptions, MemoryStore, OpsLifecycleConfig, OpsLifecycleError, OpsLifecycleRegistry,
    RuntimeOpsLifecycleRegistry, Store, StoreError,
};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};

/// One span or event the subscriber saw.
#[derive(Debug, Clone)]
struct Seen {
    /// The span's name, or the event's message.
    name: String,
    level: Level,
    fields: BTreeMap<String, String>,
    /// Whether the thread held the registry's lock when it was emitted.
    under_lock: bool,
}

#[derive(Default)]
struct Fields(BTreeMap<String, String>);

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
}

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<Seen>>>);

impl Capture {
    fn seen(&self) -> Vec<Seen> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

impl<S: Subscriber> Layer<S> for Capture {
    fn on_new_span(&self, attrs: &Attributes<'_>, _: &Id, _: Context<'_, S>) {
        let mut fields = Fields::default();
        attrs.record(&mut fields);
        let seen = Seen {
            name: attrs.metadata().name().to_owned(),
            level: *attrs.metadata().level(),
            fields: fields.0,
            under_lock: HELD.with(std::cell::Cell::get),
        };
        self.0.lock().unwrap().push(seen);
    }

    fn on_enter(&self, _: &Id, _: Context<'_, S>) {
        assert!(!HELD.with(std::cell::Cell::get), "a span was entered under the registry's lock");
    }

    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        let mut fields = Fields::default();
        event.record(&mut fields);
        let name = fields.0.remove("message").unwrap_or_default();
        let seen = Seen {
            name,
            level: *event.metadata().level(),
            fields: fields.0,
            under_lock: HELD.with(std::cell::Cell::get),
        };
        self.0.lock().unwrap().push(seen);
    }
}

/// The one `name` among `seen`, checked to be at `level`.
fn one<'a>(seen: &'a [Seen], name: &str, level: Level) -> &'a Seen {
    let found: Vec<&Seen> = seen.iter().filter(|s| s.name == name).collect();
    assert_eq!(found.len(), 1, "{name}: {seen:#?}");
    assert_eq!(found[0].level, level, "{name}");
    found[0]
}

fn field<'a>(seen: &'a Seen, name: &str) -> &'a str {
    seen.fields.get(name).map_or_else(|| panic!("{}: no field {name}: {seen:?}", seen.name), String::as_str)
}

#[test]
fn calls_transitions_and_refusals_are_traced_after_the_lock() {
    let capture = Capture::default();
    let subscriber = tracing_subscriber::registry().with(capture.clone());
    tracing::subscriber::with_default(subscriber, || {
        let registry = RuntimeOpsLifecycleRegistry::<Flagged>::with_lock(OpsLifecycleConfig::default());
        let spec = background_spec("op");
        let id = spec.id;
        registry.register_operation(spec).unwrap();
        let seen = capture.seen();
        let span = one(&seen, "oplife.call", Level::DEBUG);
        assert_eq!(field(span, "oplife.input"), "register_operation");
        assert_eq!(field(span, "oplife.operation.id"), id.to_string());
        let transition = one(&seen, "transition", Level::DEBUG);
        assert_eq!(field(transition, "oplife.to"), "Provisioning");
        assert!(!transition.fields.contains_key("oplife.from"), "nothing before a registration: {transition:?}");

        registry.provisioning_succeeded(&id).unwrap();
        let transition = one(&capture.seen(), "transition", Level::DEBUG).clone();
        assert_eq!(field(&transition, "oplife.from"), "Provisioning");
        assert_eq!(field(&transition, "oplife.to"), "Running");

        registry.complete_operation(&id, result(id, "done")).unwrap();
        let error = registry.complete_operation(&id, result(id, "other")).unwrap_err();
        let seen = capture.seen();
        let refused = one(&seen, "refused", Level::DEBUG);
        assert_eq!(field(refused, "error.type"), "InvalidTransition");
        assert_eq!(field(refused, "oplife.retry"), "Conflict");
        assert_eq!(error.retry().name(), "Conflict");
        assert!(seen.iter().all(|s| !s.under_lock), "emitted under the lock: {seen:#?}");
    });
}

#[test]
fn recovery_journal_commits_store_failures_and_fencing_are_traced() {
    let capture = Capture::default();
    let subscriber = tracing_subscriber::registry().with(capture.clone());
    tracing::subscriber::with_default(subscriber, || {
        let store = MemoryStore::new();
        let options = DurableOptions { durability: Durability::Sync, ..DurableOptions::default() };
        let (registry, _) = RuntimeOpsLifecycleRegistry::open_store(store.clone(), options.clone()).unwrap();
        let seen = capture.seen();
        let recovered = one(&seen, "recovered", Level::INFO);
        assert_eq!(field(recovered, "oplife.recovery.replayed"), "0");
        assert_eq!(field(recovered, "oplife.recovery.ended"), "0");

        registry.register_operation(background_spec("kept")).unwrap();
        let seen = capture.seen();
        let committed = one(&seen, "journal committed", Level::TRACE);
        assert_eq!(field(committed, "oplife.journal.records"), "1");
        assert!(field(committed, "oplife.journal.seconds").parse::<f64>().unwrap() >= 0.0);

        store.fail_writes(StoreError::Full);
        let failed = registry.register_operation(background_spec("refused")).unwrap_err();
        assert_eq!(failed, OpsLifecycleError::Store(StoreError::Full));
        let seen = capture.seen();
        let error = one(&seen, "call failed", Level::ERROR);
        assert_eq!(field(error, "error.type"), "store");
        store.write_again();

        // A newer owner takes the store over: the next write is fenced.
        let mut newer = store.clone();
        newer.claim(Claim::TakeOver).unwrap();
        let fenced = registry.register_operation(background_spec("fenced")).unwrap_err();
        assert!(matches!(fenced, OpsLifecycleError::Refused(_)), "{fenced:?}");
        let seen = capture.seen();
        let warned = one(&seen, "fenced: a newer owner holds the store, and the registry is sealed", Level::WARN);
        assert_eq!(field(warned, "oplife.current_epoch"), "2");
        drop(registry);
        drop(newer);

        let (_, report) = RuntimeOpsLifecycleRegistry::open_store(store, options).unwrap();
        let recovered = one(&capture.seen(), "recovered", Level::INFO).clone();
        assert_eq!(field(&recovered, "oplife.recovery.replayed"), report.replayed.to_string());
    });
}
