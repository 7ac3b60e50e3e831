//! The query protocol's request: an `application/x-www-form-urlencoded` body (or query
//! string) of `Name=value` pairs, lists flattened as `Name.member.N` and structures in lists
//! as `Name.member.N.Field`. Bounded: the body, the number of pairs and every member index.

use super::error::IamApiError;
use std::collections::HashMap;

/// The largest body the IAM API reads (the edge caps bodies at this size too).
pub const MAX_BODY: usize = 1024 * 1024;
/// The most members one flattened list may hold, and the highest index it may use.
pub const MAX_MEMBERS: usize = 1000;
/// The most parameters one request may carry: a full list of structures with a few fields.
const MAX_PARAMS: usize = 10 * MAX_MEMBERS;

/// A request's parameters, decoded.
#[derive(Debug, Default)]
pub struct Query {
    params: HashMap<String, String>,
}

/// Decodes one `application/x-www-form-urlencoded` component: `+` is a space, then
/// percent-decoding; invalid UTF-8 becomes U+FFFD.
pub fn form_decode(s: &str) -> String {
    let s = s.replace('+', " ");
    percent_encoding::percent_decode_str(&s)
        .decode_utf8_lossy()
        .into_owned()
}

impl Query {
    /// Parses a form body; a later duplicate of a name replaces the earlier one.
    pub fn parse(body: &[u8]) -> Result<Query, IamApiError> {
        if body.len() > MAX_BODY {
            return Err(IamApiError::validation(format!(
                "Request body must be at most {MAX_BODY} bytes"
            )));
        }
        let text = String::from_utf8_lossy(body);
        let mut params = HashMap::new();
        for pair in text.split('&').filter(|p| !p.is_empty()) {
            if params.len() >= MAX_PARAMS {
                return Err(IamApiError::validation(format!(
                    "A request may carry at most {MAX_PARAMS} parameters"
                )));
            }
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            params.insert(form_decode(k), form_decode(v));
        }
        Ok(Query { params })
    }

