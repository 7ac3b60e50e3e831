//! Condition operators, compiled once from the policy and evaluated against a request.
//!
//! Semantics, as AWS documents them: several values for one key are OR'ed, negated operators
//! with several values are NOR; a missing key makes a positive operator false and a negated one
//! true, `...IfExists` makes it true, `ForAnyValue:` false and `ForAllValues:` true; `Null`
//! tests presence. A request value that the operator cannot read (a number that is not a
//! number) satisfies neither the operator nor its negation.

use std::net::IpAddr;

use base64::Engine;
use time::format_description::well_known::Rfc3339;

use super::matcher::{ArnPattern, Pattern, Resolve, Syntax};
use super::request::Request;

/// The comparison an operator makes, before negation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Base {
    String,
    StringIgnoreCase,
    StringLike,
    Numeric(Cmp),
    Date(Cmp),
    Bool,
    Binary,
    Ip,
    Arn,
    Null,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cmp {
    Eq,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SetOp {
    ForAnyValue,
    ForAllValues,
}

/// A parsed operator name such as `ForAllValues:StringNotLikeIfExists`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Operator {
    base: Base,
    negated: bool,
    if_exists: bool,
    set: Option<SetOp>,
}

const OPERATORS: &[(&str, Base, bool)] = &[
    ("StringEquals", Base::String, false),
    ("StringNotEquals", Base::String, true),
    ("StringEqualsIgnoreCase", Base::StringIgnoreCase, false),
    ("StringNotEqualsIgnoreCase", Base::StringIgnoreCase, true),
    ("StringLike", Base::StringLike, false),
    ("StringNotLike", Base::StringLike, true),
    ("NumericEquals", Base::Numeric(Cmp::Eq), false),
    ("NumericNotEquals", Base::Numeric(Cmp::Eq), true),
    ("NumericLessThan", Base::Numeric(Cmp::Lt), false),
    ("NumericLessThanEquals", Base::Numeric(Cmp::Le), false),
    ("NumericGreaterThan", Base::Numeric(Cmp::Gt), false),
    ("NumericGreaterThanEquals", Base::Numeric(Cmp::Ge), false),
    ("DateEquals", Base::Date(Cmp::Eq), false),
    ("DateNotEquals", Base::Date(Cmp::Eq), true),
    ("DateLessThan", Base::Date(Cmp::Lt), false),
    ("DateLessThanEquals", Base::Date(Cmp::Le), false),
    ("DateGreaterThan", Base::Date(Cmp::Gt), false),
    ("DateGreaterThanEquals", Base::Date(Cmp::Ge), false),
    ("Bool", Base::Bool, false),
    ("BinaryEquals", Base::Binary, false),
    ("IpAddress", Base::Ip, false),
    ("NotIpAddress", Base::Ip, true),
    ("ArnEquals", Base::Arn, false),
    ("ArnLike", Base::Arn, false),
    ("ArnNotEquals", Base::Arn, true),
    ("ArnNotLike", Base::Arn, true),
    ("Null", Base::Null, false),
];

impl Operator {
    /// `None` for a name AWS does not know (`Invalid Condition type : X`).
    fn parse(name: &str) -> Option<Operator> {
        let (set, rest) = if let Some(r) = strip_prefix_ci(name, "ForAnyValue:") {
            (Some(SetOp::ForAnyValue), r)
        } else if let Some(r) = strip_prefix_ci(name, "ForAllValues:") {
            (Some(SetOp::ForAllValues), r)
        } else {
            (None, name)
        };
        let (if_exists, base_name) = match rest.len().checked_sub("IfExists".len()) {
            Some(cut)
                if rest.is_char_boundary(cut) && rest[cut..].eq_ignore_ascii_case("IfExists") =>
            {
                (true, &rest[..cut])
            }
            _ => (false, rest),
        };
        let &(_, base, negated) = OPERATORS
            .iter()
            .find(|(n, _, _)| n.eq_ignore_ascii_case(base_name))?;
        if base == Base::Null && (if_exists || set.is_some()) {
            return None;
        }
        Some(Operator {
            base,
            negated,
            if_exists,
            set,
        })
    }
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| s.get(prefix.len()..))
        .flatten()
}

/// One condition value, read once for its operator. `Invalid` values never match.
#[derive(Debug, Clone, PartialEq)]
enum Value {
    Text(Pattern),
    Arn(ArnPattern),
    Number(f64),
    Date(i128),
    Bool(bool),
    Bytes(Vec<u8>),
    Net(Cidr),
    Invalid,
}

/// One `operator → key → values` entry of a Condition block.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Condition {
    op: Operator,
    key: String,
    values: Vec<Value>,
}

