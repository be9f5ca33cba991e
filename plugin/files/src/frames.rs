//! How many pictures an image file holds. Decoders read the first frame of an animated PNG or WebP and the
//! first page of a TIFF without a word; nst refuses such files instead of stylizing a frame nobody chose.
//! Only headers and chunk or directory lengths are read, never the pixels.

use std::io::{self, Read, Seek, SeekFrom};

/// What an image file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frames {
    /// One picture.
    One,
    /// An animation (APNG, animated WebP) of this many frames (`None`: not stated in the header).
    Animation(Option<u32>),
    /// A TIFF of this many pages (counted up to 1000).
    Pages(u32),
}

impl std::fmt::Display for Frames {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Frames::One => write!(f, "one picture"),
            Frames::Animation(Some(count)) => write!(f, "an animation of {count} frames"),
            Frames::Animation(None) => write!(f, "an animation"),
            Frames::Pages(count) => write!(f, "{count} pages"),
        }
    }
}

/// Counts the pictures of a PNG, WebP or TIFF read from `source`; any other format counts as one. Leaves
/// `source` at its start.
pub fn count_frames<R: Read + Seek>(source: &mut R) -> io::Result<Frames> {
    let mut magic = [0u8; 12];
    let read = read_up_to(source, &mut magic)?;
    let magic = &magic[..read];
    let frames = if magic.starts_with(b"\x89PNG\r\n\x1a\n") {
        png_frames(source)?
    } else if magic.len() == 12 && &magic[..4] == b"RIFF" && &magic[8..12] == b"WEBP" {
        webp_frames(source)?
    } else if magic.starts_with(b"II*\0") || magic.starts_with(b"MM\0*") {
        tiff_pages(source, magic[0] == b'I', false)?
    } else if magic.starts_with(b"II+\0") || magic.starts_with(b"MM\0+") {
        tiff_pages(source, magic[0] == b'I', true)?
    } else {
        Frames::One
    };
    source.seek(SeekFrom::Start(0))?;
    Ok(frames)
}

