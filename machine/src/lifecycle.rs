//! The table compiled into a dispatch structure, and the effect handlers.
//!
//! Nothing here decides what is legal: [`Lifecycle::apply`] looks up the
//! rows the table gives for the input and the current status (or registry
//! phase), checks their guards, and runs the effects they name. Each effect
//! handler is a shared mechanism (retention, eviction, wait bookkeeping,
//! counts) written once.

use oplife_spec::{
    Effect, ErrorKind, From, Guard, Input, OperationKind, OutcomeKind, Phase, RowId, Status, Table, TableError, Target,
};

use crate::domain::{Domain, LostPolicy, Outcome, Output, Request, WaitReport};
use crate::error::LifecycleError;
use crate::feed::Feed;
use crate::image::Image;
use crate::state::{Operation, State, Wait};

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

const STATUSES: usize = Status::ALL.len();
const PHASES: usize = Phase::ALL.len();

/// The payload a per-operation input carries into its row.
#[derive(Debug)]
enum Payload<D: Domain> {
    None,
    Spec { kind: OperationKind, expects_peer: bool },
    Result(D::Result),
    Error(D::Error),
    Reason(Option<D::Reason>),
    Progress(D::Progress),
    Lost(LostPolicy<D>),
}

/// A transition table compiled for execution, with the registry limits.
///
/// It is immutable and holds no operation state, so one `Lifecycle` can
/// drive any number of [`State`] values (the model checker shares one
/// across threads).
///
/// ```
/// use oplife_machine::{Domain, Lifecycle, Limits, Output, Request, State};
/// use oplife_spec::{OperationKind, Status};
///
/// #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
/// struct Small;
/// impl Domain for Small {
///     type OpId = u8;
///     type WaitId = u8;
///     type Result = &'static str;
///     type Error = ();
///     type Reason = ();
///     type Progress = ();
/// }
///
/// let lifecycle = Lifecycle::standard(Limits::default());
/// let mut state = State::<Small>::new();
/// lifecycle.apply(&mut state, Request::Register { id: 1, kind: OperationKind::BackgroundToolOp, expects_peer: false })?;
/// lifecycle.apply(&mut state, Request::ProvisioningSucceeded { id: 1 })?;
/// let outputs = lifecycle.apply(&mut state, Request::Complete { id: 1, result: "done" })?;
/// assert!(matches!(outputs[0], Output::Ended { id: 1, .. }));
/// assert_eq!(state.status(&1), Status::Completed);
///
/// // A refused request changes nothing.
/// let before = state.clone();
/// assert!(lifecycle.apply(&mut state, Request::Fail { id: 1, error: () }).is_err());
/// assert_eq!(state, before);
/// # Ok::<(), oplife_machine::LifecycleError<Small>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Lifecycle {
    table: Table,
    op_rows: Vec<Vec<RowId>>,
    registry_rows: Vec<Vec<RowId>>,
    refusals: Vec<ErrorKind>,
    outcome_of: [Option<OutcomeKind>; STATUSES],
    limits: Limits,
}

impl Lifecycle {
    /// Validates `table` and compiles it.
    ///
    /// # Errors
    ///
    /// The validator's [`TableError`] when the table is broken.
    pub fn new(table: Table, limits: Limits) -> Result<Self, TableError> {
        table.validate()?;
        Ok(Self::new_unchecked(table, limits))
    }

    /// The shipped table ([`Table::standard`]), compiled. The test suite
    /// checks that it validates.
    pub fn standard(limits: Limits) -> Self {
        Self::new_unchecked(Table::standard(), limits)
    }

    /// Compiles `table` without validating it. This is for mutation testing:
    /// the model checker runs deliberately broken tables through the same
    /// code. The machine never panics on such a table; where it cannot
    /// execute a row it refuses with [`LifecycleError::Internal`].
    pub fn new_unchecked(table: Table, limits: Limits) -> Self {
        let mut op_rows = vec![Vec::new(); Input::ALL.len() * STATUSES];
        let mut registry_rows = vec![Vec::new(); Input::ALL.len() * PHASES];
        for (id, rule) in table.rows() {
            match &rule.from {
                From::Statuses(set) => {
                    for status in set.iter() {
                        op_rows[rule.input.index() * STATUSES + status.index()].push(id);
                    }
                }
                From::Phases(phases) => {
                    for phase in phases {
                        registry_rows[rule.input.index() * PHASES + *phase as usize].push(id);
                    }
                }
            }
        }
        let mut refusals = Vec::with_capacity(Input::ALL.len() * STATUSES);
        for input in Input::ALL {
            for status in Status::ALL {
                refusals.push(table.refusal(input, status));
            }
        }
        let mut outcome_of = [None; STATUSES];
        for status in Status::ALL {
            outcome_of[status.index()] = table.outcome_of(status);
        }
        Lifecycle { table, op_rows, registry_rows, refusals, outcome_of, limits }
    }

