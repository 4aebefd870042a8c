//! Compiling a checked tree into the deployable store (see docs/compile.md).
//!
//! Every default is resolved here through the model's own methods, so the store and `check`
//! can never disagree about what an account means.

pub mod diff;
pub mod effective;
pub(crate) mod secrets;
pub mod store;
pub mod write;

use std::path::{Component, Path, PathBuf};

use crate::diagnostics::{Diagnostic, Label, Level};
use crate::model::{
    self, Account, AuthMode, ConversationId, Credential, Located, Padlocks, Secret, TrustedAgent,
};
use crate::pipeline::Checked;
use crate::rules::Part;
use crate::source;
use crate::workspace::{Verdict, Workspace};

pub use store::Store;
use store::*;

/// More than one `system` node across the tree: the store could hold only one of them. `check`
/// reports it (see [`crate::facts`]); compile keeps its own guard for a caller that compiles a
/// tree without checking it.
pub use crate::facts::MULTIPLE_SYSTEM;
pub use crate::registry::builtin::{SECRET_UNRESOLVED, STORE_INLINE_SECRET};

#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Copy literal secrets into the store instead of refusing them.
    pub allow_inline_secrets: bool,
    /// Read `env=` / `file=` secrets now and put their values into the store.
    pub resolve_secrets: bool,
    /// Source paths in the store are relative to this directory (see [`common_base`]).
    pub base: PathBuf,
}

/// `mailcfg compile` over a planned workspace: the verdict of `mailcfg check` on the same paths,
/// and the store (or compile's own problems) when no reported finding is at or above
/// `threshold` and every file was read. `None` means check's verdict blocked it: compile writes
/// exactly when check passes. `paths` are the named paths (the store's paths are relative to
/// their common base, widened by any project file a referenced credential came from);
/// `opts.base` is computed here.
pub fn compile_workspace(
    workspace: &Workspace,
    paths: &[PathBuf],
    opts: &Options,
    threshold: Level,
) -> (Verdict, Option<Result<Store, Vec<Diagnostic>>>) {
    let mut verdict = workspace.check();
    if verdict.has_io_errors() || verdict.fails_at(threshold) {
        return (verdict, None);
    }
    verdict.checked.project = verdict.reported_project();
    let checked = &verdict.checked;
    let mut based: Vec<PathBuf> = paths.to_vec();
    based.extend(
        checked
            .project
            .credentials
            .iter()
            .filter(|c| !verdict.is_reported(c.file))
            .map(|c| checked.sources.get(c.file).path.clone()),
    );
    let opts = Options {
        base: common_base(&based),
        ..opts.clone()
    };
    // Only a clean tree is compiled, so compile's own findings never repeat a check error.
    let compiled = compile(checked, &opts);
    (verdict, Some(compiled))
}

/// The store for a checked tree, or the diagnostics that prevent writing one. The caller has
/// already refused trees with check errors; these are the problems only compiling can find.
pub fn compile(checked: &Checked, opts: &Options) -> Result<Store, Vec<Diagnostic>> {
    let mut cx = Cx {
        checked,
        opts,
        diagnostics: Vec::new(),
    };
    let prefix = cx.system_prefix();
    let mut accounts: Vec<StoreAccount> = checked
        .project
        .accounts
        .iter()
        .filter_map(|a| cx.account(a, prefix.as_deref()))
        .collect();
    let mut credentials: Vec<StoreCredential> = checked
        .project
        .credentials
        .iter()
        .map(|c| cx.credential(c))
        .collect();
    // Name first; file and line only break ties a rule configuration may have let through.
    accounts.sort_by(|a, b| {
        (&a.name, &a.source.file, a.source.line).cmp(&(&b.name, &b.source.file, b.source.line))
    });
    credentials.sort_by(|a, b| {
        (&a.name, &a.source.file, a.source.line).cmp(&(&b.name, &b.source.file, b.source.line))
    });
    if !cx.diagnostics.is_empty() {
        return Err(cx.diagnostics);
    }
    Ok(Store::new(
        accounts,
        credentials,
        StoreSystem {
            conversation_prefix: prefix,
        },
    ))
}

struct Cx<'a> {
    checked: &'a Checked,
    opts: &'a Options,
    diagnostics: Vec<Diagnostic>,
}

