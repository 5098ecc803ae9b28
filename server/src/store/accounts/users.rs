//! Users (people who can sign in) and sign-in throttling.

use chrono::{DateTime, Utc};
use steward_domain::audit::NewAuditEvent;
use steward_domain::auth::Role;
use uuid::Uuid;

use crate::store::audit::AuditTx;
use crate::store::{db_run, Store, StoreError};

/// A user as the service layer sees it (the password hash never leaves the server).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    pub id: Uuid,
    pub person_id: Uuid,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub password_hash: Option<String>,
    pub active: bool,
    /// The single sign-on subject the user is bound to (`issuer`, `subject`), if any.
    pub sso: Option<(String, String)>,
    /// May sign in with a local password although bound to single sign-on (an
    /// emergency account, set by an operator and audited).
    pub break_glass: bool,
    /// Sessions signed in before this are over (a password or role change).
    pub sessions_valid_from: Option<DateTime<Utc>>,
}

#[derive(sqlx::FromRow)]
struct UserRow {
    id: Uuid,
    person_id: Uuid,
    email: String,
    display_name: String,
    role: String,
    password_hash: Option<String>,
    active: bool,
    oidc_issuer: Option<String>,
    oidc_subject: Option<String>,
    break_glass: bool,
    sessions_valid_from: Option<DateTime<Utc>>,
}

impl TryFrom<UserRow> for UserRecord {
    type Error = StoreError;
    fn try_from(row: UserRow) -> Result<Self, StoreError> {
        Ok(UserRecord {
            role: row
                .role
                .parse()
                .map_err(|e| StoreError::Corrupt(format!("user {}: {e}", row.id)))?,
            id: row.id,
            person_id: row.person_id,
            email: row.email,
            display_name: row.display_name,
            password_hash: row.password_hash,
            active: row.active,
            sso: row.oidc_issuer.zip(row.oidc_subject),
            break_glass: row.break_glass,
            sessions_valid_from: row.sessions_valid_from,
        })
    }
}

const SELECT_USER: &str = "SELECT u.id, u.person_id, u.email, p.display_name, u.role, \
     u.password_hash, u.active AND p.active AS active, u.oidc_issuer, u.oidc_subject, \
     u.break_glass, u.sessions_valid_from FROM users u JOIN people p ON p.id = u.person_id";

/// A user to create, with the person behind it.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub password_hash: Option<String>,
}

/// Failed sign-ins recorded for one account.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ThrottleState {
    pub failures: i32,
    pub first_failure: DateTime<Utc>,
    pub locked_until: Option<DateTime<Utc>>,
}

impl Store {
    pub async fn find_user_by_email(&self, email: &str) -> Result<Option<UserRecord>, StoreError> {
        let row: Option<UserRow> = db_run!(self, reader, |pool| {
            sqlx::query_as(&format!("{SELECT_USER} WHERE u.email = $1"))
                .bind(email)
                .fetch_optional(pool)
                .await?
        });
        row.map(UserRecord::try_from).transpose()
    }

    pub async fn find_user(&self, id: Uuid) -> Result<Option<UserRecord>, StoreError> {
        let row: Option<UserRow> = db_run!(self, reader, |pool| {
            sqlx::query_as(&format!("{SELECT_USER} WHERE u.id = $1"))
                .bind(id)
                .fetch_optional(pool)
                .await?
        });
        row.map(UserRecord::try_from).transpose()
    }

    /// Creates the user (and the person, unless one with this email exists), with its
    /// audit event, in one transaction.
    pub async fn create_user(
        &self,
        user: &NewUser,
        audit: &NewAuditEvent,
    ) -> Result<Uuid, StoreError> {
        let now = Utc::now();
        db_run!(self, writer, |pool| {
            let mut tx = pool.begin().await?;
            let person: Option<Uuid> = sqlx::query_scalar("SELECT id FROM people WHERE email = $1")
                .bind(&user.email)
                .fetch_optional(&mut *tx)
                .await?;
            let person_id = match person {
                Some(id) => id,
                None => {
                    let id = Uuid::new_v4();
                    sqlx::query(
                        "INSERT INTO people (id, display_name, email, active, created_at) \
                         VALUES ($1, $2, $3, TRUE, $4)",
                    )
                    .bind(id)
                    .bind(&user.display_name)
                    .bind(&user.email)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                    id
                }
            };
            let id = Uuid::new_v4();
            sqlx::query(
                "INSERT INTO users (id, person_id, email, role, password_hash, active, created_at) \
                 VALUES ($1, $2, $3, $4, $5, TRUE, $6)",
            )
            .bind(id)
            .bind(person_id)
            .bind(&user.email)
            .bind(user.role.as_str())
            .bind(&user.password_hash)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            tx.append_audit(audit).await?;
            tx.commit().await?;
            Ok(id)
        })
    }

