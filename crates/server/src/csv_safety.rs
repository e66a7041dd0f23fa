//! The formula-injection guard of every CSV file we write (Terms acceptances, the import's
//! per-row results, Export Users): a spreadsheet opening the file must show each field as text,
//! never run it as a formula.

use std::borrow::Cow;

/// A field that a spreadsheet would read as a formula (starting with `=`, `+`, `-`, `@`, or a
/// tab or carriage return: OWASP's list) gets a leading `'`, so it stays text. Writers that
/// quote for themselves (the `csv` crate) take this; [`quoted_csv_field`] also quotes.
pub fn csv_field_guard(value: &str) -> Cow<'_, str> {
    if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        Cow::Owned(format!("'{value}"))
    } else {
        Cow::Borrowed(value)
    }
}

/// A guarded field in double quotes, its quotes doubled: for CSV written by hand.
pub fn quoted_csv_field(value: &str) -> String {
    format!("\"{}\"", csv_field_guard(value).replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::{csv_field_guard, quoted_csv_field};

    #[test]
    fn csv_fields_are_quoted_and_formulas_neutralized() {
        assert_eq!(quoted_csv_field("O\"Brien"), "\"O\"\"Brien\"");
        assert_eq!(quoted_csv_field("=HYPERLINK(1)"), "\"'=HYPERLINK(1)\"");
        assert_eq!(quoted_csv_field("\t=1+1"), "\"'\t=1+1\"");
        assert_eq!(quoted_csv_field("\r=1+1"), "\"'\r=1+1\"");
        assert_eq!(quoted_csv_field("Ada"), "\"Ada\"");
    }

    #[test]
    fn the_guard_leaves_plain_text_alone_and_marks_formulas() {
        assert_eq!(csv_field_guard("ada@example.com"), "ada@example.com");
        assert_eq!(csv_field_guard("-1"), "'-1");
        assert_eq!(csv_field_guard("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_field_guard("+33 1 23"), "'+33 1 23");
    }
}
