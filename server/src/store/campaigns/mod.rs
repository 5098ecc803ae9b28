//! Review campaigns in the store: campaigns with their counts, review items with the
//! snapshot taken at launch, progress groupings, reminder claims, and the audit hashes
//! an evidence pack cites.

pub mod writes;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sqlx::QueryBuilder;
use steward_domain::audit::AuditAction;
use steward_domain::campaigns::{
    Campaign, CampaignDraft, Decision, ItemFilter, ItemReviewer, Progress, ReviewItem,
};
use steward_domain::inventory::PersonRef;
use uuid::Uuid;

use super::corrupt;
use super::posture::{push_scope, Scope};
use super::{db_run, Store, StoreError};

/// The reminder key of the security team (people are keyed by their id).
pub const SECURITY_TEAM_KEY: &str = "security_team";

const CAMPAIGN_COLUMNS: &str = "SELECT c.id, c.state, c.template, c.draft, c.created_by, \
     c.created_at, c.launched_at, c.closed_at, c.previous_id, \
     COUNT(r.id) AS items, \
     COALESCE(SUM(CASE WHEN r.decision IS NOT NULL OR r.close_outcome IS NOT NULL THEN 1 ELSE 0 END), 0) AS decided, \
     COALESCE(SUM(CASE WHEN r.remediation IN ('pending', 'failed') THEN 1 ELSE 0 END), 0) AS remediation_open \
     FROM campaigns c LEFT JOIN review_items r ON r.campaign_id = c.id";

#[derive(sqlx::FromRow)]
struct CampaignRow {
    id: Uuid,
    state: String,
    template: Option<String>,
    draft: String,
    created_by: String,
    created_at: DateTime<Utc>,
    launched_at: Option<DateTime<Utc>>,
    closed_at: Option<DateTime<Utc>>,
    previous_id: Option<Uuid>,
    items: i64,
    decided: i64,
    remediation_open: i64,
}

fn draft_from_json(text: &str) -> Result<CampaignDraft, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("campaign draft: {e}")))
}

impl TryFrom<CampaignRow> for Campaign {
    type Error = StoreError;

    fn try_from(r: CampaignRow) -> Result<Self, StoreError> {
        Ok(Campaign {
            id: r.id,
            draft: draft_from_json(&r.draft)?,
            state: r.state.parse().map_err(corrupt("campaign state"))?,
            template: r.template,
            created_by: r.created_by,
            created_at: r.created_at,
            launched_at: r.launched_at,
            closed_at: r.closed_at,
            previous_id: r.previous_id,
            items: r.items.max(0) as u64,
            decided: r.decided.max(0) as u64,
            remediation_open: r.remediation_open.max(0) as u64,
        })
    }
}

const ITEM_COLUMNS: &str = "SELECT r.id, r.campaign_id, c.name AS campaign_name, c.due_at, \
     c.draft, r.identity_id, r.snapshot, r.reviewer_kind, p.id AS reviewer_id, \
     p.display_name AS reviewer_name, p.email AS reviewer_email, r.previous_reviewer, \
     r.decision_data, r.decided_by, r.decided_at, r.close_outcome, r.remediation, \
     r.remediation_note, r.escalated_at \
     FROM review_items r JOIN campaigns c ON c.id = r.campaign_id \
     LEFT JOIN people p ON p.id = r.reviewer_person_id";

#[derive(sqlx::FromRow)]
struct ItemRow {
    id: Uuid,
    campaign_id: Uuid,
    campaign_name: String,
    due_at: DateTime<Utc>,
    draft: String,
    identity_id: Uuid,
    snapshot: String,
    reviewer_kind: String,
    reviewer_id: Option<Uuid>,
    reviewer_name: Option<String>,
    reviewer_email: Option<String>,
    previous_reviewer: Option<String>,
    decision_data: Option<String>,
    decided_by: Option<String>,
    decided_at: Option<DateTime<Utc>>,
    close_outcome: Option<String>,
    remediation: String,
    remediation_note: Option<String>,
    escalated_at: Option<DateTime<Utc>>,
}

impl TryFrom<ItemRow> for ReviewItem {
    type Error = StoreError;

