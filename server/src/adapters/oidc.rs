//! Single sign-on with OpenID Connect: authorization code flow with PKCE, `state` and
//! `nonce`, ID token signature and claims validated by `openidconnect`. Roles come from
//! a configurable claim through a documented mapping; a first-time user is provisioned
//! as a person and a user.

use std::collections::HashMap;

use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreAuthenticationFlow, CoreErrorResponseType,
    CoreGenderClaim, CoreJsonWebKey, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm,
    CoreProviderMetadata, CoreRevocableToken, CoreRevocationErrorResponse,
    CoreTokenIntrospectionResponse, CoreTokenType,
};
use openidconnect::{
    reqwest, AdditionalClaims, AuthorizationCode, Client, ClientId, ClientSecret, CsrfToken,
    EmptyExtraTokenFields, EndpointMaybeSet, EndpointNotSet, EndpointSet, IdTokenFields, IssuerUrl,
    Nonce, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, StandardErrorResponse,
    StandardTokenResponse, TokenResponse,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use steward_domain::audit::{AuditAction, NewAuditEvent};
use steward_domain::auth::{normalize_email, Principal, Role};
use tokio::sync::OnceCell;

use crate::services::accounts::auth::principal_of;
use crate::store::accounts::users::{NewUser, UserRecord};
use crate::store::Store;

/// Every claim of the ID token beyond the standard ones, so the role claim's name can
/// be configured.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ExtraClaims {
    #[serde(flatten)]
    pub claims: HashMap<String, serde_json::Value>,
}
impl AdditionalClaims for ExtraClaims {}

type IdFields = IdTokenFields<
    ExtraClaims,
    EmptyExtraTokenFields,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;
type OidcTokenResponse = StandardTokenResponse<IdFields, CoreTokenType>;
type OidcClient = Client<
    ExtraClaims,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    OidcTokenResponse,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// SSO settings (`STEWARD_OIDC_*`).
#[derive(Debug, Clone)]
pub struct OidcConfig {
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
    pub redirect_url: String,
    /// Name of the claim that carries groups or roles (default `groups`).
    pub role_claim: String,
    /// Claim value → Steward role; the most powerful matching role wins.
    pub role_map: Vec<(String, Role)>,
}

/// Parses `value=role,value=role` (e.g. `steward-admins=admin,steward-auditors=auditor`).
pub fn parse_role_map(text: &str) -> Result<Vec<(String, Role)>, String> {
    text.split(',')
        .map(str::trim)
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (value, role) = pair
                .rsplit_once('=')
                .ok_or_else(|| format!("STEWARD_OIDC_ROLE_MAP: '{pair}' is not value=role"))?;
            let role = role
                .trim()
                .parse::<Role>()
                .map_err(|e| format!("STEWARD_OIDC_ROLE_MAP: {e}"))?;
            Ok((value.trim().to_owned(), role))
        })
        .collect()
}

/// The role a set of claim values maps to: the most powerful one that matches.
pub fn map_role(values: &[String], map: &[(String, Role)]) -> Option<Role> {
    const POWER: [Role; 4] = [Role::Admin, Role::Auditor, Role::Owner, Role::Viewer];
    POWER.into_iter().find(|role| {
        map.iter()
            .any(|(value, r)| r == role && values.contains(value))
    })
}

/// The values of the role claim, whether it is a string or an array of strings.
fn claim_values(value: Option<&serde_json::Value>) -> Vec<String> {
    match value {
        Some(serde_json::Value::String(s)) => vec![s.clone()],
        Some(serde_json::Value::Array(items)) => items
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    }
}

/// What the browser's session keeps between the redirect to the provider and back.
#[derive(Debug, Serialize, Deserialize)]
pub struct PendingLogin {
    pub state: CsrfToken,
    pub nonce: Nonce,
    pub pkce_verifier: PkceCodeVerifier,
    pub next: String,
}

