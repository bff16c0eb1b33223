//! Turning `keyring-core` errors into [`PluginError`]s that never carry a
//! secret.
//!
//! Some `keyring-core` errors hold the stored bytes (`BadEncoding`,
//! `BadDataFormat`) and some print entries (`Ambiguous`); their `Display`
//! text is never used. Each variant is described here from what is safe.

use codex_plugin_api::{ErrorKind, PluginError};
use keyring_core::Error;

use crate::stores::StoreKind;

/// A description of `error` that holds no secret and no stored data.
pub fn describe(error: &Error) -> String {
    match error {
        Error::PlatformFailure(inner) => one_line(&inner.to_string()),
        Error::NoStorageAccess(inner) => format!(
            "access was refused or the store is locked ({})",
            one_line(&inner.to_string())
        ),
        Error::NoEntry => "there is no such entry".to_owned(),
        Error::BadEncoding(_) => "the stored value is not valid UTF-8".to_owned(),
        Error::BadDataFormat(..) => "the stored value is not in the store's format".to_owned(),
        Error::BadStoreFormat(reason) => one_line(reason),
        Error::TooLong(what, limit) => {
            format!("the {what} is longer than the store's limit of {limit}")
        }
        Error::Invalid(what, reason) => format!("the {what} is invalid: {}", one_line(reason)),
        Error::Ambiguous(entries) => format!("{} entries match", entries.len()),
        Error::NoDefaultStore => "no store is set up".to_owned(),
        Error::NotSupportedByStore(reason) => one_line(reason),
        _ => "the keyring library reported an error it does not describe".to_owned(),
    }
}

/// The [`ErrorKind`] the host acts on for `error`: a store that cannot be
/// reached or is locked is `Unavailable`, so an `auto` store falls back.
pub fn kind_of(error: &Error) -> ErrorKind {
    match error {
        Error::PlatformFailure(_) | Error::NoStorageAccess(_) | Error::NoDefaultStore => {
            ErrorKind::Unavailable
        }
        Error::NoEntry => ErrorKind::NotFound,
        Error::BadEncoding(_) | Error::BadDataFormat(..) | Error::BadStoreFormat(_) => {
            ErrorKind::Protocol
        }
        Error::Ambiguous(_) => ErrorKind::Protocol,
        Error::TooLong(..) | Error::Invalid(..) => ErrorKind::Io,
        _ => ErrorKind::Internal,
    }
}

/// The error for `operation` (`read`, `store`, `delete`) of
/// `(service, account)` in store `kind`, with a hint where one helps.
pub fn failed(
    kind: StoreKind,
    operation: &str,
    service: &str,
    account: &str,
    error: &Error,
) -> PluginError {
    let hint = match error {
        Error::Ambiguous(_) if kind == StoreKind::SecretService => format!(
            "; remove the extra items (`secret-tool clear service '{service}' username \
             '{account}'` removes them all) and store the secret again"
        ),
        Error::NoStorageAccess(_) => {
            "; unlock the keyring (or log in to the desktop session) and try again".to_owned()
        }
        // Errors of an operation come after the store was opened, so a
        // platform failure here most often means its daemon or the session
        // bus went away since.
        Error::PlatformFailure(_) if kind == StoreKind::SecretService => {
            "; the Secret Service answered when this command started: check that the keyring daemon \
             (gnome-keyring, KeePassXC, KWallet) and the session's D-Bus still run, then try \
             again"
                .to_owned()
        }
        Error::TooLong(..) => {
            "; nothing was written. Use another store for this secret (the `file` store has no \
             size limit)"
                .to_owned()
        }
        _ => String::new(),
    };
    PluginError::new(
        kind_of(error),
        format!(
            "cannot {operation} `{account}` (service `{service}`) in {}: {}{hint}",
            kind.describe(),
            describe(error)
        ),
    )
}

/// The first line of `text`, trimmed, at most 300 characters: platform
/// messages are sometimes long, and an error is printed on one line.
fn one_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or("").trim();
    let mut out: String = line.chars().take(300).collect();
    if line.chars().count() > 300 {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_holding_stored_bytes_never_show_them() {
        let secret = b"sk-stored-secret-value".to_vec();
        for error in [
            Error::BadEncoding(secret.clone()),
            Error::BadDataFormat(secret.clone(), "sk-stored-secret-value".into()),
        ] {
            let text = failed(StoreKind::Keyutils, "read", "svc", "acct", &error).message;
            assert!(!text.contains("sk-stored"), "{text}");
            assert!(text.contains("the kernel keyring"), "{text}");
        }
    }

    #[test]
    fn unreachable_and_locked_stores_are_unavailable() {
        let error = Error::PlatformFailure("org.freedesktop.DBus.Error.ServiceUnknown".into());
        assert_eq!(kind_of(&error), ErrorKind::Unavailable);
        let error = Error::NoStorageAccess("locked".into());
        let failure = failed(StoreKind::SecretService, "store", "svc", "acct", &error);
        assert_eq!(failure.kind, ErrorKind::Unavailable);
        assert!(
            failure.message.contains("unlock the keyring"),
            "{}",
            failure.message
        );
    }

    #[test]
    fn a_secret_service_that_stopped_answering_says_what_to_check() {
        let error = Error::PlatformFailure(
            "org.freedesktop.DBus.Error.ServiceUnknown: The name org.freedesktop.secrets was not provided".into(),
        );
        let failure = failed(StoreKind::SecretService, "store", "svc", "acct", &error);
        assert_eq!(failure.kind, ErrorKind::Unavailable);
        assert!(
            failure.message.starts_with(
                "cannot store `acct` (service `svc`) in the Secret Service (D-Bus \
                 org.freedesktop.secrets): org.freedesktop.DBus.Error.ServiceUnknown"
            ),
            "{}",
            failure.message
        );
        assert!(
            failure
                .message
                .ends_with("the Secret Service answered when this command started: check that the keyring daemon (gnome-keyring, KeePassXC, KWallet) and the session's D-Bus still run, then try again"),
            "{}",
            failure.message
        );
    }

    #[test]
    fn long_platform_messages_are_cut_to_one_line() {
        let text = format!("{}\nsecond line", "x".repeat(400));
        let described = describe(&Error::PlatformFailure(text.into()));
        assert_eq!(described.chars().count(), 301);
        assert!(!described.contains("second line"));
    }
}
