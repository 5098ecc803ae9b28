//! Runtime authorization of agents: the Cedar schema Steward decides with, the per-agent
//! limits people set in the UI and the Cedar policies they compile to, and the shapes of
//! a decision request and its answer.
//!
//! The policy engine itself (`cedar-policy`) is [`crate::cedar`], behind the feature
//! `cedar` (the server and the fuzz targets turn it on); this module is plain data and
//! text so the browser build can show and check the same things.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::Principal;
use crate::error::DomainError;
use crate::identity::{Privilege, Sensitivity};
use crate::inventory::{parse_environment, IdentityKind};
use crate::string_enum::string_enum;

string_enum! {
    /// What an agent asks to do.
    pub enum AuthzAction: "action" {
        CallTool = "call_tool",
        ReadData = "read_data",
        WriteData = "write_data",
        /// Act through an execution identity (a registered `acts_as` delegation).
        Delegate = "delegate",
        /// Hand work to a sub-agent (a registered `sub_agent` delegation).
        SpawnSubagent = "spawn_subagent",
    }
}

string_enum! {
    /// The kinds of resource an action is on.
    pub enum ResourceType: "resource type" {
        Tool = "Tool",
        Dataset = "Dataset",
        /// Another identity (for `delegate` and `spawn_subagent`).
        Identity = "Identity",
    }
}

impl AuthzAction {
    /// The resource type the action applies to.
    pub fn resource_type(self) -> ResourceType {
        match self {
            AuthzAction::CallTool => ResourceType::Tool,
            AuthzAction::ReadData | AuthzAction::WriteData => ResourceType::Dataset,
            AuthzAction::Delegate | AuthzAction::SpawnSubagent => ResourceType::Identity,
        }
    }
}

/// The Cedar entity type of an identity of this kind.
pub fn entity_type(kind: IdentityKind) -> &'static str {
    match kind {
        IdentityKind::ServiceAccount => "ServiceAccount",
        IdentityKind::Workload => "Workload",
        IdentityKind::CiRunner => "CiRunner",
        IdentityKind::Integration => "Integration",
        IdentityKind::ApiClient => "ApiClient",
        IdentityKind::Agent => "Agent",
        IdentityKind::Orchestrator => "Orchestrator",
        IdentityKind::LlmApp => "LlmApp",
        IdentityKind::AssistantSession => "AssistantSession",
    }
}

/// Data sensitivity as the number policies compare: public 0 … restricted 3.
pub fn sensitivity_level(sensitivity: Sensitivity) -> i64 {
    match sensitivity {
        Sensitivity::Public => 0,
        Sensitivity::Internal => 1,
        Sensitivity::Confidential => 2,
        Sensitivity::Restricted => 3,
    }
}

/// The schema every policy is validated against. Principals are inventory identities,
/// one entity type per kind, members of their team; resources are tools, datasets and
/// other identities. Steward fills the whole context itself (the caller's values for
/// `session`, `delegation`, `grant` and `now` are never trusted).
pub const SCHEMA: &str = r#"// Steward's authorization schema.
entity Team;
entity ServiceAccount, Workload, CiRunner, Integration, ApiClient,
       Agent, Orchestrator, LlmApp, AssistantSession in [Team] = {
  name: String,
  environment: String,
  status: String,
  // 0 public, 1 internal, 2 confidential, 3 restricted (3 when no ceiling is set).
  sensitivity_ceiling: Long,
};
entity Tool;
entity Dataset;

type Session = {
  id: String,
  age_seconds: Long,
  calls: Long,
};
type Delegation = {
  // Identities between the originator and this principal, the principal included.
  depth: Long,
  chain: Set<String>,
};
type Grant = {
  // The principal holds a just-in-time entitlement on this resource and action…
  required: Bool,
  // …and a grant on it is active now.
  active: Bool,
};
type RequestContext = {
  task: String,
  environment: String,
  data_sensitivity: Long,
  session: Session,
  delegation: Delegation,
  grant: Grant,
  // Seconds since the Unix epoch.
  now: Long,
};

