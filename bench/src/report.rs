//! The one table the benchmark prints: operation, ours, baseline, ratio, target, verdict; and the
//! Markdown of BENCHMARKS.md made from it.

use std::fmt::Write as _;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Met,
    Missed,
    /// A figure for the record, with no target of its own.
    Info,
}

impl Verdict {
    fn label(self) -> &'static str {
        match self {
            Self::Met => "met",
            Self::Missed => "MISSED",
            Self::Info => "",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Row {
    pub id: String,
    pub operation: String,
    pub ours: String,
    pub baseline: String,
    pub ratio: String,
    pub target: String,
    pub verdict: Verdict,
}

impl Row {
    /// A rate compared with a baseline rate: met when `ours / baseline >= at_least`.
    pub fn rate_against(
        id: &str,
        operation: &str,
        ours: f64,
        baseline_name: &str,
        baseline: f64,
        at_least: f64,
    ) -> Self {
        let ratio = ours / baseline;
        Self {
            id: id.to_owned(),
            operation: operation.to_owned(),
            ours: format!("{}/s", rate(ours)),
            baseline: format!("{baseline_name} {}/s", rate(baseline)),
            ratio: format!("{ratio:.2}"),
            target: format!("≥ {at_least} ×"),
            verdict: verdict(ratio >= at_least),
        }
    }

    /// A figure that must stay within `limit` (lower is better).
    pub fn at_most(id: &str, operation: &str, ours: f64, unit: &str, limit: f64) -> Self {
        Self::bounded(id, operation, ours, unit, ("≤", limit), ours <= limit)
    }

    /// A figure that must reach `limit` (higher is better).
    pub fn at_least(id: &str, operation: &str, ours: f64, unit: &str, limit: f64) -> Self {
        Self::bounded(id, operation, ours, unit, ("≥", limit), ours >= limit)
    }

    fn bounded(
        id: &str,
        operation: &str,
        ours: f64,
        unit: &str,
        (sign, limit): (&str, f64),
        met: bool,
    ) -> Self {
        Self {
            id: id.to_owned(),
            operation: operation.to_owned(),
            ours: format!("{} {unit}", number(ours)),
            baseline: String::new(),
            ratio: String::new(),
            target: format!("{sign} {} {unit}", number(limit)),
            verdict: verdict(met),
        }
    }

    /// A figure for the record.
    pub fn info(id: &str, operation: &str, ours: String, baseline: String) -> Self {
        Self {
            id: id.to_owned(),
            operation: operation.to_owned(),
            ours,
            baseline,
            ratio: String::new(),
            target: String::new(),
            verdict: Verdict::Info,
        }
    }
}

fn verdict(met: bool) -> Verdict {
    if met { Verdict::Met } else { Verdict::Missed }
}

/// Rates with thousands separators and a sensible precision.
pub fn rate(value: f64) -> String {
    if value >= 100.0 {
        thousands(value.round() as u64)
    } else {
        format!("{value:.1}")
    }
}

fn number(value: f64) -> String {
    if value >= 100.0 {
        thousands(value.round() as u64)
    } else if value >= 10.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.2}")
    }
}

fn thousands(value: u64) -> String {
    let digits = value.to_string();
    let mut out = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

const HEADERS: [&str; 7] = [
    "#",
    "operation",
    "ours",
    "baseline (same run)",
    "ratio",
    "target",
    "verdict",
];

fn cells(row: &Row) -> [&str; 7] {
    [
        &row.id,
        &row.operation,
        &row.ours,
        &row.baseline,
        &row.ratio,
        &row.target,
        row.verdict.label(),
    ]
}

/// The table for a terminal: columns padded to their widest cell.
pub fn plain(rows: &[Row]) -> String {
    let mut widths = HEADERS.map(|header| header.chars().count());
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(cells(row)) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: [&str; 7]| -> String {
        let padded: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        padded.join("  ").trim_end().to_owned() + "\n"
    };
    let mut out = line(HEADERS);
    for row in rows {
        out.push_str(&line(cells(row)));
    }
    out
}

/// The table in Markdown.
pub fn markdown(rows: &[Row]) -> String {
    let mut out = format!("| {} |\n", HEADERS.join(" | "));
    let _ = writeln!(out, "|{}", "---|".repeat(HEADERS.len()));
    for row in rows {
        let escaped: Vec<String> = cells(row)
            .iter()
            .map(|cell| cell.replace('|', "\\|"))
            .collect();
        let _ = writeln!(out, "| {} |", escaped.join(" | "));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rate_meets_its_target_by_ratio() {
        let met = Row::rate_against("B2", "sign-in", 90.0, "raw verify", 100.0, 0.85);
        assert_eq!(met.verdict, Verdict::Met);
        assert_eq!(met.ratio, "0.90");
        let missed = Row::rate_against("B2", "sign-in", 80.0, "raw verify", 100.0, 0.85);
        assert_eq!(missed.verdict, Verdict::Missed);
    }

    #[test]
    fn numbers_are_readable() {
        assert_eq!(rate(67444.2), "67,444");
        assert_eq!(rate(48.61), "48.6");
        assert_eq!(number(0.025), "0.03");
    }

    #[test]
    fn tables_have_a_line_a_row() {
        let rows = vec![Row::at_most("B7", "start-up", 25.0, "ms", 150.0)];
        assert_eq!(plain(&rows).lines().count(), 2);
        assert_eq!(markdown(&rows).lines().count(), 3);
        assert!(markdown(&rows).contains("| B7 | start-up | 25.0 ms |"));
    }
}
