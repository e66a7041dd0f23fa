//! Time zones and how a moment reads in one: `2026-12-01 09:30 JST`, "in 6 days", "3 hours ago".
//!
//! Zones are IANA names checked against the time-zone database bundled into the binary (jiff's
//! `tzdb-bundle-always`), so a server without system tzdata shows the same times, and a zone
//! name the database does not know is refused at the edge like any other bad field.

use crate::clock::Timestamp;
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimeZoneError {
    #[error("Choose a time zone from the list, such as Europe/Berlin or UTC.")]
    Empty,
    #[error(
        "\"{0}\" is not a time zone we know; choose one from the list, such as Europe/Berlin or UTC."
    )]
    Unknown(String),
}

/// An IANA time zone that the bundled database knows, spelled as the database spells it.
#[derive(Clone)]
pub struct TimeZoneName {
    name: String,
    zone: jiff::tz::TimeZone,
}

impl TimeZoneName {
    /// Longest name we accept (the longest IANA name is 32 characters).
    const MAX_LENGTH: usize = 64;

    /// Case-insensitive: `asia/tokyo` is `Asia/Tokyo`.
    pub fn parse(input: &str) -> Result<Self, TimeZoneError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(TimeZoneError::Empty);
        }
        let unknown = || {
            let shown: String = trimmed.chars().take(Self::MAX_LENGTH).collect();
            TimeZoneError::Unknown(shown)
        };
        if trimmed.len() > Self::MAX_LENGTH {
            return Err(unknown());
        }
        let zone = jiff::tz::db().get(trimmed).map_err(|_| unknown())?;
        let name = zone
            .iana_name()
            .map_or_else(|| trimmed.to_owned(), str::to_owned);
        Ok(Self { name, zone })
    }

    pub fn utc() -> Self {
        Self {
            name: "UTC".to_owned(),
            zone: jiff::tz::TimeZone::UTC,
        }
    }

    /// A stored name; a name the database no longer knows (removed in a tzdb update) reads as
    /// UTC rather than failing the page.
    pub fn from_stored(stored: Option<&str>, fallback: &TimeZoneName) -> Self {
        stored
            .and_then(|name| Self::parse(name).ok())
            .unwrap_or_else(|| fallback.clone())
    }

    pub fn as_str(&self) -> &str {
        &self.name
    }

    /// Every zone a person may choose, sorted: the canonical `Area/Location` names and UTC
    /// (not the legacy aliases such as `EST5EDT` or `posixrules`).
    pub fn choices() -> Vec<String> {
        let mut names: Vec<String> = jiff::tz::db()
            .available()
            .map(|name| name.as_str().to_owned())
            .filter(|name| {
                name.contains('/')
                    && !name.starts_with("Etc/")
                    && !name.starts_with("posix")
                    && !name.starts_with("right/")
            })
            .collect();
        names.push("UTC".to_owned());
        names.sort();
        names.dedup();
        names
    }

    /// [`Self::choices`], with `selected` among them when it is a zone the list leaves out (an
    /// alias such as `US/Pacific` that a browser or an older form sent), so a form shows what is
    /// stored instead of quietly offering another zone.
    pub fn choices_with(selected: &str) -> Vec<String> {
        let mut names = Self::choices();
        if let Ok(zone) = Self::parse(selected)
            && let Err(position) = names.binary_search(&zone.name)
        {
            names.insert(position, zone.name);
        }
        names
    }

    /// `2026-12-01 09:30 JST`: the local date and time with the zone's abbreviation (or its
    /// offset, such as `+04`, where the zone has no abbreviation).
    pub fn format(&self, at: Timestamp) -> String {
        match jiff::Timestamp::from_millisecond(at.unix_millis()) {
            Ok(moment) => moment
                .to_zoned_datetime(self.zone.clone())
                .strftime("%Y-%m-%d %H:%M %Z")
                .to_string(),
            // Outside jiff's range (years beyond ±9999): only corrupt data gets here.
            Err(_) => at.to_string(),
        }
    }
}

impl TimeZoneName {
    /// The day a `YYYY-MM-DD` date names in this zone: the moment it starts and the moment the
    /// next day starts. A date that does not exist (2026-02-31) is `None`, not rolled over.
    pub fn day(&self, date: &str) -> Option<(Timestamp, Timestamp)> {
        let date: jiff::civil::Date = date.trim().parse().ok()?;
        let start_of = |date: jiff::civil::Date| {
            self.zone
                .to_ambiguous_timestamp(date.to_datetime(jiff::civil::Time::midnight()))
                .compatible()
                .ok()
                .map(|moment| Timestamp::from_unix_millis(moment.as_millisecond()))
        };
        Some((start_of(date)?, start_of(date.tomorrow().ok()?)?))
    }
}

impl fmt::Debug for TimeZoneName {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_tuple("TimeZoneName")
            .field(&self.name)
            .finish()
    }
}

impl fmt::Display for TimeZoneName {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.name)
    }
}

