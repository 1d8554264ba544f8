//! The job runner: each server claims due jobs from the database and runs each in its own
//! transaction with its effect, so a job's work is done once whichever server (or how many) runs.

use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::time::Duration;

use super::direct_payments::{self, DIRECT_PAYMENTS};
use super::notifications::MAIL;
use super::outbox::Outbox;
use super::{AppError, AppResult, records, waitlist};
use super::{invoices, notices};
use crate::db::{Conn, Db, jobs, now};
use crate::domain::WaitlistId;
use crate::domain::retention::Retention;

/// How often each server looks for due jobs.
pub const POLL: Duration = Duration::from_secs(1);

/// The daily purge: expired and revoked sessions, and the search log past retention folded into
/// monthly counts. It never erases a budget holder: that is the council's decision, one record at
/// a time.
pub const PURGE: &str = "purge";

/// How often the purge and the direct payments run.
fn daily() -> chrono::Duration {
    chrono::Duration::days(1)
}

/// Reminders of booked sessions: how often the job looks for sessions 48 hours ahead.
pub const REMINDERS: &str = "reminders";
/// Six-week reviews falling due: the council's deciders are told once per review.
pub const REVIEWS_DUE: &str = "reviews_due";

fn every_quarter_hour() -> chrono::Duration {
    chrono::Duration::minutes(15)
}

/// The next day's run of a daily job, unless another server's chain already has one waiting
/// (this job is still pending itself until it is marked done).
fn again_tomorrow(conn: &mut Conn, kind: &str) -> AppResult<()> {
    again_in(conn, kind, daily())
}

fn again_in(conn: &mut Conn, kind: &str, interval: chrono::Duration) -> AppResult<()> {
    if jobs::pending(conn, kind, 0)?.len() <= 1 {
        jobs::schedule(conn, kind, 0, now() + interval)?;
    }
    Ok(())
}

/// Run one claimed job; false when it found nothing to do (already done elsewhere).
fn handle(conn: &mut Conn, job: &jobs::Job, retention: Retention) -> AppResult<bool> {
    match job.kind.as_str() {
        waitlist::OFFER_EXPIRY => waitlist::expire(conn, WaitlistId(job.subject_id), now()),
        PURGE => {
            let did = records::purge_in(conn, retention, now())?;
            again_tomorrow(conn, PURGE)?;
            Ok(did)
        }
        DIRECT_PAYMENTS => {
            let did = direct_payments::pay_in_due(conn, direct_payments::london_today(), None)?;
            again_tomorrow(conn, DIRECT_PAYMENTS)?;
            Ok(did)
        }
        invoices::DRAFT_INVOICES => {
            let did = invoices::draft_due(conn, direct_payments::london_today())? > 0;
            again_tomorrow(conn, invoices::DRAFT_INVOICES)?;
            Ok(did)
        }
        REMINDERS => {
            let did = notices::send_reminders(conn, now())? > 0;
            again_in(conn, REMINDERS, every_quarter_hour())?;
            Ok(did)
        }
        REVIEWS_DUE => {
            let did = notices::send_reviews_due(conn, direct_payments::london_today())? > 0;
            again_tomorrow(conn, REVIEWS_DUE)?;
            Ok(did)
        }
        other => Err(AppError::Internal(format!("no handler for job kind {other}"))),
    }
}

/// A recurring job is due now unless one is already waiting.
fn schedule_daily(db: &Db, kind: &'static str) {
    let scheduled = db.write(move |conn| {
        if jobs::pending(conn, kind, 0)?.is_empty() {
            jobs::schedule(conn, kind, 0, now())?;
        }
        Ok(())
    });
    if let Err(e) = scheduled {
        tracing::warn!(error = %e, job = kind, "could not schedule a daily job; another server may");
    }
}

/// When a failed job is tried again: 1, 2, 4 ... minutes after its attempt, at most an hour.
fn backoff(attempts: i32) -> chrono::Duration {
    chrono::Duration::minutes(1i64 << attempts.clamp(1, 7).saturating_sub(1)).min(chrono::Duration::hours(1))
}

/// Claim and run due jobs until none is left; returns how many ran.
pub fn run_due(db: &Db, retention: Retention, outbox: &Outbox) -> usize {
    let mut ran = 0;
    loop {
        // The claim commits on its own: its lease tells every other server the job is taken.
        let job = match db.write(|conn| jobs::claim(conn, now())) {
            Ok(Some(job)) => job,
            Ok(None) => return ran,
            Err(e) => {
                tracing::warn!(error = %e, "could not claim jobs; will try again");
                return ran;
            }
        };
        let (id, attempts) = (job.id, job.attempts);
        if job.kind == MAIL {
            // Sent outside a transaction; the outbox records the outcome itself.
            if let Err(e) = outbox.deliver(db, &job) {
                tracing::warn!(job = id, error = %e, "could not record a mail's outcome; its lease will lapse and it is tried again");
            }
            ran += 1;
            continue;
        }
        let run = db.write_as(move |conn| {
            let did = handle(conn, &job, retention)?;
            jobs::done(conn, job.id)?;
            Ok::<_, AppError>((job.kind, did))
        });
        match run {
            Ok((kind, did)) => {
                ran += 1;
                tracing::info!(job = id, %kind, attempts, effect = did, "job done");
            }
            Err(e) => {
                let (message, retry) = (e.to_string(), now() + backoff(attempts));
                if let Err(e) = db.write(move |conn| jobs::failed(conn, id, &message, retry)) {
                    tracing::error!(job = id, error = %e, "could not record a job's failure");
                }
                tracing::warn!(job = id, attempts, error = %e, "job failed; it will be retried");
            }
        }
    }
}

/// Run due jobs every `poll` on a thread of this server, until the returned sender is dropped
/// (the server stops).
pub fn spawn(db: Db, poll: Duration, retention: Retention, outbox: Arc<Outbox>) -> Sender<()> {
    let (alive, stop): (Sender<()>, Receiver<()>) = std::sync::mpsc::channel();
    let spawned = std::thread::Builder::new().name("job-runner".into()).spawn(move || {
        schedule_daily(&db, PURGE);
        schedule_daily(&db, DIRECT_PAYMENTS);
        schedule_daily(&db, invoices::DRAFT_INVOICES);
        schedule_daily(&db, REMINDERS);
        schedule_daily(&db, REVIEWS_DUE);
        loop {
            run_due(&db, retention, &outbox);
            match stop.recv_timeout(poll) {
                Err(RecvTimeoutError::Disconnected) => return,
                _ => continue,
            }
        }
    });
    if let Err(e) = spawned {
        tracing::error!(error = %e, "cannot start the job runner; jobs will wait for another server");
    }
    alive
}

#[cfg(test)]
mod tests {
    use super::backoff;

    #[test]
    fn failed_jobs_back_off_to_an_hour() {
        let minutes: Vec<i64> = (1..=9).map(|a| backoff(a).num_minutes()).collect();
        assert_eq!(minutes, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
    }
}
