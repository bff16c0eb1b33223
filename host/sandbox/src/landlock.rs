//! The Landlock ruleset: read and execute everywhere, write in the writable
//! roots and on a few devices. Built in the parent; the child only calls
//! `landlock_restrict_self` on its file descriptor.
//!
//! The file-system rights are those of ABI 3 ([`TARGET_ABI`]): ABI 1 cannot
//! control renames and links across directories well (ABI 2, `Refer`) nor
//! `truncate` (ABI 3), and a sandbox that lets a process truncate any file
//! it can open is not read-only. They are a hard requirement: the caller
//! checks the kernel's ABI first and fails closed below it. Two additions
//! are best effort, because seccomp already covers what they add: TCP
//! `bind`/`connect` refused when the network is off (ABI 4, which also
//! covers IP sockets inherited from the caller), and signals to processes
//! outside the sandbox refused (ABI 6).

use std::os::fd::OwnedFd;
use std::path::Path;

use landlock::{
    ABI, Access, AccessFs, AccessNet, BitFlags, CompatLevel, Compatible, PathBeneath, PathFd,
    Ruleset, RulesetAttr, RulesetCreatedAttr, Scope,
};

use crate::{ResolvedPolicy, SandboxError};

/// The ABI whose file-system rights the policy needs.
pub(crate) const TARGET_ABI: ABI = ABI::V3;

/// Devices a read-only process may still write to: writing there changes no
/// file. `/dev/pts` is the directory of terminals, so that a program may
/// reopen its own terminal by name.
const WRITABLE_DEVICES: [&str; 5] = [
    "/dev/null",
    "/dev/zero",
    "/dev/full",
    "/dev/tty",
    "/dev/pts",
];

/// The ABI version the running kernel enforces, or why there is none.
pub(crate) fn kernel_abi() -> Result<u32, String> {
    // SAFETY: LANDLOCK_CREATE_RULESET_VERSION with a null attribute and size
    // 0 only returns the ABI version; no memory is read or written.
    let version = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            std::ptr::null::<libc::c_void>(),
            0usize,
            1u32, // LANDLOCK_CREATE_RULESET_VERSION
        )
    };
    if version > 0 {
        return Ok(u32::try_from(version).unwrap_or(0));
    }
    Err(match crate::child::errno() {
        libc::EOPNOTSUPP => {
            "Landlock is built into the kernel but not enabled (add `landlock` to the `lsm=` boot parameter)".to_owned()
        }
        libc::ENOSYS => "the kernel is built without Landlock (CONFIG_SECURITY_LANDLOCK)".to_owned(),
        errno => format!(
            "Landlock is not usable: {}",
            std::io::Error::from_raw_os_error(errno)
        ),
    })
}

/// Builds the ruleset of `policy` and returns its file descriptor.
pub(crate) fn build(policy: &ResolvedPolicy) -> Result<OwnedFd, SandboxError> {
    let landlock_error = |what: &str, error: landlock::RulesetError| {
        SandboxError::setup(what.to_owned(), std::io::Error::other(error))
    };
    let mut ruleset = Ruleset::default()
        .set_compatibility(CompatLevel::HardRequirement)
        .handle_access(AccessFs::from_all(TARGET_ABI))
        .map_err(|error| landlock_error("creating the Landlock ruleset", error))?
        .set_compatibility(CompatLevel::BestEffort);
    if !policy.network_access {
        ruleset = ruleset
            .handle_access(AccessNet::from_all(ABI::V4))
            .map_err(|error| landlock_error("adding Landlock network rules", error))?;
    }
    let ruleset = ruleset
        .scope(Scope::Signal)
        .map_err(|error| landlock_error("adding Landlock signal scoping", error))?
        .set_compatibility(CompatLevel::HardRequirement);
    let mut created = ruleset
        .create()
        .map_err(|error| landlock_error("creating the Landlock ruleset", error))?
        // No-new-privs is set by the child plan itself, first of all.
        .no_new_privs(false);

    let read = AccessFs::from_read(TARGET_ABI);
    created = add(created, Path::new("/"), read)?;
    let device: BitFlags<AccessFs> = AccessFs::ReadFile | AccessFs::WriteFile | AccessFs::Truncate;
    for device_path in WRITABLE_DEVICES {
        if Path::new(device_path).exists() {
            created = add(created, Path::new(device_path), device)?;
        }
    }
    for root in &policy.writable_roots {
        created = add(created, &root.path, AccessFs::from_all(TARGET_ABI))?;
    }
    let fd: Option<OwnedFd> = created.into();
    fd.ok_or_else(|| {
        SandboxError::setup(
            "creating the Landlock ruleset",
            std::io::Error::other("the kernel returned no ruleset"),
        )
    })
}

fn add(
    created: landlock::RulesetCreated,
    path: &Path,
    access: BitFlags<AccessFs>,
) -> Result<landlock::RulesetCreated, SandboxError> {
    let step = || format!("adding the Landlock rule for {}", path.display());
    let fd = PathFd::new(path)
        .map_err(|error| SandboxError::setup(step(), std::io::Error::other(error)))?;
    // A rule on a file may only carry the rights that apply to files.
    let access = if path.is_dir() {
        access
    } else {
        access & AccessFs::from_file(TARGET_ABI)
    };
    created
        .add_rule(PathBeneath::new(fd, access))
        .map_err(|error| SandboxError::setup(step(), std::io::Error::other(error)))
}

/// Async-signal-safe: restricts the calling thread with the ruleset `fd`.
pub(crate) fn restrict_self(fd: i32) -> Result<(), i32> {
    // SAFETY: landlock_restrict_self takes a ruleset file descriptor and
    // flags; it reads no memory of ours.
    let result = unsafe { libc::syscall(libc::SYS_landlock_restrict_self, fd, 0u32) };
    if result == 0 {
        Ok(())
    } else {
        Err(crate::child::errno())
    }
}
