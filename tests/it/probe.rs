//! `mailcfg probe` against REAL servers: Dovecot (IMAP, POP3) and Postfix (SMTP) on loopback,
//! started by `scripts/mailservers.sh start` (scripts/test.sh does it). Each test asserts the
//! stage that failed, the rule, and the KDL line the diagnostic points at.
//!
//! Skipped (with a message) only when MAILSRV_DIR is unset.

use std::collections::HashMap;
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

struct Env(HashMap<String, String>);

impl Env {
    fn get(&self, k: &str) -> String {
        self.0
            .get(k)
            .cloned()
            .unwrap_or_else(|| panic!("{k} missing from $MAILSRV_DIR/env"))
    }
}

/// The servers' settings from `$MAILSRV_DIR/env`; None (test skipped) when MAILSRV_DIR is unset.
fn servers() -> Option<Env> {
    let Some(dir) = std::env::var_os("MAILSRV_DIR") else {
        eprintln!(
            "SKIPPED: MAILSRV_DIR is unset; run `bash scripts/mailservers.sh start` and export \
             MAILSRV_DIR (scripts/test.sh does both) to run the probe tests"
        );
        return None;
    };
    let path = Path::new(&dir).join("env");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "MAILSRV_DIR is set but {} cannot be read ({e}): start the servers with \
             `bash scripts/mailservers.sh start`",
            path.display()
        )
    });
    let map = text
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Some(Env(map))
}

struct Out {
    code: i32,
    stdout: String,
    elapsed: Duration,
    kdl: String,
}

impl Out {
    /// The 1-based line of the first line of the KDL that contains `needle`.
    fn line_of(&self, needle: &str) -> usize {
        self.kdl
            .lines()
            .position(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("{needle:?} not in the test KDL"))
            + 1
    }

    /// The lines (in the snippet header `╭─[accounts.kdl:LINE:COL]`) of every diagnostic of `rule`.
    fn diag_lines(&self, rule: &str) -> Vec<usize> {
        let lines: Vec<&str> = self.stdout.lines().collect();
        let mut found = Vec::new();
        for (i, l) in lines.iter().enumerate() {
            if l.trim() != rule {
                continue;
            }
            for next in &lines[i + 1..] {
                if let Some(rest) = next.split("accounts.kdl:").nth(1) {
                    let n = rest.split(':').next().unwrap().parse().unwrap();
                    found.push(n);
                    break;
                }
                if next.starts_with("probe-") {
                    break;
                }
            }
        }
        found
    }

    /// Asserts a diagnostic of `rule` on the line containing `needle`.
    fn assert_diag(&self, rule: &str, needle: &str) {
        let want = self.line_of(needle);
        let got = self.diag_lines(rule);
        assert!(
            got.contains(&want),
            "expected {rule} on line {want} ({needle:?}), found it on {got:?}\n{}",
            self.stdout
        );
    }

    /// Asserts a stage line `<mark> <name> … <detail part>` in the table.
    fn assert_stage(&self, mark: &str, name: &str, detail: &str) {
        let ok = self.stdout.lines().any(|l| {
            let t = l.trim_start();
            t.starts_with(&format!("{mark} {name} ")) && t.contains(detail)
        });
        assert!(
            ok,
            "no stage line `{mark} {name} … {detail}`\n{}",
            self.stdout
        );
    }

    fn assert_no_failed_stage_except(&self, name: &str) {
        let failed: Vec<&str> = self
            .stdout
            .lines()
            .map(str::trim_start)
            .filter(|l| l.starts_with('✗') && !l.starts_with(&format!("✗ {name} ")))
            .collect();
        assert!(failed.is_empty(), "{failed:?}\n{}", self.stdout);
    }

    fn assert_no_failed_stage(&self) {
        assert!(
            !self.stdout.lines().any(|l| l.trim_start().starts_with('✗')),
            "a stage failed\n{}",
            self.stdout
        );
    }
}

const PW_VAR: &str = "MAILCFG_TEST_PW";
const TOKEN_VAR: &str = "MAILCFG_TEST_TOKEN";

/// Runs `mailcfg probe` on `kdl` (written to accounts.kdl) with the test CA trusted.
fn probe_with(env: &Env, kdl: &str, args: &[&str], pw: &str, token: &str) -> Out {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("accounts.kdl");
    std::fs::write(&file, kdl).unwrap();
    let t = Instant::now();
    let out = Command::new(crate::harness::BIN)
        .current_dir(dir.path())
        .arg("probe")
        .arg("accounts.kdl")
        .args(["--ca-file", &env.get("MAILSRV_CA")])
        .args(["--color", "never"])
        .args(if args.contains(&"--timeout") {
            &[][..]
        } else {
            &["--timeout", "3"][..]
        })
        .args(args)
        .env(PW_VAR, pw)
        .env(TOKEN_VAR, token)
        .env_remove("NO_COLOR")
        .output()
        .unwrap();
    let elapsed = t.elapsed();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        !stdout.contains(pw) && !stderr.contains(pw),
        "the password leaked:\n{stdout}\n{stderr}"
    );
    assert!(
        !stdout.contains(token) && !stderr.contains(token),
        "the token leaked:\n{stdout}\n{stderr}"
    );
    Out {
        code: out.status.code().unwrap_or(-1),
        stdout: format!("{stdout}{stderr}"),
        elapsed,
        kdl: kdl.to_string(),
    }
}

fn probe(env: &Env, kdl: &str, args: &[&str]) -> Out {
    probe_with(
        env,
        kdl,
        args,
        &env.get("MAILSRV_PASS"),
        &env.get("MAILSRV_TOKEN"),
    )
}

/// An account whose incoming block is `incoming` (server/security/port lines) and whose
/// outgoing server is the good Postfix submissions port unless `outgoing` is given.
fn account(protocol: &str, incoming: &str, outgoing: Option<&str>) -> String {
    let outgoing = outgoing.map(str::to_string).unwrap_or_else(|| {
        "server \"localhost\"\n        security \"ssl\"\n        port 10465\n        auth \"same-as-incoming\""
            .to_string()
    });
    format!(
        r#"account "Test" {{
    protocol "{protocol}"
    incoming {{
        {incoming}
        user "testuser"
        password env="{PW_VAR}"
    }}
    outgoing {{
        {outgoing}
    }}
    from {{
        address "Test User <testuser@localhost>" default=#true
    }}
}}
"#
    )
}

fn imap(server: &str, security: &str, port: &str) -> String {
    account(
        "imap",
        &format!("server \"{server}\"\n        security \"{security}\"\n        port {port}"),
        None,
    )
}

macro_rules! need_servers {
    () => {
        match servers() {
            Some(e) => e,
            None => return,
        }
    };
}

// ---- good paths ----------------------------------------------------------------------------

#[test]
fn good_imap_over_ssl_with_smtp_465() {
    let env = need_servers!();
    let out = probe(&env, &imap("localhost", "ssl", "10993"), &[]);
    assert_eq!(out.code, 0, "{}", out.stdout);
    out.assert_no_failed_stage();
    out.assert_stage("✓", "tls", "TLS 1.3 (implicit TLS)");
    out.assert_stage("✓", "certificate", "issuer CN=mailsrv test CA");
    out.assert_stage("✓", "login", "AUTHENTICATE PLAIN as \"testuser\"");
    out.assert_stage("✓", "mailbox", "EXAMINE \"INBOX\"");
    out.assert_stage("✓", "login", "AUTH PLAIN as \"testuser\"");
    out.assert_stage("✓", "senders", "MAIL FROM accepted: testuser@localhost");
    assert!(out.stdout.contains("days left"), "{}", out.stdout);
}

#[test]
fn good_imap_over_starttls_with_smtp_587() {
    let env = need_servers!();
    let kdl = account(
        "imap",
        "server \"localhost\"\n        security \"tls\"\n        port 10143",
        Some("server \"localhost\"\n        security \"tls\"\n        port 10587\n        auth \"same-as-incoming\""),
    );
    let out = probe(&env, &kdl, &[]);
    assert_eq!(out.code, 0, "{}", out.stdout);
    out.assert_no_failed_stage();
    out.assert_stage("✓", "tls", "(STARTTLS)");
    // Postfix 587 advertises AUTH only after TLS: the capabilities were re-read.
    out.assert_stage("✓", "capabilities", "STARTTLS, AUTH: none");
    out.assert_stage("✓", "capabilities", "after TLS: AUTH: PLAIN LOGIN");
    out.assert_stage("✓", "login", "AUTH PLAIN as \"testuser\"");
}

