//! The deliverability stage of `mailcfg probe` against a REAL DNS server: a private dnsmasq
//! (scripts/setup-dnsmasq.sh installs it) on a free loopback port serving the test zones of
//! scripts/dnsmasq-deliverability.conf (MX, SPF pass/fail/softfail/too many lookups/two
//! records/syntax error, DMARC present/absent/malformed/inherited). The outgoing server is the
//! local Postfix on 127.0.0.1 (scripts/mailservers.sh), so `ip4:127.0.0.1` in a record makes
//! the SPF verdict a real pass and its absence a real fail.
//!
//! Skipped (with a message) only when MAILSRV_DIR is unset.

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::harness::{BIN, ROOT};

use crate::dns_server::Dnsmasq;

/// The zones of scripts/dnsmasq-deliverability.conf.
fn dnsmasq() -> Dnsmasq {
    let conf = Path::new(ROOT).join("scripts/dnsmasq-deliverability.conf");
    crate::dns_server::start(&[format!("--conf-file={}", conf.display())], "pass.test")
}

/// The servers' settings from `$MAILSRV_DIR/env`; None (test skipped) when MAILSRV_DIR is unset.
fn servers() -> Option<HashMap<String, String>> {
    let Some(dir) = std::env::var_os("MAILSRV_DIR") else {
        eprintln!("SKIPPED: MAILSRV_DIR is unset (see scripts/mailservers.sh)");
        return None;
    };
    let text = std::fs::read_to_string(Path::new(&dir).join("env")).expect("$MAILSRV_DIR/env");
    Some(
        text.lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    )
}

/// An account on the local Dovecot/Postfix (both by IP address, so only the From domains are
/// looked up in the DNS) with these `from` addresses and incoming `user`.
fn account(user: &str, addresses: &[&str]) -> String {
    let from: String = addresses
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let default = if i == 0 { " default=#true" } else { "" };
            format!("        address \"{a}\"{default}\n")
        })
        .collect();
    format!(
        r#"account "Desk" {{
    protocol "imap"
    incoming {{
        server "127.0.0.1"
        security "ssl"
        port 10993
        user "{user}"
        password env="MAILSRV_PASS"
    }}
    outgoing {{
        server "127.0.0.1"
        security "tls"
        port 10587
        auth "same-as-incoming"
    }}
    from {{
{from}    }}
}}
"#
    )
}

struct Run {
    code: i32,
    stdout: String,
    elapsed: Duration,
}

fn probe(env: &HashMap<String, String>, kdl: &str, dns: &str, args: &[&str]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("desk.kdl"), kdl).unwrap();
    let t = Instant::now();
    let out = Command::new(BIN)
        .current_dir(dir.path())
        .args(["probe", "desk.kdl", "--color", "never", "--timeout", "3"])
        .args(["--ca-file", &env["MAILSRV_CA"], "--dns-server", dns])
        .args(args)
        .env("MAILSRV_PASS", &env["MAILSRV_PASS"])
        .output()
        .unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).unwrap() + &String::from_utf8(out.stderr).unwrap(),
        elapsed: t.elapsed(),
    }
}

/// The results document, validated against the checked-in schema.
fn results(run: &Run) -> serde_json::Value {
    let schema =
        std::fs::read_to_string(Path::new(ROOT).join("schema/probe-results.schema.json")).unwrap();
    let validator = jsonschema::validator_for(&serde_json::from_str(&schema).unwrap()).unwrap();
    let v: serde_json::Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("results-json does not parse: {e}\n{}", run.stdout));
    let errors: Vec<String> = validator.iter_errors(&v).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:#?}\n{}", run.stdout);
    v
}

fn domain<'a>(doc: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    doc["accounts"][0]["domains"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["domain"] == name)
        .unwrap_or_else(|| panic!("no domain {name} in {doc:#}"))
}

fn stage<'a>(d: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    d["stages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no stage {name} in {d:#}"))
}

