//! `POST /api/v1/authorize`: a request, an agent's limits and a small inventory go
//! through the server's path — session id, action, target, delegation chain, the
//! evaluation context, Cedar — and the decision is checked against what the built-in
//! policies and the compiled limits guarantee. Any input may be refused; nothing panics.
//!
//! Input: the bytes split on NUL (0x00) into three parts (missing parts are empty):
//!
//! 1. the request, JSON (`AuthorizeRequest`, as posted to `/api/v1/authorize`);
//! 2. the agent limits, JSON (`AgentLimits`), which every identity of the inventory has
//!    (limits that do not parse or validate: none, as the server stores only valid ones);
//! 3. the inventory, one identity per line (at most 16), fields separated by tabs:
//!    `name, team, environment, ceiling, age, calls[, status[, kind]]`.
//!    The identity on line n (from 1) has id `00000000-0000-0000-0000-00000000000n`
//!    (`Uuid::from_u128(n)`). An empty team is none; a ceiling that is not a
//!    sensitivity (`public` … `restricted`) is none; `age` and `calls` are the session
//!    (its age in seconds, this call's number) when the identity is the principal and
//!    the request names a session (unparsable: 0 and 1); status defaults to `active`,
//!    kind to `agent`. Identity n has a registered delegation to every later identity
//!    m > n: `sub_agent` when m is an AI kind, `acts_as` otherwise.
//!
//! Oracle, for every identity evaluated on the chain (each evaluation must also fit
//! the schema, with no evaluation errors, and the principal's team entity be exactly
//! its team): not active ⇒ denied by `steward-active-only`; data above its ceiling ⇒
//! denied by `steward-sensitivity-ceiling`. For an allowed decision: every identity on
//! the chain is active and within its ceiling, and within every limit (environments,
//! session length, calls, delegation depth); a tool call is of an allowlisted tool; a
//! delegation or sub-agent is registered; data is never read or written (no
//! entitlement in the inventory).
#![no_main]

use std::collections::HashMap;
use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use libfuzzer_sys::fuzz_target;
use steward_domain::authz::cedar::{type_name, uid_of, Engine, EvalContext, Evaluation, PrincipalFacts};
use steward_domain::identity::Sensitivity;
use steward_domain::inventory::{ActorClass, IdentityKind, IdentityStatus};
use steward_domain::authz::{
    compile_delegation, compile_limits, sensitivity_level, AgentLimits, AuthorizeRequest,
    AuthzAction, Decision,
};
use steward_domain::DomainError;
use uuid::Uuid;

const MAX_IDENTITIES: usize = 16;

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| Engine::new().expect("the built-in schema and policies are valid"))
}

/// One inventory line.
struct Line {
    facts: PrincipalFacts,
    session: (i64, i64),
}

fn inventory(text: &str) -> Vec<Line> {
    text.lines()
        .take(MAX_IDENTITIES)
        .enumerate()
        .map(|(n, line)| {
            let fields: Vec<&str> = line.split('\t').collect();
            let field = |i: usize| fields.get(i).copied().unwrap_or("");
            Line {
                facts: PrincipalFacts {
                    id: Uuid::from_u128(n as u128 + 1),
                    kind: field(7).parse().unwrap_or(IdentityKind::Agent),
                    name: field(0).to_owned(),
                    environment: field(2).to_owned(),
                    status: field(6).parse().unwrap_or(IdentityStatus::Active),
                    team: Some(field(1)).filter(|t| !t.is_empty()).map(str::to_owned),
                    sensitivity_ceiling: field(3).parse::<Sensitivity>().ok(),
                },
                session: (
                    field(4).trim().parse().unwrap_or(0),
                    field(5).trim().parse().unwrap_or(1),
                ),
            }
        })
        .collect()
}

/// What the decision was made of, for the oracle.
struct Decided {
    action: AuthzAction,
    chain: Vec<Uuid>,
    context: EvalContext,
    evaluation: Evaluation,
}

fn ceiling(facts: &PrincipalFacts) -> i64 {
    facts.sensitivity_ceiling.map_or(3, sensitivity_level)
}

/// Whether `from` has a registered delegation to `to`, and of which kind.
fn delegation(lines: &[Line], from: Uuid, to: Uuid) -> Option<bool> {
    let position = |id: Uuid| lines.iter().position(|l| l.facts.id == id);
    let (from, to) = (position(from)?, position(to)?);
    (from < to).then(|| lines[to].facts.kind.actor_class() == ActorClass::Ai)
}

