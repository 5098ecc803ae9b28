//! Workload identity federation: trust configurations (admin), verification of the
//! tokens a workload's platform issued (SPIFFE JWT-SVIDs, Kubernetes service-account
//! tokens, GitHub Actions OIDC tokens), and RFC 8693 token exchange for a just-in-time
//! grant's credential.
//!
//! A token is accepted only when every check passes: an asymmetric algorithm (no
//! `none`, no HMAC — so a public key can never be used as a shared secret), a key of
//! the configuration's JWKS, the exact issuer and audience, `exp` and `nbf` (with 30 s
//! of clock skew), and exactly one claim rule. Each refusal says which check failed.
//!
//! Configurations are cached and kept current by the change feed (a trigger on
//! `trust_configs` marks everything stale). Keys from a JWKS URL are fetched on save and
//! again when a token names a key not seen yet (at most once a minute per
//! configuration); they are kept in memory only. One fetch per configuration runs at a
//! time and a failure is remembered as long as a success would be, so a storm of
//! tokens naming unknown keys never becomes a storm of fetches. Where keys may be
//! fetched from is [`jwks`]'s business.

pub mod jwks;
mod verify;

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::Utc;
use jsonwebtoken::jwk::JwkSet;
use serde_json::json;
use steward_domain::audit::{AuditAction, NewAuditEvent};
use steward_domain::auth::{authorize, Action, Principal};
use steward_domain::federation::{
    ModeChange, ProofOfIdentity, TokenCheck, TrustConfig, TrustConfigDraft,
};
use steward_domain::grants::IssuedCredential;
use steward_domain::ports::{Federation, TokenExchange};
use steward_domain::DomainError;
use uuid::Uuid;

use self::verify::{decode_keys, parse_jwks, Cached};
use super::grants::GrantService;
use super::lock;
use super::posture::PostureService;
use crate::adapters::feed::ChangeFeed;
use crate::services::write_error;
use crate::store::federation::writes;
use crate::store::Store;

/// RFC 8693 names.
pub const TOKEN_EXCHANGE_GRANT: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
pub const JWT_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:jwt";
pub const ID_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:id_token";
pub const ACCESS_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";

pub struct FederationService {
    store: Store,
    feed: Arc<ChangeFeed>,
    grants: Arc<GrantService>,
    /// Re-evaluates the findings of the identities a change names.
    posture: Arc<PostureService>,
    jwks: Mutex<jwks::JwksFetcher>,
    cache: Mutex<Option<Arc<Cached>>>,
    /// Held while the configurations are read again: a burst of verifications after a
    /// change waits for one reload instead of each building (and fetching) its own.
    reloading: tokio::sync::Mutex<()>,
}

impl FederationService {
    pub fn new(
        store: Store,
        feed: Arc<ChangeFeed>,
        grants: Arc<GrantService>,
        posture: Arc<PostureService>,
    ) -> Self {
        FederationService {
            store,
            feed,
            grants,
            posture,
            jwks: Mutex::new(jwks::JwksFetcher::new(false)),
            cache: Mutex::new(None),
            reloading: tokio::sync::Mutex::new(()),
        }
    }

    /// Lets JWKS URLs be plain `http` to loopback addresses: a switch for tests and
    /// local development only (`STEWARD_JWKS_ALLOW_LOOPBACK_HTTP`).
    pub fn allow_loopback_jwks(&self, allow: bool) {
        *lock(&self.jwks) = jwks::JwksFetcher::new(allow);
    }

    async fn fetch_jwks(&self, url: &str) -> Result<JwkSet, String> {
        let fetcher = lock(&self.jwks).clone();
        parse_jwks(&fetcher.fetch(url).await?)
    }

