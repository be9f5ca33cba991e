//! `nst batch`: many images with one engine. Existing outputs are skipped (so a killed batch resumes where it
//! stopped), outputs appear only complete (temporary name, then rename), a failing input is reported and the
//! batch goes on, and `--shard K/N` splits one job list over N machines without overlap.

use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::Args;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use nst_host::{Engine, HostError, Progress};
use serde::Deserialize;

use super::arguments::{EngineArgs, RunArgs};
use super::cancel;
use super::error::CliError;
use super::overwrite::{FileRole, check_no_overwrite};
use super::pipeline::stylize_file;
use super::preset_info::preset_info;
use super::save::{check_output_path, check_writable};

/// Arguments of `nst batch`.
#[derive(Args)]
pub struct BatchArgs {
    /// Input images, folders (every image inside, not recursive) or glob patterns such as 'photos/*.jpg'.
    inputs: Vec<String>,
    /// Preset for every input (with --jobs: for jobs that name none).
    #[arg(long, short)]
    preset: Option<String>,
    /// Output folder (required with inputs; outputs are named after the inputs).
    #[arg(long, short)]
    output: Option<PathBuf>,
    /// A jobs file: [[job]] tables with input, output, preset and optional size, iterations, seed, style_weight.
    #[arg(long)]
    jobs: Option<PathBuf>,
    /// Output format for inputs given on the command line: png, jpg or tiff.
    #[arg(long, default_value = "png")]
    format: String,
    /// Redo outputs that exist already.
    #[arg(long)]
    force: bool,
    /// K/N: process only share K (0-based) of N, e.g. $JOB_COMPLETION_INDEX/4 or $SLURM_ARRAY_TASK_ID/8.
    #[arg(long)]
    shard: Option<String>,
    #[command(flatten)]
    run: RunArgs,
    #[command(flatten)]
    engine: EngineArgs,
    /// No progress bars.
    #[arg(long, short)]
    quiet: bool,
}

/// One image to make.
#[derive(Clone)]
struct Job {
    /// How messages name it: "job 3" in a jobs file, else its input.
    label: String,
    /// Where it starts in a jobs file.
    line: Option<usize>,
    input: PathBuf,
    output: PathBuf,
    preset: String,
    run: RunArgs,
}

