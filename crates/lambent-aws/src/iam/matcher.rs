//! AWS's wildcard patterns (`*` any run of characters, `?` exactly one), compiled once from a
//! policy string, with policy variables (`${aws:username}`) left as holes that are filled from the
//! request at match time. ARNs are matched segment by segment, as AWS does: `*` in the region
//! segment never swallows the account.
//!
//! Matching is iterative (one backtrack point per `*`), so no input can exhaust the stack.

use super::variables::{self, Piece};

/// One compiled pattern: literal characters, wildcards and variable holes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pattern {
    pieces: Vec<Piece>,
    has_vars: bool,
}

/// How a pattern's text is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Syntax {
    /// `*` and `?` are wildcards (Resource, Action, StringLike, ArnLike); otherwise literal.
    pub wildcards: bool,
    /// `${...}` is a policy variable (Version 2012-10-17 only); otherwise literal.
    pub variables: bool,
}

/// Looks up a policy variable's value by its lowercased key; `None` when the request lacks it.
pub(crate) trait Resolve {
    fn resolve(&self, key_lower: &str) -> Option<&str>;
}

impl Pattern {
    pub(crate) fn compile(text: &str, syntax: Syntax) -> Pattern {
        let pieces = variables::pieces(text, syntax);
        let has_vars = pieces.iter().any(|p| matches!(p, Piece::Var { .. }));
        Pattern { pieces, has_vars }
    }

    /// Matches `text`; `fold_case` compares letters case-insensitively. A variable the request
    /// cannot resolve (and that has no default) makes the pattern match nothing.
    pub(crate) fn matches(&self, text: &str, fold_case: bool, vars: &dyn Resolve) -> bool {
        if !self.has_vars {
            return glob(&self.pieces, text, fold_case);
        }
        match variables::substitute(&self.pieces, vars) {
            Some(resolved) => glob(&resolved, text, fold_case),
            None => false,
        }
    }
}

fn same(p: char, t: char, fold_case: bool) -> bool {
    p == t || (fold_case && p.to_lowercase().eq(t.to_lowercase()))
}

/// Classic wildcard matching with a single backtrack point: on a mismatch, the last `*` takes
/// one more character. O(pattern × text) in the worst case, no recursion, no allocation.
fn glob(pattern: &[Piece], text: &str, fold_case: bool) -> bool {
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    loop {
        let next = text.get(ti..).and_then(|rest| rest.chars().next());
        match (pattern.get(pi), next) {
            (Some(Piece::Many), _) => {
                star = Some((pi + 1, ti));
                pi += 1;
                continue;
            }
            (None, None) => return true,
            (Some(Piece::Char(p)), Some(t)) if same(*p, t, fold_case) => {
                pi += 1;
                ti += t.len_utf8();
                continue;
            }
            (Some(Piece::One), Some(t)) => {
                pi += 1;
                ti += t.len_utf8();
                continue;
            }
            _ => {}
        }
        // Mismatch: let the last star swallow one more character, if there is one left.
        match star {
            Some((after_star, from)) => {
                match text.get(from..).and_then(|rest| rest.chars().next()) {
                    Some(c) => {
                        star = Some((after_star, from + c.len_utf8()));
                        pi = after_star;
                        ti = from + c.len_utf8();
                    }
                    None => return false,
                }
            }
            None => return false,
        }
    }
}

/// A Resource element or ArnLike value: `*`, six ARN segments matched one by one, or (for text
/// that is not ARN-shaped) one pattern matched against the whole string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ArnPattern {
    Any,
    Segments(Vec<Pattern>),
    Whole(Pattern),
}

impl ArnPattern {
    pub(crate) fn compile(text: &str, syntax: Syntax) -> ArnPattern {
        if text == "*" && syntax.wildcards {
            return ArnPattern::Any;
        }
        match arn_segments(text, syntax.variables) {
            Some(parts) => {
                ArnPattern::Segments(parts.iter().map(|p| Pattern::compile(p, syntax)).collect())
            }
            None => ArnPattern::Whole(Pattern::compile(text, syntax)),
        }
    }

