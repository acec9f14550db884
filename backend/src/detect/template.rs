//! Text templates for titles, descriptions, resource ids and dedup keys:
//! `Access key created for {{requestParameters.userName || userIdentity.userName || "unknown"}}`.
//!
//! Each `{{ }}` holds alternatives separated by `||`: paths into the event, or a
//! quoted literal; the first alternative that has a non-empty value wins.

use super::path::{Path, PathError};
use serde_json::Value;

/// A template could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// `{{` without a matching `}}`.
    #[error("unclosed '{{{{' in template {0:?}")]
    Unclosed(String),
    /// An empty `{{ }}` or empty alternative.
    #[error("empty placeholder in template {0:?}")]
    Empty(String),
    /// A placeholder path is malformed.
    #[error(transparent)]
    Path(#[from] PathError),
}

#[derive(Debug, Clone)]
enum Alt {
    Path(Path),
    Literal(String),
}

#[derive(Debug, Clone)]
enum Part {
    Text(String),
    Field(Vec<Alt>),
}

/// A parsed template.
#[derive(Debug, Clone)]
pub struct Template {
    parts: Vec<Part>,
}

impl Template {
    /// Parses template text.
    pub fn parse(text: &str) -> Result<Template, TemplateError> {
        let mut parts = Vec::new();
        let mut rest = text;
        while let Some(start) = rest.find("{{") {
            if start > 0 {
                parts.push(Part::Text(rest[..start].to_string()));
            }
            let after = &rest[start + 2..];
            let Some(end) = after.find("}}") else {
                return Err(TemplateError::Unclosed(text.to_string()));
            };
            let mut alts = Vec::new();
            for alt in after[..end].split("||") {
                let alt = alt.trim();
                if alt.is_empty() {
                    return Err(TemplateError::Empty(text.to_string()));
                }
                let quoted = alt.len() >= 2
                    && ((alt.starts_with('"') && alt.ends_with('"'))
                        || (alt.starts_with('\'') && alt.ends_with('\'')));
                if quoted {
                    alts.push(Alt::Literal(alt[1..alt.len() - 1].to_string()));
                } else {
                    alts.push(Alt::Path(Path::parse(alt)?));
                }
            }
            parts.push(Part::Field(alts));
            rest = &after[end + 2..];
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_string()));
        }
        Ok(Template { parts })
    }

    /// Whether the template has any placeholder (plain strings skip rendering).
    pub fn is_dynamic(&self) -> bool {
        self.parts.iter().any(|p| matches!(p, Part::Field(_)))
    }

    /// Every path the template reads (for lint).
    pub fn paths(&self) -> impl Iterator<Item = &Path> {
        self.parts.iter().flat_map(|p| match p {
            Part::Field(alts) => alts
                .iter()
                .filter_map(|a| match a {
                    Alt::Path(p) => Some(p),
                    Alt::Literal(_) => None,
                })
                .collect::<Vec<_>>(),
            Part::Text(_) => vec![],
        })
    }

    /// Renders against `event`; a placeholder with no value renders empty.
    pub fn render(&self, event: &Value) -> String {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(t) => out.push_str(t),
                Part::Field(alts) => {
                    for alt in alts {
                        let before = out.len();
                        match alt {
                            Alt::Literal(l) => out.push_str(l),
                            // Written straight from the event: the first non-null
                            // value, never cloned (it may be a whole policy document).
                            Alt::Path(p) => {
                                p.visit(event, event, &mut |v| {
                                    if v.is_null() {
                                        return false;
                                    }
                                    push_value_text(&mut out, v);
                                    true
                                });
                            }
                        }
                        if out.len() > before {
                            break;
                        }
                    }
                }
            }
        }
        out
    }
}

/// Appends [`value_text`] of `v` to `out`, without an intermediate string for scalars.
fn push_value_text(out: &mut String, v: &Value) {
    match v {
        Value::Null => {}
        Value::String(s) => out.push_str(s),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        other => out.push_str(&value_text(other)),
    }
}

/// A value as display text: strings unquoted, lists joined with `, `, objects as JSON.
pub fn value_text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Array(items) => items
            .iter()
            .map(value_text)
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(", "),
        Value::Object(_) => v.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn alternatives_fall_back_in_order_and_literals_end_the_chain() {
        let t = Template::parse("key for {{a.user || b.user || \"unknown\"}} from {{ip}}")
            .expect("valid");
        assert_eq!(
            t.render(&json!({"b": {"user": "bob"}, "ip": "1.2.3.4"})),
            "key for bob from 1.2.3.4"
        );
        assert_eq!(
            t.render(&json!({"a": {"user": ""}})),
            "key for unknown from "
        );
        assert!(t.is_dynamic());
        assert_eq!(t.paths().count(), 3);
    }

    #[test]
    fn malformed_templates_are_rejected() {
        assert!(matches!(
            Template::parse("x {{a"),
            Err(TemplateError::Unclosed(_))
        ));
        assert!(matches!(
            Template::parse("x {{ }}"),
            Err(TemplateError::Empty(_))
        ));
        assert!(matches!(
            Template::parse("x {{a..b}}"),
            Err(TemplateError::Path(_))
        ));
        assert!(!Template::parse("plain").expect("valid").is_dynamic());
    }
}
