//! Shared helpers of the end-to-end tests.
#![allow(dead_code)]

pub mod abi;
pub mod python;
pub mod reference;

use std::path::PathBuf;

use nst::runtime::environment;
use ort::environment::Environment;

/// The workspace root.
pub fn root() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    // Cross-built for Windows and run under Wine, this is a Linux path (`/work/...`), which Windows reads as
    // relative to the current drive: Wine shows the Linux root as drive Z:.
    if cfg!(windows) && !root.is_absolute() && root.has_root() {
        return PathBuf::from(format!("Z:{}", root.display()));
    }
    root
}

/// The ONNX Runtime library the tests use: `ORT_DYLIB_PATH` when set, else the one `scripts/setup` unpacked
/// (`scripts/setup --windows` for the Windows build).
pub fn ort_library() -> PathBuf {
    std::env::var_os("ORT_DYLIB_PATH").filter(|p| !p.is_empty()).map(PathBuf::from).unwrap_or_else(|| {
        if cfg!(windows) {
            root().join(".ort-windows/onnxruntime.dll")
        } else {
            root().join(".ort/libonnxruntime.so.1.31.1")
        }
    })
}

/// ONNX Runtime as the tests use it ([`ort_library`]).
pub fn ort_environment() -> Environment {
    environment(Some(&ort_library())).expect("ONNX Runtime: run scripts/setup first").0
}

/// The astronaut sample, the bundled `preset`'s style images and its settings at `size` with `iterations`.
pub fn preset_inputs(
    preset: &str,
    size: usize,
    iterations: usize,
) -> (nst::image_io::Planar, Vec<(nst::image_io::Planar, f32)>, nst::stylize::Settings) {
    use nst::image_io::read_image;
    let preset = nst::preset::load_preset(preset, Some(&root().join("presets"))).unwrap();
    let content = read_image(&root().join("presets/samples/astronaut.png")).unwrap();
    let styles = preset.styles.iter().map(|(p, w)| (read_image(p).unwrap(), *w)).collect();
    let mut settings = preset.settings;
    settings.size = Some(size);
    settings.iterations = iterations;
    (content, styles, settings)
}

/// A small deterministic generator for test inputs (SplitMix64).
pub struct TestRng(pub u64);

impl TestRng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32
    }

    /// Uniform in [-1, 1).
    pub fn symmetric(&mut self) -> f32 {
        self.unit() * 2.0 - 1.0
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}
