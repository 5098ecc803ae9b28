//! Fetching an issuer's JWKS without letting a trust configuration turn Steward into a
//! request forwarder (SSRF): `https` only, no redirects, no proxy, and no private,
//! loopback, link-local or cloud-metadata address, checked on the addresses the name
//! resolves to (a public name pointing at 169.254.169.254 is refused too). The body is
//! capped. Plain `http` to loopback is allowed only behind an explicit switch for tests
//! (`STEWARD_JWKS_ALLOW_LOOPBACK_HTTP`).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

/// The largest JWKS accepted (bytes); real ones are a few KiB.
pub const MAX_JWKS_BYTES: usize = 256 * 1024;

/// Whether an address is one a JWKS must never be fetched from.
pub fn forbidden(ip: IpAddr, allow_loopback: bool) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            (v4.is_loopback() && !allow_loopback)
                || v4.is_private()
                || v4.is_link_local() // 169.254/16: cloud metadata services live here
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || (a == 100 && (64..128).contains(&b)) // carrier-grade NAT
                || a == 0
                || a >= 240
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return forbidden(IpAddr::V4(v4), allow_loopback);
            }
            let first = v6.segments()[0];
            (v6.is_loopback() && !allow_loopback)
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00 // unique local
                || (first & 0xffc0) == 0xfe80 // link-local
                || first == 0xfd00 // includes AWS's fd00:ec2::254
        }
    }
}

/// Checks a JWKS URL before anything is fetched: `https`, or `http` to a loopback
/// address when the test switch is on; an address given literally must be public.
pub fn check_url(url: &str, allow_loopback_http: bool) -> Result<url::Url, String> {
    let parsed = url::Url::parse(url).map_err(|e| format!("'{url}' is not a URL: {e}"))?;
    let literal = match parsed.host() {
        Some(url::Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
        _ => None,
    };
    let loopback =
        literal.is_some_and(|ip| ip.is_loopback()) || parsed.host_str() == Some("localhost");
    match parsed.scheme() {
        "https" => {}
        "http" if allow_loopback_http && loopback => {}
        _ => {
            return Err(format!(
                "the JWKS URL {url} must use https (keys fetched over plain http could be swapped in transit)"
            ))
        }
    }
    if parsed.host().is_none() {
        return Err(format!("the JWKS URL {url} names no host"));
    }
    if let Some(ip) = literal.filter(|ip| forbidden(*ip, allow_loopback_http)) {
        return Err(format!(
            "the JWKS URL {url} points at {ip}, a private, loopback or link-local address"
        ));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(format!("the JWKS URL {url} must not carry credentials"));
    }
    Ok(parsed)
}

/// A resolver that drops private, loopback and link-local addresses, so a name cannot
/// smuggle a request to an internal service.
struct PublicOnly {
    allow_loopback: bool,
}

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let allow_loopback = self.allow_loopback;
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let public: Vec<SocketAddr> = found
                .iter()
                .copied()
                .filter(|addr| !forbidden(addr.ip(), allow_loopback))
                .collect();
            if public.is_empty() {
                return Err(format!(
                    "{host} resolves only to private, loopback or link-local addresses"
                )
                .into());
            }
            Ok(Box::new(public.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// Fetches JWKS documents under the rules above.
#[derive(Clone)]
pub struct JwksFetcher {
    http: reqwest::Client,
    allow_loopback_http: bool,
}

impl JwksFetcher {
    pub fn new(allow_loopback_http: bool) -> Self {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .dns_resolver(Arc::new(PublicOnly {
                allow_loopback: allow_loopback_http,
            }))
            .build()
            .unwrap_or_default();
        JwksFetcher {
            http,
            allow_loopback_http,
        }
    }

    /// The document at `url`, or why it could not be had.
    pub async fn fetch(&self, url: &str) -> Result<String, String> {
        let parsed = check_url(url, self.allow_loopback_http)?;
        let mut reply = self
            .http
            .get(parsed)
            .send()
            .await
            .map_err(|e| format!("cannot fetch the JWKS from {url}: {e}"))?;
        if !reply.status().is_success() {
            return Err(format!(
                "fetching the JWKS from {url} answered {}{}",
                reply.status(),
                if reply.status().is_redirection() {
                    " (redirects are not followed)"
                } else {
                    ""
                }
            ));
        }
        let mut body = Vec::new();
        while let Some(chunk) = reply
            .chunk()
            .await
            .map_err(|e| format!("cannot read the JWKS from {url}: {e}"))?
        {
            if body.len() + chunk.len() > MAX_JWKS_BYTES {
                return Err(format!(
                    "the JWKS at {url} is larger than {MAX_JWKS_BYTES} bytes"
                ));
            }
            body.extend_from_slice(&chunk);
        }
        String::from_utf8(body).map_err(|_| format!("the JWKS at {url} is not UTF-8 text"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_to_public_addresses_is_fetched() {
        let refused = |url: &str| check_url(url, false).unwrap_err();
        assert!(check_url(
            "https://token.actions.githubusercontent.com/.well-known/jwks",
            false
        )
        .is_ok());
        assert!(refused("http://issuer.example/jwks").contains("must use https"));
        assert!(refused("https://169.254.169.254/latest/meta-data").contains("link-local"));
        assert!(refused("https://10.0.0.5/jwks").contains("private"));
        assert!(refused("https://127.0.0.1/jwks").contains("loopback"));
        assert!(refused("https://[::1]/jwks").contains("loopback"));
        assert!(refused("https://[fd00:ec2::254]/jwks").contains("private"));
        assert!(refused("https://[::ffff:169.254.169.254]/jwks").contains("link-local"));
        assert!(refused("https://user:pw@issuer.example/jwks").contains("credentials"));
        assert!(refused("file:///etc/passwd").contains("https"));
        // The test switch: plain http, to loopback only.
        assert!(check_url("http://127.0.0.1:9000/jwks", true).is_ok());
        assert!(check_url("http://issuer.example/jwks", true).is_err());
        assert!(check_url("http://10.0.0.5/jwks", true).is_err());
    }

    #[test]
    fn private_link_local_and_special_addresses_are_forbidden() {
        for ip in [
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "127.0.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "fe80::1",
            "fc00::1",
            "::ffff:10.0.0.1",
        ] {
            assert!(forbidden(ip.parse().unwrap(), false), "{ip}");
        }
        for ip in ["140.82.112.3", "2606:4700::1111"] {
            assert!(!forbidden(ip.parse().unwrap(), false), "{ip}");
        }
        assert!(!forbidden("127.0.0.1".parse().unwrap(), true));
        assert!(forbidden("10.0.0.1".parse().unwrap(), true));
    }

    #[tokio::test]
    async fn a_name_that_resolves_to_loopback_is_refused() {
        use reqwest::dns::Resolve;
        let resolver = PublicOnly {
            allow_loopback: false,
        };
        let name: reqwest::dns::Name = "localhost".parse().unwrap();
        let error = match resolver.resolve(name).await {
            Ok(_) => panic!("localhost resolved to an allowed address"),
            Err(error) => error.to_string(),
        };
        assert!(error.contains("private, loopback"), "{error}");
    }
}
