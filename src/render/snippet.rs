//! What a human report shows of a file under a finding: the lines around its labels, with every
//! secret masked ([`redact`]) and every long line cut to a window of about [`WIDTH`] columns
//! around the labels, marked with `…` where it was cut. So no output grows with the length of
//! the input's lines, and no secret reaches a snippet.
//!
//! The snippet is a small text of its own; labels are moved into it, and the header's line and
//! column are those of the original file (the same numbers every other format reports).

use miette::{MietteError, MietteSpanContents, SourceCode, SourceSpan, SpanContents};

use crate::diagnostics::Span;
use crate::source::SourceFile;

/// Longest stretch of a line shown, in bytes of the masked text (about as many columns).
pub const WIDTH: usize = 120;

/// A label spanning more lines than this is shown by its first line only.
const MAX_LABEL_LINES: usize = 12;

const CUT: &str = "…";

#[derive(Debug)]
struct ShownLine {
    /// 0-based line number in the file.
    number: usize,
    /// Where the line's text is in `Snippet::data` (newline excluded).
    start: usize,
    end: usize,
    /// Lines of one group are consecutive in the file.
    group: usize,
}

#[derive(Debug)]
pub struct Snippet {
    name: String,
    data: String,
    lines: Vec<ShownLine>,
    /// Start of each label in `data`, with its 0-based line and column in the original file.
    places: Vec<(usize, usize, usize)>,
}

impl Snippet {
    /// The snippet of `file` for `labels` (spans of the original text), and the labels' spans
    /// in the snippet, in the same order.
    pub fn new(file: &SourceFile, name: String, labels: &[Span]) -> (Snippet, Vec<Span>) {
        let redacted = crate::parse::redact::view(file);
        let text = redacted.text(&file.text);
        let starts = redacted.line_starts(&file.text);
        let line_of = |offset: usize| starts.partition_point(|&s| s <= offset).saturating_sub(1);
        let line_end = |k: usize| {
            let end = starts.get(k + 1).copied().unwrap_or(text.len());
            starts[k]
                + text[starts[k]..end]
                    .trim_end_matches(crate::parse::lexer::is_newline_char)
                    .len()
        };

        // Each label in the masked text, with its first and last line.
        let mut masked: Vec<(Span, usize, usize)> = labels
            .iter()
            .map(|&l| {
                let len = file.text.len();
                let mut s = redacted.span(Span::new(l.start.min(len), l.end.min(len)));
                let first = line_of(s.start);
                let mut last = line_of(s.end.saturating_sub(1).max(s.start));
                if last > first + MAX_LABEL_LINES {
                    last = first;
                    s.end = line_end(first).max(s.start);
                }
                (s, first, last)
            })
            .collect();
        let nlines = starts.len();
        let mut shown: Vec<usize> = masked
            .iter()
            .flat_map(|&(_, first, last)| first.saturating_sub(1)..=(last + 1).min(nlines - 1))
            .collect();
        shown.sort_unstable();
        shown.dedup();

        // Windows: a long line is cut around the labels on it; a context line follows the
        // window of the nearest label line above or below it.
        let mut windows: Vec<(usize, usize)> = Vec::with_capacity(shown.len());
        for &k in &shown {
            let (ls, le) = (starts[k], line_end(k));
            let on_line: Vec<(usize, usize)> = masked
                .iter()
                .filter(|(s, ..)| s.start <= le && s.end >= ls)
                .map(|(s, ..)| (s.start.max(ls), s.end.min(le)))
                .collect();
            let focus = match on_line.iter().map(|f| f.0).min() {
                Some(a) => (a, on_line.iter().map(|f| f.1).max().unwrap_or(a)),
                None => {
                    let column = masked
                        .iter()
                        .min_by_key(|(_, first, _)| first.abs_diff(k))
                        .map(|(s, first, _)| s.start - starts[*first])
                        .unwrap_or(0);
                    let a = (ls + column).min(le);
                    (a, a)
                }
            };
            windows.push(window(text, ls, le, focus));
        }

        let mut data = String::new();
        let mut lines = Vec::with_capacity(shown.len());
        let mut group = 0;
        for (i, (&k, &(ws, we))) in shown.iter().zip(&windows).enumerate() {
            if i > 0 {
                data.push('\n');
                if shown[i - 1] + 1 != k {
                    group += 1;
                }
            }
            let (ls, le) = (starts[k], line_end(k));
            let start = data.len();
            if ws > ls {
                data.push_str(CUT);
            }
            // A lone CR is not a line break for the file's line numbers: show it as a space.
            data.extend(
                text[ws..we]
                    .chars()
                    .map(|c| if c == '\r' { ' ' } else { c }),
            );
            if we < le {
                data.push_str(CUT);
            }
            lines.push(ShownLine {
                number: k,
                start,
                end: data.len(),
                group,
            });
        }
        // Masked offset → snippet offset, clipped to the line's window.
        let to_data = |m: usize| -> usize {
            let k = line_of(m);
            let Ok(i) = shown.binary_search(&k) else {
                return 0;
            };
            let (ws, we) = windows[i];
            let l = &lines[i];
            let cut = if ws > starts[k] { CUT.len() } else { 0 };
            if m < ws {
                l.start
            } else if m > we {
                l.end
            } else {
                l.start + cut + (m - ws)
            }
        };
        let mut places = Vec::with_capacity(labels.len());
        let spans = masked
            .iter_mut()
            .zip(labels)
            .map(|((s, ..), original)| {
                let start = to_data(s.start);
                let end = to_data(s.end).max(start);
                let (line, column) = file.line_col(original.start);
                places.push((start, line - 1, column - 1));
                Span::new(start, end)
            })
            .collect();
        (
            Snippet {
                name,
                data,
                lines,
                places,
            },
            spans,
        )
    }

