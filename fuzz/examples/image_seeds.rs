//! Writes the image decoder's seed corpus: a small gradient in every format and layout the engine reads, a
//! file whose header claims a huge image (a decompression bomb) and a truncated file.
//!
//! usage: cargo run --manifest-path fuzz/Cargo.toml --example image_seeds -- fuzz/corpus/image_decode

use std::io::Cursor;
use std::path::PathBuf;

use image::{DynamicImage, ImageFormat, Rgba, Rgba32FImage};

fn main() {
    let out = PathBuf::from(std::env::args().nth(1).expect("usage: image_seeds OUTDIR"));
    std::fs::create_dir_all(&out).expect("create the folder");
    let gradient = DynamicImage::ImageRgba32F(Rgba32FImage::from_fn(12, 8, |x, y| {
        Rgba([x as f32 / 12.0, y as f32 / 8.0, 0.5, 0.25 + x as f32 / 24.0])
    }));
    let encode = |image: &DynamicImage, format: ImageFormat| {
        let mut bytes = Vec::new();
        image.write_to(&mut Cursor::new(&mut bytes), format).expect("encode");
        bytes
    };
    let cases = [
        ("rgb8.png", encode(&DynamicImage::ImageRgb8(gradient.to_rgb8()), ImageFormat::Png)),
        ("rgba16.png", encode(&DynamicImage::ImageRgba16(gradient.to_rgba16()), ImageFormat::Png)),
        ("grey8.png", encode(&DynamicImage::ImageLuma8(gradient.to_luma8()), ImageFormat::Png)),
        ("rgb8.jpg", encode(&DynamicImage::ImageRgb8(gradient.to_rgb8()), ImageFormat::Jpeg)),
        ("rgba8.webp", encode(&DynamicImage::ImageRgba8(gradient.to_rgba8()), ImageFormat::WebP)),
        ("rgb16.tiff", encode(&DynamicImage::ImageRgb16(gradient.to_rgb16()), ImageFormat::Tiff)),
        ("rgba8.tiff", encode(&DynamicImage::ImageRgba8(gradient.to_rgba8()), ImageFormat::Tiff)),
    ];
    for (name, bytes) in &cases {
        std::fs::write(out.join(name), bytes).expect("write");
    }
    // A PNG whose header claims 60000 x 60000 pixels: the size check must refuse it before decoding.
    let mut bomb = cases[0].1.clone();
    bomb[16..20].copy_from_slice(&60_000u32.to_be_bytes());
    bomb[20..24].copy_from_slice(&60_000u32.to_be_bytes());
    let crc = crc32fast::hash(&bomb[12..29]);
    bomb[29..33].copy_from_slice(&crc.to_be_bytes());
    std::fs::write(out.join("claims-60000x60000.png"), bomb).expect("write");
    let jpeg = &cases[3].1;
    std::fs::write(out.join("truncated.jpg"), &jpeg[..jpeg.len() / 2]).expect("write");
}
