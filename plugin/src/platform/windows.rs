//! Windows: the module this code lives in, the memory figures and the DLL search for ONNX Runtime, from the
//! Windows APIs (Wine's `Z:` drive shows Linux's `/proc`, which real Windows has not: never read it here).

use std::ffi::OsString;
use std::os::windows::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

use windows_sys::Win32::Foundation::HMODULE;
use windows_sys::Win32::System::LibraryLoader::{
    GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS, GET_MODULE_HANDLE_EX_FLAG_UNCHANGED_REFCOUNT, GetModuleFileNameW,
    GetModuleHandleExW, LOAD_WITH_ALTERED_SEARCH_PATH, LoadLibraryExW,
};
use windows_sys::Win32::System::ProcessStatus::{K32GetProcessMemoryInfo, PROCESS_MEMORY_COUNTERS};
use windows_sys::Win32::System::Threading::GetCurrentProcess;

const MIB: f64 = 1024.0 * 1024.0;

/// The file this code was loaded from: `nst.dll` inside a host (whose program may be anywhere, GIMP's for
/// one), or the executable it is linked into.
pub fn own_file() -> Option<PathBuf> {
    let mut module: HMODULE = std::ptr::null_mut();
    let flags = GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS | GET_MODULE_HANDLE_EX_FLAG_UNCHANGED_REFCOUNT;
    // SAFETY: with FROM_ADDRESS the "name" is an address inside this module; `module` receives its handle.
    if unsafe { GetModuleHandleExW(flags, own_file as *const () as *const u16, &mut module) } == 0 {
        return std::env::current_exe().ok();
    }
    let mut buffer = vec![0u16; 512];
    loop {
        // SAFETY: `buffer` holds `buffer.len()` writable UTF-16 units.
        let length = unsafe { GetModuleFileNameW(module, buffer.as_mut_ptr(), buffer.len() as u32) } as usize;
        if length == 0 {
            return std::env::current_exe().ok();
        }
        // A full buffer means the name was cut: try again with more room (long paths reach 32767 units).
        if length < buffer.len() {
            buffer.truncate(length);
            return Some(PathBuf::from(OsString::from_wide(&buffer)));
        }
        if buffer.len() >= 1 << 15 {
            return None;
        }
        buffer.resize(buffer.len() * 2, 0);
    }
}

/// The process's peak working set, MiB: Windows' counterpart of the peak resident set size.
pub fn peak_resident_mib() -> Option<f64> {
    // SAFETY: PROCESS_MEMORY_COUNTERS is plain old data, passed with its size; the pseudo-handle of the current
    // process needs no closing.
    unsafe {
        let mut counters: PROCESS_MEMORY_COUNTERS = std::mem::zeroed();
        let size = std::mem::size_of::<PROCESS_MEMORY_COUNTERS>() as u32;
        counters.cb = size;
        if K32GetProcessMemoryInfo(GetCurrentProcess(), &mut counters, size) == 0 {
            return None;
        }
        Some(counters.PeakWorkingSetSize as f64 / MIB)
    }
}

/// Loads ONNX Runtime's DLL from its absolute path so that the DLLs it needs (`DirectML.dll`,
/// `onnxruntime_providers_shared.dll`) are looked for in *its* folder first. A plain load would search the
/// host program's folder instead, which inside GIMP is GIMP's. The module stays loaded, and `ort`'s own load of
/// the same path then finds it.
pub fn open_runtime_library(path: &Path) -> Result<(), String> {
    let wide: Vec<u16> = path.as_os_str().encode_wide().chain(Some(0)).collect();
    // SAFETY: `wide` is a NUL-terminated absolute path; loading runs the DLL's initialisers, as `ort` would.
    let module = unsafe { LoadLibraryExW(wide.as_ptr(), std::ptr::null_mut(), LOAD_WITH_ALTERED_SEARCH_PATH) };
    if module.is_null() {
        let error = std::io::Error::last_os_error();
        return Err(format!(
            "{error} (a DLL it needs may be missing from its folder: onnxruntime_providers_shared.dll, and \
             DirectML.dll for the DirectML build)"
        ));
    }
    Ok(())
}
