//! The checks of the catalog as plain functions: given what the register knows about
//! one identity (its [`Subject`]), which checks it fails and why. The store gathers the
//! subjects; the findings engine turns detections into findings with a lifecycle.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::delegation::DelegationKind;
use crate::identity::{
    CredentialInfo, CredentialKind, Entitlement, GrantType, LifecyclePolicy, Privilege,
    RotationState,
};
use crate::import::github::third_party_can_write;
use crate::inventory::{ActorClass, IdentityKind, IdentityStatus};
use crate::policy::DriftKind;

/// An identity at the other end of a delegation edge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Peer {
    pub id: Uuid,
    pub kind: IdentityKind,
    pub environment: String,
    pub status: IdentityStatus,
    /// Whether someone active owns it.
    pub owned: bool,
    pub delegation: DelegationKind,
    /// Its active entitlements' permissions (`resource:action`).
    pub permissions: BTreeSet<String>,
}

/// An agent's runtime limits, as far as they are set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentLimits {
    /// The tools it may call (`None`: no allowlist — any tool).
    pub tool_allowlist: Option<Vec<String>>,
    pub max_session_minutes: Option<u32>,
    pub max_calls_per_session: Option<u32>,
}

impl From<&crate::policy::AgentLimits> for AgentLimits {
    /// What the checks look at of the limits set for runtime authorization.
    fn from(limits: &crate::policy::AgentLimits) -> Self {
        AgentLimits {
            tool_allowlist: (!limits.tools.is_empty()).then(|| limits.tools.clone()),
            max_session_minutes: limits.max_session_minutes,
            max_calls_per_session: limits.max_calls,
        }
    }
}

/// What the findings engine knows about one identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subject {
    pub id: Uuid,
    pub kind: IdentityKind,
    pub environment: String,
    pub status: IdentityStatus,
    /// `None`: no owner; `Some(false)`: an owner who has left.
    pub owner_active: Option<bool>,
    pub has_sponsor: bool,
    pub purpose: Option<String>,
    pub spiffe_id: Option<String>,
    pub revocation_path: Option<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub credentials: Vec<CredentialInfo>,
    pub entitlements: Vec<Entitlement>,
    /// Import signals: (name, detail).
    pub signals: Vec<(String, String)>,
    /// Identities this one delegates to (acts as, or hands work to).
    pub delegates_to: Vec<Peer>,
    /// Identities that delegate to this one.
    pub delegated_from: Vec<Peer>,
    pub agent_limits: AgentLimits,
    /// What its runtime decisions showed beyond its approvals, over the drift window.
    #[serde(default)]
    pub runtime_drift: Vec<RuntimeDrift>,
    /// Trust configurations with a claim rule for it: it can prove itself with a token
    /// its platform issues (workload identity federation).
    #[serde(default)]
    pub federated_by: Vec<String>,
    /// Live Steward API tokens made to act for it (static secrets too).
    #[serde(default)]
    pub agent_tokens: u32,
}

/// How far back runtime decisions count as drift.
pub const DRIFT_WINDOW_DAYS: i64 = 30;

/// Drift of one kind seen in an identity's runtime decisions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuntimeDrift {
    pub kind: DriftKind,
    /// How many decisions showed it.
    pub count: u64,
    /// Some of the resources asked for (tools, datasets, identities), for the detail.
    pub resources: Vec<String>,
}

/// The thresholds the checks use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckSettings {
    pub expiry: LifecyclePolicy,
    /// Unused for this many days (or never used and older than this): `unused`.
    pub unused_days: u32,
    /// A credential never rotated and older than this: `never-rotated`.
    pub never_rotated_days: u32,
}

impl Default for CheckSettings {
    fn default() -> Self {
        CheckSettings {
            expiry: LifecyclePolicy::default(),
            unused_days: 90,
            never_rotated_days: 90,
        }
    }
}

/// One failed check: its id (as in the catalog) and what exactly is wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Detection {
    pub check: &'static str,
    pub detail: String,
}

fn blank(text: &Option<String>) -> bool {
    text.as_deref().is_none_or(|t| t.trim().is_empty())
}

