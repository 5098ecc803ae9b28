//! Unit tests of the eligibility policies, time windows and grant rules.
#![allow(clippy::unwrap_used)]

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use super::*;
use crate::error::DomainError;
use crate::identity::Privilege;

fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

fn policy() -> PolicyDraft {
    PolicyDraft {
        name: "payments break-glass".into(),
        resource: "payments-*".into(),
        action: "admin".into(),
        scope: "env=prod".into(),
        requesters: Requesters::Owners,
        approval: ApprovalMode::TwoApprovers,
        max_minutes: 120,
        reason_required: true,
        windows: vec!["mon-fri 08:00-18:00".into()],
    }
}

fn grant(mode: ApprovalMode) -> Grant {
    Grant {
        id: Uuid::from_u128(1),
        identity_id: Uuid::from_u128(2),
        identity_name: "billing-sync".into(),
        entitlement_id: Uuid::from_u128(3),
        resource: "payments-db".into(),
        action: "admin".into(),
        privilege: Privilege::Admin,
        policy_id: Uuid::from_u128(4),
        approval_mode: mode,
        minutes: 60,
        reason: Some("incident 42".into()),
        requested_by: "user:req@example.com".into(),
        requester_person_id: Some(Uuid::from_u128(10)),
        requested_at: at("2026-11-30T09:00:00Z"),
        state: GrantState::Pending,
        approvals: vec![],
        ended_by: None,
        end_reason: None,
        starts_at: None,
        expires_at: None,
        ended_at: None,
    }
}

fn actor(n: u128, owns: bool, security: bool) -> Actor {
    Actor {
        person_id: Uuid::from_u128(n),
        owns,
        in_team: false,
        security,
    }
}

#[test]
fn a_grant_that_needed_approval_is_extended_only_by_an_approver_other_than_its_requester() {
    let requester_owner = actor(10, true, false);
    let other_owner = actor(11, true, false);
    let admin = actor(12, false, true);
    let requester_admin = actor(10, false, true);
    assert!(may_extend(&grant(ApprovalMode::Automatic), &requester_owner).is_ok());
    let owner_approved = grant(ApprovalMode::Owner);
    let refused = may_extend(&owner_approved, &requester_owner).unwrap_err();
    assert!(
        refused.to_string().contains("request it again"),
        "{refused}"
    );
    assert!(may_extend(&owner_approved, &other_owner).is_ok());
    assert!(may_extend(&owner_approved, &admin).is_ok());
    for mode in [ApprovalMode::SecurityTeam, ApprovalMode::TwoApprovers] {
        assert!(may_extend(&grant(mode), &other_owner).is_err());
        assert!(may_extend(&grant(mode), &admin).is_ok());
        assert!(may_extend(&grant(mode), &requester_admin).is_err());
    }
}

