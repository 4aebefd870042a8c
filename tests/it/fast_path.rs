//! The fast path (`lower::typed`: tree → typed model, no JSON, no schema) against the full way
//! (lower → JSON Schema → model) on every example and fixture and on generated documents:
//! whenever the fast path accepts a node, the full way finds nothing wrong with it and builds
//! the same model; whenever the full way finds nothing wrong, the fast path accepts. And the
//! streaming fast path (`lower::stream`: text → model, no tree) against the tree's: whenever it
//! accepts a text, the reader reads it without a problem and `lower::typed` makes the same items
//! at the same offsets.

use std::path::Path;

use mailcfg::lower::stream;
use mailcfg::lower::typed::{self, Item};
use mailcfg::model::{Account, Credential, System};
use mailcfg::parse::{reader, Node};
use mailcfg::source::FileId;
use proptest::prelude::*;
use serde::Deserialize;
use serde_json::Value as Json;

/// What the full way makes of one top-level node, alone in a document: its model as JSON, or
/// `None` if lowering or the schema objects or the model cannot be built.
fn full_way(node: &Node<'_>) -> Option<Json> {
    let doc = mailcfg::parse::Document {
        nodes: vec![node.clone()],
    };
    let lowered = mailcfg::lower::lower(FileId(0), &doc);
    if !lowered.diagnostics.is_empty() {
        return None;
    }
    let (errors, _) = mailcfg::schema::validate(FileId(0), &lowered.value, &lowered.spans);
    if !errors.is_empty() {
        return None;
    }
    let root = &lowered.value;
    let name: &str = &node.name.value;
    match name {
        "account" => Account::deserialize(&root["account"][0])
            .ok()
            .map(|a| serde_json::to_value(a).unwrap()),
        "credential" => Credential::deserialize(&root["credential"][0])
            .ok()
            .map(|c| serde_json::to_value(c).unwrap()),
        "system" => System::deserialize(&root["system"])
            .ok()
            .map(|s| serde_json::to_value(s).unwrap()),
        _ => None,
    }
}

fn fast_way(node: &Node<'_>) -> Option<Json> {
    typed::item(node).map(|item| match item {
        Item::Account(a) => serde_json::to_value(a).unwrap(),
        Item::Credential(c) => serde_json::to_value(c).unwrap(),
        Item::System(s) => serde_json::to_value(s).unwrap(),
    })
}

/// Compares both ways on every top-level node of `text`; returns how many nodes each accepted.
fn compare(text: &str, origin: &str) -> (usize, usize) {
    let read = reader::read(FileId(0), text);
    if !read.diagnostics.is_empty() {
        return (0, 0);
    }
    let (mut fast_n, mut full_n) = (0, 0);
    for node in &read.document.nodes {
        let fast = fast_way(node);
        let full = full_way(node);
        assert_eq!(
            fast, full,
            "{origin}: fast path and full way disagree on node at {:?}",
            node.span
        );
        fast_n += fast.is_some() as usize;
        full_n += full.is_some() as usize;
    }
    (fast_n, full_n)
}

#[test]
fn both_ways_agree_on_every_example_and_fixture() {
    let root = Path::new(crate::harness::ROOT);
    // The project's own discovery, as `mailcfg check` walks a tree.
    let dirs: Vec<_> = ["examples", "tests/data/formats", "fuzz/seeds"]
        .iter()
        .map(|d| root.join(d))
        .collect();
    let mut files = mailcfg::source::discover(&dirs, None).files;
    // fuzz seeds have no extension: take them too.
    for e in std::fs::read_dir(root.join("fuzz/seeds")).unwrap() {
        let p = e.unwrap().path();
        if p.is_file() && p.extension().is_none() {
            files.push(p);
        }
    }
    assert!(files.len() >= 20, "only {} files", files.len());
    let (mut fast, mut full) = (0, 0);
    for f in &files {
        let Ok(text) = std::fs::read_to_string(f) else {
            continue;
        };
        let (a, b) = compare(&text, &f.display().to_string());
        fast += a;
        full += b;
    }
    // Not a vacuous comparison: plenty of nodes are valid, and the broken examples are not.
    assert!(fast >= 20, "only {fast} nodes accepted");
    assert_eq!(fast, full);
}

