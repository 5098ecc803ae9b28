//! Unit tests of the tally, trend, control states and figures.
#![allow(clippy::unwrap_used)]

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use super::*;
use crate::identity::{CredentialInfo, CredentialKind};
use crate::inventory::{ActorClass, IdentityQuery};
use crate::inventory::{IdentityKind, IdentityStatus};
use crate::posture::catalog::Catalog;
use crate::posture::checks::AgentLimits;
use crate::posture::checks::Subject;
use crate::posture::findings::Reconciled;

fn now() -> DateTime<Utc> {
    "2026-11-29T12:00:00Z".parse().unwrap()
}

fn subject(kind: IdentityKind, governed: bool, credential_ages: &[i64]) -> Subject {
    Subject {
        id: Uuid::from_u128(1),
        kind,
        environment: "prod".into(),
        status: IdentityStatus::Active,
        owner_active: governed.then_some(true),
        has_sponsor: true,
        purpose: None,
        spiffe_id: None,
        revocation_path: Some("disable in IAM".into()),
        created_at: now() - Duration::days(400),
        expires_at: Some(now() + Duration::days(30)),
        last_used_at: None,
        credentials: credential_ages
            .iter()
            .enumerate()
            .map(|(n, age)| CredentialInfo {
                id: Uuid::from_u128(100 + n as u128),
                kind: CredentialKind::AccessKey,
                key_id: format!("k{n}"),
                created_at: now() - Duration::days(*age),
                last_rotated_at: None,
                expires_at: None,
                last_used_at: None,
                rotation_days: None,
                revoked_at: None,
            })
            .collect(),
        entitlements: vec![],
        signals: vec![],
        delegates_to: vec![],
        delegated_from: vec![],
        agent_limits: AgentLimits::default(),
        runtime_drift: Vec::new(),
        federated_by: Vec::new(),
        agent_tokens: 0,
    }
}

fn findings(open: &[&str], accepted: &[&str]) -> Reconciled {
    Reconciled {
        changes: vec![],
        open: open.iter().map(|c| (*c).to_owned()).collect(),
        accepted: accepted.iter().map(|c| (*c).to_owned()).collect(),
    }
}

#[test]
fn a_tally_counts_classes_governance_findings_teams_owners_and_credential_ages() {
    let mut tally = Tally::default();
    tally.add(
        &subject(IdentityKind::ServiceAccount, true, &[0, 29, 30, 400]),
        Some("payments"),
        Some("ann@example.com"),
        &findings(&["unused"], &["no-expiry"]),
        now(),
    );
    tally.add(
        &subject(IdentityKind::Agent, false, &[100]),
        None,
        None,
        &findings(&["no-owner", "agent-no-purpose"], &[]),
        now(),
    );
    let mut retired = subject(IdentityKind::Agent, false, &[1]);
    retired.status = IdentityStatus::Retired;
    tally.add(&retired, None, None, &findings(&["no-owner"], &[]), now());
    let snapshot = tally.finish(Catalog::shipped(), now());

    assert_eq!(snapshot.identities, ByClass { machine: 1, ai: 1 });
    assert_eq!(snapshot.governed, ByClass { machine: 1, ai: 0 });
    assert_eq!(snapshot.stale, ByClass { machine: 1, ai: 0 });
    assert_eq!(snapshot.open(), 3);
    assert_eq!(snapshot.accepted(), 1);
    assert_eq!(snapshot.open_by_check["no-owner"], 1);
    assert_eq!(
        snapshot.open_by_team,
        vec![(String::new(), 2), ("payments".to_owned(), 1)]
    );
    assert_eq!(
        snapshot.open_by_owner,
        vec![(String::new(), 2), ("ann@example.com".to_owned(), 1)]
    );
    assert_eq!(snapshot.credential_age, vec![2, 1, 1, 0, 1]);
    assert_eq!(snapshot.governed_percent(Some(ActorClass::Machine)), 100.0);
    assert_eq!(snapshot.governed_percent(Some(ActorClass::Ai)), 0.0);
    assert_eq!(snapshot.governed_percent(None), 50.0);
    // no-owner and unused both evidence NHI1; agent-no-purpose does not.
    assert_eq!(snapshot.open_for_control(Catalog::shipped(), "NHI1"), 2);
    assert_eq!(snapshot.open_for_control(Catalog::shipped(), "MAP 1.1"), 1);
    assert_eq!(snapshot.accepted_for_control(Catalog::shipped(), "NHI7"), 1);
}

