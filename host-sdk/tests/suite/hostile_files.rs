//! The command against files and values that used to hang it, exhaust its memory, or quietly mean something
//! else: FIFOs and endless devices, values outside their documented ranges (flags, jobs files, presets),
//! outputs that cannot be written, and images of more than one picture. Each case must fail at once with a
//! message naming the file or value, before any optimisation.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::support::*;

/// Every refusal here comes before the first iteration: well under this, even on a loaded machine.
const PROMPT: Duration = Duration::from_secs(5);

fn content() -> PathBuf {
    repo().join("presets/images/mosaic.png")
}

/// Runs `nst` with a limit, asserting it failed promptly with `expected` in its output.
fn refused_promptly(args: &[&str], expected: &str) -> String {
    let started = Instant::now();
    let output = crate::support::nst_with_timeout(args, Duration::from_secs(60));
    let elapsed = started.elapsed();
    let message = text(&output);
    assert!(!output.status.success(), "{args:?} succeeded: {message}");
    assert!(message.contains(expected), "{args:?}: expected '{expected}' in: {message}");
    assert!(elapsed < PROMPT, "{args:?} took {elapsed:?}");
    message
}

#[cfg(unix)]
fn fifo(path: &Path) -> PathBuf {
    let name = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
    // SAFETY: a NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(name.as_ptr(), 0o600) }, 0, "mkfifo {}", path.display());
    path.to_path_buf()
}

