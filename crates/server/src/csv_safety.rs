//! The guard every CSV we write goes through: a field that a spreadsheet would read as a formula
//! (starting with `=`, `+`, `-`, `@`, a tab or a carriage return: OWASP's list) gets a leading `'`
//! so it stays text. Users choose their own names, so an export must never hand an administrator's
//! spreadsheet a `=HYPERLINK(…)` to run.

use std::borrow::Cow;

/// The characters that make a spreadsheet read a cell as a formula.
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// The value with a leading `'` when it would otherwise start a formula; unchanged otherwise.
/// Quoting is the CSV writer's job (the `csv` crate's, or [`quoted_field`]).
pub fn neutralize_formula(value: &str) -> Cow<'_, str> {
    if value.starts_with(FORMULA_STARTS) {
        Cow::Owned(format!("'{value}"))
    } else {
        Cow::Borrowed(value)
    }
}

/// A field neutralized and always quoted, for CSV written by hand.
pub fn quoted_field(value: &str) -> String {
    format!("\"{}\"", neutralize_formula(value).replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::{neutralize_formula, quoted_field};

    #[test]
    fn csv_fields_are_quoted_and_formulas_neutralized() {
        assert_eq!(quoted_field("O\"Brien"), "\"O\"\"Brien\"");
        assert_eq!(quoted_field("=HYPERLINK(1)"), "\"'=HYPERLINK(1)\"");
        assert_eq!(quoted_field("\t=1+1"), "\"'\t=1+1\"");
        assert_eq!(quoted_field("\r=1+1"), "\"'\r=1+1\"");
        assert_eq!(quoted_field("Ada"), "\"Ada\"");
    }

    #[test]
    fn every_formula_start_is_neutralized_and_other_text_is_left_alone() {
        for start in ["=", "+", "-", "@", "\t", "\r"] {
            let value = format!("{start}cmd|' /C calc'!A0");
            assert_eq!(neutralize_formula(&value), format!("'{value}"));
        }
        assert_eq!(neutralize_formula("Ada Lovelace"), "Ada Lovelace");
        assert_eq!(neutralize_formula("ada=1@example.com"), "ada=1@example.com");
        assert_eq!(neutralize_formula(""), "");
    }
}
