//! What a file is for, and so how large it may be.

/// The kinds of file nst reads, each with its size limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// A style preset (TOML).
    Preset,
    /// An engine or plug-in configuration (TOML).
    Configuration,
    /// A batch jobs file (TOML).
    Jobs,
    /// A model manifest (TOML).
    Manifest,
    /// An encoded image.
    Image,
    /// VGG19 weights (ONNX, safetensors, PyTorch).
    Model,
    /// A lock file, held open and never written: empty.
    Lock,
}

/// The most bytes an image's pixels may take decoded, as stored (8 bits or 16 a channel), in either reader:
/// 100 megapixels of 8-bit RGB, or a 10000x10000 RGBA8, fit; a decompression bomb does not.
pub const DECODED_IMAGE_BYTES_MAX: u64 = 800_000_000;

/// The most bytes an image's metadata (ICC profile, EXIF, text) may take once inflated: a real ICC profile
/// is well under 1 MiB, while a compressed PNG chunk can claim gigabytes.
pub const IMAGE_METADATA_BYTES_MAX: u64 = 16 << 20;

const KIB: u64 = 1 << 10;
const MIB: u64 = 1 << 20;
const GIB: u64 = 1 << 30;

impl FileKind {
    /// The most bytes a file of this kind may hold: far above any real one, far below what exhausts memory.
    pub const fn limit(self) -> u64 {
        match self {
            FileKind::Preset | FileKind::Configuration => 256 * KIB,
            FileKind::Manifest => 64 * KIB,
            FileKind::Lock => 4 * KIB,
            FileKind::Jobs => 16 * MIB,
            FileKind::Image | FileKind::Model => GIB,
        }
    }

    /// How messages name the kind.
    pub const fn name(self) -> &'static str {
        match self {
            FileKind::Preset => "a preset",
            FileKind::Configuration => "a configuration file",
            FileKind::Manifest => "a model manifest",
            FileKind::Jobs => "a jobs file",
            FileKind::Image => "an image",
            FileKind::Model => "a model file",
            FileKind::Lock => "a lock file",
        }
    }
}

/// `bytes` for people: "256 KiB", "1 GiB", "3.2 MiB".
pub fn human(bytes: u64) -> String {
    let (value, unit) = match bytes {
        b if b >= GIB => (b as f64 / GIB as f64, "GiB"),
        b if b >= MIB => (b as f64 / MIB as f64, "MiB"),
        b if b >= KIB => (b as f64 / KIB as f64, "KiB"),
        b => return format!("{b} bytes"),
    };
    if value.fract() == 0.0 { format!("{value} {unit}") } else { format!("{value:.1} {unit}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(human(FileKind::Preset.limit()), "256 KiB");
        assert_eq!(human(FileKind::Model.limit()), "1 GiB");
        assert_eq!(human(3 * MIB + MIB / 5), "3.2 MiB");
        assert_eq!(human(12), "12 bytes");
    }
}