    /// Replaces a user's password hash, with its audit event. False if no such user.
    pub async fn set_password_hash(
        &self,
        user_id: Uuid,
        password_hash: &str,
        audit: &NewAuditEvent,
    ) -> Result<bool, StoreError> {
        db_run!(self, writer, |pool| {
            let mut tx = pool.begin().await?;
            // A new password ends every session signed in before it.
            let changed = sqlx::query(
                "UPDATE users SET password_hash = $1, sessions_valid_from = $3 WHERE id = $2",
            )
            .bind(password_hash)
            .bind(user_id)
            .bind(Utc::now())
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if changed == 0 {
                return Ok(false);
            }
            sqlx::query(
                "DELETE FROM login_throttle WHERE email = (SELECT email FROM users WHERE id = $1)",
            )
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
            tx.append_audit(audit).await?;
            tx.commit().await?;
            Ok(true)
        })
    }

    /// Changes a user's role, with its audit event. False if no such user.
    pub async fn set_role(
        &self,
        user_id: Uuid,
        role: Role,
        audit: &NewAuditEvent,
    ) -> Result<bool, StoreError> {
        db_run!(self, writer, |pool| {
            let mut tx = pool.begin().await?;
            // A new role ends every session signed in before it.
            let changed =
                sqlx::query("UPDATE users SET role = $1, sessions_valid_from = $3 WHERE id = $2")
                    .bind(role.as_str())
                    .bind(user_id)
                    .bind(Utc::now())
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
            if changed == 0 {
                return Ok(false);
            }
            tx.append_audit(audit).await?;
            tx.commit().await?;
            Ok(true)
        })
    }

    pub async fn throttle_state(&self, email: &str) -> Result<Option<ThrottleState>, StoreError> {
        Ok(db_run!(self, reader, |pool| {
            sqlx::query_as(
                "SELECT failures, first_failure, locked_until FROM login_throttle WHERE email = $1",
            )
            .bind(email)
            .fetch_optional(pool)
            .await?
        }))
    }

    /// Counts one more failed sign-in of `email` at `now`, atomically (one upsert: two
    /// failures at once both count). Failures before `window_start` start a new count;
    /// the count reaching `max` locks the account until `lock_until`. Appends the
    /// audit event `audit` makes of the new state, if any (failures are aggregated: the
    /// service audits the first of a window and the lockout, not each one).
    pub async fn count_login_failure<F>(
        &self,
        email: &str,
        now: DateTime<Utc>,
        window_start: DateTime<Utc>,
        max: i32,
        lock_until: DateTime<Utc>,
        audit: F,
    ) -> Result<ThrottleState, StoreError>
    where
        F: FnOnce(&ThrottleState) -> Option<NewAuditEvent>,
    {
        db_run!(self, writer, |pool| {
            let mut tx = pool.begin().await?;
            let state: ThrottleState = sqlx::query_as(
                "INSERT INTO login_throttle (email, failures, first_failure, locked_until) \
                 VALUES ($1, 1, $2, NULL) \
                 ON CONFLICT (email) DO UPDATE SET \
                   failures = CASE WHEN login_throttle.first_failure > $3 \
                     THEN login_throttle.failures + 1 ELSE 1 END, \
                   first_failure = CASE WHEN login_throttle.first_failure > $3 \
                     THEN login_throttle.first_failure ELSE $2 END, \
                   locked_until = CASE WHEN login_throttle.first_failure > $3 \
                     AND login_throttle.failures + 1 >= $4 THEN $5 ELSE login_throttle.locked_until END, \
                   refused = 0 \
                 RETURNING failures, first_failure, locked_until",
            )
            .bind(email)
            .bind(now)
            .bind(window_start)
            .bind(max)
            .bind(lock_until)
            .fetch_one(&mut *tx)
            .await?;
            if let Some(event) = audit(&state) {
                tx.append_audit(&event).await?;
            }
            tx.commit().await?;
            Ok(state)
        })
    }

