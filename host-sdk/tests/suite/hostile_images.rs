//! The command against images that are small on disk and huge in memory, that hold more than they report, that
//! carry a profile nst cannot write back, or pixels that are not numbers. Each must be refused at once, naming
//! the file, or, where users have such files (grey scans with a grey profile), run and be written.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::support::*;

/// Every refusal here comes before the first iteration: well under this, even on a loaded machine.
const PROMPT: Duration = Duration::from_secs(5);

fn content() -> PathBuf {
    repo().join("presets/images/mosaic.png")
}

fn path_str(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// Runs `nst` with a limit, asserting it failed promptly (exit status 1, not a signal) with every one of
/// `expected` in its output.
fn refused_promptly(args: &[&str], expected: &[&str]) -> String {
    let started = Instant::now();
    let output = nst_with_timeout(args, Duration::from_secs(120));
    let elapsed = started.elapsed();
    let message = text(&output);
    assert_eq!(output.status.code(), Some(1), "{args:?}: {:?}: {message}", output.status);
    for part in expected {
        assert!(message.contains(part), "{args:?}: expected '{part}' in: {message}");
    }
    assert!(elapsed < PROMPT, "{args:?} took {elapsed:?}");
    message
}

/// A 10000x10000 black RGB PNG of about 300 KB: 300 MB decoded, and gigabytes as the engine's floats.
fn huge_png(dir: &Path) -> PathBuf {
    use image::ImageEncoder;
    use image::codecs::png::{CompressionType, FilterType, PngEncoder};
    let path = dir.join("huge.png");
    let side = 10_000;
    // Zeroed pages are not touched until written: the test itself stays small.
    let pixels = vec![0u8; side * side * 3];
    let file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    PngEncoder::new_with_quality(file, CompressionType::Fast, FilterType::NoFilter)
        .write_image(&pixels, side as u32, side as u32, image::ExtendedColorType::Rgb8)
        .unwrap();
    path
}

#[test]
fn huge_images_small_on_disk_are_refused_before_decoding_as_style_mask_and_content() {
    let dir = scratch("hostile-huge");
    let huge = huge_png(&dir);
    assert!(std::fs::metadata(&huge).unwrap().len() < 2_000_000);
    let preset = quick_preset(&dir);
    let out = dir.join("out.png");
    let expected = ["huge.png", "10000x10000 pixels", "the memory budget is 500 MiB"];
    let (content, preset, out, huge) = (content(), path_str(&preset), path_str(&out), path_str(&huge));
    let common = ["-p", preset, "-o", out, "--memory-budget", "500"];
    let as_style = [&["stylize", path_str(&content), "--style", huge][..], &common].concat();
    refused_promptly(&as_style, &expected);
    let as_mask = [&["stylize", path_str(&content), "--style-mask", huge][..], &common].concat();
    refused_promptly(&as_mask, &expected);
    let as_content = [&["stylize", huge][..], &common].concat();
    refused_promptly(&as_content, &expected);
}

/// Where memory is limited (a container, `ulimit -v`), a huge style image is refused with a message, not an
/// abort that would take a host down with it.
#[cfg(target_os = "linux")]
#[test]
fn a_huge_style_image_under_a_memory_limit_is_refused_not_aborted() {
    use std::os::unix::process::CommandExt;
    let dir = scratch("hostile-huge-limited");
    let huge = huge_png(&dir);
    let out = dir.join("out.png");
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_nst"));
    command.args(["stylize", path_str(&content()), "-p", path_str(&quick_preset(&dir)), "--style", path_str(&huge)]);
    command.args(["-o", path_str(&out)]).env("ORT_DYLIB_PATH", ort_path());
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        command.pre_exec(|| {
            // Room for the program, the plugin and ONNX Runtime, not for the image as floats.
            let limit = 3 << 30;
            let rlimit = libc::rlimit { rlim_cur: limit, rlim_max: limit };
            libc::setrlimit(libc::RLIMIT_AS, &rlimit);
            Ok(())
        });
    }
    let output = command.output().unwrap();
    let message = text(&output);
    assert_eq!(output.status.code(), Some(1), "{:?}: {message}", output.status);
    assert!(message.contains("huge.png") && message.contains("10000x10000 pixels"), "{message}");
    assert!(!out.exists());
}

