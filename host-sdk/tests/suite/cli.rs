//! The `nst` command as a user runs it: real files in, real files out, messages on failure.

use crate::support::{nst, quick_preset, repo, scratch, text};
use image::{DynamicImage, GenericImageView, ImageBuffer, Rgba};

fn mean_abs_difference(a: &DynamicImage, b: &DynamicImage) -> f64 {
    let (a, b) = (a.to_rgb32f(), b.to_rgb32f());
    a.as_raw().iter().zip(b.as_raw()).map(|(x, y)| (x - y).abs() as f64).sum::<f64>() / a.as_raw().len() as f64
}

#[test]
fn stylize_at_64px_writes_a_stylized_image_and_says_what_ran() {
    let dir = scratch("e2e");
    let out = dir.join("out.png");
    let content = repo().join("presets/samples/astronaut.png");
    let before = std::fs::read(&content).unwrap();
    let output = nst(&[
        "stylize",
        content.to_str().unwrap(),
        "--preset",
        "mosaic",
        "-o",
        out.to_str().unwrap(),
        "--size",
        "64",
        "--iterations",
        "15",
        "--provider",
        "cpu",
    ]);
    let log = text(&output);
    println!("{log}");
    assert!(output.status.success(), "{log}");
    assert!(log.contains("built-in random-weight VGG19") && log.contains("not pretrained"), "{log}");
    assert!(log.contains("provider:  cpu (plugin ") && log.contains("nst model fetch"), "{log}");
    let result = image::open(&out).unwrap();
    assert_eq!(result.dimensions(), (64, 64));
    let reference = image::open(&content).unwrap().resize_exact(64, 64, image::imageops::FilterType::CatmullRom);
    let difference = mean_abs_difference(&result, &reference);
    println!("mean absolute difference to the content: {difference:.4}");
    assert!(difference > 0.02, "output hardly differs from the content: {difference}");
    assert_eq!(std::fs::read(&content).unwrap(), before, "the input was modified");
    assert!(std::fs::read_dir(&dir).unwrap().count() == 1, "a temporary file was left behind");
}

#[test]
fn alpha_survives_and_16_bit_tiff_is_written() {
    let dir = scratch("alpha");
    let content = dir.join("rgba.png");
    let rgba = ImageBuffer::from_fn(48, 32, |x, y| Rgba([(x * 5) as u8, (y * 7) as u8, 128, (x * 255 / 47) as u8]));
    rgba.save(&content).unwrap();
    let out = dir.join("out.tiff");
    let output = nst(&[
        "stylize",
        content.to_str().unwrap(),
        "--preset",
        "waves",
        "-o",
        out.to_str().unwrap(),
        "--size",
        "48",
        "--iterations",
        "5",
        "--16-bit",
        "-q",
    ]);
    assert!(output.status.success(), "{}", text(&output));
    let result = image::open(&out).unwrap();
    assert!(matches!(result, DynamicImage::ImageRgba16(_)), "{:?}", result.color());
    assert_eq!(result.dimensions(), (48, 32));
    let alpha_error = result
        .to_rgba16()
        .pixels()
        .zip(rgba.pixels())
        .map(|(a, b)| (a.0[3] as f64 / 65535.0 - b.0[3] as f64 / 255.0).abs())
        .fold(0.0, f64::max);
    assert!(alpha_error < 1e-3, "alpha changed by up to {alpha_error}");
}

#[test]
fn jpeg_and_webp_inputs_are_read_and_jpeg_is_written() {
    let dir = scratch("formats");
    let source = image::open(repo().join("presets/samples/chelsea.png")).unwrap();
    let (jpeg, webp) = (dir.join("in.jpg"), dir.join("in.webp"));
    source.to_rgb8().save(&jpeg).unwrap();
    source.to_rgb8().save(&webp).unwrap();
    for input in [&jpeg, &webp] {
        let out = dir.join("out.jpg");
        let output = nst(&[
            "stylize",
            input.to_str().unwrap(),
            "--preset",
            "strokes",
            "-o",
            out.to_str().unwrap(),
            "--size",
            "40",
            "--iterations",
            "3",
            "-q",
        ]);
        assert!(output.status.success(), "{}: {}", input.display(), text(&output));
        assert_eq!(image::open(&out).unwrap().dimensions(), (40, 27));
    }
}