    /// Checks a draft against what needs I/O: its keys and the identities it names.
    async fn checked(&self, draft: &TrustConfigDraft) -> Result<TrustConfigDraft, DomainError> {
        draft.validate()?;
        let mut draft = draft.clone();
        draft.jwks_url = draft
            .jwks_url
            .map(|u| u.trim().to_owned())
            .filter(|u| !u.is_empty());
        draft.jwks = draft
            .jwks
            .map(|j| j.trim().to_owned())
            .filter(|j| !j.is_empty());
        for rule in &mut draft.rules {
            rule.subject = rule
                .subject
                .take()
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty());
        }
        let set = match (&draft.jwks_url, &draft.jwks) {
            (Some(url), _) => self
                .fetch_jwks(url)
                .await
                .map_err(|e| DomainError::invalid("jwks_url", e))?,
            (None, Some(text)) => parse_jwks(text).map_err(|e| DomainError::invalid("jwks", e))?,
            (None, None) => {
                return Err(DomainError::invalid("jwks", "the issuer's keys are needed"))
            }
        };
        decode_keys(&set).map_err(|e| {
            DomainError::invalid(
                if draft.jwks_url.is_some() {
                    "jwks_url"
                } else {
                    "jwks"
                },
                e,
            )
        })?;
        for (n, rule) in draft.rules.iter().enumerate() {
            if self.store.find_identity(rule.identity_id).await?.is_none() {
                return Err(DomainError::invalid(
                    format!("rules[{}].identity_id", n + 1),
                    format!("there is no identity {}", rule.identity_id),
                ));
            }
        }
        Ok(draft)
    }

    async fn find(&self, id: Uuid) -> Result<TrustConfig, DomainError> {
        self.store
            .find_trust_config(id)
            .await?
            .ok_or_else(|| DomainError::not_found(format!("trust configuration {id}")))
    }
}

#[async_trait]
impl Federation for FederationService {
    async fn trust_configs(
        &self,
        principal: Option<&Principal>,
    ) -> Result<Vec<TrustConfig>, DomainError> {
        authorize(principal, Action::ReadInventory)?;
        Ok(self.store.trust_configs().await?)
    }

    async fn save_trust_config(
        &self,
        principal: Option<&Principal>,
        id: Option<Uuid>,
        draft: &TrustConfigDraft,
    ) -> Result<TrustConfig, DomainError> {
        authorize(principal, Action::ManageIdentities)?;
        let principal = principal.ok_or(DomainError::Unauthenticated)?;
        let draft = self.checked(draft).await?;
        let before = match id {
            Some(id) => Some(self.find(id).await?),
            None => None,
        };
        let id = id.unwrap_or_else(Uuid::now_v7);
        let now = Utc::now();
        let statements = match &before {
            None => writes::insert_trust_config(id, &draft, &principal.audit_actor(), now)?,
            Some(_) => writes::update_trust_config(id, &draft, &principal.audit_actor(), now)?,
        };
        let mut events = vec![NewAuditEvent::new(
            principal.audit_actor(),
            if before.is_some() {
                AuditAction::TrustUpdate
            } else {
                AuditAction::TrustCreate
            },
            format!("trust-config:{id}"),
            json!({ "before": before.as_ref().map(|b| &b.draft), "after": &draft }),
        )];
        if let Some(before) = before.as_ref().filter(|b| b.draft.mode != draft.mode) {
            events.push(NewAuditEvent::new(
                principal.audit_actor(),
                AuditAction::TrustModeChange,
                format!("trust-config:{id}"),
                json!({ "from": before.draft.mode, "to": draft.mode, "reason": "changed with the configuration" }),
            ));
        }
        self.store
            .write(&statements, |_| events)
            .await
            .map_err(|e| write_error(e, "a trust configuration with this name already exists"))?;
        let mut touched: Vec<Uuid> = draft.rules.iter().map(|r| r.identity_id).collect();
        touched.extend(
            before
                .iter()
                .flat_map(|b| b.draft.rules.iter().map(|r| r.identity_id)),
        );
        self.posture.after_change(&touched).await;
        self.find(id).await
    }

    async fn delete_trust_config(
        &self,
        principal: Option<&Principal>,
        id: Uuid,
    ) -> Result<(), DomainError> {
        authorize(principal, Action::ManageIdentities)?;
        let principal = principal.ok_or(DomainError::Unauthenticated)?;
        let before = self.find(id).await?;
        let statements = writes::delete_trust_config(id);
        let event = NewAuditEvent::new(
            principal.audit_actor(),
            AuditAction::TrustDelete,
            format!("trust-config:{id}"),
            json!({ "before": before.draft }),
        );
        self.store
            .write(&statements, |_| vec![event])
            .await
            .map_err(|e| write_error(e, ""))?;
        let touched: Vec<Uuid> = before.draft.rules.iter().map(|r| r.identity_id).collect();
        self.posture.after_change(&touched).await;
        Ok(())
    }