/// Why an SSO sign-in failed; the detail is logged and audited, not shown.
#[derive(Debug, thiserror::Error)]
pub enum SsoError {
    #[error("the sign-in attempt does not match this browser session (state mismatch or replay)")]
    State,
    #[error("the identity provider refused: {0}")]
    Provider(String),
    #[error("the ID token is not valid: {0}")]
    Token(String),
    #[error("no Steward role is mapped to this account")]
    NoRole,
    #[error("the account has no verified email address")]
    NoEmail,
    #[error("the account is deactivated in Steward")]
    Deactivated,
    #[error("a Steward account has this email, but it is not linked to this SSO account: {0}")]
    LinkRefused(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl SsoError {
    /// The code the sign-in page turns into a message.
    pub fn code(&self) -> &'static str {
        match self {
            SsoError::State => "sso_state",
            SsoError::NoRole => "sso_no_role",
            SsoError::Deactivated => "sso_deactivated",
            SsoError::LinkRefused(_) => "sso_link_refused",
            _ => "sso_failed",
        }
    }
}

#[derive(Clone)]
pub struct OidcService {
    config: OidcConfig,
    http: reqwest::Client,
    client: std::sync::Arc<OnceCell<OidcClient>>,
    store: Store,
}

impl OidcService {
    pub fn new(config: OidcConfig, store: Store) -> Result<Self, String> {
        IssuerUrl::new(config.issuer.clone()).map_err(|e| format!("STEWARD_OIDC_ISSUER: {e}"))?;
        RedirectUrl::new(config.redirect_url.clone())
            .map_err(|e| format!("STEWARD_OIDC_REDIRECT_URL: {e}"))?;
        // Never follow redirects from the provider's endpoints (SSRF).
        let http = reqwest::ClientBuilder::new()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .map_err(|e| format!("cannot build the HTTP client for SSO: {e}"))?;
        Ok(OidcService {
            config,
            http,
            client: Default::default(),
            store,
        })
    }

    /// The client, discovered from the issuer on first use (Steward starts even while
    /// the provider is down; sign-in then retries discovery).
    async fn client(&self) -> Result<&OidcClient, SsoError> {
        self.client
            .get_or_try_init(|| async {
                let issuer = IssuerUrl::new(self.config.issuer.clone())
                    .map_err(|e| SsoError::Internal(e.to_string()))?;
                let metadata = CoreProviderMetadata::discover_async(issuer, &self.http)
                    .await
                    .map_err(|e| SsoError::Provider(format!("discovery failed: {e}")))?;
                let redirect = RedirectUrl::new(self.config.redirect_url.clone())
                    .map_err(|e| SsoError::Internal(e.to_string()))?;
                Ok(OidcClient::from_provider_metadata(
                    metadata,
                    ClientId::new(self.config.client_id.clone()),
                    Some(ClientSecret::new(self.config.client_secret.clone())),
                )
                .set_redirect_uri(redirect))
            })
            .await
    }

    /// Where to send the browser, and what its session must remember.
    pub async fn begin(&self, next: String) -> Result<(String, PendingLogin), SsoError> {
        let client = self.client().await?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_scope(Scope::new("email".into()))
            .add_scope(Scope::new("profile".into()))
            .set_pkce_challenge(challenge);
        if self.config.role_claim == "groups" {
            request = request.add_scope(Scope::new("groups".into()));
        }
        let (url, state, nonce) = request.url();
        Ok((
            url.to_string(),
            PendingLogin {
                state,
                nonce,
                pkce_verifier: verifier,
                next,
            },
        ))
    }

