//! Keeping `.git` and `.codex` read-only inside writable roots, with a user
//! and mount namespace (see the crate docs for why not Landlock alone).
//!
//! In the parent, [`plan`] finds the protected paths of every writable root:
//! `ROOT/.git` (a directory, or a `.git` file and the `gitdir:` directory it
//! names when that is inside a writable root too) and `ROOT/.codex`. A
//! protected path that is missing gets a placeholder: an empty directory,
//! mode 0555, created now. In the child, [`MountPlan::enter`] unshares a user
//! and mount namespace, maps the user to itself, makes the mounts private
//! and bind-mounts every protected path onto itself read-only. Inside, each
//! protected path is a mount point: writes beneath it fail with `EROFS`;
//! removing, renaming or replacing it fails with `EBUSY`; `mkdir` of a
//! placeholder fails with `EEXIST`.
//!
//! Placeholders are removed by [`Placeholders`]'s drop, but only when nobody
//! can still be relying on them: every sandbox holds a shared `flock` on
//! each protected path while it lives, and a placeholder is removed only
//! under an exclusive lock, when no process on the machine has a mount on it
//! (descendants of the sandboxed command that outlive it keep their
//! namespace). An unprivileged outsider removing a placeholder would detach
//! the mount in the sandbox, which is why they are never removed earlier.

use std::ffi::CString;
use std::fs;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::child::{Failure, Step};
use crate::{SandboxError, WritableRoot};

/// The mode that marks a placeholder (with: empty, a directory, ours).
const PLACEHOLDER_MODE: u32 = 0o555;

/// One path to mount read-only in the child.
#[derive(Debug)]
pub(crate) struct Protected {
    pub(crate) path: PathBuf,
    c_path: CString,
    /// The flags of the mount the path is on that must survive the read-only
    /// remount (an unprivileged remount may not drop nosuid, nodev ...).
    remount_flags: libc::c_ulong,
}

/// The child's half: plain data, read without allocating.
#[derive(Debug)]
pub(crate) struct MountPlan {
    kind: NamespaceKind,
    uid_map: Vec<u8>,
    gid_map: Vec<u8>,
    pub(crate) protected: Vec<Protected>,
}

/// The parent's half: the locks, and the placeholders to remove at the end.
#[derive(Debug)]
pub(crate) struct Placeholders {
    paths: Vec<PathBuf>,
    locks: Vec<OwnedFd>,
    keep: bool,
}

impl Placeholders {
    /// Leaves the placeholders in place: the calling process itself is now
    /// sandboxed and has them mounted (`apply_to_current_process`).
    pub(crate) fn keep(&mut self) {
        self.keep = true;
    }

    /// Releases the locks and removes the placeholders nobody uses any more.
    pub(crate) fn cleanup(&mut self) {
        self.locks.clear();
        if self.keep {
            return;
        }
        remove_placeholders_if_unused(std::mem::take(&mut self.paths));
    }
}

impl Drop for Placeholders {
    fn drop(&mut self) {
        self.cleanup();
    }
}

/// What stays read-only at the top of every writable root, as in Codex
/// 0.169: git's hooks and config, Codex's config, agent settings and AWS
/// credentials, all of which a later unsandboxed program would trust.
const PROTECTED_NAMES: [&str; 4] = [".git", ".codex", ".agents", ".aws"];

/// The protected paths of `roots` that exist or are missing, with the
/// `.git`-file targets; a symbolic link is an error.
fn protected_paths(roots: &[WritableRoot]) -> Result<Vec<PathBuf>, SandboxError> {
    let mut paths: Vec<PathBuf> = Vec::new();
    let mut push = |path: PathBuf| {
        if !paths.contains(&path) {
            paths.push(path);
        }
    };
    for root in roots {
        for name in PROTECTED_NAMES {
            let path = root.path.join(name);
            match fs::symlink_metadata(&path) {
                Ok(meta) if meta.file_type().is_symlink() => {
                    return Err(SandboxError::ProtectedPathIsSymlink { path });
                }
                Ok(meta) if meta.is_file() && name == ".git" => {
                    if let Some(target) = gitdir_target(&root.path, &path)
                        && roots.iter().any(|other| target.starts_with(&other.path))
                    {
                        push(target);
                    }
                    push(path);
                }
                Ok(_) => push(path),
                Err(error) if error.kind() == io::ErrorKind::NotFound => push(path),
                Err(error) => {
                    return Err(SandboxError::setup(
                        format!("inspecting {}", path.display()),
                        error,
                    ));
                }
            }
        }
    }
    Ok(paths)
}