    async fn set_trust_mode(
        &self,
        principal: Option<&Principal>,
        id: Uuid,
        change: &ModeChange,
    ) -> Result<TrustConfig, DomainError> {
        authorize(principal, Action::ManageIdentities)?;
        let principal = principal.ok_or(DomainError::Unauthenticated)?;
        let reason = change.reason()?;
        let before = self.find(id).await?;
        if before.draft.mode == change.mode {
            return Ok(before);
        }
        let statement =
            writes::set_trust_mode(id, change.mode, &principal.audit_actor(), Utc::now());
        let event = NewAuditEvent::new(
            principal.audit_actor(),
            AuditAction::TrustModeChange,
            format!("trust-config:{id}"),
            json!({ "from": before.draft.mode, "to": change.mode, "reason": reason }),
        );
        self.store
            .write(&[statement], |_| vec![event])
            .await
            .map_err(|e| write_error(e, ""))?;
        self.find(id).await
    }

    async fn check_token(
        &self,
        principal: Option<&Principal>,
        token: &str,
    ) -> Result<TokenCheck, DomainError> {
        authorize(principal, Action::ReadInventory)?;
        Ok(match self.verify(token).await {
            Ok((matched, _)) => TokenCheck {
                matched: Some(matched),
                refusal: None,
            },
            Err(DomainError::CredentialRefused { reason }) => TokenCheck {
                matched: None,
                refusal: Some(reason),
            },
            Err(other) => return Err(other),
        })
    }

    async fn exchange(&self, request: &TokenExchange) -> Result<IssuedCredential, DomainError> {
        if request.grant_type != TOKEN_EXCHANGE_GRANT {
            return Err(DomainError::invalid(
                "grant_type",
                format!("only {TOKEN_EXCHANGE_GRANT} is supported"),
            ));
        }
        if request.subject_token.trim().is_empty() {
            return Err(DomainError::invalid(
                "subject_token",
                "the workload's token is required",
            ));
        }
        if ![JWT_TOKEN_TYPE, ID_TOKEN_TYPE, ACCESS_TOKEN_TYPE]
            .contains(&request.subject_token_type.as_str())
        {
            return Err(DomainError::invalid(
                "subject_token_type",
                format!(
                    "'{}' is not a JWT token type ({JWT_TOKEN_TYPE})",
                    request.subject_token_type
                ),
            ));
        }
        if let Some(wanted) = request.requested_token_type.as_deref() {
            if wanted != JWT_TOKEN_TYPE && wanted != ACCESS_TOKEN_TYPE {
                return Err(DomainError::invalid(
                    "requested_token_type",
                    format!("Steward issues {JWT_TOKEN_TYPE} credentials only"),
                ));
            }
        }
        let (matched, _) = self.verify(&request.subject_token).await?;
        let wanted = match request
            .resource
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty())
        {
            Some(resource) => Some(
                resource
                    .strip_prefix("urn:steward:grant:")
                    .unwrap_or(resource)
                    .parse::<Uuid>()
                    .map_err(|_| {
                        DomainError::invalid(
                            "resource",
                            format!("'{resource}' is not a grant (urn:steward:grant:<id>)"),
                        )
                    })?,
            ),
            None => None,
        };
        let actor = format!("trust:{} ({})", matched.trust_config, matched.credential());
        self.grants
            .exchange_credential(matched.identity_id, wanted, &actor)
            .await
    }

    async fn proof_of(
        &self,
        principal: Option<&Principal>,
        identity_id: Uuid,
    ) -> Result<ProofOfIdentity, DomainError> {
        authorize(principal, Action::ReadInventory)?;
        self.store
            .find_identity(identity_id)
            .await?
            .ok_or_else(|| DomainError::not_found(format!("identity {identity_id}")))?;
        Ok(ProofOfIdentity {
            federated: self.store.trust_coverage(identity_id).await?,
            static_secrets: self.store.static_secrets_of(identity_id).await?,
        })
    }
}
