//! `mailcfg diff OLD NEW`.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use clap::ValueEnum;

use mailcfg::compile::{diff, Store};
use mailcfg::source;

pub const EXIT_CODES: &str = "\
Exit codes:
  0  the stores are identical (same accounts, credentials and settings)
  1  they differ (the plan is printed)
  2  usage or I/O problem: a store cannot be read or is not a mailcfg store
  3  internal error (a bug in mailcfg: please report it)";

#[derive(clap::Args)]
pub struct DiffArgs {
    /// The store before the change (`-` reads standard input).
    old: PathBuf,
    /// The store after the change (`-` reads standard input).
    new: PathBuf,
    /// Output format: human (the plan as text) or json.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    Human,
    Json,
}

pub fn run(args: DiffArgs) -> u8 {
    if args.old == Path::new("-") && args.new == Path::new("-") {
        eprintln!("mailcfg: only one of OLD and NEW can be standard input");
        return 2;
    }
    let (old, new) = match (load(&args.old), load(&args.new)) {
        (Ok(o), Ok(n)) => (o, n),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("mailcfg: {e}");
            return 2;
        }
    };
    let plan = diff::plan(&old, &new);
    let text = match args.format {
        Format::Human => diff::render_human(&plan, &old, &new),
        Format::Json => diff::render_json(&plan, &old, &new),
    };
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(text.as_bytes());
    let _ = stdout.flush();
    u8::from(!plan.identical)
}

fn load(path: &Path) -> Result<Store, String> {
    let shown = path.display();
    // Account files and their directories are what one compiles into a store, not a store.
    if path.is_dir() || path.extension().is_some_and(|e| e == "kdl") {
        return Err(format!(
            "{shown} is not a store but account files: compile first, \
             `mailcfg compile {shown} --out new.json`, then `mailcfg diff OLD.json new.json`"
        ));
    }
    let mut bytes = Vec::new();
    let read = if path == Path::new("-") {
        std::io::stdin().read_to_end(&mut bytes).map(|_| ())
    } else {
        std::fs::read(path).map(|b| bytes = b)
    };
    read.map_err(|e| format!("cannot read {shown}: {}", source::io_message(&e)))?;
    Store::parse(&bytes).map_err(|e| format!("{shown}: {e}"))
}
