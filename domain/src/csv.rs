//! The one way Steward writes a CSV cell, for every export (inventory, audit trail,
//! campaign evidence, posture dashboard): quoted when it needs to be, and defused when
//! a spreadsheet would run it as a formula. Exports are opened by auditors in
//! spreadsheets, and their cells hold text people and imports chose (names, teams,
//! reasons).

/// Characters that make a spreadsheet treat a cell as a formula (or, TAB and CR, that
/// some spreadsheets strip before looking for one).
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// One CSV cell: a leading `'` on text a spreadsheet would run as a formula, then
/// quoted (doubling quotes) when it holds a comma, quote or line break.
pub fn csv_field(value: &str) -> String {
    let value = if value.starts_with(FORMULA_STARTS) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_quoted_and_formulas_defused() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=HYPERLINK(1)"), "'=HYPERLINK(1)");
        assert_eq!(csv_field("+1"), "'+1");
        assert_eq!(csv_field("-1"), "'-1");
        assert_eq!(csv_field("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_field("\t=cmd"), "'\t=cmd");
        assert_eq!(csv_field("\r=cmd"), "\"'\r=cmd\"");
        assert_eq!(csv_field("x=1"), "x=1");
    }
}
