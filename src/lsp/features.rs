//! Hover, completion, code actions and formatting for one buffer.

use lsp_types as lsp;

use super::convert::{self, path_to_uri};
use super::cursor::{self, Scan};
use super::schema;
use super::Analysis;
use crate::diagnostics::Diagnostic;
use crate::source::SourceFile;
use crate::{parse, rules, source};

/// Rules that come from reading and parsing the file: a suppression comment cannot silence
/// them (there is no node to attach it to).
fn suppressible(rule: &str) -> bool {
    !matches!(
        rule,
        parse::SYNTAX_ERROR
            | parse::NESTING_TOO_DEEP
            | parse::KDL_V1
            | source::IO_ERROR
            | source::INVALID_UTF8
            | source::BINARY_FILE
            | source::FILE_TOO_LARGE
    )
}

fn overlaps(a: lsp::Range, b: lsp::Range) -> bool {
    a.start <= b.end && b.start <= a.end
}

/// Hover: the documentation of the node or property under the cursor, and the explanation of
/// every rule reported there.
pub fn hover(
    file: &SourceFile,
    analysis: Option<(&Analysis, usize)>,
    pos: lsp::Position,
) -> Option<lsp::Hover> {
    let text = file.text.as_str();
    let offset = convert::offset(file, pos);
    let mut parts = Vec::new();
    let mut range = None;
    if let Some((start, end)) = cursor::word_at(text, offset) {
        let word = &text[start..end];
        let scan = cursor::scan(text, start, |_, _| {});
        let mut path = scan.path();
        let is_property = text[end..].starts_with('=');
        let is_node_name = scan.current.tokens.is_empty();
        if is_property {
            if let Some(node) = scan.current.tokens.first() {
                path.push(&node.text);
            }
        }
        if is_property || is_node_name {
            path.push(word);
            if let Some(doc) = schema::description(&path) {
                let gui = crate::schema::gui_label(&path)
                    .map(|label| format!(" — \"{label}\" in CSM"))
                    .unwrap_or_default();
                parts.push(format!("**`{}`**{gui}\n\n{doc}", path.join(" › ")));
                range = Some(convert::range(
                    file,
                    crate::diagnostics::Span::new(start, end),
                ));
            }
        }
    }
    if let Some((a, id)) = analysis {
        for d in a.shown_in(id) {
            let r = convert::range(a.checked.sources.get(d.primary.file), d.primary.span);
            if !(r.start <= pos && pos <= r.end) {
                continue;
            }
            match rules::find(d.rule) {
                Some(rule) => parts.push(format!(
                    "**{}** ({}): {}\n\n{}",
                    rule.meta.name, rule.meta.level, rule.meta.summary, rule.meta.docs
                )),
                None => parts.push(format!(
                    "**{}**: {}{}",
                    d.rule,
                    d.message,
                    d.help
                        .as_deref()
                        .map(|h| format!("\n\nhelp: {h}"))
                        .unwrap_or_default()
                )),
            }
        }
    }
    if parts.is_empty() {
        return None;
    }
    // Diagnostic messages can quote a value; literal secrets are scrubbed as everywhere else.
    let secrets = match analysis {
        Some((a, _)) => a.secrets.clone(),
        None => crate::parse::redact::secret_values(text),
    };
    Some(lsp::Hover {
        contents: lsp::HoverContents::Markup(lsp::MarkupContent {
            kind: lsp::MarkupKind::Markdown,
            value: crate::parse::redact::scrub(&parts.join("\n\n---\n\n"), &secrets),
        }),
        range,
    })
}

fn item(label: String, kind: lsp::CompletionItemKind, doc: Option<String>) -> lsp::CompletionItem {
    lsp::CompletionItem {
        label,
        kind: Some(kind),
        documentation: doc.map(|d| {
            lsp::Documentation::MarkupContent(lsp::MarkupContent {
                kind: lsp::MarkupKind::Markdown,
                value: d,
            })
        }),
        ..Default::default()
    }
}

