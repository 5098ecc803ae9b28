//! API tokens: stored only as SHA-256 hashes, each registered as an `api_client`
//! identity owned by its creator.

use chrono::{DateTime, Utc};
use steward_domain::audit::NewAuditEvent;
use steward_domain::inventory::{IdentityKind, Source};
use uuid::Uuid;

use crate::store::audit::AuditTx;
use crate::store::inventory::{self, NewIdentity};
use crate::store::write::{Statement, WriteError};
use crate::store::{db_run, Store, StoreError};

/// The user columns of [`Store::find_token_with_user`].
#[derive(sqlx::FromRow)]
struct UserColumns {
    user_person_id: Uuid,
    user_display_name: String,
    user_role: String,
    user_active: bool,
}

/// A token as listed (never with its secret).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct TokenRecord {
    pub id: Uuid,
    pub identity_id: Uuid,
    pub user_id: Uuid,
    pub name: String,
    pub scopes: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub owner_email: String,
    /// The status of the token's `api_client` identity: suspending or retiring it
    /// stops the token at once (the kill switch).
    pub identity_status: String,
    /// The token it was made with, if a token caller made it.
    pub parent_id: Option<Uuid>,
    /// The agent it acts for at runtime, and that agent's owner now: an agent token
    /// stops when its creator no longer owns the agent.
    pub agent_id: Option<Uuid>,
    pub agent_owner_id: Option<Uuid>,
}

/// The columns of a [`TokenRecord`] (`t` the token, `u` its user, `i` its identity,
/// `a` its agent).
const TOKEN_COLUMNS: &str = "t.id, t.identity_id, t.user_id, t.name, t.scopes, t.created_at, \
     t.expires_at, t.revoked_at, t.last_used_at, u.email AS owner_email, \
     i.status AS identity_status, t.parent_id, t.agent_id, a.owner_id AS agent_owner_id";
const TOKEN_JOINS: &str = "FROM api_tokens t JOIN users u ON u.id = t.user_id \
     JOIN identities i ON i.id = t.identity_id LEFT JOIN identities a ON a.id = t.agent_id";

/// A token to store.
#[derive(Debug, Clone)]
pub struct NewToken {
    pub id: Uuid,
    pub identity_id: Uuid,
    pub user_id: Uuid,
    pub owner_person_id: Uuid,
    pub name: String,
    pub token_hash: String,
    pub scopes: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// The agent the token acts for at runtime, if any.
    pub agent_id: Option<Uuid>,
    /// The token that made it, if a token caller made it.
    pub parent_id: Option<Uuid>,
    /// The environment an agent token is bound to, if any.
    pub environment: Option<String>,
}

impl Store {
    /// The agent a token acts for at runtime, if any, and the environment the token is
    /// bound to, if it is.
    pub async fn token_agent(
        &self,
        token_id: Uuid,
    ) -> Result<(Option<Uuid>, Option<String>), StoreError> {
        let row: Option<(Option<Uuid>, Option<String>)> = db_run!(self, reader, |pool| {
            sqlx::query_as("SELECT agent_id, environment FROM api_tokens WHERE id = $1")
                .bind(token_id)
                .fetch_optional(pool)
                .await?
        });
        Ok(row.unwrap_or_default())
    }

