//! A resumable, verified HTTP download: bytes go to a `.partial` file named by their expected SHA-256, a cut
//! or stalled connection is resumed with an HTTP Range request (in the same run, and by the next run), passing
//! failures are tried again after a wait ([`retry`]), no more bytes are written than the file may have, and
//! nothing is returned unless the whole file's SHA-256 is the one announced. Proxies and trust roots come from
//! the environment ([`agent`]).

mod agent;
mod retry;
mod transfer;

use std::path::Path;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

use agent::agent_for;
use retry::{Backoff, Retry, is_passing_status, retry_after};
use transfer::fetch_from;

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
    /// No connection (no network, unknown host, refused, timed out, stalled, a proxy or TLS that failed).
    Unreachable { url: String, reason: String },
    /// The server answered, but not with the file.
    Refused { url: String, reason: String },
    /// The file arrived but is not the one announced; the partial file was deleted.
    ChecksumMismatch { url: String, expected: String, found: String },
    /// The local partial file could not be written: another attempt or source would fail the same way.
    Local { path: String, reason: String },
    /// An environment variable (a proxy, `SSL_CERT_FILE`) that cannot be used.
    Setting { setting: String, reason: String },
}

impl DownloadError {
    /// Whether the fault is on this machine, so that no other source can do better.
    pub fn is_local(&self) -> bool {
        matches!(self, DownloadError::Local { .. } | DownloadError::Setting { .. })
    }
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
            DownloadError::Setting { setting, reason } => write!(f, "{setting}: {reason}"),
        }
    }
}

/// How many bytes a download may bring.
#[derive(Debug, Clone, Copy)]
pub enum Size {
    /// Exactly this many: the source announced it.
    Announced(u64),
    /// No size is announced; a file of this source is never larger.
    AtMost(u64),
}

impl Size {
    fn limit(self) -> u64 {
        match self {
            Size::Announced(bytes) | Size::AtMost(bytes) => bytes,
        }
    }

    fn described(self) -> String {
        match self {
            Size::Announced(bytes) => format!("the {bytes} bytes announced for the file"),
            Size::AtMost(bytes) => format!("{bytes} bytes, the most such a file can have"),
        }
    }
}

/// A failed attempt: what went wrong and whether another attempt may follow.
struct Failure {
    error: DownloadError,
    retry: Retry,
}

impl Failure {
    fn never(error: DownloadError) -> Failure {
        Failure { error, retry: Retry::Never }
    }

    fn passing(error: DownloadError) -> Failure {
        Failure { error, retry: Retry::After(None) }
    }
}

/// Classifies a request's failure: lost connections and timeouts may pass, the rest would recur.
fn request_error(url: &str, err: ureq::Error) -> Failure {
    let reason = err.to_string();
    let unreachable = |reason: String| DownloadError::Unreachable { url: url.into(), reason };
    match err {
        // rustls reports through I/O errors: a refused certificate, or bytes that are not TLS (InvalidData).
        ureq::Error::Io(ref io) if is_tls_failure(url, io) => Failure::never(unreachable(tls_hint(reason))),
        ureq::Error::Io(_) | ureq::Error::ConnectionFailed | ureq::Error::Timeout(_) => {
            Failure::passing(unreachable(reason))
        }
        ureq::Error::Rustls(_) | ureq::Error::Tls(_) => Failure::never(unreachable(tls_hint(reason))),
        // A name that does not resolve, or a proxy that refused, will not change within seconds.
        ureq::Error::HostNotFound | ureq::Error::ConnectProxyFailed(_) | ureq::Error::InvalidProxyUrl => {
            Failure::never(unreachable(reason))
        }
        _ => Failure::never(DownloadError::Refused { url: url.into(), reason }),
    }
}

/// Whether an I/O error on `url` is TLS failing: a certificate refused, or a peer that does not speak TLS
/// (rustls's errors arrive as InvalidData; a plain socket's never do).
fn is_tls_failure(url: &str, io: &std::io::Error) -> bool {
    let tls = url.starts_with("https://");
    tls && (io.kind() == std::io::ErrorKind::InvalidData || io.to_string().contains("certificate"))
}

/// A TLS failure's reason with what usually fixes it behind a TLS-inspecting proxy.
fn tls_hint(reason: String) -> String {
    format!(
        "{reason} (behind a proxy or firewall that inspects TLS, set SSL_CERT_FILE to your organisation's CA \
         bundle, a PEM file)"
    )
}

