//! `mailcfg probe`.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::Duration;

use clap::builder::{PossibleValuesParser, TypedValueParser};

use mailcfg::diagnostics::Level;
use mailcfg::parse::redact;
use mailcfg::probe::resolve::Resolver;
use mailcfg::probe::{self, results, Options};
use mailcfg::render::{self, Format, Report};
use mailcfg::source;
use mailcfg::workspace::Named;

use super::check::{plan, use_color, Color};

pub const EXIT_CODES: &str = "\
Exit codes:
  0  every stage of every probed account passed (warnings and infos allowed)
  1  a stage failed, or an account was refused (fails `check`, lacks data)
  2  usage or I/O problem: missing path, no .kdl files, paths of several projects, unknown
     --account, bad --ca-file
  3  internal error (a bug in mailcfg: please report it)
  4  the probe could not run: no resolver answered any lookup (DNS unreachable); a name that
     does not exist is exit 1";

#[derive(clap::Args)]
pub struct ProbeArgs {
    /// Files or directories with account files (their accounts are probed; the project around
    /// them is read as `check` reads it). They must belong to one project (a folder with its
    /// own `mailcfg.kdl` or `.git` is another one): exit code 2 otherwise.
    #[arg(default_value = ".")]
    paths: Vec<PathBuf>,
    /// Probe only this account (repeatable; case-insensitive).
    #[arg(long = "account", value_name = "NAME")]
    accounts: Vec<String>,
    /// Connect timeout and read timeout of every stage, in seconds (more than 0, at most 3600).
    #[arg(long, value_name = "SECONDS", default_value_t = 10.0, value_parser = parse_timeout,
          allow_negative_numbers = true)]
    timeout: f64,
    /// Extra trusted CA certificates (PEM), e.g. a private CA; added to the public roots.
    #[arg(long, value_name = "PATH")]
    ca_file: Option<PathBuf>,
    /// Warn when a server certificate expires within this many days.
    #[arg(long, value_name = "DAYS", default_value_t = 21)]
    cert_warn_days: i64,
    /// How many accounts are probed at the same time (at least 1).
    #[arg(long, value_name = "N", default_value_t = 8,
          value_parser = clap::value_parser!(u16).range(1..))]
    jobs: u16,
    /// Really send a test message to ADDRESS through each account's outgoing server (like
    /// CSM's Test Account); without it nothing is sent.
    #[arg(long, value_name = "ADDRESS", value_parser = parse_address)]
    send_test_to: Option<String>,
    /// Resolve server names with this DNS server (IP or IP:PORT, over UDP) instead of the
    /// system resolver (which also reads /etc/hosts), and read the From domains' MX, SPF and
    /// DMARC records from it (the deliverability stage). `localhost` and IP addresses are never
    /// looked up.
    #[arg(long, value_name = "IP[:PORT]", env = "MAILCFG_DNS_SERVER",
          value_parser = Resolver::parse_server)]
    dns_server: Option<Resolver>,
    /// Probe accounts even when `mailcfg check` reports errors for them.
    #[arg(long)]
    allow_check_errors: bool,
    /// The configuration file (rule levels, as for `mailcfg check`). Default: the first
    /// mailcfg.kdl found walking up from the first path.
    #[arg(long, value_name = "PATH")]
    config: Option<PathBuf>,
    /// Output format on stdout: human (the per-stage table, then the findings); results-json
    /// (every stage, its details and the findings as one document, schema/probe-results.schema.json);
    /// openmetrics (for Prometheus's node_exporter textfile collector); html (a report page);
    /// or one of check's machine formats for the findings: concise, json, sarif, github, gitlab.
    #[arg(long, value_name = "FORMAT", default_value = "human",
          value_parser = PossibleValuesParser::new(ProbeFormat::NAMES).map(|s| s.parse::<ProbeFormat>().expect("listed format")))]
    format: ProbeFormat,
    /// Also write the results in FORMAT to PATH (repeatable), e.g.
    /// `--output results-json=probe.json`.
    #[arg(long = "output", value_name = "FORMAT=PATH", value_parser = parse_output)]
    outputs: Vec<(ProbeFormat, PathBuf)>,
    /// When to use colours in the human format: auto (a terminal without NO_COLOR), always, never.
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    color: Color,
    /// Exit with 1 when warnings are found, not only errors.
    #[arg(long)]
    deny_warnings: bool,
}