#[cfg(unix)]
#[test]
fn fifos_and_devices_are_refused_at_once_wherever_a_file_is_named() {
    let dir = scratch("hostile-fifo");
    let out = dir.join("out.png");
    let out = out.to_str().unwrap();
    let pipe = |name: &str| fifo(&dir.join(name)).display().to_string();
    let (content_fifo, style_fifo, preset_fifo, model_fifo, jobs_fifo, mask_fifo) =
        (pipe("c.png"), pipe("s.png"), pipe("p.toml"), pipe("m.onnx"), pipe("jobs.toml"), pipe("mask.png"));
    let content = content();
    let content = content.to_str().unwrap();
    let preset = quick_preset(&dir);
    let preset = preset.to_str().unwrap();
    let fifo_message = "a FIFO (named pipe) is not a regular file";
    refused_promptly(&["stylize", &content_fifo, "-p", preset, "-o", out], fifo_message);
    refused_promptly(&["stylize", content, "-p", preset, "--style", &style_fifo, "-o", out], fifo_message);
    refused_promptly(&["stylize", content, "-p", &preset_fifo, "-o", out], fifo_message);
    refused_promptly(&["stylize", content, "-p", preset, "--model", &model_fifo, "-o", out], fifo_message);
    refused_promptly(&["stylize", content, "-p", preset, "--content-mask", &mask_fifo, "-o", out], fifo_message);
    refused_promptly(&["batch", "--jobs", &jobs_fifo], fifo_message);
    refused_promptly(&["model", "import", &model_fifo, "--name", "piped"], fifo_message);

    let device = "a device is not a regular file";
    refused_promptly(&["stylize", "/dev/zero", "-p", preset, "-o", out], device);
    refused_promptly(&["stylize", content, "-p", "/dev/zero", "-o", out], device);
    refused_promptly(&["stylize", content, "-p", preset, "--model", "/dev/zero", "-o", out], device);
    refused_promptly(&["batch", "--jobs", "/dev/zero"], device);

    // A preset in the presets folder that links to an endless device is listed as not usable, with why.
    let presets = dir.join("presets");
    std::fs::create_dir_all(&presets).unwrap();
    std::fs::copy(preset, presets.join("quick.toml")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", presets.join("endless.toml")).unwrap();
    let listed = refused_promptly(&["presets", "--presets-dir", presets.to_str().unwrap()], "do not load");
    assert!(listed.contains("quick ") && listed.contains("endless") && listed.contains(device), "{listed}");
}

#[test]
fn values_outside_their_documented_ranges_are_refused_on_the_command_line() {
    let dir = scratch("hostile-flags");
    let content = content();
    let (content, out) = (content.to_str().unwrap(), dir.join("out.png"));
    let out = out.to_str().unwrap();
    let cases: &[(&[&str], &str)] = &[
        (&["--iterations", "0"], "--iterations 0 is outside 1..=10000"),
        (&["--iterations", "10001"], "--iterations 10001 is outside 1..=10000"),
        (&["--size", "0"], "--size 0 is outside 16..=8192"),
        (&["--style-weight", "-1"], "--style-weight -1 is outside 0..="),
        (&["--style-weight=-inf"], "--style-weight -inf is outside"),
        (&["--style-weight", "NaN"], "--style-weight NaN is outside"),
        (&["--style-scale", "-1"], "--style-scale -1 is outside 0.1..=4"),
        (&["--style-scale", "0"], "--style-scale 0 is outside 0.1..=4"),
        (&["--style-scale", "NaN"], "--style-scale NaN is outside 0.1..=4"),
        (&["--scales", "0"], "--scales 0 is outside 1..=8"),
        (&["--seed", "9223372036854775808"], "--seed 9223372036854775808 is outside 0..=9223372036854775807"),
        (&["--model-seed", "18446744073709551615"], "--model-seed 18446744073709551615 is outside"),
        (&["--style-blend", "0"], "--style-blend 0 is outside (0, 1000000]"),
        (&["--preview", "p.png", "--preview-at", "0"], "--preview-at 0 is outside 1..=10000"),
    ];
    for (flags, expected) in cases {
        let mut args = vec!["stylize", content, "-p", "mosaic", "-o", out];
        args.extend_from_slice(flags);
        refused_promptly(&args, expected);
    }
    // Past the run's last iteration: the plugin knows the run's length, and says it before the work.
    let preview = dir.join("p.png");
    refused_promptly(
        &[
            "stylize",
            content,
            "-p",
            quick_preset(&dir).to_str().unwrap(),
            "-o",
            out,
            "--preview",
            preview.to_str().unwrap(),
            "--preview-at",
            "4",
        ],
        "preview iteration 4 is outside the run's iterations 1..=3",
    );
    assert!(!Path::new(out).exists() && !preview.exists());
}

#[test]
fn jobs_files_and_presets_refuse_values_outside_their_ranges_naming_the_line() {
    let dir = scratch("hostile-jobs");
    let content = content();
    let preset = quick_preset(&dir);
    let jobs = dir.join("jobs.toml");
    let cases = [
        ("iterations = 0", "job 2 (line 5): iterations 0 is outside 1..=10000"),
        ("style_weight = -5.0", "job 2 (line 5): style_weight -5 is outside 0..="),
        ("size = 9000", "job 2 (line 5): size 9000 is outside 16..=8192"),
        ("seed = 9223372036854775808", "job 2 (line 5): seed 9223372036854775808 is outside"),
    ];
    for (setting, expected) in cases {
        std::fs::write(
            &jobs,
            format!(
                "[[job]]\ninput = '{c}'\noutput = \"a.png\"\n\n[[job]]\ninput = '{c}'\noutput = \"b.png\"\n{setting}\n",
                c = content.display()
            ),
        )
        .unwrap();
        refused_promptly(&["batch", "--jobs", jobs.to_str().unwrap(), "-p", preset.to_str().unwrap()], expected);
        assert!(!dir.join("a.png").exists(), "a job ran before the bad one was refused");
    }

    // Presets: the file, the line and the key.
    let base = std::fs::read_to_string(&preset).unwrap();
    let preset_cases = [
        (
            "[optimiser]\niterations = 3",
            "[optimiser]\niterations = 0",
            "key `optimiser.iterations`: 0 is outside 1..=10000",
        ),
        ("style_weight = 1e7", "style_weight = -5.0", "key `losses.style_weight`: -5 is outside 0..="),
        ("size = 32", "size = 0", "key `output.size`: 0 is outside 16..=8192"),
        ("[output]", "[multiscale]\nscales = 0\n[output]", "key `multiscale.scales`: 0 is outside 1..=8"),
    ];
    for (from, to, expected) in preset_cases {
        let bad = dir.join("bad.toml");
        std::fs::write(&bad, base.replace(from, to)).unwrap();
        let message = refused_promptly(
            &[
                "stylize",
                content.to_str().unwrap(),
                "-p",
                bad.to_str().unwrap(),
                "-o",
                dir.join("o.png").to_str().unwrap(),
            ],
            expected,
        );
        assert!(message.contains("bad.toml, line "), "{message}");
    }
}

#[test]
fn outputs_that_cannot_be_written_are_refused_in_under_a_second() {
    let dir = scratch("hostile-output");
    let content = content();
    let preset = quick_preset(&dir);
    let (content, preset) = (content.to_str().unwrap(), preset.to_str().unwrap());
    let read_only = dir.join("kept.png");
    std::fs::write(&read_only, b"keep me").unwrap();
    let mut permissions = std::fs::metadata(&read_only).unwrap().permissions();
    permissions.set_readonly(true);
    std::fs::set_permissions(&read_only, permissions).unwrap();
    let long_name = dir.join(format!("{}.png", "a".repeat(250)));
    let cases: Vec<(PathBuf, &str)> = vec![
        (dir.join("missing/out.png"), "the folder"),
        (dir.clone(), "is a folder: name an image file in it"),
        (PathBuf::from("/dev/full"), "has no file extension"),
        (read_only.clone(), "is read-only"),
        // The operating system's own words follow "cannot write in FOLDER:".
        (long_name, if cfg!(windows) { "cannot write in" } else { "File name too long" }),
    ];
    for (output, expected) in cases {
        let started = Instant::now();
        let message = refused_promptly(&["stylize", content, "-p", preset, "-o", output.to_str().unwrap()], expected);
        let elapsed = started.elapsed();
        println!("{} -> {message:?} in {elapsed:?}", output.display());
        assert!(elapsed < Duration::from_secs(1), "{} took {elapsed:?}", output.display());
    }
    assert_eq!(std::fs::read(&read_only).unwrap(), b"keep me");
}

/// Unix only: the preview's disk fills mid-run through a full tmpfs (root) or the process's file-size limit.
#[cfg(unix)]
#[test]
fn a_preview_that_cannot_be_written_is_a_warning_and_the_result_is_still_written() {
    use std::os::unix::process::CommandExt;

    let dir = scratch("hostile-preview");
    // A JPEG result is far smaller than the PNG preview, so a file-size limit between them stops only the preview.
    let (out, full) = (dir.join("out.jpg"), dir.join("full"));
    std::fs::create_dir_all(&full).unwrap();
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=4096", "tmpfs", full.to_str().unwrap()])
        .output()
        .is_ok_and(|o| o.status.success());
    if mounted {
        // Filled to the last byte: creating the empty temporary file still works, writing the preview does not.
        let mut filler = std::fs::File::create(full.join("filler")).unwrap();
        while std::io::Write::write_all(&mut filler, &[0u8; 512]).is_ok() {}
    }
    let preview = full.join("preview.png");
    let mut command = Command::new(env!("CARGO_BIN_EXE_nst"));
    command.args(["stylize", content().to_str().unwrap(), "-p", quick_preset(&dir).to_str().unwrap()]);
    command.args(["-o", out.to_str().unwrap(), "--size", "64", "--preview", preview.to_str().unwrap(), "-q"]);
    command.env("ORT_DYLIB_PATH", ort_path());
    if !mounted {
        // SAFETY: only async-signal-safe calls between fork and exec.
        unsafe {
            command.pre_exec(|| {
                libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
                let rlimit = libc::rlimit { rlim_cur: 4096, rlim_max: 4096 };
                libc::setrlimit(libc::RLIMIT_FSIZE, &rlimit);
                Ok(())
            });
        }
    }
    let output = command.output().unwrap();
    let message = text(&output);
    let leftovers: Vec<String> = std::fs::read_dir(&full)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with('.'))
        .collect();
    if mounted {
        let _ = Command::new("umount").arg(&full).status();
    }
    assert!(output.status.success(), "{message}");
    assert!(message.contains("warning: the preview was not written"), "{message}");
    assert!(message.contains("No space left on device") || message.contains("File too large"), "{message}");
    assert!(image::open(&out).is_ok(), "the result was not written: {message}");
    assert!(!preview.exists(), "a preview was written: {message}");
    assert!(leftovers.is_empty(), "temporary files left behind: {leftovers:?}");
}

