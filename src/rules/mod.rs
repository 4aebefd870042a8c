//! The rule registry. Each rule lives in its own file with its documentation; adding a rule is
//! one new file plus one line in [`ALL`].

use crate::diagnostics::{Diagnostic, Edit, Label, Level, Span};
use crate::lower::FastMap;
use crate::lower::SpanMap;
use crate::model::{
    Account, Address, AuthMode, Credential, Incoming, Located, Project, Secret, Security, Service,
};
use crate::source::{FileId, Sources};
use from_addresses::{FromAddress, FromAddresses};
use std::sync::OnceLock;

pub mod text;

mod from_addresses;
pub mod keys;

mod arbitrary_from_allowed;
mod auto_security;
mod certificate_not_verified;
mod cleartext_credentials;
mod conversation_id_off_for_monitor;
mod conversation_prefix_format;
mod conversation_prefix_missing;
mod credential_incomplete;
mod duplicate_account_name;
mod duplicate_from_address;
mod duplicate_mailbox_watch;
mod empty_value;
mod from_domain_mismatch;
mod google_password_auth;
mod inline_secret;
mod invalid_from_address;
mod locked_blank_credentials;
mod mailbox_imap_only;
mod microsoft_basic_auth;
mod monitor_needs_credentials;
mod multiple_default_from;
mod no_from_address;
mod office365_credential_on_pop_imap;
mod outgoing_login_ignored;
mod outgoing_server_missing;
mod padded_value;
mod password_with_credential;
mod port_protocol_mismatch;
mod port_security_mismatch;
mod redundant_port;
mod security_imap_only;
mod server_not_hostname;
mod server_settings_unlocked;
mod shared_credentials_unlocked;
mod smtp_auth_on_relay_port;
mod smtp_log_on_incomplete;
mod smtp_same_as_incoming_empty;
mod smtp_security_unsupported;
mod smtp_submission_without_auth;
pub mod suppression_without_reason;
mod unknown_credential;
mod unused_credential;
pub mod unused_suppression;

/// What users see of a rule: its stable name, default level and documentation (Markdown with
/// "## What it checks", "## Why" and a ```` ```kdl bad ```` and a ```` ```kdl good ```` example,
/// both executed by the tests).
#[derive(Debug)]
pub struct RuleMeta {
    pub name: &'static str,
    pub level: Level,
    pub summary: &'static str,
    /// Whether the rule attaches a fix that `mailcfg check --fix` applies.
    pub fixable: bool,
    /// What the rule rests on: the CSM page and step, an RFC section, or another exact source.
    pub source: &'static str,
    pub docs: &'static str,
}

impl RuleMeta {
    /// The ```` ```kdl bad ```` (`kind = "bad"`) or ```` ```kdl good ```` example of the docs.
    pub fn example(&self, kind: &str) -> Option<&'static str> {
        let fence = format!("```kdl {kind}\n");
        let start = self.docs.find(&fence)? + fence.len();
        let len = self.docs[start..].find("```")?;
        Some(&self.docs[start..start + len])
    }
}

pub type CheckFn = fn(&Context<'_>, &mut Vec<Diagnostic>);

pub struct Rule {
    pub meta: &'static RuleMeta,
    /// `None` for rules reported by a later stage (suppression comments), not over the model.
    pub check: Option<CheckFn>,
    pub scope: Scope,
}

/// What a rule's findings depend on: the language server keeps [`Scope::Item`] findings of the
/// items an edit did not touch and runs only the [`Scope::Project`] rules over everything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The findings about a top-level item (account, credential, system) depend on that item
    /// alone, with the spans and text of its own node: the rule, run over a project holding only
    /// some items, finds for each exactly what it finds over the whole project.
    Item,
    /// The findings compare items or depend on other items (duplicates, credentials an account
    /// names, whether some file sets the `system` prefix): run over the whole project.
    Project,
}

macro_rules! rule {
    (item $m:ident) => {
        Rule {
            meta: &$m::META,
            check: Some($m::check),
            scope: Scope::Item,
        }
    };
    (project $m:ident) => {
        Rule {
            meta: &$m::META,
            check: Some($m::check),
            scope: Scope::Project,
        }
    };
}

