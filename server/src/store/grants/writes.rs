//! The statements that change grants, their policies and their credentials. Each
//! state change of a grant names the state it starts from, so a change that lost a
//! race touches no row and is refused with the message it carries.

use chrono::{DateTime, Utc};
use steward_domain::grants::{Approval, Grant, PolicyDraft};
use uuid::Uuid;

use super::approvals_json;
use crate::store::write::Statement;
use crate::store::StoreError;

/// The statement that stores a new policy.
pub fn insert_policy(
    id: Uuid,
    draft: &PolicyDraft,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Statement, StoreError> {
    let json = serde_json::to_string(draft)
        .map_err(|e| StoreError::Corrupt(format!("grant policy: {e}")))?;
    Ok(Statement::new(
        "INSERT INTO grant_policies (id, name, draft, created_by, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $5)",
    )
    .bind(id)
    .bind(draft.name.clone())
    .bind(json)
    .bind(actor)
    .bind(now))
}

/// The statement that replaces an active policy's draft.
pub fn update_policy(
    id: Uuid,
    draft: &PolicyDraft,
    now: DateTime<Utc>,
) -> Result<Statement, StoreError> {
    let json = serde_json::to_string(draft)
        .map_err(|e| StoreError::Corrupt(format!("grant policy: {e}")))?;
    Ok(Statement::new(
        "UPDATE grant_policies SET name = $2, draft = $3, updated_at = $4 WHERE id = $1 AND active = TRUE",
    )
    .bind(id)
    .bind(draft.name.clone())
    .bind(json)
    .bind(now)
    .must_touch(1, "the policy was deleted meanwhile"))
}

/// Deletes a policy: kept for the grants made under it, but no new requests.
pub fn deactivate_policy(id: Uuid, now: DateTime<Utc>) -> Statement {
    Statement::new(
        "UPDATE grant_policies SET active = FALSE, updated_at = $2 WHERE id = $1 AND active = TRUE",
    )
    .bind(id)
    .bind(now)
    .must_touch(1, "this policy is already deleted")
}

/// Stores a new grant, as requested (pending) or approved automatically (active).
pub fn insert_grant(grant: &Grant) -> Statement {
    Statement::new(
        "INSERT INTO grants (id, identity_id, entitlement_id, policy_id, resource, action, privilege, \
         approval_mode, minutes, reason, requested_by, requester_person_id, requested_at, state, \
         starts_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
    )
    .bind(grant.id)
    .bind(grant.identity_id)
    .bind(grant.entitlement_id)
    .bind(grant.policy_id)
    .bind(grant.resource.clone())
    .bind(grant.action.clone())
    .bind(grant.privilege.as_str())
    .bind(grant.approval_mode.as_str())
    .bind(i64::from(grant.minutes))
    .bind(grant.reason.clone())
    .bind(grant.requested_by.clone())
    .bind(grant.requester_person_id)
    .bind(grant.requested_at)
    .bind(grant.state.as_str())
    .bind(grant.starts_at)
    .bind(grant.expires_at)
}

/// Records an approval of a pending grant: `approvals` replaces `before` (unchanged
/// since it was read, or someone else decided meanwhile). When `activate`, the grant
/// becomes active from `now` until `expires`.
pub fn record_approval(
    id: Uuid,
    before: &[Approval],
    approvals: &[Approval],
    activate: bool,
    now: DateTime<Utc>,
    expires: DateTime<Utc>,
) -> Result<Statement, StoreError> {
    Ok(Statement::new(
        "UPDATE grants SET approvals = $3, state = $4, starts_at = $5, expires_at = $6 \
         WHERE id = $1 AND state = 'pending' AND approvals = $2",
    )
    .bind(id)
    .bind(approvals_json(before)?)
    .bind(approvals_json(approvals)?)
    .bind(if activate { "active" } else { "pending" })
    .bind(activate.then_some(now))
    .bind(activate.then_some(expires))
    .must_touch(
        1,
        "someone else decided this grant a moment ago; reload to see it",
    ))
}

/// Denies a pending grant.
pub fn deny_grant(id: Uuid, actor: &str, reason: &str, now: DateTime<Utc>) -> Statement {
    Statement::new(
        "UPDATE grants SET state = 'denied', ended_by = $2, end_reason = $3, ended_at = $4 \
         WHERE id = $1 AND state = 'pending'",
    )
    .bind(id)
    .bind(actor)
    .bind(reason)
    .bind(now)
    .must_touch(
        1,
        "someone else decided this grant a moment ago; reload to see it",
    )
}

/// Withdraws a pending request.
pub fn cancel_grant(id: Uuid, actor: &str, now: DateTime<Utc>) -> Statement {
    Statement::new(
        "UPDATE grants SET state = 'cancelled', ended_by = $2, ended_at = $3 WHERE id = $1 AND state = 'pending'",
    )
    .bind(id)
    .bind(actor)
    .bind(now)
    .must_touch(1, "only a pending request can be withdrawn")
}

/// Moves an active grant's expiry from `before` (unchanged since it was read) to `expires`.
pub fn extend_grant(id: Uuid, before: Option<DateTime<Utc>>, expires: DateTime<Utc>) -> Statement {
    Statement::new(
        "UPDATE grants SET expires_at = $3 WHERE id = $1 AND state = 'active' AND expires_at = $2",
    )
    .bind(id)
    .bind(before)
    .bind(expires)
    .must_touch(
        1,
        "the grant changed meanwhile (expired, revoked or extended); reload to see it",
    )
}

/// Revokes an active grant.
pub fn revoke_grant(id: Uuid, actor: &str, reason: &str, now: DateTime<Utc>) -> Statement {
    Statement::new(
        "UPDATE grants SET state = 'revoked', ended_by = $2, end_reason = $3, ended_at = $4 \
         WHERE id = $1 AND state = 'active'",
    )
    .bind(id)
    .bind(actor)
    .bind(reason)
    .bind(now)
    .must_touch(1, "only an active grant can be revoked")
}

/// Revokes every pending and active grant of `identity` (the kill switch of a
/// suspension or retirement); `reason` is recorded as the end reason.
pub fn revoke_open_grants_of(
    identity: Uuid,
    actor: &str,
    reason: &str,
    now: DateTime<Utc>,
) -> Statement {
    Statement::new(
        "UPDATE grants SET state = 'revoked', ended_by = $2, end_reason = $3, ended_at = $4 \
         WHERE identity_id = $1 AND state IN ('active', 'pending')",
    )
    .bind(identity)
    .bind(actor)
    .bind(reason)
    .bind(now)
}

/// Records an issued credential by its id (never the token itself).
pub fn insert_credential(
    jti: Uuid,
    grant_id: Uuid,
    issued_by: &str,
    issued_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Statement {
    Statement::new(
        "INSERT INTO grant_credentials (jti, grant_id, issued_by, issued_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(jti)
    .bind(grant_id)
    .bind(issued_by)
    .bind(issued_at)
    .bind(expires_at)
}

/// Revokes a credential, unless it already is (then it touches no row).
pub fn revoke_credential(jti: Uuid, now: DateTime<Utc>) -> Statement {
    Statement::new(
        "UPDATE grant_credentials SET revoked_at = $2 WHERE jti = $1 AND revoked_at IS NULL",
    )
    .bind(jti)
    .bind(now)
}