action call_tool appliesTo {
  principal: [ServiceAccount, Workload, CiRunner, Integration, ApiClient,
              Agent, Orchestrator, LlmApp, AssistantSession],
  resource: [Tool],
  context: RequestContext,
};
action read_data, write_data appliesTo {
  principal: [ServiceAccount, Workload, CiRunner, Integration, ApiClient,
              Agent, Orchestrator, LlmApp, AssistantSession],
  resource: [Dataset],
  context: RequestContext,
};
action delegate, spawn_subagent appliesTo {
  principal: [ServiceAccount, Workload, CiRunner, Integration, ApiClient,
              Agent, Orchestrator, LlmApp, AssistantSession],
  resource: [ServiceAccount, Workload, CiRunner, Integration, ApiClient,
             Agent, Orchestrator, LlmApp, AssistantSession],
  context: RequestContext,
};
"#;

/// Policies every decision is made with, whatever the agent: the kill switch, the
/// just-in-time rule and the sensitivity ceiling. Forbids, so no permit overrides them.
pub const BUILT_IN_POLICIES: &[(&str, &str)] = &[
    (
        "steward-active-only",
        "// A suspended or retired identity is denied everything (the kill switch).\n\
         forbid(principal, action, resource) unless { principal.status == \"active\" };",
    ),
    (
        "steward-just-in-time",
        "// What needs a just-in-time grant is allowed only while one is active.\n\
         forbid(principal, action, resource) when { context.grant.required && !context.grant.active };",
    ),
    (
        "steward-sensitivity-ceiling",
        "// No identity touches data above its sensitivity ceiling.\n\
         forbid(principal, action, resource) when { context.data_sensitivity > principal.sensitivity_ceiling };",
    ),
];

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

/// The context a caller supplies; Steward adds session, delegation, grant and time.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RequestContext {
    /// What the agent is doing (free text, for policies and the log).
    #[serde(default)]
    pub task: String,
    /// Where the agent acts (`prod`, `staging`, …).
    #[serde(default)]
    pub environment: String,
    /// How sensitive the data touched is.
    #[serde(default)]
    pub data_sensitivity: Option<Sensitivity>,
    /// The agent's session (limits count per session); none: a session of one call.
    #[serde(default)]
    pub session_id: Option<String>,
    /// The identities the work was delegated through, from the originator to the one
    /// just before the principal. Each link must be a registered delegation; the
    /// decision is allowed only if every one of them would be allowed too.
    #[serde(default)]
    pub delegation_chain: Vec<Uuid>,
}

/// A resource reference in a decision request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ResourceRef {
    #[serde(rename = "type")]
    pub resource_type: String,
    pub id: String,
}

/// `POST /api/v1/authorize`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AuthorizeRequest {
    /// The identity acting; must be the caller's own identity.
    pub principal: Uuid,
    pub action: String,
    pub resource: ResourceRef,
    #[serde(default)]
    pub context: RequestContext,
}

/// Longest session id a caller may give (bytes).
pub const MAX_SESSION_ID: usize = 200;

/// What a decision request is on, checked against its action: a tool, a dataset (ids
/// as [`parse_resource_id`] accepts them) or another identity of the inventory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestTarget {
    Tool(String),
    Dataset(String),
    Identity(Uuid),
}

impl RequestTarget {
    /// The identity the request is on, if it is on one (its entity type is its kind's,
    /// which only the inventory knows).
    pub fn identity(&self) -> Option<Uuid> {
        match self {
            RequestTarget::Identity(id) => Some(*id),
            _ => None,
        }
    }

