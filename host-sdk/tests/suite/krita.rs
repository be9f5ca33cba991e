//! The Krita plug-in (host-sdk/krita) in Debian's real Krita, headless: installed in a fresh profile's pykrita
//! folder by `nst krita install`, its core run by kritarunner on documents of each depth (host-sdk/tests/python/
//! krita_cases.py), and what each case measured is checked here.
//!
//! Unix only: it needs Krita (apt-get install krita python3-pyqt5).
#![cfg(unix)]

use serde_json::Value;

use crate::support::krita::{Profile, install};
use crate::support::{plugin_path, quick_preset, repo, scratch};

fn number(case: &Value, key: &str) -> f64 {
    case[key].as_f64().unwrap_or_else(|| panic!("{key} missing from {case}"))
}

/// A finished run: one new layer right above the source, of the source's depth, named after the preset, whose
/// pixels differ from the source inside `area` (x, y, w, h) and are transparent outside it; the source untouched.
fn check_run(name: &str, case: &Value, depth: &str, area: [i64; 4]) {
    assert!(case.get("error").is_none() && case.get("crashed").is_none(), "{name} failed: {case}");
    // The source and the new layer; the style layer where there is one, and Krita's "Selection Mask" node.
    let expected = 2 + usize::from(name.contains("style_layer")) + usize::from(case["selection"].is_array());
    assert_eq!(case["layers"].as_array().unwrap().len(), expected, "{name}: {case}");
    assert_eq!(
        case["new_layer_index"].as_i64(),
        Some(case["source_index"].as_i64().unwrap() + 1),
        "{name}: not above the source"
    );
    assert_eq!(case["name"], "quick (neural style)", "{name}");
    assert_eq!(case["layer_depth"], depth, "{name}");
    assert_eq!(case["document_size"], serde_json::json!([64, 48]), "{name}");
    assert_eq!(case["layer_bounds"], serde_json::json!(area), "{name}: the new layer's extent");
    assert_eq!(case["source_untouched"], true, "{name}: the source layer changed");
    let change = number(case, "mean_change_inside");
    println!("{name}: mean change inside {change:.3} (channel units, 0..1)");
    assert!(change > 0.02, "{name}: the pixels hardly changed ({change})");
    assert_eq!(number(case, "max_alpha_outside"), 0.0, "{name}: pixels outside the selection");
    assert!(number(case, "min_alpha_inside") > 0.99, "{name}: transparent inside the selection");
}

#[test]
fn the_krita_plugin_makes_a_new_layer_at_each_depth_within_the_selection_and_reports_errors() {
    plugin_path();
    let dir = scratch("krita");
    let profile = Profile::new(&dir.join("home"));
    install(&profile.pykrita());
    let quick = quick_preset(&dir);
    let out = dir.join("cases.json");
    let started = std::time::Instant::now();
    let output = profile.kritarunner(
        "krita_cases",
        "main",
        &[
            &profile.pykrita().display().to_string(),
            &quick.display().to_string(),
            &out.display().to_string(),
            &repo().join("presets/images/waves.png").display().to_string(),
        ],
        300,
    );
    let log = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    println!("kritarunner ran the cases in {:.1} s", started.elapsed().as_secs_f64());
    let cases: Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap_or_else(|_| panic!("no results:\n{log}"))).unwrap();
    for (name, case) in cases.as_object().unwrap() {
        assert!(case.get("crashed").is_none(), "case {name} raised:\n{}", case["crashed"].as_str().unwrap_or(""));
    }

    check_run("u8", &cases["u8"], "U8", [0, 0, 64, 48]);
    check_run("u8_selection", &cases["u8_selection"], "U8", [16, 8, 24, 20]);
    check_run("u16", &cases["u16"], "U16", [0, 0, 64, 48]);
    check_run("f16", &cases["f16"], "F16", [0, 0, 64, 48]);
    check_run("f32_selection", &cases["f32_selection"], "F32", [8, 16, 30, 24]);
    check_run("u8_style_layer_keep_colours", &cases["u8_style_layer_keep_colours"], "U8", [0, 0, 64, 48]);
    let (plain, styled) = (
        number(&cases["u8"], "mean_change_inside"),
        number(&cases["u8_style_layer_keep_colours"], "mean_change_inside"),
    );
    assert!((plain - styled).abs() > 1e-4, "the style layer and keep colours made no difference ({plain} / {styled})");

    check_run("u16_style_file", &cases["u16_style_file"], "U16", [0, 0, 64, 48]);

    // Errors: a message, and the document as it was.
    for (name, needle) in [("bad_preset", "bad.toml"), ("cmyk", "CMYK/Alpha"), ("missing_style_file", ".missing.png")] {
        let case = &cases[name];
        let error = case["error"].as_str().unwrap_or_else(|| panic!("{name} did not fail: {case}"));
        assert!(error.contains(needle), "{name}: the message does not name {needle}: {error}");
        assert_eq!(case["layers_before"], case["layers_after"], "{name} left a layer");
        assert_eq!(case["source_untouched"], true, "{name}");
    }
    assert!(cases["bad_preset"]["error"].as_str().unwrap().starts_with("PresetError"), "{}", cases["bad_preset"]);
    assert_eq!(cases["cancelled"]["outcome"], "cancelled");
    assert_eq!(cases["cancelled"]["layers_after"], serde_json::json!(["Background"]));

    // The preview: a small RGBA8 copy, no layer.
    assert_eq!(cases["preview"]["size"], serde_json::json!([64, 48]));
    assert_eq!(cases["preview"]["bytes"], 64 * 48 * 4);
    assert_eq!(cases["preview"]["layers_after"], serde_json::json!(["Background"]));

    // The dialog's lines: bundled presets, the model hint of the GIMP dialog, an estimate from the benchmark.
    let engine = &cases["engine"];
    println!("model line: {}\nestimate: {}", engine["model_line"], engine["estimate"]);
    assert!(engine["presets"].as_array().unwrap().iter().any(|p| p == "mosaic"), "{engine}");
    let model = engine["model_line"].as_str().unwrap();
    assert!(
        model.contains("random-weight") && model.contains("nst model fetch") && model.contains("nst.toml"),
        "{model}"
    );
    assert!(number(engine, "per_evaluation") > 0.0, "{engine}");
    assert!(
        engine["estimate"]
            .as_str()
            .unwrap()
            .starts_with("Works at 256x192, then scaled up with the layer's detail, 100 iterations: about "),
        "{engine}"
    );

    // nst.toml beside the plug-in configures the engine.
    let config = &cases["config"];
    let file = config["config_file"].as_str().unwrap();
    assert!(file.ends_with("/pykrita/nst_krita/nst.toml"), "nst.toml is looked for at {file}");
    assert!(config["configured_model"].as_str().unwrap().contains("seed 5"), "{config}");
    assert!(config["bad_provider"].as_str().unwrap_or("").contains("no-such-provider"), "{config}");
    assert_eq!(config["absent_file"], serde_json::json!({}));
    // The installer's nst.toml holds only comments: the engine's defaults.
    assert_eq!(config["installed_file"], serde_json::json!({}), "{config}");
    assert!(config["typo"].as_str().unwrap_or("").contains("modle"), "{config}");
}
