//! The personal message an administrator may add to an invitation: plain text, kept as typed
//! (templates escape it), line breaks kept, bounded in length.

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PersonalMessageError {
    #[error(
        "The Personal Message can be at most {limit} characters; this one has {length}. Shorten it."
    )]
    TooLong { limit: usize, length: usize },
    #[error(
        "The Personal Message cannot contain control characters other than line breaks and tabs."
    )]
    ControlCharacter,
}

/// A non-empty personal message; an empty or blank field is no message (`None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonalMessage(String);

impl PersonalMessage {
    pub const MAX_LENGTH: usize = 1000;

    /// Trims, turns `\r\n` and `\r` into `\n`, refuses other control characters, and counts
    /// characters (not bytes) against [`Self::MAX_LENGTH`].
    pub fn parse(input: &str) -> Result<Option<Self>, PersonalMessageError> {
        let text = input.replace("\r\n", "\n").replace('\r', "\n");
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Ok(None);
        }
        if trimmed
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t')
        {
            return Err(PersonalMessageError::ControlCharacter);
        }
        let length = trimmed.chars().count();
        if length > Self::MAX_LENGTH {
            return Err(PersonalMessageError::TooLong {
                limit: Self::MAX_LENGTH,
                length,
            });
        }
        Ok(Some(Self(trimmed.to_owned())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The message's lines, for the HTML part (each line escaped, joined with `<br>`).
    pub fn lines(&self) -> impl Iterator<Item = &str> {
        self.0.split('\n')
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_blank_message_is_no_message() {
        assert_eq!(PersonalMessage::parse("  \r\n "), Ok(None));
    }

    #[test]
    fn line_breaks_are_kept_and_normalized() {
        let message = PersonalMessage::parse(" Welcome!\r\nSee you Monday.\rAda ")
            .unwrap()
            .unwrap();
        assert_eq!(message.as_str(), "Welcome!\nSee you Monday.\nAda");
        assert_eq!(message.lines().count(), 3);
    }

    #[test]
    fn the_limit_counts_characters_not_bytes() {
        assert!(PersonalMessage::parse(&"é".repeat(1000)).unwrap().is_some());
        assert_eq!(
            PersonalMessage::parse(&"é".repeat(1001)),
            Err(PersonalMessageError::TooLong {
                limit: 1000,
                length: 1001
            })
        );
    }

    #[test]
    fn markup_is_kept_as_typed_and_control_characters_are_refused() {
        let message = PersonalMessage::parse("<script>alert(1)</script>")
            .unwrap()
            .unwrap();
        assert_eq!(message.as_str(), "<script>alert(1)</script>");
        assert_eq!(
            PersonalMessage::parse("a\u{0007}b"),
            Err(PersonalMessageError::ControlCharacter)
        );
    }
}
