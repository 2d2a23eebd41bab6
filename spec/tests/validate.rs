//! Each validator refusal, produced by a deliberately broken table.

#![allow(clippy::unwrap_used, clippy::panic)] // test code: a failed unwrap is a failed test

use oplife_spec::{Allowed, Effect, Guard, Input, Phase, RowId, Rule, Status, StatusSet, Table, TableError, Target};

fn row_index(table: &Table, input: Input, status: Status) -> usize {
    table.rows.iter().position(|r| r.input == input && r.allows_status(status)).unwrap()
}

#[test]
fn the_standard_table_is_valid() {
    assert_eq!(Table::standard().validate(), Ok(()));
}

#[test]
fn overlapping_rows_are_refused() {
    let mut table = Table::standard();
    let complete = row_index(&table, Input::Complete, Status::Running);
    let mut twin = table.rows[complete].clone();
    twin.target = Target::Status(Status::Failed);
    table.rows.push(twin);
    let second = RowId(table.rows.len() - 1);
    assert_eq!(
        table.validate(),
        Err(TableError::OverlappingRows {
            first: RowId(complete),
            second,
            input: Input::Complete,
            at: "Running".to_owned()
        })
    );
}

#[test]
fn overlapping_registry_rows_are_refused() {
    let mut table = Table::standard();
    table.rows.push(Rule::registry(Input::CollectCompleted, &[Phase::OwnerTerminated], &[], Target::Unchanged, &[]));
    assert!(matches!(
        table.validate(),
        Err(TableError::OverlappingRows { input: Input::CollectCompleted, ref at, .. }) if at == "OwnerTerminated"
    ));
}

#[test]
fn rows_with_exclusive_guards_may_share_a_status() {
    let mut table = Table::standard();
    table.rows.push(Rule::op(
        Input::CollectTerminal,
        StatusSet::TERMINAL,
        &[Guard::NotBuffered],
        Target::Unchanged,
        &[],
    ));
    assert_eq!(table.validate(), Ok(()));
}

#[test]
fn an_input_without_a_row_is_refused() {
    let mut table = Table::standard();
    table.rows.retain(|r| r.input != Input::RequestRetire);
    assert_eq!(table.validate(), Err(TableError::InputWithoutRow { input: Input::RequestRetire }));
}

#[test]
fn a_row_leaving_a_terminal_status_is_refused() {
    let mut table = Table::standard();
    let fail = row_index(&table, Input::Fail, Status::Running);
    table.rows[fail].from = Allowed::Statuses(StatusSet::ACTIVE.with(Status::Completed));
    assert_eq!(
        table.validate(),
        Err(TableError::LeavesTerminal { row: RowId(fail), status: Status::Completed, target: Status::Failed })
    );
}

#[test]
fn an_unreachable_status_is_refused() {
    let mut table = Table::standard();
    table.rows.retain(|r| r.input != Input::RequestRetire);
    table.rows.push(Rule::op(Input::RequestRetire, StatusSet::of(&[Status::Retiring]), &[], Target::Unchanged, &[]));
    assert_eq!(table.validate(), Err(TableError::UnreachableStatus { status: Status::Retiring }));
}

#[test]
fn a_terminal_status_without_an_outcome_variant_is_refused() {
    let mut table = Table::standard();
    table.outcomes.retain(|(s, _)| *s != Status::Retired);
    assert_eq!(table.validate(), Err(TableError::MissingOutcome { status: Status::Retired }));
}

#[test]
fn a_terminal_row_that_records_no_outcome_is_refused() {
    let mut table = Table::standard();
    let cancel = row_index(&table, Input::Cancel, Status::Running);
    table.rows[cancel].effects.retain(|e| *e != Effect::RecordOutcome);
    assert_eq!(
        table.validate(),
        Err(TableError::TerminalWithoutOutcome { row: RowId(cancel), status: Status::Cancelled })
    );
}

#[test]
fn a_row_outside_its_scope_is_refused() {
    let mut table = Table::standard();
    table.rows.push(Rule::op(Input::CollectCompleted, StatusSet::TERMINAL, &[], Target::Unchanged, &[]));
    let row = RowId(table.rows.len() - 1);
    assert_eq!(table.validate(), Err(TableError::ScopeMismatch { row, input: Input::CollectCompleted }));
}

#[test]
fn a_cascade_that_skips_a_status_is_refused() {
    let mut table = Table::standard();
    let terminate = row_index(&table, Input::Terminate, Status::Running);
    table.rows[terminate].from = Allowed::Statuses(StatusSet::ACTIVE.without(Status::Retiring));
    assert_eq!(
        table.validate(),
        Err(TableError::CascadeNotTotal { input: Input::Terminate, status: Status::Retiring })
    );
}

#[test]
fn a_cascade_needs_every_choice_of_its_payload_guards() {
    let mut table = Table::standard();
    let cancelled = table
        .rows
        .iter()
        .position(|r| r.input == Input::ResolveLost && r.guards.contains(&Guard::LostAsCancelled))
        .unwrap();
    table.rows.remove(cancelled);
    assert_eq!(
        table.validate(),
        Err(TableError::CascadeNotTotal { input: Input::ResolveLost, status: Status::Provisioning })
    );
}

