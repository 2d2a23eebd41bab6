//! The harness the machine's row tests share: a lifecycle of the shipped
//! table, one state, and every refusal checked to change nothing.

#![allow(dead_code, unused_imports, unreachable_pub)] // each test file uses part of the harness

use oplife_machine::{Domain, Lifecycle, LifecycleError, Limits, Output, Request, State};
use oplife_spec::{Input, OperationKind, Phase, RowId, Status, Table};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct T;
impl Domain for T {
    type OpId = u32;
    type WaitId = u32;
    type RunId = ();
    type Result = &'static str;
    type Error = &'static str;
    type Reason = &'static str;
    type Progress = u8;
    type Shared = std::sync::Arc<oplife_machine::Outcome<Self>>;
}

pub use OperationKind::{BackgroundToolOp as Bg, MobMemberChild as Child};

pub struct Harness {
    pub lc: Lifecycle,
    pub st: State<T>,
    pub fired: Vec<RowId>,
}

impl Harness {
    pub fn new() -> Self {
        Self::with(Limits::default())
    }
    pub fn with(limits: Limits) -> Self {
        Harness { lc: Lifecycle::new(Table::standard(), limits).unwrap(), st: State::new(), fired: Vec::new() }
    }
    pub fn apply(&mut self, r: Request<T>) -> Result<Vec<Output<T>>, LifecycleError<T>> {
        let before = self.st.clone();
        let mut out = Vec::new();
        let mut fired = Vec::new();
        let result = self.lc.apply_traced(&mut self.st, r, &mut |o| out.push(o), &mut |row| fired.push(row));
        if result.is_err() {
            assert_eq!(self.st, before, "a refused request changed the state");
            assert!(out.is_empty());
        }
        self.fired.extend(fired);
        result.map(|()| out)
    }
    pub fn ok(&mut self, r: Request<T>) -> Vec<Output<T>> {
        self.apply(r).unwrap()
    }
    pub fn err(&mut self, r: Request<T>) -> LifecycleError<T> {
        self.apply(r).unwrap_err()
    }
    pub fn register(&mut self, id: u32, kind: OperationKind) {
        self.ok(Request::Register {
            id,
            kind,
            expects_peer: kind == Child,
            kind_limit: None,
            limit: None,
            source: None,
        });
    }
    pub fn running(&mut self, id: u32, kind: OperationKind) {
        self.register(id, kind);
        self.ok(Request::ProvisioningSucceeded { id });
    }
    pub fn status(&self, id: u32) -> Status {
        self.st.status(&id)
    }
    pub fn row_of(&self, input: Input, status: Status) -> RowId {
        self.lc.table().rows().find(|(_, r)| r.input == input && r.allows_status(status)).unwrap().0
    }
    pub fn registry_row(&self, input: Input, phase: Phase) -> RowId {
        self.lc.table().rows().find(|(_, r)| r.input == input && r.allows_phase(phase)).unwrap().0
    }
}

pub fn done(id: u32) -> Request<T> {
    Request::Complete { id, result: "ok" }
}
