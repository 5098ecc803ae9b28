//! Unit tests of the checks, one scenario per check.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use super::*;
use crate::authz::DriftKind;
use crate::delegation::DelegationKind;
use crate::identity::{CredentialInfo, CredentialKind, Entitlement, GrantType, Privilege};
use crate::inventory::{IdentityKind, IdentityStatus};
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
