//! Timestamp parsing (to be filled in).
