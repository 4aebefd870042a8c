use super::{Context, Part, RuleMeta};
use crate::diagnostics::{Diagnostic, Level};
use crate::model::Located;

pub static META: RuleMeta = RuleMeta {
    name: "secret-with-two-sources",
    level: Level::Error,
    summary: "a password, key or secret gives more than one of a literal, `env=` and `file=`",
    fixable: false,
    docs: r#"## What it checks
A `password`, `private-key`, `certificate`, `client-secret` or `token` node that gives its value
in more than one way at once: a literal string together with `env="…"` or `file="…"`, or both
`env="…"` and `file="…"`.

## Why
A secret has one value: CSM's Password field holds one password for the account ("Password:
Provide the password for the email account"), and mailcfg's model of every secret is exactly
one of a literal, an environment variable or a file. With two sources only one can be used, and
nobody can tell from the file which one that is (the others are silently dropped on compile).
Source: CSM 10.4 documentation, "Define a global POP/IMAP account", Password; mailcfg's account
format (docs/format.md, secrets).

## Example
```kdl bad
account "Support" {
    protocol "imap"
    incoming {
        server "imap.example.com"
        security "ssl"
        user "support@example.com"
        password env="SUPPORT_PASSWORD" file="secrets/support.txt"
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
    conversation-id "subject"
}
system {
    conversation-prefix "ACME"
}
```
"#,
};

/// The ways a secret node can give its value, as written below the node: its argument (a
/// literal, lowered as `value` when the node also has properties) and its two references.
const SOURCES: [(&str, &str); 3] = [
    ("value", "a literal value"),
    ("env", "`env=`"),
    ("file", "`file=`"),
];

pub fn check(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    for acc in &cx.project.accounts {
        let owner = format!("account {:?}", acc.value.name);
        for rel in ["incoming/password", "outgoing/password"] {
            report(cx, acc, rel, &owner, out);
        }
    }
    for cred in &cx.project.credentials {
        let owner = format!("credential {:?}", cred.value.name);
        for rel in ["private-key", "certificate", "client-secret", "token"] {
            report(cx, cred, rel, &owner, out);
        }
    }
}

fn report<T>(
    cx: &Context<'_>,
    item: &Located<T>,
    rel: &str,
    owner: &str,
    out: &mut Vec<Diagnostic>,
) {
    // The fast path refuses a secret node with more than one source, so a file that took it
    // has none; asking its span table would build the table of every account for nothing.
    if cx.span_map(item.file).is_deferred() {
        return;
    }
    let given: Vec<&str> = SOURCES
        .iter()
        .filter(|(key, _)| cx.written(item, &format!("{rel}/{key}")))
        .map(|(_, what)| *what)
        .collect();
    if given.len() < 2 {
        return;
    }
    let node = rel.rsplit('/').next().unwrap_or(rel);
    // Names the sources only: a literal's value must never be printed.
    out.push(
        cx.diag(
            &META,
            item,
            rel,
            Part::Node,
            format!(
                "`{node}` of {owner} gives {}: a secret has one value",
                given.join(" and ")
            ),
        )
        .with_help(format!(
            "keep one: `{node} env=\"VARIABLE\"` or `{node} file=\"path\"` (or, discouraged, a literal)"
        )),
    );
}

#[cfg(test)]
mod tests {
    fn findings(secret_line: &str) -> Vec<String> {
        let text = format!(
            "account \"A\" {{\n    protocol \"imap\"\n    incoming {{\n        server \"imap.example.com\"\n        security \"ssl\"\n        user \"u@example.com\"\n        {secret_line}\n    }}\n    conversation-id \"subject\"\n}}\n"
        );
        crate::check(vec![crate::Input::text("/ws/a.kdl", text)])
            .diagnostics
            .iter()
            .filter(|d| d.rule == super::META.name)
            .map(|d| d.message.clone())
            .collect()
    }

    #[test]
    fn two_sources_on_one_secret_are_an_error_and_the_literal_is_not_printed() {
        let m = findings(r#"password "HunterSecret42" env="P""#);
        assert_eq!(
            m,
            ["`password` of account \"A\" gives a literal value and `env=`: a secret has one value"]
        );
        assert_eq!(findings(r#"password env="P" file="p.txt""#).len(), 1);
        assert_eq!(
            findings(r#"password "HunterSecret42" file="p.txt""#).len(),
            1
        );
        assert!(findings(r#"password env="P""#).is_empty());
        assert!(findings(r#"password file="p.txt""#).is_empty());
        assert!(findings(r#"password "HunterSecret42""#).is_empty());
    }
}
