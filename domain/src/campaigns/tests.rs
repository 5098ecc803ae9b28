//! Unit tests of the campaign rules, templates, records and the evidence pack.
#![allow(clippy::unwrap_used)]

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use super::*;
use crate::error::DomainError;
use crate::inventory::PersonRef;
use crate::posture::catalog::Severity;

fn now() -> DateTime<Utc> {
    "2026-11-29T09:00:00Z".parse().unwrap()
}

fn person(email: &str) -> PersonRef {
    PersonRef {
        id: Uuid::from_u128(email.len() as u128),
        display_name: email.into(),
        email: email.into(),
    }
}

#[test]
fn every_template_is_a_valid_campaign_over_catalog_controls() {
    assert_eq!(TEMPLATES.len(), 4);
    for template in TEMPLATES {
        let (draft, scope) = template.draft(now()).validated().unwrap();
        assert!(scope.is_filtered(), "{}", template.id);
        assert_eq!(
            draft.due_at - draft.starts_at,
            Duration::days(template.days)
        );
    }
    let ownership = &TEMPLATES[0];
    assert_eq!(ownership.controls, &["NHI1", "GV.RR-02", "ID.AM-08"]);
}

#[test]
fn a_draft_names_what_is_wrong() {
    let good = TEMPLATES[0].draft(now());
    let cases: Vec<(CampaignDraft, &str)> = vec![
        (
            CampaignDraft {
                name: " ".into(),
                ..good.clone()
            },
            "name",
        ),
        (
            CampaignDraft {
                scope: "clas=ai".into(),
                ..good.clone()
            },
            "scope",
        ),
        (
            CampaignDraft {
                controls: vec![],
                ..good.clone()
            },
            "controls",
        ),
        (
            CampaignDraft {
                controls: vec!["NHI99".into()],
                ..good.clone()
            },
            "controls",
        ),
        (
            CampaignDraft {
                reviewed: Reviewed::default(),
                ..good.clone()
            },
            "reviewed",
        ),
        (
            CampaignDraft {
                due_at: good.starts_at,
                ..good.clone()
            },
            "due_at",
        ),
        (
            CampaignDraft {
                due_at: good.starts_at + Duration::days(MAX_CAMPAIGN_DAYS + 1),
                ..good.clone()
            },
            "due_at",
        ),
        (
            CampaignDraft {
                remind_every_days: 0,
                ..good.clone()
            },
            "remind_every_days",
        ),
    ];
    for (draft, field) in cases {
        match draft.validated() {
            Err(DomainError::InvalidInput { field: f, .. }) => assert_eq!(f, field),
            other => panic!("{field}: {other:?}"),
        }
    }
}

#[test]
fn recurrence_starts_the_next_campaign_one_period_later_for_as_long() {
    let quarterly = TEMPLATES[0].draft("2026-01-31T09:00:00Z".parse().unwrap());
    let next = quarterly.next().unwrap();
    assert_eq!(
        next.starts_at,
        "2026-04-30T09:00:00Z".parse::<DateTime<Utc>>().unwrap()
    );
    assert_eq!(
        next.due_at - next.starts_at,
        quarterly.due_at - quarterly.starts_at
    );
    let once = CampaignDraft {
        recurrence: Recurrence::Once,
        ..quarterly
    };
    assert_eq!(once.next(), None);
}

#[test]
fn the_reviewer_is_the_active_owner_then_the_active_sponsor_then_security() {
    let ann = person("ann@example.com");
    let bo = person("bo@example.com");
    assert_eq!(
        choose_reviewer(Some((ann.clone(), true)), Some((bo.clone(), true))),
        Reviewer::Owner(ann.clone())
    );
    assert_eq!(
        choose_reviewer(Some((ann.clone(), false)), Some((bo.clone(), true))),
        Reviewer::Sponsor(bo.clone())
    );
    assert_eq!(
        choose_reviewer(None, Some((bo.clone(), true))),
        Reviewer::Sponsor(bo.clone())
    );
    assert_eq!(
        choose_reviewer(Some((ann, false)), Some((bo, false))),
        Reviewer::SecurityTeam
    );
    assert_eq!(choose_reviewer(None, None), Reviewer::SecurityTeam);
}

