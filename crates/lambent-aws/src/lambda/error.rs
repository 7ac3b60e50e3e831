//! Lambda's rest-json errors: AWS's error code, HTTP status and body, one variant per code.

use serde_json::json;

/// An error as the Lambda API reports it: `x-amzn-ErrorType` header, status and JSON body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LambdaError {
    #[error("{0}")]
    ResourceNotFound(String),
    #[error("{0}")]
    ResourceConflict(String),
    #[error("{0}")]
    InvalidParameterValue(String),
    #[error("{0}")]
    Validation(String),
    #[error("{0}")]
    PreconditionFailed(String),
    /// AddPermission would make the function's policy longer than AWS keeps.
    #[error("{0}")]
    PolicyLengthExceeded(String),
    #[error("{0}")]
    RequestEntityTooLarge(String),
    #[error("{0}")]
    InvalidRequestContent(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("Rate Exceeded.")]
    TooManyRequests { reason: ThrottleReason },
    #[error("{0}")]
    ResourceNotReady(String),
    #[error("No Provisioned Concurrency Config found for this function")]
    ProvisionedConcurrencyConfigNotFound,
    #[error("{0}")]
    AccessDenied(String),
    #[error("{0}")]
    MissingAuthenticationToken(String),
    #[error("{0}")]
    IncompleteSignature(String),
    #[error("{0}")]
    InvalidSignature(String),
    #[error("{0}")]
    UnrecognizedClient(String),
    /// A temporary key past its expiration.
    #[error("{0}")]
    ExpiredToken(String),
    #[error("{0}")]
    UnknownOperation(String),
    #[error("{0}")]
    Service(String),
}

/// Why an invocation was throttled: the `Reason` field of `TooManyRequestsException`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThrottleReason {
    ConcurrentInvocationLimitExceeded,
    ReservedFunctionConcurrentInvocationLimitExceeded,
}

impl ThrottleReason {
    pub fn as_str(self) -> &'static str {
        match self {
            ThrottleReason::ConcurrentInvocationLimitExceeded => {
                "ConcurrentInvocationLimitExceeded"
            }
            ThrottleReason::ReservedFunctionConcurrentInvocationLimitExceeded => {
                "ReservedFunctionConcurrentInvocationLimitExceeded"
            }
        }
    }
}

impl LambdaError {
    /// The code clients match on (`x-amzn-ErrorType`).
    pub fn code(&self) -> &'static str {
        use LambdaError::*;
        match self {
            ResourceNotFound(_) => "ResourceNotFoundException",
            ResourceConflict(_) => "ResourceConflictException",
            InvalidParameterValue(_) => "InvalidParameterValueException",
            Validation(_) => "ValidationException",
            PreconditionFailed(_) => "PreconditionFailedException",
            PolicyLengthExceeded(_) => "PolicyLengthExceededException",
            RequestEntityTooLarge(_) => "RequestEntityTooLargeException",
            InvalidRequestContent(_) => "InvalidRequestContentException",
            UnsupportedMediaType(_) => "UnsupportedMediaTypeException",
            TooManyRequests { .. } => "TooManyRequestsException",
            ResourceNotReady(_) => "ResourceNotReadyException",
            ProvisionedConcurrencyConfigNotFound => "ProvisionedConcurrencyConfigNotFoundException",
            AccessDenied(_) => "AccessDeniedException",
            MissingAuthenticationToken(_) => "MissingAuthenticationTokenException",
            IncompleteSignature(_) => "IncompleteSignatureException",
            InvalidSignature(_) => "InvalidSignatureException",
            UnrecognizedClient(_) => "UnrecognizedClientException",
            ExpiredToken(_) => "ExpiredTokenException",
            UnknownOperation(_) => "UnknownOperationException",
            Service(_) => "ServiceException",
        }
    }

    pub fn status(&self) -> u16 {
        use LambdaError::*;
        match self {
            ResourceNotFound(_) | UnknownOperation(_) | ProvisionedConcurrencyConfigNotFound => 404,
            ResourceConflict(_) => 409,
            InvalidParameterValue(_)
            | Validation(_)
            | InvalidRequestContent(_)
            | PolicyLengthExceeded(_) => 400,
            PreconditionFailed(_) => 412,
            RequestEntityTooLarge(_) => 413,
            UnsupportedMediaType(_) => 415,
            TooManyRequests { .. } => 429,
            ResourceNotReady(_) => 502,
            AccessDenied(_)
            | MissingAuthenticationToken(_)
            | IncompleteSignature(_)
            | InvalidSignature(_)
            | UnrecognizedClient(_)
            | ExpiredToken(_) => 403,
            Service(_) => 500,
        }
    }

    /// The JSON body, shaped as AWS shapes each code (recorded from AWS: not-found errors
    /// capitalise `Message`, validation and size errors carry no `Type`).
    pub fn body(&self) -> Vec<u8> {
        use LambdaError::*;
        let message = self.to_string();
        let value = match self {
            ResourceNotFound(_) => json!({"Type": "User", "Message": message}),
            Validation(_) | RequestEntityTooLarge(_) => json!({"message": message}),
            MissingAuthenticationToken(_) => json!({"message": message}),
            TooManyRequests { reason } => {
                json!({"Type": "User", "message": message, "Reason": reason.as_str()})
            }
            Service(_) => json!({"Type": "Service", "message": message}),
            _ => json!({"Type": "User", "message": message}),
        };
        serde_json::to_vec(&value).unwrap_or_default()
    }

    pub fn function_not_found(arn: impl std::fmt::Display) -> Self {
        LambdaError::ResourceNotFound(format!("Function not found: {arn}"))
    }

    pub fn revision_mismatch() -> Self {
        LambdaError::PreconditionFailed(
            "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id".into(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelopes_match_recorded_aws_shapes() {
        let nf = LambdaError::function_not_found("arn:x");
        assert_eq!(nf.status(), 404);
        let body: serde_json::Value = serde_json::from_slice(&nf.body()).unwrap();
        assert_eq!(body["Message"], "Function not found: arn:x");
        assert_eq!(body["Type"], "User");
        let t = LambdaError::TooManyRequests {
            reason: ThrottleReason::ReservedFunctionConcurrentInvocationLimitExceeded,
        };
        let body: serde_json::Value = serde_json::from_slice(&t.body()).unwrap();
        assert_eq!(body["message"], "Rate Exceeded.");
        assert_eq!(
            body["Reason"],
            "ReservedFunctionConcurrentInvocationLimitExceeded"
        );
        assert_eq!(t.status(), 429);
        let v = LambdaError::Validation("x".into());
        let body: serde_json::Value = serde_json::from_slice(&v.body()).unwrap();
        assert!(body.get("Type").is_none());
    }
}
