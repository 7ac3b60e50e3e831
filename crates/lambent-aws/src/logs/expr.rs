//! The condition language of JSON and space-delimited filter patterns: a lexer, a parser for
//! comparisons (`= != < <= > >=` against strings with `*` wildcards, numbers and `%regex%`)
//! and `IS NULL`/`IS TRUE`/`IS FALSE`/`EXISTS`/`NOT EXISTS` tests combined with `&&`, `||` and
//! parentheses (`()` > `&&` > `||`), and their evaluation on a JSON document or on named
//! fields.

use super::regex::Regex;
use super::PatternError;
use serde_json::Value;
use std::borrow::Cow;

/// One step of a JSON selector.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Seg {
    Key(String),
    Index(usize),
}

#[derive(Debug, Clone)]
pub(super) enum Expr {
    Or(Vec<Expr>),
    And(Vec<Expr>),
    Cond(Left, Test),
}

/// What a condition looks at: a JSON selector, or a space-delimited field's name.
#[derive(Debug, Clone)]
pub(super) enum Left {
    Path(Vec<Seg>),
    Field(String),
}

#[derive(Debug, Clone)]
pub(super) enum Test {
    Cmp(Op, Operand),
    IsNull,
    IsTrue,
    IsFalse,
    Exists,
    NotExists,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone)]
pub(super) enum Operand {
    Number(f64),
    Text(Glob),
    Regex(Regex),
}

/// A string with `*` wildcards.
#[derive(Debug, Clone)]
pub(super) struct Glob {
    parts: Vec<String>,
}

impl Glob {
    fn new(s: &str) -> Glob {
        Glob {
            parts: s.split('*').map(str::to_string).collect(),
        }
    }

    fn matches(&self, text: &str) -> bool {
        let [first, middle @ .., last] = self.parts.as_slice() else {
            return self.parts.first().is_some_and(|p| p == text);
        };
        let Some(mut rest) = text.strip_prefix(first.as_str()) else {
            return false;
        };
        for part in middle {
            match rest.find(part.as_str()) {
                Some(at) => rest = &rest[at + part.len()..],
                None => return false,
            }
        }
        rest.len() >= last.len() && rest.ends_with(last.as_str())
    }
}

/// The rest of a `"..."` whose opening quote was consumed; `\"` and `\\` are escapes.
pub(super) fn quoted(
    chars: &mut std::iter::Peekable<std::str::Chars<'_>>,
) -> Result<String, PatternError> {
    let mut out = String::new();
    loop {
        match chars.next() {
            None => return Err(PatternError::UnterminatedQuote),
            Some('"') => return Ok(out),
            Some('\\') => match chars.next() {
                Some(c @ ('"' | '\\')) => out.push(c),
                Some(c) => {
                    out.push('\\');
                    out.push(c);
                }
                None => return Err(PatternError::UnterminatedQuote),
            },
            Some(c) => out.push(c),
        }
    }
}

// ---------------------------------------------------------------------------------- lexer

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Token {
    Open,
    Close,
    And,
    Or,
    Comma,
    Op(Op),
    Selector(Vec<Seg>),
    Quoted(String),
    Regex(String),
    Word(String),
}

/// Characters that end a bare word or a selector key.
pub(super) fn is_delimiter(c: char) -> bool {
    c.is_whitespace() || "()=!<>&|,\"".contains(c)
}

pub(super) fn lex(s: &str) -> Result<Vec<Token>, PatternError> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        let token = match c {
            c if c.is_whitespace() => continue,
            '(' => Token::Open,
            ')' => Token::Close,
            ',' => Token::Comma,
            '&' | '|' => {
                if chars.next() != Some(c) {
                    return Err(PatternError::Unexpected(c.to_string()));
                }
                if c == '&' {
                    Token::And
                } else {
                    Token::Or
                }
            }
            '=' => Token::Op(Op::Eq),
            '!' => {
                if chars.next() != Some('=') {
                    return Err(PatternError::Unexpected("!".into()));
                }
                Token::Op(Op::Ne)
            }
            '<' | '>' => {
                let eq = chars.next_if_eq(&'=').is_some();
                Token::Op(match (c, eq) {
                    ('<', false) => Op::Lt,
                    ('<', true) => Op::Le,
                    ('>', false) => Op::Gt,
                    _ => Op::Ge,
                })
            }
            '"' => Token::Quoted(quoted(&mut chars)?),
            '%' => {
                let mut body = String::new();
                loop {
                    match chars.next() {
                        None => return Err(PatternError::Unterminated('%')),
                        Some('%') => break,
                        Some(c) => body.push(c),
                    }
                }
                Token::Regex(body)
            }
            '$' => Token::Selector(selector(&mut chars)?),
            c => {
                let mut w = String::from(c);
                while let Some(c) = chars.next_if(|c| !is_delimiter(*c)) {
                    w.push(c);
                }
                Token::Word(w)
            }
        };
        out.push(token);
    }
    Ok(out)
}

