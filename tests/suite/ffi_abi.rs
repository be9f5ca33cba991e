//! The C ABI through its exported functions: every bad argument is refused with its status and a message
//! naming it, before any work; runs, formats, cancellation and two threads on one engine.

use std::ffi::{CString, c_void};
use std::ptr::{null, null_mut};

use crate::support::abi::*;
use nst::ffi::*;

#[test]
fn versions_are_reported() {
    assert_eq!(nst_abi_version(), NST_ABI_VERSION);
    // SAFETY: a static NUL-terminated string.
    let version = unsafe { std::ffi::CStr::from_ptr(nst_version()) }.to_str().unwrap();
    assert_eq!(version, env!("CARGO_PKG_VERSION"));
}

#[test]
fn engine_creation_refuses_bad_configuration_and_null_out() {
    let mut engine = std::ptr::dangling_mut::<NstEngine>();
    let bad = CString::new("threads = 999").unwrap();
    // SAFETY: valid pointers.
    assert_eq!(unsafe { nst_engine_create(bad.as_ptr(), &mut engine) }, NstStatus::NstInvalidArgument);
    assert!(engine.is_null(), "the out pointer must be cleared on failure");
    assert!(last_error().contains("`threads`: 999 is outside 0..=256"), "{}", last_error());
    let unknown = CString::new("colour = 1").unwrap();
    // SAFETY: valid pointers.
    assert_eq!(unsafe { nst_engine_create(unknown.as_ptr(), &mut engine) }, NstStatus::NstInvalidArgument);
    assert!(last_error().contains("colour"), "{}", last_error());
    // SAFETY: NULL out pointer is the case under test.
    assert_eq!(unsafe { nst_engine_create(null(), null_mut()) }, NstStatus::NstNullArgument);
    assert!(last_error().contains("out_engine"), "{}", last_error());
    let missing = CString::new("/nonexistent/nst.toml").unwrap();
    // SAFETY: valid pointers.
    assert_eq!(unsafe { nst_engine_create_from_file(missing.as_ptr(), &mut engine) }, NstStatus::NstInvalidArgument);
    assert!(last_error().contains("/nonexistent/nst.toml"), "{}", last_error());
    // SAFETY: NULL is accepted.
    unsafe { nst_engine_free(null_mut()) };
}

#[test]
fn the_description_lists_parameters_and_presets() {
    let engine = Engine::new();
    let mut needed = 0usize;
    // SAFETY: NULL buffer asks for the size.
    let status = unsafe { nst_engine_describe(engine.0, null_mut(), 0, &mut needed) };
    assert_eq!(status, NstStatus::NstBufferTooSmall);
    let mut buffer = vec![0u8; needed];
    // SAFETY: a buffer of the size asked for.
    let status = unsafe { nst_engine_describe(engine.0, buffer.as_mut_ptr().cast(), buffer.len(), &mut needed) };
    assert_eq!(status, NstStatus::NstOk);
    let json = String::from_utf8(buffer[..needed - 1].to_vec()).unwrap();
    let abi = format!("\"abi_version\":{NST_ABI_VERSION}");
    for expected in
        [abi.as_str(), "\"name\":\"iterations\"", "\"min\":1", "\"max\":10000", "\"name\":\"mosaic\"", "\"help\":"]
    {
        assert!(json.contains(expected), "{expected} missing from {json}");
    }
    let bad = CString::new("no-such-preset").unwrap();
    // SAFETY: valid pointers.
    let status = unsafe {
        nst_engine_describe_preset(engine.0, bad.as_ptr(), buffer.as_mut_ptr().cast(), buffer.len(), &mut needed)
    };
    assert_eq!(status, NstStatus::NstPresetError);
    assert!(last_error().contains("no preset named 'no-such-preset'"), "{}", last_error());
}

