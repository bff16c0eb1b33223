//! Where `codex mcp shell` reads its lines: on a terminal, a rustyline
//! editor (completion of commands, tools, prompts and URIs; history in
//! `$CODEX_HOME/mcp_shell_history`, mode 0600); otherwise standard input,
//! a line at a time, so scripts can drive it. Either runs on a thread of
//! its own, so the session goes on (notifications, list refreshes) while a
//! person types.

use std::fs::{OpenOptions, Permissions};
use std::io::BufRead;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};

use anyhow::{Context, Result, anyhow};
use rustyline::completion::{Completer, Pair};
use rustyline::error::ReadlineError;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::history::DefaultHistory;
use rustyline::validate::Validator;
use rustyline::{CompletionType, Config, Editor, ExternalPrinter, Helper};

use super::mcp_shell_line::COMMANDS;
use super::mcp_shell_lists::{Names, SharedNames};

/// The history file under CODEX_HOME.
pub const HISTORY_FILE: &str = "mcp_shell_history";

/// How many lines the history keeps.
const HISTORY_SIZE: usize = 1000;

/// What reading a line gave.
#[derive(Debug)]
pub enum Input {
    Line(String),
    /// Ctrl-C at the prompt: the line was dropped.
    Interrupted,
    /// Ctrl-D, or the end of standard input.
    End,
}

/// The reading thread, asked for one line at a time.
pub struct LineReader {
    prompts: mpsc::Sender<String>,
    lines: tokio::sync::mpsc::UnboundedReceiver<Result<Input>>,
}

/// Prints lines for the user while the editor may be showing its prompt.
#[derive(Clone)]
pub struct Notices {
    printer: Option<Arc<Mutex<Box<dyn ExternalPrinter + Send>>>>,
    reading: Arc<AtomicBool>,
}

impl Notices {
    /// Prints `line` above the prompt while a person is typing; whether it
    /// did (else the caller prints it as usual).
    pub fn above_prompt(&self, line: &str) -> bool {
        self.reading.load(Ordering::SeqCst)
            && self.printer.as_ref().is_some_and(|printer| {
                printer
                    .lock()
                    .is_ok_and(|mut printer| printer.print(format!("{line}\n")).is_ok())
            })
    }
}

impl LineReader {
    /// A rustyline editor when `interactive`, else standard input's lines.
    pub fn start(
        interactive: bool,
        history: &Path,
        names: SharedNames,
    ) -> Result<(LineReader, Notices)> {
        let (prompts, prompt_requests) = mpsc::channel::<String>();
        let (line_sender, lines) = tokio::sync::mpsc::unbounded_channel();
        let reading = Arc::new(AtomicBool::new(false));
        let printer = if interactive {
            let (mut editor, history) = editor(history, names)?;
            let printer: Box<dyn ExternalPrinter + Send> = Box::new(
                editor
                    .create_external_printer()
                    .context("cannot set up the terminal for the shell")?,
            );
            let reading = reading.clone();
            std::thread::Builder::new()
                .name("mcp shell editor".into())
                .spawn(move || {
                    for prompt in prompt_requests {
                        reading.store(true, Ordering::SeqCst);
                        let read = editor.readline(&prompt);
                        reading.store(false, Ordering::SeqCst);
                        let input = match read {
                            Ok(line) => {
                                remember(&mut editor, history.as_deref(), &line);
                                Ok(Input::Line(line))
                            }
                            Err(ReadlineError::Interrupted) => Ok(Input::Interrupted),
                            Err(ReadlineError::Eof) => Ok(Input::End),
                            Err(error) => Err(anyhow!("cannot read the terminal: {error}")),
                        };
                        if line_sender.send(input).is_err() {
                            break;
                        }
                    }
                })
                .context("cannot start the shell's editor thread")?;
            Some(Arc::new(Mutex::new(printer)))
        } else {
            std::thread::Builder::new()
                .name("mcp shell input".into())
                .spawn(move || {
                    let mut stdin = std::io::stdin().lock();
                    for _prompt in prompt_requests {
                        let mut line = String::new();
                        let input = match stdin.read_line(&mut line) {
                            Ok(0) => Ok(Input::End),
                            Ok(_) => {
                                Ok(Input::Line(line.trim_end_matches(['\n', '\r']).to_string()))
                            }
                            Err(error) => Err(anyhow!("cannot read standard input: {error}")),
                        };
                        if line_sender.send(input).is_err() {
                            break;
                        }
                    }
                })
                .context("cannot start the shell's input thread")?;
            None
        };
        Ok((LineReader { prompts, lines }, Notices { printer, reading }))
    }

