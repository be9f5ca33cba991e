//! What the engine asks of the operating system: the file its code was loaded from, the process's peak memory,
//! and how ONNX Runtime's library is opened; the memory available is `nst_files`', which bounds every reading.
//! One implementation per platform family.

/// ONNX Runtime's library file names tried in a folder, most specific first.
#[cfg(target_os = "windows")]
pub const ONNX_RUNTIME_NAMES: &[&str] = &["onnxruntime.dll"];
/// ONNX Runtime's library file names tried in a folder, most specific first.
#[cfg(target_os = "macos")]
pub const ONNX_RUNTIME_NAMES: &[&str] = &["libonnxruntime.1.31.1.dylib", "libonnxruntime.dylib"];
/// ONNX Runtime's library file names tried in a folder, most specific first.
#[cfg(not(any(target_os = "windows", target_os = "macos")))]
pub const ONNX_RUNTIME_NAMES: &[&str] = &["libonnxruntime.so.1.31.1", "libonnxruntime.so.1", "libonnxruntime.so"];

#[cfg(unix)]
mod unix;
#[cfg(unix)]
pub use unix::*;

#[cfg(windows)]
mod windows;
#[cfg(windows)]
pub use windows::*;

/// Elsewhere only what the standard library knows.
#[cfg(not(any(unix, windows)))]
mod fallback {
    use std::path::{Path, PathBuf};

    pub fn own_file() -> Option<PathBuf> {
        std::env::current_exe().ok()
    }
    pub fn peak_resident_mib() -> Option<f64> {
        None
    }
    pub fn open_runtime_library(_path: &Path) -> Result<(), String> {
        Ok(())
    }
}
#[cfg(not(any(unix, windows)))]
pub use fallback::*;
