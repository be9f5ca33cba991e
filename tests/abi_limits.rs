//! The C ABI's sentinels and ranges: exactly one value of each field means "the preset's", everything else is
//! checked against `nst.h`'s limits (NaN included); engines check their provider and model when created; and
//! an engine's caches stay bounded however many models a host walks through.

mod support;

use std::ffi::CString;
use std::ptr::{null, null_mut};

use nst::ffi::*;
use support::abi::*;

/// Runs the quick preset with `o` on a small image; the status and the message.
fn run_with(engine: &Engine, o: &NstOverrides) -> (NstStatus, String) {
    let (status, message, _) = run_preset(engine, &quick_preset(), o);
    (status, message)
}

/// Runs `preset` with `o` on a 32 x 32 image; the status, the message and the output's bytes.
fn run_preset(engine: &Engine, preset: &CString, o: &NstOverrides) -> (NstStatus, String, Vec<u8>) {
    let content = Buffer::gradient(32, 32, NstPixelFormat::NstRgb8);
    let mut output = Buffer::filled(&content, 0xAB);
    let status = stylize(
        engine.0,
        preset.as_ptr(),
        Some(o),
        Some(&content.view()),
        null(),
        0,
        Some(&output.view_mut()),
        None,
        null_mut(),
    );
    let message = if status == NstStatus::NstOk { String::new() } else { last_error() };
    if status != NstStatus::NstOk {
        assert!(output.bytes.iter().all(|&b| b == 0xAB), "a refused run wrote its output");
    }
    (status, message, output.bytes)
}

#[test]
fn every_override_outside_its_range_or_sentinel_is_refused_with_its_name() {
    let engine = Engine::new();
    type Change = fn(&mut NstOverrides);
    let cases: &[(&str, Change, &str)] = &[
        ("size above", |o| o.size = NST_SIZE_MAX + 1, "size 8193 is outside 16..=8192"),
        ("size below", |o| o.size = NST_SIZE_MIN - 1, "size 15 is outside 16..=8192"),
        ("iterations", |o| o.iterations = NST_ITERATIONS_MAX + 1, "iterations 10001 is outside 1..=10000"),
        ("seed", |o| o.seed = -2, "overrides.seed -2 is neither -1"),
        ("model seed", |o| o.model_seed = i64::MIN, "overrides.model_seed -9223372036854775808 is neither -1"),
        ("style weight negative", |o| o.style_weight = -0.5, "style weight -0.5 is outside 0..="),
        ("style weight NaN", |o| o.style_weight = f64::NAN, "overrides.style_weight is NaN"),
        ("style weight infinite", |o| o.style_weight = f64::INFINITY, "overrides.style_weight is inf"),
        (
            "style weight large",
            |o| o.style_weight = NST_STYLE_WEIGHT_MAX * 2.0,
            "style weight 2000000000000 is outside",
        ),
        ("style scale NaN", |o| o.style_scale = f64::NAN, "overrides.style_scale is NaN"),
        ("style scale negative", |o| o.style_scale = -1.0, "style scale -1 is outside 0.1..=4"),
        ("style scale large", |o| o.style_scale = NST_STYLE_SCALE_MAX + 1.0, "style scale 5 is outside 0.1..=4"),
        ("scales", |o| o.scales = NST_SCALES_MAX + 1, "scales 9 is outside 1..=8"),
        ("keep colours", |o| o.keep_colours = -2, "overrides.keep_colours -2 is not -1, 0 or 1"),
        ("match colours", |o| o.match_colours = 2, "overrides.match_colours 2 is not -1, 0 or 1"),
        ("pooling", |o| o.pooling = 3, "overrides.pooling 3 is not 0, 1 or 2"),
        ("init", |o| o.init = 3, "overrides.init 3 is not 0, 1 or 2"),
    ];
    for (name, change, expected) in cases {
        let mut o = overrides();
        change(&mut o);
        let (status, message) = run_with(&engine, &o);
        assert_eq!(status, NstStatus::NstInvalidArgument, "{name}: {message}");
        assert!(message.contains(expected), "{name}: expected '{expected}' in '{message}'");
    }
    // The sentinels themselves, and the ends of each range, run.
    let mut o = overrides();
    assert_eq!((o.seed, o.model_seed, o.style_weight, o.style_scale, o.keep_colours), (-1, -1, -1.0, 0.0, -1));
    o.iterations = NST_ITERATIONS_MIN;
    o.size = NST_SIZE_MIN;
    o.style_scale = NST_STYLE_SCALE_MIN;
    o.seed = NST_SEED_MAX;
    let (status, message) = run_with(&engine, &o);
    assert_eq!(status, NstStatus::NstOk, "{message}");
}

