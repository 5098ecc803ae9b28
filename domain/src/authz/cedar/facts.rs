//! Readable Cedar diagnostics and the facts an evaluation needs about the principal,
//! the request context and the outcome. The inputs and outputs of the engine, without
//! Cedar's evaluation itself.

use cedar_policy::EntityUid;
use chrono::{DateTime, Utc};
use miette::Diagnostic;
use uuid::Uuid;

use crate::authz::{entity_ref, entity_type, sensitivity_level, AuthorizeRequest, Decision};
use crate::identity::Sensitivity;
use crate::inventory::{IdentityKind, IdentityStatus};

use super::entities::entity_uid;

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
