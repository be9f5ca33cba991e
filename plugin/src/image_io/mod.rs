//! Images in and out: decoding, the planar float layout the engine works in, resizing, and atomic writing.

mod planar;
mod read;
mod write;

pub use planar::Planar;
pub use read::{MAX_PIXELS, read_image};
pub use write::{BitDepth, write_image};
