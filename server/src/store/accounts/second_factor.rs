//! The second factor of local sign-in: the one writer of `user_totp` and
//! `user_recovery_codes`. Every acceptance is a conditional update, so two sign-ins
//! racing with the same code or recovery code cannot both win.

use chrono::{DateTime, Utc};
use steward_domain::audit::NewAuditEvent;
use uuid::Uuid;

use crate::store::audit::AuditTx;
use crate::store::{db_run, Store, StoreError};

/// A user's authenticator enrolment.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TotpRow {
    /// The shared secret, sealed (never the secret itself).
    pub secret_sealed: String,
    pub confirmed_at: Option<DateTime<Utc>>,
    /// The newest step accepted: no code of it or before is accepted again.
    pub last_step: Option<i64>,
}

impl Store {
    /// The user's enrolment, confirmed or in progress.
    pub async fn totp_of(&self, user: Uuid) -> Result<Option<TotpRow>, StoreError> {
        Ok(db_run!(self, reader, |pool| {
            sqlx::query_as(
                "SELECT secret_sealed, confirmed_at, last_step FROM user_totp WHERE user_id = $1",
            )
            .bind(user)
            .fetch_optional(pool)
            .await?
        }))
    }

    /// Starts (or restarts) an enrolment with a new sealed secret; false when the user
    /// already has a confirmed one (an admin must reset it first).
    pub async fn begin_totp(
        &self,
        user: Uuid,
        sealed: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        db_run!(self, writer_outside_feed, |pool| {
            let mut tx = pool.begin().await?;
            sqlx::query("DELETE FROM user_totp WHERE user_id = $1 AND confirmed_at IS NULL")
                .bind(user)
                .execute(&mut *tx)
                .await?;
            let started = sqlx::query(
                "INSERT INTO user_totp (user_id, secret_sealed, created_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (user_id) DO NOTHING",
            )
            .bind(user)
            .bind(sealed)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            tx.commit().await?;
            Ok(started == 1)
        })
    }

    /// Confirms an enrolment with the step of the code that proved it, and stores the
    /// hashes of new recovery codes, with its audit event; false when there was no
    /// enrolment in progress.
    pub async fn confirm_totp(
        &self,
        user: Uuid,
        step: i64,
        recovery_hashes: &[String],
        now: DateTime<Utc>,
        audit: &NewAuditEvent,
    ) -> Result<bool, StoreError> {
        db_run!(self, writer_outside_feed, |pool| {
            let mut tx = pool.begin().await?;
            let confirmed = sqlx::query(
                "UPDATE user_totp SET confirmed_at = $2, last_step = $3 \
                 WHERE user_id = $1 AND confirmed_at IS NULL",
            )
            .bind(user)
            .bind(now)
            .bind(step)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if confirmed == 0 {
                return Ok(false);
            }
            sqlx::query("DELETE FROM user_recovery_codes WHERE user_id = $1")
                .bind(user)
                .execute(&mut *tx)
                .await?;
            for hash in recovery_hashes {
                sqlx::query("INSERT INTO user_recovery_codes (user_id, code_hash) VALUES ($1, $2)")
                    .bind(user)
                    .bind(hash)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.append_audit(audit).await?;
            tx.commit().await?;
            Ok(true)
        })
    }

    /// Accepts a code of `step` when no code of it or a later step was accepted
    /// before; false otherwise (a replay).
    pub async fn accept_totp_step(&self, user: Uuid, step: i64) -> Result<bool, StoreError> {
        let accepted = db_run!(self, writer_outside_feed, |pool| {
            sqlx::query(
                "UPDATE user_totp SET last_step = $2 WHERE user_id = $1 \
                 AND confirmed_at IS NOT NULL AND (last_step IS NULL OR last_step < $2)",
            )
            .bind(user)
            .bind(step)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(accepted == 1)
    }

    /// Uses a recovery code (by hash) once, with its audit event; false when it is not
    /// one of the user's unused codes.
    pub async fn use_recovery_code(
        &self,
        user: Uuid,
        hash: &str,
        now: DateTime<Utc>,
        audit: &NewAuditEvent,
    ) -> Result<bool, StoreError> {
        db_run!(self, writer_outside_feed, |pool| {
            let mut tx = pool.begin().await?;
            let used = sqlx::query(
                "UPDATE user_recovery_codes SET used_at = $3 \
                 WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL",
            )
            .bind(user)
            .bind(hash)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if used == 0 {
                return Ok(false);
            }
            tx.append_audit(audit).await?;
            tx.commit().await?;
            Ok(true)
        })
    }

    /// How many unused recovery codes the user has.
    pub async fn recovery_codes_left(&self, user: Uuid) -> Result<i64, StoreError> {
        Ok(db_run!(self, reader, |pool| {
            sqlx::query_scalar(
                "SELECT COUNT(*) FROM user_recovery_codes WHERE user_id = $1 AND used_at IS NULL",
            )
            .bind(user)
            .fetch_one(pool)
            .await?
        }))
    }

    /// Removes the user's authenticator and recovery codes (they enrol again at their
    /// next sign-in), with its audit event; false when they had neither.
    pub async fn reset_second_factor(
        &self,
        user: Uuid,
        audit: &NewAuditEvent,
    ) -> Result<bool, StoreError> {
        db_run!(self, writer_outside_feed, |pool| {
            let mut tx = pool.begin().await?;
            let totp = sqlx::query("DELETE FROM user_totp WHERE user_id = $1")
                .bind(user)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            let codes = sqlx::query("DELETE FROM user_recovery_codes WHERE user_id = $1")
                .bind(user)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if totp + codes == 0 {
                return Ok(false);
            }
            tx.append_audit(audit).await?;
            tx.commit().await?;
            Ok(true)
        })
    }
}