    /// The table this lifecycle was compiled from.
    pub fn table(&self) -> &Table {
        &self.table
    }

    /// The registry limits.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Applies `request` to `state` and returns the effects to carry out, in
    /// order.
    ///
    /// # Errors
    ///
    /// A [`LifecycleError`] when the table refuses the request; `state` is
    /// then unchanged.
    pub fn apply<D: Domain>(
        &self,
        state: &mut State<D>,
        request: Request<D>,
    ) -> Result<Vec<Output<D>>, LifecycleError<D>> {
        let mut out = Vec::new();
        self.apply_into(state, request, &mut out)?;
        Ok(out)
    }

    /// Like [`Lifecycle::apply`], appending the effects to `out` (which is
    /// left as it was on error), so callers can reuse one buffer.
    ///
    /// # Errors
    ///
    /// As [`Lifecycle::apply`].
    pub fn apply_into<D: Domain>(
        &self,
        state: &mut State<D>,
        request: Request<D>,
        out: &mut Vec<Output<D>>,
    ) -> Result<(), LifecycleError<D>> {
        self.apply_traced(state, request, out, &mut |_| {})
    }

    /// Like [`Lifecycle::apply_into`], calling `fired` with every row that
    /// fires, cascaded rows included (used for row coverage).
    ///
    /// # Errors
    ///
    /// As [`Lifecycle::apply`].
    pub fn apply_traced<D: Domain>(
        &self,
        state: &mut State<D>,
        request: Request<D>,
        out: &mut Vec<Output<D>>,
        fired: &mut dyn FnMut(RowId),
    ) -> Result<(), LifecycleError<D>> {
        let mut run = Run { lifecycle: self, out, fired };
        let (input, id, payload) = match request {
            Request::Register { id, kind, expects_peer } => (Input::Register, id, Payload::Spec { kind, expects_peer }),
            Request::ProvisioningSucceeded { id } => (Input::ProvisioningSucceeded, id, Payload::None),
            Request::ProvisioningFailed { id, error } => (Input::ProvisioningFailed, id, Payload::Error(error)),
            Request::AbortProvisioning { id, reason } => (Input::AbortProvisioning, id, Payload::Reason(reason)),
            Request::PeerReady { id } => (Input::PeerReady, id, Payload::None),
            Request::RegisterWatcher { id } => (Input::RegisterWatcher, id, Payload::None),
            Request::ReportProgress { id, update } => (Input::ReportProgress, id, Payload::Progress(update)),
            Request::Complete { id, result } => (Input::Complete, id, Payload::Result(result)),
            Request::Fail { id, error } => (Input::Fail, id, Payload::Error(error)),
            Request::Cancel { id, reason } => (Input::Cancel, id, Payload::Reason(reason)),
            Request::RequestRetire { id } => (Input::RequestRetire, id, Payload::None),
            Request::MarkRetired { id } => (Input::MarkRetired, id, Payload::None),
            Request::CollectTerminal { id } => (Input::CollectTerminal, id, Payload::None),
            registry => return run.registry(state, registry),
        };
        run.operation(state, input, &id, payload)
    }

    fn refusal<D: Domain>(&self, kind: ErrorKind, id: &D::OpId, status: Status, input: Input) -> LifecycleError<D> {
        match kind {
            ErrorKind::NotFound => LifecycleError::NotFound(id.clone()),
            ErrorKind::AlreadyRegistered => LifecycleError::AlreadyRegistered(id.clone()),
            ErrorKind::InvalidTransition => LifecycleError::InvalidTransition { id: id.clone(), status, action: input },
            ErrorKind::PeerNotExpected => LifecycleError::PeerNotExpected(id.clone()),
            ErrorKind::AlreadyPeerReady => LifecycleError::AlreadyPeerReady(id.clone()),
            ErrorKind::OwnerTerminated => LifecycleError::OwnerTerminated,
            ErrorKind::RegistryInUse => LifecycleError::RegistryInUse,
            other => LifecycleError::Internal(format!("refusal {other} cannot name operation {id:?}")),
        }
    }
}

