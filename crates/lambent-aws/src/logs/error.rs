//! CloudWatch Logs' awsJson errors: AWS's code (`__type`), status and message, one variant per
//! code.

use serde_json::json;

/// An error as the Logs API reports it: status 400 (503 for ServiceUnavailableException) and
/// `{"__type": code, "message": ...}`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LogsError {
    #[error("{0}")]
    ResourceNotFound(String),
    #[error("{0}")]
    ResourceAlreadyExists(String),
    #[error("{0}")]
    InvalidParameter(String),
    #[error("{0}")]
    Validation(String),
    #[error("{0}")]
    LimitExceeded(String),
    #[error("{0}")]
    Serialization(String),
    #[error("{0}")]
    UnknownOperation(String),
    #[error("{0}")]
    ServiceUnavailable(String),
}

impl LogsError {
    pub fn group_not_found() -> LogsError {
        LogsError::ResourceNotFound("The specified log group does not exist.".into())
    }

    pub fn stream_not_found() -> LogsError {
        LogsError::ResourceNotFound("The specified log stream does not exist.".into())
    }

    pub fn invalid_token() -> LogsError {
        LogsError::InvalidParameter("The specified nextToken is invalid.".into())
    }

    pub fn invalid_pattern() -> LogsError {
        LogsError::InvalidParameter("Invalid filter pattern".into())
    }

    /// Coral's message for a number outside its bounds, e.g. `limit` 10001.
    pub fn out_of_range(member: &str, value: i64, min: i64, max: i64) -> LogsError {
        let bound = if value < min {
            format!("greater than or equal to {min}")
        } else {
            format!("less than or equal to {max}")
        };
        LogsError::InvalidParameter(format!(
            "1 validation error detected: Value '{value}' at '{member}' failed to satisfy \
             constraint: Member must have value {bound}"
        ))
    }

    /// Coral's message for a missing required member.
    pub fn missing(member: &str) -> LogsError {
        LogsError::InvalidParameter(format!(
            "1 validation error detected: Value null at '{member}' failed to satisfy \
             constraint: Member must not be null"
        ))
    }

    /// The code clients match on (`__type`).
    pub fn code(&self) -> &'static str {
        use LogsError::*;
        match self {
            ResourceNotFound(_) => "ResourceNotFoundException",
            ResourceAlreadyExists(_) => "ResourceAlreadyExistsException",
            InvalidParameter(_) => "InvalidParameterException",
            Validation(_) => "ValidationException",
            LimitExceeded(_) => "LimitExceededException",
            Serialization(_) => "SerializationException",
            UnknownOperation(_) => "UnknownOperationException",
            ServiceUnavailable(_) => "ServiceUnavailableException",
        }
    }

    pub fn status(&self) -> u16 {
        match self {
            LogsError::ServiceUnavailable(_) => 503,
            _ => 400,
        }
    }

    pub fn body(&self) -> String {
        json!({"__type": self.code(), "message": self.to_string()}).to_string()
    }
}
