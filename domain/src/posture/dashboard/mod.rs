//! The numbers behind the managers' dashboard. A full evaluation tallies them while it
//! walks the register and stores them as the day's [`Snapshot`]; the dashboard reads
//! the latest snapshot and the daily ones before it (the trend), so it never has to
//! count a million identities while someone waits.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::catalog::Catalog;
use super::checks::Subject;
use super::findings::Reconciled;
use crate::csv::csv_field;
use crate::identity::RotationState;
use crate::inventory::{ActorClass, FindingFilter, IdentityQuery};

/// Credential age buckets, in days since the secret was last set: `[from, to)`.
pub const AGE_BUCKETS: &[(u32, Option<u32>)] = &[
    (0, Some(30)),
    (30, Some(90)),
    (90, Some(180)),
    (180, Some(365)),
    (365, None),
];

/// The label of an age bucket, e.g. `90–180 days`.
pub fn age_bucket_label(bucket: (u32, Option<u32>)) -> String {
    match bucket {
        (from, Some(to)) => format!("{from}–{to} days"),
        (from, None) => format!("over {from} days"),
    }
}

/// At most this many teams and owners are kept per snapshot (the ones with the most
/// open findings).
pub const TOP: usize = 15;

/// A number per actor class.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ByClass {
    pub machine: u64,
    pub ai: u64,
}

impl ByClass {
    pub fn get(&self, class: ActorClass) -> u64 {
        match class {
            ActorClass::Machine => self.machine,
            ActorClass::Ai => self.ai,
        }
    }

    fn add(&mut self, class: ActorClass) {
        match class {
            ActorClass::Machine => self.machine += 1,
            ActorClass::Ai => self.ai += 1,
        }
    }

    pub fn total(&self) -> u64 {
        self.machine + self.ai
    }
}

/// The posture on one day, as a full evaluation saw it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Snapshot {
    pub taken_at: DateTime<Utc>,
    pub catalog_version: String,
    /// Identities evaluated (all but retired ones).
    pub identities: ByClass,
    /// Of those: an active owner, an expiry and a revocation path.
    pub governed: ByClass,
    /// Not used for the `unused` check's number of days.
    pub stale: ByClass,
    pub open_by_check: BTreeMap<String, u64>,
    pub accepted_by_check: BTreeMap<String, u64>,
    /// Open findings per team (`""`: no team), the [`TOP`] largest.
    pub open_by_team: Vec<(String, u64)>,
    /// Open findings per owner's email (`""`: no owner), the [`TOP`] largest.
    pub open_by_owner: Vec<(String, u64)>,
    /// Active credentials per [`AGE_BUCKETS`] entry.
    pub credential_age: Vec<u64>,
}

impl Snapshot {
    pub fn open(&self) -> u64 {
        self.open_by_check.values().sum()
    }

    pub fn accepted(&self) -> u64 {
        self.accepted_by_check.values().sum()
    }

    /// Governed identities of a class as a percentage (100 when there are none).
    pub fn governed_percent(&self, class: Option<ActorClass>) -> f64 {
        let (governed, all) = match class {
            Some(class) => (self.governed.get(class), self.identities.get(class)),
            None => (self.governed.total(), self.identities.total()),
        };
        if all == 0 {
            100.0
        } else {
            governed as f64 * 100.0 / all as f64
        }
    }

    /// Open findings of the checks that evidence `control`.
    pub fn open_for_control(&self, catalog: &Catalog, control: &str) -> u64 {
        catalog
            .checks_for(control)
            .map(|check| self.open_by_check.get(&check.id).copied().unwrap_or(0))
            .sum()
    }

    pub fn accepted_for_control(&self, catalog: &Catalog, control: &str) -> u64 {
        catalog
            .checks_for(control)
            .map(|check| self.accepted_by_check.get(&check.id).copied().unwrap_or(0))
            .sum()
    }
}

