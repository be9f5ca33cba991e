//! Inputs are never overwritten: every file a run or a batch writes is checked, before any work, against every
//! file it reads (the same name, another name, a symbolic or a hard link) and against the other outputs.

use std::path::Path;

use crate::support::{nst, quick_preset, scratch, text};
use image::{ImageBuffer, Rgb};

fn photo(path: &Path, shade: u8) {
    ImageBuffer::from_fn(40, 28, |x, y| Rgb([(x * 6) as u8, (y * 9) as u8, shade])).save(path).unwrap();
}

/// Runs `nst` with `args`, expects a refusal that names `expected`, and checks that every file in `kept` still
/// has its bytes.
fn refused(args: &[&str], expected: &[&str], kept: &[&Path]) {
    let before: Vec<Vec<u8>> = kept.iter().map(|p| std::fs::read(p).unwrap()).collect();
    let output = nst(args);
    let log = text(&output);
    println!("{log}");
    assert_eq!(output.status.code(), Some(1), "{log}");
    for part in expected {
        assert!(log.contains(part), "expected '{part}' in: {log}");
    }
    for (path, bytes) in kept.iter().zip(before) {
        assert_eq!(std::fs::read(path).unwrap(), bytes, "{} was modified", path.display());
    }
}

#[test]
fn a_single_run_never_writes_over_what_it_reads() {
    let dir = scratch("overwrite-run");
    let preset = quick_preset(&dir);
    let content = dir.join("content.png");
    let mask = dir.join("mask.png");
    photo(&content, 10);
    photo(&mask, 200);
    let (c, m, p) = (content.to_str().unwrap(), mask.to_str().unwrap(), preset.to_str().unwrap());
    let out = dir.join("out.png");
    let o = out.to_str().unwrap();
    refused(&["stylize", c, "--preset", p, "-o", o, "--preview", c], &["the --preview", "is the content"], &[&content]);
    refused(&["stylize", c, "--preset", p, "-o", m, "--content-mask", m], &["is --content-mask"], &[&mask]);
    refused(&["stylize", c, "--preset", p, "-o", m, "--style-mask", m], &["is --style-mask"], &[&mask]);
    #[cfg(unix)]
    {
        let hard = dir.join("hard.png");
        let soft = dir.join("soft.png");
        std::fs::hard_link(&content, &hard).unwrap();
        std::os::unix::fs::symlink(&content, &soft).unwrap();
        for link in [&hard, &soft] {
            refused(&["stylize", c, "--preset", p, "-o", link.to_str().unwrap()], &["is the content"], &[&content]);
        }
    }
    assert!(!out.exists());
}

#[test]
fn a_batch_never_writes_over_its_inputs_or_twice_to_one_output() {
    let dir = scratch("overwrite-batch");
    let preset = quick_preset(&dir);
    let p = preset.to_str().unwrap();
    // a.jpg's output in the same folder would be a.png, which is another input.
    let folder = dir.join("photos");
    std::fs::create_dir_all(&folder).unwrap();
    let (a_png, a_jpg) = (folder.join("a.png"), folder.join("a.jpg"));
    photo(&a_png, 50);
    photo(&a_jpg, 90);
    let f = folder.to_str().unwrap();
    refused(
        &["batch", f, "--preset", p, "-o", f, "--force", "-q"],
        &["'s output", "a.png", "never overwritten"],
        &[&a_png, &a_jpg],
    );

    // Job 1 writes b.png, which job 2 reads.
    let (a, b) = (dir.join("a.png"), dir.join("b.png"));
    photo(&a, 10);
    photo(&b, 20);
    let jobs = dir.join("jobs.toml");
    std::fs::write(
        &jobs,
        "[[job]]\ninput = \"a.png\"\noutput = \"b.png\"\n\n[[job]]\ninput = \"b.png\"\noutput = \"c.png\"\n",
    )
    .unwrap();
    let j = jobs.to_str().unwrap();
    refused(&["batch", "--jobs", j, "--preset", p, "--force", "-q"], &["job 1's output", "job 2's input"], &[&a, &b]);

    // Two jobs writing one output: both named, nothing run.
    std::fs::write(&jobs, "[[job]]\ninput = \"a.png\"\noutput = \"out/x.png\"\n\n[[job]]\ninput = \"b.png\"\noutput = \"out/../out/x.png\"\n")
        .unwrap();
    std::fs::create_dir_all(dir.join("out")).unwrap();
    refused(
        &["batch", "--jobs", j, "--preset", p, "-q"],
        &["job 1's output", "job 2's output", "written once"],
        &[&a, &b],
    );
    assert!(!dir.join("out/x.png").exists());
}
