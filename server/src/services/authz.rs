//! Runtime authorization of agents: per-agent limits and admin Cedar policies (checked,
//! audited), the decision API, the test bench and the decision log.
//!
//! Each identity's decision state (its facts, its compiled policy set, its entities,
//! its just-in-time entitlements and registered delegations) is built from the store on
//! first use and cached, stamped with the [change feed](super::feed)'s mark: a change
//! made through any replica — suspending an agent — holds from the next request on.
//! Grants change too often to cache: a request that needs one reads them live.
//!
//! Session limits hold across replicas through call-number leases: a replica takes the
//! next few call numbers of a session from the database at once (one at a time near
//! the session's limit) and hands them out locally, so numbers are never reused and a
//! limit of N admits at most N calls.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use cedar_policy::{Entities, PolicySet};
use chrono::{DateTime, Utc};
use serde_json::json;
use steward_domain::audit::NewAuditEvent;
use steward_domain::auth::{authorize, Action, Credential, Principal};
use steward_domain::cedar::{CedarError, Engine, EvalContext, Evaluation, PrincipalFacts};
use steward_domain::federation::{EnforcementMode, ModeChange};
use steward_domain::identity::{GrantType, Privilege, Sensitivity};
use steward_domain::policy::{
    compile_delegation, compile_entitlement, compile_limits, data_actions, parse_resource_id,
    AgentCaller, AgentLimits, AuthorizeRequest, AuthorizeResponse, AuthzAction, AuthzPolicy,
    AuthzPolicyDraft, CompiledPolicy, Decision, DecisionRecord, Drift, DriftKind, EntityRef,
    MonitorReport, BUILT_IN_POLICIES,
};
use steward_domain::ports::Authz;
use steward_domain::sensitivity::{
    self, RegisteredSensitivity, SensitivityDraft, SensitivityImport, SensitivityRegister,
    SensitivityScope,
};
use steward_domain::DomainError;
use tokio::sync::mpsc;
use uuid::Uuid;

use super::federation::FederationService;
use super::feed::{ChangeFeed, Mark};
use super::grants::GrantService;
use super::inventory::write_error;
use super::lock;
use crate::store::write::Statement;
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

/// Call numbers of one session this replica has taken and not yet handed out.
struct Lease {
    started_at: DateTime<Utc>,
    next: i64,
    last: i64,
    size: i64,
    used: std::time::Instant,
}

/// The most call numbers taken at once.
const MAX_LEASE: i64 = 64;
/// Sessions idle this long are forgotten (their unused numbers are lost).
const SESSION_IDLE: std::time::Duration = std::time::Duration::from_secs(10 * 60);

/// How many numbers to take next: doubling while the session is busy, but at most a
/// quarter of what its limit leaves, so replicas strand few numbers near the limit.
fn lease_size(previous: Option<&Lease>, max_calls: Option<u32>) -> i64 {
    let grown = previous.map_or(1, |lease| (lease.size * 2).min(MAX_LEASE));
    match max_calls {
        Some(max) => {
            let left = i64::from(max) - previous.map_or(0, |lease| lease.last);
            grown.min((left / 4).max(1))
        }
        None => grown,
    }
}

type SessionSlot = Arc<tokio::sync::Mutex<Option<Lease>>>;

/// How long the decision log writer waits for more decisions before writing, and the
/// most it writes in one transaction.
const LOG_LINGER: std::time::Duration = std::time::Duration::from_millis(20);
const LOG_BATCH: usize = 5000;

/// Decisions waiting to be written, and the task writing them in batches.
struct DecisionLog {
    sender: Mutex<Option<mpsc::UnboundedSender<DecisionRecord>>>,
    task: Mutex<Option<tokio::task::JoinHandle<()>>>,
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