#[test]
fn the_models_list_starts_with_the_built_in_one_and_needs_no_engine() {
    let mut needed = 0usize;
    // SAFETY: NULL buffer asks for the size.
    let status = unsafe { nst_describe_models(null_mut(), 0, &mut needed) };
    assert_eq!(status, NstStatus::NstBufferTooSmall);
    let mut buffer = vec![0u8; needed];
    // SAFETY: a buffer of the size asked for.
    let status = unsafe { nst_describe_models(buffer.as_mut_ptr().cast(), buffer.len(), &mut needed) };
    assert_eq!(status, NstStatus::NstOk, "{}", last_error());
    let json = String::from_utf8(buffer[..needed - 1].to_vec()).unwrap();
    assert!(json.starts_with("{\"models_dir\":"), "{json}");
    assert!(json.contains("\"models\":[{\"name\":\"builtin\""), "{json}");
    assert!(json.contains("\"pretrained\":false"), "{json}");
}

#[test]
fn every_bad_argument_is_refused_before_any_work_and_leaves_the_output_alone() {
    let engine = Engine::new();
    let preset = quick_preset();
    let content = Buffer::gradient(32, 16, NstPixelFormat::NstRgba8);
    let mut output = Buffer::filled(&content, 0xAB);
    let good = content.view();
    let out = output.view_mut();
    let o = overrides();

    type Case<'a> = (&'a str, NstStatus, &'a str, Box<dyn Fn() -> NstStatus + 'a>);
    let mut cases: Vec<Case> = Vec::new();
    let (e, p) = (engine.0, preset.as_ptr());
    cases.push((
        "null engine",
        NstStatus::NstNullArgument,
        "`engine`",
        Box::new(move || stylize(null_mut(), p, None, Some(&good), null(), 0, Some(&out), None, null_mut())),
    ));
    cases.push((
        "null preset",
        NstStatus::NstNullArgument,
        "`preset`",
        Box::new(move || stylize(e, null(), None, Some(&good), null(), 0, Some(&out), None, null_mut())),
    ));
    cases.push((
        "null content",
        NstStatus::NstNullArgument,
        "`content`",
        Box::new(move || stylize(e, p, None, None, null(), 0, Some(&out), None, null_mut())),
    ));
    cases.push((
        "null output",
        NstStatus::NstNullArgument,
        "`output`",
        Box::new(move || stylize(e, p, None, Some(&good), null(), 0, None, None, null_mut())),
    ));
    let no_pixels = NstImage { pixels: null(), ..good };
    cases.push((
        "null pixels",
        NstStatus::NstNullArgument,
        "content.pixels",
        Box::new(move || stylize(e, p, None, Some(&no_pixels), null(), 0, Some(&out), None, null_mut())),
    ));
    let zero = NstImage { width: 0, ..good };
    cases.push((
        "zero width",
        NstStatus::NstInvalidArgument,
        "content is 0x16",
        Box::new(move || stylize(e, p, None, Some(&zero), null(), 0, Some(&out), None, null_mut())),
    ));
    let huge = NstImage { width: 60000, height: 60000, stride: 240000, ..good };
    cases.push((
        "huge",
        NstStatus::NstImageTooLarge,
        "content is 60000x60000",
        Box::new(move || stylize(e, p, None, Some(&huge), null(), 0, Some(&out), None, null_mut())),
    ));
    let narrow = NstImage { stride: 100, ..good };
    cases.push((
        "stride too small",
        NstStatus::NstInvalidArgument,
        "content.stride 100 is smaller than a row (128 bytes",
        Box::new(move || stylize(e, p, None, Some(&narrow), null(), 0, Some(&out), None, null_mut())),
    ));
    let unknown = NstImage { format: 99, ..good };
    cases.push((
        "unknown format",
        NstStatus::NstUnsupportedFormat,
        "content.format 99",
        Box::new(move || stylize(e, p, None, Some(&unknown), null(), 0, Some(&out), None, null_mut())),
    ));
    let smaller_out = NstImageMut { width: 31, ..out };
    cases.push((
        "output geometry",
        NstStatus::NstInvalidArgument,
        "output is 31x16",
        Box::new(move || stylize(e, p, None, Some(&good), null(), 0, Some(&smaller_out), None, null_mut())),
    ));
    let other_format = NstImageMut { format: NstPixelFormat::NstRgb8 as u32, stride: 96, ..out };
    cases.push((
        "output format",
        NstStatus::NstInvalidArgument,
        "they must match",
        Box::new(move || stylize(e, p, None, Some(&good), null(), 0, Some(&other_format), None, null_mut())),
    ));
    cases.push((
        "styles null with count",
        NstStatus::NstNullArgument,
        "`styles`",
        Box::new(move || stylize(e, p, None, Some(&good), null(), 2, Some(&out), None, null_mut())),
    ));
    let bad_style = NstImage { stride: 1, ..good };
    cases.push((
        "bad style view",
        NstStatus::NstInvalidArgument,
        "styles[0].stride",
        Box::new(move || stylize(e, p, None, Some(&good), &bad_style, 1, Some(&out), None, null_mut())),
    ));
    let old_struct = NstOverrides { struct_size: 8, ..o };
    cases.push((
        "overrides size",
        NstStatus::NstInvalidArgument,
        "overrides.struct_size 8",
        Box::new(move || stylize(e, p, Some(&old_struct), Some(&good), null(), 0, Some(&out), None, null_mut())),
    ));
    let pooling = NstOverrides { pooling: 7, ..o };
    cases.push((
        "pooling",
        NstStatus::NstInvalidArgument,
        "overrides.pooling 7",
        Box::new(move || stylize(e, p, Some(&pooling), Some(&good), null(), 0, Some(&out), None, null_mut())),
    ));
    let colours = NstOverrides { keep_colours: 5, ..o };
    cases.push((
        "keep_colours",
        NstStatus::NstInvalidArgument,
        "overrides.keep_colours 5 is not -1, 0 or 1",
        Box::new(move || stylize(e, p, Some(&colours), Some(&good), null(), 0, Some(&out), None, null_mut())),
    ));
    let iterations = NstOverrides { iterations: 20000, ..o };
    cases.push((
        "iterations",
        NstStatus::NstInvalidArgument,
        "iterations 20000 is outside 1..=10000",
        Box::new(move || stylize(e, p, Some(&iterations), Some(&good), null(), 0, Some(&out), None, null_mut())),
    ));
    let bad_preset = CString::new("version = 1\n[style]\nimages = []\n[optimiser]\niterations = 0\n").unwrap();
    let bp = bad_preset.as_ptr();
    cases.push((
        "bad preset",
        NstStatus::NstPresetError,
        "line 5, key `optimiser.iterations`",
        Box::new(move || stylize(e, bp, None, Some(&good), null(), 0, Some(&out), None, null_mut())),
    ));
    let missing_model = CString::new("/nonexistent/vgg19.onnx").unwrap();
    let model = NstOverrides { model_path: missing_model.as_ptr(), ..o };
    cases.push((
        "missing model",
        NstStatus::NstModelError,
        "/nonexistent/vgg19.onnx",
        Box::new(move || stylize(e, p, Some(&model), Some(&good), null(), 0, Some(&out), None, null_mut())),
    ));

    for (name, expected, message, call) in &cases {
        let status = call();
        let error = last_error();
        println!("{name}: {status:?}: {error}");
        assert_eq!(status, *expected, "{name}: {error}");
        assert!(error.contains(message), "{name}: '{message}' not in '{error}'");
        assert!(output.bytes.iter().all(|b| *b == 0xAB), "{name}: the output buffer was written");
    }
}

