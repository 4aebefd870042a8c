//! Cross-file duplicates in the editor: `check` reports the second of two conflicting places
//! (pointing at the first); the editor shows the finding at the first place too, so that
//! editing either file shows the conflict.

use crate::diagnostics::Diagnostic;

/// Rules that report the second of two conflicting places, pointing at the first: when the
/// first is in another file, that file shows the finding too (pointing back), so that editing
/// either file shows the conflict. `check` reports each once.
const MIRRORED_RULES: [&str; 3] = [
    "duplicate-account-name",
    "duplicate-from-address",
    "duplicate-mailbox-watch",
];

/// The other side of each cross-file duplicate, per file index.
pub fn mirror(diagnostics: &[Diagnostic], files: usize) -> Vec<Vec<Diagnostic>> {
    let mut out = vec![Vec::new(); files];
    for d in diagnostics
        .iter()
        .filter(|d| MIRRORED_RULES.contains(&d.rule))
    {
        let Some(first) = d.related.first() else {
            continue;
        };
        if first.file == d.primary.file {
            continue;
        }
        let Some(slot) = out.get_mut(first.file.index()) else {
            continue;
        };
        let mut back = d.primary.clone();
        back.text = Some("reported here".into());
        // The same finding (rule, level, help), placed at the first place.
        let mut mirror = d.clone();
        mirror.primary = crate::diagnostics::Label {
            text: None,
            ..first.clone()
        };
        mirror.message = format!(
            "{} (this is the first; the other is in another file)",
            d.message
        );
        mirror.related = vec![back];
        // Its fix and KDL path belong to the other place.
        mirror.fix = None;
        mirror.kdl_path = None;
        slot.push(mirror);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::config::Config;
    use crate::{check_with, Input};

    #[test]
    fn mirrored_rules_are_registered_and_point_at_the_first_place() {
        for name in MIRRORED_RULES {
            assert!(crate::rules::find(name).is_some(), "{name}");
        }
        let account = "account \"Dup\" {\n    protocol \"imap\"\n    incoming {\n        server \"imap.example.com\"\n        user \"u@example.com\"\n        password env=\"P\"\n    }\n    conversation-id \"subject\"\n}\n";
        let checked = check_with(
            vec![
                Input::text("/ws/a.kdl", account.to_string()),
                // Another mailbox: only the name is a duplicate.
                Input::text("/ws/b.kdl", account.replace("u@", "v@")),
            ],
            &Config::default(),
        );
        let mirrored = mirror(&checked.diagnostics, 2);
        let original = checked
            .diagnostics
            .iter()
            .find(|d| d.rule == "duplicate-account-name")
            .expect("reported once");
        assert_eq!(original.primary.file.index(), 1);
        assert_eq!(mirrored[1], Vec::new());
        let [m] = &mirrored[0][..] else {
            panic!("{mirrored:?}")
        };
        assert_eq!(m.primary.span, original.related[0].span);
        assert_eq!(m.related[0].file, original.primary.file);
        assert_eq!(m.related[0].span, original.primary.span);
    }
}
