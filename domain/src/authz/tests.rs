//! Unit tests of the schema, limits, policy compilation and decision requests.
#![allow(clippy::unwrap_used)]

use uuid::Uuid;

use super::*;
use crate::error::DomainError;
use crate::identity::Privilege;
use crate::inventory::IdentityKind;

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
    assert!(matches!(unknown, Err(DomainError::InvalidInput { field, .. }) if field == "action"));
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
