//! [`Sigv4Error`]: every way SigV4 authentication can fail, with AWS's wording.

/// Why a request failed SigV4 authentication.
///
/// [`Display`](std::fmt::Display) (and [`Sigv4Error::message`]) renders the text the AWS
/// JSON/REST-JSON front end ("coral": Lambda, DynamoDB, Logs, ...) uses where it is known;
/// [`Sigv4Error::s3_message`] renders S3's wording. [`Sigv4Error::json_code`] and
/// [`Sigv4Error::s3_code`] give the matching error codes, so a caller picks the protocol
/// and the status code (JSON services use 400 or 403 depending on the protocol; see the
/// spec digest, section 9).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Sigv4Error {
    /// The `Authorization` header is malformed or lacks a component
    /// (IncompleteSignatureException / S3 AuthorizationHeaderMalformed).
    /// The string is AWS's message, e.g. "Authorization header requires 'Signature'
    /// parameter. Authorization=AWS4-HMAC-SHA256 Credential=...".
    #[error("{0}")]
    Incomplete(String),
    /// The presigned-URL (`X-Amz-*`) query parameters are malformed or incomplete
    /// (IncompleteSignatureException / S3 AuthorizationQueryParametersError).
    #[error("{0}")]
    IncompleteQuery(String),
    /// An AWS algorithm other than `AWS4-HMAC-SHA256` (e.g. SigV4a's
    /// `AWS4-ECDSA-P256-SHA256`), in the header or in `X-Amz-Algorithm`.
    #[error("Unsupported AWS 'algorithm': '{0}'")]
    UnsupportedAlgorithm(String),
    /// Both an `Authorization` header and `X-Amz-*` query authentication were sent.
    #[error("Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified")]
    AmbiguousAuth,
    /// The recomputed signature differs from the one sent. The canonical request and
    /// string to sign are what the server computed (S3 echoes them in its error body;
    /// they are also the first thing to log when debugging a client).
    #[error("The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.")]
    SignatureMismatch {
        /// The canonical request the server computed.
        canonical_request: String,
        /// The string to sign the server computed.
        string_to_sign: String,
    },
    /// Header auth whose request time is more than 15 minutes away from the server's
    /// clock (InvalidSignatureException "Signature expired" / S3 RequestTimeTooSkewed).
    #[error("{}", expired_message(amz_date, server_time, limit, *future))]
    Expired {
        /// The request's timestamp, `YYYYMMDDTHHMMSSZ`.
        amz_date: String,
        /// The server's clock, `YYYYMMDDTHHMMSSZ`.
        server_time: String,
        /// `server_time` minus (or, when `future`, plus) 15 minutes.
        limit: String,
        /// The request is dated in the future ("Signature not yet current").
        future: bool,
    },
    /// A presigned URL used after `X-Amz-Date + X-Amz-Expires` (S3 AccessDenied
    /// "Request has expired").
    #[error("Request has expired")]
    PresignExpired {
        /// The `X-Amz-Expires` value, in seconds.
        expires: u64,
        /// When the URL expired, ISO 8601 extended (`2013-05-25T00:00:00Z`), as S3 reports it.
        expired_at: String,
        /// The server's clock, ISO 8601 extended.
        server_time: String,
    },
    /// A presigned URL dated more than 15 minutes in the future (S3 AccessDenied
    /// "Request is not valid yet").
    #[error("Request is not valid yet")]
    PresignNotYetValid {
        /// The `X-Amz-Date` value.
        amz_date: String,
        /// The server's clock, `YYYYMMDDTHHMMSSZ`.
        server_time: String,
    },
    /// Header auth with neither an `X-Amz-Date` nor a `Date` header.
    #[error(
        "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
    )]
    MissingDate,
    /// `X-Amz-Date` (header or query) or `Date` could not be parsed. Holds the bad value.
    #[error("Invalid date format: '{0}'. The date must be in ISO 8601 basic format (YYYYMMDD'T'HHMMSS'Z'), e.g. 20150830T123600Z.")]
    BadDate(String),
    /// The credential scope's date is not the day of the request timestamp.
    #[error("Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{scope_date}' != '{}', from '{amz_date}'.", amz_date.get(..8).unwrap_or(amz_date))]
    ScopeDateMismatch {
        /// The `YYYYMMDD` of the credential scope.
        scope_date: String,
        /// The request timestamp, `YYYYMMDDTHHMMSSZ`.
        amz_date: String,
    },
    /// `host` is not among the signed headers.
    #[error("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.")]
    MissingSignedHost,
}

fn expired_message(amz_date: &str, server_time: &str, limit: &str, future: bool) -> String {
    if future {
        format!("Signature not yet current: {amz_date} is still later than {limit} ({server_time} + 15 min.)")
    } else {
        format!(
            "Signature expired: {amz_date} is now earlier than {limit} ({server_time} - 15 min.)"
        )
    }
}

