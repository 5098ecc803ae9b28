//! The Cedar policy engine behind runtime authorization: the schema, validation of
//! policies with readable errors, and evaluation of one request against an agent's
//! policy set with the entities built from the inventory.
//!
//! Cedar evaluates every policy of a set on each request (about a microsecond each),
//! so each agent is decided with its own set — the built-in policies, the policies its
//! settings, entitlements and delegations compile to, and the admin policies that apply
//! to it — never one set holding every agent's policies.
//!
//! Behind the feature `cedar` (the server and the fuzz targets; the browser build does
//! without). Entities are built from their parts ([`uid_of`]), never by parsing text
//! made from inventory values: a name with a quote or a control character names the
//! same entity as any other.

use std::collections::{HashMap, HashSet};
use std::str::FromStr;

use cedar_policy::{
    Authorizer, Context, Entities, Entity, EntityId, EntityTypeName, EntityUid, Policy, PolicyId,
    PolicySet, Request, RestrictedExpression, Schema, ValidationMode, Validator,
};
use chrono::{DateTime, Utc};
use miette::Diagnostic;
use uuid::Uuid;

use crate::identity::Sensitivity;
use crate::inventory::{IdentityKind, IdentityStatus};
use crate::policy::{
    entity_ref, entity_type, sensitivity_level, AuthorizeRequest, AuthzAction, Decision, EntityRef,
    BUILT_IN_POLICIES, SCHEMA,
};

/// One Cedar error or warning as a line a person can act on: the message, its causes,
/// where in the policy text, and Cedar's hint.
pub fn render(diagnostic: &dyn Diagnostic) -> String {
    let mut out = diagnostic.to_string();
    let mut cause = diagnostic.source();
    while let Some(c) = cause {
        out.push_str(&format!(": {c}"));
        cause = c.source();
    }
    if let (Some(source), Some(mut labels)) = (diagnostic.source_code(), diagnostic.labels()) {
        if let Some(span) = labels
            .next()
            .and_then(|l| source.read_span(l.inner(), 0, 0).ok())
        {
            out.push_str(&format!(
                " (line {}, column {})",
                span.line() + 1,
                span.column() + 1
            ));
        }
    }
    if let Some(help) = diagnostic.help() {
        out.push_str(&format!(" — {help}"));
    }
    out
}

/// What the inventory says about the identity a decision is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrincipalFacts {
    pub id: Uuid,
    pub kind: IdentityKind,
    pub name: String,
    pub environment: String,
    pub status: IdentityStatus,
    pub team: Option<String>,
    pub sensitivity_ceiling: Option<Sensitivity>,
}

impl PrincipalFacts {
    pub fn uid_text(&self) -> String {
        entity_ref(entity_type(self.kind), &self.id.to_string())
    }

    /// Its Cedar entity.
    pub fn uid(&self) -> Result<EntityUid, CedarError> {
        entity_uid(entity_type(self.kind), &self.id.to_string())
    }
}

/// The context of one evaluation, as Steward computed it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EvalContext {
    pub task: String,
    pub environment: String,
    pub data_sensitivity: i64,
    pub session_id: String,
    pub session_age_seconds: i64,
    pub session_calls: i64,
    pub delegation_depth: i64,
    pub delegation_chain: Vec<String>,
    pub grant_required: bool,
    pub grant_active: bool,
    pub now: i64,
}

impl EvalContext {
    /// The context Steward computes for `request` (grants aside: they are per identity
    /// on the chain), given its session — (age in seconds, this call's number) — and
    /// the time. The caller's delegation chain is taken as given (see
    /// [`AuthorizeRequest::chain`] for the check).
    pub fn of_request(
        request: &AuthorizeRequest,
        session: (i64, i64),
        now: DateTime<Utc>,
    ) -> EvalContext {
        let chain: Vec<String> = request
            .context
            .delegation_chain
            .iter()
            .chain(std::iter::once(&request.principal))
            .map(Uuid::to_string)
            .collect();
        EvalContext {
            task: request.context.task.clone(),
            environment: request.context.environment.clone(),
            data_sensitivity: request
                .context
                .data_sensitivity
                .map_or(0, sensitivity_level),
            session_id: request.context.session_id.clone().unwrap_or_default(),
            session_age_seconds: session.0,
            session_calls: session.1,
            delegation_depth: i64::try_from(chain.len()).unwrap_or(i64::MAX),
            delegation_chain: chain,
            now: now.timestamp(),
            ..EvalContext::default()
        }
    }
}

