//! Paging of the Users page by keyset. A link carries the id and last name of the row to go on
//! from (`after=` for Next, `before=` for Previous, `last=1` for Last), and the value of its sort
//! column (`at=`) when the page is sorted by another column than the name, never an offset, so
//! every page is one index seek: page 2,000 of 100,000 users costs what page 1 costs.
//!
//! "Showing 51–100 of 12345 users": the total is exact (the counts table) except for a search or
//! a filter, which counts at most [`SEARCH_COUNT_LIMIT`] matches and then says "more than". The position
//! travels in the link (`first_row=`) because finding it would mean counting the rows before it;
//! the first and the last page compute it, so it is exact there, and in between it is off only if
//! users were added or removed since the link was made (or the link was edited by hand).
//! Malformed cursors and positions are ignored: the first page, never an error.

use crate::store::{
    DirectoryRow, PageStart, RowKey, SortColumn, SortOrder, SortValue, Store, StoreError, UserMatch,
};
use crate::tenancy::OrganizationScope;
use onestop_domain::UserId;

pub const PAGE_SIZE: i64 = 50;

/// A search counts its matches no further than this: no index serves `LIKE '%...%'`, so an
/// unbounded count would read every user of the company on every page of a broad search.
pub const SEARCH_COUNT_LIMIT: i64 = 1000;

/// How many users a view or a search holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Total {
    Exact(i64),
    MoreThan(i64),
}

impl Total {
    /// `counted` from a count bounded at `SEARCH_COUNT_LIMIT + 1`.
    pub fn of_search(counted: i64) -> Self {
        if counted > SEARCH_COUNT_LIMIT {
            Self::MoreThan(SEARCH_COUNT_LIMIT)
        } else {
            Self::Exact(counted)
        }
    }

    fn is_exact(self) -> bool {
        matches!(self, Self::Exact(_))
    }
}

impl std::fmt::Display for Total {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Exact(total) => write!(formatter, "{total}"),
            Self::MoreThan(bound) => write!(formatter, "more than {bound}"),
        }
    }
}

/// What a paging link asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    pub start: PageStart,
    /// The position of the page's first row, as the link that led here counted it.
    pub first_row: i64,
}

impl PageRequest {
    pub const FIRST: Self = Self {
        start: PageStart::First,
        first_row: 1,
    };

    /// Reads the link's parameters for a page sorted by `column`; anything malformed means the
    /// first page.
    pub fn parse(
        (after, before, last): (Option<&str>, Option<&str>, Option<&str>),
        at: Option<&str>,
        first_row: Option<&str>,
        column: SortColumn,
    ) -> Self {
        let start = match (after, before, last) {
            (Some(cursor), None, None) => parse_cursor(cursor, at, column).map(PageStart::After),
            (None, Some(cursor), None) => parse_cursor(cursor, at, column).map(PageStart::Before),
            (None, None, Some("1")) => Some(PageStart::Last),
            _ => None,
        };
        match start {
            Some(start) => Self {
                start,
                first_row: first_row.and_then(|row| row.parse().ok()).unwrap_or(1),
            },
            None => Self::FIRST,
        }
    }
}

/// The longest last name a cursor may carry; longer is not a name this server stored.
const LONGEST_CURSOR_NAME: usize = 1000;

/// `{id}:{last name}`, and the sort column's value: an id never holds a colon, a last name may.
/// A page sorted by another column than the name needs its value, of the column's type.
fn parse_cursor(text: &str, at: Option<&str>, column: SortColumn) -> Option<RowKey> {
    let (id, last_name) = text.split_once(':')?;
    let id = UserId::parse(id)?;
    let sort_value = match (column, at) {
        (SortColumn::Name, _) => None,
        (column, Some(at)) if column.is_time() => Some(SortValue::Time(at.parse().ok()?)),
        (_, Some(at)) if at.len() <= LONGEST_CURSOR_NAME => Some(SortValue::Text(at.to_owned())),
        (_, _) => return None,
    };
    (last_name.len() <= LONGEST_CURSOR_NAME).then(|| RowKey {
        sort_value,
        last_name: last_name.to_owned(),
        id: id.as_str().to_owned(),
    })
}