/// A zlib stream that inflates to `length` zero bytes (1 + a multiple of 258): a literal, then back-references
/// of 258 bytes at distance 1 in one fixed-Huffman block, 13 bits each.
fn zeros_deflated(length: usize) -> Vec<u8> {
    assert_eq!((length - 1) % 258, 0);
    let mut bits = BitWriter::default();
    bits.push(1, 1); // the last block
    bits.push(1, 2); // fixed Huffman codes
    bits.push_code(0x30, 8); // literal 0
    for _ in 0..(length - 1) / 258 {
        bits.push_code(0xc5, 8); // length 258
        bits.push_code(0, 5); // distance 1
    }
    bits.push_code(0, 7); // end of block
    let mut stream = vec![0x78, 0x01];
    stream.extend(bits.finish());
    // Adler-32 of zeros: the first sum stays 1, the second counts the bytes.
    let adler = ((length % 65_521) as u32) << 16 | 1;
    stream.extend(adler.to_be_bytes());
    stream
}

#[derive(Default)]
struct BitWriter {
    bytes: Vec<u8>,
    used: u32,
}

impl BitWriter {
    /// Pushes the `count` low bits of `value`, least significant first (deflate's order for values).
    fn push(&mut self, value: u32, count: u32) {
        for i in 0..count {
            if self.used.is_multiple_of(8) {
                self.bytes.push(0);
            }
            let bit = (value >> i) & 1;
            *self.bytes.last_mut().unwrap() |= (bit as u8) << (self.used % 8);
            self.used += 1;
        }
    }

    /// Pushes a Huffman code, most significant bit first (deflate's order for codes).
    fn push_code(&mut self, code: u32, count: u32) {
        for i in (0..count).rev() {
            self.push((code >> i) & 1, 1);
        }
    }

    fn finish(self) -> Vec<u8> {
        self.bytes
    }
}

/// Inflated under a limit of its own (16 MiB), such a profile is cut short and dropped, and the pixels are
/// taken as sRGB; under the pixels' limit it used to be inflated whole (268 MB here, up to 800 MB), then refused.
#[test]
fn an_icc_profile_that_inflates_to_hundreds_of_megabytes_is_cut_at_its_own_limit() {
    let dir = scratch("hostile-icc-bomb");
    let mut png = Vec::new();
    image::RgbImage::from_pixel(32, 32, image::Rgb([200, 100, 50]))
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    let data = [&b"bomb\0\0"[..], &zeros_deflated(1 + 258 * 1_040_000)].concat();
    let mut chunk = (data.len() as u32).to_be_bytes().to_vec();
    chunk.extend(b"iCCP");
    chunk.extend(&data);
    let crc = crc32(&chunk[4..]);
    chunk.extend(crc.to_be_bytes());
    let after_header = 8 + 12 + 13;
    png.splice(after_header..after_header, chunk);
    assert!(png.len() < 2_000_000, "{} bytes", png.len());
    let bomb = dir.join("bomb.png");
    std::fs::write(&bomb, png).unwrap();
    let out = dir.join("out.png");
    let started = Instant::now();
    let output = nst(&["stylize", path_str(&bomb), "-p", path_str(&quick_preset(&dir)), "-o", path_str(&out), "-q"]);
    assert!(output.status.success(), "{}", text(&output));
    assert!(out.is_file());
    assert!(started.elapsed() < PROMPT * 4, "took {:?}", started.elapsed());
}

/// A preset naming a file that reports 0 bytes and holds terabytes as its style image: the plugin's reader
/// stops after a few bytes.
#[cfg(target_os = "linux")]
#[test]
fn a_style_image_that_holds_more_than_it_reports_is_refused_at_once() {
    let dir = scratch("hostile-pagemap");
    let preset = quick_preset(&dir);
    let text = std::fs::read_to_string(&preset).unwrap();
    let style = repo().join("presets/images/mosaic.png").display().to_string();
    let special = dir.join("special.toml");
    std::fs::write(&special, text.replace(&style, "/proc/self/pagemap")).unwrap();
    let out = dir.join("out.png");
    refused_promptly(
        &["stylize", path_str(&content()), "-p", path_str(&special), "-o", path_str(&out)],
        &["/proc/self/pagemap", "it reports 0 bytes but holds more"],
    );
}

