//! Facet counts of the inventory filters (how many identities each value would show).

use serde::{Deserialize, Serialize};

/// How many identities of the current filter have each value: what the filter controls
/// show next to their options.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Facets {
    pub total: u64,
    pub actor_class: Vec<FacetCount>,
    pub kind: Vec<FacetCount>,
    pub source: Vec<FacetCount>,
    pub environment: Vec<FacetCount>,
    pub status: Vec<FacetCount>,
    pub orphaned: u64,
    pub expired: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FacetCount {
    pub value: String,
    pub count: u64,
}

impl Facets {
    /// Folds `(class, kind, source, environment, status) → count` groups into
    /// per-dimension counts, largest first (ties by value).
    pub fn from_groups(groups: &[([String; 5], u64)], orphaned: u64, expired: u64) -> Facets {
        let mut dims: [std::collections::BTreeMap<&str, u64>; 5] = Default::default();
        let mut total = 0;
        for (values, count) in groups {
            total += count;
            for (dim, value) in dims.iter_mut().zip(values) {
                *dim.entry(value.as_str()).or_default() += count;
            }
        }
        let [class, kind, source, environment, status] = dims.map(|dim| {
            let mut counts: Vec<FacetCount> = dim
                .into_iter()
                .map(|(value, count)| FacetCount {
                    value: value.to_owned(),
                    count,
                })
                .collect();
            counts.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
            counts
        });
        Facets {
            total,
            actor_class: class,
            kind,
            source,
            environment,
            status,
            orphaned,
            expired,
        }
    }

    /// The count for one value of one dimension (0 when absent).
    pub fn count(counts: &[FacetCount], value: &str) -> u64 {
        counts
            .iter()
            .find(|c| c.value == value)
            .map_or(0, |c| c.count)
    }
}
