//! What the shell keeps of one operation beside the machine: its names,
//! peer handle, watcher channels and times.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use oplife_machine::Operation;
use tokio::sync::oneshot;

use crate::snapshot::RecordSnapshot;
use crate::types::{
    OperationId, OperationKind, OperationLifecycleSnapshot, OperationPeerHandle, OperationTerminalOutcome, SessionId,
    ShellDomain,
};

/// A pending watcher's sender, with its watch key.
pub(crate) type WatcherSender = (u64, oneshot::Sender<OperationTerminalOutcome>);

/// Shell-only data of one operation.
#[derive(Debug)]
pub(crate) struct Record {
    pub(crate) kind: OperationKind,
    pub(crate) display_name: String,
    pub(crate) child_session_id: Option<SessionId>,
    pub(crate) peer_handle: Option<OperationPeerHandle>,
    /// The senders of its pending watchers, by watch key.
    pub(crate) watchers: Vec<WatcherSender>,
    /// The monotonic clock at registration (for a restored record: as far
    /// back as its wall-clock age says).
    pub(crate) created_at: Instant,
    pub(crate) created_wall_ms: u64,
    pub(crate) started_at: Option<Instant>,
    pub(crate) completed_at: Option<Instant>,
}

impl Record {
    /// Wall-clock milliseconds at `at`, measured on the monotonic clock from
    /// registration so that the times of one record never go backwards.
    pub(crate) fn wall_ms(&self, at: Instant) -> u64 {
        self.created_wall_ms.saturating_add(millis(self.created_at, at))
    }

    fn started_wall_ms(&self) -> Option<u64> {
        self.started_at.map(|at| self.wall_ms(at))
    }

    fn completed_wall_ms(&self) -> Option<u64> {
        self.completed_at.map(|at| self.wall_ms(at))
    }

    fn elapsed_ms(&self) -> Option<u64> {
        self.completed_at.map(|at| millis(self.created_at, at))
    }

    pub(crate) fn capture(&self, id: OperationId) -> RecordSnapshot {
        RecordSnapshot {
            id,
            kind: self.kind,
            display_name: self.display_name.clone(),
            child_session_id: self.child_session_id,
            peer_handle: self.peer_handle.clone(),
            created_at_ms: self.created_wall_ms,
            started_at_ms: self.started_wall_ms(),
            completed_at_ms: self.completed_wall_ms(),
            elapsed_ms: self.elapsed_ms(),
        }
    }

    /// The record of `snapshot`, with its times placed on this process's
    /// monotonic clock so that they read back exactly.
    pub(crate) fn restore(snapshot: RecordSnapshot, now: Instant, now_wall_ms: u64) -> Record {
        let age = Duration::from_millis(now_wall_ms.saturating_sub(snapshot.created_at_ms));
        let created_at = now.checked_sub(age).unwrap_or(now);
        let at = |wall_ms: Option<u64>| {
            wall_ms.map(|ms| {
                let since = Duration::from_millis(ms.saturating_sub(snapshot.created_at_ms));
                created_at.checked_add(since).unwrap_or(created_at)
            })
        };
        Record {
            kind: snapshot.kind,
            display_name: snapshot.display_name,
            child_session_id: snapshot.child_session_id,
            peer_handle: snapshot.peer_handle,
            watchers: Vec::new(),
            created_at,
            created_wall_ms: snapshot.created_at_ms,
            started_at: at(snapshot.started_at_ms),
            completed_at: at(snapshot.completed_at_ms),
        }
    }
}

pub(crate) fn epoch_ms(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

pub(crate) fn millis(from: Instant, to: Instant) -> u64 {
    u64::try_from(to.saturating_duration_since(from).as_millis()).unwrap_or(u64::MAX)
}

pub(crate) fn snapshot_of(id: OperationId, op: &Operation<ShellDomain>, record: &Record) -> OperationLifecycleSnapshot {
    OperationLifecycleSnapshot {
        id,
        kind: record.kind,
        display_name: record.display_name.clone(),
        status: op.status(),
        peer_ready: op.peer_ready(),
        peer_handle: record.peer_handle.clone(),
        progress_count: op.progress_count(),
        last_progress: op.last_progress().cloned(),
        watcher_count: op.watcher_count(),
        terminal_outcome: op.outcome().cloned(),
        child_session_id: record.child_session_id,
        created_at_ms: record.created_wall_ms,
        started_at_ms: record.started_wall_ms(),
        completed_at_ms: record.completed_wall_ms(),
        elapsed_ms: record.elapsed_ms(),
    }
}
