//! The authorization vocabulary and the Cedar schema Steward decides with: actions,
//! entity types, sensitivity levels and the built-in policies. Text and constants only.

use crate::identity::Sensitivity;
use crate::inventory::IdentityKind;
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