/// One call of `apply`: where outputs go and who hears about fired rows.
struct Run<'a, D: Domain> {
    lifecycle: &'a Lifecycle,
    out: &'a mut Vec<Output<D>>,
    fired: &'a mut dyn FnMut(RowId),
}

fn internal<D: Domain>(what: impl std::fmt::Display) -> LifecycleError<D> {
    LifecycleError::Internal(what.to_string())
}

impl<D: Domain> Run<'_, D> {
    /// Fires the row answering `input` for operation `id`, or refuses.
    fn operation(
        &mut self,
        st: &mut State<D>,
        input: Input,
        id: &D::OpId,
        mut payload: Payload<D>,
    ) -> Result<(), LifecycleError<D>> {
        let lc = self.lifecycle;
        let status = st.status(id);
        let row = self.select_operation_row(st, input, id, status, &payload)?;
        let rule = &lc.table.rows[row.0];

        // Everything that can fail is decided before the first change.
        let kind = match &payload {
            Payload::Spec { kind, .. } => Some(*kind),
            _ => None,
        };
        let create = match (status, rule.target) {
            (Status::Absent, Target::Status(target)) if target.is_known() => Some(Operation::new(
                kind.ok_or_else(|| internal(format!("{row} creates a record without a spec")))?,
                target,
            )),
            _ => None,
        };
        let mut outcome = match rule.effects.contains(&Effect::RecordOutcome) {
            true => Some(build_outcome(lc, rule.target, &mut payload)?),
            false => None,
        };

        (self.fired)(row);
        match (create, rule.target) {
            (Some(op), _) => st.ops.insert(id.clone(), op),
            (None, Target::Status(target)) if target.is_known() => {
                if let Some(op) = st.ops.get_mut(id) {
                    op.status = target;
                }
            }
            _ => {}
        }
        // The operation's slot is looked up once; only eviction can move it
        // (by compacting the slots), so it is looked up again after that.
        let mut slot = st.ops.position(id);
        for effect in &rule.effects {
            self.operation_effect(st, *effect, id, slot, &mut outcome, &mut payload);
            if *effect == Effect::EvictOverflow {
                slot = st.ops.position(id);
            }
        }
        if rule.target == Target::Status(Status::Absent) {
            st.ops.remove(id);
        }
        Ok(())
    }

    fn select_operation_row(
        &self,
        st: &State<D>,
        input: Input,
        id: &D::OpId,
        status: Status,
        payload: &Payload<D>,
    ) -> Result<RowId, LifecycleError<D>> {
        let lc = self.lifecycle;
        let cell = input.index() * STATUSES + status.index();
        let mut first_error = None;
        for &row in &lc.op_rows[cell] {
            let failed = lc.table.rows[row.0]
                .guards
                .iter()
                .find_map(|g| operation_guard(lc, st, *g, input, id, status, payload).err());
            match failed {
                None => return Ok(row),
                Some(error) => {
                    first_error.get_or_insert(error);
                }
            }
        }
        Err(first_error.unwrap_or_else(|| lc.refusal(lc.refusals[cell], id, status, input)))
    }

    fn operation_effect(
        &mut self,
        st: &mut State<D>,
        effect: Effect,
        id: &D::OpId,
        slot: Option<usize>,
        outcome: &mut Option<Outcome<D>>,
        payload: &mut Payload<D>,
    ) {
        match effect {
            Effect::ClaimSlot => st.active = st.active.saturating_add(1),
            Effect::EmitRegistered => {
                if let Some(op) = slot.and_then(|pos| st.ops.at(pos)) {
                    self.out.push(Output::Registered { id: id.clone(), kind: op.kind });
                }
            }
            Effect::AppendFeed => {
                if let Some(op) = slot.and_then(|pos| st.ops.at(pos))
                    && let Some(outcome) = op.outcome.clone()
                {
                    let seq = st.feed.append(id.clone(), op.kind, outcome, self.lifecycle.limits.feed_retention);
                    self.out.push(Output::FeedAppended { seq, id: id.clone() });
                }
            }
            Effect::ReleaseSlot => st.active = st.active.saturating_sub(1),
            Effect::RecordOutcome => {
                if let Some(op) = op_at(st, slot) {
                    op.outcome = outcome.take();
                }
            }
            Effect::EmitStarted => self.out.push(Output::Started { id: id.clone() }),
            Effect::RecordProgress => {
                if let Some(op) = op_at(st, slot) {
                    op.progress = op.progress.saturating_add(1);
                    let update = match std::mem::replace(payload, Payload::None) {
                        Payload::Progress(update) => Some(update),
                        _ => None,
                    };
                    op.last_progress.clone_from(&update);
                    self.out.push(Output::Progress { id: id.clone(), update });
                }
            }
            Effect::EmitEnded => {
                if let Some(outcome) = slot.and_then(|pos| st.ops.at(pos)).and_then(|op| op.outcome.clone()) {
                    self.out.push(Output::Ended { id: id.clone(), outcome });
                }
            }
            Effect::ExposePeer => {
                if let Some(op) = op_at(st, slot) {
                    op.peer_ready = true;
                    self.out.push(Output::PeerExposed { id: id.clone() });
                }
            }
            Effect::AddWatcher => {
                if let Some(op) = op_at(st, slot) {
                    op.watchers = op.watchers.saturating_add(1);
                    self.out.push(Output::WatchPending { id: id.clone() });
                }
            }
            Effect::ResolveWatch => {
                if let Some(outcome) = slot.and_then(|pos| st.ops.at(pos)).and_then(|op| op.outcome.clone()) {
                    self.out.push(Output::WatchResolved { id: id.clone(), outcome });
                }
            }
            Effect::NotifyWatchers => {
                if let Some(op) = op_at(st, slot)
                    && op.watchers > 0
                    && let Some(outcome) = op.outcome.clone()
                {
                    let count = std::mem::take(&mut op.watchers);
                    self.out.push(Output::WatchersNotified { id: id.clone(), count, outcome });
                }
            }
            Effect::Retain => {
                if let Some(op) = op_at(st, slot) {
                    op.buffered = true;
                    st.retained.push_back(id.clone());
                }
            }
            Effect::SatisfyWaits => self.satisfy_waits(st, slot),
            Effect::EvictOverflow => self.evict_overflow(st),
            Effect::ClearBuffered => {
                if let Some(op) = op_at(st, slot) {
                    op.buffered = false;
                    self.out.push(Output::Acknowledged { id: id.clone() });
                }
            }
            Effect::Unretain => {
                if st.retained.front() == Some(id) {
                    st.retained.pop_front();
                } else if let Some(pos) = st.retained.iter().position(|r| r == id) {
                    st.retained.remove(pos);
                }
            }
            Effect::ReportEvicted => self.out.push(Output::Evicted { id: id.clone() }),
            Effect::ReportCollected => {
                if let Some(outcome) = slot.and_then(|pos| st.ops.at(pos)).and_then(|op| op.outcome.clone()) {
                    self.out.push(Output::Collected { id: id.clone(), outcome });
                }
            }
            // Registry-level effects have no meaning for one operation.
            Effect::TerminateEach
            | Effect::DrainRetained
            | Effect::OpenWait
            | Effect::CloseWait
            | Effect::LoadImage
            | Effect::ResolveEachLost => {}
        }
    }

    /// Evicts the oldest retained records while more than `max_completed`
    /// are retained, through the table's `Evict` cascade.
    fn evict_overflow(&mut self, st: &mut State<D>) {
        let excess = st.retained.len().saturating_sub(self.lifecycle.limits.max_completed);
        for _ in 0..excess {
            let Some(oldest) = st.retained.front().cloned() else { break };
            if self.operation(st, Input::Evict, &oldest, Payload::None).is_err() {
                break;
            }
        }
    }

    /// Captures the outcome of the operation in `slot` in every wait
    /// tracking it: O(1) per tracking wait, no scan of other operations.
    fn satisfy_waits(&mut self, st: &mut State<D>, slot: Option<usize>) {
        let Some(op) = slot.and_then(|pos| st.ops.at_mut(pos)) else { return };
        let Some(outcome) = op.outcome.clone() else { return };
        for (wait_id, slot) in std::mem::take(&mut op.waiters) {
            let Some(wait) = st.waits.get_mut(&wait_id) else { continue };
            if let Some(entry) = wait.entries.get_mut(slot as usize)
                && entry.1.is_none()
            {
                entry.1 = Some(outcome.clone());
                wait.remaining = wait.remaining.saturating_sub(1);
            }
            if wait.remaining == 0
                && let Some(done) = st.waits.remove(&wait_id)
            {
                self.out.push(Output::WaitSatisfied(report(wait_id, done.entries)));
            }
        }
    }

    /// Fires the registry row answering `request`, or refuses.
    fn registry(&mut self, st: &mut State<D>, request: Request<D>) -> Result<(), LifecycleError<D>> {
        let lc = self.lifecycle;
        let input = request.input();
        let cell = input.index() * PHASES + st.phase as usize;
        let mut first_error = None;
        let mut chosen = None;
        for &row in &lc.registry_rows[cell] {
            match lc.table.rows[row.0].guards.iter().find_map(|g| registry_guard(st, *g, &request).err()) {
                None => {
                    chosen = Some(row);
                    break;
                }
                Some(error) => {
                    first_error.get_or_insert(error);
                }
            }
        }
        let Some(row) = chosen else {
            return Err(first_error
                .unwrap_or_else(|| internal(format!("no row answers {input} in registry phase {}", st.phase))));
        };
        let rule = &lc.table.rows[row.0];
        (self.fired)(row);
        if let Target::Phase(phase) = rule.target {
            st.phase = phase;
        }
        let mut request = Some(request);
        let mut lost = None;
        for effect in &rule.effects {
            match (effect, &request) {
                (Effect::TerminateEach, Some(Request::TerminateOwner { reason })) => {
                    let ids: Vec<D::OpId> = st.ops.iter().map(|(id, _)| id.clone()).collect();
                    for id in ids {
                        // The table decides which operations terminate; the
                        // others are left as they are.
                        let _ = self.operation(st, Input::Terminate, &id, Payload::Reason(Some(reason.clone())));
                    }
                }
                (Effect::DrainRetained, _) => {
                    let ids: Vec<D::OpId> = st.retained.iter().cloned().collect();
                    for id in ids {
                        let _ = self.operation(st, Input::Drain, &id, Payload::None);
                    }
                }
                (Effect::OpenWait, Some(Request::BeginWait { .. })) => {
                    if let Some(Request::BeginWait { wait, ids }) = request.take() {
                        self.open_wait(st, wait, ids);
                    }
                }
                (Effect::CloseWait, Some(Request::CancelWait { wait })) => {
                    let wait = wait.clone();
                    self.close_wait(st, wait);
                }
                (Effect::LoadImage, Some(Request::Restore { .. })) => {
                    if let Some(Request::Restore { image, policy }) = request.take() {
                        self.load_image(st, *image);
                        lost = Some(policy);
                    }
                }
                (Effect::ResolveEachLost, _) => {
                    let policy = match (&lost, &request) {
                        (Some(policy), _) | (None, Some(Request::Restore { policy, .. })) => policy.clone(),
                        _ => continue,
                    };
                    let ids: Vec<D::OpId> = st.ops.iter().map(|(id, _)| id.clone()).collect();
                    for id in ids {
                        // The table decides which operations were lost; the
                        // others are left as they are.
                        let _ = self.operation(st, Input::ResolveLost, &id, Payload::Lost(policy.clone()));
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn open_wait(&mut self, st: &mut State<D>, wait: D::WaitId, ids: Vec<D::OpId>) {
        let mut entries = Vec::with_capacity(ids.len());
        let mut remaining = 0u32;
        for (slot, id) in ids.into_iter().enumerate() {
            let captured = match st.ops.get_mut(&id) {
                Some(op) if op.status.is_terminal() && op.outcome.is_some() => op.outcome.clone(),
                Some(op) => {
                    // Kept in wait-id order, so the waits an ending satisfies
                    // are reported in that order, whatever order they began in.
                    let at = op.waiters.partition_point(|(w, _)| *w < wait);
                    op.waiters.insert(at, (wait.clone(), u32::try_from(slot).unwrap_or(u32::MAX)));
                    remaining += 1;
                    None
                }
                None => {
                    remaining += 1;
                    None
                }
            };
            entries.push((id, captured));
        }
        if remaining == 0 {
            self.out.push(Output::WaitSatisfied(report(wait, entries)));
        } else {
            st.waits.insert(wait.clone(), Wait { entries, remaining });
            self.out.push(Output::WaitPending { wait });
        }
    }

    /// Installs an image's operations, retained records and feed, then
    /// applies this lifecycle's limits to them.
    fn load_image(&mut self, st: &mut State<D>, image: Image<D>) {
        for op in image.operations {
            if !op.status.is_terminal() {
                st.active = st.active.saturating_add(1);
            }
            let mut record = Operation::new(op.kind, op.status);
            record.peer_ready = op.peer_ready;
            record.buffered = op.buffered;
            record.progress = op.progress_count;
            record.last_progress = op.last_progress;
            record.outcome = op.outcome;
            st.ops.insert(op.id, record);
        }
        st.retained = image.retained.into();
        st.feed = Feed { watermark: image.feed_watermark, entries: image.feed.into() };
        st.feed.trim(self.lifecycle.limits.feed_retention);
        self.evict_overflow(st);
    }

    fn close_wait(&mut self, st: &mut State<D>, wait: D::WaitId) {
        let Some(closed) = st.waits.remove(&wait) else { return };
        for (id, captured) in &closed.entries {
            if captured.is_none()
                && let Some(op) = st.ops.get_mut(id)
            {
                op.waiters.retain(|(w, _)| *w != wait);
            }
        }
        self.out.push(Output::WaitCancelled { wait });
    }
}

/// The operation in `slot`, if any.
fn op_at<D: Domain>(st: &mut State<D>, slot: Option<usize>) -> Option<&mut Operation<D>> {
    slot.and_then(|pos| st.ops.at_mut(pos))
}

fn report<D: Domain>(wait: D::WaitId, entries: Vec<(D::OpId, Option<Outcome<D>>)>) -> WaitReport<D> {
    WaitReport { wait, outcomes: entries.into_iter().filter_map(|(id, o)| o.map(|o| (id, o))).collect() }
}

fn build_outcome<D: Domain>(
    lc: &Lifecycle,
    target: Target,
    payload: &mut Payload<D>,
) -> Result<Outcome<D>, LifecycleError<D>> {
    let Target::Status(status) = target else {
        return Err(internal("`record outcome` on a row without a target status"));
    };
    let Some(kind) = lc.outcome_of[status.index()] else {
        return Err(internal(format!("status {status} has no outcome variant")));
    };
    match (kind, std::mem::replace(payload, Payload::None)) {
        (OutcomeKind::Completed, Payload::Result(result)) => Ok(Outcome::Completed(result)),
        (OutcomeKind::Failed, Payload::Error(error)) => Ok(Outcome::Failed { error }),
        (OutcomeKind::Aborted, Payload::Reason(reason)) => Ok(Outcome::Aborted { reason }),
        (OutcomeKind::Cancelled, Payload::Reason(reason)) => Ok(Outcome::Cancelled { reason }),
        (OutcomeKind::Retired, _) => Ok(Outcome::Retired),
        (OutcomeKind::Terminated, Payload::Reason(Some(reason)) | Payload::Lost(LostPolicy::Terminate { reason })) => {
            Ok(Outcome::Terminated { reason })
        }
        (OutcomeKind::Cancelled, Payload::Lost(LostPolicy::Cancel { reason })) => Ok(Outcome::Cancelled { reason }),
        (kind, other) => Err(internal(format!("outcome {kind:?} cannot be built from payload {other:?}"))),
    }
}

fn operation_guard<D: Domain>(
    lc: &Lifecycle,
    st: &State<D>,
    guard: Guard,
    input: Input,
    id: &D::OpId,
    status: Status,
    payload: &Payload<D>,
) -> Result<(), LifecycleError<D>> {
    let op = st.ops.get(id);
    let holds = match guard {
        Guard::OwnerActive => match st.phase {
            Phase::Open => true,
            Phase::OwnerTerminated => return Err(LifecycleError::OwnerTerminated),
        },
        Guard::SpecMatchesKind => match payload {
            Payload::Spec { kind, expects_peer } => {
                if kind.expects_peer_channel() != *expects_peer {
                    return Err(LifecycleError::PeerExpectationMismatch {
                        id: id.clone(),
                        kind: *kind,
                        expects_peer: *expects_peer,
                    });
                }
                true
            }
            _ => return Err(internal(format!("guard `{guard}` needs a spec"))),
        },
        Guard::BelowConcurrencyLimit => match lc.limits.max_concurrent {
            Some(limit) if st.active as usize >= limit => {
                return Err(LifecycleError::MaxConcurrentExceeded { limit, active: st.active as usize });
            }
            _ => true,
        },
        Guard::KindExpectsPeer => op.is_some_and(|op| op.kind.expects_peer_channel()),
        Guard::NotYetPeerReady => op.is_some_and(|op| !op.peer_ready),
        Guard::Buffered => op.is_some_and(|op| op.buffered),
        Guard::NotBuffered => op.is_some_and(|op| !op.buffered),
        Guard::LostAsTerminated => matches!(payload, Payload::Lost(LostPolicy::Terminate { .. })),
        Guard::LostAsCancelled => matches!(payload, Payload::Lost(LostPolicy::Cancel { .. })),
        Guard::WaitOpsKnown
        | Guard::WaitOpsDistinct
        | Guard::WaitIdFresh
        | Guard::WaitPending
        | Guard::RegistryPristine
        | Guard::ImageConsistent
        | Guard::ImageOpen
        | Guard::ImageOwnerTerminated => {
            return Err(internal(format!("guard `{guard}` does not apply to one operation")));
        }
    };
    match holds {
        true => Ok(()),
        false if op.is_none() => Err(LifecycleError::NotFound(id.clone())),
        false => Err(lc.refusal(guard.error(), id, status, input)),
    }
}

fn registry_guard<D: Domain>(st: &State<D>, guard: Guard, request: &Request<D>) -> Result<(), LifecycleError<D>> {
    match (guard, request) {
        (Guard::OwnerActive, _) => match st.phase {
            Phase::Open => Ok(()),
            Phase::OwnerTerminated => Err(LifecycleError::OwnerTerminated),
        },
        (Guard::WaitOpsKnown, Request::BeginWait { ids, .. }) => match ids.iter().find(|id| st.ops.get(id).is_none()) {
            Some(unknown) => Err(LifecycleError::NotFound(unknown.clone())),
            None => Ok(()),
        },
        (Guard::WaitOpsDistinct, Request::BeginWait { ids, .. }) => match first_repeated(ids) {
            Some(repeated) => Err(LifecycleError::DuplicateWaitOperation(repeated.clone())),
            None => Ok(()),
        },
        (Guard::WaitIdFresh, Request::BeginWait { wait, .. }) => match st.waits.contains_key(wait) {
            true => Err(LifecycleError::DuplicateWaitRequest(wait.clone())),
            false => Ok(()),
        },
        (Guard::WaitPending, Request::CancelWait { wait }) => match st.waits.contains_key(wait) {
            true => Ok(()),
            false => Err(LifecycleError::WaitNotActive(wait.clone())),
        },
        (Guard::RegistryPristine, _) => match st.is_pristine() {
            true => Ok(()),
            false => Err(LifecycleError::RegistryInUse),
        },
        (Guard::ImageConsistent, Request::Restore { image, .. }) => image.check().map_err(LifecycleError::InvalidImage),
        (Guard::ImageOpen, Request::Restore { image, .. }) => match image.phase {
            Phase::Open => Ok(()),
            Phase::OwnerTerminated => Err(LifecycleError::InvalidImage("captured after owner termination".into())),
        },
        (Guard::ImageOwnerTerminated, Request::Restore { image, .. }) => match image.phase {
            Phase::OwnerTerminated => Ok(()),
            Phase::Open => Err(LifecycleError::InvalidImage("captured while the owner was active".into())),
        },
        (guard, request) => Err(internal(format!("guard `{guard}` does not apply to {}", request.input()))),
    }
}

/// The first id that appears a second time: a scan for short lists, a hash
/// set for long ones.
fn first_repeated<T: Eq + std::hash::Hash>(ids: &[T]) -> Option<&T> {
    if ids.len() <= 16 {
        return ids.iter().enumerate().find(|(i, id)| ids[..*i].contains(id)).map(|(_, id)| id);
    }
    let mut seen = std::collections::HashSet::with_capacity(ids.len());
    ids.iter().find(|id| !seen.insert(*id))
}
