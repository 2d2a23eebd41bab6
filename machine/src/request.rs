//! Requests: a registry call with its payload, the input of
//! [`crate::Lifecycle::apply`]. Each request is one input of the table
//! ([`Request::input`]); per-operation requests also split into, and are
//! built from, an input, an operation id and a [`Payload`], so that callers
//! that enumerate the table's inputs (the model, the conformance test)
//! derive their requests from [`oplife_spec::Input`] instead of keeping a
//! second list.

use oplife_spec::{Input, OperationKind, SourceClaim};

use crate::image::Image;
use crate::outcome::Domain;

/// A registry call, with its payload: the input of [`crate::Lifecycle::apply`].
///
/// With the `serde` feature requests serialize, so that a durable registry
/// can journal them and replay them through the machine.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(bound(
        serialize = "D::OpId: serde::Serialize, D::WaitId: serde::Serialize, D::RunId: serde::Serialize, D::Result: serde::Serialize, D::Error: serde::Serialize, D::Reason: serde::Serialize, D::Progress: serde::Serialize, D::Shared: serde::Serialize",
        deserialize = "D::OpId: serde::Deserialize<'de>, D::WaitId: serde::Deserialize<'de>, D::RunId: serde::Deserialize<'de>, D::Result: serde::Deserialize<'de>, D::Error: serde::Deserialize<'de>, D::Reason: serde::Deserialize<'de>, D::Progress: serde::Deserialize<'de>, D::Shared: serde::Deserialize<'de>"
    ))
)]
pub enum Request<D: Domain> {
    /// Register a new operation.
    Register {
        /// Its id.
        id: D::OpId,
        /// Its kind.
        kind: OperationKind,
        /// What the spec says about a peer channel; must agree with `kind`.
        expects_peer: bool,
        /// The caller's admission limit for this registration: it is
        /// refused while this many operations of the same kind are active
        /// (beside the registry-wide `max_concurrent`). `None`: no limit.
        #[cfg_attr(feature = "serde", serde(default, skip_serializing_if = "Option::is_none"))]
        kind_limit: Option<u32>,
        /// The caller's concurrency limit for this registration: it is
        /// refused while this many operations of any kind are active. It
        /// can only tighten the registry-wide `max_concurrent`. `None`: the
        /// registry's limit alone.
        #[cfg_attr(feature = "serde", serde(default, skip_serializing_if = "Option::is_none"))]
        limit: Option<u32>,
        /// What the spec says the operation stands for outside the
        /// registry, if it says; it must agree with `kind` and the child
        /// session.
        #[cfg_attr(feature = "serde", serde(default, skip_serializing_if = "Option::is_none"))]
        source: Option<SourceClaim>,
    },
    /// Provisioning finished; the operation runs.
    ProvisioningSucceeded {
        /// The operation.
        id: D::OpId,
    },
    /// Provisioning failed.
    ProvisioningFailed {
        /// The operation.
        id: D::OpId,
        /// The error.
        error: D::Error,
    },
    /// Provisioning is abandoned.
    AbortProvisioning {
        /// The operation.
        id: D::OpId,
        /// Why, if said.
        reason: Option<D::Reason>,
    },
    /// The operation's peer channel is ready.
    PeerReady {
        /// The operation.
        id: D::OpId,
    },
    /// Register a watcher of the operation's terminal outcome.
    RegisterWatcher {
        /// The operation.
        id: D::OpId,
    },
    /// Release one pending watcher of the operation (its watch was
    /// dropped).
    ReleaseWatcher {
        /// The operation.
        id: D::OpId,
    },
    /// Report progress.
    ReportProgress {
        /// The operation.
        id: D::OpId,
        /// The update.
        update: D::Progress,
    },
    /// Complete with a result.
    Complete {
        /// The operation.
        id: D::OpId,
        /// The result.
        result: D::Result,
    },
    /// Fail with an error.
    Fail {
        /// The operation.
        id: D::OpId,
        /// The error.
        error: D::Error,
    },
    /// Cancel.
    Cancel {
        /// The operation.
        id: D::OpId,
        /// Why, if said.
        reason: Option<D::Reason>,
    },
    /// Ask the operation to wind down.
    RequestRetire {
        /// The operation.
        id: D::OpId,
    },
    /// The operation has wound down.
    MarkRetired {
        /// The operation.
        id: D::OpId,
    },
    /// Acknowledge one buffered terminal outcome.
    CollectTerminal {
        /// The operation.
        id: D::OpId,
    },
    /// Undo a registration whose handle never reached its caller: allowed
    /// only while nobody can have observed the operation.
    RollbackRegistration {
        /// The operation.
        id: D::OpId,
    },
    /// The owner session terminates: every non-terminal operation ends.
    TerminateOwner {
        /// Why.
        reason: D::Reason,
    },
    /// Hand over every retained terminal record and forget them.
    CollectCompleted,
    /// Begin a wait request over `ids`.
    BeginWait {
        /// The wait request id.
        wait: D::WaitId,
        /// The operations waited for, in the order their outcomes are
        /// reported.
        ids: Vec<D::OpId>,
        /// The run (turn) that waits; the wait's report carries it back.
        run: D::RunId,
    },
    /// Cancel a pending wait request.
    CancelWait {
        /// The wait request id.
        wait: D::WaitId,
    },
    /// Rebuild a never-used registry from `image` (captured with
    /// [`crate::State::image`], usually by another process). Operations that
    /// were not terminal in the image end as `policy` says.
    Restore {
        /// The captured image.
        image: Box<Image<D>>,
        /// How operations lost with the old process end.
        policy: LostPolicy<D>,
        /// Unfinished operations to keep as they are instead: each must be
        /// in the image, unfinished, of the kind and source it names, or
        /// the restore is refused (`RetentionMismatch`).
        keep: Vec<Keep<D>>,
    },
    /// Load `image` into a never-used registry as it is, resolving nothing:
    /// a durable registry resumes its last compacted image this way, replays
    /// the journal written after it, then restores the result.
    Resume {
        /// The compacted image.
        image: Box<Image<D>>,
    },
    /// A consumer acknowledges the feed up to `to`. The consumer's cursor
    /// is the caller's to keep: the request says where it is (`from`) and
    /// how far the feed is durable (`durable`, the feed watermark itself
    /// when every call is durable once applied); the machine decides, and
    /// reports a move with [`crate::Output::CursorMoved`].
    AdvanceCursor {
        /// Where the cursor is.
        from: u64,
        /// Where it is asked to go.
        to: u64,
        /// The feed watermark a crash cannot take back.
        durable: u64,
    },
    /// The durable store has a newer owner (it fenced a write): seal the
    /// registry, which from then on refuses every call that could change
    /// it and stays readable.
    Seal,
}