    /// Takes the next call number of a session: (when it started, this call's number).
    async fn session_call(
        &self,
        identity: Uuid,
        session: &str,
        max_calls: Option<u32>,
        now: DateTime<Utc>,
    ) -> Result<(DateTime<Utc>, i64), DomainError> {
        let slot = lock(&self.sessions)
            .entry((identity, session.to_owned()))
            .or_default()
            .clone();
        let mut lease = slot.lock().await;
        if let Some(held) = lease.as_mut() {
            held.used = std::time::Instant::now();
            if held.next <= held.last {
                held.next += 1;
                return Ok((held.started_at, held.next - 1));
            }
            if max_calls.is_some_and(|max| held.last >= i64::from(max)) {
                // Past the limit: every further call is denied, no number is needed.
                return Ok((held.started_at, held.last + 1));
            }
        }
        let size = lease_size(lease.as_ref(), max_calls);
        let (started_at, last) = self
            .store
            .lease_session_calls(identity, session, now, size)
            .await?;
        let first = last - size + 1;
        *lease = Some(Lease {
            started_at,
            next: first + 1,
            last,
            size,
            used: std::time::Instant::now(),
        });
        Ok((started_at, first))
    }

    /// Forgets sessions idle for [`SESSION_IDLE`].
    fn forget_idle_sessions(&self) -> usize {
        let mut sessions = lock(&self.sessions);
        let before = sessions.len();
        sessions.retain(|_, slot| match slot.try_lock() {
            Ok(lease) => lease
                .as_ref()
                .is_some_and(|lease| lease.used.elapsed() < SESSION_IDLE),
            Err(_) => true,
        });
        before - sessions.len()
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

    /// The Cedar entity of a request's resource, checked against its action.
    async fn resource(
        &self,
        action: AuthzAction,
        request: &AuthorizeRequest,
    ) -> Result<EntityRef, DomainError> {
        let target = request.target(action)?;
        let kind = match target.identity() {
            Some(id) => Some(self.state(id).await?.facts.kind),
            None => None,
        };
        target.entity(kind)
    }

    /// Decides a request along its whole delegation chain: each link must be a
    /// registered delegation, and every identity on the chain must be allowed. Notes
    /// drift from the approvals on the way.
    pub async fn decide(
        &self,
        request: &AuthorizeRequest,
        session: (i64, i64),
        now: DateTime<Utc>,
    ) -> Result<Decided, DomainError> {
        let action = request.parsed_action()?;
        let resource = self.resource(action, request).await?;
        let chain = request.chain()?;
        let mut states = Vec::with_capacity(chain.len());
        for id in &chain {
            states.push(self.state(*id).await?);
        }
        for pair in states.windows(2) {
            if !pair[0].delegations.contains_key(&pair[1].facts.id) {
                return Ok(Decided {
                    evaluation: Evaluation {
                        decision: Decision::Deny,
                        reasons: vec!["steward-registered-delegation".into()],
                        diagnostics: vec![format!(
                            "{} has no registered delegation to {}",
                            pair[0].facts.name, pair[1].facts.name
                        )],
                    },
                    drift: Some(Drift {
                        kind: DriftKind::UnregisteredDelegation,
                        identity_id: pair[0].facts.id,
                    }),
                });
            }
        }
        let principal = states.last().ok_or(DomainError::Internal)?.clone();
        let mut drift = match action {
            AuthzAction::Delegate | AuthzAction::SpawnSubagent => request
                .resource
                .id
                .parse::<Uuid>()
                .ok()
                .filter(|target| !principal.delegations.contains_key(target))
                .map(|_| Drift {
                    kind: DriftKind::UnregisteredDelegation,
                    identity_id: principal.facts.id,
                }),
            AuthzAction::CallTool => states
                .iter()
                .find(|state| {
                    !state.limits.tools.is_empty()
                        && !state.limits.tools.contains(&request.resource.id)
                })
                .map(|state| Drift {
                    kind: DriftKind::ToolOutsideAllowlist,
                    identity_id: state.facts.id,
                }),
            _ => None,
        };
        let base = EvalContext::of_request(request, session, now);
        // The principal last: its own decision is the one reported when all allow.
        let mut decided = None;
        for state in &states {
            let mut evaluation = self
                .evaluate(state, action, &request.resource.id, &resource, &base, now)
                .await?;
            if evaluation.decision == Decision::Deny {
                if evaluation.reasons.is_empty() {
                    evaluation.diagnostics.insert(
                        0,
                        format!(
                            "no policy permits {} to {action} {resource}",
                            state.facts.name
                        ),
                    );
                }
                if state.facts.id != principal.facts.id {
                    evaluation.diagnostics.insert(
                        0,
                        format!("denied for {} on the delegation chain", state.facts.name),
                    );
                    // Acting through the principal beyond its own approval is drift
                    // when the principal itself would have been allowed (evaluated only
                    // when no other drift was noted already).
                    if drift.is_none()
                        && self
                            .evaluate(
                                &principal,
                                action,
                                &request.resource.id,
                                &resource,
                                &base,
                                now,
                            )
                            .await?
                            .decision
                            == Decision::Allow
                    {
                        drift = Some(Drift {
                            kind: DriftKind::BeyondApprovalThroughDelegation,
                            identity_id: state.facts.id,
                        });
                    }
                }
                return Ok(Decided { evaluation, drift });
            }
            decided = Some(evaluation);
        }
        Ok(Decided {
            evaluation: decided.ok_or(DomainError::Internal)?,
            drift,
        })
    }

    /// One identity's decision on a request.
    async fn evaluate(
        &self,
        state: &AgentState,
        action: AuthzAction,
        resource_id: &str,
        resource: &EntityRef,
        base: &EvalContext,
        now: DateTime<Utc>,
    ) -> Result<Evaluation, DomainError> {
        // Grants change too often to cache: read live, and only when one is needed.
        let required = state.needs_grant(action, resource_id);
        let active = required
            && self
                .store
                .active_grants_of(state.facts.id)
                .await?
                .iter()
                .any(|(dataset, _, until)| dataset == resource_id && *until > now);
        let context = EvalContext {
            grant_required: required,
            grant_active: active,
            ..base.clone()
        };
        self.engine
            .evaluate(
                &state.policies,
                &state.entities,
                &state.facts,
                action,
                resource,
                &context,
            )
            .map_err(|e| cedar_error(e, "request"))
    }

    /// Every 10 minutes for as long as the server runs: prunes the change feed and
    /// forgets idle sessions.
    pub fn spawn_maintenance(
        self: &Arc<Self>,
        interval: std::time::Duration,
    ) -> tokio::task::JoinHandle<()> {
        let this = self.clone();
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(interval);
            loop {
                ticks.tick().await;
                this.feed.prune().await;
                let forgotten = this.forget_idle_sessions();
                if forgotten > 0 {
                    tracing::debug!(forgotten, "idle agent sessions forgotten");
                }
            }
        })
    }

    /// Decisions answered since the start (each queued for the log).
    pub fn answered(&self) -> u64 {
        self.answered.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Queues a decision for the log (written in batches by a background task).
    fn log(&self, record: DecisionRecord) {
        self.answered
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut sender = lock(&self.log.sender);
        let live = match sender.as_ref() {
            Some(s) if !s.is_closed() => s.clone(),
            _ => {
                let (tx, rx) = mpsc::unbounded_channel();
                let task = tokio::spawn(write_decisions(self.store.clone(), rx));
                *lock(&self.log.task) = Some(task);
                *sender = Some(tx.clone());
                tx
            }
        };
        if live.send(record).is_err() {
            tracing::error!("the decision log is closed; a decision was not logged");
        }
    }

    /// Writes every queued decision and stops the log writer (graceful shutdown).
    pub async fn flush(&self) {
        let sender = lock(&self.log.sender).take();
        drop(sender);
        let task = lock(&self.log.task).take();
        if let Some(task) = task {
            if let Err(error) = task.await {
                tracing::error!(%error, "the decision log writer failed");
            }
        }
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

async fn write_decisions(store: Store, mut queue: mpsc::UnboundedReceiver<DecisionRecord>) {
    // When each identity's "last used" was last written: at most once a minute each,
    // so an agent deciding all day costs one small write a minute, off the request path.
    let mut touched: std::collections::HashMap<Uuid, chrono::DateTime<Utc>> =
        std::collections::HashMap::new();
    while let Some(first) = queue.recv().await {
        // Under load, waiting a moment gathers many decisions into one transaction
        // instead of many small ones competing with the requests for the database.
        if queue.is_empty() {
            tokio::time::sleep(LOG_LINGER).await;
        }
        let mut batch = vec![first];
        while batch.len() < LOG_BATCH {
            match queue.try_recv() {
                Ok(record) => batch.push(record),
                Err(_) => break,
            }
        }
        // A failed write is retried a few times; the decisions were already answered.
        let mut attempt = 0;
        while let Err(error) = store.insert_decisions(&batch).await {
            attempt += 1;
            tracing::error!(%error, attempt, "writing the decision log failed");
            if attempt == 3 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(200 * attempt)).await;
        }
        let used = used_since(&mut touched, &batch);
        if !used.is_empty() {
            if let Err(error) = store.touch_identities(&used).await {
                tracing::warn!(%error, "noting when identities were last used failed");
            }
        }
        if touched.len() > 100_000 {
            touched.clear();
        }
    }
}

/// The identities that acted in `batch` whose "last used" was not written in the last
/// minute, with when they last acted; `touched` remembers the writes.
fn used_since(
    touched: &mut std::collections::HashMap<Uuid, chrono::DateTime<Utc>>,
    batch: &[DecisionRecord],
) -> Vec<(Uuid, chrono::DateTime<Utc>)> {
    let mut latest: std::collections::HashMap<Uuid, chrono::DateTime<Utc>> =
        std::collections::HashMap::new();
    for decision in batch {
        let at = latest.entry(decision.identity_id).or_insert(decision.at);
        *at = (*at).max(decision.at);
    }
    let mut used: Vec<(Uuid, chrono::DateTime<Utc>)> = latest
        .into_iter()
        .filter(|(id, at)| {
            touched
                .get(id)
                .is_none_or(|written| *at - *written >= chrono::Duration::minutes(1))
        })
        .collect();
    used.sort();
    for (id, at) in &used {
        touched.insert(*id, *at);
    }
    used
}

#[async_trait]
impl Authz for AuthzService {
    async fn limits(
        &self,
        principal: Option<&Principal>,
        identity_id: Uuid,
    ) -> Result<AgentLimits, DomainError> {
        authorize(principal, Action::ReadInventory)?;
        self.store
            .find_identity(identity_id)
            .await?
            .ok_or_else(|| DomainError::not_found(format!("identity {identity_id}")))?;
        Ok(self
            .store
            .agent_limits(identity_id)
            .await?
            .unwrap_or_default())
    }

    async fn set_limits(
        &self,
        principal: Option<&Principal>,
        identity_id: Uuid,
        limits: &AgentLimits,
    ) -> Result<AgentLimits, DomainError> {
        authorize(principal, Action::ManageIdentities)?;
        let principal = principal.ok_or(DomainError::Unauthenticated)?;
        let limits = limits.validated()?;
        let (identity, _) = self
            .store
            .find_identity(identity_id)
            .await?
            .ok_or_else(|| DomainError::not_found(format!("identity {identity_id}")))?;
        let before = self.store.agent_limits(identity_id).await?;
        let now = Utc::now();
        let statement = Statement::new(
            "INSERT INTO agent_limits (identity_id, tools, environments, max_session_minutes, max_calls, \
             max_delegation_depth, updated_by, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (identity_id) DO UPDATE SET tools = excluded.tools, environments = excluded.environments, \
             max_session_minutes = excluded.max_session_minutes, max_calls = excluded.max_calls, \
             max_delegation_depth = excluded.max_delegation_depth, updated_by = excluded.updated_by, \
             updated_at = excluded.updated_at",
        )
        .bind(identity_id)
        .bind(serde_json::to_string(&limits.tools).map_err(|_| DomainError::Internal)?)
        .bind(serde_json::to_string(&limits.environments).map_err(|_| DomainError::Internal)?)
        .bind(limits.max_session_minutes.map(i64::from))
        .bind(limits.max_calls.map(i64::from))
        .bind(limits.max_delegation_depth.map(i64::from))
        .bind(principal.audit_actor())
        .bind(now);
        let event = NewAuditEvent::new(
            principal.audit_actor(),
            "authz.limits",
            format!("identity:{identity_id}"),
            json!({ "identity": identity.name, "before": before, "after": limits }),
        );
        self.store
            .write(&[statement], |_| vec![event])
            .await
            .map_err(|e| write_error(e, ""))?;
        Ok(limits)
    }

    async fn compiled(
        &self,
        principal: Option<&Principal>,
        identity_id: Uuid,
    ) -> Result<Vec<CompiledPolicy>, DomainError> {
        authorize(principal, Action::ReadInventory)?;
        self.feed.catch_up().await?;
        let state = self.state(identity_id).await?;
        let mut out: Vec<CompiledPolicy> = BUILT_IN_POLICIES
            .iter()
            .map(|(id, text)| CompiledPolicy {
                id: (*id).to_owned(),
                text: (*text).to_owned(),
            })
            .collect();
        out.extend(state.compiled.iter().cloned());
        for policy in self.store.authz_policies_for(identity_id).await? {
            out.push(CompiledPolicy {
                id: policy.cedar_id(),
                text: policy.draft.body,
            });
        }
        Ok(out)
    }

    async fn policies(
        &self,
        principal: Option<&Principal>,
    ) -> Result<Vec<AuthzPolicy>, DomainError> {
        authorize(principal, Action::ReadInventory)?;
        Ok(self.store.list_authz_policies().await?)
    }

    async fn save_policy(
        &self,
        principal: Option<&Principal>,
        id: Option<Uuid>,
        draft: &AuthzPolicyDraft,
    ) -> Result<AuthzPolicy, DomainError> {
        authorize(principal, Action::ManageIdentities)?;
        let principal = principal.ok_or(DomainError::Unauthenticated)?;
        let draft = draft.validated()?;
        let named = self.named_principal(&draft.name, &draft.body)?;
        let now = Utc::now();
        let before = match id {
            Some(id) => Some(
                self.store
                    .find_authz_policy(id)
                    .await?
                    .ok_or_else(|| DomainError::not_found(format!("policy {id}")))?,
            ),
            None => None,
        };
        let id = id.unwrap_or_else(Uuid::now_v7);
        let statement = match &before {
            None => Statement::new(
                "INSERT INTO authz_policies (id, name, description, body, enabled, principal_id, updated_by, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            ),
            Some(_) => Statement::new(
                "UPDATE authz_policies SET name = $2, description = $3, body = $4, enabled = $5, \
                 principal_id = $6, updated_by = $7, updated_at = $8 WHERE id = $1",
            )
            .must_touch(1, "the policy was deleted meanwhile"),
        }
        .bind(id)
        .bind(draft.name.clone())
        .bind(draft.description.clone())
        .bind(draft.body.clone())
        .bind(draft.enabled)
        .bind(named)
        .bind(principal.audit_actor())
        .bind(now);
        let event = NewAuditEvent::new(
            principal.audit_actor(),
            if before.is_some() {
                "authz.policy_update"
            } else {
                "authz.policy_create"
            },
            format!("authz-policy:{id}"),
            json!({ "before": before.as_ref().map(|b| &b.draft), "after": draft }),
        );
        self.store
            .write(&[statement], |_| vec![event])
            .await
            .map_err(|e| write_error(e, "a policy with this name already exists"))?;
        self.store
            .find_authz_policy(id)
            .await?
            .ok_or(DomainError::Internal)
    }

    async fn delete_policy(
        &self,
        principal: Option<&Principal>,
        id: Uuid,
    ) -> Result<(), DomainError> {
        authorize(principal, Action::ManageIdentities)?;
        let principal = principal.ok_or(DomainError::Unauthenticated)?;
        let before = self
            .store
            .find_authz_policy(id)
            .await?
            .ok_or_else(|| DomainError::not_found(format!("policy {id}")))?;
        let statement = Statement::new("DELETE FROM authz_policies WHERE id = $1")
            .bind(id)
            .must_touch(1, "the policy was deleted meanwhile");
        let event = NewAuditEvent::new(
            principal.audit_actor(),
            "authz.policy_delete",
            format!("authz-policy:{id}"),
            json!({ "before": before.draft }),
        );
        self.store
            .write(&[statement], |_| vec![event])
            .await
            .map_err(|e| write_error(e, ""))?;
        Ok(())
    }

    async fn test_bench(
        &self,
        principal: Option<&Principal>,
        request: &AuthorizeRequest,
    ) -> Result<AuthorizeResponse, DomainError> {
        authorize(principal, Action::ReadInventory)?;
        self.feed.catch_up().await?;
        // As a real request would be decided: with the registered data sensitivity.
        let mut request = request.clone();
        self.apply_registered_sensitivity(&mut request).await?;
        let Decided { evaluation, .. } = self.decide(&request, (0, 1), Utc::now()).await?;
        Ok(AuthorizeResponse {
            decision: evaluation.decision,
            reasons: evaluation.reasons,
            diagnostics: evaluation.diagnostics,
            would_deny: None,
        })
    }

    async fn authorize(
        &self,
        caller: AgentCaller<'_>,
        request: &AuthorizeRequest,
    ) -> Result<AuthorizeResponse, DomainError> {
        // The environment the credential is bound to, if it is.
        let mut bound: Option<String> = None;
        let (credential, static_token) = match caller {
            AgentCaller::Token(principal) => {
                authorize(principal, Action::DecideAuthz)?;
                let principal = principal.ok_or(DomainError::Unauthenticated)?;
                let Credential::Token { token_id, .. } = &principal.credential else {
                    return Err(DomainError::Forbidden {
                        reason: "decisions are asked with the agent's own API token, \
                                 just-in-time credential or federated workload token"
                            .into(),
                    });
                };
                let (agent, environment) = self.token_agent(*token_id).await?;
                bound = environment;
                if agent != Some(request.principal) {
                    return Err(DomainError::Forbidden {
                        reason: format!(
                            "this token does not act for identity {}; ask with a token made for it",
                            request.principal
                        ),
                    });
                }
                // Authenticating the token caught up with the change feed already,
                // after this request arrived.
                (format!("token:{token_id}"), true)
            }
            AgentCaller::Jwt(jwt) if self.grants.issued_here(jwt) => {
                let (claims, grant) = self.grants.active_credential(jwt).await?.ok_or(
                    DomainError::CredentialRefused {
                        reason: "the credential is not an active just-in-time credential \
                                 (bad signature, issuer or audience, expired, revoked, or its \
                                 grant ended)"
                            .into(),
                    },
                )?;
                if grant.identity_id != request.principal {
                    return Err(DomainError::Forbidden {
                        reason: format!(
                            "this credential is for identity {}, not {}",
                            grant.identity_id, request.principal
                        ),
                    });
                }
                self.feed.catch_up().await?;
                (format!("grant:{} jti:{}", grant.id, claims.jti), false)
            }
            AgentCaller::Jwt(jwt) => {
                // Verifying caught up with the change feed (the configurations are
                // cached by it).
                let (matched, _) = self.federation.verify(jwt).await?;
                if matched.identity_id != request.principal {
                    return Err(DomainError::Forbidden {
                        reason: format!(
                            "this token proves identity {} (trust configuration {}), not {}",
                            matched.identity_id, matched.trust_config, request.principal
                        ),
                    });
                }
                bound = matched.environment.clone();
                (matched.credential(), false)
            }
        };
        // A session id too long is refused once the principal is known to exist.
        let session_id = request.session_id();
        let mut request = request.clone();
        request.context.session_id = session_id.as_ref().ok().cloned().flatten();
        let now = Utc::now();
        let principal_state = self.state(request.principal).await?;
        let session = match session_id?.as_deref() {
            Some(session) => {
                let (started, call) = self
                    .session_call(
                        request.principal,
                        session,
                        principal_state.limits.max_calls,
                        now,
                    )
                    .await?;
                ((now - started).num_seconds().max(0), call)
            }
            None => (0, 1),
        };
        // A static token where a trust configuration asks for a federated one: refused
        // when it enforces, noted when it monitors.
        let mut would_deny = None;
        if static_token {
            if let Some((name, _)) = principal_state
                .trust
                .iter()
                .find(|(_, mode)| *mode == EnforcementMode::Enforce)
            {
                return Err(DomainError::Forbidden {
                    reason: format!(
                        "identity {} must prove itself with a federated token: trust \
                         configuration {name} is enforced, and static API tokens are refused",
                        request.principal
                    ),
                });
            }
            would_deny = principal_state
                .trust
                .first()
                .map(|(name, _)| format!("static_secret:{name}"));
        }
        // What Steward knows wins over what the request says; a request that lies
        // about its environment, or hides its session, is denied (and logged, with the
        // drift the decision would have shown).
        let denial = self
            .with_known_facts(&mut request, bound.as_deref(), &principal_state)
            .await?;
        let decided = self.decide(&request, session, now).await?;
        // Monitor mode relaxes the agent's policies, never these checks.
        let checked = denial.is_none();
        let Decided {
            mut evaluation,
            drift,
        } = match denial {
            None => decided,
            Some((reason, why)) => Decided {
                evaluation: Evaluation {
                    decision: Decision::Deny,
                    reasons: vec![reason.into()],
                    diagnostics: vec![why],
                },
                drift: decided.drift,
            },
        };
        if evaluation.decision == Decision::Deny
            && principal_state.mode == EnforcementMode::Monitor
            && checked
        {
            evaluation.decision = Decision::Allow;
            evaluation
                .diagnostics
                .insert(0, "monitor mode: enforcing would have denied this".into());
            would_deny = Some("policy".into());
        }
        self.log(DecisionRecord {
            id: Uuid::now_v7(),
            at: now,
            identity_id: request.principal,
            action: request.action.clone(),
            resource: format!(
                "{}::{}",
                request.resource.resource_type, request.resource.id
            ),
            decision: evaluation.decision,
            reasons: evaluation.reasons.clone(),
            diagnostics: evaluation.diagnostics.clone(),
            session_id: request.context.session_id.clone(),
            task: request.context.task.clone(),
            environment: request.context.environment.clone(),
            delegation_chain: request.context.delegation_chain.clone(),
            credential,
            drift,
            would_deny: would_deny.clone(),
        });
        Ok(AuthorizeResponse {
            decision: evaluation.decision,
            reasons: evaluation.reasons,
            diagnostics: evaluation.diagnostics,
            would_deny,
        })
    }

    async fn decisions(
        &self,
        principal: Option<&Principal>,
        identity_id: Uuid,
        before: Option<DateTime<Utc>>,
    ) -> Result<Vec<DecisionRecord>, DomainError> {
        authorize(principal, Action::ReadInventory)?;
        self.store
            .find_identity(identity_id)
            .await?
            .ok_or_else(|| DomainError::not_found(format!("identity {identity_id}")))?;
        Ok(self.store.decisions_of(identity_id, before, 100).await?)
    }

    async fn set_mode(
        &self,
        principal: Option<&Principal>,
        identity_id: Uuid,
        change: &ModeChange,
    ) -> Result<MonitorReport, DomainError> {
        authorize(principal, Action::ManageIdentities)?;
        let who = principal.ok_or(DomainError::Unauthenticated)?;
        let reason = change.reason()?;
        self.store
            .find_identity(identity_id)
            .await?
            .ok_or_else(|| DomainError::not_found(format!("identity {identity_id}")))?;
        let (_, before) = self.store.agent_limits_and_mode(identity_id).await?;
        if before != change.mode {
            let statement = Statement::new(
                "INSERT INTO agent_limits (identity_id, mode, updated_by, updated_at) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (identity_id) DO UPDATE SET \
                 mode = excluded.mode, updated_by = excluded.updated_by, updated_at = excluded.updated_at",
            )
            .bind(identity_id)
            .bind(change.mode.as_str())
            .bind(who.audit_actor())
            .bind(Utc::now());
            let event = NewAuditEvent::new(
                who.audit_actor(),
                "authz.mode_change",
                format!("identity:{identity_id}"),
                json!({ "from": before, "to": change.mode, "reason": reason }),
            );
            self.store
                .write(&[statement], |_| vec![event])
                .await
                .map_err(|e| write_error(e, ""))?;
        }
        self.monitored(principal, identity_id, 7).await
    }

    async fn monitored(
        &self,
        principal: Option<&Principal>,
        identity_id: Uuid,
        days: u32,
    ) -> Result<MonitorReport, DomainError> {
        authorize(principal, Action::ReadInventory)?;
        if !(1..=90).contains(&days) {
            return Err(DomainError::invalid("days", "between 1 and 90"));
        }
        self.store
            .find_identity(identity_id)
            .await?
            .ok_or_else(|| DomainError::not_found(format!("identity {identity_id}")))?;
        let (_, mode) = self.store.agent_limits_and_mode(identity_id).await?;
        let since = Utc::now() - chrono::Duration::days(i64::from(days));
        let (decisions, would_deny, recent) =
            self.store.monitored_decisions(identity_id, since).await?;
        Ok(MonitorReport {
            mode,
            days,
            decisions,
            would_deny,
            recent,
        })
    }

    async fn sensitivities(
        &self,
        principal: Option<&Principal>,
    ) -> Result<Vec<RegisteredSensitivity>, DomainError> {
        authorize(principal, Action::ReadInventory)?;
        Ok(self.store.list_sensitivities().await?)
    }

    async fn set_sensitivity(
        &self,
        principal: Option<&Principal>,
        draft: &SensitivityDraft,
    ) -> Result<RegisteredSensitivity, DomainError> {
        authorize(principal, Action::ManageIdentities)?;
        let principal = principal.ok_or(DomainError::Unauthenticated)?;
        let draft = draft.validated()?;
        let before = self
            .store
            .list_sensitivities()
            .await?
            .into_iter()
            .find(|e| e.scope == draft.scope && e.id == draft.id)
            .map(|e| e.sensitivity);
        let event = NewAuditEvent::new(
            principal.audit_actor(),
            "authz.sensitivity_set",
            format!("{}:{}", draft.scope, draft.id),
            json!({ "before": before, "after": draft.sensitivity }),
        );
        let now = Utc::now();
        self.store
            .set_sensitivity(&draft, &principal.audit_actor(), now, &event)
            .await?;
        Ok(RegisteredSensitivity {
            scope: draft.scope,
            id: draft.id,
            sensitivity: draft.sensitivity,
            updated_by: principal.audit_actor(),
            updated_at: Some(now),
        })
    }

    async fn import_sensitivities(
        &self,
        principal: Option<&Principal>,
        csv: &str,
        dry_run: bool,
    ) -> Result<SensitivityImport, DomainError> {
        authorize(principal, Action::ManageIdentities)?;
        let principal = principal.ok_or(DomainError::Unauthenticated)?;
        let drafts = sensitivity::parse_csv(csv)?;
        let current = self.store.list_sensitivities().await?;
        let plan = SensitivityImport::plan(&current, &drafts, dry_run);
        if !dry_run {
            let event = NewAuditEvent::new(
                principal.audit_actor(),
                "authz.sensitivity_import",
                "sensitivities",
                json!({ "entries": drafts.len(), "created": plan.created,
                        "changed": plan.changed, "unchanged": plan.unchanged }),
            );
            self.store
                .import_sensitivities(&drafts, &principal.audit_actor(), Utc::now(), &event)
                .await?;
        }
        Ok(plan)
    }

    async fn delete_sensitivity(
        &self,
        principal: Option<&Principal>,
        scope: SensitivityScope,
        id: &str,
    ) -> Result<(), DomainError> {
        authorize(principal, Action::ManageIdentities)?;
        let principal = principal.ok_or(DomainError::Unauthenticated)?;
        let event = NewAuditEvent::new(
            principal.audit_actor(),
            "authz.sensitivity_delete",
            format!("{scope}:{id}"),
            json!({}),
        );
        if !self
            .store
            .delete_sensitivity(scope.as_str(), id, &event)
            .await?
        {
            return Err(DomainError::not_found(format!(
                "a registered sensitivity of {scope} {id}"
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn last_used_is_written_at_most_once_a_minute_per_identity() {
        let t0 = Utc::now();
        let (a, b) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let decision = |identity_id, seconds| DecisionRecord {
            id: Uuid::new_v4(),
            at: t0 + chrono::Duration::seconds(seconds),
            identity_id,
            action: "call_tool".into(),
            resource: "Tool::\"x\"".into(),
            decision: steward_domain::policy::Decision::Allow,
            reasons: vec![],
            diagnostics: vec![],
            session_id: None,
            task: String::new(),
            environment: String::new(),
            delegation_chain: vec![],
            credential: String::new(),
            drift: None,
            would_deny: None,
        };
        let mut touched = std::collections::HashMap::new();
        let first = used_since(
            &mut touched,
            &[decision(a, 0), decision(a, 5), decision(b, 1)],
        );
        assert_eq!(
            first,
            vec![
                (a, t0 + chrono::Duration::seconds(5)),
                (b, t0 + chrono::Duration::seconds(1))
            ]
        );
        assert!(used_since(&mut touched, &[decision(a, 30)]).is_empty());
        assert_eq!(used_since(&mut touched, &[decision(a, 70)]).len(), 1);
    }

    #[test]
    fn the_example_a_new_policy_starts_from_is_valid() {
        let engine = Engine::new().unwrap();
        engine
            .check("custom-example", steward_app::authz::POLICY_EXAMPLE)
            .unwrap();
    }
}
