//! CloudWatch Logs filter patterns (FilterLogEvents, metric filters): parsed once into a
//! [`FilterPattern`], then matched against log event messages.
//!
//! The first character picks the kind, as in AWS: `{` a JSON pattern, `[` a space-delimited
//! one, `%` a regular expression, anything else terms. Matching is case-sensitive; an empty
//! pattern (or `""`, or `" "`) matches every event.
//!
//! - Terms: `ERROR Exception` (all must appear, as substrings), `"exact phrase"`, `?ERROR ?WARN`
//!   (any), `-DEBUG` (none may appear). lambent also accepts bare terms with punctuation
//!   (`s0-ab12`, `id:7`) that AWS wants quoted: they mean the same substring.
//! - JSON: `{ $.a.b[0] = "x" && ($.n > 10 || $.f IS TRUE) }`, strings with `*` wildcards,
//!   numbers, `IS NULL`, `IS TRUE`, `IS FALSE`, `EXISTS`, `NOT EXISTS`, `%regex%` values;
//!   a message that is not JSON never matches.
//! - Space-delimited: `[ip, user, ..., status = 4* && status != 403, bytes > 1000]`; text in
//!   `"..."` or `[...]` is one field; `...` absorbs any number of fields.
//! - Regex: `%ERROR|WARN%` (the subset of `regex.rs`).

use super::delimited::{self, Delimited};
use super::expr::{self, Expr, Seg};
use super::regex::Regex;
use serde_json::Value;

/// Why a pattern was refused; the API answers every one of them with AWS's
/// `InvalidParameterException` "Invalid filter pattern".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatternError {
    #[error("unterminated quoted text")]
    UnterminatedQuote,
    #[error("unterminated `{0}`")]
    Unterminated(char),
    #[error("unexpected `{0}`")]
    Unexpected(String),
    #[error("unexpected end of pattern")]
    UnexpectedEnd,
    #[error("`{0}` compares numbers only")]
    NeedsNumber(String),
    #[error("invalid regular expression: {0}")]
    Regex(String),
    #[error("invalid metric value `{0}`")]
    MetricValue(String),
}

/// A parsed filter pattern.
#[derive(Debug, Clone)]
pub struct FilterPattern {
    kind: Kind,
}

#[derive(Debug, Clone)]
enum Kind {
    Everything,
    Terms {
        all: Vec<String>,
        any: Vec<String>,
        none: Vec<String>,
    },
    Regex(Regex),
    Json(Expr),
    Delimited(Delimited),
}

impl FilterPattern {
    pub fn parse(pattern: &str) -> Result<FilterPattern, PatternError> {
        let trimmed = pattern.trim();
        let kind = match trimmed.chars().next() {
            None => Kind::Everything,
            Some('{') => {
                let body = trimmed
                    .strip_suffix('}')
                    .ok_or(PatternError::Unterminated('{'))?;
                Kind::Json(expr::parse_expr(&expr::lex(&body[1..])?, false)?)
            }
            Some('[') => {
                let body = trimmed
                    .strip_suffix(']')
                    .ok_or(PatternError::Unterminated('['))?;
                Kind::Delimited(delimited::parse(&body[1..])?)
            }
            Some('%') => {
                let body = trimmed
                    .strip_suffix('%')
                    .filter(|b| b.len() > 1)
                    .ok_or(PatternError::Unterminated('%'))?;
                Kind::Regex(Regex::parse(&body[1..])?)
            }
            Some(_) => parse_terms(trimmed)?,
        };
        Ok(FilterPattern { kind })
    }

    /// Whether AWS would match `message` with this pattern.
    pub fn matches(&self, message: &str) -> bool {
        match &self.kind {
            Kind::Everything => true,
            Kind::Terms { all, any, none } => {
                all.iter().all(|t| message.contains(t.as_str()))
                    && (any.is_empty() || any.iter().any(|t| message.contains(t.as_str())))
                    && !none.iter().any(|t| message.contains(t.as_str()))
            }
            Kind::Regex(re) => re.is_match(message),
            Kind::Json(expr) => json_document(message).is_some_and(|doc| expr.json(&doc)),
            Kind::Delimited(d) => d.bind(message).is_some(),
        }
    }