/// The protocol written in the account block that encloses the scan's end, if any.
fn account_protocol(text: &str, scan: &Scan) -> Option<String> {
    let account = scan.frames.iter().find(|f| f.name == "account")?;
    cursor::block_statements(text, Some(account.open))
        .into_iter()
        .find(|s| s.tokens.first().is_some_and(|t| t.text == "protocol"))
        .and_then(|s| s.tokens.get(1).map(|t| t.text.clone()))
}

/// `security` values valid where the cursor is: SMTP has no ssl-no-auth; POP has neither tls
/// nor ssl-no-auth (CSM offers them for IMAP only).
fn allowed_security(path: &[&str], protocol: Option<&str>, value: &str) -> bool {
    match (path.last().copied(), protocol) {
        (Some("outgoing"), _) => value != "ssl-no-auth",
        (Some("incoming"), Some("pop")) => !matches!(value, "tls" | "ssl-no-auth"),
        _ => true,
    }
}

/// Credential names defined anywhere in the workspace (checked tree and this buffer).
fn credential_names(text: &str, analysis: Option<&Analysis>) -> Vec<String> {
    let mut names: Vec<String> = analysis
        .map(|a| {
            a.checked
                .project
                .credentials
                .iter()
                .map(|c| c.value.name.to_string())
                .collect()
        })
        .unwrap_or_default();
    // The buffer may not have passed the schema yet; its credential blocks still count.
    for st in cursor::block_statements(text, None) {
        if st.tokens.first().is_some_and(|t| t.text == "credential") {
            if let Some(n) = st.tokens.get(1).filter(|t| t.key.is_none()) {
                names.push(n.text.clone());
            }
        }
    }
    names.sort();
    names.dedup();
    names.retain(|n| !n.is_empty());
    names
}

/// Completion: node names valid in the enclosing block, property names of the node being
/// written, and values (enums, booleans, credential names).
pub fn completion(
    file: &SourceFile,
    analysis: Option<&Analysis>,
    pos: lsp::Position,
) -> Vec<lsp::CompletionItem> {
    let text = file.text.as_str();
    let offset = convert::offset(file, pos);
    let scan = cursor::scan(text, offset, |_, _| {});
    if scan.in_comment {
        return Vec::new();
    }
    let path = scan.path();
    let tokens = &scan.current.tokens;
    let typing = scan.touching;
    // Still writing the node name (or nothing yet): which nodes may go here.
    if tokens.is_empty() || (tokens.len() == 1 && typing && !tokens[0].quoted) {
        // Nodes that may appear once and already do are not offered again.
        let present: Vec<String> =
            cursor::block_statements(text, scan.frames.last().map(|f| f.open))
                .into_iter()
                .filter_map(|st| st.tokens.into_iter().next())
                .filter(|t| !(t.start <= offset && offset <= t.end))
                .map(|t| t.text)
                .collect();
        let protocol = account_protocol(text, &scan);
        let start = tokens.first().map_or(offset, |t| t.start.min(offset));
        return schema::children(&path)
            .into_iter()
            .filter(|(name, _)| crate::model::is_list_node(&path, name) || !present.contains(name))
            .filter(|(name, _)| node_allowed(&path, protocol.as_deref(), name, &present))
            .map(|(name, doc)| {
                let mut it = item(name.clone(), lsp::CompletionItemKind::FIELD, doc);
                set_edit(&mut it, file, start, offset, name.clone(), name);
                it
            })
            .collect();
    }
    let node = tokens[0].text.as_str();
    let mut node_path = path.clone();
    node_path.push(node);
    let last = tokens.last().filter(|_| typing);
    let mut out = Vec::new();
    // A property value: `lock server=|`.
    if let Some(key) = last.and_then(|t| t.key.as_deref()) {
        let mut prop_path = node_path.clone();
        prop_path.push(key);
        if let Some(s) = schema::at(&prop_path) {
            for v in schema::values(s) {
                out.push(value_item(file, &v, last, offset));
            }
        }
        return out;
    }
    let Some(node_schema) = schema::at(&node_path) else {
        return out;
    };
    let mut values = schema::values(node_schema);
    if node == "security" {
        let protocol = account_protocol(text, &scan);
        values.retain(|v| allowed_security(&path, protocol.as_deref(), v));
    }
    if node == "credential" && matches!(path.last().copied(), Some("incoming" | "outgoing")) {
        values = credential_names(text, analysis);
    }
    let mut args = tokens.iter().skip(1).filter(|t| t.key.is_none()).count();
    if last.is_some_and(|t| t.key.is_none()) {
        args = args.saturating_sub(1);
    }
    if args == 0 {
        for v in values {
            out.push(value_item(file, &v, last, offset));
        }
    }
    // Property names, unless the cursor is inside a quoted value.
    if last.is_none_or(|t| !t.quoted) {
        let used: Vec<&str> = tokens.iter().filter_map(|t| t.key.as_deref()).collect();
        for (name, doc) in schema::children(&node_path) {
            if used.contains(&name.as_str()) {
                continue;
            }
            let mut it = item(format!("{name}="), lsp::CompletionItemKind::PROPERTY, doc);
            let start = last.map_or(offset, |t| t.start.min(offset));
            set_edit(&mut it, file, start, offset, format!("{name}="), name);
            out.push(it);
        }
    }
    out
}

