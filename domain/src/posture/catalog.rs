//! The control catalog: versioned data shipped with Steward (`domain/controls/*.toml`),
//! read once and checked for integrity — every check maps to at least one control and
//! every control it names exists.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::inventory::ActorClass;
use crate::string_enum::string_enum;

string_enum! {
    /// How urgent a finding of a check is.
    pub enum Severity: "severity" {
        Low = "low",
        Medium = "medium",
        High = "high",
        Critical = "critical",
    }
}

/// One control of a framework: its public id and title, and what it means for a
/// governed identity (in Steward's words).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Control {
    pub id: String,
    pub title: String,
    pub summary: String,
}

/// A control framework at one version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Framework {
    /// Steward's key for the framework, e.g. `owasp-nhi`.
    pub framework: String,
    pub name: String,
    pub version: String,
    pub source: String,
    #[serde(rename = "control")]
    pub controls: Vec<Control>,
}

/// A check the findings engine runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Check {
    pub id: String,
    pub title: String,
    pub description: String,
    pub severity: Severity,
    pub applies_to: Vec<ActorClass>,
    /// Ids of the controls a finding of this check is evidence against.
    pub controls: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ChecksFile {
    version: String,
    #[serde(rename = "check")]
    checks: Vec<Check>,
}

/// The frameworks and the checks, consistent with each other.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Catalog {
    /// The version of the checks (the frameworks carry their own).
    pub version: String,
    pub frameworks: Vec<Framework>,
    pub checks: Vec<Check>,
}

/// What is wrong with catalog data: which file or entry, and the problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("control catalog: {0}")]
pub struct CatalogError(pub String);

/// The shipped data files, in the order the catalog lists them.
const FRAMEWORK_FILES: &[(&str, &str)] = &[
    (
        "owasp-nhi-2025.toml",
        include_str!("../../controls/owasp-nhi-2025.toml"),
    ),
    (
        "owasp-asi-2026.toml",
        include_str!("../../controls/owasp-asi-2026.toml"),
    ),
    (
        "nist-csf-2.0.toml",
        include_str!("../../controls/nist-csf-2.0.toml"),
    ),
    (
        "nist-ai-rmf-1.0.toml",
        include_str!("../../controls/nist-ai-rmf-1.0.toml"),
    ),
    (
        "nist-800-53-r5.toml",
        include_str!("../../controls/nist-800-53-r5.toml"),
    ),
];
const CHECKS_FILE: (&str, &str) = ("checks.toml", include_str!("../../controls/checks.toml"));

impl Catalog {
    /// The catalog shipped with this build (checked by the test suite, so reading it
    /// cannot fail at run time).
    #[allow(clippy::expect_used)] // the shipped files are verified by `the_shipped_catalog_is_consistent`
    pub fn shipped() -> &'static Catalog {
        static SHIPPED: OnceLock<Catalog> = OnceLock::new();
        SHIPPED.get_or_init(|| {
            Catalog::parse(FRAMEWORK_FILES, CHECKS_FILE).expect("the shipped control catalog")
        })
    }

    /// Reads framework files and a checks file (each `(name, text)`) and checks that
    /// they agree: ids unique, every check mapped to at least one existing control and
    /// applying to at least one actor class.
    pub fn parse(
        framework_files: &[(&str, &str)],
        checks_file: (&str, &str),
    ) -> Result<Catalog, CatalogError> {
        let mut frameworks = Vec::new();
        let mut control_ids: BTreeMap<String, String> = BTreeMap::new();
        for (name, text) in framework_files {
            let framework: Framework = toml::from_str(text)
                .map_err(|e| CatalogError(format!("{name}: {}", e.message())))?;
            if frameworks
                .iter()
                .any(|f: &Framework| f.framework == framework.framework)
            {
                return Err(CatalogError(format!(
                    "{name}: the framework {} is listed twice",
                    framework.framework
                )));
            }
            if framework.controls.is_empty() {
                return Err(CatalogError(format!("{name}: lists no controls")));
            }
            for control in &framework.controls {
                if control.id.trim().is_empty() || control.title.trim().is_empty() {
                    return Err(CatalogError(format!(
                        "{name}: a control has no id or no title"
                    )));
                }
                if let Some(earlier) = control_ids.insert(control.id.clone(), (*name).to_owned()) {
                    return Err(CatalogError(format!(
                        "{name}: the control {} is already in {earlier}",
                        control.id
                    )));
                }
            }
            frameworks.push(framework);
        }
        let (name, text) = checks_file;
        let file: ChecksFile =
            toml::from_str(text).map_err(|e| CatalogError(format!("{name}: {}", e.message())))?;
        let mut check_ids = BTreeSet::new();
        for check in &file.checks {
            if !check_ids.insert(check.id.as_str()) {
                return Err(CatalogError(format!(
                    "{name}: the check {} is listed twice",
                    check.id
                )));
            }
            if check.controls.is_empty() {
                return Err(CatalogError(format!(
                    "{name}: the check {} maps to no control",
                    check.id
                )));
            }
            if check.applies_to.is_empty() {
                return Err(CatalogError(format!(
                    "{name}: the check {} applies to no actor class",
                    check.id
                )));
            }
            if let Some(unknown) = check
                .controls
                .iter()
                .find(|id| !control_ids.contains_key(*id))
            {
                return Err(CatalogError(format!(
                    "{name}: the check {} names the control {unknown}, which no framework has",
                    check.id
                )));
            }
        }
        Ok(Catalog {
            version: file.version,
            frameworks,
            checks: file.checks,
        })
    }

    /// The control with this id and its framework.
    pub fn control(&self, id: &str) -> Option<(&Framework, &Control)> {
        self.frameworks.iter().find_map(|framework| {
            framework
                .controls
                .iter()
                .find(|c| c.id == id)
                .map(|control| (framework, control))
        })
    }

    pub fn check(&self, id: &str) -> Option<&Check> {
        self.checks.iter().find(|c| c.id == id)
    }

    /// The checks that evidence a control (none: the control is not covered).
    pub fn checks_for<'a>(&'a self, control_id: &'a str) -> impl Iterator<Item = &'a Check> + 'a {
        self.checks
            .iter()
            .filter(move |check| check.controls.iter().any(|c| c == control_id))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    const FRAMEWORK: &str = r#"
