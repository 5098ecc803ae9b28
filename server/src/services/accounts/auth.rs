//! Sign-in, users and sessions' principals. Passwords are hashed with argon2id; failed
//! sign-ins are throttled per account; every sign-in, failure and user change is audited.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use chrono::{Duration, Utc};
use serde_json::json;
use steward_domain::audit::{AuditAction, NewAuditEvent};
use steward_domain::auth::{normalize_email, password_problem, Credential, Principal, Role};
use steward_domain::DomainError;
use uuid::Uuid;

use crate::store::accounts::users::{NewUser, UserRecord};
use crate::store::Store;

/// Failed sign-ins allowed within [`FAILURE_WINDOW`] before the account is locked.
pub const MAX_FAILURES: i32 = 5;
pub const FAILURE_WINDOW: Duration = Duration::minutes(15);
pub const LOCKOUT: Duration = Duration::minutes(15);

/// A password that checked out: who, and what the sign-in's audit event will say.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PasswordChecked {
    pub principal: Principal,
    pub break_glass: bool,
    pub failures_before: i32,
}

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

/// Argon2 runs at once at most (each takes ~19 MiB and a core for a moment): a burst of
/// sign-ins queues here instead of exhausting memory and the blocking pool.
static HASHING: std::sync::LazyLock<tokio::sync::Semaphore> = std::sync::LazyLock::new(|| {
    let cores = std::thread::available_parallelism().map_or(2, usize::from);
    tokio::sync::Semaphore::new(cores.max(2))
});

/// Runs argon2 work off the async threads, within [`HASHING`]'s limit.
async fn hashing<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    let _permit = HASHING.acquire().await.ok()?;
    tokio::task::spawn_blocking(work).await.ok()
}

/// Hashes a password with argon2id and a random salt (off the async threads: it is
/// deliberately slow).
pub async fn hash_password(password: String) -> Result<String, DomainError> {
    hashing(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|hash| hash.to_string())
    })
    .await
    .ok_or(DomainError::Internal)?
    .map_err(|error| {
        tracing::error!(%error, "password hashing failed");
        DomainError::Internal
    })
}

