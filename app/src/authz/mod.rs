//! Runtime authorization in the UI. The identity page's section: the agent's limits
//! (the security team edits them), a test bench that evaluates a hypothetical request
//! and names the policies that decided, the policies in force, and the agent's recent
//! decisions with the drift they showed. The agent policies page: the built-in
//! policies, the Cedar policies admins write (checked against the schema on save, the
//! problems named by line and column) and the schema itself.

use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};
use steward_domain::authz::{
    AgentLimits, AuthorizeResponse, AuthzAction, AuthzPolicy, AuthzPolicyDraft, CompiledPolicy,
    Decision, DecisionRecord, DriftKind, MonitorReport, ResourceType, BUILT_IN_POLICIES, SCHEMA,
};
use steward_domain::federation::{EnforcementMode, ProofOfIdentity};

use crate::error::{AppError, ErrorNotice};
use crate::sensitivity::SensitivityRegister;
use crate::toast::Toast;

mod policies;
mod section;
pub use policies::*;
pub use section::*;

/// What the section shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuthzData {
    pub limits: AgentLimits,
    pub policies: Vec<CompiledPolicy>,
    pub decisions: Vec<DecisionRecord>,
    pub can_manage: bool,
    /// How it proves what it is (federated token, static secret, none).
    pub proof: ProofOfIdentity,
    /// Its policy set's mode and what enforcing would have denied lately.
    pub monitor: MonitorReport,
}

/// How many days of decisions the monitor summary covers.
pub const MONITOR_DAYS: u32 = 7;

/// The sentence summarising a monitor report.
pub fn monitor_text(report: &MonitorReport) -> String {
    let mode = match report.mode {
        EnforcementMode::Enforce => "Enforced: denied requests are refused.",
        EnforcementMode::Monitor => "Monitor mode: requests are allowed, denials are only logged.",
    };
    format!(
        "{mode} In the last {} days enforcing would have denied {} of {} decision{}.",
        report.days,
        report.would_deny,
        report.decisions,
        if report.decisions == 1 { "" } else { "s" }
    )
}

/// What a `would_deny` note means.
pub fn would_deny_text(note: &str) -> String {
    match note.strip_prefix("static_secret:") {
        Some(config) => {
            format!("a static token, where trust configuration {config} asks for a federated one")
        }
        None if note == "policy" => "the agent's policies".to_owned(),
        None => note.to_owned(),
    }
}

/// Items of a list typed into a text field: separated by commas, spaces or new lines.
pub fn parse_list(text: &str) -> Vec<String> {
    text.split(|c: char| c == ',' || c.is_whitespace())
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// An optional whole number typed into a field; empty means none.
pub fn parse_limit(
    field: &'static str,
    text: &str,
) -> Result<Option<u32>, steward_domain::DomainError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    text.parse().map(Some).map_err(|_| {
        steward_domain::DomainError::invalid(field, format!("'{text}' is not a whole number"))
    })
}

/// The resource type an action is on, as the decision API names it.
pub fn resource_type_of(action: AuthzAction) -> &'static str {
    match action.resource_type() {
        ResourceType::Identity => "Identity",
        other => other.as_str(),
    }
}

#[server(prefix = "/rpc", endpoint = "authz/overview")]
pub async fn authz_overview(identity_id: String) -> Result<AuthzData, AppError> {
    let ports = crate::session::ports()?;
    let principal = crate::session::principal();
    let id = crate::error::parse_uuid("identity", &identity_id)?;
    let limits = ports.authz.limits(principal.as_ref(), id).await?;
    let policies = ports.authz.compiled(principal.as_ref(), id).await?;
    let decisions = ports.authz.decisions(principal.as_ref(), id, None).await?;
    let proof = ports.federation.proof_of(principal.as_ref(), id).await?;
    let monitor = ports
        .authz
        .monitored(principal.as_ref(), id, MONITOR_DAYS)
        .await?;
    Ok(AuthzData {
        limits,
        policies,
        decisions,
        can_manage: principal
            .is_some_and(|p| p.can(steward_domain::auth::Action::ManageIdentities)),
        proof,
        monitor,
    })
}

/// Switches the agent's policy set between monitor and enforce.
#[server(prefix = "/rpc", endpoint = "authz/set_mode")]
pub async fn set_authz_mode(
    identity_id: String,
    mode: String,
    reason: String,
) -> Result<MonitorReport, AppError> {
    let ports = crate::session::ports()?;
    let id = crate::error::parse_uuid("identity", &identity_id)?;
    let change = steward_domain::federation::ModeChange {
        mode: mode.parse()?,
        reason,
    };
    Ok(ports
        .authz
        .set_mode(crate::session::principal().as_ref(), id, &change)
        .await?)
}