/// A link planted where the old predictable temporary names were (`.out.png.partial`) must not redirect the
/// output or the preview onto another file, an input included.
#[cfg(unix)]
#[test]
fn links_planted_beside_the_output_are_not_followed() {
    let dir = scratch("hostile-links");
    let victim = dir.join("victim.png");
    std::fs::copy(content(), &victim).unwrap();
    let before = std::fs::read(&victim).unwrap();
    let (out, preview) = (dir.join("out.png"), dir.join("preview.png"));
    for name in [".out.png.partial", ".preview.png.partial"] {
        std::os::unix::fs::symlink(&victim, dir.join(name)).unwrap();
    }
    let output = nst(&[
        "stylize",
        victim.to_str().unwrap(),
        "-p",
        quick_preset(&dir).to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--preview",
        preview.to_str().unwrap(),
        "-q",
    ]);
    assert!(output.status.success(), "{}", text(&output));
    assert_eq!(std::fs::read(&victim).unwrap(), before, "the input was written through a link");
    assert!(image::open(&out).is_ok() && image::open(&preview).is_ok());
    assert!(std::fs::symlink_metadata(&out).unwrap().file_type().is_file(), "the output is not a file of its own");
}

/// A PNG with an `acTL` chunk after its header: an animation of `frames` frames to any reader.
fn animated_png(frames: u32) -> Vec<u8> {
    let mut png = Vec::new();
    image::RgbImage::from_pixel(32, 32, image::Rgb([200, 100, 50]))
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    let after_header = 8 + 12 + 13;
    let data = [frames.to_be_bytes(), 0u32.to_be_bytes()].concat();
    let mut chunk = (data.len() as u32).to_be_bytes().to_vec();
    chunk.extend(b"acTL");
    chunk.extend(&data);
    let crc = crc32(&chunk[4..]);
    chunk.extend(crc.to_be_bytes());
    png.splice(after_header..after_header, chunk);
    png
}