    /// Whether `text` has the shape Resource elements must have: `*` or `arn:` and six parts.
    pub(crate) fn is_valid_resource(text: &str, variables: bool) -> bool {
        text == "*"
            || (text.starts_with("arn:")
                && arn_segments(text, variables).is_some_and(|s| !s[2].is_empty()))
    }

    pub(crate) fn matches(&self, arn: &str, vars: &dyn Resolve) -> bool {
        match self {
            ArnPattern::Any => true,
            ArnPattern::Whole(p) => p.matches(arn, false, vars),
            ArnPattern::Segments(patterns) => {
                let mut parts = arn.splitn(6, ':');
                for pattern in patterns {
                    match parts.next() {
                        Some(part) if pattern.matches(part, false, vars) => {}
                        _ => return false,
                    }
                }
                true
            }
        }
    }
}

/// Splits `arn:partition:service:region:account:resource` into its six parts. Colons inside a
/// `${...}` variable (when variables are on) do not split. `None` when there are fewer than six.
fn arn_segments(text: &str, variables: bool) -> Option<[&str; 6]> {
    let mut parts = [""; 6];
    let mut start = 0usize;
    let mut found = 0usize;
    let bytes = text.as_bytes();
    let mut i = 0usize;
    let mut in_var = false;
    while i < bytes.len() && found < 5 {
        match bytes[i] {
            b'$' if variables && bytes.get(i + 1) == Some(&b'{') => {
                in_var = true;
                i += 1;
            }
            b'}' if in_var => in_var = false,
            b':' if !in_var => {
                parts[found] = text.get(start..i)?;
                found += 1;
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    if found < 5 {
        return None;
    }
    parts[5] = text.get(start..)?;
    if parts[0] != "arn" {
        return None;
    }
    Some(parts)
}

#[cfg(test)]
mod unit {
    use super::*;

    struct NoVars;
    impl Resolve for NoVars {
        fn resolve(&self, _: &str) -> Option<&str> {
            None
        }
    }

    const LIKE: Syntax = Syntax {
        wildcards: true,
        variables: true,
    };

    #[test]
    fn wildcards() {
        let cases = [
            ("*", "", true),
            ("*", "anything", true),
            ("a*c", "abbbc", true),
            ("a*c", "abbb", false),
            ("a?c", "abc", true),
            ("a?c", "ac", false),
            (
                "*a*a*a*a*a*b",
                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                false,
            ),
            ("é?", "éü", true),
            ("s3:Get*", "s3:GetObject", true),
        ];
        for (p, t, want) in cases {
            assert_eq!(
                Pattern::compile(p, LIKE).matches(t, false, &NoVars),
                want,
                "{p} ~ {t}"
            );
        }
        assert!(Pattern::compile("S3:get*", LIKE).matches("s3:GetObject", true, &NoVars));
        assert!(!Pattern::compile("S3:get*", LIKE).matches("s3:GetObject", false, &NoVars));
    }

    #[test]
    fn arn_segments_do_not_bleed() {
        let p = ArnPattern::compile("arn:aws:lambda:*:123456789012:function:*", LIKE);
        assert!(p.matches("arn:aws:lambda:us-east-1:123456789012:function:f", &NoVars));
        assert!(p.matches(
            "arn:aws:lambda:us-east-1:123456789012:function:f:alias",
            &NoVars
        ));
        assert!(!p.matches("arn:aws:lambda:us-east-1:999999999999:function:f", &NoVars));
        let region_star = ArnPattern::compile("arn:aws:s3:*:::x", LIKE);
        assert!(!region_star.matches("arn:aws:s3:::x", &NoVars));
        assert!(ArnPattern::is_valid_resource(
            "arn:aws:s3:::b/${aws:username}/*",
            true
        ));
        assert!(!ArnPattern::is_valid_resource("arn:aws:s3", true));
        assert!(!ArnPattern::is_valid_resource("bucket", true));
    }
}
