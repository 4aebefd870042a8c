use super::{Context, Part, RuleMeta};
use crate::diagnostics::{Diagnostic, Level};

pub static META: RuleMeta = RuleMeta {
    name: "multiple-default-from",
    level: Level::Error,
    summary: "more than one From address is marked `default=#true`",
    fixable: false,
    source: "mailcfg file format: `default=#true` marks the one preselected From address (docs/format.md); the CSM page does not describe the From Settings page further",
    docs: r#"## What it checks
An account's `from` block with more than one `address … default=#true`.

## Why
In mailcfg's format `default=#true` marks the one preselected From address of the account
(docs/format.md); with several the file does not say which one is meant. (The CSM page does not
describe the From Settings page's controls, so this is a rule of the file format, not a quote
from CSM.)

## Example
```kdl bad
account "HR" {
    protocol "imap"
    available-to-users #true
    incoming {
        server "imap.example.com"
        security "ssl"
        user "hr@example.com"
        password env="HR_PASSWORD"
    }
    outgoing {
        server "smtp.example.com"
        security "ssl"
        auth "same-as-incoming"
    }
    from {
        address "Human Resources <hr@example.com>" default=#true
        address "recruiting@example.com" default=#true
    }
    lock credentials=#true
}
```

```kdl good
account "HR" {
    protocol "imap"
    available-to-users #true
    incoming {
        server "imap.example.com"
        security "ssl"
        user "hr@example.com"
        password env="HR_PASSWORD"
    }
    outgoing {
        server "smtp.example.com"
        security "ssl"
        auth "same-as-incoming"
    }
    from {
        address "Human Resources <hr@example.com>" default=#true
        address "recruiting@example.com"
    }
    lock credentials=#true
}
```
"#,
};

pub fn check(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    for acc in &cx.project.accounts {
        let Some(from) = &acc.value.from else {
            continue;
        };
        let mut defaults = from
            .address
            .iter()
            .enumerate()
            .filter(|(_, a)| a.default)
            .map(|(i, _)| i);
        let Some(first) = defaults.next() else {
            continue;
        };
        for i in defaults {
            out.push(
                cx.diag(
                    &META,
                    acc,
                    &format!("from/address/{i}/default"),
                    Part::Node,
                    format!(
                        "account {:?} has more than one default From address",
                        acc.value.name
                    ),
                )
                .with_related(
                    cx.label(acc, &format!("from/address/{first}/default"), Part::Node)
                        .with_text("first default here"),
                )
                .with_help("keep `default=#true` on one address only"),
            );
        }
    }
}
