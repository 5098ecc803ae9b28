//! The demo's sign-in accounts (one per role, one password printed once) and the
//! tour's orphaned agent and grant policy, made through the services like any change.

use chrono::{Duration, Utc};
use steward_domain::auth::Role;
use steward_domain::inventory::IdentityKind;
use steward_domain::DomainError;

use crate::services::accounts::auth::AuthService;

use super::DemoError;

/// The orphaned agent the README's first tour starts from.
pub const TOUR_AGENT: &str = "invoice-triage-agent";
/// The grant policy that makes one-click access work in the demo.
pub const TOUR_POLICY: &str = "Billing write access, one hour";

/// What a first look at Steward needs beyond the generated register: a grant policy,
/// so one-click just-in-time access works out of the box, and one orphaned AI agent
/// with a just-in-time entitlement it covers (the README's tour). Made through the
/// services as the demo security-team account, so the audit trail and the findings
/// show them like any other change. Skipped, with a warning, when that account cannot
/// sign in with `password` (it existed before, with another password).
pub async fn seed_tour(
    services: &crate::services::Services,
    password: &str,
) -> Result<(), DemoError> {
    use steward_domain::grants::{ApprovalMode, PolicyDraft, Requesters};
    use steward_domain::identity::{Autonomy, GrantType, IdentityDraft, NewEntitlement, Privilege};
    let Ok(admin) = services.auth.login_local(DEMO_USERS[0].0, password).await else {
        tracing::warn!(
            "the demo admin account has another password: no tour agent or grant policy added"
        );
        return Ok(());
    };
    let admin = Some(&admin);
    services
        .ports()
        .grants
        .create_policy(
            admin,
            &PolicyDraft {
                name: TOUR_POLICY.into(),
                resource: "billing-*".into(),
                action: "write".into(),
                scope: String::new(),
                requesters: Requesters::Owners,
                approval: ApprovalMode::Automatic,
                max_minutes: 60,
                reason_required: true,
                windows: Vec::new(),
            },
        )
        .await
        .map_err(DemoError::Tour)?;
    let agent = services
        .ports()
        .inventory
        .create_identity(
            admin,
            &IdentityDraft {
                name: TOUR_AGENT.into(),
                kind: IdentityKind::Agent,
                external_id: None,
                environment: "prod".into(),
                team: Some("payments".into()),
                purpose: Some(
                    "Sorts incoming supplier invoices and drafts payment runs for review".into(),
                ),
                autonomy: Some(Autonomy::Supervised),
                sensitivity_ceiling: None,
                spiffe_id: None,
                revocation_path: Some(
                    "Revoke its Steward API token and remove it from the billing-db writers role"
                        .into(),
                ),
                expires_at: Some(Utc::now() + Duration::days(60)),
            },
        )
        .await
        .map_err(DemoError::Tour)?;
    services
        .ports()
        .inventory
        .add_entitlement(
            admin,
            agent.summary.id,
            &NewEntitlement {
                resource: "billing-db".into(),
                action: "write".into(),
                privilege: Privilege::Write,
                grant_type: GrantType::JustInTime,
            },
        )
        .await
        .map_err(DemoError::Tour)?;
    Ok(())
}

/// The sign-in accounts `steward demo` creates: one per role.
pub const DEMO_USERS: &[(&str, &str, Role)] = &[
    (
        "admin@steward.local",
        "Avery Admin (security team)",
        Role::Admin,
    ),
    ("owner@steward.local", "Olu Owner (payments)", Role::Owner),
    (
        "viewer@steward.local",
        "Vera Viewer (manager)",
        Role::Viewer,
    ),
    ("auditor@steward.local", "Aldo Auditor", Role::Auditor),
];

/// A random password for demo accounts, unless one is given (`STEWARD_DEMO_PASSWORD`).
pub fn demo_password(given: Option<String>) -> Result<String, DemoError> {
    if let Some(password) = given.filter(|p| !p.is_empty()) {
        return Ok(password);
    }
    let mut bytes = [0u8; 12];
    getrandom::getrandom(&mut bytes).map_err(|e| DemoError::Random(e.to_string()))?;
    Ok(base64::Engine::encode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        bytes,
    ))
}

/// Creates the demo accounts (skipping any that exist) with `password`; returns the
/// emails created.
pub async fn seed_users(
    auth: &AuthService,
    password: &str,
) -> Result<Vec<&'static str>, DemoError> {
    let mut created = Vec::new();
    for (email, name, role) in DEMO_USERS {
        match auth
            .add_user("system:demo", email, Some(name), *role, password)
            .await
        {
            Ok(_) => created.push(*email),
            Err(DomainError::Conflict { .. }) => {}
            Err(error) => return Err(DemoError::Users(error)),
        }
    }
    Ok(created)
}

/// What to print so people can sign in to a demo.
pub fn credentials_banner(created: &[&str], password: &str) -> String {
    let mut text = String::from("Demo sign-in accounts (one per role), all with the password ");
    text.push_str(password);
    text.push_str(":\n");
    for (email, _, role) in DEMO_USERS.iter().filter(|(e, _, _)| created.contains(e)) {
        text.push_str(&format!("  {role:<8} {email}\n"));
    }
    text
}
