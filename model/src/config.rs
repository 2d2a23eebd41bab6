//! The configuration of one model check.

use std::fmt;

use oplife_machine::Limits;
use oplife_spec::OperationKind;

/// The largest number of operation ids the model supports.
pub const MAX_OPS: usize = 6;
/// The largest number of concurrently pending waits the model supports.
pub const MAX_WAITS: usize = 3;
/// The largest completion feed retention the model supports.
pub const MAX_FEED: usize = 3;

/// What universe the model explores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ModelConfig {
    /// Number of operation ids (1 to [`MAX_OPS`]).
    pub ops: u8,
    /// `max_completed` of the machine: small, so eviction really happens.
    pub max_completed: usize,
    /// `max_concurrent` of the machine.
    pub max_concurrent: Option<usize>,
    /// How many waits may be pending at once (0 to [`MAX_WAITS`]).
    pub waits: u8,
    /// How many watchers may be pending on one operation.
    pub watchers: u8,
    /// How many progress reports one operation may make.
    pub progress: u32,
    /// How many completion feed entries the machine retains (0 to
    /// [`MAX_FEED`]): small, so the feed really drops entries.
    pub feed_retention: usize,
    /// Whether the environment may restart the registry (capture its image
    /// and restore it into a fresh one, under either lost-operation policy).
    pub restarts: bool,
    /// Whether the process may crash and a durable registry reopen from its
    /// journal. Each accepted step is then also replayed the way a durable
    /// registry recovers (its last image resumed, the call applied if the
    /// table journals it), and must give the same durable state. A newer
    /// owner may also take the durable store over: the registry is sealed,
    /// and from then on must change nothing durable.
    pub crashes: bool,
    /// The kinds the environment registers.
    pub kinds: &'static [OperationKind],
    /// Whether a restart may be asked to keep an unfinished operation (as
    /// it was registered, or naming another kind or source).
    pub retention: bool,
    /// Whether a consumer moves its completion cursor (ahead, where it is,
    /// back, past the feed).
    pub cursors: bool,
}

/// The kinds every operation had before the kinds table: a child agent and
/// a background job. The configurations that check everything else register
/// only these; [`ModelConfig::FOUR_KINDS`] registers them all.
pub const CORE_KINDS: [OperationKind; 2] = [OperationKind::MobMemberChild, OperationKind::BackgroundToolOp];

impl ModelConfig {
    /// Three ids with eviction (one retained record), one pending wait, a
    /// watcher per op, a concurrency limit of 2, restarts and crashes. Progress reports are
    /// left to [`ModelConfig::TWO_WAITS`]: they triple the states here.
    pub const THREE_OPS: ModelConfig = ModelConfig {
        ops: 3,
        max_completed: 1,
        max_concurrent: Some(2),
        waits: 1,
        watchers: 1,
        progress: 0,
        feed_retention: 1,
        restarts: true,
        crashes: true,
        kinds: &CORE_KINDS,
        retention: false,
        cursors: false,
    };

    /// Two ids with two concurrent waits over them, eviction, a watcher and
    /// a progress report per op, no concurrency limit (both ops run at
    /// once; [`ModelConfig::THREE_OPS`] checks the limit).
    pub const TWO_WAITS: ModelConfig = ModelConfig {
        ops: 2,
        max_completed: 1,
        max_concurrent: None,
        waits: 2,
        watchers: 1,
        progress: 1,
        feed_retention: 2,
        restarts: true,
        crashes: false,
        kinds: &CORE_KINDS,
        retention: false,
        cursors: false,
    };

    /// Three ids with eviction (one retained record), two concurrent waits
    /// and a concurrency limit of 2. Watchers are left to
    /// [`ModelConfig::THREE_OPS`] and [`ModelConfig::TWO_WAITS`]: with two
    /// waits over three ids they quadruple the states.
    pub const THREE_OPS_TWO_WAITS: ModelConfig = ModelConfig {
        ops: 3,
        max_completed: 1,
        max_concurrent: Some(2),
        waits: 2,
        watchers: 0,
        progress: 0,
        feed_retention: 1,
        restarts: true,
        crashes: false,
        kinds: &CORE_KINDS,
        retention: false,
        cursors: false,
    };