/// Sums up identities one by one during a full evaluation.
#[derive(Debug, Clone, Default)]
pub struct Tally {
    identities: ByClass,
    governed: ByClass,
    stale: ByClass,
    open_by_check: BTreeMap<String, u64>,
    accepted_by_check: BTreeMap<String, u64>,
    open_by_team: BTreeMap<String, u64>,
    open_by_owner: BTreeMap<String, u64>,
    credential_age: [u64; AGE_BUCKETS.len()],
}

impl Tally {
    /// Counts one identity with its findings after reconciling. Retired identities
    /// are not counted.
    pub fn add(
        &mut self,
        subject: &Subject,
        team: Option<&str>,
        owner_email: Option<&str>,
        findings: &Reconciled,
        now: DateTime<Utc>,
    ) {
        if subject.status == crate::inventory::IdentityStatus::Retired {
            return;
        }
        let class = subject.kind.actor_class();
        self.identities.add(class);
        let revocable = subject
            .revocation_path
            .as_deref()
            .is_some_and(|p| !p.trim().is_empty());
        if subject.owner_active == Some(true) && subject.expires_at.is_some() && revocable {
            self.governed.add(class);
        }
        if findings
            .open
            .iter()
            .chain(&findings.accepted)
            .any(|c| c == "unused")
        {
            self.stale.add(class);
        }
        for check in &findings.open {
            *self.open_by_check.entry(check.clone()).or_default() += 1;
        }
        for check in &findings.accepted {
            *self.accepted_by_check.entry(check.clone()).or_default() += 1;
        }
        let open = findings.open.len() as u64;
        if open > 0 {
            *self
                .open_by_team
                .entry(team.unwrap_or_default().to_owned())
                .or_default() += open;
            *self
                .open_by_owner
                .entry(owner_email.unwrap_or_default().to_owned())
                .or_default() += open;
        }
        for credential in &subject.credentials {
            if matches!(
                credential.rotation_state(now),
                RotationState::Revoked | RotationState::Expired
            ) {
                continue;
            }
            let age = u32::try_from(credential.age_days(now).max(0)).unwrap_or(u32::MAX);
            if let Some(bucket) = AGE_BUCKETS
                .iter()
                .position(|(from, to)| age >= *from && to.is_none_or(|to| age < to))
            {
                self.credential_age[bucket] += 1;
            }
        }
    }

    pub fn finish(self, catalog: &Catalog, taken_at: DateTime<Utc>) -> Snapshot {
        fn top(map: BTreeMap<String, u64>) -> Vec<(String, u64)> {
            let mut all: Vec<(String, u64)> = map.into_iter().collect();
            all.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            all.truncate(TOP);
            all
        }
        Snapshot {
            taken_at,
            catalog_version: catalog.version.clone(),
            identities: self.identities,
            governed: self.governed,
            stale: self.stale,
            open_by_check: self.open_by_check,
            accepted_by_check: self.accepted_by_check,
            open_by_team: top(self.open_by_team),
            open_by_owner: top(self.open_by_owner),
            credential_age: self.credential_age.to_vec(),
        }
    }
}

/// The day a snapshot taken at `at` counts for (UTC).
pub fn snapshot_day(at: DateTime<Utc>) -> NaiveDate {
    at.date_naive()
}

/// A day as `YYYY-MM-DD`, or an error naming the field `day`.
pub fn parse_day(text: &str) -> Result<NaiveDate, crate::DomainError> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").map_err(|_| {
        crate::DomainError::invalid("day", format!("'{text}' is not a date (YYYY-MM-DD)"))
    })
}

/// One day of the trend; `None` for a day without a snapshot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TrendPoint {
    pub day: NaiveDate,
    pub open: Option<u64>,
    pub governed_percent: Option<f64>,
}