    /// The next line, after showing `prompt` (on a terminal).
    pub async fn read(&mut self, prompt: &str) -> Result<Input> {
        self.prompts
            .send(prompt.to_string())
            .map_err(|_| anyhow!("the shell's input thread ended"))?;
        self.lines
            .recv()
            .await
            .unwrap_or_else(|| Err(anyhow!("the shell's input thread ended")))
    }
}

type ShellEditor = Editor<ShellHelper, DefaultHistory>;

/// The editor, with the history file read (created 0600 when missing).
fn editor(history: &Path, names: SharedNames) -> Result<(ShellEditor, Option<PathBuf>)> {
    let config = Config::builder()
        .completion_type(CompletionType::List)
        .max_history_size(HISTORY_SIZE)
        .context("history size")?
        .history_ignore_dups(true)
        .context("history")?
        .history_ignore_space(true)
        .auto_add_history(false)
        .build();
    let mut editor: ShellEditor =
        Editor::with_config(config).context("cannot set up the terminal for the shell")?;
    editor.set_helper(Some(ShellHelper { names }));
    // Without its history the shell still works: a file that cannot be
    // made private or read is said once and left alone.
    let loaded = private_file(history).and_then(|()| {
        editor
            .load_history(history)
            .with_context(|| format!("cannot read the shell history {}", history.display()))
    });
    match loaded {
        Ok(()) => Ok((editor, Some(history.to_path_buf()))),
        Err(error) => {
            eprintln!("warning: {error:#}; this session keeps no history");
            Ok((editor, None))
        }
    }
}

/// Creates `path` readable by its owner only, or makes it so.
fn private_file(path: &Path) -> Result<()> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot open the shell history {}", path.display()))?;
    std::fs::set_permissions(path, Permissions::from_mode(0o600))
        .with_context(|| format!("cannot make {} private (0600)", path.display()))
}

/// Adds a typed line to the history and its file, if there is one (a line
/// failing to be saved is said, and the session goes on).
fn remember(editor: &mut ShellEditor, path: Option<&Path>, line: &str) {
    if line.trim().is_empty() {
        return;
    }
    match editor.add_history_entry(line) {
        Ok(true) => {}
        _ => return,
    }
    let Some(path) = path else {
        return;
    };
    if let Err(error) = editor.append_history(path) {
        eprintln!(
            "warning: cannot save the shell history in {}: {error}",
            path.display()
        );
    }
}

/// Completion of the shell's words; nothing else of the editor changes.
struct ShellHelper {
    names: SharedNames,
}

impl Helper for ShellHelper {}
impl Highlighter for ShellHelper {}
impl Validator for ShellHelper {}
impl Hinter for ShellHelper {
    type Hint = String;
}

impl Completer for ShellHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _context: &rustyline::Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let before = &line[..pos];
        let start = before
            .rfind(char::is_whitespace)
            .map(|index| index + 1)
            .unwrap_or(0);
        let typed = &before[start..];
        let words: Vec<&str> = before[..start].split_whitespace().collect();
        let names = self
            .names
            .lock()
            .map(|names| names.clone())
            .unwrap_or_default();
        let candidates = candidates(&words, &names);
        let mut matches: Vec<String> = candidates
            .into_iter()
            .filter(|candidate| candidate.starts_with(typed))
            .collect();
        matches.sort();
        matches.dedup();
        // A whole word is followed by a space, as in a shell.
        let pairs = matches
            .into_iter()
            .map(|word| Pair {
                replacement: format!("{word} "),
                display: word,
            })
            .collect();
        Ok((start, pairs))
    }
}

/// What may come after `words` (the words before the one being typed).
fn candidates(words: &[&str], names: &Names) -> Vec<String> {
    let commands = || {
        COMMANDS
            .iter()
            .map(|(name, _, _)| name.to_string())
            .collect()
    };
    match words {
        [] => commands(),
        ["help"] => commands(),
        ["call"] => names.tools.clone(),
        ["prompt"] => names.prompts.clone(),
        ["read"] => names.resources.clone(),
        ["complete"] => vec!["prompt".into(), "template".into()],
        ["complete", "prompt"] => names.prompts.clone(),
        ["complete", "template"] => names.templates.clone(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_position_completes_what_may_stand_there() {
        let names = Names {
            tools: vec!["echo".into()],
            prompts: vec!["simple".into()],
            resources: vec!["demo://a".into()],
            templates: vec!["demo://t/{id}".into()],
        };
        assert!(candidates(&[], &names).contains(&"call".to_string()));
        assert_eq!(candidates(&["call"], &names), ["echo"]);
        assert_eq!(candidates(&["read"], &names), ["demo://a"]);
        assert_eq!(
            candidates(&["complete", "template"], &names),
            ["demo://t/{id}"]
        );
        assert!(candidates(&["call", "echo"], &names).is_empty());
    }
}
