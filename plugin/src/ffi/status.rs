//! The plugin's errors as C status codes (the codes themselves are shared with hosts: `nst_sys::abi`).

use crate::EngineError;
pub use nst_sys::abi::NstStatus;

impl From<&EngineError> for NstStatus {
    fn from(err: &EngineError) -> Self {
        match err {
            EngineError::OnnxRuntimeMissing { .. } => NstStatus::NstRuntimeMissing,
            EngineError::OnnxRuntime { .. } => NstStatus::NstRuntimeError,
            EngineError::Provider { .. } => NstStatus::NstProviderUnavailable,
            EngineError::Model(_) => NstStatus::NstModelError,
            EngineError::Image { .. } => NstStatus::NstImageError,
            EngineError::Preset(_) => NstStatus::NstPresetError,
            EngineError::InvalidArgument(_) => NstStatus::NstInvalidArgument,
            EngineError::Internal(_) => NstStatus::NstInternalError,
            EngineError::Cancelled => NstStatus::NstCancelled,
            EngineError::OverBudget { .. } => NstStatus::NstOverBudget,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_broken_invariant_is_an_internal_error_not_the_callers() {
        let internal = EngineError::Internal("no style image reached the targets".into());
        assert_eq!(NstStatus::from(&internal), NstStatus::NstInternalError);
        assert!(internal.to_string().starts_with("internal error (a bug in nst)"));
        assert_eq!(NstStatus::from(&EngineError::InvalidArgument("x".into())), NstStatus::NstInvalidArgument);
    }
}
