//! Verifying a federated token: the configurations cached with the change feed, their
//! keys (fetched from a JWKS URL at most once a minute for an unknown key id), and the
//! checks a token must pass, each refusal saying which failed.

use std::sync::{Arc, Mutex};
use std::time::{Duration as StdDuration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::jwk::{AlgorithmParameters, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};
use steward_domain::federation::{match_rule, EnforcementMode, FederatedMatch, TrustConfig};
use steward_domain::DomainError;
use uuid::Uuid;

use super::FederationService;
use crate::adapters::feed::Mark;
use crate::services::lock;

/// Clock skew allowed on `exp` and `nbf`.
const LEEWAY_SECONDS: u64 = 30;
/// How often a configuration's JWKS URL may be fetched again for an unknown key.
const REFETCH_EVERY: StdDuration = StdDuration::from_secs(60);
/// The longest token accepted (bytes).
const MAX_TOKEN: usize = 16 * 1024;

/// A configuration ready to verify with: its decoded keys by key id.
struct Loaded {
    config: TrustConfig,
    keys: Mutex<Keys>,
    /// Held while the JWKS URL is fetched: concurrent verifications wait for that one
    /// fetch instead of starting their own.
    fetching: tokio::sync::Mutex<()>,
}

#[derive(Default)]
struct Keys {
    decoded: Vec<KnownKey>,
    /// When the JWKS URL was last tried, and why it failed if it did.
    fetched_at: Option<Instant>,
    failure: Option<String>,
}

/// One public key of an issuer.
pub(super) struct KnownKey {
    /// Empty for a key published without a `kid`.
    kid: String,
    /// The algorithm the JWKS pins it to, if any.
    algorithm: Option<Algorithm>,
    key: Arc<DecodingKey>,
}

/// A JOSE header or a JWT's claims, as JSON.
type JsonObject = Map<String, Value>;

/// The configurations as of a feed mark.
pub(super) struct Cached {
    mark: Mark,
    configs: Vec<Arc<Loaded>>,
}

/// Why a federated token was refused (shown to the caller).
fn refused(reason: impl Into<String>) -> DomainError {
    DomainError::CredentialRefused {
        reason: reason.into(),
    }
}

/// The usable keys of a JWKS document: asymmetric keys only.
pub(super) fn decode_keys(set: &JwkSet) -> Result<Vec<KnownKey>, String> {
    let mut keys = Vec::new();
    for jwk in &set.keys {
        if matches!(jwk.algorithm, AlgorithmParameters::OctetKey(_)) {
            return Err(
                "the JWKS holds a symmetric (oct) key: only public keys are accepted".into(),
            );
        }
        let key = DecodingKey::from_jwk(jwk).map_err(|e| format!("a key cannot be read: {e}"))?;
        let algorithm = jwk
            .common
            .key_algorithm
            .and_then(|a| a.to_string().parse::<Algorithm>().ok());
        keys.push(KnownKey {
            kid: jwk.common.key_id.clone().unwrap_or_default(),
            algorithm,
            key: Arc::new(key),
        });
    }
    if keys.is_empty() {
        return Err("the JWKS holds no keys".into());
    }
    Ok(keys)
}

pub(super) fn parse_jwks(text: &str) -> Result<JwkSet, String> {
    serde_json::from_str::<JwkSet>(text).map_err(|e| {
        format!("not a JWKS document ({{\"keys\": [...]}} of RSA, EC or OKP public keys): {e}")
    })
}

/// The JOSE header and the claims of a compact JWT, not yet verified.
fn unverified(token: &str) -> Result<(JsonObject, JsonObject), String> {
    let parts: Vec<&str> = token.split('.').collect();
    if parts.len() != 3 {
        return Err("the token is not a signed JWT (three dot-separated parts)".into());
    }
    let part = |text: &str, what: &str| -> Result<Map<String, Value>, String> {
        let bytes = URL_SAFE_NO_PAD
            .decode(text.trim_end_matches('='))
            .map_err(|_| format!("the token's {what} is not base64url"))?;
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(Value::Object(map)) => Ok(map),
            _ => Err(format!("the token's {what} is not a JSON object")),
        }
    };
    Ok((part(parts[0], "header")?, part(parts[1], "claims")?))
}

/// The algorithm a header names, refusing unsigned and symmetric tokens.
fn algorithm(header: &Map<String, Value>) -> Result<Algorithm, String> {
    let name = header.get("alg").and_then(Value::as_str).unwrap_or("");
    match name {
        "" => Err("the token names no signing algorithm".into()),
        "none" | "None" | "NONE" => {
            Err("the token is unsigned (alg none): federated tokens must be signed".into())
        }
        "HS256" | "HS384" | "HS512" => Err(format!(
            "the token is signed with {name}, a shared-secret algorithm: federated tokens \
             must be signed with the issuer's private key (RS256, ES256, EdDSA …)"
        )),
        other => other
            .parse::<Algorithm>()
            .map_err(|_| format!("the signing algorithm {other} is not supported")),
    }
}