#[test]
fn images_of_several_pictures_are_refused_as_content_and_style() {
    let dir = scratch("hostile-frames");
    let animation = dir.join("animation.png");
    std::fs::write(&animation, animated_png(4)).unwrap();
    let preset = quick_preset(&dir);
    let out = dir.join("out.png");
    let expected = "holds an animation of 4 frames: nst takes one picture";
    refused_promptly(
        &["stylize", animation.to_str().unwrap(), "-p", preset.to_str().unwrap(), "-o", out.to_str().unwrap()],
        expected,
    );
    let content = content();
    refused_promptly(
        &[
            "stylize",
            content.to_str().unwrap(),
            "-p",
            preset.to_str().unwrap(),
            "--style",
            animation.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ],
        expected,
    );
    // The same file as a preset's style image is refused by the plugin's reader.
    let text = std::fs::read_to_string(&preset).unwrap();
    let animated_preset = dir.join("animated.toml");
    let style = repo().join("presets/images/mosaic.png").display().to_string();
    std::fs::write(&animated_preset, text.replace(&style, animation.to_str().unwrap())).unwrap();
    refused_promptly(
        &["stylize", content.to_str().unwrap(), "-p", animated_preset.to_str().unwrap(), "-o", out.to_str().unwrap()],
        expected,
    );
}

#[cfg(unix)]
#[test]
fn a_symlink_loop_fails_its_own_job_and_the_batch_goes_on() {
    let dir = scratch("hostile-loop");
    let inputs = dir.join("in");
    std::fs::create_dir_all(&inputs).unwrap();
    std::fs::copy(content(), inputs.join("good.png")).unwrap();
    let looped = inputs.join("loop.png");
    std::os::unix::fs::symlink(&looped, &looped).unwrap();
    let out = dir.join("out");
    let preset = quick_preset(&dir);
    let output = nst(&[
        "batch",
        inputs.join("good.png").to_str().unwrap(),
        looped.to_str().unwrap(),
        "-p",
        preset.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "-q",
    ]);
    let message = text(&output);
    assert!(!output.status.success(), "{message}");
    assert!(out.join("good.png").is_file(), "{message}");
    assert!(message.contains("FAILED") && message.contains("symbolic links"), "{message}");
    assert!(message.contains("1 done") && message.contains("1 failed"), "{message}");
}

#[test]
fn a_job_whose_output_is_its_input_is_refused_before_any_work() {
    let dir = scratch("hostile-self");
    let photo = dir.join("photo.png");
    std::fs::copy(content(), &photo).unwrap();
    let before = std::fs::read(&photo).unwrap();
    let jobs = dir.join("jobs.toml");
    std::fs::write(&jobs, "[[job]]\ninput = \"photo.png\"\noutput = \"photo.png\"\n").unwrap();
    let message = refused_promptly(
        &["batch", "--jobs", jobs.to_str().unwrap(), "-p", quick_preset(&dir).to_str().unwrap()],
        "photo.png",
    );
    assert!(!message.contains("skipped"), "{message}");
    assert!(message.contains("job 1's output") && message.contains("job 1's input"), "{message}");
    assert_eq!(std::fs::read(&photo).unwrap(), before);
}

