//! `anchora testset`: a labelled set of people for measuring duplicate detection. Clean people
//! (unique e-mail and phone, a company and a city) and, for a share of them, duplicates made
//! the way they happen: typos, first and last name swapped, the phone written another way, the
//! e-mail in other case, fields left out. Each duplicate names the row it copies
//! (`duplicate_of`), so a scan's precision and recall can be counted.

use crate::names::{COUNTRIES, Country, ascii_slug, locale};
use std::io::Write;

/// One row of the set.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub external_id: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub phone: String,
    pub city: String,
    pub company: String,
    /// The external id of the clean row this one copies, for duplicates.
    pub duplicate_of: Option<String>,
}

/// A small deterministic generator, so a set can be made again from its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % (n.max(1) as u64)) as usize
    }

    fn pick<'a>(&mut self, items: &'a [&'a str]) -> &'a str {
        items.get(self.below(items.len())).copied().unwrap_or_default()
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

fn country(rng: &mut Rng) -> Country {
    let total: u32 = COUNTRIES.iter().map(|(_, w)| w).sum();
    let mut roll = u32::try_from(rng.below(total as usize)).unwrap_or(0);
    for (c, w) in COUNTRIES {
        if roll < w {
            return c;
        }
        roll -= w;
    }
    Country::Se
}

fn calling_code(c: Country) -> &'static str {
    match c {
        Country::Se => "46",
        Country::De => "49",
        Country::Dk => "45",
        Country::Es => "34",
        Country::Uk => "44",
        Country::Us => "1",
    }
}

/// A typo: two neighbouring letters swapped, one left out, or one doubled.
fn typo(word: &str, rng: &mut Rng) -> String {
    let chars: Vec<char> = word.chars().collect();
    if chars.len() < 4 {
        return word.to_string();
    }
    // Typos are rarer in the first two letters, which people check.
    let at = 2 + rng.below(chars.len() - 3);
    let mut out = chars.clone();
    match rng.below(3) {
        0 => out.swap(at, at + 1),
        1 => {
            out.remove(at);
        }
        _ => out.insert(at, chars.get(at).copied().unwrap_or('e')),
    }
    out.into_iter().collect()
}

/// The set: `people` clean rows and about `duplicate_percent` of them copied once, in a shuffled
/// order. Each row's e-mail and phone are its own.
pub fn generate(people: usize, duplicate_percent: u64, seed: u64) -> Vec<Row> {
    let mut rng = Rng(seed | 1);
    let companies = (people / 10).max(1);
    let company_names: Vec<(String, Country)> = (0..companies)
        .map(|i| {
            let c = country(&mut rng);
            let l = locale(c);
            (
                format!(
                    "{} {} {} {}",
                    rng.pick(l.last_names),
                    rng.pick(l.company_words),
                    i,
                    l.company_suffix
                ),
                c,
            )
        })
        .collect();
    let mut rows: Vec<Row> = Vec::with_capacity(people + people * duplicate_percent as usize / 100);
    let mut clean: Vec<(Row, Country)> = Vec::with_capacity(people);
    for i in 0..people {
        let (company, c) = company_names
            .get(rng.below(companies))
            .cloned()
            .unwrap_or((String::new(), Country::Se));
        let l = locale(c);
        let first = rng.pick(l.first_names).to_string();
        // A second surname for a third of the people, as Spanish and many Nordic names have.
        let last = if rng.chance(33) {
            format!("{} {}", rng.pick(l.last_names), rng.pick(l.last_names))
        } else {
            rng.pick(l.last_names).to_string()
        };
        let domain = format!("{}.{}", ascii_slug(&company), l.tld);
        let number = 10_000_000 + i;
        let row = Row {
            external_id: format!("T{i}"),
            email: format!(
                "{}.{}{i}@{domain}",
                ascii_slug(&first),
                ascii_slug(&last).replace(' ', "")
            ),
            phone: format!("+{} {} {}", calling_code(c), number / 10_000, number % 10_000),
            first_name: first,
            last_name: last,
            city: rng.pick(l.cities).to_string(),
            company,
            duplicate_of: None,
        };
        clean.push((row.clone(), c));
        rows.push(row);
    }
    let mut n = 0;
    for (original, c) in &clean {
        if !rng.chance(duplicate_percent) {
            continue;
        }
        let mut d = original.clone();
        d.external_id = format!("D{n}");
        d.duplicate_of = Some(original.external_id.clone());
        n += 1;
        // One to three changes, each as it happens in real lists.
        for _ in 0..=rng.below(3) {
            match rng.below(6) {
                0 => d.first_name = typo(&d.first_name, &mut rng),
                1 => d.last_name = typo(&d.last_name, &mut rng),
                2 => std::mem::swap(&mut d.first_name, &mut d.last_name),
                3 if !d.phone.is_empty() => {
                    // The phone written another way: a Swedish number as at home (trunk 0,
                    // dashes; the workspace is Swedish), others with 00 for the plus.
                    let digits: String = d.phone.chars().filter(char::is_ascii_digit).collect();
                    let national = digits.strip_prefix(calling_code(*c)).unwrap_or(&digits);
                    d.phone = if *c == Country::Se {
                        format!(
                            "0{}-{}",
                            national.get(..3).unwrap_or_default(),
                            national.get(3..).unwrap_or_default()
                        )
                    } else {
                        format!("00{} {national}", calling_code(*c))
                    };
                }
                3 => {}
                4 => d.email = d.email.to_uppercase(),
                _ => {
                    // A field left out; never all the ways to find the person at once.
                    match rng.below(3) {
                        0 if !d.phone.is_empty() => d.email.clear(),
                        1 if !d.email.is_empty() => d.phone.clear(),
                        _ => d.city.clear(),
                    }
                }
            }
        }
        rows.push(d);
    }
    // Shuffle, so duplicates do not sit beside their originals.
    for i in (1..rows.len()).rev() {
        let j = rng.below(i + 1);
        rows.swap(i, j);
    }
    rows
}

pub fn write_csv(rows: &[Row], out: impl Write) -> std::io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record([
        "external_id",
        "first_name",
        "last_name",
        "email",
        "phone",
        "city",
        "company",
        "duplicate_of",
    ])?;
    for r in rows {
        w.write_record([
            r.external_id.as_str(),
            &r.first_name,
            &r.last_name,
            &r.email,
            &r.phone,
            &r.city,
            &r.company,
            r.duplicate_of.as_deref().unwrap_or_default(),
        ])?;
    }
    w.flush()
}