impl Job {
    /// " (line N)" for a job of a jobs file, else nothing.
    fn place(&self) -> String {
        self.line.map(|line| format!(" (line {line})")).unwrap_or_default()
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JobsFile {
    job: Vec<toml::Spanned<JobEntry>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JobEntry {
    input: PathBuf,
    output: PathBuf,
    preset: Option<String>,
    size: Option<u32>,
    iterations: Option<u32>,
    seed: Option<u64>,
    style_weight: Option<f64>,
}

const IMAGE_EXTENSIONS: [&str; 6] = ["png", "jpg", "jpeg", "webp", "tif", "tiff"];

fn is_image(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| IMAGE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

/// `*` and `?` wildcard match of a file name.
fn wildcard(pattern: &[u8], name: &[u8]) -> bool {
    match (pattern.first(), name.first()) {
        (None, None) => true,
        (Some(b'*'), _) => wildcard(&pattern[1..], name) || (!name.is_empty() && wildcard(pattern, &name[1..])),
        (Some(b'?'), Some(_)) => wildcard(&pattern[1..], &name[1..]),
        (Some(p), Some(n)) if p == n => wildcard(&pattern[1..], &name[1..]),
        _ => false,
    }
}

fn sorted_images_in(dir: &Path, filter: impl Fn(&str) -> bool) -> Result<Vec<PathBuf>, CliError> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| CliError::Usage(format!("{}: cannot list: {e}", dir.display())))?;
    let mut found: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file() && is_image(p))
        .filter(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(&filter))
        .collect();
    found.sort();
    Ok(found)
}

fn expand(input: &str) -> Result<Vec<PathBuf>, CliError> {
    let path = Path::new(input);
    if path.is_dir() {
        return sorted_images_in(path, |_| true);
    }
    if path.is_file() {
        return Ok(vec![path.to_path_buf()]);
    }
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if name.contains('*') || name.contains('?') {
        let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let matches = sorted_images_in(dir, |n| wildcard(name.as_bytes(), n.as_bytes()))?;
        if matches.is_empty() {
            return Err(CliError::Usage(format!("{input}: no image matches")));
        }
        return Ok(matches);
    }
    // An entry that exists but cannot be followed (a symbolic-link loop, a dangling link) is a job that fails
    // with its own reason, not the end of the whole batch.
    if std::fs::symlink_metadata(path).is_ok() {
        return Ok(vec![path.to_path_buf()]);
    }
    Err(CliError::Usage(format!("{input}: no such file or folder")))
}

fn jobs_from_args(args: &BatchArgs) -> Result<Vec<Job>, CliError> {
    let preset = args.preset.clone().ok_or_else(|| CliError::Usage("--preset is required with input files".into()))?;
    let out = args.output.clone().ok_or_else(|| CliError::Usage("-o OUTDIR is required with input files".into()))?;
    let format = args.format.to_ascii_lowercase();
    if !["png", "jpg", "jpeg", "tif", "tiff"].contains(&format.as_str()) {
        return Err(CliError::Usage(format!("--format {format}: expected png, jpg or tiff")));
    }
    let mut jobs = Vec::new();
    for input in &args.inputs {
        for path in expand(input)? {
            let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
            jobs.push(Job {
                label: format!("the job of {}", path.display()),
                line: None,
                output: out.join(format!("{stem}.{format}")),
                input: path,
                preset: preset.clone(),
                run: args.run.clone(),
            });
        }
    }
    Ok(jobs)
}

fn jobs_from_file(path: &Path, args: &BatchArgs) -> Result<Vec<Job>, CliError> {
    let text = nst_files::read_text(path, nst_files::FileKind::Jobs)
        .map_err(|e| CliError::Usage(format!("jobs file {}: cannot read: {e}", path.display())))?;
    let file: JobsFile = toml::from_str(&text)
        .map_err(|e| CliError::Usage(format!("jobs file {}: {}", path.display(), e.to_string().trim_end())))?;
    let base = path.parent().unwrap_or(Path::new(""));
    let mut lines = LineCounter::new(&text);
    file.job
        .into_iter()
        .enumerate()
        .map(|(i, entry)| {
            let line = lines.line_at(entry.span().start);
            let entry = entry.into_inner();
            let preset = entry.preset.or_else(|| args.preset.clone()).ok_or_else(|| {
                CliError::Usage(format!(
                    "jobs file {}: job {} (line {line}) has no preset and --preset is not given",
                    path.display(),
                    i + 1
                ))
            })?;
            let mut run = args.run.clone();
            run.size = entry.size.or(run.size);
            run.iterations = entry.iterations.or(run.iterations);
            run.seed = entry.seed.or(run.seed);
            run.style_weight = entry.style_weight.or(run.style_weight);
            run.check(&|field| {
                format!("jobs file {}, job {} (line {line}): {}", path.display(), i + 1, field.replace('-', "_"))
            })?;
            let (label, line) = (format!("job {}", i + 1), Some(line));
            Ok(Job { label, line, input: base.join(entry.input), output: base.join(entry.output), preset, run })
        })
        .collect()
}

/// Line numbers of byte offsets, counted on from the previous offset: the jobs come in file order, and counting
/// from the start for each of 100000 jobs read the file 100000 times.
struct LineCounter<'a> {
    text: &'a str,
    offset: usize,
    line: usize,
}

impl<'a> LineCounter<'a> {
    fn new(text: &'a str) -> Self {
        LineCounter { text, offset: 0, line: 1 }
    }

    /// The line (from 1) of byte `offset`.
    fn line_at(&mut self, offset: usize) -> usize {
        let offset = offset.min(self.text.len());
        if offset < self.offset {
            (self.offset, self.line) = (0, 1);
        }
        self.line += self.text.as_bytes()[self.offset..offset].iter().filter(|&&b| b == b'\n').count();
        self.offset = offset;
        self.line
    }
}

