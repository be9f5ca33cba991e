//! Every file the engine, the model store and the command read is a path someone typed: it may be a FIFO that
//! would block forever, `/dev/zero` that never ends, or a folder. These helpers open it without blocking,
//! refuse anything but a regular file, and read no more than its kind may hold, naming the limit.

mod frames;
mod kind;
mod open;

pub use frames::{Frames, count_frames};
pub use kind::FileKind;
pub use open::{open_regular, read_bounded, read_opened, read_text};
