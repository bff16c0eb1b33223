//! Drop-in compatibility with the pinned Codex CLI: tables of cases, each
//! run on one fresh CODEX_HOME that both binaries use. A case writes with
//! one binary (or starts from a config file either could have written),
//! then checks that both read it the same way.
//!
//! A module per area adds its own table; [`run_cases`] runs every row and
//! reports every failing row by name, not just the first.

mod auth;
mod basics;
mod config;
mod oauth;

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::process::Output;

use assert_cmd::Command;
use codex_test_support::{Home, stderr, stdout};
use serde_json::Value;

/// Which binary a step runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Binary {
    /// This host's `codex`.
    Ours,
    /// The pinned Codex CLI.
    Codex,
}

pub(crate) use Binary::{Codex, Ours};

/// One CODEX_HOME that both binaries run on.
pub(crate) struct Shared {
    pub home: Home,
}

impl Shared {
    pub fn new() -> Shared {
        Shared { home: Home::new() }
    }

    /// The binary on this home, run in the home (no project layer).
    pub fn command(&self, who: Binary) -> Command {
        match who {
            Ours => {
                let mut command = self.home.codex();
                command.current_dir(self.home.path());
                command
            }
            Codex => self.home.real_codex(),
        }
    }

    /// Runs `args`; whatever the exit status, returns the output.
    pub fn output(&self, who: Binary, args: &[&str]) -> Output {
        let mut command = self.command(who);
        command.args(args);
        command.output().unwrap()
    }

    /// Runs `args` and requires success.
    pub fn run(&self, who: Binary, args: &[&str]) -> Output {
        let output = self.output(who, args);
        assert!(
            output.status.success(),
            "{who:?} {args:?} failed ({:?})\nstdout: {}\nstderr: {}",
            output.status.code(),
            stdout(&output),
            stderr(&output)
        );
        output
    }

    /// Runs `args` and parses its standard output as JSON.
    pub fn json(&self, who: Binary, args: &[&str]) -> Value {
        let output = self.run(who, args);
        serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
            panic!("{who:?} {args:?}: not JSON ({error}): {}", stdout(&output))
        })
    }

    /// `mcp list --json`, comparable (see [`comparable`]).
    pub fn mcp_list(&self, who: Binary) -> Value {
        self.mcp_list_with(who, &[])
    }

    /// `mcp list --json` after the global flags `extra` (such as `-p P`).
    pub fn mcp_list_with(&self, who: Binary, extra: &[&str]) -> Value {
        let mut args = extra.to_vec();
        args.extend(["mcp", "list", "--json"]);
        let mut list = self.json(who, &args);
        for server in list.as_array_mut().unwrap() {
            comparable(server);
        }
        list
    }

    /// `mcp get NAME --json`, comparable.
    pub fn mcp_get(&self, who: Binary, name: &str) -> Value {
        let mut server = self.json(who, &["mcp", "get", name, "--json"]);
        comparable(&mut server);
        server
    }

    /// Feature key -> enabled, as `features list` of `who` shows it.
    pub fn features(&self, who: Binary, extra: &[&str]) -> BTreeMap<String, bool> {
        let mut args: Vec<&str> = extra.to_vec();
        match who {
            Ours => {
                args.extend(["features", "list", "--json"]);
                let list = self.json(Ours, &args);
                list.as_array()
                    .unwrap()
                    .iter()
                    .map(|e| {
                        let key = e["key"].as_str().unwrap().to_string();
                        (key, e["enabled"].as_bool().unwrap())
                    })
                    .collect()
            }
            Codex => {
                args.extend(["features", "list"]);
                let text = stdout(&self.run(Codex, &args));
                text.lines()
                    .filter_map(|line| {
                        let words: Vec<&str> = line.split_whitespace().collect();
                        let enabled = words.last()?.parse::<bool>().ok()?;
                        Some((words.first()?.to_string(), enabled))
                    })
                    .collect()
            }
        }
    }

    /// Both binaries list the same servers the same way.
    pub fn same_mcp_list(&self) {
        assert_eq!(self.mcp_list(Ours), self.mcp_list(Codex), "mcp list --json");
    }

    /// Both binaries describe server `name` the same way.
    pub fn same_mcp_get(&self, name: &str) {
        let ours = self.mcp_get(Ours, name);
        let theirs = self.mcp_get(Codex, name);
        // Ours adds `auth_status` to `get --json` on purpose (the README says so).
        let mut ours_without = ours.clone();
        if let Some(object) = ours_without.as_object_mut() {
            object.remove("auth_status");
        }
        assert_eq!(ours_without, theirs, "mcp get {name} --json");
    }

    /// Every feature Codex shows, ours shows with the same state
    /// (with `extra` global flags, such as `-p P`, given to both).
    pub fn same_features(&self, extra: &[&str]) {
        let ours = self.features(Ours, extra);
        let theirs = self.features(Codex, extra);
        assert!(!theirs.is_empty(), "Codex listed no features");
        // `guardianv2.thread_context` is a field of a table, not a key here.
        let differ: Vec<String> = theirs
            .iter()
            .filter(|(key, _)| !key.contains('.'))
            .filter(|(key, enabled)| ours.get(*key) != Some(enabled))
            .map(|(key, enabled)| format!("{key}: Codex {enabled}, ours {:?}", ours.get(key)))
            .collect();
        assert!(differ.is_empty(), "features differ: {differ:#?}");
    }

    /// A successful run of `args` that prints nothing on standard error.
    pub fn quiet(&self, who: Binary, args: &[&str]) {
        let output = self.run(who, args);
        assert_eq!(stderr(&output), "", "{who:?} {args:?} warned");
    }
}

