//! Features declared in code, collected at link time.

use std::fmt;

use crate::Stage;

/// A feature declared in Rust code with [`declare_feature!`](crate::declare_feature).
///
/// Every `FeatureSpec` linked into the binary is found by
/// [`Registry::builtin`](crate::Registry::builtin), so a feature is declared
/// next to the code it gates instead of in one central list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeatureSpec {
    /// The key under `[features]`, in snake_case.
    pub key: &'static str,
    /// How mature the feature is.
    pub stage: Stage,
    /// The value when nothing sets it.
    pub default_enabled: bool,
    /// One line for `codex features list`.
    pub description: &'static str,
    /// Older names that still work and map to `key`, with a deprecation warning.
    pub aliases: &'static [&'static str],
    /// Where the declaration is, so that a clash can name both places.
    pub declared_at: SourceLocation,
}

inventory::collect!(FeatureSpec);

impl FeatureSpec {
    /// Whether this feature is on in `values` (effective values by key, as
    /// a resolution gives them); the declared default where it is absent.
    pub fn enabled_in(&self, values: &std::collections::BTreeMap<String, bool>) -> bool {
        values
            .get(self.key)
            .copied()
            .unwrap_or(self.default_enabled)
    }
}

/// A place in the source code: module path, file and line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SourceLocation {
    /// `module_path!()` of the declaration.
    pub module_path: &'static str,
    /// `file!()` of the declaration.
    pub file: &'static str,
    /// `line!()` of the declaration.
    pub line: u32,
}

impl fmt::Display for SourceLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}:{})", self.module_path, self.file, self.line)
    }
}

/// Whether `key` is a valid feature key or alias: lowercase ASCII letters,
/// digits and single underscores, starting with a letter and not ending with
/// an underscore (`unified_exec`, `multi_agent_v2`).
///
/// It is a `const fn` so that [`declare_feature!`](crate::declare_feature)
/// rejects a bad key when the crate is compiled.
pub const fn is_valid_key(key: &str) -> bool {
    let bytes = key.as_bytes();
    if bytes.is_empty() || !bytes[0].is_ascii_lowercase() {
        return false;
    }
    let mut previous_was_underscore = false;
    let mut i = 0;
    while i < bytes.len() {
        let byte = bytes[i];
        if byte == b'_' {
            if previous_was_underscore {
                return false;
            }
            previous_was_underscore = true;
        } else if byte.is_ascii_lowercase() || byte.is_ascii_digit() {
            previous_was_underscore = false;
        } else {
            return false;
        }
        i += 1;
    }
    !previous_was_underscore
}

/// Declares a feature flag next to the code it gates.
///
/// ```
/// codex_feature_registry::declare_feature! {
///     key: "concurrent_startup",
///     stage: Stable,
///     default: true,
///     description: "Connect to MCP servers concurrently",
///     aliases: [],
/// }
///
/// let registry = codex_feature_registry::Registry::builtin();
/// let feature = registry.get("concurrent_startup").unwrap();
/// assert!(feature.default_enabled());
/// ```
///
/// `stage` is a [`Stage`](crate::Stage) variant name; `default` is any
/// constant boolean expression such as `!cfg!(windows)`; `aliases` lists
/// legacy names that map to `key`.
///
/// The key and aliases must be snake_case, and the default must suit the
/// stage (only beta and stable features may be on by default). Both are
/// checked when the crate is compiled:
///
/// ```compile_fail
/// codex_feature_registry::declare_feature! {
///     key: "half_done",
///     stage: UnderDevelopment,
///     default: true,
///     description: "Not ready",
///     aliases: [],
/// }
/// ```
///
/// ```compile_fail
/// codex_feature_registry::declare_feature! {
///     key: "Not-Snake",
///     stage: Stable,
///     default: false,
///     description: "Bad key",
///     aliases: [],
/// }
/// ```
///
/// Code that asks whether a feature is on names it through a static, so the
/// key is written once and the declared default is the only default:
///
/// ```
/// codex_feature_registry::declare_feature! {
///     /// Connect to MCP servers concurrently.
///     pub static CONCURRENT_STARTUP = {
///         key: "concurrent_startup",
///         stage: Stable,
///         default: true,
///         description: "Connect to MCP servers concurrently",
///         aliases: [],
///     };
/// }
///
/// assert_eq!(CONCURRENT_STARTUP.key, "concurrent_startup");
/// // Nothing resolved it: the declared default.
/// let values = std::collections::BTreeMap::<String, bool>::new();
/// assert!(CONCURRENT_STARTUP.enabled_in(&values));
/// ```
#[macro_export]
macro_rules! declare_feature {
    (
        $(#[$meta:meta])*
        $vis:vis static $name:ident = {
            key: $key:literal,
            stage: $stage:ident,
            default: $default:expr,
            description: $description:expr,
            aliases: [$($alias:literal),* $(,)?] $(,)?
        };
    ) => {
        $(#[$meta])*
        $vis static $name: $crate::FeatureSpec = $crate::FeatureSpec {
            key: $key,
            stage: $crate::Stage::$stage,
            default_enabled: $default,
            description: $description,
            aliases: &[$($alias),*],
            declared_at: $crate::SourceLocation {
                module_path: ::core::module_path!(),
                file: ::core::file!(),
                line: ::core::line!(),
            },
        };
        $crate::declare_feature! {
            key: $key,
            stage: $stage,
            default: $default,
            description: $description,
            aliases: [$($alias),*],
        }
    };
    (
        key: $key:literal,
        stage: $stage:ident,
        default: $default:expr,
        description: $description:expr,
        aliases: [$($alias:literal),* $(,)?] $(,)?
    ) => {
        const _: () = {
            ::core::assert!(
                $crate::is_valid_key($key),
                "feature keys must be snake_case: lowercase ASCII letters, digits and single underscores, starting with a letter"
            );
            $(
                ::core::assert!(
                    $crate::is_valid_key($alias),
                    "feature aliases must be snake_case: lowercase ASCII letters, digits and single underscores, starting with a letter"
                );
            )*
            ::core::assert!(
                !$default || $crate::Stage::$stage.allows_default_on(),
                "only beta and stable features may be on by default; use `default: false` or a later stage"
            );
        };
        $crate::__private::inventory::submit! {
            $crate::FeatureSpec {
                key: $key,
                stage: $crate::Stage::$stage,
                default_enabled: $default,
                description: $description,
                aliases: &[$($alias),*],
                declared_at: $crate::SourceLocation {
                    module_path: ::core::module_path!(),
                    file: ::core::file!(),
                    line: ::core::line!(),
                },
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::is_valid_key;

    #[test]
    fn snake_case_keys_are_valid() {
        for key in ["unified_exec", "multi_agent_v2", "apps", "a1"] {
            assert!(is_valid_key(key), "{key}");
        }
    }

    #[test]
    fn other_keys_are_invalid() {
        for key in [
            "",
            "Unified_exec",
            "unified-exec",
            "_private",
            "trailing_",
            "double__underscore",
            "1st",
            "with space",
            "ünicode",
        ] {
            assert!(!is_valid_key(key), "{key:?}");
        }
    }
}