    /// The value of `name`; an empty value counts as given (AWS then validates its length).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.params.get(name).map(String::as_str)
    }

    /// `name`, which the operation requires; `member` is AWS's camelCase name for messages.
    pub fn required(&self, name: &str) -> Result<&str, IamApiError> {
        self.get(name).ok_or_else(|| {
            IamApiError::validation(format!(
                "1 validation error detected: Value null at '{}' failed to satisfy constraint: \
                 Member must not be null",
                camel(name)
            ))
        })
    }

    /// A boolean parameter (`true`/`false`, as botocore sends them).
    pub fn flag(&self, name: &str) -> Result<Option<bool>, IamApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(v) if v.eq_ignore_ascii_case("true") => Ok(Some(true)),
            Some(v) if v.eq_ignore_ascii_case("false") => Ok(Some(false)),
            Some(v) => Err(IamApiError::validation(format!(
                "Invalid boolean value '{v}' for {name}"
            ))),
        }
    }

    /// An integer parameter within `min..=max`.
    pub fn number(&self, name: &str, min: i64, max: i64) -> Result<Option<i64>, IamApiError> {
        let Some(v) = self.get(name) else {
            return Ok(None);
        };
        let n: i64 = v.trim().parse().map_err(|_| {
            IamApiError::validation(format!("Invalid integer value '{v}' for {name}"))
        })?;
        if n < min {
            return Err(IamApiError::validation(format!(
                "1 validation error detected: Value '{n}' at '{}' failed to satisfy constraint: \
                 Member must have value greater than or equal to {min}",
                camel(name)
            )));
        }
        if n > max {
            return Err(IamApiError::validation(format!(
                "1 validation error detected: Value '{n}' at '{}' failed to satisfy constraint: \
                 Member must have value less than or equal to {max}",
                camel(name)
            )));
        }
        Ok(Some(n))
    }

    /// The flattened list `name.member.N` (N from 1), in index order.
    pub fn list(&self, name: &str) -> Result<Vec<String>, IamApiError> {
        let prefix = format!("{name}.member.");
        let mut items = Vec::new();
        for (k, v) in &self.params {
            if let Some(index) = k.strip_prefix(&prefix) {
                if index.contains('.') {
                    continue;
                }
                items.push((member_index(name, index)?, v.clone()));
            }
        }
        Ok(sorted(items))
    }

    /// The flattened list of structures `name.member.N.Field`: for each N (in order), a
    /// lookup of its fields.
    pub fn structs(&self, name: &str) -> Result<Vec<Member<'_>>, IamApiError> {
        let prefix = format!("{name}.member.");
        let mut members: HashMap<usize, Member<'_>> = HashMap::new();
        for (k, v) in &self.params {
            let Some(rest) = k.strip_prefix(&prefix) else {
                continue;
            };
            let Some((index, field)) = rest.split_once('.') else {
                continue;
            };
            let n = member_index(name, index)?;
            members
                .entry(n)
                .or_insert_with(|| Member {
                    prefix: format!("{prefix}{n}."),
                    query: self,
                    fields: Vec::new(),
                })
                .fields
                .push((field.to_string(), v.as_str()));
        }
        let mut out: Vec<(usize, Member<'_>)> = members.into_iter().collect();
        out.sort_by_key(|(n, _)| *n);
        Ok(out.into_iter().map(|(_, m)| m).collect())
    }

    /// `Tags.member.N.Key` / `.Value`.
    pub fn tags(&self) -> Result<Vec<lambent_store::iam::Tag>, IamApiError> {
        self.structs("Tags")?
            .iter()
            .map(|m| {
                let key = m.field("Key").ok_or_else(|| {
                    IamApiError::validation("1 validation error detected: Value null at 'tags.member.key' failed to satisfy constraint: Member must not be null".to_string())
                })?;
                let value = m.field("Value").unwrap_or("");
                super::validate::tag(key, value)?;
                Ok(lambent_store::iam::Tag::new(key, value))
            })
            .collect()
    }

    /// `Marker` and `MaxItems` (1..1000).
    pub fn paging(&self) -> Result<lambent_store::iam::Paging, IamApiError> {
        let max_items = self.number("MaxItems", 1, MAX_MEMBERS as i64)?;
        let marker =
            match self.get("Marker") {
                None => None,
                Some(m) if m.is_empty() || m.len() > 320 => return Err(IamApiError::validation(
                    "1 validation error detected: Value at 'marker' failed to satisfy constraint: \
                     Member must have length between 1 and 320"
                        .to_string(),
                )),
                Some(m) => Some(super::xml::decode_marker(m)),
            };
        Ok(lambent_store::iam::Paging {
            marker,
            max_items: max_items.map(|n| n as u32),
        })
    }
}

/// One structure of a flattened list.
#[derive(Debug)]
pub struct Member<'a> {
    prefix: String,
    query: &'a Query,
    fields: Vec<(String, &'a str)>,
}

impl<'a> Member<'a> {
    pub fn field(&self, name: &str) -> Option<&'a str> {
        self.fields.iter().find(|(f, _)| f == name).map(|(_, v)| *v)
    }

    /// A list nested in this member (`Name.member.N.Field.member.M`).
    pub fn list(&self, field: &str) -> Result<Vec<String>, IamApiError> {
        self.query.list(&format!("{}{field}", self.prefix))
    }
}

fn member_index(name: &str, index: &str) -> Result<usize, IamApiError> {
    match index.parse::<usize>() {
        Ok(n) if (1..=MAX_MEMBERS).contains(&n) => Ok(n),
        _ => Err(IamApiError::validation(format!(
            "{name}.member.{index}: a member index must be between 1 and {MAX_MEMBERS}"
        ))),
    }
}

fn sorted(mut items: Vec<(usize, String)>) -> Vec<String> {
    items.sort_by_key(|(n, _)| *n);
    items.into_iter().map(|(_, v)| v).collect()
}

