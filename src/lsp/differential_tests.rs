//! The language server's diagnostics after any sequence of edits equal those of a fresh check
//! of the same texts (issue 17): the server re-reads only the nodes an edit touched and keeps
//! the item rules' findings of the others, so every way an edit can reach another item's
//! findings (duplicates across items and files, credentials, suppression comments, the
//! `system` node, schema and syntax errors, text moving) is exercised here against
//! [`crate::check_with`].

use std::path::{Path, PathBuf};

use super::incremental::Update;
use super::{Doc, Server};
use crate::policy::config::Config;
use crate::{check_with, Input};

/// A repeatable xorshift generator, for this module and the other randomized tests of the
/// language server.
pub(super) struct Rng(pub(super) u64);

impl Rng {
    pub(super) fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n.max(1) as u64) as usize
    }
    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[self.below(from.len())]
    }
}

/// One account, its details picked by `rng` so that item rules and project rules both find
/// things: names that repeat, credentials that exist or not, ports that clash with security,
/// literal passwords, two default From addresses, a Google server with a password.
fn account(rng: &mut Rng) -> String {
    let name = format!("A{}", rng.below(12));
    let server = rng.pick(&["imap.example.com", "imap.gmail.com", "mail.example.org"]);
    let security = rng.pick(&["ssl", "ssl", "tls", "basic"]);
    let port = rng.pick(&["993", "143", "1993", "110"]);
    let login = rng.pick(&[
        "password env=\"P\"",
        "password \"Literal-secret-1\"",
        "credential \"cred-a\"",
        "credential \"cred-b\"",
        "credential \"missing\"",
    ]);
    let mailbox = rng.pick(&["", "        mailbox \"INBOX\"\n"]);
    let from = rng.pick(&[
        "",
        "    from {\n        address \"desk@example.com\" default=#true\n    }\n",
        "    from {\n        address \"desk@example.com\" default=#true\n        address \"Desk <desk@example.com>\" default=#true\n    }\n",
    ]);
    let conversation = rng.pick(&["    conversation-id \"subject\"\n", ""]);
    format!(
        "account \"{name}\" {{\n    protocol \"imap\"\n    incoming {{\n        server \"{server}\"\n        security \"{security}\"\n        port {port}\n        user \"u@example.com\"\n        {login}\n{mailbox}    }}\n    outgoing {{\n        server \"smtp.example.com\"\n        auth \"same-as-incoming\"\n    }}\n{from}{conversation}}}\n"
    )
}

fn credential(name: &str) -> String {
    format!(
        "credential \"{name}\" {{\n    type \"google\"\n    service-account \"mail@p.iam.gserviceaccount.com\"\n    private-key file=\"k.json\"\n}}\n"
    )
}

const SYSTEM: &str = "system {\n    conversation-prefix \"AB\"\n}\n";

fn file(rng: &mut Rng, accounts: usize) -> String {
    let mut text = String::from("// generated\n");
    for i in 0..accounts {
        text.push_str(&account(rng));
        text.push_str(["\n", "", "// between\n"][i % 3]);
    }
    text
}

/// Where top-level nodes start (after a newline, not indented).
fn node_starts(text: &str) -> Vec<usize> {
    let mut starts: Vec<usize> = text
        .match_indices('\n')
        .map(|(i, _)| i + 1)
        .filter(|&i| {
            let rest = &text[i..];
            ["account ", "credential ", "system "]
                .iter()
                .any(|k| rest.starts_with(k))
        })
        .collect();
    if ["account ", "credential ", "system "]
        .iter()
        .any(|k| text.starts_with(k))
    {
        starts.insert(0, 0);
    }
    starts
}

/// The byte range of a random top-level node of `text` (up to the next one), if any.
fn some_node(rng: &mut Rng, text: &str) -> Option<std::ops::Range<usize>> {
    let starts = node_starts(text);
    if starts.is_empty() {
        return None;
    }
    let i = rng.below(starts.len());
    let end = starts.get(i + 1).copied().unwrap_or(text.len());
    Some(starts[i]..end)
}

/// A value after `key ` inside `range`, as a byte range, if any.
fn value_of(
    text: &str,
    range: std::ops::Range<usize>,
    key: &str,
) -> Option<std::ops::Range<usize>> {
    let at = range.start + text[range.clone()].find(key)? + key.len();
    let end = at + text[at..].find('\n')?;
    Some(at..end)
}