    fn line_at(&self, offset: usize) -> usize {
        self.lines
            .partition_point(|l| l.end < offset)
            .min(self.lines.len().saturating_sub(1))
    }
}

/// The byte range of the line `[ls, le)` to show so that `focus` is inside it: the whole line
/// when it is short, else about [`WIDTH`] bytes around the focus, on character boundaries.
fn window(text: &str, ls: usize, le: usize, focus: (usize, usize)) -> (usize, usize) {
    if le - ls <= WIDTH {
        return (ls, le);
    }
    let (a, b) = focus;
    let len = b - a;
    let (mut ws, mut we) = if len >= WIDTH {
        (a, a + WIDTH)
    } else {
        let s = a.saturating_sub((WIDTH - len) / 2).max(ls);
        let e = (s + WIDTH).min(le);
        (e.saturating_sub(WIDTH).max(ls), e)
    };
    while ws > ls && !text.is_char_boundary(ws) {
        ws -= 1;
    }
    while we < le && !text.is_char_boundary(we) {
        we += 1;
    }
    (ws, we.min(le))
}

impl SourceCode for Snippet {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        if self.lines.is_empty() {
            return Err(MietteError::OutOfBounds);
        }
        let first = self.line_at(span.offset());
        let last = self.line_at(span.offset() + span.len().saturating_sub(1));
        let group = self.lines[first].group;
        let mut a = first;
        while a > 0 && first - a < before && self.lines[a - 1].group == group {
            a -= 1;
        }
        let mut b = last;
        while b + 1 < self.lines.len() && b - last < after && self.lines[b + 1].group == group {
            b += 1;
        }
        let start = self.lines[a].start;
        let end = (self.lines[b].end + 1).min(self.data.len());
        let (line, column) = match self.places.iter().find(|p| p.0 == span.offset()) {
            Some(&(_, line, column)) if before == 0 => (line, column),
            _ => {
                let l = &self.lines[first];
                let offset = span.offset().clamp(l.start, l.end);
                (l.number, self.data[l.start..offset].chars().count())
            }
        };
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.clone(),
            &self.data.as_bytes()[start..end],
            SourceSpan::from((start, end - start)),
            if before == 0 {
                line
            } else {
                self.lines[a].number
            },
            column,
            b - a + 1,
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_line_is_cut_around_the_label_and_secrets_are_masked() {
        let long = "x".repeat(5000);
        let text = format!("a \"{long}\"; password \"hunter22\" port=1; b \"{long}\"\nnext\n");
        let file = SourceFile::new("f.kdl", text.clone());
        let port = text.find("port").unwrap();
        let (s, spans) = Snippet::new(&file, "f.kdl".into(), &[Span::new(port, port + 4)]);
        assert!(s.data.len() < 3 * WIDTH, "{}", s.data.len());
        assert!(!s.data.contains("hunter22"));
        assert!(s.data.starts_with(CUT));
        assert_eq!(&s.data[spans[0].start..spans[0].end], "port");
        assert!(s.data.lines().next().unwrap().ends_with(CUT));
        assert!(s.data.ends_with("next"));
        // The header reports the original place.
        let c = s
            .read_span(&SourceSpan::from((spans[0].start, 4)), 0, 0)
            .unwrap();
        assert_eq!((c.line(), c.column()), (0, port));
    }
}