/// Precision and recall of found pairs (by external id) against the set's labels.
#[cfg(test)]
pub fn precision_recall(rows: &[Row], found: &[(String, String)]) -> (f64, f64, usize, usize) {
    use std::collections::{HashMap, HashSet};
    let mut cluster: HashMap<&str, &str> = HashMap::new();
    for r in rows {
        cluster.insert(&r.external_id, r.duplicate_of.as_deref().unwrap_or(&r.external_id));
    }
    let mut members: HashMap<&str, Vec<&str>> = HashMap::new();
    for (id, c) in &cluster {
        members.entry(c).or_default().push(id);
    }
    let truth: usize = members.values().map(|m| m.len() * (m.len() - 1) / 2).sum();
    let mut seen = HashSet::new();
    let mut right = 0usize;
    for (a, b) in found {
        let key = if a < b {
            (a.as_str(), b.as_str())
        } else {
            (b.as_str(), a.as_str())
        };
        if !seen.insert(key) {
            continue;
        }
        if cluster.contains_key(key.0) && cluster.get(key.0) == cluster.get(key.1) {
            right += 1;
        }
    }
    let precision = if seen.is_empty() {
        1.0
    } else {
        right as f64 / seen.len() as f64
    };
    let recall = if truth == 0 { 1.0 } else { right as f64 / truth as f64 };
    (precision, recall, seen.len(), truth)
}

#[cfg(test)]
mod tests {
    use super::*;
    use anchora_core::RecordId;
    use anchora_core::dedupe::keys;
    use anchora_core::dedupe::scan::{Features, find};
    use std::collections::HashMap;

    /// The scan over the set in memory (the store's part is measured by the benchmark).
    #[test]
    fn the_scan_finds_the_labelled_duplicates() {
        let rows = generate(20_000, 10, 42);
        let dups = rows.iter().filter(|r| r.duplicate_of.is_some()).count();
        assert!((1_500..2_500).contains(&dups), "{dups}");
        let now = chrono::Utc::now();
        let mut companies: HashMap<String, RecordId> = HashMap::new();
        let features: Vec<Features> = rows
            .iter()
            .map(|r| {
                let company = *companies
                    .entry(r.company.clone())
                    .or_insert_with(|| RecordId::new_at(now));
                Features {
                    id: None,
                    name: keys::name_words(&format!("{} {}", r.first_name, r.last_name), false),
                    email: keys::email(&r.email),
                    phone: keys::phone(&r.phone, "46"),
                    org_number: None,
                    domain: keys::email_domain(&r.email.to_lowercase()),
                    city: Some(anchora_core::import::mapping::fold(&r.city)).filter(|c| !c.is_empty()),
                    company: Some(company),
                }
            })
            .collect();
        let found: Vec<(String, String)> = find(&features)
            .iter()
            .map(|c| (rows[c.a].external_id.clone(), rows[c.b].external_id.clone()))
            .collect();
        let (precision, recall, predicted, truth) = precision_recall(&rows, &found);
        eprintln!("labelled set: {predicted} pairs found, {truth} true, precision {precision:.3}, recall {recall:.3}");
        assert!(
            precision >= 0.95,
            "precision {precision} ({predicted} found, {truth} true)"
        );
        assert!(recall >= 0.90, "recall {recall} ({predicted} found, {truth} true)");
    }

    #[test]
    fn the_same_seed_gives_the_same_set() {
        assert_eq!(generate(500, 10, 7), generate(500, 10, 7));
        assert_ne!(generate(500, 10, 7), generate(500, 10, 8));
    }
}
