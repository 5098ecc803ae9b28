//! The engine: validates policy sets against the schema and evaluates one request
//! against an agent's policy set.

use cedar_policy::{
    Authorizer, Context, Entities, Entity, Policy, PolicyId, PolicySet, Request,
    RestrictedExpression, Schema, ValidationMode, Validator,
};
use std::collections::{HashMap, HashSet};

use crate::authz::{sensitivity_level, AuthzAction, Decision, BUILT_IN_POLICIES, SCHEMA};

use super::entities::{entity_uid, record, string};
use super::{render, CedarError, EvalContext, Evaluation, PrincipalFacts, Resource};

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
