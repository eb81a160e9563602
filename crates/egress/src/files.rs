//! The files a subscription may name (TLS stores, JWT keys): only under the folder the operator names.

use std::path::{Path, PathBuf};

use crate::EgressPolicy;

impl EgressPolicy {
    /// The file `path` names, resolved (links and `..` followed), when it lies under the operator's
    /// `egress.subscription_files_dir`; why not otherwise.
    pub fn confine_file(&self, path: &str) -> Result<PathBuf, String> {
        let Some(dir) = &self.files_dir else {
            return Err("subscriptions may name files only under the gateway's egress.subscription_files_dir, \
                        which is not set; give the content instead"
                .to_string());
        };
        let outside = || format!("`{path}` is not under the gateway's egress.subscription_files_dir");
        let root = dir.canonicalize().map_err(|error| format!("egress.subscription_files_dir: {error}"))?;
        let requested = Path::new(path);
        let resolved = if requested.is_absolute() { requested.to_path_buf() } else { root.join(requested) };
        let resolved = resolved.canonicalize().map_err(|error| match resolved.starts_with(&root) {
            true => format!("`{path}`: {error}"),
            false => outside(),
        })?;
        if resolved.starts_with(&root) {
            Ok(resolved)
        } else {
            Err(outside())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_read_only_under_the_folder() {
        let root = std::env::temp_dir().join(format!("egress-files-{}", std::process::id()));
        std::fs::create_dir_all(root.join("certs")).unwrap();
        std::fs::write(root.join("certs/ca.pem"), "x").unwrap();
        let policy = EgressPolicy::new(&[] as &[&str], Some(root.clone())).unwrap();
        let inside = root.canonicalize().unwrap().join("certs/ca.pem");
        assert_eq!(policy.confine_file(inside.to_str().unwrap()), Ok(inside.clone()));
        assert_eq!(policy.confine_file("certs/ca.pem"), Ok(inside), "relative to the folder");
        assert!(policy.confine_file("/etc/passwd").unwrap_err().contains("not under"));
        assert!(policy.confine_file("certs/../../../etc/passwd").unwrap_err().contains("not under"));
        let closed = EgressPolicy::default().confine_file("certs/ca.pem").unwrap_err();
        assert!(closed.contains("egress.subscription_files_dir, which is not set"), "{closed}");
        std::fs::remove_dir_all(root).unwrap();
    }
}
