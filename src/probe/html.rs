//! `mailcfg probe --format html`: one self-contained page (inline style and script, nothing
//! fetched) for people: a grid of accounts × stages coloured by status, every detail on hover
//! (the cell's title) and on click (the account's panel), and a timeline of certificate expiry.
//!
//! Rendered from the [`results`](super::results) document, like the metrics.

use std::fmt::Write;

use super::results::{Account, Document, Domain, Server, Stage, Status};

/// The stage columns, in the order a probe runs them.
const STAGES: &[&str] = &[
    "resolve",
    "connect",
    "tls",
    "certificate",
    "greeting",
    "capabilities",
    "login",
    "mailbox",
    "stat",
    "senders",
    "send",
];

/// The deliverability columns: one mark per From domain.
const DOMAIN_STAGES: &[&str] = &["mx", "spf", "spf-result", "dmarc"];

/// Days shown on the expiry timeline; later expiries are drawn at its end.
const TIMELINE_DAYS: i64 = 365;

fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = r#"
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #1d2125; background: #fafbfc; }
h1 { font-size: 1.4em; margin: 0 0 .2em; }
h2 { font-size: 1.1em; margin: 1.6em 0 .5em; }
.meta { color: #5e6c84; margin-bottom: 1em; }
table.grid { border-collapse: collapse; background: #fff; }
.grid th, .grid td { border: 1px solid #dfe1e6; padding: 4px 6px; text-align: center; }
.grid th.name, .grid td.name { text-align: left; white-space: nowrap; }
.grid tr.account { cursor: pointer; }
.grid tr.account:hover td { background: #f4f5f7; }
.grid tr.account.selected td { background: #e9f2ff; }
.cell { display: inline-flex; gap: 3px; }
.dot { display: inline-block; min-width: 1.6em; padding: 1px 3px; border-radius: 3px; font-size: 11px; color: #fff; }
.ok { background: #1f845a; } .warning { background: #b65c02; } .failed { background: #c9372c; }
.skipped { background: #8590a2; } .not-probed, .absent { background: #dcdfe4; color: #44546f; }
.badge { padding: 1px 8px; border-radius: 10px; color: #fff; font-size: 12px; }
.legend span { margin-right: .8em; }
.panel { display: none; background: #fff; border: 1px solid #dfe1e6; border-radius: 4px; padding: .6em 1em; margin-top: 1em; }
.panel.open { display: block; }
.panel table { border-collapse: collapse; margin: .3em 0 .8em; }
.panel td, .panel th { border-bottom: 1px solid #f1f2f4; padding: 2px 8px; text-align: left; vertical-align: top; }
.diag { margin: .2em 0; } .diag code { font-weight: 600; }
.timeline { position: relative; background: #fff; border: 1px solid #dfe1e6; padding: .5em 1em; max-width: 60em; }
.tl-row { display: flex; align-items: center; margin: 3px 0; }
.tl-label { width: 22em; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.tl-track { position: relative; flex: 1; height: 14px; background: #f1f2f4; border-radius: 7px; }
.tl-bar { position: absolute; left: 0; top: 0; bottom: 0; border-radius: 7px; }
.tl-warn { position: absolute; top: -3px; bottom: -3px; border-left: 2px dashed #b65c02; }
.tl-date { width: 13em; text-align: right; font-variant-numeric: tabular-nums; }
"#;

const SCRIPT: &str = r#"
(function () {
  var rows = document.querySelectorAll("tr.account");
  function open(name) {
    document.querySelectorAll(".panel").forEach(function (p) {
      p.classList.toggle("open", p.dataset.account === name);
    });
    rows.forEach(function (r) {
      r.classList.toggle("selected", r.dataset.account === name);
    });
  }
  rows.forEach(function (r) {
    r.addEventListener("click", function () { open(r.dataset.account); });
  });
  // report.html#NAME opens that account's panel (a link to one account, a screenshot of it).
  if (location.hash.length > 1) {
    open(decodeURIComponent(location.hash.slice(1)));
  }
  document.body.dataset.ready = String(rows.length);
  console.info("mailcfg-report-ready rows=" + rows.length);
})();
"#;

fn status_class(s: Status) -> &'static str {
    s.name()
}

fn cell(out: &mut String, server: Option<&Server>, stage: &str) {
    let Some(s) = server else {
        return;
    };
    let runs: Vec<_> = s.stages.iter().filter(|st| st.name == stage).collect();
    // The last run decides (tls/capabilities run again after STARTTLS).
    let Some(last) = runs
        .iter()
        .rev()
        .find(|st| st.status != Status::Skipped)
        .or(runs.last())
    else {
        return;
    };
    let detail: Vec<String> = runs
        .iter()
        .map(|st| match st.duration_ms {
            Some(ms) => format!("{} ({ms} ms): {}", st.status.name(), st.detail),
            None => format!("{}: {}", st.status.name(), st.detail),
        })
        .collect();
    let role = if s.role == "incoming" { "in" } else { "out" };
    let _ = write!(
        out,
        "<span class=\"dot {}\" title=\"{} {}: {}\">{role}</span>",
        status_class(last.status),
        esc(&s.role),
        esc(stage),
        esc(&detail.join("\n"))
    );
}

fn domain_cell(out: &mut String, d: &Domain, stage: &str) {
    let Some(st) = d.stages.iter().find(|st| st.name == stage) else {
        return;
    };
    let _ = write!(
        out,
        "<span class=\"dot {}\" title=\"{} {}: {}: {}\">dns</span>",
        status_class(st.status),
        esc(&d.domain),
        esc(stage),
        st.status.name(),
        esc(&st.detail)
    );
}

fn stage_table(out: &mut String, stages: &[Stage]) {
    out.push_str("<table><tr><th>stage</th><th>status</th><th>ms</th><th>detail</th></tr>\n");
    for st in stages {
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td><span class=\"dot {}\">{}</span></td><td>{}</td><td>{}</td></tr>",
            esc(&st.name),
            status_class(st.status),
            st.status.name(),
            st.duration_ms.map(|m| m.to_string()).unwrap_or_default(),
            esc(&st.detail)
        );
    }
    out.push_str("</table>\n");
}

fn panel(out: &mut String, a: &Account) {
    let _ = writeln!(
        out,
        "<div class=\"panel\" data-account=\"{}\"><h3>{} <span class=\"badge {}\">{}</span></h3><p>{} · {} ms</p>",
        esc(&a.name),
        esc(&a.name),
        status_class(a.status),
        a.status.name(),
        esc(&a.file),
        a.elapsed_ms
    );
    for role in &a.not_configured {
        let _ = writeln!(out, "<p>{}: not configured</p>", esc(role));
    }
    for s in &a.servers {
        let _ = write!(
            out,
            "<h4>{} {} {}:{} — security {}",
            esc(&s.role),
            esc(&s.protocol.to_uppercase()),
            esc(&s.host),
            s.port,
            esc(&s.security)
        );
        if let Some(r) = &s.resolved_security {
            let _ = write!(out, " (used {})", esc(r));
        }
        out.push_str("</h4>\n");
        stage_table(out, &s.stages);
        if let Some(c) = &s.certificate {
            let _ = writeln!(
                out,
                "<p>certificate: {} · issuer {} · names {} · expires {} ({} days left)</p>",
                esc(&c.subject),
                esc(&c.issuer),
                esc(&c.sans.join(", ")),
                esc(&c.not_after),
                c.days_left
            );
        }
        if !s.auth_mechanisms.is_empty() {
            let _ = writeln!(out, "<p>AUTH: {}</p>", esc(&s.auth_mechanisms.join(" ")));
        }
    }
    for d in &a.domains {
        let _ = writeln!(
            out,
            "<h4>From domain {} ({}): deliverability</h4>",
            esc(&d.domain),
            esc(&d.addresses.join(", "))
        );
        stage_table(out, &d.stages);
        let results: Vec<String> = d
            .spf
            .results
            .iter()
            .map(|r| format!("{} for {}", r.result, r.address))
            .collect();
        let _ = writeln!(
            out,
            "<p>SPF: {} · DMARC policy: {}</p>",
            esc(&if results.is_empty() {
                "not evaluated".to_string()
            } else {
                results.join(", ")
            }),
            esc(d.dmarc.policy.as_deref().unwrap_or("none in force"))
        );
    }
    for d in &a.diagnostics {
        let _ = writeln!(
            out,
            "<p class=\"diag\"><code>{}</code> {} ({}:{}): {}{}</p>",
            esc(&d.rule),
            esc(&format!("{:?}", d.level).to_lowercase()),
            esc(&d.location.file),
            d.location.line,
            esc(&d.message),
            d.help
                .as_ref()
                .map(|h| format!(" — help: {}", esc(h)))
                .unwrap_or_default()
        );
    }
    out.push_str("</div>\n");
}

fn timeline(out: &mut String, doc: &Document) {
    let mut certs: Vec<(&Account, &Server)> = doc
        .accounts
        .iter()
        .flat_map(|a| a.servers.iter().map(move |s| (a, s)))
        .filter(|(_, s)| s.certificate.is_some())
        .collect();
    certs.sort_by_key(|(_, s)| s.certificate.as_ref().map_or(i64::MAX, |c| c.days_left));
    out.push_str("<h2>Certificate expiry</h2>\n<div class=\"timeline\">\n");
    if certs.is_empty() {
        out.push_str("<p>No certificate was seen.</p>\n");
    }
    let warn = 21.0 / TIMELINE_DAYS as f64 * 100.0;
    for (a, s) in certs {
        let Some(c) = &s.certificate else { continue };
        let class = if c.days_left < 0 {
            "failed"
        } else if c.days_left < 21 {
            "warning"
        } else {
            "ok"
        };
        let width = (c.days_left.clamp(0, TIMELINE_DAYS) as f64 / TIMELINE_DAYS as f64 * 100.0)
            .max(if c.days_left < 0 { 100.0 } else { 1.0 });
        let _ = writeln!(
            out,
            "<div class=\"tl-row cert\" title=\"{subject}, issuer {issuer}\"><span class=\"tl-label\">{account} · {role} {host}:{port}</span>\
             <span class=\"tl-track\"><span class=\"tl-bar {class}\" style=\"width:{width:.1}%\"></span><span class=\"tl-warn\" style=\"left:{warn:.1}%\"></span></span>\
             <span class=\"tl-date\">{date} ({days} d)</span></div>",
            subject = esc(&c.subject),
            issuer = esc(&c.issuer),
            account = esc(&a.name),
            role = esc(&s.role),
            host = esc(&s.host),
            port = s.port,
            date = esc(&c.not_after[..10.min(c.not_after.len())]),
            days = c.days_left,
        );
    }
    let _ = writeln!(
        out,
        "<p class=\"meta\">The track spans {TIMELINE_DAYS} days from the run (later expiries fill it); the dashed line is 21 days; expired certificates are red.</p>\n</div>"
    );
}

pub fn render(doc: &Document) -> String {
    let mut out = String::new();
    let s = &doc.summary;
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>mailcfg probe {started}</title><style>{STYLE}</style></head><body>\n\
         <h1>mailcfg probe</h1>\n<p class=\"meta\">{started} · {elapsed:.1} s · {accounts} accounts: \
         {probed} probed, {failed} failed, {not_probed} not probed · {errors} errors, {warnings} warnings · exit code {code}</p>\n",
        started = esc(&doc.started_at),
        elapsed = doc.elapsed_ms as f64 / 1000.0,
        accounts = s.accounts,
        probed = s.probed,
        failed = s.failed,
        not_probed = s.not_probed,
        errors = s.errors,
        warnings = s.warnings,
        code = doc.exit_code,
    );
    out.push_str(
        "<p class=\"legend\"><span><span class=\"dot ok\">ok</span></span><span><span class=\"dot warning\">warning</span></span>\
         <span><span class=\"dot failed\">failed</span></span><span><span class=\"dot skipped\">skipped</span></span>\
         <span>in = incoming, out = outgoing, dns = a From domain's records (one per domain); hover a cell for its detail, click an account for everything (or open <code>report.html#NAME</code>)</span></p>\n",
    );
    // Only the stage columns some account used.
    let used: Vec<&str> = STAGES
        .iter()
        .copied()
        .filter(|st| {
            doc.accounts
                .iter()
                .flat_map(|a| &a.servers)
                .flat_map(|s| &s.stages)
                .any(|x| x.name == *st)
        })
        .collect();
    let domain_used: Vec<&str> = DOMAIN_STAGES
        .iter()
        .copied()
        .filter(|st| {
            doc.accounts
                .iter()
                .flat_map(|a| &a.domains)
                .flat_map(|d| &d.stages)
                .any(|x| x.name == *st)
        })
        .collect();
    out.push_str("<table class=\"grid\"><thead><tr><th class=\"name\">account</th><th>status</th>");
    for st in used.iter().chain(&domain_used) {
        let _ = write!(out, "<th>{st}</th>");
    }
    out.push_str("</tr></thead><tbody>\n");
    for a in &doc.accounts {
        let _ = write!(
            out,
            "<tr class=\"account\" data-account=\"{name}\"><td class=\"name\">{name}</td><td><span class=\"badge {cls}\">{status}</span></td>",
            name = esc(&a.name),
            cls = status_class(a.status),
            status = a.status.name()
        );
        for st in &used {
            out.push_str("<td><span class=\"cell\">");
            for role in ["incoming", "outgoing"] {
                cell(&mut out, a.servers.iter().find(|s| s.role == role), st);
            }
            out.push_str("</span></td>");
        }
        for st in &domain_used {
            out.push_str("<td><span class=\"cell\">");
            for d in &a.domains {
                domain_cell(&mut out, d, st);
            }
            out.push_str("</span></td>");
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table>\n");
    for a in &doc.accounts {
        panel(&mut out, a);
    }
    timeline(&mut out, doc);
    let _ = write!(out, "<script>{SCRIPT}</script>\n</body></html>\n");
    out
}
