//! The properties the model checks: each invariant of `spec/SPEC.md` as its own
//! named `always` property, and `sometimes` properties proving the
//! interesting states are reached.
//!
//! Liveness ("no wait is stranded", "every watcher is resolved") is stated
//! as safety, because stateright's `eventually` is unsound on cycles.

use oplife_machine::invariants;
use oplife_spec::{OperationKind, OutcomeKind, PublicResult};
use stateright::Property;

use crate::config::MAX_OPS;
use crate::model::LifecycleModel;
use crate::state::{ModelState, fault, witness};

type M = LifecycleModel;

/// 1. The buffered flag is set only on terminal operations.
pub const BUFFERED_ONLY_WHEN_TERMINAL: &str = "1 buffered only when terminal";
/// 2. Peer-ready implies the kind expects a peer channel.
pub const PEER_READY_ONLY_FOR_PEER_KINDS: &str = "2 peer-ready only for kinds with a peer";
/// 3. Every known operation keeps the kind it was registered with.
pub const KIND_IS_KEPT: &str = "3 kind is kept";
/// 4. Terminal status ⇔ an outcome of its own variant.
pub const OUTCOME_MATCHES_STATUS: &str = "4 outcome matches status";
/// 5. The active count is exact and within `max_concurrent`.
pub const ACTIVE_COUNT_IS_EXACT: &str = "5 active count is exact and within the limit";
/// 6. Retained records are the terminal ops in completion order.
pub const RETAINED_ARE_TERMINAL_IN_ORDER: &str = "6 retained are the terminal ops in completion order";
/// 7. No pending wait has nothing left to wait for.
pub const NO_WAIT_STRANDED: &str = "7 no wait is stranded";
/// 8. A satisfied wait reports the outcomes its ops really reached.
pub const WAITS_REPORT_REAL_OUTCOMES: &str = "8 waits report real outcomes";
/// 9. Every watcher is resolved exactly once, with its op's outcome.
///
/// A released (dropped) watcher is neither counted nor notified.
pub const WATCHERS_RESOLVED_ONCE: &str = "9 watchers resolved exactly once";
/// 10. A rejected input leaves the whole state unchanged.
pub const REJECTION_CHANGES_NOTHING: &str = "10 rejection changes nothing";
/// 11. A terminal op never changes again; it can only be forgotten.
pub const TERMINAL_IS_FINAL: &str = "11 terminal is final";
/// 12. After owner termination nothing is active and nothing registers.
pub const TERMINATION_IS_FINAL: &str = "12 owner termination is final";
/// 13. `collect_completed` hands over exactly the retained records.
pub const COLLECT_HANDS_OVER_RETAINED: &str = "13 collect hands over the retained records";

/// 14. Feed sequence numbers strictly increase, one after the other.
pub const FEED_SEQUENCES_INCREASE: &str = "14 feed sequences strictly increase";
/// 15. Exactly one feed entry per terminal transition.
pub const ONE_FEED_ENTRY_PER_TERMINAL: &str = "15 one feed entry per terminal transition";
/// 16. A retained feed entry carries its op's outcome and kind.
pub const FEED_CARRIES_OUTCOME: &str = "16 feed entries carry the op's outcome";
/// 17. A restart keeps terminal records and feed entries, ends lost ops.
///
/// Lost operations end as the restore policy says.
pub const RESTART_KEEPS_TERMINAL: &str = "17 restart keeps terminal records and feed entries";
/// 18. A crash loses no acknowledged call.
///
/// Every accepted call either is journaled and replays onto the last durable
/// image into the durable state it left, or is process-local and leaves the
/// durable state as it was; a crash then reopens exactly that state.
pub const CRASH_LOSES_NOTHING: &str = "18 a crash loses no acknowledged call";
/// 19. A rolled-back registration leaves no trace.
///
/// The registry is as if the operation had never been registered: the same
/// image without it, and no watcher or wait of it.
pub const ROLLBACK_LEAVES_NO_TRACE: &str = "19 a rolled-back registration leaves no trace";
/// 20. A caller's admission limit holds.
///
/// A registration limited to `n` active operations of its kind never makes
/// more than `n` of them active; one limited to `n` active operations of
/// any kind never makes more than `n` active.
pub const ADMISSION_LIMIT_HOLDS: &str = "20 a caller's admission limit holds";
/// 21. A refused call is classified as a retry by what happened.
///
/// A call that ends an operation, refused because the operation already
/// ended, is a repeat if it ended the way the call asks (with the same
/// payload), a conflict if it ended another way; every other refusal is
/// invalid.
pub const RETRIES_CLASSIFIED: &str = "21 refused calls are classified by what happened";

