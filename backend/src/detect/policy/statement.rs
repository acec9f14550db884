//! A policy statement in a normal form the checks can read: lists instead of
//! "string or list", lower-case actions, the principal split by kind.

use serde_json::{Map, Value};

/// `Principal` (or `NotPrincipal`) by kind; `*` alone is `any`.
#[derive(Debug, Clone, Default)]
pub struct Principal {
    /// `"*"` or `{"AWS": "*"}`: every principal, in every account.
    pub any: bool,
    /// `AWS` entries (account ids, ARNs), as written.
    pub aws: Vec<String>,
    /// `Service` entries (`ec2.amazonaws.com`), lower case.
    pub service: Vec<String>,
    /// `Federated` entries (OIDC/SAML providers), lower case.
    pub federated: Vec<String>,
}

impl Principal {
    fn parse(v: &Value) -> Principal {
        let mut p = Principal::default();
        match v {
            Value::String(s) => p.any = s.trim() == "*",
            Value::Object(m) => {
                for (k, v) in m {
                    let list = strings(Some(v));
                    match k.as_str() {
                        "AWS" => {
                            p.any |= list.iter().any(|s| s == "*");
                            p.aws.extend(list.into_iter().filter(|s| s != "*"));
                        }
                        "Service" => p.service.extend(lower(list)),
                        "Federated" => p.federated.extend(lower(list)),
                        "CanonicalUser" => p.any |= list.iter().any(|s| s == "*"),
                        _ => {}
                    }
                }
            }
            _ => {}
        }
        p
    }

    /// Whether the principal is everyone.
    pub fn is_public(&self) -> bool {
        self.any
    }

    /// Account ids named by the `AWS` entries (`123456789012`,
    /// `arn:aws:iam::123456789012:role/x`); CloudFront identities and other
    /// non-numeric "accounts" are left out.
    pub fn aws_accounts(&self) -> Vec<&str> {
        let mut out: Vec<&str> = self
            .aws
            .iter()
            .filter_map(|a| {
                let id = match a.strip_prefix("arn:") {
                    Some(rest) => rest.split(':').nth(3)?,
                    None => a.as_str(),
                };
                (!id.is_empty() && id.chars().all(|c| c.is_ascii_digit())).then_some(id)
            })
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }
}

/// One statement, normalised. `None` means the element is absent.
#[derive(Debug, Clone, Default)]
pub struct Statement {
    /// Position in the policy (for explanations).
    pub index: usize,
    /// `Sid` as written.
    pub sid: Option<Value>,
    /// `Effect` as written.
    pub effect: Option<String>,
    /// `Action`, lower case.
    pub actions: Option<Vec<String>>,
    /// `NotAction`, lower case.
    pub not_actions: Option<Vec<String>>,
    /// `Resource` entries that are strings.
    pub resources: Option<Vec<String>>,
    /// `NotResource` entries that are strings.
    pub not_resources: Option<Vec<String>>,
    /// `Principal`.
    pub principal: Option<Principal>,
    /// `NotPrincipal`.
    pub not_principal: Option<Principal>,
    /// `Condition` as written (an empty block counts as absent).
    pub condition: Option<Map<String, Value>>,
    /// The statement as written (the grammar checks read it raw).
    pub raw: Value,
}

impl Statement {
    /// Whether the statement allows (`Effect: Allow`, any case).
    pub fn is_allow(&self) -> bool {
        self.effect
            .as_deref()
            .is_some_and(|e| e.eq_ignore_ascii_case("allow"))
    }

    /// Whether the statement denies.
    pub fn is_deny(&self) -> bool {
        self.effect
            .as_deref()
            .is_some_and(|e| e.eq_ignore_ascii_case("deny"))
    }

    /// The resources the statement is about; a statement without `Resource` (trust
    /// policies, repository policies) is about the resource the policy is attached to.
    pub fn resource_list(&self) -> Vec<&str> {
        match &self.resources {
            Some(r) => r.iter().map(String::as_str).collect(),
            None => vec!["*"],
        }
    }

    /// Whether the statement grants a trust (`sts:AssumeRole*`).
    pub fn is_trust(&self) -> bool {
        self.actions.as_ref().is_some_and(|a| {
            a.iter()
                .any(|x| x.starts_with("sts:assumerole") || x == "sts:*" || x == "*")
        })
    }
}

/// The statements of a policy document (an object with `Statement`, a bare
/// statement, or a list of statements); `None` when the value is none of these.
pub fn statements(doc: &Value) -> Option<Vec<Statement>> {
    let raw: Vec<&Value> = match doc {
        Value::Object(m) if m.contains_key("Statement") => match &m["Statement"] {
            Value::Array(items) => items.iter().collect(),
            one @ Value::Object(_) => vec![one],
            _ => return None,
        },
        Value::Object(m) if m.contains_key("Effect") => vec![doc],
        Value::Array(items) => items.iter().collect(),
        _ => return None,
    };
    Some(
        raw.into_iter()
            .enumerate()
            .map(|(index, st)| parse(index, st))
            .collect(),
    )
}

fn parse(index: usize, st: &Value) -> Statement {
    let get = |k: &str| st.get(k);
    Statement {
        index,
        sid: get("Sid").cloned(),
        effect: get("Effect")
            .and_then(Value::as_str)
            .map(|s| s.trim().to_string()),
        actions: get("Action").map(|v| lower(strings(Some(v)))),
        not_actions: get("NotAction").map(|v| lower(strings(Some(v)))),
        resources: get("Resource").map(|v| strings(Some(v))),
        not_resources: get("NotResource").map(|v| strings(Some(v))),
        principal: get("Principal").map(Principal::parse),
        not_principal: get("NotPrincipal").map(Principal::parse),
        condition: get("Condition")
            .and_then(Value::as_object)
            .filter(|m| !m.is_empty())
            .cloned(),
        raw: st.clone(),
    }
}

/// A string or a list of strings as a list (other values are dropped).
pub fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => vec![s.trim().to_string()],
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|x| x.as_str().map(|s| s.trim().to_string()))
            .collect(),
        _ => vec![],
    }
}

fn lower(list: Vec<String>) -> Vec<String> {
    list.into_iter().map(|s| s.to_ascii_lowercase()).collect()
}
