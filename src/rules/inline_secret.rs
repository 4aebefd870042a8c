use super::{Context, Part, RuleMeta};
use crate::diagnostics::{Diagnostic, Level};
use crate::model::{Located, Secret};

pub static META: RuleMeta = RuleMeta {
    name: "inline-secret",
    level: Level::Warning,
    summary: "a password, key or secret is written literally in the file",
    fixable: false,
    source: "OWASP Secrets Management Cheat Sheet; CWE-798 (Use of Hard-coded Credentials)",
    docs: r#"## What it checks
A `password`, `private-key`, `certificate`, `client-secret` or `token` given as a literal string
instead of `env="VARIABLE"` or `file="path"`.

## Why
Account files live in git: a literal secret is readable by everyone with access to the
repository, stays in its history forever, and ends up in CI logs and review tools. mailcfg
never prints it (output shows `********` in its place, whatever its length), but the file
itself still contains it. Reference it from the environment or a secrets file instead, and
rotate the secret if it was ever committed.

## Example
```kdl bad
account "Support" {
    protocol "imap"
    incoming {
        server "imap.example.com"
        security "ssl"
        user "support@example.com"
        password "correct horse battery staple"
    }
    outgoing {
        server "smtp.example.com"
        security "ssl"
        auth "same-as-incoming"
    }
    conversation-id "subject"
}
system {
    conversation-prefix "ACME"
}
```

```kdl good
account "Support" {
    protocol "imap"
    incoming {
        server "imap.example.com"
        security "ssl"
        user "support@example.com"
        password env="SUPPORT_PASSWORD"
    }
    outgoing {
        server "smtp.example.com"
        security "ssl"
        auth "same-as-incoming"
    }
    conversation-id "subject"
}
system {
    conversation-prefix "ACME"
}
```
"#,
};

fn literal(s: &Option<Secret>) -> bool {
    s.as_ref().is_some_and(Secret::is_literal)
}

pub fn check(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    for acc in &cx.project.accounts {
        let a = &acc.value;
        let found = [
            ("incoming/password", literal(&a.incoming.password)),
            (
                "outgoing/password",
                a.outgoing.as_ref().is_some_and(|o| literal(&o.password)),
            ),
        ];
        report(cx, acc, &found, || format!("account {:?}", a.name), out);
    }
    for cred in &cx.project.credentials {
        let c = &cred.value;
        let found = [
            ("private-key", literal(&c.private_key)),
            ("certificate", literal(&c.certificate)),
            ("client-secret", literal(&c.client_secret)),
            ("token", literal(&c.token)),
        ];
        report(cx, cred, &found, || format!("credential {:?}", c.name), out);
    }
}

fn report<T>(
    cx: &Context<'_>,
    item: &Located<T>,
    found: &[(&str, bool)],
    owner: impl Fn() -> String,
    out: &mut Vec<Diagnostic>,
) {
    for (rel, is_literal) in found {
        if !is_literal {
            continue;
        }
        let owner = owner();
        let node = rel.rsplit('/').next().unwrap_or(rel);
        // The message names the node only: the value itself must never be printed.
        out.push(
            cx.diag(
                &META,
                item,
                rel,
                Part::Value,
                format!("`{node}` of {owner} is written literally in the file"),
            )
            .with_help(format!(
                "use `{node} env=\"VARIABLE\"` or `{node} file=\"path\"`, and rotate the secret if it was committed"
            )),
        );
    }
}