/// Checks a password against a stored hash. Without one (an unknown account, an
/// SSO-only user) it verifies against a decoy hash all the same and answers false:
/// every attempt costs one argon2 run, so response times don't reveal accounts.
async fn password_matches(password: String, hash: Option<String>) -> bool {
    // A valid argon2id hash of a random string, with the default parameters.
    const DECOY: &str = "$argon2id$v=19$m=19456,t=2,p=1$c3Rld2FyZGRlY295c2FsdA$0LJBFJBvR6KsMoK4V0kvlR5O7Ef3Dh3lHbkIOxK0zYI";
    hashing(move || {
        let real = hash.is_some();
        let stored = hash.as_deref().unwrap_or(DECOY);
        let (stored, real) = match PasswordHash::new(stored) {
            Ok(parsed) => (parsed, real),
            Err(_) => match PasswordHash::new(DECOY) {
                Ok(decoy) => (decoy, false),
                Err(_) => return false,
            },
        };
        let verified = Argon2::default()
            .verify_password(password.as_bytes(), &stored)
            .is_ok();
        real && verified
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

    /// Signs in with email and password alone (the second factor is the web layer's
    /// next step where it applies; see [`Self::check_password`]).
    pub async fn login_local(&self, email: &str, password: &str) -> Result<Principal, LoginError> {
        let checked = self.check_password(email, password).await?;
        self.finish_login(&checked, "password").await?;
        Ok(checked.principal)
    }

    /// Checks email and password without signing in: the sign-in is recorded (and the
    /// failure count cleared) only by [`Self::finish_login`], after the second factor
    /// where one is needed, so a known password cannot reset the count of wrong codes.
    /// Every attempt on an unlocked account costs one argon2 run, known account or
    /// not; failures are counted atomically and audited in aggregate (the first of a
    /// window and the lockout).
    pub async fn check_password(
        &self,
        email: &str,
        password: &str,
    ) -> Result<PasswordChecked, LoginError> {
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
            let refused = self
                .store
                .count_locked_refusal(&email)
                .await
                .map_err(DomainError::from)?;
            if refused == 1 {
                let audit = NewAuditEvent::new(
                    "anonymous",
                    AuditAction::AuthLoginRefused,
                    format!("user:{email}"),
                    json!({ "reason": "locked", "locked_until": until }),
                );
                self.store
                    .append_audit(&audit)
                    .await
                    .map_err(DomainError::from)?;
            }
            return Err(LoginError::Locked(until.format("%H:%M").to_string()));
        }
        let user = self
            .store
            .find_user_by_email(&email)
            .await
            .map_err(DomainError::from)?;
        let hash = user.as_ref().and_then(|u| u.password_hash.clone());
        let matches = password_matches(password.to_owned(), hash).await;
        let refusal = match &user {
            None => Some("unknown account"),
            Some(_) if !matches => Some("wrong password"),
            Some(u) if !u.active => Some("account deactivated"),
            Some(u) if u.sso.is_some() && !u.break_glass => {
                Some("bound to single sign-on (not a break-glass account)")
            }
            Some(_) => None,
        };
        match (user, refusal) {
            (Some(user), None) => Ok(PasswordChecked {
                principal: principal_of(&user),
                break_glass: user.sso.is_some(),
                failures_before: throttle.map_or(0, |t| t.failures),
            }),
            (_, reason) => {
                count_failure(&self.store, &email, reason.unwrap_or("refused")).await?;
                Err(LoginError::BadCredentials)
            }
        }
    }

    /// Records a completed sign-in (`method`: `password`, `password+totp`,
    /// `password+recovery_code`) and clears the account's failure count.
    pub async fn finish_login(
        &self,
        checked: &PasswordChecked,
        method: &str,
    ) -> Result<(), DomainError> {
        let email = &checked.principal.email;
        let audit = NewAuditEvent::new(
            format!("user:{email}"),
            AuditAction::AuthLogin,
            format!("user:{email}"),
            json!({ "method": method, "break_glass": checked.break_glass,
                    "failures_before": checked.failures_before }),
        );
        self.store.record_login(email, &audit).await?;
        Ok(())
    }

    /// Whether `email` is locked out now (a second-factor step stops there too).
    pub async fn locked(&self, email: &str) -> Result<bool, DomainError> {
        let now = Utc::now();
        Ok(self
            .store
            .throttle_state(email)
            .await?
            .and_then(|t| t.locked_until)
            .is_some_and(|until| until > now))
    }

    /// Forgets sign-in failures whose window and lockout are over (run periodically).
    pub async fn purge_login_throttle(&self) -> Result<u64, DomainError> {
        Ok(self
            .store
            .purge_login_throttle(Utc::now() - FAILURE_WINDOW - LOCKOUT)
            .await?)
    }

    /// The principal behind a session signed in at `login_at`, if the user still
    /// exists, is active, and neither their password nor their role changed since
    /// (either change signs them out everywhere).
    pub async fn session_principal(
        &self,
        user_id: Uuid,
        login_at: chrono::DateTime<Utc>,
    ) -> Result<Option<Principal>, DomainError> {
        let user = self.store.find_user(user_id).await?;
        Ok(user
            .filter(|u| u.active && u.sessions_valid_from.is_none_or(|from| login_at >= from))
            .map(|u| principal_of(&u)))
    }

    /// Records a sign-out.
    pub async fn logout(&self, principal: &Principal) -> Result<(), DomainError> {
        let audit = NewAuditEvent::new(
            principal.audit_actor(),
            AuditAction::AuthLogout,
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
            AuditAction::UserCreate,
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
        let (email, user) = self.existing_user(email).await?;
        if user.role != role {
            let audit = NewAuditEvent::new(
                actor,
                AuditAction::UserSetRole,
                format!("user:{email}"),
                json!({ "before": { "role": user.role }, "after": { "role": role } }),
            );
            self.store.set_role(user.id, role, &audit).await?;
        }
        Ok(user.role)
    }

    /// The user with this email (normalised), or a not-found error naming it.
    async fn existing_user(&self, email: &str) -> Result<(String, UserRecord), DomainError> {
        let email = normalize_email(email)?;
        let user = self
            .store
            .find_user_by_email(&email)
            .await?
            .ok_or_else(|| DomainError::not_found(format!("user {email}")))?;
        Ok((email, user))
    }

    /// Binds a user to a single sign-on subject (`steward user link-sso`): the explicit,
    /// audited link that sign-in never makes by itself for a local or bound account.
    pub async fn link_sso(
        &self,
        actor: &str,
        email: &str,
        issuer: &str,
        subject: &str,
    ) -> Result<(), DomainError> {
        let (issuer, subject) = (issuer.trim(), subject.trim());
        if issuer.is_empty() || subject.is_empty() {
            return Err(DomainError::invalid(
                "subject",
                "name the issuer and the subject to link",
            ));
        }
        let (email, user) = self.existing_user(email).await?;
        let audit = NewAuditEvent::new(
            actor,
            AuditAction::UserLinkSso,
            format!("user:{email}"),
            json!({ "before": user.sso.as_ref().map(|(i, s)| json!({ "issuer": i, "subject": s })),
                    "after": { "issuer": issuer, "subject": subject } }),
        );
        if !self
            .store
            .bind_oidc(user.id, issuer, subject, &audit)
            .await?
        {
            return Err(DomainError::Conflict {
                message: format!("another user is already linked to {subject} at {issuer}"),
            });
        }
        Ok(())
    }

    /// Marks a user as break-glass (`steward user break-glass`), or not.
    pub async fn set_break_glass(
        &self,
        actor: &str,
        email: &str,
        on: bool,
    ) -> Result<(), DomainError> {
        let (email, user) = self.existing_user(email).await?;
        let audit = NewAuditEvent::new(
            actor,
            AuditAction::UserBreakGlass,
            format!("user:{email}"),
            json!({ "before": user.break_glass, "after": on }),
        );
        self.store.set_break_glass(user.id, on, &audit).await?;
        Ok(())
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
        let (_, user) = self.existing_user(&email).await?;
        let hash = hash_password(password.to_owned()).await?;
        let audit = NewAuditEvent::new(
            actor,
            AuditAction::UserSetPassword,
            format!("user:{email}"),
            json!({}),
        );
        self.store.set_password_hash(user.id, &hash, &audit).await?;
        Ok(())
    }
}

/// Counts a failed sign-in step of `email` (a wrong password or second factor)
/// atomically; audits the first of a window and the lockout, not each one.
pub(crate) async fn count_failure(
    store: &Store,
    email: &str,
    reason: &str,
) -> Result<(), DomainError> {
    let now = Utc::now();
    store
        .count_login_failure(
            email,
            now,
            now - FAILURE_WINDOW,
            MAX_FAILURES,
            now + LOCKOUT,
            |state| {
                let locked_now = state.failures == MAX_FAILURES;
                (state.failures == 1 || locked_now).then(|| {
                    NewAuditEvent::new(
                        "anonymous",
                        AuditAction::AuthLoginFailed,
                        format!("user:{email}"),
                        json!({ "reason": reason, "failures": state.failures,
                                "since": state.first_failure,
                                "locked_until": state.locked_until }),
                    )
                })
            },
        )
        .await?;
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn passwords_hash_and_verify() {
        let hash = hash_password("correct horse battery".into()).await.unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(password_matches("correct horse battery".into(), Some(hash.clone())).await);
        assert!(!password_matches("wrong horse battery".into(), Some(hash)).await);
        assert!(!password_matches("anything at all".into(), None).await);
    }
}
