//! Images in: decoding with limits, and the planar float layout the engine works in (hosts write results).

mod planar;
mod read;

pub use planar::Planar;
pub use read::{decode_image, decode_image_within, read_image, read_image_within};
