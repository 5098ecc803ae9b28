//! Unit tests of the Cedar engine: validation, entities and decisions.
#![allow(clippy::unwrap_used)]

use std::str::FromStr;

use cedar_policy::{EntityUid, Policy, PolicyId, PolicySet};
use chrono::DateTime;
use uuid::Uuid;

use super::entities::uid;
use super::*;
use crate::authz::{compile_entitlement, compile_limits, AgentLimits};
use crate::authz::{entity_ref, AuthorizeRequest, AuthzAction, Decision, EntityRef};
use crate::identity::Privilege;
use crate::identity::Sensitivity;
use crate::inventory::{IdentityKind, IdentityStatus};

fn agent(status: IdentityStatus) -> PrincipalFacts {
    PrincipalFacts {
        id: Uuid::from_u128(7),
        kind: IdentityKind::Agent,
        name: "triage-bot".into(),
        environment: "prod".into(),
        status,
        team: Some("Payments".into()),
        sensitivity_ceiling: Some(Sensitivity::Internal),
    }
}

fn context() -> EvalContext {
    EvalContext {
        environment: "prod".into(),
        data_sensitivity: 1,
        session_calls: 1,
        delegation_depth: 1,
        ..EvalContext::default()
    }
}

fn set(engine: &Engine, who: &PrincipalFacts, limits: &AgentLimits) -> PolicySet {
    engine
        .policy_set(
            compile_limits(who.id, who.kind, limits)
                .into_iter()
                .map(|p| (p.id, p.text)),
        )
        .unwrap()
}