/// The last `days` days up to today (from `now`), oldest first, each with the last
/// snapshot taken that day, if any.
pub fn trend(snapshots: &[Snapshot], now: DateTime<Utc>, days: u32) -> Vec<TrendPoint> {
    let today = snapshot_day(now);
    let mut by_day: BTreeMap<NaiveDate, &Snapshot> = BTreeMap::new();
    for snapshot in snapshots {
        let day = snapshot_day(snapshot.taken_at);
        if by_day
            .get(&day)
            .is_none_or(|kept| kept.taken_at <= snapshot.taken_at)
        {
            by_day.insert(day, snapshot);
        }
    }
    (0..i64::from(days))
        .rev()
        .map(|back| {
            let day = today - Duration::days(back);
            let snapshot = by_day.get(&day);
            TrendPoint {
                day,
                open: snapshot.map(|s| s.open()),
                governed_percent: snapshot.map(|s| s.governed_percent(None)),
            }
        })
        .collect()
}

/// How a control stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ControlState {
    /// No check covers it: Steward cannot say.
    NotCovered,
    /// Covered, and no finding is open against it.
    Met,
    /// Covered, and findings are open against it.
    Attention,
}

impl ControlState {
    pub fn label(self) -> &'static str {
        match self {
            ControlState::NotCovered => "not covered",
            ControlState::Met => "met",
            ControlState::Attention => "needs attention",
        }
    }
}

/// One control of the catalog with the checks that cover it and how it stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ControlStatus {
    pub framework: String,
    pub framework_name: String,
    pub id: String,
    pub title: String,
    pub summary: String,
    pub checks: Vec<String>,
    pub open: u64,
    pub accepted: u64,
    pub state: ControlState,
}

/// Every control of the catalog, in catalog order, as the snapshot sees it (without a
/// snapshot, covered controls count as met: nothing has been found yet).
pub fn control_statuses(catalog: &Catalog, snapshot: Option<&Snapshot>) -> Vec<ControlStatus> {
    let mut out = Vec::new();
    for framework in &catalog.frameworks {
        for control in &framework.controls {
            let checks: Vec<String> = catalog
                .checks_for(&control.id)
                .map(|c| c.id.clone())
                .collect();
            let open = snapshot.map_or(0, |s| s.open_for_control(catalog, &control.id));
            let accepted = snapshot.map_or(0, |s| s.accepted_for_control(catalog, &control.id));
            let state = if checks.is_empty() {
                ControlState::NotCovered
            } else if open > 0 {
                ControlState::Attention
            } else {
                ControlState::Met
            };
            out.push(ControlStatus {
                framework: framework.framework.clone(),
                framework_name: framework.name.clone(),
                id: control.id.clone(),
                title: control.title.clone(),
                summary: control.summary.clone(),
                checks,
                open,
                accepted,
                state,
            });
        }
    }
    out
}

/// What the dashboard shows: the latest snapshot, the trend and the controls.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Dashboard {
    pub snapshot: Option<Snapshot>,
    pub trend: Vec<TrendPoint>,
    pub controls: Vec<ControlStatus>,
}

/// The posture of one day, for the printable report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PostureReport {
    pub day: NaiveDate,
    pub snapshot: Snapshot,
    pub controls: Vec<ControlStatus>,
}

/// One number of a snapshot, for the dashboard's tables and its CSV: the chart it
/// belongs to, what it counts, the value, and the inventory filter that lists the
/// identities behind it (a URL query string; `None` when no filter can).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Figure {
    pub chart: String,
    pub label: String,
    pub value: f64,
    pub drill_down: Option<String>,
}

fn drill(query: IdentityQuery) -> Option<String> {
    Some(query.to_query_string())
}

