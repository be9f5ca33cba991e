//! `nst batch` as a user runs it: folders and globs, skipping and --force, failures that do not stop the batch,
//! a batch killed at random points and resumed, a full disk, shards that split one list without overlap, and a jobs file.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::support::{nst, ort_path, quick_preset, scratch, text};
use image::{GenericImageView, ImageBuffer, Rgb};

fn make_inputs(dir: &Path, count: usize) -> Vec<PathBuf> {
    std::fs::create_dir_all(dir).unwrap();
    (0..count)
        .map(|i| {
            let path = dir.join(format!("photo{i}.png"));
            ImageBuffer::from_fn(40, 28, |x, y| Rgb([(x * 6) as u8, (y * 9) as u8, (i * 40) as u8]))
                .save(&path)
                .unwrap();
            path
        })
        .collect()
}

fn listing(dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut names: Vec<String> = entries.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

#[test]
fn folders_and_globs_are_converted_and_existing_outputs_skipped() {
    let dir = scratch("batch-basic");
    let preset = quick_preset(&dir);
    make_inputs(&dir.join("in"), 3);
    let out = dir.join("out");
    let glob = dir.join("in/photo*.png");
    let args =
        ["batch", glob.to_str().unwrap(), "--preset", preset.to_str().unwrap(), "-o", out.to_str().unwrap(), "-q"];
    let first = nst(&args);
    assert!(first.status.success(), "{}", text(&first));
    assert!(text(&first).contains("3 images (shard 0/1): 3 done, 0 skipped, 0 failed"), "{}", text(&first));
    assert_eq!(listing(&out), ["photo0.png", "photo1.png", "photo2.png"]);
    assert_eq!(image::open(out.join("photo1.png")).unwrap().dimensions(), (32, 22));

    let again = nst(&batch_args(&dir.join("in"), &preset, &out, &[]).iter().map(String::as_str).collect::<Vec<_>>());
    assert!(text(&again).contains("0 done, 3 skipped"), "{}", text(&again));
    let forced = nst(&[&args[..], &["--force"]].concat());
    assert!(text(&forced).contains("3 done, 0 skipped"), "{}", text(&forced));
}

#[test]
fn a_failing_input_is_reported_and_the_batch_goes_on() {
    let dir = scratch("batch-fail");
    let preset = quick_preset(&dir);
    let inputs = make_inputs(&dir.join("in"), 2);
    std::fs::write(dir.join("in/broken.png"), b"not a png").unwrap();
    let out = dir.join("out");
    let output = nst(&batch_args(&dir.join("in"), &preset, &out, &[]).iter().map(String::as_str).collect::<Vec<_>>());
    let log = text(&output);
    println!("{log}");
    assert_eq!(output.status.code(), Some(1), "{log}");
    assert!(
        log.contains("2 done, 0 skipped, 1 failed") && log.contains("FAILED") && log.contains("broken.png"),
        "{log}"
    );
    assert_eq!(listing(&out), ["photo0.png", "photo1.png"]);
    assert!(inputs.iter().all(|p| p.exists()));
}

/// `nst batch INPUT --preset PRESET -o OUT -q EXTRA...`.
fn batch_args(input: &Path, preset: &Path, out: &Path, extra: &[&str]) -> Vec<String> {
    let fixed =
        ["batch", input.to_str().unwrap(), "--preset", preset.to_str().unwrap(), "-o", out.to_str().unwrap(), "-q"];
    fixed.iter().chain(extra).map(|s| s.to_string()).collect()
}

/// Visible outputs (temporary files start with a dot).
fn outputs(dir: &Path) -> Vec<String> {
    listing(dir).into_iter().filter(|n| !n.starts_with('.')).collect()
}

#[test]
fn a_batch_killed_at_random_points_resumes_and_makes_every_output_exactly_once() {
    let dir = scratch("batch-kill");
    let preset = crate::support::repo().join("presets/mosaic.toml");
    let inputs = make_inputs(&dir.join("in"), 6);
    let before: Vec<Vec<u8>> = inputs.iter().map(|p| std::fs::read(p).unwrap()).collect();
    let out = dir.join("out");
    let args = batch_args(&dir.join("in"), &preset, &out, &["--iterations", "30", "--size", "64"]);
    // Kill points drawn from a fixed seed, so a failure can be replayed: anywhere from start-up to the middle
    // of an image, an encoding or a rename.
    let mut state = 0x5EED_u64;
    let mut kills = Vec::new();
    while outputs(&out).len() < 6 && kills.len() < 12 {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let delay = Duration::from_millis(30 + (state >> 33) % 5000);
        let mut child =
            Command::new(env!("CARGO_BIN_EXE_nst")).args(&args).env("ORT_DYLIB_PATH", ort_path()).spawn().unwrap();
        std::thread::sleep(delay);
        child.kill().unwrap(); // SIGKILL: no clean-up runs
        child.wait().unwrap();
        kills.push((delay.as_millis(), outputs(&out).len()));
        for name in outputs(&out) {
            image::open(out.join(name.as_str())).unwrap_or_else(|e| panic!("{name} is not intact after a kill: {e}"));
        }
    }
    println!("kills (ms after start, outputs then): {kills:?}");
    assert!(kills.len() >= 3, "too few kills landed before the batch finished: {kills:?}");
    assert!(
        kills.iter().any(|(_, done)| (1..6).contains(done)),
        "no kill landed in the middle of the batch: {kills:?}"
    );

    let resumed = nst(&args.iter().map(String::as_str).collect::<Vec<_>>());
    let log = text(&resumed);
    println!("{log}");
    assert!(resumed.status.success(), "{log}");
    let names = listing(&out);
    assert_eq!(names, (0..6).map(|i| format!("photo{i}.png")).collect::<Vec<_>>(), "leftovers or missing outputs");
    for name in &names {
        assert_eq!(image::open(out.join(name)).unwrap().dimensions(), (64, 45));
    }
    let after: Vec<Vec<u8>> = inputs.iter().map(|p| std::fs::read(p).unwrap()).collect();
    assert!(before == after, "an input was modified");
}

/// A folder where writes fail once `bytes` are used: a small tmpfs where it can be mounted (root), else the
/// process's file-size limit. Returns the folder and what limits it.
#[cfg(unix)]
fn small_disk(dir: &Path, bytes: usize) -> (PathBuf, &'static str) {
    let folder = dir.join("small-disk");
    std::fs::create_dir_all(&folder).unwrap();
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", &format!("size={bytes}"), "tmpfs", folder.to_str().unwrap()])
        .output()
        .is_ok_and(|o| o.status.success());
    (folder, if mounted { "tmpfs" } else { "file-size limit" })
}

/// Unix only: it needs a tmpfs mount or a file-size limit (setrlimit, SIGXFSZ), which Windows has not.
#[cfg(unix)]
#[test]
fn a_full_disk_is_reported_and_leaves_no_truncated_output() {
    use std::os::unix::process::CommandExt;

    let dir = scratch("batch-full");
    let preset = quick_preset(&dir);
    make_inputs(&dir.join("in"), 4);
    let (out, limit) = small_disk(&dir, 64 * 1024);
    let mut command = Command::new(env!("CARGO_BIN_EXE_nst"));
    command.args(["batch", dir.join("in").to_str().unwrap(), "--preset", preset.to_str().unwrap(), "--size", "200"]);
    command.args(["-o", out.to_str().unwrap(), "-q"]).env("ORT_DYLIB_PATH", ort_path());
    if limit == "file-size limit" {
        // SAFETY: only async-signal-safe calls between fork and exec.
        unsafe {
            command.pre_exec(|| {
                libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
                let rlimit = libc::rlimit { rlim_cur: 20 * 1024, rlim_max: 20 * 1024 };
                libc::setrlimit(libc::RLIMIT_FSIZE, &rlimit);
                Ok(())
            });
        }
    }
    let output = command.output().unwrap();
    let log = text(&output);
    let written = outputs(&out);
    let leftovers: Vec<String> = listing(&out).into_iter().filter(|n| n.starts_with('.')).collect();
    let intact = written.iter().all(|name| image::open(out.join(name.as_str())).is_ok());
    if limit == "tmpfs" {
        let _ = Command::new("umount").arg(&out).status();
    }
    println!("limited by {limit}; written {written:?}\n{log}");
    assert_eq!(output.status.code(), Some(1), "a failed write must fail the batch: {log}");
    assert!(log.contains("No space left on device") || log.contains("File too large"), "{log}");
    assert!(written.len() < 4, "every output fitted: the disk was not filled");
    assert!(leftovers.is_empty(), "partial files left behind: {leftovers:?}");
    assert!(intact, "an output that was reported written does not decode");
}

#[test]
fn shards_split_the_list_without_overlap() {
    let dir = scratch("batch-shard");
    let preset = quick_preset(&dir);
    make_inputs(&dir.join("in"), 5);
    let mut all = Vec::new();
    for k in 0..2 {
        let out = dir.join(format!("out{k}"));
        let shard = format!("{k}/2");
        let output = nst(&[
            "batch",
            dir.join("in").to_str().unwrap(),
            "--preset",
            preset.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--shard",
            &shard,
            "-q",
        ]);
        assert!(output.status.success(), "{}", text(&output));
        all.extend(listing(&out));
    }
    all.sort();
    assert_eq!(all, (0..5).map(|i| format!("photo{i}.png")).collect::<Vec<_>>());
    let bad = nst(&["batch", dir.join("in").to_str().unwrap(), "--preset", "mosaic", "-o", "x", "--shard", "2/2"]);
    assert!(text(&bad).contains("--shard 2/2: expected K/N with 0 <= K < N"), "{}", text(&bad));
}

#[test]
fn a_jobs_file_sets_outputs_presets_and_overrides_per_job() {
    let dir = scratch("batch-jobs");
    let preset = quick_preset(&dir);
    make_inputs(&dir.join("in"), 2);
    std::fs::write(
        dir.join("jobs.toml"),
        format!(
            "[[job]]\ninput = \"in/photo0.png\"\noutput = \"made/first.png\"\npreset = '{p}'\nsize = 48\n\n[[job]]\ninput = \"in/photo1.png\"\noutput = \"made/second.tiff\"\npreset = '{p}'\niterations = 2\n",
            p = preset.display()
        ),
    )
    .unwrap();
    let output = nst(&["batch", "--jobs", dir.join("jobs.toml").to_str().unwrap(), "-q"]);
    assert!(output.status.success(), "{}", text(&output));
    assert_eq!(image::open(dir.join("made/first.png")).unwrap().dimensions(), (48, 34));
    assert_eq!(image::open(dir.join("made/second.tiff")).unwrap().dimensions(), (32, 22));
    std::fs::write(dir.join("bad.toml"), "[[job]]\ninput = \"a.png\"\noutput = \"b.png\"\ncolour = 3\n").unwrap();
    let bad = nst(&["batch", "--jobs", dir.join("bad.toml").to_str().unwrap()]);
    assert!(text(&bad).contains("line 4") && text(&bad).contains("colour"), "{}", text(&bad));
}

/// Runs `nst` with `args` and expects a refusal before any work that names every one of `expected`.
fn refused_before_work(args: &[&str], expected: &[&str]) -> String {
    let output = nst(args);
    let log = text(&output);
    println!("{log}");
    assert_eq!(output.status.code(), Some(1), "{log}");
    assert!(!log.contains("done,"), "the batch ran: {log}");
    for part in expected {
        assert!(log.contains(part), "expected '{part}' in: {log}");
    }
    log
}

#[test]
fn outputs_in_folders_not_made_yet_are_checked_against_inputs_and_each_other() {
    let dir = scratch("batch-fresh-folders");
    let preset = quick_preset(&dir);
    let p = preset.to_str().unwrap();
    let photos = dir.join("photos");
    make_inputs(&photos, 1);
    let (png, jpg) = (photos.join("photo0.png"), photos.join("photo0.jpg"));
    image::open(&png).unwrap().save(&jpg).unwrap();
    let before = std::fs::read(&png).unwrap();
    let f = photos.to_str().unwrap();

    // `fresh` does not exist: `photos/fresh/..` is `photos`, where photo0.jpg's output is photo0.png.
    let back_out = photos.join("fresh/..");
    refused_before_work(
        &["batch", f, "--preset", p, "-o", back_out.to_str().unwrap(), "--force", "-q"],
        &["photo0.png", "never overwritten"],
    );
    // Both photos are made photo0.png in a new folder.
    let new = dir.join("new");
    refused_before_work(&["batch", f, "--preset", p, "-o", new.to_str().unwrap(), "-q"], &["written once"]);
    // A job writes through a folder not made yet onto another job's input.
    let jobs = dir.join("jobs.toml");
    std::fs::write(
        &jobs,
        "[[job]]\ninput = \"photos/photo0.png\"\noutput = \"made/a.png\"\n\n[[job]]\ninput = \"photos/photo0.jpg\"\noutput = \"fresh/../photos/photo0.png\"\n",
    )
    .unwrap();
    refused_before_work(
        &["batch", "--jobs", jobs.to_str().unwrap(), "--preset", p, "-q"],
        &["job 2's output (line 5)", "is job 1's input (line 1)"],
    );
    assert_eq!(std::fs::read(&png).unwrap(), before, "an input was overwritten");
    for made in ["photos/fresh", "new", "made", "fresh"] {
        assert!(!dir.join(made).exists(), "{made} was made before the refusal");
    }
}

#[test]
fn a_clash_at_the_end_of_twenty_thousand_jobs_is_found_before_any_work() {
    let dir = scratch("batch-many-jobs");
    let preset = quick_preset(&dir);
    make_inputs(&dir.join("in"), 1);
    let jobs = 20_000;
    // Four lines a job; the last one writes the first one's output, through a folder not made yet.
    let mut text: String =
        (0..jobs - 1).map(|i| format!("[[job]]\ninput = \"in/photo0.png\"\noutput = \"out/{i}.png\"\n\n")).collect();
    text.push_str("[[job]]\ninput = \"in/photo0.png\"\noutput = \"out/later/../0.png\"\n");
    let file = dir.join("jobs.toml");
    std::fs::write(&file, text).unwrap();
    let started = std::time::Instant::now();
    refused_before_work(
        &["batch", "--jobs", file.to_str().unwrap(), "--preset", preset.to_str().unwrap(), "-q"],
        &["job 1's output (line 1)", &format!("job {jobs}'s output (line {})", 4 * (jobs - 1) + 1), "written once"],
    );
    println!("refused after {:.2} s", started.elapsed().as_secs_f64());
    assert!(!dir.join("out").exists());
}