/// The rules of the diagnostics whose exact span is the `address "…"` node naming `address`.
fn rules_on(doc: &serde_json::Value, kdl: &str, address: &str) -> Vec<String> {
    let node_start = kdl
        .find(&format!("address \"{address}\""))
        .unwrap_or_else(|| panic!("{address} not in the KDL"));
    let node_end = node_start + kdl[node_start..].find('\n').unwrap();
    let mut rules: Vec<String> = doc["accounts"][0]["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| {
            d["location"]["byte_start"] == node_start && d["location"]["byte_end"] == node_end
        })
        .map(|d| d["rule"].as_str().unwrap().to_string())
        .collect();
    rules.sort();
    rules
}

#[test]
fn each_verdict_of_the_test_zones_lands_on_its_address() {
    let Some(env) = servers() else { return };
    let dns = dnsmasq();
    let addresses = [
        "desk@pass.test",
        "desk@fail.test",
        "desk@softfail.test",
        "desk@lookups.test",
        "desk@two.test",
        "desk@syntax.test",
        "desk@dmarcbad.test",
        "desk@lenient.test",
        "desk@afterall.test",
        "desk@badsp.test",
        "desk@nomx.test",
        "desk@mail.nomx.test",
        "desk@nosuch.test",
        "desk@nullmx.test",
    ];
    let kdl = account("testuser", &addresses);
    let run = probe(&env, &kdl, &dns.addr, &["--format", "results-json"]);
    // Errors (two records, a syntax error, too many lookups, a malformed DMARC record): exit 1.
    assert_eq!(run.code, 1, "{}", run.stdout);
    let doc = results(&run);
    let rules = |a: &str| rules_on(&doc, &kdl, a);

    // pass.test: every record good; only the policy is reported.
    let pass = domain(&doc, "pass.test");
    assert_eq!(pass["status"], "ok", "{pass:#}");
    assert_eq!(pass["mx"][0]["host"], "mx.pass.test");
    assert_eq!(pass["spf"]["records"][0], "v=spf1 ip4:127.0.0.1 -all");
    assert_eq!(pass["spf"]["lookups"], 0);
    assert_eq!(pass["spf"]["results"][0]["address"], "127.0.0.1");
    assert_eq!(pass["spf"]["results"][0]["result"], "pass");
    assert_eq!(pass["dmarc"]["policy"], "reject");
    assert_eq!(pass["dmarc"]["name"], "_dmarc.pass.test");
    assert_eq!(rules("desk@pass.test"), ["probe-dmarc-policy"]);

    // SPF verdicts for the real outgoing server 127.0.0.1.
    let fail = domain(&doc, "fail.test");
    assert_eq!(fail["spf"]["results"][0]["result"], "fail");
    assert_eq!(stage(fail, "spf-result")["status"], "warning");
    assert_eq!(fail["dmarc"]["policy"], "quarantine");
    assert_eq!(
        rules("desk@fail.test"),
        ["probe-dmarc-policy", "probe-spf-result"]
    );
    let softfail = domain(&doc, "softfail.test");
    assert_eq!(softfail["spf"]["results"][0]["result"], "softfail");
    assert!(softfail["dmarc"]["policy"].is_null(), "{softfail:#}");
    assert_eq!(
        rules("desk@softfail.test"),
        ["probe-dmarc-missing", "probe-spf-result"]
    );

    // 1 + 3 lookups per include, 3 includes: 12 > 10, although 127.0.0.1 passes at once.
    let lookups = domain(&doc, "lookups.test");
    assert_eq!(lookups["spf"]["lookups"], 12);
    assert_eq!(stage(lookups, "spf")["status"], "failed");
    assert_eq!(lookups["spf"]["results"][0]["result"], "pass");
    assert_eq!(
        rules("desk@lookups.test"),
        ["probe-dmarc-policy", "probe-spf-lookups"]
    );

    // Two records: permerror (RFC 7208 §4.5), whatever each says on its own.
    let two = domain(&doc, "two.test");
    assert_eq!(two["spf"]["records"].as_array().unwrap().len(), 2);
    assert_eq!(two["spf"]["results"][0]["result"], "permerror");
    assert_eq!(
        rules("desk@two.test"),
        ["probe-dmarc-policy", "probe-spf-multiple"]
    );

    let syntax = domain(&doc, "syntax.test");
    assert_eq!(syntax["spf"]["results"][0]["result"], "permerror");
    assert_eq!(
        rules("desk@syntax.test"),
        ["probe-dmarc-missing", "probe-spf-syntax"]
    );

    let dmarcbad = domain(&doc, "dmarcbad.test");
    assert_eq!(dmarcbad["dmarc"]["records"][0], "v=DMARC1; p=bogus");
    assert!(dmarcbad["dmarc"]["policy"].is_null());
    assert_eq!(stage(dmarcbad, "dmarc")["status"], "failed");
    assert_eq!(rules("desk@dmarcbad.test"), ["probe-dmarc-invalid"]);

    // What follows `all` is never evaluated, so it costs no lookup (RFC 7208 §5.1).
    let afterall = domain(&doc, "afterall.test");
    assert_eq!(afterall["spf"]["lookups"], 0, "{afterall:#}");
    assert_eq!(afterall["spf"]["results"][0]["result"], "pass");

    // A tag error other than p/sp is discarded by receivers (RFC 7489 §6.3): p=reject stays.
    let lenient = domain(&doc, "lenient.test");
    assert_eq!(lenient["dmarc"]["policy"], "reject", "{lenient:#}");
    assert_eq!(stage(lenient, "dmarc")["status"], "ok");
    assert!(stage(lenient, "dmarc")["detail"]
        .as_str()
        .unwrap()
        .contains("receivers discard such errors"));
    assert_eq!(rules("desk@lenient.test"), ["probe-dmarc-policy"]);
    // An invalid sp voids the record (§6.6.3 step 6).
    let badsp = domain(&doc, "badsp.test");
    assert!(badsp["dmarc"]["policy"].is_null(), "{badsp:#}");
    assert!(stage(badsp, "dmarc")["detail"]
        .as_str()
        .unwrap()
        .contains("`sp=bogus` is not a valid policy"));
    assert_eq!(rules("desk@badsp.test"), ["probe-dmarc-invalid"]);

    // No MX (the domain exists); its subdomain inherits sp=quarantine from _dmarc.nomx.test.
    let nomx = domain(&doc, "nomx.test");
    assert!(nomx["mx"].as_array().unwrap().is_empty());
    assert_eq!(nomx["dmarc"]["policy"], "reject");
    assert_eq!(
        rules("desk@nomx.test"),
        ["probe-dmarc-policy", "probe-mx-missing"]
    );
    let sub = domain(&doc, "mail.nomx.test");
    assert_eq!(sub["dmarc"]["name"], "_dmarc.nomx.test");
    assert_eq!(sub["dmarc"]["policy"], "quarantine");
    assert_eq!(rules("desk@mail.nomx.test"), ["probe-dmarc-policy"]);

    // A domain that does not exist: no MX, no SPF, no DMARC.
    let nosuch = domain(&doc, "nosuch.test");
    assert!(stage(nosuch, "mx")["detail"]
        .as_str()
        .unwrap()
        .contains("does not exist"));
    assert_eq!(
        rules("desk@nosuch.test"),
        [
            "probe-dmarc-missing",
            "probe-mx-missing",
            "probe-spf-missing"
        ]
    );

    // A null MX (RFC 7505): the domain says it accepts no mail, so replies bounce.
    let nullmx = domain(&doc, "nullmx.test");
    assert_eq!(nullmx["mx"][0]["host"], ".");
    assert_eq!(stage(nullmx, "mx")["status"], "warning");
    assert_eq!(
        rules("desk@nullmx.test"),
        ["probe-dmarc-policy", "probe-mx-missing"]
    );
    assert_eq!(doc["accounts"][0]["status"], "failed");
}

