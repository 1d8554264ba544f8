//! Delivering the outbox: the job runner hands each due `mail` job here. The message is built
//! from the stored notice and sent outside any transaction (an SMTP server may be slow); then
//! the notice is marked sent, or its failure recorded and the job retried with backoff. The job's
//! claim is a lease held by one server at a time, so several servers never send one twice.

use std::path::PathBuf;
use std::str::FromStr;

use lettre::message::{Mailbox, MultiPart};
use lettre::{FileTransport, Message, SmtpTransport, Transport};

use crate::db::{Db, jobs, notifications};
use crate::domain::notification::{MailStatus, retry_after};

/// How mail leaves this server.
enum Carrier {
    Smtp(Box<SmtpTransport>),
    /// No SMTP server set: each message is written as an `.eml` file a person can open.
    Files(FileTransport),
}

/// Where mail goes and how it is addressed.
pub struct Outbox {
    carrier: Carrier,
    from: Mailbox,
    public_url: String,
    /// The wait before the first retry (doubling after each failure).
    retry_base: chrono::Duration,
    /// The host part of Message-IDs.
    host: String,
}

/// What `serve` was told about mail.
#[derive(Debug, Clone)]
pub struct MailSettings {
    /// `smtp://user:pass@host:port` (STARTTLS required), `smtps://…` (TLS from the start), or
    /// `smtp://host:port?tls=none` for a relay on the same machine. `None`: `.eml` files.
    pub smtp_url: Option<String>,
    /// The From address; `Local Offer <no-reply@{public host}>` when absent.
    pub from: Option<String>,
    /// The address links in mail start with (`serve --public-url`).
    pub public_url: String,
    pub retry_base: std::time::Duration,
}

