//! The one table, and BENCHMARKS.md.

use std::fmt::Write as _;

use crate::rows::RowResult;

fn number(value: f64, unit: &str) -> String {
    if value.is_nan() {
        return "-".into();
    }
    let digits = if value.abs() >= 100.0 {
        0
    } else if value.abs() >= 10.0 {
        1
    } else {
        2
    };
    format!("{value:.digits$} {unit}")
}

/// The figure column: the ratio, or the figure with its unit.
pub fn figure(row: &RowResult) -> String {
    if row.figure_unit.is_empty() {
        format!("{:.2}", row.figure)
    } else {
        format!("{:.2} {}", row.figure, row.figure_unit)
    }
}

/// The target column.
pub fn target(row: &RowResult) -> String {
    let unit = if row.figure_unit.is_empty() {
        String::new()
    } else {
        format!(" {}", row.figure_unit)
    };
    if row.aim {
        format!("aim ≤ {:.2}{unit}", row.target)
    } else {
        format!("≤ {:.2}{unit}", row.target)
    }
}

/// The met? column; a smoke run enforces nothing.
pub fn met(row: &RowResult, smoke: bool) -> String {
    if smoke {
        "- (smoke)".into()
    } else if row.met {
        "yes".into()
    } else {
        "no".into()
    }
}

fn cells(row: &RowResult, smoke: bool) -> Vec<String> {
    vec![
        row.id.clone(),
        row.what.clone(),
        format!("{}: {}", row.a_label, number(row.a, &row.unit)),
        format!("{}: {}", row.b_label, number(row.b, &row.unit)),
        figure(row),
        target(row),
        met(row, smoke),
    ]
}

const HEADER: [&str; 7] = ["row", "what", "A", "B", "ratio", "target", "met?"];

