//! Inputs: one per registry call, plus the cascaded per-operation steps of
//! registry calls. Each input is declared once, on one line, with its name,
//! scope and payload; every list of inputs is generated from that line.

use std::fmt;

/// Where an input applies: to one operation, to the registry as a whole, or
/// to each operation a registry rule cascades over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// A registry call naming one operation.
    Operation,
    /// A registry call about the registry as a whole.
    Registry,
    /// Applied to single operations by a registry-level effect, never called
    /// directly.
    Cascade,
}

/// What an input carries besides the operation it names: the machine's
/// request type has one payload of this kind per input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Carries {
    /// Nothing.
    Nothing,
    /// The registration spec: kind and peer expectation.
    Spec,
    /// A result (completion).
    Result,
    /// An error (failure).
    Error,
    /// An optional reason (abort, cancel).
    Reason,
    /// A reason that must be given (owner termination, a cascade of it).
    RequiredReason,
    /// A progress update.
    Progress,
    /// A wait request id and the ids waited for.
    Wait,
    /// A wait request id.
    WaitId,
    /// An image and a lost-operation policy.
    Image,
    /// A lost-operation policy (a cascade of restore).
    Policy,
    /// A consumer's cursor: where it is, where it asks to go, and how far
    /// the feed is durable.
    Cursor,
}

macro_rules! inputs {
    ($( $(#[$doc:meta])* $variant:ident => $name:literal, $scope:ident, $carries:ident; )*) => {
        /// An input of the machine, without its payload: one per registry
        /// call, plus the cascaded per-operation steps of registry-level
        /// calls.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Input {
            $( $(#[$doc])* $variant, )*
        }

        impl Input {
            /// Every input, in declaration order.
            pub const ALL: [Input; [$(Input::$variant),*].len()] = [$(Input::$variant),*];

            /// The registry call (or cascade step) the input stands for.
            pub const fn name(self) -> &'static str {
                match self { $( Input::$variant => $name, )* }
            }

            /// Where the input applies.
            pub const fn scope(self) -> Scope {
                match self { $( Input::$variant => Scope::$scope, )* }
            }

            /// What the input carries besides the operation it names.
            pub const fn carries(self) -> Carries {
                match self { $( Input::$variant => Carries::$carries, )* }
            }
        }
    };
}

inputs! {
    /// `register_operation(spec)`.
    Register => "register_operation", Operation, Spec;
    /// `provisioning_succeeded(id)`.
    ProvisioningSucceeded => "provisioning_succeeded", Operation, Nothing;
    /// `provisioning_failed(id, error)`.
    ProvisioningFailed => "provisioning_failed", Operation, Error;
    /// `abort_provisioning(id, reason)`.
    AbortProvisioning => "abort_provisioning", Operation, Reason;
    /// `peer_ready(id, handle)`.
    PeerReady => "peer_ready", Operation, Nothing;
    /// `register_watcher(id)`.
    RegisterWatcher => "register_watcher", Operation, Nothing;
    /// Dropping a pending watch of the operation: release its watcher.
    ReleaseWatcher => "release_watcher", Operation, Nothing;
    /// `report_progress(id, update)`.
    ReportProgress => "report_progress", Operation, Progress;
    /// `complete_operation(id, result)`.
    Complete => "complete_operation", Operation, Result;
    /// `fail_operation(id, error)`.
    Fail => "fail_operation", Operation, Error;
    /// `cancel_operation(id, reason)`.
    Cancel => "cancel_operation", Operation, Reason;
    /// `request_retire(id)`.
    RequestRetire => "request_retire", Operation, Nothing;
    /// `mark_retired(id)`.
    MarkRetired => "mark_retired", Operation, Nothing;
    /// `collect_terminal(id)`: acknowledge one buffered terminal outcome.
    CollectTerminal => "collect_terminal", Operation, Nothing;
    /// `rollback_registration(id)`: undo a registration whose handle never
    /// reached its caller, as if it had never happened.
    RollbackRegistration => "rollback_registration", Operation, Nothing;
    /// `terminate_owner(reason)`.
    TerminateOwner => "terminate_owner", Registry, RequiredReason;
    /// `collect_completed()`.
    CollectCompleted => "collect_completed", Registry, Nothing;
    /// `wait_all(run, ids)`: begin a wait request.
    BeginWait => "begin_wait", Registry, Wait;
    /// Dropping a pending `wait_all` future: cancel its wait request.
    CancelWait => "cancel_wait", Registry, WaitId;
    /// `restore(snapshot, policy)`: rebuild a fresh registry from a captured
    /// image.
    Restore => "restore", Registry, Image;
    /// Reopening a durable registry: load its last compacted image as it
    /// was, so that the journal after it can be replayed (nothing is
    /// resolved; a `restore` of the replayed image follows).
    Resume => "resume", Registry, Image;
    /// A newer owner took the durable store over (the store fenced a
    /// write): seal the registry. Never journaled: the store refuses it.
    Seal => "seal", Registry, Nothing;
    /// `advance_cursor(consumer, seq)`: a consumer acknowledges the feed up
    /// to `seq`.
    AdvanceCursor => "advance_cursor", Registry, Cursor;
    /// Cascade of `terminate_owner`: terminate one operation.
    Terminate => "terminate (cascade)", Cascade, RequiredReason;
    /// Cascade of retention: forget the oldest retained record.
    Evict => "evict (cascade)", Cascade, Nothing;
    /// Cascade of `collect_completed`: hand over and forget one record.
    Drain => "drain (cascade)", Cascade, Nothing;
    /// Cascade of `restore`: end one operation that was not terminal when
    /// the image was captured, as the restore policy says.
    ResolveLost => "resolve lost (cascade)", Cascade, Policy;
}

impl Input {
    /// Position of the input in [`Input::ALL`].
    pub const fn index(self) -> usize {
        self as usize
    }

    /// The inputs a caller makes on one operation, in declaration order.
    pub fn per_operation() -> impl Iterator<Item = Input> {
        Input::ALL.into_iter().filter(|input| input.scope() == Scope::Operation)
    }
}

impl fmt::Display for Input {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
