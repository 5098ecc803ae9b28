//! Runtime authorization of agents: per-agent limits and admin Cedar policies (checked,
//! audited), the decision API, the test bench and the decision log.
//!
//! Each identity's decision state (its facts, its compiled policy set, its entities,
//! its just-in-time entitlements and registered delegations) is built from the store on
//! first use and cached, stamped with the [change feed](crate::adapters::feed)'s mark: a change
//! made through any replica — suspending an agent — holds from the next request on.
//! Grants change too often to cache: a request that needs one reads them live.
//!
//! Session limits hold across replicas through call-number leases: a replica takes the
//! next few call numbers of a session from the database at once (one at a time near
//! the session's limit) and hands them out locally, so numbers are never reused and a
//! limit of N admits at most N calls.

mod decide;
mod decision_log;
mod port;
mod sessions;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use cedar_policy::{Entities, PolicySet};
use steward_domain::authz::cedar::{CedarError, Engine, Evaluation, PrincipalFacts};
use steward_domain::authz::{
    compile_delegation, compile_entitlement, compile_limits, data_actions, parse_resource_id,
    AgentLimits, AuthorizeRequest, AuthzAction, CompiledPolicy, Drift,
};
use steward_domain::federation::EnforcementMode;
use steward_domain::identity::{GrantType, Privilege, Sensitivity};
use steward_domain::sensitivity::{self, SensitivityRegister};
use steward_domain::DomainError;
use uuid::Uuid;

use self::decision_log::DecisionLog;
use self::sessions::SessionSlot;
use super::federation::FederationService;
use super::grants::GrantService;
use super::lock;
use crate::adapters::feed::{ChangeFeed, Mark};
use crate::store::Store;

/// One identity's decision state.
pub struct AgentState {
    pub facts: PrincipalFacts,
    pub policies: PolicySet,
    compiled: Vec<CompiledPolicy>,
    pub entities: Entities,
    /// Just-in-time entitlements: dataset → the data actions a grant would allow.
    just_in_time: Vec<(String, Privilege)>,
    /// Registered delegations from this identity: to → sub-agent (else acts-as).
    delegations: HashMap<Uuid, bool>,
    /// Its limits: tool allowlist (empty: none set), most calls per session, longest
    /// session (with either, every request must name its session).
    limits: AgentLimits,
    /// Whether its policy set is enforced or only monitored.
    mode: EnforcementMode,
    /// Trust configurations with a claim rule for it (name, mode): an enforcing one
    /// refuses its static tokens.
    trust: Vec<(String, EnforcementMode)>,
}

impl AgentState {
    /// Whether `action` on `resource_id` needs a just-in-time grant of this identity.
    fn needs_grant(&self, action: AuthzAction, resource_id: &str) -> bool {
        matches!(action, AuthzAction::ReadData | AuthzAction::WriteData)
            && self.just_in_time.iter().any(|(dataset, privilege)| {
                dataset == resource_id && data_actions(*privilege).contains(&action)
            })
    }
}

#[derive(Default)]
struct Cache {
    agents: HashMap<Uuid, (Arc<AgentState>, Mark)>,
    /// Which agent a token acts for, and the environment it is bound to (both fixed
    /// when the token is made).
    token_agents: HashMap<Uuid, (Option<Uuid>, Option<String>)>,
    /// The registered data sensitivities, as of a feed mark.
    sensitivities: Option<(Arc<SensitivityRegister>, Mark)>,
}

pub struct AuthzService {
    store: Store,
    engine: Arc<Engine>,
    feed: Arc<ChangeFeed>,
    /// Verifies just-in-time credentials presented to `authorize`.
    grants: Arc<GrantService>,
    /// Verifies federated workload tokens presented to `authorize`.
    federation: Arc<FederationService>,
    cache: Mutex<Cache>,
    sessions: Mutex<HashMap<(Uuid, String), SessionSlot>>,
    log: DecisionLog,
    /// Decisions answered (and queued for the log) since the start.
    answered: std::sync::atomic::AtomicU64,
}

/// A decision along a chain, with the drift it showed.
pub struct Decided {
    pub evaluation: Evaluation,
    pub drift: Option<Drift>,
}

fn cedar_error(error: CedarError, field: &'static str) -> DomainError {
    match error {
        CedarError::Invalid(problems) => DomainError::invalid(field, problems.join("\n")),
        CedarError::Internal(detail) => {
            tracing::error!(%detail, "policy engine failure");
            DomainError::Internal
        }
    }
}