unsafe extern "C" fn cancel_at_two(user_data: *mut c_void, step: u32, total: u32, _loss: f64) -> i32 {
    // SAFETY: the test passes a Vec<u32> as user data.
    let steps = unsafe { &mut *user_data.cast::<Vec<u32>>() };
    steps.push(step);
    assert_eq!(total, 4);
    i32::from(step == 2)
}

#[test]
fn cancelling_from_the_callback_returns_cancelled_and_leaves_the_output_alone() {
    let engine = Engine::new();
    let preset = quick_preset();
    let content = Buffer::gradient(32, 16, NstPixelFormat::NstRgba8);
    let mut output = Buffer::filled(&content, 0xAB);
    let mut steps: Vec<u32> = Vec::new();
    let status = stylize(
        engine.0,
        preset.as_ptr(),
        None,
        Some(&content.view()),
        null(),
        0,
        Some(&output.view_mut()),
        Some(cancel_at_two),
        (&mut steps as *mut Vec<u32>).cast(),
    );
    assert_eq!(status, NstStatus::NstCancelled, "{}", last_error());
    assert_eq!(steps, vec![1, 2]);
    assert!(output.bytes.iter().all(|b| *b == 0xAB), "a cancelled run wrote the output");
}

fn alpha_equal(content: &Buffer, output: &Buffer) -> bool {
    let bpp = bytes_per_pixel(content.format);
    let alpha_bytes = bpp / 4;
    (0..content.height as usize).all(|y| {
        (0..content.width as usize).all(|x| {
            let at = y * content.stride + x * bpp + 3 * alpha_bytes;
            content.bytes[at..at + alpha_bytes] == output.bytes[at..at + alpha_bytes]
        })
    })
}

