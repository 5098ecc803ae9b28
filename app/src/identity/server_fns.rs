//! What an identity's page loads and changes on the server: the view it shows and the
//! `#[server]` functions (their `/rpc/...` endpoints are named explicitly, so they do not
//! depend on this file's place).

// The form's server function takes one argument per form field (that is how an
// `ActionForm` posts), and the macro generates the browser side of it too.
#![allow(clippy::too_many_arguments)]

use chrono::{DateTime, Utc};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use steward_domain::identity::IdentityDetail;
use steward_domain::ownership::Assignment;

use crate::error::AppError;

// Only the server functions' bodies (server side) use these.
#[cfg(feature = "ssr")]
use super::{draft_from_form, DraftForm};

/// An identity as its page shows it, with what the caller may do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityView {
    pub detail: IdentityDetail,
    pub as_of: DateTime<Utc>,
    pub can_manage: bool,
    pub can_assign: bool,
    pub can_suspend: bool,
    pub findings: Vec<steward_domain::posture::findings::Finding>,
    /// May accept risks of findings (and reopen them).
    pub can_accept: bool,
    /// Just-in-time entitlements a policy makes requestable, with their open grants.
    pub eligible: Vec<steward_domain::grants::EligibleEntitlement>,
}

#[server(prefix = "/rpc", endpoint = "identity/get")]
pub async fn get_identity(id: String) -> Result<IdentityView, AppError> {
    use steward_domain::auth::Action;
    let ports = crate::session::ports()?;
    let principal = crate::session::principal();
    let detail = ports
        .inventory
        .get_identity(
            principal.as_ref(),
            crate::error::parse_uuid("identity", &id)?,
        )
        .await?;
    let can = |action| principal.as_ref().is_some_and(|p| p.can(action));
    let may_suspend = steward_domain::identity::may_suspend(
        principal.as_ref(),
        detail.summary.owner.as_ref().map(|o| o.id),
    )
    .is_ok();
    let findings = ports
        .posture
        .findings_of(principal.as_ref(), detail.summary.id)
        .await?;
    let eligible = ports
        .grants
        .eligible(principal.as_ref(), detail.summary.id)
        .await?;
    Ok(IdentityView {
        as_of: Utc::now(),
        eligible,
        findings,
        can_accept: can(Action::ManagePosture),
        can_manage: can(Action::ManageIdentities),
        can_assign: can(Action::AssignOwnership),
        can_suspend: may_suspend,
        detail,
    })
}

#[server(prefix = "/rpc", endpoint = "identity/assign")]
pub async fn assign_identity(
    id: String,
    role: String,
    person: String,
    reason: String,
) -> Result<Assignment, AppError> {
    use steward_domain::ownership::AssignRequest;
    let ports = crate::session::ports()?;
    let request = AssignRequest {
        role: role.parse()?,
        person,
        reason,
    };
    Ok(ports
        .ownership
        .assign(
            crate::session::principal().as_ref(),
            crate::error::parse_uuid("identity", &id)?,
            &request,
        )
        .await?)
}

/// Suspends, reactivates or retires (`change` = `suspend`, `reactivate`, `retire`).
#[server(prefix = "/rpc", endpoint = "identity/lifecycle")]
pub async fn change_lifecycle(
    id: String,
    change: String,
    reason: String,
) -> Result<String, AppError> {
    use steward_domain::identity::{LifecycleRequest, RetireRequest};
    let ports = crate::session::ports()?;
    let principal = crate::session::principal();
    let id = crate::error::parse_uuid("identity", &id)?;
    let request = LifecycleRequest {
        reason: reason.clone(),
    };
    match change.as_str() {
        "suspend" => {
            ports
                .inventory
                .suspend(principal.as_ref(), id, &request)
                .await?;
            Ok("Suspended: its credentials stop working now.".into())
        }
        "reactivate" => {
            ports
                .inventory
                .reactivate(principal.as_ref(), id, &request)
                .await?;
            Ok("Reactivated.".into())
        }
        "retire" => {
            let report = ports
                .inventory
                .retire(principal.as_ref(), id, &RetireRequest { evidence: reason })
                .await?;
            Ok(format!(
                "Retired: {} credentials revoked, {} entitlements removed, {} delegations removed.",
                report.credentials_revoked, report.entitlements_removed, report.delegations_removed
            ))
        }
        other => Err(steward_domain::DomainError::invalid(
            "change",
            format!("unknown change '{other}'"),
        )
        .into()),
    }
}

/// Creates (no `id`) or updates an identity from the form; returns its id.
#[server(prefix = "/rpc", endpoint = "identity/save")]
pub async fn save_identity(
    id: Option<String>,
    name: String,
    kind: String,
    external_id: Option<String>,
    environment: String,
    team: Option<String>,
    purpose: Option<String>,
    autonomy: Option<String>,
    sensitivity_ceiling: Option<String>,
    spiffe_id: Option<String>,
    revocation_path: Option<String>,
    expires_on: Option<String>,
) -> Result<String, AppError> {
    let ports = crate::session::ports()?;
    let principal = crate::session::principal();
    let draft = draft_from_form(DraftForm {
        name,
        kind,
        external_id,
        environment,
        team,
        purpose,
        autonomy,
        sensitivity_ceiling,
        spiffe_id,
        revocation_path,
        expires_on,
    })?;
    let saved = match id.filter(|i| !i.is_empty()) {
        None => {
            ports
                .inventory
                .create_identity(principal.as_ref(), &draft)
                .await?
        }
        Some(id) => {
            ports
                .inventory
                .update_identity(
                    principal.as_ref(),
                    crate::error::parse_uuid("identity", &id)?,
                    &draft,
                )
                .await?
        }
    };
    Ok(saved.summary.id.to_string())
}