/// AWS's member name in validation messages: `UserName` → `userName`.
pub fn camel(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(c) => c.to_ascii_lowercase().to_string() + chars.as_str(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plus_is_a_space_and_percent_escapes_decode() {
        let q =
            Query::parse(b"Action=CreateUser&PolicyDocument=%7B%22a%22%3A+%22b+c%22%7D&X=a%2Bb")
                .unwrap();
        assert_eq!(q.get("Action"), Some("CreateUser"));
        assert_eq!(q.get("PolicyDocument"), Some(r#"{"a": "b c"}"#));
        assert_eq!(q.get("X"), Some("a+b"));
        assert_eq!(q.get("Missing"), None);
    }

    #[test]
    fn flattened_lists_come_in_index_order() {
        let q = Query::parse(
            b"PolicyArns.member.10.arn=x&ActionNames.member.2=s3%3AGetObject&ActionNames.member.10=c&ActionNames.member.1=iam%3AListUsers",
        )
        .unwrap();
        assert_eq!(
            q.list("ActionNames").unwrap(),
            vec!["iam:ListUsers", "s3:GetObject", "c"]
        );
        assert!(q.list("ResourceArns").unwrap().is_empty());
    }

    #[test]
    fn tags_are_structures_of_a_list() {
        let q = Query::parse(
            b"Tags.member.2.Key=b&Tags.member.2.Value=&Tags.member.1.Key=a&Tags.member.1.Value=x+y",
        )
        .unwrap();
        let tags = q.tags().unwrap();
        assert_eq!(tags.len(), 2);
        assert_eq!((tags[0].key.as_str(), tags[0].value.as_str()), ("a", "x y"));
        assert_eq!((tags[1].key.as_str(), tags[1].value.as_str()), ("b", ""));
    }

    #[test]
    fn nested_lists_in_structures() {
        let q = Query::parse(
            b"ContextEntries.member.1.ContextKeyName=aws%3ASourceIp&ContextEntries.member.1.ContextKeyValues.member.1=10.0.0.1&ContextEntries.member.1.ContextKeyType=ip",
        )
        .unwrap();
        let entries = q.structs("ContextEntries").unwrap();
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].field("ContextKeyName"), Some("aws:SourceIp"));
        assert_eq!(
            entries[0].list("ContextKeyValues").unwrap(),
            vec!["10.0.0.1"]
        );
    }

    #[test]
    fn bounds_are_refused_as_validation_errors() {
        for body in [
            &b"ActionNames.member.0=a"[..],
            b"ActionNames.member.1001=a",
            b"ActionNames.member.x=a",
            b"ActionNames.member.99999999999999999999999=a",
        ] {
            let q = Query::parse(body).unwrap();
            assert_eq!(q.list("ActionNames").unwrap_err().code, "ValidationError");
        }
        let big = vec![b'a'; MAX_BODY + 1];
        assert_eq!(Query::parse(&big).unwrap_err().code, "ValidationError");
        let many: String = (0..MAX_PARAMS + 1).map(|i| format!("K{i}=v&")).collect();
        assert!(Query::parse(many.as_bytes()).is_err());
        let q = Query::parse(b"MaxItems=0").unwrap();
        assert!(q.paging().is_err());
        let q = Query::parse(b"MaxItems=1001").unwrap();
        assert!(q.paging().is_err());
        let q = Query::parse(b"MaxItems=ten").unwrap();
        assert!(q.paging().is_err());
    }

    #[test]
    fn malformed_escapes_never_fail() {
        let q = Query::parse(b"A=%&B=%zz&C=%FF&=x&D").unwrap();
        assert_eq!(q.get("A"), Some("%"));
        assert_eq!(q.get("B"), Some("%zz"));
        assert_eq!(q.get("C"), Some("\u{FFFD}"));
        assert_eq!(q.get("D"), Some(""));
    }
}