    /// For TestMetricFilter: `None` when `message` does not match, else the values a
    /// space-delimited pattern extracts (`$name`, or `$3` for unnamed fields); other kinds
    /// extract nothing.
    pub fn extract(&self, message: &str) -> Option<Vec<(String, String)>> {
        match &self.kind {
            Kind::Delimited(d) => {
                let (tokens, names) = d.bind(message)?;
                Some(
                    tokens
                        .iter()
                        .zip(names)
                        .enumerate()
                        .map(|(i, (value, name))| match name {
                            Some(n) => (format!("${n}"), value.to_string()),
                            None => (format!("${}", i + 1), value.to_string()),
                        })
                        .collect(),
                )
            }
            _ => self.matches(message).then(Vec::new),
        }
    }

    /// Whether this pattern can only match JSON messages.
    pub fn is_json(&self) -> bool {
        matches!(self.kind, Kind::Json(_))
    }
}

/// The parsed message, when it is a JSON document (objects and arrays only).
fn json_document(message: &str) -> Option<Value> {
    let m = message.trim();
    if !(m.starts_with('{') || m.starts_with('[')) {
        return None;
    }
    serde_json::from_str(m).ok()
}

// ---------------------------------------------------------------------------------- terms

fn parse_terms(pattern: &str) -> Result<Kind, PatternError> {
    let (mut all, mut any, mut none) = (Vec::new(), Vec::new(), Vec::new());
    let mut quoted_only = true;
    let mut chars = pattern.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let Some(&c) = chars.peek() else { break };
        let list = match c {
            '?' => {
                chars.next();
                &mut any
            }
            '-' => {
                chars.next();
                &mut none
            }
            _ => &mut all,
        };
        // AWS's older examples write `"ERROR" - "Exiting"`: the sign may stand apart.
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let term = match chars.peek() {
            None => return Err(PatternError::UnexpectedEnd),
            Some('"') => {
                chars.next();
                expr::quoted(&mut chars)?
            }
            Some(_) => {
                quoted_only = false;
                let mut t = String::new();
                while let Some(c) = chars.next_if(|c| !c.is_whitespace() && *c != '"') {
                    t.push(c);
                }
                t
            }
        };
        list.push(term);
    }
    // `""` and `" "` are AWS's ways of writing "every event".
    if quoted_only && any.is_empty() && none.is_empty() && all.iter().all(|t| t.trim().is_empty()) {
        return Ok(Kind::Everything);
    }
    Ok(Kind::Terms { all, any, none })
}

// --------------------------------------------------------------------------- metric value

/// A metric transformation's `metricValue`: a number added per matching event, a JSON
/// selector (`$.latency`) or a space-delimited field (`$bytes`, `$3`) whose number is added.
#[derive(Debug, Clone)]
pub struct MetricValue(Source);

#[derive(Debug, Clone)]
enum Source {
    Literal(f64),
    Json(Vec<Seg>),
    Field(String),
}

impl MetricValue {
    pub fn parse(s: &str) -> Result<MetricValue, PatternError> {
        let bad = || PatternError::MetricValue(s.to_string());
        if let Some(n) = expr::number(s) {
            return Ok(MetricValue(Source::Literal(n)));
        }
        let rest = s.strip_prefix('$').ok_or_else(bad)?;
        if rest.starts_with(['.', '[']) {
            let mut chars = rest.chars().peekable();
            let path = expr::selector(&mut chars).map_err(|_| bad())?;
            if chars.next().is_some() || path.is_empty() {
                return Err(bad());
            }
            return Ok(MetricValue(Source::Json(path)));
        }
        if rest.is_empty() || rest.chars().any(expr::is_delimiter) {
            return Err(bad());
        }
        Ok(MetricValue(Source::Field(rest.to_string())))
    }