/// A registry whose durable store a newer owner took over changes nothing
/// durable: every call that would is refused (it is sealed), so the store
/// holds exactly what the registry had made durable before the takeover.
pub const FENCED_CHANGES_NOTHING: &str = "22 a fenced registry changes nothing durable";
/// 23. A registration's source agrees with its kind and child session.
///
/// A registration that says what its operation stands for outside the
/// registry (a child session, a backend peer, a detached job) is accepted
/// only when that agrees with its kind and the child session it names.
pub const SOURCE_AGREES: &str = "23 a registration's source agrees with its kind";
/// 24. Public results agree with outcomes.
///
/// What a caller is told of an operation's result agrees with how it ended:
/// the table's public result of a known operation's status is `Running`
/// while it has no outcome, and otherwise names how it ended: `Completed`
/// for a result, `Failed` for an error or its owner's termination,
/// `Cancelled` for an abandoned, cancelled or retired operation.
pub const PUBLIC_RESULT_AGREES: &str = "24 public results agree with outcomes";
/// 25. A dropped ending leaves nothing.
///
/// An operation whose kind drops its ending (a capacity slot) hands its
/// outcome to its watchers and waits, and is then forgotten: no feed
/// entry, no retained record, reported dropped; and no restart or crash
/// knows it, ended or not.
pub const DROPPED_LEAVES_NOTHING: &str = "25 a dropped ending leaves nothing";
/// 26. A restart keeps what it must, and only that.
///
/// A running wait on a detached job, and an unfinished operation the
/// restart is asked to keep, come back as they were; every other
/// unfinished operation ends as lost. A request to keep an operation the
/// image does not hold unfinished, with the kind and source asked, is
/// refused and nothing restarts.
pub const RESTART_KEEPS_WHAT_IT_MUST: &str = "26 a restart keeps what it must, and only that";
/// 27. Endings of detached work wake the owner.
///
/// The completion-feed entry of a background job or of a wait on a
/// detached job wakes the owner; a child agent's (it reports to its peers)
/// and a capacity slot's (it has none) do not.
pub const WAKES_DETACHED_OWNERS: &str = "27 endings of detached work wake the owner";
/// 28. A cursor never goes back nor passes the durable feed.
///
/// A consumer's cursor moves only ahead, only as far as the feed is
/// durable, and stays where it is when asked to; every other move is
/// refused and changes nothing.
pub const CURSOR_ONLY_AHEAD: &str = "28 a cursor never goes back nor passes the durable feed";
/// Twin of [`CURSOR_ONLY_AHEAD`]: a cursor moves.
pub const SOMETIMES_CURSOR_MOVES: &str = "sometimes: a cursor moves ahead";
/// Twin of [`CURSOR_ONLY_AHEAD`]: a cursor past the feed is refused.
pub const SOMETIMES_CURSOR_REFUSED: &str = "sometimes: a cursor asked past the durable feed is refused";
/// Twin of [`WAKES_DETACHED_OWNERS`].
pub const SOMETIMES_ENDING_WAKES: &str = "sometimes: an ending wakes its owner";
/// Twin of [`DROPPED_LEAVES_NOTHING`].
pub const SOMETIMES_DROPPED: &str = "sometimes: a capacity slot's ending is dropped";
/// Twin of [`RESTART_KEEPS_WHAT_IT_MUST`]: a wait on a detached job
/// survives.
pub const SOMETIMES_DETACHED_SURVIVES: &str = "sometimes: a running wait on a detached job survives a restart";
/// Twin of [`RESTART_KEEPS_WHAT_IT_MUST`]: an operation is kept as asked.
pub const SOMETIMES_KEPT_AS_ASKED: &str = "sometimes: a restart keeps the operation it is asked to keep";
/// Twin of [`RESTART_KEEPS_WHAT_IT_MUST`]: a request to keep is refused.
pub const SOMETIMES_RETENTION_REFUSED: &str = "sometimes: a request to keep what the image lacks is refused";
/// Twin of [`PUBLIC_RESULT_AGREES`]: a winding-down operation is still
/// told as running.
pub const SOMETIMES_RETIRING_REPORTS_RUNNING: &str = "sometimes: a retiring operation reports running";
/// Twin of [`SOURCE_AGREES`].
pub const SOMETIMES_SOURCE_REFUSES: &str = "sometimes: a source that disagrees refuses a registration";
/// Twin of [`FENCED_CHANGES_NOTHING`].
pub const SOMETIMES_FENCED_REFUSES: &str = "sometimes: a fenced registry refuses a call as sealed";
/// An op is evicted.
pub const SOMETIMES_EVICTION: &str = "sometimes: a record is evicted";
/// A wait is satisfied after a record it tracked was evicted.
pub const SOMETIMES_SATISFIED_AFTER_EVICTION: &str = "sometimes: a wait is satisfied after its op was evicted";
/// A pending wait is cancelled.
pub const SOMETIMES_WAIT_CANCELLED: &str = "sometimes: a pending wait is cancelled";
/// Owner termination resolves a pending wait and a pending watcher.
pub const SOMETIMES_TERMINATION_WITH_PENDING: &str = "sometimes: owner termination resolves pending waits and watchers";
/// The feed drops its oldest entry.
pub const SOMETIMES_FEED_DROPS: &str = "sometimes: the feed drops its oldest entry";
/// A restart ends a lost operation.
pub const SOMETIMES_RESTART_RESOLVES_LOST: &str = "sometimes: a restart ends a lost operation";
/// A retained record survives a restart.
pub const SOMETIMES_RESTART_KEEPS_RECORD: &str = "sometimes: a retained record survives a restart";
/// A pending watcher is released because its watch was dropped.
pub const SOMETIMES_WATCHER_RELEASED: &str = "sometimes: a dropped watch releases its pending watcher";
/// A crash recovers a terminal record from the journal.
pub const SOMETIMES_CRASH_KEEPS_RECORD: &str = "sometimes: a terminal record survives a crash";
/// A caller's admission limit refuses a registration.
pub const SOMETIMES_ADMISSION_REFUSES: &str = "sometimes: a caller's admission limit refuses a registration";
/// A caller's concurrency limit refuses a registration the registry's own
/// limit would admit.
pub const SOMETIMES_CALLER_LIMIT_REFUSES: &str = "sometimes: a caller's concurrency limit refuses a registration";
/// A refused call is classified as a repeat.
pub const SOMETIMES_RETRY_REPEAT: &str = "sometimes: a refused call is a repeat of what happened";
/// A registration is rolled back.
pub const SOMETIMES_ROLLBACK: &str = "sometimes: a registration is rolled back";
/// The concurrency limit refuses a registration.
pub const SOMETIMES_LIMIT_REFUSES: &str = "sometimes: the concurrency limit refuses a registration";

