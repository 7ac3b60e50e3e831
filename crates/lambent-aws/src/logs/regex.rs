//! The regular expressions filter patterns may hold between `%` signs. AWS allows a small
//! subset: literals, `.`, classes `[...]`, the escapes `\d \w \s` (and their negations),
//! quantifiers `* + ? {n} {n,} {n,m}`, anchors `^ $` and `|` alternation, but no groups, so
//! a backtracking matcher over a flat list of items is enough.

use super::PatternError;

/// A compiled expression; [`Regex::is_match`] searches anywhere in the text, like AWS.
#[derive(Debug, Clone)]
pub struct Regex {
    branches: Vec<Branch>,
}

#[derive(Debug, Clone)]
struct Branch {
    start: bool,
    end: bool,
    items: Vec<Item>,
}

#[derive(Debug, Clone)]
struct Item {
    atom: Atom,
    min: usize,
    max: usize,
}

#[derive(Debug, Clone)]
enum Atom {
    Char(char),
    Any,
    Class {
        negated: bool,
        ranges: Vec<(char, char)>,
    },
}

impl Atom {
    fn matches(&self, c: char) -> bool {
        match self {
            Atom::Char(x) => *x == c,
            Atom::Any => c != '\n',
            Atom::Class { negated, ranges } => {
                ranges.iter().any(|(lo, hi)| (*lo..=*hi).contains(&c)) != *negated
            }
        }
    }
}

const DIGIT: &[(char, char)] = &[('0', '9')];
const WORD: &[(char, char)] = &[('0', '9'), ('A', 'Z'), ('_', '_'), ('a', 'z')];
const SPACE: &[(char, char)] = &[('\t', '\r'), (' ', ' ')];

fn invalid(why: &str) -> PatternError {
    PatternError::Regex(why.to_string())
}

/// The ranges of `\d`, `\w`, `\s` (negated for the capital letters), or `None` for an escaped
/// literal.
fn escape_class(c: char) -> Option<(bool, Vec<(char, char)>)> {
    let (negated, ranges) = match c {
        'd' => (false, DIGIT),
        'D' => (true, DIGIT),
        'w' => (false, WORD),
        'W' => (true, WORD),
        's' => (false, SPACE),
        'S' => (true, SPACE),
        _ => return None,
    };
    Some((negated, ranges.to_vec()))
}

fn escape_literal(c: char) -> char {
    match c {
        't' => '\t',
        'n' => '\n',
        'r' => '\r',
        other => other,
    }
}

impl Regex {
    pub fn parse(source: &str) -> Result<Regex, PatternError> {
        if source.is_empty() {
            return Err(invalid("empty expression"));
        }
        let chars: Vec<char> = source.chars().collect();
        let mut branches = Vec::new();
        for part in chars.split(|c| *c == '|') {
            branches.push(parse_branch(part)?);
        }
        // `\|` was split above as if it were alternation: AWS's subset has no use for an
        // escaped bar, and refusing it is clearer than guessing.
        if chars.windows(2).any(|w| w == ['\\', '|']) {
            return Err(invalid("escaped `|`"));
        }
        Ok(Regex { branches })
    }

    pub fn is_match(&self, text: &str) -> bool {
        let chars: Vec<char> = text.chars().collect();
        self.branches.iter().any(|b| {
            if b.start {
                match_at(&b.items, b.end, &chars, 0)
            } else {
                (0..=chars.len()).any(|pos| match_at(&b.items, b.end, &chars, pos))
            }
        })
    }
}

fn parse_branch(chars: &[char]) -> Result<Branch, PatternError> {
    let mut i = 0;
    let start = chars.first() == Some(&'^');
    if start {
        i = 1;
    }
    let mut end_at = chars.len();
    let end = end_at > i && chars[end_at - 1] == '$' && !(end_at >= 2 && chars[end_at - 2] == '\\');
    if end {
        end_at -= 1;
    }
    let mut items: Vec<Item> = Vec::new();
    while i < end_at {
        let c = chars[i];
        i += 1;
        let atom = match c {
            '(' | ')' => return Err(invalid("groups are not supported")),
            '^' | '$' => return Err(invalid("anchor inside the expression")),
            '*' | '+' | '?' | '{' => {
                let Some(last) = items.last_mut() else {
                    return Err(invalid("quantifier without an operand"));
                };
                let (min, max) = match c {
                    '*' => (0, usize::MAX),
                    '+' => (1, usize::MAX),
                    '?' if last.min == 1 && last.max == 1 => (0, 1),
                    // A `?` after a quantifier makes it lazy, which changes no yes/no answer.
                    '?' => continue,
                    _ => {
                        let close = chars[i..end_at]
                            .iter()
                            .position(|c| *c == '}')
                            .ok_or_else(|| invalid("unclosed `{`"))?;
                        let body: String = chars[i..i + close].iter().collect();
                        i += close + 1;
                        bounds(&body)?
                    }
                };
                if last.min != 1 || last.max != 1 {
                    return Err(invalid("repeated quantifier"));
                }
                last.min = min;
                last.max = max;
                continue;
            }
            '.' => Atom::Any,
            '\\' => {
                let e = *chars.get(i).ok_or_else(|| invalid("trailing `\\`"))?;
                i += 1;
                match escape_class(e) {
                    Some((negated, ranges)) => Atom::Class { negated, ranges },
                    None => Atom::Char(escape_literal(e)),
                }
            }
            '[' => {
                let (atom, next) = parse_class(chars, i, end_at)?;
                i = next;
                atom
            }
            other => Atom::Char(other),
        };
        items.push(Item {
            atom,
            min: 1,
            max: 1,
        });
    }
    Ok(Branch { start, end, items })
}

