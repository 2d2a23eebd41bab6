//! Retries: how a refused call relates to what already happened.

use std::fmt;

/// What a refused call is, as a retry: after a timeout or a restart a caller
/// may send a call again, and needs to know whether to treat the refusal as
/// success.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Retry {
    /// An idempotent repeat: what the call asks for already happened, with
    /// the same payload. Safe to treat as success.
    Repeat,
    /// A conflict: the operation reached a different terminal outcome.
    Conflict,
    /// Simply invalid: the call does not fit the operation's status.
    #[default]
    Invalid,
}

impl Retry {
    /// Its name, as observability labels give it.
    pub const fn name(self) -> &'static str {
        match self {
            Retry::Repeat => "Repeat",
            Retry::Conflict => "Conflict",
            Retry::Invalid => "Invalid",
        }
    }
}

/// How a row of [`crate::Table::retries`] classifies a refusal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RetryRule {
    /// A repeat, whatever the payload (a second cancel, whatever its reason).
    Repeat,
    /// A repeat when the payload equals the one recorded (the same result,
    /// the same error); a conflict otherwise.
    RepeatIfSame,
    /// A conflict.
    Conflict,
}

impl fmt::Display for Retry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Retry::Repeat => "repeat",
            Retry::Conflict => "conflict",
            Retry::Invalid => "invalid",
        })
    }
}

impl fmt::Display for RetryRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RetryRule::Repeat => "repeat",
            RetryRule::RepeatIfSame => "repeat if the payload is the one recorded, else conflict",
            RetryRule::Conflict => "conflict",
        })
    }
}