fn explain(error: &jsonwebtoken::errors::Error, config: &TrustConfig) -> String {
    use jsonwebtoken::errors::ErrorKind;
    match error.kind() {
        ErrorKind::ExpiredSignature => "the token has expired".into(),
        ErrorKind::ImmatureSignature => "the token is not valid yet (nbf is in the future)".into(),
        ErrorKind::InvalidAudience => format!(
            "the token's audience is not '{}' (trust configuration {})",
            config.draft.audience, config.draft.name
        ),
        ErrorKind::InvalidIssuer => format!("the token's issuer is not '{}'", config.draft.issuer),
        ErrorKind::InvalidSignature => format!(
            "the signature does not verify with the keys of trust configuration {}",
            config.draft.name
        ),
        ErrorKind::InvalidAlgorithm => "the token's algorithm does not fit the issuer's key".into(),
        ErrorKind::MissingRequiredClaim(claim) => format!("the token has no '{claim}' claim"),
        other => format!("the token cannot be verified: {other:?}"),
    }
}

impl FederationService {
    /// The configurations, current with the change feed.
    async fn configs(&self) -> Result<Vec<Arc<Loaded>>, DomainError> {
        self.feed.catch_up().await?;
        let current = || {
            lock(&self.cache)
                .clone()
                .filter(|cached| self.feed.is_current(Uuid::nil(), cached.mark))
        };
        if let Some(cached) = current() {
            return Ok(cached.configs.clone());
        }
        let _reloading = self.reloading.lock().await;
        if let Some(cached) = current() {
            return Ok(cached.configs.clone());
        }
        let previous = lock(&self.cache).clone();
        let mark = self.feed.mark();
        let stored = self.store.trust_configs().await?;
        let mut configs = Vec::with_capacity(stored.len());
        for config in stored {
            // An unchanged configuration keeps its keys fetched so far (and its fetch
            // in flight): the feed marks everything stale for changes elsewhere too.
            let unchanged = previous
                .as_ref()
                .and_then(|cached| cached.configs.iter().find(|l| l.config == config));
            if let Some(loaded) = unchanged {
                configs.push(loaded.clone());
                continue;
            }
            let mut keys = Keys::default();
            if let Some(text) = config.draft.jwks.as_deref() {
                match parse_jwks(text).and_then(|set| decode_keys(&set)) {
                    Ok(decoded) => keys.decoded = decoded,
                    Err(error) => {
                        tracing::error!(config = %config.draft.name, %error, "stored JWKS unusable")
                    }
                }
            }
            configs.push(Arc::new(Loaded {
                config,
                keys: Mutex::new(keys),
                fetching: tokio::sync::Mutex::new(()),
            }));
        }
        *lock(&self.cache) = Some(Arc::new(Cached {
            mark,
            configs: configs.clone(),
        }));
        Ok(configs)
    }

    /// The keys of `loaded` that may have signed a token with `kid`, fetching the JWKS
    /// URL when none is known yet (or the key id is new, at most once a minute).
    async fn keys_for(
        &self,
        loaded: &Loaded,
        kid: &str,
    ) -> Result<Vec<(Option<Algorithm>, Arc<DecodingKey>)>, String> {
        let pick = |keys: &Keys| -> Vec<(Option<Algorithm>, Arc<DecodingKey>)> {
            keys.decoded
                .iter()
                .filter(|k| kid.is_empty() || k.kid.is_empty() || k.kid == kid)
                .map(|k| (k.algorithm, k.key.clone()))
                .collect()
        };
        let recently = |keys: &Keys| {
            keys.fetched_at
                .is_some_and(|at| at.elapsed() <= REFETCH_EVERY)
        };
        let found = pick(&lock(&loaded.keys));
        let Some(url) = loaded.config.draft.jwks_url.as_deref() else {
            return Ok(found);
        };
        if !found.is_empty() || recently(&lock(&loaded.keys)) {
            return Ok(found);
        }
        // One fetch at a time; whoever waited for it uses its outcome.
        let _fetching = loaded.fetching.lock().await;
        {
            let keys = lock(&loaded.keys);
            if recently(&keys) {
                return match (&keys.failure, pick(&keys)) {
                    (Some(failure), found) if found.is_empty() => Err(failure.clone()),
                    (_, found) => Ok(found),
                };
            }
        }
        let fetched = match self.fetch_jwks(url).await {
            Ok(set) => decode_keys(&set),
            Err(error) => Err(error),
        };
        let mut keys = lock(&loaded.keys);
        keys.fetched_at = Some(Instant::now());
        match fetched {
            Ok(decoded) => {
                keys.decoded = decoded;
                keys.failure = None;
                Ok(pick(&keys))
            }
            Err(error) => {
                keys.failure = Some(error.clone());
                Err(error)
            }
        }
    }