#[server(prefix = "/rpc", endpoint = "authz/save_limits")]
pub async fn save_limits(
    identity_id: String,
    tools: String,
    environments: String,
    max_session_minutes: String,
    max_calls: String,
    max_delegation_depth: String,
) -> Result<AgentLimits, AppError> {
    let ports = crate::session::ports()?;
    let id = crate::error::parse_uuid("identity", &identity_id)?;
    let limits = AgentLimits {
        tools: parse_list(&tools),
        environments: parse_list(&environments),
        max_session_minutes: parse_limit("max_session_minutes", &max_session_minutes)?,
        max_calls: parse_limit("max_calls", &max_calls)?,
        max_delegation_depth: parse_limit("max_delegation_depth", &max_delegation_depth)?,
    };
    Ok(ports
        .authz
        .set_limits(crate::session::principal().as_ref(), id, &limits)
        .await?)
}

#[server(prefix = "/rpc", endpoint = "authz/test")]
pub async fn test_authz(
    identity_id: String,
    action: String,
    resource: String,
    environment: String,
    task: String,
    data_sensitivity: String,
) -> Result<AuthorizeResponse, AppError> {
    use steward_domain::authz::{AuthorizeRequest, RequestContext, ResourceRef};
    use steward_domain::DomainError;
    let ports = crate::session::ports()?;
    let id = crate::error::parse_uuid("identity", &identity_id)?;
    let parsed: AuthzAction = action
        .parse()
        .map_err(|_| DomainError::invalid("action", format!("'{action}' is not an action")))?;
    let data_sensitivity = match data_sensitivity.trim() {
        "" => None,
        s => Some(s.parse().map_err(|_| {
            DomainError::invalid("data_sensitivity", format!("'{s}' is not a sensitivity"))
        })?),
    };
    let request = AuthorizeRequest {
        principal: id,
        action: parsed.as_str().to_owned(),
        resource: ResourceRef {
            resource_type: resource_type_of(parsed).to_owned(),
            id: resource.trim().to_owned(),
        },
        context: RequestContext {
            task,
            environment,
            data_sensitivity,
            ..RequestContext::default()
        },
    };
    Ok(ports
        .authz
        .test_bench(crate::session::principal().as_ref(), &request)
        .await?)
}

/// How a drift reads in the decision log.
pub fn drift_text(kind: DriftKind) -> &'static str {
    match kind {
        DriftKind::ToolOutsideAllowlist => "tool outside its allowlist",
        DriftKind::UnregisteredDelegation => "unregistered delegation",
        DriftKind::BeyondApprovalThroughDelegation => {
            "beyond its approval, through another identity"
        }
    }
}

/// The agent policies page's data: the admin policies and whether the caller may
/// change them.
#[server(prefix = "/rpc", endpoint = "authz/policies")]
pub async fn authz_policies() -> Result<(Vec<AuthzPolicy>, bool), AppError> {
    let ports = crate::session::ports()?;
    let principal = crate::session::principal();
    let list = ports.authz.policies(principal.as_ref()).await?;
    Ok((
        list,
        principal.is_some_and(|p| p.can(steward_domain::auth::Action::ManageIdentities)),
    ))
}

/// Creates (no `id`) or replaces an admin policy.
#[server(prefix = "/rpc", endpoint = "authz/save_policy")]
pub async fn save_authz_policy(
    id: Option<String>,
    name: String,
    description: String,
    body: String,
    enabled: Option<String>,
) -> Result<AuthzPolicy, AppError> {
    let ports = crate::session::ports()?;
    let id = match id.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(id) => Some(crate::error::parse_uuid("policy", id)?),
        None => None,
    };
    let draft = AuthzPolicyDraft {
        name,
        description,
        body,
        enabled: enabled.is_some(),
    };
    Ok(ports
        .authz
        .save_policy(crate::session::principal().as_ref(), id, &draft)
        .await?)
}

#[server(prefix = "/rpc", endpoint = "authz/delete_policy")]
pub async fn delete_authz_policy(id: String, confirm: Option<String>) -> Result<(), AppError> {
    let ports = crate::session::ports()?;
    if confirm.as_deref() != Some("yes") {
        return Err(steward_domain::DomainError::invalid(
            "confirm",
            "tick the box to confirm deleting the policy",
        )
        .into());
    }
    let id = crate::error::parse_uuid("policy", &id)?;
    Ok(ports
        .authz
        .delete_policy(crate::session::principal().as_ref(), id)
        .await?)
}

/// The text a new policy starts from: a commented example an admin edits.
pub const POLICY_EXAMPLE: &str = "// Example: an agent writes data only for a stated task.\n\
forbid(principal is Agent, action == Action::\"write_data\", resource)\n  \
when { context.task == \"\" };";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_and_limits_parse_from_form_fields() {
        assert_eq!(
            parse_list(" github.create_pr, jira.search\nslack.post "),
            vec!["github.create_pr", "jira.search", "slack.post"]
        );
        assert!(parse_list(" , ").is_empty());
        assert_eq!(parse_limit("max_calls", " 50 ").unwrap(), Some(50));
        assert_eq!(parse_limit("max_calls", "").unwrap(), None);
        assert!(parse_limit("max_calls", "many").is_err());
        assert_eq!(resource_type_of(AuthzAction::CallTool), "Tool");
        assert_eq!(resource_type_of(AuthzAction::SpawnSubagent), "Identity");
    }
}
