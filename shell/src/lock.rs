//! The lock around the registry state, abstracted so concurrency tests can
//! run the same registry under a schedule-exploring lock (shuttle's).

use std::ops::DerefMut;

/// A mutual-exclusion lock holding the registry state.
///
/// [`std::sync::Mutex`] implements it; a poisoned lock is reported as
/// `Err(())` and surfaces as [`crate::OpsLifecycleError::Poisoned`].
pub trait StateLock<T>: Send + Sync {
    /// A lock holding `value`.
    fn new(value: T) -> Self;
    /// Acquires the lock.
    ///
    /// # Errors
    ///
    /// `Err(())` when the lock is poisoned.
    #[allow(clippy::result_unit_err)]
    fn lock(&self) -> Result<impl DerefMut<Target = T> + '_, ()>;
}

impl<T: Send> StateLock<T> for std::sync::Mutex<T> {
    fn new(value: T) -> Self {
        std::sync::Mutex::new(value)
    }

    fn lock(&self) -> Result<impl DerefMut<Target = T> + '_, ()> {
        std::sync::Mutex::lock(self).map_err(|_| ())
    }
}
