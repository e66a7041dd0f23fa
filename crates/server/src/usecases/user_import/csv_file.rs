//! Reading an uploaded CSV file: UTF-8 with or without a byte order mark, comma, semicolon or tab
//! separated (decided by the header line), quoted fields, a header line naming the columns.
//! Anything else gets a message that says how to make a file that works.

/// The largest file accepted (the web form and the command line alike).
pub const MAX_FILE_BYTES: usize = 10 * 1024 * 1024;

/// How to make a file we can read, from any spreadsheet.
const SAVE_AS_CSV: &str = "In your spreadsheet, choose Save As (or Download) and \u{201c}CSV UTF-8\u{201d}, then upload that file.";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CsvFileError {
    #[error("The file is larger than 10 MB. Split it into files of up to 10 MB and import each.")]
    TooLarge,
    #[error(
        "The file is empty. Choose a CSV file whose first line names its columns, such as First Name,Last Name,Email."
    )]
    Empty,
    #[error(
        "The file is not a CSV text file (it holds binary data, like a workbook or an image). {SAVE_AS_CSV}"
    )]
    Binary,
    #[error("The file is not UTF-8 text. {SAVE_AS_CSV}")]
    NotUtf8,
    #[error(
        "The file's first line must name its columns, separated by commas or semicolons, such as First Name,Last Name,Email. {SAVE_AS_CSV}"
    )]
    NoHeader,
    #[error(
        "Line {line} of the file cannot be read as CSV ({reason}). Check its quotes, or {SAVE_AS_CSV_LOWER}"
    )]
    Malformed { line: u64, reason: String },
    #[error("The file has no rows below its header line. Add a line for each person to import.")]
    NoRows,
}

const SAVE_AS_CSV_LOWER: &str = "save it again from your spreadsheet as \u{201c}CSV UTF-8\u{201d}.";

/// One data line of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvRow {
    /// The line the row starts on (the header is line 1), as a spreadsheet numbers it.
    pub line: u64,
    pub cells: Vec<String>,
}

impl CsvRow {
    /// The trimmed cell of a column; empty when the row is shorter.
    pub fn cell(&self, column: Option<usize>) -> &str {
        column
            .and_then(|column| self.cells.get(column))
            .map_or("", |cell| cell.trim())
    }
}

/// A file read into its header and rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvTable {
    pub headers: Vec<String>,
    pub rows: Vec<CsvRow>,
}

/// The text of an uploaded file: at most [`MAX_FILE_BYTES`], not binary, UTF-8 (a byte order
/// mark is dropped).
pub fn decode(bytes: &[u8]) -> Result<String, CsvFileError> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(CsvFileError::TooLarge);
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(CsvFileError::Empty);
    }
    // Text never holds NUL; workbooks (a ZIP), images and UTF-16 text all do.
    if bytes.contains(&0) {
        return Err(CsvFileError::Binary);
    }
    String::from_utf8(bytes.to_vec()).map_err(|_| CsvFileError::NotUtf8)
}

/// The separator the header line uses most: `;` (spreadsheets in many European locales), `,` or
/// a tab; quoted text does not count.
fn delimiter_of(header_line: &str) -> Option<u8> {
    let mut counts = [(b',', 0usize), (b';', 0), (b'\t', 0)];
    let mut quoted = false;
    for byte in header_line.bytes() {
        if byte == b'"' {
            quoted = !quoted;
        } else if !quoted && let Some(count) = counts.iter_mut().find(|(d, _)| *d == byte) {
            count.1 += 1;
        }
    }
    counts
        .into_iter()
        .filter(|(_, count)| *count > 0)
        .max_by_key(|(_, count)| *count)
        .map(|(delimiter, _)| delimiter)
}

/// Reads `text` (from [`decode`]) into its header and its non-empty rows.
pub fn parse(text: &str) -> Result<CsvTable, CsvFileError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    // Line ends as Windows writes them: the reader numbers a record after `\r\n` from the line
    // before it, so the rows would be named one line early.
    let text = text.replace("\r\n", "\n");
    let header_line = text
        .lines()
        .find(|line| !line.trim().is_empty())
        .unwrap_or("");
    let delimiter = delimiter_of(header_line).ok_or(CsvFileError::NoHeader)?;
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .has_headers(true)
        .from_reader(text.as_bytes());
    let malformed = |error: csv::Error| CsvFileError::Malformed {
        line: error.position().map_or(1, csv::Position::line),
        reason: match error.kind() {
            csv::ErrorKind::Utf8 { .. } => "not UTF-8".to_owned(),
            _ => "unbalanced quotes or a stray character".to_owned(),
        },
    };
    let headers: Vec<String> = reader
        .headers()
        .map_err(malformed)?
        .iter()
        .map(|header| header.trim().to_owned())
        .collect();
    if headers.iter().filter(|header| !header.is_empty()).count() < 2 {
        return Err(CsvFileError::NoHeader);
    }
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(malformed)?;
        if record.iter().all(|cell| cell.trim().is_empty()) {
            continue;
        }
        rows.push(CsvRow {
            line: record.position().map_or(0, csv::Position::line),
            cells: record.iter().map(str::to_owned).collect(),
        });
    }
    if rows.is_empty() {
        return Err(CsvFileError::NoRows);
    }
    Ok(CsvTable { headers, rows })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bom_semicolons_and_quoted_fields_are_read() {
        let bytes = "\u{feff}Vorname;Nachname;E-Mail\r\n\"Zo\u{eb}\";\"M\u{fc}ller; Jr.\";zoe@example.com\r\n"
            .as_bytes();
        let table = parse(&decode(bytes).unwrap()).unwrap();
        assert_eq!(table.headers, ["Vorname", "Nachname", "E-Mail"]);
        assert_eq!(table.rows.len(), 1);
        assert_eq!(
            table.rows[0].cells,
            ["Zo\u{eb}", "M\u{fc}ller; Jr.", "zoe@example.com"]
        );
        assert_eq!(table.rows[0].line, 2);
    }

    #[test]
    fn a_quoted_line_break_keeps_the_following_rows_numbered_by_line() {
        let table = parse("a,b\n\"one\ntwo\",x\nthree,y\n").unwrap();
        assert_eq!(table.rows[0].line, 2);
        assert_eq!(table.rows[1].line, 4);
    }

    #[test]
    fn files_that_are_not_csv_text_are_named_as_such() {
        assert_eq!(decode(b"PK\x03\x04\x00\x00"), Err(CsvFileError::Binary));
        assert_eq!(decode(b"\xff\xfeA\x00"), Err(CsvFileError::Binary));
        assert_eq!(
            decode(b"Name,Email\n\xe9t\xe9,x\n"),
            Err(CsvFileError::NotUtf8)
        );
        assert_eq!(decode(b"  \n"), Err(CsvFileError::Empty));
        assert_eq!(parse("just one column\nada\n"), Err(CsvFileError::NoHeader));
        assert_eq!(parse("a,b\n"), Err(CsvFileError::NoRows));
        assert!(decode(&vec![b'a'; MAX_FILE_BYTES + 1]) == Err(CsvFileError::TooLarge));
    }

    #[test]
    fn blank_lines_are_not_rows() {
        let table = parse("a,b\n\n1,2\n ,\n").unwrap();
        assert_eq!(table.rows.len(), 1);
    }
}
