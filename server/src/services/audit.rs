//! The audit-trail port over the store (admins and auditors only).

use async_trait::async_trait;
use steward_domain::audit::{AuditAction, AuditPage, AuditQuery, ChainReport};
use steward_domain::auth::{authorize, Action, Principal};
use steward_domain::ports::AuditTrail;
use steward_domain::DomainError;

use crate::adapters::keys::SigningKeys;
use crate::store::audit::AuditFilter;
use crate::store::Store;

pub struct AuditService {
    store: Store,
}

impl AuditService {
    pub fn new(store: Store) -> Self {
        AuditService { store }
    }
}

pub fn filter_of(query: &AuditQuery) -> AuditFilter {
    AuditFilter {
        actor: query.actor.clone(),
        action: query.action.clone(),
        target: query.target.clone(),
        since: query.since,
        until: query.until,
        before_seq: query.before,
        limit: query.limit,
    }
}

#[async_trait]
impl AuditTrail for AuditService {
    async fn list(
        &self,
        principal: Option<&Principal>,
        query: &AuditQuery,
    ) -> Result<AuditPage, DomainError> {
        authorize(principal, Action::ReadAudit)?;
        let mut filter = filter_of(query);
        filter.limit = query.limit + 1;
        let mut events = self.store.list_audit(&filter).await?;
        let more = events.len() > query.limit as usize;
        events.truncate(query.limit as usize);
        let next_before = if more {
            events.last().map(|e| e.seq)
        } else {
            None
        };
        Ok(AuditPage {
            events,
            next_before,
        })
    }

    async fn verify(&self, principal: Option<&Principal>) -> Result<ChainReport, DomainError> {
        authorize(principal, Action::ReadAudit)?;
        Ok(self.store.verify_audit().await?)
    }
}

/// Takes a checkpoint of the audit trail: appends an `audit.checkpoint` event (so the
/// act is in the trail it anchors), then signs the chain head with the current signing
/// key. `actor` names who took it.
pub async fn checkpoint(
    store: &Store,
    keys: &SigningKeys,
    actor: &str,
) -> Result<steward_domain::audit_checkpoint::Checkpoint, DomainError> {
    use steward_domain::audit_checkpoint::{Checkpoint, CheckpointClaims, CHECKPOINT_ISSUER};
    let event = steward_domain::audit::NewAuditEvent::new(
        actor,
        AuditAction::AuditCheckpoint,
        "audit",
        serde_json::json!({ "kid": keys.current().kid }),
    );
    store.append_audit(&event).await?;
    let head = store.audit_head().await?.ok_or(DomainError::Internal)?;
    let now = chrono::Utc::now();
    let claims = CheckpointClaims {
        iss: CHECKPOINT_ISSUER.into(),
        seq: head.seq,
        hash: head.hash.clone(),
        iat: now.timestamp(),
    };
    let signature = keys.sign_claims(&claims).map_err(|error| {
        tracing::error!(%error, "signing an audit checkpoint failed");
        DomainError::Internal
    })?;
    Ok(Checkpoint {
        seq: head.seq,
        hash: head.hash,
        taken_at: now,
        kid: keys.current().kid.clone(),
        signature,
    })
}

/// Checks the trail against a checkpoint: its signature (by one of `keys`), then that
/// the event it names is still there with the same hash. `Err` says what is wrong.
pub async fn verify_checkpoint(
    store: &Store,
    keys: &SigningKeys,
    checkpoint: &steward_domain::audit_checkpoint::Checkpoint,
) -> Result<(), String> {
    use steward_domain::audit_checkpoint::{compare, CheckpointClaims, CHECKPOINT_ISSUER};
    let claims: CheckpointClaims = keys
        .verify_claims(&checkpoint.signature)
        .filter(|c: &CheckpointClaims| c.iss == CHECKPOINT_ISSUER)
        .ok_or("the checkpoint's signature does not verify with Steward's signing keys")?;
    if claims.seq != checkpoint.seq || claims.hash != checkpoint.hash {
        return Err("the checkpoint's text does not match what it signed".into());
    }
    let at = store
        .audit_event(claims.seq)
        .await
        .map_err(|e| e.to_string())?;
    let newest = store
        .audit_head()
        .await
        .map_err(|e| e.to_string())?
        .map_or(0, |e| e.seq);
    compare(&claims, at.as_ref().map(|e| e.hash.as_str()), newest)
}
