//! The keys Steward signs short-lived credentials with (Ed25519, `EdDSA` JWTs). Private
//! keys never leave Steward: they live in a directory only Steward reads (each file
//! mode 0600), or in memory for tests. The newest key signs; older keys stay in the
//! JWKS for the overlap window so credentials signed just before a rotation still
//! verify, then they are dropped.

use std::path::{Path, PathBuf};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Duration, TimeZone, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use ring::rand::SystemRandom;
use ring::signature::{Ed25519KeyPair, KeyPair};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// One signing key.
#[derive(Clone)]
pub struct SigningKey {
    pub kid: String,
    pub created_at: DateTime<Utc>,
    encoding: EncodingKey,
    /// The raw 32-byte public key.
    public: Vec<u8>,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the private key.
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .field("created_at", &self.created_at)
            .finish()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot generate a signing key")]
    Generate,
    #[error("signing key {0} is not an Ed25519 PKCS#8 key")]
    Invalid(String),
    #[error("signing key directory {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("signing key file {0} is readable by others: make it mode 0600")]
    Exposed(String),
    #[error("second-factor key {0} is not 32 bytes")]
    Sealing(String),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> KeyError + '_ {
    move |source| KeyError::Io {
        path: path.display().to_string(),
        source,
    }
}

impl SigningKey {
    fn from_pkcs8(kid: String, created_at: DateTime<Utc>, pkcs8: &[u8]) -> Result<Self, KeyError> {
        let pair = Ed25519KeyPair::from_pkcs8(pkcs8).map_err(|_| KeyError::Invalid(kid.clone()))?;
        Ok(SigningKey {
            public: pair.public_key().as_ref().to_vec(),
            encoding: EncodingKey::from_ed_der(pkcs8),
            kid,
            created_at,
        })
    }

    /// A new key, and its PKCS#8 document (to store).
    pub fn generate(now: DateTime<Utc>) -> Result<(Self, Vec<u8>), KeyError> {
        let pkcs8 =
            Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).map_err(|_| KeyError::Generate)?;
        let mut id = [0u8; 8];
        getrandom::getrandom(&mut id).map_err(|_| KeyError::Generate)?;
        let kid = format!(
            "{}-{}",
            now.format("%Y%m%d%H%M%S"),
            URL_SAFE_NO_PAD.encode(id)
        );
        Ok((
            Self::from_pkcs8(kid, now, pkcs8.as_ref())?,
            pkcs8.as_ref().to_vec(),
        ))
    }

    /// The public key as a JWK.
    pub fn jwk(&self) -> Value {
        json!({ "kty": "OKP", "crv": "Ed25519", "x": URL_SAFE_NO_PAD.encode(&self.public),
                "kid": self.kid, "use": "sig", "alg": "EdDSA" })
    }

    fn decoding(&self) -> DecodingKey {
        DecodingKey::from_ed_der(&self.public)
    }
}

/// Every key Steward holds: the newest signs, the others only verify (for a while).
#[derive(Debug, Clone)]
pub struct SigningKeys {
    /// Newest first.
    keys: Vec<SigningKey>,
    overlap: Duration,
    dir: Option<PathBuf>,
}

/// The claims of a grant's short-lived credential.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrantClaims {
    pub iss: String,
    /// The identity's SPIFFE ID, or `steward:identity:<id>`.
    pub sub: String,
    pub aud: String,
    /// `resource:action`.
    pub scope: String,
    pub exp: i64,
    pub iat: i64,
    pub nbf: i64,
    pub jti: String,
    /// The grant it stands for.
    pub grant: String,
}

/// The audience of Steward's credentials.
pub const AUDIENCE: &str = "steward-grants";

impl SigningKeys {
    /// One in-memory key (tests; a server without a key directory).
    pub fn ephemeral(overlap: Duration) -> Result<Self, KeyError> {
        let (key, _) = SigningKey::generate(Utc::now())?;
        Ok(SigningKeys {
            keys: vec![key],
            overlap,
            dir: None,
        })
    }

