//! Seeded mutation test.
