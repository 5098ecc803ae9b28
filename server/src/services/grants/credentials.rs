//! Credentials of active grants: issuing signed short-lived tokens (to a person who
//! manages the grant, or by RFC 8693 exchange to the workload), checking them,
//! introspection and revocation.

use chrono::{Duration, Utc};
use serde_json::json;
use steward_domain::audit::{AuditAction, NewAuditEvent};
use steward_domain::auth::{authorize, Action, Principal};
use steward_domain::grants::{
    Grant, GrantState, Introspection, IssuedCredential, CREDENTIAL_MINUTES,
};
use steward_domain::inventory::{IdentityStatus, IdentitySummary};
use steward_domain::DomainError;
use uuid::Uuid;

use crate::adapters::keys::{GrantClaims, AUDIENCE};
use crate::services::write_error;
use crate::store::grants::writes::{insert_credential, revoke_credential};
use crate::store::grants::GrantFilter;

use super::{grant_target, GrantService};

impl GrantService {
    /// The credential's claims and grant if its signature, issuer, audience and times
    /// check out, its grant is active now and it was not revoked.
    pub async fn active_credential(
        &self,
        token: &str,
    ) -> Result<Option<(GrantClaims, Grant)>, DomainError> {
        let now = Utc::now();
        let Some(claims) = self.keys.verify(token, &self.issuer, now) else {
            return Ok(None);
        };
        let (Ok(jti), Ok(grant_id)) = (claims.jti.parse::<Uuid>(), claims.grant.parse::<Uuid>())
        else {
            return Ok(None);
        };
        let Some(grant) = self.store.find_grant(grant_id).await? else {
            return Ok(None);
        };
        if !grant.is_usable(now) || self.store.credential_revoked(jti).await? != Some(false) {
            return Ok(None);
        }
        Ok(Some((claims, grant)))
    }

    /// Signs a credential for an active grant and records its id (never the token),
    /// audited as `action` by `actor`.
    async fn issue(
        &self,
        grant: &Grant,
        identity: &IdentitySummary,
        actor: &str,
        action: AuditAction,
    ) -> Result<IssuedCredential, DomainError> {
        let now = Utc::now();
        if identity.status != IdentityStatus::Active {
            return Err(DomainError::Conflict {
                message: format!(
                    "{} is {}; a credential is issued only for an active identity",
                    identity.name, identity.status
                ),
            });
        }
        let Some(grant_expires) = grant.expires_at.filter(|_| grant.is_usable(now)) else {
            return Err(DomainError::Conflict {
                message: format!(
                    "the grant is {}; only an active grant yields a credential",
                    grant.state
                ),
            });
        };
        let expires = grant_expires.min(now + Duration::minutes(CREDENTIAL_MINUTES));
        let jti = Uuid::now_v7();
        let claims = GrantClaims {
            iss: self.issuer.clone(),
            sub: identity
                .spiffe_id
                .clone()
                .unwrap_or_else(|| format!("steward:identity:{}", identity.id)),
            aud: AUDIENCE.to_owned(),
            scope: grant.scope(),
            exp: expires.timestamp(),
            iat: now.timestamp(),
            nbf: now.timestamp(),
            jti: jti.to_string(),
            grant: grant.id.to_string(),
        };
        let token = self.keys.sign(&claims).map_err(|error| {
            tracing::error!(%error, "signing a credential failed");
            DomainError::Internal
        })?;
        let record = insert_credential(jti, grant.id, actor, now, expires);
        // The credential's id and expiry are recorded; the token itself is not stored.
        let event = NewAuditEvent::new(
            actor,
            action,
            grant_target(grant.id),
            json!({ "jti": jti, "sub": claims.sub, "expires_at": expires, "kid": self.keys.current().kid }),
        );
        self.store
            .write_grouped(vec![record], vec![event])
            .await
            .map_err(|e| write_error(e, ""))?;
        Ok(IssuedCredential {
            access_token: token,
            token_type: "Bearer".into(),
            expires_in: (expires - now).num_seconds(),
            expires_at: expires,
            scope: grant.scope(),
            jti,
        })
    }

    /// Whether a JWT names this Steward as its issuer (not yet verified): a
    /// just-in-time credential, as opposed to a workload's federated token.
    pub fn issued_here(&self, token: &str) -> bool {
        use base64::Engine;
        token
            .split('.')
            .nth(1)
            .and_then(|claims| {
                base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(claims.trim_end_matches('='))
                    .ok()
            })
            .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
            .is_some_and(|claims| claims["iss"] == self.issuer.as_str())
    }

