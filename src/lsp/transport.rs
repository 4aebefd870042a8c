//! The wire: LSP's `Content-Length` framing and JSON-RPC, read so that no input stops the
//! server. lsp-server's own reader ends the session on the first malformed message (and puts
//! the whole payload into the error); this one answers what it can and reads on:
//!
//! - a header that is not one (junk, a line without `:`, a non-numeric or missing
//!   `Content-Length`) is skipped, and reading resumes at the next `Content-Length` header;
//! - a body larger than [`MAX_BODY`] is read past and dropped;
//! - bytes that are not UTF-8 are replaced with U+FFFD (the document is still checked);
//! - a `\ud800`-style escape of a lone surrogate, which JSON parsers reject, becomes `\ufffd`
//!   (one UTF-16 unit either way, so positions after it stay right);
//! - text that is not JSON gets a ParseError (-32700) answer, and JSON that is not a JSON-RPC
//!   message an InvalidRequest (-32600) one, when a request id can be found in it; without an
//!   id there is no one to answer, and the message is skipped.
//!
//! What the reader logs names positions and lengths, never the bytes it read: a message body
//! holds the document, secrets included.

use std::io::{self, BufRead, Read, Write};
use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, Sender};
use lsp_server::{Connection, ErrorCode, Message, RequestId, Response};
use serde_json::Value as Json;

/// Bodies longer than this are dropped unread (a document is at most
/// [`crate::source::MAX_FILE_BYTES`]; JSON escaping can at most sextuple it).
pub const MAX_BODY: usize = 6 * crate::source::MAX_FILE_BYTES as usize + 4096;

/// A header line longer than this is junk.
const MAX_HEADER_LINE: usize = 4096;

/// What the reader found at one place of the stream.
#[derive(Debug, PartialEq, Eq)]
enum Frame {
    /// A message body (`at`: stream offset of its first byte).
    Body { at: u64, bytes: Vec<u8> },
    /// Bytes that are no message, with why.
    Skipped {
        at: u64,
        len: u64,
        why: &'static str,
    },
    /// The stream ended (`truncated`: in the middle of a message).
    End { truncated: bool },
}

/// Splits a byte stream into `Content-Length` frames, resynchronising after junk.
struct Framer<R> {
    input: R,
    /// Bytes consumed so far.
    pos: u64,
    /// A header line that began after junk on the same line (`…}Content-Length: 9`).
    pending: Option<Vec<u8>>,
    max_body: usize,
}

/// Where `Content-Length` starts in `line`, in any letter case.
fn content_length_at(line: &[u8]) -> Option<usize> {
    const NAME: &[u8] = b"content-length";
    line.windows(NAME.len())
        .position(|w| w.eq_ignore_ascii_case(NAME))
}

/// `Name: value` with a token name (RFC 9110 §5.1), as the base protocol's headers are.
fn header(line: &[u8]) -> Option<(&[u8], &[u8])> {
    let colon = line.iter().position(|&b| b == b':')?;
    let (name, value) = (&line[..colon], &line[colon + 1..]);
    let token = |b: &u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(b);
    (!name.is_empty() && name.iter().all(token)).then_some((name, value.trim_ascii()))
}

impl<R: BufRead> Framer<R> {
    fn new(input: R, max_body: usize) -> Self {
        Framer {
            input,
            pos: 0,
            pending: None,
            max_body,
        }
    }

    /// One line without its `\r\n` (or `\n`), at most [`MAX_HEADER_LINE`] bytes of it; `None`
    /// at the end of the stream. A longer line is read to its end and returned cut short
    /// (`true`: it was too long).
    fn line(&mut self) -> io::Result<Option<(Vec<u8>, bool)>> {
        if let Some(l) = self.pending.take() {
            return Ok(Some((l, false)));
        }
        let mut line = Vec::new();
        let n = (&mut self.input)
            .take(MAX_HEADER_LINE as u64 + 1)
            .read_until(b'\n', &mut line)?;
        if n == 0 {
            return Ok(None);
        }
        self.pos += n as u64;
        let mut too_long = false;
        if line.last() != Some(&b'\n') && n > MAX_HEADER_LINE {
            too_long = true;
            // Skip the rest of the line.
            loop {
                let buf = self.input.fill_buf()?;
                if buf.is_empty() {
                    break;
                }
                let (used, done) = match buf.iter().position(|&b| b == b'\n') {
                    Some(i) => (i + 1, true),
                    None => (buf.len(), false),
                };
                self.input.consume(used);
                self.pos += used as u64;
                if done {
                    break;
                }
            }
            line.truncate(MAX_HEADER_LINE);
        }
        while matches!(line.last(), Some(b'\n' | b'\r')) {
            line.pop();
        }
        Ok(Some((line, too_long)))
    }