/// The link parameters that go on from `row`: the cursor, and the sort column's value.
fn cursor(row: &DirectoryRow, column: SortColumn) -> Vec<(&'static str, String)> {
    let key = row.key(column);
    let mut pairs = vec![("cursor", format!("{}:{}", key.id, key.last_name))];
    match key.sort_value {
        Some(SortValue::Text(text)) => pairs.push(("at", text)),
        Some(SortValue::Time(time)) => pairs.push(("at", time.to_string())),
        None => {}
    }
    pairs
}

/// One page's rows and whether more lie before and after them.
struct Window {
    rows: Vec<DirectoryRow>,
    more_before: bool,
    more_after: bool,
}

/// The rows from `start`, fetched one beyond the page to learn whether more follow in that
/// direction.
async fn fetch(
    store: &Store,
    scope: &OrganizationScope,
    (matching, sort): (&UserMatch, SortOrder),
    start: &PageStart,
) -> Result<Vec<DirectoryRow>, StoreError> {
    store
        .sorted_user_page(scope, matching, sort, start, PAGE_SIZE + 1)
        .await
}

/// Trims the extra row and says what lies beyond: forwards the extra is the last row, backwards
/// (Previous, Last) the first.
fn window(start: &PageStart, mut rows: Vec<DirectoryRow>) -> Window {
    let page_size = usize::try_from(PAGE_SIZE).unwrap_or(usize::MAX);
    let more = rows.len() > page_size;
    let (more_before, more_after) = match start {
        PageStart::First => (false, more),
        PageStart::After(_) => (true, more),
        PageStart::Before(_) => (more, true),
        PageStart::Last => (more, false),
    };
    if more {
        match start {
            PageStart::First | PageStart::After(_) => rows.truncate(page_size),
            PageStart::Before(_) | PageStart::Last => {
                rows.drain(..rows.len() - page_size);
            }
        }
    }
    Window {
        rows,
        more_before,
        more_after,
    }
}

/// The links and the "Showing" line under the list.
pub struct Paging {
    pub summary: String,
    pub first_link: Option<String>,
    pub previous_link: Option<String>,
    pub next_link: Option<String>,
    pub last_link: Option<String>,
}

/// Where the page's first row stands: 1 on the first page, counted back from the total on the
/// last, and as the link said (within what the total allows) in between.
fn first_row_position(request: &PageRequest, window: &Window, total: Total) -> i64 {
    if !window.more_before {
        return 1;
    }
    let shown = i64::try_from(window.rows.len()).unwrap_or(PAGE_SIZE);
    match total {
        Total::Exact(total) if !window.more_after => (total - shown + 1).max(2),
        Total::Exact(total) => request.first_row.clamp(2, (total - shown).max(2)),
        Total::MoreThan(_) => request.first_row.max(2),
    }
}

