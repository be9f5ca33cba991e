//! The command's printing. A reader that goes away early (`nst presets | head -1`, a pager that quits) closes the
//! pipe: printing to it then stops quietly, the work goes on, and the exit status is the work's. `outln!` would
//! panic there instead, with a backtrace and status 101. Any other failure to print (a full disk under `> file`)
//! is kept and reported once the work is done, and then the command fails.
//!
//! Text that comes from files (preset and model descriptions, file names, messages quoting them) may carry
//! control characters: ESC sequences that recolour or clear the terminal, a CR that overwrites the line, an LF
//! that starts a line the command never wrote. Every line is printed with its control characters escaped
//! (`\u{1b}`), its own line breaks and tabs apart; a field from a file is wrapped in [`Shown`], which escapes
//! line breaks too.

use std::fmt;
use std::io::{self, Write};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

/// Prints one line to standard output; see the module's note on closed pipes.
macro_rules! outln {
    ($($arg:tt)*) => { $crate::cli::output::line($crate::cli::output::Stream::Out, format_args!($($arg)*)) };
}

/// Prints one line to standard error; see the module's note on closed pipes.
macro_rules! errln {
    ($($arg:tt)*) => { $crate::cli::output::line($crate::cli::output::Stream::Err, format_args!($($arg)*)) };
}

/// Where a line goes.
#[derive(Clone, Copy)]
pub enum Stream {
    Out,
    Err,
}

static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);
static STDERR_CLOSED: AtomicBool = AtomicBool::new(false);
/// The first failure to print that was not a closed pipe.
static FAILURE: Mutex<Option<String>> = Mutex::new(None);

/// Writes `text` and a newline to `stream`, unless that stream's reader has gone.
pub fn line(stream: Stream, text: fmt::Arguments) {
    let (closed, name) = match stream {
        Stream::Out => (&STDOUT_CLOSED, "standard output"),
        Stream::Err => (&STDERR_CLOSED, "standard error"),
    };
    if closed.load(Ordering::Relaxed) {
        return;
    }
    let text = escaped(&text.to_string(), |c| c == '\n' || c == '\t');
    let written = match stream {
        Stream::Out => writeln!(io::stdout().lock(), "{text}"),
        Stream::Err => writeln!(io::stderr().lock(), "{text}"),
    };
    if let Err(error) = written {
        closed.store(true, Ordering::Relaxed);
        if !is_closed_pipe(&error) {
            let mut failure = FAILURE.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            failure.get_or_insert_with(|| format!("cannot write to {name}: {error}"));
        }
    }
}

/// `text` with each control character but those `kept` lets through written as its escape (`\u{1b}`).
fn escaped(text: &str, kept: impl Fn(char) -> bool) -> String {
    let mut shown = String::with_capacity(text.len());
    for c in text.chars() {
        match c.is_control() && !kept(c) {
            true => shown.extend(c.escape_unicode()),
            false => shown.push(c),
        }
    }
    shown
}

/// A field of text from a file, printed on the line it is part of: every control character, line breaks
/// included, is escaped. Widths (`{:<12}`) pad the escaped text.
pub struct Shown<'a>(pub &'a str);

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&escaped(self.0, |_| false))
    }
}

/// The first failure to print other than a closed pipe, if any: the command then fails with it.
pub fn failure() -> Option<String> {
    FAILURE.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()
}

/// Whether `error` says the reading end of a pipe has gone: EPIPE on Unix; on Windows ERROR_BROKEN_PIPE (109),
/// ERROR_NO_DATA (232, "the pipe is being closed") or ERROR_PIPE_NOT_CONNECTED (233).
fn is_closed_pipe(error: &io::Error) -> bool {
    const WINDOWS_PIPE_ERRORS: [i32; 3] = [109, 232, 233];
    error.kind() == io::ErrorKind::BrokenPipe
        || (cfg!(windows) && error.raw_os_error().is_some_and(|code| WINDOWS_PIPE_ERRORS.contains(&code)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_broken_pipe_is_a_closed_reader_and_other_errors_are_not() {
        assert!(is_closed_pipe(&io::Error::from(io::ErrorKind::BrokenPipe)));
        assert!(!is_closed_pipe(&io::Error::from(io::ErrorKind::StorageFull)));
        assert!(!is_closed_pipe(&io::Error::from(io::ErrorKind::PermissionDenied)));
        assert_eq!(is_closed_pipe(&io::Error::from_raw_os_error(233)), cfg!(windows));
    }

    #[test]
    fn control_characters_are_escaped_and_a_field_keeps_to_its_line() {
        let hostile = "calm\u{1b}[2J\rwrote /etc/passwd\nnext\u{7f}\u{9b}";
        assert_eq!(escaped(hostile, |c| c == '\n'), "calm\\u{1b}[2J\\u{d}wrote /etc/passwd\nnext\\u{7f}\\u{9b}");
        let field = format!("[{:<8}]", Shown("a\nb"));
        assert_eq!(field, "[a\\u{a}b ]");
        assert_eq!(Shown("Stained-glass mosaic: écoute").to_string(), "Stained-glass mosaic: écoute");
    }
}