/// The directory a `.git` file points at (`gitdir: PATH`, relative to the
/// root), when it exists.
fn gitdir_target(root: &Path, git_file: &Path) -> Option<PathBuf> {
    let text = fs::read_to_string(git_file).ok()?;
    let target = text
        .lines()
        .find_map(|line| line.strip_prefix("gitdir:"))?
        .trim();
    root.join(target).canonicalize().ok()
}

/// Builds the mount plan for `roots`: placeholders created, locks taken.
pub(crate) fn plan(
    roots: &[WritableRoot],
    kind: NamespaceKind,
) -> Result<(MountPlan, Placeholders), SandboxError> {
    let mut placeholders = Placeholders {
        paths: Vec::new(),
        locks: Vec::new(),
        keep: false,
    };
    let mut protected = Vec::new();
    for path in protected_paths(roots)? {
        let Some(lock) = lock_protected(&path)? else {
            continue;
        };
        // Every protected path is a candidate: one that vanishes before the
        // child mounts it is recreated there as a placeholder (see
        // `bind_onto_itself`). Only what still carries the placeholder mark
        // at the end is removed.
        placeholders.paths.push(path.clone());
        let remount_flags = remount_flags(&path, &lock)?;
        placeholders.locks.push(lock);
        let c_path = CString::new(path.as_os_str().as_bytes()).map_err(|_| {
            SandboxError::setup(
                format!("preparing {}", path.display()),
                io::Error::from(io::ErrorKind::InvalidInput),
            )
        })?;
        protected.push(Protected {
            path,
            c_path,
            remount_flags,
        });
    }
    let (uid_map, gid_map) = id_maps();
    Ok((
        MountPlan {
            kind,
            uid_map,
            gid_map,
            protected,
        },
        placeholders,
    ))
}

/// A plan with no protected path, to see whether namespaces work at all.
fn probe_plan(kind: NamespaceKind) -> MountPlan {
    let (uid_map, gid_map) = id_maps();
    MountPlan {
        kind,
        uid_map,
        gid_map,
        protected: Vec::new(),
    }
}

/// Opens `path` (creating a placeholder when it is missing), takes a shared
/// lock on it, and checks that the path still names what was locked (a
/// cleanup elsewhere may have removed it in between). `None` when the path
/// is missing and cannot be created by this user: then the sandboxed
/// process, which has the same rights or fewer, cannot create it either.
fn lock_protected(path: &Path) -> Result<Option<OwnedFd>, SandboxError> {
    let c_path = CString::new(path.as_os_str().as_bytes()).map_err(|_| {
        SandboxError::setup(
            format!("preparing {}", path.display()),
            io::Error::from(io::ErrorKind::InvalidInput),
        )
    })?;
    for _ in 0..ATTEMPTS {
        match fs::symlink_metadata(path) {
            Err(error) if error.kind() == io::ErrorKind::NotFound => {
                match fs::create_dir(path) {
                    Ok(()) => {
                        // The umask may have taken bits away; the mode is the mark.
                        match fs::set_permissions(
                            path,
                            fs::Permissions::from_mode(PLACEHOLDER_MODE),
                        ) {
                            Ok(()) => {}
                            // Removed again at once (see `mount_read_only`): retry.
                            Err(error) if error.kind() == io::ErrorKind::NotFound => continue,
                            Err(error) => return Err(placeholder_error(path, error)),
                        }
                    }
                    Err(error) if error.kind() == io::ErrorKind::AlreadyExists => continue,
                    Err(error)
                        if matches!(
                            error.raw_os_error(),
                            Some(libc::EACCES | libc::EROFS | libc::EPERM)
                        ) =>
                    {
                        return Ok(None);
                    }
                    Err(error) => return Err(placeholder_error(path, error)),
                }
            }
            Err(error) => {
                return Err(SandboxError::setup(
                    format!("inspecting {}", path.display()),
                    error,
                ));
            }
            Ok(meta) if meta.file_type().is_symlink() => {
                return Err(SandboxError::ProtectedPathIsSymlink {
                    path: path.to_path_buf(),
                });
            }
            Ok(_) => {}
        }
        // SAFETY: open with a NUL-terminated path and flags; the result is
        // checked before it is owned.
        let fd = unsafe {
            libc::open(
                c_path.as_ptr(),
                libc::O_RDONLY | libc::O_CLOEXEC | libc::O_NOFOLLOW | libc::O_NONBLOCK,
            )
        };
        if fd < 0 {
            let error = io::Error::last_os_error();
            if error.kind() == io::ErrorKind::NotFound {
                continue;
            }
            return Err(SandboxError::setup(
                format!("opening {}", path.display()),
                error,
            ));
        }
        // SAFETY: `fd` was just returned by open and is owned by nobody else.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        // SAFETY: flock on a descriptor we own.
        if unsafe { libc::flock(fd.as_raw_fd(), libc::LOCK_SH) } != 0 {
            return Err(SandboxError::setup(
                format!("locking {}", path.display()),
                io::Error::last_os_error(),
            ));
        }
        let locked = fs::File::from(fd);
        let (Ok(held), Ok(now)) = (locked.metadata(), fs::symlink_metadata(path)) else {
            continue;
        };
        if held.dev() == now.dev() && held.ino() == now.ino() {
            return Ok(Some(OwnedFd::from(locked)));
        }
    }
    Err(SandboxError::setup(
        format!("protecting {}", path.display()),
        io::Error::other("it keeps being replaced while the sandbox starts"),
    ))
}