impl AuthzService {
    pub fn new(
        store: Store,
        feed: Arc<ChangeFeed>,
        grants: Arc<GrantService>,
        federation: Arc<FederationService>,
    ) -> Self {
        let engine =
            Engine::new().unwrap_or_else(|e| panic!("the built-in Cedar schema is broken: {e}"));
        AuthzService {
            store,
            engine: Arc::new(engine),
            feed,
            grants,
            federation,
            cache: Mutex::new(Cache::default()),
            sessions: Mutex::new(HashMap::new()),
            log: DecisionLog {
                sender: Mutex::new(None),
                task: Mutex::new(None),
            },
            answered: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// The Cedar engine (for measuring bare evaluation).
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The decision state of an identity, from the cache while current, else built
    /// from the store. (Catch up with the feed first.)
    pub async fn state(&self, id: Uuid) -> Result<Arc<AgentState>, DomainError> {
        if let Some((state, mark)) = lock(&self.cache).agents.get(&id) {
            if self.feed.is_current(id, *mark) {
                return Ok(state.clone());
            }
        }
        let mark = self.feed.mark();
        let state = Arc::new(self.build_state(id).await?);
        lock(&self.cache).agents.insert(id, (state.clone(), mark));
        Ok(state)
    }

    async fn build_state(&self, id: Uuid) -> Result<AgentState, DomainError> {
        let (identity, extra) = self
            .store
            .find_identity(id)
            .await?
            .ok_or_else(|| DomainError::not_found(format!("identity {id}")))?;
        let facts = PrincipalFacts {
            id,
            kind: identity.kind,
            name: identity.name.clone(),
            environment: identity.environment.clone(),
            status: identity.status,
            team: identity.team.clone(),
            sensitivity_ceiling: extra
                .sensitivity_ceiling
                .as_deref()
                .and_then(|s| s.parse::<Sensitivity>().ok()),
        };
        let (limits, mode) = self.store.agent_limits_and_mode(id).await?;
        let trust = self.store.trust_coverage(id).await?;
        let mut compiled = compile_limits(id, identity.kind, &limits);
        let mut just_in_time = Vec::new();
        for entitlement in self.store.entitlements_of(id).await? {
            if entitlement.removed_at.is_some()
                || parse_resource_id("resource", &entitlement.resource).is_err()
            {
                continue;
            }
            let jit = entitlement.grant_type == GrantType::JustInTime;
            if jit {
                just_in_time.push((entitlement.resource.clone(), entitlement.privilege));
            }
            compiled.push(compile_entitlement(
                id,
                identity.kind,
                entitlement.id,
                &entitlement.resource,
                entitlement.privilege,
                jit,
            ));
        }
        let mut delegations = HashMap::new();
        for (to, kind, sub_agent) in self.store.delegations_from(id).await? {
            delegations.insert(to, sub_agent);
            compiled.push(compile_delegation(
                (id, identity.kind),
                (to, kind),
                sub_agent,
            ));
        }
        let custom = self.store.authz_policies_for(id).await?;
        let policies = self
            .engine
            .policy_set(
                compiled
                    .iter()
                    .map(|p| (p.id.clone(), p.text.clone()))
                    .chain(custom.iter().map(|p| (p.cedar_id(), p.draft.body.clone()))),
            )
            .map_err(|e| cedar_error(e, "policy"))?;
        let entities = self
            .engine
            .entities(&facts)
            .map_err(|e| cedar_error(e, "principal"))?;
        Ok(AgentState {
            facts,
            policies,
            compiled,
            entities,
            just_in_time,
            delegations,
            limits,
            mode,
            trust,
        })
    }

    /// The agent a token acts for, and the environment it is bound to.
    async fn token_agent(
        &self,
        token_id: Uuid,
    ) -> Result<(Option<Uuid>, Option<String>), DomainError> {
        if let Some(agent) = lock(&self.cache).token_agents.get(&token_id) {
            return Ok(agent.clone());
        }
        let agent = self.store.token_agent(token_id).await?;
        lock(&self.cache)
            .token_agents
            .insert(token_id, agent.clone());
        Ok(agent)
    }

    /// The registered data sensitivities, current with the change feed.
    async fn sensitivity_register(&self) -> Result<Arc<SensitivityRegister>, DomainError> {
        if let Some((register, mark)) = lock(&self.cache).sensitivities.as_ref() {
            if self.feed.is_current(Uuid::nil(), *mark) {
                return Ok(register.clone());
            }
        }
        let mark = self.feed.mark();
        let register = Arc::new(SensitivityRegister::new(
            &self.store.list_sensitivities().await?,
        ));
        lock(&self.cache).sensitivities = Some((register.clone(), mark));
        Ok(register)
    }

    /// The request with what Steward knows put in place of what the caller said: the
    /// environment its credential is bound to and the resource's registered data
    /// sensitivity. Returns the denial (reason, why) a request earns by naming another
    /// environment than its credential's, or no session where the agent has session
    /// limits.
    async fn with_known_facts(
        &self,
        request: &mut AuthorizeRequest,
        bound_environment: Option<&str>,
        state: &AgentState,
    ) -> Result<Option<(&'static str, String)>, DomainError> {
        let mut denial = None;
        match sensitivity::bound_environment(bound_environment, &request.context.environment) {
            Ok(environment) => request.context.environment = environment,
            Err(why) => {
                // Evaluated (for drift) where the credential may act; denied regardless.
                request.context.environment = bound_environment.unwrap_or_default().to_owned();
                denial = Some(("steward-credential-environment", why));
            }
        }
        if let Some(why) =
            sensitivity::session_required(&state.limits, request.context.session_id.as_deref())
        {
            denial = denial.or(Some(("steward-session-required", why)));
        }
        self.apply_registered_sensitivity(request).await?;
        Ok(denial)
    }

    /// Replaces the request's data sensitivity with the one the register gives its
    /// resource (the request may raise it, never lower it).
    async fn apply_registered_sensitivity(
        &self,
        request: &mut AuthorizeRequest,
    ) -> Result<(), DomainError> {
        let register = self.sensitivity_register().await?;
        request.context.data_sensitivity = register.effective(
            &request.resource.resource_type,
            &request.resource.id,
            &request.context.environment,
            request.context.data_sensitivity,
        );
        Ok(())
    }

    /// The identity a policy text names with `principal == …`, if any (it is then
    /// evaluated only for that identity).
    fn named_principal(&self, name: &str, body: &str) -> Result<Option<Uuid>, DomainError> {
        let policy = self
            .engine
            .check(&format!("custom-{name}"), body)
            .map_err(|e| cedar_error(e, "body"))?;
        Ok(match policy.principal_constraint() {
            cedar_policy::PrincipalConstraint::Eq(uid) => uid.id().unescaped().parse().ok(),
            _ => None,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn the_example_a_new_policy_starts_from_is_valid() {
        let engine = Engine::new().unwrap();
        engine
            .check("custom-example", steward_app::authz::POLICY_EXAMPLE)
            .unwrap();
    }
}