#[test]
fn the_fast_path_refuses_each_kind_of_schema_error() {
    let valid = "account \"A\" {\n    protocol \"imap\"\n    incoming {\n        server \"imap.example.com\"\n        port 993\n    }\n    outgoing {\n        server \"smtp.example.com\"\n        security \"tls\"\n    }\n}\n";
    let read = reader::read(FileId(0), valid);
    assert!(fast_way(&read.document.nodes[0]).is_some());
    for (what, bad) in [
        ("port 0", valid.replace("port 993", "port 0")),
        ("port too large", valid.replace("port 993", "port 65536")),
        ("port as string", valid.replace("port 993", "port \"993\"")),
        ("port #null", valid.replace("port 993", "port #null")),
        ("port as float", valid.replace("port 993", "port 993.5")),
        (
            "two ports",
            valid.replace("port 993", "port 993\n        port 995"),
        ),
        ("two arguments", valid.replace("port 993", "port 993 995")),
        ("unknown node", valid.replace("port 993", "sever \"x\"")),
        ("unknown protocol", valid.replace("\"imap\"", "\"imap4\"")),
        (
            "missing server",
            valid.replace("server \"imap.example.com\"", ""),
        ),
        (
            "property clash",
            valid.replace("incoming {", "incoming server=\"y\" {"),
        ),
        (
            "bool as string",
            valid.replace("port 993", "").replace(
                "protocol \"imap\"",
                "protocol \"imap\"\n    available-to-users \"yes\"",
            ),
        ),
    ] {
        let read = reader::read(FileId(0), &bad);
        assert!(read.diagnostics.is_empty(), "{what}: {bad}");
        let node = &read.document.nodes[0];
        assert_eq!(
            fast_way(node),
            None,
            "{what}: the fast path accepted\n{bad}"
        );
        assert_eq!(full_way(node), None, "{what}: the schema accepted\n{bad}");
    }
}

// ---- generated documents -------------------------------------------------------------------

fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("\"imap\"".to_string()),
        Just("\"pop\"".to_string()),
        Just("\"ssl\"".to_string()),
        Just("\"tls\"".to_string()),
        Just("\"log-on\"".to_string()),
        Just("\"subject\"".to_string()),
        Just("\"mail.example.com\"".to_string()),
        Just("\"a b\\\"c\"".to_string()),
        Just("#true".to_string()),
        Just("#false".to_string()),
        Just("#null".to_string()),
        Just("0".to_string()),
        Just("993".to_string()),
        Just("65535".to_string()),
        Just("65536".to_string()),
        Just("-1".to_string()),
        Just("993.0".to_string()),
        Just("1e3".to_string()),
        Just("0x3e1".to_string()),
        Just("99999999999999999999".to_string()),
        Just("bare".to_string()),
    ]
}

fn leaf_name() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        Just("server"),
        Just("port"),
        Just("security"),
        Just("user"),
        Just("password"),
        Just("credential"),
        Just("mailbox"),
        Just("auth"),
        Just("protocol"),
        Just("available-to-users"),
        Just("conversation-id"),
        Just("allow-arbitrary"),
        Just("address"),
        Just("group"),
        Just("type"),
        Just("tenant-id"),
        Just("client-id"),
        Just("client-secret"),
        Just("conversation-prefix"),
        Just("trusted-agent"),
        Just("lock"),
        Just("sever"),
    ]
}

fn prop_name() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        Just("env"),
        Just("file"),
        Just("default"),
        Just("server"),
        Just("credentials"),
        Just("name"),
        Just("value"),
        Just("extra"),
    ]
}

