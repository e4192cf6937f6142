//! Finding duplicates among many records: each record's normal forms ([`Features`]), blocking
//! on shared keys (only records that share one are compared), then a score per pair from name
//! similarity (Jaro-Winkler), equal e-mail, phone, organisation number or domain, the same
//! company and city, and conflicting e-mails or phones.

use super::keys;
use crate::ids::RecordId;
use crate::meta::ObjectDef;
use crate::record::Record;
use crate::value::Value;
use serde::Serialize;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

/// What one record is compared by.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Features {
    pub id: Option<RecordId>,
    /// Folded words of the name, in the order written.
    pub name: Vec<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub org_number: Option<String>,
    pub domain: Option<String>,
    pub city: Option<String>,
    pub company: Option<RecordId>,
}

fn text(record: &Record, field: &str) -> Option<String> {
    match record.get(field) {
        Value::Text(t) | Value::Select(t) => Some(t.clone()),
        _ => None,
    }
}

impl Features {
    /// A person's or a company's features (other objects: their title and any e-mail, phone
    /// and web field). `country` is the calling code numbers without one are taken to have.
    pub fn of(object: &ObjectDef, record: &Record, country: &str) -> Features {
        use crate::meta::FieldType;
        let company = object.name == "company";
        let name = keys::name_words(&record.title(object), company);
        let first_of = |t: FieldType| {
            object
                .active_fields()
                .filter(|f| f.field_type == t)
                .find_map(|f| text(record, &f.name))
        };
        let email = first_of(FieldType::Email).and_then(|e| keys::email(&e));
        let domain = text(record, "domain")
            .or_else(|| first_of(FieldType::Url))
            .and_then(|d| keys::domain(&d))
            .or_else(|| email.as_deref().and_then(keys::email_domain));
        Features {
            id: Some(record.id),
            name,
            phone: first_of(FieldType::Phone).and_then(|p| keys::phone(&p, country)),
            email,
            org_number: text(record, "org_number").and_then(|o| keys::org_number(&o)),
            domain,
            city: text(record, "city")
                .map(|c| crate::import::mapping::fold(&c))
                .filter(|c| !c.is_empty()),
            company: match record.get("company") {
                Value::Relation(id) => Some(*id),
                _ => None,
            },
        }
    }

    /// The keys this record is blocked under: records sharing none are never compared.
    pub(crate) fn block_keys(&self, out: &mut Vec<u64>) {
        let mut add = |kind: u8, key: &str| {
            let mut h = DefaultHasher::new();
            kind.hash(&mut h);
            key.hash(&mut h);
            out.push(h.finish());
        };
        if let Some(e) = &self.email {
            add(1, e);
        }
        if let Some(p) = &self.phone {
            add(2, p);
        }
        if let Some(o) = &self.org_number {
            add(3, o);
        }
        if let Some((whole, initials)) = keys::name_keys(&self.name) {
            add(4, &whole);
            if let Some(c) = self.company {
                add(5, &format!("{c}|{initials}"));
            }
            // Companies: the same domain and a name that starts the same.
            if let Some(d) = &self.domain
                && self.email.is_none()
            {
                add(6, &format!("{d}|{initials}"));
            }
        }
    }
}

/// Why a pair was scored as it was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    SameEmail,
    SamePhone,
    SameOrgNumber,
    SameDomain,
    SameCompany,
    SameCity,
    SimilarName,
    DifferentEmail,
    DifferentPhone,
}

/// A pair scored as likely the same.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Candidate {
    pub a: usize,
    pub b: usize,
    pub score: f64,
    pub name_similarity: f64,
    pub reasons: Vec<Reason>,
}

/// How alike two names are, in either order of their words: Jaro-Winkler on the folded text.
pub fn name_similarity(a: &[String], b: &[String]) -> f64 {
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    let joined = |w: &[String]| w.join(" ");
    let straight = strsim::jaro_winkler(&joined(a), &joined(b));
    let mut sa: Vec<&String> = a.iter().collect();
    let mut sb: Vec<&String> = b.iter().collect();
    sa.sort();
    sb.sort();
    let sorted = strsim::jaro_winkler(
        &sa.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" "),
        &sb.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" "),
    );
    straight.max(sorted)
}

