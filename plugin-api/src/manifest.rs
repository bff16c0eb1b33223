//! What a plugin says about itself before the host uses it.

use abi_stable::{
    StableAbi,
    std_types::{RString, RVec},
};

/// The kinds of service a plugin can provide.
#[repr(u8)]
#[derive(StableAbi, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceKind {
    /// Moves JSON-RPC messages between the host and an MCP server.
    Transport,
    /// Stores secrets (tokens, API keys) under a key.
    CredentialBackend,
}

impl ServiceKind {
    /// The name used in `codex plugin list`.
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceKind::Transport => "transport",
            ServiceKind::CredentialBackend => "credential-backend",
        }
    }
}

/// One service a plugin provides, named so that config can select it
/// (`transport = "NAME"`, `mcp_oauth_credentials_store = "NAME"`).
#[repr(C)]
#[derive(StableAbi, Debug, Clone, PartialEq, Eq)]
pub struct ServiceDecl {
    /// Transport or credential backend.
    pub kind: ServiceKind,
    /// The name config uses to select it. Unique across loaded plugins of one kind.
    pub name: RString,
}

/// The maturity of a feature flag.
#[repr(u8)]
#[derive(StableAbi, Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeatureStage {
    /// Not for users yet; off by default.
    UnderDevelopment,
    /// Usable, may change.
    Experimental,
    /// Nearly stable.
    Beta,
    /// Supported.
    Stable,
    /// Still honoured, going away.
    Deprecated,
    /// Accepted in config and ignored.
    Removed,
}

/// A feature flag declared by a plugin; it is listed by `codex features list`
/// with the plugin as its origin, and read back through
/// [`HostServices::feature_enabled`](crate::HostServices::feature_enabled).
#[repr(C)]
#[derive(StableAbi, Debug, Clone, PartialEq, Eq)]
pub struct FeatureDecl {
    /// The key under `[features]`.
    pub key: RString,
    /// The feature's maturity.
    pub stage: FeatureStage,
    /// The value when nothing sets it.
    pub default_enabled: bool,
    /// One line for `codex features list`.
    pub description: RString,
}

/// A plugin's description of itself.
#[repr(C)]
#[derive(StableAbi, Debug, Clone, PartialEq, Eq)]
pub struct PluginManifest {
    /// The plugin's name, as used in allow/deny lists and pins.
    pub name: RString,
    /// The plugin's own version (its crate version).
    pub version: RString,
    /// One line for `codex plugin list`.
    pub description: RString,
    /// The services it provides.
    pub services: RVec<ServiceDecl>,
    /// The feature flags it declares.
    pub features: RVec<FeatureDecl>,
}

impl PluginManifest {
    /// A manifest with no services or features yet.
    pub fn new(name: &str, version: &str, description: &str) -> Self {
        PluginManifest {
            name: name.into(),
            version: version.into(),
            description: description.into(),
            services: RVec::new(),
            features: RVec::new(),
        }
    }

    /// Adds a transport named `name`.
    pub fn transport(mut self, name: &str) -> Self {
        self.services.push(ServiceDecl {
            kind: ServiceKind::Transport,
            name: name.into(),
        });
        self
    }

    /// Adds a credential backend named `name`.
    pub fn credential_backend(mut self, name: &str) -> Self {
        self.services.push(ServiceDecl {
            kind: ServiceKind::CredentialBackend,
            name: name.into(),
        });
        self
    }

    /// Declares a feature flag.
    pub fn feature(
        mut self,
        key: &str,
        stage: FeatureStage,
        default_enabled: bool,
        description: &str,
    ) -> Self {
        self.features.push(FeatureDecl {
            key: key.into(),
            stage,
            default_enabled,
            description: description.into(),
        });
        self
    }
}
