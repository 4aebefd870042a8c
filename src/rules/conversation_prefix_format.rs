use super::{Context, Part, RuleMeta};
use crate::diagnostics::{Diagnostic, Level};

pub static META: RuleMeta = RuleMeta {
    name: "conversation-prefix-format",
    level: Level::Error,
    summary: "the conversation ID prefix is not 2–8 letters or digits",
    fixable: false,
    source: "CSM 10.4, \"History Attachment Options\" (the Conversation ID prefix, 2–8 characters), referred to by the introduction of CSM 10.4, \"Define Global POP or IMAP Account Settings\" (\"set this value in the History Attachment Options\")",
    docs: r#"## What it checks
`system { conversation-prefix "…" }` whose value is not 2 to 8 ASCII letters or digits.

## Why
CSM adds `{CMI: PREFIX1234}` to outgoing mail and finds it again in replies to attach them to the
right record. It accepts a prefix of 2–8 alphanumeric characters only; other characters
(spaces, hyphens, braces) would also break the matching of replies.

## Example
```kdl bad
system {
    conversation-prefix "ACME-IT"
}
```

```kdl good
system {
    conversation-prefix "ACMEIT"
}
```
"#,
};

pub fn check(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    for sys in &cx.project.systems {
        let Some(prefix) = &sys.value.conversation_prefix else {
            continue;
        };
        let n = prefix.chars().count();
        let bad = prefix.chars().find(|c| !c.is_ascii_alphanumeric());
        let message = match (bad, n) {
            (Some(c), _) => format!("conversation prefix {prefix:?} contains {c:?}; only letters and digits are allowed"),
            (None, n) if !(2..=8).contains(&n) => format!("conversation prefix {prefix:?} has {n} characters; it must have 2 to 8"),
            _ => continue,
        };
        out.push(
            cx.diag(&META, sys, "conversation-prefix", Part::Value, message)
                .with_help("use 2–8 letters or digits, e.g. \"ACME\""),
        );
    }
}
