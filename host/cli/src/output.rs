//! Printing: errors once at the top, tables, JSON.

use std::io::{IsTerminal, Write};

/// Prints `error` and its causes, cargo style.
pub fn print_error(error: &anyhow::Error) {
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "error: {error}");
    for cause in error.chain().skip(1) {
        let _ = writeln!(stderr, "  caused by: {cause}");
    }
}

/// Prints `value` as pretty JSON on standard output.
pub fn print_json(value: &serde_json::Value) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(value)?;
    write_stdout(&format!("{text}\n"))
}

/// Writes to standard output; a closed pipe (`codex ... | head`) is a normal end.
pub fn write_stdout(text: &str) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

/// Left-aligned columns separated by two spaces, each as wide as its widest
/// cell (the layout of `codex mcp list`), without trailing spaces.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let header_row: Vec<String> = headers.iter().map(|h| h.to_string()).collect();
    let all: Vec<Vec<String>> = std::iter::once(header_row)
        .chain(rows.iter().cloned())
        .collect();
    codex_config::present::render_table(&all)
        .lines()
        .map(|line| format!("{}\n", line.trim_end()))
        .collect()
}

/// Whether progress lines may be drawn (standard error is a terminal).
pub fn progress_enabled() -> bool {
    std::io::stderr().is_terminal()
}

#[cfg(test)]
mod tests {
    #[test]
    fn table_pads_columns_to_the_widest_cell() {
        let text = super::table(&["Name", "X"], &[vec!["a".into(), "long".into()]]);
        assert_eq!(text, "Name  X\na     long\n");
    }
}
