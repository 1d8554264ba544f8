//! Benchmarks that print figures: `localoffer bench bookings`, `bench search` and `bench reports`.

mod bookings;
mod reports;
mod search;

pub use bookings::bookings;
pub use reports::reports;
pub use search::search;

#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error("setup failed: {0}")]
    Setup(String),
    #[error("request failed: {0}")]
    Http(#[from] reqwest::Error),
}

fn setup_err(e: impl std::fmt::Display) -> BenchError {
    BenchError::Setup(e.to_string())
}

/// The p-th percentile (0..=1) of sorted durations, in milliseconds.
fn percentile_ms(sorted: &[std::time::Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 * p).ceil() as usize).saturating_sub(1);
    sorted.get(i).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}