    /// Two ids of every kind, with a wait, a watcher, eviction, the
    /// concurrency limit, restarts that may be asked to keep an operation,
    /// a consumer's cursor, and crashes: the kinds table (dropped endings,
    /// waits on detached jobs that keep running), retention across a
    /// restart and the cursor rows.
    pub const FOUR_KINDS: ModelConfig = ModelConfig {
        ops: 2,
        max_completed: 1,
        max_concurrent: Some(2),
        waits: 1,
        watchers: 1,
        progress: 0,
        feed_retention: 1,
        restarts: true,
        crashes: true,
        kinds: &OperationKind::ALL,
        retention: true,
        cursors: true,
    };

    /// The base that command line flags adjust: 3 ids, eviction, two
    /// concurrent waits.
    pub const DEFAULT: ModelConfig = ModelConfig::THREE_OPS_TWO_WAITS;

    /// The `--deep` configuration: 4 ids, two retained records, two feed
    /// entries, restarts: 853,214 classes in about 9 s with two threads.
    /// Waits and watchers are left to the default suite: with 4 ids and one
    /// wait the check had passed 11.7 M classes at depth 14 after four and a
    /// half minutes, unfinished.
    pub const DEEP: ModelConfig = ModelConfig {
        ops: 4,
        max_completed: 2,
        max_concurrent: None,
        waits: 0,
        watchers: 0,
        progress: 0,
        feed_retention: 2,
        restarts: true,
        crashes: false,
        kinds: &CORE_KINDS,
        retention: false,
        cursors: false,
    };

    /// The machine limits this configuration runs with.
    pub fn limits(&self) -> Limits {
        Limits {
            max_completed: self.max_completed,
            max_concurrent: self.max_concurrent,
            feed_retention: self.feed_retention,
        }
    }

    /// Checks the configuration is within what the model supports.
    ///
    /// # Errors
    ///
    /// A message naming the offending field.
    pub fn validate(&self) -> Result<(), String> {
        if self.ops == 0 || usize::from(self.ops) > MAX_OPS {
            return Err(format!("ops must be between 1 and {MAX_OPS}, not {}", self.ops));
        }
        if usize::from(self.waits) > MAX_WAITS {
            return Err(format!("waits must be at most {MAX_WAITS}, not {}", self.waits));
        }
        if self.watchers > 3 {
            return Err(format!("watchers must be at most 3, not {}", self.watchers));
        }
        if self.progress > 3 {
            return Err(format!("progress must be at most 3, not {}", self.progress));
        }
        if self.feed_retention > MAX_FEED {
            return Err(format!("feed retention must be at most {MAX_FEED}, not {}", self.feed_retention));
        }
        Ok(())
    }
}

/// The configurations `check` runs by default (and `cargo test` checks):
/// together they fire every row of the table and reach every example. A
/// mutant is checked against each in turn until one catches it, so the
/// first, "four kinds", is the smallest with every feature a mutant can
/// break (every kind, a wait, a watcher, eviction, the concurrency limit,
/// restarts asked to keep, crashes): each mutant of the catalogue is
/// caught there or in "three ops" within a few thousand states.
pub const DEFAULT_SUITE: [(&str, ModelConfig); 4] = [
    ("four kinds", ModelConfig::FOUR_KINDS),
    ("three ops", ModelConfig::THREE_OPS),
    ("two waits", ModelConfig::TWO_WAITS),
    ("three ops, two waits", ModelConfig::THREE_OPS_TWO_WAITS),
];

impl Default for ModelConfig {
    fn default() -> Self {
        ModelConfig::DEFAULT
    }
}

impl fmt::Display for ModelConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "ops={} max_completed={} max_concurrent={} waits={} watchers/op={} progress/op={} feed={} restarts={} crashes={} kinds={} retention={} cursors={}",
            self.ops,
            self.max_completed,
            self.max_concurrent.map_or("none".to_owned(), |m| m.to_string()),
            self.waits,
            self.watchers,
            self.progress,
            self.feed_retention,
            if self.restarts { "on" } else { "off" },
            if self.crashes { "on" } else { "off" },
            self.kinds.len(),
            if self.retention { "on" } else { "off" },
            if self.cursors { "on" } else { "off" }
        )
    }
}
