//! Where an operation (or the registry) is: statuses, status sets and
//! registry phases.

use std::fmt;

/// The lifecycle status of one operation, as the registry sees it.
///
/// `Absent` means the registry does not know the id (never registered, or
/// forgotten after eviction or collection).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Status {
    /// Unknown to the registry.
    Absent,
    /// Registered; its resources are being prepared.
    Provisioning,
    /// Started and doing work.
    Running,
    /// Asked to wind down; still doing work.
    Retiring,
    /// Terminal: finished with a result.
    Completed,
    /// Terminal: finished with an error.
    Failed,
    /// Terminal: provisioning was abandoned.
    Aborted,
    /// Terminal: cancelled by its owner.
    Cancelled,
    /// Terminal: wound down after a retire request.
    Retired,
    /// Terminal: ended because its owner session terminated.
    Terminated,
}

impl Status {
    /// Every status, in declaration order.
    pub const ALL: [Status; 10] = [
        Status::Absent,
        Status::Provisioning,
        Status::Running,
        Status::Retiring,
        Status::Completed,
        Status::Failed,
        Status::Aborted,
        Status::Cancelled,
        Status::Retired,
        Status::Terminated,
    ];

    /// Whether the status is one of the six terminal ones.
    pub const fn is_terminal(self) -> bool {
        matches!(
            self,
            Status::Completed
                | Status::Failed
                | Status::Aborted
                | Status::Cancelled
                | Status::Retired
                | Status::Terminated
        )
    }

    /// Whether the registry knows an operation in this status.
    pub const fn is_known(self) -> bool {
        !matches!(self, Status::Absent)
    }

    /// Position of the status in [`Status::ALL`].
    pub const fn index(self) -> usize {
        self as usize
    }

    /// The name used in rendered tables.
    pub const fn name(self) -> &'static str {
        match self {
            Status::Absent => "Absent",
            Status::Provisioning => "Provisioning",
            Status::Running => "Running",
            Status::Retiring => "Retiring",
            Status::Completed => "Completed",
            Status::Failed => "Failed",
            Status::Aborted => "Aborted",
            Status::Cancelled => "Cancelled",
            Status::Retired => "Retired",
            Status::Terminated => "Terminated",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A set of statuses, used for the "allowed from" column of a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct StatusSet(u16);

impl StatusSet {
    /// No status at all.
    pub const EMPTY: StatusSet = StatusSet(0);
    /// The six terminal statuses.
    pub const TERMINAL: StatusSet = StatusSet::of(&[
        Status::Completed,
        Status::Failed,
        Status::Aborted,
        Status::Cancelled,
        Status::Retired,
        Status::Terminated,
    ]);
    /// The known statuses that are not terminal.
    pub const ACTIVE: StatusSet = StatusSet::of(&[Status::Provisioning, Status::Running, Status::Retiring]);
    /// Every status the registry knows (all but `Absent`).
    pub const KNOWN: StatusSet = StatusSet(StatusSet::ACTIVE.0 | StatusSet::TERMINAL.0);

    /// The set holding exactly the given statuses.
    pub const fn of(statuses: &[Status]) -> StatusSet {
        let mut bits = 0u16;
        let mut i = 0;
        while i < statuses.len() {
            bits |= 1 << statuses[i].index();
            i += 1;
        }
        StatusSet(bits)
    }

    /// Whether `status` is in the set.
    pub const fn contains(self, status: Status) -> bool {
        self.0 & (1 << status.index()) != 0
    }

    /// The set with `status` added.
    #[must_use]
    pub const fn with(self, status: Status) -> StatusSet {
        StatusSet(self.0 | (1 << status.index()))
    }

    /// The set with `status` removed.
    #[must_use]
    pub const fn without(self, status: Status) -> StatusSet {
        StatusSet(self.0 & !(1 << status.index()))
    }

    /// The statuses in both sets.
    #[must_use]
    pub const fn intersection(self, other: StatusSet) -> StatusSet {
        StatusSet(self.0 & other.0)
    }

    /// Whether the set is empty.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The statuses in the set, in declaration order.
    pub fn iter(self) -> impl Iterator<Item = Status> {
        Status::ALL.into_iter().filter(move |s| self.contains(*s))
    }
}

impl fmt::Display for StatusSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if *self == StatusSet::TERMINAL {
            return f.write_str("any terminal");
        }
        if *self == StatusSet::ACTIVE {
            return f.write_str("any non-terminal");
        }
        if *self == StatusSet::KNOWN {
            return f.write_str("any known");
        }
        let names: Vec<&str> = self.iter().map(Status::name).collect();
        f.write_str(&names.join(", "))
    }
}

/// What a caller is told of an operation's result, by its status: five
/// classes for the ten statuses (see [`crate::Table::public_results`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum PublicResult {
    /// The registry does not know the operation.
    Unknown,
    /// Not ended: still preparing, working, or winding down.
    Running,
    /// Ended with a result.
    Completed,
    /// Ended without one: it failed, or its owner ended it.
    Failed,
    /// Ended because it was stopped: abandoned, cancelled or retired.
    Cancelled,
}

impl PublicResult {
    /// Every class, in declaration order.
    pub const ALL: [PublicResult; 5] = [
        PublicResult::Unknown,
        PublicResult::Running,
        PublicResult::Completed,
        PublicResult::Failed,
        PublicResult::Cancelled,
    ];

    /// The name used in rendered tables.
    pub const fn name(self) -> &'static str {
        match self {
            PublicResult::Unknown => "Unknown",
            PublicResult::Running => "Running",
            PublicResult::Completed => "Completed",
            PublicResult::Failed => "Failed",
            PublicResult::Cancelled => "Cancelled",
        }
    }
}

impl fmt::Display for PublicResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The phase of the registry as a whole: open until its owner terminates;
/// sealed once a newer owner has taken its durable store over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Phase {
    /// The owner session is alive; operations may be registered.
    Open,
    /// `terminate_owner` has run; the registry refuses new operations.
    OwnerTerminated,
    /// A newer owner took the registry's durable store over (a write was
    /// fenced): the registry admits only what lets go of a watch or a wait,
    /// and stays readable.
    Sealed,
}

impl Phase {
    /// Every phase, in declaration order.
    pub const ALL: [Phase; 3] = [Phase::Open, Phase::OwnerTerminated, Phase::Sealed];

    /// The name used in rendered tables.
    pub const fn name(self) -> &'static str {
        match self {
            Phase::Open => "Open",
            Phase::OwnerTerminated => "OwnerTerminated",
            Phase::Sealed => "Sealed",
        }
    }
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
