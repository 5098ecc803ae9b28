//! The second factor of local sign-in (RFC 6238 TOTP, with recovery codes): enrolment,
//! the check at sign-in, and an operator's reset. The rules are
//! `steward_domain::second_factor`'s; here are the HMAC (`totp-rs`) and the sealing of
//! the shared secret, which the database holds only encrypted (AES-256-GCM under a key
//! kept beside the signing keys, bound to the user's id so a sealed secret cannot be
//! moved to another account).

use std::sync::Arc;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chrono::Utc;
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use ring::rand::{SecureRandom, SystemRandom};
use serde_json::json;
use steward_domain::audit::{AuditAction, NewAuditEvent};
use steward_domain::auth::{Principal, Role};
use steward_domain::second_factor::{self, Answer, RECOVERY_CODES};
use steward_domain::DomainError;
use totp_rs::{Builder, Totp};
use uuid::Uuid;

use crate::services::accounts::auth::count_failure;
use crate::services::accounts::tokens::token_hash;
use crate::store::Store;

/// Where a signed-in password stands with the second factor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// Has an authenticator: asked for a code.
    Enrolled,
    /// Must have one (their role) and has none yet: enrols before any session starts.
    MustEnrol,
    /// Neither: signed in with the password.
    NotNeeded,
}

/// What a user needs to add Steward to their authenticator app.
#[derive(Debug, Clone)]
pub struct Enrolment {
    /// The secret in base32, for typing in.
    pub secret: String,
    /// The `otpauth://` URL (what the QR code holds).
    pub url: String,
}

/// Why a second factor was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecondFactorError {
    #[error("that code is not right")]
    Wrong,
    #[error("that code was already used: wait for the next one")]
    Replayed,
    #[error("no enrolment is in progress: sign in again")]
    NoEnrolment,
    #[error(transparent)]
    Domain(#[from] DomainError),
}

impl From<crate::store::StoreError> for SecondFactorError {
    fn from(error: crate::store::StoreError) -> Self {
        SecondFactorError::Domain(error.into())
    }
}

/// Seals and opens second-factor secrets.
#[derive(Clone)]
pub struct Sealer {
    key: Arc<LessSafeKey>,
}

impl Sealer {
    pub fn new(key: &[u8; 32]) -> Result<Self, DomainError> {
        let unbound = UnboundKey::new(&AES_256_GCM, key).map_err(|_| DomainError::Internal)?;
        Ok(Sealer {
            key: Arc::new(LessSafeKey::new(unbound)),
        })
    }

    /// A sealer with a random key (tests, and servers without a key folder).
    pub fn ephemeral() -> Result<Self, DomainError> {
        Sealer::new(&random()?)
    }

    fn seal(&self, user: Uuid, secret: &[u8]) -> Result<String, DomainError> {
        let nonce: [u8; NONCE_LEN] = random()?;
        let mut data = secret.to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(user.as_bytes()),
                &mut data,
            )
            .map_err(|_| DomainError::Internal)?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&data);
        Ok(STANDARD.encode(out))
    }

    fn open(&self, user: Uuid, sealed: &str) -> Result<Vec<u8>, DomainError> {
        let bytes = STANDARD.decode(sealed).map_err(|_| DomainError::Internal)?;
        if bytes.len() <= NONCE_LEN {
            return Err(DomainError::Internal);
        }
        let (nonce, data) = bytes.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| DomainError::Internal)?;
        let mut data = data.to_vec();
        let opened = self
            .key
            .open_in_place(nonce, Aad::from(user.as_bytes()), &mut data)
            .map_err(|_| {
                // The key folder and the database disagree (a restored database, a
                // replaced key): the user must be reset, not told their code is wrong.
                tracing::error!(%user, "a second-factor secret does not open with this server's key");
                DomainError::Internal
            })?;
        Ok(opened.to_vec())
    }
}

/// `N` random bytes from the system's source.
fn random<const N: usize>() -> Result<[u8; N], DomainError> {
    let mut bytes = [0u8; N];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| DomainError::Internal)?;
    Ok(bytes)
}

