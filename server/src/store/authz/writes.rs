//! The statements that change runtime authorization's tables: an agent's limits and
//! policy mode (`agent_limits`), the admin Cedar policies (`authz_policies`) and the
//! registered data sensitivities (`resource_sensitivities`). The
//! service applies them with their audit events through [`Store::write`](crate::store::Store::write).

use chrono::{DateTime, Utc};
use steward_domain::authz::{AgentLimits, AuthzPolicyDraft};
use steward_domain::federation::EnforcementMode;
use steward_domain::sensitivity::{SensitivityDraft, SensitivityScope};
use uuid::Uuid;

use super::json;
use crate::store::write::Statement;

/// Sets an identity's limits (its mode, if set, stays).
pub fn upsert_agent_limits(
    identity_id: Uuid,
    limits: &AgentLimits,
    actor: &str,
    now: DateTime<Utc>,
) -> Statement {
    Statement::new(
        "INSERT INTO agent_limits (identity_id, tools, environments, max_session_minutes, max_calls, \
         max_delegation_depth, updated_by, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         ON CONFLICT (identity_id) DO UPDATE SET tools = excluded.tools, environments = excluded.environments, \
         max_session_minutes = excluded.max_session_minutes, max_calls = excluded.max_calls, \
         max_delegation_depth = excluded.max_delegation_depth, updated_by = excluded.updated_by, \
         updated_at = excluded.updated_at",
    )
    .bind(identity_id)
    .bind(json(&limits.tools))
    .bind(json(&limits.environments))
    .bind(limits.max_session_minutes.map(i64::from))
    .bind(limits.max_calls.map(i64::from))
    .bind(limits.max_delegation_depth.map(i64::from))
    .bind(actor)
    .bind(now)
}

/// Sets whether an identity's policy set is enforced or only monitored (its limits,
/// if set, stay).
pub fn set_agent_mode(
    identity_id: Uuid,
    mode: EnforcementMode,
    actor: &str,
    now: DateTime<Utc>,
) -> Statement {
    Statement::new(
        "INSERT INTO agent_limits (identity_id, mode, updated_by, updated_at) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (identity_id) DO UPDATE SET \
         mode = excluded.mode, updated_by = excluded.updated_by, updated_at = excluded.updated_at",
    )
    .bind(identity_id)
    .bind(mode.as_str())
    .bind(actor)
    .bind(now)
}

/// Binds a policy's columns, in the order both the insert and the update take them.
fn bind_policy(
    statement: Statement,
    id: Uuid,
    draft: &AuthzPolicyDraft,
    principal_id: Option<Uuid>,
    actor: &str,
    now: DateTime<Utc>,
) -> Statement {
    statement
        .bind(id)
        .bind(draft.name.clone())
        .bind(draft.description.clone())
        .bind(draft.body.clone())
        .bind(draft.enabled)
        .bind(principal_id)
        .bind(actor)
        .bind(now)
}

/// Adds an admin policy; `principal_id` is the identity its text names, if any.
pub fn insert_authz_policy(
    id: Uuid,
    draft: &AuthzPolicyDraft,
    principal_id: Option<Uuid>,
    actor: &str,
    now: DateTime<Utc>,
) -> Statement {
    bind_policy(
        Statement::new(
            "INSERT INTO authz_policies (id, name, description, body, enabled, principal_id, updated_by, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        ),
        id,
        draft,
        principal_id,
        actor,
        now,
    )
}

/// Changes an admin policy, which must still exist.
pub fn update_authz_policy(
    id: Uuid,
    draft: &AuthzPolicyDraft,
    principal_id: Option<Uuid>,
    actor: &str,
    now: DateTime<Utc>,
) -> Statement {
    bind_policy(
        Statement::new(
            "UPDATE authz_policies SET name = $2, description = $3, body = $4, enabled = $5, \
             principal_id = $6, updated_by = $7, updated_at = $8 WHERE id = $1",
        )
        .must_touch(1, "the policy was deleted meanwhile"),
        id,
        draft,
        principal_id,
        actor,
        now,
    )
}

/// Deletes an admin policy, which must still exist.
pub fn delete_authz_policy(id: Uuid) -> Statement {
    Statement::new("DELETE FROM authz_policies WHERE id = $1")
        .bind(id)
        .must_touch(1, "the policy was deleted meanwhile")
}

/// Registers (or changes) the data sensitivity of each draft's dataset, tool or
/// environment.
pub fn upsert_sensitivities(
    drafts: &[SensitivityDraft],
    actor: &str,
    now: DateTime<Utc>,
) -> Vec<Statement> {
    drafts
        .iter()
        .map(|draft| {
            Statement::new(
                "INSERT INTO resource_sensitivities (scope, id, sensitivity, updated_by, updated_at) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (scope, id) DO UPDATE SET \
                 sensitivity = excluded.sensitivity, updated_by = excluded.updated_by, \
                 updated_at = excluded.updated_at",
            )
            .bind(draft.scope.as_str())
            .bind(draft.id.as_str())
            .bind(draft.sensitivity.as_str())
            .bind(actor)
            .bind(now)
        })
        .collect()
}

/// Said when a registered sensitivity to delete is not there (the service turns it
/// into "not found").
pub const NO_SUCH_SENSITIVITY: &str = "there is no such registered sensitivity";

/// Removes a registered sensitivity, which must exist.
pub fn delete_sensitivity(scope: SensitivityScope, id: &str) -> Statement {
    Statement::new("DELETE FROM resource_sensitivities WHERE scope = $1 AND id = $2")
        .bind(scope.as_str())
        .bind(id)
        .must_touch(1, NO_SUCH_SENSITIVITY)
}
