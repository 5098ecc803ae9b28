//! The statements that change the register's identities and what hangs off them
//! (teams, credentials, entitlements, delegations), as named constructors. Services
//! choose them, build the audit events and run them through
//! [`Store::write`](crate::store::Store::write); the SQL lives here.
//!
//! Where a statement guards a lifecycle transition with its `WHERE` clause (only an
//! active identity can be suspended, …) the guard is the concurrency check: the row is
//! changed only if it is still in the state the service saw. The rule itself —
//! which transitions exist — is [`IdentityStatus`](steward_domain::inventory::IdentityStatus)'s,
//! in the domain.

use chrono::{DateTime, Utc};
use steward_domain::delegation::DelegationKind;
use steward_domain::identity::{IdentityDraft, NewCredential, NewEntitlement};
use uuid::Uuid;

use super::NewIdentity;
use crate::store::write::{positional_rows, Statement};

/// The columns [`insert_identities`] writes, one `?` each per row.
const IDENTITY_COLUMNS: usize = 22;

/// Inserts identities, many rows in one statement (the only insert into `identities`:
/// people creating them by hand, imports, API tokens and bulk loads all come here).
/// Columns a writer leaves empty in its [`NewIdentity`] are written as `NULL`, as if
/// the statement had not named them.
pub fn insert_identities(rows: &[NewIdentity]) -> Statement {
    let statement = Statement::positional(format!(
        "INSERT INTO identities (id, name, actor_class, kind, source, external_id, environment, \
         status, status_reason, owner_id, sponsor_id, team, purpose, autonomy, sensitivity_ceiling, \
         spiffe_id, revocation_path, ownership_state, expires_at, created_at, last_used_at, updated_at) \
         VALUES {}",
        positional_rows(rows.len(), IDENTITY_COLUMNS)
    ));
    rows.iter().fold(statement, |statement, identity| {
        statement
            .bind(identity.id)
            .bind(identity.name.clone())
            .bind(identity.kind.actor_class().as_str())
            .bind(identity.kind.as_str())
            .bind(identity.source.as_str())
            .bind(identity.external_id.clone())
            .bind(identity.environment.clone())
            .bind(identity.status.as_str())
            .bind(identity.status_reason.clone())
            .bind(identity.owner_id)
            .bind(identity.sponsor_id)
            .bind(identity.team.clone())
            .bind(identity.purpose.clone())
            .bind(identity.autonomy.map(|a| a.as_str()))
            .bind(identity.sensitivity_ceiling.map(|s| s.as_str()))
            .bind(identity.spiffe_id.clone())
            .bind(identity.revocation_path.clone())
            .bind(identity.ownership_state.map(|s| s.as_str()))
            .bind(identity.expires_at)
            .bind(identity.created_at)
            .bind(identity.last_used_at)
            .bind(identity.updated_at)
    })
}

/// Inserts one identity ([`insert_identities`] with one row).
pub fn insert_identity(identity: &NewIdentity) -> Statement {
    insert_identities(std::slice::from_ref(identity))
}

/// Records a team the first time it is used.
pub fn register_team(team: &str, now: DateTime<Utc>) -> Statement {
    Statement::new(
        "INSERT INTO teams (name, created_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
    )
    .bind(team.to_owned())
    .bind(now)
}

/// Writes a validated draft over the identity `id`, unless it was retired meanwhile.
pub fn update_identity(id: Uuid, d: &IdentityDraft, now: DateTime<Utc>) -> Statement {
    Statement::new(
        "UPDATE identities SET name = $2, actor_class = $3, kind = $4, external_id = $5, \
         environment = $6, team = $7, purpose = $8, autonomy = $9, sensitivity_ceiling = $10, \
         spiffe_id = $11, revocation_path = $12, expires_at = $13, updated_at = $14 \
         WHERE id = $1 AND status <> 'retired'",
    )
    .bind(id)
    .bind(d.name.clone())
    .bind(d.kind.actor_class().as_str())
    .bind(d.kind.as_str())
    .bind(d.external_id.clone())
    .bind(d.environment.clone())
    .bind(d.team.clone())
    .bind(d.purpose.clone())
    .bind(d.autonomy.map(|a| a.as_str()))
    .bind(d.sensitivity_ceiling.map(|s| s.as_str()))
    .bind(d.spiffe_id.clone())
    .bind(d.revocation_path.clone())
    .bind(d.expires_at)
    .bind(now)
    .must_touch(
        1,
        "the identity was retired meanwhile; it cannot be changed",
    )
}

