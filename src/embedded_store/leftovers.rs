//! The files an ended upload leaves behind in `s3s-fs` 0.14.1, and their removal.
//!
//! `s3s-fs` keeps an upload's parts as `DATA_DIR/.upload_id-<id>.part-<n>` and the access key
//! that made it as `DATA_DIR/.upload-<id>.json`. A complete reads and removes only the parts it
//! names (S3 discards the others); a complete that fails after it has ended the upload (a part
//! under 5 MiB, a part never sent) leaves every part behind, and the object metadata file it
//! wrote first (`.bucket-B.object-K.metadata.json`) for an object it never made; and a part
//! whose upload ended while it was being sent lands after the end. After each call that names
//! an upload the front door lets `s3s` see, if the upload is no longer pending, it removes them.

use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::pending_uploads::Claim;

/// Whether `file_name` is one of the part files of upload `id`.
pub fn is_part_of(file_name: &str, id: &str) -> bool {
    file_name
        .strip_prefix(".upload_id-")
        .and_then(|rest| rest.strip_prefix(id))
        .is_some_and(|rest| rest.starts_with(".part-"))
}

/// The file `s3s-fs` keeps an object's metadata in, in its data directory.
pub fn object_metadata_file_name(bucket: &str, key: &str) -> String {
    format!(
        ".bucket-{}.object-{}.metadata.json",
        URL_SAFE_NO_PAD.encode(bucket),
        URL_SAFE_NO_PAD.encode(key)
    )
}

/// Removes what the ended upload `claim` left in `root`: its part files and owner file, and,
/// after a complete that failed, its object's metadata file if the object does not exist.
pub async fn remove(root: &Path, claim: &Claim, failed_complete: bool) {
    let mut names = vec![format!(".upload-{}.json", claim.id)];
    if failed_complete && !exists(&root.join(&claim.bucket).join(&claim.key)).await {
        names.push(object_metadata_file_name(&claim.bucket, &claim.key));
    }
    match tokio::fs::read_dir(root).await {
        Ok(mut entries) => {
            while let Ok(Some(entry)) = entries.next_entry().await {
                if let Some(name) = entry.file_name().to_str()
                    && is_part_of(name, &claim.id)
                {
                    names.push(name.to_owned());
                }
            }
        }
        Err(error) => tracing::warn!(%error, "development store: data directory not listed"),
    }
    for name in names {
        match tokio::fs::remove_file(root.join(&name)).await {
            Ok(()) => tracing::debug!(
                file = name,
                "development store: removed an ended upload's file"
            ),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => {
                tracing::warn!(%error, file = name, "development store: file not removed")
            }
        }
    }
}

async fn exists(path: &Path) -> bool {
    tokio::fs::symlink_metadata(path).await.is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "0b8c4e64-2d1f-4c55-9a3e-6f1d2c3b4a59";

    #[test]
    fn the_part_files_are_named_as_s3s_fs_names_them() {
        // s3s-fs 0.14.1 src/fs.rs `resolve_upload_part_path`.
        assert!(is_part_of(&format!(".upload_id-{ID}.part-1"), ID));
        assert!(is_part_of(&format!(".upload_id-{ID}.part-10000"), ID));
        for other in [
            format!(".upload-{ID}.json"),
            format!(".upload_id-{ID}"),
            format!(".upload_id-{ID}x.part-1"),
            ".upload_id-0b8c4e64-2d1f-4c55-9a3e-6f1d2c3b4a5.part-1".to_owned(),
            format!("x.upload_id-{ID}.part-1"),
        ] {
            assert!(!is_part_of(&other, ID), "{other}");
        }
        // s3s-fs 0.14.1 src/fs.rs `get_metadata_path` without an upload id.
        assert_eq!(
            object_metadata_file_name("local", "a/b c.txt"),
            ".bucket-bG9jYWw.object-YS9iIGMudHh0.metadata.json"
        );
    }

    #[tokio::test]
    async fn an_ended_upload_leaves_nothing() {
        let root = std::env::temp_dir().join(format!("leftovers-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("local")).unwrap();
        let other = "1b8c4e64-2d1f-4c55-9a3e-6f1d2c3b4a59";
        let kept = [
            format!(".upload_id-{other}.part-1"),
            object_metadata_file_name("local", "made"),
        ];
        let claim = |key: &str| Claim {
            bucket: "local".into(),
            key: key.into(),
            id: ID.into(),
        };
        for name in kept.iter().cloned().chain([
            format!(".upload_id-{ID}.part-1"),
            format!(".upload_id-{ID}.part-3"),
            format!(".upload-{ID}.json"),
            object_metadata_file_name("local", "never-made"),
        ]) {
            std::fs::write(root.join(name), b"x").unwrap();
        }
        std::fs::write(root.join("local/made"), b"object").unwrap();
        remove(&root, &claim("made"), true).await;
        remove(&root, &claim("never-made"), true).await;
        let mut left: Vec<String> = std::fs::read_dir(&root)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        let mut expected = vec!["local".to_owned()];
        expected.extend(kept);
        expected.sort();
        assert_eq!(left, expected);
        std::fs::remove_dir_all(&root).unwrap();
    }
}
