//! `mailcfg rules` and `mailcfg explain`.

use clap::ValueEnum;

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
    match rules::find(&args.name) {
        Some(rule) => {
            print!("{}", catalogue::explain(rule.meta));
            0
        }
        None if catalogue::builtin(&args.name).is_some() => {
            let what = catalogue::builtin(&args.name).unwrap_or_default();
            print!(
                "# {}\n\nA built-in check, not a catalogue rule: it cannot be configured or suppressed.\n\n{}.\n",
                args.name,
                capitalize(what)
            );
            0
        }
        None => {
            let names = rules::ALL
                .iter()
                .map(|r| r.meta.name)
                .chain(catalogue::BUILTIN.iter().map(|(n, _)| *n));
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
    }
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}
