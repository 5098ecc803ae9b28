//! Snapshot days and the trend over the daily snapshots before the latest.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use super::Snapshot;

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

/// Days of trend on the dashboard.
pub const TREND_DAYS: u32 = 30;