/// Every rule, in the order `mailcfg rules` and docs/rules.md list them.
pub static ALL: &[Rule] = &[
    // Incoming and outgoing servers.
    rule!(item outgoing_server_missing),
    rule!(item security_imap_only),
    rule!(item mailbox_imap_only),
    rule!(item smtp_security_unsupported),
    rule!(item port_security_mismatch),
    rule!(item port_protocol_mismatch),
    rule!(item redundant_port),
    rule!(item server_not_hostname),
    rule!(item cleartext_credentials),
    rule!(item certificate_not_verified),
    rule!(item auto_security),
    rule!(item smtp_auth_on_relay_port),
    rule!(item smtp_submission_without_auth),
    // Credentials and authentication.
    rule!(item password_with_credential),
    rule!(project unknown_credential),
    rule!(project unused_credential),
    rule!(item credential_incomplete),
    rule!(item inline_secret),
    rule!(item locked_blank_credentials),
    rule!(item monitor_needs_credentials),
    rule!(item smtp_same_as_incoming_empty),
    rule!(item smtp_log_on_incomplete),
    rule!(item outgoing_login_ignored),
    rule!(item google_password_auth),
    rule!(item microsoft_basic_auth),
    rule!(project office365_credential_on_pop_imap),
    // Conversation IDs, From addresses, padlocks, duplicates.
    rule!(item conversation_prefix_format),
    rule!(project conversation_prefix_missing),
    rule!(item conversation_id_off_for_monitor),
    rule!(item invalid_from_address),
    rule!(item duplicate_from_address),
    rule!(item multiple_default_from),
    rule!(item no_from_address),
    rule!(item arbitrary_from_allowed),
    rule!(item from_domain_mismatch),
    rule!(item server_settings_unlocked),
    rule!(item shared_credentials_unlocked),
    rule!(project duplicate_account_name),
    rule!(project duplicate_mailbox_watch),
    // Empty and padded values.
    rule!(item empty_value),
    rule!(item padded_value),
    // Suppression comments (reported by `policy::suppress`).
    Rule {
        meta: &suppression_without_reason::META,
        check: None,
        scope: Scope::Project,
    },
    Rule {
        meta: &unused_suppression::META,
        check: None,
        scope: Scope::Project,
    },
];

pub fn find(name: &str) -> Option<&'static Rule> {
    ALL.iter().find(|r| r.meta.name == name)
}

/// The canonical `&'static` name of a rule, for diagnostics built from user text.
pub fn static_name(name: &str) -> Option<&'static str> {
    find(name).map(|r| r.meta.name)
}

/// What a rule sees: the typed model of the whole tree and, per file, where each value came from.
pub struct Context<'a> {
    pub project: &'a Project,
    pub spans: &'a [SpanMap],
    /// The text of every file, for fixes that need to see lines.
    pub sources: &'a Sources,
    /// Parsed on first use, so that stages that only locate values (probe) do not pay for it.
    from_addresses: OnceLock<FromAddresses<'a>>,
    /// The first definition of each credential name, built on first use.
    credentials: OnceLock<FastMap<&'a str, &'a Located<Credential>>>,
}

/// Which part of a value's source to point at.
#[derive(Debug, Clone, Copy)]
pub enum Part {
    /// The node name or property key.
    Key,
    /// The value (a leaf's argument, or the whole node for blocks).
    Value,
    /// The whole node.
    Node,
}

impl<'a> Context<'a> {
    pub fn new(project: &'a Project, spans: &'a [SpanMap], sources: &'a Sources) -> Self {
        Context {
            project,
            spans,
            sources,
            from_addresses: OnceLock::new(),
            credentials: OnceLock::new(),
        }
    }

