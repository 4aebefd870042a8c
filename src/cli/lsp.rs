//! `mailcfg lsp`.

#[derive(clap::Args)]
pub struct LspArgs {
    /// Speak LSP over standard input/output (the only transport; accepted for editors that
    /// pass it).
    #[arg(long)]
    stdio: bool,
}

pub fn run(_args: LspArgs) -> u8 {
    match mailcfg::lsp::run_stdio() {
        Ok(mailcfg::lsp::Ending::Clean) => 0,
        Ok(mailcfg::lsp::Ending::ExitWithoutShutdown) => 1,
        Err(e) => {
            eprintln!("mailcfg lsp: {e}");
            2
        }
    }
}
