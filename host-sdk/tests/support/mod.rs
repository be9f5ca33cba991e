//! Shared by the host SDK's tests: the built plugin and command, and scratch folders.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub mod krita;

pub fn repo() -> PathBuf {
    windows_absolute(Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap())
}

/// Cross-built for Windows and run under Wine, the tests carry Linux paths from the build (`/work/...`), which
/// Windows reads as relative to the current drive: Wine shows the Linux root as drive Z:.
pub fn windows_absolute(path: &Path) -> PathBuf {
    if cfg!(windows) && !path.is_absolute() && path.has_root() {
        PathBuf::from(format!("Z:{}", path.display()))
    } else {
        path.to_path_buf()
    }
}

/// The folder of the built `nst` command, where the plugin library is built too.
pub fn build_dir() -> PathBuf {
    windows_absolute(Path::new(env!("CARGO_BIN_EXE_nst")).parent().unwrap())
}

pub fn plugin_path() -> PathBuf {
    let path = build_dir().join(nst_host::library_file_name());
    assert!(path.is_file(), "{} is missing: build the workspace (cargo test --workspace)", path.display());
    path
}

/// The ONNX Runtime library: `ORT_DYLIB_PATH` when set, else the one `scripts/setup` unpacked
/// (`scripts/setup --windows` for the Windows build).
pub fn ort_path() -> String {
    std::env::var("ORT_DYLIB_PATH").ok().filter(|p| !p.is_empty()).unwrap_or_else(|| {
        let default = if cfg!(windows) { ".ort-windows/onnxruntime.dll" } else { ".ort/libonnxruntime.so.1.31.1" };
        repo().join(default).display().to_string()
    })
}