/// The table printed on stdout.
pub fn text_table(rows: &[RowResult], smoke: bool) -> String {
    let body: Vec<Vec<String>> = rows.iter().map(|row| cells(row, smoke)).collect();
    let mut widths: Vec<usize> = HEADER.iter().map(|h| h.chars().count()).collect();
    for line in &body {
        for (i, cell) in line.iter().enumerate() {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let render = |line: &[String]| {
        let mut out = String::new();
        for (i, cell) in line.iter().enumerate() {
            let pad = widths[i] - cell.chars().count();
            out.push_str(cell);
            if i + 1 < line.len() {
                out.push_str(&" ".repeat(pad + 2));
            }
        }
        out.trim_end().to_string() + "\n"
    };
    let header: Vec<String> = HEADER.iter().map(|h| h.to_string()).collect();
    let mut out = render(&header);
    out.push_str(&render(
        &widths.iter().map(|w| "-".repeat(*w)).collect::<Vec<_>>(),
    ));
    for line in &body {
        out.push_str(&render(line));
    }
    out
}

/// The same table in Markdown.
pub fn markdown_table(rows: &[RowResult], smoke: bool) -> String {
    let mut out = format!("| {} |\n", HEADER.join(" | "));
    out.push_str(&format!("|{}\n", "---|".repeat(HEADER.len())));
    for row in rows {
        let line: Vec<String> = cells(row, smoke)
            .into_iter()
            .map(|c| c.replace('|', "\\|"))
            .collect();
        out.push_str(&format!("| {} |\n", line.join(" | ")));
    }
    out
}

/// The section of `notes` (Markdown) headed `## Row ID` (up to the next
/// `## `), if there is one.
pub fn note_for(notes: &str, id: &str) -> Option<String> {
    let heading = format!("## Row {id}");
    let mut lines = notes.lines();
    lines.by_ref().find(|line| line.trim_end() == heading)?;
    let body: Vec<&str> = lines.take_while(|line| !line.starts_with("## ")).collect();
    Some(body.join("\n").trim().to_string())
}

/// BENCHMARKS.md: `machine` (Markdown the script gathered: machine,
/// versions, load), the table, every row in detail with its commands, and
/// for every missed target (and every target met by less than 10 %) the
/// note on its cause from `notes`.
pub fn markdown(rows: &[RowResult], machine: &str, notes: &str, failures: &[String]) -> String {
    let mut out = String::new();
    out.push_str("# Benchmarks\n\n");
    out.push_str(
        "Written by `tests/bench/run.sh` (the one entry point; `--smoke` for one iteration of \
         every row). Every figure is a ratio of two things measured in the same run, A and B \
         alternating (A B, B A, ...; in-process: batches of calls in rotating order each round). \
         A and B are medians over the runs or rounds; the ratio is the median of the ratios of \
         the runs taken side by side (run i of A over run i of B), which cancels load that drifts \
         during the run (the A/B of the medians is given for every row below). Do not edit by hand: change `tests/bench/` (the causes of misses live in \
         `tests/bench/notes.md`) and rerun.\n\n",
    );
    out.push_str(machine.trim_end());
    out.push_str("\n\n## Results\n\n");
    out.push_str(&markdown_table(rows, false));
    if !failures.is_empty() {
        out.push_str("\nRows that could not run:\n\n");
        for failure in failures {
            let _ = writeln!(out, "- {}", failure.replace('\n', " "));
        }
    }
    let missed: Vec<&RowResult> = rows.iter().filter(|row| !row.met).collect();
    let _ = writeln!(
        out,
        "\n{} of {} targets met{}.",
        rows.len() - missed.len(),
        rows.len(),
        if missed.is_empty() {
            String::new()
        } else {
            format!(
                "; missed: {}",
                missed
                    .iter()
                    .map(|row| row.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    );
    out.push_str("\n## Rows in detail\n");
    for row in rows {
        let _ = writeln!(out, "\n### {}: {}\n", row.id, row.what);
        let _ = writeln!(
            out,
            "A = {} (median {}), B = {} (median {}), figure {} (target {}; A/B of the medians {:.2}), \
             {} runs or rounds per side.\n",
            row.a_label,
            number(row.a, &row.unit),
            row.b_label,
            number(row.b, &row.unit),
            figure(row),
            target(row),
            row.ratio_of_medians,
            row.samples
        );
        let _ = writeln!(out, "{}\n", row.detail);
        if !row.commands.is_empty() {
            out.push_str("```\n");
            for command in &row.commands {
                let _ = writeln!(out, "{command}");
            }
            out.push_str("```\n");
        }
    }
    // Met, but by less than 10 %: the next run on a busier machine may miss.
    let close: Vec<&RowResult> = rows
        .iter()
        .filter(|row| row.met && row.figure > 0.9 * row.target)
        .collect();
    if !close.is_empty() {
        out.push_str("\n## Met by a narrow margin\n");
        for row in &close {
            let _ = writeln!(
                out,
                "\n### Row {}: {} ({} against {})\n",
                row.id,
                row.what,
                figure(row),
                target(row)
            );
            match note_for(notes, &row.id) {
                Some(note) if !note.is_empty() => {
                    let _ = writeln!(out, "{note}");
                }
                _ => {
                    let _ = writeln!(out, "No note on this row in `tests/bench/notes.md`.");
                }
            }
        }
    }
    if !missed.is_empty() {
        out.push_str("\n## Missed targets: causes and fixes\n");
        for row in &missed {
            let _ = writeln!(out, "\n### Row {}: {}\n", row.id, row.what);
            match note_for(notes, &row.id) {
                Some(note) if !note.is_empty() => {
                    let _ = writeln!(out, "{note}");
                }
                _ => {
                    let _ = writeln!(
                        out,
                        "Missed in this run ({} against {}); no analysis is written for it yet in \
                         `tests/bench/notes.md`.",
                        figure(row),
                        target(row)
                    );
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_are_found_by_row_heading() {
        let notes = "# Notes\n\n## Row 1 wall\n\nslow start\n\n## Row 7\n\nplugins\n";
        assert_eq!(note_for(notes, "1 wall").as_deref(), Some("slow start"));
        assert_eq!(note_for(notes, "7").as_deref(), Some("plugins"));
        assert_eq!(note_for(notes, "2"), None);
    }
}
