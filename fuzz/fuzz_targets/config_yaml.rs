//! The operator's other YAML files on arbitrary text: the remediation settings, the
//! detection settings and the suppressions file: each loads or is refused with a
//! reason, never a panic or unbounded work (YAML aliases, deep nesting).
#![no_main]

use cspm::detect::settings::DetectionSettings;
use cspm::detect::suppress::Suppressions;
use cspm::remediate::config::RemediationConfig;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = RemediationConfig::parse("fuzz.yaml", text);
    let _ = DetectionSettings::from_yaml("fuzz.yaml", text);
    if let Ok(s) = Suppressions::from_yaml("fuzz.yaml", text) {
        let _ = s.len();
    }
});