/// Good records everywhere: every deliverability stage passes, the policy is an info, exit 0;
/// the finding's help says that the verdict is about the server the probe reaches.
#[test]
fn good_records_pass_and_a_fail_names_the_relay_caveat() {
    let Some(env) = servers() else { return };
    let dns = dnsmasq();
    let good = probe(
        &env,
        &account("testuser", &["Desk <desk@pass.test>"]),
        &dns.addr,
        &[],
    );
    assert_eq!(good.code, 0, "{}", good.stdout);
    for line in [
        "From domain pass.test (desk@pass.test): deliverability",
        "✓ mx ",
        "✓ spf ",
        "✓ spf-result ",
        "pass for 127.0.0.1 (MAIL FROM desk@pass.test)",
        "✓ dmarc ",
        "DMARC policy for pass.test: reject",
    ] {
        assert!(good.stdout.contains(line), "{line:?}\n{}", good.stdout);
    }
    let bad = probe(
        &env,
        &account("testuser", &["desk@fail.test"]),
        &dns.addr,
        &["--deny-warnings"],
    );
    assert_eq!(bad.code, 1, "{}", bad.stdout);
    for line in [
        "! spf-result",
        "SPF of fail.test does not pass for the outgoing server 127.0.0.1: fail for 127.0.0.1",
        "relays through another host",
    ] {
        assert!(bad.stdout.contains(line), "{line:?}\n{}", bad.stdout);
    }
}

