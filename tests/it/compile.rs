//! `mailcfg compile` and `mailcfg diff`, run as the real binary.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value as Json;

use crate::harness::{write, BIN, ROOT};

fn mailcfg(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.current_dir(cwd).args(args).env("NO_COLOR", "1");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("mailcfg runs")
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}

fn read_json(p: &Path) -> Json {
    serde_json::from_slice(&fs::read(p).unwrap()).expect("store is JSON")
}

/// Files in `dir`, sorted: what a failing write must leave untouched.
fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

fn examples() -> PathBuf {
    Path::new(ROOT).join("examples/accounts")
}

fn copy_examples(to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(examples()).unwrap() {
        let e = e.unwrap();
        fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

fn validate_store(store: &Json) {
    let schema: Json = serde_json::from_str(
        &fs::read_to_string(Path::new(ROOT).join("schema/store.schema.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).expect("store schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(store)
        .map(|e| format!("{} at {}", e, e.instance_path().as_str()))
        .collect();
    assert!(
        errors.is_empty(),
        "store does not match schema: {errors:#?}"
    );
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The digest recomputed independently: serde_json's map is a BTreeMap, so `to_string` sorts
/// keys and writes no whitespace (the same bytes as `jq -cjS 'del(.source, .digest)'`).
fn expected_digest(item: &Json) -> String {
    let mut v = item.clone();
    let m = v.as_object_mut().unwrap();
    m.remove("source");
    m.remove("digest");
    format!("sha256:{}", sha256_hex(v.to_string().as_bytes()))
}

fn account<'a>(store: &'a Json, name: &str) -> &'a Json {
    store["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == name)
        .unwrap_or_else(|| panic!("account {name} in store"))
}

#[cfg(unix)]
fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[test]
fn store_schema_is_up_to_date() {
    let o = mailcfg(Path::new(ROOT), &["schema", "--store"], &[]);
    assert_eq!(code(&o), 0);
    let checked_in = fs::read_to_string(Path::new(ROOT).join("schema/store.schema.json")).unwrap();
    assert!(
        String::from_utf8_lossy(&o.stdout) == checked_in,
        "schema/store.schema.json is stale: run `cargo run -- schema --store > schema/store.schema.json`"
    );
}

#[test]
fn examples_compile_into_a_store_that_matches_the_schema() {
    let dir = tmp();
    let out = dir.path().join("store.json");
    let o = mailcfg(
        Path::new(ROOT),
        &[
            "compile",
            "examples/accounts",
            "--out",
            out.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(code(&o), 0, "{}", text(&o));
    let store = read_json(&out);
    validate_store(&store);
    assert_eq!(store["format"], "mailcfg-store");
    assert_eq!(store["version"], 2);
    let names: Vec<&str> = store["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "Agents-Outbound",
            "Billing-M365",
            "Facilities",
            "HR",
            "ServiceDesk",
            "Support-Google"
        ]
    );
    let creds: Vec<&str> = store["credentials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(creds, ["google-support", "m365-billing"]);
    assert_eq!(store["system"]["conversation_prefix"], "ACME");
    let hr = account(&store, "HR");
    assert_eq!(hr["source"]["file"], "hr.kdl");
    assert_eq!(hr["source"]["line"], 2);
    for item in store["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .chain(store["credentials"].as_array().unwrap())
    {
        assert_eq!(
            item["digest"],
            expected_digest(item),
            "digest of {}",
            item["name"]
        );
    }
    // The schema is strict: every key is required and no other key is allowed.
    let schema: Json = serde_json::from_str(
        &fs::read_to_string(Path::new(ROOT).join("schema/store.schema.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let mut missing = store.clone();
    missing["accounts"][0]["incoming"]
        .as_object_mut()
        .unwrap()
        .remove("mailbox");
    assert!(!validator.is_valid(&missing), "a missing key is rejected");
    let mut extra = store.clone();
    extra["accounts"][0]["incoming"]["lock"]["other"] = Json::Bool(true);
    assert!(!validator.is_valid(&extra), "an unknown key is rejected");
    let mut port = store.clone();
    port["accounts"][0]["incoming"]["port"] = Json::from(0);
    assert!(!validator.is_valid(&port), "port 0 is rejected");

    // The store round-trips: parsed and written again by `diff`, it equals itself.
    let o = mailcfg(dir.path(), &["diff", "store.json", "store.json"], &[]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    assert!(text(&o).contains("No changes"));
}

const ACCOUNTS: &[(&str, &str)] = &[
    (
        "a.kdl",
        "account \"Zulu\" {\n    protocol \"imap\"\n    incoming {\n        server \"imap.example.com\"\n        user \"z@example.com\"\n        password env=\"ZULU_PW\"\n    }\n    outgoing {\n        server \"smtp.example.com\"\n        security \"tls\"\n    }\n}\n",
    ),
    (
        "b.kdl",
        "account \"Alpha\" {\n    protocol \"pop\"\n    incoming {\n        server \"pop.example.com\"\n        security \"ssl\"\n        user \"a@example.com\"\n        password file=\"alpha.secret\"\n    }\n    outgoing {\n        server \"smtp.example.com\"\n        security \"tls\"\n    }\n}\n",
    ),
    (
        "sub/c.kdl",
        "// Two accounts in one file.\naccount \"Mike\" {\n    protocol \"imap\"\n    incoming { server \"m.example.com\"; user \"m\"; password env=\"MIKE_PW\"; }\n    outgoing {\n        server \"smtp.example.com\"\n        security \"tls\"\n    }\n}\naccount \"Echo\" {\n    protocol \"imap\"\n    incoming { server \"e.example.com\"; user \"e\"; password env=\"ECHO_PW\"; }\n    outgoing {\n        server \"smtp.example.com\"\n        security \"tls\"\n    }\n    conversation-id \"body\"\n}\n",
    ),
    ("system.kdl", "system {\n    conversation-prefix \"TKT\"\n}\n"),
];

#[test]
fn output_is_byte_identical_whatever_the_order_and_place() {
    // Two copies of the same tree, created on disk in opposite orders, in different places.
    let one = tmp();
    let two = tmp();
    let tree_one = one.path().join("accounts");
    let tree_two = two.path().join("deep/er/accounts");
    for (name, content) in ACCOUNTS {
        write(&tree_one, name, content);
    }
    for (name, content) in ACCOUNTS.iter().rev() {
        write(&tree_two, name, content);
    }
    let compile = |cwd: &Path, args: &[&str], out: &Path| -> Vec<u8> {
        let mut all = vec!["compile"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--out", out.to_str().unwrap()]);
        let o = mailcfg(cwd, &all, &[]);
        assert_eq!(code(&o), 0, "{}", text(&o));
        fs::read(out).unwrap()
    };
    let reference = compile(one.path(), &["accounts"], &one.path().join("s1.json"));
    // The other tree, named by absolute path from elsewhere.
    let abs = compile(
        Path::new("/"),
        &[tree_two.to_str().unwrap()],
        &two.path().join("s2.json"),
    );
    assert_eq!(
        String::from_utf8_lossy(&abs),
        String::from_utf8_lossy(&reference)
    );
    // Its files named one by one, in shuffled orders.
    for order in [[2, 0, 3, 1], [3, 2, 1, 0], [1, 3, 0, 2]] {
        let files: Vec<String> = order
            .iter()
            .map(|&i| format!("deep/er/accounts/{}", ACCOUNTS[i].0))
            .collect();
        let args: Vec<&str> = files.iter().map(String::as_str).collect();
        let got = compile(two.path(), &args, &two.path().join("s3.json"));
        assert_eq!(got, reference, "order {order:?}");
    }
    let store: Json = serde_json::from_slice(&reference).unwrap();
    let names: Vec<&str> = store["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Alpha", "Echo", "Mike", "Zulu"]);
    assert_eq!(account(&store, "Echo")["source"]["file"], "sub/c.kdl");
    assert_eq!(account(&store, "Echo")["source"]["line"], 10);
    let text = String::from_utf8_lossy(&reference);
    assert!(!text.contains(one.path().to_str().unwrap()));
    assert!(!text.contains('\\'));
}

#[test]
fn digests_follow_the_account_not_the_file_it_lives_in() {
    let dir = tmp();
    write(&dir.path().join("x"), "a.kdl", ACCOUNTS[0].1);
    write(
        &dir.path().join("y"),
        "renamed/z.kdl",
        &format!("// moved\n\n{}", ACCOUNTS[0].1),
    );
    let mut digests = Vec::new();
    for tree in ["x", "y"] {
        let out = dir.path().join(format!("{tree}.json"));
        let o = mailcfg(
            dir.path(),
            &["compile", tree, "--out", out.to_str().unwrap()],
            &[],
        );
        assert_eq!(code(&o), 0, "{}", text(&o));
        let store = read_json(&out);
        digests.push(account(&store, "Zulu")["digest"].clone());
    }
    assert_eq!(digests[0], digests[1]);
    // ...and `diff` calls that a move, not a change.
    let o = mailcfg(dir.path(), &["diff", "x.json", "y.json"], &[]);
    assert_eq!(code(&o), 1);
    let t = text(&o);
    assert!(
        t.contains("> account \"Zulu\" moved: a.kdl:1 → renamed/z.kdl:3"),
        "{t}"
    );
    assert!(
        t.contains("0 to add, 0 to change, 0 to remove, 1 moved"),
        "{t}"
    );
}

#[test]
fn every_default_is_resolved() {
    let dir = tmp();
    write(
        dir.path(),
        "accounts/defaults.kdl",
        r#"account "Imap-Bare" {
    protocol "imap"
    incoming {
        server "imap.example.com"
        user "bare@example.com"
        password env="BARE_PW"
    }
    outgoing {
        server "smtp.example.com"
    }
}
account "Users-Own-Login" {
    protocol "imap"
    available-to-users #true
    incoming {
        server "imap.example.com"
    }
    outgoing {
        server "smtp.example.com"
        security "tls"
    }
    from {
        allow-user-address #true
    }
    trusted-agent "any"
}
account "Pop-Ssl" {
    protocol "pop"
    incoming {
        server "pop.example.com"
        security "ssl"
        user "p@example.com"
        password env="POP_PW"
    }
    outgoing {
        server "smtp.example.com"
        security "ssl"
        auth "log-on"
        user "p@example.com"
        password env="SMTP_PW"
        lock credentials=#false
    }
    conversation-id "body"
    from {
        address "p@example.com"
    }
    lock credentials=#true
}
account "Imap-Ssl-Credential" {
    protocol "imap"
    available-to-users #true
    incoming {
        server "imap.gmail.com"
        security "ssl"
        user "s@example.com"
        credential "g"
    }
    outgoing {
        server "smtp.gmail.com"
        security "tls"
    }
    conversation-id "subject"
    from {
        address "s@example.com" default=#true
    }
    trusted-agent group="Agents"
    lock server=#false
}
credential "g" {
    type "google"
    service-account "svc@p.iam.gserviceaccount.com"
    private-key file="g.json"
}
system {
    conversation-prefix "HELP"
}
"#,
    );
    let o = mailcfg(
        dir.path(),
        &["compile", "accounts", "--out", "store.json"],
        &[],
    );
    assert_eq!(code(&o), 0, "{}", text(&o));
    let store = read_json(&dir.path().join("store.json"));
    validate_store(&store);

    let bare = account(&store, "Imap-Bare");
    assert_eq!(bare["available_to_users"], false);
    assert_eq!(bare["incoming"]["security"], "auto");
    assert_eq!(bare["incoming"]["port"], 143);
    assert_eq!(bare["incoming"]["mailbox"], "INBOX");
    assert_eq!(bare["incoming"]["authentication"], "password");
    assert_eq!(
        bare["incoming"]["password"],
        serde_json::json!({"env": "BARE_PW"})
    );
    assert_eq!(bare["outgoing"]["security"], "auto");
    assert_eq!(bare["outgoing"]["port"], 25);
    assert_eq!(bare["outgoing"]["auth"], "none");
    assert_eq!(bare["conversation_id"]["placement"], "none");
    assert_eq!(bare["conversation_id"]["prefix"], Json::Null);
    assert_eq!(bare["from"]["allow_user_address"], false);
    assert_eq!(bare["from"]["allow_arbitrary"], false);
    assert_eq!(bare["from"]["addresses"], serde_json::json!([]));
    assert_eq!(bare["trusted_agent"], Json::Null);
    // "By default, server settings are locked and credentials are unlocked", per section.
    for section in ["incoming", "outgoing"] {
        assert_eq!(bare[section]["lock"]["server"], true);
        assert_eq!(bare[section]["lock"]["credentials"], false);
    }

    let own = account(&store, "Users-Own-Login");
    assert_eq!(own["incoming"]["authentication"], "none");
    assert_eq!(own["incoming"]["user"], Json::Null);
    assert_eq!(own["incoming"]["password"], Json::Null);
    assert_eq!(own["incoming"]["credential"], Json::Null);
    assert_eq!(own["from"]["allow_user_address"], true);
    assert_eq!(own["outgoing"]["server"], "smtp.example.com");
    assert_eq!(
        own["trusted_agent"],
        serde_json::json!({"use": "any"}),
        "any Trusted Agent"
    );

    let pop = account(&store, "Pop-Ssl");
    assert_eq!(pop["incoming"]["port"], 995);
    assert_eq!(
        pop["incoming"]["mailbox"],
        Json::Null,
        "POP3 has no mailbox"
    );
    assert_eq!(pop["incoming"]["authentication"], "password");
    assert_eq!(
        pop["incoming"]["password"],
        serde_json::json!({"env": "POP_PW"})
    );
    assert_eq!(pop["outgoing"]["port"], 465);
    assert_eq!(pop["outgoing"]["auth"], "log-on");
    assert_eq!(
        pop["outgoing"]["password"],
        serde_json::json!({"env": "SMTP_PW"})
    );
    assert_eq!(pop["conversation_id"]["placement"], "body");
    assert_eq!(pop["conversation_id"]["prefix"], "HELP");
    assert_eq!(
        pop["from"]["addresses"],
        serde_json::json!([{"address": "p@example.com", "default": false}])
    );
    assert_eq!(
        pop["incoming"]["lock"]["server"], true,
        "server padlock defaults to locked"
    );
    assert_eq!(
        pop["incoming"]["lock"]["credentials"], true,
        "the account's `lock` applies to the incoming section"
    );
    assert_eq!(
        pop["outgoing"]["lock"]["credentials"], false,
        "the outgoing section's own `lock` wins"
    );
    assert_eq!(pop["outgoing"]["lock"]["server"], true);

    let cred = account(&store, "Imap-Ssl-Credential");
    assert_eq!(cred["available_to_users"], true);
    assert_eq!(cred["incoming"]["port"], 993);
    assert_eq!(cred["incoming"]["authentication"], "credential");
    assert_eq!(cred["incoming"]["credential"], "g");
    assert_eq!(cred["outgoing"]["server"], "smtp.gmail.com");
    assert_eq!(cred["conversation_id"]["placement"], "subject");
    assert_eq!(cred["conversation_id"]["prefix"], "HELP");
    assert_eq!(
        cred["trusted_agent"],
        serde_json::json!({"use": "group", "group": "Agents"})
    );
    for section in ["incoming", "outgoing"] {
        assert_eq!(cred[section]["lock"]["server"], false);
        assert_eq!(cred[section]["lock"]["credentials"], false);
    }

    let g = &store["credentials"][0];
    assert_eq!(g["type"], "google");
    assert_eq!(g["private_key"], serde_json::json!({"file": "g.json"}));
    assert_eq!(g["client_secret"], Json::Null);
}

const LITERAL: &str = r#"account "Literal" {
    protocol "imap"
    incoming {
        server "imap.example.com"
        user "l@example.com"
        password "Sup3r-Secret-Literal"
    }
    outgoing {
        server "smtp.example.com"
        security "tls"
    }
}
"#;

const REFERENCES: &str = r#"account "Refs" {
    protocol "imap"
    incoming {
        server "imap.example.com"
        user "r@example.com"
        password env="REFS_IMAP_PW"
    }
    outgoing {
        server "smtp.example.com"
        auth "log-on"
        user "r@example.com"
        password file="secrets/smtp.txt"
    }
}
"#;

#[test]
fn secrets_stay_references_by_default() {
    let dir = tmp();
    write(dir.path(), "accounts/refs.kdl", REFERENCES);
    let o = mailcfg(
        dir.path(),
        &["compile", "accounts", "--out", "store.json"],
        &[("REFS_IMAP_PW", "from-the-env-123")],
    );
    assert_eq!(code(&o), 0, "{}", text(&o));
    let raw = fs::read_to_string(dir.path().join("store.json")).unwrap();
    assert!(!raw.contains("from-the-env-123"));
    let store: Json = serde_json::from_str(&raw).unwrap();
    let refs = account(&store, "Refs");
    assert_eq!(
        refs["incoming"]["password"],
        serde_json::json!({"env": "REFS_IMAP_PW"})
    );
    assert_eq!(
        refs["outgoing"]["password"],
        serde_json::json!({"file": "secrets/smtp.txt"})
    );
    #[cfg(unix)]
    assert_eq!(mode(&dir.path().join("store.json")), 0o644);

    // A literal is refused, located, and never echoed.
    write(dir.path(), "accounts/literal.kdl", LITERAL);
    let o = mailcfg(
        dir.path(),
        &["compile", "accounts", "--out", "store.json"],
        &[],
    );
    assert_eq!(code(&o), 1, "{}", text(&o));
    let t = text(&o);
    assert!(t.contains("store-inline-secret"), "{t}");
    assert!(
        t.contains("account \"Literal\" incoming password is a literal secret"),
        "{t}"
    );
    assert!(t.contains("literal.kdl:6:9"), "{t}");
    assert!(t.contains("--allow-inline-secrets"), "{t}");
    assert!(!t.contains("Sup3r-Secret-Literal"), "{t}");
    assert_eq!(
        fs::read_to_string(dir.path().join("store.json")).unwrap(),
        raw
    );
}

#[test]
fn allow_inline_secrets_copies_literals_into_a_private_store() {
    let dir = tmp();
    write(dir.path(), "accounts/literal.kdl", LITERAL);
    let o = mailcfg(
        dir.path(),
        &[
            "compile",
            "accounts",
            "--out",
            "store.json",
            "--allow-inline-secrets",
        ],
        &[],
    );
    assert_eq!(code(&o), 0, "{}", text(&o));
    assert!(!text(&o).contains("Sup3r-Secret-Literal"));
    let store = read_json(&dir.path().join("store.json"));
    validate_store(&store);
    assert_eq!(
        account(&store, "Literal")["incoming"]["password"],
        serde_json::json!({"value": "Sup3r-Secret-Literal"})
    );
    #[cfg(unix)]
    assert_eq!(mode(&dir.path().join("store.json")), 0o600);
}

#[test]
fn resolve_secrets_inlines_values_with_mode_0600() {
    let dir = tmp();
    write(dir.path(), "accounts/refs.kdl", REFERENCES);
    // Relative to the account file's directory; the trailing newline is not part of the secret.
    write(
        dir.path(),
        "accounts/secrets/smtp.txt",
        "smtp-file-secret-456\n",
    );
    // A world-readable store is replaced by a private one.
    fs::write(dir.path().join("store.json"), "{}\n").unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(
            dir.path().join("store.json"),
            fs::Permissions::from_mode(0o644),
        )
        .unwrap();
    }
    let o = mailcfg(
        dir.path(),
        &[
            "compile",
            "accounts",
            "--out",
            "store.json",
            "--resolve-secrets",
        ],
        &[("REFS_IMAP_PW", "from-the-env-123")],
    );
    assert_eq!(code(&o), 0, "{}", text(&o));
    let t = text(&o);
    assert!(
        !t.contains("from-the-env-123") && !t.contains("smtp-file-secret-456"),
        "{t}"
    );
    let store = read_json(&dir.path().join("store.json"));
    validate_store(&store);
    let refs = account(&store, "Refs");
    assert_eq!(
        refs["incoming"]["password"],
        serde_json::json!({"value": "from-the-env-123", "resolved_from": {"env": "REFS_IMAP_PW"}})
    );
    assert_eq!(
        refs["outgoing"]["password"],
        serde_json::json!({"value": "smtp-file-secret-456", "resolved_from": {"file": "secrets/smtp.txt"}})
    );
    #[cfg(unix)]
    assert_eq!(mode(&dir.path().join("store.json")), 0o600);
}

#[test]
fn unresolvable_secrets_name_the_account_and_reference_but_never_a_value() {
    let dir = tmp();
    write(dir.path(), "accounts/refs.kdl", REFERENCES);
    fs::write(dir.path().join("store.json"), "previous store\n").unwrap();
    // The variable is missing and the file does not exist.
    let o = Command::new(BIN)
        .current_dir(dir.path())
        .args([
            "compile",
            "accounts",
            "--out",
            "store.json",
            "--resolve-secrets",
        ])
        .env("NO_COLOR", "1")
        .env_remove("REFS_IMAP_PW")
        .output()
        .unwrap();
    assert_eq!(code(&o), 1, "{}", text(&o));
    let t = text(&o);
    assert!(t.contains("secret-unresolved"), "{t}");
    assert!(
        t.contains(
            "account \"Refs\" incoming password (env=\"REFS_IMAP_PW\"): environment variable"
        ) && t.contains("REFS_IMAP_PW is not set"),
        "{t}"
    );
    assert!(
        t.contains("account \"Refs\" outgoing password (file=\"secrets/smtp.txt\")"),
        "{t}"
    );
    assert!(t.contains("no such file or directory"), "{t}");
    assert_eq!(
        fs::read_to_string(dir.path().join("store.json")).unwrap(),
        "previous store\n"
    );

    // One resolves, the other does not: the resolved value still appears nowhere.
    let o = mailcfg(
        dir.path(),
        &[
            "compile",
            "accounts",
            "--out",
            "store.json",
            "--resolve-secrets",
        ],
        &[("REFS_IMAP_PW", "resolved-but-unused-789")],
    );
    assert_eq!(code(&o), 1);
    assert!(!text(&o).contains("resolved-but-unused-789"));
    assert_eq!(listing(dir.path()), ["accounts", "store.json"]);
}

#[test]
fn a_failing_compile_leaves_the_old_store_byte_identical() {
    let dir = tmp();
    copy_examples(&dir.path().join("accounts"));
    let o = mailcfg(
        dir.path(),
        &["compile", "accounts", "--out", "store.json"],
        &[],
    );
    assert_eq!(code(&o), 0, "{}", text(&o));
    let before = fs::read(dir.path().join("store.json")).unwrap();

    // A check error: nothing is written, the diagnostics are shown.
    fs::copy(
        Path::new(ROOT).join("examples/broken/port-out-of-range.kdl"),
        dir.path().join("accounts/broken.kdl"),
    )
    .unwrap();
    let o = mailcfg(
        dir.path(),
        &["compile", "accounts", "--out", "store.json"],
        &[],
    );
    assert_eq!(code(&o), 1, "{}", text(&o));
    let t = text(&o);
    assert!(
        t.contains("broken.kdl") && t.contains("store not written"),
        "{t}"
    );
    assert_eq!(fs::read(dir.path().join("store.json")).unwrap(), before);
    assert_eq!(listing(dir.path()), ["accounts", "store.json"]);
    fs::remove_file(dir.path().join("accounts/broken.kdl")).unwrap();

    // An input path does not exist.
    let o = mailcfg(
        dir.path(),
        &["compile", "accounts", "nowhere", "--out", "store.json"],
        &[],
    );
    assert_eq!(code(&o), 2, "{}", text(&o));
    assert!(
        text(&o).contains("nowhere: no such file or directory"),
        "{}",
        text(&o)
    );
    assert_eq!(fs::read(dir.path().join("store.json")).unwrap(), before);

    // The target is a directory: the rename fails, and the temporary file goes with it.
    fs::create_dir(dir.path().join("taken")).unwrap();
    let o = mailcfg(dir.path(), &["compile", "accounts", "--out", "taken"], &[]);
    assert_eq!(code(&o), 2, "{}", text(&o));
    assert_eq!(listing(dir.path()), ["accounts", "store.json", "taken"]);
    assert!(listing(&dir.path().join("taken")).is_empty());
    fs::remove_dir(dir.path().join("taken")).unwrap();

    // The target directory does not exist.
    let o = mailcfg(
        dir.path(),
        &["compile", "accounts", "--out", "missing/store.json"],
        &[],
    );
    assert_eq!(code(&o), 2, "{}", text(&o));
    assert!(text(&o).contains("does not exist"), "{}", text(&o));
    assert_eq!(listing(dir.path()), ["accounts", "store.json"]);
}

#[test]
fn warnings_block_only_with_deny_warnings() {
    let dir = tmp();
    write(dir.path(), "accounts/a.kdl", ACCOUNTS[0].1);
    write(dir.path(), "accounts/empty.kdl", "// nothing here yet\n");
    let o = mailcfg(
        dir.path(),
        &["compile", "accounts", "--out", "store.json"],
        &[],
    );
    assert_eq!(code(&o), 0, "{}", text(&o));
    assert!(text(&o).contains("empty-file"));
    let before = fs::read(dir.path().join("store.json")).unwrap();
    write(dir.path(), "accounts/b.kdl", ACCOUNTS[1].1);
    let o = mailcfg(
        dir.path(),
        &[
            "compile",
            "accounts",
            "--out",
            "store.json",
            "--deny-warnings",
        ],
        &[],
    );
    assert_eq!(code(&o), 1, "{}", text(&o));
    assert_eq!(fs::read(dir.path().join("store.json")).unwrap(), before);
}

/// Runs `mailcfg compile` under a file-size limit, through the shell's `ulimit`: the write of
/// the new store fails part-way (with XFSZ ignored: an error, like a full disk) or the process
/// is killed mid-write (the default action of SIGXFSZ).
#[cfg(target_os = "linux")]
fn compile_with_size_limit(dir: &Path, ignore_signal: bool) -> Output {
    let trap = if ignore_signal { "trap '' XFSZ; " } else { "" };
    Command::new("sh")
        .current_dir(dir)
        .arg("-c")
        .arg(format!(
            "{trap}ulimit -c 0; ulimit -f 2; exec \"$0\" compile accounts --out store/store.json"
        ))
        .arg(BIN)
        .env("NO_COLOR", "1")
        .output()
        .expect("sh runs")
}

#[cfg(target_os = "linux")]
#[test]
fn a_failed_or_killed_write_leaves_the_old_store_and_no_temporary_file() {
    use std::os::unix::process::ExitStatusExt;
    let dir = tmp();
    copy_examples(&dir.path().join("accounts"));
    fs::create_dir(dir.path().join("store")).unwrap();
    // A small old store (it must fit the limit only to have been written; reading is unlimited).
    let old = b"{\"old\": \"store\"}\n";
    fs::write(dir.path().join("store/store.json"), old).unwrap();

    let o = compile_with_size_limit(dir.path(), true);
    assert_eq!(code(&o), 2, "{}", text(&o));
    assert!(
        text(&o).contains("the previous store is unchanged"),
        "{}",
        text(&o)
    );
    assert_eq!(fs::read(dir.path().join("store/store.json")).unwrap(), old);
    assert_eq!(listing(&dir.path().join("store")), ["store.json"]);

    let o = compile_with_size_limit(dir.path(), false);
    assert_eq!(
        o.status.signal(),
        Some(25),
        "killed by SIGXFSZ: {}",
        text(&o)
    );
    assert_eq!(fs::read(dir.path().join("store/store.json")).unwrap(), old);
    assert_eq!(listing(&dir.path().join("store")), ["store.json"]);

    // Without the limit the same command replaces the store.
    let o = mailcfg(
        dir.path(),
        &["compile", "accounts", "--out", "store/store.json"],
        &[],
    );
    assert_eq!(code(&o), 0, "{}", text(&o));
    assert_ne!(fs::read(dir.path().join("store/store.json")).unwrap(), old);
    assert_eq!(listing(&dir.path().join("store")), ["store.json"]);
}

#[test]
fn check_reports_drift_with_a_readable_plan() {
    let dir = tmp();
    copy_examples(&dir.path().join("accounts"));
    let out = ["compile", "accounts", "--out", "store.json"];
    let check = ["compile", "accounts", "--out", "store.json", "--check"];

    let o = mailcfg(dir.path(), &check, &[]);
    assert_eq!(code(&o), 1, "a missing store is out of date");
    assert!(text(&o).contains("out of date"), "{}", text(&o));
    assert_eq!(listing(dir.path()), ["accounts"], "--check writes nothing");

    assert_eq!(code(&mailcfg(dir.path(), &out, &[])), 0);
    let o = mailcfg(dir.path(), &check, &[]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    assert!(text(&o).contains("up to date"));

    let hr = dir.path().join("accounts/hr.kdl");
    let edited = fs::read_to_string(&hr)
        .unwrap()
        .replace("security \"tls\"", "security \"ssl\"");
    fs::write(&hr, edited).unwrap();
    let before = fs::read(dir.path().join("store.json")).unwrap();
    let o = mailcfg(dir.path(), &check, &[]);
    assert_eq!(code(&o), 1, "{}", text(&o));
    let t = text(&o);
    assert!(t.contains("~ account \"HR\" (hr.kdl:2)"), "{t}");
    assert!(t.contains("incoming.security: \"tls\" → \"ssl\""), "{t}");
    assert!(t.contains("incoming.port: 143 → 993"), "{t}");
    assert!(
        t.contains("Plan: 0 to add, 1 to change, 0 to remove."),
        "{t}"
    );
    assert!(t.contains("run `mailcfg compile`"), "{t}");
    assert_eq!(fs::read(dir.path().join("store.json")).unwrap(), before);

    // Same content, different bytes (reformatted by hand): still drift, said plainly.
    assert_eq!(code(&mailcfg(dir.path(), &out, &[])), 0);
    let compact = serde_json::to_string(&read_json(&dir.path().join("store.json"))).unwrap();
    fs::write(dir.path().join("store.json"), compact).unwrap();
    let o = mailcfg(dir.path(), &check, &[]);
    assert_eq!(code(&o), 1);
    assert!(
        text(&o).contains("content is the same but the bytes differ"),
        "{}",
        text(&o)
    );
}

fn compile_tree(dir: &Path, tree: &str, out: &str, env: &[(&str, &str)], extra: &[&str]) {
    let mut args = vec!["compile", tree, "--out", out];
    args.extend_from_slice(extra);
    let o = mailcfg(dir, &args, env);
    assert_eq!(code(&o), 0, "{}", text(&o));
}

#[test]
fn diff_shows_added_removed_and_changed_accounts() {
    let dir = tmp();
    copy_examples(&dir.path().join("old"));
    copy_examples(&dir.path().join("new"));
    let new = dir.path().join("new");
    fs::remove_file(new.join("legacy-pop.kdl")).unwrap();
    write(&new, "zz-new.kdl", ACCOUNTS[0].1);
    let sd = fs::read_to_string(new.join("servicedesk.kdl"))
        .unwrap()
        .replace(
            "server \"imap.example.com\"",
            "server \"imap2.example.com\"",
        )
        .replace("SERVICEDESK_IMAP_PASSWORD", "SD_IMAP_PASSWORD")
        .replace(
            "        address \"Service Desk <noreply@example.com>\"\n",
            "",
        );
    fs::write(new.join("servicedesk.kdl"), sd).unwrap();
    compile_tree(dir.path(), "old", "old.json", &[], &[]);
    compile_tree(dir.path(), "new", "new.json", &[], &[]);

    let o = mailcfg(dir.path(), &["diff", "old.json", "new.json"], &[]);
    assert_eq!(code(&o), 1, "{}", text(&o));
    let t = String::from_utf8_lossy(&o.stdout).into_owned();
    let expected = "\
- account \"Facilities\" (was legacy-pop.kdl:2)
~ account \"ServiceDesk\" (servicedesk.kdl:2)
    from.addresses[1].address: \"Service Desk <noreply@example.com>\" → (none)
    from.addresses[1].default: false → (none)
    incoming.password: env=\"SERVICEDESK_IMAP_PASSWORD\" → env=\"SD_IMAP_PASSWORD\"
    incoming.server: \"imap.example.com\" → \"imap2.example.com\"
+ account \"Zulu\" (zz-new.kdl:1)
";
    assert!(t.starts_with(expected), "{t}");
    assert!(
        t.contains("    incoming.server: \"imap.example.com\"\n"),
        "{t}"
    );
    assert!(
        t.ends_with("Plan: 1 to add, 1 to change, 1 to remove.\n"),
        "{t}"
    );

    let o = mailcfg(
        dir.path(),
        &["diff", "old.json", "new.json", "--format", "json"],
        &[],
    );
    assert_eq!(code(&o), 1);
    let plan: Json = serde_json::from_slice(&o.stdout).expect("plan is JSON");
    assert_eq!(plan["format"], "mailcfg-plan");
    assert_eq!(plan["identical"], false);
    assert_eq!(
        plan["summary"],
        serde_json::json!({"added": 1, "removed": 1, "changed": 1, "moved": 0})
    );
    let changes = plan["changes"].as_array().unwrap();
    let actions: Vec<(&str, &str)> = changes
        .iter()
        .map(|c| (c["name"].as_str().unwrap(), c["action"].as_str().unwrap()))
        .collect();
    assert_eq!(
        actions,
        [
            ("Facilities", "removed"),
            ("ServiceDesk", "changed"),
            ("Zulu", "added")
        ]
    );
    let pw = changes[1]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == "incoming.password")
        .unwrap();
    assert_eq!(pw["secret"], true);
    assert_eq!(
        pw["old"],
        serde_json::json!({"env": "SERVICEDESK_IMAP_PASSWORD"})
    );

    // Identical stores, from stdin too.
    let o = Command::new(BIN)
        .current_dir(dir.path())
        .args(["diff", "-", "old.json"])
        .stdin(fs::File::open(dir.path().join("old.json")).unwrap())
        .output()
        .unwrap();
    assert_eq!(code(&o), 0, "{}", text(&o));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "No changes: the stores are identical.\n"
    );

    // Not a store: a usage error, not a difference.
    fs::write(dir.path().join("junk.json"), "{\"format\": \"other\"}").unwrap();
    let o = mailcfg(dir.path(), &["diff", "old.json", "junk.json"], &[]);
    assert_eq!(code(&o), 2);
    assert!(
        text(&o).contains("junk.json: not a mailcfg store"),
        "{}",
        text(&o)
    );
}

#[test]
fn diff_never_shows_secret_values() {
    let dir = tmp();
    write(dir.path(), "accounts/refs.kdl", REFERENCES);
    write(
        dir.path(),
        "accounts/secrets/smtp.txt",
        "smtp-file-secret-456\n",
    );
    let resolve = ["--resolve-secrets"];
    compile_tree(
        dir.path(),
        "accounts",
        "one.json",
        &[("REFS_IMAP_PW", "first-value-111")],
        &resolve,
    );
    compile_tree(
        dir.path(),
        "accounts",
        "two.json",
        &[("REFS_IMAP_PW", "second-value-222")],
        &resolve,
    );
    compile_tree(dir.path(), "accounts", "refs.json", &[], &[]);
    for format in ["human", "json"] {
        let o = mailcfg(
            dir.path(),
            &["diff", "one.json", "two.json", "--format", format],
            &[],
        );
        assert_eq!(code(&o), 1, "{}", text(&o));
        let t = text(&o);
        for secret in [
            "first-value-111",
            "second-value-222",
            "smtp-file-secret-456",
        ] {
            assert!(!t.contains(secret), "{format}: {t}");
        }
        assert!(t.contains("incoming.password"), "{t}");
        assert!(
            !t.contains("outgoing.password"),
            "unchanged secrets are not listed: {t}"
        );
        if format == "human" {
            assert!(t.contains("(secret value, resolved from env=\"REFS_IMAP_PW\") → (secret value, resolved from env=\"REFS_IMAP_PW\") (value changed)"), "{t}");
        }
        let o = mailcfg(
            dir.path(),
            &["diff", "refs.json", "two.json", "--format", format],
            &[],
        );
        let t = text(&o);
        assert!(
            !t.contains("second-value-222") && !t.contains("smtp-file-secret-456"),
            "{t}"
        );
    }
}

/// The fenced blocks of a Markdown file: (info string, body).
fn fenced_blocks(markdown: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut current: Option<(String, String)> = None;
    for line in markdown.lines() {
        match (&mut current, line.strip_prefix("```")) {
            (None, Some(info)) => current = Some((info.trim().to_string(), String::new())),
            (Some(_), Some("")) => out.push(current.take().unwrap()),
            (Some((_, body)), _) => {
                body.push_str(line);
                body.push('\n');
            }
            (None, None) => {}
        }
    }
    out
}

fn doc(name: &str) -> String {
    fs::read_to_string(Path::new(ROOT).join(name)).unwrap()
}

/// docs/compile.md: each ```kdl PATH block is written, the ```json block is the store they
/// compile to, the ```text plan block is `mailcfg diff` after the later blocks.
#[test]
fn docs_examples_produce_the_documented_store_and_plan() {
    let dir = tmp();
    let mut checked = 0;
    for (info, body) in fenced_blocks(&doc("docs/compile.md")) {
        let mut words = info.split_whitespace();
        match (words.next(), words.next()) {
            (Some("kdl"), Some(path)) => {
                write(dir.path(), path, &body);
            }
            (Some("json"), Some(store)) => {
                compile_tree(dir.path(), "accounts", store, &[], &[]);
                assert_eq!(fs::read_to_string(dir.path().join(store)).unwrap(), body);
                checked += 1;
            }
            (Some("text"), Some("plan")) => {
                compile_tree(dir.path(), "accounts", "new-store.json", &[], &[]);
                let o = mailcfg(
                    dir.path(),
                    &["diff", "mailcfg-store.json", "new-store.json"],
                    &[],
                );
                assert_eq!(code(&o), 1, "{}", text(&o));
                assert_eq!(String::from_utf8_lossy(&o.stdout), body);
                checked += 1;
            }
            _ => {}
        }
    }
    assert_eq!(checked, 2, "the store and the plan example were both found");
}

/// The GitOps flow, as README.md and docs/compile.md give it, run in a real git repository.
#[test]
fn the_documented_gitops_flow_runs() {
    let blocks = fenced_blocks(&doc("docs/compile.md"));
    let flow = &blocks.iter().find(|(i, _)| i == "sh gitops").unwrap().1;
    let readme = fenced_blocks(&doc("README.md"));
    assert_eq!(
        &readme.iter().find(|(i, _)| i == "sh gitops").unwrap().1,
        flow,
        "README.md and docs/compile.md show the same flow"
    );
    let kdl: Vec<(&str, &str)> = blocks
        .iter()
        .filter_map(|(i, b)| i.strip_prefix("kdl ").map(|p| (p, b.as_str())))
        .collect();
    let plan = &blocks.iter().find(|(i, _)| i == "text plan").unwrap().1;

    let dir = tmp();
    let repo = dir.path();
    let git = |args: &[&str]| {
        let o = Command::new("git")
            .current_dir(repo)
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args(args)
            .output()
            .expect("git runs");
        assert!(o.status.success(), "git {args:?}: {}", text(&o));
    };
    git(&["init", "-q"]);
    // main: the first version of the files and its store.
    write(repo, kdl[0].0, kdl[0].1);
    compile_tree(repo, "accounts/", "mailcfg-store.json", &[], &[]);
    git(&["add", "-A"]);
    git(&["commit", "-qm", "main"]);
    git(&["update-ref", "refs/remotes/origin/main", "HEAD"]);
    // The change under review.
    for (path, body) in &kdl[1..] {
        write(repo, path, body);
    }
    let bin_dir = Path::new(BIN).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let o = Command::new("bash")
        .current_dir(repo)
        .args(["-euo", "pipefail", "-c", flow])
        .env("PATH", path)
        .env("NO_COLOR", "1")
        .output()
        .expect("bash runs");
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(&fs::read_to_string(repo.join("plan.txt")).unwrap(), plan);
}

// compile writes exactly when check passes (issue 12): the same workspace, the same verdict.

/// Whether `mailcfg check PATHS` passes (exit 0) and whether `mailcfg compile PATHS` writes.
fn check_and_compile(cwd: &Path, paths: &[&str]) -> (bool, bool, String) {
    let mut check = vec!["check", "--format", "concise"];
    check.extend(paths);
    let c = mailcfg(cwd, &check, &[]);
    let out = tempfile::tempdir().unwrap();
    let store = out.path().join("store.json");
    let mut compile = vec![
        "compile",
        "--allow-inline-secrets",
        "--out",
        store.to_str().unwrap(),
    ];
    compile.extend(paths);
    let k = mailcfg(cwd, &compile, &[]);
    assert!(
        matches!(code(&c), 0 | 1) && matches!(code(&k), 0 | 1),
        "{paths:?}: {}\n{}",
        text(&c),
        text(&k)
    );
    assert_eq!(code(&k) == 0, store.exists(), "{}", text(&k));
    (
        code(&c) == 0,
        code(&k) == 0,
        format!("{}\n{}", text(&c), text(&k)),
    )
}

#[test]
fn compile_writes_exactly_when_check_passes_on_every_example_and_fixture() {
    let project = tmp();
    copy_dir(
        &Path::new(ROOT).join("tests/data/formats/project"),
        project.path(),
    );
    fs::create_dir(project.path().join(".git")).unwrap();
    let trees = [
        Path::new(ROOT).join("examples/accounts"),
        Path::new(ROOT).join("examples/broken"),
        Path::new(ROOT).join("tests/data/formats/docs-example"),
        project.path().to_path_buf(),
    ];
    let mut runs = 0;
    for tree in &trees {
        // The whole tree, then each of its files named alone (as pre-commit names them).
        let mut named: Vec<String> = vec![".".into()];
        for e in walk(tree) {
            named.push(e);
        }
        for n in &named {
            let (checked, compiled, out) = check_and_compile(tree, &[n.as_str()]);
            assert_eq!(checked, compiled, "{}: {n}\n{out}", tree.display());
            runs += 1;
        }
    }
    assert!(runs > 30, "only {runs} runs");
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            fs::copy(e.path(), &target).unwrap();
        }
    }
}

/// The `.kdl` files under `dir`, relative to it.
fn walk(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "kdl") {
                out.push(p.strip_prefix(dir).unwrap().to_string_lossy().into_owned());
            }
        }
    }
    out.sort();
    out
}

#[test]
fn a_second_system_node_or_credential_name_fails_check_and_compile_alike() {
    let dir = tmp();
    let d = dir.path();
    copy_examples(d);
    // A second `system` in another file: check fails at it, pointing at the first, even when
    // only an account file is named; compile refuses the same tree.
    write(
        d,
        "zz-system.kdl",
        "system {\n    conversation-prefix \"ZZ\"\n}\n",
    );
    for named in [".", "hr.kdl"] {
        let (checked, compiled, out) = check_and_compile(d, &[named]);
        assert!(!checked && !compiled, "{named}: {out}");
        assert!(
            out.contains("zz-system.kdl:1:1: error[multiple-system]"),
            "{out}"
        );
    }
    let o = mailcfg(d, &["check", "--format", "json", "."], &[]);
    let report: Json = serde_json::from_slice(&o.stdout).unwrap();
    let d0 = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["rule"] == "multiple-system")
        .unwrap();
    assert_eq!(d0["related"][0]["location"]["file"], "system.kdl", "{d0}");
    fs::remove_file(d.join("zz-system.kdl")).unwrap();
    // Two credentials equal ignoring case, in two files and in one.
    let cred = fs::read_to_string(d.join("credentials.kdl")).unwrap();
    let first = cred.split("credential \"").nth(1).unwrap();
    let name = &first[..first.find('"').unwrap()];
    let upper = format!(
        "credential \"{}\"{}",
        name.to_uppercase(),
        &first[first.find('"').unwrap() + 1..first.find("\ncredential").unwrap_or(first.len())]
    );
    write(d, "more-credentials.kdl", &upper);
    let (checked, compiled, out) = check_and_compile(d, &["."]);
    assert!(!checked && !compiled, "{out}");
    assert!(
        out.contains("more-credentials.kdl:1:12: error[duplicate-credential-name]"),
        "{out}"
    );
    fs::remove_file(d.join("more-credentials.kdl")).unwrap();
    write(d, "credentials.kdl", &format!("{cred}\n{upper}"));
    let (checked, compiled, out) = check_and_compile(d, &["credentials.kdl"]);
    assert!(!checked && !compiled, "{out}");
    assert!(out.contains("error[duplicate-credential-name]"), "{out}");
}

mod verdict {
    use std::path::{Path, PathBuf};

    use mailcfg::compile::{compile_workspace, Options};
    use mailcfg::diagnostics::Level;
    use mailcfg::workspace::{Named, Workspace};
    use proptest::prelude::*;

    /// One top-level item of a generated file.
    fn item() -> impl Strategy<Value = String> {
        let account = (
            prop::sample::select(vec!["Support", "support", "Billing"]),
            prop::sample::select(vec![
                "imap.gmail.com",
                "imap.example.com",
                "imap.example.com:993",
                "not a host",
            ]),
            prop::sample::select(vec![
                "password env=\"P\"",
                "password \"literal-secret\"",
                "credential \"google\"",
                "credential \"GOOGLE\"",
                "credential \"missing\"",
                "",
            ]),
            prop::sample::select(vec!["port 993", "port \"993\"", "port 143", ""]),
            prop::sample::select(vec!["ssl", "tls", "starttls"]),
        )
            .prop_map(|(name, server, auth, port, security)| {
                format!(
                    "account \"{name}\" {{\n    protocol \"imap\"\n    conversation-id \"subject\"\n    incoming {{\n        server \"{server}\"\n        security \"{security}\"\n        user \"u@example.com\"\n        {auth}\n        {port}\n    }}\n    outgoing {{\n        server \"smtp.example.com\"\n        security \"tls\"\n    }}\n}}\n"
                )
            });
        let credential = prop::sample::select(vec!["google", "GOOGLE", "other"]).prop_map(|n| {
            format!(
                "credential \"{n}\" {{\n    type \"google\"\n    service-account \"mail@p.iam.gserviceaccount.com\"\n    private-key file=\"key.json\"\n}}\n"
            )
        });
        let system = prop::sample::select(vec!["ACME", "X1", "toolongprefix"])
            .prop_map(|p| format!("system {{\n    conversation-prefix \"{p}\"\n}}\n"));
        prop_oneof![6 => account, 3 => credential, 3 => system, 1 => Just("oops {\n".to_string())]
    }

    fn tree() -> impl Strategy<Value = Vec<Vec<String>>> {
        prop::collection::vec(prop::collection::vec(item(), 0..3), 1..4)
    }

    fn verdicts(dir: &Path, named: Vec<PathBuf>) -> (bool, bool) {
        let plan = || Workspace::plan(Named::Paths(named.clone()), None).expect("no configuration");
        let passes = !plan().check().fails_at(Level::Error);
        let opts = Options {
            allow_inline_secrets: true,
            ..Options::default()
        };
        let (_, compiled) = compile_workspace(&plan(), &[dir.to_path_buf()], &opts, Level::Error);
        (passes, matches!(compiled, Some(Ok(_))))
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        #[test]
        fn compile_writes_exactly_when_check_passes(files in tree(), pick in 0usize..8) {
            let dir = tempfile::tempdir().unwrap();
            std::fs::create_dir(dir.path().join(".git")).unwrap();
            let mut paths = Vec::new();
            for (i, items) in files.iter().enumerate() {
                let p = dir.path().join(format!("f{i}.kdl"));
                std::fs::write(&p, items.concat()).unwrap();
                paths.push(p);
            }
            // The whole tree, or one file named alone within it.
            let named = match paths.get(pick) {
                Some(p) => vec![p.clone()],
                None => vec![dir.path().to_path_buf()],
            };
            let (passes, writes) = verdicts(dir.path(), named);
            prop_assert_eq!(passes, writes, "{:#?}", files);
        }
    }
}

#[test]
fn out_dash_writes_the_store_to_stdout() {
    let dir = tmp();
    let d = dir.path();
    copy_examples(d);
    let o = mailcfg(d, &["compile", ".", "--out", "store.json"], &[]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    let o = mailcfg(d, &["compile", ".", "--out", "-"], &[]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    // The same bytes as the file, nothing else on stdout; no file named `-`.
    assert_eq!(o.stdout, fs::read(d.join("store.json")).unwrap());
    assert!(!d.join("-").exists());
    assert!(String::from_utf8_lossy(&o.stderr).contains("wrote the store to stdout"));
    // Findings go to stderr, so stdout stays a valid store.
    write(d, "extra.kdl", "account \"Extra\" {\n    protocol \"imap\"\n    conversation-id \"subject\"\n    incoming {\n        server \"imap.example.com\"\n        security \"auto\"\n        user \"x@example.com\"\n        password env=\"X\"\n    }\n    outgoing {\n        server \"smtp.example.com\"\n        security \"tls\"\n    }\n}\n");
    let o = mailcfg(d, &["compile", ".", "--out", "-"], &[]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    let store: Json = serde_json::from_slice(&o.stdout).expect("stdout is the store alone");
    validate_store(&store);
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("auto-security"),
        "{}",
        text(&o)
    );
    // A blocked compile writes nothing to stdout.
    write(d, "broken.kdl", "account \"B\" {\n");
    let o = mailcfg(d, &["compile", ".", "--out", "-"], &[]);
    assert_eq!(code(&o), 1, "{}", text(&o));
    assert!(o.stdout.is_empty());
}