    /// What one event adds to the metric: `None` when `pattern` does not match it or the
    /// value it names is not a number.
    pub fn of(&self, pattern: &FilterPattern, message: &str) -> Option<f64> {
        match &self.0 {
            Source::Literal(n) => pattern.matches(message).then_some(*n),
            Source::Json(path) => {
                let doc = json_document(message)?;
                let hit = match &pattern.kind {
                    Kind::Json(expr) => expr.json(&doc),
                    _ => pattern.matches(message),
                };
                if !hit {
                    return None;
                }
                match expr::resolve(&doc, path)? {
                    Value::Number(n) => n.as_f64(),
                    Value::String(s) => expr::number(s),
                    _ => None,
                }
            }
            Source::Field(name) => {
                let key = format!("${name}");
                let values = pattern.extract(message)?;
                let (_, v) = values.iter().find(|(k, _)| *k == key)?;
                expr::number(v)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(cases: &[(&str, &str, bool)]) {
        for (pattern, message, want) in cases {
            let p = FilterPattern::parse(pattern).unwrap_or_else(|e| panic!("{pattern}: {e}"));
            assert_eq!(p.matches(message), *want, "{pattern} on {message:?}");
        }
    }

    /// "Using filter patterns to match terms in unstructured log events".
    #[test]
    fn unstructured_terms() {
        check(&[
            ("ERROR", "[ERROR] A fatal exception has occurred", true),
            ("ERROR", "Exiting with ERRORCODE: -1", true),
            ("ERROR", "error: lowercase", false),
            (
                "\"ERROR\" -\"Exiting\"",
                "Exiting with ERRORCODE: -1",
                false,
            ),
            (
                "\"ERROR\" - \"Exiting\"",
                "Exiting with ERRORCODE: -1",
                false,
            ),
            (
                "\"ERROR\" -\"Exiting\"",
                "[ERROR] A fatal exception has occurred",
                true,
            ),
            (
                "ERROR Exception",
                "[ERROR] Caught IllegalArgumentException",
                true,
            ),
            ("ERROR Exception", "[ERROR] Unhandled Exception", true),
            ("ERROR Exception", "Exception in ERROR path", true),
            ("ERROR Exception", "[ERROR] only", false),
            (
                "Failed to process the request",
                "[WARN] Failed to process the request",
                true,
            ),
            (
                "Failed to process the request",
                "[ERROR] Unable to continue: Failed to process the request",
                true,
            ),
            (
                "Failed to process the request",
                "the request to process Failed",
                true,
            ),
            (
                "\"Failed to process\"",
                "Failed to process the request",
                true,
            ),
            (
                "\"Failed to process\"",
                "Failed to  process the request",
                false,
            ),
            ("\"[ERROR]\"", "[ERROR] boom", true),
            // The three events of the OR example: `ERROR WARN message`, `ERROR message`,
            // `WARN message`.
            ("ERROR", "ERROR WARN message", true),
            ("ERROR", "ERROR message", true),
            ("ERROR", "WARN message", false),
            ("?ERROR ?WARN", "ERROR WARN message", true),
            ("?ERROR ?WARN", "ERROR message", true),
            ("?ERROR ?WARN", "WARN message", true),
            ("?ERROR ?WARN", "INFO message", false),
            ("ERROR WARN", "ERROR WARN message", true),
            ("ERROR WARN", "ERROR message", false),
            ("ERROR -WARN", "ERROR WARN message", false),
            ("ERROR -WARN", "ERROR message", true),
            ("ERROR -WARN", "WARN message", false),
            ("-DEBUG", "INFO x", true),
            ("-DEBUG", "DEBUG x", false),
            ("s0-ab12", "marker s0-ab12 here", true),
            // Match-everything spellings.
            ("", "anything", true),
            ("  ", "anything", true),
            ("\"\"", "anything", true),
            ("\" \"", "nospace", true),
        ]);
    }

    /// The JSON event and patterns of "Using filter patterns to match terms in JSON log
    /// events" (all of them match it).
    #[test]
    fn json_selectors_and_special_values() {
        let event = r#"{
          "eventType": "UpdateTrail",
          "sourceIPAddress": "111.111.111.111",
          "arrayKey": ["value", "another value"],
          "objectList": [{"name": "a", "id": 1}, {"name": "b", "id": 2}],
          "SomeObject": null,
          "ThisFlag": true
        }"#;
        let flat = event.replace('\n', " ");
        let cases = [
            ("{ $.eventType = \"UpdateTrail\" }", true),
            ("{ $.eventType = UpdateTrail }", true),
            ("{$.eventType=\"UpdateTrail\"}", true),
            ("{ $.eventType = \"updatetrail\" }", false),
            ("{ $.eventType != \"UpdateTrail\" }", false),
            ("{ $.sourceIPAddress != 123.123.* }", true),
            ("{ $.sourceIPAddress = 111.111.* }", true),
            ("{ $.eventType = *Trail }", true),
            ("{ $.eventType = Update* }", true),
            ("{ $.eventType = *date* }", true),
            ("{ $.eventType = * }", true),
            ("{ $.missing = * }", false),
            ("{ $.eventType = \"*\" }", true),
            ("{ $.arrayKey[0] = \"value\" }", true),
            ("{ $.arrayKey[1] = \"another value\" }", true),
            ("{ $.arrayKey[2] = \"value\" }", false),
            ("{ $.eventType[0] = \"value\" }", false),
            ("{ $.objectList[1].id = 2 }", true),
            ("{ $.objectList[1].id = 1 }", false),
            ("{ $.objectList[0].name = a }", true),
            ("{ $.SomeObject IS NULL }", true),
            ("{ $.eventType IS NULL }", false),
            ("{ $.missing IS NULL }", false),
            ("{ $.SomeOtherObject NOT EXISTS }", true),
            ("{ $.SomeObject NOT EXISTS }", false),
            ("{ $.eventType EXISTS }", true),
            ("{ $.nothing EXISTS }", false),
            ("{ $.ThisFlag IS TRUE }", true),
            ("{ $.ThisFlag IS FALSE }", false),
            ("{ $.ThisFlag is true }", true),
            // A selector that stops at an array or object matches neither `=` nor `!=`.
            ("{ $.arrayKey = \"value\" }", false),
            ("{ $.arrayKey != \"value\" }", false),
            ("{ $.eventType = %Update.*% }", true),
            ("{ $.eventType = %^Trail% }", false),
        ];
        for (pattern, want) in cases {
            let p = FilterPattern::parse(pattern).unwrap_or_else(|e| panic!("{pattern}: {e}"));
            assert_eq!(p.matches(event), want, "{pattern}");
            assert_eq!(p.matches(&flat), want, "{pattern} (one line)");
        }
        let p = FilterPattern::parse("{ $.eventType = UpdateTrail }").unwrap();
        assert!(!p.matches("eventType = UpdateTrail (not JSON)"));
        assert!(!p.matches("{broken json"));
    }

    /// "JSON compound conditions" and the OR example `{"foo": "bar"}` / `{"foo": "baz"}`.
    #[test]
    fn json_compound_conditions() {
        let event = r#"{"user": {"id": 1, "email": "John.Stiles@example.com"},
            "users": [{"id": 2, "email": "John.Doe@example.com"}, {"id": 3, "email": "Jane.Doe@example.com"}],
            "actions": ["GET", "PUT", "DELETE"],
            "coordinates": [[0, 1, 2], [4, 5, 6], [7, 8, 9]]}"#;
        check(&[
            ("{ ($.user.id = 1) && ($.users[0].email = \"John.Doe@example.com\") }", event, true),
            ("{ ($.user.id = 2 && $.users[0].email = \"nonmatch\") || $.actions[2] = \"GET\" }", event, false),
            ("{ $.user.email = \"John.Stiles@example.com\" || $.coordinates[0][1] = nonmatch && $.actions[2] = nomatch }", event, true),
            ("{ ($.user.email = \"John.Stiles@example.com\" || $.coordinates[0][1] = nonmatch) && $.actions[2] = nomatch }", event, false),
            ("{ $.coordinates[1][2] = 6 }", event, true),
            ("{ $.foo = bar }", r#"{"foo": "bar"}"#, true),
            ("{ $.foo = bar }", r#"{"foo": "baz"}"#, false),
            ("{ $.foo = baz }", r#"{"foo": "baz"}"#, true),
            ("{ $.foo = bar || $.foo = baz }", r#"{"foo": "bar"}"#, true),
            ("{ $.foo = bar || $.foo = baz }", r#"{"foo": "baz"}"#, true),
            ("{ $.foo = bar || $.foo = baz }", r#"{"foo": "qux"}"#, false),
            ("{ $.a.b = \"x\" && $.c != 1 }", r#"{"a": {"b": "x"}, "c": 2}"#, true),
            ("{ $.a.b = \"x\" && $.c != 1 }", r#"{"a": {"b": "x"}, "c": 1}"#, false),
        ]);
    }

    /// "Numeric comparisons": `<, >, >=, <=, =, !=` against integers, decimals and
    /// scientific notation.
    #[test]
    fn json_numeric_comparisons() {
        let event = r#"{"latency": 500, "numbers": [0.009, 2], "processes": [0,0,0,0,{"averageRuntime": 55.5}],
                        "errorCode": 400, "code": "400", "name": "x"}"#;
        check(&[
            ("{ $.latency >= 500 }", event, true),
            ("{ $.latency > 500 }", event, false),
            ("{ $.latency > 100 }", event, true),
            ("{ $.latency < 1000 }", event, true),
            ("{ $.latency <= 499 }", event, false),
            ("{ $.numbers[0] < 10e3 }", event, true),
            ("{ $.numbers[0] < 10e-3 }", event, true),
            ("{ $.numbers[1] < 10e-3 }", event, false),
            ("{ $.processes[4].averageRuntime <= 55.5 }", event, true),
            ("{ $.processes[4].averageRuntime < 55.5 }", event, false),
            ("{ $.errorCode = 400 }", event, true),
            ("{ $.errorCode != 500 }", event, true),
            ("{ $.errorCode != 400 }", event, false),
            ("{ $.latency > +100 }", event, true),
            ("{ $.latency > -1 }", event, true),
            ("{ $.latency = 500.0 }", event, true),
            // A string is not a number, and a missing field compares false both ways.
            ("{ $.name > 1 }", event, false),
            ("{ $.missing != 1 }", event, false),
            ("{ $.code = \"400\" }", event, true),
        ]);
    }

    /// "Using filter patterns to match terms in space-delimited log events".
    #[test]
    fn space_delimited() {
        let e1 = r#"127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /apache_pb.gif HTTP/1.0" 200 1534"#;
        let e2 = r#"127.0.0.1 - frank [10/Oct/2000:13:35:22 -0700] "GET /apache_pb.gif HTTP/1.0" 500 5324"#;
        let e3 =
            r#"127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /a.html HTTP/1.0" 404 1534"#;
        check(&[
            ("[ip, user, username, timestamp, request, status_code, bytes]", e1, true),
            ("[ip, user, username, timestamp, request, status_code]", e1, false),
            ("[..., status_code, bytes]", e1, true),
            ("[ip, user, ..., status_code, bytes]", e1, true),
            ("[ip, user, ...]", e1, true),
            ("[ip, user, username, timestamp, request, status_code, bytes > 1000]", e1, true),
            ("[ip, user, username, timestamp, request, status_code, bytes > 2000]", e1, false),
            ("[ip, user, username, timestamp, request, status_code = 200, bytes]", e1, true),
            ("[ip, user, username, timestamp, request, status_code = 200, bytes]", e2, false),
            ("[ip, user, username, timestamp, request, status_code = 4*, bytes]", e3, true),
            ("[ip, user, username, timestamp, request, status_code = 4*, bytes]", e1, false),
            ("[ip, user, username, timestamp, request = *html*, status_code = 4*, bytes]", e3, true),
            ("[ip, user, username, timestamp, request = *html*, status_code = 4*, bytes]", e1, false),
            ("[ip, user, username, timestamp, request, status_code = 4* && status_code != 403, bytes]", e3, true),
            ("[ip, user, username, timestamp, request, status_code = 5* || status_code = 4*, bytes]", e2, true),
            ("[ip, user, ..., status_code = 4* && status_code != 404, bytes > 1000]", e3, false),
            ("[w1 = ERROR, w2]", "ERROR message", true),
            ("[w1 = ERROR || w1 = WARN, w2]", "WARN message", true),
            ("[w1 = ERROR || w1 = WARN, w2]", "ERROR WARN message", false),
            ("[w1 = ERROR || w1 = WARN, ...]", "ERROR WARN message", true),
            ("[w1 = %ERR.*%, w2]", "ERROR message", true),
        ]);
        let p = FilterPattern::parse("[..., request = *.html*, status_code = 4*,]").unwrap();
        let got = p.extract(e3).unwrap();
        let get = |k: &str| got.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("$request"), Some("GET /a.html HTTP/1.0"));
        assert_eq!(get("$status_code"), Some("404"));
        assert_eq!(get("$4"), Some("10/Oct/2000:13:25:15 -0700"));
        assert_eq!(get("$1"), Some("127.0.0.1"));
        assert_eq!(get("$7"), Some("1534"));
        assert!(p.extract(e1).is_none());
    }

    #[test]
    fn regex_patterns() {
        check(&[
            ("%ERROR|WARN%", "a WARN b", true),
            ("%ERROR|WARN%", "a INFO b", false),
            ("%^\\[INFO\\]%", "[INFO] up", true),
            ("%colou?r%", "color", true),
        ]);
    }

    #[test]
    fn refuses_malformed_patterns() {
        for p in [
            "\"unterminated",
            "{ $.a = }",
            "{ $.a > abc }",
            "{ $.a = 1",
            "{ a = 1 }",
            "{ $.a = 1 && }",
            "{ ($.a = 1 }",
            "{ $.a IS MAYBE }",
            "{ $.a & $.b }",
            "[a, b",
            "[a = ]",
            "%(a|b)%",
            "%abc",
            "?",
        ] {
            assert!(FilterPattern::parse(p).is_err(), "{p} should be refused");
        }
    }

    #[test]
    fn metric_values() {
        let json = FilterPattern::parse("{ $.latency = * }").unwrap();
        let v = MetricValue::parse("$.latency").unwrap();
        assert_eq!(v.of(&json, r#"{"latency": 12.5}"#), Some(12.5));
        assert_eq!(v.of(&json, r#"{"other": 1}"#), None);
        let one = MetricValue::parse("1").unwrap();
        let terms = FilterPattern::parse("ERROR").unwrap();
        assert_eq!(one.of(&terms, "ERROR x"), Some(1.0));
        assert_eq!(one.of(&terms, "INFO x"), None);
        let delimited = FilterPattern::parse("[ip, , bytes]").unwrap();
        let bytes = MetricValue::parse("$bytes").unwrap();
        assert_eq!(bytes.of(&delimited, "1.2.3.4 200 512"), Some(512.0));
        assert_eq!(
            MetricValue::parse("$2")
                .unwrap()
                .of(&delimited, "1.2.3.4 200 512"),
            Some(200.0)
        );
        for bad in ["", "abc", "$", "$.", "$.a b"] {
            assert!(MetricValue::parse(bad).is_err(), "{bad}");
        }
    }
}
