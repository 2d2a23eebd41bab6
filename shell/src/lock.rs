//! The lock around the registry state, abstracted so concurrency tests can
//! run the same registry under a schedule-exploring lock (shuttle's).

use std::ops::{Deref, DerefMut};

/// A lock holding the registry state.
///
/// [`std::sync::RwLock`] (the registry's default) and [`std::sync::Mutex`]
/// implement it; a poisoned lock is reported as `Err(())` and surfaces as
/// [`crate::OpsLifecycleError::Poisoned`].
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

    /// Acquires the lock for reading. Read-only calls (`snapshot`,
    /// `list_operations`, `list_since`, …) use it, so a lock that shares
    /// reads lets them run side by side; by default it is [`Self::lock`].
    ///
    /// # Errors
    ///
    /// `Err(())` when the lock is poisoned.
    #[allow(clippy::result_unit_err)]
    fn read(&self) -> Result<impl Deref<Target = T> + '_, ()> {
        self.lock()
    }
}

impl<T: Send + Sync> StateLock<T> for std::sync::RwLock<T> {
    fn new(value: T) -> Self {
        std::sync::RwLock::new(value)
    }

    fn lock(&self) -> Result<impl DerefMut<Target = T> + '_, ()> {
        std::sync::RwLock::write(self).map_err(|_| ())
    }

    fn read(&self) -> Result<impl Deref<Target = T> + '_, ()> {
        std::sync::RwLock::read(self).map_err(|_| ())
    }
}

impl<T: Send> StateLock<T> for std::sync::Mutex<T> {
    fn new(value: T) -> Self {
        std::sync::Mutex::new(value)
    }

    fn lock(&self) -> Result<impl DerefMut<Target = T> + '_, ()> {
        std::sync::Mutex::lock(self).map_err(|_| ())
    }
}
