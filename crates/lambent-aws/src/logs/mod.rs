//! CloudWatch Logs' vocabulary that needs no I/O: the filter-pattern language
//! (`filter.rs`, with the condition language of JSON and space-delimited patterns in
//! `expr.rs` and `delimited.rs`, and the regular-expression subset AWS allows in `regex.rs`), the API's
//! request shapes (`model.rs`), errors (`error.rs`), paging tokens (`token.rs`), PutLogEvents'
//! batch rules (`batch.rs`), the names AWS accepts and the
//! retention periods it offers.

pub mod batch;
mod delimited;
pub mod error;
mod expr;
pub mod filter;
pub mod model;
mod regex;
pub mod token;

pub use error::LogsError;
pub use filter::{FilterPattern, MetricValue, PatternError};

/// The `retentionInDays` values PutRetentionPolicy accepts (botocore's `Days` enum).
pub const RETENTION_DAYS: [u32; 22] = [
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

/// Longest log group, log stream and metric filter name.
pub const MAX_NAME: usize = 512;

/// The Coral validation message for a value outside `RETENTION_DAYS`.
pub fn retention_error(days: i64) -> Option<String> {
    if u32::try_from(days).is_ok_and(|d| RETENTION_DAYS.contains(&d)) {
        return None;
    }
    let set: Vec<String> = RETENTION_DAYS.iter().map(|d| d.to_string()).collect();
    Some(format!(
        "1 validation error detected: Value '{days}' at 'retentionInDays' failed to satisfy \
         constraint: Member must satisfy enum value set: [{}]",
        set.join(", ")
    ))
}

/// Checks a log group name (`[\.\-_/#A-Za-z0-9]+`, 1..512) with AWS's messages.
pub fn group_name_error(name: &str) -> Option<String> {
    if name.len() > MAX_NAME {
        return Some(
            "Invalid LogGroup or LogStream, both must have length less than or equal to 512."
                .into(),
        );
    }
    if name.is_empty() {
        return Some(
            "1 validation error detected: Value '' at 'logGroupName' failed to satisfy \
             constraint: Member must have length greater than or equal to 1"
                .into(),
        );
    }
    let valid = name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"._-/#".contains(&b));
    (!valid).then(|| {
        format!(
            "1 validation error detected: Value '{name}' at 'logGroupName' failed to satisfy \
             constraint: Member must satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+"
        )
    })
}

/// Checks a log stream or metric filter name (`[^:*]*`, 1..512); `member` names the field.
pub fn plain_name_error(name: &str, member: &str) -> Option<String> {
    if name.len() > MAX_NAME {
        return Some(if member == "logStreamName" {
            "Invalid LogGroup or LogStream, both must have length less than or equal to 512.".into()
        } else {
            format!(
                "1 validation error detected: Value '{name}' at '{member}' failed to satisfy \
                 constraint: Member must have length less than or equal to 512"
            )
        });
    }
    if name.is_empty() {
        return Some(format!(
            "1 validation error detected: Value '' at '{member}' failed to satisfy constraint: \
             Member must have length greater than or equal to 1"
        ));
    }
    name.contains([':', '*']).then(|| {
        format!(
            "1 validation error detected: Value '{name}' at '{member}' failed to satisfy \
             constraint: Member must satisfy regular expression pattern: [^:*]*"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_retention() {
        assert!(group_name_error("/aws/lambda/my-fn_1.x#2").is_none());
        assert!(group_name_error("has space").is_some());
        assert!(group_name_error(&"a".repeat(513))
            .unwrap()
            .starts_with("Invalid LogGroup or LogStream"));
        assert!(plain_name_error("2024/01/01/[$LATEST]ab", "logStreamName").is_none());
        assert!(plain_name_error("a:b", "logStreamName").is_some());
        assert!(retention_error(7).is_none());
        assert!(retention_error(2).unwrap().contains("[1, 3, 5, 7,"));
        assert!(retention_error(-1).is_some());
    }
}