impl PartialEq for TimeZoneName {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for TimeZoneName {}

/// How far `at` is from `now`, as people say it: "in 6 days", "3 hours ago", "just now".
/// Rounded down to the largest whole unit, so "in 6 days" is at least six days away.
pub fn relative(now: Timestamp, at: Timestamp) -> String {
    let future = at > now;
    let seconds = (at.unix_millis() - now.unix_millis()).unsigned_abs() / 1000;
    let (count, unit) = match seconds {
        0..60 => return "just now".to_owned(),
        60..3_600 => (seconds / 60, "minute"),
        3_600..86_400 => (seconds / 3_600, "hour"),
        86_400..2_592_000 => (seconds / 86_400, "day"),
        2_592_000..31_536_000 => (seconds / 2_592_000, "month"),
        _ => (seconds / 31_536_000, "year"),
    };
    let plural = if count == 1 { "" } else { "s" };
    if future {
        format!("in {count} {unit}{plural}")
    } else {
        format!("{count} {unit}{plural} ago")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // 2026-12-01 00:30 UTC.
    const MOMENT: Timestamp = Timestamp::from_unix_millis(1_796_085_000_000);

    #[test]
    fn a_moment_reads_in_the_readers_zone_with_its_abbreviation() {
        let tokyo = TimeZoneName::parse("Asia/Tokyo").unwrap();
        let los_angeles = TimeZoneName::parse("America/Los_Angeles").unwrap();
        assert_eq!(TimeZoneName::utc().format(MOMENT), "2026-12-01 00:30 UTC");
        assert_eq!(tokyo.format(MOMENT), "2026-12-01 09:30 JST");
        assert_eq!(los_angeles.format(MOMENT), "2026-11-30 16:30 PST");
    }

    #[test]
    fn summer_time_changes_the_abbreviation() {
        let berlin = TimeZoneName::parse("Europe/Berlin").unwrap();
        // 2026-07-01 12:00 UTC.
        let july = Timestamp::from_unix_millis(1_782_907_200_000);
        assert_eq!(berlin.format(july), "2026-07-01 14:00 CEST");
        assert_eq!(berlin.format(MOMENT), "2026-12-01 01:30 CET");
    }

    #[test]
    fn zone_names_are_matched_without_case_and_stored_as_spelled() {
        assert_eq!(
            TimeZoneName::parse(" asia/TOKYO ").unwrap().as_str(),
            "Asia/Tokyo"
        );
        assert_eq!(TimeZoneName::parse("utc").unwrap().as_str(), "UTC");
    }

    #[test]
    fn unknown_and_empty_zones_are_refused_with_a_message() {
        assert_eq!(TimeZoneName::parse(""), Err(TimeZoneError::Empty));
        let error = TimeZoneName::parse("Mars/Olympus_Mons").unwrap_err();
        assert!(error.to_string().contains("Mars/Olympus_Mons"), "{error}");
        assert!(TimeZoneName::parse(&"A/".repeat(500)).is_err());
    }

    #[test]
    fn the_choices_are_sorted_and_include_utc_and_the_common_zones() {
        let choices = TimeZoneName::choices();
        for zone in ["UTC", "Asia/Tokyo", "America/Los_Angeles", "Europe/Berlin"] {
            assert!(choices.iter().any(|choice| choice == zone), "{zone}");
        }
        assert!(choices.windows(2).all(|pair| pair[0] < pair[1]));
        assert!(
            choices
                .iter()
                .all(|choice| TimeZoneName::parse(choice).is_ok())
        );
    }

    #[test]
    fn a_stored_alias_stays_among_the_choices() {
        let choices = TimeZoneName::choices_with("Etc/GMT+5");
        assert!(choices.iter().any(|zone| zone == "Etc/GMT+5"));
        assert!(choices.windows(2).all(|pair| pair[0] < pair[1]));
        assert_eq!(
            TimeZoneName::choices_with("Nowhere"),
            TimeZoneName::choices()
        );
    }

    #[test]
    fn a_day_starts_at_local_midnight() {
        let tokyo = TimeZoneName::parse("Asia/Tokyo").unwrap();
        let (start, end) = tokyo.day("2026-12-01").unwrap();
        assert_eq!(tokyo.format(start), "2026-12-01 00:00 JST");
        assert_eq!(TimeZoneName::utc().format(start), "2026-11-30 15:00 UTC");
        assert_eq!(end.unix_millis() - start.unix_millis(), 86_400_000);
        assert_eq!(tokyo.day("2026-02-31"), None);
    }

    /// The UTC day of a date, as unix milliseconds (the Audit Log's filter for a UTC reader).
    fn utc_day(text: &str) -> Option<(i64, i64)> {
        TimeZoneName::utc()
            .day(text)
            .map(|(start, end)| (start.unix_millis(), end.unix_millis()))
    }

    #[test]
    fn dates_parse_to_the_bounds_of_their_utc_day() {
        const DAY_MS: i64 = 24 * 60 * 60 * 1000;
        assert_eq!(utc_day("1970-01-01"), Some((0, DAY_MS)));
        assert_eq!(
            utc_day("2000-03-01"),
            Some((11_017 * DAY_MS, 11_018 * DAY_MS))
        );
        assert_eq!(
            utc_day(" 2026-11-27 "),
            Some((20_784 * DAY_MS, 20_785 * DAY_MS))
        );
        assert_eq!(
            utc_day("2028-02-29"),
            Some((21_243 * DAY_MS, 21_244 * DAY_MS))
        );
    }

    #[test]
    fn dates_that_do_not_exist_are_refused_not_rolled_over() {
        for text in [
            "2026-02-31",
            "2026-02-29",
            "2026-04-31",
            "2026-13-01",
            "2026-00-10",
            "yesterday",
            "",
        ] {
            assert_eq!(utc_day(text), None, "{text}");
        }
    }

    #[test]
    fn relative_times_round_down_to_the_largest_unit() {
        let day = 86_400_000;
        let later = |millis: i64| Timestamp::from_unix_millis(MOMENT.unix_millis() + millis);
        assert_eq!(relative(MOMENT, later(7 * day - 60_000)), "in 6 days");
        assert_eq!(relative(MOMENT, later(-3 * 3_600_000 - 5)), "3 hours ago");
        assert_eq!(relative(MOMENT, later(-60_000)), "1 minute ago");
        assert_eq!(relative(MOMENT, later(30_000)), "just now");
    }
}