    /// The target as a Cedar entity. `identity_kind` is the kind of the identity it
    /// names, looked up in the inventory (none: no such identity); tools and datasets
    /// ignore it.
    pub fn entity(&self, identity_kind: Option<IdentityKind>) -> Result<EntityRef, DomainError> {
        Ok(match self {
            RequestTarget::Tool(id) => EntityRef::new("Tool", id),
            RequestTarget::Dataset(id) => EntityRef::new("Dataset", id),
            RequestTarget::Identity(id) => {
                let kind = identity_kind
                    .ok_or_else(|| DomainError::not_found(format!("identity {id}")))?;
                EntityRef::new(entity_type(kind), &id.to_string())
            }
        })
    }
}

/// A Cedar entity as Steward names it, by its parts: its type (one of the schema's) and
/// its id, any text. The policy engine builds the entity from the parts, so no id can
/// change the entity it names; [`EntityRef::text`] is the Cedar text, for people.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EntityRef {
    pub entity_type: &'static str,
    pub id: String,
}

impl EntityRef {
    pub fn new(entity_type: &'static str, id: &str) -> EntityRef {
        EntityRef {
            entity_type,
            id: id.to_owned(),
        }
    }

    /// `Type::"id"`, as in policies (see [`entity_ref`]).
    pub fn text(&self) -> String {
        entity_ref(self.entity_type, &self.id)
    }
}

impl std::fmt::Display for EntityRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text())
    }
}

impl AuthorizeRequest {
    /// The action asked for.
    pub fn parsed_action(&self) -> Result<AuthzAction, DomainError> {
        self.action.parse().map_err(|_| {
            DomainError::invalid(
                "action",
                format!(
                    "'{}' is not one of call_tool, read_data, write_data, delegate, spawn_subagent",
                    self.action
                ),
            )
        })
    }

    /// What the request is on: its resource, whose type must be the one `action` is on.
    pub fn target(&self, action: AuthzAction) -> Result<RequestTarget, DomainError> {
        let expected = action.resource_type();
        let given = &self.resource.resource_type;
        if given != expected.as_str() {
            return Err(DomainError::invalid(
                "resource.type",
                format!("{action} is on a {expected}, not a {given}"),
            ));
        }
        let id = parse_resource_id("resource.id", &self.resource.id)?;
        Ok(match expected {
            ResourceType::Tool => RequestTarget::Tool(id),
            ResourceType::Dataset => RequestTarget::Dataset(id),
            ResourceType::Identity => RequestTarget::Identity(id.parse().map_err(|_| {
                DomainError::invalid("resource.id", format!("'{id}' is not an identity id"))
            })?),
        })
    }

    /// The identities the request goes through: its delegation chain, then the
    /// principal. None may appear twice.
    pub fn chain(&self) -> Result<Vec<Uuid>, DomainError> {
        let mut chain: Vec<Uuid> = self.context.delegation_chain.clone();
        chain.push(self.principal);
        let mut seen = std::collections::HashSet::new();
        if !chain.iter().all(|id| seen.insert(*id)) {
            return Err(DomainError::invalid(
                "context.delegation_chain",
                "an identity appears twice in the chain",
            ));
        }
        Ok(chain)
    }

    /// The session its calls count in: the given id trimmed, none when blank; at most
    /// [`MAX_SESSION_ID`] bytes.
    pub fn session_id(&self) -> Result<Option<String>, DomainError> {
        let session = self
            .context
            .session_id
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty());
        match session {
            Some(s) if s.len() > MAX_SESSION_ID => Err(DomainError::invalid(
                "context.session_id",
                format!("at most {MAX_SESSION_ID} characters"),
            )),
            s => Ok(s.map(str::to_owned)),
        }
    }
}

string_enum! {
    pub enum Decision: "decision" {
        Allow = "allow",
        Deny = "deny",
    }
}