fn unix_now() -> u64 {
    u64::try_from(Utc::now().timestamp()).unwrap_or_default()
}

/// The authenticator of `email` with `secret`.
fn totp(secret: Vec<u8>, email: &str) -> Result<Totp, DomainError> {
    Builder::new()
        .with_secret(secret)
        .with_account_name(email.replace(':', ""))
        .with_issuer(Some("Steward"))
        .build()
        .map_err(|error| {
            tracing::error!(%error, "cannot build an authenticator");
            DomainError::Internal
        })
}

#[derive(Clone)]
pub struct SecondFactorService {
    store: Store,
    sealer: Sealer,
    /// Roles that must have a second factor.
    required: Vec<Role>,
}

impl SecondFactorService {
    pub fn new(store: Store, sealer: Sealer, required: Vec<Role>) -> Self {
        SecondFactorService {
            store,
            sealer,
            required,
        }
    }

    /// Roles that must have a second factor.
    pub fn required_roles(&self) -> &[Role] {
        &self.required
    }

    /// Where `principal` (whose password checked out) stands.
    pub async fn standing(&self, principal: &Principal) -> Result<Standing, DomainError> {
        let enrolled = self
            .store
            .totp_of(principal.user_id)
            .await?
            .is_some_and(|row| row.confirmed_at.is_some());
        Ok(if enrolled {
            Standing::Enrolled
        } else if self.required.contains(&principal.role) {
            Standing::MustEnrol
        } else {
            Standing::NotNeeded
        })
    }

    /// The enrolment of `principal` in progress, started now if there is none (the same
    /// secret on every visit until it is confirmed).
    pub async fn enrolment(&self, principal: &Principal) -> Result<Enrolment, DomainError> {
        let user = principal.user_id;
        let secret = match self.store.totp_of(user).await? {
            Some(row) if row.confirmed_at.is_some() => {
                return Err(DomainError::Conflict {
                    message: "an authenticator is already set up; an admin can reset it".into(),
                })
            }
            Some(row) => self.sealer.open(user, &row.secret_sealed)?,
            None => {
                let secret = random::<20>()?.to_vec();
                let sealed = self.sealer.seal(user, &secret)?;
                if !self.store.begin_totp(user, &sealed, Utc::now()).await? {
                    return Err(DomainError::Conflict {
                        message: "an authenticator was set up meanwhile".into(),
                    });
                }
                secret
            }
        };
        let totp = totp(secret, &principal.email)?;
        Ok(Enrolment {
            secret: totp.secret().to_base32(),
            url: totp.to_url().map_err(|_| DomainError::Internal)?,
        })
    }

    /// Confirms the enrolment with a code from the app; returns the recovery codes, to
    /// be shown once (only their hashes are kept).
    pub async fn confirm(
        &self,
        principal: &Principal,
        code: &str,
    ) -> Result<Vec<String>, SecondFactorError> {
        let user = principal.user_id;
        let row = self
            .store
            .totp_of(user)
            .await?
            .filter(|row| row.confirmed_at.is_none())
            .ok_or(SecondFactorError::NoEnrolment)?;
        let Answer::Code(code) = Answer::parse(code)? else {
            return Err(self.wrong(principal).await);
        };
        let Some(step) = self.step_of(principal, &row.secret_sealed, &code)? else {
            return Err(self.wrong(principal).await);
        };
        let mut codes = Vec::with_capacity(RECOVERY_CODES);
        let mut hashes = Vec::with_capacity(RECOVERY_CODES);
        for _ in 0..RECOVERY_CODES {
            let (shown, normalised) = second_factor::recovery_code(&random()?);
            codes.push(shown);
            hashes.push(token_hash(&normalised));
        }
        let audit = NewAuditEvent::new(
            principal.audit_actor(),
            AuditAction::AuthSecondFactorEnrolled,
            format!("user:{}", principal.email),
            json!({ "method": "totp", "recovery_codes": codes.len() }),
        );
        if !self
            .store
            .confirm_totp(user, step, &hashes, Utc::now(), &audit)
            .await?
        {
            return Err(SecondFactorError::NoEnrolment);
        }
        Ok(codes)
    }

