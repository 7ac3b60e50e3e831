//! Recursive loop detection: how many times each function has run in one chain of events.
//!
//! As in AWS, the chain travels in the X-Ray trace header. An invocation's
//! `Lambda-Runtime-Trace-Id` ends in `;Lineage=<hash>:<count>|...`, one entry per function
//! of the chain (the hash names the function, the count says how many times it ran). The
//! runtime puts the header in `_X_AMZN_TRACE_ID`, the AWS SDKs send it back as
//! `X-Amzn-Trace-Id` on the function's own requests, and an S3 change made with it stores it
//! with the events it causes. When such an event is delivered, its function's count goes up
//! by one; past [`MAX_HOPS`] the event is dropped unless the function's recursion config
//! says `Allow`.
//!
//! Invariant: a lineage is parsed from untrusted text, so it is bounded ([`MAX_ENTRIES`]) and
//! malformed entries are ignored, never an error.

use std::fmt::Write as _;

/// AWS stops a function invoked more than this many times in one chain.
pub const MAX_HOPS: u32 = 16;

/// The most functions one lineage names; further entries are ignored.
const MAX_ENTRIES: usize = 32;

/// Counts per function hash, in the order they joined the chain.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lineage(Vec<(u32, u32)>);

impl Lineage {
    /// The `Lineage` field of a trace header (`X-Amzn-Trace-Id`), percent-encoded or not
    /// (botocore encodes `|`).
    pub fn from_trace_header(header: &str) -> Option<Lineage> {
        let decoded = percent_encoding::percent_decode_str(header).decode_utf8_lossy();
        let field = decoded
            .split(';')
            .find_map(|part| part.trim().strip_prefix("Lineage="))?;
        Lineage::parse(field)
    }

    /// `hash:count|hash:count`; `None` when no entry is well formed.
    pub fn parse(field: &str) -> Option<Lineage> {
        let entries: Vec<(u32, u32)> = field
            .split('|')
            .filter_map(|e| {
                let (hash, count) = e.split_once(':')?;
                if hash.len() != 8 {
                    return None;
                }
                Some((
                    u32::from_str_radix(hash, 16).ok()?,
                    count.parse::<u32>().ok()?,
                ))
            })
            .take(MAX_ENTRIES)
            .collect();
        (!entries.is_empty()).then_some(Lineage(entries))
    }

    /// How many times `function` has run in this chain.
    pub fn count(&self, function: &str) -> u32 {
        let h = hash(function);
        self.0.iter().find(|(k, _)| *k == h).map_or(0, |(_, n)| *n)
    }

    /// The chain once `function` runs again; returns its new count.
    pub fn bump(&mut self, function: &str) -> u32 {
        let h = hash(function);
        if let Some(entry) = self.0.iter_mut().find(|(k, _)| *k == h) {
            entry.1 = entry.1.saturating_add(1);
            return entry.1;
        }
        if self.0.len() >= MAX_ENTRIES {
            self.0.remove(0);
        }
        self.0.push((h, 1));
        1
    }
}

impl std::fmt::Display for Lineage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, (h, n)) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_char('|')?;
            }
            write!(f, "{h:08x}:{n}")?;
        }
        Ok(())
    }
}

/// A function's entry: FNV-1a of its name, which is unique in the account.
fn hash(function: &str) -> u32 {
    function.bytes().fold(0x811c_9dc5u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_grow_per_function_and_round_trip() {
        let mut l = Lineage::default();
        assert_eq!(l.bump("a"), 1);
        assert_eq!(l.bump("b"), 1);
        assert_eq!(l.bump("a"), 2);
        let text = l.to_string();
        let back = Lineage::parse(&text).unwrap();
        assert_eq!(back, l);
        assert_eq!(back.count("a"), 2);
        assert_eq!(back.count("c"), 0);
    }

    #[test]
    fn trace_headers_encoded_by_botocore_parse() {
        let h = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0;Lineage=0a1b2c3d:5%7Cdeadbeef:2";
        let l = Lineage::from_trace_header(h).unwrap();
        assert_eq!(l.0, vec![(0x0a1b_2c3d, 5), (0xdead_beef, 2)]);
    }

    #[test]
    fn hostile_lineages_are_bounded_and_ignored() {
        assert_eq!(Lineage::from_trace_header("Root=1-2-3;Sampled=0"), None);
        assert_eq!(Lineage::parse("nothex:1|12345678:x|1234:1"), None);
        let long = (0..1000)
            .map(|i| format!("{i:08x}:1"))
            .collect::<Vec<_>>()
            .join("|");
        let mut l = Lineage::parse(&long).unwrap();
        assert_eq!(l.0.len(), MAX_ENTRIES);
        l.bump("new");
        assert_eq!(l.0.len(), MAX_ENTRIES);
    }
}
