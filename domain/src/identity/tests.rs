//! Unit tests of identity drafts, credentials, entitlements and lifecycle rules.

use chrono::TimeZone;
use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use super::*;
use crate::inventory::IdentityKind;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()
}

fn draft(kind: IdentityKind, days: i64) -> IdentityDraft {
    IdentityDraft {
        name: "  payments-api ".into(),
        kind,
        external_id: Some(" ".into()),
        environment: "prod".into(),
        team: Some("Payments".into()),
        purpose: None,
        autonomy: None,
        sensitivity_ceiling: None,
        spiffe_id: Some("spiffe://prod.example.com/ns/pay/sa/api".into()),
        revocation_path: Some("https://runbooks.example.com/revoke".into()),
        expires_at: Some(now() + Duration::days(days)),
    }
}

#[test]
fn drafts_are_trimmed_and_checked() {
    let policy = LifecyclePolicy::default();
    let ok = draft(IdentityKind::Workload, 300)
        .validated(&policy, now())
        .unwrap();
    assert_eq!(ok.name, "payments-api");
    assert_eq!(ok.external_id, None);

    let err = |d: IdentityDraft| d.validated(&policy, now()).unwrap_err().to_string();
    assert_eq!(
        err(draft(IdentityKind::Agent, 91)),
        "invalid expires_at: the expiry is beyond policy: AI identities may live at most 90 days"
    );
    assert_eq!(
        err(IdentityDraft {
            expires_at: None,
            ..draft(IdentityKind::Workload, 1)
        }),
        "invalid expires_at: an expiry is required (Machine identities: at most 365 days ahead)"
    );
    assert_eq!(
        err(draft(IdentityKind::Workload, -1)),
        "invalid expires_at: the expiry must be in the future"
    );
    assert_eq!(
        err(IdentityDraft { revocation_path: Some("  ".into()), ..draft(IdentityKind::Workload, 1) }),
        "invalid revocation_path: a revocation path is required: how to cut this identity off in an emergency"
    );
    assert_eq!(
        err(IdentityDraft {
            name: " ".into(),
            ..draft(IdentityKind::Workload, 1)
        }),
        "invalid name: a name is required"
    );
    assert!(err(IdentityDraft {
        environment: "Prod".into(),
        ..draft(IdentityKind::Workload, 1)
    })
    .starts_with("invalid env"));
    let custom = LifecyclePolicy {
        machine_max_days: 30,
        ai_max_days: 7,
        ..LifecyclePolicy::default()
    };
    assert!(draft(IdentityKind::Workload, 31)
        .validated(&custom, now())
        .is_err());
}

#[test]
fn a_leavers_ai_identities_are_suspended_by_default_and_workloads_only_when_all() {
    let policy = LifecyclePolicy::default();
    assert!(policy.leaver.suspends(IdentityKind::Agent));
    assert!(policy.leaver.suspends(IdentityKind::AssistantSession));
    assert!(!policy.leaver.suspends(IdentityKind::Workload));
    assert!(LeaverPolicy::All.suspends(IdentityKind::Workload));
    assert!(!LeaverPolicy::Keep.suspends(IdentityKind::Agent));
    assert_eq!("ai".parse::<LeaverPolicy>().unwrap(), LeaverPolicy::Ai);
    assert!("some".parse::<LeaverPolicy>().is_err());
}

#[test]
fn spiffe_ids_follow_the_specification() {
    for good in [
        "spiffe://example.org/ns/default/sa/api",
        "spiffe://a-b_c.d/x.y/z_1",
    ] {
        assert_eq!(parse_spiffe_id(good).unwrap(), good);
    }
    let cases = [
        ("https://example.org/x", "it must start with spiffe://"),
        ("spiffe:///x", "the trust domain is missing"),
        (
            "spiffe://Example.org/x",
            "the trust domain may only have lower-case letters, digits, '.', '-' and '_'",
        ),
        (
            "spiffe://example.org:8443/x",
            "the trust domain may only have lower-case letters, digits, '.', '-' and '_'",
        ),
        (
            "spiffe://example.org",
            "a workload needs a path after the trust domain",
        ),
        (
            "spiffe://example.org/",
            "the path has an empty segment or a trailing '/'",
        ),
        (
            "spiffe://example.org/a//b",
            "the path has an empty segment or a trailing '/'",
        ),
        (
            "spiffe://example.org/a/../b",
            "the path may not have '.' or '..' segments",
        ),
        (
            "spiffe://example.org/a?b=1",
            "the path may only have letters, digits, '.', '-' and '_'",
        ),
    ];
    for (input, why) in cases {
        assert_eq!(
            parse_spiffe_id(input).unwrap_err().to_string(),
            format!("invalid spiffe_id: '{input}' is not a SPIFFE ID: {why}"),
        );
    }
}