// Facts about one state are the machine's invariants, written once in
// `oplife_machine::invariants`; the model adds what only its environment
// knows (what it was told, in which order).

fn buffered_only_when_terminal(_: &M, s: &ModelState) -> bool {
    invariants::buffered_only_when_terminal(&s.machine).is_ok()
}

fn peer_ready_only_for_peer_kinds(_: &M, s: &ModelState) -> bool {
    invariants::peer_ready_only_for_peer_kinds(&s.machine).is_ok()
}

fn kind_is_kept(_: &M, s: &ModelState) -> bool {
    s.machine.operations().all(|(id, op)| s.kinds.get(usize::from(*id)) == Some(&Some(op.kind())))
}

/// The shipped table: what the properties expect, whatever table (a mutant)
/// the machine under check was compiled from.
pub(crate) static SHIPPED: std::sync::LazyLock<oplife_spec::Table> =
    std::sync::LazyLock::new(oplife_spec::Table::standard);

fn outcome_matches_status(_: &M, s: &ModelState) -> bool {
    invariants::outcome_matches_status(&s.machine, &SHIPPED).is_ok()
}

fn active_count_is_exact(m: &M, s: &ModelState) -> bool {
    invariants::active_count_is_exact(&s.machine, &m.lifecycle.limits()).is_ok()
}