#[test]
fn a_preview_iteration_past_the_run_is_refused() {
    unsafe extern "C" fn ignore(_: *mut std::ffi::c_void, _: *const NstImage) {}
    let engine = Engine::new();
    let mut o = overrides();
    o.preview = Some(ignore);
    o.preview_iteration = 5; // the quick preset runs 4
    let (status, message) = run_with(&engine, &o);
    assert_eq!(status, NstStatus::NstInvalidArgument, "{message}");
    assert!(message.contains("preview iteration 5 is outside the run's iterations 1..=4"), "{message}");
}

#[test]
fn images_wider_than_the_header_states_are_refused() {
    let engine = Engine::new();
    let preset = quick_preset();
    let pixels = [0u8; 16];
    let wide = NstImage {
        width: NST_IMAGE_SIDE_MAX + 1,
        height: 1,
        stride: (NST_IMAGE_SIDE_MAX as usize + 1) * 3,
        format: NstPixelFormat::NstRgb8 as u32,
        pixels: pixels.as_ptr().cast(),
    };
    let mut out_pixels = [0u8; 16];
    let out = NstImageMut {
        width: wide.width,
        height: wide.height,
        stride: wide.stride,
        format: wide.format,
        pixels: out_pixels.as_mut_ptr().cast(),
    };
    let status = stylize(engine.0, preset.as_ptr(), None, Some(&wide), null(), 0, Some(&out), None, null_mut());
    assert_eq!(status, NstStatus::NstImageTooLarge);
    assert!(last_error().contains("a side is longer than the 65535 pixels accepted"), "{}", last_error());
}

fn create(config: &CString) -> (NstStatus, String) {
    let mut engine = null_mut();
    // SAFETY: a NUL-terminated configuration and a writable out pointer.
    let status = unsafe { nst_engine_create(config.as_ptr(), &mut engine) };
    let message = last_error();
    // SAFETY: NULL or a live handle.
    unsafe { nst_engine_free(engine) };
    (status, message)
}

