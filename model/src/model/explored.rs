//! What stateright explores: the model's initial state, the actions it
//! offers in each state, the successor each one makes, and the properties.

use oplife_spec::{Input, SourceClaim};
use stateright::{Model, Property};

use super::LifecycleModel;
use crate::action::{Action, Cap, KeepAsk, op_inputs};
use crate::properties;
use crate::state::ModelState;

impl Model for LifecycleModel {
    type State = ModelState;
    type Action = Action;

    fn init_states(&self) -> Vec<ModelState> {
        vec![ModelState::initial(self.config.ops, self.config.waits)]
    }

    fn actions(&self, state: &ModelState, actions: &mut Vec<Action>) {
        for id in 0..self.config.ops {
            let op = state.machine.operation(&id);
            for &kind in self.config.kinds {
                for expects_peer in [kind.expects_peer_channel(), !kind.expects_peer_channel()] {
                    actions.push(Action::Register { id, kind, expects_peer, cap: Cap::Free, source: None });
                }
                let expects_peer = kind.expects_peer_channel();
                for cap in [Cap::Kind, Cap::Total] {
                    actions.push(Action::Register { id, kind, expects_peer, cap, source: None });
                }
                // A spec claiming to stand for what its kind cannot.
                let source = Some(match expects_peer {
                    true => SourceClaim::DetachedJob,
                    false => SourceClaim::BackendPeer,
                });
                actions.push(Action::Register { id, kind, expects_peer, cap: Cap::Free, source });
            }
            for input in op_inputs() {
                let bounded = match input {
                    Input::RegisterWatcher => state.watchers[usize::from(id)] < self.config.watchers,
                    // A caller can only drop a watch it holds.
                    Input::ReleaseWatcher => state.watchers[usize::from(id)] > 0,
                    Input::ReportProgress => op.is_none_or(|op| op.progress_count() < self.config.progress),
                    _ => true,
                };
                if bounded {
                    actions.push(Action::Op(input, id));
                }
            }
        }
        actions.push(Action::TerminateOwner);
        actions.push(Action::CollectCompleted);
        if self.config.cursors {
            // Catch up, stay, one back, one past the feed.
            let (from, watermark) = (state.cursor, state.machine.feed().watermark());
            let targets = [watermark, from, from.saturating_sub(1), watermark + 1];
            for (i, to) in targets.into_iter().enumerate() {
                if !targets[..i].contains(&to) {
                    actions.push(Action::AdvanceCursor { from, to });
                }
            }
        }
        let free = state.waits.iter().take(usize::from(self.config.waits)).position(|w| !w.pending);
        if let Some(slot) = free {
            let slot = u8::try_from(slot).unwrap_or(0);
            for ids in 0..(1u8 << self.config.ops) {
                actions.push(Action::BeginWait { slot, ids });
            }
        }
        for (slot, w) in state.waits.iter().enumerate() {
            if w.pending {
                actions.push(Action::CancelWait(u8::try_from(slot).unwrap_or(0)));
            }
        }
        // A takeover again fences a registry already sealed: it stays so.
        if self.config.crashes {
            actions.push(Action::Takeover);
        }
        // A registry whose store was taken over is a stale process: what
        // restarts is the newer owner, whose registry is the one a crash
        // before the takeover recovers (the store as it was then).
        if state.fenced {
            return;
        }
        if self.config.restarts {
            actions.push(Action::Restart { cancel: false, keep: None });
            actions.push(Action::Restart { cancel: true, keep: None });
        }
        if self.config.restarts && self.config.retention {
            // Keep a known operation as it was registered, or naming
            // another kind or another source.
            for (id, kind) in state.kinds.iter().take(usize::from(self.config.ops)).enumerate() {
                let (Ok(id), Some(kind)) = (u8::try_from(id), *kind) else { continue };
                let other = self.config.kinds.iter().copied().find(|k| *k != kind).unwrap_or(kind);
                for (kind, source_agrees) in [(kind, true), (other, true), (kind, false)] {
                    let keep = Some(KeepAsk { id, kind, source_agrees });
                    actions.push(Action::Restart { cancel: false, keep });
                }
            }
        }
        if self.config.crashes {
            actions.push(Action::Crash { cancel: false });
            actions.push(Action::Crash { cancel: true });
        }
    }

    fn next_state(&self, state: &ModelState, action: Action) -> Option<ModelState> {
        self.successor(state, action)
    }

    fn format_action(&self, action: &Action) -> String {
        action.to_string()
    }

    /// What the call did (accepted with the machine's outputs, or refused
    /// with its error and retry class), then the registry it leaves as a
    /// reader thinks of it: the Explorer shows this in place of the state.
    fn format_step(&self, last_state: &ModelState, action: Action) -> Option<String> {
        let (next, result) = self.step(last_state, action);
        Some(match result {
            Ok(outputs) if outputs.is_empty() => format!("accepted\n\n{next:#?}"),
            Ok(outputs) => {
                let outputs: Vec<String> = outputs.iter().map(|output| format!("{output:?}")).collect();
                format!("accepted: {}\n\n{next:#?}", outputs.join(", "))
            }
            Err(error) => format!(
                "refused: {} ({}): {error}\nnothing changed\n\n{last_state:#?}",
                error.kind().name(),
                error.retry().name()
            ),
        })
    }

    fn properties(&self) -> Vec<Property<Self>> {
        match (self.all_properties, self.witnesses) {
            (true, _) => properties::invariants().into_iter().chain(properties::examples()).collect(),
            (false, true) => properties::examples(),
            (false, false) => properties::invariants(),
        }
    }
}