/// Parses `K/N` (0 <= K < N).
fn parse_shard(text: &str) -> Result<(usize, usize), CliError> {
    let bad = || CliError::Usage(format!("--shard {text}: expected K/N with 0 <= K < N, e.g. 0/4"));
    let (k, n) = text.split_once('/').ok_or_else(bad)?;
    let (k, n): (usize, usize) = (k.trim().parse().map_err(|_| bad())?, n.trim().parse().map_err(|_| bad())?);
    if n == 0 || k >= n {
        return Err(bad());
    }
    Ok((k, n))
}

/// The jobs of share `k` of `n`: every n-th job of the list sorted by output path, so that shards never overlap
/// (no two jobs write one output: [`check_batch_files`] refuses that first).
fn shard(mut jobs: Vec<Job>, k: usize, n: usize) -> Vec<Job> {
    jobs.sort_by(|a, b| a.output.cmp(&b.output));
    jobs.into_iter().enumerate().filter(|(i, _)| i % n == k).map(|(_, job)| job).collect()
}

enum Outcome {
    Done(f64),
    Skipped,
    Failed(String),
    Cancelled,
}

fn process(engine: &Engine, job: &Job, force: bool, bar: &ProgressBar) -> Outcome {
    if job.output.exists() && !force {
        return Outcome::Skipped;
    }
    let started = Instant::now();
    let result = (|| -> Result<(), CliError> {
        check_output_path(&job.output, job.run.sixteen_bit)?;
        if let Some(parent) = job.output.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .map_err(|e| CliError::Usage(format!("{}: cannot create: {e}", parent.display())))?;
        }
        check_writable(&job.output)?;
        let progress = |p: Progress| {
            bar.set_length(p.total as u64);
            bar.set_position(p.step as u64);
            true
        };
        let token = Some(cancel::token());
        let info = preset_info(engine, &job.preset)?;
        let (input, output) = (&job.input, &job.output);
        stylize_file(engine, &job.preset, &info, input, output, &job.run, progress, token, None, &mut |_, _| {})
            .map(|_| ())
    })();
    match result {
        Ok(()) => Outcome::Done(started.elapsed().as_secs_f64()),
        Err(CliError::Host(HostError::Cancelled)) => Outcome::Cancelled,
        Err(err) => Outcome::Failed(err.to_string()),
    }
}

/// Refuses, before any work, a batch where one job's output is any job's input, style, mask, preset or model,
/// or where two jobs write one output.
fn check_batch_files(engine: &Engine, jobs: &[Job]) -> Result<(), CliError> {
    let mut reads = Vec::new();
    let mut presets_seen = std::collections::HashSet::new();
    for job in jobs {
        let place = job.place();
        let first = reads.len();
        reads.push(FileRole::new(&job.input, format!("{}'s input", job.label)));
        reads.extend(job.run.read_files(&format!("{}'s ", job.label)));
        reads[first..].iter_mut().for_each(|file| file.role.push_str(&place));
        if presets_seen.insert(job.preset.as_str()) {
            if Path::new(&job.preset).is_file() {
                reads.push(FileRole::new(&job.preset, format!("{}'s preset{place}", job.label)));
            }
            // A preset that does not load fails its jobs later, with its own message.
            if let Ok(info) = preset_info(engine, &job.preset) {
                let role = format!("a style image of the preset {}", job.preset);
                reads.extend(info.styles.iter().map(|p| FileRole::new(p, role.clone())));
            }
        }
    }
    let writes: Vec<FileRole> =
        jobs.iter().map(|job| FileRole::new(&job.output, format!("{}'s output{}", job.label, job.place()))).collect();
    check_no_overwrite(&reads, &writes)
}

