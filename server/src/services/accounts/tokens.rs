//! API tokens: creation (shown once), authentication of bearer tokens, listing and
//! revocation — authorized and audited here.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::{Duration, Utc};
use serde_json::json;
use sha2::{Digest, Sha256};
use steward_domain::audit::{hex, AuditAction, NewAuditEvent};
use steward_domain::auth::{authorize, Action, Credential, Principal, Role};
use steward_domain::inventory::IdentityStatus;
use steward_domain::tokens::{
    child_token_bounds, parse_scopes, CreatedToken, NewTokenRequest, TokenInfo,
};
use steward_domain::DomainError;
use uuid::Uuid;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::adapters::feed::{ChangeFeed, Mark};
use crate::services::lock;
use crate::store::accounts::tokens::{NewToken, TokenRecord};
use crate::store::accounts::users::UserRecord;
use crate::store::Store;

/// Prefix of every Steward token, so secret scanners can recognise leaked ones.
pub const TOKEN_PREFIX: &str = "stw_";

pub fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

fn new_secret() -> Result<String, DomainError> {
    let mut bytes = [0u8; 32];
    getrandom::getrandom(&mut bytes).map_err(|error| {
        tracing::error!(%error, "no randomness for a token");
        DomainError::Internal
    })?;
    Ok(format!("{TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes)))
}

fn info(record: TokenRecord) -> Result<TokenInfo, DomainError> {
    Ok(TokenInfo {
        scopes: parse_scopes(&record.scopes)?,
        id: record.id,
        identity_id: record.identity_id,
        name: record.name,
        owner_email: record.owner_email,
        created_at: record.created_at,
        expires_at: record.expires_at,
        revoked_at: record.revoked_at,
        last_used_at: record.last_used_at,
        parent_id: record.parent_id,
    })
}

/// Whether a token acting for an agent still may: its creator still owns the agent (or
/// is still on the security team, who make tokens for any agent). A suspended agent's
/// token still authenticates, so that its requests are denied by the kill switch and
/// logged as decisions.
fn agent_token_holds(record: &TokenRecord, user: &UserRecord) -> bool {
    record.agent_id.is_none()
        || user.role == Role::Admin
        || record.agent_owner_id == Some(user.person_id)
}

/// A token as last read, and the change feed's mark when it was.
struct CachedToken {
    record: TokenRecord,
    user: UserRecord,
    mark: Mark,
}

/// Tokens cached at most; beyond it the cache starts over.
const MAX_CACHED_TOKENS: usize = 100_000;

#[derive(Clone)]
pub struct TokenService {
    store: Store,
    /// Keeps the cache current: a token revoked, re-scoped or expired early, its
    /// identity suspended, or its user's role or access changed, through any replica,
    /// is refused from the next request on.
    feed: Arc<ChangeFeed>,
    /// Tokens by hash.
    cache: Arc<Mutex<HashMap<String, CachedToken>>>,
}

impl TokenService {
    pub fn new(store: Store, feed: Arc<ChangeFeed>) -> Self {
        TokenService {
            store,
            feed,
            cache: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// A token and its user by hash: from the cache while current, else the store.
    async fn lookup(&self, hash: &str) -> Result<Option<(TokenRecord, UserRecord)>, DomainError> {
        self.feed.catch_up().await?;
        {
            let cache = lock(&self.cache);
            if let Some(cached) = cache.get(hash) {
                // An agent token also depends on its agent's row (status, owner).
                let current = self.feed.is_current(cached.record.identity_id, cached.mark)
                    && cached
                        .record
                        .agent_id
                        .is_none_or(|agent| self.feed.is_current(agent, cached.mark));
                if current {
                    return Ok(Some((cached.record.clone(), cached.user.clone())));
                }
            }
        }
        let mark = self.feed.mark();
        let Some((record, user)) = self.store.find_token_with_user(hash).await? else {
            return Ok(None);
        };
        let mut cache = lock(&self.cache);
        if cache.len() >= MAX_CACHED_TOKENS {
            cache.clear();
        }
        cache.insert(
            hash.to_owned(),
            CachedToken {
                record: record.clone(),
                user: user.clone(),
                mark,
            },
        );
        Ok(Some((record, user)))
    }

    /// Notes that a cached token was used at `now` (it is written once a minute).
    fn touched(&self, hash: &str, now: chrono::DateTime<Utc>) {
        let mut cache = lock(&self.cache);
        if let Some(cached) = cache.get_mut(hash) {
            cached.record.last_used_at = Some(now);
        }
    }

    /// Creates a token for the caller. It acts as the caller, limited to its scopes;
    /// a scope the caller's role could never use is refused. A caller that is itself a
    /// token mints only within its own scopes and lifetime, and its child is revoked
    /// with it.
    pub async fn create(
        &self,
        principal: Option<&Principal>,
        request: &NewTokenRequest,
    ) -> Result<CreatedToken, DomainError> {
        authorize(principal, Action::CreateToken)?;
        let principal = principal.ok_or(DomainError::Unauthenticated)?;
        let request = request.validated()?;
        for scope in &request.scopes {
            let usable = Action::ALL
                .iter()
                .any(|a| a.scope() == Some(*scope) && a.roles().contains(&principal.role));
            if !usable {
                return Err(DomainError::invalid(
                    "scopes",
                    format!("the {} role cannot use the scope {scope}", principal.role),
                ));
            }
        }
        if let Some(agent) = request.agent_id {
            // A token acting for an agent: the agent must be there, and the caller the
            // security team or the agent's owner.
            let (identity, _) =
                self.store.find_identity(agent).await?.ok_or_else(|| {
                    DomainError::invalid("agent_id", format!("no identity {agent}"))
                })?;
            let owns = identity
                .owner
                .as_ref()
                .is_some_and(|o| o.id == principal.person_id);
            if principal.role != Role::Admin && !owns {
                return Err(DomainError::Forbidden {
                    reason: format!(
                        "only the security team or the owner of {} makes tokens for it",
                        identity.name
                    ),
                });
            }
            if identity.status == IdentityStatus::Retired {
                return Err(DomainError::invalid(
                    "agent_id",
                    format!("{} is retired", identity.name),
                ));
            }
        }
        let now = Utc::now();
        let mut expires_at = now + Duration::days(i64::from(request.expires_in_days));
        let mut parent_id = None;
        if let Credential::Token { token_id, scopes } = &principal.credential {
            let parent = self
                .store
                .find_token(*token_id)
                .await?
                .ok_or(DomainError::Unauthenticated)?;
            expires_at = child_token_bounds(scopes, parent.expires_at, &request, now)?;
            parent_id = Some(parent.id);
        }
        let secret = new_secret()?;
        let scopes = request
            .scopes
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        let token = NewToken {
            id: Uuid::new_v4(),
            identity_id: Uuid::now_v7(),
            user_id: principal.user_id,
            owner_person_id: principal.person_id,
            name: request.name.clone(),
            token_hash: token_hash(&secret),
            scopes: scopes.clone(),
            created_at: now,
            expires_at,
            agent_id: request.agent_id,
            parent_id,
            environment: request.environment.clone(),
        };
        let audit = NewAuditEvent::new(
            principal.audit_actor(),
            AuditAction::TokenCreate,
            format!("token:{}", token.id),
            json!({ "after": { "name": token.name, "scopes": scopes, "expires_at": token.expires_at,
                               "identity_id": token.identity_id, "agent_id": token.agent_id,
                               "parent_id": token.parent_id, "environment": token.environment } }),
        );
        self.store.create_token(&token, &audit).await?;
        let record = self
            .store
            .find_token(token.id)
            .await?
            .ok_or(DomainError::Internal)?;
        Ok(CreatedToken {
            token: secret,
            info: info(record)?,
        })
    }

    /// The principal a bearer token stands for: its creator, limited to its scopes.
    pub async fn authenticate(&self, bearer: &str) -> Result<Principal, DomainError> {
        let invalid = || DomainError::Unauthenticated;
        if !bearer.starts_with(TOKEN_PREFIX) {
            return Err(invalid());
        }
        let hash = token_hash(bearer);
        let (record, user) = self.lookup(&hash).await?.ok_or_else(invalid)?;
        let now = Utc::now();
        if record.revoked_at.is_some()
            || record.expires_at <= now
            || record.identity_status != IdentityStatus::Active.as_str()
            || !user.active
            || !agent_token_holds(&record, &user)
        {
            return Err(invalid());
        }
        if self.store.touch_token(&record, now).await? {
            self.touched(&hash, now);
        }
        Ok(Principal {
            user_id: user.id,
            person_id: user.person_id,
            email: user.email,
            display_name: user.display_name,
            role: user.role,
            credential: Credential::Token {
                token_id: record.id,
                scopes: parse_scopes(&record.scopes)?,
            },
        })
    }

    /// Admins see every token; owners their own.
    pub async fn list(&self, principal: Option<&Principal>) -> Result<Vec<TokenInfo>, DomainError> {
        authorize(principal, Action::ListTokens)?;
        let principal = principal.ok_or(DomainError::Unauthenticated)?;
        let only = (principal.role != Role::Admin).then_some(principal.user_id);
        self.store
            .list_tokens(only)
            .await?
            .into_iter()
            .map(info)
            .collect()
    }

    /// Revokes a token: admins any, owners their own.
    pub async fn revoke(
        &self,
        principal: Option<&Principal>,
        id: Uuid,
    ) -> Result<TokenInfo, DomainError> {
        authorize(principal, Action::RevokeToken)?;
        let principal = principal.ok_or(DomainError::Unauthenticated)?;
        let not_found = || DomainError::not_found(format!("token {id}"));
        let record = self.store.find_token(id).await?.ok_or_else(not_found)?;
        if principal.role != Role::Admin && record.user_id != principal.user_id {
            // Not revealing other people's tokens.
            return Err(not_found());
        }
        let now = Utc::now();
        let audit = NewAuditEvent::new(
            principal.audit_actor(),
            AuditAction::TokenRevoke,
            format!("token:{id}"),
            json!({ "before": { "revoked_at": null }, "after": { "revoked_at": now } }),
        );
        if !self.store.revoke_token(&record, now, &audit).await? {
            return Err(DomainError::Conflict {
                message: format!("token {id} is already revoked"),
            });
        }
        info(
            self.store
                .find_token(id)
                .await?
                .ok_or(DomainError::Internal)?,
        )
    }
}