/// The rest of a `$.a.b[0]` selector whose `$` was consumed.
pub(super) fn selector(
    chars: &mut std::iter::Peekable<std::str::Chars<'_>>,
) -> Result<Vec<Seg>, PatternError> {
    let mut path = Vec::new();
    loop {
        match chars.peek() {
            Some('.') => {
                chars.next();
                let mut key = String::new();
                while let Some(c) = chars.next_if(|c| !is_delimiter(*c) && !".[]".contains(*c)) {
                    key.push(c);
                }
                if key.is_empty() {
                    return Err(PatternError::Unexpected("$.".into()));
                }
                path.push(Seg::Key(key));
            }
            Some('[') => {
                chars.next();
                let mut digits = String::new();
                while let Some(c) = chars.next_if(|c| c.is_ascii_digit()) {
                    digits.push(c);
                }
                if chars.next() != Some(']') {
                    return Err(PatternError::Unterminated('['));
                }
                let index = digits
                    .parse()
                    .map_err(|_| PatternError::Unexpected(format!("[{digits}]")))?;
                path.push(Seg::Index(index));
            }
            _ => return Ok(path),
        }
    }
}

// --------------------------------------------------------------------------------- parser

/// Parses a whole condition; `fields` lets bare words name space-delimited fields where JSON
/// patterns need `$` selectors.
pub(super) fn parse_expr(tokens: &[Token], fields: bool) -> Result<Expr, PatternError> {
    let mut p = Parser {
        tokens,
        pos: 0,
        fields,
    };
    let expr = p.or()?;
    p.finish()?;
    Ok(expr)
}

struct Parser<'a> {
    tokens: &'a [Token],
    pos: usize,
    /// Space-delimited conditions name fields with bare words instead of selectors.
    fields: bool,
}

impl<'a> Parser<'a> {
    fn bump(&mut self) -> Option<&'a Token> {
        let t = self.tokens.get(self.pos);
        self.pos += 1;
        t
    }

    fn eat(&mut self, t: &Token) -> bool {
        let hit = self.tokens.get(self.pos) == Some(t);
        if hit {
            self.pos += 1;
        }
        hit
    }

    fn finish(&self) -> Result<(), PatternError> {
        match self.tokens.get(self.pos) {
            None => Ok(()),
            Some(t) => Err(PatternError::Unexpected(format!("{t:?}"))),
        }
    }

    /// `||` binds loosest, then `&&`, then parentheses.
    fn or(&mut self) -> Result<Expr, PatternError> {
        let mut list = vec![self.and()?];
        while self.eat(&Token::Or) {
            list.push(self.and()?);
        }
        Ok(if list.len() == 1 {
            list.remove(0)
        } else {
            Expr::Or(list)
        })
    }

    fn and(&mut self) -> Result<Expr, PatternError> {
        let mut list = vec![self.primary()?];
        while self.eat(&Token::And) {
            list.push(self.primary()?);
        }
        Ok(if list.len() == 1 {
            list.remove(0)
        } else {
            Expr::And(list)
        })
    }

    fn primary(&mut self) -> Result<Expr, PatternError> {
        if self.eat(&Token::Open) {
            let e = self.or()?;
            if !self.eat(&Token::Close) {
                return Err(PatternError::Unterminated('('));
            }
            return Ok(e);
        }
        let fields = self.fields;
        let left = match self.bump() {
            Some(Token::Selector(path)) if !fields => Left::Path(path.clone()),
            Some(Token::Word(name)) if fields => Left::Field(name.clone()),
            Some(t) => return Err(PatternError::Unexpected(format!("{t:?}"))),
            None => return Err(PatternError::UnexpectedEnd),
        };
        let test = match self.bump() {
            Some(Token::Op(op)) => Test::Cmp(*op, self.operand(*op)?),
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("IS") => match self.word()? {
                k if k.eq_ignore_ascii_case("NULL") => Test::IsNull,
                k if k.eq_ignore_ascii_case("TRUE") => Test::IsTrue,
                k if k.eq_ignore_ascii_case("FALSE") => Test::IsFalse,
                k => return Err(PatternError::Unexpected(k.to_string())),
            },
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("EXISTS") => Test::Exists,
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("NOT") => match self.word()? {
                k if k.eq_ignore_ascii_case("EXISTS") => Test::NotExists,
                k => return Err(PatternError::Unexpected(k.to_string())),
            },
            Some(t) => return Err(PatternError::Unexpected(format!("{t:?}"))),
            None => return Err(PatternError::UnexpectedEnd),
        };
        Ok(Expr::Cond(left, test))
    }

    fn word(&mut self) -> Result<&'a str, PatternError> {
        match self.bump() {
            Some(Token::Word(w)) => Ok(w),
            Some(t) => Err(PatternError::Unexpected(format!("{t:?}"))),
            None => Err(PatternError::UnexpectedEnd),
        }
    }

    fn operand(&mut self, op: Op) -> Result<Operand, PatternError> {
        let operand = match self.bump() {
            Some(Token::Quoted(s)) => Operand::Text(Glob::new(s)),
            Some(Token::Regex(r)) => Operand::Regex(Regex::parse(r)?),
            Some(Token::Word(w)) => match number(w) {
                Some(n) => Operand::Number(n),
                None => Operand::Text(Glob::new(w)),
            },
            Some(t) => return Err(PatternError::Unexpected(format!("{t:?}"))),
            None => return Err(PatternError::UnexpectedEnd),
        };
        let ordering = !matches!(op, Op::Eq | Op::Ne);
        if ordering && !matches!(operand, Operand::Number(_)) {
            return Err(PatternError::NeedsNumber(format!("{op:?}")));
        }
        Ok(operand)
    }
}

