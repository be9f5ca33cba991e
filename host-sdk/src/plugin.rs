//! Loading the plugin: the ABI version is checked before any other call, and the library is never unloaded
//! (ONNX Runtime's thread pools and thread-locals outlive an unload).

use std::ffi::CStr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use libloading::Library;

use crate::HostError;
use nst_sys::abi::*;

use crate::engine::STATUS_BUFFER_TOO_SMALL;
use crate::error::PluginStatus;

/// The plugin's exported functions.
pub(crate) struct Functions {
    pub path: PathBuf,
    pub version: NstVersionFn,
    pub last_error: NstLastErrorFn,
    pub engine_create: NstEngineCreateFn,
    pub engine_free: NstEngineFn,
    pub engine_trim: NstEngineFn,
    pub describe: NstDescribeFn,
    pub describe_presets: NstDescribePresetsFn,
    pub describe_preset: NstDescribePresetFn,
    pub overrides_init: NstOverridesInitFn,
    pub benchmark: NstBenchmarkFn,
    pub stylize: NstStylizeFn,
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
    ///
    /// # Safety
    /// Loading a library runs its initialisers, and its exports are then called with the signatures of
    /// `nst_sys::abi`: `path` must be an nst plugin (or a library that fails the version check before any other
    /// call), not an arbitrary file.
    pub unsafe fn load(path: impl AsRef<Path>) -> Result<Plugin, HostError> {
        let path = path.as_ref().to_path_buf();
        let fail = |reason: String| HostError::Load { path: path.clone(), reason };
        // SAFETY: per this function's contract, the library is the nst plugin.
        let library = unsafe { Library::new(&path) }.map_err(|e| fail(e.to_string()))?;
        // Never unloaded: leaked on purpose.
        let library: &'static Library = Box::leak(Box::new(library));
        /// One export, looked up with its type from `nst_sys::abi`.
        ///
        /// # Safety
        /// `T` must be the export's signature.
        unsafe fn export<T: Copy>(library: &Library, name: &str) -> Result<T, String> {
            let symbol = format!("{name}\0");
            // SAFETY: per this function's contract.
            unsafe { library.get::<T>(symbol.as_bytes()) }.map(|s| *s).map_err(|e| format!("missing {name}: {e}"))
        }
        // SAFETY: each export is looked up with its signature from nst_sys::abi, which the plugin is compiled
        // against; the version is checked before any other call.
        unsafe {
            let abi_version: NstAbiVersionFn = export(library, "nst_abi_version").map_err(fail)?;
            let found = abi_version();
            if found != ABI_VERSION {
                return Err(HostError::AbiMismatch { path, found, expected: ABI_VERSION });
            }
            let functions = Functions {
                path: path.clone(),
                version: export(library, "nst_version").map_err(fail)?,
                last_error: export(library, "nst_last_error").map_err(fail)?,
                engine_create: export(library, "nst_engine_create").map_err(fail)?,
                engine_free: export(library, "nst_engine_free").map_err(fail)?,
                engine_trim: export(library, "nst_engine_trim").map_err(fail)?,
                describe: export(library, "nst_engine_describe").map_err(fail)?,
                describe_presets: export(library, "nst_describe_presets").map_err(fail)?,
                describe_preset: export(library, "nst_engine_describe_preset").map_err(fail)?,
                overrides_init: export(library, "nst_overrides_init").map_err(fail)?,
                stylize: export(library, "nst_stylize").map_err(fail)?,
                benchmark: export(library, "nst_engine_benchmark").map_err(fail)?,
            };
            Ok(Plugin { functions: Arc::new(functions) })
        }
    }

    /// Loads the plugin from `NST_PLUGIN` if set, else from beside the running executable.
    ///
    /// # Safety
    /// As for [`Plugin::load`]: the library found there must be an nst plugin.
    pub unsafe fn load_default() -> Result<Plugin, HostError> {
        if let Some(path) = std::env::var_os("NST_PLUGIN").filter(|p| !p.is_empty()) {
            // SAFETY: per this function's contract.
            return unsafe { Plugin::load(PathBuf::from(path)) };
        }
        let exe =
            std::env::current_exe().map_err(|e| HostError::Load { path: PathBuf::new(), reason: e.to_string() })?;
        let beside = exe.parent().unwrap_or(Path::new(".")).join(library_file_name());
        // SAFETY: per this function's contract.
        unsafe { Plugin::load(beside) }
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
        String::from_utf8(buffer).map_err(|_| HostError::Internal("the preset list is not UTF-8".into()))
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
        match PluginStatus::from_raw(status) {
            PluginStatus::Known(NstStatus::NstOk) => Ok(()),
            PluginStatus::Known(NstStatus::NstCancelled) => Err(HostError::Cancelled),
            status => Err(HostError::Plugin { status, message: self.last_error() }),
        }
    }
}
