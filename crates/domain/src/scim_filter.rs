//! SCIM 2.0 filters (RFC 7644 §3.4.2.2), the part identity providers send for users: `eq` on
//! `userName`, `emails.value` (or `emails[type eq "work"].value`), `externalId`, `active` and
//! `id`, joined by `and`. Attribute names are case-insensitive and may carry the core schema's URN.
//! Anything else is refused with a message saying what is supported (SCIM `invalidFilter`).

use std::fmt;

/// The user attributes a filter may test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterAttribute {
    Id,
    UserName,
    /// The work email (the only email a user has).
    Email,
    ExternalId,
    Active,
}

/// A value compared with `eq`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FilterValue {
    Text(String),
    Boolean(bool),
}

/// One `attribute eq value` test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterClause {
    pub attribute: FilterAttribute,
    pub value: FilterValue,
    /// `emails[type eq "home"].value eq ...`: a type other than `work` matches nobody.
    pub matches_nothing: bool,
}

/// A parsed filter: every clause must hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScimFilter {
    pub clauses: Vec<FilterClause>,
}

/// Why a filter was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScimFilterError(String);

impl fmt::Display for ScimFilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ScimFilterError {}

/// What every refusal adds, so the caller knows what does work.
const SUPPORTED: &str = "Supported: `eq` on userName, emails.value (or emails[type eq \"work\"].value), externalId, active and id, joined by `and`, e.g. userName eq \"ada@example.com\".";

const CORE_USER_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:user:";

fn refuse(what: impl fmt::Display) -> ScimFilterError {
    ScimFilterError(format!("{what}. {SUPPORTED}"))
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Text(String),
    OpenBracket,
    CloseBracket,
    OpenParen,
    CloseParen,
}

fn tokenize(input: &str) -> Result<Vec<Token>, ScimFilterError> {
    let mut tokens = Vec::new();
    let mut chars = input.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '[' => {
                chars.next();
                tokens.push(Token::OpenBracket);
            }
            ']' => {
                chars.next();
                tokens.push(Token::CloseBracket);
            }
            '(' => {
                chars.next();
                tokens.push(Token::OpenParen);
            }
            ')' => {
                chars.next();
                tokens.push(Token::CloseParen);
            }
            '"' => {
                chars.next();
                let mut text = String::new();
                let mut closed = false;
                while let Some(c) = chars.next() {
                    match c {
                        '"' => {
                            closed = true;
                            break;
                        }
                        '\\' => match chars.next() {
                            Some('n') => text.push('\n'),
                            Some('t') => text.push('\t'),
                            Some(other) => text.push(other),
                            None => break,
                        },
                        other => text.push(other),
                    }
                }
                if !closed {
                    return Err(refuse("A quoted value in the filter is not closed"));
                }
                tokens.push(Token::Text(text));
            }
            _ => {
                let mut word = String::new();
                while let Some(&c) = chars.peek() {
                    if c.is_whitespace() || matches!(c, '[' | ']' | '(' | ')' | '"') {
                        break;
                    }
                    word.push(c);
                    chars.next();
                }
                // `emails[type eq "work"].value`: the `.value` after the bracket is its own word.
                tokens.push(Token::Word(word));
            }
        }
    }
    Ok(tokens)
}

/// The attribute a path names (without any `[...]` part), case-insensitively.
fn attribute_of(path: &str) -> Result<FilterAttribute, ScimFilterError> {
    let lower = path.to_ascii_lowercase();
    let name = lower.strip_prefix(CORE_USER_URN).unwrap_or(&lower);
    match name {
        "id" => Ok(FilterAttribute::Id),
        "username" => Ok(FilterAttribute::UserName),
        "emails" | "emails.value" => Ok(FilterAttribute::Email),
        "externalid" => Ok(FilterAttribute::ExternalId),
        "active" => Ok(FilterAttribute::Active),
        _ => Err(refuse(format_args!(
            "Filtering on `{path}` is not supported"
        ))),
    }
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
}

impl Parser {
    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.at).cloned();
        self.at += 1;
        token
    }

    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn clause(&mut self) -> Result<FilterClause, ScimFilterError> {
        let Some(Token::Word(path)) = self.next() else {
            return Err(refuse("The filter must start with an attribute name"));
        };
        let mut matches_nothing = false;
        let mut path = path;
        if self.peek() == Some(&Token::OpenBracket) {
            // Only `emails[type eq "..."]` is understood.
            self.next();
            if !path.eq_ignore_ascii_case("emails")
                && !path
                    .to_ascii_lowercase()
                    .eq(&format!("{CORE_USER_URN}emails"))
            {
                return Err(refuse(format_args!(
                    "Filtering inside `{path}[...]` is not supported"
                )));
            }
            let inner = (self.next(), self.next(), self.next(), self.next());
            match inner {
                (
                    Some(Token::Word(attribute)),
                    Some(Token::Word(op)),
                    Some(Token::Text(kind)),
                    Some(Token::CloseBracket),
                ) if attribute.eq_ignore_ascii_case("type") && op.eq_ignore_ascii_case("eq") => {
                    matches_nothing = !kind.eq_ignore_ascii_case("work");
                }
                _ => {
                    return Err(refuse(
                        "Inside emails[...] only `type eq \"work\"` is supported",
                    ));
                }
            }
            match self.peek() {
                Some(Token::Word(rest)) if rest.eq_ignore_ascii_case(".value") => {
                    self.next();
                    path = "emails.value".to_owned();
                }
                _ => {
                    return Err(refuse("After emails[...] write `.value`"));
                }
            }
        }
        let attribute = attribute_of(&path)?;
        let Some(Token::Word(op)) = self.next() else {
            return Err(refuse(format_args!(
                "After `{path}` write an operator such as `eq`"
            )));
        };
        if !op.eq_ignore_ascii_case("eq") {
            return Err(refuse(format_args!("The operator `{op}` is not supported")));
        }
        let value = match self.next() {
            Some(Token::Text(text)) => FilterValue::Text(text),
            Some(Token::Word(word)) if word.eq_ignore_ascii_case("true") => {
                FilterValue::Boolean(true)
            }
            Some(Token::Word(word)) if word.eq_ignore_ascii_case("false") => {
                FilterValue::Boolean(false)
            }
            _ => {
                return Err(refuse(format_args!(
                    "Compare `{path}` with a quoted value (or true/false for active)"
                )));
            }
        };
        let fits = matches!(
            (attribute, &value),
            (FilterAttribute::Active, FilterValue::Boolean(_))
                | (
                    FilterAttribute::Id
                        | FilterAttribute::UserName
                        | FilterAttribute::Email
                        | FilterAttribute::ExternalId,
                    FilterValue::Text(_)
                )
        );
        if !fits {
            return Err(refuse(format_args!(
                "`{path}` is compared with {}",
                if attribute == FilterAttribute::Active {
                    "true or false"
                } else {
                    "a quoted text"
                }
            )));
        }
        Ok(FilterClause {
            attribute,
            value,
            matches_nothing,
        })
    }
}