#[test]
fn auto_reports_which_mode_it_resolved_to() {
    let env = need_servers!();
    let out = probe(&env, &imap("localhost", "auto", "10143"), &[]);
    assert_eq!(out.code, 0, "{}", out.stdout);
    out.assert_diag("probe-auto-resolved", "security \"auto\"");
    assert!(
        out.stdout
            .contains("resolved to STARTTLS (\"tls\") on port 10143"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("→ used tls"), "{}", out.stdout);
    out.assert_stage(
        "-",
        "tls",
        "implicit TLS (auto): the server answered in plaintext",
    );

    let out = probe(&env, &imap("localhost", "auto", "10993"), &[]);
    assert_eq!(out.code, 0, "{}", out.stdout);
    assert!(
        out.stdout
            .contains("resolved to implicit TLS (\"ssl\") on port 10993"),
        "{}",
        out.stdout
    );
}

#[test]
fn good_pop3_over_ssl() {
    let env = need_servers!();
    let kdl = account(
        "pop",
        "server \"localhost\"\n        security \"ssl\"\n        port 10995",
        None,
    );
    let out = probe(&env, &kdl, &[]);
    assert_eq!(out.code, 0, "{}", out.stdout);
    out.assert_no_failed_stage();
    out.assert_stage("✓", "tls", "(implicit TLS)");
    out.assert_stage("✓", "login", "AUTH PLAIN as \"testuser\"");
    out.assert_stage("✓", "stat", "STAT: ");
}

#[test]
fn pop3_over_stls_is_refused_by_check_unless_allowed() {
    let env = need_servers!();
    let kdl = account(
        "pop",
        "server \"localhost\"\n        security \"tls\"\n        port 10110",
        None,
    );
    // CSM offers STARTTLS for IMAP only, so `check` rejects this account and probe refuses it.
    let out = probe(&env, &kdl, &[]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    out.assert_diag("probe-not-ready", "account \"Test\"");
    assert!(out.stdout.contains("NOT PROBED"), "{}", out.stdout);

    let out = probe(&env, &kdl, &["--allow-check-errors"]);
    out.assert_no_failed_stage();
    out.assert_stage("✓", "tls", "(STARTTLS)");
    out.assert_stage("✓", "stat", "STAT: ");

    // The same configuration as `mailcfg check`: a rule allowed there does not refuse the account.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.kdl"), &kdl).unwrap();
    std::fs::write(
        dir.path().join("mailcfg.kdl"),
        "rules {\n    security-imap-only \"allow\"\n}\n",
    )
    .unwrap();
    let o = Command::new(crate::harness::BIN)
        .args(["probe", dir.path().to_str().unwrap(), "--color", "never"])
        .args(["--ca-file", &env.get("MAILSRV_CA")])
        .env(PW_VAR, env.get("MAILSRV_PASS"))
        .output()
        .unwrap();
    let s = String::from_utf8(o.stdout).unwrap();
    assert_eq!(o.status.code(), Some(0), "{s}");
    assert!(s.contains("✓ stat"), "{s}");
}

#[test]
fn xoauth2_login_with_a_bearer_token() {
    let env = need_servers!();
    let kdl = format!(
        r#"credential "oauth" {{
    type "google"
    service-account "svc@example.iam.gserviceaccount.com"
    private-key file="unused.json"
    token env="{TOKEN_VAR}"
}}
account "Test" {{
    protocol "imap"
    incoming {{
        server "localhost"
        security "ssl"
        port 10993
        user "testuser"
        credential "oauth"
    }}
    outgoing {{
        server "localhost"
        security "tls"
        port 10587
        auth "same-as-incoming"
    }}
}}
"#
    );
    let out = probe(&env, &kdl, &[]);
    assert_eq!(out.code, 0, "{}", out.stdout);
    out.assert_stage("✓", "login", "AUTHENTICATE XOAUTH2 as \"testuser\"");
    out.assert_stage("✓", "login", "AUTH XOAUTH2 as \"testuser\"");

    let out = probe_with(
        &env,
        &kdl,
        &[],
        &env.get("MAILSRV_PASS"),
        "not-the-token-123",
    );
    assert_eq!(out.code, 1, "{}", out.stdout);
    out.assert_diag("probe-login", "        credential \"oauth\"");
    assert!(
        out.stdout.contains("bad user name or token"),
        "{}",
        out.stdout
    );
}

// ---- login failures ------------------------------------------------------------------------

#[test]
fn wrong_password_is_reported_on_the_password_line_without_the_secret() {
    let env = need_servers!();
    let out = probe_with(
        &env,
        &imap("localhost", "ssl", "10993"),
        &[],
        "Wrong-Secret-4711",
        &env.get("MAILSRV_TOKEN"),
    );
    assert_eq!(out.code, 1, "{}", out.stdout);
    out.assert_stage("✗", "login", "AUTHENTICATIONFAILED");
    out.assert_diag("probe-login", &format!("password env=\"{PW_VAR}\""));
    // same-as-incoming: the SMTP failure points at `auth`.
    out.assert_diag("probe-login", "auth \"same-as-incoming\"");
    assert!(
        out.stdout.contains("bad user name or password"),
        "{}",
        out.stdout
    );
}

