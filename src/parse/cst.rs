//! The concrete syntax tree: the lexer's tokens grouped into nodes, entries, blocks and
//! slash-dashed items, every token kept (trivia included) so that tools that edit text — the
//! formatter, suppression comments and their fixes — know exactly what each byte is.
//!
//! It only groups tokens; values are not decoded (that is the reader's job). It is built for
//! text the reader accepted; on anything else it stops with the span it could not place.

use std::ops::Range;

use super::lexer::{self, Token, TokenKind};
use crate::diagnostics::Span;

/// Token indices, start inclusive, end exclusive.
pub type Tokens = Range<usize>;

#[derive(Debug, Clone)]
pub struct Tree {
    pub tokens: Vec<Token>,
    pub items: Vec<Item>,
}

/// Something in a list of nodes (the document or a block).
#[derive(Debug, Clone)]
pub enum Item {
    /// Whitespace, a newline, a comment, `;`, a line continuation or the byte-order mark.
    Trivia(usize),
    Node(Node),
    /// `/-` and the node it comments out (not its terminator).
    Dashed(Tokens),
}

#[derive(Debug, Clone)]
pub struct Node {
    /// Everything from the type annotation or name to before the children block (or the end of
    /// the last entry).
    pub head: Vec<Part>,
    pub children: Option<Block>,
    /// After the children block: slash-dashed blocks and the node-space between them.
    pub tail: Vec<Part>,
}

#[derive(Debug, Clone)]
pub struct Block {
    pub open: usize,
    pub items: Vec<Item>,
    pub close: usize,
}

/// A piece of a node's head or tail.
#[derive(Debug, Clone)]
pub enum Part {
    /// The node's name with its type annotation, or one argument or property (with its own
    /// annotation and any node-space inside it).
    Entry(Tokens),
    /// Node-space between entries: whitespace, a block comment, a line continuation (with the
    /// comment and newline that end it).
    Trivia(usize),
    /// `/-` and the entry or block it comments out.
    Dashed(Tokens),
}

impl Tree {
    /// The tree of `src`, or the span of the first thing that does not fit the KDL grammar.
    pub fn parse(src: &str) -> Result<Tree, Span> {
        let tokens = lexer::tokens(src);
        if let Some(t) = tokens
            .iter()
            .find(|t| matches!(t.kind, TokenKind::Error(_)))
        {
            return Err(t.span);
        }
        let mut p = Parser {
            tokens: &tokens,
            i: 0,
            end: src.len(),
        };
        let items = p.items(false)?;
        Ok(Tree { tokens, items })
    }

    /// The byte span of a token range.
    pub fn span(&self, r: &Tokens) -> Span {
        let start = self.tokens.get(r.start).map_or(0, |t| t.span.start);
        let end = r
            .end
            .checked_sub(1)
            .and_then(|i| self.tokens.get(i))
            .map_or(start, |t| t.span.end);
        Span::new(start, end)
    }

    pub fn kind(&self, i: usize) -> TokenKind {
        self.tokens[i].kind
    }
}

impl Node {
    /// The first and last token of the node (children and tail included).
    pub fn tokens(&self) -> Tokens {
        let first = match self.head.first() {
            Some(Part::Entry(r) | Part::Dashed(r)) => r.start,
            Some(Part::Trivia(i)) => *i,
            None => 0,
        };
        let last_of = |p: &Part| match p {
            Part::Entry(r) | Part::Dashed(r) => r.end,
            Part::Trivia(i) => i + 1,
        };
        let end = self
            .tail
            .last()
            .map(last_of)
            .or(self.children.as_ref().map(|b| b.close + 1))
            .or(self.head.last().map(last_of))
            .unwrap_or(first);
        first..end
    }
}

impl Item {
    /// The node or slash-dashed node this item is, as a token range.
    pub fn node_tokens(&self) -> Option<Tokens> {
        match self {
            Item::Node(n) => Some(n.tokens()),
            Item::Dashed(r) => Some(r.clone()),
            Item::Trivia(_) => None,
        }
    }
}

