//! The C ABI's types, shared by the plugin that implements it and the hosts that call it, so that neither
//! side mirrors the other by hand: the status codes, the pixel views, the per-call overrides, the callbacks,
//! the report, and the signature of every export.

mod functions;
mod pixels;
mod run;
mod status;

pub use functions::*;
pub use pixels::{NstImage, NstImageMut, NstPixelFormat};
pub use run::{NstOverrides, NstPreviewCallback, NstProgressCallback, NstRunReport};
pub use status::NstStatus;

/// The version of this C ABI. A host must refuse a library whose `nst_abi_version()` differs from the
/// `NST_ABI_VERSION` it was compiled with.
pub const ABI_VERSION: u32 = 2;

/// An engine handle, opaque: only its address is meaningful, and it is never dereferenced (handles are looked
/// up in a registry, so a freed or forged one is refused).
///
/// Threads: every function may be called from any thread. An engine serialises the runs started on it (a
/// second `nst_stylize` on the same engine waits for the first; one from inside its own progress or preview
/// callback returns `NST_BUSY`): use one engine per thread to run in parallel. A run is cancelled from another
/// thread through its progress callback's return value, or by freeing the engine.
pub struct NstEngine {
    _opaque: [u8; 0],
}
