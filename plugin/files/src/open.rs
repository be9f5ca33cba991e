//! Opening without blocking, and reading with a limit.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use crate::kind::{FileKind, human};

/// Opens `path` for reading if it is a regular file (symbolic links followed), never blocking: a FIFO, a
/// device, a socket or a folder is refused, as is a file larger than `kind` may be. Returns the file and its
/// length. Errors are messages about the file, to follow "PATH: cannot read: ".
pub fn open_regular(path: &Path, kind: FileKind) -> io::Result<(File, u64)> {
    let file = open_nonblocking(path)?;
    let metadata = file.metadata()?;
    if !metadata.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} is not a regular file: {} must be one", describe_type(&metadata), kind.name()),
        ));
    }
    let length = metadata.len();
    if length > kind.limit() {
        return Err(too_large(length, kind));
    }
    Ok((file, length))
}

/// The bytes of the regular file `path`, at most `kind`'s limit (checked again while reading, for a file that
/// grows).
pub fn read_bounded(path: &Path, kind: FileKind) -> io::Result<Vec<u8>> {
    let (file, length) = open_regular(path, kind)?;
    read_opened(file, length, kind)
}

/// The rest of a file [`open_regular`] opened (`length` bytes long, as it reported), at most `kind`'s limit.
/// At most a few bytes more than `length` are read: a file that holds more than it reports (such as
/// `/proc/self/pagemap`, which reports 0 bytes and holds terabytes) is refused instead of read up to the limit.
pub fn read_opened(file: File, length: u64, kind: FileKind) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    bytes.try_reserve_exact(length as usize).map_err(|_| io::Error::from(io::ErrorKind::OutOfMemory))?;
    // 8 bytes past the end, not 1: some special files (pagemap) read only in 8-byte units.
    const PAST_THE_END: u64 = 8;
    file.take(length.min(kind.limit()) + PAST_THE_END).read_to_end(&mut bytes)?;
    let read = bytes.len() as u64;
    if read > kind.limit() {
        return Err(too_large(read, kind));
    }
    if read > length {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "it reports {length} bytes but holds more (a special file, such as those under /proc, or one \
                 still being written): {} must be a regular file of a fixed size",
                kind.name()
            ),
        ));
    }
    Ok(bytes)
}

/// The regular file `path` as UTF-8 text, at most `kind`'s limit.
pub fn read_text(path: &Path, kind: FileKind) -> io::Result<String> {
    String::from_utf8(read_bounded(path, kind)?)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("not UTF-8 text: {e}")))
}

fn too_large(length: u64, kind: FileKind) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("{} is larger than the {} that {} may hold", human(length), human(kind.limit()), kind.name()),
    )
}

/// O_NONBLOCK makes opening a FIFO with no writer return at once; on a regular file it changes nothing.
#[cfg(unix)]
fn open_nonblocking(path: &Path) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK).open(path)
}

/// Windows has no FIFOs in the file system; named pipes live under `\\.\pipe\`, which the type check refuses.
/// Backup semantics let a folder be opened too (a plain open says "Access denied"), so that the type check
/// names it; for a file they change nothing.
#[cfg(windows)]
fn open_nonblocking(path: &Path) -> io::Result<File> {
    use std::os::windows::fs::OpenOptionsExt;
    const FILE_FLAG_BACKUP_SEMANTICS: u32 = 0x0200_0000;
    std::fs::OpenOptions::new().read(true).custom_flags(FILE_FLAG_BACKUP_SEMANTICS).open(path)
}

#[cfg(not(any(unix, windows)))]
fn open_nonblocking(path: &Path) -> io::Result<File> {
    File::open(path)
}

/// What a file that is no regular file is, for messages: "a folder", "a FIFO (named pipe)", "a device"...
pub fn describe_type(metadata: &std::fs::Metadata) -> &'static str {
    if metadata.is_dir() {
        return "a folder";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let kind = metadata.file_type();
        if kind.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if kind.is_char_device() || kind.is_block_device() {
            return "a device";
        }
        if kind.is_socket() {
            return "a socket";
        }
    }
    "a special file"
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("nst-files-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn regular_files_are_read_and_large_ones_refused_with_the_limit() {
        let dir = scratch("size");
        let small = dir.join("small.toml");
        std::fs::write(&small, "version = 1\n").unwrap();
        assert_eq!(read_text(&small, FileKind::Preset).unwrap(), "version = 1\n");
        let big = dir.join("big.toml");
        std::fs::write(&big, vec![b'#'; 300 * 1024]).unwrap();
        let message = read_text(&big, FileKind::Preset).unwrap_err().to_string();
        assert!(message.contains("300 KiB is larger than the 256 KiB that a preset may hold"), "{message}");
        assert!(read_bounded(&big, FileKind::Jobs).is_ok());
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_file_that_holds_more_than_it_reports_is_refused_at_once() {
        // pagemap reports 0 bytes and reads as eight bytes a page of the address space: terabytes.
        let started = std::time::Instant::now();
        let message = read_bounded(Path::new("/proc/self/pagemap"), FileKind::Image).unwrap_err().to_string();
        assert!(message.contains("it reports 0 bytes but holds more"), "{message}");
        assert!(started.elapsed() < std::time::Duration::from_secs(1), "took {:?}", started.elapsed());
    }

    #[test]
    fn folders_are_refused() {
        let dir = scratch("folder");
        let message = read_bounded(&dir, FileKind::Configuration).unwrap_err().to_string();
        assert!(message.contains("a folder is not a regular file"), "{message}");
    }

    #[cfg(unix)]
    #[test]
    fn fifos_and_devices_are_refused_at_once() {
        let dir = scratch("fifo");
        let fifo = dir.join("pipe.toml");
        let name = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(name.as_ptr(), 0o600) }, 0);
        let started = std::time::Instant::now();
        let message = read_text(&fifo, FileKind::Preset).unwrap_err().to_string();
        assert!(message.contains("a FIFO (named pipe) is not a regular file"), "{message}");
        let message = read_bounded(Path::new("/dev/zero"), FileKind::Model).unwrap_err().to_string();
        assert!(message.contains("a device is not a regular file"), "{message}");
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
    }
}
