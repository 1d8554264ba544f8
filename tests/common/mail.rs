//! Mail as the tests receive it: from the outbox's `.eml` files or a real SMTP server's, parsed
//! as a mail client would (MIME parts, transfer encodings).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use mail_parser::MessageParser;

#[derive(Debug, Clone)]
pub struct Mail {
    pub from: String,
    pub to: Vec<String>,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub message_id: String,
    pub file: PathBuf,
}

impl Mail {
    /// The token of the first link to `{anything}{path}/{token}` in the plain text.
    pub fn token(&self, path: &str) -> String {
        let marker = format!("{path}/");
        let start = self
            .text
            .find(&marker)
            .unwrap_or_else(|| panic!("no {marker} link in: {}", self.text))
            + marker.len();
        self.text[start..]
            .chars()
            .take_while(char::is_ascii_alphanumeric)
            .collect()
    }
}

pub fn parse(raw: &[u8], file: &Path) -> Option<Mail> {
    let message = MessageParser::default().parse(raw)?;
    let addresses = |a: Option<&mail_parser::Address>| -> Vec<String> {
        a.map(|a| a.iter().filter_map(|x| x.address()).map(str::to_lowercase).collect())
            .unwrap_or_default()
    };
    Some(Mail {
        from: addresses(message.from()).join(","),
        to: addresses(message.to()),
        subject: message.subject().unwrap_or_default().to_string(),
        text: message.body_text(0).map(|t| t.into_owned()).unwrap_or_default(),
        html: message.body_html(0).map(|t| t.into_owned()).unwrap_or_default(),
        message_id: message.message_id().unwrap_or_default().to_string(),
        file: file.to_path_buf(),
    })
}

/// Every message in these directories (`.eml` files), oldest file first.
pub fn read(dirs: &[PathBuf]) -> Vec<Mail> {
    let mut files: Vec<(std::time::SystemTime, PathBuf)> = dirs
        .iter()
        .filter_map(|d| std::fs::read_dir(d).ok())
        .flatten()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .map(|p| {
            (
                p.metadata().and_then(|m| m.modified()).unwrap_or(std::time::UNIX_EPOCH),
                p,
            )
        })
        .collect();
    files.sort();
    files
        .into_iter()
        .filter_map(|(_, p)| std::fs::read(&p).ok().and_then(|raw| parse(&raw, &p)))
        .collect()
}

/// Wait (up to 15 s) until a message to `to` whose text holds `containing` arrives.
pub async fn wait_for(dirs: &[PathBuf], to: &str, containing: &str) -> Mail {
    let to = to.to_lowercase();
    for _ in 0..300 {
        if let Some(m) = read(dirs)
            .into_iter()
            .rev()
            .find(|m| m.to.contains(&to) && m.text.contains(containing))
        {
            return m;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "no mail to {to} containing {containing:?} arrived; have: {:#?}",
        read(dirs).iter().map(|m| (&m.to, &m.subject)).collect::<Vec<_>>()
    );
}
