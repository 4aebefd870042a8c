//! Borrowed keys for the rules that look for duplicates: compared and hashed as their
//! lower-cased text without allocating it. A lower-cased `String` per account and key was most
//! of those rules' cost on a large project (issue 17).

use std::hash::{Hash, Hasher};

/// Text that compares as its `str::to_lowercase` does (names, user names).
#[derive(Debug, Clone, Copy)]
pub struct Lowercase<'a>(pub &'a str);

/// Text that compares as its `str::to_ascii_lowercase` does (host names).
#[derive(Debug, Clone, Copy)]
pub struct AsciiLowercase<'a>(pub &'a str);

impl PartialEq for Lowercase<'_> {
    fn eq(&self, other: &Self) -> bool {
        if self.0.is_ascii() && other.0.is_ascii() {
            self.0.eq_ignore_ascii_case(other.0)
        } else {
            // Rare, and only for keys whose hashes matched: the exact comparison.
            self.0.to_lowercase() == other.0.to_lowercase()
        }
    }
}

impl Eq for Lowercase<'_> {}

impl Hash for Lowercase<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        if self.0.is_ascii() {
            hash_words(self.0.as_bytes(), ascii_lowercase_word, state);
        } else {
            // Equal keys hash equally: an ASCII text hashes the same words as its non-ASCII
            // equal (`K`, KELVIN SIGN, lower-cases to `k`).
            hash_words(self.0.to_lowercase().as_bytes(), |w| w, state);
        }
    }
}

impl PartialEq for AsciiLowercase<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.0.eq_ignore_ascii_case(other.0)
    }
}

impl Eq for AsciiLowercase<'_> {}

impl Hash for AsciiLowercase<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        hash_words(self.0.as_bytes(), ascii_lowercase_word, state);
    }
}

/// Feeds `bytes` to `state` eight at a time, each word through `fold`, then their count (so
/// that `("ab", "c")` and `("a", "bc")` differ as tuple keys).
fn hash_words<H: Hasher>(bytes: &[u8], fold: impl Fn(u64) -> u64, state: &mut H) {
    let mut words = bytes.chunks_exact(8);
    for word in &mut words {
        state.write_u64(fold(u64::from_le_bytes(word.try_into().expect("8 bytes"))));
    }
    let rest = words.remainder();
    if !rest.is_empty() {
        let mut word = [0u8; 8];
        word[..rest.len()].copy_from_slice(rest);
        state.write_u64(fold(u64::from_le_bytes(word)));
    }
    state.write_usize(bytes.len());
}

/// `to_ascii_lowercase` of eight bytes at once: `A`–`Z` gain the 0x20 bit, every other byte
/// (including those of non-ASCII characters) is kept.
fn ascii_lowercase_word(word: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x80 * ONES;
    // Seven bits per byte, so that the additions below never carry into the next byte.
    let low = word & !HIGH;
    let at_least_a = low + (0x80 - u64::from(b'A')) * ONES;
    let beyond_z = low + (0x80 - u64::from(b'Z') - 1) * ONES;
    let upper = at_least_a & !beyond_z & !word & HIGH;
    word | (upper >> 2)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::BuildHasher;

    fn hash(k: impl Hash) -> u64 {
        std::hash::BuildHasherDefault::<crate::lower::FxHasher>::default().hash_one(k)
    }

    /// Keys are equal exactly when the lower-cased strings are, and equal keys hash alike.
    #[test]
    fn lowercase_keys_agree_with_to_lowercase() {
        let texts = [
            "Support",
            "SUPPORT",
            "support",
            "Suppor",
            "ﬁle",
            "Zoë",
            "ZOË",
            "\u{212A}elvin",
            "kelvin",
            "ΣΑΣ",
            "σας",
            "",
            "a",
            "abcdefgh",
            "ABCDEFGH",
            "abcdefghi",
        ];
        for a in texts {
            for b in texts {
                let equal = a.to_lowercase() == b.to_lowercase();
                assert_eq!(Lowercase(a) == Lowercase(b), equal, "{a:?} {b:?}");
                if equal {
                    assert_eq!(hash(Lowercase(a)), hash(Lowercase(b)), "{a:?} {b:?}");
                }
                let ascii_equal = a.eq_ignore_ascii_case(b);
                assert_eq!(AsciiLowercase(a) == AsciiLowercase(b), ascii_equal);
                if ascii_equal {
                    assert_eq!(hash(AsciiLowercase(a)), hash(AsciiLowercase(b)));
                }
            }
        }
        assert_ne!(
            hash((Lowercase("ab"), Lowercase("c"))),
            hash((Lowercase("a"), Lowercase("bc")))
        );
    }

    #[test]
    fn words_are_lower_cased_like_their_bytes() {
        for b in 0..=255u8 {
            let word = u64::from_le_bytes([b, b'Q', 0xC1, b'@', b'[', b'Z', b'a', b]);
            let expected = u64::from_le_bytes(
                [b, b'Q', 0xC1, b'@', b'[', b'Z', b'a', b].map(|c| c.to_ascii_lowercase()),
            );
            assert_eq!(ascii_lowercase_word(word), expected, "{b:#x}");
        }
    }
}
