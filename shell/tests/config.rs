//! Configuration: every bound refused by the fallible constructor, clamped
//! by the infallible ones, and the event window exactly as documented.

#![allow(clippy::unwrap_used, clippy::panic)] // test code: a failed unwrap is a failed test

mod common;

use common::background_spec;
use oplife_shell::{
    ConfigError, MAX_EVENT_CAPACITY, MAX_RETENTION, ObservedEvent, OpsLifecycleConfig, OpsLifecycleRegistry,
    RuntimeOpsLifecycleRegistry,
};

#[test]
fn try_with_config_refuses_each_bound_and_with_config_clamps_it() {
    let cases = [
        (
            OpsLifecycleConfig { max_completed: MAX_RETENTION + 1, ..Default::default() },
            ConfigError::MaxCompleted(MAX_RETENTION + 1),
        ),
        (OpsLifecycleConfig { max_concurrent: Some(0), ..Default::default() }, ConfigError::MaxConcurrent),
        (
            OpsLifecycleConfig { feed_retention: usize::MAX, ..Default::default() },
            ConfigError::FeedRetention(usize::MAX),
        ),
        (OpsLifecycleConfig { event_capacity: 0, ..Default::default() }, ConfigError::EventCapacity(0)),
        (
            OpsLifecycleConfig { event_capacity: MAX_EVENT_CAPACITY + 1, ..Default::default() },
            ConfigError::EventCapacity(MAX_EVENT_CAPACITY + 1),
        ),
    ];
    for (config, error) in cases {
        assert_eq!(RuntimeOpsLifecycleRegistry::try_with_config(config).err(), Some(error));
        let clamped = config.clamped();
        assert_eq!(clamped.validate(), Ok(()));
        // The infallible constructor builds a working registry.
        let registry = RuntimeOpsLifecycleRegistry::with_config(config);
        registry.register_operation(background_spec("ok")).unwrap();
    }
    let edges = OpsLifecycleConfig {
        max_completed: MAX_RETENTION,
        max_concurrent: Some(1),
        feed_retention: 0,
        event_capacity: MAX_EVENT_CAPACITY,
    };
    assert!(RuntimeOpsLifecycleRegistry::try_with_config(edges).is_ok());
    assert_eq!(edges.clamped(), edges);
}

/// The documented window: `event_capacity` rounded up to a power of two. A
/// subscriber may fall exactly that far behind without a gap; one more
/// event and it is told the exact count it missed.
#[test]
fn a_subscriber_gets_a_gap_exactly_past_the_event_window() {
    let config = OpsLifecycleConfig { event_capacity: 3, ..Default::default() };
    assert_eq!(config.event_window(), 4);
    for (events, gap) in [(4, None), (5, Some(1)), (7, Some(3))] {
        let registry = RuntimeOpsLifecycleRegistry::with_config(config);
        let mut subscription = registry.subscribe_events().unwrap();
        for n in 0..events {
            registry.register_operation(background_spec(&format!("op{n}"))).unwrap();
        }
        let first = subscription.try_recv().unwrap();
        match gap {
            None => assert!(matches!(first, ObservedEvent::Event(_)), "{events} events: {first:?}"),
            Some(missed) => assert_eq!(first, ObservedEvent::Gap { missed }, "{events} events"),
        }
        let mut received = 0;
        while let Some(ObservedEvent::Event(_)) = subscription.try_recv() {
            received += 1;
        }
        assert_eq!(received + usize::from(gap.is_none()), 4, "{events} events: the last window arrives");
    }
}
