//! Limits that keep one client from wearing Steward down: who the client is (the peer
//! address, or what a trusted proxy in front says), how often it may try to sign in
//! (per client address and per account, answered with 429 and `Retry-After`), and
//! how many requests run at once and for how long.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// Request limits of the web layer (`steward serve` flags; defaults for tests).
#[derive(Debug, Clone)]
pub struct RequestLimits {
    /// Sign-in attempts a minute from one client address.
    pub logins_per_ip_per_minute: u32,
    /// Sign-in attempts a minute for one account (from anywhere).
    pub logins_per_account_per_minute: u32,
    /// Requests handled at once; more wait for a slot (within the request timeout).
    pub max_concurrent_requests: usize,
    /// How long a request may take, body included, before it is answered 408.
    pub request_timeout: Duration,
    /// Proxies whose `X-Forwarded-For` and `X-Request-Id` are believed.
    pub trusted_proxies: Vec<IpAddr>,
}

impl Default for RequestLimits {
    fn default() -> Self {
        RequestLimits {
            logins_per_ip_per_minute: 30,
            logins_per_account_per_minute: 10,
            max_concurrent_requests: 1024,
            request_timeout: Duration::from_secs(120),
            trusted_proxies: Vec::new(),
        }
    }
}

/// The client address a request came from, as the web layer determined it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

/// The client's address: the peer's, unless the peer is a trusted proxy; then the
/// right-most `X-Forwarded-For` entry that is not a trusted proxy itself (entries left
/// of it were written by the client and prove nothing).
pub fn client_ip(peer: IpAddr, forwarded_for: Option<&str>, trusted: &[IpAddr]) -> IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    forwarded_for
        .into_iter()
        .flat_map(|header| header.rsplit(','))
        .map(|entry| entry.trim().parse::<IpAddr>())
        .take_while(Result::is_ok)
        .flatten()
        .find(|ip| !trusted.contains(ip))
        .unwrap_or(peer)
}

/// Sign-in attempts per client address and per account.
pub struct LoginLimiter {
    per_ip: DefaultKeyedRateLimiter<IpAddr>,
    per_account: DefaultKeyedRateLimiter<String>,
    /// Attempts checked; every [`FORGET_EVERY`]th forgets idle keys, so a spray of
    /// made-up accounts does not grow the maps for ever.
    checked: std::sync::atomic::AtomicU64,
}

const FORGET_EVERY: u64 = 4096;

fn per_minute(n: u32) -> Quota {
    Quota::per_minute(NonZeroU32::new(n.max(1)).unwrap_or(NonZeroU32::MIN))
}

impl LoginLimiter {
    pub fn new(limits: &RequestLimits) -> Self {
        LoginLimiter {
            per_ip: RateLimiter::keyed(per_minute(limits.logins_per_ip_per_minute)),
            per_account: RateLimiter::keyed(per_minute(limits.logins_per_account_per_minute)),
            checked: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// Counts an attempt; `Err` says how long to wait before the next one may be made.
    pub fn check(&self, ip: Option<IpAddr>, account: &str) -> Result<(), Duration> {
        let checked = self
            .checked
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if checked % FORGET_EVERY == FORGET_EVERY - 1 {
            self.forget_idle();
        }
        let now = DefaultClock::default().now();
        if let Some(ip) = ip {
            self.per_ip
                .check_key(&ip)
                .map_err(|not_until| not_until.wait_time_from(now))?;
        }
        let account = account.trim().to_lowercase();
        self.per_account
            .check_key(&account)
            .map_err(|not_until| not_until.wait_time_from(now))
    }

    /// Forgets clients and accounts whose allowance is full again (run periodically).
    pub fn forget_idle(&self) {
        self.per_ip.retain_recent();
        self.per_ip.shrink_to_fit();
        self.per_account.retain_recent();
        self.per_account.shrink_to_fit();
    }
}

/// Whole seconds to put in `Retry-After` (at least one).
pub fn retry_after_seconds(wait: Duration) -> u64 {
    wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
}

/// Finds the client's address ([`ClientIp`], for rate limits and logs) and drops a
/// client's own `X-Request-Id` unless a trusted proxy sent it: request ids in the logs
/// are Steward's, not whatever a caller wants them to be.
pub async fn client_address(
    axum::extract::State(trusted): axum::extract::State<std::sync::Arc<Vec<IpAddr>>>,
    mut request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let peer = request
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|info| info.0.ip());
    if let Some(peer) = peer {
        let forwarded = request
            .headers()
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok());
        let client = client_ip(peer, forwarded, &trusted);
        request.extensions_mut().insert(ClientIp(client));
    }
    if !peer.is_some_and(|peer| trusted.contains(&peer)) {
        request.headers_mut().remove("x-request-id");
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn the_client_is_the_peer_unless_a_trusted_proxy_speaks_for_it() {
        let proxy = ip("10.0.0.2");
        assert_eq!(
            client_ip(ip("203.0.113.9"), Some("198.51.100.1"), &[proxy]),
            ip("203.0.113.9"),
            "an untrusted peer's header is ignored"
        );
        assert_eq!(
            client_ip(proxy, Some("6.6.6.6, 198.51.100.1"), &[proxy]),
            ip("198.51.100.1"),
            "the entry the proxy wrote, not the client's own"
        );
        assert_eq!(
            client_ip(
                proxy,
                Some("198.51.100.1, 10.0.0.3"),
                &[proxy, ip("10.0.0.3")]
            ),
            ip("198.51.100.1")
        );
        assert_eq!(client_ip(proxy, Some("garbage"), &[proxy]), proxy);
        assert_eq!(client_ip(proxy, None, &[proxy]), proxy);
    }

    #[test]
    fn sign_ins_beyond_the_allowance_wait() {
        let limiter = LoginLimiter::new(&RequestLimits {
            logins_per_ip_per_minute: 3,
            logins_per_account_per_minute: 2,
            ..RequestLimits::default()
        });
        let a = Some(ip("192.0.2.1"));
        assert!(limiter.check(a, "x@example.com").is_ok());
        assert!(limiter.check(a, "X@example.com").is_ok());
        let wait = limiter
            .check(a, "x@example.com")
            .expect_err("the third try for one account within a minute waits");
        assert!(wait > Duration::ZERO && wait <= Duration::from_secs(60));
        assert!(
            limiter.check(a, "y@example.com").is_err(),
            "the address has used its three tries"
        );
        assert!(limiter
            .check(Some(ip("192.0.2.2")), "z@example.com")
            .is_ok());
        assert_eq!(retry_after_seconds(Duration::from_millis(1500)), 2);
        assert_eq!(retry_after_seconds(Duration::from_secs(3)), 3);
    }
}
