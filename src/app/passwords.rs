//! The one place password hashes are computed and checked on a server. argon2 takes about 19 MiB
//! and tens of milliseconds per hash, so a flood of logins on the general blocking pool (512
//! threads) would take gigabytes: here at most `workers` hashes run at once, at most `queue` more
//! wait, and anything beyond is refused at once with [`AppError::TooManyAttempts`].

use std::sync::Arc;

use tokio::sync::Semaphore;

use super::{AppError, AppResult};

/// How long a caller refused by a full queue is asked to wait.
pub const QUEUE_FULL_RETRY_SECS: u64 = 1;

#[derive(Clone)]
pub struct PasswordPool {
    /// Hashes running now.
    running: Arc<Semaphore>,
    /// Places for hashes running or waiting: when none is free the pool is full.
    admitted: Arc<Semaphore>,
    workers: usize,
}

/// A place in the pool, taken before any other work for the request (so a refused request costs
/// nothing), spent by [`Admitted::run`].
pub struct Admitted {
    pool: PasswordPool,
    _place: tokio::sync::OwnedSemaphorePermit,
}

impl PasswordPool {
    /// `workers` hashes at once (0: one per core) and `queue` waiting (0: four per worker).
    pub fn new(workers: usize, queue: usize) -> PasswordPool {
        let workers = if workers == 0 {
            std::thread::available_parallelism().map_or(2, usize::from)
        } else {
            workers
        };
        let queue = if queue == 0 { 4 * workers } else { queue };
        PasswordPool {
            running: Arc::new(Semaphore::new(workers)),
            admitted: Arc::new(Semaphore::new(workers + queue)),
            workers,
        }
    }

    pub fn workers(&self) -> usize {
        self.workers
    }

    /// A place, or at once "too many attempts" when the pool and its queue are full.
    pub fn admit(&self) -> AppResult<Admitted> {
        match self.admitted.clone().try_acquire_owned() {
            Ok(place) => Ok(Admitted {
                pool: self.clone(),
                _place: place,
            }),
            Err(_) => {
                tracing::warn!("password checks queue full: attempt refused");
                Err(AppError::TooManyAttempts {
                    retry_after_secs: QUEUE_FULL_RETRY_SECS,
                })
            }
        }
    }

    /// Hash a password to store it (admitted and run in one step).
    pub async fn hash(&self, password: String) -> AppResult<String> {
        self.admit()?
            .run(move || super::accounts::hash_password(&password))
            .await?
    }
}

impl Admitted {
    /// Run the hashing work off the async threads once one of the pool's workers is free.
    pub async fn run<T: Send + 'static>(self, f: impl FnOnce() -> T + Send + 'static) -> AppResult<T> {
        let _running = self
            .pool
            .running
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| AppError::Busy)?;
        tokio::task::spawn_blocking(f).await.map_err(|_| AppError::Busy)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_queue_refuses_at_once() {
        let pool = PasswordPool::new(1, 2);
        let held: Vec<_> = (0..3).map(|_| pool.admit().expect("a place")).collect();
        assert!(matches!(
            pool.admit(),
            Err(AppError::TooManyAttempts { retry_after_secs: 1 })
        ));
        drop(held);
        assert!(pool.admit().is_ok(), "places come back when requests finish");
    }
}