/// A fresh folder for one test. The same test's folders from earlier runs (another process id) are removed
/// first: some hold model files of hundreds of MB, and repeated runs must not fill the disk.
pub fn scratch(tag: &str) -> PathBuf {
    let prefix = format!("nst-sdk-{tag}-");
    let pid = std::process::id().to_string();
    for entry in std::fs::read_dir(std::env::temp_dir()).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let earlier = name.strip_prefix(&prefix).is_some_and(|rest| rest != pid && rest.parse::<u32>().is_ok());
        if earlier {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
    let dir = std::env::temp_dir().join(format!("{prefix}{pid}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub fn nst(args: &[&str]) -> Output {
    plugin_path();
    Command::new(env!("CARGO_BIN_EXE_nst")).args(args).env("ORT_DYLIB_PATH", ort_path()).output().unwrap()
}

/// `nst` killed after `limit`: a hang fails the test instead of stalling the suite.
pub fn nst_with_timeout(args: &[&str], limit: std::time::Duration) -> Output {
    use std::process::Stdio;
    plugin_path();
    let mut child = Command::new(env!("CARGO_BIN_EXE_nst"))
        .args(args)
        .env("ORT_DYLIB_PATH", ort_path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > limit {
            let _ = child.kill();
            let output = child.wait_with_output().unwrap();
            panic!("nst {args:?} still running after {limit:?}: {}", text(&output));
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

pub fn text(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

/// A preset that runs in a fraction of a second: shallow layers, few iterations.
pub fn quick_preset(dir: &Path) -> PathBuf {
    let path = dir.join("quick.toml");
    std::fs::write(
        &path,
        format!(
            "version = 1\ndescription = \"quick\"\n[style]\nimages = ['{}']\n[losses]\ncontent_layer = \"relu2_1\"\nstyle_layers = [\"relu1_1\", \"relu2_1\"]\nstyle_weight = 1e7\n[optimiser]\niterations = 3\n[output]\nsize = 32\n",
            repo().join("presets/images/mosaic.png").display()
        ),
    )
    .unwrap();
    path
}

/// scripts/gimp-install for GIMP 2.10 into `dest` (a plug-ins folder or the nst folder in one), the GEGL
/// operation into `gegl`, from the built library.
pub fn install_gimp2(dest: &Path, gegl: &Path) -> Output {
    Command::new(repo().join("scripts/gimp-install"))
        .args(["--gimp", "2.10", "--dest"])
        .arg(dest)
        .arg("--gegl-dest")
        .arg(gegl)
        .arg("--library-dir")
        .arg(build_dir())
        .output()
        .unwrap()
}

/// GIMP 3 in its Debian 13 root (scripts/gimp3-root), shared by the GIMP 3 tests.
pub mod gimp3 {
    use std::path::{Path, PathBuf};
    use std::process::Command;

    use super::{build_dir, ort_path, repo};

    fn copy_tree(from: &Path, to: &Path) {
        let status = Command::new("cp").arg("-r").arg(from).arg(to).status().unwrap();
        assert!(status.success(), "cp {} {}", from.display(), to.display());
    }

    /// Runs `command` with bash inside the root: whether it succeeded, and its output.
    pub fn inside_root(root: &Path, command: &str) -> (bool, String) {
        let output = Command::new(repo().join("scripts/gimp3-root"))
            .args(["--run", "bash", "-c", command])
            .env("NST_GIMP3_ROOT", root)
            .output()
            .unwrap();
        (
            output.status.success(),
            format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr)),
        )
    }

    /// The root (made once, from nothing on a fresh machine) with a fresh /job: the presets in /job/src/presets
    /// (for the cases' own preset files), and empty /job/work and /job/home.
    pub fn fresh_job() -> PathBuf {
        let made = Command::new(repo().join("scripts/gimp3-root")).output().expect("scripts/gimp3-root");
        let root = PathBuf::from(String::from_utf8_lossy(&made.stdout).trim());
        assert!(made.status.success(), "the GIMP 3 root could not be made:\n{}", String::from_utf8_lossy(&made.stderr));
        let job = root.join("job");
        let _ = std::fs::remove_dir_all(&job);
        for dir in ["src", "work", "home"] {
            std::fs::create_dir_all(job.join(dir)).unwrap();
        }
        copy_tree(&repo().join("presets"), &job.join("src"));
        root
    }

    /// GIMP 3 makes its profile /job/gimpdir on a first start (the installer only adds to a profile), then
    /// `nst gimp install` puts the filter into its plug-ins folder, from the library built here.
    pub fn install(root: &Path) {
        let (started, log) = inside_root(root, "GIMP3_DIRECTORY=/job/gimpdir timeout 300 gimp-console-3.0 -i --quit");
        assert!(started, "{log}");
        let plugins = root.join("job/gimpdir/plug-ins");
        std::fs::create_dir_all(&plugins).unwrap();
        let output = Command::new(env!("CARGO_BIN_EXE_nst"))
            .args(["gimp", "install", "--dest"])
            .arg(&plugins)
            .arg("--plugin")
            .arg(build_dir().join(nst_host::library_file_name()))
            .arg("--ort")
            .arg(ort_path())
            .output()
            .unwrap();
        let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
        assert!(output.status.success(), "nst gimp install failed:\n{text}");
        assert!(plugins.join("neural-style/neural-style.py").is_file(), "no plug-in installed:\n{text}");
    }
}

/// Checks of a GIMP filter's results, shared by the GIMP 2.10 and GIMP 3 tests.
pub mod checks {
    use image::{DynamicImage, RgbaImage};

    /// Asserts that nothing outside `rect` (x, y, w, h) changed and alpha is untouched everywhere; returns the
    /// mean colour change inside, in [0, 1].
    pub fn change_inside_only(input: &RgbaImage, output: &RgbaImage, rect: (u32, u32, u32, u32)) -> f64 {
        let (sx, sy, sw, sh) = rect;
        let (mut changed, mut count) = (0.0, 0);
        for (x, y, after) in output.enumerate_pixels() {
            let before = input.get_pixel(x, y);
            assert_eq!(after[3], before[3], "alpha changed at {x},{y}");
            if x >= sx && x < sx + sw && y >= sy && y < sy + sh {
                changed += (0..3).map(|c| (after[c] as f64 - before[c] as f64).abs()).sum::<f64>() / 3.0;
                count += 1;
            } else {
                assert_eq!(after, before, "pixel {x},{y} outside the selection changed");
            }
        }
        changed / count as f64 / 255.0
    }

    /// Mean of red minus green, in 8-bit units.
    pub fn redness(image: &DynamicImage) -> f64 {
        let rgb = image.to_rgb8();
        rgb.pixels().map(|p| p[0] as f64 - p[1] as f64).sum::<f64>() / rgb.pixels().len() as f64
    }

    /// Asserts that red minus blue (8-bit units) rose over the left half and fell over the right one from
    /// `before` to `after`, by clearly different amounts: a red style placed left of a mask, a blue one right.
    pub fn red_left_blue_right(after: &DynamicImage, before: &DynamicImage) {
        let change = |left: bool| {
            let half = |image: &DynamicImage| {
                let (w, h) = (image.width() / 2, image.height());
                let rgb = image.crop_imm(if left { 0 } else { w }, 0, w, h).to_rgb8();
                rgb.pixels().map(|p| p[0] as f64 - p[2] as f64).sum::<f64>() / rgb.pixels().len() as f64
            };
            half(after) - half(before)
        };
        let (left, right) = (change(true), change(false));
        println!("red minus blue, change from the input: left (red style) {left:+.1}, right (blue style) {right:+.1}");
        assert!(
            left > 0.0 && right < 0.0 && left - right > 25.0,
            "the styles did not follow the mask: {left:+.1} / {right:+.1}"
        );
    }

    /// A content with fine detail: a two-pixel checkerboard over a colour gradient.
    pub fn detailed(width: u32, height: u32) -> RgbaImage {
        RgbaImage::from_fn(width, height, |x, y| {
            let lift = if (x / 2 + y / 2) % 2 == 0 { 40 } else { -40 };
            let channel = |base: u32| (base as i32 + lift).clamp(0, 255) as u8;
            image::Rgba([channel(60 + x * 120 / width), channel(60 + y * 120 / height), channel(140), 255])
        })
    }

    /// Each pixel's luma minus the mean of its 4x4 block: the fine detail.
    fn fine_detail(image: &DynamicImage) -> Vec<f64> {
        let luma = image.to_luma8();
        let (w, h) = (luma.width() / 4 * 4, luma.height() / 4 * 4);
        let at = |x: u32, y: u32| luma.get_pixel(x, y)[0] as f64;
        let mut detail = Vec::with_capacity((w * h) as usize);
        for y in 0..h {
            for x in 0..w {
                let (bx, by) = (x / 4 * 4, y / 4 * 4);
                let block = (0..16).map(|k| at(bx + k % 4, by + k / 4)).sum::<f64>() / 16.0;
                detail.push(at(x, y) - block);
            }
        }
        detail
    }

    /// How much of `content`'s fine detail `result` (same size) carries: the correlation of their fine
    /// detail, in [-1, 1].
    pub fn detail_kept(result: &DynamicImage, content: &DynamicImage) -> f64 {
        let (a, b) = (fine_detail(result), fine_detail(content));
        let dot = a.iter().zip(&b).map(|(x, y)| x * y).sum::<f64>();
        let norm = (a.iter().map(|x| x * x).sum::<f64>() * b.iter().map(|y| y * y).sum::<f64>()).sqrt();
        if norm == 0.0 { 0.0 } else { dot / norm }
    }

    /// `content` scaled so its long side is `side`, then back up: what a plain upscale of a result worked at
    /// that size can hold of the content's detail at best.
    pub fn plain_upscale(content: &DynamicImage, side: u32) -> DynamicImage {
        let scale = side as f64 / content.width().max(content.height()) as f64;
        let (w, h) =
            ((content.width() as f64 * scale).round() as u32, (content.height() as f64 * scale).round() as u32);
        let small = content.resize_exact(w, h, image::imageops::FilterType::CatmullRom);
        small.resize_exact(content.width(), content.height(), image::imageops::FilterType::CatmullRom)
    }

    /// Mean absolute luma change, in [0, 1].
    pub fn luma_change(a: &DynamicImage, b: &DynamicImage) -> f64 {
        let (a, b) = (a.to_luma8(), b.to_luma8());
        a.pixels().zip(b.pixels()).map(|(p, q)| (p[0] as f64 - q[0] as f64).abs()).sum::<f64>()
            / (a.len() as f64 * 255.0)
    }
}

/// The CRC-32 of PNG chunks (ISO 3309), for tests that build PNG chunks by hand.
pub fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for byte in bytes {
        crc ^= *byte as u32;
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xedb8_8320 } else { crc >> 1 };
        }
    }
    !crc
}
