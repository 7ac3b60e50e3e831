//! Additional checksums (`x-amz-checksum-*`): an upload that names one (as a header, as an
//! `aws-chunked` trailer, which current SDKs send by default, or only as an algorithm) has it
//! computed while its body streams to disk, checked against the value sent (`BadDigest` on a
//! mismatch, and nothing is stored), kept with the object, and returned on PutObject and, in
//! `ChecksumMode=ENABLED`, on whole-object GetObject and HeadObject.

use lambent_store::objects::StoredChecksum;
use s3s::checksum::ChecksumHasher;
use s3s::{s3_error, S3Result};

/// The algorithms S3 knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Algorithm {
    Crc32,
    Crc32c,
    Crc64Nvme,
    Sha1,
    Sha256,
}

const ALL: [Algorithm; 5] = [
    Algorithm::Crc32,
    Algorithm::Crc32c,
    Algorithm::Crc64Nvme,
    Algorithm::Sha1,
    Algorithm::Sha256,
];

impl Algorithm {
    fn name(self) -> &'static str {
        match self {
            Algorithm::Crc32 => "CRC32",
            Algorithm::Crc32c => "CRC32C",
            Algorithm::Crc64Nvme => "CRC64NVME",
            Algorithm::Sha1 => "SHA1",
            Algorithm::Sha256 => "SHA256",
        }
    }

    fn header(self) -> &'static str {
        match self {
            Algorithm::Crc32 => "x-amz-checksum-crc32",
            Algorithm::Crc32c => "x-amz-checksum-crc32c",
            Algorithm::Crc64Nvme => "x-amz-checksum-crc64nvme",
            Algorithm::Sha1 => "x-amz-checksum-sha1",
            Algorithm::Sha256 => "x-amz-checksum-sha256",
        }
    }

    fn named(name: &str) -> Option<Algorithm> {
        ALL.into_iter()
            .find(|a| a.name().eq_ignore_ascii_case(name))
    }
}

/// What an upload asked for: the algorithm, and where the value to check comes from.
pub(super) struct Wanted {
    algorithm: Algorithm,
    declared: Option<String>,
    trailers: Option<s3s::TrailingHeaders>,
}

impl Wanted {
    /// Reads a request's checksum headers: at most one `x-amz-checksum-*` value, else an
    /// `x-amz-trailer` that names one, else `x-amz-sdk-checksum-algorithm`.
    pub(super) fn of(
        headers: &http::HeaderMap,
        trailers: Option<s3s::TrailingHeaders>,
    ) -> S3Result<Option<Wanted>> {
        let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let mut declared = ALL
            .into_iter()
            .filter_map(|a| text(a.header()).map(|v| (a, v.trim().to_string())));
        if let Some((algorithm, value)) = declared.next() {
            if declared.next().is_some() {
                return Err(s3_error!(
                    InvalidRequest,
                    "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed."
                ));
            }
            return Ok(Some(Wanted {
                algorithm,
                declared: Some(value),
                trailers: None,
            }));
        }
        if let Some(trailer) = text("x-amz-trailer") {
            let algorithm = trailer
                .trim()
                .to_ascii_lowercase()
                .strip_prefix("x-amz-checksum-")
                .and_then(Algorithm::named);
            return match algorithm {
                Some(algorithm) => Ok(Some(Wanted {
                    algorithm,
                    declared: None,
                    trailers,
                })),
                None => Err(s3_error!(
                    InvalidRequest,
                    "The value specified in the x-amz-trailer header is not supported"
                )),
            };
        }
        match text("x-amz-sdk-checksum-algorithm") {
            None => Ok(None),
            Some(name) => match Algorithm::named(name.trim()) {
                Some(algorithm) => Ok(Some(Wanted {
                    algorithm,
                    declared: None,
                    trailers: None,
                })),
                None => Err(s3_error!(
                    InvalidRequest,
                    "Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]"
                )),
            },
        }
    }

    /// A hasher for this algorithm alone.
    pub(super) fn hasher(&self) -> ChecksumHasher {
        let mut h = ChecksumHasher::default();
        match self.algorithm {
            Algorithm::Crc32 => h.crc32 = Some(Default::default()),
            Algorithm::Crc32c => h.crc32c = Some(Default::default()),
            Algorithm::Crc64Nvme => h.crc64nvme = Some(Default::default()),
            Algorithm::Sha1 => h.sha1 = Some(Default::default()),
            Algorithm::Sha256 => h.sha256 = Some(Default::default()),
        }
        h
    }

