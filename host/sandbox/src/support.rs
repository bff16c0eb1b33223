//! What the running kernel offers, for `codex doctor` and for the fail-closed
//! checks of `Sandbox::prepare`.

use std::fmt;

/// The Landlock ABI whose file-system rights the policies need (Linux 6.2:
/// `truncate` is controlled from ABI 3 on).
pub const REQUIRED_LANDLOCK_ABI: u32 = 3;

/// What the kernel offers the sandbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KernelSupport {
    /// `std::env::consts::OS`.
    pub os: &'static str,
    /// The Landlock ABI version the kernel enforces; 0 when there is none.
    pub landlock_abi: u32,
    /// Why Landlock is missing, when it is.
    pub landlock_problem: Option<String>,
    /// Whether seccomp filters (returning an errno) are available.
    pub seccomp: bool,
    /// Whether this process can get a mount namespace to mount in (a user
    /// namespace for an ordinary user): what keeps `.git` and `.codex`
    /// read-only.
    pub user_namespaces: bool,
    /// Why user namespaces do not work, when they do not.
    pub user_namespace_problem: Option<String>,
}

impl KernelSupport {
    /// What is missing to enforce a policy fully, one line per feature:
    /// `writes` when the policy has writable roots (they need the namespace).
    pub fn missing(&self, writes: bool) -> Vec<String> {
        if self.os != "linux" {
            return vec![format!("the sandbox is not supported on {}", self.os)];
        }
        let mut missing = Vec::new();
        if self.landlock_abi < REQUIRED_LANDLOCK_ABI {
            missing.push(match &self.landlock_problem {
                Some(problem) => format!("Landlock ABI {REQUIRED_LANDLOCK_ABI} or newer (Linux 6.2) is needed: {problem}"),
                None => format!(
                    "Landlock ABI {REQUIRED_LANDLOCK_ABI} or newer (Linux 6.2) is needed, and this kernel offers ABI {}",
                    self.landlock_abi
                ),
            });
        }
        if !self.seccomp {
            missing.push(
                "seccomp filters are not available (CONFIG_SECCOMP_FILTER): network and ptrace cannot be blocked"
                    .to_owned(),
            );
        }
        if writes && !self.user_namespaces {
            missing.push(format!(
                "user namespaces are needed to keep .git and .codex read-only in writable roots: {}",
                self.user_namespace_problem.as_deref().unwrap_or("unavailable")
            ));
        }
        missing
    }
}

impl fmt::Display for KernelSupport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let yes_no = |on: bool| if on { "yes" } else { "no" };
        match (&self.landlock_problem, self.landlock_abi) {
            (Some(problem), _) => writeln!(f, "landlock: no ({problem})")?,
            (None, abi) => writeln!(f, "landlock: ABI {abi} (needed: {REQUIRED_LANDLOCK_ABI})")?,
        }
        writeln!(f, "seccomp: {}", yes_no(self.seccomp))?;
        match &self.user_namespace_problem {
            Some(problem) => write!(f, "user namespaces: no ({problem})"),
            None => write!(f, "user namespaces: {}", yes_no(self.user_namespaces)),
        }
    }
}

/// Describes what the running kernel offers. On Linux this forks once, to
/// try a user namespace.
#[cfg(target_os = "linux")]
pub fn support() -> KernelSupport {
    let (landlock_abi, landlock_problem) = match crate::landlock::kernel_abi() {
        Ok(abi) => (abi, None),
        Err(problem) => (0, Some(problem)),
    };
    let (user_namespaces, user_namespace_problem) = match crate::namespace::probe() {
        Ok(_) => (true, None),
        Err(problem) => (false, Some(problem)),
    };
    KernelSupport {
        os: std::env::consts::OS,
        landlock_abi,
        landlock_problem,
        seccomp: crate::seccomp::available(),
        user_namespaces,
        user_namespace_problem,
    }
}

/// Describes what the running kernel offers: nothing, off Linux.
#[cfg(not(target_os = "linux"))]
pub fn support() -> KernelSupport {
    let problem = Some(format!("not implemented on {}", std::env::consts::OS));
    KernelSupport {
        os: std::env::consts::OS,
        landlock_abi: 0,
        landlock_problem: problem.clone(),
        seccomp: false,
        user_namespaces: false,
        user_namespace_problem: problem,
    }
}