/// Tries `attempt` until it succeeds, fails for good, or [`retry::ATTEMPTS`] in a row bring nothing;
/// `attempt` says whether bytes arrived. `tell` hears each failure that is tried again, with the wait.
fn with_retries<T>(
    mut attempt: impl FnMut() -> (Result<T, Failure>, bool),
    mut tell: impl FnMut(&DownloadError, Duration),
) -> Result<T, DownloadError> {
    let mut backoff = Backoff::new();
    loop {
        let (outcome, progressed) = attempt();
        let failure = match outcome {
            Ok(value) => return Ok(value),
            Err(failure) => failure,
        };
        if progressed {
            backoff.progressed();
        }
        let Retry::After(asked) = failure.retry else { return Err(failure.error) };
        let Some(wait) = backoff.next(asked) else { return Err(failure.error) };
        tell(&failure.error, wait);
        std::thread::sleep(wait);
    }
}

/// Fetches a small text resource (an API answer).
pub fn get_text(url: &str) -> Result<String, DownloadError> {
    let agent = agent_for(url)?;
    let attempt = || {
        let outcome = agent.get(url).call().map_err(|e| request_error(url, e)).and_then(|response| {
            let status = response.status().as_u16();
            if status != 200 {
                let error = DownloadError::Refused { url: url.into(), reason: format!("HTTP {status}") };
                let retry = if is_passing_status(status) { Retry::After(retry_after(&response)) } else { Retry::Never };
                return Err(Failure { error, retry });
            }
            response.into_body().with_config().limit(16 << 20).read_to_string().map_err(|e| {
                Failure::passing(DownloadError::Refused { url: url.into(), reason: format!("unreadable answer: {e}") })
            })
        });
        (outcome, false)
    };
    with_retries(attempt, |error, wait| errln!("nst: {error}; trying again in {:.1} s", wait.as_secs_f64()))
}

/// Downloads `url` (of `size` bytes) into `partial`, resuming what is there, and returns the file's whole
/// SHA-256 once `checksum` accepts it; the file stays at `partial` for the caller to read. `progress` shows
/// bytes, rate and ETA.
pub fn download_verified(
    url: &str,
    checksum: &Checksum,
    size: Size,
    partial: &Path,
    progress: bool,
) -> Result<String, DownloadError> {
    let local =
        |err: std::io::Error| DownloadError::Local { path: partial.display().to_string(), reason: err.to_string() };
    if let Some(folder) = partial.parent() {
        std::fs::create_dir_all(folder).map_err(local)?;
    }
    let agent = agent_for(url)?;
    let announced = match size {
        Size::Announced(bytes) => Some(bytes),
        Size::AtMost(_) => None,
    };
    let bar = if progress { ProgressBar::new(announced.unwrap_or(0)) } else { ProgressBar::hidden() };
    bar.set_style(
        ProgressStyle::with_template("{bytes:>10}/{total_bytes} {wide_bar} {bytes_per_sec:>12} ETA {eta}")
            .expect("a valid template"),
    );
    // A link or anything but a regular file at the partial name is no partial download: start afresh (the
    // new file then replaces it, without following it).
    let length = || std::fs::symlink_metadata(partial).ok().filter(|m| m.is_file()).map_or(0, |m| m.len());
    let attempt = || {
        let offset = length();
        if announced.is_some_and(|bytes| offset >= bytes) {
            return (Ok(()), false);
        }
        bar.set_position(offset);
        let outcome = fetch_from(&agent, url, offset, size, partial, &bar);
        (outcome, length() > offset)
    };
    let tell = |error: &DownloadError, wait: Duration| {
        let wait = wait.as_secs_f64();
        bar.suspend(|| match length() {
            0 => errln!("nst: {error}; trying again in {wait:.1} s"),
            at => errln!("nst: {error}; resuming at byte {at} in {wait:.1} s"),
        })
    };
    let outcome = with_retries(attempt, tell);
    bar.finish_and_clear();
    outcome?;
    let found = nst_onnx::store::file_sha256(partial).map_err(local)?;
    if !checksum.accepts(&found) {
        let _ = std::fs::remove_file(partial);
        return Err(DownloadError::ChecksumMismatch { url: url.into(), expected: checksum.expected(), found });
    }
    Ok(found)
}
