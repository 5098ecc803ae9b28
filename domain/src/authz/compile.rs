//! The per-agent limits people set in the UI and the Cedar policies that limits,
//! entitlements and delegations compile to. Kept apart from the schema because this is
//! where inventory data becomes policy text.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::DomainError;
use crate::identity::Privilege;
use crate::inventory::{parse_environment, IdentityKind};

use super::{entity_type, AuthzAction};

/// The limits set on one agent in the UI. Empty lists and `None` mean "no limit" except
/// for tools: an agent calls only the tools on its allowlist.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AgentLimits {
    /// Tools the agent may call (`Tool` ids such as `github.create_pr`).
    #[serde(default)]
    pub tools: Vec<String>,
    /// Environments the agent may act in; empty: any.
    #[serde(default)]
    pub environments: Vec<String>,
    /// Longest session, in minutes.
    #[serde(default)]
    pub max_session_minutes: Option<u32>,
    /// Most calls in one session.
    #[serde(default)]
    pub max_calls: Option<u32>,
    /// Most identities in a delegation chain ending at this agent (1: no delegation).
    #[serde(default)]
    pub max_delegation_depth: Option<u32>,
}

/// Most tools on one allowlist.
pub const MAX_TOOLS: usize = 500;

/// A tool, dataset or other resource id: 1–200 characters, letters, digits and
/// `. _ - : / @`, so it is safe inside a Cedar string literal.
pub fn parse_resource_id(field: &'static str, value: &str) -> Result<String, DomainError> {
    let value = value.trim();
    let valid = (1..=200).contains(&value.len())
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-:/@".contains(c));
    if valid {
        Ok(value.to_owned())
    } else {
        Err(DomainError::invalid(
            field,
            format!("'{value}' is not a valid id (1–200 letters, digits and . _ - : / @)"),
        ))
    }
}

impl AgentLimits {
    /// Checks and normalises (trimmed, sorted, without repeats) the limits.
    pub fn validated(&self) -> Result<AgentLimits, DomainError> {
        let mut tools = self
            .tools
            .iter()
            .filter(|t| !t.trim().is_empty())
            .map(|t| parse_resource_id("tools", t))
            .collect::<Result<Vec<_>, _>>()?;
        tools.sort();
        tools.dedup();
        if tools.len() > MAX_TOOLS {
            return Err(DomainError::invalid(
                "tools",
                format!("at most {MAX_TOOLS} tools on one allowlist"),
            ));
        }
        let mut environments = self
            .environments
            .iter()
            .map(|e| e.trim())
            .filter(|e| !e.is_empty())
            .map(|e| parse_environment(e).map_err(|_| DomainError::invalid("environments", format!("'{e}' is not an environment name (lower-case letters, digits, '-', '_')"))))
            .collect::<Result<Vec<_>, _>>()?;
        environments.sort();
        environments.dedup();
        let positive = |field: &'static str, value: Option<u32>, max: u32| match value {
            Some(v) if v == 0 || v > max => Err(DomainError::invalid(
                field,
                format!("must be between 1 and {max}"),
            )),
            v => Ok(v),
        };
        Ok(AgentLimits {
            tools,
            environments,
            max_session_minutes: positive(
                "max_session_minutes",
                self.max_session_minutes,
                7 * 24 * 60,
            )?,
            max_calls: positive("max_calls", self.max_calls, 10_000_000)?,
            max_delegation_depth: positive("max_delegation_depth", self.max_delegation_depth, 10)?,
        })
    }
}

/// A Cedar entity reference, `Type::"id"` (ids are checked to need no escaping).
pub fn entity_ref(entity_type: &str, id: &str) -> String {
    format!(
        "{entity_type}::\"{}\"",
        id.replace('\\', "\\\\").replace('"', "\\\"")
    )
}

/// A Cedar string literal.
fn string_literal(value: &str) -> String {
    format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""))
}

/// One policy Steward generated, with the id shown in decision reasons.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CompiledPolicy {
    pub id: String,
    pub text: String,
}