    fn next(&mut self) -> io::Result<Frame> {
        let mut length: Option<usize> = None;
        let mut bad: Option<&'static str> = None;
        let mut seen_header = false;
        let start = self.pos;
        loop {
            let Some((mut line, too_long)) = self.line()? else {
                return Ok(Frame::End {
                    truncated: seen_header,
                });
            };
            if line.is_empty() {
                if !seen_header {
                    // Blank lines between messages.
                    continue;
                }
                break;
            }
            if too_long {
                bad.get_or_insert("a header line longer than 4096 bytes");
                continue;
            }
            if let Some(i) = content_length_at(&line).filter(|&i| i > 0) {
                // Junk before a header (the tail of a body whose length was understated):
                // the junk is dropped, the header read.
                let tail = line.split_off(i);
                self.pending = Some(tail);
                return Ok(Frame::Skipped {
                    at: start,
                    len: self.pos - start - self.pending_len(),
                    why: "bytes that are not a header",
                });
            }
            match header(&line) {
                Some((name, value)) if name.eq_ignore_ascii_case(b"content-length") => {
                    seen_header = true;
                    match std::str::from_utf8(value)
                        .ok()
                        .and_then(|v| v.parse::<usize>().ok())
                    {
                        Some(n) => length = Some(n),
                        None => bad = Some("a Content-Length that is not a number"),
                    }
                }
                // Other headers (Content-Type) are allowed, before or after.
                Some(_) => seen_header = true,
                None if !seen_header => {
                    return Ok(Frame::Skipped {
                        at: start,
                        len: self.pos - start,
                        why: "bytes that are not a header",
                    });
                }
                None => bad = Some("a header line without `name: value`"),
            }
        }
        let header_end = self.pos;
        if let Some(why) = bad {
            return Ok(Frame::Skipped {
                at: start,
                len: header_end - start,
                why,
            });
        }
        let Some(length) = length else {
            return Ok(Frame::Skipped {
                at: start,
                len: header_end - start,
                why: "a header without Content-Length",
            });
        };
        if length > self.max_body {
            let dropped = io::copy(&mut (&mut self.input).take(length as u64), &mut io::sink())?;
            self.pos += dropped;
            if dropped < length as u64 {
                return Ok(Frame::End { truncated: true });
            }
            return Ok(Frame::Skipped {
                at: header_end,
                len: dropped,
                why: "a body over the size limit",
            });
        }
        let mut bytes = Vec::new();
        let got = (&mut self.input)
            .take(length as u64)
            .read_to_end(&mut bytes)?;
        self.pos += got as u64;
        if got < length {
            return Ok(Frame::End { truncated: true });
        }
        Ok(Frame::Body {
            at: header_end,
            bytes,
        })
    }

    fn pending_len(&self) -> u64 {
        self.pending.as_ref().map_or(0, |p| p.len() as u64)
    }
}

/// A body that is no message the server can act on.
#[derive(Debug)]
pub struct Rejected {
    /// The id to answer, when one could be found.
    pub id: Option<RequestId>,
    pub code: ErrorCode,
    /// What was wrong, without any of the body's content.
    pub why: String,
}

/// What decoding a body gave.
#[derive(Debug)]
pub struct Decoded {
    pub message: Result<Message, Rejected>,
    /// Repairs made on the way (invalid UTF-8, lone surrogates), for the log.
    pub repairs: Vec<String>,
}

