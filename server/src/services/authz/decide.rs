//! Deciding a request: along its delegation chain, each identity's policy set
//! evaluated with live grants, and the drift the decision shows.

use chrono::{DateTime, Utc};
use steward_domain::authz::cedar::{EvalContext, Evaluation};
use steward_domain::authz::{AuthorizeRequest, AuthzAction, Decision, Drift, DriftKind, EntityRef};
use steward_domain::DomainError;
use uuid::Uuid;

use super::{cedar_error, AgentState, AuthzService, Decided};

impl AuthzService {
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
}