/// How [`Request::Restore`] ends the operations that were not terminal when
/// the image was captured: their work was lost with the old process.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(bound(serialize = "D::Reason: serde::Serialize", deserialize = "D::Reason: serde::Deserialize<'de>"))
)]
pub enum LostPolicy<D: Domain> {
    /// They end `Terminated` with this reason.
    Terminate {
        /// Why (for example, "lost in a restart").
        reason: D::Reason,
    },
    /// They end `Cancelled` with this reason.
    Cancel {
        /// Why, if said.
        reason: Option<D::Reason>,
    },
}

/// An unfinished operation a restore is asked to keep as it is, named
/// exactly: the restore is refused unless the image holds it unfinished,
/// of this kind and with this source.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(bound(serialize = "D::OpId: serde::Serialize", deserialize = "D::OpId: serde::Deserialize<'de>"))
)]
pub struct Keep<D: Domain> {
    /// The operation.
    pub id: D::OpId,
    /// The kind the caller expects it to have.
    pub kind: OperationKind,
    /// Whether the source the caller expects is the one it was registered
    /// with. The machine keeps no sources: whoever does compares them.
    pub source_agrees: bool,
}

/// What a per-operation request carries besides its operation id, one
/// variant per [`oplife_spec::Carries`] of the per-operation and cascade inputs.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Payload<D: Domain> {
    /// Nothing.
    None,
    /// A registration spec.
    Spec {
        /// The kind.
        kind: OperationKind,
        /// What the spec says about a peer channel.
        expects_peer: bool,
        /// The caller's admission limit over active operations of `kind`.
        kind_limit: Option<u32>,
        /// The caller's concurrency limit over active operations of any
        /// kind (tightening the registry's).
        limit: Option<u32>,
        /// What the spec says the operation stands for.
        source: Option<SourceClaim>,
    },
    /// A result.
    Result(D::Result),
    /// An error.
    Error(D::Error),
    /// An optional reason.
    Reason(Option<D::Reason>),
    /// A reason that must be given (owner termination).
    RequiredReason(D::Reason),
    /// A progress update.
    Progress(D::Progress),
    /// A lost-operation policy (the restore cascade), and whether the
    /// restore was asked to keep this operation.
    Lost {
        /// How lost operations end.
        policy: LostPolicy<D>,
        /// Whether the restore was asked to keep this one.
        asked_to_keep: bool,
    },
}

