//! The statements an import writes besides new identities (which go through
//! [`inventory::writes::insert_identities`](crate::store::inventory::writes::insert_identities)):
//! updates of the identities it matched, credentials, signals, *acts as* edges and the
//! not-seen marks of a full import. Multi-row statements are
//! [`positional`](Statement::positional): an import writes thousands of rows at a time.

use chrono::{DateTime, Utc};
use steward_domain::imports::{ImportedCredential, ImportedIdentity};
use uuid::Uuid;

use super::ImportTarget;
use crate::store::write::{positional_rows, Statement};

/// Writes what a record says over the identity it matched (absent values in the file
/// leave the register's as they are; last use only moves forward), and marks it seen.
pub fn update_imported_identity(
    target: &ImportTarget,
    record: &ImportedIdentity,
    now: DateTime<Utc>,
) -> Statement {
    Statement::new(
        "UPDATE identities SET name = $1, actor_class = $2, kind = $3, environment = $4, \
         team = COALESCE($5, team), purpose = COALESCE($6, purpose), \
         spiffe_id = COALESCE($7, spiffe_id), expires_at = COALESCE($8, expires_at), \
         last_used_at = $9, not_seen_since = NULL, updated_at = $10 WHERE id = $11",
    )
    .bind(record.name.clone())
    .bind(record.kind.actor_class().as_str())
    .bind(record.kind.as_str())
    .bind(record.environment.clone())
    .bind(record.team.clone())
    .bind(record.purpose.clone())
    .bind(record.spiffe_id.clone())
    .bind(record.expires_at)
    .bind(record.last_used_at.max(target.last_used_at))
    .bind(now)
    .bind(target.id)
    .must_touch(
        1,
        "an identity of this import changed meanwhile; nothing was imported — try again",
    )
}

/// The start of an insert of credentials; `VALUES` lists follow.
const CREDENTIAL_INSERT: &str =
    "INSERT INTO credentials (id, identity_id, kind, key_id, created_at, last_rotated_at, \
     expires_at, last_used_at, revoked_at) VALUES ";

/// Binds one credential's nine values, in [`CREDENTIAL_INSERT`]'s order.
fn bind_credential(
    statement: Statement,
    identity: Uuid,
    credential: &ImportedCredential,
    now: DateTime<Utc>,
) -> Statement {
    statement
        .bind(Uuid::new_v4())
        .bind(identity)
        .bind(credential.kind.as_str())
        .bind(credential.key_id.clone())
        .bind(credential.created_at.unwrap_or(now))
        .bind(credential.last_rotated_at)
        .bind(credential.expires_at)
        .bind(credential.last_used_at)
        .bind((!credential.active).then_some(now))
}

pub fn insert_credentials(rows: &[(Uuid, &ImportedCredential)], now: DateTime<Utc>) -> Statement {
    let statement = Statement::positional(format!(
        "{CREDENTIAL_INSERT}{}",
        positional_rows(rows.len(), 9)
    ));
    rows.iter()
        .fold(statement, |statement, (identity, credential)| {
            bind_credential(statement, *identity, credential, now)
        })
}

pub fn upsert_credential(
    identity: Uuid,
    credential: &ImportedCredential,
    now: DateTime<Utc>,
) -> Statement {
    let statement = Statement::positional(format!(
        "{CREDENTIAL_INSERT}{} \
         ON CONFLICT (identity_id, key_id) DO UPDATE SET kind = excluded.kind, \
         last_rotated_at = COALESCE(excluded.last_rotated_at, credentials.last_rotated_at), \
         expires_at = COALESCE(excluded.expires_at, credentials.expires_at), \
         last_used_at = COALESCE(excluded.last_used_at, credentials.last_used_at)",
        positional_rows(1, 9)
    ));
    bind_credential(statement, identity, credential, now)
}

/// Records signals, many per statement (an identity has each signal once).
pub fn upsert_signals(rows: &[(Uuid, &'static str, String)], now: DateTime<Utc>) -> Statement {
    let statement = Statement::positional(format!(
        "INSERT INTO identity_signals (identity_id, signal, detail, first_seen_at, last_seen_at) \
         VALUES {} ON CONFLICT (identity_id, signal) \
         DO UPDATE SET detail = excluded.detail, last_seen_at = excluded.last_seen_at",
        positional_rows(rows.len(), 5)
    ));
    rows.iter()
        .fold(statement, |statement, (identity, signal, detail)| {
            statement
                .bind(*identity)
                .bind(*signal)
                .bind(detail.clone())
                .bind(now)
                .bind(now)
        })
}

/// Adds the *acts as* edge `from` → `to` an import names (nothing if it exists).
pub fn insert_acts_as_delegation(from: Uuid, to: Uuid, now: DateTime<Utc>) -> Statement {
    Statement::new(
        "INSERT INTO delegations (from_id, to_id, kind, created_at) \
         VALUES ($1, $2, 'acts_as', $3) ON CONFLICT (from_id, to_id) DO NOTHING",
    )
    .bind(from)
    .bind(to)
    .bind(now)
}

/// Marks an identity a full import no longer lists as not seen since `now` (once).
pub fn mark_identity_not_seen(id: Uuid, now: DateTime<Utc>) -> Statement {
    Statement::new(
        "UPDATE identities SET not_seen_since = $1, updated_at = $1 \
         WHERE id = $2 AND not_seen_since IS NULL",
    )
    .bind(now)
    .bind(id)
}