/// AWS's number syntax: optional sign, digits, optional fraction and exponent (`10e-3`).
pub(super) fn number(s: &str) -> Option<f64> {
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    let (mantissa, exponent) = match body.split_once(['e', 'E']) {
        Some((m, e)) => (m, Some(e.strip_prefix(['+', '-']).unwrap_or(e))),
        None => (body, None),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, "0"));
    let digits = |d: &str| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit());
    if !(digits(int) && digits(frac) && exponent.is_none_or(digits)) {
        return None;
    }
    s.parse().ok()
}

// ----------------------------------------------------------------------------- evaluation

/// A value a condition looks at, wherever it came from.
pub(super) enum Field<'a> {
    Missing,
    Composite,
    Null,
    Bool(bool),
    Number(f64, String),
    String(&'a str),
    /// A space-delimited field: text that compares as a number when it is one.
    Token(&'a str),
}

impl<'a> Field<'a> {
    fn of(v: Option<&'a Value>) -> Field<'a> {
        match v {
            None => Field::Missing,
            Some(Value::Null) => Field::Null,
            Some(Value::Bool(b)) => Field::Bool(*b),
            Some(Value::Number(n)) => Field::Number(n.as_f64().unwrap_or(f64::NAN), n.to_string()),
            Some(Value::String(s)) => Field::String(s),
            Some(_) => Field::Composite,
        }
    }
}

pub(super) fn resolve<'a>(doc: &'a Value, path: &[Seg]) -> Option<&'a Value> {
    path.iter().try_fold(doc, |v, seg| match seg {
        Seg::Key(k) => v.as_object()?.get(k),
        Seg::Index(i) => v.as_array()?.get(*i),
    })
}

impl Test {
    fn on(&self, field: Field<'_>) -> bool {
        match self {
            Test::Exists => !matches!(field, Field::Missing),
            Test::NotExists => matches!(field, Field::Missing),
            Test::IsNull => matches!(field, Field::Null),
            Test::IsTrue => matches!(field, Field::Bool(true)),
            Test::IsFalse => matches!(field, Field::Bool(false)),
            Test::Cmp(op, operand) => compare(&field, *op, operand),
        }
    }
}

/// Objects, arrays, nulls and missing fields make `=` and `!=` alike false.
fn compare(field: &Field<'_>, op: Op, operand: &Operand) -> bool {
    let text: Cow<'_, str> = match field {
        Field::Missing | Field::Composite | Field::Null => return false,
        Field::Bool(b) => Cow::Owned(b.to_string()),
        Field::Number(_, t) => Cow::Borrowed(t.as_str()),
        Field::String(s) | Field::Token(s) => Cow::Borrowed(s),
    };
    match operand {
        Operand::Number(n) => {
            let x = match field {
                Field::Number(x, _) => *x,
                Field::Token(s) => match number(s) {
                    Some(x) => x,
                    None => return false,
                },
                _ => return false,
            };
            match op {
                Op::Eq => x == *n,
                Op::Ne => x != *n,
                Op::Lt => x < *n,
                Op::Le => x <= *n,
                Op::Gt => x > *n,
                Op::Ge => x >= *n,
            }
        }
        Operand::Text(glob) => (op == Op::Eq) == glob.matches(&text),
        Operand::Regex(re) => (op == Op::Eq) == re.is_match(&text),
    }
}

impl Expr {
    pub(super) fn eval<'v>(&self, lookup: &dyn Fn(&Left) -> Field<'v>) -> bool {
        match self {
            Expr::Or(list) => list.iter().any(|e| e.eval(lookup)),
            Expr::And(list) => list.iter().all(|e| e.eval(lookup)),
            Expr::Cond(left, test) => test.on(lookup(left)),
        }
    }

    pub(super) fn json(&self, doc: &Value) -> bool {
        self.eval(&|left| match left {
            Left::Path(path) => Field::of(resolve(doc, path)),
            Left::Field(_) => Field::Missing,
        })
    }
}