    /// The keys in `dir` (created with a first key when empty). Files are
    /// `<kid>.pk8`; one readable by others is refused.
    ///
    /// Replicas may share the directory and start at the same moment: loading holds an
    /// exclusive lock on `dir/.lock`, so only the first to find it empty makes the first
    /// key and the others load that one (otherwise each would sign with a key of its
    /// own that the other replicas do not know).
    pub fn load(dir: &Path, overlap: Duration) -> Result<Self, KeyError> {
        // Released when `_lock` is dropped at the end of this function.
        let _lock = lock_dir(dir)?;
        let mut keys = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(io(dir))? {
            let path = entry.map_err(io(dir))?.path();
            if path.extension().and_then(|e| e.to_str()) != Some("pk8") {
                continue;
            }
            let kid = path
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default()
                .to_owned();
            refuse_exposed(&path)?;
            let created = kid
                .get(..14)
                .and_then(|t| chrono::NaiveDateTime::parse_from_str(t, "%Y%m%d%H%M%S").ok())
                .map(|t| Utc.from_utc_datetime(&t))
                .unwrap_or_else(Utc::now);
            let pkcs8 = std::fs::read(&path).map_err(io(&path))?;
            keys.push(SigningKey::from_pkcs8(kid, created, &pkcs8)?);
        }
        let mut loaded = SigningKeys {
            keys,
            overlap,
            dir: Some(dir.to_path_buf()),
        };
        if loaded.keys.is_empty() {
            loaded.rotate(Utc::now())?;
        }
        loaded
            .keys
            .sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.kid.cmp(&a.kid)));
        Ok(loaded)
    }

    /// Adds a new signing key (written to the directory, mode 0600); the previous ones
    /// keep verifying for the overlap window.
    pub fn rotate(&mut self, now: DateTime<Utc>) -> Result<&SigningKey, KeyError> {
        let (key, pkcs8) = SigningKey::generate(now)?;
        if let Some(dir) = &self.dir {
            let path = dir.join(format!("{}.pk8", key.kid));
            write_private(&path, &pkcs8)?;
        }
        self.keys.insert(0, key);
        Ok(&self.keys[0])
    }

    /// The key that signs now.
    pub fn current(&self) -> &SigningKey {
        &self.keys[0]
    }

    /// The keys that verify at `now`: the current one, and older ones for the overlap
    /// window after the key that replaced them was made.
    pub fn verifying(&self, now: DateTime<Utc>) -> Vec<&SigningKey> {
        let mut out = vec![&self.keys[0]];
        for pair in self.keys.windows(2) {
            let (newer, older) = (&pair[0], &pair[1]);
            if now - newer.created_at < self.overlap {
                out.push(older);
            } else {
                break;
            }
        }
        out
    }

    /// The JWKS document of the verifying keys.
    pub fn jwks(&self, now: DateTime<Utc>) -> Value {
        json!({ "keys": self.verifying(now).iter().map(|k| k.jwk()).collect::<Vec<_>>() })
    }

    /// Signs claims with the current key.
    pub fn sign(&self, claims: &GrantClaims) -> Result<String, KeyError> {
        let key = self.current();
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(key.kid.clone());
        header.typ = Some("JWT".into());
        jsonwebtoken::encode(&header, claims, &key.encoding)
            .map_err(|_| KeyError::Invalid(key.kid.clone()))
    }

    /// Signs any claims with the current key (EdDSA compact JWS), e.g. an audit
    /// checkpoint.
    pub fn sign_claims<T: Serialize>(&self, claims: &T) -> Result<String, KeyError> {
        let key = self.current();
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(key.kid.clone());
        jsonwebtoken::encode(&header, claims, &key.encoding)
            .map_err(|_| KeyError::Invalid(key.kid.clone()))
    }

    /// The claims of a token signed by any key of this set (current or older, however
    /// old: a checkpoint is checked long after it was signed); `None` when no key's
    /// signature fits.
    pub fn verify_claims<T: serde::de::DeserializeOwned>(&self, token: &str) -> Option<T> {
        let header = jsonwebtoken::decode_header(token).ok()?;
        if header.alg != Algorithm::EdDSA {
            return None;
        }
        let kid = header.kid?;
        let key = self.keys.iter().find(|k| k.kid == kid)?;
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.validate_exp = false;
        validation.validate_aud = false;
        validation.required_spec_claims.clear();
        jsonwebtoken::decode::<T>(token, &key.decoding(), &validation)
            .ok()
            .map(|data| data.claims)
    }

    /// The claims of a credential whose signature (by a verifying key), audience and
    /// times check out at `now`; `None` otherwise.
    pub fn verify(&self, token: &str, issuer: &str, now: DateTime<Utc>) -> Option<GrantClaims> {
        let header = jsonwebtoken::decode_header(token).ok()?;
        if header.alg != Algorithm::EdDSA {
            return None;
        }
        let kid = header.kid?;
        let key = self.verifying(now).into_iter().find(|k| k.kid == kid)?;
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_audience(&[AUDIENCE]);
        validation.set_issuer(&[issuer]);
        validation.validate_nbf = true;
        // Judged against `now` below (the library reads the system clock).
        validation.validate_exp = false;
        validation.leeway = 0;
        let claims = jsonwebtoken::decode::<GrantClaims>(token, &key.decoding(), &validation)
            .ok()?
            .claims;
        (claims.exp > now.timestamp() && claims.nbf <= now.timestamp()).then_some(claims)
    }
}