    /// Verifies a federated token: which configuration and rule it satisfies, or why
    /// it is refused.
    pub async fn verify(
        &self,
        token: &str,
    ) -> Result<(FederatedMatch, EnforcementMode), DomainError> {
        let token = token.trim();
        if token.len() > MAX_TOKEN {
            return Err(refused("the token is too long"));
        }
        let (header, claims) = unverified(token).map_err(refused)?;
        let alg = algorithm(&header).map_err(refused)?;
        let issuer = claims.get("iss").and_then(Value::as_str).unwrap_or("");
        if issuer.is_empty() {
            return Err(refused("the token names no issuer (iss)"));
        }
        let configs = self.configs().await?;
        let candidates: Vec<&Arc<Loaded>> = configs
            .iter()
            .filter(|l| l.config.draft.issuer == issuer)
            .collect();
        if candidates.is_empty() {
            return Err(refused(format!(
                "no trust configuration accepts tokens from the issuer '{issuer}'"
            )));
        }
        let kid = header.get("kid").and_then(Value::as_str).unwrap_or("");
        // Several configurations may share an issuer (one per repository, say): each is
        // tried, and a refusal by a configuration whose checks the token passed up to
        // its claim rules is the one reported.
        let mut last = String::new();
        let mut by_rules: Option<String> = None;
        for loaded in candidates {
            let config = &loaded.config;
            let keys = match self.keys_for(loaded, kid).await {
                Ok(keys) => keys,
                Err(error) => {
                    last = error;
                    continue;
                }
            };
            if keys.is_empty() {
                last = format!(
                    "trust configuration {} has no key with the id '{kid}'",
                    config.draft.name
                );
                continue;
            }
            let mut validation = Validation::new(alg);
            validation.set_issuer(&[&config.draft.issuer]);
            validation.set_audience(&[&config.draft.audience]);
            validation.validate_nbf = true;
            validation.leeway = LEEWAY_SECONDS;
            validation.set_required_spec_claims(&["exp", "iss", "aud"]);
            let mut verified = None;
            for (key_alg, key) in keys {
                if key_alg.is_some_and(|a| a != alg) {
                    last = format!(
                        "the token is signed with {alg:?} but the issuer's key is for {:?}",
                        key_alg.unwrap_or(alg)
                    );
                    continue;
                }
                match jsonwebtoken::decode::<Map<String, Value>>(token, &key, &validation) {
                    Ok(data) => {
                        verified = Some(data.claims);
                        break;
                    }
                    Err(error) => last = explain(&error, config),
                }
            }
            let Some(verified) = verified else {
                continue;
            };
            let rule = match match_rule(&config.draft.rules, &verified) {
                Ok(rule) => rule,
                Err(reason) => {
                    by_rules.get_or_insert(format!(
                        "trust configuration {}: {reason}",
                        config.draft.name
                    ));
                    continue;
                }
            };
            let subject = verified
                .get("sub")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned();
            return Ok((
                FederatedMatch {
                    trust_config_id: config.id,
                    trust_config: config.draft.name.clone(),
                    identity_id: rule.identity_id,
                    subject,
                    environment: rule.environment.clone(),
                },
                config.draft.mode,
            ));
        }
        Err(refused(by_rules.unwrap_or(last)))
    }
}

/// The trust configurations' keys cannot be fetched in a unit test; the pure parts are.
#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use serde_json::json;

    use super::*;

    fn header(alg: &str) -> Map<String, Value> {
        json!({ "alg": alg }).as_object().unwrap().clone()
    }

    #[test]
    fn unsigned_and_symmetric_tokens_are_refused_by_name() {
        assert!(algorithm(&header("none")).unwrap_err().contains("unsigned"));
        assert!(algorithm(&header("HS256"))
            .unwrap_err()
            .contains("shared-secret"));
        assert!(algorithm(&Map::new())
            .unwrap_err()
            .contains("no signing algorithm"));
        assert_eq!(algorithm(&header("RS256")).unwrap(), Algorithm::RS256);
        assert_eq!(algorithm(&header("ES256")).unwrap(), Algorithm::ES256);
    }

    #[test]
    fn a_token_is_three_base64url_json_parts() {
        let part = |v: Value| URL_SAFE_NO_PAD.encode(v.to_string());
        let token = format!(
            "{}.{}.sig",
            part(json!({"alg": "RS256"})),
            part(json!({"iss": "x"}))
        );
        let (h, c) = unverified(&token).unwrap();
        assert_eq!(h["alg"], "RS256");
        assert_eq!(c["iss"], "x");
        assert!(unverified("a.b").unwrap_err().contains("three"));
        assert!(unverified("!!.b.c").unwrap_err().contains("base64url"));
    }

    #[test]
    fn a_jwks_with_a_symmetric_key_or_no_key_is_refused() {
        let oct = parse_jwks(r#"{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}"#).unwrap();
        assert!(decode_keys(&oct)
            .map(|_| ())
            .unwrap_err()
            .contains("symmetric"));
        let empty = parse_jwks(r#"{"keys":[]}"#).unwrap();
        assert!(decode_keys(&empty)
            .map(|_| ())
            .unwrap_err()
            .contains("no keys"));
        assert!(parse_jwks("[]").unwrap_err().contains("not a JWKS"));
    }
}
