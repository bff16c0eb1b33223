//! The seccomp filters, compiled to BPF in the parent with `seccompiler`.
//!
//! Denied calls return `EPERM` rather than killing the process, as in Codex,
//! so that programs see an ordinary error and can report it.
//!
//! - Always (every mode but `danger-full-access`): `ptrace` and
//!   `process_vm_readv`/`writev` (reaching into another process),
//!   `io_uring_*` (it performs file and socket operations on the process's
//!   behalf, out of reach of this filter), the mount system calls (Landlock
//!   forbids them too; this keeps the read-only mounts in place even in a
//!   weaker sandbox without Landlock), and `ioctl(TIOCSTI)`/`ioctl(TIOCLINUX)`,
//!   which push input into the terminal the user types into.
//! - Network off: `socket` and `socketpair` fail unless the domain is
//!   `AF_UNIX`. Since no IP socket can be created, the calls on sockets
//!   (`connect`, `bind`, `sendto`, `getsockopt` ...) stay allowed: they can
//!   only act on Unix sockets. Codex denies them as well, which breaks Unix
//!   sockets; "network off" here means "no IP sockets".
//!
//! On x86_64 a second filter refuses the x32 system-call numbers, which pass
//! the architecture check of the first one with other numbers.

use std::collections::BTreeMap;

use seccompiler::{
    SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter, SeccompRule,
};

use crate::SandboxError;

/// Whether the kernel accepts seccomp filters returning an errno.
pub(crate) fn available() -> bool {
    let action: u32 = libc::SECCOMP_RET_ERRNO;
    // SAFETY: SECCOMP_GET_ACTION_AVAIL reads the u32 we pass a pointer to,
    // which lives for the duration of the call.
    let result = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            libc::SECCOMP_GET_ACTION_AVAIL,
            0u32,
            &action as *const u32,
        )
    };
    result == 0
}

/// The BPF programs for a policy; installed in order by the child.
pub(crate) fn build(network_access: bool) -> Result<Vec<Vec<libc::sock_filter>>, SandboxError> {
    let error = |error: seccompiler::BackendError| {
        SandboxError::setup("compiling the seccomp filter", std::io::Error::other(error))
    };
    let mut rules: BTreeMap<i64, Vec<SeccompRule>> = BTreeMap::new();
    // An empty rule list means "always matches".
    for call in [
        libc::SYS_ptrace,
        libc::SYS_process_vm_readv,
        libc::SYS_process_vm_writev,
        libc::SYS_io_uring_setup,
        libc::SYS_io_uring_enter,
        libc::SYS_io_uring_register,
        libc::SYS_mount,
        libc::SYS_umount2,
        libc::SYS_pivot_root,
        libc::SYS_move_mount,
        libc::SYS_open_tree,
        libc::SYS_fsopen,
        libc::SYS_fsmount,
        libc::SYS_fsconfig,
        libc::SYS_fspick,
        libc::SYS_mount_setattr,
    ] {
        rules.insert(call, Vec::new());
    }
    // The ioctl request is an `unsigned int` for the kernel, so comparing
    // the low 32 bits cannot be dodged with high bits set.
    // `c_ulong` is u32 on 32-bit targets, hence the conversion.
    #[allow(clippy::useless_conversion)]
    let ioctl_rules = [libc::TIOCSTI, libc::TIOCLINUX]
        .into_iter()
        .map(|request| {
            SeccompRule::new(vec![
                SeccompCondition::new(
                    1,
                    SeccompCmpArgLen::Dword,
                    SeccompCmpOp::Eq,
                    u64::from(request),
                )
                .map_err(error)?,
            ])
            .map_err(error)
        })
        .collect::<Result<Vec<_>, _>>()?;
    rules.insert(libc::SYS_ioctl, ioctl_rules);
    if !network_access {
        for call in [libc::SYS_socket, libc::SYS_socketpair] {
            let not_unix = SeccompCondition::new(
                0,
                SeccompCmpArgLen::Dword,
                SeccompCmpOp::Ne,
                libc::AF_UNIX as u64,
            )
            .map_err(error)?;
            rules.insert(call, vec![SeccompRule::new(vec![not_unix]).map_err(error)?]);
        }
    }
    let arch = std::env::consts::ARCH.try_into().map_err(error)?;
    let filter = SeccompFilter::new(
        rules,
        SeccompAction::Allow,
        SeccompAction::Errno(libc::EPERM as u32),
        arch,
    )
    .map_err(error)?;
    let program: seccompiler::BpfProgram = filter.try_into().map_err(error)?;
    let mut programs = vec![
        program
            .into_iter()
            .map(|op| libc::sock_filter {
                code: op.code,
                jt: op.jt,
                jf: op.jf,
                k: op.k,
            })
            .collect(),
    ];
    if let Some(x32) = x32_filter() {
        programs.push(x32);
    }
    Ok(programs)
}

#[cfg(target_arch = "x86_64")]
fn x32_filter() -> Option<Vec<libc::sock_filter>> {
    const AUDIT_ARCH_X86_64: u32 = 62 | 0x8000_0000 | 0x4000_0000;
    const X32_SYSCALL_BIT: u32 = 0x4000_0000;
    let op = |code: u32, jt: u8, jf: u8, k: u32| libc::sock_filter {
        code: code as u16,
        jt,
        jf,
        k,
    };
    Some(vec![
        // Load seccomp_data.arch; other architectures are the first filter's business.
        op(libc::BPF_LD | libc::BPF_W | libc::BPF_ABS, 0, 0, 4),
        op(
            libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K,
            0,
            3,
            AUDIT_ARCH_X86_64,
        ),
        // Load seccomp_data.nr.
        op(libc::BPF_LD | libc::BPF_W | libc::BPF_ABS, 0, 0, 0),
        op(
            libc::BPF_JMP | libc::BPF_JGE | libc::BPF_K,
            0,
            1,
            X32_SYSCALL_BIT,
        ),
        op(
            libc::BPF_RET | libc::BPF_K,
            0,
            0,
            libc::SECCOMP_RET_ERRNO | libc::EPERM as u32,
        ),
        op(libc::BPF_RET | libc::BPF_K, 0, 0, libc::SECCOMP_RET_ALLOW),
    ])
}

#[cfg(not(target_arch = "x86_64"))]
fn x32_filter() -> Option<Vec<libc::sock_filter>> {
    None
}

/// Async-signal-safe: installs `program` on the calling thread.
pub(crate) fn install(program: &[libc::sock_filter]) -> Result<(), i32> {
    let fprog = libc::sock_fprog {
        len: u16::try_from(program.len()).map_err(|_| libc::E2BIG)?,
        filter: program.as_ptr().cast_mut(),
    };
    // SAFETY: `fprog` points at `program`, which outlives the call; the
    // kernel copies the program and does not write through the pointer.
    let result = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            libc::SECCOMP_SET_MODE_FILTER,
            0u32,
            &fprog as *const libc::sock_fprog,
        )
    };
    if result == 0 {
        Ok(())
    } else {
        Err(crate::child::errno())
    }
}