#[test]
fn a_grey_scan_with_a_grey_profile_is_stylized_and_written_in_srgb() {
    use image::ImageEncoder;
    let dir = scratch("hostile-grey-icc");
    let scan = dir.join("scan.png");
    let pixels: Vec<u8> = (0..64 * 64).map(|i| (i % 64 * 4) as u8).collect();
    let mut encoder = image::codecs::png::PngEncoder::new(std::fs::File::create(&scan).unwrap());
    encoder.set_icc_profile(moxcms::ColorProfile::new_gray_with_gamma(2.2).encode().unwrap()).unwrap();
    encoder.write_image(&pixels, 64, 64, image::ExtendedColorType::L8).unwrap();
    let out = dir.join("out.png");
    let output = nst(&["stylize", path_str(&scan), "-p", path_str(&quick_preset(&dir)), "-o", path_str(&out), "-q"]);
    let message = text(&output);
    assert!(output.status.success(), "{message}");
    assert!(message.contains("scan.png") && message.contains("grey ICC profile"), "{message}");
    let written = image::open(&out).unwrap();
    assert_eq!((written.width(), written.height()), (32, 32));
}

#[test]
fn a_photo_with_a_cmyk_profile_is_stylized_and_written_in_srgb() {
    use image::ImageEncoder;
    let dir = scratch("hostile-cmyk-icc");
    let photo = dir.join("print.png");
    // What a CMYK JPEG becomes once decoded: RGB pixels with a CMYK profile. The profile is a grey one with its
    // header's data colour space (bytes 16..20) made CMYK, which is all that decides what nst does with it.
    let mut profile = moxcms::ColorProfile::new_gray_with_gamma(2.2).encode().unwrap();
    profile[16..20].copy_from_slice(b"CMYK");
    let pixels: Vec<u8> = (0..48 * 48 * 3).map(|i| (i % 251) as u8).collect();
    let mut encoder = image::codecs::png::PngEncoder::new(std::fs::File::create(&photo).unwrap());
    encoder.set_icc_profile(profile).unwrap();
    encoder.write_image(&pixels, 48, 48, image::ExtendedColorType::Rgb8).unwrap();
    let out = dir.join("out.png");
    let preset = quick_preset(&dir);
    let output = nst(&["stylize", path_str(&photo), "-p", path_str(&preset), "-o", path_str(&out), "-q"]);
    let message = text(&output);
    assert!(output.status.success(), "{message}");
    assert!(message.contains("print.png") && message.contains("Cmyk ICC profile cannot be written back"), "{message}");
    assert!(image::open(&out).is_ok());
}

/// A 32-bit float RGB TIFF with one pixel that is `value`.
fn float_tiff(path: &Path, value: f32) {
    let mut pixels = vec![0.5f32; 32 * 32 * 3];
    pixels[(2 * 32 + 3) * 3 + 1] = value;
    image::DynamicImage::ImageRgb32F(image::Rgb32FImage::from_raw(32, 32, pixels).unwrap())
        .save_with_format(path, image::ImageFormat::Tiff)
        .unwrap();
}

#[test]
fn float_images_holding_nan_or_infinity_are_refused_at_reading_naming_the_pixel() {
    let dir = scratch("hostile-nan");
    let preset = quick_preset(&dir);
    let out = dir.join("out.png");
    let content = content();
    for (name, value, shown) in [("nan.tiff", f32::NAN, "NaN"), ("inf.tiff", f32::INFINITY, "inf")] {
        let path = dir.join(name);
        float_tiff(&path, value);
        let expected = [name, &format!("pixel (3, 2) is {shown}")[..]];
        refused_promptly(&["stylize", path_str(&path), "-p", path_str(&preset), "-o", path_str(&out)], &expected);
        let as_style = ["stylize", path_str(&content), "--style", path_str(&path), "-p", path_str(&preset)];
        refused_promptly(&[&as_style[..], &["-o", path_str(&out)]].concat(), &expected);
    }
}
