//! Shared by the host SDK's tests: the built plugin and command, and scratch folders.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// The folder of the built `nst` command, where the plugin library is built too.
pub fn build_dir() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_nst")).parent().unwrap().to_path_buf()
}

pub fn plugin_path() -> PathBuf {
    let path = build_dir().join("libnst.so");
    assert!(path.is_file(), "{} is missing: build the workspace (cargo test --workspace)", path.display());
    path
}

pub fn ort_path() -> String {
    std::env::var("ORT_DYLIB_PATH")
        .unwrap_or_else(|_| repo().join(".ort/libonnxruntime.so.1.31.1").display().to_string())
}

pub fn scratch(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("nst-sdk-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub fn nst(args: &[&str]) -> Output {
    plugin_path();
    Command::new(env!("CARGO_BIN_EXE_nst")).args(args).env("ORT_DYLIB_PATH", ort_path()).output().unwrap()
}

pub fn text(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

/// A preset that runs in a fraction of a second: shallow layers, few iterations.
pub fn quick_preset(dir: &Path) -> PathBuf {
    let path = dir.join("quick.toml");
    std::fs::write(
        &path,
        format!(
            "version = 1\ndescription = \"quick\"\n[style]\nimages = [\"{}\"]\n[losses]\ncontent_layer = \"relu2_1\"\nstyle_layers = [\"relu1_1\", \"relu2_1\"]\nstyle_weight = 1e7\n[optimiser]\niterations = 3\n[output]\nsize = 32\n",
            repo().join("presets/images/mosaic.png").display()
        ),
    )
    .unwrap();
    path
}
