//! Everything the plugin's C ABI does with raw pointers from a host, apart from the engine: reading pixel
//! views, arrays and strings, writing results and messages into the caller's buffers, and the boundary that
//! turns errors and panics into status codes. It depends on nothing heavy, so that miri can run every unsafe
//! block here in seconds instead of first compiling the engine's dependencies.

mod error;
mod guard;
mod pixels;
mod raw;

pub use error::FfiError;
pub use guard::{boundary, copy_out, last_error_into};
pub use pixels::{Geometry, Planes, check_geometry, read_view, write_view};
pub use raw::{required_str, slice_from_raw};