#[test]
fn bad_input_fails_with_a_message_and_writes_nothing() {
    let dir = scratch("bad");
    let content = repo().join("presets/samples/astronaut.png");
    let out = dir.join("out.png");
    let preset = dir.join("broken.toml");
    std::fs::write(&preset, "version = 1\n[style]\nimages = [\"missing.png\"]\n").unwrap();
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec!["--preset".into(), preset.display().to_string()],
            "line 3, key `style.images`: file 'missing.png' not found",
        ),
        (vec!["--preset".into(), "mosaic".into(), "--size".into(), "9".into()], "size 9 is outside 16..=8192"),
        // Refused before the content is resized: these once tried to allocate terabytes and aborted.
        (
            vec!["--preset".into(), "mosaic".into(), "--size".into(), "2000000".into()],
            "size 2000000 is outside 16..=8192",
        ),
        (vec!["--preset".into(), "mosaic".into(), "--size".into(), "60000".into()], "size 60000 is outside 16..=8192"),
        (
            vec!["--preset".into(), "mosaic".into(), "--provider".into(), "tpu".into()],
            "unknown execution provider 'tpu'",
        ),
        (
            vec!["--preset".into(), "mosaic".into(), "--model".into(), "/nonexistent.onnx".into()],
            "cannot read model file /nonexistent.onnx",
        ),
        (
            vec![
                "--preset".into(),
                "mosaic".into(),
                "--size".into(),
                "1024".into(),
                "--memory-budget".into(),
                "64".into(),
            ],
            "more than the memory budget of 64 MiB",
        ),
    ];
    for (extra, expected) in cases {
        let mut args =
            vec!["stylize".to_string(), content.display().to_string(), "-o".into(), out.display().to_string()];
        args.extend(extra);
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let output = nst(&refs);
        let log = text(&output);
        assert_eq!(output.status.code(), Some(1), "{log}");
        assert!(log.contains(expected), "expected '{expected}' in: {log}");
        assert!(!out.exists(), "an output was written despite the error");
    }
    // A decompression bomb: the fuzz seed whose PNG header claims 60000 x 60000 pixels.
    let bomb = repo().join("fuzz/seeds/image_decode/claims-60000x60000.png");
    let output = nst(&["stylize", bomb.to_str().unwrap(), "--preset", "mosaic", "-o", out.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    assert!(text(&output).contains("too large"), "{}", text(&output));
    assert!(!out.exists());
    let same = nst(&["stylize", content.to_str().unwrap(), "--preset", "mosaic", "-o", content.to_str().unwrap()]);
    assert!(text(&same).contains("is the content") && text(&same).contains("never overwritten"), "{}", text(&same));
}

#[test]
fn bench_reports_every_field_per_size_as_json() {
    let output = nst(&["bench", "--size", "32", "--size", "48", "--evaluations", "1", "--json", "--provider", "cpu"]);
    assert!(output.status.success(), "{}", text(&output));
    let rows: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 2);
    for (row, size) in rows.iter().zip([32.0, 48.0]) {
        assert_eq!(row["size"].as_f64(), Some(size));
        for field in [
            "seconds_per_evaluation",
            "conv_gflop",
            "achieved_gflops",
            "peak_gflops",
            "ratio_to_floor",
            "peak_rss_mb",
            "saved_activations_mb",
        ] {
            assert!(row[field].as_f64().is_some_and(|v| v > 0.0), "{field} in {row}");
        }
        let share = row["rust_share"].as_f64().unwrap();
        assert!((0.0..1.0).contains(&share), "{row}");
    }
}

#[test]
fn a_preview_is_written_early_while_the_full_result_computes() {
    let dir = scratch("preview");
    let (out, preview) = (dir.join("out.png"), dir.join("preview.png"));
    let content = repo().join("presets/samples/chelsea.png");
    let output = nst(&[
        "stylize",
        content.to_str().unwrap(),
        "--preset",
        "mosaic",
        "-o",
        out.to_str().unwrap(),
        "--size",
        "300",
        "--iterations",
        "4",
        "--preview",
        preview.to_str().unwrap(),
        "--preview-at",
        "2",
        "--provider",
        "cpu",
    ]);
    let log = text(&output);
    assert!(output.status.success(), "{log}");
    assert!(log.contains(&format!("preview written to {}", preview.display())), "{log}");
    // The preview is low-resolution (long side 256) with the output's aspect; the output is full size.
    assert_eq!(image::open(&preview).unwrap().dimensions(), (256, 171));
    assert_eq!(image::open(&out).unwrap().dimensions(), (300, 200));
}