impl Cx<'_> {
    fn system_prefix(&mut self) -> Option<String> {
        let systems = &self.checked.project.systems;
        if systems.len() > 1 {
            // Which one wins would depend on the order files were found in: refuse instead.
            let mut sorted: Vec<&Located<model::System>> = systems.iter().collect();
            sorted.sort_by_key(|s| self.source_ref(s));
            let first = self.label(sorted[0], "");
            for extra in &sorted[1..] {
                self.diagnostics.push(
                    Diagnostic::new(
                        MULTIPLE_SYSTEM,
                        Level::Error,
                        self.label(extra, "").with_text("another `system` node"),
                        "more than one `system` node in the tree; the store can hold only one",
                    )
                    .with_related(first.clone().with_text("first `system` node"))
                    .with_help("merge the `system` nodes into one file"),
                );
            }
        }
        self.checked
            .project
            .system()
            .and_then(|s| s.conversation_prefix.as_deref().map(String::from))
    }

    /// `None` (with a diagnostic) for an account the store cannot hold.
    fn account(
        &mut self,
        located: &Located<Account>,
        prefix: Option<&str>,
    ) -> Option<StoreAccount> {
        let a = &located.value;
        let Some(o) = &a.outgoing else {
            // Reached only when `outgoing-server-missing` is allowed in mailcfg.kdl: CSM needs
            // the outgoing server (step 12), and so does every account of the store.
            self.diagnostics.push(
                Diagnostic::new(
                    crate::rules::static_name("outgoing-server-missing")
                        .expect("a registered rule"),
                    Level::Error,
                    self.label(located, "name"),
                    format!(
                        "account {:?} has no outgoing server; the store needs one",
                        a.name
                    ),
                )
                .with_help("add an `outgoing { server \"…\" }` block")
                .with_path(self.kdl_path(located, "")),
            );
            return None;
        };
        let inc = &a.incoming;
        let incoming = StoreIncoming {
            server: inc.server.to_string(),
            security: inc.security(),
            port: inc.effective_port(a.protocol),
            authentication: if inc.credential.is_some() {
                IncomingAuth::Credential
            } else if inc.password.is_some() {
                IncomingAuth::Password
            } else {
                IncomingAuth::None
            },
            user: inc.user.as_deref().map(String::from),
            password: self.secret(
                located,
                "incoming/password",
                inc.password.as_ref(),
                &format!("account {:?} incoming password", a.name),
            ),
            credential: inc.credential.as_deref().map(String::from),
            mailbox: inc.effective_mailbox(a.protocol).map(str::to_string),
            lock: store_lock(a.incoming_lock()),
        };
        // A login given without `auth "log-on"` is ignored by CSM (`outgoing-login-ignored`), so
        // the deploy job never sees one next to an `auth` that does not use it.
        let log_on = o.auth() == AuthMode::LogOn;
        let outgoing = StoreOutgoing {
            server: o.server.to_string(),
            security: o.security(),
            port: o.effective_port(),
            auth: o.auth(),
            user: o.user.as_deref().map(String::from).filter(|_| log_on),
            password: self.secret(
                located,
                "outgoing/password",
                o.password.as_ref().filter(|_| log_on),
                &format!("account {:?} outgoing password", a.name),
            ),
            credential: o.credential.as_deref().map(String::from).filter(|_| log_on),
            lock: store_lock(a.outgoing_lock()),
        };
        let placement = match a.conversation_id {
            Some(ConversationId::Subject) => IdPlacement::Subject,
            Some(ConversationId::Body) => IdPlacement::Body,
            None => IdPlacement::None,
        };
        let from = a.from.clone().unwrap_or_default();
        let mut out = StoreAccount {
            name: a.name.to_string(),
            source: self.source_ref(located),
            digest: String::new(),
            protocol: a.protocol,
            available_to_users: a.available_to_users,
            incoming,
            outgoing,
            conversation_id: StoreConversationId {
                placement,
                prefix: match placement {
                    IdPlacement::None => None,
                    _ => prefix.map(str::to_string),
                },
            },
            from: StoreFrom {
                allow_user_address: from.allow_user_address,
                allow_arbitrary: from.allow_arbitrary,
                addresses: from
                    .address
                    .iter()
                    .map(|ad| StoreAddress {
                        address: ad.value.to_string(),
                        default: ad.default,
                    })
                    .collect(),
            },
            trusted_agent: a.trusted_agent.as_ref().map(|t| match t {
                TrustedAgent::Any(_) => StoreTrustedAgent::Any,
                TrustedAgent::Group { group } => StoreTrustedAgent::Group {
                    group: group.to_string(),
                },
            }),
        };
        out.digest = digest_of(&out);
        Some(out)
    }

    fn credential(&mut self, located: &Located<Credential>) -> StoreCredential {
        let c = &located.value;
        let what = |field: &str| format!("credential {:?} {field}", c.name);
        let mut out = StoreCredential {
            name: c.name.to_string(),
            source: self.source_ref(located),
            digest: String::new(),
            kind: c.kind,
            service_account: c.service_account.as_deref().map(String::from),
            private_key: self.secret(
                located,
                "private-key",
                c.private_key.as_ref(),
                &what("private-key"),
            ),
            certificate: self.secret(
                located,
                "certificate",
                c.certificate.as_ref(),
                &what("certificate"),
            ),
            tenant_id: c.tenant_id.as_deref().map(String::from),
            client_id: c.client_id.as_deref().map(String::from),
            client_secret: self.secret(
                located,
                "client-secret",
                c.client_secret.as_ref(),
                &what("client-secret"),
            ),
        };
        out.digest = digest_of(&out);
        out
    }

    /// The store form of one secret. `what` names it in errors, e.g. `account "X" incoming
    /// password`: the account and the field, never the value.
    fn secret<T>(
        &mut self,
        item: &Located<T>,
        rel: &str,
        secret: Option<&Secret>,
        what: &str,
    ) -> Option<StoreSecret> {
        let secret = secret?;
        let reference = match secrets::reference(secret) {
            Err(value) => {
                if self.opts.allow_inline_secrets {
                    return Some(StoreSecret::Inline {
                        value: value.to_string(),
                    });
                }
                self.diagnostics.push(
                    Diagnostic::new(
                        STORE_INLINE_SECRET,
                        Level::Error,
                        self.label(item, rel).with_text("literal secret"),
                        format!("{what} is a literal secret; it is not copied into the store"),
                    )
                    .with_help("reference it with env=\"VARIABLE\" or file=\"path\", or pass --allow-inline-secrets to copy it into the store")
                    .with_path(self.kdl_path(item, rel)),
                );
                return None;
            }
            Ok(reference) => reference,
        };
        if !self.opts.resolve_secrets {
            return Some(match reference {
                SecretRef::Env { env } => StoreSecret::Env { env },
                SecretRef::File { file } => StoreSecret::File { file },
            });
        }
        let dir = self.checked.sources.get(item.file).dir();
        match secrets::resolve(&reference, &dir) {
            Ok(value) => Some(StoreSecret::Resolved {
                value,
                resolved_from: reference,
            }),
            Err(problem) => {
                self.diagnostics.push(
                    Diagnostic::new(
                        SECRET_UNRESOLVED,
                        Level::Error,
                        self.label(item, rel).with_text("cannot be resolved"),
                        format!("cannot resolve {what} ({}): {problem}", secret.redacted()),
                    )
                    .with_help(match reference {
                        SecretRef::Env { .. } => "set the variable in the environment that runs `mailcfg compile --resolve-secrets`",
                        SecretRef::File { .. } => "relative paths are relative to the directory of the account file; check the path and its permissions",
                    })
                    .with_path(self.kdl_path(item, rel)),
                );
                None
            }
        }
    }

    fn source_ref<T>(&self, item: &Located<T>) -> SourceRef {
        let file = self.checked.sources.get(item.file);
        let start = self.checked.context().span(item, "", Part::Node).start;
        let (line, _) = file.line_col(start);
        SourceRef {
            file: relative_path(&file.path, &self.opts.base),
            line: line as u32,
        }
    }

    fn label<T>(&self, item: &Located<T>, rel: &str) -> Label {
        self.checked.context().label(item, rel, Part::Node)
    }

    fn kdl_path<T>(&self, item: &Located<T>, rel: &str) -> String {
        self.checked.context().kdl_path(item, rel)
    }
}

