//! Per client address limits on the writes anyone can make without logging in (logging in,
//! registering), before any work is done for them. The per-account limits on logins live with the
//! use case (`app::accounts::login`) and the database, so they hold across servers.
//!
//! The address is the connection's peer address. `X-Forwarded-For` is believed only when that peer
//! is one of the proxies named by `--trusted-proxies` (a client could write any address there), and
//! then only the part those proxies appended: the client is the rightmost address that is not one of
//! them.

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
    "/api/v1/auth/password-reset",
    "/api/v1/auth/password-reset/confirm",
    "/api/v1/auth/confirm-email",
    "/password-reset",
];

/// As [`LIMITED`], for paths holding a mailed token: `/invitations/{token}`, and so on.
pub const LIMITED_UNDER: &[&str] = &[
    "/api/v1/invitations/",
    "/invitations/",
    "/password-reset/",
    "/confirm-email/",
];

fn limited(path: &str) -> bool {
    LIMITED.contains(&path) || LIMITED_UNDER.iter().any(|p| path.starts_with(p))
}

/// Addresses kept before the limiter forgets those that are back to a full allowance.
const KEPT: usize = 100_000;

#[derive(Clone)]
pub struct Clients {
    limiter: Option<Arc<DefaultKeyedRateLimiter<IpAddr>>>,
    trusted_proxies: Arc<[IpAddr]>,
}

enum Next<F> {
    Pass(F),
    Refused(ServiceResponse),
}

impl Clients {
    /// `per_minute` attempts a minute per address, in bursts up to as many; 0: no limit. Requests
    /// from `trusted_proxies` are counted by the client address they forward.
    pub fn new(per_minute: u32, trusted_proxies: &[IpAddr]) -> Clients {
        Clients {
            limiter: NonZeroU32::new(per_minute).map(|n| Arc::new(RateLimiter::keyed(Quota::per_minute(n)))),
            trusted_proxies: trusted_proxies.iter().map(|ip| unmapped(*ip)).collect(),
        }
    }

    /// Seconds to wait, when this request is over its address's limit.
    fn refusal(&self, req: &ServiceRequest) -> Option<u64> {
        let limiter = self.limiter.as_ref()?;
        if req.method() != Method::POST || !limited(req.path()) {
            return None;
        }
        let forwarded: Vec<&str> = req
            .headers()
            .get_all("x-forwarded-for")
            .filter_map(|v| v.to_str().ok())
            .collect();
        let ip = client_key(client_address(req.peer_addr()?.ip(), &forwarded, &self.trusted_proxies));
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

/// The client behind `peer`: the peer itself unless it is a trusted proxy; then, reading the
/// `X-Forwarded-For` values from the right (each proxy appends what it saw), the first address that
/// is not a trusted proxy. Anything unreadable there stops the walk at the last address known good.
fn client_address(peer: IpAddr, forwarded: &[&str], trusted: &[IpAddr]) -> IpAddr {
    let mut client = unmapped(peer);
    let hops = forwarded.iter().rev().flat_map(|value| value.rsplit(','));
    for hop in hops {
        if !trusted.contains(&client) {
            break;
        }
        match hop.trim().parse::<IpAddr>() {
            Ok(ip) => client = unmapped(ip),
            Err(_) => break,
        }
    }
    client
}

/// IPv4-mapped IPv6 addresses as the IPv4 addresses they are.
fn unmapped(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        IpAddr::V4(_) => ip,
    }
}

/// IPv4 addresses one by one; IPv6 by their /64 (one household or host has a whole /64).
fn client_key(ip: IpAddr) -> IpAddr {
    match unmapped(ip) {
        IpAddr::V6(v6) => {
            let s = v6.segments();
            IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
        }
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::{client_address, client_key};
    use std::net::IpAddr;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn forwarded_addresses_count_only_from_trusted_proxies() {
        let proxy = ip("10.0.0.5");
        let trusted = [proxy, ip("10.0.0.6")];
        // A client talking to us directly cannot pretend to be someone else.
        assert_eq!(
            client_address(ip("198.51.100.7"), &["203.0.113.1"], &trusted),
            ip("198.51.100.7")
        );
        // Through the proxy: the address the proxy appended, not what the client wrote before it.
        assert_eq!(
            client_address(proxy, &["203.0.113.1, 198.51.100.7"], &trusted),
            ip("198.51.100.7")
        );
        // Through two trusted proxies, in one header or two.
        assert_eq!(
            client_address(proxy, &["198.51.100.7, 10.0.0.6"], &trusted),
            ip("198.51.100.7")
        );
        assert_eq!(
            client_address(proxy, &["198.51.100.7", "10.0.0.6"], &trusted),
            ip("198.51.100.7")
        );
        // Nothing forwarded, or garbage: the proxy itself, never a made-up address.
        assert_eq!(client_address(proxy, &[], &trusted), proxy);
        assert_eq!(client_address(proxy, &["not an address"], &trusted), proxy);
        assert_eq!(
            client_address(ip("::ffff:10.0.0.5"), &["198.51.100.7"], &trusted),
            ip("198.51.100.7")
        );
        // No proxies trusted: the header is ignored.
        assert_eq!(client_address(proxy, &["198.51.100.7"], &[]), proxy);
    }

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
