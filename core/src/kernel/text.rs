//! Folded text: the one definition of "the same letters, whatever the case and accents".
//!
//! People search a base of Polish, Ukrainian, Romanian and Russian names from keyboards
//! that often lack the letters: "lodz" must find "Łódź", "КИЇВ" typed in capitals must
//! find "Київ", "stefan" must find both spellings of "Ștefan" (comma below, and the
//! cedilla that older keyboards type). Neither database can do that alone: SQLite has no unaccent
//! and its `lower()` is ASCII-only; PostgreSQL's `unaccent` is an extension that may not be
//! installed and its `lower()` depends on the database's locale. So folding happens here, in
//! Rust, when a contact is written, and the folded forms are stored next to the originals
//! (see [`crate::contacts::derived`]); a query folds its input the same way and compares
//! folded with folded.
//!
//! [`fold`] is:
//!
//! 1. compatibility decomposition (NFKD): `ó` becomes `o` + a combining acute, `ﬁ` becomes
//!    `fi`, full-width and superscript forms their plain letters and digits;
//! 2. every combining mark dropped (the accents, the Cyrillic breve and diaeresis);
//! 3. full Unicode lowercase, character by character;
//! 4. the letters that carry their "accent" inside the letter and so don't decompose:
//!    `ł→l đ→d ð→d ø→o ß→ss æ→ae œ→oe ı→i ħ→h þ→th ŧ→t`, and the final sigma `ς→σ`
//!    (their capitals are lowercased first in step 3);
//!
//! repeated until nothing changes (one more pass at most in practice), so folding is
//! idempotent: `fold(fold(s)) == fold(s)`, which a property test checks.
//!
//! [`search_words`] is what full-text search indexes and queries: the folded text with
//! every run of characters that are not letters or digits turned into one space. Both
//! databases' tokenizers (SQLite FTS5 `unicode61`, PostgreSQL's default parser with the
//! `simple` configuration) then see exactly the same words on both sides.
//!
//! Dropping every combining mark also drops the vowel signs of scripts such as Devanagari;
//! that makes such text match more loosely, never less (the query is folded the same way).

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfkd_quick};

/// The case- and accent-insensitive form of `s` (see the module documentation).
///
/// ```
/// use kartoteka_core::text::fold;
/// assert_eq!(fold("Łódź"), "lodz");
/// assert_eq!(fold("КИЇВ"), fold("Київ"));
/// assert_eq!(fold("Straße"), "strasse");
/// assert_eq!(fold("Ștefan"), fold("Ştefan"));
/// ```
pub fn fold(s: &str) -> String {
    if s.is_ascii() {
        return s.to_ascii_lowercase();
    }
    let mut current = fold_step(s);
    // Lowercasing may, for a handful of letters, give something that decomposes again;
    // a bounded fixpoint keeps `fold` idempotent without trusting that it never does.
    for _ in 0..3 {
        if is_folded(&current) {
            break;
        }
        current = fold_step(&current);
    }
    current
}

/// Whether another [`fold_step`] would leave `s` as it is (a check, cheaper than a pass).
fn is_folded(s: &str) -> bool {
    is_nfkd_quick(s.chars()) == IsNormalized::Yes
        && s.chars().all(|c| {
            let mut lower = c.to_lowercase();
            !is_combining_mark(c) && own_letter(c).is_none() && lower.next() == Some(c) && lower.next().is_none()
        })
}

/// One pass of NFKD, mark removal, lowercase and the non-decomposing letters.
fn fold_step(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.nfkd() {
        if is_combining_mark(c) {
            continue;
        }
        for lower in c.to_lowercase() {
            match own_letter(lower) {
                Some(plain) => out.push_str(plain),
                None => out.push(lower),
            }
        }
    }
    out
}

/// The plain spelling of a lowercase letter whose stroke or ligature doesn't decompose.
fn own_letter(c: char) -> Option<&'static str> {
    Some(match c {
        'ł' => "l",
        'đ' | 'ð' => "d",
        'ø' => "o",
        'ß' => "ss",
        'æ' => "ae",
        'œ' => "oe",
        'ı' => "i",
        'ħ' => "h",
        'þ' => "th",
        'ŧ' => "t",
        'ς' => "σ",
        _ => return None,
    })
}

/// The words of `s` for full-text search: [`fold`], then every run of characters that are
/// neither letters nor digits becomes one space (none at either end).
///
/// ```
/// use kartoteka_core::text::search_words;
/// assert_eq!(search_words("  Jan.Kowalski@Example.COM "), "jan kowalski example com");
/// assert_eq!(search_words("ul. Długa 1/3"), "ul dluga 1 3");
/// assert_eq!(search_words("!!!"), "");
/// ```
pub fn search_words(s: &str) -> String {
    words_of_folded(&fold(s))
}