    /// RFC 8693 token exchange: a credential for `identity`'s active grant (`wanted`,
    /// or its only one), for a workload that proved itself with a federated token.
    pub async fn exchange_credential(
        &self,
        identity_id: Uuid,
        wanted: Option<Uuid>,
        actor: &str,
    ) -> Result<IssuedCredential, DomainError> {
        let (identity, _) = self.identity(identity_id).await?;
        if identity.status != IdentityStatus::Active {
            // OAuth's invalid_grant: the workload proved an identity that may not act.
            return Err(DomainError::CredentialRefused {
                reason: format!("{} is {}", identity.name, identity.status),
            });
        }
        let now = Utc::now();
        let active: Vec<Grant> = self
            .store
            .list_grants(&GrantFilter {
                identity: Some(identity_id),
                state: Some(GrantState::Active),
                limit: 100,
                ..GrantFilter::default()
            })
            .await?
            .into_iter()
            .filter(|g| g.is_usable(now))
            .collect();
        let grant =
            match wanted {
                Some(id) => active.into_iter().find(|g| g.id == id).ok_or_else(|| {
                    DomainError::Conflict {
                        message: format!("grant {id} is not an active grant of {}", identity.name),
                    }
                })?,
                None => match <[Grant; 1]>::try_from(active) {
                    Ok([only]) => only,
                    Err(active) if active.is_empty() => {
                        return Err(DomainError::Conflict {
                            message: format!(
                            "{} has no active grant to exchange the token for; request one first",
                            identity.name
                        ),
                        })
                    }
                    Err(active) => {
                        return Err(DomainError::Conflict {
                            message: format!(
                            "{} has {} active grants; name one as resource=urn:steward:grant:<id>",
                            identity.name,
                            active.len()
                        ),
                        })
                    }
                },
            };
        self.issue(
            &grant,
            &identity,
            actor,
            AuditAction::GrantCredentialExchange,
        )
        .await
    }

    pub(super) async fn credential(
        &self,
        principal: Option<&Principal>,
        id: Uuid,
    ) -> Result<IssuedCredential, DomainError> {
        authorize(principal, Action::RequestGrant)?;
        let principal = principal.ok_or(DomainError::Unauthenticated)?;
        let (grant, identity, _) = self
            .managed(principal, id, "takes a grant's credential")
            .await?;
        self.issue(
            &grant,
            &identity,
            &principal.audit_actor(),
            AuditAction::GrantCredential,
        )
        .await
    }

    pub(super) async fn introspect(
        &self,
        principal: Option<&Principal>,
        token: &str,
    ) -> Result<Introspection, DomainError> {
        authorize(principal, Action::ReadGrants)?;
        Ok(
            match self
                .active_credential(token.trim())
                .await?
                .map(|(claims, _)| claims)
            {
                None => Introspection::default(),
                Some(claims) => Introspection {
                    active: true,
                    scope: Some(claims.scope),
                    sub: Some(claims.sub),
                    aud: Some(claims.aud),
                    iss: Some(claims.iss),
                    exp: Some(claims.exp),
                    iat: Some(claims.iat),
                    grant_id: claims.grant.parse().ok(),
                    jti: Some(claims.jti),
                    token_type: Some("Bearer".into()),
                },
            },
        )
    }

    pub(super) async fn revoke_credential(
        &self,
        principal: Option<&Principal>,
        token: &str,
    ) -> Result<(), DomainError> {
        authorize(principal, Action::RequestGrant)?;
        let principal = principal.ok_or(DomainError::Unauthenticated)?;
        // RFC 7009: an invalid or unknown token is not an error; there is nothing to revoke.
        let Some(claims) = self.keys.verify(token.trim(), &self.issuer, Utc::now()) else {
            return Ok(());
        };
        let (Ok(jti), Ok(grant_id)) = (claims.jti.parse::<Uuid>(), claims.grant.parse::<Uuid>())
        else {
            return Ok(());
        };
        let statement = revoke_credential(jti, Utc::now());
        let actor = principal.audit_actor();
        self.store
            .write(&[statement], |counts| {
                if counts[0] == 0 {
                    Vec::new()
                } else {
                    vec![NewAuditEvent::new(
                        actor,
                        AuditAction::GrantCredentialRevoke,
                        grant_target(grant_id),
                        json!({ "jti": jti }),
                    )]
                }
            })
            .await
            .map_err(|e| write_error(e, ""))?;
        Ok(())
    }

    pub(super) fn jwks(&self) -> serde_json::Value {
        self.keys.jwks(Utc::now())
    }
}
