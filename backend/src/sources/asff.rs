//! ASFF serde types (to be filled in).
