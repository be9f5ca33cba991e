//! The command's printing. A reader that goes away early (`nst presets | head -1`, a pager that quits) closes the
//! pipe: printing to it then stops quietly, the work goes on, and the exit status is the work's. `outln!` would
//! panic there instead, with a backtrace and status 101. Any other failure to print (a full disk under `> file`)
//! is kept and reported once the work is done, and then the command fails.

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
}
