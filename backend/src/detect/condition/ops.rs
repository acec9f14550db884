//! Evaluating one operator on one value: scalar comparison (numbers numerically,
//! everything else as text), CIDR and setting matches, and the policy analyzer for
//! `dangerous_policy`/`policy_issues`.

use super::*;
use std::borrow::Cow;

/// A scalar as text. Borrowed for strings (almost every value a rule looks at), so
/// evaluating a condition allocates nothing on the common path.
pub(super) fn scalar_text(v: &Value) -> Option<Cow<'_, str>> {
    match v {
        Value::String(s) => Some(Cow::Borrowed(s)),
        Value::Bool(b) => Some(Cow::Borrowed(if *b { "true" } else { "false" })),
        Value::Number(n) => Some(Cow::Owned(n.to_string())),
        _ => None,
    }
}

pub(super) fn as_number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Scalars compare numerically when both are numbers, textually otherwise, so
/// `"true"` (as CloudTrail logs `mfaAuthenticated`) equals `true`.
pub(super) fn scalar_eq(v: &Value, want: &Value) -> bool {
    if let (Some(a), Some(b), true) = (as_number(v), as_number(want), want.is_number()) {
        return a == b;
    }
    if want.is_null() {
        return v.is_null();
    }
    // Two strings: the common case, compared without building any text.
    if let (Value::String(a), Value::String(b)) = (v, want) {
        return a == b;
    }
    match (scalar_text(v), scalar_text(want)) {
        (Some(a), Some(b)) => a == b,
        _ => v == want,
    }
}

/// What an operator may look at besides the value: the whole record and the
/// organisation's trusted accounts.
pub(super) struct EvalCtx<'a> {
    pub(super) root: &'a Value,
    pub(super) trusted_accounts: &'a [String],
}

impl<'a> EvalCtx<'a> {
    /// The account the record happens in: a policy written there trusts it.
    fn own_account(&self) -> Option<&str> {
        let text = |v: Option<&'a Value>| v.and_then(Value::as_str).filter(|a| !a.is_empty());
        text(self.root.get("recipientAccountId"))
            .or_else(|| text(self.root.pointer("/userIdentity/accountId")))
    }

    fn policy_context(&self) -> PolicyContext<'_> {
        PolicyContext {
            own_account: self.own_account(),
            trusted_accounts: self.trusted_accounts,
        }
    }
}

/// The issues of a policy given as a document or as (URL-encoded) JSON text.
pub(super) fn policy_issues_of(v: &Value, ctx: &EvalCtx<'_>) -> Option<Vec<policy::PolicyIssue>> {
    let pctx = ctx.policy_context();
    match v {
        Value::String(s) => decode_json_text(s).map(|d| policy::analyze_with(&d, &pctx)),
        Value::Object(_) | Value::Array(_) => Some(policy::analyze_with(v, &pctx)),
        _ => None,
    }
}

pub(super) fn op_holds(op: &Op, v: &Value, ctx: &EvalCtx<'_>) -> bool {
    // Lists where a scalar is expected: the operator holds if it holds for an element.
    if let (Value::Array(items), false) = (
        v,
        matches!(
            op,
            Op::Exists(_) | Op::DangerousPolicy(_) | Op::PolicyIssues(_)
        ),
    ) {
        return items.iter().any(|i| op_holds(op, i, ctx));
    }
    match op {
        Op::Exists(want) => v.is_null() != *want,
        Op::Equals(want) => scalar_eq(v, want),
        Op::In(wants) => wants.iter().any(|w| scalar_eq(v, w)),
        Op::Prefix(p) => scalar_text(v).is_some_and(|s| s.starts_with(p.as_str())),
        Op::Suffix(p) => scalar_text(v).is_some_and(|s| s.ends_with(p.as_str())),
        Op::Contains(p) => scalar_text(v).is_some_and(|s| s.contains(p.as_str())),
        Op::Regex(r) => scalar_text(v).is_some_and(|s| r.is_match(&s)),
        Op::Cmp(kind, n) => as_number(v).is_some_and(|x| match kind {
            CmpKind::Gt => x > *n,
            CmpKind::Gte => x >= *n,
            CmpKind::Lt => x < *n,
            CmpKind::Lte => x <= *n,
        }),
        Op::CidrContains(target) => scalar_text(v)
            .and_then(|s| ip_net(s.trim()))
            .is_some_and(|net| net.contains(target)),
        Op::InCidr(nets) => scalar_text(v)
            .and_then(|s| ip_net(s.trim()))
            .is_some_and(|x| nets.iter().any(|n| n.contains(&x))),
        Op::InSetting(patterns) => {
            scalar_text(v).is_some_and(|s| patterns.iter().any(|p| glob_matches(p, &s)))
        }
        Op::EqualsPath(other) => {
            !v.is_null()
                && other.visit(ctx.root, ctx.root, &mut |w| {
                    !w.is_null() && !w.is_array() && !w.is_object() && scalar_eq(v, w)
                })
        }
        Op::DangerousPolicy(want) => {
            policy_issues_of(v, ctx).is_some_and(|i| i.iter().any(|x| x.is_risk())) == *want
        }
        Op::PolicyIssues(wanted) => {
            policy_issues_of(v, ctx).is_some_and(|found| found.iter().any(|i| wanted.contains(i)))
        }
    }
}
