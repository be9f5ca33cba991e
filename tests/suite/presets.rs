//! Preset files: the bundled ones are valid; every error names the file, the line, the key and what was expected.

use crate::support::python::TempDir;
use crate::support::root;
use nst::preset::{bundled_presets, load_preset};

const VALID: &str = r#"version = 1
description = "test"

[style]
images = ["style.png"]

[losses]
style_weight = 1e6

[optimiser]
iterations = 20
"#;

fn write_preset(dir: &TempDir, text: &str) -> String {
    std::fs::copy(root().join("presets/images/mosaic.png"), dir.path().join("style.png")).unwrap();
    let path = dir.path().join("custom.toml");
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

fn error_of(text: &str) -> (String, String) {
    let dir = TempDir::new("preset");
    let path = write_preset(&dir, text);
    let message = load_preset(&path, None).expect_err("the preset must be refused").to_string();
    println!("{message}");
    (path, message)
}

#[test]
fn every_bundled_preset_loads_and_at_least_three_exist() {
    let presets = bundled_presets(&root().join("presets"));
    assert!(presets.len() >= 3, "{presets:?}");
    for (name, path) in presets {
        let preset = load_preset(&path.display().to_string(), None).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(!preset.description.is_empty() && !preset.styles.is_empty(), "{name}");
    }
}

#[test]
fn a_valid_custom_preset_loads_with_its_values_and_defaults() {
    let dir = TempDir::new("preset");
    let preset = load_preset(&write_preset(&dir, VALID), None).unwrap();
    assert_eq!(preset.settings.iterations, 20);
    assert_eq!(preset.settings.losses.style_weight, 1e6);
    assert_eq!(preset.settings.losses.content_layer.relu_name(), "relu4_2");
    assert_eq!(preset.settings.losses.style_layers.len(), 5);
}

#[test]
fn an_unknown_key_is_refused_with_file_line_and_key() {
    let (path, message) = error_of(&VALID.replace("style_weight = 1e6", "style_wieght = 1e6"));
    assert!(message.contains(&path) && message.contains("line 8") && message.contains("style_wieght"), "{message}");
}

#[test]
fn a_value_out_of_range_is_refused_with_file_line_key_and_range() {
    let (path, message) = error_of(&VALID.replace("iterations = 20", "iterations = 0"));
    assert!(message.contains(&path), "{message}");
    assert!(message.contains("line 11, key `optimiser.iterations`: 0 is outside 1..=10000"), "{message}");
    let (_, message) = error_of(&VALID.replace("style_weight = 1e6", "style_weight = -1"));
    assert!(message.contains("line 8, key `losses.style_weight`: -1 is outside"), "{message}");
}

#[test]
fn a_missing_style_image_is_refused_with_file_line_and_key() {
    let (path, message) = error_of(&VALID.replace("style.png", "nowhere.png"));
    assert!(message.contains(&path) && message.contains("line 5, key `style.images`"), "{message}");
    assert!(message.contains("file 'nowhere.png' not found"), "{message}");
}

#[test]
fn a_wrong_type_or_version_or_layer_is_refused() {
    let (_, message) = error_of(&VALID.replace("iterations = 20", "iterations = \"many\""));
    assert!(message.contains("line 11") && message.contains("iterations"), "{message}");
    let (_, message) = error_of(&VALID.replace("version = 1", "version = 2"));
    assert!(message.contains("line 1, key `version`: 2 is not supported"), "{message}");
    let (_, message) = error_of(&format!("{VALID}\n[network]\npooling = \"median\"\n"));
    assert!(message.contains("key `network.pooling`") && message.contains("expected max or average"), "{message}");
}

#[test]
fn an_unknown_preset_name_lists_the_bundled_ones() {
    let message = load_preset("no-such-preset", Some(&root().join("presets"))).unwrap_err().to_string();
    assert!(message.contains("no preset named 'no-such-preset'") && message.contains("mosaic"), "{message}");
}

#[test]
fn masks_are_read_and_a_mask_per_image_is_required() {
    let dir = TempDir::new("preset");
    let text = VALID.replace("[losses]", "masks = [\"style.png\"]\n[losses]\ncontent_mask = \"style.png\"");
    let path = write_preset(&dir, &text);
    let preset = load_preset(&path, None).unwrap();
    assert_eq!(preset.style_masks, vec![dir.path().join("style.png")]);
    assert_eq!(preset.content_mask, Some(dir.path().join("style.png")));
    let (_, message) = error_of(&VALID.replace("[losses]", "masks = [\"style.png\", \"style.png\"]\n[losses]"));
    assert!(message.contains("key `style.masks`: 2 masks for 1 images"), "{message}");
    let (_, message) = error_of(&VALID.replace("[losses]", "[losses]\ncontent_mask = \"gone.png\""));
    assert!(message.contains("key `losses.content_mask`: file 'gone.png' not found"), "{message}");
}

#[test]
fn the_preview_iteration_and_memory_ceiling_are_read_and_checked() {
    let dir = TempDir::new("preset");
    let text = format!("{VALID}\n[output]\npreview_at = 7\nmemory_budget_mb = 900\n");
    let preset = load_preset(&write_preset(&dir, &text), None).unwrap();
    assert_eq!((preset.settings.preview_iteration, preset.settings.memory_budget_mb), (Some(7), Some(900)));
    let defaults = load_preset(&write_preset(&dir, VALID), None).unwrap();
    assert_eq!((defaults.settings.preview_iteration, defaults.settings.memory_budget_mb), (None, None));
    let (_, message) = error_of(&text.replace("memory_budget_mb = 900", "memory_budget_mb = 10"));
    assert!(message.contains("key `output.memory_budget_mb`: 10 is outside 64..=16777216"), "{message}");
    let (_, message) = error_of(&text.replace("preview_at = 7", "preview_at = 0"));
    assert!(message.contains("key `output.preview_at`: 0 is outside 1..=10000"), "{message}");
}

#[test]
fn a_model_name_that_is_not_installed_is_refused_at_its_line() {
    let text = format!("{VALID}\n[network]\nmodel = \"nst-test-missing-model\"\n");
    let (_, message) = error_of(&text);
    assert!(message.contains("line 14, key `network.model`"), "{message}");
    assert!(
        message.contains("'nst-test-missing-model' is not installed") && message.contains("nst model fetch"),
        "{message}"
    );
}

#[test]
fn a_preset_with_too_many_style_images_is_refused_before_reading_them() {
    // 2000 names of files that do not exist: the count is refused first, naming the limit.
    let names: Vec<String> = (0..2000).map(|i| format!("\"missing{i}.png\"")).collect();
    let text = VALID.replace("images = [\"style.png\"]", &format!("images = [{}]", names.join(", ")));
    let (_, message) = error_of(&text);
    assert!(message.contains("key `style.images`: 2000 images; at most 64"), "{message}");
}