fn placeholder_error(path: &Path, error: io::Error) -> SandboxError {
    SandboxError::setup(
        format!(
            "creating the placeholder {} (it keeps the sandboxed process from creating it)",
            path.display()
        ),
        error,
    )
}

/// An empty directory of ours with the placeholder mode.
fn is_placeholder(path: &Path) -> bool {
    let Ok(meta) = fs::symlink_metadata(path) else {
        return false;
    };
    // SAFETY: geteuid cannot fail.
    let euid = unsafe { libc::geteuid() };
    meta.is_dir()
        && meta.mode() & 0o7777 == PLACEHOLDER_MODE
        && (meta.uid() == euid || euid == 0)
        && fs::read_dir(path).is_ok_and(|mut entries| entries.next().is_none())
}

/// Removes those of `paths` that are still our placeholders, that no other
/// sandbox holds, and that no process has mounted.
fn remove_placeholders_if_unused(paths: Vec<PathBuf>) {
    // The locks stay held until the directories are removed, so that no
    // sandbox starting meanwhile takes one that is about to go.
    let unlocked: Vec<(PathBuf, fs::File)> = paths
        .into_iter()
        .filter(|path| is_placeholder(path))
        .filter_map(|path| lock_exclusively(&path).map(|dir| (path, dir)))
        .collect();
    if unlocked.is_empty() {
        return;
    }
    let wanted: Vec<&Path> = unlocked.iter().map(|(path, _)| path.as_path()).collect();
    let mounted = mounted_anywhere(&wanted);
    for (path, _dir) in &unlocked {
        if !mounted.contains(path) {
            // Only an empty directory can be removed; anything else stays.
            let _ = fs::remove_dir(path);
        }
    }
}

