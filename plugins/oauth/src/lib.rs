//! The OAuth transport plugin.
