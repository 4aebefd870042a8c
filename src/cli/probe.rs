//! `mailcfg probe`.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use clap::builder::{PossibleValuesParser, TypedValueParser};

use mailcfg::diagnostics::Level;
use mailcfg::probe::{self, Options};
use mailcfg::render::{self, Format, Report};
use mailcfg::source::redact;
use mailcfg::workspace::Named;

use super::check::{plan, use_color, Color};

pub const EXIT_CODES: &str = "\
Exit codes:
  0  every stage of every probed account passed (warnings and infos allowed)
  1  a stage failed, or an account was refused (fails `check`, lacks data)
  2  usage or I/O problem: missing path, no .kdl files, unknown --account, bad --ca-file
  3  internal error (a bug in mailcfg: please report it)
  4  the probe could not run: no server name could be resolved (DNS unavailable?)";

#[derive(clap::Args)]
pub struct ProbeArgs {
    /// Files or directories with account files (their accounts are probed; the project around
    /// them is read as `check` reads it).
    #[arg(default_value = ".")]
    paths: Vec<PathBuf>,
    /// Probe only this account (repeatable; case-insensitive).
    #[arg(long = "account", value_name = "NAME")]
    accounts: Vec<String>,
    /// Connect timeout and read timeout of every stage, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 10.0)]
    timeout: f64,
    /// Extra trusted CA certificates (PEM), e.g. a private CA; added to the public roots.
    #[arg(long, value_name = "PATH")]
    ca_file: Option<PathBuf>,
    /// Warn when a server certificate expires within this many days.
    #[arg(long, value_name = "DAYS", default_value_t = 21)]
    cert_warn_days: i64,
    /// How many accounts are probed at the same time.
    #[arg(long, value_name = "N", default_value_t = 8)]
    jobs: usize,
    /// Really send a test message to ADDRESS through each account's outgoing server (like
    /// CSM's Test Account); without it nothing is sent.
    #[arg(long, value_name = "ADDRESS")]
    send_test_to: Option<String>,
    /// Probe accounts even when `mailcfg check` reports errors for them.
    #[arg(long)]
    allow_check_errors: bool,
    /// The configuration file (rule levels, as for `mailcfg check`). Default: the first
    /// mailcfg.kdl found walking up from the first path.
    #[arg(long, value_name = "PATH")]
    config: Option<PathBuf>,
    /// Output format on stdout: human (the per-stage table, then the findings), or one of
    /// check's machine formats for the findings: concise, json, sarif, github, gitlab.
    #[arg(long, value_name = "FORMAT", default_value = "human",
          value_parser = PossibleValuesParser::new(Format::NAMES).map(|s| s.parse::<Format>().expect("listed format")))]
    format: Format,
    /// When to use colours in the human format: auto (a terminal without NO_COLOR), always, never.
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    color: Color,
    /// Exit with 1 when warnings are found, not only errors.
    #[arg(long)]
    deny_warnings: bool,
}

pub fn run(args: ProbeArgs) -> u8 {
    if !(args.timeout.is_finite() && args.timeout > 0.0 && args.timeout <= 3600.0) {
        eprintln!("mailcfg: --timeout must be between 0 and 3600 seconds");
        return 2;
    }
    let color = args.format == Format::Human && use_color(args.color);
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
        jobs: args.jobs.max(1),
        send_test_to: args.send_test_to.clone(),
        allow_check_errors: args.allow_check_errors,
    };
    let report = match probe::probe(checked, &opts, &selected) {
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
    workspace.config.apply(&mut probed, &checked.sources);
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
    let out = if args.format == Format::Human {
        let mut out = probe::table::render(&report, &checked.sources);
        out.push_str(&render::render(Format::Human, &rendered, color));
        out.push_str(&format!(
            "probed {} account{} in {:.1} s\n",
            report.accounts.len(),
            if report.accounts.len() == 1 { "" } else { "s" },
            report.elapsed.as_secs_f64()
        ));
        out
    } else {
        render::render(args.format, &rendered, false)
    };
    // Resolved passwords and tokens, which no renderer knows about.
    let out = redact::scrub(&out, &report.secrets);
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(out.as_bytes());
    let _ = stdout.flush();
    code
}
