//! The journal as the call pipeline sees it. With the `durable` feature it
//! is the durable registry's journal (see `durable/journaling.rs`);
//! without, a registry journals nothing and every write succeeds at once.

#[cfg(feature = "durable")]
pub(crate) use crate::durable::journaling::Journaling;
#[cfg(feature = "durable")]
pub(crate) use crate::durable::writer::Ticket;

#[cfg(not(feature = "durable"))]
pub(crate) use nothing::{Journaling, Ticket};

#[cfg(not(feature = "durable"))]
mod nothing {
    use std::collections::BTreeMap;

    use oplife_machine::{Machine, Request};

    use crate::call::{Call, Now};
    use crate::error::StoreError;
    use crate::snapshot::RegistrySnapshot;
    use crate::types::ShellDomain;

    /// No journal.
    #[derive(Debug)]
    pub(crate) struct Journaling;

    /// Nothing to write.
    pub(crate) struct Prepared;

    /// A sync to wait for: there is none without a journal.
    #[derive(Debug)]
    pub(crate) enum Ticket {}

    impl Ticket {
        pub(crate) fn wait(self) -> Result<(), StoreError> {
            match self {}
        }
    }

    impl Journaling {
        pub(crate) fn none() -> Self {
            Journaling
        }

        pub(crate) fn prepare(
            &self,
            _: &Machine<ShellDomain>,
            _: &Request<ShellDomain>,
            _: &Call,
            _: &Now<'_>,
        ) -> Result<Prepared, StoreError> {
            Ok(Prepared)
        }

        pub(crate) fn write(&mut self, _: Prepared) -> Result<Option<Ticket>, StoreError> {
            Ok(None)
        }

        pub(crate) fn write_cursor(&mut self, _: &str, _: u64, _: u64) -> Result<Option<Ticket>, StoreError> {
            Ok(None)
        }

        pub(crate) fn applied(&mut self, _: u64) -> bool {
            false
        }

        pub(crate) fn compact(&mut self, _: RegistrySnapshot, _: &BTreeMap<String, u64>) {}

        pub(crate) fn durable_feed_watermark(&self) -> Option<u64> {
            None
        }
    }
}