/// `\uD800`–`\uDFFF` escapes that do not form a pair become `\uFFFD`. Backslashes occur only
/// inside JSON strings, and `\\` is consumed as a pair, so `\\ud800` (a backslash, then text)
/// is left alone.
fn replace_lone_surrogates(body: &str) -> (String, usize) {
    let b = body.as_bytes();
    let hex = |i: usize| -> Option<u16> {
        let h = body.get(i..i + 4)?;
        if !h.bytes().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        u16::from_str_radix(h, 16).ok()
    };
    let unit_at = |i: usize| -> Option<u16> {
        (b.get(i) == Some(&b'\\') && b.get(i + 1) == Some(&b'u'))
            .then(|| hex(i + 2))
            .flatten()
    };
    let mut out = String::with_capacity(body.len());
    let mut replaced = 0;
    let mut copied = 0;
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'\\' {
            i += 1;
            continue;
        }
        let Some(unit) = unit_at(i) else {
            // `\\`, `\"`, `\n`, …: the escaped character is never the start of another escape.
            i += 2;
            continue;
        };
        match unit {
            0xD800..=0xDBFF if matches!(unit_at(i + 6), Some(0xDC00..=0xDFFF)) => i += 12,
            0xD800..=0xDFFF => {
                out.push_str(&body[copied..i]);
                out.push_str("\\ufffd");
                replaced += 1;
                i += 6;
                copied = i;
            }
            _ => i += 6,
        }
    }
    if replaced == 0 {
        return (body.to_string(), 0);
    }
    out.push_str(&body[copied.min(body.len())..]);
    (out, replaced)
}

/// A request id in `value`, if it has one the protocol can answer (a 32-bit integer or a
/// string, as lsp-server represents them).
fn id_of(value: &Json) -> Option<RequestId> {
    match value.get("id")? {
        Json::Number(n) => n
            .as_i64()
            .and_then(|n| i32::try_from(n).ok())
            .map(RequestId::from),
        Json::String(s) => Some(RequestId::from(s.clone())),
        _ => None,
    }
}

/// The id of a body that is not JSON: the first `"id": <integer or string>` in it. A guess,
/// but a wrong one only sends the client an error for a request it made no use of.
fn guess_id(body: &str) -> Option<RequestId> {
    let mut rest = body;
    while let Some(i) = rest.find("\"id\"") {
        rest = &rest[i + 4..];
        let after = rest.trim_start();
        let Some(value) = after.strip_prefix(':') else {
            continue;
        };
        let value = value.trim_start();
        let mut de = serde_json::Deserializer::from_str(value).into_iter::<Json>();
        if let Some(Ok(v)) = de.next() {
            return id_of(&serde_json::json!({ "id": v }));
        }
    }
    None
}

/// Decodes one body into a message, repairing what can be repaired.
pub fn decode(bytes: Vec<u8>) -> Decoded {
    let mut repairs = Vec::new();
    let text = match String::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            let bytes = e.into_bytes();
            let bad = String::from_utf8_lossy(&bytes).matches('\u{FFFD}').count();
            repairs.push(format!(
                "not UTF-8 from byte {at} of {}; invalid bytes replaced with U+FFFD ({bad} places)",
                bytes.len()
            ));
            String::from_utf8_lossy(&bytes).into_owned()
        }
    };
    let (text, lone) = replace_lone_surrogates(&text);
    if lone > 0 {
        repairs.push(format!(
            "{lone} lone UTF-16 surrogate escapes replaced with \\ufffd"
        ));
    }
    let value: Json = match serde_json::from_str(&text) {
        Ok(v) => v,
        Err(e) => {
            return Decoded {
                message: Err(Rejected {
                    id: guess_id(&text),
                    code: ErrorCode::ParseError,
                    why: format!(
                        "not JSON ({:?} error at line {} column {} of {} bytes)",
                        e.classify(),
                        e.line(),
                        e.column(),
                        text.len()
                    ),
                }),
                repairs,
            }
        }
    };
    let id = id_of(&value);
    let message = match serde_json::from_value::<Message>(value) {
        Ok(m) => Ok(m),
        // serde's message can quote the offending value: not logged.
        Err(_) => Err(Rejected {
            id,
            code: ErrorCode::InvalidRequest,
            why: format!(
                "JSON that is not a JSON-RPC message ({} bytes; a request needs an \
                 integer or string `id` and a string `method`)",
                text.len()
            ),
        }),
    };
    Decoded { message, repairs }
}

/// The I/O threads of a connection.
pub struct Threads {
    reader: JoinHandle<()>,
    writer: JoinHandle<()>,
}

