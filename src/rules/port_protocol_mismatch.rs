use super::{sides, Context, Part, RuleMeta};
use crate::diagnostics::{Diagnostic, Level};
use crate::model::well_known_port;

pub static META: RuleMeta = RuleMeta {
    name: "port-protocol-mismatch",
    level: Level::Warning,
    summary: "the port belongs to another protocol (an IMAP account on a POP3 port, SMTP on the incoming server, …)",
    fixable: false,
    source: "CSM 10.4, \"Define Global POP or IMAP Account Settings\", steps 6c and 9c (POP 110/995, IMAP 143/993, SMTP 25/465); IANA Service Name and Transport Protocol Port Number Registry",
    docs: r#"## What it checks
A custom `port` that is the well-known port of a different protocol than the server it is set on:
- an IMAP account on a POP3 port (110, 995), or a POP account on an IMAP port (143, 993);
- an SMTP port (25, 465, 587) on the incoming server;
- a POP3 or IMAP port (110, 143, 993, 995) on the outgoing server.

## Why
The server on that port speaks another protocol: the login fails with a confusing protocol error
(an IMAP client reading a POP3 `+OK` greeting), which is hard to tell apart from a wrong
password. Almost always the port was copied from another account.

## Example
```kdl bad
account "Support" {
    protocol "imap"
    incoming {
        server "mail.example.com"
        security "ssl"
        port 995
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
        server "mail.example.com"
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

pub fn check(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    for acc in &cx.project.accounts {
        for side in sides(&acc.value) {
            let Some(port) = side.port else { continue };
            let Some(known) = well_known_port(port) else {
                continue;
            };
            if known.service == side.service {
                continue;
            }
            out.push(
                cx.diag(
                    &META,
                    acc,
                    &side.rel("port"),
                    Part::Value,
                    format!(
                        "port {port} is the {} port, but the {} server of account {:?} speaks {}",
                        known.service.display(),
                        side.block,
                        acc.value.name,
                        side.service.display()
                    ),
                )
                .with_help(format!(
                    "remove `port` to use the {} default ({}), or set the port the server really uses",
                    side.service.display(),
                    side.service.default_port(side.security())
                )),
            );
        }
    }
}
