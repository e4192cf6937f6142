//! Duplicates as use cases: the check before a record is saved, and the review queue.

use crate::auth::{Permission, Principal};
use crate::dedupe::{CHECK_LIMIT, DEFAULT_COUNTRY, DuplicatePair, Match, PairStatus, StoredPair, ordered, scan};
use crate::error::{Error, ErrorCode, Result};
use crate::filter::{ColumnRef, Compare, Condition};
use crate::ids::RecordId;
use crate::jobs::JobCtx;
use crate::meta::ObjectDef;
use crate::query::ListQuery;
use crate::record::{InputMode, Record, RecordInput};
use crate::service::Crm;
use crate::value::Value;
use scan::Features;
use serde_json::Value as Json;

impl Crm {
    /// Scan every record of an object the caller may see for likely duplicates, best first,
    /// telling `ctx` how far it came (records read, then compared).
    pub async fn find_duplicates(
        &self,
        who: &Principal,
        object: &str,
        country: &str,
        ctx: &JobCtx,
    ) -> Result<Vec<DuplicatePair>> {
        let schema = self.authorize(who, Permission::Import).await?;
        let object = schema.object(object)?.clone();
        let owners = self.visible_owners(who, &schema, &object.name).await?;
        let total = self.store.count_records(&object).await?;
        ctx.phase("reading", u64::try_from(total).ok());
        let mut features: Vec<Features> = Vec::new();
        self.each_record(&object, None, owners, &mut |r| {
            features.push(Features::of(&object, &r, country));
            ctx.advance(1);
        })
        .await?;
        ctx.go_on()?;
        ctx.phase("comparing", None);
        Ok(scan::find(&features)
            .into_iter()
            .filter_map(|c| {
                Some(DuplicatePair {
                    a: features.get(c.a)?.id?,
                    b: features.get(c.b)?.id?,
                    score: c.score,
                    reasons: c.reasons,
                })
            })
            .collect())
    }
}

impl Crm {
    /// Scan an object and put what it finds in the review queue (replacing the open pairs of
    /// the last scan; dismissed pairs stay dismissed). Returns how many pairs are open now.
    /// Run as a job ([`Crm::start_duplicate_scan`]): a large object takes many seconds.
    pub async fn scan_duplicates(&self, who: &Principal, object: &str, country: &str, ctx: &JobCtx) -> Result<u64> {
        let found = self.find_duplicates(who, object, country, ctx).await?;
        ctx.go_on()?;
        ctx.phase("saving", None);
        let now = self.clock.now();
        let pairs: Vec<StoredPair> = found
            .into_iter()
            .map(|p| {
                let (a, b) = ordered(p.a, p.b);
                StoredPair {
                    object: object.to_string(),
                    a,
                    b,
                    score: p.score,
                    reasons: p.reasons,
                    status: PairStatus::Open,
                    found_at: now,
                    decided_by: None,
                    decided_at: None,
                }
            })
            .collect();
        self.store.save_duplicate_scan(object, &pairs).await
    }

    /// The open pairs of an object, best first, with both records; pairs with a record the
    /// caller may not see, or that is gone, are left out.
    pub async fn duplicate_queue(
        &self,
        who: &Principal,
        object: &str,
        limit: u32,
    ) -> Result<Vec<(StoredPair, Record, Record)>> {
        let schema = self.authorize(who, Permission::Import).await?;
        let def = schema.object(object)?.clone();
        let pairs = self.store.duplicate_pairs(&def.name, PairStatus::Open, limit).await?;
        let mut ids: Vec<RecordId> = pairs.iter().flat_map(|p| [p.a, p.b]).collect();
        ids.sort();
        ids.dedup();
        let owners = self.visible_owners(who, &schema, &def.name).await?;
        let records: std::collections::HashMap<RecordId, Record> = self
            .records_by_id(&def, &ids, owners)
            .await?
            .into_iter()
            .map(|r| (r.id, r))
            .collect();
        Ok(pairs
            .into_iter()
            .filter_map(|p| {
                let a = records.get(&p.a)?.clone();
                let b = records.get(&p.b)?.clone();
                Some((p, a, b))
            })
            .collect())
    }