#[test]
fn rotation_state_follows_the_policy() {
    let cred = |rotated_days_ago: i64, policy: Option<u32>| CredentialInfo {
        id: Uuid::nil(),
        kind: CredentialKind::AccessKey,
        key_id: "AKIAEXAMPLE".into(),
        created_at: now() - Duration::days(400),
        last_rotated_at: Some(now() - Duration::days(rotated_days_ago)),
        expires_at: None,
        last_used_at: None,
        rotation_days: policy,
        revoked_at: None,
    };
    assert_eq!(
        cred(100, Some(90)).rotation_state(now()),
        RotationState::Overdue
    );
    assert_eq!(
        cred(85, Some(90)).rotation_state(now()),
        RotationState::DueSoon
    );
    assert_eq!(
        cred(10, Some(90)).rotation_state(now()),
        RotationState::Current
    );
    assert_eq!(
        cred(10, None).rotation_state(now()),
        RotationState::NoPolicy
    );
    assert_eq!(cred(10, Some(90)).age_days(now()), 10);
    let revoked = CredentialInfo {
        revoked_at: Some(now()),
        ..cred(1, Some(90))
    };
    assert_eq!(revoked.rotation_state(now()), RotationState::Revoked);
}

#[test]
fn secrets_are_refused_as_key_ids() {
    let cred = |key_id: &str| NewCredential {
        kind: CredentialKind::ClientSecret,
        key_id: key_id.into(),
        expires_at: None,
        rotation_days: None,
    };
    assert!(cred("AKIAIOSFODNN7EXAMPLE").validated().is_ok());
    assert!(cred("disk-key-1").validated().is_ok());
    assert!(cred("SHA256:2f1c…").validated().is_ok());
    for secret in [
        "-----BEGIN PRIVATE KEY-----",
        "ghp_abcdef0123456789",
        "stw_abc",
    ] {
        assert_eq!(
            cred(secret).validated().unwrap_err().to_string(),
            "invalid key_id: this looks like secret material; record only a key id or fingerprint"
        );
    }
    assert!(cred(" ").validated().is_err());
}

#[test]
fn required_texts() {
    assert_eq!(required_text("reason", " left team ").unwrap(), "left team");
    assert_eq!(
        required_text("reason", "  ").unwrap_err().to_string(),
        "invalid reason: a reason is required"
    );
    assert!(required_text("evidence", &"x".repeat(2001)).is_err());
}

mod suspending {
    use super::super::may_suspend;
    use crate::auth::{Credential, Principal, Role};
    use crate::DomainError;
    use uuid::Uuid;

    fn someone(role: Role, person: u128) -> Principal {
        Principal {
            user_id: Uuid::from_u128(person + 1000),
            person_id: Uuid::from_u128(person),
            email: format!("{role}@example.com"),
            display_name: role.to_string(),
            role,
            credential: Credential::Session,
        }
    }

    #[test]
    fn an_admin_may_suspend_any_identity_an_owner_only_their_own() {
        let owner = Uuid::from_u128(7);
        assert!(may_suspend(Some(&someone(Role::Admin, 1)), Some(owner)).is_ok());
        assert!(may_suspend(Some(&someone(Role::Admin, 1)), None).is_ok());
        assert!(may_suspend(Some(&someone(Role::Owner, 7)), Some(owner)).is_ok());
        assert_eq!(
            may_suspend(Some(&someone(Role::Owner, 8)), Some(owner)),
            Err(DomainError::Forbidden {
                reason: "owners can suspend only the identities they own".into()
            })
        );
        assert!(may_suspend(Some(&someone(Role::Owner, 8)), None).is_err());
    }

    #[test]
    fn viewers_auditors_and_the_anonymous_may_not_suspend() {
        for role in [Role::Viewer, Role::Auditor] {
            assert!(matches!(
                may_suspend(Some(&someone(role, 7)), Some(Uuid::from_u128(7))),
                Err(DomainError::Forbidden { .. })
            ));
        }
        assert_eq!(may_suspend(None, None), Err(DomainError::Unauthenticated));
    }
}
