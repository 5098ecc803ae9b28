//! Sign-in, users and sessions' principals. Passwords are hashed with argon2id; failed
//! sign-ins are throttled per account; every sign-in, failure and user change is audited.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use steward_domain::audit::NewAuditEvent;
use steward_domain::auth::{normalize_email, password_problem, Credential, Principal, Role};
use steward_domain::DomainError;
use uuid::Uuid;

use crate::store::users::{NewUser, ThrottleState, UserRecord};
use crate::store::Store;

/// Failed sign-ins allowed within [`FAILURE_WINDOW`] before the account is locked.
pub const MAX_FAILURES: i32 = 5;
pub const FAILURE_WINDOW: Duration = Duration::minutes(15);
pub const LOCKOUT: Duration = Duration::minutes(15);

/// Why a sign-in was refused. The message never says whether the account exists.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoginError {
    #[error("wrong email or password")]
    BadCredentials,
    #[error("too many failed sign-ins for this account; try again after {0} UTC")]
    Locked(String),
    #[error(transparent)]
    Domain(#[from] DomainError),
}

/// Hashes a password with argon2id and a random salt (off the async threads: it is
/// deliberately slow).
pub async fn hash_password(password: String) -> Result<String, DomainError> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|hash| hash.to_string())
    })
    .await
    .map_err(|_| DomainError::Internal)?
    .map_err(|error| {
        tracing::error!(%error, "password hashing failed");
        DomainError::Internal
    })
}

