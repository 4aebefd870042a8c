//! `mailcfg discover` against a REAL DNS server: a private dnsmasq (scripts/setup-dnsmasq.sh
//! installs it) on a free loopback port serving test zones with SRV and MX records. The account
//! it writes is checked with `mailcfg check` and, when the local Dovecot/Postfix run
//! (MAILSRV_DIR, see scripts/mailservers.sh), probed with `mailcfg probe`.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use crate::dns_server::Dnsmasq;

/// The test zones. Ports are the local mail servers' (scripts/mailservers.sh).
fn zones() -> Vec<String> {
    let mut records = vec![
        // srv.test: everything, both implicit TLS and STARTTLS; no POP3 over TLS (".").
        "--srv-host=_imaps._tcp.srv.test,localhost,10993,0,1".to_string(),
        "--srv-host=_imap._tcp.srv.test,localhost,10143,0,1".into(),
        "--srv-host=_pop3s._tcp.srv.test".into(),
        "--srv-host=_submissions._tcp.srv.test,localhost,10465,0,1".into(),
        "--srv-host=_submission._tcp.srv.test,localhost,10587,0,1".into(),
        // starttls.test: STARTTLS only, on the standard ports.
        "--srv-host=_imap._tcp.starttls.test,imap.starttls.test,143,0,1".into(),
        "--srv-host=_submission._tcp.starttls.test,smtp.starttls.test,587,0,1".into(),
        // pop.test: POP3 only, no outgoing server.
        "--srv-host=_pop3s._tcp.pop.test,pop.pop.test,995,0,1".into(),
        // popfirst.test: the domain prefers POP3 by a lower priority value (RFC 6186 §3.4).
        "--srv-host=_imaps._tcp.popfirst.test,imap.popfirst.test,993,10,1".into(),
        "--srv-host=_pop3s._tcp.popfirst.test,pop.popfirst.test,995,0,1".into(),
        "--srv-host=_submissions._tcp.popfirst.test,smtp.popfirst.test,465,0,1".into(),
        // cleartext.test: cleartext POP3 at the best priority, IMAP with STARTTLS at a worse
        // one: TLS wins (RFC 8314 §5.1).
        "--srv-host=_pop3._tcp.cleartext.test,pop.cleartext.test,110,0,1".into(),
        "--srv-host=_imap._tcp.cleartext.test,imap.cleartext.test,143,20,1".into(),
        "--srv-host=_submission._tcp.cleartext.test,smtp.cleartext.test,587,0,1".into(),
        // mx.test: only an MX; imap.mailhost.test exists, smtp/mail.mailhost.test do not.
        "--mx-host=mx.test,mx1.mailhost.test,10".into(),
        "--address=/imap.mailhost.test/127.0.0.1".into(),
        "--address=/mx1.mailhost.test/127.0.0.1".into(),
        // nothing.test: an A record, nothing about mail.
        "--address=/nothing.test/127.0.0.1".into(),
        // example.com: the example of docs/discover.md.
        "--local=/example.com/".into(),
        "--srv-host=_imaps._tcp.example.com,mail.example.com,993,0,1".into(),
        "--srv-host=_imap._tcp.example.com,mail.example.com,143,0,1".into(),
        "--srv-host=_pop3s._tcp.example.com".into(),
        "--srv-host=_submissions._tcp.example.com,mail.example.com,465,0,1".into(),
        "--srv-host=_submission._tcp.example.com,mail.example.com,587,0,1".into(),
        // Autoconfig hosts, all served by the test HTTPS server (see `https`):
        // ac.test at autoconfig.ac.test only; wk.test at wk.test/.well-known (autoconfig.wk.test
        // answers 404); disagree.test also has an SRV record naming another server;
        // badcert.test's server has a certificate that does not name it.
        "--address=/autoconfig.ac.test/127.0.0.1".into(),
        "--address=/wk.test/127.0.0.1".into(),
        "--address=/autoconfig.disagree.test/127.0.0.1".into(),
        "--srv-host=_imaps._tcp.disagree.test,localhost,10993,0,1".into(),
        "--address=/autoconfig.badcert.test/127.0.0.1".into(),
    ];
    // many.test: 40 IMAPS records, more than a 512-byte UDP answer holds (so the answer comes
    // truncated and is asked again over TCP); the lowest priority is 5, and among those the
    // heaviest weight is 70 (imap-w70).
    for i in 0..36 {
        records.push(format!(
            "--srv-host=_imaps._tcp.many.test,backup{i:02}.many.test,993,{},{}",
            10 + i,
            100
        ));
    }
    for w in [10, 70, 30] {
        records.push(format!(
            "--srv-host=_imaps._tcp.many.test,imap-w{w}.many.test,993,5,{w}"
        ));
    }
    records.push("--srv-host=_imaps._tcp.many.test,late.many.test,993,7,1000".into());
    records
}

