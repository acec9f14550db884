//! The YAML loaders (rule files with lint, sinks/routes files, detection
//! settings, suppressions) on arbitrary text: problems reported, never a panic.

use cspm::detect::lint::lint_text;
use cspm::detect::rule::Rule;
use proptest::prelude::*;

/// YAML-ish text: the loaders' own keys and YAML's punctuation, so cases get
/// past the first syntax check more often than random characters would.
fn yamlish() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        Just("id: x\n".to_string()),
        Just("title: t\n".to_string()),
        Just("severity: HIGH\n".to_string()),
        Just("match: ".to_string()),
        Just("{name: [A], where: ".to_string()),
        Just("{path: a.b, regex: '".to_string()),
        Just("{all: [".to_string()),
        Just("{not: ".to_string()),
        Just("sinks:\n  - name: s\n    kind: webhook\n".to_string()),
        Just("routes:\n  - sink: s\n".to_string()),
        Just("&a [*a, *a]".to_string()),
        Just("tests:\n  - event: ".to_string()),
        "[-:{}\\[\\],'\"&*!|> \n a-z0-9]{0,12}",
    ];
    prop::collection::vec(token, 0..16).prop_map(|t| t.concat())
}

proptest! {
    #![proptest_config(super::config(256))]

    #[test]
    fn rule_files_load_and_lint_never_panic(text in yamlish()) {
        let _ = Rule::from_yaml("fuzz.yaml", &text);
        let _ = lint_text("fuzz.yaml", &text);
    }

    #[test]
    fn rule_files_of_arbitrary_text_never_panic(text in ".{0,200}") {
        let _ = lint_text("fuzz.yaml", &text);
    }

    #[test]
    fn sinks_files_never_panic(text in yamlish()) {
        let _ = cspm::sinks::config::parse(&text);
    }

    #[test]
    fn detection_settings_and_suppressions_never_panic(text in yamlish()) {
        let _ = cspm::detect::yaml_file::parse::<cspm::detect::settings::DetectionSettings>("s.yaml", &text);
        let _ = cspm::detect::yaml_file::parse::<serde_yaml::Value>("s.yaml", &text);
    }
}