/// Checks a password against a stored hash; a missing hash (SSO-only user) never
/// matches, but costs the same time so response times don't reveal accounts.
async fn password_matches(password: String, hash: Option<String>) -> bool {
    // A valid argon2id hash of a random string, used when there is nothing to compare.
    const DECOY: &str = "$argon2id$v=19$m=19456,t=2,p=1$c3Rld2FyZGRlY295c2FsdA$0LJBFJBvR6KsMoK4V0kvlR5O7Ef3Dh3lHbkIOxK0zYI";
    tokio::task::spawn_blocking(move || {
        let (stored, real) = match &hash {
            Some(hash) => (hash.as_str(), true),
            None => (DECOY, false),
        };
        let Ok(parsed) = PasswordHash::new(stored) else {
            return false;
        };
        real && Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
    .await
    .unwrap_or(false)
}

#[derive(Clone)]
pub struct AuthService {
    store: Store,
}

impl AuthService {
    pub fn new(store: Store) -> Self {
        AuthService { store }
    }

    /// Signs in with email and password.
    pub async fn login_local(&self, email: &str, password: &str) -> Result<Principal, LoginError> {
        let now = Utc::now();
        let email = normalize_email(email).map_err(|_| LoginError::BadCredentials)?;
        let throttle = self
            .store
            .throttle_state(&email)
            .await
            .map_err(DomainError::from)?;
        if let Some(until) = throttle
            .as_ref()
            .and_then(|t| t.locked_until)
            .filter(|u| *u > now)
        {
            let audit = NewAuditEvent::new(
                "anonymous",
                "auth.login_refused",
                format!("user:{email}"),
                json!({ "reason": "locked", "locked_until": until }),
            );
            self.store
                .append_audit(&audit)
                .await
                .map_err(DomainError::from)?;
            return Err(LoginError::Locked(until.format("%H:%M").to_string()));
        }
        let user = self
            .store
            .find_user_by_email(&email)
            .await
            .map_err(DomainError::from)?;
        let hash = user.as_ref().and_then(|u| u.password_hash.clone());
        let matches = password_matches(password.to_owned(), hash).await;
        match user {
            Some(user) if matches && user.active => {
                let audit = NewAuditEvent::new(
                    format!("user:{email}"),
                    "auth.login",
                    format!("user:{email}"),
                    json!({ "method": "password" }),
                );
                self.store
                    .record_login(&email, &audit)
                    .await
                    .map_err(DomainError::from)?;
                Ok(principal_of(&user))
            }
            user => {
                let reason = match user {
                    None => "unknown account",
                    Some(u) if !u.active => "account deactivated",
                    Some(_) => "wrong password",
                };
                let state = next_throttle_state(throttle, now);
                let audit = NewAuditEvent::new(
                    "anonymous",
                    "auth.login_failed",
                    format!("user:{email}"),
                    json!({ "reason": reason, "failures": state.failures, "locked_until": state.locked_until }),
                );
                self.store
                    .record_login_failure(&email, &state, &audit)
                    .await
                    .map_err(DomainError::from)?;
                Err(LoginError::BadCredentials)
            }
        }
    }

    /// The principal behind a session, if the user still exists and is active.
    pub async fn session_principal(&self, user_id: Uuid) -> Result<Option<Principal>, DomainError> {
        let user = self.store.find_user(user_id).await?;
        Ok(user.filter(|u| u.active).map(|u| principal_of(&u)))
    }

    /// Records a sign-out.
    pub async fn logout(&self, principal: &Principal) -> Result<(), DomainError> {
        let audit = NewAuditEvent::new(
            principal.audit_actor(),
            "auth.logout",
            format!("user:{}", principal.email),
            json!({}),
        );
        self.store.append_audit(&audit).await?;
        Ok(())
    }

    /// Adds a user who signs in with a password (`steward user add`). `actor` names
    /// who did it in the audit trail.
    pub async fn add_user(
        &self,
        actor: &str,
        email: &str,
        display_name: Option<&str>,
        role: Role,
        password: &str,
    ) -> Result<Uuid, DomainError> {
        let email = normalize_email(email)?;
        if let Some(problem) = password_problem(password) {
            return Err(DomainError::invalid("password", problem));
        }
        if self.store.find_user_by_email(&email).await?.is_some() {
            return Err(DomainError::Conflict {
                message: format!("a user with the email {email} already exists"),
            });
        }
        let display_name = display_name
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(str::to_owned)
            .unwrap_or_else(|| email.split('@').next().unwrap_or_default().to_owned());
        let user = NewUser {
            email: email.clone(),
            display_name: display_name.clone(),
            role,
            password_hash: Some(hash_password(password.to_owned()).await?),
        };
        let audit = NewAuditEvent::new(
            actor,
            "user.create",
            format!("user:{email}"),
            json!({ "after": { "email": email, "display_name": display_name, "role": role } }),
        );
        Ok(self.store.create_user(&user, &audit).await?)
    }

    /// Changes a user's role (`steward user set-role`), recording before and after.
    pub async fn set_role(
        &self,
        actor: &str,
        email: &str,
        role: Role,
    ) -> Result<Role, DomainError> {
        let email = normalize_email(email)?;
        let user = self
            .store
            .find_user_by_email(&email)
            .await?
            .ok_or_else(|| DomainError::not_found(format!("user {email}")))?;
        if user.role != role {
            let audit = NewAuditEvent::new(
                actor,
                "user.set_role",
                format!("user:{email}"),
                json!({ "before": { "role": user.role }, "after": { "role": role } }),
            );
            self.store.set_role(user.id, role, &audit).await?;
        }
        Ok(user.role)
    }

    /// The principal of a user by email, for commands an operator runs on their behalf.
    pub async fn principal_by_email(&self, email: &str) -> Result<Principal, DomainError> {
        let email = normalize_email(email)?;
        self.store
            .find_user_by_email(&email)
            .await?
            .filter(|u| u.active)
            .map(|u| principal_of(&u))
            .ok_or_else(|| DomainError::not_found(format!("active user {email}")))
    }

    /// Sets a user's password (`steward user set-password`); clears any lockout.
    pub async fn set_password(
        &self,
        actor: &str,
        email: &str,
        password: &str,
    ) -> Result<(), DomainError> {
        let email = normalize_email(email)?;
        if let Some(problem) = password_problem(password) {
            return Err(DomainError::invalid("password", problem));
        }
        let user = self
            .store
            .find_user_by_email(&email)
            .await?
            .ok_or_else(|| DomainError::not_found(format!("user {email}")))?;
        let hash = hash_password(password.to_owned()).await?;
        let audit = NewAuditEvent::new(
            actor,
            "user.set_password",
            format!("user:{email}"),
            json!({}),
        );
        self.store.set_password_hash(user.id, &hash, &audit).await?;
        Ok(())
    }
}

pub(crate) fn principal_of(user: &UserRecord) -> Principal {
    Principal {
        user_id: user.id,
        person_id: user.person_id,
        email: user.email.clone(),
        display_name: user.display_name.clone(),
        role: user.role,
        credential: Credential::Session,
    }
}

/// The throttle state after one more failure at `now`.
pub fn next_throttle_state(previous: Option<ThrottleState>, now: DateTime<Utc>) -> ThrottleState {
    let (failures, first_failure) = match previous {
        Some(p) if now - p.first_failure < FAILURE_WINDOW => (p.failures + 1, p.first_failure),
        _ => (1, now),
    };
    ThrottleState {
        failures,
        first_failure,
        locked_until: (failures >= MAX_FAILURES).then(|| now + LOCKOUT),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fifth_failure_in_the_window_locks_the_account() {
        let t0 = Utc::now();
        let mut state = None;
        for n in 1..=4 {
            let next = next_throttle_state(state, t0 + Duration::minutes(n));
            assert_eq!(next.failures, n as i32);
            assert_eq!(next.locked_until, None);
            state = Some(next);
        }
        let locked = next_throttle_state(state.clone(), t0 + Duration::minutes(5));
        assert_eq!(
            locked.locked_until,
            Some(t0 + Duration::minutes(5) + LOCKOUT)
        );
        // Failures older than the window start a new count.
        let later = next_throttle_state(state, t0 + Duration::minutes(30));
        assert_eq!(later.failures, 1);
        assert_eq!(later.locked_until, None);
    }

    #[tokio::test]
    async fn passwords_hash_and_verify() {
        let hash = hash_password("correct horse battery".into()).await.unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(password_matches("correct horse battery".into(), Some(hash.clone())).await);
        assert!(!password_matches("wrong horse battery".into(), Some(hash)).await);
        assert!(!password_matches("anything at all".into(), None).await);
    }
}
