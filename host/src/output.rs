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

/// Left-aligned columns separated by two spaces, each as wide as its widest cell.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut text = String::new();
    let header_row: Vec<String> = headers.iter().map(|h| h.to_string()).collect();
    for row in std::iter::once(&header_row).chain(rows) {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        text.push_str(cells.join("  ").trim_end());
        text.push('\n');
    }
    text
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