/// The placeholder at `path`, opened and locked exclusively; `None` when
/// another sandbox holds it.
fn lock_exclusively(path: &Path) -> Option<fs::File> {
    let dir = fs::File::open(path).ok()?;
    // A shared lock is held by every sandbox using the path, and for an
    // instant by any child another thread of ours forks (it inherits the
    // descriptor until its exec closes it): try a few times before deciding
    // that another sandbox holds it.
    let locked = (0..20).any(|attempt| {
        if attempt > 0 {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        // SAFETY: flock on a descriptor owned by `dir`, which outlives the call.
        unsafe { libc::flock(dir.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) == 0 }
    });
    locked.then_some(dir)
}

/// Those of `paths` on which any process we can see in another mount
/// namespace has a mount: one pass over /proc for all of them. When /proc
/// cannot be read, every path counts as mounted (it is kept).
fn mounted_anywhere(paths: &[&Path]) -> Vec<PathBuf> {
    let all = || paths.iter().map(|path| path.to_path_buf()).collect();
    let own_namespace = fs::read_link("/proc/self/ns/mnt").ok();
    let Ok(processes) = fs::read_dir("/proc") else {
        return all();
    };
    let mut namespaces_seen = Vec::new();
    let mut mounted: Vec<PathBuf> = Vec::new();
    for process in processes.flatten() {
        let name = process.file_name();
        if !name.as_bytes().iter().all(u8::is_ascii_digit) {
            continue;
        }
        let dir = process.path();
        let namespace = fs::read_link(dir.join("ns/mnt")).ok();
        if own_namespace.is_some() && namespace == own_namespace {
            continue;
        }
        // Processes of one namespace share its mounts: read them once.
        if let Some(namespace) = namespace {
            if namespaces_seen.contains(&namespace) {
                continue;
            }
            namespaces_seen.push(namespace);
        }
        let Ok(mountinfo) = fs::read(dir.join("mountinfo")) else {
            continue;
        };
        for line in mountinfo.split(|byte| *byte == b'\n') {
            let Some(point) = line.split(|byte| *byte == b' ').nth(4) else {
                continue;
            };
            let point = unescape_mountinfo(point);
            for path in paths {
                if path.as_os_str().as_bytes() == point.as_slice()
                    && !mounted.iter().any(|seen| seen == path)
                {
                    mounted.push(path.to_path_buf());
                }
            }
        }
        if mounted.len() == paths.len() {
            break;
        }
    }
    mounted
}

/// Undoes mountinfo's octal escapes (`\040` for a space, and so on).
fn unescape_mountinfo(field: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(field.len());
    let mut index = 0;
    while index < field.len() {
        if field[index] == b'\\'
            && index + 4 <= field.len()
            && field[index + 1..index + 4]
                .iter()
                .all(|digit| (b'0'..=b'7').contains(digit))
        {
            let value = field[index + 1..index + 4]
                .iter()
                .fold(0u32, |acc, digit| acc * 8 + u32::from(digit - b'0'));
            out.push(u8::try_from(value).unwrap_or(b'?'));
            index += 4;
        } else {
            out.push(field[index]);
            index += 1;
        }
    }
    out
}

fn remount_flags(path: &Path, locked: &OwnedFd) -> Result<libc::c_ulong, SandboxError> {
    // SAFETY: statvfs writes into the zeroed struct we pass, which lives
    // for the duration of the call.
    let mut stat: libc::statvfs = unsafe { std::mem::zeroed() };
    // Through the locked descriptor: the path itself may be gone already.
    // SAFETY: a descriptor we own and a valid out pointer.
    if unsafe { libc::fstatvfs(locked.as_raw_fd(), &mut stat) } != 0 {
        return Err(SandboxError::setup(
            format!("reading the mount flags of {}", path.display()),
            io::Error::last_os_error(),
        ));
    }
    let mut flags: libc::c_ulong = 0;
    for (statvfs_flag, mount_flag) in [
        (libc::ST_NOSUID, libc::MS_NOSUID),
        (libc::ST_NODEV, libc::MS_NODEV),
        (libc::ST_NOEXEC, libc::MS_NOEXEC),
        (libc::ST_NOATIME, libc::MS_NOATIME),
        (libc::ST_NODIRATIME, libc::MS_NODIRATIME),
        (libc::ST_RELATIME, libc::MS_RELATIME),
    ] {
        if stat.f_flag & statvfs_flag != 0 {
            flags |= mount_flag;
        }
    }
    Ok(flags)
}

/// How the mount namespace is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NamespaceKind {
    /// A mount namespace alone: the process may mount already (root with
    /// CAP_SYS_ADMIN). Nothing about users changes.
    MountOnly,
    /// A user namespace with the mount namespace: what an ordinary user
    /// (or root without CAP_SYS_ADMIN, in a container) can do. The user is
    /// mapped to itself: a process may map only its own ids, with setgroups
    /// denied. Files of other users then show as owned by `nobody`, and root
    /// in it has no rights over them.
    UserAndMount,
}

