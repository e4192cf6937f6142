//! How text is compared: one folding, done here in Rust, so both databases give the same
//! answers whatever their own `lower()` knows (SQLite's folds ASCII only; PostgreSQL's depends
//! on the server's locale).

use unicode_normalization::UnicodeNormalization;

/// The form two texts must share to be "the same, ignoring case": composed (NFC, so a name
/// typed on a Mac, `O` + combining diaeresis, meets `Ö`), lower case by Unicode's rules
/// (`Ö`→`ö`, `Æ`→`æ`, `Ñ`→`ñ`, `ẞ`→`ß`), `ß` as `ss` (so `STRASSE` meets `Straße`), every run of
/// white space (tabs, no-break spaces) as one space, and no space at either end.
///
/// Accents stay: `Öberg` and `Oberg` are different names in Swedish.
pub fn fold_case(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = false;
    let mut push = |c: char, out: &mut String| {
        if c.is_whitespace() {
            space = !out.is_empty();
            return;
        }
        if space {
            out.push(' ');
            space = false;
        }
        match c {
            'ß' => out.push_str("ss"),
            c => out.push(c),
        }
    };
    if text.is_ascii() {
        // Most values (e-mail addresses, ids, plain names) need only their capitals lowered.
        if is_tidy_ascii(text.as_bytes()) {
            out.push_str(text);
            out.make_ascii_lowercase();
            return out;
        }
        for c in text.chars() {
            push(c.to_ascii_lowercase(), &mut out);
        }
    } else if unicode_normalization::is_nfc_quick(text.chars()) == unicode_normalization::IsNormalized::Yes {
        // Text already composed, as nearly all is, skips composing: decomposing and composing
        // again was a third of an import's folding.
        for c in text.chars().flat_map(char::to_lowercase) {
            push(c, &mut out);
        }
    } else {
        for c in text.nfc().flat_map(char::to_lowercase) {
            push(c, &mut out);
        }
    }
    out
}

/// ASCII whose only white space is single spaces between words: folding it changes nothing
/// but its capitals.
fn is_tidy_ascii(bytes: &[u8]) -> bool {
    let spaced = |b: &u8| *b == b' ';
    !bytes.first().is_some_and(spaced)
        && !bytes.last().is_some_and(spaced)
        && !bytes.windows(2).any(|w| w == b"  ")
        && !bytes
            .iter()
            .any(|b| matches!(b, b'\t' | b'\n' | b'\x0B' | b'\x0C' | b'\r'))
}

/// The smallest text greater than every text that starts with `prefix`, in code-point (byte)
/// order, so a prefix search is the range `prefix <= t < next`: an index serves it on both
/// databases. `None` when no such text exists (every character is the last one).
pub fn prefix_end(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let mut code = u32::from(last) + 1;
        if (0xD800..0xE000).contains(&code) {
            code = 0xE000;
        }
        if let Some(next) = char::from_u32(code) {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

/// Characters a text may not hold in any database: PostgreSQL's text cannot store NUL, so
/// neither side accepts it (a filter or value with one is refused, naming its field).
pub fn storable(text: &str) -> bool {
    !text.contains('\0')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_letters_of_five_languages_fold_the_same_way() {
        for (a, b) in [
            ("ÖBERG", "öberg"),
            ("Ærø", "ÆRØ"),
            ("Müller", "MÜLLER"),
            ("Núñez", "NÚÑEZ"),
            ("Åsa", "åSA"),
            ("Straße", "STRASSE"),
            ("STRAẞE", "strasse"),
            ("Élodie", "éLODIE"),
            // Decomposed (as macOS writes file names and some exports) meets composed.
            ("O\u{308}berg", "Öberg"),
            ("  Anna\t\u{a0}Öberg ", "anna öberg"),
        ] {
            assert_eq!(fold_case(a), fold_case(b), "{a} / {b}");
        }
        assert_ne!(fold_case("Öberg"), fold_case("Oberg"), "accents are letters");
        assert_eq!(fold_case("ÖBERG"), "öberg");
        assert_eq!(fold_case(""), "");
        assert_eq!(fold_case(" \t "), "");
    }

    #[test]
    fn tidy_ascii_folds_as_every_other_text_does() {
        // Every string of up to four of these bytes, through the shortcut and the long way.
        let alphabet = [b'A', b'z', b' ', b'\t', b'\n', b'\x0B', b'\x0C', b'\r', b'\x1F', b'9'];
        let mut texts = vec![String::new()];
        for _ in 0..4 {
            let longer: Vec<String> = texts
                .iter()
                .flat_map(|t| alphabet.iter().map(move |b| format!("{t}{}", *b as char)))
                .collect();
            texts.extend(longer);
        }
        for text in texts {
            let mut long_way = String::new();
            for word in text.split(char::is_whitespace).filter(|w| !w.is_empty()) {
                if !long_way.is_empty() {
                    long_way.push(' ');
                }
                long_way.push_str(&word.to_lowercase());
            }
            assert_eq!(fold_case(&text), long_way, "{text:?}");
        }
    }

    #[test]
    fn folding_twice_changes_nothing() {
        for s in ["ÖBERG", "Straße", "İstanbul", "ΣΊΣΥΦΟΣ", "a  b", "O\u{308}"] {
            let once = fold_case(s);
            assert_eq!(fold_case(&once), once, "{s}");
        }
    }

    #[test]
    fn a_prefix_range_holds_exactly_the_texts_that_start_with_it() {
        let end = prefix_end("öb").unwrap();
        for t in ["öb", "öberg", "öb\u{10ffff}"] {
            assert!(t >= "öb" && t < end.as_str(), "{t}");
        }
        for t in ["öa", "öc", "ö", "ø"] {
            assert!(!(t >= "öb" && t < end.as_str()), "{t}");
        }
        assert_eq!(prefix_end("a\u{d7ff}").unwrap(), "a\u{e000}");
        assert_eq!(prefix_end("a\u{10ffff}").unwrap(), "b");
        assert_eq!(prefix_end("\u{10ffff}"), None);
    }
}
