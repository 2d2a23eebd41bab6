//! A deterministic workload for the crash tests: the same seed gives the
//! same calls, with the same ids and payloads, so the harness can replay
//! what a killed worker was acknowledged for through a fresh registry.

use oplife_shell::uuid::Uuid;
use oplife_shell::{
    OperationId, OperationPeerHandle, OperationProgressUpdate, OperationResult, OperationSpec, OpsLifecycleConfig,
    OpsLifecycleError, OpsLifecycleRegistry, RuntimeOpsLifecycleRegistry, SessionId, StateLock,
};

/// How many operation ids the workload draws from.
pub const POOL: u64 = 24;

/// The configuration the worker and the harness's replay share: small
/// retention, so eviction and feed drops happen.
pub fn crash_config() -> OpsLifecycleConfig {
    OpsLifecycleConfig { max_completed: 6, feed_retention: 8, ..OpsLifecycleConfig::default() }
}

/// A small deterministic generator (SplitMix64).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed`.
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    /// The next number.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number below `n` (`n` > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
}

/// The id of pool slot `slot` in the workload of `seed`.
pub fn id(seed: u64, slot: u64) -> OperationId {
    OperationId(Uuid::from_u128((u128::from(seed) << 64) | u128::from(slot + 1)))
}

/// One call of the workload.
#[derive(Debug, Clone)]
pub enum Step {
    /// `register_operation` of slot `.0`, a child agent when `.1`.
    Register(u64, bool),
    /// `provisioning_succeeded`.
    Start(u64),
    /// `peer_ready`.
    PeerReady(u64),
    /// `report_progress`.
    Progress(u64),
    /// `complete_operation`.
    Complete(u64),
    /// `fail_operation`.
    Fail(u64),
    /// `cancel_operation`.
    Cancel(u64),
    /// `request_retire`.
    Retire(u64),
    /// `mark_retired`.
    Retired(u64),
    /// `collect_terminal`.
    CollectOne(u64),
    /// `collect_completed`.
    CollectAll,
    /// `register_watcher`, dropped at once (process-local: not journaled).
    Watch(u64),
    /// `advance_cursor` of consumer `.0` to `.1`.
    Cursor(u8, u64),
    /// `rollback_registration`.
    Rollback(u64),
    /// `register_operation_limited` of slot `.0` with limit `.1`.
    RegisterLimited(u64, u32),
}

impl Step {
    /// The next step of the workload; cursor moves only with `cursors`
    /// (a `Batched` registry refuses moves past its durable watermark, which
    /// depends on timing, so its workload has none: a watch instead).
    pub fn draw(rng: &mut Rng, cursors: bool) -> Step {
        let slot = rng.below(POOL);
        match rng.below(100) {
            0..=15 => Step::Register(slot, rng.below(3) == 0),
            16..=17 => Step::RegisterLimited(slot, u32::try_from(rng.below(4)).unwrap_or(0)),
            18..=19 => Step::Rollback(slot),
            20..=34 => Step::Start(slot),
            35..=39 => Step::PeerReady(slot),
            40..=46 => Step::Progress(slot),
            47..=61 => Step::Complete(slot),
            62..=66 => Step::Fail(slot),
            67..=72 => Step::Cancel(slot),
            73..=76 => Step::Retire(slot),
            77..=80 => Step::Retired(slot),
            81..=85 => Step::CollectOne(slot),
            86..=87 => Step::CollectAll,
            88..=93 => Step::Watch(slot),
            _ => {
                let step = Step::Cursor(u8::try_from(rng.below(3)).unwrap_or(0), rng.below(40));
                if cursors { step } else { Step::Watch(slot) }
            }
        }
    }