    /// Completes the sign-in: checks `state`, exchanges the code (with the PKCE
    /// verifier), validates the ID token (signature, issuer, audience, expiry, nonce),
    /// maps the role and provisions or updates the user.
    pub async fn complete(
        &self,
        pending: Option<PendingLogin>,
        code: &str,
        state: &str,
    ) -> Result<(Principal, String), SsoError> {
        let pending = pending.ok_or(SsoError::State)?;
        if pending.state.secret() != state {
            return Err(SsoError::State);
        }
        let client = self.client().await?;
        let token = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|e| SsoError::Internal(e.to_string()))?
            .set_pkce_verifier(pending.pkce_verifier)
            .request_async(&self.http)
            .await
            .map_err(|e| SsoError::Provider(format!("code exchange failed: {e}")))?;
        let id_token = token
            .id_token()
            .ok_or_else(|| SsoError::Token("the provider returned no ID token".into()))?;
        let claims = id_token
            .claims(&client.id_token_verifier(), &pending.nonce)
            .map_err(|e| SsoError::Token(e.to_string()))?;
        let extra = &claims.additional_claims().claims;
        let login = VerifiedLogin {
            subject: stable_subject(claims.subject().as_str(), extra),
            email: claims
                .email()
                .and_then(|e| normalize_email(e.as_str()).ok())
                .ok_or(SsoError::NoEmail)?,
            email_verified: claims.email_verified() == Some(true),
            name: claims
                .name()
                .and_then(|n| n.get(None))
                .map(|n| n.as_str().to_owned()),
            role_values: claim_values(extra.get(&self.config.role_claim)),
        };
        let principal = self.provision(&login).await?;
        Ok((principal, pending.next))
    }

    /// Signs in the account a verified ID token names: the user bound to its subject;
    /// else a user with its email, linked only when the provider verified the email
    /// and that user has no local password and no other SSO subject (otherwise an
    /// account at the provider could take over a Steward account by its email: an admin
    /// links those with `steward user link-sso`); else a new user.
    pub async fn provision(&self, login: &VerifiedLogin) -> Result<Principal, SsoError> {
        let internal = |e: crate::store::StoreError| SsoError::Internal(e.to_string());
        let issuer = &self.config.issuer;
        let VerifiedLogin {
            subject,
            email,
            name,
            role_values,
            ..
        } = login;
        let actor = format!("sso:{issuer}#{subject}");
        let role = map_role(role_values, &self.config.role_map);
        let Some(role) = role else {
            self.refused(email, json!({ "method": "oidc", "reason": "no role mapped", "claim_values": role_values }))
                .await?;
            return Err(SsoError::NoRole);
        };
        let bound = self
            .store
            .find_user_by_oidc(issuer, subject)
            .await
            .map_err(internal)?;
        let existing = match bound {
            Some(user) => Some(user),
            None => match self
                .store
                .find_user_by_email(email)
                .await
                .map_err(internal)?
            {
                Some(user) => {
                    if let Err(why) = may_link_by_email(&user, login.email_verified) {
                        self.refused(
                            email,
                            json!({ "method": "oidc", "issuer": issuer, "subject": subject,
                                    "reason": format!("not linked by email: {why}") }),
                        )
                        .await?;
                        return Err(SsoError::LinkRefused(why.to_owned()));
                    }
                    Some(user)
                }
                None => None,
            },
        };
        let user_id = match existing {
            Some(user) if !user.active => return Err(SsoError::Deactivated),
            Some(user) => {
                let audit = NewAuditEvent::new(
                    format!("user:{}", user.email),
                    AuditAction::AuthLogin,
                    format!("user:{}", user.email),
                    json!({ "method": "oidc", "issuer": issuer, "linked_now": user.sso.is_none(),
                            "before": { "role": user.role }, "after": { "role": role } }),
                );
                self.store
                    .record_oidc_login(user.id, issuer, subject, role, &audit)
                    .await
                    .map_err(internal)?;
                user.id
            }
            None => {
                let new = NewUser {
                    email: email.to_owned(),
                    display_name: name.clone().unwrap_or_else(|| email.clone()),
                    role,
                    password_hash: None,
                };
                let audit = NewAuditEvent::new(
                    actor,
                    AuditAction::UserCreate,
                    format!("user:{email}"),
                    json!({ "method": "oidc", "issuer": issuer,
                            "after": { "email": email, "display_name": new.display_name, "role": role } }),
                );
                let id = self
                    .store
                    .create_user(&new, &audit)
                    .await
                    .map_err(internal)?;
                let login = NewAuditEvent::new(
                    format!("user:{email}"),
                    AuditAction::AuthLogin,
                    format!("user:{email}"),
                    json!({ "method": "oidc", "issuer": issuer }),
                );
                self.store
                    .record_oidc_login(id, issuer, subject, role, &login)
                    .await
                    .map_err(internal)?;
                id
            }
        };
        let user = self
            .store
            .find_user(user_id)
            .await
            .map_err(internal)?
            .ok_or_else(|| SsoError::Internal("the user vanished".into()))?;
        Ok(principal_of(&user))
    }