/// The file replicas sharing a key directory lock while loading it.
const LOCK_FILE: &str = ".lock";

/// The file of the key that seals second-factor secrets in the database.
const SEALING_KEY_FILE: &str = "second-factor.key";

/// The 32-byte key that seals (AES-256-GCM) the shared secrets of second factors, kept
/// beside the signing keys (mode 0600) and made on first use under the directory's
/// lock, so replicas sharing the folder share the key. The database alone never
/// reveals a secret.
pub fn load_sealing_key(dir: &Path) -> Result<[u8; 32], KeyError> {
    let _lock = lock_dir(dir)?;
    let path = dir.join(SEALING_KEY_FILE);
    if !path.exists() {
        let mut key = [0u8; 32];
        ring::rand::SecureRandom::fill(&SystemRandom::new(), &mut key)
            .map_err(|_| KeyError::Generate)?;
        write_private(&path, &key)?;
    }
    refuse_exposed(&path)?;
    let bytes = std::fs::read(&path).map_err(io(&path))?;
    bytes
        .try_into()
        .map_err(|_| KeyError::Sealing(path.display().to_string()))
}

/// Creates the key directory (mode 0700) when missing and takes its exclusive lock,
/// held until the returned file is dropped: replicas sharing the folder load (and
/// make first keys) one at a time.
fn lock_dir(dir: &Path) -> Result<std::fs::File, KeyError> {
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(io(dir))?;
    }
    let lock_path = dir.join(LOCK_FILE);
    let lock = private_options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(io(&lock_path))?;
    lock.lock().map_err(io(&lock_path))?;
    Ok(lock)
}

/// Refuses a key file that others than its owner may read.
fn refuse_exposed(path: &Path) -> Result<(), KeyError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)
            .map_err(io(path))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            return Err(KeyError::Exposed(path.display().to_string()));
        }
    }
    Ok(())
}

/// Options that create files readable by their owner only.
fn private_options() -> std::fs::OpenOptions {
    #[allow(unused_mut)]
    let mut options = std::fs::OpenOptions::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
}