    fn try_from(r: ItemRow) -> Result<Self, StoreError> {
        let json = |what: &str, e: serde_json::Error| StoreError::Corrupt(format!("{what}: {e}"));
        let person = match (r.reviewer_id, r.reviewer_name, r.reviewer_email) {
            (Some(id), Some(display_name), Some(email)) => Some(PersonRef {
                id,
                display_name,
                email,
            }),
            _ => None,
        };
        Ok(ReviewItem {
            id: r.id,
            campaign_id: r.campaign_id,
            campaign_name: r.campaign_name,
            due_at: r.due_at,
            reviewed: draft_from_json(&r.draft)?.reviewed,
            identity_id: r.identity_id,
            reviewer: ItemReviewer {
                kind: r.reviewer_kind.parse().map_err(corrupt("reviewer kind"))?,
                person,
            },
            previous_reviewer: r.previous_reviewer,
            snapshot: serde_json::from_str(&r.snapshot).map_err(|e| json("item snapshot", e))?,
            decision: r
                .decision_data
                .as_deref()
                .map(serde_json::from_str::<Decision>)
                .transpose()
                .map_err(|e| json("decision", e))?,
            decided_by: r.decided_by,
            decided_at: r.decided_at,
            close_outcome: r
                .close_outcome
                .as_deref()
                .map(str::parse)
                .transpose()
                .map_err(corrupt("close outcome"))?,
            remediation: r.remediation.parse().map_err(corrupt("remediation"))?,
            remediation_note: r.remediation_note,
            escalated_at: r.escalated_at,
        })
    }
}

/// The SQL condition of an item filter (on `review_items r`).
fn filter_condition(filter: ItemFilter) -> &'static str {
    match filter {
        ItemFilter::All => "1 = 1",
        ItemFilter::Undecided => "r.decision IS NULL AND r.close_outcome IS NULL",
        ItemFilter::Decided => "(r.decision IS NOT NULL OR r.close_outcome IS NOT NULL)",
        ItemFilter::Remediation => "r.remediation IN ('pending', 'failed')",
    }
}