impl<D: Domain> Request<D> {
    /// The table input this request is.
    pub fn input(&self) -> Input {
        match self {
            Request::Register { .. } => Input::Register,
            Request::ProvisioningSucceeded { .. } => Input::ProvisioningSucceeded,
            Request::ProvisioningFailed { .. } => Input::ProvisioningFailed,
            Request::AbortProvisioning { .. } => Input::AbortProvisioning,
            Request::PeerReady { .. } => Input::PeerReady,
            Request::RegisterWatcher { .. } => Input::RegisterWatcher,
            Request::ReleaseWatcher { .. } => Input::ReleaseWatcher,
            Request::ReportProgress { .. } => Input::ReportProgress,
            Request::Complete { .. } => Input::Complete,
            Request::Fail { .. } => Input::Fail,
            Request::Cancel { .. } => Input::Cancel,
            Request::RequestRetire { .. } => Input::RequestRetire,
            Request::MarkRetired { .. } => Input::MarkRetired,
            Request::CollectTerminal { .. } => Input::CollectTerminal,
            Request::RollbackRegistration { .. } => Input::RollbackRegistration,
            Request::TerminateOwner { .. } => Input::TerminateOwner,
            Request::CollectCompleted => Input::CollectCompleted,
            Request::BeginWait { .. } => Input::BeginWait,
            Request::CancelWait { .. } => Input::CancelWait,
            Request::Restore { .. } => Input::Restore,
            Request::AdvanceCursor { .. } => Input::AdvanceCursor,
            Request::Resume { .. } => Input::Resume,
            Request::Seal => Input::Seal,
        }
    }

    /// The operation the request names, if it names one.
    pub fn operation(&self) -> Option<&D::OpId> {
        match self {
            Request::Register { id, .. }
            | Request::ProvisioningSucceeded { id }
            | Request::ProvisioningFailed { id, .. }
            | Request::AbortProvisioning { id, .. }
            | Request::PeerReady { id }
            | Request::RegisterWatcher { id }
            | Request::ReleaseWatcher { id }
            | Request::ReportProgress { id, .. }
            | Request::Complete { id, .. }
            | Request::Fail { id, .. }
            | Request::Cancel { id, .. }
            | Request::RequestRetire { id }
            | Request::MarkRetired { id }
            | Request::CollectTerminal { id }
            | Request::RollbackRegistration { id } => Some(id),
            Request::TerminateOwner { .. }
            | Request::CollectCompleted
            | Request::BeginWait { .. }
            | Request::CancelWait { .. }
            | Request::Restore { .. }
            | Request::Resume { .. }
            | Request::AdvanceCursor { .. }
            | Request::Seal => None,
        }
    }

