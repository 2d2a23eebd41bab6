//! What the shell keeps of one operation beside the machine: its names,
//! peer handle, watcher channels and times.

use std::collections::HashMap;
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

use oplife_machine::Operation;
use tokio::sync::oneshot;

use crate::snapshot::RecordSnapshot;
use crate::source::Origin;
use crate::types::{
    OperationId, OperationKind, OperationLifecycleSnapshot, OperationPeerHandle, SessionId, SharedTerminalOutcome,
    ShellDomain,
};

/// The shell's records, by operation id.
pub(crate) type Records = HashMap<OperationId, Record, foldhash::fast::RandomState>;

/// A pending watcher's sender, with its watch key.
pub(crate) type WatcherSender = (u64, Notify);

/// The pending watchers of one operation. Most operations have none or
/// one, kept inline; a list is made only for a second.
#[derive(Debug, Default)]
pub(crate) enum Watchers {
    #[default]
    None,
    One(WatcherSender),
    Many(Vec<WatcherSender>),
}

impl Watchers {
    /// Adds a pending watcher.
    pub(crate) fn push(&mut self, watcher: WatcherSender) {
        *self = match std::mem::take(self) {
            Watchers::None => Watchers::One(watcher),
            Watchers::One(first) => Watchers::Many(vec![first, watcher]),
            Watchers::Many(mut all) => {
                all.push(watcher);
                Watchers::Many(all)
            }
        };
    }

    /// Takes out the watcher of watch `key`, if it is pending.
    pub(crate) fn remove(&mut self, key: u64) -> Option<WatcherSender> {
        match self {
            Watchers::One((k, _)) if *k == key => match std::mem::take(self) {
                Watchers::One(watcher) => Some(watcher),
                _ => None,
            },
            Watchers::Many(all) => all.iter().position(|(k, _)| *k == key).map(|at| all.swap_remove(at)),
            _ => None,
        }
    }

    /// Tells every watcher `outcome` (the last one takes it).
    pub(crate) fn notify(self, outcome: SharedTerminalOutcome) {
        match self {
            Watchers::None => {}
            Watchers::One((_, only)) => only.send(outcome),
            Watchers::Many(mut all) => {
                if let Some((_, last)) = all.pop() {
                    for (_, sender) in all {
                        sender.send(outcome.clone());
                    }
                    last.send(outcome);
                }
            }
        }
    }
}

/// A function that takes a watched operation's outcome, for a caller that
/// brings its own channel (an adapter to another registry interface).
pub(crate) type Forward = Box<dyn FnOnce(SharedTerminalOutcome) + Send + Sync>;

/// How a pending watcher is told the outcome, once the lock is released.
pub(crate) enum Notify {
    /// Through the channel of an [`crate::OperationCompletionWatch`].
    Channel(oneshot::Sender<SharedTerminalOutcome>),
    /// Through the caller's function.
    Forward(Forward),
}

impl Notify {
    /// Tells the watcher `outcome`; a watcher already gone is not told.
    pub(crate) fn send(self, outcome: SharedTerminalOutcome) {
        match self {
            Notify::Channel(sender) => {
                let _ = sender.send(outcome);
            }
            Notify::Forward(forward) => forward(outcome),
        }
    }
}

impl std::fmt::Debug for Notify {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Notify::Channel(sender) => f.debug_tuple("Channel").field(sender).finish(),
            Notify::Forward(_) => f.write_str("Forward"),
        }
    }
}

/// Shell-only data of one operation.
#[derive(Debug)]
pub(crate) struct Record {
    pub(crate) kind: OperationKind,
    pub(crate) display_name: String,
    pub(crate) child_session_id: Option<SessionId>,
    /// Who registered it and from where.
    pub(crate) origin: Origin,
    /// Its peer handle, once ready (boxed: most operations have none, and
    /// a record is moved into and out of the records table whole).
    pub(crate) peer_handle: Option<Box<OperationPeerHandle>>,
    /// The senders of its pending watchers, by watch key.
    pub(crate) watchers: Watchers,
    /// The registry clock at registration, start and end (milliseconds
    /// since the Unix epoch, see [`Clock`]).
    pub(crate) created_ms: u64,
    pub(crate) started_ms: Option<u64>,
    pub(crate) completed_ms: Option<u64>,
    /// The sequence number of its completion feed entry, once it ended.
    pub(crate) feed_seq: Option<u64>,
}