    /// Mark a pair as not a duplicate; later scans leave it alone.
    pub async fn dismiss_duplicate(&self, who: &Principal, object: &str, a: &str, b: &str) -> Result<()> {
        let schema = self.authorize(who, Permission::Import).await?;
        let def = schema.object(object)?;
        let parse = |s: &str| RecordId::parse(s).ok_or_else(|| Error::not_found(format!("{} {s}", def.name)));
        let (a, b) = (parse(a)?, parse(b)?);
        let pair = ordered(a, b);
        if self
            .store
            .decide_duplicate(&def.name, pair, PairStatus::Dismissed, who.user_id, self.clock.now())
            .await?
        {
            Ok(())
        } else {
            Err(Error::new(ErrorCode::NotFound, "no open pair of these two records"))
        }
    }

    /// Records that may be the one a create body describes, best first: the same e-mail, or
    /// the same name, scored as the scan scores pairs. Shown before saving; nothing is written.
    pub async fn possible_duplicates(&self, who: &Principal, object: &str, body: &Json) -> Result<Vec<Match>> {
        let schema = self.authorize(who, Permission::ReadRecords).await?;
        let def = schema.object(object)?.clone();
        let now = self.clock.now();
        let input = RecordInput::parse(&schema, &def, body, InputMode::Update, now)?;
        let draft = Record {
            version: 0,
            values: input.values,
            ..Record::new(&def.name, RecordId::new_at(now), now, None)
        };
        let mine = Features::of(&def, &draft, DEFAULT_COUNTRY);
        let Some(near) = nearby(&def, &draft) else {
            return Ok(Vec::new());
        };
        let mut query = ListQuery::all();
        query.filter = Some(near);
        query.limit = CHECK_LIMIT;
        query.owners = self.visible_owners(who, &schema, &def.name).await?;
        let mut out: Vec<Match> = self
            .store
            .list_records(&def, &query)
            .await?
            .into_iter()
            .filter_map(|record| {
                let (score, _, reasons) = scan::score(&mine, &Features::of(&def, &record, DEFAULT_COUNTRY));
                (score >= scan::THRESHOLD).then_some(Match { record, score, reasons })
            })
            .collect();
        out.sort_by(|x, y| y.score.total_cmp(&x.score));
        out.truncate(10);
        Ok(out)
    }
}

/// The records worth comparing a new one with, found by indexed fields: the same e-mail
/// address (as typed, and in lower case), the same organisation number, or the same value of
/// each of the title fields.
fn nearby(object: &ObjectDef, draft: &Record) -> Option<Condition> {
    let mut any = Vec::new();
    for field in object.active_fields().filter(|f| f.filterable) {
        let is_key = field.field_type == crate::meta::FieldType::Email || field.name == "org_number";
        if !is_key {
            continue;
        }
        if let Some(text) = draft.get(&field.name).to_text() {
            let mut values = vec![Value::Text(text.clone())];
            if text.to_lowercase() != text {
                values.push(Value::Text(text.to_lowercase()));
            }
            any.push(Condition::In {
                column: ColumnRef::of(field),
                values,
            });
        }
    }
    let title: Vec<Condition> = object
        .title_fields
        .iter()
        .filter_map(|name| {
            let field = object.field(name).filter(|f| f.filterable)?;
            let value = draft.get(name);
            (!value.is_null()).then(|| Condition::Compare {
                column: ColumnRef::of(field),
                cmp: Compare::Eq,
                value: value.clone(),
            })
        })
        .collect();
    if !title.is_empty() {
        any.push(Condition::And(title));
    }
    (!any.is_empty()).then_some(Condition::Or(any))
}