/// [`search_words`] of text that is [`fold`]ed already (folding is idempotent, so
/// `words_of_folded(&fold(s)) == search_words(s)`), for a caller that keeps both forms.
pub fn words_of_folded(folded: &str) -> String {
    let mut out = String::with_capacity(folded.len());
    for word in folded.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn folds_polish_ukrainian_romanian_german() {
        assert_eq!(fold("Łódź"), "lodz");
        assert_eq!(fold("ŁÓDŹ"), "lodz");
        assert_eq!(fold("Zażółć gęślą jaźń"), "zazolc gesla jazn");
        assert_eq!(fold("КИЇВ"), fold("Київ"));
        assert_eq!(fold("Київ"), "киів");
        assert_eq!(fold("Straße"), "strasse");
        assert_eq!(fold("STRASSE"), "strasse");
        assert_eq!(fold("Ștefan"), "stefan");
        assert_eq!(fold("Ştefan"), "stefan");
        assert_eq!(fold("Țară"), "tara");
        assert_eq!(fold("Ёлка"), "елка");
    }

    #[test]
    fn folds_letters_that_do_not_decompose() {
        assert_eq!(
            fold("Łł Đđ Ðð Øø ẞß Ææ Œœ Iı Ħħ Þþ Ŧŧ"),
            "ll dd dd oo ssss aeae oeoe ii hh thth tt"
        );
        assert_eq!(fold("ΟΔΟΣ"), fold("οδος"));
        assert_eq!(fold("İstanbul"), "istanbul");
    }

    #[test]
    fn folds_compatibility_forms() {
        assert_eq!(fold("ﬁle"), "file");
        assert_eq!(fold("ＡＢＣ１２"), "abc12");
        assert_eq!(fold("x²"), "x2");
        assert_eq!(fold("Kelvin \u{212A}"), "kelvin k");
    }

    #[test]
    fn ascii_is_lowercased_and_kept() {
        assert_eq!(fold("Jan KOWALSKI, +48 600-100-200"), "jan kowalski, +48 600-100-200");
        assert_eq!(fold(""), "");
    }

    #[test]
    fn search_words_are_folded_words_separated_by_one_space() {
        assert_eq!(search_words("Jan  Kowalski"), "jan kowalski");
        assert_eq!(search_words("+48 600-100-200"), "48 600 100 200");
        assert_eq!(search_words("O'Brien & Søn, Łódź"), "o brien son lodz");
        assert_eq!(search_words("Київ—Львів"), "киів львів");
        assert_eq!(search_words("snake_case"), "snake case");
        assert_eq!(search_words("\"; DROP TABLE contacts; --"), "drop table contacts");
        assert_eq!(search_words(" .,;:!?*\"'()[]{} "), "");
    }

    /// Letters whose case mapping is not one-to-one, and accents, for the property below.
    const CASE_LETTERS: [char; 30] = [
        'a', 'A', 'i', 'I', 'İ', 'ı', 's', 'S', 'ß', 'ẞ', 'σ', 'Σ', 'ς', 'ǅ', 'ǆ', 'Ǆ', 'k', 'K', '\u{212A}',
        '\u{212B}', 'å', 'Å', 'ﬁ', 'Ł', 'ł', 'ó', 'Ó', '\u{301}', '\u{307}', ' ',
    ];

    proptest! {
        #[test]
        fn fold_is_idempotent(s in any::<String>()) {
            let once = fold(&s);
            prop_assert_eq!(fold(&once), once);
        }

        /// What the plugin SDK's case-insensitive text mode stands on: a folded match in
        /// the database keeps every text that matches ignoring case (full Unicode
        /// lowercase), so the candidates are a superset, in every text mode. The needle is
        /// a piece of the text in another case, or any text; the letters are those whose
        /// case mapping is not one-to-one (dotted and dotless i, ß and ẞ, final sigma,
        /// titlecase digraphs, the Kelvin and Ångström signs, ligatures) and accents.
        #[test]
        fn a_case_insensitive_match_is_a_folded_match(
            text in proptest::collection::vec(proptest::sample::select(CASE_LETTERS.to_vec()), 0..12),
            cut in (0usize..12, 0usize..12),
            upper in any::<bool>(),
            other in any::<String>(),
            own in any::<bool>(),
        ) {
            let text: String = text.into_iter().collect();
            let chars: Vec<char> = text.chars().collect();
            let (from, to) = (cut.0.min(chars.len()), cut.1.min(chars.len()));
            let piece: String = chars[from.min(to)..from.max(to)].iter().collect();
            let piece = if upper { piece.to_uppercase() } else { piece };
            let needle = if own { piece } else { other };
            let (lower_text, lower_needle) = (text.to_lowercase(), needle.to_lowercase());
            let (folded_text, folded_needle) = (fold(&text), fold(&needle));
            if lower_text.contains(&lower_needle) {
                prop_assert!(folded_text.contains(&folded_needle), "{text:?} contains {needle:?}");
            }
            if lower_text.starts_with(&lower_needle) {
                prop_assert!(folded_text.starts_with(&folded_needle), "{text:?} starts with {needle:?}");
            }
            if lower_text.ends_with(&lower_needle) {
                prop_assert!(folded_text.ends_with(&folded_needle), "{text:?} ends with {needle:?}");
            }
            if lower_text == lower_needle {
                prop_assert_eq!(folded_text, folded_needle);
            }
        }

        #[test]
        fn fold_leaves_no_combining_marks(s in any::<String>()) {
            let folded = fold(&s);
            prop_assert!(!folded.chars().any(is_combining_mark));
        }

        #[test]
        fn words_of_folded_text_are_its_search_words(s in any::<String>()) {
            prop_assert_eq!(words_of_folded(&fold(&s)), search_words(&s));
        }

        #[test]
        fn search_words_are_idempotent_and_clean(s in any::<String>()) {
            let words = search_words(&s);
            prop_assert_eq!(search_words(&words), words.clone());
            prop_assert!(!words.starts_with(' ') && !words.ends_with(' ') && !words.contains("  "));
            prop_assert!(words.chars().all(|c| c == ' ' || c.is_alphanumeric()));
        }

        #[test]
        fn accents_and_case_do_not_matter_for_latin(s in "[a-zA-Z ]{0,40}") {
            let accented: String = s.chars().map(|c| match c {
                'a' => 'ą', 'e' => 'ę', 'o' => 'ó', 's' => 'ś', 'z' => 'ż', 'c' => 'ć', 'n' => 'ń',
                'l' => 'ł', 'A' => 'Ą', 'L' => 'Ł', 'S' => 'Ș', 'T' => 'Ț', other => other,
            }).collect();
            prop_assert_eq!(fold(&accented), s.to_lowercase());
        }
    }
}
