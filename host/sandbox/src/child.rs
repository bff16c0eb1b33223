//! What runs between `fork` and `exec` (or in place, before `exec`).
//!
//! After `fork` in a multithreaded parent only async-signal-safe functions
//! may be called: no allocation, no locks, no `std::fs`. So [`ChildPlan`] is
//! built completely in the parent (C strings, file descriptors, BPF
//! programs), and [`ChildPlan::enter`] only reads it and makes system calls.
//! A failure is a [`Failure`] (a step, an index, an errno) that fits in a
//! pipe write, and the parent turns it into a message.

use std::os::fd::{AsRawFd, OwnedFd};

use crate::namespace::MountPlan;

/// The set-up step that failed in the child.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Step {
    NoNewPrivs = 1,
    Unshare = 2,
    Setgroups = 3,
    UidMap = 4,
    GidMap = 5,
    MountPrivate = 6,
    /// `index` is the protected path.
    Bind = 7,
    /// `index` is the protected path.
    Remount = 8,
    Landlock = 9,
    /// `index` is the BPF program.
    Seccomp = 10,
}

impl Step {
    fn from_u8(value: u8) -> Option<Step> {
        Some(match value {
            1 => Step::NoNewPrivs,
            2 => Step::Unshare,
            3 => Step::Setgroups,
            4 => Step::UidMap,
            5 => Step::GidMap,
            6 => Step::MountPrivate,
            7 => Step::Bind,
            8 => Step::Remount,
            9 => Step::Landlock,
            10 => Step::Seccomp,
            _ => return None,
        })
    }
}

/// A failed step, as the child reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Failure {
    pub(crate) step: Step,
    pub(crate) index: u16,
    pub(crate) errno: i32,
}

impl Failure {
    pub(crate) fn new(step: Step, index: usize, errno: i32) -> Failure {
        Failure {
            step,
            index: u16::try_from(index).unwrap_or(u16::MAX),
            errno,
        }
    }

    /// The calling thread's `errno` for `step`.
    pub(crate) fn last(step: Step, index: usize) -> Failure {
        Failure::new(step, index, errno())
    }

    pub(crate) fn encode(self) -> [u8; 8] {
        let index = self.index.to_le_bytes();
        let errno = self.errno.to_le_bytes();
        [
            self.step as u8,
            0,
            index[0],
            index[1],
            errno[0],
            errno[1],
            errno[2],
            errno[3],
        ]
    }

    pub(crate) fn decode(bytes: [u8; 8]) -> Option<Failure> {
        Some(Failure {
            step: Step::from_u8(bytes[0])?,
            index: u16::from_le_bytes([bytes[2], bytes[3]]),
            errno: i32::from_le_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]),
        })
    }

    /// Async-signal-safe: one `write` to the report pipe.
    pub(crate) fn report(self, fd: i32) {
        let bytes = self.encode();
        // SAFETY: `bytes` is a live stack buffer of the length given; a
        // failed or short write only loses the detail of the message.
        unsafe {
            libc::write(fd, bytes.as_ptr().cast(), bytes.len());
        }
    }
}

pub(crate) fn errno() -> i32 {
    std::io::Error::last_os_error()
        .raw_os_error()
        .unwrap_or(libc::EIO)
}

/// Everything the child needs, built before `fork`.
#[derive(Debug, Default)]
pub(crate) struct ChildPlan {
    pub(crate) no_new_privs: bool,
    pub(crate) mounts: Option<MountPlan>,
    pub(crate) landlock: Option<OwnedFd>,
    pub(crate) seccomp: Vec<Vec<libc::sock_filter>>,
}

impl ChildPlan {
    /// Applies the plan to the calling thread. Async-signal-safe.
    ///
    /// The order matters: no-new-privs first (Landlock and seccomp require
    /// it for an unprivileged process); the mounts before Landlock (a
    /// Landlock domain may not mount); seccomp last, so that the filter
    /// cannot get in the way of the steps before it.
    pub(crate) fn enter(&self) -> Result<(), Failure> {
        if self.no_new_privs {
            // SAFETY: prctl with integer arguments only.
            if unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) } != 0 {
                return Err(Failure::last(Step::NoNewPrivs, 0));
            }
        }
        if let Some(mounts) = &self.mounts {
            mounts.enter()?;
        }
        if let Some(ruleset) = &self.landlock {
            crate::landlock::restrict_self(ruleset.as_raw_fd())
                .map_err(|errno| Failure::new(Step::Landlock, 0, errno))?;
        }
        for (index, program) in self.seccomp.iter().enumerate() {
            crate::seccomp::install(program)
                .map_err(|errno| Failure::new(Step::Seccomp, index, errno))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_survive_the_pipe() {
        let failure = Failure::new(Step::Remount, 3, libc::EPERM);
        assert_eq!(Failure::decode(failure.encode()), Some(failure));
        assert_eq!(Failure::decode([0; 8]), None);
    }
}