    /// Checks the computed checksum against the value sent (header or trailer, once the
    /// body is through) and gives what to keep with the object.
    pub(super) fn verify(&self, hasher: ChecksumHasher) -> S3Result<StoredChecksum> {
        let computed = hasher.finalize();
        let value = match self.algorithm {
            Algorithm::Crc32 => computed.checksum_crc32,
            Algorithm::Crc32c => computed.checksum_crc32c,
            Algorithm::Crc64Nvme => computed.checksum_crc64nvme,
            Algorithm::Sha1 => computed.checksum_sha1,
            Algorithm::Sha256 => computed.checksum_sha256,
        }
        .unwrap_or_default();
        let sent = self.declared.clone().or_else(|| {
            self.trailers.as_ref().and_then(|t| {
                t.read(|h| {
                    h.get(self.algorithm.header())
                        .and_then(|v| v.to_str().ok())
                        .map(|v| v.trim().to_string())
                })
                .flatten()
            })
        });
        if let Some(sent) = sent {
            if sent != value {
                return Err(s3_error!(
                    BadDigest,
                    "The {} you specified did not match the calculated checksum.",
                    self.algorithm.name()
                ));
            }
        }
        Ok(StoredChecksum {
            algorithm: self.algorithm.name().to_string(),
            value,
        })
    }
}

/// A kept checksum as the response fields that carry it.
pub(super) fn fields(stored: Option<&StoredChecksum>) -> s3s::dto::Checksum {
    let mut out = s3s::dto::Checksum::default();
    let Some(c) = stored else {
        return out;
    };
    let value = Some(c.value.clone());
    match Algorithm::named(&c.algorithm) {
        Some(Algorithm::Crc32) => out.checksum_crc32 = value,
        Some(Algorithm::Crc32c) => out.checksum_crc32c = value,
        Some(Algorithm::Crc64Nvme) => out.checksum_crc64nvme = value,
        Some(Algorithm::Sha1) => out.checksum_sha1 = value,
        Some(Algorithm::Sha256) => out.checksum_sha256 = value,
        None => {}
    }
    out
}

/// Copies the checksum fields onto a response output that has them.
macro_rules! set_checksum {
    ($output:expr, $fields:expr) => {{
        let f = $fields;
        $output.checksum_crc32 = f.checksum_crc32;
        $output.checksum_crc32c = f.checksum_crc32c;
        $output.checksum_crc64nvme = f.checksum_crc64nvme;
        $output.checksum_sha1 = f.checksum_sha1;
        $output.checksum_sha256 = f.checksum_sha256;
    }};
}
pub(super) use set_checksum;

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> http::HeaderMap {
        let mut h = http::HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn declared_values_are_checked() {
        // CRC32 of "hello world", base64 of big-endian 0x0d4a1185.
        let w = Wanted::of(&headers(&[("x-amz-checksum-crc32", "DUoRhQ==")]), None)
            .unwrap()
            .unwrap();
        let mut h = w.hasher();
        h.update(b"hello world");
        assert_eq!(w.verify(h).unwrap().value, "DUoRhQ==");
        let mut h = w.hasher();
        h.update(b"hello worlD");
        assert!(w.verify(h).is_err());
    }

    #[test]
    fn requests_name_one_supported_checksum() {
        assert!(Wanted::of(&headers(&[]), None).unwrap().is_none());
        assert!(Wanted::of(
            &headers(&[("x-amz-checksum-crc32", "a"), ("x-amz-checksum-sha1", "b")]),
            None
        )
        .is_err());
        assert!(Wanted::of(&headers(&[("x-amz-trailer", "x-amz-checksum-md4")]), None).is_err());
        let w = Wanted::of(
            &headers(&[("x-amz-sdk-checksum-algorithm", "sha256")]),
            None,
        )
        .unwrap()
        .unwrap();
        assert_eq!(w.algorithm, Algorithm::Sha256);
        let stored = w.verify(w.hasher()).unwrap();
        assert_eq!(stored.algorithm, "SHA256");
        assert_eq!(
            fields(Some(&stored)).checksum_sha256.as_deref(),
            Some("47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=")
        );
    }
}