struct Parser<'t> {
    tokens: &'t [Token],
    i: usize,
    end: usize,
}

impl Parser<'_> {
    fn kind(&self, i: usize) -> Option<TokenKind> {
        self.tokens.get(i).map(|t| t.kind)
    }

    fn error(&self, i: usize) -> Span {
        self.tokens
            .get(i)
            .map_or(Span::new(self.end, self.end), |t| t.span)
    }

    /// Nodes up to the end of the text, or (in a block) up to the `}`, which is not consumed.
    fn items(&mut self, in_block: bool) -> Result<Vec<Item>, Span> {
        let mut out = Vec::new();
        loop {
            let Some(kind) = self.kind(self.i) else {
                return if in_block {
                    Err(self.error(self.i))
                } else {
                    Ok(out)
                };
            };
            match kind {
                TokenKind::Bom
                | TokenKind::Whitespace
                | TokenKind::Newline
                | TokenKind::LineComment
                | TokenKind::BlockComment
                | TokenKind::Semicolon
                | TokenKind::LineContinuation => {
                    out.push(Item::Trivia(self.i));
                    self.i += 1;
                }
                TokenKind::CloseBrace if in_block => return Ok(out),
                TokenKind::Slashdash => {
                    let start = self.i;
                    self.i += 1;
                    self.skip_line_space();
                    self.node()?;
                    out.push(Item::Dashed(start..self.i));
                }
                k if k.is_string_like() || k == TokenKind::OpenParen => {
                    out.push(Item::Node(self.node()?));
                }
                _ => return Err(self.error(self.i)),
            }
        }
    }

    /// Whitespace, newlines, comments and line continuations (after `/-`).
    fn skip_line_space(&mut self) {
        while let Some(k) = self.kind(self.i) {
            if k.is_trivia() || matches!(k, TokenKind::Newline | TokenKind::LineContinuation) {
                self.i += 1;
            } else {
                break;
            }
        }
    }

    /// Node-space from `i`: whitespace, block comments and line continuations (each with the
    /// whitespace, comment and newline that end it). Returns the index after it.
    fn node_space_end(&self, mut i: usize) -> usize {
        loop {
            match self.kind(i) {
                Some(TokenKind::Whitespace | TokenKind::BlockComment) => i += 1,
                Some(TokenKind::LineContinuation) => {
                    i += 1;
                    while matches!(
                        self.kind(i),
                        Some(TokenKind::Whitespace | TokenKind::BlockComment)
                    ) {
                        i += 1;
                    }
                    if self.kind(i) == Some(TokenKind::LineComment) {
                        i += 1;
                    }
                    if self.kind(i) == Some(TokenKind::Newline) {
                        i += 1;
                    }
                }
                _ => return i,
            }
        }
    }

    fn node(&mut self) -> Result<Node, Span> {
        let start = self.i;
        self.value(false)?;
        let mut head = vec![Part::Entry(start..self.i)];
        let mut children = None;
        let mut tail = Vec::new();
        loop {
            let space_end = self.node_space_end(self.i);
            let Some(kind) = self.kind(space_end) else {
                break;
            };
            let parts = if children.is_some() {
                &mut tail
            } else {
                &mut head
            };
            match kind {
                TokenKind::Slashdash => {
                    parts.extend((self.i..space_end).map(Part::Trivia));
                    self.i = space_end + 1;
                    self.skip_line_space();
                    // After the children only blocks are valid KDL v2, but the reader (like
                    // the kdl crate) also reads a slash-dashed entry there.
                    if self.kind(self.i) == Some(TokenKind::OpenBrace) {
                        self.block()?;
                    } else {
                        self.entry()?;
                    }
                    parts.push(Part::Dashed(space_end..self.i));
                }
                TokenKind::OpenBrace if children.is_none() => {
                    head.extend((self.i..space_end).map(Part::Trivia));
                    self.i = space_end;
                    children = Some(self.block()?);
                }
                k if (k.is_value() || k == TokenKind::OpenParen)
                    && children.is_none()
                    && space_end > self.i =>
                {
                    head.extend((self.i..space_end).map(Part::Trivia));
                    self.i = space_end;
                    let entry_start = self.i;
                    self.entry()?;
                    head.push(Part::Entry(entry_start..self.i));
                }
                _ => break,
            }
        }
        Ok(Node {
            head,
            children,
            tail,
        })
    }

    fn block(&mut self) -> Result<Block, Span> {
        let open = self.i;
        self.i += 1;
        let items = self.items(true)?;
        let close = self.i;
        self.i += 1;
        Ok(Block { open, items, close })
    }

    /// An argument or a property.
    fn entry(&mut self) -> Result<(), Span> {
        if self.kind(self.i) == Some(TokenKind::OpenParen) {
            return self.value(true);
        }
        let key = self.i;
        self.value(true)?;
        let eq = self.node_space_end(self.i);
        if self.kind(eq) == Some(TokenKind::Equals)
            && self.kind(key).is_some_and(TokenKind::is_string_like)
        {
            self.i = self.node_space_end(eq + 1);
            self.value(true)?;
        }
        Ok(())
    }

    /// An optional type annotation and a value (`any`: any value, else a name).
    fn value(&mut self, any: bool) -> Result<(), Span> {
        if self.kind(self.i) == Some(TokenKind::OpenParen) {
            self.i = self.node_space_end(self.i + 1);
            if !self.kind(self.i).is_some_and(TokenKind::is_string_like) {
                return Err(self.error(self.i));
            }
            self.i = self.node_space_end(self.i + 1);
            if self.kind(self.i) != Some(TokenKind::CloseParen) {
                return Err(self.error(self.i));
            }
            self.i = self.node_space_end(self.i + 1);
        }
        match self.kind(self.i) {
            Some(k) if k.is_string_like() || (any && k.is_value()) => {
                self.i += 1;
                Ok(())
            }
            _ => Err(self.error(self.i)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dashed(src: &str) -> Vec<String> {
        fn walk(tree: &Tree, src: &str, items: &[Item], out: &mut Vec<String>) {
            for item in items {
                match item {
                    Item::Dashed(r) => {
                        let s = tree.span(r);
                        out.push(src[s.start..s.end].to_string())
                    }
                    Item::Node(n) => {
                        for p in n.head.iter().chain(&n.tail) {
                            if let Part::Dashed(r) = p {
                                {
                                    let s = tree.span(r);
                                    out.push(src[s.start..s.end].to_string())
                                };
                            }
                        }
                        if let Some(b) = &n.children {
                            walk(tree, src, &b.items, out);
                        }
                    }
                    Item::Trivia(_) => {}
                }
            }
        }
        let tree = Tree::parse(src).unwrap();
        let mut out = Vec::new();
        walk(&tree, src, &tree.items, &mut out);
        out
    }

    #[test]
    fn slashdash_extents() {
        assert_eq!(dashed("/-a 1; b 2"), ["/-a 1"]);
        assert_eq!(
            dashed("incoming { /-port 993; server \"x\" }"),
            ["/-port 993"]
        );
        assert_eq!(
            dashed("a /- k = (t)1 b /-{ c } {\n} /- { d }\n"),
            ["/- k = (t)1", "/-{ c }", "/- { d }"]
        );
        assert_eq!(
            dashed("/-\n  a {\n  x \"\"\"\n  y\n  \"\"\"\n}"),
            ["/-\n  a {\n  x \"\"\"\n  y\n  \"\"\"\n}"]
        );
    }

    #[test]
    fn errors_are_located() {
        assert_eq!(Tree::parse("a {").unwrap_err(), Span::new(3, 3));
        assert_eq!(Tree::parse("a }").unwrap_err(), Span::new(2, 3));
    }
}
