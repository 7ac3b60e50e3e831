//! Compiles the noop `provided` runtime that `lambent bench` deploys
//! (`src/cli/bench/noop-bootstrap.rs`, standard library only) into `$OUT_DIR`, where the bench
//! module embeds it with `include_bytes!`. The bench then works wherever the `lambent` binary
//! does, whatever cargo command built it, with no second file to find beside it.

use std::env;
use std::path::PathBuf;
use std::process::Command;

const SOURCE: &str = "src/cli/bench/noop-bootstrap.rs";

fn main() {
    println!("cargo:rerun-if-changed={SOURCE}");
    println!("cargo:rerun-if-changed=build.rs");
    let rustc = env::var("RUSTC").unwrap_or_else(|_| "rustc".to_string());
    let target = env::var("TARGET").expect("cargo sets TARGET for build scripts");
    let out =
        PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR")).join("noop-bootstrap");

    let mut command = Command::new(&rustc);
    command
        .args(["--edition", "2021", "--crate-type", "bin"])
        .args(["--crate-name", "noop_bootstrap", "--target", &target])
        // The bench measures lambent, not this program: small and quick to load is all it needs.
        .args([
            "-C",
            "opt-level=2",
            "-C",
            "panic=abort",
            "-C",
            "strip=symbols",
        ])
        .arg("-o")
        .arg(&out)
        .arg(SOURCE);
    // A cross build names its linker for the target; the host's default would not do.
    if let Ok(linker) = env::var("RUSTC_LINKER") {
        command.arg("-C").arg(format!("linker={linker}"));
    }
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("running {rustc} for {SOURCE}: {e}"));
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        panic!("{rustc} could not compile {SOURCE}:\n{stderr}");
    }
    // Its warnings would otherwise be hidden in the build script's output.
    for line in stderr.lines().filter(|l| !l.trim().is_empty()) {
        println!("cargo:warning={line}");
    }
}
