//! The archive's files: copying a tree, checksums, and `.tar.gz` in and out.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Read};
use std::path::{Path, PathBuf};

use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use sha2::{Digest, Sha256};

use super::{BackupError, FileEntry, MANIFEST, Manifest};

/// Copies the regular files under `from` to `to` (made when missing),
/// leaving out top-level names in `skip`. A missing `from` copies nothing.
pub(super) fn copy_tree(from: &Path, to: &Path, skip: &[&str]) -> Result<(), BackupError> {
    std::fs::create_dir_all(to)
        .map_err(BackupError::io(format!("cannot create {}", to.display())))?;
    if !from.exists() {
        return Ok(());
    }
    for (relative, source) in files_under(from)? {
        let top = relative.components().next().map(|c| c.as_os_str());
        if top.is_some_and(|t| skip.iter().any(|s| t == *s)) {
            continue;
        }
        let target = to.join(&relative);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(BackupError::io(format!(
                "cannot create {}",
                parent.display()
            )))?;
        }
        std::fs::copy(&source, &target)
            .map_err(BackupError::io(format!("cannot copy {}", source.display())))?;
    }
    Ok(())
}

/// Every regular file under `root`, as (path relative to root, full path),
/// sorted; none when `root` does not exist (an archive without data dir
/// files has no `data/` folder). Symbolic links and other special files are
/// left out.
pub(super) fn files_under(root: &Path) -> Result<Vec<(PathBuf, PathBuf)>, BackupError> {
    let mut found = Vec::new();
    if !root.exists() {
        return Ok(found);
    }
    let mut folders = vec![root.to_path_buf()];
    while let Some(folder) = folders.pop() {
        let entries = std::fs::read_dir(&folder)
            .map_err(BackupError::io(format!("cannot read {}", folder.display())))?;
        for entry in entries {
            let entry =
                entry.map_err(BackupError::io(format!("cannot read {}", folder.display())))?;
            let kind = entry.file_type().map_err(BackupError::io(format!(
                "cannot read {}",
                entry.path().display()
            )))?;
            let path = entry.path();
            if kind.is_dir() {
                folders.push(path);
            } else if kind.is_file() {
                let relative = path.strip_prefix(root).expect("under root").to_path_buf();
                found.push((relative, path));
            }
        }
    }
    found.sort();
    Ok(found)
}

/// The archive name of a relative path: `/`-separated on every platform.
fn archive_name(relative: &Path) -> String {
    relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// Size and SHA-256 of one file.
pub(super) fn checksum(path: &Path) -> Result<FileEntry, BackupError> {
    let mut file =
        File::open(path).map_err(BackupError::io(format!("cannot read {}", path.display())))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut size = 0u64;
    loop {
        let n = file
            .read(&mut buf)
            .map_err(BackupError::io(format!("cannot read {}", path.display())))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        size += n as u64;
    }
    Ok(FileEntry {
        size,
        sha256: hex::encode(hasher.finalize()),
    })
}

/// The size and SHA-256 of every file under `root`, by archive name.
pub(super) fn checksums(root: &Path) -> Result<BTreeMap<String, FileEntry>, BackupError> {
    let mut sums = BTreeMap::new();
    for (relative, path) in files_under(root)? {
        sums.insert(archive_name(&relative), checksum(&path)?);
    }
    Ok(sums)
}

/// Writes `manifest.json` and every file of the manifest (found under
/// `root`) to `out` as a `.tar.gz`; returns its size. Written to
/// `{out}.partial`, synced, then renamed: `out` is never half a backup.
pub(super) fn write(root: &Path, manifest: &Manifest, out: &Path) -> Result<u64, BackupError> {
    let mut partial = out.as_os_str().to_owned();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    let cannot = || format!("cannot write the backup {}", partial.display());
    let file = File::create(&partial).map_err(BackupError::io(cannot()))?;
    let mut tar = tar::Builder::new(GzEncoder::new(BufWriter::new(file), Compression::fast()));
    let json = serde_json::to_vec_pretty(manifest).expect("a manifest serialises");
    let mut header = tar::Header::new_gnu();
    header.set_size(json.len() as u64);
    header.set_mode(0o600);
    header.set_mtime(jiff::Timestamp::now().as_second().max(0) as u64);
    tar.append_data(&mut header, MANIFEST, json.as_slice())
        .map_err(BackupError::io(cannot()))?;
    for name in manifest.files.keys() {
        let mut source = File::open(root.join(name)).map_err(BackupError::io(cannot()))?;
        tar.append_file(name, &mut source)
            .map_err(BackupError::io(cannot()))?;
    }
    let gz = tar.into_inner().map_err(BackupError::io(cannot()))?;
    let buffered = gz.finish().map_err(BackupError::io(cannot()))?;
    let file = buffered
        .into_inner()
        .map_err(|e| BackupError::io(cannot())(e.into_error()))?;
    file.sync_all().map_err(BackupError::io(cannot()))?;
    let bytes = file.metadata().map_err(BackupError::io(cannot()))?.len();
    drop(file);
    std::fs::rename(&partial, out).map_err(BackupError::io(format!(
        "cannot move the finished backup to {}",
        out.display()
    )))?;
    Ok(bytes)
}

/// Unpacks the archive `from` into `into` (entries that would land outside
/// it are refused by `tar`) and returns its manifest, not yet checked.
pub(super) fn unpack(from: &Path, into: &Path) -> Result<Manifest, BackupError> {
    let cannot = || format!("cannot read the backup {}", from.display());
    let file = File::open(from).map_err(BackupError::io(cannot()))?;
    let mut archive = tar::Archive::new(GzDecoder::new(file));
    let entries = archive.entries().map_err(BackupError::io(cannot()))?;
    for entry in entries {
        let mut entry = entry.map_err(BackupError::io(cannot()))?;
        if !entry.header().entry_type().is_file() {
            return Err(BackupError::Invalid(format!(
                "{} holds a {:?} entry; a frontdesk backup holds only files",
                from.display(),
                entry.header().entry_type()
            )));
        }
        entry.unpack_in(into).map_err(BackupError::io(cannot()))?;
    }
    let manifest = into.join(MANIFEST);
    let text = std::fs::read(&manifest).map_err(|_| {
        BackupError::Invalid(format!(
            "{} has no {MANIFEST}: it is not a frontdesk backup",
            from.display()
        ))
    })?;
    serde_json::from_slice(&text).map_err(|e| {
        BackupError::Invalid(format!(
            "{}'s {MANIFEST} is not a frontdesk manifest: {e}",
            from.display()
        ))
    })
}

/// Removes `path` if it exists (a file).
pub(super) fn remove_file_if_any(path: &Path) -> Result<(), BackupError> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(BackupError::io(format!("cannot remove {}", path.display()))(e)),
    }
}

/// Flushes a file's directory entry (after a rename into it).
pub(super) fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}
