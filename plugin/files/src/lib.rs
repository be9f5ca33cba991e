//! Every file the engine, the model store and the command read is a path someone typed: it may be a FIFO that
//! would block forever, `/dev/zero` that never ends, or a folder. These helpers open it without blocking,
//! refuse anything but a regular file, and read no more than its kind may hold, naming the limit. Files are
//! written atomically, under unpredictable temporary names that no link can redirect.

#[cfg(feature = "images")]
mod decode;
mod frames;
mod kind;
mod memory;
mod open;
mod write;

#[cfg(feature = "images")]
pub use decode::{DecodeBudget, Decoded, decode_within};
pub use frames::{Frames, count_frames};
pub use kind::{DECODED_IMAGE_BYTES_MAX, FileKind, IMAGE_METADATA_BYTES_MAX, human};
pub use memory::{DEFAULT_SHARE_OF_AVAILABLE, available_memory_mib, check_decoding_fits, default_budget_mib};
pub use open::{describe_type, open_regular, read_bounded, read_opened, read_text};
pub use write::{
    create_new_file, create_sibling_folder, open_lock_file, open_partial_file, remove_leftover_temporaries,
    remove_leftover_temporaries_of, temporary_sibling, write_atomically, write_atomically_with, write_temporary_with,
};
