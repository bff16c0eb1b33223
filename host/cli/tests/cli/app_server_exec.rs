//! `command/exec` of `codex app-server` beside the pinned Codex 0.169
//! app-server: the same commands sent to both, the results compared and
//! ours validated against Codex's schema; streaming, stdin, terminals,
//! resizing and terminating; escape attempts under read-only and
//! workspace-write refused as `codex sandbox` refuses them; several
//! commands at once, and none left behind when the client goes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use codex_test_support::{Home, codex_bin, process_alive};
use serde_json::{Value, json};

use crate::app_server::{Client, Peer, assert_valid};

/// A working directory outside `/tmp` (which workspace-write opens), with
/// a `.git` and a `.codex` to protect, and a directory outside every root.
struct Workspace {
    work: tempfile::TempDir,
    outside: tempfile::TempDir,
}

impl Workspace {
    fn new() -> Workspace {
        let home = std::env::var_os("HOME").map(PathBuf::from).unwrap();
        let work = tempfile::tempdir_in(&home).unwrap();
        std::fs::create_dir_all(work.path().join(".git/hooks")).unwrap();
        std::fs::create_dir_all(work.path().join(".codex")).unwrap();
        std::fs::create_dir_all(work.path().join("sub")).unwrap();
        let script = work.path().join("run.sh");
        std::fs::write(&script, "#!/bin/sh\necho \"ran in $(basename $PWD)\"\n").unwrap();
        std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        let outside = tempfile::tempdir_in(&home).unwrap();
        Workspace { work, outside }
    }

    fn work(&self) -> &Path {
        self.work.path()
    }

    fn outside(&self) -> &Path {
        self.outside.path()
    }
}

/// A CODEX_HOME outside `/tmp`: Codex starts its sandbox helper for
/// terminals from a link in CODEX_HOME, which it does not create under a
/// temporary directory.
fn home_outside_tmp() -> Home {
    let home = std::env::var_os("HOME").map(PathBuf::from).unwrap();
    let dir = tempfile::tempdir_in(home).unwrap();
    std::fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o700),
    )
    .unwrap();
    Home { dir }
}

fn exec(client: &mut Client, params: Value) -> Value {
    client.request("command/exec", params)
}

