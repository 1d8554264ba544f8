//! Providers' bank details, sealed at rest.