fn id_maps() -> (Vec<u8>, Vec<u8>) {
    // SAFETY: geteuid and getegid cannot fail.
    let (euid, egid) = unsafe { (libc::geteuid(), libc::getegid()) };
    (
        format!("{euid} {euid} 1\n").into_bytes(),
        format!("{egid} {egid} 1\n").into_bytes(),
    )
}

impl MountPlan {
    /// Async-signal-safe: the namespace and the read-only mounts.
    pub(crate) fn enter(&self) -> Result<(), Failure> {
        let flags = match self.kind {
            NamespaceKind::MountOnly => libc::CLONE_NEWNS,
            NamespaceKind::UserAndMount => libc::CLONE_NEWUSER | libc::CLONE_NEWNS,
        };
        // SAFETY: unshare with flags only. The caller is single-threaded
        // (a fresh child, or checked by apply_to_current_process), as
        // CLONE_NEWUSER requires.
        if unsafe { libc::unshare(flags) } != 0 {
            return Err(Failure::last(Step::Unshare, 0));
        }
        if self.kind == NamespaceKind::UserAndMount {
            // A process that is not dumpable (the host makes itself so, to
            // keep its memory from other processes) has its /proc/self files
            // owned by root, so it cannot write its own id maps. Dumpable for
            // the three writes only, then back as it was; `exec` resets it.
            // SAFETY: prctl with integer arguments only.
            let was_dumpable = unsafe { libc::prctl(libc::PR_GET_DUMPABLE) } == 1;
            if !was_dumpable {
                // SAFETY: as above.
                unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 1) };
            }
            let written = write_proc(c"/proc/self/setgroups", b"deny")
                .map_err(|errno| Failure::new(Step::Setgroups, 0, errno))
                .and_then(|()| {
                    write_proc(c"/proc/self/uid_map", &self.uid_map)
                        .map_err(|errno| Failure::new(Step::UidMap, 0, errno))
                })
                .and_then(|()| {
                    write_proc(c"/proc/self/gid_map", &self.gid_map)
                        .map_err(|errno| Failure::new(Step::GidMap, 0, errno))
                });
            if !was_dumpable {
                // SAFETY: as above.
                unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 0) };
            }
            written?;
        }
        // Private, so that nothing mounted here propagates back out.
        // SAFETY: mount with NUL-terminated strings and null pointers only.
        if unsafe {
            libc::mount(
                std::ptr::null(),
                c"/".as_ptr(),
                std::ptr::null(),
                libc::MS_REC | libc::MS_PRIVATE,
                std::ptr::null(),
            )
        } != 0
        {
            return Err(Failure::last(Step::MountPrivate, 0));
        }
        for (index, protected) in self.protected.iter().enumerate() {
            let path = protected.c_path.as_ptr();
            let flags =
                libc::MS_BIND | libc::MS_REMOUNT | libc::MS_RDONLY | protected.remount_flags;
            mount_read_only(path, flags)
                .map_err(|(step, errno)| Failure::new(step, index, errno))?;
        }
        Ok(())
    }
}

/// How often a protected path that keeps vanishing is locked again (by the
/// parent) or recreated and mounted again (by the child) before the sandbox
/// gives up. Each attempt takes microseconds (4096 of them some tens of
/// milliseconds); a path removed by a cleanup now and then never comes near
/// this, and on a loaded machine a program removing it in a loop can win
/// many races in a row (64 attempts were once not enough).
const ATTEMPTS: usize = 4096;

