//! Policy variables: `${aws:username}`, `${aws:PrincipalTag/team, 'default'}` and the escapes
//! `${*}`, `${?}`, `${$}`, read only in Version 2012-10-17 documents. A variable's value is
//! inserted literally: a `*` in a user name is a star, never a wildcard.

use super::matcher::{Resolve, Syntax};

/// One unit of a compiled pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Piece {
    Char(char),
    /// `?`: exactly one character.
    One,
    /// `*`: any run of characters, possibly empty.
    Many,
    /// `${key}` or `${key, 'default'}`; `key` is lowercased (condition keys ignore case).
    Var {
        key: String,
        default: Option<String>,
    },
}

/// Reads `text` into pieces under `syntax`.
pub(crate) fn pieces(text: &str, syntax: Syntax) -> Vec<Piece> {
    let mut out = Vec::with_capacity(text.len());
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if syntax.variables && rest.starts_with("${") {
            if let Some(end) = rest.find('}') {
                let inner = rest.get(2..end).unwrap_or("");
                push_variable(&mut out, inner);
                rest = rest.get(end + 1..).unwrap_or("");
                continue;
            }
        }
        out.push(match c {
            '*' if syntax.wildcards => Piece::Many,
            '?' if syntax.wildcards => Piece::One,
            c => Piece::Char(c),
        });
        rest = rest.get(c.len_utf8()..).unwrap_or("");
    }
    out
}

fn push_variable(out: &mut Vec<Piece>, inner: &str) {
    match inner {
        "*" => out.push(Piece::Char('*')),
        "?" => out.push(Piece::Char('?')),
        "$" => out.push(Piece::Char('$')),
        _ => {
            let (key, default) = match inner.split_once(',') {
                Some((key, default)) => (key, parse_default(default)),
                None => (inner, None),
            };
            out.push(Piece::Var {
                key: key.trim().to_ascii_lowercase(),
                default,
            });
        }
    }
}

/// `'company-wide'` (single quotes, surrounding spaces allowed) → `company-wide`.
fn parse_default(text: &str) -> Option<String> {
    let t = text.trim();
    t.strip_prefix('\'')
        .and_then(|t| t.strip_suffix('\''))
        .map(str::to_owned)
}

/// Replaces every variable with its value's characters (or its default's). `None` when a
/// variable has neither: the caller then treats the pattern as matching nothing.
pub(crate) fn substitute(pieces: &[Piece], vars: &dyn Resolve) -> Option<Vec<Piece>> {
    let mut out = Vec::with_capacity(pieces.len() + 16);
    for piece in pieces {
        match piece {
            Piece::Var { key, default } => {
                let value = vars.resolve(key).or(default.as_deref())?;
                out.extend(value.chars().map(Piece::Char));
            }
            other => out.push(other.clone()),
        }
    }
    Some(out)
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn reads_variables_escapes_and_defaults() {
        let syntax = Syntax {
            wildcards: true,
            variables: true,
        };
        let p = pieces("a${*}${aws:PrincipalTag/team, 'x y'}*", syntax);
        assert_eq!(
            p,
            vec![
                Piece::Char('a'),
                Piece::Char('*'),
                Piece::Var {
                    key: "aws:principaltag/team".into(),
                    default: Some("x y".into())
                },
                Piece::Many
            ]
        );
        let legacy = pieces(
            "${aws:username}",
            Syntax {
                wildcards: true,
                variables: false,
            },
        );
        assert_eq!(legacy.len(), "${aws:username}".len());
        // An unclosed `${` is literal text.
        assert_eq!(pieces("${abc", syntax).len(), 5);
    }
}
