//! The GIMP 2.10 filter in a real, headless GIMP: installed with scripts/gimp-install into a scratch profile,
//! driven by Script-Fu batch commands. GIMP exits 0 whatever happens, so each case is checked in the log and in
//! the pixels it saved.
//!
//! Unix only: it needs GIMP 2.10 on Linux (headless, bash installer).
#![cfg(unix)]

use std::path::Path;
use std::process::Command;

use crate::support::{build_dir, checks, plugin_path, repo, scratch};
use image::{DynamicImage, GenericImageView, ImageBuffer, Rgb, Rgba};

const SELECTION: (u32, u32, u32, u32) = (8, 8, 32, 24); // x, y, width, height

fn script_case(dir: &Path, body: &str) -> String {
    format!(
        "(let* ((img (car (gimp-file-load RUN-NONINTERACTIVE \"{d}/in.png\" \"in.png\"))) (drw (car (gimp-image-get-active-drawable img)))) {body} (gimp-image-delete img))",
        d = dir.display()
    )
}

fn save(dir: &Path, name: &str) -> String {
    let path = dir.join(name);
    format!("(file-png-save2 RUN-NONINTERACTIVE img drw \"{p}\" \"{p}\" 0 9 0 0 0 0 0 0 0)", p = path.display())
}

/// Script-Fu defining `(state img tag)`: prints the image's dirty flag, channels, selection bounds and active
/// drawable after `tag`, so that a case can show they are the same before and after a run.
const STATE: &str = "(define (state img tag) (gimp-message (string-append tag \": dirty \" (number->string (car (gimp-image-is-dirty img))) \" channels \" (number->string (car (gimp-image-get-channels img))) \" selection \" (apply string-append (map (lambda (v) (string-append (number->string v) \" \")) (gimp-selection-bounds img))) \"active \" (number->string (car (gimp-image-get-active-drawable img))))))";

/// `command` with `state` defined (each batch command has its own environment).
fn with_state(command: String) -> String {
    format!("(begin {STATE} {command})")
}

/// The lines `tag-before: ...` and `tag-after: ...` of `log`, which must be equal.
fn assert_state_kept(log: &str, tag: &str) {
    let line = |when: &str| {
        let key = format!("{tag}-{when}:");
        log.lines().find_map(|l| l.split_once(&key).map(|(_, rest)| rest.trim().to_string()))
    };
    let (before, after) = (line("before"), line("after"));
    assert!(before.is_some(), "no state printed for {tag}:\n{log}");
    assert_eq!(before, after, "{tag} changed the image's state");
}

