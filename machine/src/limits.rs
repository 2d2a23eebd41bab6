//! The registry's limits: retention and concurrency.

/// The default number of terminal records retained.
pub const DEFAULT_MAX_COMPLETED: usize = 256;

/// The default number of completion feed entries retained.
pub const DEFAULT_FEED_RETENTION: usize = 1024;

/// Registry limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Limits {
    /// How many terminal records are retained before the oldest is evicted.
    pub max_completed: usize,
    /// How many operations may be non-terminal at once (`None`: no limit).
    pub max_concurrent: Option<usize>,
    /// How many completion feed entries are retained before the oldest is
    /// dropped.
    pub feed_retention: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_completed: DEFAULT_MAX_COMPLETED, max_concurrent: None, feed_retention: DEFAULT_FEED_RETENTION }
    }
}
