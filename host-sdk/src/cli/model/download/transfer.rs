//! One request of a download: from a byte offset (an HTTP Range request) to the end, appended to the partial
//! file, never past the size the file may have, and ended when the server stops sending.

use std::fs::File;
use std::io::{Read, Write};
use std::path::Path;

use indicatif::ProgressBar;

use super::agent::idle_timeout;
use super::retry::{Retry, is_passing_status, retry_after};
use super::{DownloadError, Failure, Size, request_error};

/// One request from `offset`: appends what arrives to `partial`, of `size` bytes in all.
pub fn fetch_from(
    agent: &ureq::Agent,
    url: &str,
    offset: u64,
    size: Size,
    partial: &Path,
    bar: &ProgressBar,
) -> Result<(), Failure> {
    let local = |err: std::io::Error| {
        Failure::never(DownloadError::Local { path: partial.display().to_string(), reason: err.to_string() })
    };
    let refused = |reason: String| Failure::never(DownloadError::Refused { url: url.into(), reason });
    let mut request = agent.get(url);
    if offset > 0 {
        request = request.header("Range", format!("bytes={offset}-"));
    }
    let response = request.call().map_err(|err| request_error(url, err))?;
    let status = response.status().as_u16();
    // Asked for bytes past the end: an earlier run got the whole file (its checksum decides).
    if status == 416 && offset > 0 {
        return Ok(());
    }
    if !matches!(status, 200 | 206) {
        let error = DownloadError::Refused { url: url.into(), reason: format!("HTTP {status}") };
        let retry = if is_passing_status(status) { Retry::After(retry_after(&response)) } else { Retry::Never };
        return Err(Failure { error, retry });
    }
    let resumed = status == 206;
    if resumed {
        let range = response.headers().get("content-range").and_then(|v| v.to_str().ok()).unwrap_or("");
        if !range.starts_with(&format!("bytes {offset}-")) {
            return Err(refused(format!("asked for bytes from {offset}, the server sent the range '{range}'")));
        }
    }
    let start = if resumed { offset } else { 0 };
    let too_large = |what: String| {
        // What is there and what the server offers cannot add up to the file: start over next time.
        let _ = std::fs::remove_file(partial);
        refused(format!("{what}, more than {}; the partial download was deleted", size.described()))
    };
    let announced = response.body().content_length();
    if let Some(length) = announced.filter(|length| start.saturating_add(*length) > size.limit()) {
        return Err(too_large(format!("the server announces {} bytes", start.saturating_add(length))));
    }
    // A server that ignores Range sends the whole file again: start over.
    if !resumed {
        bar.set_position(0);
    }
    let mut file: File = nst_files::open_partial_file(partial, resumed).map_err(local)?;
    let mut reader = response.into_body().into_reader();
    let mut buffer = vec![0u8; 1 << 16];
    let mut received = 0u64;
    loop {
        let count = match reader.read(&mut buffer) {
            Ok(0) => break,
            Ok(count) => count,
            Err(err) => {
                let at = start + received;
                let reason = if stalled(&err) {
                    format!(
                        "the server stopped sending: nothing arrived for {} s, after {at} bytes of the file had \
                         arrived",
                        idle_timeout().as_secs_f64()
                    )
                } else {
                    format!("connection lost after {at} bytes of the file: {err}")
                };
                return Err(Failure::passing(DownloadError::Unreachable { url: url.into(), reason }));
            }
        };
        if start + received + count as u64 > size.limit() {
            drop(file);
            return Err(too_large("the server sent more".into()));
        }
        file.write_all(&buffer[..count]).map_err(local)?;
        received += count as u64;
        bar.inc(count as u64);
    }
    file.sync_all().map_err(local)
}

/// Whether a body read ended because nothing arrived within the idle timeout.
fn stalled(err: &std::io::Error) -> bool {
    let inner = err.get_ref().and_then(|inner| inner.downcast_ref::<ureq::Error>());
    matches!(inner, Some(ureq::Error::Timeout(_))) || err.kind() == std::io::ErrorKind::TimedOut
}
