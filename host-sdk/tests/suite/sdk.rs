//! The host SDK against the real plugin: loading, the ABI check, runs from several threads, cancellation.

use std::process::Command;

use crate::support::{ort_path, plugin_path, quick_preset, scratch};
use image::{DynamicImage, ImageBuffer, Rgb};
use nst_host::{CancelToken, Engine, HostError, NstStatus, Overrides, Plugin, PluginStatus};

fn engine() -> (Plugin, Engine) {
    // SAFETY: the nst plugin this workspace builds.
    let plugin = unsafe { Plugin::load(plugin_path()) }.unwrap();
    let engine = Engine::new(&plugin, &format!("provider = \"cpu\"\nort_library = '{}'\n", ort_path())).unwrap();
    (plugin, engine)
}

fn content(width: u32, height: u32) -> DynamicImage {
    DynamicImage::ImageRgb8(ImageBuffer::from_fn(width, height, |x, y| Rgb([(x * 7) as u8, (y * 9) as u8, 100])))
}

#[test]
fn runs_from_several_threads_share_one_engine() {
    let (plugin, engine) = engine();
    assert_eq!(plugin.version(), env!("CARGO_PKG_VERSION"));
    let dir = scratch("threads");
    let preset = quick_preset(&dir).display().to_string();
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..3u32)
            .map(|i| {
                let (engine, preset) = (&engine, &preset);
                scope.spawn(move || {
                    let input = content(24 + 8 * i, 16);
                    let mut steps = 0;
                    let (output, report) = engine
                        .stylize_image(
                            preset,
                            &Overrides::default(),
                            &input,
                            &[],
                            |_| {
                                steps += 1;
                                true
                            },
                            None,
                        )
                        .unwrap();
                    assert_eq!((output.width(), output.height()), (24 + 8 * i, 16));
                    assert_ne!(output.as_bytes(), input.as_bytes());
                    assert_eq!((steps, report.iterations, report.provider.as_str()), (3, 3, "cpu"));
                })
            })
            .collect();
        for handle in handles {
            handle.join().unwrap();
        }
    });
}

#[test]
fn a_cancel_token_and_the_progress_closure_both_stop_a_run() {
    let (_, engine) = engine();
    let dir = scratch("cancel");
    let preset = quick_preset(&dir).display().to_string();
    let token = CancelToken::new();
    let result = engine.stylize_image(
        &preset,
        &Overrides::default(),
        &content(32, 16),
        &[],
        |p| {
            if p.step == 1 {
                token.cancel();
            }
            true
        },
        Some(&token),
    );
    assert!(matches!(result, Err(HostError::Cancelled)), "{result:?}");
    let result = engine.stylize_image(&preset, &Overrides::default(), &content(32, 16), &[], |p| p.step < 2, None);
    assert!(matches!(result, Err(HostError::Cancelled)), "{result:?}");
}

#[test]
fn plugin_errors_carry_the_plugins_message() {
    let (_, engine) = engine();
    let overrides = Overrides { iterations: Some(0), size: Some(5), ..Overrides::default() };
    let err = engine.stylize_image("mosaic", &overrides, &content(8, 8), &[], |_| true, None).unwrap_err();
    assert!(
        matches!(err, HostError::Plugin { status: PluginStatus::Known(NstStatus::NstInvalidArgument), .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("size 5 is outside 16..=8192 (invalid argument)"), "{err}");
}

#[test]
fn status_codes_a_newer_plugin_may_add_are_kept_not_misread() {
    assert_eq!(PluginStatus::from_raw(6), PluginStatus::Known(NstStatus::NstPresetError));
    let unknown = PluginStatus::from_raw(4000);
    assert_eq!(unknown, PluginStatus::Unknown(4000));
    assert_eq!(unknown.to_string(), "status 4000, unknown to this program");
}

#[test]
#[cfg_attr(windows, ignore = "builds a library with the host's C compiler (cc)")]
fn a_library_with_another_abi_version_is_refused() {
    let dir = scratch("abi");
    let source = dir.join("other_abi.c");
    std::fs::write(&source, "unsigned nst_abi_version(void) { return 999; }\n").unwrap();
    let library = dir.join("libother_abi.so");
    let status = Command::new("cc").args(["-shared", "-fPIC", "-o"]).arg(&library).arg(&source).status().unwrap();
    assert!(status.success(), "cc failed");
    // SAFETY: a library made by this test, whose only export reports another ABI version.
    match unsafe { Plugin::load(&library) } {
        Err(HostError::AbiMismatch { found: 999, expected: nst_host::ABI_VERSION, .. }) => {}
        other => panic!("expected an ABI mismatch, got {:?}", other.err()),
    }
    // SAFETY: a file that does not exist: nothing is loaded.
    let err = unsafe { Plugin::load(dir.join("missing.so")) }.err().unwrap();
    assert!(matches!(err, HostError::Load { .. }) && err.to_string().contains("missing.so"), "{err}");
}