/// A private dnsmasq answering for `*.test` only (everything else there: NXDOMAIN).
fn dnsmasq() -> Dnsmasq {
    let mut args = vec![
        "--conf-file=/dev/null".to_string(),
        "--local=/test/".to_string(),
    ];
    args.extend(zones());
    crate::dns_server::start(&args, "nothing.test")
}

/// The test HTTPS server (scripts/autoconfig-https.py) with a certificate from a CA made for
/// this test, naming every autoconfig host of the zones but autoconfig.badcert.test.
struct Https {
    child: std::process::Child,
    port: String,
    ca: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for Https {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("openssl");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Mozilla config-v1.1.xml with one IMAP and one SMTP server.
fn document(imap: (&str, u16, &str), smtp: (&str, u16, &str), username: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<clientConfig version="1.1">
  <emailProvider id="test">
    <domain>test</domain>
    <incomingServer type="pop3">
      <hostname>pop.example.test</hostname>
      <port>995</port>
      <socketType>SSL</socketType>
      <username>{username}</username>
    </incomingServer>
    <incomingServer type="imap">
      <hostname>{}</hostname>
      <port>{}</port>
      <socketType>{}</socketType>
      <username>{username}</username>
      <authentication>password-cleartext</authentication>
    </incomingServer>
    <outgoingServer type="smtp">
      <hostname>{}</hostname>
      <port>{}</port>
      <socketType>{}</socketType>
      <username>{username}</username>
    </outgoingServer>
  </emailProvider>
</clientConfig>
"#,
        imap.0, imap.1, imap.2, smtp.0, smtp.1, smtp.2
    )
}

fn https() -> Https {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    openssl(
        d,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.crt",
            "-days",
            "2",
            "-subj",
            "/CN=mailcfg discover test CA",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign",
        ],
    );
    openssl(
        d,
        &[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=autoconfig.ac.test",
        ],
    );
    std::fs::write(
        d.join("ext.cnf"),
        "subjectAltName=DNS:autoconfig.ac.test,DNS:autoconfig.wk.test,DNS:wk.test,\
         DNS:autoconfig.disagree.test\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(
        d,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.crt",
            "-days",
            "2",
            "-extfile",
            "ext.cnf",
        ],
    );
    let docs = [
        (
            "autoconfig.ac.test/mail/config-v1.1.xml",
            document(
                ("localhost", 10993, "SSL"),
                ("localhost", 10465, "SSL"),
                "%EMAILLOCALPART%",
            ),
        ),
        (
            "wk.test/.well-known/autoconfig/mail/config-v1.1.xml",
            document(
                ("imap.wk.test", 143, "STARTTLS"),
                ("smtp.wk.test", 587, "STARTTLS"),
                "%EMAILADDRESS%",
            ),
        ),
        (
            "autoconfig.disagree.test/mail/config-v1.1.xml",
            document(
                ("imap.other.test", 993, "SSL"),
                ("smtp.other.test", 465, "SSL"),
                "%EMAILADDRESS%",
            ),
        ),
        (
            "autoconfig.badcert.test/mail/config-v1.1.xml",
            document(
                ("imap.badcert.test", 993, "SSL"),
                ("smtp.badcert.test", 465, "SSL"),
                "%EMAILADDRESS%",
            ),
        ),
    ];
    for (path, body) in docs {
        let file = d.join("www").join(path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, body).unwrap();
    }
    let script = Path::new(crate::harness::ROOT).join("scripts/autoconfig-https.py");
    let mut child = Command::new("python3")
        .arg(script)
        .arg(d.join("www"))
        .arg(d.join("server.crt"))
        .arg(d.join("server.key"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("python3");
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    let port = line
        .strip_prefix("ready ")
        .unwrap_or_else(|| panic!("the HTTPS server did not start: {line:?}"))
        .trim()
        .to_string();
    Https {
        child,
        port,
        ca: d.join("ca.crt"),
        _dir: dir,
    }
}

/// `discover` with the test DNS and HTTPS servers.
fn discover_https(dns: &Dnsmasq, web: &Https, address: &str, more: &[&str]) -> Run {
    let ca = web.ca.to_str().unwrap();
    let mut args = vec!["--ca-file", ca, "--https-port", &web.port];
    args.extend_from_slice(more);
    discover(dns, address, &args)
}

#[test]
fn autoconfig_only_at_the_autoconfig_host() {
    let dns = dnsmasq();
    let web = https();
    let out = discover_https(&dns, &web, "testuser@ac.test", &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let url = format!(
        "https://autoconfig.ac.test:{}/mail/config-v1.1.xml",
        web.port
    );
    assert_lines_in_order(
        &out.stdout,
        &[
            "protocol \"imap\"",
            &format!("// autoconfig document {url}"),
            "server \"localhost\"",
            "security \"ssl\"",
            "port 10993",
            // %EMAILLOCALPART%
            "user \"testuser\"",
            &format!("// autoconfig document {url}"),
            "port 10465",
        ],
    );
    assert_check_clean(&out.stdout);
}

#[test]
fn autoconfig_at_the_well_known_path_with_starttls() {
    let dns = dnsmasq();
    let web = https();
    let out = discover_https(&dns, &web, "desk@wk.test", &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let url = format!(
        "https://wk.test:{}/.well-known/autoconfig/mail/config-v1.1.xml",
        web.port
    );
    assert_lines_in_order(
        &out.stdout,
        &[
            &format!("// autoconfig document {url}"),
            "server \"imap.wk.test\"",
            "security \"tls\"",
            "user \"desk@wk.test\"",
            "server \"smtp.wk.test\"",
            "security \"tls\"",
            "port 587",
        ],
    );
    // IMAP is preferred over the POP3 server the document lists first.
    assert!(!out.stdout.contains("pop.example.test"), "{}", out.stdout);
    assert_check_clean(&out.stdout);
}

#[test]
fn disagreeing_sources_are_named_and_srv_wins() {
    let dns = dnsmasq();
    let web = https();
    let out = discover_https(&dns, &web, "desk@disagree.test", &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let url = format!(
        "https://autoconfig.disagree.test:{}/mail/config-v1.1.xml",
        web.port
    );
    assert!(
        out.stderr.contains(&format!(
            "the sources disagree on the incoming server: DNS SRV _imaps._tcp.disagree.test \
             (priority 0, weight 1) says IMAP localhost:10993 security ssl, autoconfig document \
             {url} says IMAP imap.other.test:993 security ssl; the first is used"
        )),
        "{}",
        out.stderr
    );
    assert_lines_in_order(
        &out.stdout,
        &[
            "// DNS SRV _imaps._tcp.disagree.test (priority 0, weight 1)",
            "server \"localhost\"",
            // No SRV record for submission: the document's server, no disagreement.
            &format!("// autoconfig document {url}"),
            "server \"smtp.other.test\"",
        ],
    );
    // The document's login name belongs to its server, which was not chosen.
    assert!(
        out.stdout.contains("user \"desk@disagree.test\""),
        "{}",
        out.stdout
    );
}

#[test]
fn a_certificate_that_does_not_verify_is_not_trusted() {
    let dns = dnsmasq();
    let web = https();
    let out = discover_https(&dns, &web, "desk@badcert.test", &[]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stderr.contains(&format!(
            "https://autoconfig.badcert.test:{}/mail/config-v1.1.xml was not used: TLS error",
            web.port
        )) && out
            .stderr
            .contains("mailcfg: nothing names a mail server for badcert.test"),
        "{}",
        out.stderr
    );
    assert!(!out.stdout.contains("imap.badcert.test"), "{}", out.stdout);
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new(crate::harness::BIN);
    cmd.current_dir(dir)
        .args(args)
        .env_remove("MAILCFG_DNS_SERVER");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let Output {
        status,
        stdout,
        stderr,
    } = cmd.output().unwrap();
    Run {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8(stdout).unwrap(),
        stderr: String::from_utf8(stderr).unwrap(),
    }
}

fn discover(dns: &Dnsmasq, address: &str, more: &[&str]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let mut args = vec!["discover", address, "--dns-server", &dns.addr];
    args.extend_from_slice(more);
    run(dir.path(), &args, &[])
}

/// The lines of `text` without leading blanks, for order-preserving comparisons.
fn lines(text: &str) -> Vec<&str> {
    text.lines().map(str::trim).collect()
}

/// Asserts `want` appear in `text` in this order as whole (trimmed) lines.
fn assert_lines_in_order(text: &str, want: &[&str]) {
    let got = lines(text);
    let mut at = 0;
    for w in want {
        match got[at..].iter().position(|l| l == w) {
            Some(i) => at += i + 1,
            None => panic!("line {w:?} missing (or out of order) in\n{text}"),
        }
    }
}

/// `mailcfg check` on `kdl`: no error and no warning.
fn assert_check_clean(kdl: &str) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("account.kdl"), kdl).unwrap();
    let out = run(
        dir.path(),
        &["check", "account.kdl", "--color", "never"],
        &[],
    );
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("0 errors, 0 warnings"),
        "{}\n{kdl}",
        out.stdout
    );
}

#[test]
fn srv_records_give_implicit_tls_servers_with_their_sources() {
    let dns = dnsmasq();
    let out = discover(&dns, "helpdesk@srv.test", &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_lines_in_order(
        &out.stdout,
        &[
            "account \"helpdesk@srv.test\" {",
            "protocol \"imap\"",
            "incoming {",
            "// DNS SRV _imaps._tcp.srv.test (priority 0, weight 1)",
            "server \"localhost\"",
            "security \"ssl\"",
            "port 10993",
            "user \"helpdesk@srv.test\"",
            "password env=\"HELPDESK_PASSWORD\"",
            "outgoing {",
            "// DNS SRV _submissions._tcp.srv.test (priority 0, weight 1)",
            "server \"localhost\"",
            "security \"ssl\"",
            "port 10465",
            "auth \"same-as-incoming\"",
            "from {",
            "address \"helpdesk@srv.test\" default=#true",
        ],
    );
    assert!(!out.stdout.contains("available-to-users"), "{}", out.stdout);
    // The alternatives not taken, and the "." target, are said (on stderr and in the file).
    for said in [
        "_imap._tcp.srv.test also offers IMAP with STARTTLS at localhost:10143",
        "_submission._tcp.srv.test also offers submission with STARTTLS at localhost:10587",
        "_pop3s._tcp.srv.test has the target \".\": srv.test says it does not offer POP3 over \
         implicit TLS",
    ] {
        assert!(out.stderr.contains(said), "{said}\n{}", out.stderr);
    }
    // ... and in the file, as comments wrapped to the page.
    let notes: Vec<&str> = out
        .stdout
        .lines()
        .take_while(|l| l.starts_with("//"))
        .collect();
    assert!(notes.iter().all(|l| l.chars().count() <= 100), "{notes:?}");
    let joined = notes
        .iter()
        .map(|l| {
            l.trim_start_matches("// Note:")
                .trim_start_matches("//")
                .trim()
        })
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        joined.contains("_pop3s._tcp.srv.test has the target \".\": srv.test says it does not"),
        "{joined}"
    );
    assert_check_clean(&out.stdout);
}

#[test]
fn starttls_on_standard_ports_writes_the_port_only_where_it_is_not_the_default() {
    let dns = dnsmasq();
    let out = discover(
        &dns,
        "Help Desk <desk@starttls.test>",
        &["--name", "Service Desk", "--available"],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let text = &out.stdout;
    assert_lines_in_order(
        text,
        &[
            "account \"Service Desk\" {",
            "available-to-users #true",
            "server \"imap.starttls.test\"",
            "security \"tls\"",
            "user \"desk@starttls.test\"",
            "server \"smtp.starttls.test\"",
            "security \"tls\"",
            // STARTTLS submission: 587 is not CSM's default (25) for "tls", so it is written.
            "port 587",
        ],
    );
    // 143 is the default for IMAP with "tls": not written.
    assert!(!text.contains("port 143"), "{text}");
    assert_check_clean(text);
}

#[test]
fn pop3_when_that_is_all_there_is_and_a_marked_guess_for_the_missing_outgoing_server() {
    let dns = dnsmasq();
    let out = discover(&dns, "desk@pop.test", &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_lines_in_order(
        &out.stdout,
        &[
            "protocol \"pop\"",
            "// DNS SRV _pop3s._tcp.pop.test (priority 0, weight 1)",
            "server \"pop.pop.test\"",
            "security \"ssl\"",
            // CSM requires an outgoing server: the incoming host, marked as a guess.
            "outgoing {",
            "// GUESS: the incoming host pop.pop.test, as nothing names an outgoing server; \
             verify before use",
            "server \"pop.pop.test\"",
            "security \"ssl\"",
        ],
    );
    assert!(!out.stdout.contains("port "), "{}", out.stdout);
    assert!(!out.stdout.contains("mailbox"), "{}", out.stdout);
    assert!(
        out.stderr
            .contains("nothing names an outgoing server for pop.test: GUESSED the incoming host"),
        "{}",
        out.stderr
    );
    assert_check_clean(&out.stdout);
}

#[test]
fn the_lowest_priority_across_imap_and_pop3_wins_but_never_over_tls() {
    let dns = dnsmasq();
    // RFC 6186 §3.4: the domain's priority decides between IMAP and POP3.
    let out = discover(&dns, "desk@popfirst.test", &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_lines_in_order(
        &out.stdout,
        &[
            "protocol \"pop\"",
            "// DNS SRV _pop3s._tcp.popfirst.test (priority 0, weight 1)",
            "server \"pop.popfirst.test\"",
        ],
    );
    assert!(
        out.stderr.contains(
            "note: _imaps._tcp.popfirst.test also offers IMAP over implicit TLS at \
             imap.popfirst.test:993; DNS SRV _pop3s._tcp.popfirst.test (priority 0, weight 1) is \
             preferred (lower priority value 0 than 10: RFC 6186 §3.4)"
        ),
        "{}",
        out.stderr
    );
    assert_check_clean(&out.stdout);
    // RFC 8314 §5.1: a service without TLS is ignored even at a better priority.
    let out = discover(&dns, "desk@cleartext.test", &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_lines_in_order(
        &out.stdout,
        &[
            "protocol \"imap\"",
            "// DNS SRV _imap._tcp.cleartext.test (priority 20, weight 1)",
            "server \"imap.cleartext.test\"",
            "security \"tls\"",
        ],
    );
    assert!(
        out.stderr.contains(
            "_pop3._tcp.cleartext.test also offers POP3 without TLS at pop.cleartext.test:110; \
             DNS SRV _imap._tcp.cleartext.test (priority 20, weight 1) is preferred (services \
             without TLS are ignored while one with TLS is offered: RFC 8314 §5.1)"
        ),
        "{}",
        out.stderr
    );
}

#[test]
fn priority_then_weight_choose_among_many_records_over_tcp() {
    let dns = dnsmasq();
    let out = discover(&dns, "desk@many.test", &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_lines_in_order(
        &out.stdout,
        &[
            "// DNS SRV _imaps._tcp.many.test (priority 5, weight 70)",
            "server \"imap-w70.many.test\"",
        ],
    );
    assert!(
        out.stderr.contains(
            "_imaps._tcp.many.test has 40 records: chose imap-w70.many.test:993 (lowest \
             priority, then highest weight)"
        ),
        "{}",
        out.stderr
    );
}

#[test]
fn the_mx_host_is_a_last_guess_marked_as_one() {
    let dns = dnsmasq();
    let out = discover(&dns, "desk@mx.test", &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_lines_in_order(
        &out.stdout,
        &[
            "incoming {",
            "// GUESS from the MX host mx1.mailhost.test: no SRV record names a server; verify \
             before use",
            // imap.mailhost.test resolves; smtp. and mail. do not, so the MX host itself.
            "server \"imap.mailhost.test\"",
            "outgoing {",
            "// GUESS from the MX host mx1.mailhost.test: no SRV record names a server; verify \
             before use",
            "server \"mx1.mailhost.test\"",
        ],
    );
    assert!(out.stderr.contains("GUESSED"), "{}", out.stderr);
    assert_check_clean(&out.stdout);
}

#[test]
fn no_information_is_a_clear_error_with_exit_1() {
    let dns = dnsmasq();
    for address in ["desk@nothing.test", "desk@nosuch.test"] {
        let out = discover(&dns, address, &[]);
        assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
        assert!(out.stdout.is_empty(), "{}", out.stdout);
        let domain = address.split('@').nth(1).unwrap();
        assert!(
            out.stderr.contains(&format!(
                "mailcfg: nothing names a mail server for {domain}: no SRV record"
            )) && out
                .stderr
                .contains(&format!("no MX record (asked {})", dns.addr)),
            "{}",
            out.stderr
        );
    }
}

#[test]
fn usage_problems_and_a_silent_dns_server() {
    let dns = dnsmasq();
    let out = discover(&dns, "not-an-address", &[]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("is not an e-mail address"),
        "{}",
        out.stderr
    );

    // Nothing listens on this UDP port: exit 4, like probe when no resolver answers.
    let closed = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let dir = tempfile::tempdir().unwrap();
    let server = format!("127.0.0.1:{port}");
    let out = run(
        dir.path(),
        &[
            "discover",
            "desk@srv.test",
            "--dns-server",
            &server,
            "--timeout",
            "1",
        ],
        &[],
    );
    assert_eq!(out.code, 4, "{}", out.stderr);
    assert!(
        out.stderr
            .contains(&format!("the DNS server {server} did not answer")),
        "{}",
        out.stderr
    );
}

#[test]
fn out_writes_a_new_file_and_never_overwrites() {
    let dns = dnsmasq();
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "discover",
        "desk@srv.test",
        "--dns-server",
        &dns.addr,
        "--out",
        "desk.kdl",
    ];
    let first = run(dir.path(), &args, &[]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    assert!(first.stdout.is_empty(), "{}", first.stdout);
    let written = std::fs::read_to_string(dir.path().join("desk.kdl")).unwrap();
    assert!(written.contains("server \"localhost\""), "{written}");

    std::fs::write(dir.path().join("desk.kdl"), "// mine\n").unwrap();
    let again = run(dir.path(), &args, &[]);
    assert_eq!(again.code, 2, "{}", again.stderr);
    assert!(
        again
            .stderr
            .contains("cannot write desk.kdl: it exists (discover never overwrites a file)"),
        "{}",
        again.stderr
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("desk.kdl")).unwrap(),
        "// mine\n"
    );
}

/// The written file is check-clean and probes green against the local Dovecot and Postfix
/// (login included: the test user and its password variable are given).
#[test]
fn the_written_account_probes_green_against_real_servers() {
    let Some(mailsrv) = std::env::var_os("MAILSRV_DIR") else {
        eprintln!("SKIPPED: MAILSRV_DIR is unset (see scripts/mailservers.sh)");
        return;
    };
    let env: std::collections::HashMap<String, String> =
        std::fs::read_to_string(Path::new(&mailsrv).join("env"))
            .expect("$MAILSRV_DIR/env")
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
    let dns = dnsmasq();
    let dir = tempfile::tempdir().unwrap();
    let made = run(
        dir.path(),
        &[
            "discover",
            "testuser@srv.test",
            "--dns-server",
            &dns.addr,
            "--user",
            &env["MAILSRV_USER"],
            "--password-env",
            "DISCOVER_TEST_PW",
            "--out",
            "testuser.kdl",
        ],
        &[],
    );
    assert_eq!(made.code, 0, "{}", made.stderr);
    let kdl = std::fs::read_to_string(dir.path().join("testuser.kdl")).unwrap();
    assert_check_clean(&kdl);
    let probed = run(
        dir.path(),
        &[
            "probe",
            "testuser.kdl",
            "--ca-file",
            &env["MAILSRV_CA"],
            "--color",
            "never",
            "--timeout",
            "5",
            "--dns-server",
            &dns.addr,
        ],
        &[("DISCOVER_TEST_PW", &env["MAILSRV_PASS"])],
    );
    assert_eq!(probed.code, 0, "{}{}", probed.stdout, probed.stderr);
    for stage in [
        "✓ tls",
        "✓ certificate",
        "✓ capabilities",
        "✓ login",
        "✓ mailbox",
        "✓ senders",
    ] {
        assert!(probed.stdout.contains(stage), "{stage}\n{}", probed.stdout);
    }
    assert!(!probed.stdout.contains('✗'), "{}", probed.stdout);
    assert!(
        !probed.stdout.contains(&env["MAILSRV_PASS"]),
        "{}",
        probed.stdout
    );
}

/// `--probe`: the account on stdout, the probe's report on stderr; login only when the password
/// variable is set (without it the login stage is skipped and probe says why: exit 1).
#[test]
fn probe_runs_on_the_discovered_account() {
    let Some(mailsrv) = std::env::var_os("MAILSRV_DIR") else {
        eprintln!("SKIPPED: MAILSRV_DIR is unset (see scripts/mailservers.sh)");
        return;
    };
    let ca = Path::new(&mailsrv).join("certs/ca.crt");
    let dns = dnsmasq();
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "discover",
        "testuser@srv.test",
        "--dns-server",
        &dns.addr,
        "--user",
        "testuser",
        "--password-env",
        "DISCOVER_TEST_PW",
        "--ca-file",
        ca.to_str().unwrap(),
        "--probe",
    ];
    let with = run(dir.path(), &args, &[("DISCOVER_TEST_PW", "testpass")]);
    assert_eq!(with.code, 0, "{}{}", with.stdout, with.stderr);
    assert!(with.stdout.starts_with("// Written by"), "{}", with.stdout);
    assert!(!with.stdout.contains("✓"), "{}", with.stdout);
    for stage in ["✓ tls", "✓ capabilities", "✓ login", "✓ senders"] {
        assert!(with.stderr.contains(stage), "{stage}\n{}", with.stderr);
    }
    assert!(!with.stderr.contains("testpass"), "{}", with.stderr);

    let without = run(dir.path(), &args, &[]);
    assert_eq!(without.code, 1, "{}", without.stderr);
    assert!(
        without.stderr.contains("✓ capabilities"),
        "{}",
        without.stderr
    );
    assert!(
        without.stderr.contains("- login") && without.stderr.contains("credentials unavailable"),
        "{}",
        without.stderr
    );
    assert!(
        without
            .stderr
            .contains("environment variable DISCOVER_TEST_PW is not set"),
        "{}",
        without.stderr
    );
}

/// docs/discover.md's example, run as written (the documented DNS server address replaced by
/// the test's): exactly the documented account on stdout and notes on stderr.
#[test]
fn documentation_example_is_real_output() {
    let dns = dnsmasq();
    let command = crate::harness::doc_block("docs/discover.md", "discover-example");
    let command = command.trim().replace("127.0.0.1:5353", &dns.addr);
    let words: Vec<&str> = command.split_whitespace().collect();
    assert_eq!(words[0], "mailcfg", "{command}");
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), &words[1..], &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        out.stdout,
        crate::harness::doc_block("docs/discover.md", "discover-example-account")
    );
    assert_eq!(
        out.stderr.replace(&dns.addr, "127.0.0.1:5353"),
        crate::harness::doc_block("docs/discover.md", "discover-example-notes")
    );
    assert_check_clean(&out.stdout);
}
