//! A rule set compiled when first needed. Only CloudTrail documents go through the
//! detection rules, and compiling the built-in pack (its YAML parsed, its regexes
//! built) is about half of a process's start-up: 15.6 of 32 ms of a one-finding
//! `cspm ingest` on the bench machine (perf, 6 runs). An ingest of Security Hub
//! findings, the scanner Lambda and `cspm serve` before its first CloudTrail event
//! then never pay it.

use super::ruleset::RuleSet;
use super::settings::DetectionSettings;
use std::sync::OnceLock;

/// The detection rules a normalizer evaluates CloudTrail with: either compiled
/// already (a rules folder, whose errors must stop the start-up, not the first
/// CloudTrail event) or the built-in pack with given lists, compiled on first use.
#[derive(Debug, Clone)]
pub struct OnDemandRules {
    /// The lists the built-in pack is compiled with on first use.
    settings: DetectionSettings,
    set: OnceLock<RuleSet>,
}

impl OnDemandRules {
    /// Rules compiled already.
    pub fn compiled(set: RuleSet) -> OnDemandRules {
        OnDemandRules {
            settings: set.settings().clone(),
            set: OnceLock::from(set),
        }
    }

    /// The built-in pack with `settings`, compiled on first use. The pack compiles
    /// with the built-in lists (a unit test) and with an organisation's lists once
    /// they have been checked by compiling it ([`crate::config`]'s SSM overlay), so
    /// compiling it later cannot fail for a reason it did not fail for then.
    pub fn builtin_with(settings: DetectionSettings) -> OnDemandRules {
        OnDemandRules {
            settings,
            set: OnceLock::new(),
        }
    }

    /// The rule set, compiled now if it was not yet.
    pub fn get(&self) -> &RuleSet {
        self.set.get_or_init(|| {
            RuleSet::with_settings(None, self.settings.clone())
                .expect("the built-in pack compiles with checked lists (see builtin_with)")
        })
    }

    /// Whether the rules were compiled (for tests of start-up work).
    pub fn is_compiled(&self) -> bool {
        self.set.get().is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_pack_is_compiled_on_first_use_and_once() {
        let rules = OnDemandRules::builtin_with(DetectionSettings::builtin());
        assert!(!rules.is_compiled());
        let first: *const RuleSet = rules.get();
        assert!(rules.is_compiled());
        assert!(std::ptr::eq(first, rules.get()));
        assert_eq!(
            rules.get().rules().len(),
            RuleSet::builtin().unwrap().rules().len()
        );
    }
}