#[test]
fn errors_name_the_row_in_their_message() {
    let mut table = Table::standard();
    let fail = row_index(&table, Input::Fail, Status::Running);
    table.rows[fail].from = Allowed::Statuses(StatusSet::ACTIVE.with(Status::Completed));
    let message = table.validate().unwrap_err().to_string();
    assert_eq!(message, format!("row {} leaves terminal status Completed for Failed", fail + 1));
}

#[test]
fn registration_without_create_record_is_refused() {
    let mut table = Table::standard();
    let register = row_index(&table, Input::Register, Status::Absent);
    table.rows[register].effects.retain(|e| *e != Effect::CreateRecord);
    assert_eq!(table.validate(), Err(TableError::RecordNotCreated { row: RowId(register) }));
}

#[test]
fn forgetting_without_forget_record_is_refused() {
    let mut table = Table::standard();
    let evict = row_index(&table, Input::Evict, Status::Completed);
    table.rows[evict].effects.retain(|e| *e != Effect::ForgetRecord);
    assert_eq!(table.validate(), Err(TableError::RecordNotForgotten { row: RowId(evict) }));
}

#[test]
fn a_record_effect_out_of_place_is_refused() {
    let mut table = Table::standard();
    let complete = row_index(&table, Input::Complete, Status::Running);
    table.rows[complete].effects.push(Effect::ForgetRecord);
    assert_eq!(
        table.validate(),
        Err(TableError::MisplacedRecordEffect { row: RowId(complete), effect: Effect::ForgetRecord })
    );
    let mut table = Table::standard();
    let drain = row_index(&table, Input::Drain, Status::Completed);
    table.rows[drain].effects.insert(0, Effect::ForgetRecord);
    assert_eq!(
        table.validate(),
        Err(TableError::MisplacedRecordEffect { row: RowId(drain), effect: Effect::ForgetRecord })
    );
}

#[test]
fn a_process_local_call_that_changes_state_is_refused() {
    let mut table = Table::standard();
    table.process_local.push(Input::Cancel);
    let cancel = table.rows().find(|(_, r)| r.input == Input::Cancel).map(|(id, _)| id);
    assert_eq!(
        table.validate(),
        Err(TableError::ProcessLocalChangesState { row: cancel.expect("a cancel row"), input: Input::Cancel })
    );
}

#[test]
fn the_journal_leaves_out_only_watchers_waits_rebuilds_and_the_seal() {
    let table = Table::standard();
    let skipped: Vec<Input> = Input::ALL.into_iter().filter(|i| !table.journaled(*i)).collect();
    assert_eq!(
        skipped,
        vec![
            Input::RegisterWatcher,
            Input::ReleaseWatcher,
            Input::BeginWait,
            Input::CancelWait,
            Input::Restore,
            Input::Resume,
            Input::Seal,
            Input::Terminate,
            Input::Evict,
            Input::Drain,
            Input::ResolveLost,
        ]
    );
}

#[test]
fn a_registry_row_its_phase_gate_refuses_is_refused() {
    let mut table = Table::standard();
    let collect = table.rows().find(|(_, r)| r.input == Input::CollectCompleted).map(|(id, _)| id);
    let collect = collect.expect("a collect_completed row");
    table.rows[collect.0].from = oplife_spec::Allowed::Phases(vec![Phase::Open, Phase::Sealed]);
    assert_eq!(
        table.validate(),
        Err(TableError::GatedRow { row: collect, phase: Phase::Sealed, input: Input::CollectCompleted })
    );
}

#[test]
fn a_gate_that_admits_a_registry_input_without_a_row_is_refused() {
    let mut table = Table::standard();
    table.gates[0].admits.push(Input::CollectCompleted);
    assert_eq!(
        table.validate(),
        Err(TableError::AdmittedWithoutRow { phase: Phase::Sealed, input: Input::CollectCompleted })
    );
}

#[test]
fn a_sealed_registry_admits_only_letting_go_and_the_seal() {
    let table = Table::standard();
    let admitted: Vec<Input> = Input::ALL.into_iter().filter(|i| table.gate(*i, Phase::Sealed).is_none()).collect();
    assert_eq!(admitted, vec![Input::ReleaseWatcher, Input::CancelWait, Input::Seal]);
    assert!(Input::ALL.into_iter().all(|i| table.gate(i, Phase::Open).is_none()));
    assert_eq!(table.gate(Input::Complete, Phase::Sealed), Some(oplife_spec::ErrorKind::Sealed));
}

#[test]
fn a_retry_row_where_a_row_allows_the_input_is_refused() {
    let mut table = Table::standard();
    table.retries.push(oplife_spec::RetryRow {
        input: Input::Complete,
        from: StatusSet::of(&[Status::Running]),
        rule: oplife_spec::RetryRule::Repeat,
    });
    assert_eq!(
        table.validate(),
        Err(TableError::RetryWhereAllowed { input: Input::Complete, status: Status::Running })
    );
}
