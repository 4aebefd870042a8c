//! Reported by `policy::suppress`, which reads the suppression comments.

use super::RuleMeta;
use crate::diagnostics::Level;

pub static META: RuleMeta = RuleMeta {
    name: "unused-suppression",
    level: Level::Warning,
    summary: "a `mailcfg-ignore` comment suppresses nothing (or names no rule)",
    fixable: true,
    source: "mailcfg, docs/configuration.md (suppression comments)",
    docs: r#"## What it checks
A rule named in a suppression comment that did not suppress any finding: the problem was fixed,
the comment is not directly above the node it is meant for, the rule name is misspelt (a
did-you-mean is offered), or a `mailcfg-ignore-file` comment is not at the top of the file.
`mailcfg check --fix` corrects a misspelt name when exactly one rule is close to it
(`redundant-prot` → `redundant-port`), and otherwise deletes a stale comment that names a single
rule (the comment token with its indentation and line end, nothing else on the line).

## Why
A stale suppression silently switches the rule off for whatever is written there next, so a
new mistake at that place would go unreported.

## Example
```kdl bad
// mailcfg-ignore: auto-security reason="the old server had no TLS"
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