fn run_gimp(dir: &Path, commands: &[String]) -> String {
    let gimprc = dir.join("gimprc");
    std::fs::write(
        &gimprc,
        format!("(plug-in-path \"{}:${{gimp_plug_in_dir}}/plug-ins\")\n", dir.join("plug-ins").display()),
    )
    .unwrap();
    let mut gimp = Command::new("timeout");
    gimp.args(["600", "gimp-console-2.10", "-i", "-d", "-f", "-c", "-g"]).arg(&gimprc).arg("--stack-trace-mode=never");
    for command in commands {
        gimp.arg("-b").arg(command);
    }
    gimp.arg("-b").arg("(gimp-quit 0)");
    let output = gimp
        .env("GIMP2_DIRECTORY", dir.join("profile"))
        .env("XDG_CACHE_HOME", dir.join("cache"))
        .env("XDG_DATA_HOME", dir.join("data"))
        .env("XDG_CONFIG_HOME", dir.join("config"))
        .output()
        .expect("gimp-console-2.10 must be installed (apt-get install gimp libgimp2.0-dev)");
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

#[test]
fn the_filter_changes_the_selection_only_keeps_alpha_uses_a_style_layer_and_reports_errors() {
    plugin_path();
    let dir = scratch("gimp");
    let install = crate::support::install_gimp2(&dir.join("plug-ins"), &dir.join("gegl"));
    assert!(
        install.status.success(),
        "{}{}",
        String::from_utf8_lossy(&install.stdout),
        String::from_utf8_lossy(&install.stderr)
    );

    // The installed folder carries a commented configuration; a model set there is used.
    let config = std::fs::read_to_string(dir.join("plug-ins/nst/nst.toml")).unwrap();
    assert!(config.contains("# model ="), "{config}");

    let input = ImageBuffer::from_fn(64, 48, |x, y| Rgba([(x * 4) as u8, (y * 5) as u8, 120, (60 + x * 3) as u8]));
    input.save(dir.join("in.png")).unwrap();
    ImageBuffer::from_fn(32, 32, |_, _| Rgb([230u8, 20, 20])).save(dir.join("red.png")).unwrap();
    ImageBuffer::from_fn(32, 32, |_, _| Rgb([20u8, 20, 230])).save(dir.join("blue.png")).unwrap();
    let preset = crate::support::quick_preset(&dir);
    let call = |style: &str| {
        format!("(plug-in-nst-style RUN-NONINTERACTIVE img drw \"{}\" {style} 0 8 1.0 -1 -1 -1)", preset.display())
    };
    checks::detailed(96, 64).save(dir.join("detailed.png")).unwrap();
    let detail_case = |size: i32, name: &str| {
        format!(
            "(let* ((img (car (gimp-file-load RUN-NONINTERACTIVE \"{d}/detailed.png\" \"detailed.png\"))) (drw (car (gimp-image-get-active-drawable img)))) (plug-in-nst-style RUN-NONINTERACTIVE img drw \"{p}\" -1 {size} 8 1.0 -1 -1 -1) {save} (gimp-image-delete img))",
            d = dir.display(),
            p = preset.display(),
            save = save(&dir, name)
        )
    };
    let (sx, sy, sw, sh) = SELECTION;
    let commands = vec![
        // Failed runs leave no undo step, no dirty flag, no channel, and the selection as it was.
        with_state(script_case(
            &dir,
            &format!(
                "(gimp-image-select-rectangle img CHANNEL-OP-REPLACE {sx} {sy} {sw} {sh}) (gimp-image-clean-all img) (state img \"bad-preset-before\") (catch #f (plug-in-nst-style RUN-NONINTERACTIVE img drw \"no-such-preset\" -1 0 3 1.0 -1 -1 -1)) (state img \"bad-preset-after\") {}",
                save(&dir, "unchanged.png")
            ),
        )),
        with_state(script_case(
            &dir,
            "(gimp-image-clean-all img) (state img \"empty-mask-before\") (catch #f (plug-in-nst-style RUN-NONINTERACTIVE img drw \"mosaic\" -1 0 3 1.0 -1 (car (gimp-image-get-selection img)) -1)) (state img \"empty-mask-after\")",
        )),
        detail_case(0, "full-size.png"),
        detail_case(24, "worked-small.png"),
        script_case(
            &dir,
            &format!(
                "(gimp-image-select-rectangle img CHANNEL-OP-REPLACE {sx} {sy} {sw} {sh}) {} {}",
                call("-1"),
                save(&dir, "selection.png")
            ),
        ),
        format!(
            "(let* ((style (car (gimp-file-load RUN-NONINTERACTIVE \"{d}/red.png\" \"red.png\"))) (layer (car (gimp-image-get-active-drawable style)))) {})",
            script_case(&dir, &format!("{} {}", call("layer"), save(&dir, "styled.png"))),
            d = dir.display()
        ),
        script_case(&dir, &format!("{} {}", call("-1"), save(&dir, "control.png"))),
        script_case(
            &dir,
            &format!(
                "(gimp-image-convert-precision img PRECISION-U16-GAMMA) {} {}",
                call("-1"),
                save(&dir, "sixteen.png")
            ),
        ),
        script_case(
            &dir,
            &format!(
                "(gimp-image-convert-precision img PRECISION-FLOAT-LINEAR) {} {}",
                call("-1"),
                save(&dir, "float.png")
            ),
        ),
        script_case(&dir, &format!("(gimp-image-convert-grayscale img) {} {}", call("-1"), save(&dir, "grey.png"))),
        // The selection (left half) as the mask between a red style inside and a blue one outside.
        format!(
            "(let* ((load (lambda (name) (car (gimp-image-get-active-drawable (car (gimp-file-load RUN-NONINTERACTIVE (string-append \"{d}/\" name) name)))))) (red (load \"red.png\")) (blue (load \"blue.png\"))) {})",
            script_case(
                &dir,
                &format!(
                    "(gimp-image-select-rectangle img CHANNEL-OP-REPLACE 0 0 32 48) (plug-in-nst-style RUN-NONINTERACTIVE img drw \"{}\" red 0 8 1.0 -1 (car (gimp-image-get-selection img)) blue) (gimp-message (string-append \"selection after: \" (number->string (cadddr (gimp-selection-bounds img))))) {}",
                    preset.display(),
                    save(&dir, "two-styles.png")
                )
            ),
            d = dir.display()
        ),
    ];
    let log = run_gimp(&dir, &commands);
    println!("{log}");
    assert_eq!(log.matches("batch command executed successfully").count(), commands.len(), "a case failed:\n{log}");
    assert!(!log.contains("Plug-in crashed"), "{log}");
    assert!(log.contains("no preset named 'no-such-preset'"), "the plug-in's message is not in the log:\n{log}");
    assert!(!log.contains("Neural style: failed"), "a doubled message prefix:\n{log}");
    assert!(log.contains("the selection is empty, so it cannot say where the style goes"), "{log}");
    assert_state_kept(&log, "bad-preset");
    assert_state_kept(&log, "empty-mask");
    assert!(!log.contains("inconsistent state"), "{log}");

    // Results come back at the layer's size; worked smaller, they keep the layer's own fine detail, which a
    // plain upscale loses.
    let detailed = DynamicImage::ImageRgba8(checks::detailed(96, 64));
    let full = image::open(dir.join("full-size.png")).unwrap();
    let small = image::open(dir.join("worked-small.png")).unwrap();
    assert_eq!((full.dimensions(), small.dimensions()), ((96, 64), (96, 64)));
    let plain = checks::plain_upscale(&detailed, 24);
    let (kept_full, kept_small, kept_plain) = (
        checks::detail_kept(&full, &detailed),
        checks::detail_kept(&small, &detailed),
        checks::detail_kept(&plain, &detailed),
    );
    println!(
        "fine detail kept (correlation with the layer's): full size {kept_full:.3}, worked at 24 px {kept_small:.3}, plain upscale from 24 px {kept_plain:.3}"
    );
    assert!(kept_full > kept_plain + 0.3, "the full-size result lost the layer's detail");
    assert!(kept_small > kept_plain + 0.3, "the small working size came back as a plain upscale");
    // The installed folder is self-contained: its own library and presets are used.
    assert!(log.contains(&format!("{}/plug-ins/nst/presets", dir.display())), "{log}");

    // The selection changed, nothing outside it did, and alpha is untouched everywhere.
    let selection = image::open(dir.join("selection.png")).unwrap().to_rgba8();
    let mean_change = checks::change_inside_only(&input, &selection, SELECTION);
    println!("mean change inside the selection: {mean_change:.4}");
    assert!(mean_change > 0.02, "the selection hardly changed ({mean_change})");

    // A red style layer pulls the colours towards red, compared with the same run on the preset's style image.
    let redness = checks::redness;
    let styled = image::open(dir.join("styled.png")).unwrap();
    let control = image::open(dir.join("control.png")).unwrap();
    let original = DynamicImage::ImageRgba8(input.clone());
    println!(
        "red minus green: input {:.1}, preset's style {:.1}, red style layer {:.1}",
        redness(&original),
        redness(&control),
        redness(&styled)
    );
    assert!(redness(&styled) > redness(&control) + 10.0, "the style layer was not used");

    // The selection as the mask between two styles: red on the left, blue on the right, both halves changed,
    // and the selection is back as it was (its right edge at x = 32).
    let two = image::open(dir.join("two-styles.png")).unwrap();
    checks::red_left_blue_right(&two, &original);
    assert!(log.contains("selection after: 32"), "the selection was not restored:\n{log}");

    // A bad preset leaves the image as it was.
    assert_eq!(image::open(dir.join("unchanged.png")).unwrap().to_rgba8(), input, "a failed run changed the image");

    // 16-bit stays 16-bit; float and grey images run too.
    let sixteen = image::open(dir.join("sixteen.png")).unwrap();
    assert!(matches!(sixteen, DynamicImage::ImageRgba16(_)), "{:?}", sixteen.color());
    for name in ["sixteen.png", "float.png", "grey.png"] {
        let result = image::open(dir.join(name)).unwrap();
        assert_eq!(result.dimensions(), (64, 48), "{name}");
        let diff = checks::luma_change(&result, &original);
        println!("{name}: mean luma change {diff:.4}");
        assert!(diff > 0.01, "{name} hardly changed");
    }
    assert!(
        matches!(image::open(dir.join("grey.png")).unwrap(), DynamicImage::ImageLumaA8(_)),
        "grey image lost its mode"
    );

    // nst.toml beside the plug-in configures its engine: a model named there is the one loaded.
    std::fs::write(dir.join("plug-ins/nst/nst.toml"), "model = \"missing-vgg19.onnx\"\n").unwrap();
    let log = run_gimp(&dir, &[script_case(&dir, &format!("(catch #f {})", call("-1")))]);
    let expected = format!("cannot read model file {}/plug-ins/nst/missing-vgg19.onnx", dir.display());
    assert!(log.contains(&expected), "the configuration beside the plug-in was not used:\n{log}");

    // The GEGL operation, through the gegl command-line tool.
    let gegl_path = format!("{}:/usr/lib/x86_64-linux-gnu/gegl-0.4", dir.join("gegl/nst").display());
    let gegl = |args: &[&str]| {
        let output = Command::new("gegl")
            .args(args)
            .env("GEGL_PATH", &gegl_path)
            .current_dir(&dir)
            .output()
            .expect("gegl must be installed (apt-get install gegl)");
        (
            output.status.success(),
            format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr)),
        )
    };
    let (exists, log) = gegl(&["--exists", "nst:style"]);
    assert!(exists, "nst:style is not found: {log}");
    assert!(!log.contains("load error"), "{log}");
    let input_path = dir.join("in.png").display().to_string();
    let chain = |preset: &str, out: &str| {
        let (load, preset, save) = (format!("path={input_path}"), format!("preset={preset}"), format!("path={out}"));
        gegl(&[
            "--",
            "gegl:load",
            &load,
            "nst:style",
            &preset,
            "size=48",
            "iterations=8",
            "gegl:png-save",
            &save,
            "bitdepth=8",
        ])
    };
    let (ok, log) = chain(&preset.display().to_string(), "gegl.png");
    assert!(ok, "{log}");
    let through_gegl = image::open(dir.join("gegl.png")).unwrap();
    assert_eq!(through_gegl.dimensions(), (64, 48));
    let gegl_change = through_gegl
        .to_rgb8()
        .pixels()
        .zip(original.to_rgb8().pixels())
        .map(|(a, b)| (0..3).map(|c| (a[c] as f64 - b[c] as f64).abs()).sum::<f64>() / 3.0)
        .sum::<f64>()
        / (64.0 * 48.0 * 255.0);
    println!("gegl nst:style: mean change {gegl_change:.4}");
    assert!(gegl_change > 0.02, "nst:style hardly changed the image");
    let (_, log) = chain("no-such-preset", "gegl-bad.png");
    assert!(log.contains("nst:style: no preset named 'no-such-preset'"), "{log}");
    let unchanged = image::open(dir.join("gegl-bad.png")).unwrap().to_rgba8();
    let largest = unchanged
        .pixels()
        .zip(input.pixels())
        .flat_map(|(a, b)| (0..4).map(move |c| (a[c] as i32 - b[c] as i32).abs()))
        .max();
    assert!(largest <= Some(1), "a failed nst:style changed the image by up to {largest:?}");

    // Presets come from the installed folder only: without it, the error names that folder.
    std::fs::write(dir.join("plug-ins/nst/nst.toml"), "").unwrap();
    let installed = dir.join("plug-ins/nst/presets");
    std::fs::rename(&installed, dir.join("presets-away")).unwrap();
    let log = run_gimp(
        &dir,
        &[script_case(
            &dir,
            "(catch #f (plug-in-nst-style RUN-NONINTERACTIVE img drw \"mosaic\" -1 0 3 1.0 -1 -1 -1))",
        )],
    );
    assert!(log.contains(&format!("{}", installed.display())), "the error does not name the plug-in's folder:\n{log}");
    assert!(!log.contains(&repo().join("presets").display().to_string()), "the checkout's presets were used:\n{log}");
    std::fs::rename(dir.join("presets-away"), &installed).unwrap();

    // --dest may name the nst folder itself; without --dest, a GIMP profile that GIMP has not made is not created.
    let again = crate::support::install_gimp2(&dir.join("plug-ins/nst"), &dir.join("gegl"));
    let said = String::from_utf8_lossy(&again.stdout).to_string();
    assert!(again.status.success(), "{said}{}", String::from_utf8_lossy(&again.stderr));
    assert!(dir.join("plug-ins/nst/nst").is_file() && !dir.join("plug-ins/nst/nst/nst").exists(), "{said}");
    assert!(said.contains(&format!("into {}", dir.join("plug-ins/nst").display())), "{said}");
    let fresh = dir.join("fresh-home");
    let refused = Command::new(repo().join("scripts/gimp-install"))
        .args(["--gimp", "2.10", "--library-dir"])
        .arg(build_dir())
        .env("XDG_CONFIG_HOME", fresh.join("config"))
        .env("XDG_DATA_HOME", fresh.join("data"))
        .output()
        .unwrap();
    let complaint = String::from_utf8_lossy(&refused.stderr).to_string();
    assert!(!refused.status.success() && complaint.contains("start GIMP 2.10 once"), "{complaint}");
    assert!(!fresh.join("config/GIMP").exists(), "the installer made a GIMP profile");

    let uninstall = Command::new(repo().join("scripts/gimp-install"))
        .args(["--uninstall", "--dest"])
        .arg(dir.join("plug-ins"))
        .arg("--gegl-dest")
        .arg(dir.join("gegl"))
        .output()
        .unwrap();
    assert!(uninstall.status.success() && !dir.join("plug-ins/nst").exists() && !dir.join("gegl/nst").exists());
}