impl Record {
    /// A new record; its registration time is set when the machine
    /// registers it (from the clock reading of the call).
    pub(crate) fn new(
        kind: OperationKind,
        display_name: String,
        child_session_id: Option<SessionId>,
        origin: Origin,
    ) -> Record {
        Record {
            kind,
            display_name,
            child_session_id,
            origin,
            peer_handle: None,
            watchers: Watchers::None,
            created_ms: 0,
            started_ms: None,
            completed_ms: None,
            feed_seq: None,
        }
    }

    /// Monotonic time from registration to the end, once terminal.
    pub(crate) fn elapsed_ms(&self) -> Option<u64> {
        self.completed_ms.map(|at| at.saturating_sub(self.created_ms))
    }

    pub(crate) fn capture(&self, id: OperationId) -> RecordSnapshot {
        RecordSnapshot {
            id,
            kind: self.kind,
            display_name: self.display_name.clone(),
            child_session_id: self.child_session_id,
            owner_session_id: self.origin.owner_session_id,
            source_label: self.origin.source_label.clone(),
            operation_source: self.origin.operation_source.as_deref().cloned(),
            peer_handle: self.peer_handle.as_deref().cloned(),
            created_at_ms: self.created_ms,
            started_at_ms: self.started_ms,
            completed_at_ms: self.completed_ms,
            elapsed_ms: self.elapsed_ms(),
        }
    }

    /// The record of `snapshot`, its times as captured.
    pub(crate) fn restore(snapshot: RecordSnapshot) -> Record {
        Record {
            kind: snapshot.kind,
            display_name: snapshot.display_name,
            child_session_id: snapshot.child_session_id,
            origin: Origin {
                owner_session_id: snapshot.owner_session_id,
                source_label: snapshot.source_label,
                operation_source: snapshot.operation_source.map(Box::new),
            },
            peer_handle: snapshot.peer_handle.map(Box::new),
            watchers: Watchers::None,
            created_ms: snapshot.created_at_ms,
            started_ms: snapshot.started_at_ms,
            completed_ms: snapshot.completed_at_ms,
            feed_seq: None,
        }
    }
}

/// A registry's clock: wall-clock milliseconds since the Unix epoch, read
/// from the monotonic clock after one wall-clock reading, so that it never
/// goes backwards while the registry lives. A call reads it at most once; a
/// durable registry journals that reading, so a replay sets the same times.
///
/// The monotonic clock is `quanta`'s: the CPU's time-stamp counter where it
/// is invariant, else the standard monotonic clock. One clock is calibrated
/// per process; a reading is its raw counter, scaled from the registry's
/// origin (no per-thread override is looked up, as `quanta::Instant::now`
/// does).
#[derive(Debug, Clone)]
pub(crate) struct Clock {
    counter: quanta::Clock,
    origin: u64,
    origin_ms: u64,
}

impl Clock {
    /// A clock reading the wall clock now, and never less than `floor_ms`
    /// (the last time a durable store recorded).
    pub(crate) fn starting_at_least(floor_ms: u64) -> Clock {
        let counter = calibrated();
        let origin = counter.raw();
        Clock { counter, origin, origin_ms: epoch_ms(SystemTime::now()).max(floor_ms) }
    }

    pub(crate) fn now_ms(&self) -> u64 {
        let nanos = self.counter.delta_as_nanos(self.origin, self.counter.raw());
        self.origin_ms.saturating_add(nanos / 1_000_000)
    }
}

/// The process's one calibrated counter (calibrating takes a while).
pub(crate) fn calibrated() -> quanta::Clock {
    static CALIBRATED: OnceLock<quanta::Clock> = OnceLock::new();
    CALIBRATED.get_or_init(quanta::Clock::new).clone()
}