    /// Makes the call on `registry`; `Ok` whether the registry accepted or
    /// refused it (a refusal changes nothing), `Err` only for a failure of
    /// the store or a fenced registry (a newer owner holds the store).
    pub fn run<L: StateLock<oplife_shell::RegistryState>>(
        &self,
        seed: u64,
        registry: &RuntimeOpsLifecycleRegistry<L>,
    ) -> Result<bool, OpsLifecycleError> {
        let at = |slot: u64| id(seed, slot);
        let result = match *self {
            Step::Register(slot, child) => {
                let owner = SessionId(Uuid::from_u128(u128::from(seed)));
                let mut spec = match child {
                    true => OperationSpec::child_agent(owner, format!("agent {slot}"), SessionId(Uuid::from_u128(7))),
                    false => OperationSpec::background_tool(owner, format!("tool {slot}")),
                };
                spec.id = at(slot);
                registry.register_operation(spec)
            }
            Step::Start(slot) => registry.provisioning_succeeded(&at(slot)),
            Step::PeerReady(slot) => {
                let peer = OperationPeerHandle::new(format!("peer {slot}"), slot.to_string(), "inproc");
                registry.peer_ready(&at(slot), peer)
            }
            Step::Progress(slot) => registry.report_progress(
                &at(slot),
                OperationProgressUpdate { message: format!("step of {slot}"), percent: Some(50.into()) },
            ),
            Step::Complete(slot) => registry.complete_operation(&at(slot), OperationResult::new(at(slot), "done")),
            Step::Fail(slot) => registry.fail_operation(&at(slot), format!("failed {slot}")),
            Step::Cancel(slot) => registry.cancel_operation(&at(slot), Some("stop".into())),
            Step::Retire(slot) => registry.request_retire(&at(slot)),
            Step::Retired(slot) => registry.mark_retired(&at(slot)),
            Step::CollectOne(slot) => registry.collect_terminal(&at(slot)),
            Step::CollectAll => registry.collect_completed().map(drop),
            Step::Watch(slot) => registry.register_watcher(&at(slot)).map(drop),
            Step::Rollback(slot) => registry.rollback_registration(&at(slot)),
            Step::RegisterLimited(slot, limit) => {
                let mut spec = OperationSpec::background_tool(SessionId(Uuid::from_u128(u128::from(seed))), "limited");
                spec.id = at(slot);
                registry.register_operation_limited(spec, limit)
            }
            Step::Cursor(consumer, seq) => registry.advance_cursor(&format!("consumer {consumer}"), seq).map(drop),
        };
        match result {
            Ok(()) => Ok(true),
            Err(error @ (OpsLifecycleError::Store(_) | OpsLifecycleError::Refused(oplife_shell::Refusal::Sealed))) => {
                Err(error)
            }
            Err(_) => Ok(false),
        }
    }
}

/// What must survive a crash, without the clock readings (a reopened
/// registry ends lost operations at its own time): the machine's image, the
/// shell's names and handles, the feed details' names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DurableView {
    /// The machine's image.
    pub image: oplife_machine::Image<oplife_shell::ShellDomain>,
    /// Each record's id, display name, child session and peer handle.
    pub records: Vec<(OperationId, String, Option<SessionId>, Option<OperationPeerHandle>)>,
    /// Each feed detail's sequence number and display name.
    pub feed: Vec<(u64, String)>,
    /// The workload's consumers' cursors.
    pub cursors: Vec<u64>,
}

/// The durable view of `registry`.
pub fn durable_view<L: StateLock<oplife_shell::RegistryState>>(
    registry: &RuntimeOpsLifecycleRegistry<L>,
) -> Result<DurableView, OpsLifecycleError> {
    let snapshot = registry.capture()?;
    let cursors = (0..3).map(|c| registry.cursor(&format!("consumer {c}"))).collect::<Result<_, _>>()?;
    Ok(DurableView {
        image: snapshot.image,
        records: snapshot
            .records
            .into_iter()
            .map(|r| (r.id, r.display_name, r.child_session_id, r.peer_handle))
            .collect(),
        feed: snapshot.feed_details.into_iter().map(|d| (d.seq, d.display_name)).collect(),
        cursors,
    })
}

/// The durable view a reopened store must show after `registry`'s calls:
/// its capture restored with the default policy (cursors carried over).
pub fn reopened_view<L: StateLock<oplife_shell::RegistryState>>(
    registry: &RuntimeOpsLifecycleRegistry<L>,
) -> Result<DurableView, String> {
    let restored = RuntimeOpsLifecycleRegistry::restore(
        registry.capture().map_err(|e| e.to_string())?,
        oplife_shell::RestorePolicy::default(),
    )
    .map_err(|e| e.to_string())?;
    let mut view = durable_view(&restored).map_err(|e| e.to_string())?;
    view.cursors = (0..3)
        .map(|c| registry.cursor(&format!("consumer {c}")))
        .collect::<Result<_, _>>()
        .map_err(|e| e.to_string())?;
    Ok(view)
}

/// The first `m` calls of the workload of `seed` made on `registry`, for
/// each `m` from `floor` up to `ceiling`, until its reopened view equals
/// `recovered`: the `m` found, if any. `cursors` as [`Step::draw`] takes it.
pub fn matching_prefix<L: StateLock<oplife_shell::RegistryState>>(
    registry: &RuntimeOpsLifecycleRegistry<L>,
    seed: u64,
    cursors: bool,
    (floor, ceiling): (u64, u64),
    recovered: &DurableView,
) -> Option<u64> {
    let mut rng = Rng::new(seed);
    for m in 0..=ceiling {
        if m > 0 {
            Step::draw(&mut rng, cursors).run(seed, registry).ok()?;
        }
        if m >= floor && reopened_view(registry).ok()? == *recovered {
            return Some(m);
        }
    }
    None
}