/// The answer: the decision, the ids of the policies that decided it (the permits that
/// allowed, or the forbids that denied; none for a default deny) and diagnostics.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuthorizeResponse {
    pub decision: Decision,
    pub reasons: Vec<String>,
    pub diagnostics: Vec<String>,
    /// Set when a control in monitor mode would have denied what was allowed:
    /// `policy` (the agent's policy set) or `static_secret:<trust configuration>` (a
    /// static token where that configuration asks for a federated one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub would_deny: Option<String>,
}

/// What enforcing would have denied over the last days, for an agent whose controls
/// are (or were) in monitor mode: the evidence for switching to enforce.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MonitorReport {
    /// The agent policy set's mode now.
    pub mode: crate::federation::EnforcementMode,
    pub days: u32,
    /// Decisions logged in the window.
    pub decisions: i64,
    /// Of those, the ones enforcing would have denied.
    pub would_deny: i64,
    /// The most recent of them (at most 20).
    pub recent: Vec<DecisionRecord>,
}

/// A Cedar policy an admin wrote, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuthzPolicy {
    pub id: Uuid,
    pub draft: AuthzPolicyDraft,
    /// The identity the policy names (`principal == …`); none: it applies to everyone.
    pub principal_id: Option<Uuid>,
    pub updated_by: String,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

impl AuthzPolicy {
    /// The id decisions name it by.
    pub fn cedar_id(&self) -> String {
        format!("custom-{}", self.draft.name)
    }
}

/// What an admin writes: a name (the policy's id in decision reasons is
/// `custom-<name>`), what it is for, the Cedar text, and whether it is in force.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AuthzPolicyDraft {
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub body: String,
    #[serde(default = "enabled_by_default")]
    pub enabled: bool,
}

fn enabled_by_default() -> bool {
    true
}

impl AuthzPolicyDraft {
    /// Trimmed, with a name of 1–64 lower-case letters, digits and `-`, and a body of at
    /// most 20,000 characters. (Whether the body is valid Cedar is checked on the server.)
    pub fn validated(&self) -> Result<AuthzPolicyDraft, DomainError> {
        let name = self.name.trim().to_owned();
        let name_ok = (1..=64).contains(&name.len())
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !name_ok {
            return Err(DomainError::invalid(
                "name",
                format!("'{name}' is not a policy name (1–64 lower-case letters, digits and '-')"),
            ));
        }
        let body = self.body.trim().to_owned();
        if body.is_empty() || body.len() > 20_000 {
            return Err(DomainError::invalid(
                "body",
                "a policy is one Cedar permit or forbid, up to 20,000 characters",
            ));
        }
        let description = self.description.trim().to_owned();
        if description.len() > 500 {
            return Err(DomainError::invalid(
                "description",
                "at most 500 characters",
            ));
        }
        Ok(AuthzPolicyDraft {
            name,
            description,
            body,
            enabled: self.enabled,
        })
    }
}

/// One logged decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DecisionRecord {
    pub id: Uuid,
    pub at: chrono::DateTime<chrono::Utc>,
    pub identity_id: Uuid,
    pub action: String,
    pub resource: String,
    pub decision: Decision,
    pub reasons: Vec<String>,
    pub diagnostics: Vec<String>,
    pub session_id: Option<String>,
    pub task: String,
    pub environment: String,
    pub delegation_chain: Vec<Uuid>,
    /// How the caller proved who it is (`token:<id>`, or `grant:<id> jti:<id>` for a
    /// just-in-time credential).
    pub credential: String,
    /// Drift between approval and execution this decision showed, if any.
    #[serde(default)]
    pub drift: Option<Drift>,
    /// What enforcing would have denied (monitor mode), as in [`AuthorizeResponse`].
    #[serde(default)]
    pub would_deny: Option<String>,
}