/// Nodes the rules forbid here, though the schema has them: `mailbox` in a POP account's
/// `incoming` (`mailbox-imap-only`), `password` and `credential` together
/// (`password-with-credential`).
fn node_allowed(path: &[&str], protocol: Option<&str>, name: &str, present: &[String]) -> bool {
    let in_server_block = matches!(path.last().copied(), Some("incoming" | "outgoing"));
    let has = |n: &str| present.iter().any(|p| p == n);
    match name {
        "mailbox" => !(path.last() == Some(&"incoming") && protocol == Some("pop")),
        "credential" if in_server_block => !has("password"),
        "password" if in_server_block => !has("credential"),
        _ => true,
    }
}

/// Makes `it` replace `start..end` (the cursor) with `new_text`, and says the same in
/// `insertText` and `filterText`: clients that ignore `textEdit` insert `insertText` at their
/// own idea of the word's start, so the edit starts where that is too (after a quote or `#`,
/// which are not word characters) and ends at the cursor.
fn set_edit(
    it: &mut lsp::CompletionItem,
    file: &SourceFile,
    start: usize,
    end: usize,
    new_text: String,
    filter: String,
) {
    it.filter_text = Some(filter);
    it.insert_text = Some(new_text.clone());
    it.text_edit = Some(lsp::CompletionTextEdit::Edit(lsp::TextEdit::new(
        convert::range(file, crate::diagnostics::Span::new(start, end)),
        new_text,
    )));
}

/// A value to insert: quoted unless it is a keyword. What is typed of it is replaced from after
/// its opening quote (`"ss` + `ssl` gives `"ssl"`: the closing quote comes with the value unless
/// it is already there) or after its `#` (`#t` + `#true` gives `#true`).
fn value_item(
    file: &SourceFile,
    value: &str,
    typed: Option<&cursor::Token>,
    offset: usize,
) -> lsp::CompletionItem {
    let text = file.text.as_str();
    let keyword = value.starts_with('#');
    let quoted = format!("\"{value}\"");
    let (start, new_text) = match typed {
        Some(t) if t.quoted => {
            let hashes = text[t.start..].bytes().take_while(|&b| b == b'#').count();
            let content = (t.start + hashes + 1).min(offset);
            let close = format!("\"{}", "#".repeat(hashes));
            if text[offset..].starts_with(&close) {
                (content, value.to_string())
            } else {
                (content, format!("{value}{close}"))
            }
        }
        Some(t) if keyword && text[t.start..].starts_with('#') => {
            ((t.start + 1).min(offset), value[1..].to_string())
        }
        Some(t) => (
            t.start.min(offset),
            if keyword { value.to_string() } else { quoted },
        ),
        None => (offset, if keyword { value.to_string() } else { quoted }),
    };
    // What the replaced range holds is matched against this: the value without what the
    // range leaves out (the `#` already typed).
    let filter = if keyword && !new_text.starts_with('#') {
        value[1..].to_string()
    } else {
        value.to_string()
    };
    let mut it = item(value.to_string(), lsp::CompletionItemKind::VALUE, None);
    set_edit(&mut it, file, start, offset, new_text, filter);
    it
}

