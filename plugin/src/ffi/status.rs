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
            EngineError::Cancelled => NstStatus::NstCancelled,
            EngineError::OverBudget { .. } => NstStatus::NstOverBudget,
        }
    }
}
