//! Payment run pages.