#[test]
fn without_preview_at_the_preview_comes_after_the_presets_output_preview_at() {
    let dir = scratch("preview-preset");
    let content = repo().join("presets/samples/chelsea.png");
    let mosaic = std::fs::read_to_string(repo().join("presets/mosaic.toml"))
        .unwrap()
        .replace("\"images/mosaic.png\"", &format!("'{}'", repo().join("presets/images/mosaic.png").display()));
    // A preview after iteration 2 of 3 is written; the preset's 50 lies past the run that --iterations shortened,
    // so the preview comes after its last iteration, 3 (the default, a fifth of the iterations, would have come
    // after the first).
    for (at, written) in [(2, true), (50, true)] {
        let preset = dir.join(format!("preview-{at}.toml"));
        std::fs::write(&preset, mosaic.replace("size = 256", &format!("size = 48\npreview_at = {at}"))).unwrap();
        let (out, preview) = (dir.join(format!("out-{at}.png")), dir.join(format!("preview-{at}.png")));
        let output = nst(&[
            "stylize",
            content.to_str().unwrap(),
            "--preset",
            preset.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--iterations",
            "3",
            "--preview",
            preview.to_str().unwrap(),
            "-q",
        ]);
        let log = text(&output);
        assert!(output.status.success(), "{log}");
        assert_eq!(preview.exists(), written, "preview_at = {at}: {log}");
    }
}

#[test]
fn style_and_content_masks_are_read_from_files_and_checked() {
    let dir = scratch("masks");
    let content = repo().join("presets/samples/chelsea.png");
    let left = dir.join("left.png");
    let right = dir.join("right.png");
    image::GrayImage::from_fn(40, 30, |x, _| image::Luma([if x < 20 { 255 } else { 0 }])).save(&left).unwrap();
    image::GrayImage::from_fn(40, 30, |x, _| image::Luma([if x < 20 { 0 } else { 255 }])).save(&right).unwrap();
    let red = dir.join("red.png");
    let blue = dir.join("blue.png");
    ImageBuffer::from_fn(32, 32, |x, y| Rgba([200 + ((x * 7 + y * 3) % 50) as u8, 30, 20, 255])).save(&red).unwrap();
    ImageBuffer::from_fn(32, 32, |x, y| Rgba([20, 40, 200 + ((x * 5 + y * 11) % 50) as u8, 255])).save(&blue).unwrap();
    let out = dir.join("out.png");
    let (c, o, l, r) =
        (content.to_str().unwrap(), out.to_str().unwrap(), left.to_str().unwrap(), right.to_str().unwrap());
    let base = ["stylize", c, "--preset", "mosaic", "--size", "64", "--iterations", "30", "-o", o, "-q"];
    let styles = ["--style", red.to_str().unwrap(), "--style", blue.to_str().unwrap()];
    let run = nst(&[&base[..], &styles, &["--style-mask", l, "--style-mask", r, "--content-mask", r]].concat());
    assert!(run.status.success(), "{}", text(&run));
    let result = image::open(&out).unwrap().to_rgb8();
    let red_minus_blue = |left: bool| {
        let pixels: Vec<i32> = result
            .enumerate_pixels()
            .filter(|(x, _, _)| (*x < result.width() / 2) == left)
            .map(|(_, _, p)| p[0] as i32 - p[2] as i32)
            .collect();
        pixels.iter().sum::<i32>() as f64 / pixels.len() as f64
    };
    let (on_left, on_right) = (red_minus_blue(true), red_minus_blue(false));
    println!("red minus blue: left {on_left:.1}, right {on_right:.1}");
    assert!(on_left - on_right > 40.0, "left {on_left}, right {on_right}");

    std::fs::remove_file(&out).unwrap();
    let one_mask = nst(&[&base[..], &styles, &["--style-mask", l]].concat());
    assert_eq!(one_mask.status.code(), Some(1));
    assert!(text(&one_mask).contains("1 style masks for the 2 style images in use"), "{}", text(&one_mask));
    assert!(!out.exists());
}