fn retained_are_terminal_in_order(m: &M, s: &ModelState) -> bool {
    s.faults & fault::RETAINED_OVERFLOW == 0
        && s.machine.retained().eq(s.completion.as_slice())
        && invariants::retained_are_terminal(&s.machine, Some(m.config.max_completed)).is_ok()
}

fn no_wait_stranded(_: &M, s: &ModelState) -> bool {
    // The environment's waits are exactly the machine's pending ones, and
    // each still waits for an operation that can end.
    let env_agrees = s.waits.iter().enumerate().all(|(slot, w)| {
        let machine_pending = u8::try_from(slot).is_ok_and(|slot| s.machine.pending_wait(&slot).is_some());
        let waiting_on_live_op = (0..MAX_OPS).any(|id| {
            let status = s.machine.status(&u8::try_from(id).unwrap_or(u8::MAX));
            w.ids & (1 << id) != 0 && w.seen[id].is_none() && status.is_known() && !status.is_terminal()
        });
        w.pending == machine_pending && (!w.pending || waiting_on_live_op)
    });
    env_agrees && invariants::no_wait_is_stranded(&s.machine).is_ok()
}

fn waits_report_real_outcomes(_: &M, s: &ModelState) -> bool {
    s.faults & fault::WAIT_REPORT == 0
}

fn watchers_resolved_once(_: &M, s: &ModelState) -> bool {
    s.faults & fault::WATCHER == 0
        && s.watchers.iter().enumerate().all(|(id, held)| {
            let id = u8::try_from(id).unwrap_or(u8::MAX);
            match s.machine.operation(&id) {
                Some(op) => op.watcher_count() == u32::from(*held) && (*held == 0 || !op.status().is_terminal()),
                None => *held == 0,
            }
        })
}

fn rejection_changes_nothing(_: &M, s: &ModelState) -> bool {
    s.faults & fault::REJECTION_CHANGED_STATE == 0
}

fn terminal_is_final(_: &M, s: &ModelState) -> bool {
    s.faults & fault::TERMINAL_CHANGED == 0
}

fn termination_is_final(_: &M, s: &ModelState) -> bool {
    s.faults & fault::REGISTERED_AFTER_TERMINATION == 0 && invariants::termination_is_final(&s.machine).is_ok()
}

fn collect_hands_over_retained(_: &M, s: &ModelState) -> bool {
    s.faults & fault::COLLECT == 0
}

fn feed_sequences_increase(m: &M, s: &ModelState) -> bool {
    s.faults & fault::FEED_SEQUENCE == 0
        && invariants::feed_is_consecutive(&s.machine, Some(m.config.feed_retention)).is_ok()
}

fn one_feed_entry_per_terminal(_: &M, s: &ModelState) -> bool {
    s.faults & fault::FEED_ENTRY == 0
}

fn feed_carries_outcome(_: &M, s: &ModelState) -> bool {
    s.faults & fault::FEED_OUTCOME == 0
        && s.machine.operations().filter(|(_, op)| op.status().is_terminal()).all(|(id, op)| {
            // Older entries of a reused id are dropped first, so the newest
            // entry for a terminal op is its own.
            s.machine
                .feed()
                .entries()
                .filter(|e| e.id == *id)
                .last()
                .is_none_or(|e| Some(&*e.outcome) == op.outcome() && e.kind == op.kind())
        })
}

fn restart_keeps_terminal(_: &M, s: &ModelState) -> bool {
    s.faults & fault::RESTORE == 0
}

fn crash_loses_nothing(_: &M, s: &ModelState) -> bool {
    s.faults & fault::LOST_IN_CRASH == 0
}

fn rollback_leaves_no_trace(_: &M, s: &ModelState) -> bool {
    s.faults & fault::ROLLBACK_TRACE == 0
}

fn admission_limit_holds(_: &M, s: &ModelState) -> bool {
    s.faults & fault::ADMISSION == 0
}

fn retries_classified(_: &M, s: &ModelState) -> bool {
    s.faults & fault::RETRY == 0
}

fn fenced_changes_nothing(_: &M, s: &ModelState) -> bool {
    s.faults & fault::FENCED_WROTE == 0
}