/// The score a pair must reach to be put to a person as a possible duplicate.
pub const THRESHOLD: f64 = 0.9;

/// Score one pair. The same e-mail, phone or organisation number is strong evidence, weighed
/// by how alike the names are; without it, the name must be nearly the same and the company,
/// city or domain agree. Two different e-mail addresses or phone numbers count against.
pub fn score(a: &Features, b: &Features) -> (f64, f64, Vec<Reason>) {
    let mut reasons = Vec::new();
    let same = |x: &Option<String>, y: &Option<String>| matches!((x, y), (Some(x), Some(y)) if x == y);
    let differ = |x: &Option<String>, y: &Option<String>| matches!((x, y), (Some(x), Some(y)) if x != y);
    let name = name_similarity(&a.name, &b.name);
    if name >= 0.85 {
        reasons.push(Reason::SimilarName);
    }
    let email = same(&a.email, &b.email);
    let phone = same(&a.phone, &b.phone);
    let org = same(&a.org_number, &b.org_number);
    let company = matches!((a.company, b.company), (Some(x), Some(y)) if x == y);
    let city = same(&a.city, &b.city);
    let domain = same(&a.domain, &b.domain);
    for (hit, reason) in [
        (email, Reason::SameEmail),
        (phone, Reason::SamePhone),
        (org, Reason::SameOrgNumber),
        (domain, Reason::SameDomain),
        (company, Reason::SameCompany),
        (city, Reason::SameCity),
    ] {
        if hit {
            reasons.push(reason);
        }
    }
    let mut score = if org {
        0.8 + 0.2 * name
    } else if email || phone {
        0.7 + 0.3 * name
    } else {
        0.85 * name + if city { 0.05 } else { 0.0 } + if company || domain { 0.08 } else { 0.0 }
    };
    if differ(&a.email, &b.email) {
        reasons.push(Reason::DifferentEmail);
        score -= 0.25;
    }
    if differ(&a.phone, &b.phone) {
        reasons.push(Reason::DifferentPhone);
        score -= 0.15;
    }
    (score.clamp(0.0, 1.0), name, reasons)
}

/// Records sharing one key beyond this many are not compared on it: a key that common (a
/// switchboard number, a very common name) says nothing.
pub const MAX_BLOCK: usize = 64;

/// Every pair of records that share a key and score at least [`THRESHOLD`], by index into
/// `records`, best first.
pub fn find(records: &[Features]) -> Vec<Candidate> {
    let mut keyed: Vec<(u64, u32)> = Vec::with_capacity(records.len() * 4);
    let mut buf = Vec::with_capacity(8);
    for (i, f) in records.iter().enumerate() {
        buf.clear();
        f.block_keys(&mut buf);
        let Ok(i) = u32::try_from(i) else { break };
        keyed.extend(buf.iter().map(|k| (*k, i)));
    }
    keyed.sort_unstable();
    let mut pairs: Vec<u64> = Vec::new();
    for block in keyed.chunk_by(|x, y| x.0 == y.0) {
        if block.len() < 2 || block.len() > MAX_BLOCK {
            continue;
        }
        for (n, (_, x)) in block.iter().enumerate() {
            for (_, y) in block.iter().skip(n + 1) {
                if x != y {
                    let (lo, hi) = if x < y { (*x, *y) } else { (*y, *x) };
                    pairs.push((u64::from(lo) << 32) | u64::from(hi));
                }
            }
        }
    }
    pairs.sort_unstable();
    pairs.dedup();
    let mut out: Vec<Candidate> = pairs
        .into_iter()
        .filter_map(|p| {
            let (a, b) = ((p >> 32) as usize, (p & 0xFFFF_FFFF) as usize);
            let (score, name_similarity, reasons) = score(records.get(a)?, records.get(b)?);
            (score >= THRESHOLD).then_some(Candidate {
                a,
                b,
                score,
                name_similarity,
                reasons,
            })
        })
        .collect();
    out.sort_by(|x, y| y.score.total_cmp(&x.score).then(x.a.cmp(&y.a)).then(x.b.cmp(&y.b)));
    out
}