fn active_credentials<'a>(
    subject: &'a Subject,
    now: DateTime<Utc>,
) -> impl Iterator<Item = &'a CredentialInfo> + 'a {
    subject.credentials.iter().filter(move |c| {
        !matches!(
            c.rotation_state(now),
            RotationState::Revoked | RotationState::Expired
        )
    })
}

fn active_entitlements(subject: &Subject) -> impl Iterator<Item = &Entitlement> {
    subject
        .entitlements
        .iter()
        .filter(|e| e.removed_at.is_none())
}

fn signal<'a>(subject: &'a Subject, name: &str) -> Option<&'a str> {
    subject
        .signals
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, detail)| detail.as_str())
}

/// Every check `subject` fails at `now`. Retired identities fail none: they are kept
/// for the record only.
pub fn evaluate(subject: &Subject, settings: &CheckSettings, now: DateTime<Utc>) -> Vec<Detection> {
    let mut found = Vec::new();
    let mut fail = |check: &'static str, detail: String| found.push(Detection { check, detail });
    if subject.status == IdentityStatus::Retired {
        return Vec::new();
    }
    let class = subject.kind.actor_class();
    let ai = class == ActorClass::Ai;

    match subject.owner_active {
        None => fail("no-owner", "no owner is named".into()),
        Some(false) => fail("owner-left", "the owner has left".into()),
        Some(true) => {}
    }
    match subject.expires_at {
        None => fail("no-expiry", "no expiry date".into()),
        Some(expires) => {
            let max = settings.expiry.max_days(subject.kind);
            if expires > now + Duration::days(i64::from(max)) {
                fail(
                    "expiry-beyond-policy",
                    format!(
                        "expires in {} days; the policy for {class} identities allows {max}",
                        (expires - now).num_days()
                    ),
                );
            }
        }
    }
    if blank(&subject.revocation_path) {
        fail(
            "no-revocation-path",
            "no revocation path is documented".into(),
        );
    }
    // A federated credential has no secret to rotate.
    for credential in
        active_credentials(subject, now).filter(|c| c.kind != CredentialKind::Federated)
    {
        if credential.rotation_state(now) == RotationState::Overdue {
            fail(
                "rotation-overdue",
                format!(
                    "{} {} was last set {} days ago; its policy is {} days",
                    credential.kind,
                    credential.key_id,
                    credential.age_days(now),
                    credential.rotation_days.unwrap_or_default()
                ),
            );
        }
        if credential.last_rotated_at.is_none()
            && credential.age_days(now) >= i64::from(settings.never_rotated_days)
        {
            fail(
                "never-rotated",
                format!(
                    "{} {} has not been rotated in {} days",
                    credential.kind,
                    credential.key_id,
                    credential.age_days(now)
                ),
            );
        }
    }
    let unused_since = now - Duration::days(i64::from(settings.unused_days));
    match subject.last_used_at {
        Some(used) if used < unused_since => fail(
            "unused",
            format!("last used {} days ago", (now - used).num_days()),
        ),
        None if subject.created_at < unused_since => fail(
            "unused",
            format!(
                "never used in the {} days since it was created",
                (now - subject.created_at).num_days()
            ),
        ),
        _ => {}
    }
    for entitlement in active_entitlements(subject) {
        if entitlement.privilege == Privilege::Admin
            && entitlement.grant_type == GrantType::Standing
        {
            fail(
                "admin-entitlement",
                format!("standing admin on {}", entitlement.resource),
            );
        }
    }
    let elsewhere: BTreeSet<&str> = subject
        .delegates_to
        .iter()
        .chain(&subject.delegated_from)
        .map(|peer| peer.environment.as_str())
        .filter(|environment| *environment != subject.environment)
        .collect();
    if !elsewhere.is_empty() {
        fail(
            "several-environments",
            format!(
                "in {} but delegation links it to {}",
                subject.environment,
                elsewhere.into_iter().collect::<Vec<_>>().join(", ")
            ),
        );
    }
    if class == ActorClass::Machine {
        let workloads: BTreeSet<Uuid> = subject
            .delegated_from
            .iter()
            .filter(|peer| matches!(peer.kind, IdentityKind::Workload | IdentityKind::CiRunner))
            .map(|peer| peer.id)
            .collect();
        if workloads.len() >= 2 {
            fail(
                "shared-by-workloads",
                format!("{} workloads act as this identity", workloads.len()),
            );
        }
        if let Some(detail) = signal(subject, "possible_human_use") {
            fail("human-use", detail.to_owned());
        }
        let writes = active_entitlements(subject).any(|e| e.privilege != Privilege::Read);
        if let Some(detail) = signal(subject, "third_party_integration") {
            if writes || third_party_can_write(detail) {
                fail("third-party-write", detail.to_owned());
            }
        }
        if subject.kind == IdentityKind::CiRunner {
            if let Some(key) =
                active_credentials(subject, now).find(|c| c.kind == CredentialKind::AccessKey)
            {
                fail(
                    "ci-static-cloud-key",
                    format!("holds the static access key {}", key.key_id),
                );
            }
        }
    }
    if matches!(
        subject.kind,
        IdentityKind::Workload | IdentityKind::Agent | IdentityKind::Orchestrator
    ) && blank(&subject.spiffe_id)
    {
        fail("no-workload-binding", "no SPIFFE ID".into());
    }
    if let Some(detail) = signal(subject, "secret_uploaded") {
        fail("secret-uploaded", detail.to_owned());
    }
    if ai {
        let limits = &subject.agent_limits;
        if subject.kind != IdentityKind::AssistantSession && limits.tool_allowlist.is_none() {
            fail("agent-no-tool-allowlist", "any tool may be called".into());
        }
        if limits.max_session_minutes.is_none() && limits.max_calls_per_session.is_none() {
            fail(
                "agent-no-session-limits",
                "no limit on session length or calls".into(),
            );
        }
        if blank(&subject.purpose) {
            fail(
                "agent-no-purpose",
                "no task or purpose is documented".into(),
            );
        }
        if !subject.has_sponsor {
            fail("agent-no-sponsor", "no human sponsor".into());
        }
        let own: BTreeSet<String> = active_entitlements(subject)
            .map(Entitlement::permission)
            .collect();
        for peer in &subject.delegates_to {
            match peer.delegation {
                DelegationKind::ActsAs => {
                    let extra: Vec<&str> = peer
                        .permissions
                        .iter()
                        .filter(|p| !own.contains(*p))
                        .map(String::as_str)
                        .collect();
                    if !extra.is_empty() {
                        fail(
                            "agent-privilege-through-delegation",
                            format!(
                                "acts through {} ({}), which can also {}",
                                peer.id,
                                peer.kind,
                                extra.join(", ")
                            ),
                        );
                    }
                }
                DelegationKind::SubAgent => {
                    if peer.status != IdentityStatus::Active || !peer.owned {
                        fail(
                            "unregistered-subagent",
                            format!(
                                "hands work to {} ({}), which is {}{}",
                                peer.id,
                                peer.kind,
                                peer.status,
                                if peer.owned {
                                    ""
                                } else {
                                    " and has no active owner"
                                }
                            ),
                        );
                    }
                }
            }
        }
    }
    if !subject.federated_by.is_empty() {
        let secrets = active_credentials(subject, now)
            .filter(|c| c.kind.is_static_secret())
            .count()
            + subject.agent_tokens as usize;
        if secrets > 0 {
            fail(
                "static-secret-despite-federation",
                format!(
                    "holds {secrets} static secret{} where a federated token is possible \
                     (trust configuration {})",
                    if secrets == 1 { "" } else { "s" },
                    subject.federated_by.join(", ")
                ),
            );
        }
    }
    for drift in &subject.runtime_drift {
        let check = match drift.kind {
            DriftKind::ToolOutsideAllowlist if ai => "agent-tool-outside-allowlist",
            DriftKind::BeyondApprovalThroughDelegation if ai => {
                "agent-beyond-approval-through-delegation"
            }
            DriftKind::UnregisteredDelegation => "unregistered-delegation-at-runtime",
            _ => continue,
        };
        let what = match drift.kind {
            DriftKind::ToolOutsideAllowlist => "asked for tools outside its allowlist",
            DriftKind::UnregisteredDelegation => "used delegations that are not registered",
            DriftKind::BeyondApprovalThroughDelegation => {
                "acted through another identity beyond its own approval"
            }
        };
        fail(
            check,
            format!(
                "{what} in {} runtime decision{} ({})",
                drift.count,
                if drift.count == 1 { "" } else { "s" },
                drift.resources.join(", ")
            ),
        );
    }
    found
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::collections::BTreeMap;

    use super::*;
    use crate::posture::catalog::Catalog;

    /// Distinct ids without a random source (the domain crate has none).
    fn next_id() -> Uuid {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        Uuid::from_u128(u128::from(
            NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        ))
    }

    fn now() -> DateTime<Utc> {
        "2026-11-29T12:00:00Z".parse().unwrap()
    }

    fn days_ago(days: i64) -> DateTime<Utc> {
        now() - Duration::days(days)
    }

    fn credential(
        kind: CredentialKind,
        created_days_ago: i64,
        rotated_days_ago: Option<i64>,
    ) -> CredentialInfo {
        CredentialInfo {
            id: next_id(),
            kind,
            key_id: "key-1".into(),
            created_at: days_ago(created_days_ago),
            last_rotated_at: rotated_days_ago.map(days_ago),
            expires_at: None,
            last_used_at: Some(days_ago(1)),
            rotation_days: Some(90),
            revoked_at: None,
        }
    }

    fn entitlement(resource: &str, privilege: Privilege, grant_type: GrantType) -> Entitlement {
        Entitlement {
            id: next_id(),
            resource: resource.into(),
            action: privilege.as_str().into(),
            privilege,
            grant_type,
            created_at: days_ago(10),
            removed_at: None,
        }
    }

    fn drift(kind: DriftKind) -> RuntimeDrift {
        RuntimeDrift {
            kind,
            count: 3,
            resources: vec!["Tool::shell.exec".into()],
        }
    }

    fn peer(kind: IdentityKind, delegation: DelegationKind, permissions: &[&str]) -> Peer {
        Peer {
            id: next_id(),
            kind,
            environment: "prod".into(),
            status: IdentityStatus::Active,
            owned: true,
            delegation,
            permissions: permissions.iter().map(|p| (*p).to_owned()).collect(),
        }
    }

    /// A well-governed service account: fails no check.
    fn service_account() -> Subject {
        Subject {
            id: next_id(),
            kind: IdentityKind::ServiceAccount,
            environment: "prod".into(),
            status: IdentityStatus::Active,
            owner_active: Some(true),
            has_sponsor: true,
            purpose: Some("nightly billing export".into()),
            spiffe_id: None,
            revocation_path: Some("https://runbooks.example.com/revoke/billing".into()),
            created_at: days_ago(200),
            expires_at: Some(now() + Duration::days(100)),
            last_used_at: Some(days_ago(2)),
            credentials: vec![credential(CredentialKind::AccessKey, 200, Some(30))],
            entitlements: vec![entitlement(
                "s3://billing",
                Privilege::Write,
                GrantType::Standing,
            )],
            signals: Vec::new(),
            delegates_to: Vec::new(),
            delegated_from: Vec::new(),
            agent_limits: AgentLimits::default(),
            runtime_drift: Vec::new(),
            federated_by: Vec::new(),
            agent_tokens: 0,
        }
    }

    /// A well-governed agent: fails no check.
    fn agent() -> Subject {
        Subject {
            kind: IdentityKind::Agent,
            spiffe_id: Some("spiffe://prod.example.com/ns/ai/sa/triage".into()),
            expires_at: Some(now() + Duration::days(30)),
            credentials: vec![credential(CredentialKind::Federated, 200, None)],
            entitlements: vec![entitlement("tickets", Privilege::Read, GrantType::Standing)],
            delegates_to: vec![peer(
                IdentityKind::ServiceAccount,
                DelegationKind::ActsAs,
                &["tickets:read"],
            )],
            agent_limits: AgentLimits {
                tool_allowlist: Some(vec!["search_tickets".into()]),
                max_session_minutes: Some(30),
                max_calls_per_session: None,
            },
            runtime_drift: Vec::new(),
            ..service_account()
        }
    }

    fn failed(subject: &Subject) -> Vec<&'static str> {
        evaluate(subject, &CheckSettings::default(), now())
            .into_iter()
            .map(|d| d.check)
            .collect()
    }

    /// Each check with a subject that fails exactly it.
    fn cases() -> Vec<(&'static str, Subject)> {
        let with = |base: Subject, change: &dyn Fn(&mut Subject)| {
            let mut subject = base;
            change(&mut subject);
            subject
        };
        vec![
            (
                "no-owner",
                with(service_account(), &|s| s.owner_active = None),
            ),
            (
                "owner-left",
                with(service_account(), &|s| s.owner_active = Some(false)),
            ),
            (
                "no-expiry",
                with(service_account(), &|s| s.expires_at = None),
            ),
            (
                "expiry-beyond-policy",
                with(agent(), &|s| {
                    s.expires_at = Some(now() + Duration::days(91))
                }),
            ),
            (
                "no-revocation-path",
                with(service_account(), &|s| {
                    s.revocation_path = Some("  ".into())
                }),
            ),
            (
                "rotation-overdue",
                with(service_account(), &|s| {
                    s.credentials[0].last_rotated_at = Some(days_ago(91))
                }),
            ),
            (
                "never-rotated",
                with(service_account(), &|s| {
                    s.credentials[0].rotation_days = None;
                    s.credentials[0].last_rotated_at = None;
                }),
            ),
            (
                "unused",
                with(service_account(), &|s| s.last_used_at = Some(days_ago(91))),
            ),
            (
                "admin-entitlement",
                with(service_account(), &|s| {
                    s.entitlements[0].privilege = Privilege::Admin
                }),
            ),
            (
                "several-environments",
                with(agent(), &|s| s.delegates_to[0].environment = "dev".into()),
            ),
            (
                "shared-by-workloads",
                with(service_account(), &|s| {
                    s.delegated_from = vec![
                        peer(IdentityKind::Workload, DelegationKind::ActsAs, &[]),
                        peer(IdentityKind::CiRunner, DelegationKind::ActsAs, &[]),
                    ]
                }),
            ),
            (
                "human-use",
                with(service_account(), &|s| {
                    s.signals = vec![(
                        "possible_human_use".into(),
                        "console password and active keys".into(),
                    )]
                }),
            ),
            (
                "third-party-write",
                with(service_account(), &|s| {
                    s.kind = IdentityKind::Integration;
                    s.entitlements.clear();
                    s.signals = vec![(
                        "third_party_integration".into(),
                        "installed app that can change: checks".into(),
                    )]
                }),
            ),
            (
                "ci-static-cloud-key",
                with(service_account(), &|s| s.kind = IdentityKind::CiRunner),
            ),
            (
                "no-workload-binding",
                with(agent(), &|s| s.spiffe_id = None),
            ),
            (
                "secret-uploaded",
                with(service_account(), &|s| {
                    s.signals = vec![("secret_uploaded".into(), "a key file was uploaded".into())]
                }),
            ),
            (
                "agent-no-tool-allowlist",
                with(agent(), &|s| s.agent_limits.tool_allowlist = None),
            ),
            (
                "agent-no-session-limits",
                with(agent(), &|s| s.agent_limits.max_session_minutes = None),
            ),
            ("agent-no-purpose", with(agent(), &|s| s.purpose = None)),
            (
                "agent-no-sponsor",
                with(agent(), &|s| s.has_sponsor = false),
            ),
            (
                "agent-privilege-through-delegation",
                with(agent(), &|s| {
                    s.delegates_to[0]
                        .permissions
                        .insert("tickets:delete".into());
                }),
            ),
            (
                "agent-tool-outside-allowlist",
                with(agent(), &|s| {
                    s.runtime_drift = vec![drift(DriftKind::ToolOutsideAllowlist)]
                }),
            ),
            (
                "agent-beyond-approval-through-delegation",
                with(agent(), &|s| {
                    s.runtime_drift = vec![drift(DriftKind::BeyondApprovalThroughDelegation)]
                }),
            ),
            (
                "unregistered-delegation-at-runtime",
                with(service_account(), &|s| {
                    s.runtime_drift = vec![drift(DriftKind::UnregisteredDelegation)]
                }),
            ),
            (
                "static-secret-despite-federation",
                with(service_account(), &|s| {
                    s.federated_by = vec!["payments cluster".into()]
                }),
            ),
            (
                "unregistered-subagent",
                with(agent(), &|s| {
                    let mut sub = peer(IdentityKind::Agent, DelegationKind::SubAgent, &[]);
                    sub.owned = false;
                    s.delegates_to.push(sub);
                }),
            ),
        ]
    }

    #[test]
    fn well_governed_identities_fail_nothing() {
        assert_eq!(failed(&service_account()), Vec::<&str>::new());
        assert_eq!(failed(&agent()), Vec::<&str>::new());
    }

    #[test]
    fn each_check_fires_on_its_own_condition_only() {
        for (check, subject) in cases() {
            assert_eq!(failed(&subject), vec![check], "the case for {check}");
        }
    }

    #[test]
    fn every_catalog_check_is_implemented_and_every_detection_is_in_the_catalog() {
        let catalog = Catalog::shipped();
        let implemented: BTreeMap<&str, Subject> = cases().into_iter().collect();
        for check in &catalog.checks {
            let subject = implemented
                .get(check.id.as_str())
                .unwrap_or_else(|| panic!("no case for the catalog's check {}", check.id));
            // It applies to the actor class of the subject that fails it.
            assert!(
                check.applies_to.contains(&subject.kind.actor_class()),
                "{}",
                check.id
            );
        }
        for check in implemented.keys() {
            assert!(
                catalog.check(check).is_some(),
                "{check} is not in the catalog"
            );
        }
    }

    #[test]
    fn edges_of_the_conditions() {
        // Retired identities are kept for the record and fail nothing.
        let mut retired = service_account();
        retired.owner_active = None;
        retired.status = IdentityStatus::Retired;
        assert!(failed(&retired).is_empty());
        // Unused: never used counts from creation; a fresh identity is not unused.
        let mut fresh = service_account();
        fresh.last_used_at = None;
        fresh.created_at = days_ago(10);
        assert!(failed(&fresh).is_empty());
        fresh.created_at = days_ago(100);
        assert_eq!(failed(&fresh), ["unused"]);
        // Revoked and federated credentials are not rotation findings.
        let mut revoked = service_account();
        revoked.credentials[0].last_rotated_at = Some(days_ago(400));
        revoked.credentials[0].revoked_at = Some(days_ago(1));
        assert!(failed(&revoked).is_empty());
        // A just-in-time admin entitlement is the goal, not a finding; a removed one is gone.
        let mut jit = service_account();
        jit.entitlements[0].privilege = Privilege::Admin;
        jit.entitlements[0].grant_type = GrantType::JustInTime;
        assert!(failed(&jit).is_empty());
        jit.entitlements[0].grant_type = GrantType::Standing;
        jit.entitlements[0].removed_at = Some(days_ago(1));
        assert!(failed(&jit).is_empty());
        // A read-only third-party app is inventory, not a finding.
        let mut reader = service_account();
        reader.kind = IdentityKind::Integration;
        reader.entitlements.clear();
        reader.signals = vec![(
            "third_party_integration".into(),
            "installed app with read-only permissions".into(),
        )];
        assert!(failed(&reader).is_empty());
        // One workload acting as an account is not reuse.
        let mut single = service_account();
        single.delegated_from = vec![peer(IdentityKind::Workload, DelegationKind::ActsAs, &[])];
        assert!(failed(&single).is_empty());
        // The AI expiry policy is tighter than the machine one.
        let mut machine = service_account();
        machine.expires_at = Some(now() + Duration::days(300));
        assert!(failed(&machine).is_empty());
        machine.expires_at = Some(now() + Duration::days(366));
        assert_eq!(failed(&machine), ["expiry-beyond-policy"]);
        // Details say what exactly is wrong.
        let detections = evaluate(&cases()[5].1, &CheckSettings::default(), now());
        assert_eq!(
            detections[0].detail,
            "access_key key-1 was last set 91 days ago; its policy is 90 days"
        );
    }
}
