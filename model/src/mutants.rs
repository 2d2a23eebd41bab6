//! Deliberately wrong tables. Each is the shipped table with one rule
//! altered; the model must catch every one, and names the property that
//! should.

use oplife_spec::{
    Allowed, Effect, Ending, Guard, Input, OnRestore, OperationKind, OutcomeKind, Status, StatusSet, Table,
};

use crate::properties as p;

/// One mutant: how it breaks the table and which property must catch it.
#[derive(Debug, Clone, Copy)]
pub struct Mutant {
    /// A short name.
    pub name: &'static str,
    /// What is wrong, in the domain's words.
    pub description: &'static str,
    /// The property that catches it.
    pub caught_by: &'static str,
    alter: fn(&mut Table),
}

impl Mutant {
    /// The shipped table with this mutant's alteration.
    pub fn table(&self) -> Table {
        let mut table = Table::standard();
        (self.alter)(&mut table);
        table
    }
}

fn rows_of(table: &mut Table, input: Input) -> impl Iterator<Item = &mut oplife_spec::Rule> {
    table.rows.iter_mut().filter(move |r| r.input == input)
}

fn drop_effect(table: &mut Table, input: Input, effect: Effect) {
    for row in rows_of(table, input) {
        row.effects.retain(|e| *e != effect);
    }
}

fn drop_guard(table: &mut Table, input: Input, guard: Guard) {
    for row in rows_of(table, input) {
        row.guards.retain(|g| *g != guard);
    }
}

