//! A resumable, verified HTTP download: bytes go to a `.partial` file named by their expected SHA-256, a cut
//! connection is resumed with an HTTP Range request (in the same run, and by the next run), and nothing is
//! returned unless the whole file's SHA-256 is the one announced. Proxies come from `HTTPS_PROXY`,
//! `HTTP_PROXY` and `ALL_PROXY` (with `NO_PROXY`).

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::Path;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

/// Attempts per download: each one that received bytes may be followed by a resumed one.
const ATTEMPTS: usize = 5;

/// What a download must hash to.
#[derive(Debug, Clone)]
pub enum Checksum {
    /// The whole SHA-256, lower-case hex (what the Hugging Face hub announces).
    Sha256(String),
    /// Its first hex digits (what torch.hub checks: the prefix in a torchvision file's name).
    Sha256Prefix(String),
}

impl Checksum {
    fn accepts(&self, sha256: &str) -> bool {
        match self {
            Checksum::Sha256(expected) => sha256 == expected,
            Checksum::Sha256Prefix(prefix) => !prefix.is_empty() && sha256.starts_with(prefix.as_str()),
        }
    }

    fn expected(&self) -> String {
        match self {
            Checksum::Sha256(expected) => expected.clone(),
            Checksum::Sha256Prefix(prefix) => format!("{prefix}... (the prefix in the file's name)"),
        }
    }
}

/// What went wrong, with the URL it concerns.
#[derive(Debug)]
pub enum DownloadError {
    /// No connection (no network, unknown host, refused, timed out, a proxy that failed).
    Unreachable { url: String, reason: String },
    /// The server answered, but not with the file.
    Refused { url: String, reason: String },
    /// The file arrived but is not the one announced; the partial file was deleted.
    ChecksumMismatch { url: String, expected: String, found: String },
    /// The local partial file could not be written.
    Local { path: String, reason: String },
}

impl std::fmt::Display for DownloadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DownloadError::Unreachable { url, reason } => write!(f, "cannot reach {url}: {reason}"),
            DownloadError::Refused { url, reason } => write!(f, "{url}: {reason}"),
            DownloadError::ChecksumMismatch { url, expected, found } => write!(
                f,
                "{url}: checksum mismatch: SHA-256 {found}, expected {expected}; the partial download was deleted"
            ),
            DownloadError::Local { path, reason } => write!(f, "cannot write {path}: {reason}"),
        }
    }
}

/// The HTTP agent: proxies from the environment, bounded waits for connections and responses, no limit on
/// a body's time (a model is hundreds of megabytes).
pub fn agent() -> ureq::Agent {
    let config = ureq::Agent::config_builder()
        .timeout_connect(Some(Duration::from_secs(30)))
        .timeout_recv_response(Some(Duration::from_secs(60)))
        .user_agent(concat!("nst/", env!("CARGO_PKG_VERSION")))
        .build();
    ureq::Agent::new_with_config(config)
}

/// Classifies a request's failure.
pub fn request_error(url: &str, err: ureq::Error) -> DownloadError {
    let reason = err.to_string();
    match err {
        ureq::Error::StatusCode(code) => DownloadError::Refused { url: url.into(), reason: format!("HTTP {code}") },
        ureq::Error::Io(_)
        | ureq::Error::HostNotFound
        | ureq::Error::ConnectionFailed
        | ureq::Error::Timeout(_)
        | ureq::Error::ConnectProxyFailed(_)
        | ureq::Error::InvalidProxyUrl => DownloadError::Unreachable { url: url.into(), reason },
        _ => DownloadError::Refused { url: url.into(), reason },
    }
}

/// Fetches a small text resource (an API answer).
pub fn get_text(agent: &ureq::Agent, url: &str) -> Result<String, DownloadError> {
    let response = agent.get(url).call().map_err(|e| request_error(url, e))?;
    response
        .into_body()
        .with_config()
        .limit(16 << 20)
        .read_to_string()
        .map_err(|e| DownloadError::Refused { url: url.into(), reason: format!("unreadable answer: {e}") })
}

