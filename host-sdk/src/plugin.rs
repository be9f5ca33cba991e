//! Loading the plugin: the ABI version is checked before any other call, and the library is never unloaded
//! (ONNX Runtime's thread pools and thread-locals outlive an unload).

use std::ffi::CStr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use libloading::Library;

use crate::HostError;
use crate::abi::*;

/// The plugin's exported functions.
pub(crate) struct Functions {
    pub path: PathBuf,
    pub version: VersionFn,
    pub last_error: LastErrorFn,
    pub engine_create: EngineCreateFn,
    pub engine_free: EngineFreeFn,
    pub engine_trim: EngineFreeFn,
    pub describe: DescribeFn,
    pub describe_presets: DescribePresetsFn,
    pub describe_preset: DescribePresetFn,
    pub overrides_init: OverridesInitFn,
    pub benchmark: BenchmarkFn,
    pub stylize: StylizeFn,
}

/// A loaded plugin library. Cheap to clone.
#[derive(Clone)]
pub struct Plugin {
    pub(crate) functions: Arc<Functions>,
}

/// The plugin's file name on this platform.
pub fn library_file_name() -> &'static str {
    if cfg!(windows) {
        "nst.dll"
    } else if cfg!(target_os = "macos") {
        "libnst.dylib"
    } else {
        "libnst.so"
    }
}

impl Plugin {
    /// Loads the plugin at `path` and checks its ABI version.
    pub fn load(path: impl AsRef<Path>) -> Result<Plugin, HostError> {
        let path = path.as_ref().to_path_buf();
        let fail = |reason: String| HostError::Load { path: path.clone(), reason };
        // SAFETY: loading runs the library's initialisers; the nst plugin's are Rust statics with no side effects.
        let library = unsafe { Library::new(&path) }.map_err(|e| fail(e.to_string()))?;
        // Never unloaded: leaked on purpose.
        let library: &'static Library = Box::leak(Box::new(library));
        // SAFETY: each symbol is looked up with the signature the ABI documents (abi.rs mirrors nst.h).
        unsafe {
            let abi_version: AbiVersionFn =
                *library.get::<AbiVersionFn>(b"nst_abi_version\0").map_err(|e| fail(e.to_string()))?;
            let found = abi_version();
            if found != ABI_VERSION {
                return Err(HostError::AbiMismatch { path, found, expected: ABI_VERSION });
            }
            let symbol = |name: &[u8]| -> Result<*const (), HostError> {
                library
                    .get::<*const ()>(name)
                    .map(|s| *s)
                    .map_err(|e| fail(format!("missing {}: {e}", String::from_utf8_lossy(&name[..name.len() - 1]))))
            };
            let functions = Functions {
                path: path.clone(),
                version: std::mem::transmute::<*const (), VersionFn>(symbol(b"nst_version\0")?),
                last_error: std::mem::transmute::<*const (), LastErrorFn>(symbol(b"nst_last_error\0")?),
                engine_create: std::mem::transmute::<*const (), EngineCreateFn>(symbol(b"nst_engine_create\0")?),
                engine_free: std::mem::transmute::<*const (), EngineFreeFn>(symbol(b"nst_engine_free\0")?),
                engine_trim: std::mem::transmute::<*const (), EngineFreeFn>(symbol(b"nst_engine_trim\0")?),
                describe: std::mem::transmute::<*const (), DescribeFn>(symbol(b"nst_engine_describe\0")?),
                describe_presets: std::mem::transmute::<*const (), DescribePresetsFn>(symbol(
                    b"nst_describe_presets\0",
                )?),
                describe_preset: std::mem::transmute::<*const (), DescribePresetFn>(symbol(
                    b"nst_engine_describe_preset\0",
                )?),
                overrides_init: std::mem::transmute::<*const (), OverridesInitFn>(symbol(b"nst_overrides_init\0")?),
                stylize: std::mem::transmute::<*const (), StylizeFn>(symbol(b"nst_stylize\0")?),
                benchmark: std::mem::transmute::<*const (), BenchmarkFn>(symbol(b"nst_engine_benchmark\0")?),
            };
            Ok(Plugin { functions: Arc::new(functions) })
        }
    }

    /// Loads the plugin from `NST_PLUGIN` if set, else from beside the running executable.
    pub fn load_default() -> Result<Plugin, HostError> {
        if let Some(path) = std::env::var_os("NST_PLUGIN").filter(|p| !p.is_empty()) {
            return Plugin::load(PathBuf::from(path));
        }
        let exe =
            std::env::current_exe().map_err(|e| HostError::Load { path: PathBuf::new(), reason: e.to_string() })?;
        let beside = exe.parent().unwrap_or(Path::new(".")).join(library_file_name());
        Plugin::load(beside)
    }

    /// The file the plugin was loaded from.
    pub fn path(&self) -> &Path {
        &self.functions.path
    }

    /// The plugin library's version.
    pub fn version(&self) -> String {
        // SAFETY: nst_version returns a static NUL-terminated string.
        unsafe { CStr::from_ptr((self.functions.version)()) }.to_string_lossy().into_owned()
    }

    /// The bundled presets of `presets_dir` (or the plugin's default folder) as a JSON array, without an engine:
    /// no ONNX Runtime is needed.
    pub fn describe_presets(&self, presets_dir: Option<&std::path::Path>) -> Result<String, HostError> {
        let dir =
            presets_dir.map(|d| crate::engine::c_string(&d.display().to_string(), "presets folder")).transpose()?;
        let dir_ptr = dir.as_ref().map_or(std::ptr::null(), |d| d.as_ptr());
        let mut buffer = vec![0u8; 64 * 1024];
        let mut needed = 0usize;
        // SAFETY: NULL or a C string; buffers sized as the call asks.
        let mut status = unsafe {
            (self.functions.describe_presets)(dir_ptr, buffer.as_mut_ptr().cast(), buffer.len(), &mut needed)
        };
        if status == STATUS_BUFFER_TOO_SMALL {
            buffer = vec![0u8; needed];
            // SAFETY: as above, with the size the plugin asked for.
            status = unsafe {
                (self.functions.describe_presets)(dir_ptr, buffer.as_mut_ptr().cast(), buffer.len(), &mut needed)
            };
        }
        self.check(status)?;
        buffer.truncate(needed.saturating_sub(1));
        String::from_utf8(buffer)
            .map_err(|_| HostError::Plugin { status: 13, message: "the preset list is not UTF-8".into() })
    }

    /// The calling thread's last failure message.
    pub(crate) fn last_error(&self) -> String {
        // SAFETY: a NULL buffer with length 0 asks for the length; then a buffer of that size is filled.
        unsafe {
            let length = (self.functions.last_error)(std::ptr::null_mut(), 0);
            let mut buffer = vec![0u8; length + 1];
            (self.functions.last_error)(buffer.as_mut_ptr().cast(), buffer.len());
            String::from_utf8_lossy(&buffer[..length]).into_owned()
        }
    }

    /// Turns a status into a result, with the plugin's message.
    pub(crate) fn check(&self, status: u32) -> Result<(), HostError> {
        match status {
            0 => Ok(()),
            STATUS_CANCELLED => Err(HostError::Cancelled),
            _ => Err(HostError::Plugin { status, message: self.last_error() }),
        }
    }
}
