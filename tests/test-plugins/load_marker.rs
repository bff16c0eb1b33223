//! A load-time marker shared by the test plugins.
//!
//! Opening a shared library runs its `.init_array` constructors before any
//! symbol is looked up. This one appends the library's name to the file named
//! by `CODEX_TEST_PLUGIN_MARKER`, so a test can tell whether the host ever
//! opened a library it was expected to refuse.

/// The variable naming the marker file; unset means no marker is written.
#[cfg(target_os = "linux")]
const MARKER_VAR: &str = "CODEX_TEST_PLUGIN_MARKER";

#[cfg(target_os = "linux")]
extern "C" fn write_load_marker() {
    use std::io::Write;

    let Some(path) = std::env::var_os(MARKER_VAR) else {
        return;
    };
    // A constructor must not panic (that would abort the loading process), so
    // a failure to write only means the marker is missing.
    if let Ok(mut file) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
    {
        let _ = writeln!(file, "{}", env!("CARGO_CRATE_NAME"));
    }
}

#[cfg(target_os = "linux")]
#[used]
#[unsafe(link_section = ".init_array")]
static WRITE_LOAD_MARKER: extern "C" fn() = write_load_marker;