#[test]
fn every_pixel_format_runs_and_alpha_passes_through_untouched() {
    let engine = Engine::new();
    let preset = quick_preset();
    let mut o = overrides();
    o.iterations = 2;
    use NstPixelFormat::*;
    for format in [NstGray8, NstRgb8, NstRgba8, NstRgb16, NstRgba16, NstRgbaF32Linear, NstRgbaF32Srgb] {
        let content = Buffer::gradient(20, 12, format);
        let mut output = Buffer::filled(&content, 0);
        let mut report = std::mem::MaybeUninit::<NstRunReport>::zeroed();
        // SAFETY: views of live buffers, a report to fill.
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
        assert_eq!(status, NstStatus::NstOk, "{format:?}: {}", last_error());
        // SAFETY: filled by the successful call.
        let report = unsafe { report.assume_init() };
        assert_eq!(report.iterations, 2);
        let provider: Vec<u8> = report.provider.iter().take_while(|c| **c != 0).map(|c| *c as u8).collect();
        assert_eq!(provider, b"cpu");
        assert!(output.bytes != content.bytes, "{format:?}: nothing changed");
        if matches!(format, NstRgba8 | NstRgba16 | NstRgbaF32Linear | NstRgbaF32Srgb) {
            assert!(alpha_equal(&content, &output), "{format:?}: alpha changed");
        }
        // Row padding belongs to the host and is left alone.
        let row = 20 * bytes_per_pixel(format);
        assert!(output.bytes[row..row + 8].iter().all(|b| *b == 0), "{format:?}: padding written");
    }
}

#[test]
fn a_model_in_the_engine_configuration_applies_to_runs_that_name_none() {
    let config = CString::new(format!("{}model_seed = 5\n", config().to_str().unwrap())).unwrap();
    let mut engine = null_mut();
    // SAFETY: valid config and out pointer.
    assert_eq!(unsafe { nst_engine_create(config.as_ptr(), &mut engine) }, NstStatus::NstOk, "{}", last_error());
    let engine = Engine(engine);
    let content = Buffer::gradient(16, 16, NstPixelFormat::NstRgb8);
    let mut output = Buffer::filled(&content, 0);
    let mut report = std::mem::MaybeUninit::<NstRunReport>::zeroed();
    let preset = quick_preset();
    // SAFETY: views of live buffers and a report to fill.
    let status = unsafe {
        nst_stylize(
            engine.0,
            preset.as_ptr(),
            null(),
            &content.view(),
            null(),
            0,
            &output.view_mut(),
            None,
            null_mut(),
            report.as_mut_ptr(),
        )
    };
    assert_eq!(status, NstStatus::NstOk, "{}", last_error());
    // SAFETY: filled by the successful call.
    let model: Vec<u8> =
        unsafe { report.assume_init() }.model.iter().take_while(|c| **c != 0).map(|c| *c as u8).collect();
    let model = String::from_utf8(model).unwrap();
    assert!(model.contains("seed 5"), "{model}");
}

#[test]
fn two_threads_can_run_on_one_engine() {
    let engine = Engine::new();
    let preset = quick_preset();
    std::thread::scope(|scope| {
        let runs: Vec<_> = (0..2)
            .map(|seed| {
                let (engine, preset) = (&engine, &preset);
                scope.spawn(move || {
                    let content = Buffer::gradient(24 + 8 * seed, 16, NstPixelFormat::NstRgb8);
                    let mut output = Buffer::filled(&content, 0);
                    let status = stylize(
                        engine.0,
                        preset.as_ptr(),
                        None,
                        Some(&content.view()),
                        null(),
                        0,
                        Some(&output.view_mut()),
                        None,
                        null_mut(),
                    );
                    (status, last_error(), output.bytes != content.bytes)
                })
            })
            .collect();
        for run in runs {
            let (status, error, changed) = run.join().unwrap();
            assert_eq!(status, NstStatus::NstOk, "{error}");
            assert!(changed);
        }
    });
}

