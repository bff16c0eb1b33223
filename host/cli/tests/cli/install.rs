//! `install.sh`: the installed tree (from the debug build the tests already
//! have, so nothing compiles twice), run from the prefix with no build
//! directory beside it, and the packaged tarball with its sums.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

use codex_test_support::{
    Home, codex_bin, demo_server, stderr, stdout, target_dir, workspace_root,
};
use serde_json::Value;

/// The plugins an install ships, by plugin name.
const PLUGINS: [&str; 6] = [
    "stdio",
    "streamable_http",
    "oauth",
    "file",
    "keyring",
    "credential_helper",
];

/// Runs `install.sh` with `args` over the debug build; its output on failure.
fn install_script(args: &[&str]) -> std::process::Output {
    // The libraries must be as new as their sources, or the test would
    // install a stale build.
    for plugin in PLUGINS {
        codex_test_support::built_library(&format!("codex_{plugin}"));
    }
    codex_bin();
    let output = Command::new("bash")
        .arg(workspace_root().join("install.sh"))
        .arg("--from-build")
        .arg(target_dir())
        .args(args)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "install.sh failed:\n{}{}",
        stdout(&output),
        stderr(&output)
    );
    output
}

/// Installs into a fresh directory; the prefix is `dir/prefix`.
fn install(dir: &Path) -> PathBuf {
    let prefix = dir.join("prefix");
    install_script(&["--prefix", prefix.to_str().unwrap()]);
    prefix
}