/// Quick fixes for the diagnostics in `range`: each autofix, and a suppression comment.
pub fn code_actions(
    file: &SourceFile,
    analysis: &Analysis,
    id: usize,
    range: lsp::Range,
) -> Vec<lsp::CodeActionOrCommand> {
    let sources = &analysis.checked.sources;
    let mut out = Vec::new();
    for d in analysis.diagnostics_of(id) {
        let diag = convert::diagnostic(d, sources, &analysis.secrets);
        if !overlaps(diag.range, range) {
            continue;
        }
        if let Some(fix) = &d.fix {
            out.push(fix_action(d, fix, &diag, analysis));
        }
        if suppressible(d.rule) {
            out.push(suppress_action(file, d, &diag));
        }
    }
    out
}

// `WorkspaceEdit::changes` is keyed by `Uri`, which clippy deems mutable; it is never mutated.
#[allow(clippy::mutable_key_type)]
fn fix_action(
    _d: &Diagnostic,
    fix: &crate::diagnostics::Fix,
    diag: &lsp::Diagnostic,
    analysis: &Analysis,
) -> lsp::CodeActionOrCommand {
    let sources = &analysis.checked.sources;
    let mut changes: std::collections::HashMap<lsp::Uri, Vec<lsp::TextEdit>> = Default::default();
    for e in &fix.edits {
        if e.file.index() >= sources.len() {
            continue;
        }
        let f = sources.get(e.file);
        changes
            .entry(path_to_uri(&f.path))
            .or_default()
            .push(lsp::TextEdit::new(
                convert::range(f, e.span),
                e.replacement.clone(),
            ));
    }
    lsp::CodeActionOrCommand::CodeAction(lsp::CodeAction {
        title: fix.description.clone(),
        kind: Some(lsp::CodeActionKind::QUICKFIX),
        diagnostics: Some(vec![diag.clone()]),
        edit: Some(lsp::WorkspaceEdit::new(changes)),
        is_preferred: Some(true),
        ..Default::default()
    })
}

/// `// mailcfg-ignore: RULE reason="…"` on its own line above the diagnostic's line, indented
/// like it.
#[allow(clippy::mutable_key_type)]
fn suppress_action(
    file: &SourceFile,
    d: &Diagnostic,
    diag: &lsp::Diagnostic,
) -> lsp::CodeActionOrCommand {
    let line = diag.range.start.line as usize;
    let start = file.offset_of_utf16(line, 0);
    let indent: String = file.text[start..]
        .chars()
        .take_while(|c| *c == ' ' || *c == '\t')
        .collect();
    // The placeholder is no reason: `suppression-without-reason` fires until it is replaced.
    let comment = format!(
        "{indent}// mailcfg-ignore: {} reason=\"{}\"\n",
        d.rule,
        rules::suppression_without_reason::PLACEHOLDER_REASON
    );
    let at = lsp::Position::new(line as u32, 0);
    let mut changes = std::collections::HashMap::new();
    changes.insert(
        path_to_uri(&file.path),
        vec![lsp::TextEdit::new(lsp::Range::new(at, at), comment)],
    );
    lsp::CodeActionOrCommand::CodeAction(lsp::CodeAction {
        title: format!("Suppress `{}` here", d.rule),
        kind: Some(lsp::CodeActionKind::QUICKFIX),
        diagnostics: Some(vec![diag.clone()]),
        edit: Some(lsp::WorkspaceEdit::new(changes)),
        is_preferred: Some(false),
        ..Default::default()
    })
}

/// Formatting: the `mailcfg fmt` result as one edit, nothing when the text does not parse.
pub fn formatting(text: &str) -> Result<Vec<lsp::TextEdit>, crate::fmt::FmtError> {
    match crate::fmt::format(crate::source::FileId(0), text) {
        Ok(new) if new == text => Ok(Vec::new()),
        Ok(new) => Ok(vec![convert::whole_text_edit(text, new)]),
        Err(e) => Err(e),
    }
}