#[test]
fn style_blend_weights_pull_towards_the_heavier_style_and_bad_weights_are_refused() {
    let engine = Engine::new();
    let preset = quick_preset();
    let solid = |rgb: [u8; 3]| Buffer {
        width: 16,
        height: 16,
        stride: 48,
        format: NstPixelFormat::NstRgb8,
        bytes: rgb.repeat(256),
    };
    let (red, blue) = (solid([230, 20, 20]), solid([20, 20, 230]));
    let styles = [red.view(), blue.view()];
    let content = Buffer::gradient(32, 32, NstPixelFormat::NstRgb8);
    let red_minus_blue = |weights: [f32; 2]| -> Result<f64, String> {
        let mut output = Buffer::filled(&content, 0);
        let mut o = overrides();
        o.iterations = 10;
        o.style_weights = weights.as_ptr();
        let status = stylize(
            engine.0,
            preset.as_ptr(),
            Some(&o),
            Some(&content.view()),
            styles.as_ptr(),
            2,
            Some(&output.view_mut()),
            None,
            null_mut(),
        );
        if status != NstStatus::NstOk {
            return Err(last_error());
        }
        let row = content.width as usize * 3;
        let pixels = (0..content.height as usize).flat_map(|y| {
            output.bytes[y * content.stride..y * content.stride + row]
                .chunks(3)
                .map(|p| p[0] as f64 - p[2] as f64)
                .collect::<Vec<_>>()
        });
        let values: Vec<f64> = pixels.collect();
        Ok(values.iter().sum::<f64>() / values.len() as f64)
    };
    let (mostly_red, mostly_blue) = (red_minus_blue([9.0, 1.0]).unwrap(), red_minus_blue([1.0, 9.0]).unwrap());
    println!("mean red minus blue: weights 9:1 {mostly_red:.1}, weights 1:9 {mostly_blue:.1}");
    assert!(mostly_red > mostly_blue + 20.0, "the blend weights had no effect");
    let refused = red_minus_blue([1.0, -2.0]).unwrap_err();
    assert!(refused.contains("overrides.style_weights[1] -2 is outside (0, 1000000]"), "{refused}");
}

#[test]
fn a_host_with_an_older_smaller_overrides_struct_is_neither_overrun_nor_refused() {
    let engine = Engine::new();
    let preset = quick_preset();
    // The struct as a host built before the mask fields were appended knows it.
    let old_size = std::mem::offset_of!(NstOverrides, style_masks);
    let words = std::mem::size_of::<NstOverrides>() / 8 + 4;
    let mut buffer = vec![0xEEEE_EEEE_EEEE_EEEEu64; words];
    // SAFETY: the buffer has more than `old_size` writable bytes.
    unsafe { nst_overrides_init(buffer.as_mut_ptr().cast(), old_size) };
    let bytes: Vec<u8> = buffer.iter().flat_map(|w| w.to_ne_bytes()).collect();
    assert!(bytes[old_size..].iter().all(|b| *b == 0xEE), "nst_overrides_init wrote past the host's struct");
    // SAFETY: the buffer is 8-aligned and larger than NstOverrides; the old fields were initialised.
    let old = unsafe { &mut *buffer.as_mut_ptr().cast::<NstOverrides>() };
    assert_eq!(old.struct_size, old_size);
    old.iterations = 2;
    let content = Buffer::gradient(32, 16, NstPixelFormat::NstRgb8);
    let mut output = Buffer::filled(&content, 0);
    let status = stylize(
        engine.0,
        preset.as_ptr(),
        Some(old),
        Some(&content.view()),
        null(),
        0,
        Some(&output.view_mut()),
        None,
        null_mut(),
    );
    // The bytes past the old struct (0xEE...) are never read as mask pointers.
    assert_eq!(status, NstStatus::NstOk, "{}", last_error());
    assert!(output.bytes != content.bytes);
}