/// The incoming user's domain is checked when the user is an address; its findings land on the
/// `user` line (the login fails: Dovecot knows only `testuser`, which does not matter here).
#[test]
fn the_incoming_users_domain_is_checked_on_its_line() {
    let Some(env) = servers() else { return };
    let dns = dnsmasq();
    let kdl = account("desk@softfail.test", &["desk@pass.test"]);
    let run = probe(&env, &kdl, &dns.addr, &["--format", "json"]);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let user_line = kdl
        .lines()
        .position(|l| l.contains("user \"desk@softfail.test\""))
        .unwrap()
        + 1;
    let on_user: Vec<&str> = doc["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["location"]["line"] == user_line)
        .map(|d| d["rule"].as_str().unwrap())
        .collect();
    assert!(on_user.contains(&"probe-spf-result"), "{on_user:?}");
    assert!(on_user.contains(&"probe-dmarc-missing"), "{on_user:?}");
}

/// `probe` of an account with `from` addresses against the DNS server at `dns` (one that may
/// not answer), with `--timeout SECONDS`: its exit code, standard output and how long it took.
fn probe_against_dns(
    env: &HashMap<String, String>,
    from: &[&str],
    dns: &str,
    seconds: &str,
) -> (Option<i32>, String, Duration) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("desk.kdl"), account("testuser", from)).unwrap();
    let t = Instant::now();
    let out = Command::new(BIN)
        .current_dir(dir.path())
        .args([
            "probe",
            "desk.kdl",
            "--color",
            "never",
            "--timeout",
            seconds,
        ])
        .args(["--ca-file", &env["MAILSRV_CA"], "--dns-server", dns])
        .env("MAILSRV_PASS", &env["MAILSRV_PASS"])
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    (out.status.code(), stdout, t.elapsed())
}

/// A DNS server that never answers: the first lookup waits for the timeout, every other lookup
/// of the account (of both domains) is skipped, and each domain gets one warning saying so (not
/// an error: exit 0). Before the skip, ten domains cost 20 s with `--timeout 1`.
#[test]
fn a_silent_dns_server_costs_one_timeout_per_account() {
    let Some(env) = servers() else { return };
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = silent.local_addr().unwrap().to_string();
    let (code, stdout, elapsed) =
        probe_against_dns(&env, &["desk@pass.test", "desk@fail.test"], &addr, "1");
    assert_eq!(code, Some(0), "{stdout}");
    assert!(stdout.contains("! mx "), "{stdout}");
    assert!(
        stdout.contains("- spf ") && stdout.contains("the DNS server did not answer"),
        "{stdout}"
    );
    assert!(
        stdout.contains("the records of fail.test were not read"),
        "{stdout}"
    );
    assert_eq!(
        stdout.matches("\nprobe-deliverability-dns\n").count(),
        2,
        "{stdout}"
    );
    assert!(elapsed < Duration::from_secs(4), "{elapsed:?}");
    drop(silent);
}

