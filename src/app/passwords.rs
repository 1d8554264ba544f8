//! The one place password hashes are computed and checked on a server. argon2 takes about 19 MiB
//! and tens of milliseconds per hash, so a flood of logins on the general blocking pool (512
//! threads) would take gigabytes: here `workers` threads of the pool's own run the hashes, at
//! most `queue` more wait, and anything beyond is refused at once with
//! [`AppError::TooManyAttempts`]. Own threads, not the blocking pool's, also bound what the
//! allocator keeps afterwards: each thread that ever hashed holds on to its 19 MiB arena.

use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};

use tokio::sync::{Semaphore, oneshot};

use super::{AppError, AppResult};

/// How long a caller refused by a full queue is asked to wait.
pub const QUEUE_FULL_RETRY_SECS: u64 = 1;

type Job = Box<dyn FnOnce() + Send>;

#[derive(Clone)]
pub struct PasswordPool {
    /// Work for the pool's threads; they stop when the last clone of the pool goes.
    jobs: Arc<Mutex<Sender<Job>>>,
    /// Places for hashes running or waiting: when none is free the pool is full.
    admitted: Arc<Semaphore>,
    workers: usize,
}

/// One of the pool's threads: runs hashes one after another until the pool is dropped.
fn work(jobs: Arc<Mutex<Receiver<Job>>>) {
    loop {
        let next = match jobs.lock() {
            Ok(rx) => rx.recv(),
            Err(poisoned) => poisoned.into_inner().recv(),
        };
        let Ok(job) = next else { return };
        // A panicking hash answers its caller "busy" (its result sender is dropped); the thread
        // goes on.
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
    }
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
        let (tx, rx) = mpsc::channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        for n in 0..workers {
            let rx = rx.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("password-{n}"))
                .spawn(move || work(rx));
            if let Err(e) = spawned {
                tracing::error!(error = %e, "a password checks thread could not start");
            }
        }
        PasswordPool {
            jobs: Arc::new(Mutex::new(tx)),
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
    /// Run the hashing work on one of the pool's threads once one is free.
    pub async fn run<T: Send + 'static>(self, f: impl FnOnce() -> T + Send + 'static) -> AppResult<T> {
        let (done, result) = oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = done.send(f());
        });
        let sent = match self.pool.jobs.lock() {
            Ok(tx) => tx.send(job),
            Err(poisoned) => poisoned.into_inner().send(job),
        };
        sent.map_err(|_| AppError::Busy)?;
        result.await.map_err(|_| AppError::Busy)
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

    #[tokio::test]
    async fn hashes_run_on_the_pools_own_threads() {
        let pool = PasswordPool::new(2, 0);
        let names: Vec<String> = thread_names(&pool).await;
        assert!(names.iter().all(|n| n.starts_with("password-")), "{names:?}");
        let panicked = pool.admit().expect("a place").run(|| panic!("a bad hash")).await;
        assert!(matches!(panicked, Err(AppError::Busy)));
        let after = pool.admit().expect("a place").run(|| 7).await;
        assert_eq!(after.ok(), Some(7), "a panicking hash leaves the pool working");
    }

    async fn thread_names(pool: &PasswordPool) -> Vec<String> {
        let mut names = Vec::new();
        for _ in 0..4 {
            let name = pool
                .admit()
                .expect("a place")
                .run(|| std::thread::current().name().unwrap_or_default().to_string())
                .await
                .expect("run");
            names.push(name);
        }
        names
    }
}