/// Runs `nst batch`.
pub fn run(args: BatchArgs) -> Result<(), CliError> {
    args.run.check(&|field| format!("--{field}"))?;
    let jobs = match (&args.jobs, args.inputs.is_empty()) {
        (Some(file), true) => jobs_from_file(file, &args)?,
        (None, false) => jobs_from_args(&args)?,
        (Some(_), false) => return Err(CliError::Usage("give either input files or --jobs, not both".into())),
        (None, true) => {
            return Err(CliError::Usage("nothing to do: give input files (with --preset and -o) or --jobs".into()));
        }
    };
    let (k, n) = args.shard.as_deref().map(parse_shard).transpose()?.unwrap_or((0, 1));
    let (_, engine) = args.engine.open()?;
    // Across the whole list, not only this shard: another machine's outputs must not land on these inputs.
    check_batch_files(&engine, &jobs)?;
    let jobs = shard(jobs, k, n);
    // The partial files of this shard's killed runs, removed before the first job with one listing per output
    // folder: a listing per job would read n squared entries for n outputs in one folder.
    nst_files::remove_leftover_temporaries_of(&jobs.iter().map(|job| job.output.as_path()).collect::<Vec<_>>());
    cancel::install();

    let bars = MultiProgress::new();
    if args.quiet {
        bars.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let overall = bars.add(ProgressBar::new(jobs.len() as u64));
    overall.set_style(
        ProgressStyle::with_template("images {bar:30} {pos}/{len}  ETA {eta}  {msg}").expect("valid template"),
    );
    let image_bar = bars.add(ProgressBar::new(0));
    image_bar.set_style(
        ProgressStyle::with_template("image  {bar:30} {pos}/{len} it  {per_sec}  {msg}").expect("valid template"),
    );

    let mut rows = Vec::new();
    for job in &jobs {
        if cancel::token().is_cancelled() {
            rows.push((job, Outcome::Cancelled));
            continue;
        }
        image_bar.set_message(job.input.display().to_string());
        image_bar.set_position(0);
        let outcome = process(&engine, job, args.force, &image_bar);
        overall.inc(1);
        rows.push((job, outcome));
    }
    image_bar.finish_and_clear();
    overall.finish_and_clear();

    let (mut done, mut skipped, mut failed, mut cancelled) = (0, 0, 0, 0);
    outln!("{:<9} {:>8}  {:<40} output", "status", "seconds", "input");
    for (job, outcome) in &rows {
        let (status, seconds, note) = match outcome {
            Outcome::Done(s) => {
                done += 1;
                ("done", format!("{s:.1}"), String::new())
            }
            Outcome::Skipped => {
                skipped += 1;
                ("skipped", "-".into(), " (exists; --force redoes it)".into())
            }
            Outcome::Failed(message) => {
                failed += 1;
                ("FAILED", "-".into(), format!(": {message}"))
            }
            Outcome::Cancelled => {
                cancelled += 1;
                ("cancelled", "-".into(), String::new())
            }
        };
        outln!("{status:<9} {seconds:>8}  {:<40} {}{note}", job.input.display(), job.output.display());
    }
    outln!(
        "{} images (shard {k}/{n}): {done} done, {skipped} skipped, {failed} failed, {cancelled} cancelled",
        rows.len()
    );
    if cancelled > 0 && failed == 0 {
        return Err(CliError::Host(HostError::Cancelled));
    }
    if failed > 0 {
        return Err(CliError::BatchFailures(failed));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_match_names() {
        assert!(wildcard(b"*.jpg", b"a.jpg"));
        assert!(wildcard(b"img_??.png", b"img_01.png"));
        assert!(!wildcard(b"*.jpg", b"a.png"));
    }

    #[test]
    fn shards_cover_every_job_once() {
        let jobs: Vec<Job> = (0..10)
            .map(|i| Job {
                label: format!("job {i}"),
                line: None,
                input: format!("{i}").into(),
                output: format!("out/{i}.png").into(),
                preset: "p".into(),
                run: RunArgs::default(),
            })
            .collect();
        let mut seen: Vec<PathBuf> = (0..3).flat_map(|k| shard(jobs.clone(), k, 3)).map(|j| j.output).collect();
        seen.sort();
        let mut all: Vec<PathBuf> = jobs.iter().map(|j| j.output.clone()).collect();
        all.sort();
        assert_eq!(seen, all);
        assert!(parse_shard("3/3").is_err() && parse_shard("1/0").is_err() && parse_shard("x").is_err());
        assert_eq!(parse_shard("2/5").unwrap(), (2, 5));
    }
}