/// Records already there, by their blocking keys alone: a 32-bit hash of each key and the
/// record's place, sorted. A million people take some 40 MB here, against the ~850 MB their
/// features took; the few records a new one shares a key with are read back and compared
/// whole. (A hash two keys share only adds a candidate, which the comparison turns away.)
#[derive(Debug, Default)]
pub struct KeyIndex {
    keys: Vec<(u32, u32)>,
    ids: Vec<RecordId>,
    scratch: Vec<u64>,
}

impl KeyIndex {
    pub fn add(&mut self, features: &Features, id: RecordId) {
        let Ok(n) = u32::try_from(self.ids.len()) else {
            return;
        };
        self.scratch.clear();
        features.block_keys(&mut self.scratch);
        for key in &self.scratch {
            // The upper half of the 64-bit hash; truncation is the point.
            #[allow(clippy::cast_possible_truncation)]
            self.keys.push(((key >> 32) as u32, n));
        }
        self.ids.push(id);
    }

    /// Sort the keys once every record is in.
    pub fn finish(&mut self) {
        self.keys.sort_unstable();
        self.keys.shrink_to_fit();
        self.ids.shrink_to_fit();
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The records sharing a key with `features` (keys shared by more than [`MAX_BLOCK`]
    /// records say nothing and are passed over), appended to `out`.
    pub fn candidates(&self, features: &Features, out: &mut Vec<RecordId>) {
        let mut keys = Vec::with_capacity(8);
        features.block_keys(&mut keys);
        for key in keys {
            #[allow(clippy::cast_possible_truncation)]
            let key = (key >> 32) as u32;
            let start = self.keys.partition_point(|(k, _)| *k < key);
            let end = self.keys.partition_point(|(k, _)| *k <= key);
            if end - start > MAX_BLOCK {
                continue;
            }
            for (_, n) in self.keys.get(start..end).unwrap_or_default() {
                if let Some(id) = self.ids.get(*n as usize) {
                    out.push(*id);
                }
            }
        }
    }
}

/// Records already known, by their blocking keys, for checking new ones one at a time (an
/// import's rows against the rows before them). The entries under one key are a chain through
/// `links`, its head in `heads`: 24 bytes per key of an entry, where a map of vectors took
/// about 60 (17 of a 500,000-row import's 50 MB here, measured).
#[derive(Debug)]
pub struct BlockIndex<T> {
    /// Each entry's features packed into `text` (no allocation of their own: a hundred thousand
    /// rows' little strings, kept while others come and go, left the allocator holding far more
    /// memory than they took) and its tag.
    entries: Vec<(Packed, T)>,
    text: String,
    /// Per key: the last link added under it and how many entries it has (counting stops
    /// past [`MAX_BLOCK`], where a key says nothing).
    heads: std::collections::HashMap<u64, (u32, u32)>,
    /// (entry, the link before it under the same key or [`NO_LINK`]).
    links: Vec<(u32, u32)>,
    /// Scratch space for one record's keys and the entries they reach: an import asks once
    /// per row, a million times.
    keys: Vec<u64>,
    reached: Vec<u32>,
}

const NO_LINK: u32 = u32::MAX;

/// An entry's features in [`BlockIndex::text`]: from `start`, the name (its words joined by
/// [`WORDS`]), e-mail, phone, organisation number, domain and city one after another, each
/// `lens` long ([`NONE`]: absent).
#[derive(Debug)]
struct Packed {
    start: u64,
    lens: [u32; 6],
    company: Option<RecordId>,
}

const NONE: u32 = u32::MAX;
const WORDS: &str = "\u{1f}";

// By hand: a derived `Default` would ask the same of every tag type.
impl<T> Default for BlockIndex<T> {
    fn default() -> Self {
        BlockIndex {
            entries: Vec::new(),
            text: String::new(),
            heads: std::collections::HashMap::new(),
            links: Vec::new(),
            keys: Vec::new(),
            reached: Vec::new(),
        }
    }
}

impl<T> BlockIndex<T> {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, features: Features, tag: T) {
        let Ok(n) = u32::try_from(self.entries.len()) else {
            return;
        };
        self.keys.clear();
        features.block_keys(&mut self.keys);
        for key in &self.keys {
            let (head, count) = self.heads.entry(*key).or_insert((NO_LINK, 0));
            // Past the size the scan skips, a key says nothing; no need to keep its entries.
            if (*count as usize) <= MAX_BLOCK {
                let Ok(link) = u32::try_from(self.links.len()) else {
                    return;
                };
                self.links.push((n, *head));
                *head = link;
                *count += 1;
            }
        }
        let packed = self.pack(&features);
        self.entries.push((packed, tag));
    }

    fn pack(&mut self, f: &Features) -> Packed {
        let start = self.text.len();
        let mut lens = [NONE; 6];
        let name = f.name.join(WORDS);
        let parts = [
            Some(name.as_str()).filter(|_| !f.name.is_empty()),
            f.email.as_deref(),
            f.phone.as_deref(),
            f.org_number.as_deref(),
            f.domain.as_deref(),
            f.city.as_deref(),
        ];
        for (len, part) in lens.iter_mut().zip(parts) {
            if let Some(part) = part {
                self.text.push_str(part);
                *len = u32::try_from(part.len()).unwrap_or(0);
            }
        }
        Packed {
            start: start as u64,
            lens,
            company: f.company,
        }
    }

    fn unpack(&self, p: &Packed) -> Features {
        let mut at = usize::try_from(p.start).unwrap_or(usize::MAX);
        let mut part = |len: u32| {
            if len == NONE {
                return None;
            }
            let end = at + len as usize;
            let text = self.text.get(at..end).map(str::to_string);
            at = end;
            text
        };
        let [name, email, phone, org_number, domain, city] = p.lens;
        Features {
            id: None,
            name: part(name).map_or_else(Vec::new, |n| n.split(WORDS).map(str::to_string).collect()),
            email: part(email),
            phone: part(phone),
            org_number: part(org_number),
            domain: part(domain),
            city: part(city),
            company: p.company,
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The known record most like this one, if any scores at least [`THRESHOLD`]: its tag,
    /// the score and why.
    pub fn best_match(&mut self, features: &Features) -> Option<(&T, f64, Vec<Reason>)> {
        self.keys.clear();
        features.block_keys(&mut self.keys);
        self.reached.clear();
        for key in &self.keys {
            let Some(&(head, count)) = self.heads.get(key) else {
                continue;
            };
            if count as usize > MAX_BLOCK {
                continue;
            }
            let mut link = head;
            while let Some(&(entry, before)) = self.links.get(link as usize) {
                self.reached.push(entry);
                link = before;
            }
        }
        self.reached.sort_unstable();
        self.reached.dedup();
        let mut best: Option<(usize, f64, Vec<Reason>)> = None;
        for &n in &self.reached {
            let Some((known, _)) = self.entries.get(n as usize) else {
                continue;
            };
            let (score, _, reasons) = score(features, &self.unpack(known));
            if score >= THRESHOLD && best.as_ref().is_none_or(|b| score > b.1) {
                best = Some((n as usize, score, reasons));
            }
        }
        let (n, score, reasons) = best?;
        self.entries.get(n).map(|(_, tag)| (tag, score, reasons))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(first: &str, last: &str, email: Option<&str>, phone: Option<&str>, city: Option<&str>) -> Features {
        Features {
            id: None,
            name: keys::name_words(&format!("{first} {last}"), false),
            email: email.and_then(keys::email),
            phone: phone.and_then(|p| keys::phone(p, "46")),
            org_number: None,
            domain: None,
            city: city.map(crate::import::mapping::fold),
            company: None,
        }
    }

    /// The person both tests look for in other spellings.
    fn asa_oberg() -> Features {
        person(
            "Åsa",
            "Öberg",
            Some("asa.oberg@acme.se"),
            Some("08-123 45 67"),
            Some("Lund"),
        )
    }

    #[test]
    fn a_new_record_is_checked_against_the_known_ones() {
        let mut index = BlockIndex::new();
        index.add(asa_oberg(), "there");
        index.add(person("Nils", "Holm", Some("nils@holm.se"), None, None), "other");
        let same = person("Asa", "Oberg", None, Some("+46 8 123 45 67"), Some("Lund"));
        let (tag, score, reasons) = index.best_match(&same).unwrap();
        assert_eq!(*tag, "there");
        assert!(score >= THRESHOLD);
        assert!(reasons.contains(&Reason::SamePhone), "{reasons:?}");
        let stranger = person(
            "Åsa",
            "Öberg",
            Some("asa@elsewhere.de"),
            Some("+49 30 1234567"),
            Some("Berlin"),
        );
        assert!(
            index.best_match(&stranger).is_none(),
            "a namesake with her own e-mail and phone"
        );
        assert!(index.best_match(&person("Greta", "Lund", None, None, None)).is_none());
    }

    #[test]
    fn the_same_person_written_differently_is_found_and_namesakes_are_not() {
        let people = vec![
            asa_oberg(),
            // 1: the same, with a typo, her phone written internationally, e-mail in capitals.
            person("Åsa", "Öbreg", Some("ASA.OBERG@acme.se"), Some("+46 8 123 45 67"), None),
            // 2: the same, first and last name swapped, no e-mail.
            person("Öberg", "Åsa", None, Some("0046 8 1234567"), Some("Lund")),
            // 3: a namesake elsewhere with her own e-mail and phone.
            person(
                "Åsa",
                "Öberg",
                Some("asa@other.se"),
                Some("040-99 88 77"),
                Some("Malmö"),
            ),
            // 4: someone else entirely.
            person("Per", "Ek", Some("per@ek.se"), None, None),
        ];
        let found: Vec<(usize, usize)> = find(&people).iter().map(|c| (c.a, c.b)).collect();
        assert!(found.contains(&(0, 1)), "{found:?}");
        assert!(found.contains(&(0, 2)), "{found:?}");
        assert!(found.contains(&(1, 2)), "{found:?}");
        assert!(
            !found.iter().any(|(a, b)| *a == 3 || *b == 3 || *a == 4 || *b == 4),
            "{found:?}"
        );
        let (_, _, reasons) = score(&people[0], &people[3]);
        assert!(reasons.contains(&Reason::DifferentEmail));
    }

    #[test]
    fn an_entry_reads_back_as_it_went_in() {
        let mut index: BlockIndex<()> = BlockIndex::new();
        let mut núñez = person("José Luis", "Núñez Ærø", None, Some("+34 91 123 45 67"), Some("Málaga"));
        núñez.company = Some(RecordId(uuid::Uuid::from_u128(7)));
        núñez.domain = Some(String::new());
        let nameless = Features::default();
        for f in [asa_oberg(), núñez, nameless] {
            let packed = index.pack(&f);
            assert_eq!(index.unpack(&packed), Features { id: None, ..f });
        }
    }

    #[test]
    fn a_key_too_many_rows_share_reaches_none_of_them() {
        let mut index = BlockIndex::new();
        for i in 0..=MAX_BLOCK {
            index.add(
                person("Anna", "Andersson", None, Some(&format!("08-555 {i:04}")), None),
                i,
            );
        }
        let again = person("Anna", "Andersson", None, Some("08-555 0007"), None);
        let (tag, _, reasons) = index.best_match(&again).expect("found by her phone");
        assert_eq!(*tag, 7);
        assert!(reasons.contains(&Reason::SamePhone));
        // Her name alone is shared by more rows than are compared.
        assert!(
            index
                .best_match(&person("Anna", "Andersson", None, None, None))
                .is_none()
        );
        let mut small = BlockIndex::new();
        small.add(person("Anna", "Andersson", None, None, Some("Lund")), 0);
        assert!(
            small
                .best_match(&person("Anna", "Andersson", None, None, Some("Lund")))
                .is_some()
        );
    }

    #[test]
    fn huge_blocks_are_not_compared() {
        let many: Vec<Features> = (0..MAX_BLOCK + 1)
            .map(|i| person("Anna", "Andersson", Some(&format!("anna{i}@x.se")), None, None))
            .collect();
        assert!(find(&many).is_empty());
    }
}