#[test]
fn a_degenerate_output_is_refused_with_the_size_that_would_do() {
    let dir = scratch("strip");
    let out = dir.join("out.png");
    for (width, height, size, expected) in [
        (16, 10_000, "64", "the output would be 1x64 pixels (content 16x10000): each side must be at least 16"),
        (
            40,
            400,
            "64",
            "the output would be 6x64 pixels (content 40x400): each side must be at least 16 pixels; use a --size of at least 160",
        ),
    ] {
        let strip = dir.join(format!("strip-{width}x{height}.png"));
        image::RgbImage::from_pixel(width, height, image::Rgb([90, 120, 150])).save(&strip).unwrap();
        let output = nst(&[
            "stylize",
            strip.to_str().unwrap(),
            "--preset",
            "mosaic",
            "--size",
            size,
            "-o",
            out.to_str().unwrap(),
        ]);
        assert_eq!(output.status.code(), Some(1), "{}", text(&output));
        assert!(text(&output).contains(expected), "{}", text(&output));
        assert!(!out.exists());
    }
}

#[test]
fn a_photo_turned_by_its_exif_orientation_comes_out_upright() {
    use image::ImageEncoder;
    // Orientation 6 (rotate 90 degrees clockwise to show), as a camera held upright writes it.
    const EXIF_ROTATE_90: [u8; 26] =
        [b'I', b'I', 42, 0, 8, 0, 0, 0, 1, 0, 0x12, 0x01, 3, 0, 1, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0];
    let dir = scratch("exif");
    // Stored 64 wide and 32 high: red on the left, blue on the right.
    let pixels: Vec<u8> = (0..64 * 32).flat_map(|i| if i % 64 < 32 { [220, 30, 30] } else { [30, 30, 220] }).collect();
    let photo = dir.join("turned.jpg");
    let mut jpeg = Vec::new();
    let mut encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 95);
    encoder.set_exif_metadata(EXIF_ROTATE_90.to_vec()).unwrap();
    encoder.write_image(&pixels, 64, 32, image::ExtendedColorType::Rgb8).unwrap();
    std::fs::write(&photo, jpeg).unwrap();
    let out = dir.join("out.png");
    let preset = quick_preset(&dir);
    let output = nst(&[
        "stylize",
        photo.to_str().unwrap(),
        "--preset",
        preset.to_str().unwrap(),
        "--iterations",
        "1",
        "-o",
        out.to_str().unwrap(),
        "-q",
    ]);
    assert!(output.status.success(), "{}", text(&output));
    let result = image::open(&out).unwrap().to_rgb8();
    // Upright: 32 wide, 64 high (at the quick preset's 32 px long side: 16 x 32), the red half on top.
    assert_eq!(result.dimensions(), (16, 32));
    let red_minus_blue = |rows: std::ops::Range<u32>| {
        rows.flat_map(|y| (0..16).map(move |x| (x, y)))
            .map(|(x, y)| result.get_pixel(x, y)[0] as f64 - result.get_pixel(x, y)[2] as f64)
            .sum::<f64>()
            / (16.0 * 16.0)
    };
    let (top, bottom) = (red_minus_blue(0..16), red_minus_blue(16..32));
    println!("red minus blue: top {top:.1}, bottom {bottom:.1}");
    assert!(top > 40.0 && bottom < -40.0, "top {top:.1}, bottom {bottom:.1}");
}

#[test]
fn presets_are_listed_without_onnx_runtime() {
    crate::support::plugin_path();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_nst"))
        .arg("presets")
        .env("ORT_DYLIB_PATH", "/nonexistent/libonnxruntime.so")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output));
    let listed = text(&output);
    for name in ["auvers", "mosaic", "strokes", "waves"] {
        assert!(listed.lines().any(|line| line.starts_with(name)), "{name} missing from: {listed}");
    }
    let missing = nst(&["presets", "--presets-dir", "/nonexistent-presets"]);
    assert_eq!(missing.status.code(), Some(1), "{}", text(&missing));
}