string_enum! {
    /// How an agent's runtime behaviour left what it was approved for.
    pub enum DriftKind: "drift" {
        /// It asked to call a tool outside its allowlist (OWASP ASI02).
        ToolOutsideAllowlist = "tool_outside_allowlist",
        /// It handed work to, spawned or acted through an identity it has no
        /// registered delegation to (ASI10, ASI03).
        UnregisteredDelegation = "unregistered_delegation",
        /// It acted through another identity (a service account) beyond what it was
        /// itself approved for: the other allowed, it did not (ASI03).
        BeyondApprovalThroughDelegation = "beyond_approval_through_delegation",
    }
}

/// Drift noted on a decision, about one identity on its chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Drift {
    pub kind: DriftKind,
    /// The identity whose approval was left (the finding is about it).
    pub identity_id: Uuid,
}

/// How an agent proves who it is when it asks for a decision.
#[derive(Debug, Clone, Copy)]
pub enum AgentCaller<'a> {
    /// An API token made for the agent (resolved into a principal).
    Token(Option<&'a Principal>),
    /// A JWT: a just-in-time grant credential Steward signed for the agent's grant, or
    /// a token the workload's platform issued, accepted by a trust configuration.
    Jwt(&'a str),
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn limits_are_normalised_and_bad_ones_named() {
        let limits = AgentLimits {
            tools: vec![
                " github.create_pr ".into(),
                "jira.search".into(),
                "github.create_pr".into(),
                "".into(),
            ],
            environments: vec!["prod".into(), "prod".into()],
            max_calls: Some(50),
            ..AgentLimits::default()
        }
        .validated()
        .unwrap();
        assert_eq!(limits.tools, vec!["github.create_pr", "jira.search"]);
        assert_eq!(limits.environments, vec!["prod"]);

        let bad_tool = AgentLimits {
            tools: vec!["rm -rf".into()],
            ..AgentLimits::default()
        };
        assert!(
            matches!(bad_tool.validated(), Err(DomainError::InvalidInput { field, .. }) if field == "tools")
        );
        let quote = AgentLimits {
            tools: vec!["a\"b".into()],
            ..AgentLimits::default()
        };
        assert!(
            quote.validated().is_err(),
            "a quote could break out of the Cedar literal"
        );
        let env = AgentLimits {
            environments: vec!["Prod!".into()],
            ..AgentLimits::default()
        };
        assert!(
            matches!(env.validated(), Err(DomainError::InvalidInput { field, .. }) if field == "environments")
        );
        let zero = AgentLimits {
            max_calls: Some(0),
            ..AgentLimits::default()
        };
        assert!(
            matches!(zero.validated(), Err(DomainError::InvalidInput { field, .. }) if field == "max_calls")
        );
    }

    #[test]
    fn limits_compile_to_one_policy_each() {
        let id = Uuid::nil();
        let limits = AgentLimits {
            tools: vec!["github.create_pr".into()],
            environments: vec!["prod".into()],
            max_session_minutes: Some(30),
            max_calls: Some(100),
            max_delegation_depth: Some(2),
        };
        let compiled = compile_limits(id, IdentityKind::Agent, &limits);
        let ids: Vec<&str> = compiled.iter().map(|p| p.id.as_str()).collect();
        let prefix = format!("agent-{id}-");
        assert_eq!(
            ids,
            [
                "tools",
                "environments",
                "session-duration",
                "session-calls",
                "delegation-depth"
            ]
            .map(|s| format!("{prefix}{s}"))
        );
        assert!(compiled[0].text.contains(r#"permit(principal == Agent::"00000000-0000-0000-0000-000000000000", action == Action::"call_tool""#));
        assert!(compiled[0]
            .text
            .contains(r#"[Tool::"github.create_pr"].contains(resource)"#));
        assert!(compiled[2]
            .text
            .contains("context.session.age_seconds > 1800"));
        // No limits, no policies: without a tool allowlist nothing permits a tool call.
        assert!(compile_limits(id, IdentityKind::Agent, &AgentLimits::default()).is_empty());
    }

    #[test]
    fn entitlements_and_delegations_compile_to_narrow_permits() {
        let (a, e) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let standing = compile_entitlement(
            a,
            IdentityKind::ServiceAccount,
            e,
            "payments-db",
            Privilege::Read,
            false,
        );
        assert!(standing
            .text
            .contains(r#"action in [Action::"read_data"], resource == Dataset::"payments-db")"#));
        assert!(!standing.text.contains("when"));
        let jit = compile_entitlement(
            a,
            IdentityKind::Agent,
            e,
            "payments-db",
            Privilege::Admin,
            true,
        );
        assert!(jit
            .text
            .contains(r#"[Action::"read_data", Action::"write_data"]"#));
        assert!(jit.text.contains("when { context.grant.active }"));
        let edge = compile_delegation(
            (a, IdentityKind::Orchestrator),
            (e, IdentityKind::Agent),
            true,
        );
        assert!(edge
            .text
            .contains(r#"action == Action::"spawn_subagent", resource == Agent::"#));
    }

    fn request(action: &str, resource_type: &str, id: &str) -> AuthorizeRequest {
        AuthorizeRequest {
            principal: Uuid::from_u128(1),
            action: action.into(),
            resource: ResourceRef {
                resource_type: resource_type.into(),
                id: id.into(),
            },
            context: RequestContext::default(),
        }
    }

    #[test]
    fn a_request_names_its_action_and_target() {
        let tool = request("call_tool", "Tool", " jira.search ");
        let action = tool.parsed_action().unwrap();
        assert_eq!(action, AuthzAction::CallTool);
        let target = tool.target(action).unwrap();
        assert_eq!(target, RequestTarget::Tool("jira.search".into()));
        assert_eq!(
            target.entity(None).unwrap().text(),
            r#"Tool::"jira.search""#
        );
        let unknown = request("fly", "Tool", "x").parsed_action();
        assert!(
            matches!(unknown, Err(DomainError::InvalidInput { field, .. }) if field == "action")
        );
        let wrong = request("read_data", "Tool", "x");
        let Err(DomainError::InvalidInput { field, message }) =
            wrong.target(wrong.parsed_action().unwrap())
        else {
            panic!("a tool is not a dataset")
        };
        assert_eq!(field, "resource.type");
        assert_eq!(message, "read_data is on a Dataset, not a Tool");
        assert!(request("read_data", "Dataset", "a\"b")
            .target(AuthzAction::ReadData)
            .is_err());
        let other = Uuid::from_u128(9);
        let delegate = request("delegate", "Identity", &other.to_string());
        let target = delegate.target(AuthzAction::Delegate).unwrap();
        assert_eq!(target.identity(), Some(other));
        assert_eq!(
            target.entity(Some(IdentityKind::ServiceAccount)).unwrap(),
            EntityRef::new("ServiceAccount", &other.to_string())
        );
        assert!(matches!(
            target.entity(None),
            Err(DomainError::NotFound { .. })
        ));
        assert!(request("delegate", "Identity", "bob")
            .target(AuthzAction::Delegate)
            .is_err());
    }

    #[test]
    fn a_request_chain_and_session_are_checked() {
        let mut r = request("call_tool", "Tool", "x");
        r.context.delegation_chain = vec![Uuid::from_u128(2)];
        assert_eq!(
            r.chain().unwrap(),
            vec![Uuid::from_u128(2), Uuid::from_u128(1)]
        );
        r.context.delegation_chain = vec![Uuid::from_u128(1)];
        assert!(r.chain().is_err(), "the principal twice");
        assert_eq!(r.session_id().unwrap(), None);
        r.context.session_id = Some("  ".into());
        assert_eq!(r.session_id().unwrap(), None);
        r.context.session_id = Some(" s1 ".into());
        assert_eq!(r.session_id().unwrap().as_deref(), Some("s1"));
        r.context.session_id = Some("x".repeat(MAX_SESSION_ID + 1));
        assert!(r.session_id().is_err());
    }
}