/// Mean squared difference between each pixel's grey level and a 4x-box-blurred copy's: the fine detail.
fn fine_detail_energy(buffer: &Buffer) -> f64 {
    let (w, h) = (buffer.width as usize, buffer.height as usize);
    let grey = |x: usize, y: usize| {
        let at = y * buffer.stride + x * 3;
        buffer.bytes[at..at + 3].iter().map(|&b| b as f64).sum::<f64>() / 3.0
    };
    let mut sum = 0.0;
    for y in 0..h / 4 * 4 {
        for x in 0..w / 4 * 4 {
            let (bx, by) = (x / 4 * 4, y / 4 * 4);
            let blurred = (0..16).map(|k| grey(bx + k % 4, by + k / 4)).sum::<f64>() / 16.0;
            sum += (grey(x, y) - blurred).powi(2);
        }
    }
    sum / (w / 4 * 4 * (h / 4 * 4)) as f64
}

#[test]
fn keep_detail_brings_the_contents_fine_detail_back_onto_a_result_worked_smaller() {
    let engine = Engine::new();
    let preset = quick_preset();
    let (w, h) = (96u32, 64u32);
    // A gradient with a one-pixel-scale checkerboard: detail that a 32-pixel working size cannot hold.
    let mut content = Buffer::gradient(w, h, NstPixelFormat::NstRgb8);
    for y in 0..h as usize {
        for x in 0..w as usize {
            let at = y * content.stride + x * 3;
            let lift: i16 = if (x / 2 + y / 2) % 2 == 0 { 50 } else { -50 };
            for c in 0..3 {
                content.bytes[at + c] = (content.bytes[at + c] as i16 + lift).clamp(0, 255) as u8;
            }
        }
    }
    let run = |keep_detail: i32| {
        let mut o = overrides();
        (o.size, o.iterations, o.keep_detail) = (32, 2, keep_detail);
        let mut output = Buffer::filled(&content, 0);
        let status = stylize(
            engine.0,
            preset.as_ptr(),
            Some(&o),
            Some(&content.view()),
            null(),
            0,
            Some(&output.view_mut()),
            None,
            null_mut(),
        );
        (status, output)
    };
    let (plain, detailed) = (run(-1), run(1));
    assert_eq!((plain.0, detailed.0), (NstStatus::NstOk, NstStatus::NstOk), "{}", last_error());
    let (energy_content, energy_plain, energy_detailed) =
        (fine_detail_energy(&content), fine_detail_energy(&plain.1), fine_detail_energy(&detailed.1));
    println!(
        "fine-detail energy: content {energy_content:.1}, plain upscale {energy_plain:.1}, keep_detail {energy_detailed:.1}"
    );
    assert!(energy_plain < 0.25 * energy_content, "the plain upscale kept the detail?");
    assert!(energy_detailed > 0.6 * energy_content, "keep_detail did not bring the detail back");
    assert_eq!(run(2).0, NstStatus::NstInvalidArgument);
    assert!(last_error().contains("overrides.keep_detail 2 is not -1, 0 or 1"), "{}", last_error());
}

/// Two pages of memory whose second cannot be read: whatever is placed at the end of the first ends where the
/// unreadable page begins, so a read one byte past it faults at once instead of reading stale memory.
#[cfg(unix)]
struct GuardedPage {
    base: *mut u8,
    page: usize,
}

#[cfg(unix)]
impl GuardedPage {
    fn new() -> GuardedPage {
        // SAFETY: an anonymous private mapping of two pages, owned by the value and unmapped on drop; the second
        // page is made unreadable.
        unsafe {
            let page = libc::sysconf(libc::_SC_PAGESIZE) as usize;
            let flags = libc::MAP_PRIVATE | libc::MAP_ANONYMOUS;
            let base = libc::mmap(null_mut(), 2 * page, libc::PROT_READ | libc::PROT_WRITE, flags, -1, 0);
            assert_ne!(base, libc::MAP_FAILED);
            assert_eq!(libc::mprotect(base.cast::<u8>().add(page).cast(), page, libc::PROT_NONE), 0);
            GuardedPage { base: base.cast(), page }
        }
    }

    /// A copy of `items` that ends where the unreadable page begins.
    fn place<T: Copy>(&self, items: &[T]) -> *const T {
        let bytes = std::mem::size_of_val(items);
        assert!(bytes <= self.page);
        // SAFETY: the copy lies inside the first, writable page; it starts at a multiple of T's size below a
        // page boundary, so it is aligned for T.
        unsafe {
            let start = self.base.add(self.page - bytes).cast::<T>();
            std::ptr::copy_nonoverlapping(items.as_ptr(), start, items.len());
            start
        }
    }
}