fn source_agrees(_: &M, s: &ModelState) -> bool {
    s.faults & fault::SOURCE == 0
}

fn public_result_agrees(m: &M, s: &ModelState) -> bool {
    let table = m.lifecycle.table();
    s.machine.operations().all(|(_, op)| {
        let ended = op.outcome().map(|outcome| outcome.kind());
        matches!(
            (table.public_result(op.status()), ended),
            (PublicResult::Running, None)
                | (PublicResult::Completed, Some(OutcomeKind::Completed))
                | (PublicResult::Failed, Some(OutcomeKind::Failed | OutcomeKind::Terminated))
                | (PublicResult::Cancelled, Some(OutcomeKind::Aborted | OutcomeKind::Cancelled | OutcomeKind::Retired))
        )
    })
}

fn dropped_leaves_nothing(_: &M, s: &ModelState) -> bool {
    s.faults & fault::DROPPED == 0
}

fn restart_keeps_what_it_must(_: &M, s: &ModelState) -> bool {
    s.faults & fault::KEPT == 0
}

fn cursor_only_ahead(_: &M, s: &ModelState) -> bool {
    s.faults & fault::CURSOR == 0 && s.cursor <= s.machine.feed().watermark()
}

fn wakes_detached_owners(m: &M, s: &ModelState) -> bool {
    let table = m.lifecycle.table();
    s.machine.feed().entries().all(|entry| {
        table.wakes_owner(entry.kind)
            == matches!(entry.kind, OperationKind::BackgroundToolOp | OperationKind::DetachedJobWait)
    })
}

/// The `always` properties: every invariant of `spec/SPEC.md`, collection, the
/// completion feed, and restarts.
pub fn invariants() -> Vec<Property<M>> {
    vec![
        Property::always(BUFFERED_ONLY_WHEN_TERMINAL, buffered_only_when_terminal),
        Property::always(PEER_READY_ONLY_FOR_PEER_KINDS, peer_ready_only_for_peer_kinds),
        Property::always(KIND_IS_KEPT, kind_is_kept),
        Property::always(OUTCOME_MATCHES_STATUS, outcome_matches_status),
        Property::always(ACTIVE_COUNT_IS_EXACT, active_count_is_exact),
        Property::always(RETAINED_ARE_TERMINAL_IN_ORDER, retained_are_terminal_in_order),
        Property::always(NO_WAIT_STRANDED, no_wait_stranded),
        Property::always(WAITS_REPORT_REAL_OUTCOMES, waits_report_real_outcomes),
        Property::always(WATCHERS_RESOLVED_ONCE, watchers_resolved_once),
        Property::always(REJECTION_CHANGES_NOTHING, rejection_changes_nothing),
        Property::always(TERMINAL_IS_FINAL, terminal_is_final),
        Property::always(TERMINATION_IS_FINAL, termination_is_final),
        Property::always(COLLECT_HANDS_OVER_RETAINED, collect_hands_over_retained),
        Property::always(FEED_SEQUENCES_INCREASE, feed_sequences_increase),
        Property::always(ONE_FEED_ENTRY_PER_TERMINAL, one_feed_entry_per_terminal),
        Property::always(FEED_CARRIES_OUTCOME, feed_carries_outcome),
        Property::always(RESTART_KEEPS_TERMINAL, restart_keeps_terminal),
        Property::always(CRASH_LOSES_NOTHING, crash_loses_nothing),
        Property::always(ROLLBACK_LEAVES_NO_TRACE, rollback_leaves_no_trace),
        Property::always(ADMISSION_LIMIT_HOLDS, admission_limit_holds),
        Property::always(RETRIES_CLASSIFIED, retries_classified),
        Property::always(FENCED_CHANGES_NOTHING, fenced_changes_nothing),
        Property::always(SOURCE_AGREES, source_agrees),
        Property::always(PUBLIC_RESULT_AGREES, public_result_agrees),
        Property::always(DROPPED_LEAVES_NOTHING, dropped_leaves_nothing),
        Property::always(RESTART_KEEPS_WHAT_IT_MUST, restart_keeps_what_it_must),
        Property::always(WAKES_DETACHED_OWNERS, wakes_detached_owners),
        Property::always(CURSOR_ONLY_AHEAD, cursor_only_ahead),
    ]
}

