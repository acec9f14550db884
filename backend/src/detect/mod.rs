//! Real-time detection engine: rules are data (YAML), evaluated against CloudTrail
//! events. Split by concern: paths into events, templates for titles/keys.

/// Paths into JSON events, including `@json` decoding of embedded policy documents.
pub mod path;
/// `{{path || "fallback"}}` templates for titles, descriptions and keys.
pub mod template;