/// Async-signal-safe: bind-mounts `path` onto itself, then makes that
/// mount read-only with `remount_flags`. The path existed when the parent
/// planned the mounts, but another program may have removed it since:
/// Codex's own sandbox creates and removes empty `/tmp/.codex`,
/// `/tmp/.agents` and `/tmp/.aws` mount targets, and `rmdir` does not care
/// about our lock (removing it right after our bind detaches that mount, so
/// the remount finds no mount there). A path that is gone is recreated as a
/// placeholder (the sandboxed process must not be able to create it either)
/// and mounted again.
fn mount_read_only(
    path: *const libc::c_char,
    remount_flags: libc::c_ulong,
) -> Result<(), (Step, i32)> {
    let mut failure = (Step::Bind, libc::ENOENT);
    for _ in 0..ATTEMPTS {
        // SAFETY: `path` is a NUL-terminated string owned by the plan.
        let bound = unsafe {
            libc::mount(
                path,
                path,
                std::ptr::null(),
                libc::MS_BIND | libc::MS_REC,
                std::ptr::null(),
            )
        } == 0;
        if bound {
            // SAFETY: as above.
            if unsafe {
                libc::mount(
                    std::ptr::null(),
                    path,
                    std::ptr::null(),
                    remount_flags,
                    std::ptr::null(),
                )
            } == 0
            {
                return Ok(());
            }
            failure = (Step::Remount, crate::child::errno());
            if !matches!(failure.1, libc::ENOENT | libc::EINVAL) {
                return Err(failure);
            }
        } else {
            failure = (Step::Bind, crate::child::errno());
            if failure.1 != libc::ENOENT {
                return Err(failure);
            }
        }
        // SAFETY: mkdir and chmod on a NUL-terminated path. EEXIST means
        // someone recreated it first: the next attempt mounts that. Any
        // other failure will not go away by trying again, and says why.
        unsafe {
            if libc::mkdir(path, PLACEHOLDER_MODE) == 0 {
                // The umask may have taken bits away; the mode is the mark.
                libc::chmod(path, PLACEHOLDER_MODE);
            } else {
                let errno = crate::child::errno();
                if errno != libc::EEXIST {
                    return Err((Step::Bind, errno));
                }
            }
        }
    }
    Err(failure)
}

/// Async-signal-safe: writes `data` to a /proc file in one `write`.
fn write_proc(path: &std::ffi::CStr, data: &[u8]) -> Result<(), i32> {
    // SAFETY: a NUL-terminated path; the descriptor is closed below.
    let fd = unsafe { libc::open(path.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC) };
    if fd < 0 {
        return Err(crate::child::errno());
    }
    // SAFETY: `data` is a live buffer of the given length.
    let written = unsafe { libc::write(fd, data.as_ptr().cast(), data.len()) };
    let result = if usize::try_from(written).is_ok_and(|written| written == data.len()) {
        Ok(())
    } else {
        Err(crate::child::errno())
    };
    // SAFETY: `fd` is ours and closed once.
    unsafe { libc::close(fd) };
    result
}

/// How this process can get a mount namespace to mount in: root tries a
/// mount namespace alone first, then everyone a user namespace. A child
/// tries each, and reports the step that failed.
pub(crate) fn probe() -> Result<NamespaceKind, String> {
    // SAFETY: geteuid cannot fail.
    if unsafe { libc::geteuid() } == 0 && try_kind(NamespaceKind::MountOnly).is_ok() {
        return Ok(NamespaceKind::MountOnly);
    }
    try_kind(NamespaceKind::UserAndMount).map(|()| NamespaceKind::UserAndMount)
}

fn try_kind(kind: NamespaceKind) -> Result<(), String> {
    let plan = probe_plan(kind);
    let mut fds = [0i32; 2];
    // SAFETY: pipe2 writes two descriptors into `fds`.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(format!(
            "cannot create a pipe: {}",
            io::Error::last_os_error()
        ));
    }
    // SAFETY: both descriptors were just created and are owned here only.
    let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    // SAFETY: the child only calls `MountPlan::enter` (system calls on data
    // built above), `write` and `_exit`, all async-signal-safe.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(format!("cannot fork: {}", io::Error::last_os_error()));
    }
    if pid == 0 {
        let code = match plan.enter() {
            Ok(()) => 0,
            Err(failure) => {
                failure.report(write.as_raw_fd());
                1
            }
        };
        // SAFETY: leaves the child without running the parent's destructors.
        unsafe { libc::_exit(code) };
    }
    drop(write);
    let mut status = 0;
    // SAFETY: waits for the child we just forked.
    unsafe { libc::waitpid(pid, &mut status, 0) };
    let mut bytes = [0u8; 8];
    let mut reader = fs::File::from(read);
    let failure = io::Read::read_exact(&mut reader, &mut bytes)
        .ok()
        .and_then(|()| Failure::decode(bytes));
    match failure {
        None if libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0 => Ok(()),
        None => Err("the namespace probe ended abnormally".to_owned()),
        Some(failure) => Err(describe_probe_failure(failure)),
    }
}