/// What `probe` can print: check's formats for the findings, or the results of every stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProbeFormat {
    Findings(Format),
    ResultsJson,
    OpenMetrics,
    Html,
}

impl ProbeFormat {
    const NAMES: &'static [&'static str] = &[
        "human",
        "results-json",
        "openmetrics",
        "html",
        "concise",
        "json",
        "sarif",
        "github",
        "gitlab",
    ];
    fn name(self) -> &'static str {
        match self {
            ProbeFormat::Findings(f) => f.name(),
            ProbeFormat::ResultsJson => "results-json",
            ProbeFormat::OpenMetrics => "openmetrics",
            ProbeFormat::Html => "html",
        }
    }
}

impl std::str::FromStr for ProbeFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "results-json" => Ok(ProbeFormat::ResultsJson),
            "openmetrics" => Ok(ProbeFormat::OpenMetrics),
            "html" => Ok(ProbeFormat::Html),
            _ => s.parse::<Format>().map(ProbeFormat::Findings).map_err(|_| {
                format!(
                    "unknown format {s:?}; expected one of: {}",
                    ProbeFormat::NAMES.join(", ")
                )
            }),
        }
    }
}

fn parse_output(s: &str) -> Result<(ProbeFormat, PathBuf), String> {
    let (format, path) = s
        .split_once('=')
        .ok_or_else(|| format!("expected FORMAT=PATH, e.g. results-json=probe.json; got {s:?}"))?;
    if path.is_empty() {
        return Err(format!("no path after {format:?}="));
    }
    Ok((format.parse()?, PathBuf::from(path)))
}

fn parse_timeout(s: &str) -> Result<f64, String> {
    let t: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("{s:?} is not a number of seconds"))?;
    if !t.is_finite() || t <= 0.0 {
        return Err(format!(
            "{s} s would give every stage no time at all: give more than 0 seconds (e.g. 0.5)"
        ));
    }
    if t > 3600.0 {
        return Err(format!(
            "{s} s is more than the longest allowed, 3600 seconds"
        ));
    }
    Ok(t)
}

/// A bare `local@domain` address (RFC 5321 §4.1.2 Mailbox), as the SMTP `RCPT TO` needs it.
fn parse_address(s: &str) -> Result<String, String> {
    s.parse::<lettre::Address>()
        .map(|_| s.to_string())
        .map_err(|e| {
            format!("{s:?} is not an e-mail address ({e}); give one like someone@example.com")
        })
}