/// The server's `authorize` then `decide`, with the inventory for the store.
fn decide(
    request: &AuthorizeRequest,
    limits: &AgentLimits,
    lines: &[Line],
    now: DateTime<Utc>,
) -> Result<Decided, DomainError> {
    let engine = engine();
    let find = |id: Uuid| {
        lines
            .iter()
            .find(|l| l.facts.id == id)
            .ok_or_else(|| DomainError::not_found(format!("identity {id}")))
    };
    // authorize: the session, the principal.
    let session_id = request.session_id();
    let mut request = request.clone();
    request.context.session_id = session_id.as_ref().ok().cloned().flatten();
    let principal = find(request.principal)?;
    let session = match session_id? {
        Some(_) => principal.session,
        None => (0, 1),
    };
    // decide: the action, its target, the chain.
    let action = request.parsed_action()?;
    let target = request.target(action)?;
    let kind = match target.identity() {
        Some(id) => Some(find(id)?.facts.kind),
        None => None,
    };
    let resource = target.entity(kind)?;
    let chain = request.chain()?;
    let states = chain
        .iter()
        .map(|id| find(*id))
        .collect::<Result<Vec<_>, _>>()?;
    let context = EvalContext::of_request(&request, session, now);
    for pair in states.windows(2) {
        if delegation(lines, pair[0].facts.id, pair[1].facts.id).is_none() {
            return Ok(Decided {
                action,
                chain,
                context,
                evaluation: Evaluation {
                    decision: Decision::Deny,
                    reasons: vec!["steward-registered-delegation".into()],
                    diagnostics: Vec::new(),
                },
            });
        }
    }
    let mut decided = None;
    for state in &states {
        let me = &state.facts;
        let mut compiled = compile_limits(me.id, me.kind, limits);
        for to in lines {
            if let Some(sub_agent) = delegation(lines, me.id, to.facts.id) {
                compiled.push(compile_delegation(
                    (me.id, me.kind),
                    (to.facts.id, to.facts.kind),
                    sub_agent,
                ));
            }
        }
        let policies = engine
            .policy_set(compiled.into_iter().map(|p| (p.id, p.text)))
            .expect("compiled limits and delegations are valid Cedar");
        let entities = engine.entities(me).expect("any identity makes entities");
        if let Some(team) = &me.team {
            let team_uid = uid_of(&type_name("Team").expect("Team"), team);
            assert_eq!(team_uid.id().unescaped(), team);
            let ancestors: Vec<_> = entities
                .ancestors(&me.uid().expect("uid"))
                .expect("the principal is an entity")
                .collect();
            assert_eq!(ancestors, vec![&team_uid], "the team entity is the team");
        }
        engine
            .check_request(me, action, &resource, &context)
            .expect("the request fits the schema");
        let evaluation = engine
            .evaluate(&policies, &entities, me, action, &resource, &context)
            .expect("a request evaluates");
        assert!(
            evaluation.diagnostics.is_empty(),
            "no policy fails to evaluate: {:?}",
            evaluation.diagnostics
        );
        if me.status != IdentityStatus::Active {
            assert_eq!(evaluation.decision, Decision::Deny);
            assert!(evaluation
                .reasons
                .iter()
                .any(|r| r == "steward-active-only"));
        }
        if context.data_sensitivity > ceiling(me) {
            assert_eq!(evaluation.decision, Decision::Deny);
            assert!(evaluation
                .reasons
                .iter()
                .any(|r| r == "steward-sensitivity-ceiling"));
        }
        if evaluation.decision == Decision::Deny {
            return Ok(Decided {
                action,
                chain,
                context,
                evaluation,
            });
        }
        decided = Some(evaluation);
    }
    Ok(Decided {
        action,
        chain,
        context,
        evaluation: decided.ok_or(DomainError::Internal)?,
    })
}

fuzz_target!(|data: &[u8]| {
    let mut parts = data.splitn(3, |b| *b == 0);
    let request = parts.next().unwrap_or_default();
    let limits = parts.next().unwrap_or_default();
    let lines = inventory(&String::from_utf8_lossy(parts.next().unwrap_or_default()));
    let limits = serde_json::from_slice::<AgentLimits>(limits)
        .ok()
        .and_then(|l| l.validated().ok())
        .unwrap_or_default();
    // A request that does not parse is refused (an error), as by the API.
    let Ok(request) = serde_json::from_slice::<AuthorizeRequest>(request) else {
        return;
    };
    let now = DateTime::from_timestamp(1_767_225_600, 0).unwrap_or_default();
    let Ok(decided) = decide(&request, &limits, &lines, now) else {
        return;
    };
    let Decided {
        action,
        chain,
        context,
        evaluation,
    } = decided;
    if evaluation.decision != Decision::Allow {
        return;
    }
    assert!(!evaluation.reasons.is_empty(), "an allow names its permit");
    let facts: HashMap<Uuid, &PrincipalFacts> =
        lines.iter().map(|l| (l.facts.id, &l.facts)).collect();
    for id in &chain {
        let me = facts[id];
        assert_eq!(
            me.status,
            IdentityStatus::Active,
            "only the active are allowed"
        );
        assert!(
            context.data_sensitivity <= ceiling(me),
            "never above the ceiling"
        );
    }
    if !limits.environments.is_empty() {
        assert!(limits.environments.contains(&context.environment));
    }
    if let Some(minutes) = limits.max_session_minutes {
        assert!(context.session_age_seconds <= i64::from(minutes) * 60);
    }
    if let Some(calls) = limits.max_calls {
        assert!(context.session_calls <= i64::from(calls));
    }
    if let Some(depth) = limits.max_delegation_depth {
        assert!(context.delegation_depth <= i64::from(depth));
    }
    assert_eq!(context.delegation_depth, chain.len() as i64);
    match action {
        AuthzAction::CallTool => {
            assert!(limits
                .tools
                .contains(&request.resource.id.trim().to_owned()))
        }
        AuthzAction::ReadData | AuthzAction::WriteData => {
            panic!("no entitlement, no data: {evaluation:?}")
        }
        AuthzAction::Delegate | AuthzAction::SpawnSubagent => {
            let to: Uuid = request.resource.id.trim().parse().expect("an identity id");
            assert_eq!(
                delegation(&lines, request.principal, to),
                Some(action == AuthzAction::SpawnSubagent),
                "a registered delegation of that kind"
            );
        }
    }
});
