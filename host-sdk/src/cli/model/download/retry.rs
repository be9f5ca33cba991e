//! When a failed request is tried again, and after how long: a lost connection, a timeout, 408, 429 and 5xx
//! are tried again after a wait that doubles (or the `Retry-After` the server asks for, within reason), a few
//! times; every attempt that brings bytes renews that budget, so a long download over a poor line finishes.

use std::time::Duration;

use super::agent::seconds_from;

/// Attempts in a row that may bring nothing before the download is given up.
pub const ATTEMPTS: u32 = 5;
/// The first wait, in seconds, unless this variable gives another; each next wait doubles it.
pub const WAIT_VARIABLE: &str = "NST_DOWNLOAD_RETRY_SECONDS";
const FIRST_WAIT: Duration = Duration::from_millis(500);
const LONGEST_WAIT: Duration = Duration::from_secs(8);
/// A server's `Retry-After` is followed up to this: someone is waiting at the terminal.
const LONGEST_RETRY_AFTER: Duration = Duration::from_secs(60);

/// Whether a failed attempt may be followed by another, and what the server asked to wait.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Retry {
    /// Another attempt would fail the same way (a 404, a checksum mismatch, a local error).
    Never,
    /// A passing failure; the server's `Retry-After`, if it sent one.
    After(Option<Duration>),
}

/// Whether an HTTP status is a server's passing trouble rather than an answer.
pub fn is_passing_status(code: u16) -> bool {
    code == 408 || code == 429 || code >= 500
}

/// The seconds of a `Retry-After` header (its HTTP-date form is rare for downloads and left to the backoff).
pub fn retry_after(response: &ureq::http::Response<ureq::Body>) -> Option<Duration> {
    let value = response.headers().get("retry-after")?.to_str().ok()?;
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

/// The attempts left and the next wait.
pub struct Backoff {
    attempts_left: u32,
    first_wait: Duration,
    next_wait: Duration,
}

impl Backoff {
    /// A full budget: [`ATTEMPTS`], waiting [`WAIT_VARIABLE`] seconds (else half a second) first.
    pub fn new() -> Backoff {
        let first_wait = seconds_from(WAIT_VARIABLE).unwrap_or(FIRST_WAIT);
        Backoff { attempts_left: ATTEMPTS - 1, first_wait, next_wait: first_wait }
    }

    /// Bytes arrived: the next failure starts a new budget.
    pub fn progressed(&mut self) {
        self.attempts_left = ATTEMPTS - 1;
        self.next_wait = self.first_wait;
    }

    /// How long to wait before the next attempt, or `None` when the budget is spent; `asked` is the server's
    /// `Retry-After`.
    pub fn next(&mut self, asked: Option<Duration>) -> Option<Duration> {
        self.attempts_left = self.attempts_left.checked_sub(1)?;
        let wait = self.next_wait;
        self.next_wait = (self.next_wait * 2).min(LONGEST_WAIT.max(self.first_wait));
        Some(asked.map_or(wait, |asked| asked.min(LONGEST_RETRY_AFTER)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_up_to_a_cap_and_progress_renews_the_budget() {
        let mut backoff = Backoff { attempts_left: ATTEMPTS - 1, first_wait: FIRST_WAIT, next_wait: FIRST_WAIT };
        let waits: Vec<Option<Duration>> = (0..ATTEMPTS).map(|_| backoff.next(None)).collect();
        let seconds = |s: f64| Some(Duration::from_secs_f64(s));
        assert_eq!(waits, [seconds(0.5), seconds(1.0), seconds(2.0), seconds(4.0), None]);
        backoff.progressed();
        assert_eq!(backoff.next(Some(Duration::from_secs(3600))), Some(LONGEST_RETRY_AFTER));
        assert_eq!(backoff.next(None), seconds(1.0));
        for _ in 0..2 {
            assert_eq!(backoff.next(None).map(|w| w <= LONGEST_WAIT), Some(true));
        }
        assert_eq!(backoff.next(None), None);
    }

    #[test]
    fn only_passing_statuses_are_tried_again() {
        for code in [408, 429, 500, 502, 503, 504] {
            assert!(is_passing_status(code), "{code}");
        }
        for code in [400, 401, 403, 404, 410, 416] {
            assert!(!is_passing_status(code), "{code}");
        }
    }
}