/// A link to the Users page: the list's state (view, search, filters, sort), then `extra`.
pub fn link(state: &[(&'static str, String)], extra: &[(&str, String)]) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in state.iter().chain(extra) {
        query.append_pair(name, value);
    }
    format!("/setup/users?{}", query.finish())
}

/// `cursor` renamed for the direction (`after` or `before`), with the position.
fn going(
    direction: &'static str,
    row: &DirectoryRow,
    column: SortColumn,
    first_row: i64,
) -> Vec<(&'static str, String)> {
    let mut pairs: Vec<(&'static str, String)> = cursor(row, column)
        .into_iter()
        .map(|(name, value)| (if name == "cursor" { direction } else { name }, value))
        .collect();
    pairs.push(("first_row", first_row.to_string()));
    pairs
}

/// Where the page stands, as link parameters (the bulk actions come back to it).
pub fn position(request: &PageRequest) -> Vec<(&'static str, String)> {
    let mut pairs = Vec::new();
    let mut key_pairs = |direction: &'static str, key: &RowKey| {
        pairs.push((direction, format!("{}:{}", key.id, key.last_name)));
        match &key.sort_value {
            Some(SortValue::Text(text)) => pairs.push(("at", text.clone())),
            Some(SortValue::Time(time)) => pairs.push(("at", time.to_string())),
            None => {}
        }
    };
    match &request.start {
        PageStart::First => {}
        PageStart::After(key) => key_pairs("after", key),
        PageStart::Before(key) => key_pairs("before", key),
        PageStart::Last => pairs.push(("last", "1".to_owned())),
    }
    if request.start != PageStart::First {
        pairs.push(("first_row", request.first_row.to_string()));
    }
    pairs
}

fn paging(
    state: &[(&'static str, String)],
    column: SortColumn,
    window: &Window,
    first_row: i64,
    total: Total,
) -> Paging {
    let shown = i64::try_from(window.rows.len()).unwrap_or(PAGE_SIZE);
    let summary = match (window.rows.first(), window.rows.last()) {
        (Some(_), Some(_)) => format!(
            "Showing {first_row}–{} of {total} users",
            first_row + shown - 1
        ),
        _ => format!("{total} users"),
    };
    let previous = window.rows.first().filter(|_| window.more_before);
    let next = window.rows.last().filter(|_| window.more_after);
    Paging {
        summary,
        first_link: window.more_before.then(|| link(state, &[])),
        previous_link: previous.map(|row| {
            let first_row = (first_row - PAGE_SIZE).max(1);
            link(state, &going("before", row, column, first_row))
        }),
        next_link: next.map(|row| link(state, &going("after", row, column, first_row + shown))),
        last_link: (window.more_after && total.is_exact())
            .then(|| link(state, &[("last", "1".to_owned())])),
    }
}

/// The rows of the requested page and its paging. At most two row queries: a cursor that has
/// run past either end (the rows beyond it were removed, or it was made up) shows the nearest
/// full page instead of an empty or short one.
pub async fn load_page(
    store: &Store,
    scope: &OrganizationScope,
    (matching, sort): (&UserMatch, SortOrder),
    state: &[(&'static str, String)],
    request: &PageRequest,
    total: Total,
) -> Result<(Vec<DirectoryRow>, Paging), StoreError> {
    let nearest_end = if total.is_exact() {
        PageStart::Last
    } else {
        PageStart::First
    };
    // Without an exact total the last page's position is unknown: start from the first.
    let mut start = match &request.start {
        PageStart::Last => nearest_end.clone(),
        other => other.clone(),
    };
    let mut rows = fetch(store, scope, (matching, sort), &start).await?;
    let page_size = usize::try_from(PAGE_SIZE).unwrap_or(usize::MAX);
    let fallback = match &start {
        PageStart::After(_) if rows.is_empty() => Some(nearest_end),
        PageStart::Before(_) if rows.len() <= page_size => Some(PageStart::First),
        _ => None,
    };
    if let Some(fallback) = fallback {
        start = fallback;
        rows = fetch(store, scope, (matching, sort), &start).await?;
    }
    let window = window(&start, rows);
    let first_row = first_row_position(request, &window, total);
    let paging = paging(state, sort.column, &window, first_row, total);
    Ok((window.rows, paging))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "01900000-0000-7000-8000-000000000002";

    fn row(last_name: &str) -> DirectoryRow {
        DirectoryRow {
            id: ID.to_owned(),
            first_name: None,
            last_name: last_name.to_owned(),
            email: String::new(),
            username: None,
            status: "active".to_owned(),
            profile_id: String::new(),
            profile_name: String::new(),
            role_id: String::new(),
            role_name: String::new(),
            created_at: 0,
            last_sign_in_at: None,
            invited_at: None,
            invitation_expires_at: None,
            inviter_first_name: None,
            inviter_last_name: None,
            delivery_state: None,
            delivery_error: None,
        }
    }

    fn rows(count: usize) -> Vec<DirectoryRow> {
        (0..count)
            .map(|index| row(&format!("Name{index:03}")))
            .collect()
    }

    #[test]
    fn a_cursor_is_an_id_and_a_last_name_that_may_hold_colons() {
        let cursor = format!("{ID}:O:Brien");
        let request = PageRequest::parse(
            (Some(&cursor), None, None),
            None,
            Some("51"),
            SortColumn::Name,
        );
        assert_eq!(
            request,
            PageRequest {
                start: PageStart::After(RowKey {
                    sort_value: None,
                    last_name: "O:Brien".to_owned(),
                    id: ID.to_owned(),
                }),
                first_row: 51,
            }
        );
    }

    #[test]
    fn malformed_or_conflicting_links_mean_the_first_page() {
        let long = format!("{ID}:{}", "x".repeat(LONGEST_CURSOR_NAME + 1));
        for (after, before, last) in [
            (Some("not-an-id:Lovelace"), None, None),
            (Some(ID), None, None),
            (Some(long.as_str()), None, None),
            (None, Some("';DROP TABLE users;--"), None),
            (Some(&*format!("{ID}:A")), Some(&*format!("{ID}:B")), None),
            (None, None, Some("yes")),
        ] {
            assert_eq!(
                PageRequest::parse((after, before, last), None, Some("-5"), SortColumn::Name),
                PageRequest::FIRST
            );
        }
    }

    #[test]
    fn a_sorted_page_needs_the_sort_value_of_its_type() {
        let cursor = format!("{ID}:Lovelace");
        let parse = |at, column| {
            PageRequest::parse((Some(cursor.as_str()), None, None), at, None, column).start
        };
        assert_eq!(parse(None, SortColumn::Invited), PageStart::First);
        assert_eq!(
            parse(Some("yesterday"), SortColumn::Invited),
            PageStart::First
        );
        assert_eq!(parse(None, SortColumn::Role), PageStart::First);
        let PageStart::After(key) = parse(Some("1700000000000"), SortColumn::LastSignIn) else {
            panic!("a time is a cursor of a sort by last sign-in");
        };
        assert_eq!(key.sort_value, Some(SortValue::Time(1_700_000_000_000)));
        let PageStart::After(key) = parse(Some("Sales: West"), SortColumn::Role) else {
            panic!("a role name is a cursor of a sort by role");
        };
        assert_eq!(
            key.sort_value,
            Some(SortValue::Text("Sales: West".to_owned()))
        );
    }

    #[test]
    fn a_backwards_window_drops_its_extra_row_at_the_front() {
        let before = PageStart::Before(RowKey {
            sort_value: None,
            last_name: "Z".to_owned(),
            id: ID.to_owned(),
        });
        let window = window(&before, rows(51));
        assert_eq!(window.rows.len(), 50);
        assert_eq!(window.rows[0].last_name, "Name001");
        assert!(window.more_before && window.more_after);
    }

    #[test]
    fn the_position_is_exact_at_both_ends_and_bounded_between() {
        let last = window(&PageStart::Last, rows(51));
        let request = |first_row| PageRequest {
            start: PageStart::Last,
            first_row,
        };
        assert_eq!(
            first_row_position(&request(7), &last, Total::Exact(12_345)),
            12_296
        );
        let first = window(&PageStart::First, rows(51));
        assert_eq!(
            first_row_position(&request(99), &first, Total::Exact(120)),
            1
        );
        let middle = window(
            &PageStart::After(RowKey {
                sort_value: None,
                last_name: "A".to_owned(),
                id: ID.to_owned(),
            }),
            rows(51),
        );
        assert_eq!(
            first_row_position(&request(51), &middle, Total::Exact(120)),
            51
        );
        assert_eq!(
            first_row_position(&request(999_999), &middle, Total::Exact(120)),
            70,
            "a forged position stays within the total"
        );
        assert_eq!(
            first_row_position(&request(-3), &middle, Total::MoreThan(1000)),
            2
        );
    }

    #[test]
    fn a_search_beyond_the_bound_says_more_than() {
        assert_eq!(Total::of_search(1001).to_string(), "more than 1000");
        assert_eq!(Total::of_search(1000).to_string(), "1000");
    }
}
