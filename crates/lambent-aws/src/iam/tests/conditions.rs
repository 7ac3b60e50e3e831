//! Condition operator and policy variable rows.