/// Every number of the snapshot, chart by chart, with its drill-down.
pub fn figures(snapshot: &Snapshot, catalog: &Catalog) -> Vec<Figure> {
    let mut out = Vec::new();
    let mut push = |chart: &str, label: String, value: f64, drill_down: Option<String>| {
        out.push(Figure {
            chart: chart.to_owned(),
            label,
            value,
            drill_down,
        })
    };
    for class in ActorClass::ALL {
        let base = IdentityQuery {
            actor_class: Some(*class),
            ..IdentityQuery::new()
        };
        push(
            "governed",
            format!("{} identities governed (%)", class.label()),
            snapshot.governed_percent(Some(*class)),
            drill(IdentityQuery {
                ungoverned: true,
                ..base.clone()
            }),
        );
        push(
            "governed",
            format!("{} identities", class.label()),
            snapshot.identities.get(*class) as f64,
            drill(base.clone()),
        );
        push(
            "stale",
            format!("{} identities unused", class.label()),
            snapshot.stale.get(*class) as f64,
            drill(IdentityQuery {
                finding: Some(FindingFilter::Check("unused".into())),
                ..base
            }),
        );
    }
    for framework in &catalog.frameworks {
        for control in &framework.controls {
            let open = snapshot.open_for_control(catalog, &control.id);
            if catalog.checks_for(&control.id).next().is_none() {
                continue;
            }
            out.push(Figure {
                chart: format!("controls:{}", framework.framework),
                label: control.id.clone(),
                value: open as f64,
                drill_down: drill(IdentityQuery {
                    control: Some(control.id.clone()),
                    ..IdentityQuery::new()
                }),
            });
        }
    }
    for check in &catalog.checks {
        out.push(Figure {
            chart: "checks".into(),
            label: check.id.clone(),
            value: snapshot.open_by_check.get(&check.id).copied().unwrap_or(0) as f64,
            drill_down: drill(IdentityQuery {
                finding: Some(FindingFilter::Check(check.id.clone())),
                ..IdentityQuery::new()
            }),
        });
    }
    for (team, open) in &snapshot.open_by_team {
        out.push(Figure {
            chart: "teams".into(),
            label: if team.is_empty() {
                "(no team)".into()
            } else {
                team.clone()
            },
            value: *open as f64,
            // Identities without a team cannot be filtered for; all with findings are.
            drill_down: drill(IdentityQuery {
                team: (!team.is_empty()).then(|| team.clone()),
                finding: Some(FindingFilter::Any),
                ..IdentityQuery::new()
            }),
        });
    }
    for (owner, open) in &snapshot.open_by_owner {
        out.push(Figure {
            chart: "owners".into(),
            label: if owner.is_empty() {
                "(no owner)".into()
            } else {
                owner.clone()
            },
            value: *open as f64,
            drill_down: drill(if owner.is_empty() {
                IdentityQuery {
                    finding: Some(FindingFilter::Check("no-owner".into())),
                    ..IdentityQuery::new()
                }
            } else {
                IdentityQuery {
                    owner: Some(owner.clone()),
                    finding: Some(FindingFilter::Any),
                    ..IdentityQuery::new()
                }
            }),
        });
    }
    for (bucket, count) in AGE_BUCKETS.iter().zip(&snapshot.credential_age) {
        out.push(Figure {
            chart: "credential_age".into(),
            label: age_bucket_label(*bucket),
            value: *count as f64,
            drill_down: drill(IdentityQuery {
                credential_age: Some(*bucket),
                ..IdentityQuery::new()
            }),
        });
    }
    out
}

/// The header row of [`figures_csv`].
pub const FIGURES_CSV_HEADER: &str = "taken_at,chart,label,value,drill_down\n";

/// The figures as CSV (`chart,label,value,drill_down`), with the snapshot's time.
pub fn figures_csv(snapshot: &Snapshot, catalog: &Catalog) -> String {
    let mut csv = String::from(FIGURES_CSV_HEADER);
    let taken = snapshot.taken_at.to_rfc3339();
    for figure in figures(snapshot, catalog) {
        csv.push_str(&format!(
            "{},{},{},{},{}\n",
            taken,
            csv_field(&figure.chart),
            csv_field(&figure.label),
            figure.value,
            csv_field(
                &figure
                    .drill_down
                    .map(|q| format!("/inventory?{q}"))
                    .unwrap_or_default()
            )
        ));
    }
    csv
}

/// Days of trend on the dashboard.
pub const TREND_DAYS: u32 = 30;

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::identity::{CredentialInfo, CredentialKind};
    use crate::inventory::{IdentityKind, IdentityStatus};
    use crate::posture::checks::AgentLimits;
    use uuid::Uuid;

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
}
