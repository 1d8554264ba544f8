//! `localoffer bench login-flood`: the real server in its own process (this binary's `serve`),
//! flooded with wrong logins from many client addresses at once, while a right login from another
//! address tries to get in and `/healthz` is timed. Prints the server's memory (RSS before, peak
//! and after, from /proc) and the figures as one JSON line, then in words.

use std::io::{BufRead, BufReader};
use std::net::{IpAddr, Ipv4Addr};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;

use super::{BenchError, percentile_ms, setup_err};

const OFFICER: &str = "officer@flood.example";
const PASSWORD: &str = "the right password 1";
/// Accounts the flood guesses at (none exists), each tried many times: the per-account limit.
const GUESSED: usize = 50;

/// The server process, killed when this goes.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// VmRSS and VmHWM of a process, in kB.
fn memory_kb(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn mb(kb: u64) -> f64 {
    kb as f64 / 1024.0
}

fn start_server(dir: &std::path::Path) -> Result<(Server, String), BenchError> {
    let exe = std::env::current_exe().map_err(setup_err)?;
    let made = Command::new(&exe)
        .args([
            "council",
            "create",
            "--name",
            "Flood Council",
            "--email",
            OFFICER,
            "--password",
            PASSWORD,
        ])
        .arg("--data-dir")
        .arg(dir)
        .env_remove("DATABASE_URL")
        .output()
        .map_err(setup_err)?;
    if !made.status.success() {
        return Err(setup_err(String::from_utf8_lossy(&made.stderr)));
    }
    let mut child = Command::new(&exe)
        .args(["serve", "--bind", "127.0.0.1:0"])
        .arg("--data-dir")
        .arg(dir)
        .env_remove("DATABASE_URL")
        .env("RUST_LOG", "error")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(setup_err)?;
    let stdout = child.stdout.take().ok_or_else(|| setup_err("no server output"))?;
    let server = Server(child);
    let mut lines = BufReader::new(stdout).lines();
    let base = loop {
        match lines.next() {
            Some(Ok(line)) => {
                if let Some(url) = line.strip_prefix("localoffer listening on ") {
                    break url.trim().to_string();
                }
            }
            _ => return Err(setup_err("the server stopped before listening")),
        }
    };
    // Keep reading so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    Ok((server, base))
}

pub fn login_flood(requests: usize, concurrency: usize, addresses: u16) -> Result<(), BenchError> {
    let dir = tempfile::tempdir().map_err(setup_err)?;
    let (server, base) = start_server(dir.path())?;
    let pid = server.0.id();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(setup_err)?;
    let figures = runtime.block_on(flood(&base, pid, requests, concurrency.max(1), addresses.max(1)))?;
    drop(server);
    println!("{figures}");
    eprintln!(
        "{} wrong logins at {} at once from {} address(es): {} refused 401, {} refused 429, {} other",
        requests,
        concurrency,
        addresses,
        figures["wrong_logins"]["401"],
        figures["wrong_logins"]["429"],
        figures["wrong_logins"]["other"]
    );
    eprintln!(
        "server RSS: {:.0} MB before, {:.0} MB peak, {:.0} MB after; /healthz p50 {:.1} ms, p99 {:.1} ms",
        figures["rss_mb"]["before"].as_f64().unwrap_or(0.0),
        figures["rss_mb"]["peak"].as_f64().unwrap_or(0.0),
        figures["rss_mb"]["after"].as_f64().unwrap_or(0.0),
        figures["healthz_ms"]["p50"].as_f64().unwrap_or(0.0),
        figures["healthz_ms"]["p99"].as_f64().unwrap_or(0.0),
    );
    eprintln!(
        "right login from another address: {} after {} attempt(s) in {:.2} s",
        figures["right_login"]["status"],
        figures["right_login"]["attempts"],
        figures["right_login"]["seconds"].as_f64().unwrap_or(0.0)
    );
    Ok(())
}

async fn flood(
    base: &str,
    pid: u32,
    requests: usize,
    concurrency: usize,
    addresses: u16,
) -> Result<serde_json::Value, BenchError> {
    let login_url = format!("{base}/api/v1/auth/login");
    let (before, _) = memory_kb(pid);
    let clients = (0..addresses)
        .map(|i| {
            let octet = u8::try_from(2 + i).unwrap_or(u8::MAX);
            reqwest::Client::builder()
                .local_address(IpAddr::V4(Ipv4Addr::new(127, 0, 0, octet)))
                .timeout(Duration::from_secs(60))
                .build()
        })
        .collect::<Result<Vec<_>, _>>()?;
    let flooding = Arc::new(AtomicBool::new(true));
    let rss_max = Arc::new(AtomicU64::new(before));
    let sampler = {
        let (flooding, rss_max) = (flooding.clone(), rss_max.clone());
        tokio::spawn(async move {
            while flooding.load(Ordering::Relaxed) {
                rss_max.fetch_max(memory_kb(pid).0, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
    };
    let health = {
        let (flooding, url) = (flooding.clone(), format!("{base}/healthz"));
        let client = reqwest::Client::builder().timeout(Duration::from_secs(60)).build()?;
        tokio::spawn(async move {
            let mut times = Vec::new();
            while flooding.load(Ordering::Relaxed) {
                let started = Instant::now();
                if client.get(&url).send().await.is_ok_and(|r| r.status().is_success()) {
                    times.push(started.elapsed());
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            times
        })
    };
    // The right login starts once the flood is under way, and honours Retry-After like a browser
    // user pressing "log in" again would.
    let right = {
        let url = login_url.clone();
        let client = reqwest::Client::builder().timeout(Duration::from_secs(60)).build()?;
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(200)).await;
            let started = Instant::now();
            let mut attempts = 0;
            let mut status = 0;
            while attempts < 60 {
                attempts += 1;
                let res = client
                    .post(&url)
                    .json(&json!({"email": OFFICER, "password": PASSWORD}))
                    .send()
                    .await;
                let Ok(res) = res else { break };
                status = res.status().as_u16();
                if status != 429 {
                    break;
                }
                let wait: u64 = res
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(1);
                tokio::time::sleep(Duration::from_millis(wait.clamp(1, 2) * 500)).await;
            }
            (status, attempts, started.elapsed())
        })
    };
    let started = Instant::now();
    let gate = Arc::new(tokio::sync::Semaphore::new(concurrency));
    let mut tasks = Vec::with_capacity(requests);
    for i in 0..requests {
        let permit = gate.clone().acquire_owned().await.map_err(setup_err)?;
        let client = clients[i % clients.len()].clone();
        let url = login_url.clone();
        tasks.push(tokio::spawn(async move {
            let body = json!({"email": format!("guess{}@flood.example", i % GUESSED), "password": "a wrong password"});
            let status = client
                .post(&url)
                .json(&body)
                .send()
                .await
                .map_or(0, |r| r.status().as_u16());
            drop(permit);
            status
        }));
    }
    let (mut unauthorised, mut too_many, mut other) = (0, 0, 0);
    for t in tasks {
        match t.await.unwrap_or(0) {
            401 => unauthorised += 1,
            429 => too_many += 1,
            _ => other += 1,
        }
    }
    let flood_secs = started.elapsed().as_secs_f64();
    let (right_status, right_attempts, right_time) = right.await.map_err(setup_err)?;
    flooding.store(false, Ordering::Relaxed);
    let mut times = health.await.map_err(setup_err)?;
    sampler.await.map_err(setup_err)?;
    times.sort();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (after, hwm) = memory_kb(pid);
    let peak = hwm.max(rss_max.load(Ordering::Relaxed));
    Ok(json!({
        "requests": requests,
        "concurrency": concurrency,
        "addresses": addresses,
        "flood_seconds": flood_secs,
        "wrong_logins": {"401": unauthorised, "429": too_many, "other": other},
        "rss_mb": {"before": mb(before), "peak": mb(peak), "after": mb(after)},
        "healthz_ms": {"samples": times.len(), "p50": percentile_ms(&times, 0.5), "p99": percentile_ms(&times, 0.99)},
        "right_login": {"status": right_status, "attempts": right_attempts, "seconds": right_time.as_secs_f64()},
    }))
}
