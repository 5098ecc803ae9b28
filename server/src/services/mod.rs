//! The service layer: implementations of the domain's ports over the store. Every
//! rule, every authorization decision and every audit entry lives here, so the web UI,
//! the REST API and the CLI cannot disagree.

pub mod accounts;
pub mod audit;
pub mod authz;
pub mod campaigns;
pub mod federation;
pub mod grants;
pub mod imports;
pub mod inventory;
pub mod notify;
pub mod ownership;
pub mod posture;

use std::sync::Arc;

use crate::adapters::{feed, keys, oidc};
use accounts::{auth, second_factor, tokens};

use steward_domain::identity::LifecyclePolicy;
use steward_domain::imports::ImportLimits;
use steward_domain::ports::Ports;
use steward_domain::posture::checks::CheckSettings;
use steward_domain::DomainError;

use crate::store::write::WriteError;
use crate::store::Store;

/// Locks a mutex guarding a cache, also after a panic elsewhere poisoned it (the data
/// is a cache or a counter: still usable).
pub(crate) fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Turns a failed write into what the caller is told (every service writes through
/// the store and answers the same way).
pub fn write_error(error: WriteError, duplicate: &str) -> DomainError {
    match error {
        WriteError::Precondition(message) => DomainError::Conflict {
            message: message.to_owned(),
        },
        WriteError::Duplicate => DomainError::Conflict {
            message: duplicate.to_owned(),
        },
        WriteError::Store(e) => e.into(),
    }
}

/// Every service over one store.
#[derive(Clone)]
pub struct Services {
    pub store: Store,
    /// The register: identities, their credentials, entitlements and delegations, and
    /// their lifecycle.
    pub inventory: Arc<inventory::InventoryService>,
    /// Owners, sponsors, the inbox, the orphan queue and leavers.
    pub ownership: Arc<ownership::OwnershipService>,
    /// The audit trail.
    pub audit: Arc<audit::AuditService>,
    /// Importing inventories (with `import_limits`).
    pub imports: Arc<imports::ImportService>,
    pub auth: auth::AuthService,
    /// The second factor of local sign-in.
    pub second_factor: second_factor::SecondFactorService,
    pub tokens: tokens::TokenService,
    /// Single sign-on, when configured.
    pub oidc: Option<oidc::OidcService>,
    /// What one import may hold.
    pub import_limits: ImportLimits,
    /// The lifecycle policy identities obey (expiry, leavers).
    pub policy: LifecyclePolicy,
    /// The findings engine.
    pub posture: Arc<posture::PostureService>,
    /// Review campaigns.
    pub campaigns: Arc<campaigns::CampaignService>,
    /// Just-in-time grants.
    pub grants: Arc<grants::GrantService>,
    /// Runtime authorization of agents.
    pub authz: Arc<authz::AuthzService>,
    /// Where campaign and grant events are announced.
    pub webhook_config: notify::WebhookConfig,
    /// How grant credentials are signed.
    pub credentials: Credentials,
    /// The change feed keeping the token and decision caches current.
    pub feed: Arc<feed::ChangeFeed>,
    /// Workload identity federation.
    pub federation: Arc<federation::FederationService>,
}

/// The keys grant credentials are signed with, and their issuer (Steward's public URL).
#[derive(Clone)]
pub struct Credentials {
    pub keys: Arc<keys::SigningKeys>,
    pub issuer: String,
}

impl Services {
    pub fn new(store: Store) -> Self {
        Self::with_policy(store, LifecyclePolicy::default())
    }

    /// Services whose identities obey `policy` (expiry, leavers).
    pub fn with_policy(store: Store, policy: LifecyclePolicy) -> Self {
        let posture = Arc::new(posture::PostureService::new(
            store.clone(),
            CheckSettings {
                expiry: policy,
                ..CheckSettings::default()
            },
        ));
        let keys = Arc::new(
            keys::SigningKeys::ephemeral(chrono::Duration::hours(24))
                .unwrap_or_else(|error| panic!("no random source for a signing key: {error}")),
        );
        let feed = Arc::new(feed::ChangeFeed::new(store.clone()));
        Self::assemble(
            store,
            policy,
            posture,
            notify::WebhookConfig::default(),
            Credentials {
                keys,
                issuer: "http://127.0.0.1:3000".into(),
            },
            feed,
        )
    }

    /// The same services announcing campaign events to these webhooks.
    pub fn with_webhooks(self, webhooks: notify::WebhookConfig) -> Self {
        let policy = self.policy;
        let rebuilt = Self::assemble(
            self.store.clone(),
            policy,
            self.posture.clone(),
            webhooks,
            self.credentials.clone(),
            self.feed.clone(),
        );
        Services {
            campaigns: rebuilt.campaigns,
            grants: rebuilt.grants,
            authz: rebuilt.authz,
            federation: rebuilt.federation,
            webhook_config: rebuilt.webhook_config,
            ..self
        }
    }

    /// The same services signing grant credentials with `keys` as `issuer`.
    pub fn with_credentials(self, keys: Arc<keys::SigningKeys>, issuer: String) -> Self {
        let credentials = Credentials { keys, issuer };
        let rebuilt = Self::assemble(
            self.store.clone(),
            self.policy,
            self.posture.clone(),
            self.webhook_config.clone(),
            credentials.clone(),
            self.feed.clone(),
        );
        Services {
            grants: rebuilt.grants,
            authz: rebuilt.authz,
            federation: rebuilt.federation,
            credentials,
            ..self
        }
    }

    /// The use cases the UI and the REST API call (`steward_domain::ports`), over these
    /// services: each port is one of the services above, not a copy.
    pub fn ports(&self) -> Ports {
        Ports {
            inventory: self.inventory.clone(),
            ownership: self.ownership.clone(),
            audit: self.audit.clone(),
            imports: self.imports.clone(),
            posture: self.posture.clone(),
            campaigns: self.campaigns.clone(),
            grants: self.grants.clone(),
            authz: self.authz.clone(),
            federation: self.federation.clone(),
        }
    }

    fn assemble(
        store: Store,
        policy: LifecyclePolicy,
        posture: Arc<posture::PostureService>,
        webhook_config: notify::WebhookConfig,
        credentials: Credentials,
        feed: Arc<feed::ChangeFeed>,
    ) -> Self {
        let inventory: Arc<inventory::InventoryService> = Arc::new(
            inventory::InventoryService::new(store.clone(), policy, posture.clone()),
        );
        let webhooks = notify::Webhooks::new(webhook_config.clone());
        let campaigns = Arc::new(campaigns::CampaignService::new(
            store.clone(),
            inventory.clone(),
            webhooks.clone(),
        ));
        let grants = Arc::new(grants::GrantService::new(
            store.clone(),
            webhooks,
            credentials.keys.clone(),
            credentials.issuer.clone(),
        ));
        let federation = Arc::new(federation::FederationService::new(
            store.clone(),
            feed.clone(),
            grants.clone(),
            posture.clone(),
        ));
        let authz = Arc::new(authz::AuthzService::new(
            store.clone(),
            feed.clone(),
            grants.clone(),
            federation.clone(),
        ));
        Services {
            inventory,
            ownership: Arc::new(ownership::OwnershipService::new(
                store.clone(),
                posture.clone(),
                policy.leaver,
            )),
            audit: Arc::new(audit::AuditService::new(store.clone())),
            imports: Arc::new(imports::ImportService::new(
                store.clone(),
                ImportLimits::default(),
                Some(posture.clone()),
            )),
            federation,
            posture,
            campaigns,
            grants,
            authz,
            policy,
            webhook_config,
            credentials,
            auth: auth::AuthService::new(store.clone()),
            // Until `with_second_factor`: a key of its own and no role required (tests
            // that are not about the second factor sign in with a password alone).
            second_factor: second_factor::SecondFactorService::new(
                store.clone(),
                second_factor::Sealer::ephemeral()
                    .unwrap_or_else(|error| panic!("no random source for a key: {error}")),
                Vec::new(),
            ),
            tokens: tokens::TokenService::new(store.clone(), feed.clone()),
            feed,
            oidc: None,
            import_limits: ImportLimits::default(),
            store,
        }
    }

    /// The same services with other limits on imports.
    pub fn with_import_limits(mut self, limits: ImportLimits) -> Self {
        self.import_limits = limits;
        self.imports = Arc::new(imports::ImportService::new(
            self.store.clone(),
            limits,
            Some(self.posture.clone()),
        ));
        self
    }

    /// The same services letting trust configurations fetch their JWKS over plain
    /// `http` from loopback addresses (tests and local development only).
    pub fn allowing_loopback_jwks(self, allow: bool) -> Self {
        self.federation.allow_loopback_jwks(allow);
        self
    }

    /// The same services with the second factor sealed under `sealer` and required of
    /// `roles`.
    pub fn with_second_factor(
        mut self,
        sealer: second_factor::Sealer,
        roles: Vec<steward_domain::auth::Role>,
    ) -> Self {
        self.second_factor =
            second_factor::SecondFactorService::new(self.store.clone(), sealer, roles);
        self
    }

    /// The same services with single sign-on.
    pub fn with_oidc(mut self, oidc: oidc::OidcService) -> Self {
        self.oidc = Some(oidc);
        self
    }
}