/// Why `file` was not formatted, for the log: the rule and the place of the first syntax
/// error, not its message (which can quote the text, an unquoted password included).
pub fn formatting_refusal(file: &SourceFile, e: &crate::fmt::FmtError) -> String {
    match e {
        crate::fmt::FmtError::Syntax(diags) => match diags.first() {
            Some(d) => {
                let (line, col) = file.line_col_utf16(d.primary.span.start);
                format!(
                    "{} syntax problem(s), the first `{}` at line {} column {}",
                    diags.len(),
                    d.rule,
                    line + 1,
                    col + 1
                )
            }
            None => "invalid KDL syntax".into(),
        },
        crate::fmt::FmtError::Refused { at, .. } => {
            let (line, col) = file.line_col_utf16(at.start);
            format!(
                "the formatter could not lay it out without changing it, at line {} column {} \
                 (a formatter bug: please report it)",
                line + 1,
                col + 1
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lsp::Analysis;

    fn analysis_of(text: &str) -> (SourceFile, Analysis) {
        let path = std::path::PathBuf::from("/ws/a.kdl");
        let checked = crate::check(vec![crate::Input::text(&path, text)]);
        let mut files = std::collections::HashMap::new();
        files.insert(path.clone(), 0);
        let by_file = vec![(0..checked.diagnostics.len()).collect()];
        (
            SourceFile::new(path, text.to_string()),
            Analysis {
                checked,
                config_diagnostics: Vec::new(),
                config_sources: Default::default(),
                config_path: None,
                files,
                by_file,
                mirrored: vec![Vec::new()],
                secrets: Vec::new(),
            },
        )
    }

    #[test]
    fn every_autofix_becomes_a_quick_fix_with_its_edits() {
        let text = "account \"A\" {\n    protocol \"imap\"\n    incoming {\n        server \"imap.example.com\"\n        security \"ssl\"\n        port 993\n    }\n    outgoing {\n        server \"smtp.example.com\"\n        security \"tls\"\n    }\n}\n";
        let (file, a) = analysis_of(text);
        let d = a
            .checked
            .diagnostics
            .iter()
            .find(|d| d.rule == "redundant-port")
            .expect("port 993 is the IMAP default with ssl");
        let fix = d.fix.as_ref().expect("redundant-port has a fix");
        let range = lsp::Range::new(lsp::Position::new(5, 13), lsp::Position::new(5, 13));
        let actions: Vec<lsp::CodeAction> = code_actions(&file, &a, 0, range)
            .into_iter()
            .filter_map(|a| match a {
                lsp::CodeActionOrCommand::CodeAction(a) => Some(a),
                lsp::CodeActionOrCommand::Command(_) => None,
            })
            .collect();
        let titles: Vec<&str> = actions.iter().map(|a| a.title.as_str()).collect();
        assert_eq!(
            titles,
            vec![fix.description.as_str(), "Suppress `redundant-port` here"]
        );
        assert_eq!(actions[0].is_preferred, Some(true));
        let edit = actions[0].edit.as_ref().unwrap();
        let edits = edit
            .changes
            .as_ref()
            .and_then(|c| c.values().next())
            .unwrap();
        assert_eq!(edits.len(), fix.edits.len());
        for (lsp_edit, e) in edits.iter().zip(&fix.edits) {
            assert_eq!(lsp_edit.range, convert::range(&file, e.span));
            assert_eq!(lsp_edit.new_text, e.replacement);
        }
        // Outside every diagnostic's range: nothing.
        let elsewhere = lsp::Range::new(lsp::Position::new(7, 0), lsp::Position::new(7, 1));
        assert!(code_actions(&file, &a, 0, elsewhere).is_empty());
    }

    proptest::proptest! {
        /// Whatever the buffer and the cursor, completion and hover answer without panicking.
        #[test]
        fn any_buffer_any_cursor(
            text in "[a-z\"{}=#;/*\\ \n\té😀-]{0,80}",
            line in 0u32..6,
            col in 0u32..40,
        ) {
            let file = SourceFile::new("/ws/x.kdl", text.clone());
            let pos = lsp::Position::new(line, col);
            let _ = completion(&file, None, pos);
            let _ = hover(&file, None, pos);
            let (file, a) = analysis_of(&text);
            let _ = hover(&file, Some((&a, 0)), pos);
            let _ = completion(&file, Some(&a), pos);
            let _ = code_actions(&file, &a, 0, lsp::Range::new(lsp::Position::new(0, 0), pos));
        }
    }
}
