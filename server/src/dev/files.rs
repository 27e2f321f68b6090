//! The `--dev` data directory's private files: the token signing key and
//! the secret store's encryption key.
//!
//! Whoever can read either can mint tokens or decrypt every stored secret;
//! whoever can replace one chooses them. So the directory is 0700, key
//! files are created 0600 in one step (no window with the umask's mode),
//! and a key file that others may read or write, or that another user
//! owns, is refused rather than trusted.

use std::path::Path;

/// Creates `dir` (and its parents) and makes it private to this user.
pub fn private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// Writes a new file only this user may read (fails if it exists).
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)?.write_all(bytes)
}

/// Reads a key file, refusing one that is not private to this user.
pub fn read_private(path: &Path) -> anyhow::Result<Vec<u8>> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let meta = std::fs::metadata(path)?;
        let mode = meta.mode() & 0o777;
        if mode & 0o077 != 0 {
            anyhow::bail!(
                "refusing {}: other users may read or change it (mode {mode:o}); `chmod 600` it, or delete it \
                 to start over with a new key",
                path.display()
            );
        }
        // Linux: the owner of /proc/self is this process's user.
        if let Ok(me) = std::fs::metadata("/proc/self") {
            if meta.uid() != me.uid() {
                anyhow::bail!("refusing {}: it belongs to another user (uid {})", path.display(), meta.uid());
            }
        }
    }
    Ok(std::fs::read(path)?)
}