/// The Cedar policies one agent's limits compile to. Ids are `agent-<id>-<limit>`.
pub fn compile_limits(id: Uuid, kind: IdentityKind, limits: &AgentLimits) -> Vec<CompiledPolicy> {
    let me = entity_ref(entity_type(kind), &id.to_string());
    let mut out = Vec::new();
    let mut push = |suffix: &str, text: String| {
        out.push(CompiledPolicy {
            id: format!("agent-{id}-{suffix}"),
            text,
        })
    };
    if !limits.tools.is_empty() {
        let tools: Vec<String> = limits.tools.iter().map(|t| entity_ref("Tool", t)).collect();
        push(
            "tools",
            format!(
                "// Tool allowlist.\npermit(principal == {me}, action == Action::\"call_tool\", resource)\n  when {{ [{}].contains(resource) }};",
                tools.join(", ")
            ),
        );
    }
    if !limits.environments.is_empty() {
        let envs: Vec<String> = limits
            .environments
            .iter()
            .map(|e| string_literal(e))
            .collect();
        push(
            "environments",
            format!(
                "// Allowed environments.\nforbid(principal == {me}, action, resource)\n  unless {{ [{}].contains(context.environment) }};",
                envs.join(", ")
            ),
        );
    }
    if let Some(minutes) = limits.max_session_minutes {
        push(
            "session-duration",
            format!(
                "// Longest session: {minutes} minutes.\nforbid(principal == {me}, action, resource)\n  when {{ context.session.age_seconds > {} }};",
                i64::from(minutes) * 60
            ),
        );
    }
    if let Some(calls) = limits.max_calls {
        push(
            "session-calls",
            format!(
                "// Most calls in one session: {calls}.\nforbid(principal == {me}, action, resource)\n  when {{ context.session.calls > {calls} }};"
            ),
        );
    }
    if let Some(depth) = limits.max_delegation_depth {
        push(
            "delegation-depth",
            format!(
                "// Longest delegation chain: {depth}.\nforbid(principal == {me}, action, resource)\n  when {{ context.delegation.depth > {depth} }};"
            ),
        );
    }
    out
}

/// The Cedar actions an entitlement's privilege allows on its dataset.
pub fn data_actions(privilege: Privilege) -> &'static [AuthzAction] {
    match privilege {
        Privilege::Read => &[AuthzAction::ReadData],
        Privilege::Write | Privilege::Admin => &[AuthzAction::ReadData, AuthzAction::WriteData],
    }
}

/// The permit an entitlement compiles to: its privilege's data actions on the dataset
/// named by its resource. A just-in-time entitlement permits only while its grant is
/// active (and the built-in `steward-just-in-time` forbid holds that line against any
/// broader permit).
pub fn compile_entitlement(
    identity: Uuid,
    kind: IdentityKind,
    entitlement: Uuid,
    resource: &str,
    privilege: Privilege,
    just_in_time: bool,
) -> CompiledPolicy {
    let me = entity_ref(entity_type(kind), &identity.to_string());
    let actions: Vec<String> = data_actions(privilege)
        .iter()
        .map(|a| entity_ref("Action", a.as_str()))
        .collect();
    let condition = if just_in_time {
        "\n  when { context.grant.active }"
    } else {
        ""
    };
    CompiledPolicy {
        id: format!("entitlement-{entitlement}"),
        text: format!(
            "// Entitlement {resource} ({privilege}{}).\npermit(principal == {me}, action in [{}], resource == {}){condition};",
            if just_in_time { ", just-in-time" } else { "" },
            actions.join(", "),
            entity_ref("Dataset", resource),
        ),
    }
}

/// The permit a registered delegation compiles to: `acts_as` allows `delegate`,
/// `sub_agent` allows `spawn_subagent`, each to exactly that identity.
pub fn compile_delegation(
    from: (Uuid, IdentityKind),
    to: (Uuid, IdentityKind),
    sub_agent: bool,
) -> CompiledPolicy {
    let action = if sub_agent {
        AuthzAction::SpawnSubagent
    } else {
        AuthzAction::Delegate
    };
    CompiledPolicy {
        id: format!("delegation-{}-{}", from.0, to.0),
        text: format!(
            "// Registered delegation.\npermit(principal == {}, action == {}, resource == {});",
            entity_ref(entity_type(from.1), &from.0.to_string()),
            entity_ref("Action", action.as_str()),
            entity_ref(entity_type(to.1), &to.0.to_string()),
        ),
    }
}