pub fn run(args: ProbeArgs) -> u8 {
    let started_at = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let human = args.format == ProbeFormat::Findings(Format::Human);
    let color = human && use_color(args.color);
    let workspace = match plan(
        Named::Paths(args.paths.clone()),
        args.config.as_deref(),
        color,
    ) {
        Ok(w) => w,
        Err(code) => return code,
    };
    for (p, msg) in &workspace.problems {
        eprintln!("mailcfg: {}: {msg}", p.display());
    }
    if workspace.reported().next().is_none() {
        if workspace.problems.is_empty() {
            eprintln!("mailcfg: no .kdl files found");
        }
        return 2;
    }
    if let Err(several) = workspace.single_project() {
        eprintln!("mailcfg: {several}");
        return 2;
    }
    // The same check (and configuration) as `mailcfg check`, so "fails check" means the same;
    // only the accounts of the named files are probed, their project read for context.
    let mut verdict = workspace.check();
    verdict.checked.project = verdict.reported_project();
    let checked = &verdict.checked;
    let selected = match probe::select(checked, &args.accounts) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("mailcfg: {e}");
            return 2;
        }
    };
    let opts = Options {
        timeout: Duration::from_secs_f64(args.timeout),
        ca_file: args.ca_file.clone(),
        cert_warn_days: args.cert_warn_days,
        jobs: usize::from(args.jobs),
        send_test_to: args.send_test_to.clone(),
        allow_check_errors: args.allow_check_errors,
        resolver: args.dns_server.unwrap_or_default(),
    };
    // The human format shows each account as it finishes; machine formats print once, at the end.
    let live = human.then(|| {
        probe::live::Live::new(
            &checked.sources,
            selected.len(),
            std::io::stdout().is_terminal(),
        )
    });
    let result = std::thread::scope(|s| {
        let ticker = live.as_ref().map(|l| s.spawn(move || l.tick()));
        let progress: &dyn probe::Progress = match &live {
            Some(l) => l,
            None => &probe::Silent,
        };
        let r = probe::probe(checked, &opts, &selected, progress);
        if let Some(l) = &live {
            l.stop();
        }
        if let Some(t) = ticker {
            let _ = t.join();
        }
        r
    });
    let report = match result {
        Ok(r) => r,
        Err(e) => {
            eprintln!("mailcfg: {e}");
            return 2;
        }
    };
    // Check errors of the probed accounts' files explain why an account was refused.
    let files: Vec<_> = selected
        .iter()
        .map(|&i| checked.project.accounts[i].file)
        .collect();
    let mut diags: Vec<_> = checked
        .diagnostics
        .iter()
        .filter(|d| d.level == Level::Error && files.contains(&d.primary.file))
        .cloned()
        .collect();
    // Probe checks take their levels from mailcfg.kdl like rules do (a lab can allow
    // `probe-cleartext`).
    let mut probed = report.diagnostics.clone();
    workspace.apply_config(&mut probed, &checked.sources);
    diags.extend(probed);
    // Resolved passwords and tokens are unknown to the renderers: scrub them field by field
    // (before an encoder could escape them) and again over the finished output below.
    for d in &mut diags {
        d.message = redact::scrub(&d.message, &report.secrets);
        d.help = d.help.as_ref().map(|h| redact::scrub(h, &report.secrets));
    }
    let code =
        if report.could_not_run {
            4
        } else {
            u8::from(diags.iter().any(|d| {
                d.level == Level::Error || (args.deny_warnings && d.level == Level::Warning)
            }))
        };
    let files: std::collections::HashSet<_> = files.into_iter().collect();
    let rendered = Report {
        diagnostics: &diags,
        sources: &checked.sources,
        files: files.len(),
        exit_code: code,
    };
    let results = std::cell::OnceCell::new();
    let document =
        || results.get_or_init(|| results::document(&report, checked, &diags, started_at, code));
    let render_as = |format: ProbeFormat, color: bool| -> String {
        let out = match format {
            ProbeFormat::Findings(Format::Human) => {
                let mut out = probe::table::render(&report, &checked.sources);
                out.push_str(&render::render(Format::Human, &rendered, color));
                out.push_str(&probe::table::summary_line(&report));
                out
            }
            ProbeFormat::Findings(f) => render::render(f, &rendered, false),
            ProbeFormat::ResultsJson => results::render(document()),
            ProbeFormat::OpenMetrics => probe::metrics::render(document()),
            ProbeFormat::Html => probe::html::render(document()),
        };
        // Resolved passwords and tokens, which no renderer knows about.
        redact::scrub(&out, &report.secrets)
    };
    let mut code = code;
    let out = if human {
        // The blocks are on the screen already: the findings, then every account in input order.
        let mut out = render::render(Format::Human, &rendered, color);
        out.push_str(&probe::table::summary(&report, &checked.sources));
        out.push_str(&probe::table::summary_line(&report));
        redact::scrub(&out, &report.secrets)
    } else {
        render_as(args.format, color)
    };
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = stdout
        .write_all(out.as_bytes())
        .and_then(|()| stdout.flush())
    {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            eprintln!(
                "mailcfg: cannot write to stdout: {}",
                source::io_message(&e)
            );
            code = 2;
        }
    }
    for (format, path) in &args.outputs {
        if let Err(e) = std::fs::write(path, render_as(*format, false)) {
            eprintln!(
                "mailcfg: cannot write {} results to {}: {}",
                format.name(),
                path.display(),
                source::io_message(&e)
            );
            code = 2;
        }
    }
    code
}
