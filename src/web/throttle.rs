//! Per client address limits on the writes anyone can make without logging in (logging in,
//! registering), before any work is done for them. The per-account limits on logins live with the
//! use case (`app::accounts::login`) and the database, so they hold across servers.
//!
//! The address is the connection's peer address: a proxy's `X-Forwarded-For` is not trusted (a
//! client could write any address there). Behind a reverse proxy every client shares its address,
//! so raise or turn off the limit there (`--client-attempts-per-minute`) and limit at the proxy.

use std::future::Future;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;

use actix_web::ResponseError;
use actix_web::body::EitherBody;
use actix_web::dev::{Service, ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use super::api::ApiError;
use super::pages::PageError;
use crate::app::AppError;

/// The writes open to anyone: POSTs to these paths are limited per client address.
pub const LIMITED: &[&str] = &[
    "/api/v1/auth/login",
    "/api/v1/providers",
    "/login",
    "/provider/register",
];

/// Addresses kept before the limiter forgets those that are back to a full allowance.
const KEPT: usize = 100_000;

#[derive(Clone)]
pub struct Clients {
    limiter: Option<Arc<DefaultKeyedRateLimiter<IpAddr>>>,
}

enum Next<F> {
    Pass(F),
    Refused(ServiceResponse),
}

impl Clients {
    /// `per_minute` attempts a minute per address, in bursts up to as many; 0: no limit.
    pub fn new(per_minute: u32) -> Clients {
        Clients {
            limiter: NonZeroU32::new(per_minute).map(|n| Arc::new(RateLimiter::keyed(Quota::per_minute(n)))),
        }
    }

    /// Seconds to wait, when this request is over its address's limit.
    fn refusal(&self, req: &ServiceRequest) -> Option<u64> {
        let limiter = self.limiter.as_ref()?;
        if req.method() != Method::POST || !LIMITED.contains(&req.path()) {
            return None;
        }
        let ip = client_key(req.peer_addr()?.ip());
        if limiter.len() > KEPT {
            limiter.retain_recent();
        }
        let refused = limiter.check_key(&ip).err()?;
        let wait = refused.wait_time_from(DefaultClock::default().now());
        tracing::warn!(path = req.path(), "too many attempts from one client address");
        Some(wait.as_secs() + u64::from(wait.subsec_nanos() > 0))
    }

    /// The middleware: refuse at once with 429 and `Retry-After` (the API's error envelope, or
    /// the pages' "too many attempts" page), or pass the request on.
    pub fn check<S, B>(
        &self,
        req: ServiceRequest,
        srv: &S,
    ) -> impl Future<Output = Result<ServiceResponse<EitherBody<B>>, actix_web::Error>> + use<S, B>
    where
        S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>,
    {
        let next = match self.refusal(&req) {
            None => Next::Pass(srv.call(req)),
            Some(retry_after_secs) => {
                let error = AppError::TooManyAttempts { retry_after_secs };
                let response = if req.path().starts_with("/api/") {
                    ApiError::App(error).error_response()
                } else {
                    PageError::App(error).error_response()
                };
                Next::Refused(req.into_response(response))
            }
        };
        async move {
            match next {
                Next::Pass(fut) => Ok(fut.await?.map_into_left_body()),
                Next::Refused(res) => Ok(res.map_into_right_body()),
            }
        }
    }
}

/// IPv4 addresses one by one; IPv6 by their /64 (one household or host has a whole /64).
fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::client_key;

    #[test]
    fn ipv6_clients_are_limited_by_their_64() {
        let a: std::net::IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: std::net::IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        let c: std::net::IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(client_key(a), client_key(b));
        assert_ne!(client_key(a), client_key(c));
        let v4: std::net::IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(client_key(v4), "192.0.2.7".parse::<std::net::IpAddr>().unwrap());
    }
}