/// What a state shows.
type Shows = fn(&M, &ModelState) -> bool;

/// Whether the step into a state showed witness `BIT`.
fn saw<const BIT: u32>(_: &M, s: &ModelState) -> bool {
    s.witnessed & BIT != 0
}

/// Every `sometimes` property, with the witness bit that shows it. Whether a
/// configuration can reach one is not written here: the check derives it
/// (see [`crate::verdict`]).
const EXAMPLES: [(&str, u32, Shows); 24] = {
    use witness::*;
    [
        (SOMETIMES_EVICTION, EVICTED, saw::<EVICTED>),
        (SOMETIMES_WAIT_CANCELLED, WAIT_CANCELLED, saw::<WAIT_CANCELLED>),
        (SOMETIMES_SATISFIED_AFTER_EVICTION, SATISFIED_AFTER_EVICTION, saw::<SATISFIED_AFTER_EVICTION>),
        (SOMETIMES_WATCHER_RELEASED, WATCHER_RELEASED, saw::<WATCHER_RELEASED>),
        (SOMETIMES_TERMINATION_WITH_PENDING, TERMINATION_RESOLVED_PENDING, saw::<TERMINATION_RESOLVED_PENDING>),
        (SOMETIMES_FEED_DROPS, FEED_DROPPED, saw::<FEED_DROPPED>),
        (SOMETIMES_RESTART_RESOLVES_LOST, RESTART_RESOLVED_LOST, saw::<RESTART_RESOLVED_LOST>),
        (SOMETIMES_RESTART_KEEPS_RECORD, RESTART_KEPT_RECORD, saw::<RESTART_KEPT_RECORD>),
        (SOMETIMES_ROLLBACK, ROLLED_BACK, saw::<ROLLED_BACK>),
        (SOMETIMES_RETRY_REPEAT, RETRY_REPEAT, saw::<RETRY_REPEAT>),
        (SOMETIMES_ADMISSION_REFUSES, ADMISSION_REFUSED, saw::<ADMISSION_REFUSED>),
        (SOMETIMES_CALLER_LIMIT_REFUSES, CALLER_LIMIT_REFUSED, saw::<CALLER_LIMIT_REFUSED>),
        (SOMETIMES_SOURCE_REFUSES, SOURCE_REFUSED, saw::<SOURCE_REFUSED>),
        (SOMETIMES_RETIRING_REPORTS_RUNNING, RETIRING_RUNNING, saw::<RETIRING_RUNNING>),
        (SOMETIMES_CRASH_KEEPS_RECORD, CRASH_KEPT_RECORD, saw::<CRASH_KEPT_RECORD>),
        (SOMETIMES_FENCED_REFUSES, FENCED_REFUSED, saw::<FENCED_REFUSED>),
        (SOMETIMES_LIMIT_REFUSES, LIMIT_REFUSED, saw::<LIMIT_REFUSED>),
        (SOMETIMES_DROPPED, DROPPED_ENDING, saw::<DROPPED_ENDING>),
        (SOMETIMES_DETACHED_SURVIVES, DETACHED_SURVIVED, saw::<DETACHED_SURVIVED>),
        (SOMETIMES_KEPT_AS_ASKED, KEPT_AS_ASKED, saw::<KEPT_AS_ASKED>),
        (SOMETIMES_RETENTION_REFUSED, RETENTION_REFUSED, saw::<RETENTION_REFUSED>),
        (SOMETIMES_ENDING_WAKES, ENDING_WAKES, saw::<ENDING_WAKES>),
        (SOMETIMES_CURSOR_MOVES, CURSOR_MOVED, saw::<CURSOR_MOVED>),
        (SOMETIMES_CURSOR_REFUSED, CURSOR_REFUSED, saw::<CURSOR_REFUSED>),
    ]
};

/// Each `sometimes` property's name with the witness bit that shows it.
pub fn example_witnesses() -> impl Iterator<Item = (&'static str, u32)> {
    EXAMPLES.iter().map(|(name, bit, _)| (*name, *bit))
}

/// The `sometimes` properties, checked by the example search (witnesses
/// on).
pub fn examples() -> Vec<Property<M>> {
    EXAMPLES.iter().map(|(name, _, shows)| Property::sometimes(name, *shows)).collect()
}