/// Moves the identity's expiry, unless it was retired meanwhile.
pub fn set_identity_expiry(id: Uuid, expires_at: DateTime<Utc>, now: DateTime<Utc>) -> Statement {
    Statement::new(
        "UPDATE identities SET expires_at = $2, updated_at = $3 WHERE id = $1 AND status <> 'retired'",
    )
    .bind(id)
    .bind(expires_at)
    .bind(now)
    .must_touch(1, "the identity was retired meanwhile; it cannot be changed")
}

/// Suspends the identity: active → suspended. The `WHERE` clause fails the write if the
/// identity is no longer active (the concurrency guard); which transitions exist is
/// [`IdentityStatus`](steward_domain::inventory::IdentityStatus)'s rule, in the domain.
pub fn suspend_identity(id: Uuid, reason: &str, now: DateTime<Utc>) -> Statement {
    Statement::new(
        "UPDATE identities SET status = 'suspended', status_reason = $2, updated_at = $3 \
         WHERE id = $1 AND status = 'active'",
    )
    .bind(id)
    .bind(reason.to_owned())
    .bind(now)
    .must_touch(1, "only an active identity can be suspended")
}

/// Reactivates the identity: suspended → active. The `WHERE` clause fails the write if
/// the identity is no longer suspended (the concurrency guard); which transitions exist
/// is [`IdentityStatus`](steward_domain::inventory::IdentityStatus)'s rule, in the domain.
pub fn reactivate_identity(id: Uuid, reason: &str, now: DateTime<Utc>) -> Statement {
    Statement::new(
        "UPDATE identities SET status = 'active', status_reason = $2, updated_at = $3 \
         WHERE id = $1 AND status = 'suspended'",
    )
    .bind(id)
    .bind(reason.to_owned())
    .bind(now)
    .must_touch(1, "only a suspended identity can be reactivated")
}

/// Retires the identity: any status but retired → retired. The `WHERE` clause fails the
/// write if it was retired meanwhile (the concurrency guard); which transitions exist
/// is [`IdentityStatus`](steward_domain::inventory::IdentityStatus)'s rule, in the domain.
pub fn retire_identity(id: Uuid, evidence: &str, now: DateTime<Utc>) -> Statement {
    Statement::new(
        "UPDATE identities SET status = 'retired', status_reason = $2, updated_at = $3 \
         WHERE id = $1 AND status <> 'retired'",
    )
    .bind(id)
    .bind(evidence.to_owned())
    .bind(now)
    .must_touch(1, "the identity was retired meanwhile")
}

/// The offboarding checklist of a retirement with the status change, in this order
/// (the caller reads the rows each touched by position): credentials revoked,
/// entitlements removed, delegation edges removed, API tokens revoked, the orphan
/// queue entry removed, pending ownership assignments superseded, and
/// [`retire_identity`].
pub fn retirement(id: Uuid, evidence: &str, now: DateTime<Utc>) -> Vec<Statement> {
    vec![
        Statement::new("UPDATE credentials SET revoked_at = $2 WHERE identity_id = $1 AND revoked_at IS NULL")
            .bind(id)
            .bind(now),
        Statement::new("UPDATE entitlements SET removed_at = $2 WHERE identity_id = $1 AND removed_at IS NULL")
            .bind(id)
            .bind(now),
        Statement::new("DELETE FROM delegations WHERE from_id = $1 OR to_id = $1").bind(id),
        Statement::new("UPDATE api_tokens SET revoked_at = $2 WHERE identity_id = $1 AND revoked_at IS NULL")
            .bind(id)
            .bind(now),
        Statement::new("DELETE FROM orphan_queue WHERE identity_id = $1").bind(id),
        Statement::new(
            "UPDATE ownership_assignments SET state = 'superseded' WHERE identity_id = $1 AND state = 'pending'",
        )
        .bind(id),
        retire_identity(id, evidence, now),
    ]
}