#[test]
fn only_the_largest_teams_are_kept() {
    let mut tally = Tally::default();
    for n in 0..(TOP + 5) {
        let team = format!("team-{n:02}");
        for _ in 0..=n {
            tally.add(
                &subject(IdentityKind::Workload, true, &[]),
                Some(&team),
                None,
                &findings(&["unused"], &[]),
                now(),
            );
        }
    }
    let snapshot = tally.finish(Catalog::shipped(), now());
    assert_eq!(snapshot.open_by_team.len(), TOP);
    assert_eq!(
        snapshot.open_by_team[0],
        (format!("team-{:02}", TOP + 4), (TOP + 5) as u64)
    );
}

#[test]
fn the_trend_has_one_point_per_day_with_the_days_last_snapshot_and_gaps() {
    let empty = Tally::default().finish(Catalog::shipped(), now());
    let at = |days: i64, hours: i64, open: u64| {
        let mut s = empty.clone();
        s.taken_at = now() - Duration::days(days) - Duration::hours(hours);
        s.open_by_check.insert("no-owner".into(), open);
        s
    };
    // Two snapshots two days ago (the later one counts), none yesterday, one today.
    let snapshots = vec![at(2, 1, 10), at(2, 3, 99), at(0, 0, 7), at(40, 0, 1)];
    let points = trend(&snapshots, now(), 3);
    assert_eq!(points.len(), 3);
    assert_eq!(points[0].day, snapshot_day(now()) - Duration::days(2));
    assert_eq!(points[0].open, Some(10));
    assert_eq!(points[1].open, None);
    assert_eq!(points[1].governed_percent, None);
    assert_eq!(points[2].open, Some(7));
    assert_eq!(points[2].day, snapshot_day(now()));
}

#[test]
fn every_figure_drills_down_to_a_valid_inventory_filter_and_the_csv_has_them_all() {
    let catalog = Catalog::shipped();
    let mut tally = Tally::default();
    tally.add(
        &subject(IdentityKind::ServiceAccount, true, &[200]),
        Some("pay, \"core\""),
        Some("ann@example.com"),
        &findings(&["no-owner", "unused"], &[]),
        now(),
    );
    let snapshot = tally.finish(catalog, now());
    let all = figures(&snapshot, catalog);
    for figure in &all {
        if let Some(query) = &figure.drill_down {
            IdentityQuery::from_query_string(query)
                .unwrap_or_else(|e| panic!("{}/{}: {query}: {e}", figure.chart, figure.label));
        }
    }
    let nhi1 = all.iter().find(|f| f.label == "NHI1").unwrap();
    assert_eq!(nhi1.value, 2.0);
    assert_eq!(nhi1.drill_down.as_deref(), Some("control=NHI1"));
    let aged = all
        .iter()
        .find(|f| f.chart == "credential_age" && f.value == 1.0)
        .unwrap();
    assert_eq!(aged.drill_down.as_deref(), Some("cred_age=180-365"));
    let team = all.iter().find(|f| f.chart == "teams").unwrap();
    assert_eq!(
        IdentityQuery::from_query_string(team.drill_down.as_deref().unwrap())
            .unwrap()
            .team
            .as_deref(),
        Some("pay, \"core\"")
    );
    let csv = figures_csv(&snapshot, catalog);
    assert_eq!(csv.lines().count(), all.len() + 1);
    assert!(csv.contains(",teams,\"pay, \"\"core\"\"\",2,"), "{csv}");
}

#[test]
fn controls_are_not_covered_met_or_needing_attention() {
    let catalog = Catalog::shipped();
    let mut tally = Tally::default();
    tally.add(
        &subject(IdentityKind::ServiceAccount, true, &[]),
        None,
        None,
        &findings(&["no-owner"], &[]),
        now(),
    );
    let snapshot = tally.finish(catalog, now());
    let statuses = control_statuses(catalog, Some(&snapshot));
    let total: usize = catalog.frameworks.iter().map(|f| f.controls.len()).sum();
    assert_eq!(statuses.len(), total);
    let nhi1 = statuses.iter().find(|c| c.id == "NHI1").unwrap();
    assert_eq!(nhi1.state, ControlState::Attention);
    assert_eq!(nhi1.open, 1);
    assert!(nhi1.checks.contains(&"no-owner".to_owned()));
    let nhi7 = statuses.iter().find(|c| c.id == "NHI7").unwrap();
    assert_eq!(nhi7.state, ControlState::Met);
    assert!(statuses
        .iter()
        .any(|c| c.state == ControlState::NotCovered && c.checks.is_empty()));
    let before_any = control_statuses(catalog, None);
    assert!(before_any
        .iter()
        .all(|c| c.state != ControlState::Attention));
}
