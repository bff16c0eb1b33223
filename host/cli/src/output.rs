//! Printing: errors once at the top, tables, JSON.

use std::io::{IsTerminal, Write};

/// When output is coloured: `--color always|never`, or `auto`, which
/// follows the environment (`NO_COLOR` non-empty: never; else
/// `CLICOLOR_FORCE` non-empty: always; else `CLICOLOR=0`: never) and else
/// colours a terminal, as cargo and clap do (anstream's rules). clap's
/// help and errors follow the same choice. Colour marks only our own words
/// (`error:`, the doctor's statuses and titles): data from servers and
/// JSON are never touched.
pub fn set_color(choice: anstream::ColorChoice) {
    choice.write_global();
}

/// Styles text for one stream, or leaves it plain when that stream is not
/// coloured (see [`set_color`]).
#[derive(Clone, Copy, Debug)]
pub struct Paint {
    on: bool,
}

impl Paint {
    /// For standard output.
    pub fn stdout() -> Paint {
        Paint::for_stream(&std::io::stdout())
    }

    /// For standard error.
    pub fn stderr() -> Paint {
        Paint::for_stream(&std::io::stderr())
    }

    fn for_stream<S: anstream::stream::RawStream>(stream: &S) -> Paint {
        Paint {
            on: anstream::AutoStream::choice(stream) != anstream::ColorChoice::Never,
        }
    }

    fn style(self, style: anstyle::Style, text: &str) -> String {
        if self.on {
            format!("{style}{text}{style:#}")
        } else {
            text.to_string()
        }
    }

    pub fn red(self, text: &str) -> String {
        self.style(anstyle::AnsiColor::Red.on_default().bold(), text)
    }

    pub fn green(self, text: &str) -> String {
        self.style(anstyle::AnsiColor::Green.on_default(), text)
    }

    pub fn yellow(self, text: &str) -> String {
        self.style(anstyle::AnsiColor::Yellow.on_default().bold(), text)
    }

    pub fn bold(self, text: &str) -> String {
        self.style(anstyle::Style::new().bold(), text)
    }
}

/// Prints `error` and its causes, cargo style.
pub fn print_error(error: &anyhow::Error) {
    let prefix = Paint::stderr().red("error:");
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "{prefix} {error}");
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
