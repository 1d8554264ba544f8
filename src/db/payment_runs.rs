//! Payment runs.
