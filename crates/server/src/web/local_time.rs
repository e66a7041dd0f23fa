//! Every time a page shows, in its reader's zone: one formatting place for every template.
//!
//! A handler makes a [`LocalTimes`] for the signed-in reader (`LocalTimes::for_reader(&user,
//! &state.services)`) and turns each stored time into a [`LocalTime`] with `times.at(millis)`.
//! In a template, `{{ time }}` writes
//! `<time datetime="2026-12-01T00:30:00Z">2026-12-01 09:30 JST</time>` and `{{ time.relative() }}`
//! writes `<time datetime="…" title="2026-12-01 09:30 JST">3 hours ago</time>`; `time.text()`
//! is the plain local text for CSV files and plain-text places.

use crate::usecases::Services;
use crate::usecases::sessions::SignedInSession;
use onestop_domain::time_zone::relative;
use onestop_domain::{TimeZoneName, Timestamp};
use std::fmt;

/// The reader's zone and the current time, for turning stored times into [`LocalTime`]s.
#[derive(Debug, Clone)]
pub struct LocalTimes {
    zone: TimeZoneName,
    now: Timestamp,
}

impl LocalTimes {
    pub fn for_reader(reader: &SignedInSession, services: &Services) -> Self {
        Self::in_zone(reader.time_zone.clone(), services.clock.now())
    }

    pub fn in_zone(zone: TimeZoneName, now: Timestamp) -> Self {
        Self { zone, now }
    }

    pub fn zone(&self) -> &TimeZoneName {
        &self.zone
    }

    /// A stored time (unix milliseconds) as this reader sees it.
    pub fn at(&self, unix_millis: i64) -> LocalTime {
        self.of(Timestamp::from_unix_millis(unix_millis))
    }

    pub fn of(&self, at: Timestamp) -> LocalTime {
        LocalTime {
            utc: jiff::Timestamp::from_millisecond(at.unix_millis())
                .map_or_else(|_| at.to_string(), |moment| moment.to_string()),
            local: self.zone.format(at),
            relative: relative(self.now, at),
            past: at <= self.now,
        }
    }
}

/// One moment, formatted for one reader. Displays as an HTML `<time>` element (askama does not
/// escape it again: every part is made here, from digits, zone abbreviations and fixed words).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalTime {
    /// RFC 3339 in UTC, for `datetime`.
    utc: String,
    /// "2026-12-01 09:30 JST".
    local: String,
    /// "in 6 days", "3 hours ago".
    relative: String,
    past: bool,
}

impl LocalTime {
    /// "2026-12-01 09:30 JST", without markup.
    pub fn text(&self) -> &str {
        &self.local
    }

    /// "in 6 days" or "3 hours ago", without markup.
    pub fn relative_text(&self) -> &str {
        &self.relative
    }

    /// Whether the moment has come (for "expired" against "expires in ...").
    pub fn is_past(&self) -> bool {
        self.past
    }

    /// The relative form, with the local time in its `title`.
    pub fn relative(&self) -> RelativeTime<'_> {
        RelativeTime(self)
    }
}

/// Minimal escaping for the attribute and text values written below (defence in depth: the
/// values are ours, but a zone abbreviation comes from the bundled database).
fn escaped(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

impl fmt::Display for LocalTime {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            formatter,
            r#"<time datetime="{}">{}</time>"#,
            escaped(&self.utc),
            escaped(&self.local)
        )
    }
}

impl askama::filters::HtmlSafe for LocalTime {}

/// `{{ time.relative() }}`: "3 hours ago", with the local time in the `title`.
pub struct RelativeTime<'a>(&'a LocalTime);

impl fmt::Display for RelativeTime<'_> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            formatter,
            r#"<time datetime="{}" title="{}">{}</time>"#,
            escaped(&self.0.utc),
            escaped(&self.0.local),
            escaped(&self.0.relative)
        )
    }
}

impl askama::filters::HtmlSafe for RelativeTime<'_> {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_time_renders_as_a_time_element_in_the_readers_zone() {
        let zone = TimeZoneName::parse("Asia/Tokyo").unwrap();
        // 2026-12-01 00:30 UTC, read three hours later.
        let at = 1_796_085_000_000;
        let times = LocalTimes::in_zone(zone, Timestamp::from_unix_millis(at + 3 * 3_600_000));
        let time = times.at(at);
        assert_eq!(
            time.to_string(),
            r#"<time datetime="2026-12-01T00:30:00Z">2026-12-01 09:30 JST</time>"#
        );
        assert_eq!(
            time.relative().to_string(),
            r#"<time datetime="2026-12-01T00:30:00Z" title="2026-12-01 09:30 JST">3 hours ago</time>"#
        );
        assert!(time.is_past());
    }
}