pub(crate) fn epoch_ms(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// One operation as a read sees it, under the registry's lock: the
/// machine's side and the shell's record, with the table that says what a
/// caller is told of its result. A reader builds what it returns straight
/// from it (the registry's snapshot, or an adapter's own type), copying
/// only what that holds.
#[derive(Clone, Copy)]
pub(crate) struct Seen<'a> {
    pub(crate) id: OperationId,
    pub(crate) op: &'a Operation<ShellDomain>,
    pub(crate) record: &'a Record,
    pub(crate) table: &'a oplife_spec::Table,
}

impl Seen<'_> {
    /// The registry's snapshot of the operation (inlined into its reader,
    /// which builds it where it returns it: a snapshot is large).
    #[inline(always)]
    pub(crate) fn snapshot(self) -> OperationLifecycleSnapshot {
        let Seen { id, op, record, table } = self;
        OperationLifecycleSnapshot {
            id,
            kind: record.kind,
            display_name: record.display_name.clone(),
            status: op.status(),
            public_result: table.public_result(op.status()),
            peer_ready: op.peer_ready(),
            peer_handle: record.peer_handle.as_deref().cloned(),
            progress_count: op.progress_count(),
            last_progress: op.last_progress().cloned(),
            watcher_count: op.watcher_count(),
            terminal_outcome: op.shared_outcome().cloned(),
            child_session_id: record.child_session_id,
            owner_session_id: record.origin.owner_session_id,
            source_label: record.origin.source_label.clone(),
            operation_source: record.origin.operation_source.as_deref().cloned(),
            created_at_ms: record.created_ms,
            started_at_ms: record.started_ms,
            completed_at_ms: record.completed_ms,
            elapsed_ms: record.elapsed_ms(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A watcher that records the outcome it is told, by watch key.
    fn recording(key: u64, told: &std::sync::Arc<std::sync::Mutex<Vec<u64>>>) -> WatcherSender {
        let told = std::sync::Arc::clone(told);
        (key, Notify::Forward(Box::new(move |_| told.lock().unwrap().push(key))))
    }

    #[test]
    fn watchers_inline_one_list_many_and_tell_each_once() {
        let told = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let outcome: SharedTerminalOutcome = std::sync::Arc::new(crate::types::OperationTerminalOutcome::Retired);
        let mut watchers = Watchers::default();
        assert!(watchers.remove(0).is_none());
        watchers.push(recording(1, &told));
        assert!(matches!(watchers, Watchers::One(_)));
        assert!(watchers.remove(2).is_none());
        assert_eq!(watchers.remove(1).map(|(key, _)| key), Some(1));
        assert!(matches!(watchers, Watchers::None));
        for key in [3, 4, 5] {
            watchers.push(recording(key, &told));
        }
        assert!(matches!(watchers, Watchers::Many(_)));
        assert_eq!(watchers.remove(4).map(|(key, _)| key), Some(4));
        watchers.notify(outcome);
        let mut told = told.lock().unwrap().clone();
        told.sort_unstable();
        assert_eq!(told, vec![3, 5]);
    }

    #[test]
    fn the_clock_moves_forward_and_agrees_with_the_wall_clock() {
        let clock = Clock::starting_at_least(0);
        let mut last = clock.now_ms();
        let started = std::time::Instant::now();
        while started.elapsed() < std::time::Duration::from_millis(300) {
            let before = epoch_ms(SystemTime::now());
            let now = clock.now_ms();
            let after = epoch_ms(SystemTime::now());
            assert!(now >= last, "the clock went back from {last} to {now}");
            // To the millisecond: the registry's reading truncates twice
            // (its wall-clock origin and the time since), the wall clock once.
            assert!(before <= now + 2 && now <= after + 1, "{before} <= {now} <= {after}");
            last = now;
        }
    }

    #[test]
    fn the_clock_never_starts_below_its_floor() {
        let far = epoch_ms(SystemTime::now()) + 60_000;
        let clock = Clock::starting_at_least(far);
        assert!(clock.now_ms() >= far);
    }
}
