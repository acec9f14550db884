//! Rule files: YAML load, compile and lint on arbitrary text.
#![no_main]

use cspm::detect::lint::lint_text;
use cspm::detect::rule::Rule;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(rule) = Rule::from_yaml("fuzz.yaml", text) {
        // A rule that loads runs its own embedded tests.
        let _ = cspm::detect::rule::failing_tests(&rule);
    }
    let _ = lint_text("fuzz.yaml", text);
});