/// An SMTP server's answer with any address in it blanked, for the log (no personal data there).
fn scrub(why: &str) -> String {
    why.split_whitespace()
        .map(|w| if w.contains('@') { "[address]" } else { w })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The SMTP address with our defaults: STARTTLS unless said otherwise, `tls=none` for plain.
fn smtp_transport(url: &str) -> Result<SmtpTransport, String> {
    let mut parsed = url::Url::parse(url).map_err(|e| format!("--smtp-url is not an address: {e}"))?;
    let tls: Option<String> = parsed
        .query_pairs()
        .find(|(k, _)| k == "tls")
        .map(|(_, v)| v.into_owned());
    match (parsed.scheme(), tls.as_deref()) {
        ("smtp", None) => {
            parsed.query_pairs_mut().append_pair("tls", "required");
        }
        ("smtp", Some("none")) => parsed.set_query(None),
        ("smtp", Some("required" | "opportunistic")) | ("smtps", _) => {}
        (scheme, tls) => {
            return Err(format!(
                "--smtp-url must be smtp:// or smtps:// (tls=required, opportunistic or none), not {scheme}:// with tls={tls:?}"
            ));
        }
    }
    let builder = SmtpTransport::from_url(parsed.as_str()).map_err(|e| format!("--smtp-url: {e}"))?;
    Ok(builder.timeout(Some(std::time::Duration::from_secs(30))).build())
}

impl Outbox {
    pub fn new(settings: &MailSettings, outbox_dir: PathBuf) -> Result<Outbox, String> {
        let host = url::Url::parse(&settings.public_url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_string))
            .unwrap_or_else(|| "localhost".into());
        let from = match &settings.from {
            Some(given) => Mailbox::from_str(given).map_err(|e| format!("--mail-from {given:?}: {e}"))?,
            None => Mailbox::from_str(&format!("Local Offer <no-reply@{host}>"))
                .map_err(|e| format!("no --mail-from, and none can be made from the public address: {e}"))?,
        };
        let carrier = match &settings.smtp_url {
            Some(url) => Carrier::Smtp(Box::new(smtp_transport(url)?)),
            None => {
                std::fs::create_dir_all(&outbox_dir)
                    .map_err(|e| format!("cannot make {}: {e}", outbox_dir.display()))?;
                Carrier::Files(FileTransport::new(outbox_dir))
            }
        };
        Ok(Outbox {
            carrier,
            from,
            public_url: settings.public_url.trim_end_matches('/').to_string(),
            retry_base: chrono::Duration::from_std(settings.retry_base)
                .unwrap_or_else(|_| chrono::Duration::minutes(1)),
            host,
        })
    }

    pub fn describe(&self) -> &'static str {
        match self.carrier {
            Carrier::Smtp(_) => "smtp",
            Carrier::Files(_) => "files",
        }
    }

    fn message(&self, n: &notifications::Outgoing) -> Result<Message, String> {
        let letter = n.letter().ok_or("the stored notice cannot be read")?;
        let to = Mailbox::from_str(&n.email).map_err(|e| format!("the address cannot receive mail: {e}"))?;
        let html = crate::templates::mail::html(&letter, &self.public_url).into_string();
        let text = crate::templates::mail::text(&letter, &self.public_url);
        Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(letter.title.clone())
            // The same notice always has the same Message-ID, so a receiver can drop a resend.
            .message_id(Some(format!(
                "<notice-{}-{}@{}>",
                n.id,
                n.created_at.and_utc().timestamp(),
                self.host
            )))
            .multipart(MultiPart::alternative_plain_html(text, html))
            .map_err(|e| format!("the message cannot be built: {e}"))
    }

    /// Send: `Err((why, permanent))` when it did not go.
    fn send(&self, message: &Message) -> Result<(), (String, bool)> {
        match &self.carrier {
            Carrier::Smtp(smtp) => smtp
                .send(message)
                .map(|_| ())
                .map_err(|e| (e.to_string(), e.is_permanent())),
            Carrier::Files(files) => files.send(message).map(|_| ()).map_err(|e| (e.to_string(), false)),
        }
    }

    /// Deliver the notice of one claimed mail job. True when a message went out.
    pub fn deliver(&self, db: &Db, job: &jobs::Job) -> Result<bool, crate::db::DbError> {
        let (job_id, notice, attempts) = (job.id, job.subject_id, job.attempts);
        let outgoing = db.read(|conn| notifications::outgoing(conn, notice))?;
        let Some(n) = outgoing.filter(|n| n.mail_status == MailStatus::Pending.as_str()) else {
            // Already sent or given up (a job left over from a server that stopped mid-way).
            db.write(move |conn| jobs::done(conn, job_id))?;
            return Ok(false);
        };
        let account_mail = n.letter().is_some_and(|l| l.event.is_account_mail());
        let sent = self.message(&n).map_err(|why| (why, true)).and_then(|m| self.send(&m));
        match sent {
            Ok(()) => {
                db.write(move |conn| {
                    notifications::mark_sent(conn, notice, attempts, account_mail)?;
                    jobs::done(conn, job_id)
                })?;
                tracing::info!(notice, attempts, carrier = self.describe(), "mail sent");
                Ok(true)
            }
            Err((why, permanent)) => {
                let retry = if permanent {
                    None
                } else {
                    retry_after(attempts, self.retry_base)
                };
                tracing::warn!(notice, attempts, permanent, error = %scrub(&why), gives_up = retry.is_none(), "mail not sent");
                db.write(move |conn| {
                    notifications::mark_attempt_failed(conn, notice, attempts, &why, retry.is_none())?;
                    match retry {
                        Some(wait) => jobs::failed(conn, job_id, &why, crate::db::now() + wait),
                        None => jobs::done(conn, job_id),
                    }
                })?;
                Ok(false)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_never_reach_the_log() {
        assert_eq!(
            scrub("550 5.1.1 <sam.parent@example.org>: mailbox unavailable"),
            "550 5.1.1 [address] mailbox unavailable"
        );
    }

    #[test]
    fn smtp_addresses_default_to_starttls_and_refuse_other_schemes() {
        assert!(smtp_transport("smtp://user:pass@mail.example:587").is_ok());
        assert!(smtp_transport("smtps://mail.example").is_ok());
        assert!(smtp_transport("smtp://127.0.0.1:2525?tls=none").is_ok());
        assert!(smtp_transport("http://mail.example").unwrap_err().contains("smtp://"));
        assert!(smtp_transport("smtp://mail.example?tls=maybe").is_err());
    }
}