/// Runs `steps` with ours on one fresh home and with Codex on another,
/// each from `config`, and returns both config.toml texts: what each wrote.
pub(crate) fn written_by_each(config: &str, steps: &[&[&str]]) -> (String, String) {
    let written = |who: Binary| {
        let shared = Shared::new();
        if !config.is_empty() {
            shared.home.write_config(config);
        }
        for args in steps {
            shared.run(who, args);
        }
        shared.home.read_config()
    };
    (written(Ours), written(Codex))
}

/// A server's JSON as both binaries can show it: env values masked (ours
/// masks them; Codex shows them), and without the `layer` that ours adds
/// for a server from a file other than the user's (the README says so).
fn comparable(server: &mut Value) {
    if let Some(object) = server.as_object_mut() {
        object.remove("layer");
    }
    if let Some(env) = server["transport"]["env"].as_object_mut() {
        for value in env.values_mut() {
            *value = Value::String("*****".into());
        }
    }
}

/// One row of a compatibility table.
pub(crate) struct Case {
    /// What the row shows, for the failure report.
    pub name: &'static str,
    /// `config.toml` before the first step ("" for none).
    pub config: &'static str,
    /// Commands run in order, each required to succeed.
    pub steps: &'static [(Binary, &'static [&'static str])],
    /// What both binaries must then agree on.
    pub check: fn(&Shared),
}

/// Runs every case on its own home; fails naming every failing case.
pub(crate) fn run_cases(cases: &[Case]) {
    let mut failed = Vec::new();
    for case in cases {
        let result = catch_unwind(AssertUnwindSafe(|| {
            let shared = Shared::new();
            if !case.config.is_empty() {
                shared.home.write_config(case.config);
            }
            for (who, args) in case.steps {
                shared.run(*who, args);
            }
            (case.check)(&shared);
        }));
        if let Err(panic) = result {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            failed.push(format!("{}: {message}", case.name));
        }
    }
    assert!(
        failed.is_empty(),
        "{} case(s) failed:\n{}",
        failed.len(),
        failed.join("\n\n")
    );
}