fn bounds(body: &str) -> Result<(usize, usize), PatternError> {
    let num = |s: &str| {
        s.trim()
            .parse::<usize>()
            .map_err(|_| invalid("bad `{n,m}` bounds"))
    };
    let (min, max) = match body.split_once(',') {
        None => {
            let n = num(body)?;
            (n, n)
        }
        Some((lo, "")) => (num(lo)?, usize::MAX),
        Some((lo, hi)) => (num(lo)?, num(hi)?),
    };
    if min > max {
        return Err(invalid("`{n,m}` with n > m"));
    }
    Ok((min, max))
}

/// Parses a class whose `[` is just before `i`; returns it and the index after its `]`.
fn parse_class(chars: &[char], mut i: usize, end: usize) -> Result<(Atom, usize), PatternError> {
    let negated = chars.get(i) == Some(&'^');
    if negated {
        i += 1;
    }
    let mut ranges = Vec::new();
    let mut first = true;
    loop {
        let c = *chars
            .get(i)
            .filter(|_| i < end)
            .ok_or_else(|| invalid("unclosed `[`"))?;
        i += 1;
        if c == ']' && !first {
            break;
        }
        first = false;
        let lo = if c == '\\' {
            let e = *chars.get(i).ok_or_else(|| invalid("trailing `\\`"))?;
            i += 1;
            if let Some((neg, class)) = escape_class(e) {
                if neg {
                    return Err(invalid("negated class escape inside `[...]`"));
                }
                ranges.extend(class);
                continue;
            }
            escape_literal(e)
        } else {
            c
        };
        if chars.get(i) == Some(&'-') && chars.get(i + 1).is_some_and(|c| *c != ']') && i + 1 < end
        {
            let hi = chars[i + 1];
            i += 2;
            if hi < lo {
                return Err(invalid("reversed range"));
            }
            ranges.push((lo, hi));
        } else {
            ranges.push((lo, lo));
        }
    }
    Ok((Atom::Class { negated, ranges }, i))
}

fn match_at(items: &[Item], end: bool, text: &[char], pos: usize) -> bool {
    let Some((item, rest)) = items.split_first() else {
        return !end || pos == text.len();
    };
    let mut count = 0;
    while count < item.max && pos + count < text.len() && item.atom.matches(text[pos + count]) {
        count += 1;
    }
    if count < item.min {
        return false;
    }
    (item.min..=count)
        .rev()
        .any(|k| match_at(rest, end, text, pos + k))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_aws_examples() {
        // (expression, text, matches): the examples of AWS's "Supported regular expressions
        // syntax" section, and the edges of the subset.
        let cases = [
            ("ERROR|WARN", "[WARN] disk", true),
            ("ERROR|WARN", "[INFO] fine", false),
            ("colou?r", "the color", true),
            ("colou?r", "the colour", true),
            ("colou?r", "the colouur", false),
            ("^\\[INFO\\]", "[INFO] started", true),
            ("^\\[INFO\\]", "x [INFO] started", false),
            ("AUTHORIZED$", "user UNAUTHORIZED", true),
            ("AUTHORIZED$", "AUTHORIZED user", false),
            ("\\d{3}-\\d{4}", "call 555-1234 now", true),
            ("\\d{3}-\\d{4}", "call 55-1234 now", false),
            ("[a-c]+x", "zzbbax", true),
            ("[^a-c]x", "ax", false),
            ("a.c", "abc", true),
            ("a.*c", "a and c", true),
            ("\\s\\w+\\s", " word ", true),
            ("a{2,}", "caab", true),
            ("a{2,}", "cab", false),
            ("x*", "", true),
        ];
        for (re, text, want) in cases {
            let r = Regex::parse(re).unwrap_or_else(|e| panic!("{re}: {e}"));
            assert_eq!(r.is_match(text), want, "{re} on {text:?}");
        }
    }

    #[test]
    fn refuses_what_aws_refuses() {
        for re in ["(a|b)", "a)", "*a", "[abc", "a{3,1}", "a{x}", "", "a\\|b"] {
            assert!(Regex::parse(re).is_err(), "{re} should be refused");
        }
    }
}