impl Threads {
    /// Waits until everything the server sent is written. The reader is waited for only when
    /// it has stopped (after `exit` or the end of the input): one blocked in a read of an open
    /// stdin would never return.
    pub fn join(self) {
        let _ = self.writer.join();
        if self.reader.is_finished() {
            let _ = self.reader.join();
        }
    }
}

/// A connection over `input`/`output`; `log` gets one line per problem with the input.
pub fn connect(
    input: impl BufRead + Send + 'static,
    output: impl Write + Send + 'static,
    log: impl Fn(&str) + Send + 'static,
) -> (Connection, Threads) {
    let (to_writer, for_writer) = crossbeam_channel::bounded::<Message>(0);
    let (to_server, for_server) = crossbeam_channel::bounded::<Message>(0);
    let answers = to_writer.clone();
    let reader = std::thread::Builder::new()
        .name("mailcfg-lsp-reader".into())
        .spawn(move || read_loop(input, &to_server, &answers, &log))
        .expect("spawn the LSP reader thread");
    let writer = std::thread::Builder::new()
        .name("mailcfg-lsp-writer".into())
        .spawn(move || write_loop(output, &for_writer))
        .expect("spawn the LSP writer thread");
    (
        Connection {
            sender: to_writer,
            receiver: for_server,
        },
        Threads { reader, writer },
    )
}

/// The connection over the process's stdin/stdout, problems logged to stderr.
pub fn stdio() -> (Connection, Threads) {
    connect(io::BufReader::new(io::stdin()), io::stdout(), |line| {
        eprintln!("mailcfg lsp: {line}")
    })
}

fn read_loop(
    input: impl BufRead,
    to_server: &Sender<Message>,
    answers: &Sender<Message>,
    log: &dyn Fn(&str),
) {
    let mut framer = Framer::new(input, MAX_BODY);
    loop {
        let frame = match framer.next() {
            Ok(f) => f,
            Err(e) => {
                // The error's kind only: its text is the OS's, but stay on the safe side.
                log(&format!(
                    "reading the input failed at byte {} ({:?}); stopping",
                    framer.pos,
                    e.kind()
                ));
                return;
            }
        };
        let (at, bytes) = match frame {
            Frame::End { truncated } => {
                if truncated {
                    log(&format!(
                        "the input ended inside a message at byte {}",
                        framer.pos
                    ));
                }
                return;
            }
            Frame::Skipped { at, len, why } => {
                log(&format!("skipped {len} bytes at byte {at}: {why}"));
                continue;
            }
            Frame::Body { at, bytes } => (at, bytes),
        };
        let len = bytes.len();
        let decoded = decode(bytes);
        for r in &decoded.repairs {
            log(&format!("message of {len} bytes at byte {at}: {r}"));
        }
        match decoded.message {
            Ok(m) => {
                let exit = matches!(&m, Message::Notification(n) if n.method == "exit");
                if to_server.send(m).is_err() || exit {
                    return;
                }
            }
            Err(rejected) => {
                let answered = rejected.id.is_some();
                log(&format!(
                    "message of {len} bytes at byte {at}: {}; {}",
                    rejected.why,
                    if answered {
                        "answered with an error"
                    } else {
                        "no id to answer, skipped"
                    }
                ));
                if let Some(id) = rejected.id {
                    let message = match rejected.code {
                        ErrorCode::ParseError => "the message is not valid JSON",
                        _ => "the message is not a valid JSON-RPC request",
                    };
                    let r = Response::new_err(id, rejected.code as i32, message.into());
                    if answers.send(Message::Response(r)).is_err() {
                        return;
                    }
                }
            }
        }
    }
}

fn write_loop(mut output: impl Write, messages: &Receiver<Message>) {
    for m in messages {
        if write_message(&mut output, &m).is_err() {
            return;
        }
    }
}

