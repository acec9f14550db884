//! `cspm-bindgen INPUT.wasm OUT_DIR OUT_NAME`: what `wasm-bindgen --target web
//! --no-typescript --out-dir OUT_DIR --out-name OUT_NAME INPUT.wasm` does, through
//! the library the CLI wraps (`wasm-bindgen-cli-support`, same pinned version).
//!
//! Why not the CLI: no registry ships it prebuilt, and compiling it builds its test
//! runner's HTTP client and server too (about 230 crates against 49), which was the
//! longest step of a first `./build.sh serve`.

use std::path::PathBuf;
use std::process::ExitCode;
use wasm_bindgen_cli_support::Bindgen;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [input, out_dir, out_name] = args.as_slice() else {
        eprintln!("usage: cspm-bindgen INPUT.wasm OUT_DIR OUT_NAME");
        return ExitCode::from(2);
    };
    match generate(input.into(), out_dir.into(), out_name) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cspm-bindgen: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Writes `OUT_NAME.js` and `OUT_NAME_bg.wasm` into `out_dir`. Every setting is the
/// CLI's default for `--target web --no-typescript`; where the library's own default
/// differs from the CLI's, the CLI's is set explicitly, so both produce the same bytes
/// (`scripts/build_dashboard.sh` is checked against the CLI that way).
fn generate(input: PathBuf, out_dir: PathBuf, out_name: &str) -> anyhow::Result<()> {
    let mut b = Bindgen::new();
    b.web(true)?;
    #[allow(deprecated)] // the CLI still passes its hidden flag's default
    b.reference_types(false);
    b.input_path(input)
        .typescript(false)
        .omit_default_module_path(false)
        .out_name(out_name);
    b.generate(out_dir)?;
    Ok(())
}
