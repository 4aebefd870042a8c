//! Reading `env=` and `file=` secrets for `--resolve-secrets`. Errors describe the reference and
//! the problem, never the value (they are built before any value is known, or from its length).

use std::io::Read;
use std::path::Path;

use super::store::SecretRef;
use crate::model::Secret;
use crate::source::io_message;

/// Secrets are short; a larger file is almost certainly the wrong path.
const MAX_SECRET_BYTES: u64 = 1024 * 1024;

/// The reference a secret is written as, or `Err` with the value of a literal.
pub fn reference(secret: &Secret) -> Result<SecretRef, &str> {
    match secret {
        Secret::Literal(v) => Err(v),
        Secret::Env { env } => Ok(SecretRef::Env {
            env: env.to_string(),
        }),
        Secret::File { file } => Ok(SecretRef::File {
            file: file.to_string(),
        }),
    }
}

/// The secret's value: a literal as written, a reference read from the environment or a file
/// (relative to `dir`).
pub fn value(secret: &Secret, dir: &Path) -> Result<String, String> {
    reference(secret).map_or_else(|literal| Ok(literal.to_string()), |r| resolve(&r, dir))
}

pub fn resolve(reference: &SecretRef, dir: &Path) -> Result<String, String> {
    match reference {
        SecretRef::Env { env } => match std::env::var_os(env) {
            None => Err(format!("environment variable {env} is not set")),
            Some(v) if v.is_empty() => Err(format!("environment variable {env} is empty")),
            Some(v) => v
                .into_string()
                .map_err(|_| format!("environment variable {env} is not valid UTF-8")),
        },
        SecretRef::File { file } => {
            let path = dir.join(file);
            let shown = path.display();
            let f = std::fs::File::open(&path)
                .map_err(|e| format!("cannot read {shown}: {}", io_message(&e)))?;
            let mut bytes = Vec::new();
            f.take(MAX_SECRET_BYTES + 1)
                .read_to_end(&mut bytes)
                .map_err(|e| format!("cannot read {shown}: {}", io_message(&e)))?;
            if bytes.len() as u64 > MAX_SECRET_BYTES {
                return Err(format!("{shown} is larger than 1 MiB; not a secret file?"));
            }
            let mut text = String::from_utf8(bytes).map_err(|_| {
                format!("{shown} is not UTF-8 text (store binary keys PEM- or base64-encoded)")
            })?;
            if text.ends_with('\n') {
                text.pop();
                if text.ends_with('\r') {
                    text.pop();
                }
            }
            if text.is_empty() {
                return Err(format!("{shown} is empty"));
            }
            Ok(text)
        }
    }
}