/// A leaf: name, arguments (0–2), properties (0–2).
fn leaf() -> impl Strategy<Value = String> {
    (
        leaf_name(),
        prop::collection::vec(value(), 0..3),
        prop::collection::vec((prop_name(), value()), 0..3),
    )
        .prop_map(|(name, args, props)| {
            let mut s = name.to_string();
            for a in args {
                s.push(' ');
                s.push_str(&a);
            }
            for (k, v) in props {
                s.push_str(&format!(" {k}={v}"));
            }
            s
        })
}

fn block_name() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        Just("incoming"),
        Just("outgoing"),
        Just("from"),
        Just("lock"),
        Just("trusted-agent"),
    ]
}

fn block() -> impl Strategy<Value = String> {
    (
        block_name(),
        prop::collection::vec(leaf(), 0..5),
        prop::collection::vec((prop_name(), value()), 0..2),
    )
        .prop_map(|(name, leaves, props)| {
            let mut s = name.to_string();
            for (k, v) in props {
                s.push_str(&format!(" {k}={v}"));
            }
            s.push_str(" {\n");
            for l in leaves {
                s.push_str(&format!("        {l}\n"));
            }
            s.push_str("    }");
            s
        })
}

fn top() -> impl Strategy<Value = String> {
    (
        prop_oneof![Just("account"), Just("credential"), Just("system")],
        prop::option::of(value()),
        prop::collection::vec(prop_oneof![leaf(), block()], 0..7),
    )
        .prop_map(|(name, arg, children)| {
            let mut s = name.to_string();
            if let Some(a) = arg {
                s.push(' ');
                s.push_str(&a);
            }
            s.push_str(" {\n");
            for c in children {
                s.push_str(&format!("    {c}\n"));
            }
            s.push_str("}\n");
            s
        })
}

/// Mostly-valid accounts, so the comparison also covers the accepting side often.
fn near_valid_account() -> impl Strategy<Value = String> {
    (
        prop::sample::select(vec!["imap", "pop", "smtp"]),
        prop::sample::select(vec!["ssl", "tls", "auto", "basic", "ssl-no-auth", "SSL"]),
        prop::sample::select(vec!["993", "0", "65535", "70000", "\"993\"", "#null"]),
        prop::option::of(prop::sample::select(vec![
            "password env=\"PW\"",
            "password file=\"f\"",
            "password \"literal-secret\"",
            "password env=\"A\" file=\"B\"",
            "password",
            "credential \"c\"",
        ])),
        prop::option::of(prop::sample::select(vec![
            "from {\n        address \"a@b.c\"\n        address \"x@y.z\" default=#true\n    }",
            "from allow-arbitrary=#true",
            "from {\n        allow-user-address #true\n    }",
            "lock server=#false credentials=#true",
            "lock \"x\"",
            "conversation-id \"body\"",
            "available-to-users #true",
            "trusted-agent \"any\"",
            "trusted-agent group=\"Agents\"",
            "trusted-agent \"all\"",
            "trusted-agent group=\"Agents\" extra=1",
            "trusted-agent",
        ])),
        // The outgoing server is required (issue 14, point 3); each section may have a padlock.
        prop::option::of(prop::sample::select(vec![
            "outgoing {\n        server \"smtp.example.com\"\n    }",
            "outgoing {\n        server \"smtp.example.com\"\n        auth \"log-on\"\n        user \"u\"\n        lock credentials=#false\n    }",
            "outgoing {\n        server \"smtp.example.com\"\n        lock server=#false zed=#true\n    }",
            "outgoing {\n        server \"smtp.example.com\"\n        lock\n    }",
        ])),
        prop::option::of(prop::sample::select(vec![
            "lock credentials=#true",
            "lock server=#false credentials=#false",
            "lock 1",
        ])),
    )
        .prop_map(|(proto, sec, port, secret, extra, outgoing, incoming_lock)| {
            format!(
                "account \"N\" {{\n    protocol \"{proto}\"\n    incoming {{\n        server \"mail.example.com\"\n        security \"{sec}\"\n        port {port}\n        user \"u\"\n        {}\n        {}\n    }}\n    {}\n    {}\n}}\n",
                secret.unwrap_or(""),
                incoming_lock.unwrap_or(""),
                outgoing.unwrap_or(""),
                extra.unwrap_or("")
            )
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1500, ..ProptestConfig::default() })]

    #[test]
    fn both_ways_agree_on_generated_nodes(doc in top()) {
        compare(&doc, &doc);
    }

    #[test]
    fn both_ways_agree_on_near_valid_accounts(doc in near_valid_account()) {
        compare(&doc, &doc);
    }
}

