//! Small helpers the posture pages share: acceptance dates, percentages and the labels
//! of control states.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use steward_domain::posture::dashboard::ControlState;

/// The last second of a day (UTC): an acceptance "until the 5th" lasts through it.
pub fn end_of_day(day: NaiveDate) -> DateTime<Utc> {
    day.and_hms_opt(23, 59, 59)
        .map(|t| t.and_utc())
        .unwrap_or_else(|| day.and_time(chrono::NaiveTime::MIN).and_utc())
}

/// The default end of a new risk acceptance: 90 days from `now`.
pub fn default_acceptance_end(now: DateTime<Utc>) -> String {
    (now + Duration::days(90)).format("%Y-%m-%d").to_string()
}

/// A percentage as shown in headlines.
pub fn percent(value: f64) -> String {
    format!("{value:.1}%")
}

pub(super) fn state_label(state: ControlState) -> (&'static str, &'static str) {
    match state {
        ControlState::Met => ("ok", "met"),
        ControlState::Attention => ("danger", "needs attention"),
        ControlState::NotCovered => ("muted", "not covered"),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn an_acceptance_lasts_through_its_last_day_and_defaults_to_ninety_days() {
        let day = NaiveDate::from_ymd_opt(2026, 12, 5).unwrap();
        assert_eq!(end_of_day(day).to_rfc3339(), "2026-12-05T23:59:59+00:00");
        let now: DateTime<Utc> = "2026-11-29T10:00:00Z".parse().unwrap();
        assert_eq!(default_acceptance_end(now), "2027-02-27");
        assert!(steward_domain::posture::dashboard::parse_day("2026-13-01").is_err());
        assert_eq!(percent(66.666), "66.7%");
    }
}