    /// The credential called `name` (its first definition, as [`Project::credential`] finds
    /// it), by a table built once per run instead of a search per account.
    pub fn credential(&self, name: &str) -> Option<&'a Located<Credential>> {
        let index = self.credentials.get_or_init(|| {
            let mut index = FastMap::default();
            for c in &self.project.credentials {
                index.entry(c.value.name.as_str()).or_insert(c);
            }
            index
        });
        index.get(name).copied()
    }

    /// The From addresses of `project.accounts[account]`, each parsed once per run.
    pub fn from_addresses(&self, account: usize) -> &[FromAddress<'a>] {
        self.from_addresses
            .get_or_init(|| FromAddresses::parse(self.project))
            .of(account)
    }

    pub fn span_map(&self, file: FileId) -> &SpanMap {
        &self.spans[file.index()]
    }

    /// The span of `rel` (e.g. `incoming/port`) under `item`, or of its nearest ancestor.
    pub fn span<T>(&self, item: &Located<T>, rel: &str, part: Part) -> Span {
        let ptr = join(&item.pointer, rel);
        match self.span_map(item.file).nearest(&ptr) {
            Some((_, e)) => match part {
                Part::Key => e.key,
                Part::Value => e.value,
                Part::Node => e.node,
            },
            None => Span::default(),
        }
    }

    /// Whether `rel` under `item` was written in the file (not just defaulted).
    pub fn written<T>(&self, item: &Located<T>, rel: &str) -> bool {
        self.span_map(item.file)
            .get(&join(&item.pointer, rel))
            .is_some()
    }

    pub fn label<T>(&self, item: &Located<T>, rel: &str, part: Part) -> Label {
        Label::new(item.file, self.span(item, rel, part))
    }

    /// `account "X" › incoming › port` for `rel` = `incoming/port` under `item`.
    pub fn kdl_path<T>(&self, item: &Located<T>, rel: &str) -> String {
        self.span_map(item.file).kdl_path(&join(&item.pointer, rel))
    }

    /// A diagnostic of `meta`'s rule at `rel` under `item`, with its KDL path filled in.
    pub fn diag<T>(
        &self,
        meta: &RuleMeta,
        item: &Located<T>,
        rel: &str,
        part: Part,
        message: impl Into<String>,
    ) -> Diagnostic {
        Diagnostic::new(meta.name, meta.level, self.label(item, rel, part), message)
            .with_path(self.kdl_path(item, rel))
    }

    /// An edit removing the node at `rel` ([`crate::parse::edit::remove_node`]): its whole line
    /// when nothing else is on it (so no blank line is left), otherwise just the node and a
    /// following `;`; a node holding comments or slash-dashed entries is slash-dashed instead.
    pub fn remove_node<T>(&self, item: &Located<T>, rel: &str) -> Option<Edit> {
        let entry = self.span_map(item.file).get(&join(&item.pointer, rel))?;
        let text = &self.sources.get(item.file).text;
        let (span, replacement) = crate::parse::edit::remove_node(text, entry.node);
        Some(Edit {
            file: item.file,
            span,
            replacement,
        })
    }
}

/// The bytes to delete to remove a plain node at `node`, as described at
/// [`Context::remove_node`].
pub fn removal_span(text: &str, node: Span) -> Span {
    crate::parse::edit::remove_node(text, node).0
}

fn join(base: &str, rel: &str) -> String {
    if rel.is_empty() {
        base.to_string()
    } else {
        format!("{base}/{rel}")
    }
}

/// One server block of an account, with the fields both blocks have.
#[derive(Debug, Clone, Copy)]
pub struct Side<'a> {
    /// `incoming` or `outgoing`: the block's name and pointer segment.
    pub block: &'static str,
    pub service: Service,
    pub server: &'a str,
    pub security: Option<Security>,
    pub port: Option<u32>,
    pub password: Option<&'a Secret>,
    pub credential: Option<&'a str>,
    /// Whether the server is logged in to at all: not an outgoing server with auth "none".
    pub authenticates: bool,
    /// Whether CSM logs in with this block's own `user`, `password` and `credential`: always
    /// for the incoming server, for the outgoing one only with auth "log-on" ("Log on Using",
    /// CSM step 10); otherwise they are ignored.
    pub own_login: bool,
}

impl Side<'_> {
    pub fn security(&self) -> Security {
        self.security.unwrap_or_default()
    }
    /// `incoming/port` and the like.
    pub fn rel(&self, node: &str) -> String {
        format!("{}/{node}", self.block)
    }
}

/// The incoming and (if any) outgoing server of an account.
pub fn sides(a: &Account) -> impl Iterator<Item = Side<'_>> {
    let incoming = Side {
        block: "incoming",
        service: Service::from(a.protocol),
        server: &a.incoming.server,
        security: a.incoming.security,
        port: a.incoming.port,
        password: a.incoming.password.as_ref(),
        credential: a.incoming.credential.as_deref(),
        authenticates: true,
        own_login: true,
    };
    let outgoing = a.outgoing.as_ref().map(|o| Side {
        block: "outgoing",
        service: Service::Smtp,
        server: &o.server,
        security: o.security,
        port: o.port,
        password: o.password.as_ref(),
        credential: o.credential.as_deref(),
        authenticates: o.auth() != AuthMode::None,
        own_login: o.auth() == AuthMode::LogOn,
    });
    std::iter::once(incoming).chain(outgoing)
}

/// Where the padlock `key` (`server` or `credentials`) of section `block` (`incoming` or
/// `outgoing`) is set: the section's own `lock`, else the account's shorthand `lock`.
pub fn lock_rel<T>(cx: &Context<'_>, item: &Located<T>, block: &str, key: &str) -> String {
    let own = format!("{block}/lock/{key}");
    if cx.written(item, &own) {
        own
    } else {
        format!("lock/{key}")
    }
}

/// The `from` addresses of an account, each with its index (see [`address_rel`]).
pub fn from_addresses(a: &Account) -> impl Iterator<Item = (usize, &Address)> {
    a.from.iter().flat_map(|f| f.address.iter().enumerate())
}