fn store_lock(p: Padlocks) -> StoreLock {
    StoreLock {
        server: p.server,
        credentials: p.credentials,
    }
}

/// The deepest directory containing every given path (a file counts by its directory). Source
/// paths in the store are relative to it, so the store is the same whatever the working
/// directory, the machine, or whether a tree was named as a directory or as its files.
pub fn common_base(paths: &[PathBuf]) -> PathBuf {
    let mut base: Option<PathBuf> = None;
    for p in paths {
        let n = source::absolute(p);
        let dir = if n.is_dir() {
            n
        } else {
            n.parent().map(Path::to_path_buf).unwrap_or(n)
        };
        base = Some(match base {
            None => dir,
            Some(b) => {
                let mut common = PathBuf::new();
                for (x, y) in b.components().zip(dir.components()) {
                    if x != y {
                        break;
                    }
                    common.push(x);
                }
                common
            }
        });
    }
    base.unwrap_or_default()
}

/// `path` relative to `base`, with forward slashes.
pub fn relative_path(path: &Path, base: &Path) -> String {
    let n = source::absolute(path);
    let Ok(rel) = n.strip_prefix(base) else {
        return n.to_string_lossy().replace('\\', "/");
    };
    let parts: Vec<String> = rel
        .components()
        .filter_map(|c| match c {
            Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect();
    parts.join("/")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{check, Input};
    use proptest::prelude::*;

    #[test]
    fn paths_are_relative_to_the_common_base_with_forward_slashes() {
        let base = common_base(&[
            PathBuf::from("/repo/accounts/team/a.kdl"),
            PathBuf::from("/repo/accounts/./other/../b.kdl"),
        ]);
        assert_eq!(base, PathBuf::from("/repo/accounts"));
        assert_eq!(
            relative_path(Path::new("/repo/accounts/team/a.kdl"), &base),
            "team/a.kdl"
        );
        assert_eq!(
            relative_path(Path::new("/repo/accounts/other/../b.kdl"), &base),
            "b.kdl"
        );
        // Outside the base (not reachable from the CLI): kept whole rather than mangled.
        assert_eq!(
            relative_path(Path::new("/elsewhere/c.kdl"), &base),
            "/elsewhere/c.kdl"
        );
    }

    const FILES: &[(&str, &str)] = &[
        ("t/a.kdl", "account \"B\" {\n protocol \"imap\"\n incoming { server \"b.example.com\"; user \"b\"; password env=\"B\"; }\n outgoing { server \"smtp.example.com\"; security \"tls\"; }\n}\n"),
        ("t/b.kdl", "account \"A\" {\n protocol \"pop\"\n incoming { server \"a.example.com\"; user \"a\"; password env=\"A\"; }\n outgoing { server \"smtp.example.com\"; security \"tls\"; }\n}\ncredential \"c\" {\n type \"google\"\n service-account \"s@x\"\n private-key env=\"K\"\n}\n"),
        ("t/s/c.kdl", "account \"C\" {\n protocol \"imap\"\n incoming { server \"c.example.com\"; credential \"c\"; user \"u\"; }\n outgoing { server \"smtp.example.com\"; security \"tls\"; }\n conversation-id \"body\"\n}\n"),
        ("t/d.kdl", "system { conversation-prefix \"AB\"; }\n"),
        ("t/e.kdl", "account \"aa\" {\n protocol \"imap\"\n incoming { server \"lower.example.com\"; user \"l\"; password env=\"L\"; }\n outgoing { server \"smtp.example.com\"; security \"tls\"; }\n}\n"),
    ];

    fn compile_in(order: &[usize]) -> Vec<u8> {
        let inputs = order
            .iter()
            .map(|&i| Input::text(FILES[i].0, FILES[i].1))
            .collect();
        let checked = check(inputs);
        assert!(
            !checked.diagnostics.iter().any(|d| d.level == Level::Error),
            "{:?}",
            checked.diagnostics
        );
        let opts = Options {
            base: common_base(&[PathBuf::from("t")]),
            ..Options::default()
        };
        compile(&checked, &opts).expect("compiles").to_bytes()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn any_input_order_gives_the_same_bytes(
            order in Just((0..FILES.len()).collect::<Vec<_>>()).prop_shuffle()
        ) {
            prop_assert_eq!(compile_in(&order), compile_in(&[0, 1, 2, 3, 4]));
        }
    }
}
