//! `mailcfg rules` and `mailcfg explain`.

use clap::ValueEnum;

use mailcfg::registry;
use mailcfg::registry::catalogue;
use mailcfg::schema::did_you_mean;

#[derive(clap::Args)]
pub struct RulesArgs {
    /// table (name, stage, default level, configurable, fix, summary), json (the same fields
    /// and the source a rule cites), or markdown (docs/rules.md).
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
    if let Some(code) = registry::find(&args.name) {
        print!("{}", catalogue::explain_code(code));
        return 0;
    }
    let names = registry::all().iter().map(|c| c.name);
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