fn char_floor(text: &str, mut at: usize) -> usize {
    at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// One edit of `text`, of the kinds listed at the top of the module.
fn edit(rng: &mut Rng, text: &mut String) {
    let node = some_node(rng, text);
    match rng.below(14) {
        // An item rule's finding comes or goes.
        0 | 1 => {
            if let Some(v) = node.and_then(|n| value_of(text, n, "port ")) {
                let port = rng.pick(&["993", "143", "1993", "110"]);
                text.replace_range(v, port);
            }
        }
        // A duplicate account name comes or goes.
        2 => {
            if let Some(v) = node.and_then(|n| value_of(text, n, "account ")) {
                let name = format!("\"A{}\" {{", rng.below(12));
                text.replace_range(v, &name);
            }
        }
        // A suppression comment, with or without a reason, for a rule that fires or not.
        3 => {
            if let Some(n) = node {
                let rule = rng.pick(&[
                    "port-security-mismatch",
                    "duplicate-account-name",
                    "inline-secret",
                    "unknown-credential",
                    "google-password-auth",
                ]);
                let reason = rng.pick(&["", " reason=\"test\""]);
                let mark = rng.pick(&["mailcfg-ignore:", "mailcfg-ignore-file:"]);
                text.insert_str(n.start, &format!("// {mark} {rule}{reason}\n"));
            }
        }
        // A suppression comment goes.
        4 => {
            if let Some(at) = text.find("// mailcfg-ignore") {
                let end = text[at..].find('\n').map_or(text.len(), |e| at + e + 1);
                text.replace_range(at..end, "");
            }
        }
        // The `system` node comes, goes, or comes twice.
        5 => match text.find("system {") {
            Some(at) if rng.below(3) > 0 => {
                let end = text[at..].find("}\n").map_or(text.len(), |e| at + e + 2);
                text.replace_range(at..end, "");
            }
            _ => {
                let at = node.map_or(text.len(), |n| n.start);
                text.insert_str(at, SYSTEM);
            }
        },
        // A credential definition comes or goes.
        6 => match text.find("credential \"cred-") {
            Some(at) if rng.below(2) == 0 && text[..at].ends_with('\n') => {
                let end = text[at..].find("\n}\n").map_or(text.len(), |e| at + e + 3);
                text.replace_range(at..end, "");
            }
            _ => {
                let at = node.map_or(text.len(), |n| n.start);
                text.insert_str(at, &credential(rng.pick(&["cred-a", "cred-b", "cred-a"])));
            }
        },
        // The schema breaks or mends.
        7 => {
            if let Some(v) = node.and_then(|n| value_of(text, n, "security ")) {
                let security = rng.pick(&["\"xyz\"", "\"ssl\"", "\"tls\"", "7"]);
                text.replace_range(v, security);
            }
        }
        // A whole account comes or goes.
        8 => {
            let new = account(rng);
            let at = node.clone().map_or(text.len(), |n| n.start);
            text.insert_str(at, &new);
        }
        9 => {
            if let Some(n) = node {
                text.replace_range(n, "");
            }
        }
        // Text between nodes: everything after moves.
        10 => {
            if let Some(n) = node {
                text.insert_str(n.start, rng.pick(&["\n", "// a comment\n", "\n\n\n"]));
            }
        }
        // A stray piece anywhere (syntax errors, unclosed strings and blocks).
        11 => {
            let at = char_floor(text, rng.below(text.len() + 1));
            text.insert_str(at, rng.pick(&["}", "{", "\"", "é", "/-", "x ", "\\", "/*"]));
        }
        12 => {
            let at = char_floor(text, rng.below(text.len() + 1));
            let end = char_floor(text, at + 1 + rng.below(12));
            text.replace_range(at..end.max(at), "");
        }
        // The node replaced by a fresh account (mends what broke in it).
        _ => {
            if let Some(n) = node {
                let new = account(rng);
                text.replace_range(n, &new);
            }
        }
    }
}

/// The change an editor sends for `old` becoming `new`: the range between what they share at
/// their start and at their end.
fn change(old: &str, new: &str) -> lsp_types::TextDocumentContentChangeEvent {
    let mut prefix = old
        .bytes()
        .zip(new.bytes())
        .take_while(|(a, b)| a == b)
        .count();
    while !old.is_char_boundary(prefix) || !new.is_char_boundary(prefix) {
        prefix -= 1;
    }
    let max = old.len().min(new.len()) - prefix;
    let mut suffix = (old.bytes().rev().zip(new.bytes().rev()))
        .take(max)
        .take_while(|(a, b)| a == b)
        .count();
    while !old.is_char_boundary(old.len() - suffix) || !new.is_char_boundary(new.len() - suffix) {
        suffix -= 1;
    }
    let file = crate::source::SourceFile::new("", old.to_string());
    let range = super::convert::range(
        &file,
        crate::diagnostics::Span::new(prefix, old.len() - suffix),
    );
    lsp_types::TextDocumentContentChangeEvent {
        range: Some(range),
        range_length: None,
        text: new[prefix..new.len() - suffix].to_string(),
    }
}

/// What a fresh check of the same texts finds, files numbered as the server numbers them.
fn fresh(texts: &[(PathBuf, String)]) -> Vec<crate::diagnostics::Diagnostic> {
    let inputs = texts
        .iter()
        .map(|(p, t)| Input::text(p.clone(), t.clone()))
        .collect();
    check_with(inputs, &Config::default()).diagnostics
}

fn server(root: &Path) -> Server {
    let params = lsp_types::InitializeParams {
        workspace_folders: Some(vec![lsp_types::WorkspaceFolder {
            uri: super::path_to_uri(root),
            name: "differential".into(),
        }]),
        ..Default::default()
    };
    let mut server = Server::new(&params);
    server.load_workspace();
    server
}

/// The server's own flow (items lent to each check and given back, findings kept) reads an
/// edited node alone and runs the item rules on it and its neighbours only.
#[test]
fn an_edit_is_read_and_checked_node_by_node() {
    let mut rng = Rng(7);
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = std::path::absolute(tmp.path()).expect("absolute");
    let path = root.join("a.kdl");
    let mut text = file(&mut rng, 20) + SYSTEM;
    std::fs::write(&path, &text).expect("write");
    let mut server = server(&root);
    server.open.insert(path.clone(), Doc::new(text.clone(), 1));
    server.analyze();
    assert_eq!(server.updates, [Update::Whole]);
    for port in ["143", "993", "1993"] {
        let ports: Vec<usize> = text.match_indices("port ").map(|(i, _)| i + 5).collect();
        let at = ports[ports.len() / 2];
        let end = at + text[at..].find('\n').expect("line end");
        let before = text.clone();
        text.replace_range(at..end, port);
        let doc = server.open.get_mut(&path).expect("open");
        doc.apply(change(&before, &text));
        server.analyze();
        assert!(
            matches!(server.updates[..], [Update::Nodes(1..=2)]),
            "{:?}",
            server.updates
        );
        let known = server.caches[&path].known_findings();
        let lost = known.iter().filter(|k| k.is_none()).count();
        assert_eq!(lost, 0, "every item's findings kept after the check");
        assert_eq!(
            server
                .analysis
                .as_ref()
                .expect("analysed")
                .checked
                .diagnostics,
            fresh(&[(path.clone(), text.clone())])
        );
    }
}

/// Random edit sequences in two open files of a workspace; after each edit the server's
/// diagnostics are compared with a fresh check's.
#[test]
fn after_any_edits_the_diagnostics_are_those_of_a_fresh_check() {
    let (mut steps, mut by_nodes) = (0, 0);
    for seed in 1..=6u64 {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ seed.wrapping_mul(0x2545_F491_4F6C_DD1D));
        let tmp = tempfile::tempdir().expect("tempdir");
        let root = std::path::absolute(tmp.path()).expect("absolute");
        let mut texts = vec![
            (root.join("a.kdl"), file(&mut rng, 10) + SYSTEM),
            (
                root.join("b.kdl"),
                file(&mut rng, 6) + &credential("cred-a"),
            ),
        ];
        for (p, t) in &texts {
            std::fs::write(p, t).expect("write");
        }
        let mut server = server(&root);
        for (p, t) in &texts {
            server.open.insert(p.clone(), Doc::new(t.clone(), 1));
        }
        server.analyze();
        let mut last_clean = texts.clone();
        for step in 0..150 {
            // Mostly the first file; both files in some steps.
            let which = usize::from(rng.below(4) == 0);
            edit(&mut rng, &mut texts[which].1);
            if rng.below(5) == 0 {
                edit(&mut rng, &mut texts[1 - which].1);
            }
            for (p, t) in &texts {
                if let Some(doc) = server.open.get_mut(p) {
                    doc.apply(change(&doc.text, t));
                }
            }
            server.analyze();
            steps += 1;
            by_nodes += usize::from(server.updates.iter().any(|u| matches!(u, Update::Nodes(_))));
            let got = &server
                .analysis
                .as_ref()
                .expect("analysed")
                .checked
                .diagnostics;
            let want = fresh(&texts);
            assert!(
                *got == want,
                "seed {seed}, step {step}: the server has\n{got:#?}\na fresh check\n{want:#?}\ntexts:\n{}\n---\n{}",
                texts[0].1,
                texts[1].1
            );
            // As a user would, now and then: back to the last text that read cleanly.
            if got
                .iter()
                .any(|d| d.level == crate::diagnostics::Level::Error)
            {
                if rng.below(3) == 0 {
                    texts = last_clean.clone();
                }
            } else {
                last_clean = texts.clone();
            }
        }
    }
    // Most edits took the short way (so what it keeps was compared, not bypassed).
    assert!(
        by_nodes * 2 > steps,
        "{by_nodes} of {steps} edits read node by node"
    );
}