framework = "demo"
name = "Demo"
version = "1"
source = "https://example.com"

[[control]]
id = "D1"
title = "One"
summary = "The first."
"#;

    fn checks(controls: &str, applies_to: &str) -> String {
        format!(
            "version = \"1\"\n[[check]]\nid = \"c\"\ntitle = \"C\"\ndescription = \"d\"\n\
             severity = \"high\"\napplies_to = [{applies_to}]\ncontrols = [{controls}]\n"
        )
    }

    #[test]
    fn the_shipped_catalog_is_consistent() {
        let catalog = Catalog::parse(FRAMEWORK_FILES, CHECKS_FILE).unwrap();
        assert_eq!(&catalog, Catalog::shipped());
        // The OWASP lists are complete and in order, with the official titles.
        let ids = |framework: &str| -> Vec<String> {
            let f = catalog
                .frameworks
                .iter()
                .find(|f| f.framework == framework)
                .unwrap();
            f.controls.iter().map(|c| c.id.clone()).collect()
        };
        assert_eq!(
            ids("owasp-nhi"),
            (1..=10).map(|n| format!("NHI{n}")).collect::<Vec<_>>()
        );
        assert_eq!(
            ids("owasp-asi"),
            (1..=10).map(|n| format!("ASI{n:02}")).collect::<Vec<_>>()
        );
        assert_eq!(
            catalog.control("NHI3").unwrap().1.title,
            "Vulnerable Third-Party NHI"
        );
        assert_eq!(
            catalog.control("ASI03").unwrap().1.title,
            "Identity and Privilege Abuse"
        );
        assert_eq!(catalog.control("GV.RR-02").unwrap().0.framework, "nist-csf");
        assert_eq!(
            catalog.control("GOVERN 3.2").unwrap().0.framework,
            "nist-ai-rmf"
        );
        assert!(catalog.control("NHI11").is_none());
        // Every NHI risk is covered by at least one check.
        for id in ids("owasp-nhi") {
            assert!(
                catalog.checks_for(&id).next().is_some(),
                "{id} has no check"
            );
        }
        assert!(catalog.checks.len() >= 22);
        assert_eq!(
            catalog
                .checks_for("NHI10")
                .map(|c| c.id.as_str())
                .collect::<Vec<_>>(),
            ["human-use"]
        );
    }

    #[test]
    fn inconsistent_data_is_refused_with_the_reason() {
        let parse =
            |checks: &str| Catalog::parse(&[("demo.toml", FRAMEWORK)], ("checks.toml", checks));
        assert!(parse(&checks("\"D1\"", "\"ai\"")).is_ok());
        assert_eq!(
            parse(&checks("\"D2\"", "\"ai\"")).unwrap_err().to_string(),
            "control catalog: checks.toml: the check c names the control D2, which no framework has"
        );
        assert_eq!(
            parse(&checks("", "\"ai\"")).unwrap_err().to_string(),
            "control catalog: checks.toml: the check c maps to no control"
        );
        assert_eq!(
            parse(&checks("\"D1\"", "")).unwrap_err().to_string(),
            "control catalog: checks.toml: the check c applies to no actor class"
        );
        let twice = format!(
            "{}{}",
            checks("\"D1\"", "\"ai\""),
            checks("\"D1\"", "\"ai\"").replacen("version = \"1\"\n", "", 1)
        );
        assert_eq!(
            parse(&twice).unwrap_err().to_string(),
            "control catalog: checks.toml: the check c is listed twice"
        );
        let bad_severity = checks("\"D1\"", "\"ai\"").replace("high", "urgent");
        assert!(parse(&bad_severity)
            .unwrap_err()
            .to_string()
            .contains("unknown value 'urgent'"));
        let dup = Catalog::parse(
            &[
                ("a.toml", FRAMEWORK),
                ("b.toml", &FRAMEWORK.replace("\"demo\"", "\"other\"")),
            ],
            ("checks.toml", &checks("\"D1\"", "\"ai\"")),
        );
        assert_eq!(
            dup.unwrap_err().to_string(),
            "control catalog: b.toml: the control D1 is already in a.toml"
        );
    }
}