#[test]
fn windows_parse_print_and_contain() {
    let w = TimeWindow::parse("Mon-Fri 08:00-18:00").unwrap();
    assert_eq!(w.days, vec![1, 2, 3, 4, 5]);
    assert_eq!(w.to_string(), "mon,tue,wed,thu,fri 08:00-18:00");
    // 2026-11-30 is a Monday.
    assert!(w.contains(at("2026-11-30T08:00:00Z")));
    assert!(!w.contains(at("2026-11-30T18:00:00Z")));
    assert!(!w.contains(at("2026-11-29T12:00:00Z")), "Sunday");
    let night = TimeWindow::parse("fri 22:00-06:00").unwrap();
    assert!(night.contains(at("2026-12-04T23:00:00Z")), "Friday night");
    assert!(night.contains(at("2026-12-05T05:59:00Z")), "early Saturday");
    assert!(
        !night.contains(at("2026-12-05T22:30:00Z")),
        "Saturday night"
    );
    assert_eq!(
        TimeWindow::parse("daily 10:00-11:00").unwrap().days.len(),
        7
    );
    for bad in [
        "mon",
        "fri-mon 08:00-18:00",
        "mon 8-18",
        "xyz 08:00-09:00",
        "mon 09:00-09:00",
    ] {
        assert!(TimeWindow::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn policies_validate_and_cover_entitlements() {
    let (p, windows) = policy().validated().unwrap();
    assert_eq!(windows.len(), 1);
    assert!(p.covers("payments-db", "admin"));
    assert!(!p.covers("payments-db", "read"));
    assert!(!p.covers("billing-db", "admin"));
    let any = PolicyDraft {
        action: "*".into(),
        resource: "ledger".into(),
        ..policy()
    };
    assert!(any.covers("ledger", "write"));
    assert!(!any.covers("ledger-2", "write"));
    let field = |d: PolicyDraft| match d.validated() {
        Err(DomainError::InvalidInput { field, .. }) => field,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        field(PolicyDraft {
            resource: "*".into(),
            ..policy()
        }),
        "resource"
    );
    assert_eq!(
        field(PolicyDraft {
            resource: "pay*ments".into(),
            ..policy()
        }),
        "resource"
    );
    // Multi-byte characters last (found by schemathesis: a byte slice panicked).
    for resource in ["z?\u{14}\u{7e494}\u{bb843}", "ünïcødé*", "*é", "é**"] {
        let refused = PolicyDraft {
            resource: resource.into(),
            ..policy()
        }
        .validated()
        .is_err();
        assert_eq!(
            refused,
            resource.starts_with('*') || resource.ends_with("**"),
            "{resource}"
        );
    }
    assert_eq!(
        field(PolicyDraft {
            max_minutes: 0,
            ..policy()
        }),
        "max_minutes"
    );
    assert_eq!(
        field(PolicyDraft {
            max_minutes: MAX_GRANT_MINUTES + 1,
            ..policy()
        }),
        "max_minutes"
    );
    assert_eq!(
        field(PolicyDraft {
            scope: "colour=red".into(),
            ..policy()
        }),
        "scope"
    );
    assert_eq!(
        field(PolicyDraft {
            windows: vec!["someday".into()],
            ..policy()
        }),
        "windows"
    );
    assert_eq!(
        field(PolicyDraft {
            scope: "finding=any".into(),
            ..policy()
        }),
        "scope"
    );
}

#[test]
fn requests_respect_windows_reasons_and_the_maximum() {
    let p = policy();
    let request = GrantRequest {
        identity_id: Uuid::from_u128(2),
        entitlement_id: Uuid::from_u128(3),
        minutes: Some(60),
        reason: Some("incident 42".into()),
    };
    let monday = at("2026-11-30T09:00:00Z");
    assert_eq!(check_request(&p, &request, monday).unwrap(), 60);
    assert!(matches!(
        check_request(&p, &request, at("2026-11-29T09:00:00Z")),
        Err(DomainError::Forbidden { .. })
    ));
    let no_reason = GrantRequest {
        reason: Some(" ".into()),
        ..request.clone()
    };
    assert!(
        matches!(check_request(&p, &no_reason, monday), Err(DomainError::InvalidInput { field, .. }) if field == "reason")
    );
    let too_long = GrantRequest {
        minutes: Some(121),
        ..request.clone()
    };
    assert!(
        matches!(check_request(&p, &too_long, monday), Err(DomainError::InvalidInput { field, .. }) if field == "minutes")
    );
    let default = GrantRequest {
        minutes: None,
        ..request
    };
    assert_eq!(check_request(&p, &default, monday).unwrap(), 120);
}

#[test]
fn who_requests_and_who_approves() {
    assert!(may_request(Requesters::Owners, &actor(1, true, false)).is_ok());
    assert!(may_request(
        Requesters::Owners,
        &Actor {
            in_team: true,
            ..actor(1, false, false)
        }
    )
    .is_err());
    assert!(may_request(
        Requesters::Team,
        &Actor {
            in_team: true,
            ..actor(1, false, false)
        }
    )
    .is_ok());
    assert!(may_request(Requesters::Anyone, &actor(1, false, false)).is_ok());

    let owner_mode = grant(ApprovalMode::Owner);
    assert_eq!(
        approval_capacity(&owner_mode, &actor(11, true, false)).unwrap(),
        "owner"
    );
    assert!(
        approval_capacity(&owner_mode, &actor(12, false, true)).is_err(),
        "security cannot stand in for the owner"
    );
    // Nobody approves their own request, even as owner.
    assert!(approval_capacity(&owner_mode, &actor(10, true, true)).is_err());

    let mut two = grant(ApprovalMode::TwoApprovers);
    assert_eq!(
        approval_capacity(&two, &actor(11, true, true)).unwrap(),
        "owner"
    );
    two.approvals.push(Approval {
        by: "user:o@example.com".into(),
        person_id: Uuid::from_u128(11),
        capacity: "owner".into(),
        at: at("2026-11-30T09:05:00Z"),
    });
    assert!(
        approval_capacity(&two, &actor(11, true, true)).is_err(),
        "not twice"
    );
    assert!(
        approval_capacity(&two, &actor(13, true, false)).is_err(),
        "a second owner is not the security team"
    );
    assert_eq!(
        approval_capacity(&two, &actor(12, false, true)).unwrap(),
        "security_team"
    );
    assert_eq!(approvals_needed(ApprovalMode::TwoApprovers), 2);

    let done = Grant {
        state: GrantState::Active,
        ..grant(ApprovalMode::Owner)
    };
    assert!(matches!(
        approval_capacity(&done, &actor(11, true, false)),
        Err(DomainError::Conflict { .. })
    ));
}

#[test]
fn extensions_stay_within_the_maximum_from_approval() {
    let start = at("2026-11-30T09:00:00Z");
    let active = Grant {
        state: GrantState::Active,
        starts_at: Some(start),
        expires_at: Some(start + Duration::minutes(60)),
        ..grant(ApprovalMode::Owner)
    };
    let now = start + Duration::minutes(30);
    assert_eq!(
        extended_expiry(&active, 60, 120, now).unwrap(),
        start + Duration::minutes(120)
    );
    assert!(matches!(
        extended_expiry(&active, 61, 120, now),
        Err(DomainError::InvalidInput { .. })
    ));
    assert!(
        matches!(
            extended_expiry(&active, 10, 120, start + Duration::minutes(61)),
            Err(DomainError::Conflict { .. })
        ),
        "an expired grant is not extended"
    );
    assert!(GrantState::Expired.is_final() && !GrantState::Active.is_final());
}