/// A DNS port nobody listens on: the refusal ends the first lookup at once (not after the
/// 5 s timeout), and the warning says the server refused.
#[test]
fn a_refused_dns_port_is_reported_at_once() {
    let Some(env) = servers() else { return };
    let closed = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = closed.local_addr().unwrap().to_string();
    drop(closed);
    let (code, stdout, elapsed) = probe_against_dns(&env, &["desk@pass.test"], &addr, "5");
    assert_eq!(code, Some(0), "{stdout}");
    assert!(
        stdout.contains("the MX record of pass.test could not be read: connection refused"),
        "{stdout}"
    );
    assert!(elapsed < Duration::from_secs(3), "{elapsed:?}");
}

/// The openmetrics output carries the verdicts; the HTML report has a column per check with a
/// mark per domain and the domain's stages in the account's panel.
#[test]
fn metrics_and_the_report_page_show_the_verdicts() {
    let Some(env) = servers() else { return };
    let dns = dnsmasq();
    let run = probe(
        &env,
        &account("testuser", &["desk@pass.test", "desk@softfail.test"]),
        &dns.addr,
        &["--format", "openmetrics"],
    );
    for line in [
        r#"mailcfg_probe_domain_stage_success{account="Desk",domain="pass.test",stage="spf-result"} 1"#,
        r#"mailcfg_probe_domain_stage_success{account="Desk",domain="softfail.test",stage="spf-result"} 0"#,
        r#"mailcfg_probe_spf_result{account="Desk",domain="softfail.test",address="127.0.0.1",result="softfail"} 1"#,
        r#"mailcfg_probe_dmarc_policy{account="Desk",domain="pass.test",policy="reject"} 1"#,
    ] {
        assert!(run.stdout.contains(line), "{line}\n{}", run.stdout);
    }
    // The Prometheus project's parsers (strict OpenMetrics and classic) accept the families.
    let samples = crate::probe::parse_metrics(&run.stdout);
    let lookups: Vec<f64> = samples
        .iter()
        .filter(|(n, l, _)| {
            n == "mailcfg_probe_spf_lookups"
                && l.get("domain").map(String::as_str) == Some("pass.test")
        })
        .map(|s| s.2)
        .collect();
    assert_eq!(lookups, [0.0], "{}", run.stdout);
    assert!(run.elapsed < Duration::from_secs(30));
    let page = probe(
        &env,
        &account("testuser", &["desk@pass.test", "desk@softfail.test"]),
        &dns.addr,
        &["--format", "html"],
    )
    .stdout;
    for part in [
        "<th>spf-result</th>",
        "title=\"softfail.test spf-result: warning: softfail for 127.0.0.1 (MAIL FROM desk@softfail.test)\">dns</span>",
        "title=\"pass.test dmarc: ok: ",
        "<h4>From domain softfail.test (desk@softfail.test): deliverability</h4>",
        "<p>SPF: softfail for 127.0.0.1 · DMARC policy: none in force</p>",
    ] {
        assert!(page.contains(part), "{part}\n{page}");
    }
}