impl Store {
    /// Every campaign with its counts, newest first.
    pub async fn list_campaigns(&self) -> Result<Vec<Campaign>, StoreError> {
        let rows: Vec<CampaignRow> = db_run!(self, reader, |pool| {
            sqlx::query_as(&format!(
                "{CAMPAIGN_COLUMNS} GROUP BY c.id ORDER BY c.created_at DESC, c.id DESC"
            ))
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(Campaign::try_from).collect()
    }

    pub async fn find_campaign(&self, id: Uuid) -> Result<Option<Campaign>, StoreError> {
        let row: Option<CampaignRow> = db_run!(self, reader, |pool| {
            sqlx::query_as(&format!("{CAMPAIGN_COLUMNS} WHERE c.id = $1 GROUP BY c.id"))
                .bind(id)
                .fetch_optional(pool)
                .await?
        });
        row.map(Campaign::try_from).transpose()
    }

    /// Ids of scheduled campaigns whose start has come.
    pub async fn campaigns_to_launch(&self, now: DateTime<Utc>) -> Result<Vec<Uuid>, StoreError> {
        Ok(db_run!(self, reader, |pool| {
            sqlx::query_scalar(
                "SELECT id FROM campaigns WHERE state = 'scheduled' AND starts_at <= $1 ORDER BY starts_at",
            )
            .bind(now)
            .fetch_all(pool)
            .await?
        }))
    }

    /// Ids of open campaigns.
    pub async fn open_campaign_ids(&self) -> Result<Vec<Uuid>, StoreError> {
        Ok(db_run!(self, reader, |pool| {
            sqlx::query_scalar("SELECT id FROM campaigns WHERE state = 'open' ORDER BY due_at")
                .fetch_all(pool)
                .await?
        }))
    }

    pub async fn find_item(&self, id: Uuid) -> Result<Option<ReviewItem>, StoreError> {
        let row: Option<ItemRow> = db_run!(self, reader, |pool| {
            sqlx::query_as(&format!("{ITEM_COLUMNS} WHERE r.id = $1"))
                .bind(id)
                .fetch_optional(pool)
                .await?
        });
        row.map(ReviewItem::try_from).transpose()
    }

    /// A page of a campaign's items in identity-name order, and how many match.
    pub async fn campaign_items(
        &self,
        campaign_id: Uuid,
        filter: ItemFilter,
        offset: u64,
        limit: u64,
    ) -> Result<(Vec<ReviewItem>, u64), StoreError> {
        let condition = filter_condition(filter);
        let (rows, total): (Vec<ItemRow>, i64) = db_run!(self, reader, |pool| {
            let rows = sqlx::query_as(&format!(
                "{ITEM_COLUMNS} WHERE r.campaign_id = $1 AND {condition} \
                 ORDER BY r.identity_name, r.id LIMIT $2 OFFSET $3"
            ))
            .bind(campaign_id)
            .bind(limit as i64)
            .bind(offset as i64)
            .fetch_all(pool)
            .await?;
            let total = sqlx::query_scalar(&format!(
                "SELECT COUNT(*) FROM review_items r WHERE r.campaign_id = $1 AND {condition}"
            ))
            .bind(campaign_id)
            .fetch_one(pool)
            .await?;
            (rows, total)
        });
        Ok((
            rows.into_iter()
                .map(ReviewItem::try_from)
                .collect::<Result<_, _>>()?,
            total.max(0) as u64,
        ))
    }

    /// Every item of a campaign, in identity-name order (the evidence pack).
    pub async fn all_campaign_items(
        &self,
        campaign_id: Uuid,
    ) -> Result<Vec<ReviewItem>, StoreError> {
        let rows: Vec<ItemRow> = db_run!(self, reader, |pool| {
            sqlx::query_as(&format!(
                "{ITEM_COLUMNS} WHERE r.campaign_id = $1 ORDER BY r.identity_name, r.id"
            ))
            .bind(campaign_id)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(ReviewItem::try_from).collect()
    }

    /// Undecided items of open campaigns for a person (and, with `security_team`, the
    /// security team's), the soonest due first.
    pub async fn reviews_for(
        &self,
        person_id: Uuid,
        security_team: bool,
        limit: i64,
    ) -> Result<Vec<ReviewItem>, StoreError> {
        let team = if security_team {
            " OR r.reviewer_person_id IS NULL"
        } else {
            ""
        };
        let rows: Vec<ItemRow> = db_run!(self, reader, |pool| {
            sqlx::query_as(&format!(
                "{ITEM_COLUMNS} WHERE c.state = 'open' AND r.decision IS NULL \
                 AND r.close_outcome IS NULL AND (r.reviewer_person_id = $1{team}) \
                 ORDER BY c.due_at, r.identity_name, r.id LIMIT $2"
            ))
            .bind(person_id)
            .bind(limit)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(ReviewItem::try_from).collect()
    }

    /// Undecided items of open campaigns due before `now` (of one campaign, or all).
    pub async fn overdue_items(
        &self,
        campaign_id: Option<Uuid>,
        now: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<ReviewItem>, StoreError> {
        let rows: Vec<ItemRow> = db_run!(self, reader, |pool| {
            let mut sql = QueryBuilder::<Db>::new(format!(
                "{ITEM_COLUMNS} WHERE c.state = 'open' AND r.decision IS NULL \
                 AND r.close_outcome IS NULL AND c.due_at < "
            ));
            sql.push_bind(now);
            if let Some(id) = campaign_id {
                sql.push(" AND r.campaign_id = ").push_bind(id);
            }
            sql.push(" ORDER BY c.due_at, r.identity_name, r.id LIMIT ")
                .push_bind(limit);
            sql.build_query_as().fetch_all(pool).await?
        });
        rows.into_iter().map(ReviewItem::try_from).collect()
    }

    /// Undecided, not yet escalated items of an open campaign (the escalation sweep),
    /// with the identity's sponsor as it is now.
    pub async fn items_to_escalate(
        &self,
        campaign_id: Uuid,
        limit: i64,
    ) -> Result<Vec<(ReviewItem, Option<(PersonRef, bool)>)>, StoreError> {
        let rows: Vec<ItemRow> = db_run!(self, reader, |pool| {
            sqlx::query_as(&format!(
                "{ITEM_COLUMNS} WHERE r.campaign_id = $1 AND r.decision IS NULL \
                 AND r.close_outcome IS NULL AND r.escalated_at IS NULL \
                 ORDER BY r.identity_name, r.id LIMIT $2"
            ))
            .bind(campaign_id)
            .bind(limit)
            .fetch_all(pool)
            .await?
        });
        let items: Vec<ReviewItem> = rows
            .into_iter()
            .map(ReviewItem::try_from)
            .collect::<Result<_, _>>()?;
        let ids: Vec<Uuid> = items.iter().map(|i| i.identity_id).collect();
        let mut sponsors = self.sponsors_of(&ids).await?;
        Ok(items
            .into_iter()
            .map(|item| {
                let sponsor = sponsors.remove(&item.identity_id);
                (item, sponsor)
            })
            .collect())
    }

    /// Decided items whose change is still pending since before `before` (a crash or a
    /// restart came between the decision and its change).
    pub async fn stale_remediations(
        &self,
        before: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<ReviewItem>, StoreError> {
        let rows: Vec<ItemRow> = db_run!(self, reader, |pool| {
            sqlx::query_as(&format!(
                "{ITEM_COLUMNS} WHERE r.remediation = 'pending' \
                 AND COALESCE(r.decided_at, c.closed_at) < $1 ORDER BY r.id LIMIT $2"
            ))
            .bind(before)
            .bind(limit)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(ReviewItem::try_from).collect()
    }

    /// Items of a campaign closed by the close policy whose change is pending.
    pub async fn pending_close_items(
        &self,
        campaign_id: Uuid,
    ) -> Result<Vec<ReviewItem>, StoreError> {
        let rows: Vec<ItemRow> = db_run!(self, reader, |pool| {
            sqlx::query_as(&format!(
                "{ITEM_COLUMNS} WHERE r.campaign_id = $1 AND r.close_outcome IS NOT NULL \
                 AND r.remediation = 'pending' ORDER BY r.identity_name, r.id"
            ))
            .bind(campaign_id)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(ReviewItem::try_from).collect()
    }

    /// Items decided of all, per reviewer of a campaign (the security team's as one).
    pub async fn progress_by_reviewer(
        &self,
        campaign_id: Uuid,
    ) -> Result<Vec<Progress>, StoreError> {
        type Row = (Option<String>, Option<String>, i64, i64);
        let rows: Vec<Row> = db_run!(self, reader, |pool| {
            sqlx::query_as(
                "SELECT p.display_name, p.email, COUNT(*), \
                 COALESCE(SUM(CASE WHEN r.decision IS NOT NULL OR r.close_outcome IS NOT NULL THEN 1 ELSE 0 END), 0) \
                 FROM review_items r LEFT JOIN people p ON p.id = r.reviewer_person_id \
                 WHERE r.campaign_id = $1 GROUP BY p.display_name, p.email \
                 ORDER BY p.display_name, p.email",
            )
            .bind(campaign_id)
            .fetch_all(pool)
            .await?
        });
        Ok(rows
            .into_iter()
            .map(|(name, email, total, decided)| Progress {
                label: match (name, email) {
                    (Some(name), Some(email)) => format!("{name} <{email}>"),
                    _ => "Security team".to_owned(),
                },
                total: total.max(0) as u64,
                decided: decided.max(0) as u64,
            })
            .collect())
    }

    /// Items decided of all, per team of the identities (as at launch).
    pub async fn progress_by_team(&self, campaign_id: Uuid) -> Result<Vec<Progress>, StoreError> {
        type Row = (Option<String>, i64, i64);
        let rows: Vec<Row> = db_run!(self, reader, |pool| {
            sqlx::query_as(
                "SELECT r.team, COUNT(*), \
                 COALESCE(SUM(CASE WHEN r.decision IS NOT NULL OR r.close_outcome IS NOT NULL THEN 1 ELSE 0 END), 0) \
                 FROM review_items r WHERE r.campaign_id = $1 GROUP BY r.team ORDER BY r.team",
            )
            .bind(campaign_id)
            .fetch_all(pool)
            .await?
        });
        Ok(rows
            .into_iter()
            .map(|(team, total, decided)| Progress {
                label: team.unwrap_or_else(|| "(no team)".to_owned()),
                total: total.max(0) as u64,
                decided: decided.max(0) as u64,
            })
            .collect())
    }

    /// Reviewers with undecided items in a campaign: the person (`None`: the security
    /// team) and how many items wait for them.
    pub async fn waiting_reviewers(
        &self,
        campaign_id: Uuid,
    ) -> Result<Vec<(Option<PersonRef>, u64)>, StoreError> {
        type Row = (Option<Uuid>, Option<String>, Option<String>, i64);
        let rows: Vec<Row> = db_run!(self, reader, |pool| {
            sqlx::query_as(
                "SELECT p.id, p.display_name, p.email, COUNT(*) FROM review_items r \
                 LEFT JOIN people p ON p.id = r.reviewer_person_id \
                 WHERE r.campaign_id = $1 AND r.decision IS NULL AND r.close_outcome IS NULL \
                 GROUP BY p.id, p.display_name, p.email ORDER BY p.email",
            )
            .bind(campaign_id)
            .fetch_all(pool)
            .await?
        });
        Ok(rows
            .into_iter()
            .map(|(id, name, email, count)| {
                let person = match (id, name, email) {
                    (Some(id), Some(display_name), Some(email)) => Some(PersonRef {
                        id,
                        display_name,
                        email,
                    }),
                    _ => None,
                };
                (person, count.max(0) as u64)
            })
            .collect())
    }

    /// When each reviewer of a campaign was last reminded, by reminder key.
    pub async fn last_reminders(
        &self,
        campaign_id: Uuid,
    ) -> Result<BTreeMap<String, DateTime<Utc>>, StoreError> {
        let rows: Vec<(String, DateTime<Utc>)> = db_run!(self, reader, |pool| {
            sqlx::query_as("SELECT reviewer, last_at FROM review_reminders WHERE campaign_id = $1")
                .bind(campaign_id)
                .fetch_all(pool)
                .await?
        });
        Ok(rows.into_iter().collect())
    }

    /// The people of active admin accounts (the security team).
    pub async fn security_team(&self) -> Result<Vec<Uuid>, StoreError> {
        Ok(db_run!(self, reader, |pool| {
            sqlx::query_scalar(
                "SELECT u.person_id FROM users u JOIN people p ON p.id = u.person_id \
                 WHERE u.role = 'admin' AND u.active = TRUE AND p.active = TRUE ORDER BY u.email",
            )
            .fetch_all(pool)
            .await?
        }))
    }

    /// The sponsor of each of `ids` that has one, and whether they are still active.
    pub async fn sponsors_of(
        &self,
        ids: &[Uuid],
    ) -> Result<BTreeMap<Uuid, (PersonRef, bool)>, StoreError> {
        let mut out = BTreeMap::new();
        for chunk in ids.chunks(1000) {
            type Row = (Uuid, Uuid, String, String, bool);
            let rows: Vec<Row> = db_run!(self, reader, |pool| {
                let mut sql = QueryBuilder::<Db>::new(
                    "SELECT i.id, s.id, s.display_name, s.email, s.active FROM identities i \
                     JOIN people s ON s.id = i.sponsor_id WHERE 1 = 1",
                );
                push_scope(&mut sql, "i.id", &Scope::Ids(chunk));
                sql.build_query_as().fetch_all(pool).await?
            });
            for (identity, id, display_name, email, active) in rows {
                out.insert(
                    identity,
                    (
                        PersonRef {
                            id,
                            display_name,
                            email,
                        },
                        active,
                    ),
                );
            }
        }
        Ok(out)
    }

    /// The names of `ids`.
    pub async fn identity_names(&self, ids: &[Uuid]) -> Result<BTreeMap<Uuid, String>, StoreError> {
        let mut out = BTreeMap::new();
        for chunk in ids.chunks(1000) {
            let rows: Vec<(Uuid, String)> = db_run!(self, reader, |pool| {
                let mut sql =
                    QueryBuilder::<Db>::new("SELECT id, name FROM identities WHERE 1 = 1");
                push_scope(&mut sql, "id", &Scope::Ids(chunk));
                sql.build_query_as().fetch_all(pool).await?
            });
            out.extend(rows);
        }
        Ok(out)
    }

    /// The audit events that record each item's outcome in a campaign: the decision
    /// event of each decided item, and the close event for items the close policy
    /// settled. By item id, `(seq, hash)`; `None` key: the close event.
    pub async fn campaign_outcome_events(
        &self,
        campaign_id: Uuid,
    ) -> Result<BTreeMap<Option<Uuid>, (i64, String)>, StoreError> {
        type Row = (i64, String, String, String);
        let rows: Vec<Row> = db_run!(self, reader, |pool| {
            sqlx::query_as(
                "SELECT seq, hash, action, details FROM audit_events WHERE target = $1 \
                 AND action IN ('campaign.decide', 'campaign.close') ORDER BY seq",
            )
            .bind(format!("campaign:{campaign_id}"))
            .fetch_all(pool)
            .await?
        });
        let mut out = BTreeMap::new();
        for (seq, hash, action, details) in rows {
            if action == AuditAction::CampaignClose.as_str() {
                out.insert(None, (seq, hash));
                continue;
            }
            let details: serde_json::Value = serde_json::from_str(&details)
                .map_err(|e| StoreError::Corrupt(format!("audit details: {e}")))?;
            if let Some(item) = details
                .get("item_id")
                .and_then(|v| v.as_str())
                .and_then(|s| s.parse::<Uuid>().ok())
            {
                // The latest decision event of an item wins.
                out.insert(Some(item), (seq, hash));
            }
        }
        Ok(out)
    }
}