    /// The per-operation request for `input` on `id` with `payload`; `None`
    /// when `input` is not a per-operation call or the payload is not the
    /// one it carries ([`Input::carries`]).
    ///
    /// ```
    /// use oplife_machine::{Payload, Request};
    /// use oplife_spec::Input;
    /// # #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
    /// # struct Small;
    /// # impl oplife_machine::Domain for Small {
    /// #     type OpId = u8; type WaitId = u8; type RunId = (); type Result = &'static str; type Error = ();
    /// #     type Reason = (); type Progress = (); type Shared = oplife_machine::Inline<oplife_machine::Outcome<Self>>;
    /// # }
    /// let request = Request::<Small>::for_operation(Input::Complete, 7, Payload::Result("done"));
    /// assert_eq!(request, Some(Request::Complete { id: 7, result: "done" }));
    /// assert_eq!(Request::<Small>::for_operation(Input::Complete, 7, Payload::None), None);
    /// ```
    pub fn for_operation(input: Input, id: D::OpId, payload: Payload<D>) -> Option<Request<D>> {
        Some(match (input, payload) {
            (Input::Register, Payload::Spec { kind, expects_peer, kind_limit, limit, source }) => {
                Request::Register { id, kind, expects_peer, kind_limit, limit, source }
            }
            (Input::ProvisioningSucceeded, Payload::None) => Request::ProvisioningSucceeded { id },
            (Input::ProvisioningFailed, Payload::Error(error)) => Request::ProvisioningFailed { id, error },
            (Input::AbortProvisioning, Payload::Reason(reason)) => Request::AbortProvisioning { id, reason },
            (Input::PeerReady, Payload::None) => Request::PeerReady { id },
            (Input::RegisterWatcher, Payload::None) => Request::RegisterWatcher { id },
            (Input::ReleaseWatcher, Payload::None) => Request::ReleaseWatcher { id },
            (Input::ReportProgress, Payload::Progress(update)) => Request::ReportProgress { id, update },
            (Input::Complete, Payload::Result(result)) => Request::Complete { id, result },
            (Input::Fail, Payload::Error(error)) => Request::Fail { id, error },
            (Input::Cancel, Payload::Reason(reason)) => Request::Cancel { id, reason },
            (Input::RequestRetire, Payload::None) => Request::RequestRetire { id },
            (Input::MarkRetired, Payload::None) => Request::MarkRetired { id },
            (Input::CollectTerminal, Payload::None) => Request::CollectTerminal { id },
            (Input::RollbackRegistration, Payload::None) => Request::RollbackRegistration { id },
            _ => return None,
        })
    }

    /// Splits a per-operation request into its input, operation and
    /// payload; a registry-level request is handed back as it is.
    pub(crate) fn into_operation(self) -> Result<(Input, D::OpId, Payload<D>), Request<D>> {
        let input = self.input();
        match self {
            Request::Register { id, kind, expects_peer, kind_limit, limit, source } => {
                Ok((input, id, Payload::Spec { kind, expects_peer, kind_limit, limit, source }))
            }
            Request::ProvisioningFailed { id, error } | Request::Fail { id, error } => {
                Ok((input, id, Payload::Error(error)))
            }
            Request::AbortProvisioning { id, reason } | Request::Cancel { id, reason } => {
                Ok((input, id, Payload::Reason(reason)))
            }
            Request::ReportProgress { id, update } => Ok((input, id, Payload::Progress(update))),
            Request::Complete { id, result } => Ok((input, id, Payload::Result(result))),
            Request::ProvisioningSucceeded { id }
            | Request::PeerReady { id }
            | Request::RegisterWatcher { id }
            | Request::ReleaseWatcher { id }
            | Request::RequestRetire { id }
            | Request::MarkRetired { id }
            | Request::CollectTerminal { id }
            | Request::RollbackRegistration { id } => Ok((input, id, Payload::None)),
            registry => Err(registry),
        }
    }
}