fn read_up_to<R: Read>(source: &mut R, buffer: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buffer.len() {
        match source.read(&mut buffer[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

/// An APNG has an `acTL` chunk (frame count first) before its first `IDAT`.
fn png_frames<R: Read + Seek>(source: &mut R) -> io::Result<Frames> {
    let mut position = 8u64;
    loop {
        source.seek(SeekFrom::Start(position))?;
        let mut header = [0u8; 12];
        if read_up_to(source, &mut header)? < 12 {
            return Ok(Frames::One);
        }
        let length = u32::from_be_bytes(header[..4].try_into().expect("4 bytes")) as u64;
        match &header[4..8] {
            b"acTL" => {
                let count = u32::from_be_bytes(header[8..12].try_into().expect("4 bytes"));
                return Ok(if count > 1 { Frames::Animation(Some(count)) } else { Frames::One });
            }
            b"IDAT" | b"IEND" => return Ok(Frames::One),
            _ => position += 12 + length,
        }
    }
}

/// An animated WebP says so in its `VP8X` chunk's flags (bit 1).
fn webp_frames<R: Read + Seek>(source: &mut R) -> io::Result<Frames> {
    source.seek(SeekFrom::Start(12))?;
    let mut chunk = [0u8; 9];
    if read_up_to(source, &mut chunk)? == 9 && &chunk[..4] == b"VP8X" && chunk[8] & 0x02 != 0 {
        return Ok(Frames::Animation(None));
    }
    Ok(Frames::One)
}

/// A TIFF's image file directories form a chain; more than one link is more than one page.
fn tiff_pages<R: Read + Seek>(source: &mut R, little: bool, big: bool) -> io::Result<Frames> {
    const MOST: u32 = 1000;
    let word = |bytes: &[u8]| -> u64 {
        let mut value = 0u64;
        for i in 0..bytes.len() {
            let byte = if little { bytes[bytes.len() - 1 - i] } else { bytes[i] };
            value = value << 8 | byte as u64;
        }
        value
    };
    let (offset_size, count_size, entry_size, first_at) = if big { (8, 8, 20, 8) } else { (4, 2, 12, 4) };
    let mut buffer = [0u8; 8];
    source.seek(SeekFrom::Start(first_at))?;
    if read_up_to(source, &mut buffer[..offset_size])? < offset_size {
        return Ok(Frames::One);
    }
    let mut directory = word(&buffer[..offset_size]);
    let mut pages = 0;
    while directory != 0 && pages < MOST {
        pages += 1;
        source.seek(SeekFrom::Start(directory))?;
        if read_up_to(source, &mut buffer[..count_size])? < count_size {
            break;
        }
        let entries = word(&buffer[..count_size]);
        source.seek(SeekFrom::Start(directory + count_size as u64 + entries * entry_size))?;
        if read_up_to(source, &mut buffer[..offset_size])? < offset_size {
            break;
        }
        let next = word(&buffer[..offset_size]);
        // A chain that points backwards would loop: stop counting there.
        directory = if next > directory { next } else { 0 };
    }
    Ok(if pages > 1 { Frames::Pages(pages) } else { Frames::One })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn png_with(chunks: &[(&[u8; 4], Vec<u8>)]) -> Vec<u8> {
        let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
        for (name, data) in chunks {
            bytes.extend((data.len() as u32).to_be_bytes());
            bytes.extend(*name);
            bytes.extend(data);
            bytes.extend([0u8; 4]);
        }
        bytes
    }

    #[test]
    fn an_apng_counts_its_frames_and_a_png_is_one() {
        let ihdr = (b"IHDR", vec![0u8; 13]);
        let actl = (b"acTL", [3u32.to_be_bytes(), 0u32.to_be_bytes()].concat());
        let idat = (b"IDAT", vec![0u8; 5]);
        let apng = png_with(&[ihdr.clone(), actl, idat.clone()]);
        assert_eq!(count_frames(&mut Cursor::new(apng)).unwrap(), Frames::Animation(Some(3)));
        assert_eq!(count_frames(&mut Cursor::new(png_with(&[ihdr, idat]))).unwrap(), Frames::One);
    }

    #[test]
    fn an_animated_webp_is_seen_in_its_flags() {
        let webp = |flags: u8| [b"RIFF".as_slice(), &[0; 4], b"WEBPVP8X", &[10, 0, 0, 0, flags], &[0; 9]].concat();
        assert_eq!(count_frames(&mut Cursor::new(webp(0x02))).unwrap(), Frames::Animation(None));
        assert_eq!(count_frames(&mut Cursor::new(webp(0x10))).unwrap(), Frames::One);
    }

    #[test]
    fn a_tiff_counts_its_pages() {
        // Little-endian TIFF: header, then directories of no entries, chained.
        let tiff = |pages: u32| {
            let mut bytes = b"II*\0".to_vec();
            bytes.extend(8u32.to_le_bytes());
            for page in 0..pages {
                bytes.extend(0u16.to_le_bytes());
                let next = if page + 1 < pages { 8 + 6 * (page + 1) } else { 0 };
                bytes.extend(next.to_le_bytes());
            }
            bytes
        };
        assert_eq!(count_frames(&mut Cursor::new(tiff(1))).unwrap(), Frames::One);
        assert_eq!(count_frames(&mut Cursor::new(tiff(3))).unwrap(), Frames::Pages(3));
        assert_eq!(Frames::Pages(3).to_string(), "3 pages");
    }

    #[test]
    fn other_and_truncated_files_count_as_one() {
        for bytes in [b"\xff\xd8\xff\xe0".to_vec(), b"\x89PNG\r\n\x1a\n\0\0".to_vec(), b"II*\0".to_vec(), vec![]] {
            assert_eq!(count_frames(&mut Cursor::new(bytes)).unwrap(), Frames::One);
        }
    }
}