    /// Counts a sign-in refused while the account is locked; returns how many were
    /// refused in this lockout (the service audits the first).
    pub async fn count_locked_refusal(&self, email: &str) -> Result<i64, StoreError> {
        let refused: Option<i64> = db_run!(self, writer, |pool| {
            sqlx::query_scalar(
                "UPDATE login_throttle SET refused = refused + 1 WHERE email = $1 RETURNING CAST(refused AS BIGINT)",
            )
            .bind(email)
            .fetch_optional(pool)
            .await?
        });
        Ok(refused.unwrap_or(1))
    }

    /// Forgets the failures of accounts whose window and lockout both ended before
    /// `before`; returns how many rows went.
    pub async fn purge_login_throttle(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        Ok(db_run!(self, writer_outside_feed, |pool| {
            sqlx::query(
                "DELETE FROM login_throttle WHERE first_failure < $1 \
                 AND (locked_until IS NULL OR locked_until < $1)",
            )
            .bind(before)
            .execute(pool)
            .await?
            .rows_affected()
        }))
    }

    /// Records a successful sign-in: clears the failures, appends the audit event.
    pub async fn record_login(&self, email: &str, audit: &NewAuditEvent) -> Result<(), StoreError> {
        db_run!(self, writer, |pool| {
            let mut tx = pool.begin().await?;
            sqlx::query("DELETE FROM login_throttle WHERE email = $1")
                .bind(email)
                .execute(&mut *tx)
                .await?;
            tx.append_audit(audit).await?;
            tx.commit().await?;
        });
        Ok(())
    }
}

impl Store {
    pub async fn find_user_by_oidc(
        &self,
        issuer: &str,
        subject: &str,
    ) -> Result<Option<UserRecord>, StoreError> {
        let row: Option<UserRow> = db_run!(self, reader, |pool| {
            sqlx::query_as(&format!(
                "{SELECT_USER} WHERE u.oidc_issuer = $1 AND u.oidc_subject = $2"
            ))
            .bind(issuer)
            .bind(subject)
            .fetch_optional(pool)
            .await?
        });
        row.map(UserRecord::try_from).transpose()
    }

    /// Binds the user to an SSO subject (an admin's explicit link), with the audit
    /// event; false when another user holds that subject already.
    pub async fn bind_oidc(
        &self,
        user_id: Uuid,
        issuer: &str,
        subject: &str,
        audit: &NewAuditEvent,
    ) -> Result<bool, StoreError> {
        db_run!(self, writer, |pool| {
            let mut tx = pool.begin().await?;
            let taken: Option<Uuid> = sqlx::query_scalar(
                "SELECT id FROM users WHERE oidc_issuer = $1 AND oidc_subject = $2 AND id <> $3",
            )
            .bind(issuer)
            .bind(subject)
            .bind(user_id)
            .fetch_optional(&mut *tx)
            .await?;
            if taken.is_some() {
                return Ok(false);
            }
            sqlx::query("UPDATE users SET oidc_issuer = $1, oidc_subject = $2 WHERE id = $3")
                .bind(issuer)
                .bind(subject)
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
            tx.append_audit(audit).await?;
            tx.commit().await?;
            Ok(true)
        })
    }

    /// Marks a user as a break-glass account (or not), with the audit event.
    pub async fn set_break_glass(
        &self,
        user_id: Uuid,
        on: bool,
        audit: &NewAuditEvent,
    ) -> Result<(), StoreError> {
        db_run!(self, writer, |pool| {
            let mut tx = pool.begin().await?;
            sqlx::query("UPDATE users SET break_glass = $1 WHERE id = $2")
                .bind(on)
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
            tx.append_audit(audit).await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// Links the user to its SSO subject, applies the role the provider maps to, and
    /// records the sign-in — one transaction.
    pub async fn record_oidc_login(
        &self,
        user_id: Uuid,
        issuer: &str,
        subject: &str,
        role: Role,
        audit: &NewAuditEvent,
    ) -> Result<(), StoreError> {
        db_run!(self, writer, |pool| {
            let mut tx = pool.begin().await?;
            // A role the provider changed ends the user's other sessions (this sign-in
            // starts after `now`).
            sqlx::query(
                "UPDATE users SET oidc_issuer = $1, oidc_subject = $2, role = $3, \
                 sessions_valid_from = CASE WHEN role <> $3 THEN $5 ELSE sessions_valid_from END \
                 WHERE id = $4",
            )
            .bind(issuer)
            .bind(subject)
            .bind(role.as_str())
            .bind(user_id)
            .bind(Utc::now())
            .execute(&mut *tx)
            .await?;
            tx.append_audit(audit).await?;
            tx.commit().await?;
        });
        Ok(())
    }
}