/// Writes a private key readable by its owner only. The bytes go to a partial file
/// first, which is linked to `path` only once complete and on disk: a crash mid-write
/// never leaves a truncated key where `load` would refuse it.
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), KeyError> {
    use std::io::Write;
    let partial = path.with_extension("partial");
    // A partial file left by a crash holds nothing anyone needs.
    let _ = std::fs::remove_file(&partial);
    let mut file = private_options()
        .write(true)
        .create_new(true)
        .open(&partial)
        .map_err(io(&partial))?;
    file.write_all(bytes).map_err(io(&partial))?;
    file.sync_all().map_err(io(&partial))?;
    // `hard_link` fails if `path` exists: a key file is never replaced.
    let linked = std::fs::hard_link(&partial, path).map_err(io(path));
    let _ = std::fs::remove_file(&partial);
    linked
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::collections::HashSet;

    use super::*;

    /// The one key file in `dir` (not the lock file).
    fn key_file(dir: &Path) -> PathBuf {
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().and_then(|e| e.to_str()) == Some("pk8"))
            .collect();
        assert_eq!(files.len(), 1, "{files:?}");
        files.pop().unwrap()
    }

    fn claims(now: DateTime<Utc>, minutes: i64) -> GrantClaims {
        GrantClaims {
            iss: "https://steward.example.com".into(),
            sub: "spiffe://example.org/ns/prod/sa/billing".into(),
            aud: AUDIENCE.into(),
            scope: "payments-db:admin".into(),
            exp: (now + Duration::minutes(minutes)).timestamp(),
            iat: now.timestamp(),
            nbf: now.timestamp(),
            jti: "j1".into(),
            grant: "g1".into(),
        }
    }

    #[test]
    fn signed_credentials_verify_until_they_expire_and_rotation_keeps_old_ones_for_the_overlap() {
        let dir = tempfile::tempdir().unwrap();
        let now = Utc::now();
        let mut keys = SigningKeys::load(dir.path(), Duration::hours(1)).unwrap();
        let token = keys.sign(&claims(now, 10)).unwrap();
        let issuer = "https://steward.example.com";
        assert_eq!(
            keys.verify(&token, issuer, now).unwrap().scope,
            "payments-db:admin"
        );
        assert!(
            keys.verify(&token, issuer, now + Duration::minutes(11))
                .is_none(),
            "expired"
        );
        assert!(
            keys.verify(&token, "https://other.example.com", now)
                .is_none(),
            "issuer"
        );
        let mut tampered = token.clone();
        tampered.pop();
        assert!(keys.verify(&tampered, issuer, now).is_none(), "signature");

        // The private key file is the owner's only.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let file = key_file(dir.path());
            assert_eq!(
                std::fs::metadata(file).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }

        // Rotation: the new key signs; the old one verifies during the overlap only.
        let old_kid = keys.current().kid.clone();
        let later = now + Duration::seconds(1);
        let new_kid = keys.rotate(later).unwrap().kid.clone();
        assert_ne!(old_kid, new_kid);
        assert_eq!(keys.jwks(later)["keys"].as_array().unwrap().len(), 2);
        assert!(keys.verify(&token, issuer, later).is_some());
        let after = later + Duration::hours(2);
        assert_eq!(keys.jwks(after)["keys"].as_array().unwrap().len(), 1);
        assert_eq!(keys.jwks(after)["keys"][0]["kid"], new_kid);
        // Loading the directory again finds both, newest first.
        let reloaded = SigningKeys::load(dir.path(), Duration::hours(1)).unwrap();
        assert_eq!(reloaded.current().kid, new_kid);
        assert_eq!(reloaded.keys.len(), 2);
    }

    #[test]
    fn replicas_loading_an_empty_directory_at_once_share_one_first_key() {
        let dir = tempfile::tempdir().unwrap();
        let loaders: Vec<_> = (0..8)
            .map(|_| {
                let dir = dir.path().to_path_buf();
                std::thread::spawn(move || {
                    SigningKeys::load(&dir, Duration::hours(1))
                        .unwrap()
                        .current()
                        .kid
                        .clone()
                })
            })
            .collect();
        let kids: HashSet<String> = loaders.into_iter().map(|t| t.join().unwrap()).collect();
        assert_eq!(kids.len(), 1, "every loader signs with the same key");
        assert_eq!(
            key_file(dir.path()).file_stem().unwrap().to_str(),
            kids.iter().next().map(String::as_str)
        );
    }

    #[test]
    fn a_key_file_others_can_read_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        SigningKeys::load(dir.path(), Duration::hours(1)).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let file = key_file(dir.path());
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
            assert!(matches!(
                SigningKeys::load(dir.path(), Duration::hours(1)),
                Err(KeyError::Exposed(_))
            ));
        }
    }
}