    /// Stores the token, its identity in the register (through the register's one
    /// identity insert) and the audit event, atomically.
    pub async fn create_token(
        &self,
        token: &NewToken,
        audit: &NewAuditEvent,
    ) -> Result<(), StoreError> {
        let identity = NewIdentity {
            id: token.identity_id,
            source: Source::Steward,
            external_id: Some(token.id.to_string()),
            owner_id: Some(token.owner_person_id),
            purpose: Some(format!(
                "Steward API token '{}' ({})",
                token.name, token.scopes
            )),
            expires_at: Some(token.expires_at),
            ..NewIdentity::new(
                &format!("steward-token-{}", token.name),
                IdentityKind::ApiClient,
                "steward",
                token.created_at,
            )
        };
        let api_token = Statement::new(
            "INSERT INTO api_tokens (id, identity_id, user_id, name, token_hash, scopes, created_at, expires_at, agent_id, parent_id, environment) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(token.id)
        .bind(token.identity_id)
        .bind(token.user_id)
        .bind(token.name.as_str())
        .bind(token.token_hash.as_str())
        .bind(token.scopes.as_str())
        .bind(token.created_at)
        .bind(token.expires_at)
        .bind(token.agent_id)
        .bind(token.parent_id)
        .bind(token.environment.clone());
        let written = async {
            let mut tx = self.begin_write().await?;
            tx.run(&[inventory::writes::insert_identity(&identity), api_token])
                .await?;
            tx.commit(std::slice::from_ref(audit)).await
        };
        written.await.map_err(WriteError::into_store_error)
    }

    /// The token with this hash and the user it acts for, in one read (every API call
    /// authenticates this way).
    pub async fn find_token_with_user(
        &self,
        token_hash: &str,
    ) -> Result<Option<(TokenRecord, crate::store::accounts::users::UserRecord)>, StoreError> {
        let row: Option<(TokenRecord, UserColumns)> = db_run!(self, reader, |pool| {
            let row = sqlx::query(&format!(
                "SELECT {TOKEN_COLUMNS}, u.person_id AS user_person_id, \
                 up.display_name AS user_display_name, u.role AS user_role, \
                 u.active AND up.active AS user_active \
                 {TOKEN_JOINS} JOIN people up ON up.id = u.person_id \
                 WHERE t.token_hash = $1"
            ))
            .bind(token_hash)
            .fetch_optional(pool)
            .await?;
            match row {
                None => None,
                Some(row) => {
                    use sqlx::FromRow;
                    Some((TokenRecord::from_row(&row)?, UserColumns::from_row(&row)?))
                }
            }
        });
        row.map(|(token, user)| {
            let role = user
                .user_role
                .parse()
                .map_err(|e| StoreError::Corrupt(format!("user {}: {e}", token.user_id)))?;
            let user = crate::store::accounts::users::UserRecord {
                id: token.user_id,
                person_id: user.user_person_id,
                email: token.owner_email.clone(),
                display_name: user.user_display_name,
                role,
                password_hash: None,
                active: user.user_active,
                // Not needed to authenticate a token.
                sso: None,
                break_glass: false,
                sessions_valid_from: None,
            };
            Ok((token, user))
        })
        .transpose()
    }

    pub async fn find_token(&self, id: Uuid) -> Result<Option<TokenRecord>, StoreError> {
        Ok(db_run!(self, reader, |pool| {
            sqlx::query_as(&format!(
                "SELECT {TOKEN_COLUMNS} {TOKEN_JOINS} WHERE t.id = $1"
            ))
            .bind(id)
            .fetch_optional(pool)
            .await?
        }))
    }

    /// Tokens, newest first; only those of `user_id` when given.
    pub async fn list_tokens(&self, user_id: Option<Uuid>) -> Result<Vec<TokenRecord>, StoreError> {
        Ok(db_run!(self, reader, |pool| {
            match user_id {
                Some(user_id) => {
                    sqlx::query_as(&format!(
                        "SELECT {TOKEN_COLUMNS} {TOKEN_JOINS} WHERE t.user_id = $1 ORDER BY t.created_at DESC"
                    ))
                    .bind(user_id)
                    .fetch_all(pool)
                    .await?
                }
                None => {
                    sqlx::query_as(&format!(
                        "SELECT {TOKEN_COLUMNS} {TOKEN_JOINS} ORDER BY t.created_at DESC"
                    ))
                        .fetch_all(pool)
                        .await?
                }
            }
        }))
    }

    /// Marks the token used (at most once a minute, to spare the writer); returns
    /// whether it wrote.
    pub async fn touch_token(
        &self,
        token: &TokenRecord,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        if token
            .last_used_at
            .is_some_and(|at| now - at < chrono::Duration::minutes(1))
        {
            return Ok(false);
        }
        db_run!(self, writer, |pool| {
            let mut tx = pool.begin().await?;
            sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
                .bind(now)
                .bind(token.id)
                .execute(&mut *tx)
                .await?;
            sqlx::query("UPDATE identities SET last_used_at = $1 WHERE id = $2")
                .bind(now)
                .bind(token.identity_id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
        });
        Ok(true)
    }

    /// Revokes the token and every token made with it (and theirs), retiring their
    /// identities, with the audit event. False if it was already revoked.
    pub async fn revoke_token(
        &self,
        token: &TokenRecord,
        now: DateTime<Utc>,
        audit: &NewAuditEvent,
    ) -> Result<bool, StoreError> {
        db_run!(self, writer, |pool| {
            // The token (parameter `$n`) and its descendants, however deep.
            let family = |n: u8| {
                let uuid = match DIALECT {
                    crate::store::Dialect::Sqlite => "BLOB",
                    crate::store::Dialect::Postgres => "UUID",
                };
                format!(
                    "WITH RECURSIVE family (id) AS (SELECT CAST(${n} AS {uuid}) \
                     UNION SELECT c.id FROM api_tokens c JOIN family f ON c.parent_id = f.id) \
                     SELECT id FROM family"
                )
            };
            let mut tx = pool.begin().await?;
            let changed = sqlx::query(
                "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
            )
            .bind(now)
            .bind(token.id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if changed == 0 {
                return Ok(false);
            }
            sqlx::query(&format!(
                "UPDATE api_tokens SET revoked_at = $1 WHERE revoked_at IS NULL AND id IN ({})",
                family(2)
            ))
            .bind(now)
            .bind(token.id)
            .execute(&mut *tx)
            .await?;
            sqlx::query(&format!(
                "UPDATE identities SET status = 'retired' WHERE id IN \
                 (SELECT identity_id FROM api_tokens WHERE id IN ({}))",
                family(1)
            ))
            .bind(token.id)
            .execute(&mut *tx)
            .await?;
            tx.append_audit(audit).await?;
            tx.commit().await?;
            Ok(true)
        })
    }
}
