//! The floor: the same bookkeeping as the registry with plain std
//! structures behind one `Mutex` — a map of records, the completion order,
//! a oneshot per watcher and per wait, outcomes shared as the registry
//! shares them — and no table, no feed, no events.
//! What the registry costs beyond it is what the table, the feed and the
//! events cost.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use oplife_shell::{
    OperationId, OperationKind, OperationLifecycleSnapshot, OperationResult, OperationSpec, OperationStatus,
    OperationTerminalOutcome, SessionId, SharedTerminalOutcome,
};
use tokio::sync::oneshot;

struct Record {
    kind: OperationKind,
    display_name: String,
    owner: SessionId,
    source_label: String,
    status: OperationStatus,
    outcome: Option<SharedTerminalOutcome>,
    watchers: Vec<oneshot::Sender<SharedTerminalOutcome>>,
    waits: Vec<usize>,
}

struct Wait {
    ids: Vec<OperationId>,
    remaining: usize,
    done: Option<oneshot::Sender<Vec<(OperationId, SharedTerminalOutcome)>>>,
}

#[derive(Default)]
struct State {
    records: HashMap<OperationId, Record>,
    completed: VecDeque<OperationId>,
    active: usize,
    waits: Vec<Wait>,
}

/// The floor registry.
pub struct Floor {
    state: Mutex<State>,
    max_completed: usize,
}

impl Floor {
    pub fn new(max_completed: usize) -> Self {
        Floor { state: Mutex::new(State::default()), max_completed }
    }

    pub fn register(&self, spec: OperationSpec) {
        let mut st = self.state.lock().unwrap();
        assert!(!st.records.contains_key(&spec.id));
        let record = Record {
            kind: spec.kind,
            display_name: spec.display_name,
            owner: spec.owner_session_id,
            source_label: spec.source_label,
            status: OperationStatus::Provisioning,
            outcome: None,
            watchers: Vec::new(),
            waits: Vec::new(),
        };
        st.records.insert(spec.id, record);
        st.active += 1;
    }

    pub fn start(&self, id: &OperationId) {
        let mut st = self.state.lock().unwrap();
        let record = st.records.get_mut(id).unwrap();
        assert_eq!(record.status, OperationStatus::Provisioning);
        record.status = OperationStatus::Running;
    }

    fn end(&self, st: &mut State, id: OperationId, status: OperationStatus, outcome: OperationTerminalOutcome) {
        let Some(record) = st.records.get_mut(&id) else { return };
        if record.status.is_terminal() {
            return;
        }
        record.status = status;
        let outcome = SharedTerminalOutcome::new(outcome);
        record.outcome = Some(outcome.clone());
        for watcher in record.watchers.drain(..) {
            let _ = watcher.send(outcome.clone());
        }
        let waits = std::mem::take(&mut record.waits);
        st.active -= 1;
        st.completed.push_back(id);
        for at in waits {
            let wait = &mut st.waits[at];
            wait.remaining -= 1;
            if wait.remaining == 0
                && let Some(done) = wait.done.take()
            {
                let outcomes = wait.ids.iter().map(|id| (*id, st.records[id].outcome.clone().unwrap())).collect();
                let _ = done.send(outcomes);
            }
        }
        while st.completed.len() > self.max_completed {
            if let Some(old) = st.completed.pop_front() {
                st.records.remove(&old);
            }
        }
    }

    pub fn complete(&self, id: &OperationId, result: OperationResult) {
        let mut st = self.state.lock().unwrap();
        self.end(&mut st, *id, OperationStatus::Completed, OperationTerminalOutcome::Completed(result));
    }

    pub fn watch(&self, id: &OperationId) -> oneshot::Receiver<SharedTerminalOutcome> {
        let mut st = self.state.lock().unwrap();
        let (sender, receiver) = oneshot::channel();
        let record = st.records.get_mut(id).unwrap();
        match &record.outcome {
            Some(outcome) => {
                let _ = sender.send(outcome.clone());
            }
            None => record.watchers.push(sender),
        }
        receiver
    }

    pub fn wait_all(&self, ids: &[OperationId]) -> oneshot::Receiver<Vec<(OperationId, SharedTerminalOutcome)>> {
        let mut st = self.state.lock().unwrap();
        let (sender, receiver) = oneshot::channel();
        let at = st.waits.len();
        let mut remaining = 0;
        for id in ids {
            let record = st.records.get_mut(id).unwrap();
            if record.outcome.is_none() {
                record.waits.push(at);
                remaining += 1;
            }
        }
        st.waits.push(Wait { ids: ids.to_vec(), remaining, done: Some(sender) });
        receiver
    }

    pub fn terminate_owner(&self, reason: &str) {
        let mut st = self.state.lock().unwrap();
        let live: Vec<OperationId> =
            st.records.iter().filter(|(_, r)| !r.status.is_terminal()).map(|(id, _)| *id).collect();
        for id in live {
            let outcome = OperationTerminalOutcome::Terminated { reason: reason.to_owned() };
            self.end(&mut st, id, OperationStatus::Terminated, outcome);
        }
    }

    pub fn snapshot(&self, id: &OperationId) -> OperationLifecycleSnapshot {
        let st = self.state.lock().unwrap();
        snapshot(id, &st.records[id])
    }

    pub fn list_operations(&self) -> Vec<OperationLifecycleSnapshot> {
        let st = self.state.lock().unwrap();
        let mut all: Vec<OperationLifecycleSnapshot> = st.records.iter().map(|(id, r)| snapshot(id, r)).collect();
        all.sort_by(|a, b| a.display_name.cmp(&b.display_name));
        all
    }
}

fn snapshot(id: &OperationId, r: &Record) -> OperationLifecycleSnapshot {
    OperationLifecycleSnapshot {
        id: *id,
        kind: r.kind,
        display_name: r.display_name.clone(),
        status: r.status,
        public_result: match r.status {
            OperationStatus::Completed => oplife_shell::PublicResult::Completed,
            _ => oplife_shell::PublicResult::Running,
        },
        peer_ready: false,
        peer_handle: None,
        progress_count: 0,
        last_progress: None,
        watcher_count: u32::try_from(r.watchers.len()).unwrap(),
        terminal_outcome: r.outcome.clone(),
        child_session_id: None,
        owner_session_id: r.owner,
        source_label: r.source_label.clone(),
        operation_source: None,
        created_at_ms: 0,
        started_at_ms: None,
        completed_at_ms: None,
        elapsed_ms: None,
    }
}
