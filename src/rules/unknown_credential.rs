use super::{sides, Context, Part, RuleMeta};
use crate::diagnostics::{Diagnostic, Level};
use crate::schema::did_you_mean;

pub static META: RuleMeta = RuleMeta {
    name: "unknown-credential",
    level: Level::Error,
    summary: "a `credential` reference names no defined credential",
    fixable: false,
    source: "CSM 10.4, \"Define Global POP or IMAP Account Settings\", step 7c (\"Select the Google credential you want to use\", E-mail Credentials Manager)",
    docs: r#"## What it checks
`credential "name"` inside `incoming` or `outgoing` when no top-level `credential "name"` exists
in any file of the project. An empty reference (`credential ""`) is `empty-value`'s finding,
not this rule's.

## Why
The account cannot authenticate: CSM needs the credential record the account points to.
References resolve across files, so the credential may live in its own file.

## Example
```kdl bad
account "Support" {
    protocol "imap"
    incoming {
        server "imap.gmail.com"
        security "ssl"
        user "support@example.com"
        credential "google-suport"
    }
    outgoing {
        server "smtp.gmail.com"
        security "ssl"
        auth "same-as-incoming"
    }
    conversation-id "subject"
}
system {
    conversation-prefix "ACME"
}
credential "google-support" {
    type "google"
    service-account "mail@project.iam.gserviceaccount.com"
    private-key file="secrets/google-support.json"
}
```

```kdl good
account "Support" {
    protocol "imap"
    incoming {
        server "imap.gmail.com"
        security "ssl"
        user "support@example.com"
        credential "google-support"
    }
    outgoing {
        server "smtp.gmail.com"
        security "ssl"
        auth "same-as-incoming"
    }
    conversation-id "subject"
}
system {
    conversation-prefix "ACME"
}
credential "google-support" {
    type "google"
    service-account "mail@project.iam.gserviceaccount.com"
    private-key file="secrets/google-support.json"
}
```
"#,
};

pub fn check(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let names: Vec<&str> = cx
        .project
        .credentials
        .iter()
        .map(|c| c.value.name.as_str())
        .collect();
    for acc in &cx.project.accounts {
        for side in sides(&acc.value) {
            let Some(name) = side.credential else {
                continue;
            };
            // `credential ""` names nothing: `empty-value` reports it, one finding for one
            // problem.
            if cx.credential(name).is_some() || name.is_empty() {
                continue;
            }
            let mut d = cx.diag(
                &META,
                acc,
                &side.rel("credential"),
                Part::Value,
                format!("credential {name:?} is not defined in any checked file"),
            );
            d = match did_you_mean(name, names.iter().copied()) {
                Some(s) => {
                    let def = cx.credential(s).expect("suggested from the list");
                    d.with_help(format!("did you mean {s:?}?"))
                        .with_related(cx.label(def, "name", Part::Value).with_text("defined here"))
                }
                None if names.is_empty() => d.with_help(
                    "define it with a top-level `credential \"name\" { type \"google\" … }` node",
                ),
                None => d.with_help(format!("defined credentials: {}", names.join(", "))),
            };
            out.push(d);
        }
    }
}
