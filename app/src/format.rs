//! Plain functions that turn domain values into text and links for the pages.

use chrono::{DateTime, Utc};
use steward_domain::inventory::{ActorClass, IdentityQuery};

/// `2026-11-29`, or an em dash for "none".
pub fn date(value: Option<DateTime<Utc>>) -> String {
    value.map_or_else(|| "—".to_owned(), |at| at.format("%Y-%m-%d").to_string())
}

/// Link to the inventory showing `query`.
pub fn inventory_href(query: &IdentityQuery) -> String {
    let qs = query.to_query_string();
    if qs.is_empty() {
        "/inventory".to_owned()
    } else {
        format!("/inventory?{qs}")
    }
}

/// The actor-class tabs of the inventory: label, link, and whether it is the current one.
pub fn class_tabs(query: &IdentityQuery) -> Vec<(&'static str, String, bool)> {
    let mut tabs = vec![(
        "All",
        inventory_href(&query.with_actor_class(None)),
        query.actor_class.is_none(),
    )];
    for class in ActorClass::ALL {
        tabs.push((
            match class {
                ActorClass::Machine => "Machine",
                ActorClass::Ai => "AI",
            },
            inventory_href(&query.with_actor_class(Some(*class))),
            query.actor_class == Some(*class),
        ));
    }
    tabs
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use steward_domain::inventory::Cursor;

    #[test]
    fn dates_are_iso_days_or_a_dash() {
        let at = Utc.with_ymd_and_hms(2026, 3, 4, 5, 6, 7).unwrap();
        assert_eq!(date(Some(at)), "2026-03-04");
        assert_eq!(date(None), "—");
    }

    #[test]
    fn tabs_keep_search_and_drop_the_cursor() {
        let mut query = IdentityQuery::from_query_string("q=deploy&class=ai").unwrap();
        query.cursor = Some(Cursor {
            after_name: "a".into(),
            after_id: uuid::Uuid::from_u128(1),
        });
        let tabs = class_tabs(&query);
        assert_eq!(
            tabs,
            vec![
                ("All", "/inventory?q=deploy".to_owned(), false),
                (
                    "Machine",
                    "/inventory?class=machine&q=deploy".to_owned(),
                    false
                ),
                ("AI", "/inventory?class=ai&q=deploy".to_owned(), true),
            ]
        );
        assert_eq!(inventory_href(&IdentityQuery::new()), "/inventory");
    }
}
