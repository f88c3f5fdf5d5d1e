//! How the process uses memory.

/// glibc's malloc gives each thread that allocates an arena of its own (tokio's workers, the
/// blocking pool, one thread per SQLite connection: up to eight per core) and keeps what each has
/// freed, so the service held twice the memory it used: 133 MB resident after a load of the
/// heaviest pages at 10,000 organisations, 69 MB with two arenas, at the same speed (measured; and
/// mimalloc held 107 MB). And a fixed threshold for handing large blocks back: by default glibc
/// raises it after each large free, up to 32 MB, so every login's 19 MB argon2 buffer stayed in
/// the heap for good (anonymous memory after the benchmark 74 MB -> 27 MB with these; a login
/// costs the page faults of a fresh buffer: 47 -> 33 logins a second on one core, far above what
/// the rate limits let through). Call it first in `main`, before other threads start. Other C
/// libraries (musl, macOS) keep no such arenas: nothing to do there.
pub fn limit_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets a tunable of glibc's allocator; M_ARENA_MAX takes any count.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 512 * 1024);
    }
}
