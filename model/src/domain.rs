//! The tiny payload domain the model runs the machine with.

use oplife_machine::{Domain, Inline, Outcome};

/// Operation ids are small integers, wait ids are wait slots, and payloads
/// are unit: outcomes differ only by variant, which is all the properties
/// compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Tiny;

impl Domain for Tiny {
    type OpId = u8;
    type WaitId = u8;
    type RunId = ();
    type Result = ();
    type Error = ();
    type Reason = ();
    type Progress = ();
    type Shared = Inline<Outcome<Self>>;
}