#[test]
fn a_photo_in_a_wide_colour_profile_is_written_back_in_it() {
    use image::{ImageDecoder, ImageEncoder};
    let dir = scratch("icc");
    let icc = moxcms::ColorProfile::new_pro_photo_rgb().encode().unwrap();
    let photo = dir.join("prophoto.png");
    let mut png = Vec::new();
    let mut encoder = image::codecs::png::PngEncoder::new(&mut png);
    encoder.set_icc_profile(icc.clone()).unwrap();
    let stored = [150u8, 110, 90];
    let pixels: Vec<u8> = (0..32 * 32).flat_map(|_| stored).collect();
    encoder.write_image(&pixels, 32, 32, image::ExtendedColorType::Rgb8).unwrap();
    std::fs::write(&photo, png).unwrap();
    let out = dir.join("out.png");
    let preset = quick_preset(&dir);
    // No style: the run gives the content back, through sRGB and back into ProPhoto.
    let args = ["--style-weight", "0", "--iterations", "1", "-q"];
    let output =
        nst(
            &[
                &[
                    "stylize",
                    photo.to_str().unwrap(),
                    "--preset",
                    preset.to_str().unwrap(),
                    "-o",
                    out.to_str().unwrap(),
                ][..],
                &args,
            ]
            .concat(),
        );
    assert!(output.status.success(), "{}", text(&output));
    let mut decoder =
        image::codecs::png::PngDecoder::new(std::io::BufReader::new(std::fs::File::open(&out).unwrap())).unwrap();
    assert_eq!(decoder.icc_profile().unwrap(), Some(icc), "the output does not carry the content's profile");
    let result = image::DynamicImage::from_decoder(decoder).unwrap().to_rgb8();
    let worst = result.pixels().flat_map(|p| p.0.iter().zip(stored).map(|(a, b)| a.abs_diff(b))).max().unwrap();
    println!("largest difference from the stored ProPhoto values: {worst}");
    assert!(worst <= 3, "the colours moved by up to {worst} levels");
}

/// Ctrl-C during a long run stops it after the current iteration: the command ends promptly, says it was
/// cancelled, and writes no output. Unix sends SIGINT; Windows sends Ctrl-Break to a new process group (Ctrl-C
/// cannot be sent to one), which the same console handler takes.
#[test]
#[cfg_attr(
    windows,
    ignore = "Wine sends no console control events between processes; scripts/test-windows step 4 covers Ctrl-C"
)]
fn an_interrupt_stops_the_run_after_the_current_iteration_and_writes_nothing() {
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};
    let dir = scratch("interrupt");
    let output = dir.join("out.png");
    let mut command = Command::new(env!("CARGO_BIN_EXE_nst"));
    command
        .args(["stylize", repo().join("presets/samples/chelsea.png").to_str().unwrap(), "--preset", "mosaic"])
        .args(["--size", "96", "--iterations", "5000", "--provider", "cpu", "-o", output.to_str().unwrap()])
        .env("ORT_DYLIB_PATH", crate::support::ort_path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    #[cfg(windows)]
    {
        use std::os::windows::process::CommandExt;
        // Console events need a console to travel through: a test run without one (output piped) makes one,
        // which the child shares.
        // SAFETY: a plain call; it fails harmlessly when this process has a console already.
        unsafe { windows_sys::Win32::System::Console::AllocConsole() };
        command.creation_flags(windows_sys::Win32::System::Threading::CREATE_NEW_PROCESS_GROUP);
    }
    let mut child = command.spawn().unwrap();
    // Long enough for the engine to be optimising (a few seconds of set-up under Wine), far from the run's end.
    std::thread::sleep(Duration::from_secs(6));
    assert!(child.try_wait().unwrap().is_none(), "the run ended before it was interrupted");
    #[cfg(unix)]
    // SAFETY: sends a signal to our own child process.
    unsafe {
        libc::kill(child.id() as libc::pid_t, libc::SIGINT);
    }
    #[cfg(windows)]
    // SAFETY: a plain call; the child leads its own process group.
    unsafe {
        use windows_sys::Win32::System::Console::{CTRL_BREAK_EVENT, GenerateConsoleCtrlEvent};
        assert_ne!(GenerateConsoleCtrlEvent(CTRL_BREAK_EVENT, child.id()), 0, "Ctrl-Break was not sent");
    }
    let interrupted = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if interrupted.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            panic!("the run went on for 30 s after the interrupt");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let result = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&result.stderr);
    println!("stopped {:?} after the interrupt: {stderr}", interrupted.elapsed());
    assert!(!result.status.success(), "{stderr}");
    assert!(stderr.contains("cancelled"), "{stderr}");
    assert!(!output.exists(), "an interrupted run wrote {}", output.display());
    let leftovers: Vec<_> = std::fs::read_dir(&dir).unwrap().flatten().map(|e| e.file_name()).collect();
    assert!(leftovers.is_empty(), "files left behind: {leftovers:?}");
}