#[test]
fn engines_check_their_provider_and_model_when_created() {
    // The CPU-only library has no CUDA: said at creation, not at the first run.
    let cuda = config_with("").to_str().unwrap().replace("provider = \"cpu\"", "provider = \"cuda\"");
    let (status, message) = create(&CString::new(cuda).unwrap());
    assert_ne!(status, NstStatus::NstOk);
    assert!(message.contains("cuda"), "{message}");

    let (status, message) = create(&config_with("model = \"/nonexistent/vgg19.onnx\""));
    assert_ne!(status, NstStatus::NstOk);
    assert!(message.contains("/nonexistent/vgg19.onnx"), "{message}");

    let dir = std::env::temp_dir().join(format!("nst-abi-limits-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let not_a_model = dir.join("notes.onnx");
    std::fs::write(&not_a_model, b"not a network").unwrap();
    let (status, message) = create(&config_with(&format!("model = '{}'", not_a_model.display())));
    assert_ne!(status, NstStatus::NstOk);
    assert!(message.contains("notes.onnx"), "{message}");
}

#[cfg(target_os = "linux")]
fn resident_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse::<f64>().unwrap() / 1024.0
}

/// 60 runs through the whole network (relu1_1 to relu5_1), each with another built-in model seed, on one
/// engine. Unbounded, every seed kept its model and sessions (12.4 GB after 60); now the engine keeps two, so
/// memory stops growing after the first few.
#[cfg(target_os = "linux")]
#[test]
fn sixty_model_seeds_on_one_engine_stay_within_a_bound() {
    /// Growth allowed from the fifth run to the sixtieth: allocator noise, far below one more cached model.
    const BOUND_MIB: f64 = 300.0;
    let engine = Engine::new();
    let full_depth = CString::new(format!(
        "version = 1\n[style]\nimages = ['{}']\n[optimiser]\niterations = 1\n",
        support::root().join("presets/images/waves.png").display()
    ))
    .unwrap();
    let mut o = overrides();
    let mut after_five = 0.0;
    let mut peak: f64 = 0.0;
    for seed in 0..60 {
        o.model_seed = seed;
        let (status, message, _) = run_preset(&engine, &full_depth, &o);
        assert_eq!(status, NstStatus::NstOk, "seed {seed}: {message}");
        let now = resident_mib();
        peak = peak.max(now);
        if seed == 4 {
            after_five = now;
        }
    }
    let last = resident_mib();
    println!("resident: {after_five:.0} MiB after 5 seeds, {last:.0} MiB after 60, peak {peak:.0} MiB");
    assert!(peak - after_five < BOUND_MIB, "grew {:.0} MiB from run 5 to 60 (peak {peak:.0})", peak - after_five);

    // Trimming drops the caches; the engine still runs afterwards.
    // SAFETY: a live handle.
    assert_eq!(unsafe { nst_engine_trim(engine.0) }, NstStatus::NstOk);
    println!("resident after nst_engine_trim: {:.0} MiB", resident_mib());
    let (status, message, _) = run_preset(&engine, &full_depth, &o);
    assert_eq!(status, NstStatus::NstOk, "{message}");
    // SAFETY: NULL is refused, not dereferenced.
    assert_eq!(unsafe { nst_engine_trim(null_mut()) }, NstStatus::NstNullArgument);
}

#[test]
fn strength_multiplies_the_presets_style_weight_in_the_engine() {
    let engine = Engine::new();
    let preset = quick_preset(); // style_weight = 1e7
    let run = |o: &NstOverrides| {
        let (status, message, output) = run_preset(&engine, &preset, o);
        assert_eq!(status, NstStatus::NstOk, "{message}");
        output
    };
    // The quick preset's 1e7 swamps the content term, where a tenfold weight changes nothing: start from 1.
    let mut plain = overrides();
    plain.style_weight = 1.0;
    let by_strength = NstOverrides { style_weight_scale: 10.0, ..plain };
    let by_weight = NstOverrides { style_weight: 10.0, ..plain };
    let (strong, weighted, plain) = (run(&by_strength), run(&by_weight), run(&plain));
    assert!(strong == weighted, "strength 10 differs from ten times the style weight");
    assert!(strong != plain, "strength 10 changed nothing");

    for (strength, expected) in [
        (NST_STRENGTH_MAX * 2.0, "strength 200 is outside 0.01..=100"),
        (-1.0, "strength -1 is outside"),
        (f64::NAN, "overrides.style_weight_scale is NaN"),
    ] {
        let mut o = overrides();
        o.style_weight_scale = strength;
        let (status, message) = run_with(&engine, &o);
        assert_eq!(status, NstStatus::NstInvalidArgument, "{strength}: {message}");
        assert!(message.contains(expected), "{strength}: {message}");
    }
}

/// A budget someone set pays for the caches too, and the caches give way: with room for one network's run
/// but not for a second model cached beside it, the second run drops the first model and still runs whole.
#[test]
fn cached_models_give_way_to_a_run_under_a_set_budget() {
    let side = 256;
    let estimate = nst::fit::memory::estimated_peak_mib(
        nst::nst_onnx::Layer::parse("relu5_1").unwrap(),
        side,
        side,
        nst::fit::memory::MemoryMode::Arena,
    );
    let budget = estimate.ceil() as u64 + 40;
    let mut handle = null_mut();
    let config = config_with(&format!("memory_budget_mb = {budget}"));
    // SAFETY: a NUL-terminated configuration and a writable out pointer.
    assert_eq!(unsafe { nst_engine_create(config.as_ptr(), &mut handle) }, NstStatus::NstOk, "{}", last_error());
    let engine = Engine(handle);
    let preset = CString::new(format!(
        "version = 1\n[style]\nimages = ['{}']\n[optimiser]\niterations = 2\n",
        support::root().join("presets/images/waves.png").display()
    ))
    .unwrap();
    let content = Buffer::gradient(side as u32, side as u32, NstPixelFormat::NstRgb8);
    for seed in [0, 1] {
        let mut o = overrides();
        o.model_seed = seed;
        let mut output = Buffer::filled(&content, 0);
        let mut report = std::mem::MaybeUninit::<NstRunReport>::zeroed();
        // SAFETY: live views and handle; `report` is writable.
        let status = unsafe {
            nst_stylize(
                engine.0,
                preset.as_ptr(),
                &o,
                &content.view(),
                null(),
                0,
                &output.view_mut(),
                None,
                null_mut(),
                report.as_mut_ptr(),
            )
        };
        assert_eq!(status, NstStatus::NstOk, "seed {seed}, budget {budget} MiB: {}", last_error());
        // SAFETY: filled on success.
        let report = unsafe { report.assume_init() };
        // A tiled run does each tile's iterations: more than the two asked for.
        assert_eq!(report.iterations, 2, "seed {seed} ran in tiles under {budget} MiB");
    }
}

#[cfg(unix)]
#[test]
fn a_configuration_file_that_is_a_fifo_or_a_device_is_refused_at_once() {
    let dir = std::env::temp_dir().join(format!("nst-abi-config-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let fifo = dir.join("nst.toml");
    let name = CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(name.as_ptr(), 0o600) }, 0);
    let started = std::time::Instant::now();
    for (path, expected) in [(name, "a FIFO (named pipe) is not a regular file"), (c"/dev/zero".into(), "a device")] {
        let mut engine = null_mut();
        // SAFETY: a NUL-terminated path and a writable out pointer.
        let status = unsafe { nst_engine_create_from_file(path.as_ptr(), &mut engine) };
        assert_eq!(status, NstStatus::NstInvalidArgument);
        assert!(engine.is_null() && last_error().contains(expected), "{}", last_error());
    }
    assert!(started.elapsed() < std::time::Duration::from_secs(2), "took {:?}", started.elapsed());
}
