//! Why the command exits with a failure.

use nst_host::HostError;

/// Exit reasons of the command.
#[derive(Debug)]
pub enum CliError {
    /// The plugin, or the SDK, failed.
    Host(HostError),
    /// Bad arguments or files, with the message.
    Usage(String),
    /// A batch finished with this many failed images (already reported).
    BatchFailures(usize),
}

impl From<HostError> for CliError {
    fn from(err: HostError) -> Self {
        CliError::Host(err)
    }
}

impl std::fmt::Display for CliError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CliError::Host(err) => write!(f, "{err}"),
            CliError::Usage(message) => write!(f, "{message}"),
            CliError::BatchFailures(count) => write!(f, "{count} image(s) failed"),
        }
    }
}