/// One decision and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evaluation {
    pub decision: Decision,
    /// The permits that allowed, or the forbids that denied; empty: nothing permitted.
    pub reasons: Vec<String>,
    /// Policies that failed to evaluate (skipped), and the like.
    pub diagnostics: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum CedarError {
    /// A policy text that does not parse or does not fit the schema; one line per problem.
    #[error("{}", .0.join("; "))]
    Invalid(Vec<String>),
    #[error("{0}")]
    Internal(String),
}

pub struct Engine {
    schema: Schema,
    validator: Validator,
    built_in: Vec<Policy>,
    authorizer: Authorizer,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("cedar::Engine")
    }
}

/// The entity types of the schema, parsed once.
fn entity_types() -> &'static HashMap<&'static str, EntityTypeName> {
    static TYPES: std::sync::OnceLock<HashMap<&'static str, EntityTypeName>> =
        std::sync::OnceLock::new();
    TYPES.get_or_init(|| {
        [
            "Team",
            "Tool",
            "Dataset",
            "Action",
            "ServiceAccount",
            "Workload",
            "CiRunner",
            "Integration",
            "ApiClient",
            "Agent",
            "Orchestrator",
            "LlmApp",
            "AssistantSession",
        ]
        .into_iter()
        .filter_map(|name| Some((name, EntityTypeName::from_str(name).ok()?)))
        .collect()
    })
}

/// The schema's entity type `name` (or any other valid Cedar type name).
pub fn type_name(name: &str) -> Result<EntityTypeName, CedarError> {
    match entity_types().get(name) {
        Some(known) => Ok(known.clone()),
        None => EntityTypeName::from_str(name).map_err(|e| CedarError::Internal(render(&e))),
    }
}

/// The entity of type `type_name` with id `id`, whatever characters the id holds
/// (quotes, backslashes, newlines and all): built from the parts, nothing is parsed.
pub fn uid_of(type_name: &EntityTypeName, id: &str) -> EntityUid {
    EntityUid::from_type_name_and_id(type_name.clone(), EntityId::new(id))
}

/// [`uid_of`] for a type given by name.
fn entity_uid(type_name_text: &str, id: &str) -> Result<EntityUid, CedarError> {
    Ok(uid_of(&type_name(type_name_text)?, id))
}

/// A request's resource: an [`EntityRef`] (built from its parts), or Cedar text such as
/// `Tool::"github.create_pr"` (parsed).
pub trait Resource {
    fn uid(&self) -> Result<EntityUid, CedarError>;
}

impl Resource for EntityRef {
    fn uid(&self) -> Result<EntityUid, CedarError> {
        entity_uid(self.entity_type, &self.id)
    }
}

impl Resource for str {
    fn uid(&self) -> Result<EntityUid, CedarError> {
        uid(self)
    }
}

impl Resource for String {
    fn uid(&self) -> Result<EntityUid, CedarError> {
        uid(self)
    }
}

/// An entity reference in Cedar text (`Type::"id"`). Simple ones are split by hand:
/// parsing Cedar text for every request costs more than deciding it.
fn uid(text: &str) -> Result<EntityUid, CedarError> {
    let simple = text.split_once("::\"").and_then(|(type_name, rest)| {
        let id = rest.strip_suffix('"')?;
        if id.contains(['"', '\\']) {
            return None;
        }
        let type_name = entity_types().get(type_name)?;
        Some(EntityUid::from_type_name_and_id(
            type_name.clone(),
            EntityId::new(id),
        ))
    });
    match simple {
        Some(uid) => Ok(uid),
        None => EntityUid::from_str(text).map_err(|e| CedarError::Internal(render(&e))),
    }
}