impl ScimFilter {
    pub fn parse(input: &str) -> Result<Self, ScimFilterError> {
        let mut parser = Parser {
            tokens: tokenize(input)?,
            at: 0,
        };
        if parser.tokens.is_empty() {
            return Err(refuse("The filter is empty"));
        }
        // Parentheses around the whole filter are harmless; grouping inside is not supported.
        while parser.tokens.first() == Some(&Token::OpenParen)
            && parser.tokens.last() == Some(&Token::CloseParen)
        {
            parser.tokens.remove(0);
            parser.tokens.pop();
        }
        let mut clauses = vec![parser.clause()?];
        while let Some(token) = parser.next() {
            match token {
                Token::Word(word) if word.eq_ignore_ascii_case("and") => {
                    clauses.push(parser.clause()?);
                }
                Token::Word(word) if word.eq_ignore_ascii_case("or") => {
                    return Err(refuse("`or` is not supported"));
                }
                _ => return Err(refuse("The filter has more after its comparison")),
            }
        }
        Ok(Self { clauses })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(input: &str) -> FilterClause {
        let filter = ScimFilter::parse(input).unwrap();
        assert_eq!(filter.clauses.len(), 1, "{input}");
        filter.clauses.into_iter().next().unwrap()
    }

    #[test]
    fn the_filters_identity_providers_send_are_understood() {
        let clause = one("userName eq \"test.user@okta.local\"");
        assert_eq!(clause.attribute, FilterAttribute::UserName);
        assert_eq!(
            clause.value,
            FilterValue::Text("test.user@okta.local".into())
        );
        assert_eq!(
            one("emails[type eq \"work\"].value eq \"a@b.c\"").attribute,
            FilterAttribute::Email
        );
        assert_eq!(
            one("emails.value eq \"a@b.c\"").attribute,
            FilterAttribute::Email
        );
        assert_eq!(
            one("externalId eq \"00ujl29u0le5T6Aj10h7\"").value,
            FilterValue::Text("00ujl29u0le5T6Aj10h7".into())
        );
        assert_eq!(one("active eq true").value, FilterValue::Boolean(true));
        assert_eq!(one("ACTIVE EQ False").value, FilterValue::Boolean(false));
        assert_eq!(
            one("urn:ietf:params:scim:schemas:core:2.0:User:userName eq \"x\"").attribute,
            FilterAttribute::UserName
        );
        assert_eq!(one("id eq \"abc\"").attribute, FilterAttribute::Id);
    }

    #[test]
    fn attribute_names_and_operators_are_case_insensitive() {
        assert_eq!(
            one("USERNAME Eq \"x\"").attribute,
            FilterAttribute::UserName
        );
        assert_eq!(
            one("externalid eq \"x\"").attribute,
            FilterAttribute::ExternalId
        );
    }

    #[test]
    fn two_clauses_joined_by_and_both_hold() {
        let filter = ScimFilter::parse("userName eq \"a\" and active eq true").unwrap();
        assert_eq!(filter.clauses.len(), 2);
        assert_eq!(filter.clauses[1].attribute, FilterAttribute::Active);
    }

    #[test]
    fn an_email_of_another_type_matches_nobody() {
        assert!(one("emails[type eq \"home\"].value eq \"a@b.c\"").matches_nothing);
        assert!(!one("emails[type eq \"work\"].value eq \"a@b.c\"").matches_nothing);
    }

    #[test]
    fn escaped_quotes_stay_in_the_value() {
        assert_eq!(
            one(r#"userName eq "a\"b""#).value,
            FilterValue::Text("a\"b".into())
        );
    }

    #[test]
    fn what_is_not_supported_is_refused_with_what_is() {
        for bad in [
            "",
            "userName sw \"a\"",
            "userName eq \"a\" or userName eq \"b\"",
            "title eq \"x\"",
            "userName eq",
            "userName eq \"open",
            "active eq \"yes\"",
            "userName eq true",
            "emails[value eq \"x\"].value eq \"y\"",
            "userName eq \"a\" \"b\"",
            "userName pr",
        ] {
            let error = ScimFilter::parse(bad).unwrap_err().to_string();
            assert!(error.contains("Supported: `eq`"), "{bad}: {error}");
        }
        assert!(
            ScimFilter::parse("userName sw \"a\"")
                .unwrap_err()
                .to_string()
                .starts_with("The operator `sw` is not supported")
        );
    }
}
