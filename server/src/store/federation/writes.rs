//! The statements that change the trust configurations (`trust_configs`) and the index
//! of the identities their claim rules name (`trust_rule_identities`). The service
//! applies them with their audit events through [`Store::write`](crate::store::Store::write).

use chrono::{DateTime, Utc};
use steward_domain::federation::{EnforcementMode, TrustConfigDraft};
use uuid::Uuid;

use crate::store::write::Statement;
use crate::store::StoreError;

/// Binds a configuration's columns, in the order both the insert and the update take them.
fn bind_trust_config(
    statement: Statement,
    id: Uuid,
    draft: &TrustConfigDraft,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Statement, StoreError> {
    let rules = serde_json::to_string(&draft.rules)
        .map_err(|e| StoreError::Corrupt(format!("trust configuration rules: {e}")))?;
    Ok(statement
        .bind(id)
        .bind(draft.name.clone())
        .bind(draft.kind.as_str())
        .bind(draft.issuer.clone())
        .bind(draft.audience.clone())
        .bind(draft.jwks_url.clone())
        .bind(draft.jwks.clone())
        .bind(rules)
        .bind(draft.mode.as_str())
        .bind(actor)
        .bind(now))
}

/// Adds a trust configuration with the index of the identities its rules name.
pub fn insert_trust_config(
    id: Uuid,
    draft: &TrustConfigDraft,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Vec<Statement>, StoreError> {
    let statement = bind_trust_config(
        Statement::new(
            "INSERT INTO trust_configs (id, name, kind, issuer, audience, jwks_url, jwks, rules, mode, updated_by, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        ),
        id,
        draft,
        actor,
        now,
    )?;
    let mut statements = vec![statement];
    statements.extend(rule_identity_statements(id, draft));
    Ok(statements)
}

/// Changes a trust configuration, which must still exist, and renews the index of the
/// identities its rules name.
pub fn update_trust_config(
    id: Uuid,
    draft: &TrustConfigDraft,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Vec<Statement>, StoreError> {
    let statement = bind_trust_config(
        Statement::new(
            "UPDATE trust_configs SET name = $2, kind = $3, issuer = $4, audience = $5, jwks_url = $6, \
             jwks = $7, rules = $8, mode = $9, updated_by = $10, updated_at = $11 WHERE id = $1",
        )
        .must_touch(1, "the trust configuration was deleted meanwhile"),
        id,
        draft,
        actor,
        now,
    )?;
    let mut statements = vec![statement];
    statements.extend(rule_identity_statements(id, draft));
    Ok(statements)
}

/// The index of the identities a configuration's rules name, replaced (each once).
fn rule_identity_statements(id: Uuid, draft: &TrustConfigDraft) -> Vec<Statement> {
    let mut statements =
        vec![
            Statement::new("DELETE FROM trust_rule_identities WHERE trust_config_id = $1").bind(id),
        ];
    let mut seen = std::collections::HashSet::new();
    for rule in &draft.rules {
        if seen.insert(rule.identity_id) {
            statements.push(
                Statement::new(
                    "INSERT INTO trust_rule_identities (trust_config_id, identity_id) VALUES ($1, $2)",
                )
                .bind(id)
                .bind(rule.identity_id),
            );
        }
    }
    statements
}

/// Deletes a trust configuration, which must still exist, with its index.
pub fn delete_trust_config(id: Uuid) -> Vec<Statement> {
    vec![
        Statement::new("DELETE FROM trust_rule_identities WHERE trust_config_id = $1").bind(id),
        Statement::new("DELETE FROM trust_configs WHERE id = $1")
            .bind(id)
            .must_touch(1, "the trust configuration was deleted meanwhile"),
    ]
}

/// Sets whether a trust configuration is enforced or only monitored; it must still exist.
pub fn set_trust_mode(
    id: Uuid,
    mode: EnforcementMode,
    actor: &str,
    now: DateTime<Utc>,
) -> Statement {
    Statement::new(
        "UPDATE trust_configs SET mode = $2, updated_by = $3, updated_at = $4 WHERE id = $1",
    )
    .bind(id)
    .bind(mode.as_str())
    .bind(actor)
    .bind(now)
    .must_touch(1, "the trust configuration was deleted meanwhile")
}