/// The catalogue.
pub const CATALOGUE: &[Mutant] = &[
    Mutant {
        name: "complete-forgets-active-count",
        description: "complete_operation does not release the active slot",
        caught_by: p::ACTIVE_COUNT_IS_EXACT,
        alter: |t| drop_effect(t, Input::Complete, Effect::ReleaseSlot),
    },
    Mutant {
        name: "register-ignores-limit",
        description: "register_operation does not check max_concurrent",
        caught_by: p::ACTIVE_COUNT_IS_EXACT,
        alter: |t| drop_guard(t, Input::Register, Guard::BelowConcurrencyLimit),
    },
    Mutant {
        name: "cancel-skips-waits",
        description: "cancel_operation does not satisfy the waits tracking the op",
        caught_by: p::NO_WAIT_STRANDED,
        alter: |t| drop_effect(t, Input::Cancel, Effect::SatisfyWaits),
    },
    Mutant {
        name: "waits-satisfied-before-outcome",
        description: "terminal effects satisfy waits before the outcome is recorded",
        caught_by: p::NO_WAIT_STRANDED,
        alter: |t| {
            for row in rows_of(t, Input::Complete) {
                row.effects.retain(|e| *e != Effect::SatisfyWaits);
                row.effects.insert(0, Effect::SatisfyWaits);
            }
        },
    },
    Mutant {
        name: "wait-accepts-unknown-ids",
        description: "wait_all accepts ids the registry does not know",
        caught_by: p::NO_WAIT_STRANDED,
        alter: |t| drop_guard(t, Input::BeginWait, Guard::WaitOpsKnown),
    },
    Mutant {
        name: "dropped-wait-stays-pending",
        description: "dropping a wait future does not cancel its wait request",
        caught_by: p::NO_WAIT_STRANDED,
        alter: |t| drop_effect(t, Input::CancelWait, Effect::CloseWait),
    },
    Mutant {
        name: "watcher-notified-twice",
        description: "a watcher registered on a terminal op is resolved twice",
        caught_by: p::WATCHERS_RESOLVED_ONCE,
        alter: |t| {
            for row in rows_of(t, Input::RegisterWatcher) {
                if row.effects == [Effect::ResolveWatch] {
                    row.effects.push(Effect::ResolveWatch);
                }
            }
        },
    },
    Mutant {
        name: "fail-forgets-watchers",
        description: "fail_operation does not notify pending watchers",
        caught_by: p::WATCHERS_RESOLVED_ONCE,
        alter: |t| drop_effect(t, Input::Fail, Effect::NotifyWatchers),
    },
    Mutant {
        name: "fail-from-terminal",
        description: "fail_operation is allowed from Completed",
        caught_by: p::TERMINAL_IS_FINAL,
        alter: |t| {
            for row in rows_of(t, Input::Fail) {
                row.from = Allowed::Statuses(StatusSet::ACTIVE.with(Status::Completed));
            }
        },
    },
    Mutant {
        name: "collect-drops-outcomes",
        description: "collect_completed forgets records without handing them over",
        caught_by: p::COLLECT_HANDS_OVER_RETAINED,
        alter: |t| drop_effect(t, Input::Drain, Effect::ReportCollected),
    },
    Mutant {
        name: "termination-leaves-retiring",
        description: "terminate_owner leaves retiring operations running",
        caught_by: p::TERMINATION_IS_FINAL,
        alter: |t| {
            for row in rows_of(t, Input::Terminate) {
                row.from = Allowed::Statuses(StatusSet::ACTIVE.without(Status::Retiring));
            }
        },
    },
    Mutant {
        name: "register-after-termination",
        description: "register_operation is accepted after the owner terminated",
        caught_by: p::TERMINATION_IS_FINAL,
        alter: |t| drop_guard(t, Input::Register, Guard::OwnerActive),
    },
    Mutant {
        name: "peer-ready-for-background",
        description: "peer_ready is accepted for a background tool op",
        caught_by: p::PEER_READY_ONLY_FOR_PEER_KINDS,
        alter: |t| drop_guard(t, Input::PeerReady, Guard::KindExpectsPeer),
    },
    Mutant {
        name: "started-op-is-buffered",
        description: "provisioning_succeeded retains and buffers a running op",
        caught_by: p::BUFFERED_ONLY_WHEN_TERMINAL,
        alter: |t| {
            for row in rows_of(t, Input::ProvisioningSucceeded) {
                row.effects.push(Effect::Retain);
            }
        },
    },
    Mutant {
        name: "no-eviction-on-complete",
        description: "complete_operation never evicts, so retention grows past max_completed",
        caught_by: p::RETAINED_ARE_TERMINAL_IN_ORDER,
        alter: |t| drop_effect(t, Input::Complete, Effect::EvictOverflow),
    },
    Mutant {
        name: "evicted-record-stays-retained",
        description: "eviction forgets the record but leaves it in the completion order",
        caught_by: p::RETAINED_ARE_TERMINAL_IN_ORDER,
        alter: |t| drop_effect(t, Input::Evict, Effect::Unretain),
    },
    Mutant {
        name: "complete-skips-feed",
        description: "complete_operation mints no completion feed entry",
        caught_by: p::ONE_FEED_ENTRY_PER_TERMINAL,
        alter: |t| drop_effect(t, Input::Complete, Effect::AppendFeed),
    },
    Mutant {
        name: "fail-feeds-twice",
        description: "fail_operation mints two feed entries for one terminal transition",
        caught_by: p::ONE_FEED_ENTRY_PER_TERMINAL,
        alter: |t| {
            for row in rows_of(t, Input::Fail) {
                if let Some(at) = row.effects.iter().position(|e| *e == Effect::AppendFeed) {
                    row.effects.insert(at, Effect::AppendFeed);
                }
            }
        },
    },
    Mutant {
        name: "restore-forgets-image",
        description: "restore does not load the captured image",
        caught_by: p::RESTART_KEEPS_TERMINAL,
        alter: |t| drop_effect(t, Input::Restore, Effect::LoadImage),
    },
    Mutant {
        name: "restore-leaves-lost-running",
        description: "restore does not end the operations lost with the old process",
        caught_by: p::RESTART_KEEPS_TERMINAL,
        alter: |t| drop_effect(t, Input::Restore, Effect::ResolveEachLost),
    },
    Mutant {
        name: "lost-ops-end-retired",
        description: "the Terminated restore policy ends lost operations Retired",
        caught_by: p::RESTART_KEEPS_TERMINAL,
        alter: |t| {
            for row in rows_of(t, Input::ResolveLost) {
                if row.guards.contains(&Guard::LostAsTerminated) {
                    row.target = oplife_spec::Target::Status(Status::Retired);
                }
            }
        },
    },
    Mutant {
        name: "lost-ops-not-retained",
        description: "operations ended by a restore are not retained",
        caught_by: p::RETAINED_ARE_TERMINAL_IN_ORDER,
        alter: |t| drop_effect(t, Input::ResolveLost, Effect::Retain),
    },
    Mutant {
        name: "cancelled-carries-aborted",
        description: "the Cancelled status carries an Aborted outcome",
        caught_by: p::OUTCOME_MATCHES_STATUS,
        alter: |t| {
            for (status, kind) in &mut t.outcomes {
                if *status == Status::Cancelled {
                    *kind = OutcomeKind::Aborted;
                }
            }
        },
    },
    Mutant {
        name: "dropped-watcher-still-counted",
        description: "release_watcher does not release the watcher: a dropped watch stays counted and notified",
        caught_by: p::WATCHERS_RESOLVED_ONCE,
        alter: |t| drop_effect(t, Input::ReleaseWatcher, Effect::RemoveWatcher),
    },
    Mutant {
        name: "cancel-not-journaled",
        description: "cancel_operation is listed as process-local, so a durable registry never journals it",
        caught_by: p::CRASH_LOSES_NOTHING,
        alter: |t| t.process_local.push(Input::Cancel),
    },
    Mutant {
        name: "rollback-keeps-record",
        description: "rollback_registration releases the slot but does not forget the operation",
        caught_by: p::ROLLBACK_LEAVES_NO_TRACE,
        alter: |t| drop_effect(t, Input::RollbackRegistration, Effect::ForgetRecord),
    },
    Mutant {
        name: "rollback-of-a-waited-op",
        description: "rollback_registration does not check that no wait tracks the operation",
        caught_by: p::ROLLBACK_LEAVES_NO_TRACE,
        alter: |t| drop_guard(t, Input::RollbackRegistration, Guard::NotWaitedOn),
    },
    Mutant {
        name: "admission-ignores-caller-limit",
        description: "register_operation does not check the caller's limit on active operations of its kind",
        caught_by: p::ADMISSION_LIMIT_HOLDS,
        alter: |t| drop_guard(t, Input::Register, Guard::BelowKindLimit),
    },
    Mutant {
        name: "admission-ignores-caller-concurrency-limit",
        description: "register_operation does not check the caller's limit on active operations of any kind",
        caught_by: p::ADMISSION_LIMIT_HOLDS,
        alter: |t| drop_guard(t, Input::Register, Guard::BelowCallerLimit),
    },
    Mutant {
        name: "registration-ignores-source",
        description: "register_operation does not check that the spec's source agrees with its kind",
        caught_by: p::SOURCE_AGREES,
        alter: |t| drop_guard(t, Input::Register, Guard::SourceAgrees),
    },
    Mutant {
        name: "retiring-reports-cancelled",
        description: "the public results tell a retiring operation as cancelled, before it has ended",
        caught_by: p::PUBLIC_RESULT_AGREES,
        alter: |t| {
            for (statuses, result) in &mut t.public_results {
                *statuses = match result {
                    oplife_spec::PublicResult::Cancelled => statuses.with(Status::Retiring),
                    _ => statuses.without(Status::Retiring),
                };
            }
        },
    },
    Mutant {
        name: "cancel-after-completion-is-a-repeat",
        description: "the retry rows call a cancel of a completed operation a repeat instead of a conflict",
        caught_by: p::RETRIES_CLASSIFIED,
        alter: |t| {
            for retry in t.retries.iter_mut().filter(|r| r.input == Input::Cancel && r.from.contains(Status::Completed))
            {
                retry.rule = oplife_spec::RetryRule::Repeat;
            }
        },
    },
    Mutant {
        name: "sealed-registry-accepts-calls",
        description: "a registry whose store has a newer owner still accepts every call",
        caught_by: p::FENCED_CHANGES_NOTHING,
        alter: |t| t.gates.clear(),
    },
    Mutant {
        name: "capacity-slot-keeps-its-ending",
        description: "a capacity slot's ending is fed and retained like a job's",
        caught_by: p::DROPPED_LEAVES_NOTHING,
        alter: |t| set_kind_rule(t, OperationKind::BackgroundToolCapacitySlot, |rule| rule.ending = Ending::Kept),
    },
    Mutant {
        name: "restore-ends-detached-waits",
        description: "a restore ends a running wait on a detached job as lost",
        caught_by: p::RESTART_KEEPS_WHAT_IT_MUST,
        alter: |t| set_kind_rule(t, OperationKind::DetachedJobWait, |rule| rule.on_restore = OnRestore::EndsLost),
    },
    Mutant {
        name: "restore-keeps-whatever-it-is-asked",
        description: "a restore keeps the operation it is asked to keep whatever its kind, source or status",
        caught_by: p::RESTART_KEEPS_WHAT_IT_MUST,
        alter: |t| drop_guard(t, Input::Restore, Guard::RetentionExact),
    },
    Mutant {
        name: "detached-job-wait-wakes-nobody",
        description: "the ending of a wait on a detached job does not wake its owner",
        caught_by: p::WAKES_DETACHED_OWNERS,
        alter: |t| set_kind_rule(t, OperationKind::DetachedJobWait, |rule| rule.wakes_owner = false),
    },
    Mutant {
        name: "cursor-passes-the-durable-feed",
        description: "advance_cursor moves a cursor past what is durable",
        caught_by: p::CURSOR_ONLY_AHEAD,
        alter: |t| drop_guard(t, Input::AdvanceCursor, Guard::CursorWithinDurable),
    },
];

fn set_kind_rule(table: &mut Table, kind: OperationKind, change: fn(&mut oplife_spec::KindRule)) {
    for rule in table.kinds.iter_mut().filter(|rule| rule.kind == kind) {
        change(rule);
    }
}