/// `codex plugin list --json` of the binary at `codex`.
fn plugin_list(home: &Home, codex: &Path) -> Vec<Value> {
    let output = home
        .codex_at(codex)
        .args(["plugin", "list", "--json"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    serde_json::from_slice::<Value>(&output.stdout)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

/// Every shipped plugin is loaded from `PREFIX/lib/codex/plugins`.
fn assert_all_loaded_from(list: &[Value], prefix: &Path) {
    let plugin_dir = prefix.join("lib/codex/plugins").canonicalize().unwrap();
    for plugin in PLUGINS {
        let entry = list
            .iter()
            .find(|entry| entry["name"] == plugin)
            .unwrap_or_else(|| panic!("no plugin `{plugin}` in {list:#?}"));
        assert_eq!(entry["state"], "loaded", "{entry:#}");
        assert_eq!(entry["origin"], "prefix", "{entry:#}");
        let path = PathBuf::from(entry["path"].as_str().unwrap());
        assert_eq!(path.parent().unwrap(), plugin_dir, "{entry:#}");
    }
    assert_eq!(
        list.len(),
        PLUGINS.len(),
        "only the shipped plugins: {list:#?}"
    );
}

fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap().mode() & 0o7777
}

/// Whether the ELF file at `path` still has debug information (line
/// tables included); `.debug_gdb_scripts` is loaded code, not debug data.
fn has_debug_info(path: &Path) -> bool {
    let output = Command::new("readelf")
        .args(["-S", "-W"])
        .arg(path)
        .output()
        .unwrap();
    assert!(output.status.success(), "readelf: {}", stderr(&output));
    let sections = stdout(&output);
    sections.contains(".debug_info") || sections.contains(".debug_line")
}

#[test]
fn an_installed_tree_loads_its_plugins_and_runs_a_session_without_the_build_directory() {
    let dir = tempfile::tempdir().unwrap();
    let prefix = install(dir.path());
    let codex = prefix.join("bin/codex");

    // Modes and owners the loader trusts; stripped.
    let me = my_uid(&prefix);
    for program in ["codex", "codex-responses-api-proxy"] {
        let path = prefix.join("bin").join(program);
        assert_eq!(mode(&path), 0o755, "{}", path.display());
        assert!(!has_debug_info(&path), "{} is not stripped", path.display());
    }
    for dir in ["bin", "lib", "lib/codex", "lib/codex/plugins"] {
        assert_eq!(mode(&prefix.join(dir)), 0o755, "{dir}");
    }
    for plugin in PLUGINS {
        let path = prefix.join(format!("lib/codex/plugins/libcodex_{plugin}.so"));
        assert_eq!(mode(&path), 0o644, "{}", path.display());
        assert_eq!(fs::metadata(&path).unwrap().uid(), me);
        assert!(!has_debug_info(&path), "{} is not stripped", path.display());
    }

    let home = Home::new();
    assert_all_loaded_from(&plugin_list(&home, &codex), &prefix);

    // Through a symlink in another directory, as `ln -s PREFIX/bin/codex ~/bin/`.
    let links = dir.path().join("links");
    fs::create_dir(&links).unwrap();
    std::os::unix::fs::symlink(&codex, links.join("codex")).unwrap();
    assert_all_loaded_from(&plugin_list(&home, &links.join("codex")), &prefix);

    // The quick start's session, with the demo server copied out of the build.
    let server = dir.path().join("codex-demo-server");
    fs::copy(demo_server(), &server).unwrap();
    let add = home
        .codex_at(&codex)
        .args(["mcp", "add", "demo", "--"])
        .arg(&server)
        .args(["--name", "demo"])
        .output()
        .unwrap();
    assert!(add.status.success(), "{}", stderr(&add));
    let call = home
        .codex_at(&codex)
        .args([
            "mcp",
            "call",
            "demo",
            "add",
            "--args",
            r#"{"a":2,"b":3}"#,
            "--json",
        ])
        .output()
        .unwrap();
    assert!(call.status.success(), "{}", stderr(&call));
    assert!(stdout(&call).contains('5'), "{}", stdout(&call));

    // A directory made group-writable since is made safe again by a reinstall.
    let plugin_dir = prefix.join("lib/codex/plugins");
    fs::set_permissions(&plugin_dir, fs::Permissions::from_mode(0o775)).unwrap();
    let refused = plugin_list(&home, &codex);
    assert!(
        refused.iter().all(|entry| entry["state"] == "refused"),
        "{refused:#?}"
    );
    install(dir.path());
    assert_eq!(mode(&plugin_dir), 0o755);
    assert_all_loaded_from(&plugin_list(&home, &codex), &prefix);
}

/// The effective user id, read from the file system (a file just created
/// is owned by it), so the test needs no `unsafe`.
fn my_uid(dir: &Path) -> u32 {
    let probe = dir.join(".owner-probe");
    fs::write(&probe, b"").unwrap();
    let uid = fs::metadata(&probe).unwrap().uid();
    fs::remove_file(probe).unwrap();
    uid
}

#[test]
fn the_package_is_the_installed_tree_with_sums_that_pin_its_plugins() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("dist");
    install_script(&["--package", out.to_str().unwrap()]);
    let tarballs: Vec<PathBuf> = fs::read_dir(&out)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.to_string_lossy().ends_with(".tar.gz"))
        .collect();
    assert_eq!(tarballs.len(), 1, "{tarballs:?}");
    let tarball = &tarballs[0];
    let name = tarball.file_name().unwrap().to_str().unwrap();
    let version = env!("CARGO_PKG_VERSION");
    assert!(
        name.starts_with(&format!("codex-host-{version}-")),
        "versioned: {name}"
    );

    // The tarball's own sum, then the sums of every file inside.
    let check = Command::new("sha256sum")
        .args(["-c", &format!("{name}.sha256")])
        .current_dir(&out)
        .output()
        .unwrap();
    assert!(check.status.success(), "{}", stdout(&check));
    let unpacked = dir.path().join("unpacked");
    fs::create_dir(&unpacked).unwrap();
    let untar = Command::new("tar")
        .arg("-xpzf")
        .arg(tarball)
        .arg("-C")
        .arg(&unpacked)
        .output()
        .unwrap();
    assert!(untar.status.success(), "{}", stderr(&untar));
    let root = unpacked.join(name.trim_end_matches(".tar.gz"));
    let check = Command::new("sha256sum")
        .args(["-c", "SHA256SUMS"])
        .current_dir(&root)
        .output()
        .unwrap();
    assert!(check.status.success(), "{}", stdout(&check));
    assert!(stdout(&check).contains("lib/codex/plugins/libcodex_stdio.so: OK"));

    // The pins it ships load every plugin; a wrong one refuses its plugin.
    let pins = fs::read_to_string(root.join("plugin-pins.toml")).unwrap();
    let home = Home::new();
    home.write_config(&pins);
    let codex = root.join("bin/codex");
    assert_all_loaded_from(&plugin_list(&home, &codex), &root);
    let stdio_pin = pins
        .lines()
        .find(|line| line.starts_with("stdio = "))
        .unwrap()
        .to_string();
    home.write_config(&pins.replace(&stdio_pin, &format!("stdio = \"{}\"", "0".repeat(64))));
    let list = plugin_list(&home, &codex);
    let stdio = list.iter().find(|entry| entry["name"] == "stdio").unwrap();
    assert_eq!(stdio["state"], "refused");
    assert!(
        stdio["reason"]
            .as_str()
            .unwrap()
            .contains("does not match the pin")
    );
}

#[test]
fn the_binary_alone_says_how_to_install_its_plugins() {
    // What `cargo install --path host/cli` leaves: the binary, no plugins.
    let dir = tempfile::tempdir().unwrap();
    let alone = dir.path().join("codex");
    fs::copy(codex_bin(), &alone).unwrap();
    let home = Home::new();
    let output = home
        .codex_at(&alone)
        .args(["plugin", "list"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stdout(&output).contains("No plugins found"),
        "{}",
        stdout(&output)
    );
    let error = stderr(&output);
    assert!(error.contains("no transport plugin is loaded"), "{error}");
    assert!(error.contains("./install.sh"), "{error}");
}
