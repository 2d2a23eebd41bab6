//! The registry's configuration: its limits, their bounds, and the one
//! place they are checked.

/// Registry limits. Every bound is checked in one place,
/// [`OpsLifecycleConfig::validate`]:
///
/// | field | default | allowed |
/// |---|---|---|
/// | `max_completed` | 256 | 0 to [`MAX_RETENTION`] |
/// | `max_concurrent` | `None` (no limit) | `None`, or 1 to `usize::MAX` |
/// | `feed_retention` | 1024 | 0 to [`MAX_RETENTION`] |
/// | `event_capacity` | 1024 | 1 to [`MAX_EVENT_CAPACITY`] |
///
/// [`crate::RuntimeOpsLifecycleRegistry::try_with_config`] refuses a value
/// out of range; `with_config` and `with_lock` clamp it
/// ([`OpsLifecycleConfig::clamped`]); `restore` refuses a snapshot whose
/// configuration is out of range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct OpsLifecycleConfig {
    /// How many terminal records are retained (default 256); the oldest
    /// beyond it are forgotten.
    pub max_completed: usize,
    /// How many operations may be non-terminal at once (`None`: no limit).
    pub max_concurrent: Option<usize>,
    /// How many completion feed entries are retained (default 1024); a
    /// consumer asking for older ones is told which range is gone.
    pub feed_retention: usize,
    /// How many events a subscriber may fall behind before it gets a gap
    /// (default 1024). The event channel keeps this many rounded up to the
    /// next power of two ([`OpsLifecycleConfig::event_window`]): a
    /// subscriber gets a gap, with the exact count it missed, once it falls
    /// more than that window behind, and that many slots are allocated up
    /// front.
    pub event_capacity: usize,
}

/// The largest `max_completed` and `feed_retention`: 16,777,216. Records
/// and feed entries are kept in memory; a larger bound would let one
/// registry hold gigabytes.
pub const MAX_RETENTION: usize = 1 << 24;

/// The largest `event_capacity`: 65,536 events, allocated up front when the
/// registry is built.
pub const MAX_EVENT_CAPACITY: usize = 1 << 16;

/// A configuration value out of its allowed range
/// ([`OpsLifecycleConfig::validate`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// `max_completed` above [`MAX_RETENTION`].
    #[error("max_completed {0} is above {MAX_RETENTION}")]
    MaxCompleted(usize),
    /// `max_concurrent` of `Some(0)`: no operation could ever register.
    #[error("max_concurrent must be at least 1 (or None for no limit)")]
    MaxConcurrent,
    /// `feed_retention` above [`MAX_RETENTION`].
    #[error("feed_retention {0} is above {MAX_RETENTION}")]
    FeedRetention(usize),
    /// `event_capacity` of 0 or above [`MAX_EVENT_CAPACITY`].
    #[error("event_capacity {0} is not between 1 and {MAX_EVENT_CAPACITY}")]
    EventCapacity(usize),
}

/// The default number of events a subscriber may fall behind.
pub const DEFAULT_EVENT_CAPACITY: usize = 1024;

impl Default for OpsLifecycleConfig {
    fn default() -> Self {
        OpsLifecycleConfig {
            max_completed: oplife_machine::DEFAULT_MAX_COMPLETED,
            max_concurrent: None,
            feed_retention: oplife_machine::DEFAULT_FEED_RETENTION,
            event_capacity: DEFAULT_EVENT_CAPACITY,
        }
    }
}

impl OpsLifecycleConfig {
    /// Checks every bound (see the table on [`OpsLifecycleConfig`]).
    ///
    /// ```
    /// use oplife_shell::{ConfigError, OpsLifecycleConfig};
    ///
    /// assert_eq!(OpsLifecycleConfig::default().validate(), Ok(()));
    /// let huge = OpsLifecycleConfig { event_capacity: usize::MAX, ..Default::default() };
    /// assert_eq!(huge.validate(), Err(ConfigError::EventCapacity(usize::MAX)));
    /// ```
    ///
    /// # Errors
    ///
    /// The [`ConfigError`] of the first value out of range, in field order.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.max_completed > MAX_RETENTION {
            return Err(ConfigError::MaxCompleted(self.max_completed));
        }
        if self.max_concurrent == Some(0) {
            return Err(ConfigError::MaxConcurrent);
        }
        if self.feed_retention > MAX_RETENTION {
            return Err(ConfigError::FeedRetention(self.feed_retention));
        }
        if !(1..=MAX_EVENT_CAPACITY).contains(&self.event_capacity) {
            return Err(ConfigError::EventCapacity(self.event_capacity));
        }
        Ok(())
    }

    /// This configuration with every value moved into its range:
    /// `max_completed` and `feed_retention` down to [`MAX_RETENTION`],
    /// `max_concurrent` of `Some(0)` up to `Some(1)`, `event_capacity` into
    /// 1 to [`MAX_EVENT_CAPACITY`]. A valid configuration is unchanged.
    #[must_use]
    pub fn clamped(self) -> Self {
        OpsLifecycleConfig {
            max_completed: self.max_completed.min(MAX_RETENTION),
            max_concurrent: self.max_concurrent.map(|limit| limit.max(1)),
            feed_retention: self.feed_retention.min(MAX_RETENTION),
            event_capacity: self.event_capacity.clamp(1, MAX_EVENT_CAPACITY),
        }
    }

    /// How far a subscriber may fall behind before it gets a gap:
    /// `event_capacity` rounded up to the next power of two (the event
    /// channel's own rounding), for a valid configuration.
    pub fn event_window(&self) -> usize {
        self.event_capacity.clamp(1, MAX_EVENT_CAPACITY).next_power_of_two()
    }

    /// The machine limits of this configuration.
    pub fn limits(&self) -> oplife_machine::Limits {
        oplife_machine::Limits {
            max_completed: self.max_completed,
            max_concurrent: self.max_concurrent,
            feed_retention: self.feed_retention,
        }
    }
}