/// The path of the text of `from` address number `i` (`from/address/N/value`).
pub fn address_rel(i: usize) -> String {
    format!("from/address/{i}/value")
}

/// Whether users can type their own login for the incoming server: the account is offered to
/// them ("Make Account Available to Users") with the Incoming Server page's credentials padlock
/// open ("Users Can Change Credentials"), CSM step 7 note.
pub fn users_supply_credentials(a: &Account) -> bool {
    a.available_to_users && !a.incoming_lock().credentials
}

/// The same for the outgoing server's "Log on Using" login (CSM step 10 note).
pub fn users_supply_outgoing_credentials(a: &Account) -> bool {
    a.available_to_users && !a.outgoing_lock().credentials
}

/// Servers among `hosts` that log in with a password: (account, block, host).
pub fn password_logins<'a>(
    cx: &Context<'a>,
    hosts: &[&str],
) -> Vec<(&'a Located<Account>, &'static str, String)> {
    let mut found = Vec::new();
    for acc in &cx.project.accounts {
        let a = &acc.value;
        for side in sides(a) {
            let host = side.server.trim_end_matches('.');
            if !hosts.iter().any(|h| h.eq_ignore_ascii_case(host)) {
                continue;
            }
            let host = host.to_ascii_lowercase();
            // auth "same-as-incoming" logs in with the incoming login.
            let credential = if side.own_login {
                side.credential
            } else {
                a.incoming.credential.as_deref()
            };
            if side.authenticates && credential.is_none() {
                found.push((acc, side.block, host));
            }
        }
    }
    found
}

/// What the incoming login lacks: "no user", "no password or credential", or both.
pub fn missing_login(inc: &Incoming) -> &'static str {
    match (
        inc.user.is_some(),
        inc.password.is_some() || inc.credential.is_some(),
    ) {
        (false, false) => "no user and no password or credential",
        (false, true) => "no user",
        _ => "no password or credential",
    }
}

/// Runs every rule over the project, the rules in parallel; findings come back in the order
/// of [`ALL`] whatever the scheduling.
pub fn run(cx: &Context<'_>) -> Vec<Diagnostic> {
    run_scoped(cx, None)
}

/// Runs the rules of `scope` (every rule for `None`) over the project, as [`run`] does.
pub fn run_scoped(cx: &Context<'_>, scope: Option<Scope>) -> Vec<Diagnostic> {
    use rayon::prelude::*;
    let per_rule: Vec<Vec<Diagnostic>> = ALL
        .par_iter()
        .filter(|rule| scope.is_none_or(|s| s == rule.scope))
        .map(|rule| run_rule(rule, cx))
        .collect();
    per_rule.concat()
}

/// Runs the [`Scope::Item`] rules one after the other (for a project of a few items, where
/// spreading the rules over threads costs more than it saves), in the order of [`ALL`].
pub fn run_item_rules(cx: &Context<'_>) -> Vec<Diagnostic> {
    ALL.iter()
        .filter(|rule| rule.scope == Scope::Item)
        .flat_map(|rule| run_rule(rule, cx))
        .collect()
}

fn run_rule(rule: &Rule, cx: &Context<'_>) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    if let Some(check) = rule.check {
        check(cx, &mut out);
    }
    out.into_iter().map(crate::schema::add_gui_label).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn remove(text: &str, node: &str) -> String {
        let start = text.find(node).unwrap();
        let span = removal_span(text, Span::new(start, start + node.len()));
        format!("{}{}", &text[..span.start], &text[span.end..])
    }

    #[test]
    fn a_node_alone_on_its_line_takes_the_line_with_it() {
        let t = "incoming {\n    server \"x\"\n    port 993\n    user \"u\"\n}\n";
        assert_eq!(
            remove(t, "port 993"),
            "incoming {\n    server \"x\"\n    user \"u\"\n}\n"
        );
        let crlf = "a {\r\n    port 993;\r\n    b 1\r\n}";
        assert_eq!(remove(crlf, "port 993"), "a {\r\n    b 1\r\n}");
        let last = "a {\n}\nport 993";
        assert_eq!(remove(last, "port 993"), "a {\n}\n");
    }

    #[test]
    fn a_node_sharing_its_line_is_cut_out_with_its_semicolon_and_comments_stay() {
        let t = "out { server \"x\"; port 465; auth \"none\"; }\n";
        assert_eq!(
            remove(t, "port 465"),
            "out { server \"x\"; auth \"none\"; }\n"
        );
        let c = "    port 993 // the old port\n";
        assert_eq!(remove(c, "port 993"), "    // the old port\n");
    }
}