/// One message with its header, `"jsonrpc": "2.0"` added.
pub fn write_message(out: &mut impl Write, m: &Message) -> io::Result<()> {
    let mut value = serde_json::to_value(m).map_err(io::Error::other)?;
    if let Some(o) = value.as_object_mut() {
        o.insert("jsonrpc".into(), "2.0".into());
    }
    let body = serde_json::to_vec(&value).map_err(io::Error::other)?;
    write!(out, "Content-Length: {}\r\n\r\n", body.len())?;
    out.write_all(&body)?;
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEST_MAX_BODY: usize = 100;

    fn frames(input: &[u8]) -> Vec<Frame> {
        let mut f = Framer::new(input, TEST_MAX_BODY);
        let mut out = Vec::new();
        loop {
            let fr = f.next().unwrap();
            let end = matches!(fr, Frame::End { .. });
            out.push(fr);
            if end {
                return out;
            }
        }
    }

    fn bodies(input: &[u8]) -> Vec<String> {
        frames(input)
            .into_iter()
            .filter_map(|f| match f {
                Frame::Body { bytes, .. } => Some(String::from_utf8(bytes).unwrap()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn frames_resynchronise_after_junk_and_bad_headers() {
        let input = b"Content-Length: 2\r\n\r\n{}\
            garbage line\r\n\
            Content-Length: x\r\n\r\n\
            Content-Type: a\r\nContent-Length: 4\r\n\r\n[12]\
            Content-Length: 3\r\n\r\n{}}tail Content-Length: 2\r\n\r\n{}\
            \n\ncontent-length:1\n\n1";
        assert_eq!(bodies(input), ["{}", "[12]", "{}}", "{}", "1"]);
        let skipped = frames(input)
            .iter()
            .filter(|f| matches!(f, Frame::Skipped { .. }))
            .count();
        assert_eq!(skipped, 3, "{:?}", frames(input));
    }

    #[test]
    fn truncated_and_oversized_bodies() {
        assert_eq!(
            frames(b"Content-Length: 10\r\n\r\n{}"),
            [Frame::End { truncated: true }]
        );
        let big = format!("Content-Length: {}\r\n\r\n", TEST_MAX_BODY + 1);
        let mut input = big.into_bytes();
        input.resize(input.len() + TEST_MAX_BODY + 1, b' ');
        input.extend_from_slice(b"Content-Length: 2\r\n\r\n{}");
        let f = frames(&input);
        assert!(
            matches!(
                f[0],
                Frame::Skipped {
                    why: "a body over the size limit",
                    ..
                }
            ),
            "{:?}",
            f[0]
        );
        assert!(matches!(&f[1], Frame::Body { bytes, .. } if bytes == b"{}"));
        // A huge announced length allocates nothing up front.
        assert_eq!(
            frames(b"Content-Length: 99999999999999999999\r\n\r\n{}")[0],
            Frame::Skipped {
                at: 0,
                len: 40,
                why: "a Content-Length that is not a number"
            }
        );
    }

    #[test]
    fn lone_surrogates_become_replacement_characters() {
        let (t, n) = replace_lone_surrogates(r#"{"a":"x\ud800y\\ud800\ud83d\ude00\udc00"}"#);
        assert_eq!(n, 2);
        assert_eq!(t, r#"{"a":"x\ufffdy\\ud800\ud83d\ude00\ufffd"}"#);
        let v: Json = serde_json::from_str(&t).unwrap();
        assert_eq!(v["a"], "x\u{FFFD}y\\ud800😀\u{FFFD}");
    }

    #[test]
    fn rejected_messages_keep_their_id_and_nothing_else() {
        let d = decode(br#"{"jsonrpc":"2.0","id":7,"method":"x","params":{"t":"secret"#.to_vec());
        let r = d.message.unwrap_err();
        assert_eq!(r.id, Some(RequestId::from(7)));
        assert_eq!(r.code as i32, -32700);
        assert!(!r.why.contains("secret"), "{}", r.why);
        let d = decode(br#"{"id":"a","method":42,"params":"secret"}"#.to_vec());
        let r = d.message.unwrap_err();
        assert_eq!(r.id, Some(RequestId::from("a".to_string())));
        assert_eq!(r.code as i32, -32600);
        assert!(!r.why.contains("secret"), "{}", r.why);
        assert_eq!(decode(b"[1, 2".to_vec()).message.unwrap_err().id, None);
        let d = decode(b"{\"method\":\"m\",\"params\":\"caf\xe9\"}".to_vec());
        assert!(matches!(d.message, Ok(Message::Notification(_))));
        assert_eq!(d.repairs.len(), 1);
        assert!(!d.repairs[0].contains("caf"));
    }
}