    /// Checks the second factor of a sign-in: a code from the app (each accepted once)
    /// or an unused recovery code. Returns the sign-in method for the audit trail.
    /// Wrong answers count as failed sign-ins (the same lockout as passwords).
    pub async fn verify(
        &self,
        principal: &Principal,
        typed: &str,
    ) -> Result<&'static str, SecondFactorError> {
        let user = principal.user_id;
        let row = self
            .store
            .totp_of(user)
            .await?
            .filter(|row| row.confirmed_at.is_some())
            .ok_or(SecondFactorError::NoEnrolment)?;
        match Answer::parse(typed) {
            Ok(Answer::Code(code)) => {
                let Some(step) = self.step_of(principal, &row.secret_sealed, &code)? else {
                    return Err(self.wrong(principal).await);
                };
                if !second_factor::fresh_step(row.last_step, step)
                    || !self.store.accept_totp_step(user, step).await?
                {
                    count_failure(&self.store, &principal.email, "second factor replayed").await?;
                    return Err(SecondFactorError::Replayed);
                }
                Ok("password+totp")
            }
            Ok(Answer::Recovery(code)) => {
                let left = self.store.recovery_codes_left(user).await?;
                let audit = NewAuditEvent::new(
                    principal.audit_actor(),
                    AuditAction::AuthRecoveryCodeUsed,
                    format!("user:{}", principal.email),
                    json!({ "left": (left - 1).max(0) }),
                );
                if !self
                    .store
                    .use_recovery_code(user, &token_hash(&code), Utc::now(), &audit)
                    .await?
                {
                    return Err(self.wrong(principal).await);
                }
                Ok("password+recovery_code")
            }
            Err(_) => Err(self.wrong(principal).await),
        }
    }

    /// The step of the authenticator code `code` under the secret sealed in `sealed`, if
    /// it matches now (within one step of skew).
    fn step_of(
        &self,
        principal: &Principal,
        sealed: &str,
        code: &str,
    ) -> Result<Option<i64>, DomainError> {
        let totp = totp(
            self.sealer.open(principal.user_id, sealed)?,
            &principal.email,
        )?;
        totp.check(code, unix_now())
            .map(|step| i64::try_from(step).map_err(|_| DomainError::Internal))
            .transpose()
    }

    /// Counts a wrong answer; the error to return.
    async fn wrong(&self, principal: &Principal) -> SecondFactorError {
        match count_failure(&self.store, &principal.email, "wrong second factor").await {
            Ok(()) => SecondFactorError::Wrong,
            Err(error) => SecondFactorError::Domain(error),
        }
    }

    /// Removes a user's authenticator and recovery codes (`steward user
    /// reset-second-factor`): they enrol again at their next sign-in. Audited.
    pub async fn reset(&self, actor: &str, user: Uuid, email: &str) -> Result<(), DomainError> {
        let audit = NewAuditEvent::new(
            actor,
            AuditAction::AuthSecondFactorReset,
            format!("user:{email}"),
            json!({}),
        );
        if !self.store.reset_second_factor(user, &audit).await? {
            return Err(DomainError::not_found(format!(
                "a second factor of {email}"
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_secret_opens_only_for_its_user_and_key() {
        let sealer = Sealer::ephemeral().unwrap();
        let (alice, bob) = (Uuid::new_v4(), Uuid::new_v4());
        let sealed = sealer.seal(alice, b"twenty bytes secret!").unwrap();
        assert!(!sealed.contains("twenty"));
        assert_eq!(
            sealer.open(alice, &sealed).unwrap(),
            b"twenty bytes secret!"
        );
        assert!(sealer.open(bob, &sealed).is_err(), "moved to another user");
        assert!(Sealer::ephemeral().unwrap().open(alice, &sealed).is_err());
        // A fresh nonce each time.
        assert_ne!(sealed, sealer.seal(alice, b"twenty bytes secret!").unwrap());
    }
}