impl Sigv4Error {
    /// The message AWS's JSON services put in `message` (same as `to_string()`), e.g.
    /// "Signature expired: 20150830T123600Z is now earlier than 20150830T123601Z
    /// (20150830T125101Z - 15 min.)".
    pub fn message(&self) -> String {
        self.to_string()
    }

    /// The error code (`x-amzn-ErrorType` / `__type` suffix) for JSON and REST-JSON
    /// services: `IncompleteSignatureException` for malformed or incomplete
    /// authentication, `InvalidSignatureException` otherwise.
    pub fn json_code(&self) -> &'static str {
        match self {
            Sigv4Error::Incomplete(_)
            | Sigv4Error::IncompleteQuery(_)
            | Sigv4Error::UnsupportedAlgorithm(_)
            | Sigv4Error::AmbiguousAuth
            | Sigv4Error::MissingDate
            | Sigv4Error::BadDate(_) => "IncompleteSignatureException",
            Sigv4Error::SignatureMismatch { .. }
            | Sigv4Error::Expired { .. }
            | Sigv4Error::PresignExpired { .. }
            | Sigv4Error::PresignNotYetValid { .. }
            | Sigv4Error::ScopeDateMismatch { .. }
            | Sigv4Error::MissingSignedHost => "InvalidSignatureException",
        }
    }

    /// The S3 error `<Code>`.
    pub fn s3_code(&self) -> &'static str {
        match self {
            Sigv4Error::Incomplete(_) | Sigv4Error::ScopeDateMismatch { .. } => {
                "AuthorizationHeaderMalformed"
            }
            Sigv4Error::IncompleteQuery(_) => "AuthorizationQueryParametersError",
            Sigv4Error::UnsupportedAlgorithm(_) | Sigv4Error::AmbiguousAuth => "InvalidArgument",
            Sigv4Error::SignatureMismatch { .. } => "SignatureDoesNotMatch",
            Sigv4Error::Expired { .. } => "RequestTimeTooSkewed",
            Sigv4Error::PresignExpired { .. }
            | Sigv4Error::PresignNotYetValid { .. }
            | Sigv4Error::MissingDate
            | Sigv4Error::BadDate(_)
            | Sigv4Error::MissingSignedHost => "AccessDenied",
        }
    }

    /// The S3 error `<Message>`.
    pub fn s3_message(&self) -> String {
        match self {
            Sigv4Error::Incomplete(_) => "The authorization header is malformed; the authorization header requires three components: Credential, SignedHeaders, and Signature.".to_owned(),
            Sigv4Error::ScopeDateMismatch { .. } => "The authorization header is malformed; Invalid credential date. Date is not the same as X-Amz-Date.".to_owned(),
            Sigv4Error::IncompleteQuery(m) => m.clone(),
            Sigv4Error::UnsupportedAlgorithm(_) => "X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"".to_owned(),
            Sigv4Error::SignatureMismatch { .. } => "The request signature we calculated does not match the signature you provided. Check your key and signing method.".to_owned(),
            Sigv4Error::Expired { .. } => "The difference between the request time and the current time is too large.".to_owned(),
            Sigv4Error::MissingDate | Sigv4Error::BadDate(_) => "AWS authentication requires a valid Date or x-amz-date header".to_owned(),
            Sigv4Error::MissingSignedHost => "There were headers present in the request which were not signed".to_owned(),
            Sigv4Error::AmbiguousAuth
            | Sigv4Error::PresignExpired { .. }
            | Sigv4Error::PresignNotYetValid { .. } => self.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expired_messages_follow_aws_format() {
        let e = Sigv4Error::Expired {
            amz_date: "20150830T123600Z".into(),
            server_time: "20150830T125101Z".into(),
            limit: "20150830T123601Z".into(),
            future: false,
        };
        assert_eq!(
            e.message(),
            "Signature expired: 20150830T123600Z is now earlier than 20150830T123601Z (20150830T125101Z - 15 min.)"
        );
        let e = Sigv4Error::Expired {
            amz_date: "20181120T211543Z".into(),
            server_time: "20181120T205943Z".into(),
            limit: "20181120T211443Z".into(),
            future: true,
        };
        assert_eq!(
            e.to_string(),
            "Signature not yet current: 20181120T211543Z is still later than 20181120T211443Z (20181120T205943Z + 15 min.)"
        );
    }

    #[test]
    fn scope_date_message() {
        let e = Sigv4Error::ScopeDateMismatch {
            scope_date: "20150830".into(),
            amz_date: "20150831T000000Z".into(),
        };
        assert_eq!(
            e.to_string(),
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '20150830' != '20150831', from '20150831T000000Z'."
        );
        assert_eq!(e.json_code(), "InvalidSignatureException");
        assert_eq!(e.s3_code(), "AuthorizationHeaderMalformed");
    }
}
