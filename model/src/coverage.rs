//! Which inputs were called, which table rows fired and which errors were
//! produced during a check.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use oplife_spec::{ErrorKind, Input, RowId};

/// Input, row and error coverage, shared by the checker's threads.
#[derive(Debug)]
pub struct Coverage {
    inputs: Vec<AtomicBool>,
    rows: Vec<AtomicBool>,
    errors: Vec<AtomicBool>,
}

impl Coverage {
    /// Coverage for a table of `rows` rows, nothing fired yet.
    pub fn new(rows: usize) -> Self {
        Coverage {
            inputs: Input::ALL.iter().map(|_| AtomicBool::new(false)).collect(),
            rows: (0..rows).map(|_| AtomicBool::new(false)).collect(),
            errors: ErrorKind::ALL.iter().map(|_| AtomicBool::new(false)).collect(),
        }
    }

    fn mark(flag: Option<&AtomicBool>) {
        // Read first: after warm-up every flag is set, and a read keeps the
        // cache line shared between threads.
        if let Some(flag) = flag
            && !flag.load(Ordering::Relaxed)
        {
            flag.store(true, Ordering::Relaxed);
        }
    }

    /// Records that a call of `input` was made (accepted or refused).
    pub fn input_called(&self, input: Input) {
        Self::mark(self.inputs.get(input.index()));
    }

    /// Whether a call of `input` was made.
    pub fn called(&self, input: Input) -> bool {
        self.inputs.get(input.index()).is_some_and(|flag| flag.load(Ordering::Relaxed))
    }

    /// Records that `row` fired.
    pub fn row_fired(&self, row: RowId) {
        Self::mark(self.rows.get(row.0));
    }

    /// Records that an input was refused with `kind`.
    pub fn error_produced(&self, kind: ErrorKind) {
        Self::mark(self.errors.get(kind.index()));
    }

    /// The rows that never fired.
    pub fn rows_never_fired(&self) -> Vec<RowId> {
        self.rows.iter().enumerate().filter(|(_, f)| !f.load(Ordering::Relaxed)).map(|(i, _)| RowId(i)).collect()
    }

    /// The error kinds produced.
    pub fn errors_produced(&self) -> Vec<ErrorKind> {
        ErrorKind::ALL.into_iter().filter(|k| self.errors[k.index()].load(Ordering::Relaxed)).collect()
    }
}

/// What the steps of one exploration showed (the witness bits of
/// [`crate::state::witness`]), recorded as the steps are taken, and what
/// the steps it skipped may have hidden: an exploration shows every witness
/// a step can show except those its skipped steps may hide, so one it
/// never showed and no skipped step may hide is
/// shown by no step of that configuration.
#[derive(Debug, Default)]
pub struct Shown {
    bits: AtomicU32,
    hidden: AtomicU32,
}

impl Shown {
    /// Records what one step showed.
    pub fn record(&self, bits: u32) {
        // Read first: after warm-up nothing new is shown, and a read keeps
        // the cache line shared between threads.
        if bits & !self.bits.load(Ordering::Relaxed) != 0 {
            self.bits.fetch_or(bits, Ordering::Relaxed);
        }
    }

    /// Records that a step was skipped (its successor is made by another
    /// step, which was taken) that may have shown the witnesses `hidden`
    /// besides what that other step shows.
    pub fn skipped(&self, hidden: u32) {
        if hidden & !self.hidden.load(Ordering::Relaxed) != 0 {
            self.hidden.fetch_or(hidden, Ordering::Relaxed);
        }
    }

    /// What the steps showed.
    pub fn bits(&self) -> u32 {
        self.bits.load(Ordering::Relaxed)
    }

    /// Whether a skipped step may have shown the witness `bit`.
    pub fn may_hide(&self, bit: u32) -> bool {
        self.hidden.load(Ordering::Relaxed) & bit != 0
    }
}
