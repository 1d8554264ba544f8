//! A real SMTP server for the tests: Python's aiosmtpd (installed once into a virtualenv under
//! the target directory), started per test on a free port, writing what it accepts to a folder.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;

use super::mail::{self, Mail};

const AIOSMTPD: &str = "aiosmtpd==1.4.6";

static INSTALL: Mutex<()> = Mutex::new(());

/// The Python that has aiosmtpd: `LOCALOFFER_TEST_SMTP_PYTHON`, else a virtualenv made (once)
/// in the target directory.
fn python() -> PathBuf {
    if let Ok(given) = std::env::var("LOCALOFFER_TEST_SMTP_PYTHON")
        && !given.trim().is_empty()
    {
        return PathBuf::from(given);
    }
    let _one_at_a_time = INSTALL.lock().unwrap_or_else(|e| e.into_inner());
    let venv = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("smtp-venv");
    let python = venv.join("bin/python");
    let ready = venv.join(".aiosmtpd-1.4.6");
    if ready.exists() {
        return python;
    }
    let building = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("smtp-venv.{}", std::process::id()));
    let run = |cmd: &mut Command| {
        let out = cmd.output().expect("python3 runs");
        assert!(
            out.status.success(),
            "installing aiosmtpd for the SMTP tests failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let _ = std::fs::remove_dir_all(&building);
    run(Command::new("python3").args(["-m", "venv"]).arg(&building));
    run(Command::new(building.join("bin/pip")).args(["install", "--quiet", "--disable-pip-version-check", AIOSMTPD]));
    // Another test binary may have finished first; either copy will do.
    if std::fs::rename(&building, &venv).is_err() {
        let _ = std::fs::remove_dir_all(&building);
    }
    // A virtualenv records its own path: made elsewhere and moved, its scripts would point at
    // the old place, so only the interpreter (`python -m`) is used.
    std::fs::write(&ready, AIOSMTPD).expect("mark the virtualenv ready");
    python
}

/// A running SMTP server; stopped when dropped.
pub struct SmtpServer {
    child: Child,
    pub port: u16,
    pub dir: tempfile::TempDir,
}

impl SmtpServer {
    pub fn start() -> SmtpServer {
        SmtpServer::refusing_first(0)
    }

    /// A server that answers the first `n` messages with a temporary refusal (451).
    pub fn refusing_first(n: u32) -> SmtpServer {
        let dir = tempfile::tempdir().expect("temp dir");
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/smtp/server.py");
        let mut child = Command::new(python())
            .arg(script)
            .arg("--dir")
            .arg(dir.path())
            .arg("--refuse-first")
            .arg(n.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the SMTP server starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("the SMTP server says its port");
        let port = line
            .trim()
            .strip_prefix("listening on ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("unexpected first line from the SMTP server: {line:?}"));
        SmtpServer { child, port, dir }
    }

    /// For `serve --smtp-url`: plain SMTP on this machine.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}?tls=none", self.port)
    }

    pub fn received(&self) -> Vec<Mail> {
        mail::read(&[self.dir.path().to_path_buf()])
    }

    pub async fn wait_for(&self, to: &str, containing: &str) -> Mail {
        mail::wait_for(&[self.dir.path().to_path_buf()], to, containing).await
    }

    /// The envelope's recipients of a received message.
    pub fn envelope_to(&self, m: &Mail) -> Vec<String> {
        let json = std::fs::read_to_string(m.file.with_extension("json")).unwrap_or_default();
        let v: serde_json::Value = serde_json::from_str(&json).unwrap_or_default();
        v["rcpt_tos"]
            .as_array()
            .map(|a| a.iter().filter_map(|x| x.as_str()).map(str::to_lowercase).collect())
            .unwrap_or_default()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
