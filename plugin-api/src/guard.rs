//! Panic containment at the boundary.
//!
//! A panic that unwinds out of an `extern "C"` function aborts the process, so
//! every function the other side can call runs its body through [`guard`].

use std::panic::{AssertUnwindSafe, catch_unwind};

use abi_stable::std_types::RResult;

use crate::error::{PluginError, PluginResult};

/// Runs `body`, turning a panic into an [`ErrorKind::Internal`](crate::ErrorKind::Internal)
/// error that names `what` and the panic message.
pub fn guard<T>(what: &str, body: impl FnOnce() -> PluginResult<T>) -> RResult<T, PluginError> {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(result) => result.into(),
        Err(payload) => RResult::RErr(PluginError::internal(format!(
            "{what} panicked: {}",
            panic_message(payload.as_ref())
        ))),
    }
}

/// Runs `body` for a call that returns nothing and has no error channel,
/// swallowing (but reporting to stderr) a panic.
pub fn guard_unit(what: &str, body: impl FnOnce()) {
    if let Err(payload) = catch_unwind(AssertUnwindSafe(body)) {
        eprintln!("{what} panicked: {}", panic_message(payload.as_ref()));
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> &str {
    if let Some(text) = payload.downcast_ref::<&str>() {
        text
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text
    } else {
        "(no message)"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_an_internal_error_with_its_message() {
        let result: RResult<(), PluginError> = guard("connect", || panic!("boom"));
        let error = result.unwrap_err();
        assert_eq!(error.kind, crate::ErrorKind::Internal);
        assert_eq!(error.message.as_str(), "connect panicked: boom");
    }

    #[test]
    fn an_ordinary_result_passes_through() {
        let result = guard("send", || Ok(7));
        assert_eq!(result.unwrap(), 7);
    }
}