fn string(value: &str) -> RestrictedExpression {
    RestrictedExpression::new_string(value.to_owned())
}

fn record(
    fields: impl IntoIterator<Item = (&'static str, RestrictedExpression)>,
) -> Result<RestrictedExpression, CedarError> {
    RestrictedExpression::new_record(fields.into_iter().map(|(k, v)| (k.to_owned(), v)))
        .map_err(|e| CedarError::Internal(render(&e)))
}

impl Engine {
    /// The schema and the built-in policies, parsed and checked once.
    pub fn new() -> Result<Engine, CedarError> {
        let (schema, _warnings) =
            Schema::from_cedarschema_str(SCHEMA).map_err(|e| CedarError::Internal(render(&e)))?;
        let validator = Validator::new(schema.clone());
        let mut built_in = Vec::new();
        for (id, text) in BUILT_IN_POLICIES {
            built_in.push(
                Policy::parse(Some(PolicyId::new(*id)), *text)
                    .map_err(|e| CedarError::Internal(render(&e)))?,
            );
        }
        let engine = Engine {
            schema,
            validator,
            built_in,
            authorizer: Authorizer::new(),
        };
        engine.policy_set(std::iter::empty::<(String, String)>())?;
        Ok(engine)
    }

    /// Parses one policy and validates it against the schema (strict mode). Errors name
    /// the line and column in `text`; warnings (a policy that can never apply) are
    /// errors too, since such a policy is a mistake.
    pub fn check(&self, id: &str, text: &str) -> Result<Policy, CedarError> {
        let policy = Policy::parse(Some(PolicyId::new(id)), text)
            .map_err(|e| CedarError::Invalid(vec![render(&e)]))?;
        let mut set = PolicySet::new();
        set.add(policy.clone())
            .map_err(|e| CedarError::Invalid(vec![render(&e)]))?;
        let result = self.validator.validate(&set, ValidationMode::Strict);
        let problems: Vec<String> = result
            .validation_errors()
            .map(|e| render(e))
            .chain(result.validation_warnings().map(|w| render(w)))
            .collect();
        if problems.is_empty() {
            Ok(policy)
        } else {
            Err(CedarError::Invalid(problems))
        }
    }

    /// The built-in policies plus `policies` (id, text), each checked.
    pub fn policy_set<I, S>(&self, policies: I) -> Result<PolicySet, CedarError>
    where
        I: IntoIterator<Item = (S, S)>,
        S: AsRef<str>,
    {
        let mut set = PolicySet::new();
        for policy in &self.built_in {
            set.add(policy.clone())
                .map_err(|e| CedarError::Internal(render(&e)))?;
        }
        for (id, text) in policies {
            let policy = self.check(id.as_ref(), text.as_ref())?;
            set.add(policy)
                .map_err(|e| CedarError::Invalid(vec![render(&e)]))?;
        }
        Ok(set)
    }

    /// The entities a decision about `principal` needs: the principal (typed by its
    /// kind, with its attributes) in its team.
    pub fn entities(&self, principal: &PrincipalFacts) -> Result<Entities, CedarError> {
        let mut parents = HashSet::new();
        let mut all = Vec::new();
        if let Some(team) = &principal.team {
            let team_uid = entity_uid("Team", team)?;
            parents.insert(team_uid.clone());
            all.push(Entity::new_no_attrs(team_uid, HashSet::new()));
        }
        let attrs: HashMap<String, RestrictedExpression> = HashMap::from([
            ("name".to_owned(), string(&principal.name)),
            ("environment".to_owned(), string(&principal.environment)),
            ("status".to_owned(), string(principal.status.as_str())),
            (
                "sensitivity_ceiling".to_owned(),
                RestrictedExpression::new_long(
                    principal.sensitivity_ceiling.map_or(3, sensitivity_level),
                ),
            ),
        ]);
        all.push(
            Entity::new(principal.uid()?, attrs, parents)
                .map_err(|e| CedarError::Internal(render(&e)))?,
        );
        Entities::from_entities(all, None).map_err(|e| CedarError::Internal(render(&e)))
    }

    /// The Cedar request for `principal` doing `action` on `resource` in `context`,
    /// checked against the schema when `schema` is given.
    fn request<R: Resource + ?Sized>(
        &self,
        principal: &PrincipalFacts,
        action: AuthzAction,
        resource: &R,
        context: &EvalContext,
        schema: Option<&Schema>,
    ) -> Result<Request, CedarError> {
        let context = Context::from_pairs([
            ("task".to_owned(), string(&context.task)),
            ("environment".to_owned(), string(&context.environment)),
            (
                "data_sensitivity".to_owned(),
                RestrictedExpression::new_long(context.data_sensitivity),
            ),
            (
                "session".to_owned(),
                record([
                    ("id", string(&context.session_id)),
                    (
                        "age_seconds",
                        RestrictedExpression::new_long(context.session_age_seconds),
                    ),
                    (
                        "calls",
                        RestrictedExpression::new_long(context.session_calls),
                    ),
                ])?,
            ),
            (
                "delegation".to_owned(),
                record([
                    (
                        "depth",
                        RestrictedExpression::new_long(context.delegation_depth),
                    ),
                    (
                        "chain",
                        RestrictedExpression::new_set(
                            context.delegation_chain.iter().map(|c| string(c)),
                        ),
                    ),
                ])?,
            ),
            (
                "grant".to_owned(),
                record([
                    (
                        "required",
                        RestrictedExpression::new_bool(context.grant_required),
                    ),
                    (
                        "active",
                        RestrictedExpression::new_bool(context.grant_active),
                    ),
                ])?,
            ),
            (
                "now".to_owned(),
                RestrictedExpression::new_long(context.now),
            ),
        ])
        .map_err(|e| CedarError::Internal(render(&e)))?;
        Request::new(
            principal.uid()?,
            entity_uid("Action", action.as_str())?,
            resource.uid()?,
            context,
            schema,
        )
        .map_err(|e| CedarError::Invalid(vec![render(&e)]))
    }

    /// Decides `principal` doing `action` on `resource` (an [`EntityRef`], or Cedar text
    /// such as `Tool::"github.create_pr"`) in `context`.
    pub fn evaluate<R: Resource + ?Sized>(
        &self,
        policies: &PolicySet,
        entities: &Entities,
        principal: &PrincipalFacts,
        action: AuthzAction,
        resource: &R,
        context: &EvalContext,
    ) -> Result<Evaluation, CedarError> {
        // Built from the schema's own vocabulary, the request is not checked against it
        // here (that costs as much as the decision); `check_request` does, in tests.
        let request = self.request(principal, action, resource, context, None)?;
        let response = self.authorizer.is_authorized(&request, policies, entities);
        let mut reasons: Vec<String> = response
            .diagnostics()
            .reason()
            .map(|id| id.to_string())
            .collect();
        reasons.sort();
        Ok(Evaluation {
            decision: match response.decision() {
                cedar_policy::Decision::Allow => Decision::Allow,
                cedar_policy::Decision::Deny => Decision::Deny,
            },
            reasons,
            diagnostics: response.diagnostics().errors().map(|e| render(e)).collect(),
        })
    }

    /// Checks the request `evaluate` would build against the schema.
    pub fn check_request<R: Resource + ?Sized>(
        &self,
        principal: &PrincipalFacts,
        action: AuthzAction,
        resource: &R,
        context: &EvalContext,
    ) -> Result<(), CedarError> {
        self.request(principal, action, resource, context, Some(&self.schema))
            .map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::identity::Privilege;
    use crate::policy::{compile_entitlement, compile_limits, AgentLimits};

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
        use crate::policy::{RequestContext, ResourceRef};
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
}