/// What a crafted description would do on a terminal: clear it, recolour it, overwrite the line (CR), or print
/// a line of its own (LF) that looks like the command's.
const TERMINAL_TRICKS: &str = "calm\u{1b}[2J\u{1b}[31m\rnst: wrote /etc/passwd\nnst: wrote /etc/shadow\u{7}";

fn assert_no_raw_controls(output: &std::process::Output) {
    let printed = text(output);
    for (i, line) in printed.lines().enumerate() {
        assert!(
            !line.chars().any(|c| c.is_control() && c != '\t'),
            "line {i} carries a raw control character: {line:?}"
        );
        assert!(!line.starts_with("nst: wrote"), "a description printed a line of its own: {printed}");
    }
    assert!(printed.contains("\\u{1b}[2J"), "the escape is not shown escaped: {printed}");
}

#[test]
fn control_characters_from_preset_and_model_files_are_printed_escaped() {
    let dir = scratch("hostile-controls");
    let presets = dir.join("presets");
    std::fs::create_dir_all(&presets).unwrap();
    let escaped_toml = TERMINAL_TRICKS
        .replace('\u{1b}', "\\u001b")
        .replace('\r', "\\r")
        .replace('\n', "\\n")
        .replace('\u{7}', "\\u0007");
    let image = crate::support::repo().join("presets/images/mosaic.png");
    std::fs::write(
        presets.join("tricky.toml"),
        format!("version = 1\ndescription = \"{escaped_toml}\"\n[style]\nimages = ['{}']\n", image.display()),
    )
    .unwrap();
    let listed = nst(&["presets", "--presets-dir", presets.to_str().unwrap()]);
    assert!(listed.status.success(), "{}", text(&listed));
    assert_no_raw_controls(&listed);

    // A model whose manifest (from a source file's metadata) says the same.
    let models = dir.join("models");
    std::fs::create_dir_all(&models).unwrap();
    std::fs::write(models.join("tricky.safetensors"), b"not read by the listing").unwrap();
    std::fs::write(
        models.join("tricky.toml"),
        format!(
            "name = \"tricky\"\ndescription = \"{escaped_toml}\"\nsource = \"{escaped_toml}\"\nsource_sha256 = \"00\"\nstored_sha256 = \"00\"\nlicence = \"x\"\ndate = \"2026-12-02\"\n"
        ),
    )
    .unwrap();
    let listed =
        Command::new(env!("CARGO_BIN_EXE_nst")).args(["model", "list"]).env("NST_MODELS", &models).output().unwrap();
    assert!(listed.status.success(), "{}", text(&listed));
    assert_no_raw_controls(&listed);
}

/// A stored model changed after its install (same length, one byte flipped): `nst model list` marks it, and a
/// run that names it is refused before any work, naming the model and the repair.
#[test]
fn a_stored_model_that_no_longer_matches_its_manifest_is_marked_and_refused() {
    use nst_onnx::store::{ModelStore, Provenance};

    let dir = scratch("hostile-damaged-model");
    let models = dir.join("models");
    let store = ModelStore::at(&models);
    let provenance = Provenance { source: "test".into(), source_sha256: "00".into(), licence: "none".into() };
    store.install("vgg19", &nst_onnx::random::random_vgg19(7), &provenance).unwrap();
    let file = store.model_file("vgg19");
    let mut bytes = std::fs::read(&file).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x40;
    std::fs::write(&file, &bytes).unwrap();

    let listed = nst(&["model", "list", "--models-dir", models.to_str().unwrap()]);
    assert!(output_ok(&listed) && text(&listed).contains("DAMAGED"), "{}", text(&listed));
    let output = Command::new(env!("CARGO_BIN_EXE_nst"))
        .args(["stylize", content().to_str().unwrap(), "-p", quick_preset(&dir).to_str().unwrap()])
        .args(["-o", dir.join("out.png").to_str().unwrap(), "--model", "vgg19"])
        .env("ORT_DYLIB_PATH", ort_path())
        .env("NST_MODELS", &models)
        .output()
        .unwrap();
    let message = text(&output);
    assert!(!output.status.success(), "{message}");
    assert!(message.contains("'vgg19'") && message.contains("not the one its manifest describes"), "{message}");
    assert!(!dir.join("out.png").exists());
}

fn output_ok(output: &std::process::Output) -> bool {
    output.status.success()
}