#[test]
fn decisions_follow_the_rules() {
    let kept = Uuid::from_u128(1);
    let item = ItemFacts {
        worst_finding: Some(Severity::High),
        entitlements: vec![kept],
        expires_at: Some(now() + Duration::days(30)),
    };
    let field = |d: Decision| match check_decision(&d, &item, now()) {
        Err(DomainError::InvalidInput { field, .. }) => field,
        other => panic!("{d:?}: {other:?}"),
    };
    assert_eq!(field(Decision::Certify { comment: None }), "comment");
    assert!(check_decision(
        &Decision::Certify {
            comment: Some("compensating control in place".into())
        },
        &item,
        now()
    )
    .is_ok());
    let clean = ItemFacts {
        worst_finding: Some(Severity::Medium),
        ..item.clone()
    };
    assert!(check_decision(&Decision::Certify { comment: None }, &clean, now()).is_ok());
    assert_eq!(
        field(Decision::Revoke {
            comment: " ".into()
        }),
        "comment"
    );
    assert_eq!(
        field(Decision::Reassign {
            to: "not an email".into(),
            comment: "wrong team".into()
        }),
        "to"
    );
    assert_eq!(
        field(Decision::Reduce {
            entitlements: vec![],
            comment: None
        }),
        "entitlements"
    );
    assert_eq!(
        field(Decision::Reduce {
            entitlements: vec![Uuid::from_u128(9)],
            comment: None
        }),
        "entitlements"
    );
    assert!(check_decision(
        &Decision::Reduce {
            entitlements: vec![kept],
            comment: None
        },
        &item,
        now()
    )
    .is_ok());
    assert_eq!(
        field(Decision::Expire {
            at: now(),
            comment: None
        }),
        "at"
    );
    assert_eq!(
        field(Decision::Expire {
            at: now() + Duration::days(31),
            comment: None
        }),
        "at"
    );
    assert!(check_decision(
        &Decision::Expire {
            at: now() + Duration::days(7),
            comment: None
        },
        &item,
        now()
    )
    .is_ok());
}

#[test]
fn reminders_come_on_schedule_at_most_daily_and_overdue_after_the_due_date() {
    let draft = CampaignDraft {
        remind_every_days: 7,
        ..TEMPLATES[0].draft(now())
    };
    assert!(!reminder_due(&draft, None, now() - Duration::hours(1)));
    assert!(!reminder_due(&draft, None, now() + Duration::days(6)));
    assert!(reminder_due(&draft, None, now() + Duration::days(7)));
    let last = now() + Duration::days(7);
    assert!(!reminder_due(&draft, Some(last), last + Duration::days(6)));
    assert!(reminder_due(&draft, Some(last), last + Duration::days(7)));
    // The day before the due date everyone still undecided hears once.
    let short = CampaignDraft {
        due_at: now() + Duration::days(3),
        ..draft.clone()
    };
    assert!(reminder_due(&short, None, now() + Duration::days(2)));
    let daily = CampaignDraft {
        remind_every_days: 1,
        ..draft.clone()
    };
    assert!(!reminder_due(
        &daily,
        Some(now()),
        now() + Duration::hours(23)
    ));
    assert!(!overdue(&draft, draft.due_at));
    assert!(overdue(&draft, draft.due_at + Duration::seconds(1)));
}

#[test]
fn form_fields_become_decisions() {
    assert_eq!(
        decision_from_form("certify", Some("  ".into()), None, None, &[]).unwrap(),
        Decision::Certify { comment: None }
    );
    let e = Uuid::from_u128(3);
    assert_eq!(
        decision_from_form("reduce", None, None, None, &[e.to_string()]).unwrap(),
        Decision::Reduce {
            entitlements: vec![e],
            comment: None
        }
    );
    assert_eq!(
        decision_from_form(
            "expire",
            Some("project ends".into()),
            None,
            Some("2027-01-31"),
            &[]
        )
        .unwrap(),
        Decision::Expire {
            at: "2027-01-31T00:00:00Z".parse().unwrap(),
            comment: Some("project ends".into())
        }
    );
    let field = |r: Result<Decision, DomainError>| match r {
        Err(DomainError::InvalidInput { field, .. }) => field,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        field(decision_from_form("expire", None, None, None, &[])),
        "at"
    );
    assert_eq!(
        field(decision_from_form(
            "expire",
            None,
            None,
            Some("31/01/2027"),
            &[]
        )),
        "at"
    );
    assert_eq!(
        field(decision_from_form(
            "reduce",
            None,
            None,
            None,
            &["x".into()]
        )),
        "entitlements"
    );
    assert_eq!(
        field(decision_from_form("approve", None, None, None, &[])),
        "decision"
    );
}

