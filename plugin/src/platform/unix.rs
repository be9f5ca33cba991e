//! Linux and the other Unix systems (the memory figures come from Linux's `/proc`; elsewhere they are unknown).

use std::path::{Path, PathBuf};

/// The file this code was loaded from: the shared library when built as a plugin, else the executable.
pub fn own_file() -> Option<PathBuf> {
    // SAFETY: dladdr only reads the loader's tables; `info` is plain old data filled on success, and
    // `dli_fname` points to a NUL-terminated string owned by the loader that outlives this call.
    unsafe {
        let mut info: libc::Dl_info = std::mem::zeroed();
        let address = own_file as *const () as *const libc::c_void;
        if libc::dladdr(address, &mut info) == 0 || info.dli_fname.is_null() {
            return std::env::current_exe().ok();
        }
        let name = std::ffi::CStr::from_ptr(info.dli_fname).to_string_lossy().into_owned();
        let path = PathBuf::from(name);
        // A library opened by a relative path reports that path: it was relative to the working directory.
        let path = if path.is_absolute() { path } else { std::fs::canonicalize(&path).ok()? };
        Some(path)
    }
}

/// The process's peak resident set size (`VmHWM`), MiB; `None` where unknown.
pub fn peak_resident_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    kib_field(&status, "VmHWM:")
}

fn kib_field(text: &str, name: &str) -> Option<f64> {
    let line = text.lines().find(|line| line.starts_with(name))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// The dynamic loader finds a library's own dependencies through its RPATH (`$ORIGIN` in ONNX Runtime's wheels):
/// nothing to prepare.
pub fn open_runtime_library(_path: &Path) -> Result<(), String> {
    Ok(())
}