fn describe_probe_failure(failure: Failure) -> String {
    let error = io::Error::from_raw_os_error(failure.errno);
    match failure.step {
        Step::Unshare => format!(
            "unshare(CLONE_NEWUSER | CLONE_NEWNS) failed: {error} (user namespaces disabled: see sysctl user.max_user_namespaces, kernel.unprivileged_userns_clone, kernel.apparmor_restrict_unprivileged_userns)"
        ),
        Step::Setgroups | Step::UidMap | Step::GidMap => {
            format!("writing the user namespace's id maps failed: {error}")
        }
        _ => format!(
            "mounting in a new mount namespace failed: {error} (an AppArmor or SELinux policy may restrict user namespaces)"
        ),
    }
}

/// What a child failure means, for the parent's error message.
pub(crate) fn describe_step(plan: &MountPlan, failure: Failure) -> String {
    let path = || {
        plan.protected
            .get(usize::from(failure.index))
            .map(|protected| protected.path.display().to_string())
            .unwrap_or_default()
    };
    match failure.step {
        Step::Unshare => {
            "creating a user and mount namespace (it keeps .git and .codex read-only)".to_owned()
        }
        Step::Setgroups | Step::UidMap | Step::GidMap => {
            "writing the user namespace's id maps".to_owned()
        }
        Step::MountPrivate => "making the sandbox's mounts private".to_owned(),
        Step::Bind => format!("bind-mounting {}", path()),
        Step::Remount => format!("making {} read-only", path()),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::RootOrigin;

    fn root(path: &Path) -> WritableRoot {
        WritableRoot {
            path: path.canonicalize().unwrap(),
            origin: RootOrigin::WorkingDirectory,
        }
    }

    #[test]
    fn mountinfo_escapes_are_undone() {
        assert_eq!(unescape_mountinfo(br"/a\040b\134c"), b"/a b\\c".to_vec());
        assert_eq!(unescape_mountinfo(br"/plain"), b"/plain".to_vec());
        assert_eq!(unescape_mountinfo(br"/end\04"), br"/end\04".to_vec());
    }

    #[test]
    fn git_file_targets_inside_a_root_are_protected_too() {
        let dir = tempfile::tempdir().unwrap();
        let main = dir.path().join("main");
        let worktree = dir.path().join("wt");
        fs::create_dir_all(main.join(".git/worktrees/wt")).unwrap();
        fs::create_dir_all(&worktree).unwrap();
        fs::write(worktree.join(".git"), "gitdir: ../main/.git/worktrees/wt\n").unwrap();
        let roots = [root(&worktree), root(&main)];
        let paths = protected_paths(&roots).unwrap();
        let main = main.canonicalize().unwrap();
        let worktree = worktree.canonicalize().unwrap();
        assert_eq!(
            paths,
            vec![
                main.join(".git/worktrees/wt"),
                worktree.join(".git"),
                worktree.join(".codex"),
                worktree.join(".agents"),
                worktree.join(".aws"),
                main.join(".git"),
                main.join(".codex"),
                main.join(".agents"),
                main.join(".aws"),
            ]
        );
        // Outside every root, the target is Landlock's business alone.
        let paths = protected_paths(&roots[..1]).unwrap();
        assert_eq!(
            paths,
            vec![
                worktree.join(".git"),
                worktree.join(".codex"),
                worktree.join(".agents"),
                worktree.join(".aws")
            ]
        );
    }

    #[test]
    fn a_symlinked_codex_dir_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink("/tmp", dir.path().join(".codex")).unwrap();
        let error = protected_paths(&[root(dir.path())])
            .unwrap_err()
            .to_string();
        assert!(error.contains(".codex is a symbolic link"), "{error}");
    }

    #[test]
    fn placeholders_are_created_and_removed_when_unused() {
        let dir = tempfile::tempdir().unwrap();
        let (plan, placeholders) = plan(&[root(dir.path())], NamespaceKind::UserAndMount).unwrap();
        let root = dir.path().canonicalize().unwrap();
        assert_eq!(plan.protected.len(), PROTECTED_NAMES.len());
        for name in PROTECTED_NAMES {
            assert!(is_placeholder(&root.join(name)), "{name}");
        }
        drop(placeholders);
        for name in PROTECTED_NAMES {
            assert!(!root.join(name).exists(), "{name}");
        }
    }

    #[test]
    fn a_placeholder_that_another_sandbox_holds_stays() {
        let dir = tempfile::tempdir().unwrap();
        let (_plan, first) = plan(&[root(dir.path())], NamespaceKind::UserAndMount).unwrap();
        let (_plan, second) = plan(&[root(dir.path())], NamespaceKind::UserAndMount).unwrap();
        let codex = dir.path().canonicalize().unwrap().join(".codex");
        drop(first);
        assert!(codex.exists(), "the second sandbox still holds it");
        drop(second);
        assert!(!codex.exists());
    }

    /// A placeholder that a process in another mount namespace has mounted
    /// (a sandboxed process whose sandbox is gone) stays: removing it would
    /// detach that mount and let the process create the path. Once that
    /// process is gone, the next cleanup removes it.
    #[test]
    fn a_placeholder_mounted_in_another_namespace_stays() {
        // SAFETY: geteuid cannot fail.
        if unsafe { libc::geteuid() } != 0 {
            eprintln!("skipped: mounting in a new namespace needs root here");
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let top = dir.path().canonicalize().unwrap();
        let (_plan, placeholders) = plan(&[root(&top)], NamespaceKind::MountOnly).unwrap();
        let codex = top.join(".codex");
        let ready = top.join("mounted");
        let script = format!(
            "mount --make-rprivate / && mount --bind {0} {0} && touch {1} && exec sleep 30",
            codex.display(),
            ready.display()
        );
        let mut holder = std::process::Command::new("unshare")
            .args(["--mount", "sh", "-c", &script])
            .spawn()
            .unwrap();
        let started = std::time::Instant::now();
        while !ready.exists() {
            assert!(started.elapsed() < std::time::Duration::from_secs(10));
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        drop(placeholders);
        let (kept, git_kept) = (codex.exists(), top.join(".git").exists());
        holder.kill().unwrap();
        holder.wait().unwrap();
        assert!(kept, "a mounted placeholder was removed");
        assert!(!git_kept, "an unmounted one was kept");
        let (_plan, again) = plan(&[root(&top)], NamespaceKind::MountOnly).unwrap();
        drop(again);
        assert!(!codex.exists());
    }

    /// Codex's sandbox removes its empty `/tmp/.codex` mount target while
    /// ours starts: a protected path that vanishes between the plan and the
    /// mount is recreated and mounted, and every command still starts.
    #[test]
    fn a_protected_path_removed_while_sandboxes_start_is_recreated() {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicBool, Ordering};

        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        let policy = crate::SandboxPolicy {
            mode: crate::SandboxMode::WorkspaceWrite,
            exclude_slash_tmp: true,
            exclude_tmpdir_env_var: true,
            ..crate::SandboxPolicy::default()
        };
        let stop = Arc::new(AtomicBool::new(false));
        let remover = {
            let stop = stop.clone();
            let root = root.clone();
            std::thread::spawn(move || {
                let mut removed = 0usize;
                while !stop.load(Ordering::SeqCst) {
                    for name in PROTECTED_NAMES {
                        if fs::remove_dir(root.join(name)).is_ok() {
                            removed += 1;
                        }
                    }
                    std::thread::sleep(std::time::Duration::from_micros(100));
                }
                removed
            })
        };
        let mut started = 0;
        for _ in 0..60 {
            let sandbox =
                crate::Sandbox::prepare(&policy, &root, crate::ApplyOptions::default()).unwrap();
            // Only the start matters: the remover may detach the mounts
            // once they are made, as any outsider with write access can.
            let command = sandbox.command(&["true"]).unwrap();
            let status = sandbox.spawn(command).unwrap().wait().unwrap();
            assert!(status.success(), "{status:?}");
            started += 1;
        }
        stop.store(true, Ordering::SeqCst);
        let removed = remover.join().unwrap();
        assert_eq!(started, 60);
        assert!(removed > 0, "the remover never removed anything");
    }
}
