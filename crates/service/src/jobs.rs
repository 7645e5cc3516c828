//! The job queue: at most `slots` inference jobs run at once, at most `queue` more wait, and any
//! request beyond that is refused with [`ServiceError::Busy`] instead of piling up memory.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::ServiceError;

/// A bounded job queue.
pub struct Jobs {
    slots: usize,
    queue: usize,
    semaphore: Arc<Semaphore>,
    waiting: AtomicUsize,
}

/// Held while a job runs; dropping it frees the slot.
pub struct JobPermit(#[allow(dead_code)] OwnedSemaphorePermit);

impl Jobs {
    /// `slots` concurrent jobs (at least 1) and `queue` waiting ones.
    pub fn new(slots: usize, queue: usize) -> Jobs {
        let slots = slots.max(1);
        Jobs {
            slots,
            queue,
            semaphore: Arc::new(Semaphore::new(slots)),
            waiting: AtomicUsize::new(0),
        }
    }

    /// Waits for a slot.
    ///
    /// # Errors
    /// [`ServiceError::Busy`] at once when `queue` requests are already waiting.
    pub async fn acquire(&self) -> Result<JobPermit, ServiceError> {
        if let Ok(p) = self.semaphore.clone().try_acquire_owned() {
            return Ok(JobPermit(p));
        }
        if self.waiting.fetch_add(1, Ordering::SeqCst) >= self.queue {
            self.waiting.fetch_sub(1, Ordering::SeqCst);
            return Err(ServiceError::Busy(self.slots, self.queue));
        }
        let permit = self.semaphore.clone().acquire_owned().await;
        self.waiting.fetch_sub(1, Ordering::SeqCst);
        Ok(JobPermit(permit.expect("the semaphore is never closed")))
    }

    /// A slot if one is free now, else `None` (for optional work such as dictation partials).
    pub fn try_acquire(&self) -> Option<JobPermit> {
        self.semaphore
            .clone()
            .try_acquire_owned()
            .ok()
            .map(JobPermit)
    }

    /// Jobs waiting for a slot now.
    pub fn waiting(&self) -> usize {
        self.waiting.load(Ordering::SeqCst)
    }

    /// Jobs running now.
    pub fn running(&self) -> usize {
        self.slots - self.semaphore.available_permits()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn refuses_beyond_the_queue() {
        let jobs = Arc::new(Jobs::new(1, 2));
        let first = jobs.acquire().await.unwrap();
        let a = tokio::spawn({
            let j = jobs.clone();
            async move { j.acquire().await.map(|_| ()) }
        });
        let b = tokio::spawn({
            let j = jobs.clone();
            async move { j.acquire().await.map(|_| ()) }
        });
        while jobs.waiting() < 2 {
            tokio::task::yield_now().await;
        }
        assert!(matches!(
            jobs.acquire().await,
            Err(ServiceError::Busy(1, 2))
        ));
        drop(first);
        a.await.unwrap().unwrap();
        b.await.unwrap().unwrap();
        assert_eq!(jobs.running(), 0);
    }
}
