//! The Logs API's paging tokens: GetLogEvents' positions in AWS's `f/…/s` form, the opaque
//! FilterLogEvents cursor, offsets into sorted listings, and stable event ids.

use super::LogsError;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

/// An opaque paging token holding an offset into a sorted listing.
pub fn offset_token(offset: usize) -> String {
    URL_SAFE_NO_PAD.encode(format!("o:{offset}"))
}

pub fn parse_offset(token: Option<&str>) -> Result<usize, LogsError> {
    let Some(token) = token else { return Ok(0) };
    URL_SAFE_NO_PAD
        .decode(token)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.strip_prefix("o:")?.parse().ok())
        .ok_or_else(LogsError::invalid_token)
}

/// Which way a GetLogEvents token reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Forward,
    Backward,
}

/// A GetLogEvents token in AWS's form, `f/<56 digits>/s` or `b/<56 digits>/s`: a direction
/// and an index into the stream's events in the requested time range. The same position
/// always gives the same string, so a client at the end gets back the token it sent.
pub fn position_token(direction: Direction, index: usize) -> String {
    let d = match direction {
        Direction::Forward => 'f',
        Direction::Backward => 'b',
    };
    format!("{d}/{index:056}/s")
}

pub fn parse_position(token: &str) -> Result<(Direction, usize), LogsError> {
    let parse = || {
        let (dir, rest) = token.split_once('/')?;
        let digits = rest.strip_suffix("/s")?;
        let dir = match dir {
            "f" => Direction::Forward,
            "b" => Direction::Backward,
            _ => return None,
        };
        Some((dir, digits.parse().ok()?))
    };
    parse().ok_or_else(LogsError::invalid_token)
}

/// Where a FilterLogEvents page ended, in the order events are returned: timestamp,
/// ingestion time, stream, position among the stream's events of that timestamp.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Cursor {
    pub timestamp: i64,
    pub ingestion_time: i64,
    pub stream: String,
    pub ordinal: u64,
}

impl Cursor {
    pub fn token(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!(
            "{}:{}:{}:{}",
            self.timestamp, self.ingestion_time, self.ordinal, self.stream
        ))
    }

    pub fn parse(token: &str) -> Result<Cursor, LogsError> {
        let parse = || {
            let text = String::from_utf8(URL_SAFE_NO_PAD.decode(token).ok()?).ok()?;
            let mut parts = text.splitn(4, ':');
            Some(Cursor {
                timestamp: parts.next()?.parse().ok()?,
                ingestion_time: parts.next()?.parse().ok()?,
                ordinal: parts.next()?.parse().ok()?,
                stream: parts.next()?.to_string(),
            })
        };
        parse().ok_or_else(LogsError::invalid_token)
    }

    /// A 56-digit id, the same for an event in every call: its timestamp, its stream and
    /// its position among the stream's events of that timestamp.
    pub fn event_id(&self, group: &str) -> String {
        // FNV-1a: stable across runs and builds, unlike std's hasher.
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for b in group.bytes().chain([0]).chain(self.stream.bytes()) {
            hash = (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        format!(
            "{:020}{:020}{:016}",
            self.timestamp.max(0),
            hash,
            self.ordinal % 10u64.pow(16)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_refuse_garbage() {
        let c = Cursor {
            timestamp: 5,
            ingestion_time: 6,
            stream: "2024/01/01/[$LATEST]a:b".into(),
            ordinal: 2,
        };
        assert_eq!(Cursor::parse(&c.token()).unwrap(), c);
        assert_eq!(c.event_id("g").len(), 56);
        assert!(Cursor::parse("not base64!").is_err());
        let t = position_token(Direction::Forward, 3);
        assert_eq!(t, format!("f/{:056}/s", 3));
        assert_eq!(parse_position(&t).unwrap(), (Direction::Forward, 3));
        assert!(parse_position("x/1/s").is_err());
        assert_eq!(parse_offset(Some(&offset_token(7))).unwrap(), 7);
        assert!(parse_offset(Some("zz")).is_err());
    }
}
