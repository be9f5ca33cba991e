//! The GIMP 3 filter (the Python plug-in host-sdk/gimp3) in a real, headless GIMP 3 inside a Debian 13 root
//! filesystem (scripts/gimp3-root): installed into its profile by `nst gimp install`, driven by Python through
//! python-fu-eval, and its results are checked in the log and in the saved pixels.
//!
//! Unix only: it needs GIMP 3 in a Debian root (debootstrap, chroot).
#![cfg(unix)]

use crate::support::{checks, plugin_path, repo};
use image::{DynamicImage, GenericImageView, ImageBuffer, Rgb, Rgba};

#[test]
fn the_gimp3_filter_changes_the_selection_only_keeps_alpha_and_precision_uses_a_style_layer_and_reports_errors() {
    plugin_path();
    let root = crate::support::gimp3::fresh_job();
    let job = root.join("job");
    let work = job.join("work");
    let input = ImageBuffer::from_fn(64, 48, |x, y| Rgba([(x * 4) as u8, (y * 5) as u8, 120, (60 + x * 3) as u8]));
    input.save(work.join("in.png")).unwrap();
    checks::detailed(96, 64).save(work.join("detailed.png")).unwrap();
    ImageBuffer::from_fn(32, 32, |_, _| Rgb([230u8, 20, 20])).save(work.join("red.png")).unwrap();
    ImageBuffer::from_fn(32, 32, |_, _| Rgb([20u8, 20, 230])).save(work.join("blue.png")).unwrap();
    std::fs::write(
        work.join("quick.toml"),
        "version = 1\n[style]\nimages = [\"/job/src/presets/images/mosaic.png\"]\n[losses]\ncontent_layer = \"relu2_1\"\nstyle_layers = [\"relu1_1\", \"relu2_1\"]\nstyle_weight = 1e7\n[output]\nsize = 32\n",
    )
    .unwrap();
    std::fs::copy(repo().join("host-sdk/tests/python/gimp3_cases.py"), work.join("cases.py")).unwrap();

    crate::support::gimp3::install(&root);
    let (ran, log) = crate::support::gimp3::inside_root(
        &root,
        "GIMP3_DIRECTORY=/job/gimpdir timeout 600 gimp-console-3.0 -i --batch-interpreter=python-fu-eval --quit -b \"exec(open('/job/work/cases.py').read())\"",
    );
    println!("{log}");
    assert!(ran && log.contains("all cases ran"), "GIMP 3 cases failed:\n{log}");
    assert!(log.contains("no preset named 'no-such-preset'"), "{log}");
    assert!(!log.contains("Neural style: failed"), "a doubled message prefix:\n{log}");
    assert!(!log.contains("Traceback"), "the plug-in raised:\n{log}");
    // nst.toml beside the plug-in configures the engine; a bad one fails the run with a message naming it.
    assert!(log.contains("configured run: success"), "{log}");
    assert!(
        log.contains("bad configuration: cannot start the engine")
            && log.contains("no-such-provider")
            && log.contains("(configuration: /job/gimpdir/plug-ins/neural-style/nst.toml)"),
        "a bad nst.toml was not reported:\n{log}"
    );
    for tag in ["bad-preset", "empty-mask"] {
        let line = |when: &str| {
            log.lines()
                .find(|l| l.starts_with(&format!("{tag}-{when}:")))
                .map(|l| l.split_once(':').unwrap().1.to_string())
        };
        assert!(line("before").is_some(), "no state printed for {tag}:\n{log}");
        assert_eq!(line("before"), line("after"), "{tag} changed the image's state");
    }

    // Results at the layer's size; worked smaller, they keep the layer's fine detail that a plain upscale loses.
    let detailed = DynamicImage::ImageRgba8(checks::detailed(96, 64));
    let (full, small) =
        (image::open(work.join("full-size.png")).unwrap(), image::open(work.join("worked-small.png")).unwrap());
    assert_eq!((full.dimensions(), small.dimensions()), ((96, 64), (96, 64)));
    let plain = checks::plain_upscale(&detailed, 24);
    let kept = |image: &DynamicImage| checks::detail_kept(image, &detailed);
    println!(
        "fine detail kept: full size {:.3}, worked at 24 px {:.3}, plain upscale {:.3}",
        kept(&full),
        kept(&small),
        kept(&plain)
    );
    assert!(kept(&full) > kept(&plain) + 0.3 && kept(&small) > kept(&plain) + 0.3, "the layer's detail was lost");

    let original = DynamicImage::ImageRgba8(input.clone());
    let selection = image::open(work.join("selection.png")).unwrap().to_rgba8();
    let change = checks::change_inside_only(&input, &selection, (8, 8, 32, 24));
    println!("mean change inside the selection: {change:.4}");
    assert!(change > 0.02, "the selection hardly changed");
    let (control, styled) =
        (image::open(work.join("control.png")).unwrap(), image::open(work.join("styled.png")).unwrap());
    println!(
        "red minus green: preset's style {:.1}, red style layer {:.1}",
        checks::redness(&control),
        checks::redness(&styled)
    );
    assert!(checks::redness(&styled) > checks::redness(&control) + 10.0, "the style layer was not used");
    assert_eq!(image::open(work.join("unchanged.png")).unwrap().to_rgba8(), input, "a failed run changed the image");
    let sixteen = image::open(work.join("sixteen.png")).unwrap();
    assert!(matches!(sixteen, DynamicImage::ImageRgba16(_)), "16-bit became {:?}", sixteen.color());
    for name in ["sixteen.png", "float.png", "grey.png"] {
        let result = image::open(work.join(name)).unwrap();
        assert_eq!(result.dimensions(), (64, 48));
        let change = checks::luma_change(&result, &original);
        println!("{name}: mean luma change {change:.4}");
        assert!(change > 0.01, "{name} hardly changed");
    }

    // The selection as the mask between two styles: red on the left, blue on the right, the selection restored.
    let two = image::open(work.join("two-styles.png")).unwrap();
    checks::red_left_blue_right(&two, &original);
    assert!(log.contains("selection after: [True, True, 0, 0, 32, 48]"), "the selection was not restored:\n{log}");
}
