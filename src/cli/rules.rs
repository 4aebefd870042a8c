//! `mailcfg rules` and `mailcfg explain`.

use clap::ValueEnum;

use mailcfg::diagnostics::builtin;
use mailcfg::rules::{self, catalogue};
use mailcfg::schema::did_you_mean;

#[derive(clap::Args)]
pub struct RulesArgs {
    /// table (name, default level, fix, summary), json, or markdown (docs/rules.md).
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    Table,
    Json,
    Markdown,
}

pub fn run(args: RulesArgs) -> u8 {
    let out = match args.format {
        Format::Table => catalogue::table(),
        Format::Json => {
            let mut s = serde_json::to_string_pretty(&catalogue::entries())
                .expect("rule entries serialize");
            s.push('\n');
            s
        }
        Format::Markdown => catalogue::markdown(),
    };
    print!("{out}");
    0
}

#[derive(clap::Args)]
pub struct ExplainArgs {
    /// The rule's name, as shown with each finding (e.g. `redundant-port`).
    name: String,
}

pub fn explain(args: ExplainArgs) -> u8 {
    if let Some(rule) = rules::find(&args.name) {
        print!("{}", catalogue::explain(rule.meta));
        return 0;
    }
    // Findings of `mailcfg probe` have rule names too (documented in docs/probe.md).
    if let Some(meta) = mailcfg::probe::rules::find(&args.name) {
        print!(
            "{}\n\nReported by `mailcfg probe` (see docs/probe.md).\n",
            catalogue::explain(meta)
        );
        return 0;
    }
    if let Some(b) = builtin::find(&args.name) {
        print!(
            "# {}\n\nA built-in check, not a catalogue rule: it cannot be configured or suppressed.\n\n{}.\n",
            b.name,
            capitalize(b.summary)
        );
        return 0;
    }
    let names = rules::ALL
        .iter()
        .map(|r| r.meta.name)
        .chain(builtin::BUILTIN.iter().map(|b| b.name))
        .chain(mailcfg::probe::rules::ALL.iter().map(|m| m.name));
    let hint = match did_you_mean(&args.name, names) {
        Some(s) => format!("; did you mean `{s}`?"),
        None => String::new(),
    };
    eprintln!(
        "mailcfg: unknown rule `{}`{hint}\n`mailcfg rules` lists every rule",
        args.name
    );
    2
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}
