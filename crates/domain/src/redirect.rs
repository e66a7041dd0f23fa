//! Where to go after signing in: only a path on this site, never another origin.

/// A same-origin relative path such as `/setup?x=1`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalRedirect(String);

impl LocalRedirect {
    /// Accepts `/path...` only; `//host`, `/\host`, schemes, control characters and anything
    /// that is not a plain path yield `None` (callers then use the homepage).
    pub fn parse(input: &str) -> Option<Self> {
        let acceptable = input.starts_with('/')
            && !input.starts_with("//")
            && !input.contains('\\')
            && input.len() <= 2048
            && !input.chars().any(|c| c.is_control() || c.is_whitespace());
        acceptable.then(|| Self(input.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn local_paths_are_kept() {
        assert_eq!(
            LocalRedirect::parse("/setup?view=1").unwrap().as_str(),
            "/setup?view=1"
        );
    }

    #[test]
    fn open_redirect_payloads_are_refused() {
        for payload in [
            "//evil.example",
            "/\\evil.example",
            "https://evil.example",
            "javascript:alert(1)",
            "",
            "/\t/evil.example",
            "evil",
        ] {
            assert!(LocalRedirect::parse(payload).is_none(), "{payload:?}");
        }
    }

    proptest! {
        #[test]
        fn accepted_targets_never_leave_the_site(input in "\\PC{0,40}") {
            if let Some(target) = LocalRedirect::parse(&input) {
                prop_assert!(target.as_str().starts_with('/'));
                prop_assert!(!target.as_str().starts_with("//"));
                prop_assert!(!target.as_str().contains('\\'));
            }
        }
    }
}