/// Adds a validated credential to the identity.
pub fn insert_credential(
    credential_id: Uuid,
    identity_id: Uuid,
    c: &NewCredential,
    now: DateTime<Utc>,
) -> Statement {
    Statement::new(
        "INSERT INTO credentials (id, identity_id, kind, key_id, created_at, expires_at, rotation_days) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(credential_id)
    .bind(identity_id)
    .bind(c.kind.as_str())
    .bind(c.key_id.clone())
    .bind(now)
    .bind(c.expires_at)
    .bind(c.rotation_days.map(i64::from))
}

/// Revokes one credential of the identity, unless it is revoked already.
pub fn revoke_credential(credential_id: Uuid, identity_id: Uuid, now: DateTime<Utc>) -> Statement {
    Statement::new(
        "UPDATE credentials SET revoked_at = $3 WHERE id = $1 AND identity_id = $2 AND revoked_at IS NULL",
    )
    .bind(credential_id)
    .bind(identity_id)
    .bind(now)
    .must_touch(1, "this credential is already revoked")
}

/// Adds a validated entitlement to the identity.
pub fn insert_entitlement(
    entitlement_id: Uuid,
    identity_id: Uuid,
    e: &NewEntitlement,
    now: DateTime<Utc>,
) -> Statement {
    Statement::new(
        "INSERT INTO entitlements (id, identity_id, resource, action, privilege, grant_type, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(entitlement_id)
    .bind(identity_id)
    .bind(e.resource.clone())
    .bind(e.action.clone())
    .bind(e.privilege.as_str())
    .bind(e.grant_type.as_str())
    .bind(now)
}

/// Removes one entitlement of the identity, unless it is removed already.
pub fn remove_entitlement(
    entitlement_id: Uuid,
    identity_id: Uuid,
    now: DateTime<Utc>,
) -> Statement {
    Statement::new(
        "UPDATE entitlements SET removed_at = $3 WHERE id = $1 AND identity_id = $2 AND removed_at IS NULL",
    )
    .bind(entitlement_id)
    .bind(identity_id)
    .bind(now)
    .must_touch(1, "this entitlement is already removed")
}

/// Adds the delegation edge `from` → `to`, only if `to` cannot already reach `from`:
/// the graph stays acyclic even under concurrent changes (the write is serialised).
pub fn insert_delegation(
    from: Uuid,
    to: Uuid,
    kind: DelegationKind,
    now: DateTime<Utc>,
) -> Statement {
    Statement::new(
        "INSERT INTO delegations (from_id, to_id, kind, created_at) \
         SELECT $1, $2, $3, $4 WHERE NOT EXISTS ( \
           WITH RECURSIVE reach(id) AS ( \
             SELECT to_id FROM delegations WHERE from_id = $2 \
             UNION SELECT d.to_id FROM delegations d JOIN reach r ON d.from_id = r.id) \
           SELECT 1 FROM reach WHERE id = $1)",
    )
    .bind(from)
    .bind(to)
    .bind(kind.as_str())
    .bind(now)
    .must_touch(1, "this delegation would close a cycle: the target already delegates, directly or not, to this identity")
}

/// Removes the delegation edge `from` → `to`, which must exist.
pub fn delete_delegation(from: Uuid, to: Uuid) -> Statement {
    Statement::new("DELETE FROM delegations WHERE from_id = $1 AND to_id = $2")
        .bind(from)
        .bind(to)
        .must_touch(1, "there is no such delegation")
}
