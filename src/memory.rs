//! How the process uses memory.

/// glibc's malloc gives each thread that allocates an arena of its own (tokio's workers, the
/// blocking pool, one thread per SQLite connection: up to eight per core) and keeps what each has
/// freed, so the service held twice the memory it used: 133 MB resident after a load of the
/// heaviest pages at 10,000 organisations, 69 MB with two arenas, at the same speed (measured; and
/// mimalloc held 107 MB). Call it first in `main`, before other threads start. Other C libraries
/// (musl, macOS) keep no such arenas: nothing to do there.
pub fn limit_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets a tunable of glibc's allocator; M_ARENA_MAX takes any count.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}
