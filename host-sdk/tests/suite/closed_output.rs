//! `nst` whose reader goes away (`nst presets | head -1`, a pager that quits): it ends quietly, with no panic and
//! the status of its work, on Linux (EPIPE) and on Windows (errors 232 and 233, tested under Wine).

use std::process::{Command, Output, Stdio};

use crate::support::{ort_path, plugin_path, quick_preset, scratch, text};

/// Runs `nst args` with standard output, standard error, or both, on a pipe whose reading end is already closed, so
/// that every write to them fails as it does once a reader has quit.
fn nst_with_closed(args: &[&str], close_stdout: bool, close_stderr: bool) -> (Output, String) {
    plugin_path();
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let mut command = Command::new(env!("CARGO_BIN_EXE_nst"));
    command.args(args).env("ORT_DYLIB_PATH", ort_path()).env("RUST_BACKTRACE", "1");
    // The stream that is not closed is captured, so what nst says there can be checked.
    if close_stdout {
        command.stdout(writer.try_clone().unwrap());
    } else {
        command.stdout(Stdio::piped());
    }
    if close_stderr {
        command.stderr(writer);
    } else {
        command.stderr(Stdio::piped());
    }
    let output = command.output().unwrap();
    let said = text(&output);
    (output, said)
}

fn assert_quiet(said: &str) {
    for sign in ["panicked", "backtrace", "failed printing", "Broken pipe", "os error"] {
        assert!(!said.contains(sign), "nst printed '{sign}' about its closed output:\n{said}");
    }
}

#[test]
fn a_closed_standard_output_ends_every_listing_quietly_with_success() {
    let runs: [&[&str]; 4] = [&["presets"], &["model", "list"], &["--help"], &["--version"]];
    for args in runs {
        let (output, said) = nst_with_closed(args, true, false);
        assert_quiet(&said);
        assert_eq!(output.status.code(), Some(0), "nst {args:?}: {said}");
    }
}

#[test]
fn a_run_whose_outputs_close_still_writes_its_image_and_fails_only_for_its_own_reasons() {
    let dir = scratch("closed-output");
    let preset = quick_preset(&dir);
    let content = crate::support::repo().join("presets/samples/astronaut.png");
    let out = dir.join("out.png");
    let args = [
        "stylize",
        content.to_str().unwrap(),
        "--preset",
        preset.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--provider",
        "cpu",
    ];
    let (output, said) = nst_with_closed(&args, true, true);
    assert_quiet(&said);
    assert_eq!(output.status.code(), Some(0), "{said}");
    assert!(image::open(&out).is_ok(), "the image was not written");

    // A failure is still a failure when nobody reads its message.
    let missing = dir.join("missing.png");
    let failing = ["stylize", missing.to_str().unwrap(), "--preset", "mosaic", "-o", out.to_str().unwrap()];
    let (output, said) = nst_with_closed(&failing, true, true);
    assert_quiet(&said);
    assert_eq!(output.status.code(), Some(1), "{said}");
}

#[test]
fn a_closed_standard_error_leaves_standard_output_whole() {
    let (output, said) = nst_with_closed(&["presets"], false, true);
    assert_quiet(&said);
    assert_eq!(output.status.code(), Some(0), "{said}");
    assert!(String::from_utf8_lossy(&output.stdout).lines().any(|l| l.starts_with("mosaic ")), "{said}");
}

/// Output that cannot be written for another reason than a gone reader (here a full disk) is an error.
#[cfg(target_os = "linux")]
#[test]
fn a_full_standard_output_fails_the_command_with_a_message() {
    plugin_path();
    let full = std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_nst")).arg("presets").stdout(full).output().unwrap();
    let said = text(&output);
    assert_eq!(output.status.code(), Some(1), "{said}");
    assert!(said.contains("nst: cannot write to standard output"), "{said}");
    assert!(!said.contains("panicked"), "{said}");
}