#[test]
fn default_deny_allowlist_and_forbid_overrides_permit() {
    let engine = Engine::new().unwrap();
    let me = agent(IdentityStatus::Active);
    let entities = engine.entities(&me).unwrap();
    let limits = AgentLimits {
        tools: vec!["github.create_pr".into()],
        max_calls: Some(3),
        ..AgentLimits::default()
    };
    let policies = set(&engine, &me, &limits);
    let tool = r#"Tool::"github.create_pr""#;
    let decide = |ctx: &EvalContext, resource: &str| {
        engine
            .evaluate(
                &policies,
                &entities,
                &me,
                AuthzAction::CallTool,
                resource,
                ctx,
            )
            .unwrap()
    };
    let allowed = decide(&context(), tool);
    assert_eq!(allowed.decision, Decision::Allow);
    assert_eq!(allowed.reasons, vec![format!("agent-{}-tools", me.id)]);
    // Default deny: a tool not on the allowlist, with no reason given.
    let other = decide(&context(), r#"Tool::"shell.exec""#);
    assert_eq!((other.decision, other.reasons.len()), (Decision::Deny, 0));
    // Forbid overrides permit: the call limit denies an allowlisted tool.
    let fourth = decide(
        &EvalContext {
            session_calls: 4,
            ..context()
        },
        tool,
    );
    assert_eq!(fourth.decision, Decision::Deny);
    assert_eq!(
        fourth.reasons,
        vec![format!("agent-{}-session-calls", me.id)]
    );
    // Data above the ceiling is denied by the built-in policy.
    let secret = decide(
        &EvalContext {
            data_sensitivity: 3,
            ..context()
        },
        tool,
    );
    assert_eq!(
        secret.reasons,
        vec!["steward-sensitivity-ceiling".to_owned()]
    );
}

#[test]
fn a_suspended_agent_is_denied_everything() {
    let engine = Engine::new().unwrap();
    let me = agent(IdentityStatus::Suspended);
    let limits = AgentLimits {
        tools: vec!["github.create_pr".into()],
        ..AgentLimits::default()
    };
    let policies = set(&engine, &me, &limits);
    let decided = engine
        .evaluate(
            &policies,
            &engine.entities(&me).unwrap(),
            &me,
            AuthzAction::CallTool,
            r#"Tool::"github.create_pr""#,
            &context(),
        )
        .unwrap();
    assert_eq!(decided.decision, Decision::Deny);
    assert_eq!(decided.reasons, vec!["steward-active-only".to_owned()]);
}

#[test]
fn a_just_in_time_entitlement_allows_only_while_its_grant_is_active() {
    let engine = Engine::new().unwrap();
    let me = agent(IdentityStatus::Active);
    let entitlement = compile_entitlement(
        me.id,
        me.kind,
        Uuid::from_u128(9),
        "ledger",
        Privilege::Write,
        true,
    );
    // Even an admin's broad permit does not get past the just-in-time rule.
    let broad = (
        "admin-broad".to_owned(),
        "permit(principal, action, resource);".to_owned(),
    );
    let policies = engine
        .policy_set([(entitlement.id.clone(), entitlement.text), broad])
        .unwrap();
    let entities = engine.entities(&me).unwrap();
    let write = |ctx: &EvalContext| {
        engine
            .evaluate(
                &policies,
                &entities,
                &me,
                AuthzAction::WriteData,
                r#"Dataset::"ledger""#,
                ctx,
            )
            .unwrap()
    };
    let without = write(&EvalContext {
        grant_required: true,
        grant_active: false,
        ..context()
    });
    assert_eq!(without.decision, Decision::Deny);
    assert_eq!(without.reasons, vec!["steward-just-in-time".to_owned()]);
    let with = write(&EvalContext {
        grant_required: true,
        grant_active: true,
        ..context()
    });
    assert_eq!(with.decision, Decision::Allow);
    assert!(with.reasons.contains(&entitlement.id));
}

#[test]
fn bad_policies_are_refused_with_the_place_and_the_problem() {
    let engine = Engine::new().unwrap();
    let syntax = engine.check(
        "p",
        "permit(principal, action, resource) when { context.task == };",
    );
    let Err(CedarError::Invalid(problems)) = syntax else {
        panic!("{syntax:?}")
    };
    assert!(problems[0].contains("line 1"), "{problems:?}");
    let unknown = engine.check(
        "p",
        "permit(principal, action, resource) when { context.colour == \"red\" };",
    );
    let Err(CedarError::Invalid(problems)) = unknown else {
        panic!("{unknown:?}")
    };
    assert!(
        problems.iter().any(|p| p.contains("colour")),
        "{problems:?}"
    );
    let wrong_type = engine.check(
        "p",
        "permit(principal, action, resource) when { context.data_sensitivity == \"high\" };",
    );
    assert!(matches!(wrong_type, Err(CedarError::Invalid(_))));
    assert!(engine
        .check("p", "forbid(principal is Agent, action == Action::\"call_tool\", resource) when { context.environment == \"prod\" && context.task like \"*delete*\" };")
        .is_ok());
}

#[test]
fn requests_fit_the_schema() {
    let engine = Engine::new().unwrap();
    let me = agent(IdentityStatus::Active);
    let ctx = EvalContext {
        delegation_chain: vec!["a".into()],
        ..context()
    };
    engine
        .check_request(&me, AuthzAction::CallTool, r#"Tool::"x""#, &ctx)
        .unwrap();
    engine
        .check_request(&me, AuthzAction::ReadData, r#"Dataset::"x""#, &ctx)
        .unwrap();
    engine
        .check_request(
            &me,
            AuthzAction::SpawnSubagent,
            r#"Agent::"00000000-0000-0000-0000-000000000001""#,
            &ctx,
        )
        .unwrap();
    // A tool is not a dataset.
    assert!(engine
        .check_request(&me, AuthzAction::ReadData, r#"Tool::"x""#, &ctx)
        .is_err());
}

#[test]
fn entity_references_split_by_hand_equal_parsed_ones() {
    for text in [
        r#"Tool::"github.create_pr""#,
        r#"Agent::"00000000-0000-0000-0000-000000000007""#,
        r#"Action::"call_tool""#,
        r#"Dataset::"s3://billing/2026""#,
        r#"Tool::"""#,
    ] {
        assert_eq!(
            uid(text).unwrap(),
            EntityUid::from_str(text).unwrap(),
            "{text}"
        );
    }
    // Escapes and unknown types go through the parser.
    let escaped = r#"Tool::"say \"hi\"""#;
    assert_eq!(uid(escaped).unwrap(), EntityUid::from_str(escaped).unwrap());
    assert_eq!(uid(escaped).unwrap().id().unescaped(), r#"say "hi""#);
    assert!(uid("Nope::\"x\"").is_ok(), "parsed, not refused");
    assert!(uid("not a reference").is_err());
}

#[test]
fn names_with_quotes_backslashes_and_control_characters_name_their_own_entities() {
    let engine = Engine::new().unwrap();
    let team = "a\"b\\\n\u{1}c";
    let me = PrincipalFacts {
        name: "x\" || true || \"".into(),
        team: Some(team.into()),
        ..agent(IdentityStatus::Active)
    };
    let entities = engine.entities(&me).unwrap();
    let team_uid = uid_of(&type_name("Team").unwrap(), team);
    assert_eq!(team_uid.id().unescaped(), team);
    assert!(
        entities.get(&team_uid).is_some(),
        "the team entity is the team"
    );
    let ancestors: Vec<&EntityUid> = entities.ancestors(&me.uid().unwrap()).unwrap().collect();
    assert_eq!(ancestors, vec![&team_uid]);
    // A policy about that very team applies, and the request still evaluates. (The
    // validator warns about such a name in a policy's text, so no admin policy can
    // name it: this one is added unchecked.)
    let mut policies = engine
        .policy_set(std::iter::empty::<(String, String)>())
        .unwrap();
    let about_the_team = format!(
        "permit(principal in {}, action, resource);",
        entity_ref("Team", team)
    );
    policies
        .add(Policy::parse(Some(PolicyId::new("team")), about_the_team).unwrap())
        .unwrap();
    let tool = EntityRef::new("Tool", "say \"hi\"\n");
    let decided = engine
        .evaluate(
            &policies,
            &entities,
            &me,
            AuthzAction::CallTool,
            &tool,
            &context(),
        )
        .unwrap();
    assert_eq!(decided.decision, Decision::Allow, "{decided:?}");
    assert_eq!(decided.reasons, vec!["team".to_owned()]);
    assert!(decided.diagnostics.is_empty());
    engine
        .check_request(&me, AuthzAction::CallTool, &tool, &context())
        .unwrap();
    // A team whose name only looks like another's is not that team.
    let other = PrincipalFacts {
        team: Some("a".into()),
        ..me.clone()
    };
    let denied = engine
        .evaluate(
            &policies,
            &engine.entities(&other).unwrap(),
            &other,
            AuthzAction::CallTool,
            &tool,
            &context(),
        )
        .unwrap();
    assert_eq!(denied.decision, Decision::Deny);
}

#[test]
fn entity_refs_and_their_text_are_the_same_entity() {
    for (entity_type, id) in [
        ("Tool", "github.create_pr"),
        ("Dataset", "s3://billing/2026"),
        ("Agent", "00000000-0000-0000-0000-000000000007"),
        ("Tool", "say \"hi\" \\ there"),
    ] {
        let by_parts = EntityRef::new(entity_type, id);
        assert_eq!(
            Resource::uid(&by_parts).unwrap(),
            EntityUid::from_str(&by_parts.text()).unwrap(),
            "{by_parts}"
        );
        assert_eq!(Resource::uid(&by_parts).unwrap().id().unescaped(), id);
    }
}

#[test]
fn a_request_maps_to_its_context() {
    use crate::authz::{RequestContext, ResourceRef};
    let (a, b) = (Uuid::from_u128(1), Uuid::from_u128(2));
    let request = AuthorizeRequest {
        principal: b,
        action: "call_tool".into(),
        resource: ResourceRef {
            resource_type: "Tool".into(),
            id: "jira.search".into(),
        },
        context: RequestContext {
            task: "triage".into(),
            environment: "prod".into(),
            data_sensitivity: Some(Sensitivity::Confidential),
            session_id: Some("s1".into()),
            delegation_chain: vec![a],
        },
    };
    let now = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
    let context = EvalContext::of_request(&request, (30, 4), now);
    assert_eq!(
        context,
        EvalContext {
            task: "triage".into(),
            environment: "prod".into(),
            data_sensitivity: 2,
            session_id: "s1".into(),
            session_age_seconds: 30,
            session_calls: 4,
            delegation_depth: 2,
            delegation_chain: vec![a.to_string(), b.to_string()],
            grant_required: false,
            grant_active: false,
            now: 1_700_000_000,
        }
    );
    let bare = AuthorizeRequest {
        context: RequestContext::default(),
        ..request
    };
    let context = EvalContext::of_request(&bare, (0, 1), now);
    assert_eq!(
        (
            context.data_sensitivity,
            context.delegation_depth,
            context.session_id.as_str()
        ),
        (0, 1, "")
    );
}