// ---- the streaming fast path (text → model) against the tree's ---------------------------

/// What `lower::stream` makes of a whole text: each top-level item (as JSON) with where it
/// starts, or `None` when it refuses.
fn stream_way(text: &str) -> Option<Vec<(usize, Json)>> {
    let mut items = Vec::new();
    stream::each_item(text, |start, item| items.push((start, to_json(item)))).ok()?;
    Some(items)
}

/// The same through the reader's tree: `None` on a syntax error or a node `typed` refuses.
fn tree_way(text: &str) -> Option<Vec<(usize, Json)>> {
    let read = reader::read(FileId(0), text);
    if !read.diagnostics.is_empty() || read.too_deep {
        return None;
    }
    read.document
        .nodes
        .iter()
        .map(|n| typed::item(n).map(|i| (n.span.start, to_json(i))))
        .collect()
}

fn to_json(item: Item) -> Json {
    match item {
        Item::Account(a) => serde_json::to_value(a).unwrap(),
        Item::Credential(c) => serde_json::to_value(c).unwrap(),
        Item::System(s) => serde_json::to_value(s).unwrap(),
    }
}

/// Whenever the stream accepts, the tree accepts with the same items at the same offsets.
/// Returns (stream accepted, tree accepted).
fn compare_stream(text: &str) -> (bool, bool) {
    let stream = stream_way(text);
    let tree = tree_way(text);
    if let Some(s) = &stream {
        assert_eq!(
            Some(s),
            tree.as_ref(),
            "the stream accepted what the tree reads differently:\n{text}"
        );
    }
    (stream.is_some(), tree.is_some())
}

#[test]
fn the_stream_agrees_with_the_tree_on_every_example_and_fixture() {
    let root = Path::new(crate::harness::ROOT);
    let mut files = Vec::new();
    for dir in ["examples", "tests/data", "fuzz/seeds", "fuzz/regressions"] {
        for e in walkdir::WalkDir::new(root.join(dir)).into_iter().flatten() {
            if e.file_type().is_file() {
                files.push(e.into_path());
            }
        }
    }
    let (mut both, mut tree_only) = (0, 0);
    for f in &files {
        let Ok(text) = std::fs::read_to_string(f) else {
            continue;
        };
        match compare_stream(&text) {
            (true, _) => both += 1,
            (false, true) => tree_only += 1,
            _ => {}
        }
    }
    // Not vacuous: most valid files are in the stream's subset.
    assert!(
        both >= 20,
        "the stream accepted only {both} files ({tree_only} went the tree's way)"
    );
}

#[test]
fn the_stream_refuses_what_it_does_not_read() {
    let valid = "account \"A\" {\n    protocol \"imap\"\n    incoming {\n        server \"imap.example.com\"\n        port 993\n    }\n    outgoing {\n        server \"smtp.example.com\"\n    }\n}\n";
    assert!(stream_way(valid).is_some());
    for (what, bad) in [
        ("block comment", valid.replace("port 993", "port /* x */ 993")),
        ("slashdash", valid.replace("port 993", "/-port 993")),
        ("type annotation", valid.replace("port 993", "port (u16)993")),
        ("continuation", valid.replace("port 993", "port \\\n 993")),
        ("#null", valid.replace("port 993", "port #null")),
        ("second block", valid.replace("    }\n    outgoing", "    } {}\n    outgoing")),
        ("no space", valid.replace("port 993", "port 993\"x\"")),
        ("unclosed", valid.trim_end().trim_end_matches('}').to_string()),
        ("stray brace", format!("{valid}}}\n")),
        ("non-adjacent addresses", valid.replace("    outgoing {", "    from {\n        address \"a@b.c\"\n        allow-arbitrary #false\n        address \"d@e.f\"\n    }\n    outgoing {")),
    ] {
        assert_eq!(stream_way(&bad), None, "{what}: the stream accepted\n{bad}");
    }
}

