//! PutLogEvents' batch rules: what fails the whole request, and which events are dropped
//! and reported in `rejectedLogEventsInfo`.

use super::LogsError;
use std::ops::Range;

/// Bytes AWS counts per event on top of its UTF-8 message.
pub const EVENT_OVERHEAD: usize = 26;
/// Largest event, overhead included (the historic 256 KB; the capture task cuts lines there too).
pub const MAX_EVENT_BYTES: usize = 262_144;
/// Largest batch: Σ(message bytes + 26).
pub const MAX_BATCH_BYTES: usize = 1_048_576;
pub const MAX_BATCH_EVENTS: usize = 10_000;

const HOUR_MILLIS: i64 = 3_600_000;
/// Events more than this far ahead of the server's clock are rejected as too new.
const TOO_NEW_MILLIS: i64 = 2 * HOUR_MILLIS;
/// Events older than this are rejected as too old, whatever the retention.
const TOO_OLD_MILLIS: i64 = 14 * 24 * HOUR_MILLIS;
/// Longest span between the first and last stored event of one batch.
const MAX_SPAN_MILLIS: i64 = 24 * HOUR_MILLIS;

/// The events of a request that are stored, and how the others were rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    pub stored: Range<usize>,
    pub rejected: Rejected,
}

/// `rejectedLogEventsInfo`: `too_new_start` is inclusive, the two ends exclusive.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rejected {
    pub too_new_start: Option<usize>,
    pub too_old_end: Option<usize>,
    pub expired_end: Option<usize>,
}

impl Rejected {
    pub fn is_empty(&self) -> bool {
        *self == Rejected::default()
    }
}

/// Checks a batch of `(timestamp, message)` received at `now`; `retention_millis` is the
/// group's retention, if it has one.
pub fn check(
    events: &[(i64, &str)],
    now: i64,
    retention_millis: Option<i64>,
) -> Result<Accepted, LogsError> {
    if events.is_empty() {
        return Err(LogsError::InvalidParameter(
            "1 validation error detected: Value '[]' at 'logEvents' failed to satisfy \
             constraint: Member must have length greater than or equal to 1"
                .into(),
        ));
    }
    if events.len() > MAX_BATCH_EVENTS {
        return Err(LogsError::InvalidParameter(format!(
            "1 validation error detected: Value at 'logEvents' failed to satisfy constraint: \
             Member must have length less than or equal to {MAX_BATCH_EVENTS}"
        )));
    }
    let mut total = 0;
    for (i, (_, message)) in events.iter().enumerate() {
        if message.is_empty() {
            return Err(LogsError::InvalidParameter(format!(
                "1 validation error detected: Value '' at 'logEvents.{}.member.message' failed \
                 to satisfy constraint: Member must have length greater than or equal to 1",
                i + 1
            )));
        }
        let size = message.len() + EVENT_OVERHEAD;
        if size > MAX_EVENT_BYTES {
            return Err(LogsError::InvalidParameter(format!(
                "Log event too large: {size} bytes exceeds limit of {MAX_EVENT_BYTES}"
            )));
        }
        total += size;
    }
    if total > MAX_BATCH_BYTES {
        return Err(LogsError::InvalidParameter(format!(
            "Upload too large: {total} bytes exceeds limit of {MAX_BATCH_BYTES}"
        )));
    }
    if events.windows(2).any(|w| w[1].0 < w[0].0) {
        return Err(LogsError::InvalidParameter(
            "Log events in a single PutLogEvents request must be in chronological order.".into(),
        ));
    }
    // Sorted, so each rejection is a prefix or a suffix of the batch.
    let older_than = |limit: i64| events.iter().take_while(|(ts, _)| *ts < limit).count();
    let too_old = older_than(now - TOO_OLD_MILLIS);
    let expired = retention_millis.map_or(0, |r| older_than(now - r));
    let too_new = events
        .iter()
        .position(|(ts, _)| *ts > now + TOO_NEW_MILLIS)
        .unwrap_or(events.len());
    let start = too_old.max(expired).min(too_new);
    let stored = start..too_new;
    if let (Some(first), Some(last)) = (
        events[stored.clone()].first(),
        events[stored.clone()].last(),
    ) {
        if last.0 - first.0 > MAX_SPAN_MILLIS {
            return Err(LogsError::InvalidParameter(
                "The batch of log events in a single PutLogEvents request cannot span more than \
                 24 hours."
                    .into(),
            ));
        }
    }
    Ok(Accepted {
        stored,
        rejected: Rejected {
            too_new_start: (too_new < events.len()).then_some(too_new),
            too_old_end: (too_old > 0).then_some(too_old),
            expired_end: (expired > 0).then_some(expired),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_700_000_000_000;
    const DAY: i64 = 24 * HOUR_MILLIS;

    #[test]
    fn whole_request_failures() {
        let msg = |r: Result<Accepted, LogsError>| r.unwrap_err().to_string();
        assert!(msg(check(&[], NOW, None)).contains("greater than or equal to 1"));
        assert_eq!(
            msg(check(&[(NOW, "b"), (NOW - 1, "a")], NOW, None)),
            "Log events in a single PutLogEvents request must be in chronological order."
        );
        assert!(msg(check(&[(NOW - DAY - 1, "a"), (NOW, "b")], NOW, None))
            .contains("cannot span more than 24 hours"));
        let big = "x".repeat(MAX_EVENT_BYTES - EVENT_OVERHEAD + 1);
        assert_eq!(
            msg(check(&[(NOW, big.as_str())], NOW, None)),
            "Log event too large: 262145 bytes exceeds limit of 262144"
        );
        let part = "x".repeat(200_000);
        let many: Vec<(i64, &str)> = (0..6).map(|_| (NOW, part.as_str())).collect();
        assert_eq!(
            msg(check(&many, NOW, None)),
            "Upload too large: 1200156 bytes exceeds limit of 1048576"
        );
        assert!(msg(check(&[(NOW, "")], NOW, None)).contains("logEvents.1.member.message"));
        // Equal timestamps are in order.
        assert!(check(&[(NOW, "a"), (NOW, "b")], NOW, None).is_ok());
    }

    #[test]
    fn partial_rejections_are_index_ranges() {
        let events = [
            (NOW - 15 * DAY, "too old"),
            (NOW - 15 * DAY + 1, "too old"),
            (NOW - 1000, "ok"),
            (NOW, "ok"),
            (NOW + 3 * HOUR_MILLIS, "too new"),
        ];
        // The stored range spans more than 24 h only if the rejected ones counted.
        let got = check(&events, NOW, None).unwrap();
        assert_eq!(got.stored, 2..4);
        assert_eq!(
            got.rejected,
            Rejected {
                too_new_start: Some(4),
                too_old_end: Some(2),
                expired_end: None
            }
        );
        let got = check(&events[2..4], NOW, Some(500)).unwrap();
        assert_eq!(got.stored, 1..2);
        assert_eq!(got.rejected.expired_end, Some(1));
        assert!(check(&events[2..4], NOW, None).unwrap().rejected.is_empty());
    }
}
