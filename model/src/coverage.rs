//! Which table rows fired and which errors were produced during a check.

use std::sync::atomic::{AtomicBool, Ordering};

use oplife_spec::{ErrorKind, RowId};

/// Row and error coverage, shared by the checker's threads.
#[derive(Debug)]
pub struct Coverage {
    rows: Vec<AtomicBool>,
    errors: Vec<AtomicBool>,
}

impl Coverage {
    /// Coverage for a table of `rows` rows, nothing fired yet.
    pub fn new(rows: usize) -> Self {
        Coverage {
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