/// Why a condition block could not be compiled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UnknownOperator(pub String);

impl Condition {
    /// Compiles one entry; `variables` is on for Version 2012-10-17.
    pub(crate) fn compile(
        operator: &str,
        key: &str,
        values: &[String],
        variables: bool,
    ) -> Result<Condition, UnknownOperator> {
        let op = Operator::parse(operator).ok_or_else(|| UnknownOperator(operator.to_owned()))?;
        let values = values
            .iter()
            .map(|v| read_value(op.base, v, variables))
            .collect();
        Ok(Condition {
            op,
            key: key.to_ascii_lowercase(),
            values,
        })
    }

    pub(crate) fn holds(&self, req: &Request<'_>) -> bool {
        let present = req.values(&self.key);
        if self.op.base == Base::Null {
            let missing = present.is_none();
            return self
                .values
                .iter()
                .any(|v| matches!(v, Value::Bool(b) if *b == missing));
        }
        let Some(values) = present else {
            return self.op.if_exists
                || match self.op.set {
                    Some(SetOp::ForAllValues) => true,
                    Some(SetOp::ForAnyValue) => false,
                    None => self.op.negated,
                };
        };
        // sat(v): the request value satisfies the operator (negation applied per value).
        let sat = |v: &str| match self.any_value_matches(v, req) {
            Some(m) => m != self.op.negated,
            None => false,
        };
        let mut all = true;
        let mut any = false;
        for i in 0..values.len() {
            let ok = values.get(i).is_some_and(sat);
            all &= ok;
            any |= ok;
        }
        match (self.op.set, self.op.negated) {
            (Some(SetOp::ForAllValues), _) | (None, true) => all,
            (Some(SetOp::ForAnyValue), _) | (None, false) => any,
        }
    }

    /// Whether `v` matches any of the policy's values; `None` if `v` is unreadable for the
    /// operator.
    fn any_value_matches(&self, v: &str, req: &Request<'_>) -> Option<bool> {
        let vars: &dyn Resolve = req;
        Some(match self.op.base {
            Base::String => self.values.iter().any(|c| text(c, v, false, vars)),
            Base::StringIgnoreCase => self.values.iter().any(|c| text(c, v, true, vars)),
            Base::StringLike => self.values.iter().any(|c| text(c, v, false, vars)),
            Base::Arn => self
                .values
                .iter()
                .any(|c| matches!(c, Value::Arn(p) if p.matches(v, vars))),
            Base::Numeric(cmp) => {
                let n: f64 = v.trim().parse().ok().filter(|n: &f64| n.is_finite())?;
                self.values
                    .iter()
                    .any(|c| matches!(c, Value::Number(x) if compare(cmp, n, *x)))
            }
            Base::Date(cmp) => {
                let d = parse_date(v)?;
                self.values
                    .iter()
                    .any(|c| matches!(c, Value::Date(x) if compare(cmp, d, *x)))
            }
            Base::Bool => {
                let b = parse_bool(v)?;
                self.values
                    .iter()
                    .any(|c| matches!(c, Value::Bool(x) if *x == b))
            }
            Base::Binary => {
                let bytes = base64::engine::general_purpose::STANDARD.decode(v).ok()?;
                self.values
                    .iter()
                    .any(|c| matches!(c, Value::Bytes(x) if *x == bytes))
            }
            Base::Ip => {
                let ip: IpAddr = v.trim().parse().ok()?;
                self.values
                    .iter()
                    .any(|c| matches!(c, Value::Net(n) if n.contains(ip)))
            }
            Base::Null => false,
        })
    }
}

fn text(c: &Value, v: &str, fold_case: bool, vars: &dyn Resolve) -> bool {
    matches!(c, Value::Text(p) if p.matches(v, fold_case, vars))
}

fn compare<T: PartialOrd>(cmp: Cmp, request: T, policy: T) -> bool {
    match cmp {
        Cmp::Eq => request == policy,
        Cmp::Lt => request < policy,
        Cmp::Le => request <= policy,
        Cmp::Gt => request > policy,
        Cmp::Ge => request >= policy,
    }
}

fn read_value(base: Base, v: &str, variables: bool) -> Value {
    let syntax = |wildcards| Syntax {
        wildcards,
        variables,
    };
    let parsed = match base {
        Base::String | Base::StringIgnoreCase => {
            Some(Value::Text(Pattern::compile(v, syntax(false))))
        }
        Base::StringLike => Some(Value::Text(Pattern::compile(v, syntax(true)))),
        Base::Arn => Some(Value::Arn(ArnPattern::compile(v, syntax(true)))),
        Base::Numeric(_) => v
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|n| n.is_finite())
            .map(Value::Number),
        Base::Date(_) => parse_date(v).map(Value::Date),
        Base::Bool | Base::Null => parse_bool(v).map(Value::Bool),
        Base::Binary => base64::engine::general_purpose::STANDARD
            .decode(v)
            .ok()
            .map(Value::Bytes),
        Base::Ip => Cidr::parse(v).map(Value::Net),
    };
    parsed.unwrap_or(Value::Invalid)
}