/// Text around and between tokens the stream must read exactly as the reader does, or refuse.
fn trivia() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        Just(" "),
        Just("\t"),
        Just("\n"),
        Just("\r\n"),
        Just("\r"),
        Just(";"),
        Just("// note\n"),
        Just("//\n"),
        Just("/* c */"),
        Just("/-"),
        Just("\\\n"),
        Just("\u{a0}"),
        Just("\u{feff}"),
        Just("{"),
        Just("}"),
        Just("="),
        Just("\""),
        Just("#"),
        Just("(t)"),
        Just("#\"raw\"#"),
        Just("\"e\\n\\u{41}\""),
        Just("1_000"),
        Just("0x1F"),
        Just("#nan"),
        Just("x=1"),
        Just(""),
    ]
}

/// A generated account or node with trivia spliced in at random places.
fn spliced() -> impl Strategy<Value = String> {
    (
        prop_oneof![top(), near_valid_account()],
        prop::collection::vec((any::<prop::sample::Index>(), trivia()), 0..4),
    )
        .prop_map(|(doc, cuts)| {
            let mut doc = doc;
            for (at, t) in cuts {
                let mut i = at.index(doc.len() + 1);
                while !doc.is_char_boundary(i) {
                    i -= 1;
                }
                doc.insert_str(i, t);
            }
            doc
        })
}

/// The items of `text` read in `parts` parts, as JSON.
fn in_parts(text: &str, parts: usize) -> Option<Vec<(usize, Json)>> {
    let items = stream::items_in_parts(text, parts).ok()?;
    Some(items.into_iter().map(|(at, i)| (at, to_json(i))).collect())
}

#[test]
fn a_cut_inside_a_block_is_not_taken_for_a_node_boundary() {
    // Children written at column 0 look like top-level nodes to the cutter.
    let account = |n: usize| {
        format!("account \"A{n}\" {{\nprotocol \"imap\"\nincoming {{\nserver \"imap.example.com\"\n}}\noutgoing {{\nserver \"smtp.example.com\"\n}}\n}}\n")
    };
    let text: String = (0..40).map(account).collect();
    let whole = stream_way(&text).expect("the stream reads it");
    assert_eq!(whole.len(), 40);
    for parts in 2..8 {
        assert_eq!(
            in_parts(&text, parts).as_ref(),
            Some(&whole),
            "{parts} parts"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1500, ..ProptestConfig::default() })]

    /// Cut into parts read in parallel, a text gives what it gives read in one go.
    #[test]
    fn reading_in_parts_gives_what_reading_in_one_part_gives(
        docs in prop::collection::vec(prop_oneof![near_valid_account(), spliced()], 1..8),
        parts in 2usize..6,
    ) {
        let text = docs.concat();
        prop_assert_eq!(in_parts(&text, parts), stream_way(&text), "{}", text);
    }

    #[test]
    fn the_stream_agrees_with_the_tree_on_generated_nodes(doc in top()) {
        compare_stream(&doc);
    }

    /// No list node repeats apart here, so the stream accepts exactly what the tree accepts.
    #[test]
    fn the_stream_accepts_what_the_tree_accepts_on_near_valid_accounts(doc in near_valid_account()) {
        let (stream, tree) = compare_stream(&doc);
        prop_assert_eq!(stream, tree, "{}", doc);
    }

    #[test]
    fn the_stream_agrees_with_the_tree_on_spliced_text(doc in spliced()) {
        compare_stream(&doc);
    }
}