/// Every output delta of `process_id` seen so far, decoded and joined.
fn streamed(client: &Client, process_id: &str, stream: &str) -> String {
    let bytes: Vec<u8> = client
        .notifications
        .iter()
        .filter(|n| {
            n["method"] == "command/exec/outputDelta"
                && n["params"]["processId"] == process_id
                && n["params"]["stream"] == stream
        })
        .flat_map(|n| {
            BASE64
                .decode(n["params"]["deltaBase64"].as_str().unwrap())
                .unwrap()
        })
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Waits until the deltas of `process_id` hold `text`.
fn wait_for_output(client: &mut Client, process_id: &str, text: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !streamed(client, process_id, "stdout").contains(text) {
        assert!(
            Instant::now() < deadline,
            "no {text:?} from {process_id}: {:?}; early answers {:?}",
            streamed(client, process_id, "stdout"),
            client.early
        );
        // A request answered at once lets the notifications in.
        client.request("configRequirements/read", Value::Null);
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The buffered cases: each is sent to both servers; results and error
/// codes must agree (and messages, where ours are Codex's own words).
#[test]
fn buffered_commands_answer_as_codexs() {
    let home = Home::new();
    let space = Workspace::new();
    let work = space.work().display().to_string();
    let cases: Vec<(&str, Value)> = vec![
        (
            "exit code and both streams",
            json!({"command": ["sh", "-c", "echo hi; echo err >&2; exit 3"]}),
        ),
        (
            "killed by a signal",
            json!({"command": ["sh", "-c", "kill -9 $$"]}),
        ),
        ("cwd", json!({"command": ["pwd"], "cwd": "/usr"})),
        (
            "env set and unset",
            json!({"command": ["sh", "-c", "echo $FOO-${HOME:-unset}"], "env": {"FOO": "bar", "HOME": null}}),
        ),
        (
            "no network is announced",
            json!({"command": ["sh", "-c", "echo net=$CODEX_SANDBOX_NETWORK_DISABLED"]}),
        ),
        (
            "full access has a network",
            json!({"command": ["sh", "-c", "echo net=$CODEX_SANDBOX_NETWORK_DISABLED"],
                   "sandboxPolicy": {"type": "dangerFullAccess"}}),
        ),
        (
            "timeout",
            json!({"command": ["sleep", "5"], "timeoutMs": 300}),
        ),
        ("zero timeout", json!({"command": ["true"], "timeoutMs": 0})),
        (
            "output cap",
            json!({"command": ["sh", "-c", "echo 0123456789; echo abcdefghij >&2"], "outputBytesCap": 5}),
        ),
        // Landlock says EACCES where Codex's read-only mounts say EROFS:
        // only the verdicts are compared.
        (
            "read-only by default",
            json!({"command": ["sh", "-c", format!("(echo x > {work}/f) 2>/dev/null; echo rc=$?")]}),
        ),
        (
            "workspace-write opens the server's directory, not the command's",
            json!({"command": ["sh", "-c", "(echo x > f) 2>/dev/null; echo rc=$?"], "cwd": work,
                   "sandboxPolicy": {"type": "workspaceWrite"}}),
        ),
        (
            "workspace-write with the command's directory as a root",
            json!({"command": ["sh", "-c", "echo x > f && cat f"], "cwd": work,
                   "sandboxPolicy": {"type": "workspaceWrite", "writableRoots": [work]}}),
        ),
        (
            "a relative program runs from the command's directory",
            json!({"command": ["./run.sh"], "cwd": work}),
        ),
        (
            "external sandbox runs as is",
            json!({"command": ["echo", "ok"], "sandboxPolicy": {"type": "externalSandbox", "networkAccess": "enabled"}}),
        ),
        ("empty command", json!({"command": []})),
        (
            "tty without a process id",
            json!({"command": ["cat"], "tty": true}),
        ),
        (
            "streaming without a process id",
            json!({"command": ["cat"], "streamStdin": true}),
        ),
        (
            "size without tty",
            json!({"command": ["true"], "size": {"rows": 3, "cols": 3}}),
        ),
        (
            "zero size",
            json!({"command": ["true"], "processId": "z", "tty": true, "size": {"rows": 0, "cols": 3}}),
        ),
        (
            "two timeouts",
            json!({"command": ["true"], "timeoutMs": 1, "disableTimeout": true}),
        ),
        (
            "two caps",
            json!({"command": ["true"], "outputBytesCap": 1, "disableOutputCap": true}),
        ),
        (
            "negative timeout",
            json!({"command": ["true"], "timeoutMs": -5}),
        ),
        (
            "unknown policy",
            json!({"command": ["true"], "sandboxPolicy": {"type": "bogus"}}),
        ),
        (
            "relative writable root",
            json!({"command": ["true"], "sandboxPolicy": {"type": "workspaceWrite", "writableRoots": ["rel"]}}),
        ),
        (
            "missing cwd",
            json!({"command": ["true"], "cwd": "/nonexistent/dir"}),
        ),
        (
            "missing program with full access",
            json!({"command": ["no-such-program-here"], "sandboxPolicy": {"type": "dangerFullAccess"}}),
        ),
    ];
    // Errors whose message is Codex's too; the others say more than
    // Codex's (which names no path, or is a serde internal).
    let same_message = [
        "empty command",
        "tty without a process id",
        "streaming without a process id",
        "size without tty",
        "zero size",
        "two timeouts",
        "two caps",
        "negative timeout",
        "unknown policy",
    ];
    let mut answers: BTreeMap<&str, [Value; 2]> = BTreeMap::new();
    for (index, peer) in [Peer::Codex, Peer::Ours].into_iter().enumerate() {
        let mut client = Client::ready(peer, &home);
        for (name, params) in &cases {
            let answer = exec(&mut client, params.clone());
            answers
                .entry(name)
                .or_insert_with(|| [Value::Null, Value::Null])[index] = answer;
        }
        let _ = std::fs::remove_file(space.work().join("f"));
    }
    for (name, [codex, ours]) in &answers {
        match (codex.get("result"), ours.get("result")) {
            (Some(codex), Some(ours)) => {
                assert_valid("CommandExecResponse", ours);
                assert_eq!(ours, codex, "{name}");
            }
            (None, None) => {
                let (codex, ours) = (&codex["error"], &ours["error"]);
                assert_eq!(ours["code"], codex["code"], "{name}: {ours} / {codex}");
                if same_message.contains(name) {
                    assert_eq!(ours["message"], codex["message"], "{name}");
                }
            }
            _ => panic!("{name}: ours {ours}, Codex's {codex}"),
        }
    }
    // Where our words differ, they name what is wrong.
    let message = |name: &str| {
        answers[name][1]["error"]["message"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert!(message("relative writable root").contains("`rel` is relative"));
    assert!(message("missing cwd").contains("/nonexistent/dir"));
    assert!(message("missing program with full access").contains("no-such-program-here"));
}

/// Streams, stdin, a terminal with its size, resizing, terminating and
/// the follow-ups' errors, on both servers.
#[test]
fn streams_terminals_and_follow_ups_behave_as_codexs() {
    let home = home_outside_tmp();
    let mut seen: Vec<BTreeMap<&str, Value>> = Vec::new();
    for peer in [Peer::Codex, Peer::Ours] {
        let mut client = Client::ready(peer, &home);
        let mut answers = BTreeMap::new();

        let cat = client.send(
            "command/exec",
            json!({"command": ["cat"], "processId": "cat", "streamStdin": true, "streamStdoutStderr": true}),
        );
        let write = |client: &mut Client, id: &str, text: &str, close: bool| {
            client.request(
                "command/exec/write",
                json!({"processId": id, "deltaBase64": BASE64.encode(text), "closeStdin": close}),
            )
        };
        answers.insert("write", write(&mut client, "cat", "hello\n", false));
        wait_for_output(&mut client, "cat", "hello\n");
        answers.insert(
            "close",
            client.request(
                "command/exec/write",
                json!({"processId": "cat", "closeStdin": true}),
            ),
        );
        answers.insert("cat", client.answer(cat));
        answers.insert("cat output", json!(streamed(&client, "cat", "stdout")));
        answers.insert("after the end", write(&mut client, "cat", "more", false));
        answers.insert(
            "bad base64",
            client.request(
                "command/exec/write",
                json!({"processId": "cat", "deltaBase64": "!!"}),
            ),
        );

        let tty = client.send(
            "command/exec",
            json!({"command": ["sh", "-c", "stty size; read line; stty size; echo got=$line"],
                   "processId": "tty", "tty": true, "size": {"rows": 30, "cols": 100}}),
        );
        wait_for_output(&mut client, "tty", "30 100");
        answers.insert(
            "resize",
            client.request(
                "command/exec/resize",
                json!({"processId": "tty", "size": {"rows": 40, "cols": 120}}),
            ),
        );
        write(&mut client, "tty", "line\n", false);
        answers.insert("tty", client.answer(tty));
        let output = streamed(&client, "tty", "stdout");
        assert!(output.contains("40 120\r\n"), "{peer:?}: {output:?}");
        assert!(output.contains("got=line\r\n"), "{peer:?}: {output:?}");

        let sleeper = client.send(
            "command/exec",
            json!({"command": ["sleep", "30"], "processId": "sleep"}),
        );
        std::thread::sleep(Duration::from_millis(300));
        answers.insert(
            "duplicate",
            exec(
                &mut client,
                json!({"command": ["true"], "processId": "sleep"}),
            ),
        );
        answers.insert(
            "stdin not streamed",
            write(&mut client, "sleep", "x", false),
        );
        answers.insert(
            "resize without a terminal",
            client.request(
                "command/exec/resize",
                json!({"processId": "sleep", "size": {"rows": 1, "cols": 1}}),
            ),
        );
        answers.insert(
            "terminate",
            client.request("command/exec/terminate", json!({"processId": "sleep"})),
        );
        answers.insert("terminated", client.answer(sleeper));
        for (step, method) in [
            ("terminate unknown", "terminate"),
            ("write unknown", "write"),
            ("resize unknown", "resize"),
        ] {
            answers.insert(
                step,
                client.request(
                    &format!("command/exec/{method}"),
                    json!({"processId": "nobody", "size": {"rows": 1, "cols": 1}}),
                ),
            );
        }
        let capped = client.send(
            "command/exec",
            json!({"command": ["sh", "-c", "echo 0123456789"], "processId": "cap",
                   "streamStdoutStderr": true, "outputBytesCap": 4}),
        );
        answers.insert("capped", client.answer(capped));
        let last = client
            .notifications
            .iter()
            .rfind(|n| n["params"]["processId"] == "cap")
            .cloned()
            .unwrap();
        answers.insert("cap delta", last["params"].clone());
        if peer == Peer::Ours {
            for notification in &client.notifications {
                if notification["method"] == "command/exec/outputDelta" {
                    assert_valid(
                        "CommandExecOutputDeltaNotification",
                        &notification["params"],
                    );
                }
            }
        }
        seen.push(answers);
    }
    let (codex, ours) = (&seen[0], &seen[1]);
    for (step, codex_answer) in codex {
        let our_answer = &ours[step];
        let strip = |answer: &Value| {
            let mut answer = answer.clone();
            if let Some(object) = answer.as_object_mut() {
                object.remove("id");
            }
            answer
        };
        assert_eq!(strip(our_answer), strip(codex_answer), "{step}");
    }
    for step in ["write", "close", "resize", "terminate"] {
        assert_valid("CommandExecWriteResponse", &ours[step]["result"]);
    }
}

fn verdicts_script(space: &Workspace) -> String {
    let work = space.work().display().to_string();
    let outside = space.outside().display().to_string();
    let home = std::env::var("HOME").unwrap();
    // Each attempt prints NAME:allowed or NAME:denied.
    let attempts = [
        ("cwd", "echo x > cwd-file".to_owned()),
        (
            "tmp",
            "echo x > /tmp/codex-exec-probe-$$ && rm /tmp/codex-exec-probe-$$".to_owned(),
        ),
        (
            "home",
            format!("echo x > {home}/.codex-exec-probe-$$ && rm {home}/.codex-exec-probe-$$"),
        ),
        ("outside", format!("echo x > {outside}/f")),
        ("git hooks", "echo x > .git/hooks/pre-commit".to_owned()),
        ("codex dir", "echo x > .codex/config.toml".to_owned()),
        (
            "rename over .git",
            "mkdir -p sub/g && mv sub/g .git".to_owned(),
        ),
        (
            "symlink out",
            format!("ln -s {outside} link && echo x > link/via-link"),
        ),
        ("read passwd", "head -c1 /etc/passwd >/dev/null".to_owned()),
        ("sub dir", "echo x > sub/f".to_owned()),
    ];
    let mut script = format!("cd {work}\n");
    for (name, attempt) in attempts {
        script.push_str(&format!(
            "if ( {attempt} ) 2>/dev/null; then echo '{name}:allowed'; else echo '{name}:denied'; fi\n"
        ));
    }
    script
}

fn reset(space: &Workspace) {
    for path in [
        "cwd-file",
        "link",
        "sub/f",
        "sub/g",
        ".git/hooks/pre-commit",
        ".codex/config.toml",
    ] {
        let path = space.work().join(path);
        let _ = std::fs::remove_file(&path);
        let _ = std::fs::remove_dir(&path);
    }
    let _ = std::fs::remove_file(space.outside().join("f"));
}

/// Escape attempts through `command/exec` under read-only and
/// workspace-write: our verdicts are those of our `codex sandbox` and of
/// Codex's app-server.
#[test]
fn escapes_are_refused_as_codex_sandbox_refuses_them() {
    let home = Home::new();
    let space = Workspace::new();
    let script = verdicts_script(&space);
    let policies = [
        ("read-only", json!({"type": "readOnly"})),
        // Codex's workspace is the server's directory (a temporary home
        // here): the work directory is made a root to compare with
        // `codex sandbox -C`.
        (
            "workspace-write",
            json!({"type": "workspaceWrite", "writableRoots": [space.work()]}),
        ),
    ];
    for (mode, policy) in policies {
        let mut verdicts = Vec::new();
        for peer in [Peer::Codex, Peer::Ours] {
            reset(&space);
            let mut client = Client::ready(peer, &home);
            let answer = exec(
                &mut client,
                json!({"command": ["sh", "-c", script], "cwd": space.work(), "sandboxPolicy": policy}),
            );
            verdicts.push(answer["result"]["stdout"].as_str().unwrap().to_owned());
        }
        reset(&space);
        let cli = std::process::Command::new(codex_bin())
            .args(["sandbox", "--mode", mode, "-C"])
            .arg(space.work())
            .args(["--", "sh", "-c", &script])
            .env("CODEX_HOME", home.path())
            .env("CODEX_SYSTEM_CONFIG", home.path().join("no-system.toml"))
            .env("CODEX_MANAGED_CONFIG", home.path().join("no-managed.toml"))
            .output()
            .unwrap();
        reset(&space);
        let cli = String::from_utf8_lossy(&cli.stdout).into_owned();
        assert_eq!(verdicts[1], cli, "{mode}: command/exec and codex sandbox");
        assert_eq!(verdicts[1], verdicts[0], "{mode}: ours and Codex's");
        for line in [
            "outside:denied",
            "git hooks:denied",
            "codex dir:denied",
            "read passwd:allowed",
        ] {
            assert!(
                verdicts[1].contains(line),
                "{mode}: {line} in {}",
                verdicts[1]
            );
        }
        let in_cwd = if mode == "read-only" {
            "cwd:denied"
        } else {
            "cwd:allowed"
        };
        assert!(verdicts[1].contains(in_cwd), "{mode}: {}", verdicts[1]);
    }
}

/// Commands run at the same time; when the client goes, every command
/// and what it started is killed, on Codex's server as on ours.
#[test]
fn several_commands_at_once_and_none_outlives_the_client() {
    let home = Home::new();
    let mut client = Client::ready(Peer::Ours, &home);
    let started = Instant::now();
    let ids: Vec<i64> = (0..3)
        .map(|n| {
            client.send(
                "command/exec",
                json!({"command": ["sh", "-c", format!("sleep 1; echo {n}")]}),
            )
        })
        .collect();
    for (n, id) in ids.into_iter().enumerate() {
        let answer = client.answer(id);
        assert_eq!(answer["result"]["stdout"], format!("{n}\n"), "{answer}");
    }
    assert!(
        started.elapsed() < Duration::from_millis(2500),
        "three 1 s commands took {:?}: they did not run at once",
        started.elapsed()
    );

    for peer in [Peer::Codex, Peer::Ours] {
        let pids = tempfile::NamedTempFile::new_in(home.path()).unwrap();
        let mut client = Client::ready(peer, &home);
        for n in 0..3 {
            client.send(
                "command/exec",
                json!({"command": ["sh", "-c", format!("sleep 30 & echo $! >> {0}; echo $$ >> {0}; wait", pids.path().display())],
                       "processId": format!("p{n}"), "disableTimeout": true,
                       "sandboxPolicy": {"type": "dangerFullAccess"}}),
            );
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        let read_pids = || -> Vec<i32> {
            std::fs::read_to_string(pids.path())
                .unwrap_or_default()
                .lines()
                .filter_map(|line| line.trim().parse().ok())
                .collect()
        };
        while read_pids().len() < 6 {
            assert!(
                Instant::now() < deadline,
                "{peer:?}: the commands did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        let status = client.finish();
        assert!(status.success(), "{peer:?}: {status:?}");
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let alive: Vec<i32> = read_pids()
                .into_iter()
                .filter(|pid| process_alive(*pid))
                .collect();
            if alive.is_empty() {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{peer:?}: left running after the client went: {alive:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}