#[test]
fn escalation_goes_to_the_active_sponsor_then_the_security_team() {
    let ann = person("ann@example.com");
    let sponsor = person("sponsor@example.com");
    let owner = ItemReviewer {
        kind: ReviewerKind::Owner,
        person: Some(ann),
    };
    let to = escalate(Escalation::Sponsor, &owner, Some((sponsor.clone(), true))).unwrap();
    assert_eq!(to.kind, ReviewerKind::Sponsor);
    assert_eq!(to.person, Some(sponsor.clone()));
    // A sponsor who left, or a sponsor already reviewing: the security team.
    let team = escalate(Escalation::Sponsor, &owner, Some((sponsor.clone(), false))).unwrap();
    assert_eq!(team.kind, ReviewerKind::SecurityTeam);
    assert_eq!(
        escalate(Escalation::Sponsor, &to, Some((sponsor, true)))
            .unwrap()
            .kind,
        ReviewerKind::SecurityTeam
    );
    assert_eq!(
        escalate(Escalation::SecurityTeam, &owner, None)
            .unwrap()
            .person,
        None
    );
    assert_eq!(escalate(Escalation::Sponsor, &team, None), None);
}

#[test]
fn evidence_csv_has_a_line_per_item_with_its_hash_and_defuses_formulas() {
    let ann = person("ann@example.com");
    let kept = Uuid::from_u128(11);
    let entitlement = crate::identity::Entitlement {
        id: kept,
        resource: "billing-db".into(),
        action: "admin".into(),
        privilege: crate::identity::Privilege::Admin,
        grant_type: crate::identity::GrantType::Standing,
        created_at: now(),
        removed_at: None,
    };
    let snapshot = ItemSnapshot {
        name: "=cmd|calc".into(),
        kind: crate::inventory::IdentityKind::ServiceAccount,
        actor_class: crate::inventory::ActorClass::Machine,
        environment: "prod".into(),
        status: crate::inventory::IdentityStatus::Active,
        team: Some("payments".into()),
        owner: Some(ann.clone()),
        sponsor: None,
        purpose: None,
        last_used_at: None,
        expires_at: None,
        findings: vec![],
        entitlements: vec![entitlement],
        credentials: vec![],
        delegates_to: vec![],
        delegated_from: 0,
    };
    let item = ReviewItem {
        id: Uuid::from_u128(21),
        campaign_id: Uuid::from_u128(20),
        campaign_name: "Q4".into(),
        due_at: now(),
        reviewed: Reviewed {
            ownership: false,
            entitlements: true,
            credentials: false,
        },
        identity_id: Uuid::from_u128(22),
        reviewer: ItemReviewer {
            kind: ReviewerKind::Owner,
            person: Some(ann),
        },
        previous_reviewer: None,
        snapshot,
        decision: Some(Decision::Reduce {
            entitlements: vec![kept],
            comment: Some("not needed, \"really\"".into()),
        }),
        decided_by: Some("user:ann@example.com".into()),
        decided_at: Some(now()),
        close_outcome: None,
        remediation: Remediation::Done,
        remediation_note: Some("removed billing-db:admin".into()),
        escalated_at: None,
    };
    let campaign = Campaign {
        id: Uuid::from_u128(20),
        draft: TEMPLATES[1].draft(now()),
        state: CampaignState::Closed,
        template: Some("privileged-entitlements".into()),
        created_by: "user:admin@example.com".into(),
        created_at: now(),
        launched_at: Some(now()),
        closed_at: Some(now()),
        previous_id: None,
        items: 1,
        decided: 1,
        remediation_open: 0,
    };
    let evidence = Evidence {
        campaign,
        controls: vec![],
        rows: vec![EvidenceRow {
            item,
            audit_seq: Some(42),
            audit_hash: Some("abc123".into()),
        }],
        generated_at: now(),
    };
    let csv = evidence_csv(&evidence);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0], EVIDENCE_COLUMNS.join(","));
    assert!(lines[1].contains(",'=cmd|calc,"), "{}", lines[1]);
    assert!(
        lines[1].contains(",reduce,\"not needed, \"\"really\"\"\",billing-db:admin,"),
        "{}",
        lines[1]
    );
    assert!(
        lines[1].ends_with(",done,removed billing-db:admin,42,abc123"),
        "{}",
        lines[1]
    );
    assert_eq!(evidence.exceptions().count(), 1);
    assert!(evidence.outcome_counts().contains(&("reduce", 1)));
}