#[cfg(unix)]
impl Drop for GuardedPage {
    fn drop(&mut self) {
        // SAFETY: the mapping made in `new`, not used after this.
        unsafe { libc::munmap(self.base.cast(), 2 * self.page) };
    }
}

#[cfg(unix)]
#[test]
fn a_style_mask_count_that_differs_from_the_styles_in_use_is_refused_before_the_masks_are_read() {
    let engine = Engine::new();
    let preset = quick_preset();
    let content = Buffer::gradient(32, 16, NstPixelFormat::NstRgb8);
    let style = Buffer::gradient(24, 24, NstPixelFormat::NstRgb8);
    let mask = Buffer::gradient(32, 16, NstPixelFormat::NstGray8);
    let guard = GuardedPage::new();
    // One mask in the array, against the unreadable page: reading a second one would fault.
    let masks = guard.place(&[mask.view()]);
    let styles = [style.view()];
    let run = |claimed: usize, host_styles: usize| {
        let mut o = overrides();
        o.iterations = 2;
        o.style_masks = masks;
        o.style_mask_count = claimed;
        let mut output = Buffer::filled(&content, 0xAB);
        let styles_ptr = if host_styles == 0 { null() } else { styles.as_ptr() };
        let status = stylize(
            engine.0,
            preset.as_ptr(),
            Some(&o),
            Some(&content.view()),
            styles_ptr,
            host_styles,
            Some(&output.view_mut()),
            None,
            null_mut(),
        );
        (status, output)
    };
    for (claimed, host_styles) in [(3, 1), (2, 0)] {
        let (status, output) = run(claimed, host_styles);
        let message = last_error();
        assert_eq!(status, NstStatus::NstInvalidArgument, "{claimed} masks for {host_styles} host styles: {message}");
        assert!(message.contains(&format!("{claimed} style masks for the 1 style images in use")), "{message}");
        assert!(output.bytes.iter().all(|b| *b == 0xAB), "a refused run wrote the output");
    }
    // The right count (one host style, or the preset's one style image) reads the one mask and runs.
    for host_styles in [1, 0] {
        let (status, _) = run(1, host_styles);
        assert_eq!(status, NstStatus::NstOk, "{}", last_error());
    }
}

#[cfg(unix)]
#[test]
fn style_weight_and_style_counts_are_checked_before_their_arrays_are_read() {
    let engine = Engine::new();
    let preset = quick_preset();
    let content = Buffer::gradient(32, 16, NstPixelFormat::NstRgb8);
    let style = Buffer::gradient(24, 24, NstPixelFormat::NstRgb8);
    let guard = GuardedPage::new();
    let weights_guard = GuardedPage::new();
    // One style view and one weight, each against an unreadable page: reading a second one would fault.
    let styles = guard.place(&[style.view()]);
    let weights = weights_guard.place(&[0.5f32]);
    let run = |style_count: usize, weight_count: usize| {
        let mut o = overrides();
        o.iterations = 2;
        o.style_weights = weights;
        o.style_weight_count = weight_count;
        let mut output = Buffer::filled(&content, 0xAB);
        let status = stylize(
            engine.0,
            preset.as_ptr(),
            Some(&o),
            Some(&content.view()),
            styles,
            style_count,
            Some(&output.view_mut()),
            None,
            null_mut(),
        );
        (status, last_error(), output)
    };
    let (status, message, output) = run(1, 2);
    assert_eq!(status, NstStatus::NstInvalidArgument, "{message}");
    assert!(message.contains("style_weight_count 2 differs from style_count 1"), "{message}");
    assert!(output.bytes.iter().all(|b| *b == 0xAB), "a refused run wrote the output");
    let (status, message, _) = run(65, 65);
    assert_eq!(status, NstStatus::NstInvalidArgument, "{message}");
    assert!(message.contains("style_count 65 is more than 64"), "{message}");
    for weight_count in [1, 0] {
        let (status, message, _) = run(1, weight_count);
        assert_eq!(status, NstStatus::NstOk, "{weight_count}: {message}");
    }
}