    /// Audits a refused SSO sign-in.
    async fn refused(&self, email: &str, details: serde_json::Value) -> Result<(), SsoError> {
        let audit = NewAuditEvent::new(
            "anonymous",
            AuditAction::AuthLoginFailed,
            format!("user:{email}"),
            details,
        );
        self.store
            .append_audit(&audit)
            .await
            .map(|_| ())
            .map_err(|e| SsoError::Internal(e.to_string()))
    }

    /// The issuer whose subjects this service binds users to.
    pub fn issuer(&self) -> &str {
        &self.config.issuer
    }
}

/// What Steward takes from an ID token whose signature, issuer, audience, expiry and
/// nonce were verified.
#[derive(Debug, Clone)]
pub struct VerifiedLogin {
    /// The account's stable id at the provider (see [`stable_subject`]).
    pub subject: String,
    pub email: String,
    /// Only `email_verified: true` counts; absent is not verified.
    pub email_verified: bool,
    pub name: Option<String>,
    /// The values of the role claim.
    pub role_values: Vec<String>,
}

/// The account's stable id: Microsoft Entra ID's `oid` (the same for every app of the
/// tenant; its `sub` is per app) when the token carries it with the tenant `tid`,
/// otherwise `sub`.
pub fn stable_subject(sub: &str, claims: &HashMap<String, serde_json::Value>) -> String {
    match (
        claims.get("oid").and_then(serde_json::Value::as_str),
        claims.get("tid").and_then(serde_json::Value::as_str),
    ) {
        (Some(oid), Some(tid)) if !oid.is_empty() && !tid.is_empty() => format!("{tid}/{oid}"),
        _ => sub.to_owned(),
    }
}

/// Whether an SSO account whose email is `user`'s may be linked to it automatically:
/// only when the provider verified the email, the user has no local password and is
/// bound to no other SSO subject.
pub fn may_link_by_email(user: &UserRecord, email_verified: bool) -> Result<(), &'static str> {
    if !email_verified {
        return Err("the identity provider did not verify the email address");
    }
    if user.password_hash.is_some() {
        return Err("the Steward account signs in with a local password");
    }
    if user.sso.is_some() {
        return Err("the Steward account is bound to another single sign-on account");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_mapping_picks_the_most_powerful_match() {
        let map =
            parse_role_map("steward-admins=admin, steward-owners=owner,staff=viewer,audit=auditor")
                .unwrap();
        let v = |items: &[&str]| items.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            map_role(&v(&["staff", "steward-admins"]), &map),
            Some(Role::Admin)
        );
        assert_eq!(map_role(&v(&["staff", "audit"]), &map), Some(Role::Auditor));
        assert_eq!(map_role(&v(&["staff"]), &map), Some(Role::Viewer));
        assert_eq!(map_role(&v(&["other"]), &map), None);
        assert!(parse_role_map("admins=root")
            .unwrap_err()
            .contains("unknown value 'root'"));
        assert!(parse_role_map("admins").is_err());
        assert_eq!(claim_values(Some(&json!("a"))), vec!["a".to_owned()]);
        assert_eq!(
            claim_values(Some(&json!(["a", 1, "b"]))),
            vec!["a".to_owned(), "b".to_owned()]
        );
        assert!(claim_values(None).is_empty());
    }
}