#[test]
fn plaintext_login_refused_without_tls() {
    let env = need_servers!();
    let host = env.get("MAILSRV_HOST_NOPLAINTEXT");
    let out = probe(&env, &imap(&host, "basic", "10143"), &[]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    out.assert_stage("✗", "login", "LOGINDISABLED");
    out.assert_diag("probe-login-disabled", "security \"basic\"");
    out.assert_diag("probe-cleartext", "security \"basic\"");

    let kdl = account(
        "pop",
        &format!("server \"{host}\"\n        security \"basic\"\n        port 10110"),
        None,
    );
    let out = probe(&env, &kdl, &[]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    out.assert_diag("probe-login-disabled", "security \"basic\"");
}

#[test]
fn missing_password_variable_names_the_reference() {
    let env = need_servers!();
    let kdl = imap("localhost", "ssl", "10993").replace(PW_VAR, "MAILCFG_TEST_UNSET_VAR");
    let out = probe(&env, &kdl, &[]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    out.assert_diag("probe-secret", "MAILCFG_TEST_UNSET_VAR");
    assert!(
        out.stdout
            .contains("environment variable MAILCFG_TEST_UNSET_VAR is not set"),
        "{}",
        out.stdout
    );
    out.assert_stage("-", "login", "credentials unavailable");
}

// ---- TLS and certificates ------------------------------------------------------------------

#[test]
fn expired_certificate() {
    let env = need_servers!();
    let host = env.get("MAILSRV_HOST_EXPIRED");
    let out = probe(&env, &imap(&host, "ssl", "10993"), &[]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    out.assert_stage("✗", "certificate", "EXPIRED");
    out.assert_diag("probe-certificate", &format!("server \"{host}\""));
    assert!(out.stdout.contains("expired on"), "{}", out.stdout);
    // No downgrade, no login after a failed certificate.
    let incoming = out.stdout.split("outgoing SMTP").next().unwrap();
    assert!(!incoming.contains("login"), "{}", out.stdout);
}

#[test]
fn wrong_host_certificate() {
    let env = need_servers!();
    let host = env.get("MAILSRV_HOST_WRONGHOST");
    let out = probe(&env, &imap(&host, "ssl", "10993"), &[]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    out.assert_stage("✗", "certificate", "WRONG HOST: issued for wrong.example");
    out.assert_diag("probe-certificate", &format!("server \"{host}\""));
}

#[test]
fn self_signed_certificate_and_ca_file() {
    let env = need_servers!();
    let host = env.get("MAILSRV_HOST_SELFSIGNED");
    let kdl = imap(&host, "ssl", "10993");
    let out = probe(&env, &kdl, &[]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    out.assert_stage("✗", "certificate", "UNKNOWN ISSUER (self-signed)");
    out.assert_diag("probe-certificate", &format!("server \"{host}\""));
    assert!(out.stdout.contains("--ca-file"), "{}", out.stdout);

    // Trusting the certificate itself makes the incoming server pass.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("accounts.kdl");
    std::fs::write(&file, &kdl).unwrap();
    let o = Command::new(crate::harness::BIN)
        .args([
            "probe",
            file.to_str().unwrap(),
            "--color",
            "never",
            "--timeout",
            "3",
        ])
        .args(["--ca-file", &env.get("MAILSRV_SELFSIGNED_CERT")])
        .env(PW_VAR, env.get("MAILSRV_PASS"))
        .output()
        .unwrap();
    let s = String::from_utf8(o.stdout).unwrap();
    let incoming = s.split("outgoing").next().unwrap();
    assert!(incoming.contains("✓ certificate"), "{s}");
    assert!(incoming.contains("✓ mailbox"), "{s}");
}

#[test]
fn ssl_on_a_starttls_port() {
    let env = need_servers!();
    let out = probe(&env, &imap("localhost", "ssl", "10143"), &[]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    out.assert_stage("✗", "tls", "the server answered in plaintext");
    out.assert_diag("probe-tls-mismatch", "security \"ssl\"");
    assert!(
        out.stdout.contains("port 10143 speaks plaintext first"),
        "{}",
        out.stdout
    );
}

#[test]
fn tls_on_an_implicit_tls_port() {
    let env = need_servers!();
    let out = probe(
        &env,
        &imap("localhost", "tls", "10993"),
        &["--timeout", "1"],
    );
    assert_eq!(out.code, 1, "{}", out.stdout);
    out.assert_stage("✗", "greeting", "nothing within 1 s");
    out.assert_diag("probe-tls-mismatch", "security \"tls\"");
    assert!(
        out.stdout.contains("port 10993 expects implicit TLS"),
        "{}",
        out.stdout
    );

    let out = probe(
        &env,
        &imap("localhost", "basic", "10993"),
        &["--timeout", "1"],
    );
    assert_eq!(out.code, 1, "{}", out.stdout);
    out.assert_diag("probe-tls-mismatch", "security \"basic\"");
}

#[test]
fn starttls_required_but_not_offered() {
    let env = need_servers!();
    let port = env.get("MAILSRV_IMAP_PLAIN_PORT");
    let out = probe(&env, &imap("127.0.0.1", "tls", &port), &[]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    out.assert_stage("✗", "tls", "STARTTLS not offered");
    out.assert_diag("probe-starttls-missing", "security \"tls\"");
    assert!(!out.stdout.contains("✗ login"), "{}", out.stdout);

    // SMTP: Postfix on 10025 has no TLS at all.
    let kdl = account(
        "imap",
        "server \"localhost\"\n        security \"ssl\"\n        port 10993",
        Some("server \"localhost\"\n        security \"tls\"\n        port 10025\n        auth \"same-as-incoming\""),
    );
    let out = probe(&env, &kdl, &[]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    let line = out
        .kdl
        .lines()
        .position(|l| l.contains("port 10025"))
        .unwrap();
    // the outgoing block's security line is the one just above its port line
    assert_eq!(
        out.diag_lines("probe-starttls-missing"),
        vec![line],
        "{}",
        out.stdout
    );
}

#[test]
fn closed_port() {
    let env = need_servers!();
    let port = env.get("MAILSRV_CLOSED_PORT");
    let out = probe(&env, &imap("localhost", "ssl", &port), &[]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    out.assert_stage("✗", "connect", "refused");
    out.assert_diag("probe-connect", &format!("port {port}"));
}

#[test]
fn silent_server_costs_the_timeout_and_does_not_block_others() {
    let env = need_servers!();
    let port = env.get("MAILSRV_SILENT_PORT");
    let silent = imap("127.0.0.1", "tls", &port);
    let good = imap("localhost", "ssl", "10993").replace("account \"Test\"", "account \"Good\"");
    let kdl = format!("{silent}{good}");
    let out = probe(&env, &kdl, &["--timeout", "1", "--jobs", "2"]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    out.assert_stage("✗", "greeting", "nothing within 1 s");
    out.assert_diag("probe-timeout", &format!("port {port}"));
    assert!(
        out.stdout.contains("account \"Good\" (accounts.kdl): OK"),
        "{}",
        out.stdout
    );
    // 1 s for the greeting plus 1 s for the implicit-TLS check, far below the 10 s default.
    assert!(
        out.elapsed < Duration::from_secs(8),
        "took {:?}",
        out.elapsed
    );
}

// ---- mailbox, senders, sending -------------------------------------------------------------

#[test]
fn nonexistent_mailbox_suggests_similar_names() {
    let env = need_servers!();
    let kdl = imap("localhost", "ssl", "10993").replace(
        "password env",
        "mailbox \"inbox-typo\"\n        password env",
    );
    let out = probe(&env, &kdl, &[]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    out.assert_stage("✗", "mailbox", "EXAMINE \"inbox-typo\"");
    out.assert_diag("probe-mailbox", "mailbox \"inbox-typo\"");
    assert!(
        out.stdout.contains("did you mean \"INBOX\"?"),
        "{}",
        out.stdout
    );
}

#[test]
fn rejected_from_address() {
    let env = need_servers!();
    let blocked = env.get("MAILSRV_REJECTED_SENDER");
    let kdl = imap("localhost", "ssl", "10993").replace(
        "address \"Test User <testuser@localhost>\" default=#true",
        &format!("address \"Test User <testuser@localhost>\" default=#true\n        address \"{blocked}\""),
    );
    let out = probe(&env, &kdl, &[]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    out.assert_stage("✗", "senders", &format!("REJECTED: {blocked}"));
    out.assert_diag("probe-from-rejected", &format!("address \"{blocked}\""));
    assert_eq!(
        out.diag_lines("probe-from-rejected").len(),
        1,
        "{}",
        out.stdout
    );
}

fn find_message(env: &Env, message_id: &str) -> bool {
    let stream = TcpStream::connect(("127.0.0.1", 10143)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut client = imap::Client::new(stream);
    client.read_greeting().unwrap();
    let mut session = client
        .login(env.get("MAILSRV_USER"), env.get("MAILSRV_PASS"))
        .map_err(|e| e.0)
        .unwrap();
    session.examine("INBOX").unwrap();
    let found = session
        .search(format!("HEADER Message-ID \"{message_id}\""))
        .unwrap();
    let _ = session.logout();
    !found.is_empty()
}

#[test]
fn send_test_message_arrives() {
    let env = need_servers!();
    let out = probe(
        &env,
        &imap("localhost", "ssl", "10993"),
        &["--send-test-to", "testuser@localhost"],
    );
    assert_eq!(out.code, 0, "{}", out.stdout);
    let line = out
        .stdout
        .lines()
        .find(|l| l.trim_start().starts_with("✓ send "))
        .unwrap_or_else(|| panic!("no send stage\n{}", out.stdout));
    let id = line.split("Message-ID ").nth(1).unwrap().trim().to_string();
    assert!(id.starts_with('<') && id.ends_with('>'), "{id}");
    let until = Instant::now() + Duration::from_secs(10);
    loop {
        if find_message(&env, &id) {
            break;
        }
        assert!(Instant::now() < until, "message {id} did not arrive");
        std::thread::sleep(Duration::from_millis(100));
    }
    // Without --send-test-to nothing is sent.
    let out = probe(&env, &imap("localhost", "ssl", "10993"), &[]);
    assert!(!out.stdout.contains("Message-ID"), "{}", out.stdout);
}

#[test]
fn unknown_account_name_is_a_usage_error() {
    let env = need_servers!();
    let out = probe(
        &env,
        &imap("localhost", "ssl", "10993"),
        &["--account", "nope"],
    );
    assert_eq!(out.code, 2, "{}", out.stdout);
    assert!(
        out.stdout.contains("no account named \"nope\""),
        "{}",
        out.stdout
    );
}

#[test]
fn ssl_no_auth_and_basic_work_with_warnings() {
    let env = need_servers!();
    let host = env.get("MAILSRV_HOST_SELFSIGNED");
    let out = probe(&env, &imap(&host, "ssl-no-auth", "10993"), &[]);
    let incoming = out
        .stdout
        .split("outgoing SMTP")
        .next()
        .unwrap()
        .to_string();
    assert!(incoming.contains("! certificate"), "{}", out.stdout);
    assert!(
        incoming.contains("NOT verified (ssl-no-auth)"),
        "{}",
        out.stdout
    );
    assert!(incoming.contains("✓ mailbox"), "{}", out.stdout);
    out.assert_diag("probe-unverified", "security \"ssl-no-auth\"");

    let out = probe(&env, &imap("localhost", "basic", "10143"), &[]);
    assert_eq!(out.code, 0, "warnings only\n{}", out.stdout);
    out.assert_no_failed_stage();
    out.assert_stage("-", "tls", "security \"basic\" is cleartext");
    out.assert_diag("probe-cleartext", "security \"basic\"");
    let out = probe(
        &env,
        &imap("localhost", "basic", "10143"),
        &["--deny-warnings"],
    );
    assert_eq!(out.code, 1, "{}", out.stdout);
}

#[test]
fn a_name_that_does_not_exist_is_a_finding_not_an_outage() {
    let env = need_servers!();
    let kdl = account(
        "imap",
        "server \"no-such-host.invalid\"\n        security \"ssl\"\n        port 993",
        Some("server \"no-such-host.invalid\"\n        security \"ssl\"\n        port 465\n        auth \"same-as-incoming\""),
    );
    // The resolver answered ("does not exist"): exit 1, like any other failed stage.
    let out = probe(&env, &kdl, &["--timeout", "2"]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    out.assert_stage("✗", "resolve", "no-such-host.invalid does not exist");
    assert_eq!(out.diag_lines("probe-dns").len(), 2, "{}", out.stdout);
    out.assert_diag("probe-dns", "server \"no-such-host.invalid\"");
}

#[test]
fn no_resolver_answering_means_the_probe_could_not_run() {
    let env = need_servers!();
    let kdl = account(
        "imap",
        "server \"mail.example.com\"\n        security \"ssl\"\n        port 993",
        Some("server \"smtp.example.com\"\n        security \"ssl\"\n        port 465\n        auth \"same-as-incoming\""),
    );
    // A DNS server on a closed loopback port: the query is refused, nobody answers.
    let resolver = format!("127.0.0.1:{}", env.get("MAILSRV_CLOSED_PORT"));
    let out = probe(&env, &kdl, &["--dns-server", &resolver]);
    assert_eq!(out.code, 4, "{}", out.stdout);
    out.assert_stage("✗", "resolve", "did not answer");
    assert!(out.elapsed < Duration::from_secs(3), "{:?}", out.elapsed);

    // One name the resolver is not needed for (localhost) resolves: the probe did run.
    let kdl = account(
        "imap",
        "server \"localhost\"\n        security \"ssl\"\n        port 10993",
        Some("server \"smtp.example.com\"\n        security \"ssl\"\n        port 465\n        auth \"same-as-incoming\""),
    );
    let out = probe(&env, &kdl, &["--dns-server", &resolver]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    out.assert_stage("✓", "mailbox", "EXAMINE");

    // The same through the environment variable.
    let dir = tempfile::tempdir().unwrap();
    let unresolvable = account(
        "imap",
        "server \"mail.example.com\"",
        Some("server \"smtp.example.com\"\n        auth \"same-as-incoming\""),
    );
    std::fs::write(dir.path().join("a.kdl"), unresolvable).unwrap();
    let o = Command::new(crate::harness::BIN)
        .args(["probe", dir.path().to_str().unwrap(), "--color", "never"])
        .env("MAILCFG_DNS_SERVER", &resolver)
        .env(PW_VAR, env.get("MAILSRV_PASS"))
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
}

#[test]
fn options_are_validated_with_clear_messages() {
    let env = need_servers!();
    let kdl = imap("localhost", "ssl", "10993");
    let cases: &[(&[&str], &str)] = &[
        (&["--timeout", "0"], "give more than 0 seconds"),
        (&["--timeout", "-3"], "give more than 0 seconds"),
        (&["--timeout", "7200"], "at most|longest allowed, 3600"),
        (&["--jobs", "0"], "--jobs"),
        (
            &["--send-test-to", "notanaddress"],
            "\"notanaddress\" is not an e-mail address",
        ),
        (
            &["--dns-server", "dns.example"],
            "is not an IP address or IP:PORT",
        ),
        (
            &["--account", "nope"],
            "no account named \"nope\" exists (accounts: \"Test\")",
        ),
        (
            &["--account", "Tets"],
            "no account named \"Tets\" exists; did you mean \"Test\"?",
        ),
    ];
    for (args, want) in cases {
        let out = probe(&env, &kdl, args);
        assert_eq!(out.code, 2, "{args:?}: {}", out.stdout);
        assert!(
            want.split('|').any(|w| out.stdout.contains(w)),
            "{args:?}: expected {want:?} in\n{}",
            out.stdout
        );
    }
    // A written account that fails the schema check is named as such, not as missing.
    let broken = kdl.replace(
        "protocol \"imap\"",
        "protocol \"imap\"\n    colour \"blue\"",
    );
    let out = probe(&env, &broken, &["--account", "Test"]);
    assert_eq!(out.code, 2, "{}", out.stdout);
    assert!(
        out.stdout.contains("is written but fails the schema check"),
        "{}",
        out.stdout
    );
}

#[test]
fn only_probed_accounts_are_counted() {
    let env = need_servers!();
    let good = imap("localhost", "ssl", "10993");
    let refused = good
        .replace("account \"Test\"", "account \"NoUser\"")
        .replace("        user \"testuser\"\n", "");
    let out = probe(&env, &format!("{good}{refused}"), &[]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert!(out.stdout.contains("NOT PROBED"), "{}", out.stdout);
    assert!(
        out.stdout.contains("probed 1 account in ") && out.stdout.contains("(1 not probed)"),
        "{}",
        out.stdout
    );
}

#[test]
fn without_outgoing_the_incoming_side_is_probed_when_allowed() {
    let env = need_servers!();
    let full = imap("localhost", "ssl", "10993");
    let start = full.find("    outgoing {").unwrap();
    let end = full[start..].find("    }\n").unwrap() + start + 6;
    let kdl = format!("{}{}", &full[..start], &full[end..]);
    assert!(!kdl.contains("outgoing"), "{kdl}");

    let out = probe(&env, &kdl, &[]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert!(out.stdout.contains("NOT PROBED"), "{}", out.stdout);

    let out = probe(&env, &kdl, &["--allow-check-errors"]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    out.assert_stage("✓", "mailbox", "EXAMINE \"INBOX\"");
    out.assert_no_failed_stage();
    assert!(
        out.stdout.contains("outgoing: not configured"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("the incoming server is probed alone"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("probed 1 account in"), "{}", out.stdout);
}

/// docs/probe.md's local example: its file and command, run as written against the servers;
/// the stages its sample output shows must pass in the same order.
#[test]
fn documentation_example_runs_as_shown() {
    let env = need_servers!();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("local.kdl"),
        crate::harness::doc_block("docs/probe.md", "local.kdl"),
    )
    .unwrap();
    let bin = Path::new(crate::harness::BIN).parent().unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(crate::harness::doc_block("docs/probe.md", "probe-local"))
        .current_dir(dir.path())
        .env("PATH", path)
        .env("NO_COLOR", "1");
    for (k, v) in &env.0 {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    let stages = |text: &str| -> Vec<String> {
        text.lines()
            .map(str::trim_start)
            .filter(|l| l.starts_with(['✓', '!', '✗', '-']))
            .map(|l| l.split_whitespace().take(2).collect::<Vec<_>>().join(" "))
            .collect()
    };
    let expected = crate::harness::doc_block("docs/probe.md", "probe-local-output");
    assert_eq!(stages(&stdout), stages(&expected), "{stdout}");
    for line in [
        "probe-auto-resolved",
        "help: write security \"tls\"",
        "local.kdl:5:18",
    ] {
        assert!(stdout.contains(line), "{line:?} missing:\n{stdout}");
        assert!(expected.contains(line), "{line:?} missing from the docs");
    }
}

#[test]
fn pop3_without_stls_and_smtp_tls_on_implicit_port() {
    let env = need_servers!();
    let port = env.get("MAILSRV_POP3_PLAIN_PORT");
    let kdl = account(
        "pop",
        &format!("server \"127.0.0.1\"\n        security \"tls\"\n        port {port}"),
        Some("server \"localhost\"\n        security \"tls\"\n        port 10465\n        auth \"same-as-incoming\""),
    );
    let out = probe(&env, &kdl, &["--allow-check-errors", "--timeout", "1"]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    out.assert_stage("✗", "tls", "STLS not offered");
    let pop_security = out.line_of(&format!("port {port}")) - 1;
    assert_eq!(
        out.diag_lines("probe-starttls-missing"),
        vec![pop_security],
        "{}",
        out.stdout
    );
    // the SMTP block: `tls` on Postfix's implicit-TLS port 10465
    assert!(
        out.stdout.contains("port 10465 expects implicit TLS"),
        "{}",
        out.stdout
    );
    let smtp_security = out.line_of("port 10465") - 1;
    assert!(
        out.diag_lines("probe-tls-mismatch")
            .contains(&smtp_security),
        "{}",
        out.stdout
    );
}

#[test]
fn xoauth2_not_offered_is_a_mechanism_problem() {
    let env = need_servers!();
    let port = env.get("MAILSRV_IMAP_PLAIN_PORT");
    let kdl = format!(
        r#"credential "oauth" {{
    type "google"
    service-account "svc@example.iam.gserviceaccount.com"
    private-key file="unused.json"
    token env="{TOKEN_VAR}"
}}
account "Test" {{
    protocol "imap"
    incoming {{
        server "127.0.0.1"
        security "basic"
        port {port}
        user "testuser"
        credential "oauth"
    }}
    outgoing {{
        server "localhost"
        security "ssl"
        port 10465
    }}
}}
"#
    );
    let out = probe(&env, &kdl, &[]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    out.assert_stage("✗", "login", "AUTHENTICATE XOAUTH2 not offered");
    out.assert_diag("probe-auth-mechanism", "        credential \"oauth\"");
    // auth "none": SMTP has no login stage to fail
    out.assert_stage("-", "login", "auth \"none\"");
}

#[test]
fn certificate_expiring_soon_is_a_warning() {
    let env = need_servers!();
    let out = probe(
        &env,
        &imap("localhost", "ssl", "10993"),
        &["--cert-warn-days", "100000"],
    );
    assert_eq!(out.code, 0, "warnings only\n{}", out.stdout);
    out.assert_stage("!", "certificate", "days left");
    out.assert_diag("probe-certificate-expiring", "server \"localhost\"");
}

#[test]
fn expired_certificate_on_smtp_starttls() {
    let env = need_servers!();
    let host = env.get("MAILSRV_HOST_EXPIRED");
    let kdl = account(
        "imap",
        "server \"localhost\"\n        security \"ssl\"\n        port 10993",
        Some(&format!(
            "server \"{host}\"\n        security \"tls\"\n        port 10587\n        auth \"same-as-incoming\""
        )),
    );
    let out = probe(&env, &kdl, &[]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    out.assert_stage("✗", "certificate", "EXPIRED");
    out.assert_diag("probe-certificate", &format!("server \"{host}\""));
}

#[test]
fn capabilities_are_re_read_after_starttls() {
    let env = need_servers!();
    // 127.0.0.2 refuses cleartext logins: LOGINDISABLED before STARTTLS, AUTH=PLAIN after.
    let host = env.get("MAILSRV_HOST_NOPLAINTEXT");
    let kdl = account(
        "imap",
        &format!("server \"{host}\"\n        security \"tls\"\n        port 10143"),
        None,
    );
    let out = probe(&env, &kdl, &[]);
    assert_eq!(out.code, 0, "{}", out.stdout);
    out.assert_stage("✓", "capabilities", "STARTTLS, LOGINDISABLED, AUTH: none");
    out.assert_stage("✓", "capabilities", "after TLS: AUTH: PLAIN");
    out.assert_stage("✓", "login", "AUTHENTICATE PLAIN");
}

#[test]
fn pop3_xoauth2_login() {
    let env = need_servers!();
    let kdl = format!(
        r#"credential "oauth" {{
    type "office365"
    tenant-id "11111111-2222-3333-4444-555555555555"
    client-id "66666666-7777-8888-9999-000000000000"
    client-secret env="UNUSED_SECRET"
    token env="{TOKEN_VAR}"
}}
account "Test" {{
    protocol "pop"
    incoming {{
        server "localhost"
        security "ssl"
        port 10995
        user "testuser"
        credential "oauth"
    }}
    outgoing {{
        server "localhost"
        security "ssl"
        port 10465
        auth "same-as-incoming"
    }}
}}
"#
    );
    let out = probe(&env, &kdl, &[]);
    assert_eq!(out.code, 0, "{}", out.stdout);
    out.assert_stage("✓", "login", "AUTH XOAUTH2 as \"testuser\"");
    out.assert_stage("✓", "stat", "STAT: ");
}

#[test]
fn auto_on_a_silent_port_times_out_once_per_mode() {
    let env = need_servers!();
    let port = env.get("MAILSRV_SILENT_PORT");
    let out = probe(&env, &imap("127.0.0.1", "auto", &port), &["--timeout", "1"]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    out.assert_stage(
        "-",
        "tls",
        "implicit TLS (auto): no answer; trying STARTTLS",
    );
    out.assert_stage("✗", "greeting", "nothing within 1 s");
    out.assert_diag("probe-timeout", &format!("port {port}"));
    out.assert_no_failed_stage_except("greeting");
}

#[test]
fn a_different_service_on_the_port() {
    let env = need_servers!();
    let port = env.get("MAILSRV_HTTP_PORT");
    let out = probe(&env, &imap("127.0.0.1", "tls", &port), &[]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    out.assert_stage("✗", "greeting", "expected an IMAP greeting");
    out.assert_diag("probe-protocol", &format!("port {port}"));
    assert!(out.stdout.contains("HTTP/1.1 400"), "{}", out.stdout);
}

#[test]
fn bad_ca_file_and_timeout_are_usage_errors() {
    let env = need_servers!();
    let kdl = imap("localhost", "ssl", "10993");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a.kdl");
    std::fs::write(&file, &kdl).unwrap();
    let run = |args: &[&str]| {
        let o = Command::new(crate::harness::BIN)
            .arg("probe")
            .arg(&file)
            .args(args)
            .env(PW_VAR, env.get("MAILSRV_PASS"))
            .output()
            .unwrap();
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };
    let (code, err) = run(&["--ca-file", "/nonexistent/ca.pem"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("--ca-file /nonexistent/ca.pem"), "{err}");
    let (code, err) = run(&["--ca-file", file.to_str().unwrap()]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("no PEM certificate found"), "{err}");
    let (code, err) = run(&["--timeout", "0"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("give more than 0 seconds"), "{err}");
}

#[test]
fn literal_password_is_used_but_never_shown() {
    let env = need_servers!();
    let pass = env.get("MAILSRV_PASS");
    let kdl = imap("localhost", "ssl", "10993")
        .replace(&format!("env=\"{PW_VAR}\""), &format!("\"{pass}\""));
    // probe_with asserts that `pass` appears nowhere in stdout or stderr.
    let out = probe_with(
        &env,
        &kdl,
        &["--allow-check-errors"],
        &pass,
        &env.get("MAILSRV_TOKEN"),
    );
    out.assert_no_failed_stage();
    out.assert_stage("✓", "login", "AUTHENTICATE PLAIN as \"testuser\"");
}

/// Every probe rule is in docs/probe.md's table and `mailcfg explain` knows it; the docs name no
/// rule that does not exist.
#[test]
fn probe_rules_are_documented_and_explained() {
    let doc =
        std::fs::read_to_string(Path::new(crate::harness::ROOT).join("docs/probe.md")).unwrap();
    let names: Vec<&str> = mailcfg::registry::probe::ALL
        .iter()
        .map(|m| m.name)
        .collect();
    for name in &names {
        assert!(
            doc.contains(&format!("| `{name}` |")),
            "{name} missing from the rules table of docs/probe.md"
        );
        let o = Command::new(crate::harness::BIN)
            .args(["explain", name])
            .output()
            .unwrap();
        let out = String::from_utf8(o.stdout).unwrap();
        assert_eq!(o.status.code(), Some(0), "{name}");
        assert!(out.starts_with(&format!("# {name}\n")), "{out}");
        assert!(out.contains("mailcfg probe"), "{out}");
    }
    for word in doc.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-')) {
        if word.starts_with("probe-") && word.len() > "probe-".len() {
            assert!(
                names.contains(&word)
                    || [
                        "probe-local",
                        "probe-local-output",
                        "probe-results",
                        "probe-report"
                    ]
                    .contains(&word),
                "docs/probe.md names an unknown rule {word}"
            );
        }
    }
}

#[test]
fn black_holed_port_times_out_at_connect() {
    let env = need_servers!();
    let port = env.get("MAILSRV_BLACKHOLE_PORT");
    let out = probe(&env, &imap("127.0.0.1", "ssl", &port), &["--timeout", "1"]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    out.assert_stage("✗", "connect", "timed out after 1 s");
    out.assert_diag("probe-connect", &format!("port {port}"));
    assert!(
        out.stdout.contains("a firewall drops the packets"),
        "{}",
        out.stdout
    );
}

/// A server that sends a byte every 0.2 s and never a whole line: the timeout bounds the whole
/// exchange, not each read.
#[test]
fn trickling_server_is_cut_off_at_the_timeout() {
    let env = need_servers!();
    let port = env.get("MAILSRV_TRICKLE_PORT");
    let out = probe(&env, &imap("127.0.0.1", "tls", &port), &["--timeout", "1"]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    out.assert_stage("✗", "greeting", "nothing within 1 s");
    out.assert_diag("probe-timeout", &format!("port {port}"));
    assert!(
        out.elapsed < Duration::from_secs(8),
        "took {:?}",
        out.elapsed
    );
}

/// The machine formats of `check` carry the probe findings with their rule and location.
#[test]
fn machine_formats() {
    let env = need_servers!();
    let kdl = imap("localhost", "ssl", "10993");
    let out = probe_with(
        &env,
        &kdl,
        &["--format", "json"],
        "Wrong-Secret-4711",
        &env.get("MAILSRV_TOKEN"),
    );
    assert_eq!(out.code, 1, "{}", out.stdout);
    let json: serde_json::Value = serde_json::from_str(&out.stdout).expect("valid JSON");
    let line = out.line_of(&format!("password env=\"{PW_VAR}\"")) as u64;
    let found = json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d["rule"] == "probe-login" && d["location"]["line"] == line);
    assert!(found, "{}", out.stdout);
    assert!(
        !out.stdout.contains("✓"),
        "no table in JSON:\n{}",
        out.stdout
    );

    let out = probe_with(
        &env,
        &kdl,
        &["--format", "sarif"],
        "Wrong-Secret-4711",
        &env.get("MAILSRV_TOKEN"),
    );
    let sarif: serde_json::Value = serde_json::from_str(&out.stdout).expect("valid SARIF");
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert!(
        results.iter().any(|r| r["ruleId"] == "probe-login"
            && r["locations"][0]["physicalLocation"]["region"]["startLine"] == line),
        "{}",
        out.stdout
    );

    let out = probe_with(
        &env,
        &kdl,
        &["--format", "github"],
        "Wrong-Secret-4711",
        &env.get("MAILSRV_TOKEN"),
    );
    assert!(
        out.stdout.lines().any(|l| l.starts_with("::error ")
            && l.contains(&format!("line={line}"))
            && l.contains("probe-login")),
        "{}",
        out.stdout
    );
}

// ---- advice that `check` accepts ------------------------------------------------------------

/// Applies a JSON fix's edits (byte offsets into the original text) from the last to the first.
fn apply_fix(text: &str, fix: &serde_json::Value) -> String {
    let mut edits: Vec<(usize, usize, String)> = fix["edits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["location"]["byte_start"].as_u64().unwrap() as usize,
                e["location"]["byte_end"].as_u64().unwrap() as usize,
                e["replacement"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    edits.sort_by_key(|e| std::cmp::Reverse(e.0));
    let mut out = text.to_string();
    for (s, e, r) in edits {
        out.replace_range(s..e, &r);
    }
    out
}

/// The errors `mailcfg check` reports for `text`.
fn check_errors(text: &str) -> Vec<String> {
    let checked = mailcfg::pipeline::check(vec![mailcfg::Input::text("accounts.kdl", text)]);
    checked
        .diagnostics
        .iter()
        .filter(|d| d.level == mailcfg::diagnostics::Level::Error)
        .map(|d| format!("{}: {}", d.rule, d.message))
        .collect()
}

#[test]
fn every_probe_suggestion_is_accepted_by_check() {
    let env = need_servers!();
    let smtp = |sec: &str, port: &str| {
        format!("server \"localhost\"\n        security \"{sec}\"\n        port {port}\n        auth \"same-as-incoming\"")
    };
    let wrong_host = env.get("MAILSRV_HOST_WRONGHOST");
    let no_plaintext = env.get("MAILSRV_HOST_NOPLAINTEXT");
    let plain_imap = env.get("MAILSRV_IMAP_PLAIN_PORT");
    let scenarios: Vec<(&str, String)> = vec![
        ("ssl on a STARTTLS port", imap("localhost", "ssl", "10143")),
        (
            "tls on an implicit-TLS port",
            imap("localhost", "tls", "10993"),
        ),
        ("auto pinned", imap("localhost", "auto", "10143")),
        (
            "POP3 auto on STLS",
            account(
                "pop",
                "server \"localhost\"\n        security \"auto\"\n        port 10110",
                None,
            ),
        ),
        ("no STARTTLS offered", imap("localhost", "tls", &plain_imap)),
        ("cleartext", imap("localhost", "basic", "10143")),
        ("unverified", imap("localhost", "ssl-no-auth", "10993")),
        ("login needs TLS", imap(&no_plaintext, "basic", "10143")),
        (
            "certificate for another name",
            imap(&wrong_host, "ssl", "10993"),
        ),
        (
            "mailbox with a typo",
            imap("localhost", "ssl", "10993").replace(
                "        user \"testuser\"",
                "        mailbox \"inbx\"\n        user \"testuser\"",
            ),
        ),
        (
            "SMTP tls on 465-like port",
            account(
                "imap",
                "server \"localhost\"\n        security \"ssl\"\n        port 10993",
                Some(&smtp("tls", "10465")),
            ),
        ),
        (
            "SMTP ssl on 587-like port",
            account(
                "imap",
                "server \"localhost\"\n        security \"ssl\"\n        port 10993",
                Some(&smtp("ssl", "10587")),
            ),
        ),
        (
            "SMTP cleartext",
            account(
                "imap",
                "server \"localhost\"\n        security \"ssl\"\n        port 10993",
                Some(&smtp("basic", "10025")),
            ),
        ),
    ];
    let mut fixes_checked = 0;
    for (what, kdl) in &scenarios {
        assert!(
            check_errors(kdl).is_empty(),
            "{what}: the scenario itself fails check: {:?}",
            check_errors(kdl)
        );
        let out = probe(&env, kdl, &["--timeout", "1", "--format", "json"]);
        let report: serde_json::Value = serde_json::Deserializer::from_str(&out.stdout)
            .into_iter()
            .next()
            .unwrap()
            .unwrap_or_else(|e| panic!("{what}: {e}\n{}", out.stdout));
        let diags = report["diagnostics"].as_array().unwrap();
        let mut with_fix = 0;
        for d in diags {
            let rule = d["rule"].as_str().unwrap();
            let help = d["help"].as_str().unwrap_or("");
            // Advice about settings comes with the edits that carry it out...
            if help.contains("security \"")
                || help.contains("set `server`")
                || help.contains("did you mean")
            {
                assert!(
                    d["fix"].is_object(),
                    "{what}: {rule} advises {help:?} without a fix"
                );
            }
            // ...and those edits give a file `check` accepts.
            if d["fix"].is_object() {
                let fixed = apply_fix(kdl, &d["fix"]);
                let errors = check_errors(&fixed);
                assert!(
                    errors.is_empty(),
                    "{what}: {rule}'s fix ({help}) gives errors {errors:?}:\n{fixed}"
                );
                with_fix += 1;
                fixes_checked += 1;
            }
        }
        assert!(
            with_fix > 0,
            "{what}: no finding with a fix in {}",
            out.stdout
        );
    }
    assert!(fixes_checked >= scenarios.len());
}

/// The port/security advice for every combination, including the well-known ports the test
/// servers do not listen on (implicit TLS answering on 587, plaintext on 993, ...).
#[test]
fn port_and_security_advice_is_accepted_by_check_everywhere() {
    use mailcfg::model::{Security, Service};
    use mailcfg::probe::advice::{self, Side};
    let securities = [
        Security::Auto,
        Security::Basic,
        Security::Ssl,
        Security::SslNoAuth,
        Security::Tls,
    ];
    let ports = [
        None,
        Some(25),
        Some(110),
        Some(143),
        Some(465),
        Some(587),
        Some(993),
        Some(995),
        Some(10000),
    ];
    let mut combos = 0;
    for service in [Service::Imap, Service::Pop, Service::Smtp] {
        for security in securities {
            for written_port in ports {
                if !advice::accepted(
                    service,
                    security,
                    written_port.unwrap_or(service.default_port(security) as u32),
                ) {
                    continue;
                }
                let side = Side {
                    role: if service == Service::Smtp {
                        "outgoing"
                    } else {
                        "incoming"
                    },
                    service,
                    security,
                    written_port,
                };
                // Each piece of advice in the situations the probe gives it.
                let all = match security {
                    Security::Ssl => vec![advice::plaintext_here(&side)],
                    Security::SslNoAuth => {
                        vec![advice::plaintext_here(&side), advice::verify(&side)]
                    }
                    Security::Tls => vec![
                        advice::implicit_tls_here(&side),
                        advice::no_starttls(&side),
                        advice::encrypt(&side, ""),
                    ],
                    Security::Basic => {
                        vec![advice::implicit_tls_here(&side), advice::encrypt(&side, "")]
                    }
                    Security::Auto => vec![
                        advice::implicit_tls_here(&side),
                        advice::no_starttls(&side),
                        advice::pin(&side, Security::Ssl),
                        advice::pin(&side, Security::Tls),
                    ],
                };
                for a in all {
                    let mut sec = security;
                    let mut port = written_port;
                    for (target, value) in &a.edits {
                        if target.ends_with("/security") {
                            sec = *securities
                                .iter()
                                .find(|s| format!("\"{s}\"") == *value)
                                .unwrap();
                        } else {
                            port = Some(value.parse().unwrap());
                        }
                    }
                    let line = |s: Security, p: Option<u32>| {
                        let p = p.map(|p| format!("\n        port {p}")).unwrap_or_default();
                        format!("server \"mail.example.com\"\n        security \"{s}\"{p}")
                    };
                    let (protocol, incoming, outgoing) = match service {
                        Service::Smtp => (
                            "imap",
                            line(Security::Ssl, None),
                            Some(format!(
                                "{}\n        auth \"same-as-incoming\"",
                                line(sec, port)
                            )),
                        ),
                        Service::Imap => ("imap", line(sec, port), None),
                        Service::Pop => ("pop", line(sec, port), None),
                    };
                    let kdl = account(protocol, &incoming, outgoing.as_deref())
                        .replace("localhost", "example.com");
                    let errors = check_errors(&kdl);
                    assert!(
                        errors.is_empty(),
                        "{service:?} {security} {written_port:?}: {a:?} gives {errors:?}\n{kdl}"
                    );
                    combos += 1;
                }
            }
        }
    }
    assert!(combos > 50, "{combos}");
}

// ---- results as data ------------------------------------------------------------------------

const ROOT: &str = crate::harness::ROOT;

/// Parses a results document and validates it against schema/probe-results.schema.json.
fn results_document(text: &str) -> serde_json::Value {
    let schema =
        std::fs::read_to_string(Path::new(ROOT).join("schema/probe-results.schema.json")).unwrap();
    let validator =
        jsonschema::validator_for(&serde_json::from_str(&schema).unwrap()).expect("results schema");
    let v: serde_json::Value = serde_json::from_str(text)
        .unwrap_or_else(|e| panic!("results-json does not parse: {e}\n{text}"));
    let errors: Vec<String> = validator.iter_errors(&v).map(|e| e.to_string()).collect();
    assert!(
        errors.is_empty(),
        "results violate their schema: {errors:#?}\n{text}"
    );
    v
}

#[test]
fn results_schema_is_up_to_date() {
    let out = Command::new(crate::harness::BIN)
        .args(["schema", "--probe-results"])
        .output()
        .unwrap();
    let generated = String::from_utf8(out.stdout).unwrap();
    let checked_in =
        std::fs::read_to_string(Path::new(ROOT).join("schema/probe-results.schema.json")).unwrap();
    assert!(
        generated == checked_in,
        "schema/probe-results.schema.json is stale: run \
         `cargo run -- schema --probe-results > schema/probe-results.schema.json`"
    );
}

/// Three accounts: one that passes (IMAP with `auto` over STARTTLS, SMTP), one with a wrong
/// password on POP3, one refused (no user).
fn three_accounts() -> String {
    let good = account("imap", "server \"localhost\"\n        security \"auto\"\n        port 10143", Some("server \"localhost\"\n        security \"tls\"\n        port 10587\n        auth \"same-as-incoming\""))
        .replace("account \"Test\"", "account \"Good\"");
    let bad_password = account(
        "pop",
        "server \"localhost\"\n        security \"ssl\"\n        port 10995",
        None,
    )
    .replace("account \"Test\"", "account \"BadPassword\"")
    .replace(
        &format!("password env=\"{PW_VAR}\""),
        "password \"not-the-password\"",
    );
    let refused = imap("localhost", "ssl", "10993")
        .replace("account \"Test\"", "account \"NoUser\"")
        .replace("        user \"testuser\"\n", "");
    format!("{good}{bad_password}{refused}")
}

#[test]
fn results_json_has_every_stage_and_detail_and_matches_its_schema() {
    let env = need_servers!();
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("copy.json");
    let out = probe(
        &env,
        &three_accounts(),
        &[
            "--format",
            "results-json",
            "--output",
            &format!("results-json={}", copy.display()),
        ],
    );
    let doc = results_document(&out.stdout);
    assert_eq!(doc["version"], 1);
    assert_eq!(doc["exit_code"], 1);
    assert_eq!(
        std::fs::read_to_string(&copy).unwrap(),
        out.stdout,
        "--output differs from stdout"
    );
    let accounts = doc["accounts"].as_array().unwrap();
    let names: Vec<&str> = accounts
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Good", "BadPassword", "NoUser"]);
    assert_eq!(doc["summary"]["probed"], 2);
    assert_eq!(doc["summary"]["not_probed"], 1);
    assert_eq!(doc["summary"]["failed"], 1);

    let good = &accounts[0];
    assert_eq!(good["status"], "ok", "{good:#}");
    let imap = &good["servers"][0];
    assert_eq!(imap["role"], "incoming");
    assert_eq!(imap["protocol"], "imap");
    assert_eq!(imap["resolved_security"], "tls");
    assert_eq!(imap["tls"]["version"], "TLS 1.3");
    assert!(imap["tls"]["cipher"]
        .as_str()
        .unwrap()
        .starts_with("TLS13_"));
    assert_eq!(imap["certificate"]["subject"], "CN=localhost");
    assert_eq!(imap["certificate"]["issuer"], "CN=mailsrv test CA");
    assert!(imap["certificate"]["sans"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s == "localhost"));
    assert_eq!(imap["certificate"]["not_after"], "2099-12-31T23:59:59Z");
    assert!(imap["certificate"]["days_left"].as_i64().unwrap() > 20_000);
    assert!(imap["auth_mechanisms"]
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m == "PLAIN"));
    assert!(imap["capabilities"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c == "IMAP4rev1"));
    assert_eq!(imap["addresses"][0], "127.0.0.1");
    assert_eq!(imap["connected_to"], "127.0.0.1:10143");
    assert_eq!(imap["mailbox"]["name"], "INBOX");
    assert!(imap["mailbox"]["messages"].as_u64().is_some(), "{imap:#}");
    let stages: Vec<&str> = imap["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        stages,
        [
            "resolve",
            "connect",
            "tls",
            "greeting",
            "capabilities",
            "tls",
            "certificate",
            "capabilities",
            "login",
            "mailbox"
        ]
    );
    assert!(imap["stages"]
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["status"] != "failed"));
    let smtp = &good["servers"][1];
    assert_eq!(smtp["protocol"], "smtp");
    assert_eq!(smtp["senders"][0]["address"], "testuser@localhost");
    assert_eq!(smtp["senders"][0]["verdict"], "accepted");
    // `auto` resolving is an info on the Good account.
    assert!(good["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d["rule"] == "probe-auto-resolved"));

    let bad = &accounts[1];
    assert_eq!(bad["status"], "failed");
    let pop = &bad["servers"][0];
    assert_eq!(pop["protocol"], "pop3");
    let login = pop["stages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "login")
        .unwrap();
    assert_eq!(login["status"], "failed");
    assert!(login["duration_ms"].as_f64().is_some());
    assert!(bad["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d["rule"] == "probe-login"));
    assert!(
        !out.stdout.contains("not-the-password"),
        "a literal secret leaked"
    );

    let refused = &accounts[2];
    assert_eq!(refused["status"], "not-probed");
    assert!(refused["servers"].as_array().unwrap().is_empty());
    assert!(refused["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d["rule"] == "probe-not-ready"));
}

/// docs/probe.md's server object is valid against the schema's Server definition.
#[test]
fn documented_results_server_matches_the_schema() {
    let mut schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(Path::new(ROOT).join("schema/probe-results.schema.json")).unwrap(),
    )
    .unwrap();
    schema["$ref"] = "#/$defs/Server".into();
    for k in [
        "properties",
        "required",
        "additionalProperties",
        "title",
        "type",
    ] {
        schema.as_object_mut().unwrap().remove(k);
    }
    let validator = jsonschema::validator_for(&schema).unwrap();
    let example: serde_json::Value = serde_json::from_str(&crate::harness::doc_block(
        "docs/probe.md",
        "results-server-example",
    ))
    .unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&example)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(example["resolved_security"], "tls");
}

// ---- live progress --------------------------------------------------------------------------

/// "Slow" (first in the file) waits for a silent server for 1 s; "Fast" is done in milliseconds.
fn slow_and_fast(env: &Env) -> String {
    let silent = env.get("MAILSRV_SILENT_PORT");
    let slow = imap("localhost", "ssl", &silent).replace("account \"Test\"", "account \"Slow\"");
    let fast = imap("localhost", "ssl", "10993").replace("account \"Test\"", "account \"Fast\"");
    format!("{slow}{fast}")
}

#[test]
fn off_a_terminal_each_account_is_printed_as_it_finishes() {
    use std::io::{BufRead, BufReader};
    let env = need_servers!();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("accounts.kdl"), slow_and_fast(&env)).unwrap();
    let started = Instant::now();
    let mut child = Command::new(crate::harness::BIN)
        .current_dir(dir.path())
        .args([
            "probe",
            "accounts.kdl",
            "--timeout",
            "1",
            "--color",
            "never",
        ])
        .args(["--ca-file", &env.get("MAILSRV_CA")])
        .env(PW_VAR, env.get("MAILSRV_PASS"))
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = Vec::new();
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        lines.push((started.elapsed(), line.unwrap()));
    }
    let status = child.wait().unwrap();
    let end = started.elapsed();
    assert_eq!(status.code(), Some(1));
    let at = |prefix: &str| {
        lines
            .iter()
            .position(|(_, l)| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no line {prefix:?}: {lines:#?}"))
    };
    let fast = at("account \"Fast\"");
    let slow = at("account \"Slow\"");
    // Completion order on the screen, and Fast arrived long before the run ended.
    assert!(fast < slow, "{lines:#?}");
    assert!(
        end - lines[fast].0 > Duration::from_millis(500),
        "Fast was held back: {lines:#?}"
    );
    // No progress line off a terminal.
    assert!(
        !lines
            .iter()
            .any(|(_, l)| l.contains('\r') || l.contains("in flight")),
        "{lines:#?}"
    );
    // The summary lists the accounts in input order.
    let summary = at("summary:");
    assert!(
        lines[summary + 1].1.contains("FAILED") && lines[summary + 1].1.contains("\"Slow\""),
        "{lines:#?}"
    );
    assert!(
        lines[summary + 2].1.contains("OK") && lines[summary + 2].1.contains("\"Fast\""),
        "{lines:#?}"
    );
    assert!(summary > slow);
}

/// Runs mailcfg under a pseudo-terminal (util-linux `script`), returning what the terminal got.
fn on_a_terminal(env: &Env, dir: &Path, args: &str) -> String {
    let bin = crate::harness::BIN;
    let cmd = format!(
        "{bin} probe accounts.kdl --timeout 1 --ca-file {} {args}",
        env.get("MAILSRV_CA")
    );
    let out = Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .current_dir(dir)
        .env(PW_VAR, env.get("MAILSRV_PASS"))
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("`script` from util-linux runs mailcfg under a pseudo-terminal");
    String::from_utf8_lossy(&out.stdout).replace("\r\n", "\n")
}

#[test]
fn on_a_terminal_a_progress_line_shows_the_slowest_account_in_flight() {
    let env = need_servers!();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("accounts.kdl"), slow_and_fast(&env)).unwrap();
    let screen = on_a_terminal(&env, dir.path(), "");
    // The progress line names the account still running, and is erased before each block.
    assert!(screen.contains("[1/2] "), "{screen:?}");
    assert!(screen.contains("slowest in flight: \"Slow\""), "{screen:?}");
    assert!(screen.contains("\r\x1b[2Kaccount \"Slow\""), "{screen:?}");
    let fast = screen.find("account \"Fast\"").unwrap();
    let slow = screen.find("account \"Slow\"").unwrap();
    assert!(fast < slow, "{screen}");
    // After the last block the progress line is gone for good: the summary follows.
    let tail = &screen[screen.find("summary:").unwrap()..];
    assert!(
        !tail.contains("in flight") && !tail.contains('\x1b'),
        "{tail:?}"
    );

    // Machine formats get nothing of this, even on a terminal.
    let json = on_a_terminal(&env, dir.path(), "--format results-json");
    let doc = results_document(&json);
    assert_eq!(doc["accounts"][0]["name"], "Slow");
    assert!(!json.contains("in flight"));
}

// ---- metrics --------------------------------------------------------------------------------

/// Parses OpenMetrics text with the Prometheus project's own Python parsers (PyPI
/// prometheus_client, installed by scripts/setup-prometheus-client.sh): the strict OpenMetrics
/// parser, and the classic text-format parser node_exporter's textfile collector follows.
/// Returns every sample as (name, labels, value).
pub(crate) fn parse_metrics(text: &str) -> Vec<(String, HashMap<String, String>, f64)> {
    const SCRIPT: &str = r#"
import json, sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families as openmetrics
from prometheus_client.parser import text_string_to_metric_families as classic
text = sys.stdin.read()
strict = [s for f in openmetrics(text) for s in f.samples]
old = [s for f in classic(text) for s in f.samples]
assert len(strict) == len(old), (len(strict), len(old))
print(json.dumps([[s.name, s.labels, s.value] for s in strict]))
"#;
    use std::io::Write as _;
    let mut child = Command::new("python3")
        .args(["-c", SCRIPT])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python3");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !err.contains("No module named 'prometheus_client'"),
        "prometheus_client is missing: run `bash scripts/setup-prometheus-client.sh`"
    );
    assert!(
        out.status.success(),
        "the metrics do not parse: {err}\n{text}"
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn openmetrics_are_accepted_by_the_prometheus_parsers() {
    let env = need_servers!();
    let out = probe(&env, &three_accounts(), &["--format", "openmetrics"]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert!(out.stdout.ends_with("# EOF\n"), "{}", out.stdout);
    let samples = parse_metrics(&out.stdout);
    let value = |name: &str, want: &[(&str, &str)]| -> f64 {
        let found: Vec<f64> = samples
            .iter()
            .filter(|(n, l, _)| {
                n == name
                    && want
                        .iter()
                        .all(|(k, v)| l.get(*k).map(String::as_str) == Some(*v))
            })
            .map(|s| s.2)
            .collect();
        assert_eq!(found.len(), 1, "{name} {want:?}: {found:?}\n{}", out.stdout);
        found[0]
    };
    assert_eq!(
        value("mailcfg_probe_account_success", &[("account", "Good")]),
        1.0
    );
    assert_eq!(
        value(
            "mailcfg_probe_account_success",
            &[("account", "BadPassword")]
        ),
        0.0
    );
    assert_eq!(
        value("mailcfg_probe_account_success", &[("account", "NoUser")]),
        0.0
    );
    assert_eq!(
        value("mailcfg_probe_account_probed", &[("account", "NoUser")]),
        0.0
    );
    assert_eq!(
        value(
            "mailcfg_probe_stage_success",
            &[
                ("account", "BadPassword"),
                ("role", "incoming"),
                ("stage", "login")
            ]
        ),
        0.0
    );
    assert_eq!(
        value(
            "mailcfg_probe_stage_success",
            &[
                ("account", "Good"),
                ("role", "incoming"),
                ("stage", "login")
            ]
        ),
        1.0
    );
    assert_eq!(
        value(
            "mailcfg_probe_server_success",
            &[
                ("account", "Good"),
                ("role", "outgoing"),
                ("protocol", "smtp")
            ]
        ),
        1.0
    );
    assert!(
        value(
            "mailcfg_probe_stage_duration_seconds",
            &[("account", "Good"), ("role", "incoming"), ("stage", "tls")]
        ) > 0.0
    );
    assert_eq!(
        value(
            "mailcfg_probe_security_mode",
            &[
                ("account", "Good"),
                ("role", "incoming"),
                ("configured", "auto"),
                ("resolved", "tls")
            ]
        ),
        1.0
    );
    assert_eq!(
        value(
            "mailcfg_probe_certificate_expiry_timestamp_seconds",
            &[("account", "Good"), ("role", "incoming")]
        ),
        4_102_444_799.0
    );
    assert!(
        value(
            "mailcfg_probe_certificate_days_left",
            &[("account", "Good"), ("role", "incoming")]
        ) > 20_000.0
    );
    assert!(
        value(
            "mailcfg_probe_mailbox_messages",
            &[("account", "Good"), ("role", "incoming")]
        ) >= 0.0
    );

    // An expired certificate: negative days left, an expiry in the past.
    let expired = imap(&env.get("MAILSRV_HOST_EXPIRED"), "ssl", "10993");
    let out = probe(&env, &expired, &["--format", "openmetrics"]);
    let samples = parse_metrics(&out.stdout);
    let days = samples
        .iter()
        .find(|s| s.0 == "mailcfg_probe_certificate_days_left" && s.1["role"] == "incoming")
        .unwrap();
    assert!(days.2 < 0.0, "{}", out.stdout);
}

/// The alert rules in docs/probe.md use metrics the probe really writes.
#[test]
fn documented_alert_rules_use_real_metrics() {
    let env = need_servers!();
    let out = probe(&env, &three_accounts(), &["--format", "openmetrics"]);
    let names: Vec<String> = parse_metrics(&out.stdout)
        .into_iter()
        .map(|s| s.0)
        .collect();
    let rules = crate::harness::doc_block("docs/probe.md", "alert-rules");
    let mut used = 0;
    for word in rules.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
        if word.starts_with("mailcfg_probe_") {
            assert!(
                names.iter().any(|n| n == word),
                "{word} is not a metric the probe writes"
            );
            used += 1;
        }
    }
    assert!(used >= 2, "{rules}");
}

// ---- the report page ------------------------------------------------------------------------

/// Runs Debian's Chromium headless (scripts/setup-chromium.sh installs it) with a fresh profile
/// and nothing that reaches the network; returns (stdout, stderr).
fn chromium(args: &[&str], url: &str) -> (String, String) {
    let profile = tempfile::tempdir().unwrap();
    let out = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .arg(url)
        .output()
        .expect("chromium is not installed: run `bash scripts/setup-chromium.sh`");
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn html_report_loads_in_headless_chromium() {
    let env = need_servers!();
    let expired = imap(&env.get("MAILSRV_HOST_EXPIRED"), "ssl", "10993")
        .replace("account \"Test\"", "account \"Expired\"");
    let kdl = format!("{}{expired}", three_accounts());
    let out = probe(&env, &kdl, &["--format", "html"]);
    assert_eq!(out.code, 1);
    let html = out.stdout;
    // Self-contained: nothing to fetch.
    for needle in [
        "src=\"http",
        "href=\"http",
        "url(",
        "@import",
        "<link",
        "<img",
        "<iframe",
    ] {
        assert!(
            !html.contains(needle),
            "the page would fetch something ({needle})"
        );
    }
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let page = dir.join("probe-report.html");
    std::fs::write(&page, &html).unwrap();
    let url = format!("file://{}", page.display());

    let (dom, log) = chromium(&["--dump-dom"], &url);
    // The page's own console line proves console messages reach the log; nothing else may.
    assert!(log.contains("\"mailcfg-report-ready rows=4\""), "{log}");
    let console: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("CONSOLE") && !l.contains("mailcfg-report-ready"))
        .collect();
    assert!(console.is_empty(), "console messages: {console:#?}");
    assert!(!log.contains("net::ERR"), "a fetch was attempted: {log}");
    // The script ran, and the grid has one row per account, in file order.
    assert!(dom.contains("data-ready=\"4\""), "{dom}");
    let rows: Vec<&str> = dom
        .split("<tr class=\"account")
        .skip(1)
        .map(|r| {
            r.split("data-account=\"")
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap()
        })
        .collect();
    assert_eq!(rows, ["Good", "BadPassword", "NoUser", "Expired"]);
    // Status colours and details: the failed login is a red cell whose title says why.
    assert!(
        dom.contains("class=\"dot failed\" title=\"incoming login: failed"),
        "{dom}"
    );
    // The expiry timeline has the expired certificate first, in red.
    let timeline = &dom[dom.find("Certificate expiry").unwrap()..];
    let first = timeline.find("class=\"tl-row cert\"").unwrap();
    assert!(
        timeline[first..].starts_with("class=\"tl-row cert\"")
            && timeline[first..first + 400].contains("Expired"),
        "{timeline}"
    );
    assert!(
        timeline[first..first + 600].contains("tl-bar failed"),
        "{timeline}"
    );

    // Clicking (here: the link form #NAME) opens that account's details.
    let (dom, _) = chromium(&["--dump-dom"], &format!("{url}#BadPassword"));
    assert!(
        dom.contains("class=\"panel open\" data-account=\"BadPassword\""),
        "{dom}"
    );
    assert_eq!(dom.matches("class=\"panel open\"").count(), 1);

    // A screenshot for people to look at.
    let shot = dir.join("probe-report.png");
    let _ = std::fs::remove_file(&shot);
    chromium(
        &[
            "--window-size=1280,1000",
            &format!("--screenshot={}", shot.display()),
        ],
        &format!("{url}#BadPassword"),
    );
    let png = std::fs::read(&shot).expect("chromium wrote no screenshot");
    assert!(
        png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 10_000,
        "{} bytes",
        png.len()
    );
    eprintln!("screenshot of the report: {}", shot.display());
}

// ---- a real DNS server ----------------------------------------------------------------------

/// A private dnsmasq: `mail.test` is 127.0.0.1, every other name under `test` does not exist.
fn dnsmasq() -> crate::dns_server::Dnsmasq {
    crate::dns_server::start(
        &[
            "--conf-file=/dev/null".into(),
            "--address=/mail.test/127.0.0.1".into(),
            "--local=/test/".into(),
        ],
        "mail.test",
    )
}

#[test]
fn a_real_dns_server_answers_names_and_no_such_name() {
    let env = need_servers!();
    let dns = dnsmasq();
    let kdl = account(
        "imap",
        "server \"mail.test\"\n        security \"ssl\"\n        port 10993",
        Some("server \"nosuch.test\"\n        security \"ssl\"\n        port 10465\n        auth \"same-as-incoming\""),
    );
    let server = format!("127.0.0.1:{}", dns.port);
    let out = probe(
        &env,
        &kdl,
        &["--dns-server", &server, "--format", "results-json"],
    );
    // An answer, even "no such name", is not an outage.
    assert_eq!(out.code, 1, "{}", out.stdout);
    let doc = results_document(&out.stdout);
    let servers = &doc["accounts"][0]["servers"];
    assert_eq!(servers[0]["addresses"][0], "127.0.0.1", "{servers:#}");
    assert_eq!(servers[0]["connected_to"], "127.0.0.1:10993");
    assert_eq!(
        servers[1]["resolve_error"]["kind"], "not-found",
        "{servers:#}"
    );
    let msg = servers[1]["resolve_error"]["message"].as_str().unwrap();
    assert!(
        msg.contains(&format!(
            "nosuch.test does not exist (answered by the DNS server {server})"
        )),
        "{msg}"
    );
}