/// Stage times vary from run to run; everything else is compared as written.
fn without_times(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| {
            let words: Vec<&str> = l.split(' ').collect();
            let mut kept = Vec::new();
            let mut i = 0;
            while i < words.len() {
                if words.get(i + 1) == Some(&"ms") && words[i].parse::<u64>().is_ok() {
                    i += 2;
                    continue;
                }
                kept.push(words[i]);
                i += 1;
            }
            kept.join(" ")
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

/// docs/probe.md's deliverability example, run as written against the test zones (the
/// documented DNS server address replaced by the test's): the part from the first From domain
/// to the counts line is exactly what the docs show, and README.md's excerpt is part of it.
#[test]
fn documentation_example_is_real_output() {
    let Some(env) = servers() else { return };
    let dns = dnsmasq();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("desk.kdl"),
        crate::harness::doc_block("docs/probe.md", "desk.kdl"),
    )
    .unwrap();
    let command = crate::harness::doc_block("docs/probe.md", "deliverability-example")
        .replace("127.0.0.1:5353", &dns.addr);
    let bin = Path::new(BIN).parent().unwrap();
    let out = Command::new("sh")
        .arg("-c")
        .arg(command.trim())
        .current_dir(dir.path())
        .env(
            "PATH",
            format!("{}:{}", bin.display(), std::env::var("PATH").unwrap()),
        )
        .env("NO_COLOR", "1")
        .envs(&env)
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    let part = |text: &str| -> Vec<String> {
        let lines = without_times(text);
        let from = lines
            .iter()
            .position(|l| l.starts_with("From domain"))
            .expect("a From domain");
        let to = lines
            .iter()
            .position(|l| l.contains(" in 1 file"))
            .expect("the counts");
        lines[from..=to].to_vec()
    };
    let shown = crate::harness::doc_block("docs/probe.md", "deliverability-example-output");
    assert_eq!(part(&stdout), part(&shown), "{stdout}");
    let excerpt = without_times(&crate::harness::doc_block(
        "README.md",
        "deliverability-excerpt",
    ));
    let real = without_times(&stdout);
    assert!(
        real.windows(excerpt.len()).any(|w| w == excerpt.as_slice()),
        "README.md's excerpt is not in the output:\n{stdout}"
    );
}

/// The deliverability codes are levelled in mailcfg.kdl like every other code, and SARIF's
/// `tool.driver.rules` (the one registry) describes them.
#[test]
fn levels_come_from_mailcfg_kdl_and_sarif_knows_the_codes() {
    let Some(env) = servers() else { return };
    let dns = dnsmasq();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("desk.kdl"),
        account("testuser", &["desk@softfail.test"]),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("mailcfg.kdl"),
        "rules {\n    probe-spf-result \"deny\"\n    probe-dmarc-missing \"allow\"\n}\n",
    )
    .unwrap();
    let run = |format: &str| {
        let out = Command::new(BIN)
            .current_dir(dir.path())
            .args(["probe", "desk.kdl", "--format", format, "--timeout", "3"])
            .args(["--ca-file", &env["MAILSRV_CA"], "--dns-server", &dns.addr])
            .env("MAILSRV_PASS", &env["MAILSRV_PASS"])
            .output()
            .unwrap();
        (out.status.code(), String::from_utf8(out.stdout).unwrap())
    };
    let (code, concise) = run("concise");
    assert_eq!(code, Some(1), "{concise}");
    assert!(
        concise.contains("error[probe-spf-result] SPF of softfail.test"),
        "{concise}"
    );
    assert!(!concise.contains("probe-dmarc-missing"), "{concise}");
    let (_, sarif) = run("sarif");
    let doc: serde_json::Value = serde_json::from_str(&sarif).unwrap();
    let run0 = &doc["runs"][0];
    let result = run0["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["ruleId"] == "probe-spf-result")
        .expect("a probe-spf-result result");
    assert_eq!(result["level"], "error");
    let index = result["ruleIndex"].as_u64().unwrap() as usize;
    let rule = &run0["tool"]["driver"]["rules"][index];
    assert_eq!(rule["id"], "probe-spf-result", "{rule:#}");
    assert!(
        rule.to_string().contains("RFC 7208"),
        "the rule's description cites its source: {rule:#}"
    );
}

/// An outgoing server whose name does not resolve: MX, SPF and DMARC are still checked, the SPF
/// verdict is skipped (there is no address to evaluate) and says why.
#[test]
fn without_an_outgoing_address_the_spf_verdict_is_skipped() {
    let Some(env) = servers() else { return };
    let dns = dnsmasq();
    let kdl = account("testuser", &["desk@softfail.test"]).replace(
        "server \"127.0.0.1\"\n        security \"tls\"",
        "server \"smtp.nosuch.test\"\n        security \"tls\"",
    );
    assert!(kdl.contains("smtp.nosuch.test"), "{kdl}");
    let run = probe(&env, &kdl, &dns.addr, &["--format", "results-json"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    let doc = results(&run);
    let d = domain(&doc, "softfail.test");
    assert_eq!(stage(d, "spf")["status"], "ok");
    assert_eq!(stage(d, "spf-result")["status"], "skipped");
    assert_eq!(
        stage(d, "spf-result")["detail"],
        "no outgoing server address to evaluate"
    );
    assert!(d["spf"]["results"].as_array().unwrap().is_empty());
    assert_eq!(
        rules_on(&doc, &kdl, "desk@softfail.test"),
        ["probe-dmarc-missing"]
    );
}
