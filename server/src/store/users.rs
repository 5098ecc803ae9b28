//! Users (people who can sign in) and sign-in throttling.

use chrono::{DateTime, Utc};
use steward_domain::audit::NewAuditEvent;
use steward_domain::auth::Role;
use uuid::Uuid;

use super::audit::AuditTx;
use super::{db_run, Store, StoreError};

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
        })
    }
}

const SELECT_USER: &str = "SELECT u.id, u.person_id, u.email, p.display_name, u.role, \
     u.password_hash, u.active AND p.active AS active FROM users u JOIN people p ON p.id = u.person_id";

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
            let changed = sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
                .bind(password_hash)
                .bind(user_id)
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
            let changed = sqlx::query("UPDATE users SET role = $1 WHERE id = $2")
                .bind(role.as_str())
                .bind(user_id)
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

    /// Stores the new throttle state of an account after a failed sign-in, with the
    /// audit event of the failure.
    pub async fn record_login_failure(
        &self,
        email: &str,
        state: &ThrottleState,
        audit: &NewAuditEvent,
    ) -> Result<(), StoreError> {
        db_run!(self, writer, |pool| {
            let mut tx = pool.begin().await?;
            sqlx::query("DELETE FROM login_throttle WHERE email = $1")
                .bind(email)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "INSERT INTO login_throttle (email, failures, first_failure, locked_until) \
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(email)
            .bind(state.failures)
            .bind(state.first_failure)
            .bind(state.locked_until)
            .execute(&mut *tx)
            .await?;
            tx.append_audit(audit).await?;
            tx.commit().await?;
        });
        Ok(())
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
            sqlx::query(
                "UPDATE users SET oidc_issuer = $1, oidc_subject = $2, role = $3 WHERE id = $4",
            )
            .bind(issuer)
            .bind(subject)
            .bind(role.as_str())
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
            tx.append_audit(audit).await?;
            tx.commit().await?;
        });
        Ok(())
    }
}
