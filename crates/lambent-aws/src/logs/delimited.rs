//! Space-delimited filter patterns, `[ip, user, ..., status = 4* && status != 403, bytes]`:
//! the message is split on spaces (text in `"..."` or `[...]` is one field), fields are bound
//! to the pattern's names (`...` absorbs any number of them), then the conditions are checked.

use super::expr::{lex, parse_expr, Expr, Field, Left, Token};
use super::PatternError;

#[derive(Debug, Clone)]
pub(super) struct Delimited {
    positions: Vec<Position>,
    conditions: Vec<Expr>,
}

#[derive(Debug, Clone, PartialEq)]
enum Position {
    /// `...`: any number of fields.
    Ellipsis,
    /// A field, named or (an empty position) known by its number.
    Field(Option<String>),
}

pub(super) fn parse(body: &str) -> Result<Delimited, PatternError> {
    let tokens = lex(body)?;
    let mut positions = Vec::new();
    let mut conditions = Vec::new();
    for group in tokens.split(|t| *t == Token::Comma) {
        match group {
            [] => positions.push(Position::Field(None)),
            [Token::Word(w)] if w == "..." => positions.push(Position::Ellipsis),
            [Token::Word(name)] => positions.push(Position::Field(Some(name.clone()))),
            [Token::Word(name), ..] => {
                positions.push(Position::Field(Some(name.clone())));
                conditions.push(parse_expr(group, true)?);
            }
            [t, ..] => return Err(PatternError::Unexpected(format!("{t:?}"))),
        }
    }
    Ok(Delimited {
        positions,
        conditions,
    })
}

/// Splits a message into fields: runs of non-space, or the text inside `"..."` or `[...]`.
fn fields(message: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = message.trim_start();
    while !rest.is_empty() {
        let (field, after) = match rest.as_bytes()[0] {
            b @ (b'"' | b'[') => {
                let close = if b == b'"' { '"' } else { ']' };
                match rest[1..].find(close) {
                    Some(end) => (&rest[1..1 + end], &rest[end + 2..]),
                    None => (&rest[1..], ""),
                }
            }
            _ => {
                let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
                (&rest[..end], &rest[end..])
            }
        };
        out.push(field);
        rest = after.trim_start();
    }
    out
}

impl Delimited {
    /// The message's fields and the name each is bound to, when the pattern matches.
    pub(super) fn bind<'m>(&self, message: &'m str) -> Option<(Vec<&'m str>, Vec<Option<&str>>)> {
        let tokens = fields(message);
        let mut names = vec![None; tokens.len()];
        self.assign(&tokens, 0, 0, &mut names)
            .then_some((tokens, names))
    }

    /// Binds positions from `p` on to tokens from `t` on, backtracking over ellipses until
    /// the conditions hold.
    fn assign<'p>(
        &'p self,
        tokens: &[&str],
        p: usize,
        t: usize,
        names: &mut Vec<Option<&'p str>>,
    ) -> bool {
        match self.positions.get(p) {
            None => t == tokens.len() && self.holds(tokens, names),
            Some(Position::Ellipsis) => (t..=tokens.len()).any(|next| {
                names[t..next].iter_mut().for_each(|n| *n = None);
                self.assign(tokens, p + 1, next, names)
            }),
            Some(Position::Field(name)) => {
                if t >= tokens.len() {
                    return false;
                }
                names[t] = name.as_deref();
                self.assign(tokens, p + 1, t + 1, names)
            }
        }
    }

    fn holds(&self, tokens: &[&str], names: &[Option<&str>]) -> bool {
        let lookup = |left: &Left| match left {
            Left::Field(name) => names
                .iter()
                .position(|n| *n == Some(name.as_str()))
                .map_or(Field::Missing, |i| Field::Token(tokens[i])),
            Left::Path(_) => Field::Missing,
        };
        self.conditions.iter().all(|c| c.eval(&lookup))
    }
}