/// Downloads `url` (of `size` bytes when known) into `partial`, resuming what is there, and returns the
/// file's whole SHA-256 once `checksum` accepts it; the file stays at `partial` for the caller to read.
/// `progress` shows bytes, rate and ETA.
pub fn download_verified(
    agent: &ureq::Agent,
    url: &str,
    checksum: &Checksum,
    size: Option<u64>,
    partial: &Path,
    progress: bool,
) -> Result<String, DownloadError> {
    let local =
        |err: std::io::Error| DownloadError::Local { path: partial.display().to_string(), reason: err.to_string() };
    if let Some(folder) = partial.parent() {
        std::fs::create_dir_all(folder).map_err(local)?;
    }
    let bar = if progress { ProgressBar::new(size.unwrap_or(0)) } else { ProgressBar::hidden() };
    bar.set_style(
        ProgressStyle::with_template("{bytes:>10}/{total_bytes} {wide_bar} {bytes_per_sec:>12} ETA {eta}")
            .expect("a valid template"),
    );
    let mut last_error = None;
    for _ in 0..ATTEMPTS {
        let offset = std::fs::metadata(partial).map(|m| m.len()).unwrap_or(0);
        if size.is_some_and(|size| offset >= size) {
            last_error = None;
            break;
        }
        bar.set_position(offset);
        match fetch_from(agent, url, offset, partial, &bar) {
            Ok(()) => {
                last_error = None;
                break;
            }
            // Resume only after progress: a server that sends nothing will not send more next time.
            Err((error, received)) if received > 0 => {
                bar.suspend(|| errln!("nst: {error}; resuming at byte {}", offset + received));
                last_error = Some(error);
            }
            Err((error, _)) => {
                last_error = Some(error);
                break;
            }
        }
    }
    bar.finish_and_clear();
    if let Some(error) = last_error {
        return Err(error);
    }
    let found = nst_onnx::store::file_sha256(partial).map_err(local)?;
    if !checksum.accepts(&found) {
        let _ = std::fs::remove_file(partial);
        return Err(DownloadError::ChecksumMismatch { url: url.into(), expected: checksum.expected(), found });
    }
    Ok(found)
}

/// One request from `offset`: appends what arrives to `partial`. On failure, returns how many bytes this
/// attempt added.
fn fetch_from(
    agent: &ureq::Agent,
    url: &str,
    offset: u64,
    partial: &Path,
    bar: &ProgressBar,
) -> Result<(), (DownloadError, u64)> {
    let local = |err: std::io::Error| {
        (DownloadError::Local { path: partial.display().to_string(), reason: err.to_string() }, 0)
    };
    let mut request = agent.get(url);
    if offset > 0 {
        request = request.header("Range", format!("bytes={offset}-"));
    }
    let response = match request.call() {
        Ok(response) => response,
        // Asked for bytes past the end: an earlier run got the whole file (its checksum decides).
        Err(ureq::Error::StatusCode(416)) if offset > 0 => return Ok(()),
        Err(err) => return Err((request_error(url, err), 0)),
    };
    let resumed = response.status().as_u16() == 206;
    if resumed {
        let range = response.headers().get("content-range").and_then(|v| v.to_str().ok()).unwrap_or("");
        if !range.starts_with(&format!("bytes {offset}-")) {
            let reason = format!("asked for bytes from {offset}, the server sent the range '{range}'");
            return Err((DownloadError::Refused { url: url.into(), reason }, 0));
        }
    }
    // A server that ignores Range sends the whole file again: start over.
    let mut file: File = if resumed {
        OpenOptions::new().append(true).open(partial).map_err(local)?
    } else {
        bar.set_position(0);
        File::create(partial).map_err(local)?
    };
    let mut reader = response.into_body().into_reader();
    let mut buffer = vec![0u8; 1 << 16];
    let mut received = 0u64;
    loop {
        let count = match reader.read(&mut buffer) {
            Ok(0) => break,
            Ok(count) => count,
            Err(err) => {
                let _ = file.flush();
                let reason = format!("connection lost after {received} bytes: {err}");
                return Err((DownloadError::Unreachable { url: url.into(), reason }, received));
            }
        };
        file.write_all(&buffer[..count]).map_err(|e| (local(e).0, received))?;
        received += count as u64;
        bar.inc(count as u64);
    }
    file.sync_all().map_err(|e| (local(e).0, received))
}