fn parse_bool(v: &str) -> Option<bool> {
    if v.eq_ignore_ascii_case("true") {
        Some(true)
    } else if v.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

/// ISO 8601 (`2019-07-16T12:00:00Z`, with offset or fraction, or a bare date) or epoch
/// seconds, as Unix nanoseconds.
pub(crate) fn parse_date(v: &str) -> Option<i128> {
    let v = v.trim();
    if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
        let secs: i64 = v.parse().ok()?;
        return i128::from(secs).checked_mul(1_000_000_000);
    }
    if let Ok(t) = time::OffsetDateTime::parse(v, &Rfc3339) {
        return Some(t.unix_timestamp_nanos());
    }
    let date_only = time::macros::format_description!("[year]-[month]-[day]");
    if let Ok(d) = time::Date::parse(v, date_only) {
        return Some(d.midnight().assume_utc().unix_timestamp_nanos());
    }
    // `2019-07-16T12:00Z` and `2019-07-16T12:00:00` (no zone: UTC) also appear in the docs.
    let minutes = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]Z");
    let no_zone =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    time::PrimitiveDateTime::parse(v, minutes)
        .or_else(|_| time::PrimitiveDateTime::parse(v, no_zone))
        .ok()
        .map(|t| t.assume_utc().unix_timestamp_nanos())
}

/// An IPv4 or IPv6 network; a bare address is a /32 or /128.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cidr {
    net: IpAddr,
    prefix: u8,
}

impl Cidr {
    pub(crate) fn parse(v: &str) -> Option<Cidr> {
        let v = v.trim();
        let (addr, prefix) = match v.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (v, None),
        };
        let net: IpAddr = addr.parse().ok()?;
        let max = if net.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p.parse::<u8>().ok().filter(|p| *p <= max)?,
            None => max,
        };
        Some(Cidr { net, prefix })
    }

    pub(crate) fn contains(&self, ip: IpAddr) -> bool {
        match (self.net, ip) {
            (IpAddr::V4(n), IpAddr::V4(i)) => prefix_eq(
                u128::from(u32::from(n)),
                u128::from(u32::from(i)),
                self.prefix,
                32,
            ),
            (IpAddr::V6(n), IpAddr::V6(i)) => {
                prefix_eq(u128::from(n), u128::from(i), self.prefix, 128)
            }
            _ => false,
        }
    }
}

fn prefix_eq(a: u128, b: u128, prefix: u8, bits: u32) -> bool {
    let drop = bits.saturating_sub(u32::from(prefix));
    if drop >= bits {
        return true;
    }
    (a >> drop) == (b >> drop)
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn operator_names() {
        assert!(Operator::parse("ForAllValues:StringNotLikeIfExists").is_some());
        assert!(Operator::parse("stringequals").is_some());
        assert!(Operator::parse("StringEqualz").is_none());
        assert!(Operator::parse("NullIfExists").is_none());
        assert!(Operator::parse("IfExists").is_none());
        assert!(Operator::parse("ForAnyValue:").is_none());
    }

    #[test]
    fn cidrs() {
        let c = Cidr::parse("203.0.113.0/24").unwrap();
        assert!(c.contains("203.0.113.9".parse().unwrap()));
        assert!(!c.contains("203.0.114.9".parse().unwrap()));
        let v6 = Cidr::parse("2001:DB8:1234:5678::/64").unwrap();
        assert!(v6.contains("2001:db8:1234:5678::1".parse().unwrap()));
        assert!(!v6.contains("2001:db8:1234:5679::1".parse().unwrap()));
        assert!(Cidr::parse("0.0.0.0/0")
            .unwrap()
            .contains("8.8.8.8".parse().unwrap()));
        assert!(Cidr::parse("10.0.0.0/33").is_none());
    }

    #[test]
    fn dates() {
        let a = parse_date("2019-07-16T12:00:00Z").unwrap();
        assert_eq!(parse_date("1563278400"), Some(a));
        assert_eq!(parse_date("2019-07-16T13:00:00+01:00"), Some(a));
        assert!(parse_date("2019-07-16").unwrap() < a);
        assert!(parse_date("yesterday").is_none());
    }
}
