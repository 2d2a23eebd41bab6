//! The words the table is written in: statuses, phases, inputs, guards,
//! effects, outcome kinds and error kinds. None of them carries a payload;
//! the machine adds payloads (ids, results, reasons) on top of them.

mod effect;
mod guard;
mod input;
mod kinds;
mod retry;
mod status;

pub use effect::Effect;
pub use guard::Guard;
pub use input::{Carries, Input, Scope};
pub use kinds::{Ending, ErrorKind, OnRestore, OperationKind, OutcomeKind, SourceClaim};
pub use retry::{Retry, RetryRule};
pub use status::{Phase, PublicResult, Status, StatusSet};
