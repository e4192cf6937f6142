//! Data quality as use cases: the rules, a record's assessment, the board and its kept days, the fix list.

use crate::auth::{Permission, Principal};
use crate::dedupe::PairStatus;
use crate::error::{Error, Result};
use crate::ids::{RecordId, TeamId, UserId};
use crate::jobs::JobCtx;
use crate::meta::ObjectDef;
use crate::quality::{
    FixList, QualityBoard, QualityDay, QualityReport, QualityRules, RULES_KEY, RecordQuality, Summary, assess,
};
use crate::record::Record;
use crate::service::Crm;
use std::collections::{BTreeMap, HashMap, HashSet};

impl Crm {
    /// Measure every record of an object (as the system, all of them) and keep today's figures
    /// overall, per owner and per team, replacing any kept earlier today. Run once a day by the
    /// server, so the trend shows.
    pub async fn record_quality_day(&self, object: &str, ctx: &JobCtx) -> Result<usize> {
        let schema = self.schema().await?;
        let def = schema.object(object)?.clone();
        let total = self.store.count_records(&def).await?;
        ctx.phase("measuring", u64::try_from(total).ok());
        let report = self.measure(&def, None, ctx).await?;
        ctx.go_on()?;
        ctx.phase("saving", None);
        let key = |id: Option<String>| id.unwrap_or_default();
        let day = self.clock.now().date_naive();
        let row = |scope: &str, key: String, summary: Summary| QualityDay {
            day,
            object: def.name.clone(),
            scope: scope.into(),
            key,
            summary,
        };
        let mut rows = vec![row("all", String::new(), report.overall)];
        rows.extend(
            report
                .by_owner
                .into_iter()
                .map(|(o, s)| row("owner", key(o.map(|o| o.to_string())), s)),
        );
        rows.extend(
            report
                .by_team
                .into_iter()
                .map(|(t, s)| row("team", key(t.map(|t| t.to_string())), s)),
        );
        self.store.save_quality_day(&def.name, day, &rows).await?;
        Ok(rows.len())
    }

    /// The kept days of an object's quality, oldest first, for the last `days` days: overall for
    /// those who import and review duplicates, otherwise the caller's own records'.
    pub async fn quality_trend(&self, who: &Principal, object: &str, days: u32) -> Result<Vec<QualityDay>> {
        let schema = self.authorize(who, Permission::ReadRecords).await?;
        let def = schema.object(object)?;
        let (scope, key) = if who.may(Permission::Import, &schema.policy) {
            ("all", String::new())
        } else {
            ("owner", who.user_id.to_string())
        };
        let since = self.clock.now().date_naive() - chrono::Duration::days(i64::from(days.min(3660)));
        self.store.quality_days(&def.name, scope, &key, since).await
    }

    /// The newest kept day of an object's quality, read rather than measured (measuring a
    /// million records takes seconds): every row for those who import and review duplicates;
    /// for everyone else their own row and their team's.
    pub async fn quality_board(&self, who: &Principal, object: &str) -> Result<QualityBoard> {
        let schema = self.authorize(who, Permission::ReadRecords).await?;
        let def = schema.object(object)?;
        let everyone = who.may(Permission::Import, &schema.policy);
        let own = who.user_id.to_string();
        let team = who.team.map(|t| t.to_string());
        let rows: Vec<QualityDay> = self
            .store
            .latest_quality_day(&def.name)
            .await?
            .into_iter()
            .filter(|r| {
                everyone || (r.scope == "owner" && r.key == own) || (r.scope == "team" && Some(&r.key) == team.as_ref())
            })
            .collect();
        Ok(QualityBoard {
            day: rows.first().map(|r| r.day),
            everyone,
            rows,
        })
    }

    /// The rules in force (the defaults until an administrator sets them).
    pub async fn quality_rules(&self) -> Result<QualityRules> {
        Ok(match self.store.setting(RULES_KEY).await? {
            Some(text) => serde_json::from_str(&text).unwrap_or_default(),
            None => QualityRules::default(),
        })
    }

    /// Set the rules (administrators).
    pub async fn set_quality_rules(&self, who: &Principal, body: serde_json::Value) -> Result<QualityRules> {
        let schema = self.authorize(who, Permission::ManageAccess).await?;
        let rules: QualityRules = crate::service::from_body(body)?;
        rules.check(&schema)?;
        let text = serde_json::to_string(&rules).map_err(|e| Error::internal(e.to_string()))?;
        self.store.put_setting(RULES_KEY, &text).await?;
        Ok(rules)
    }

    async fn open_duplicates(&self, object: &str) -> Result<HashSet<RecordId>> {
        let pairs = self.store.duplicate_pairs(object, PairStatus::Open, u32::MAX).await?;
        Ok(pairs.iter().flat_map(|p| [p.a, p.b]).collect())
    }

    /// Measure every record of an object the caller may see, summed overall, per owner and
    /// per team.
    pub async fn quality(&self, who: &Principal, object: &str) -> Result<QualityReport> {
        let schema = self.authorize(who, Permission::ReadRecords).await?;
        let def = schema.object(object)?.clone();
        let owners = self.visible_owners(who, &schema, &def.name).await?;
        self.measure(&def, owners, &JobCtx::detached()).await
    }

    /// Assess every record of an object the owners allow (`None`: all) and sum them overall,
    /// per owner and per team.
    async fn measure(&self, def: &ObjectDef, owners: Option<Vec<UserId>>, ctx: &JobCtx) -> Result<QualityReport> {
        let rules = self.quality_rules().await?;
        let duplicates = self.open_duplicates(&def.name).await?;
        let team_of: HashMap<UserId, Option<TeamId>> =
            self.store.users().await?.into_iter().map(|u| (u.id, u.team)).collect();
        let now = self.clock.now();
        let mut overall = Summary::default();
        let mut by_owner: BTreeMap<Option<UserId>, Summary> = BTreeMap::new();
        let mut by_team: BTreeMap<Option<TeamId>, Summary> = BTreeMap::new();
        self.each_record(def, None, owners, &mut |r| {
            let q = assess(def, &r, &rules, now, &duplicates);
            overall.add(&q);
            by_owner.entry(r.owner).or_default().add(&q);
            let team = r.owner.and_then(|o| team_of.get(&o).copied().flatten());
            by_team.entry(team).or_default().add(&q);
            ctx.advance(1);
        })
        .await?;
        Ok(QualityReport {
            object: def.name.clone(),
            overall: overall.finish(),
            by_owner: by_owner.into_iter().map(|(k, s)| (k, s.finish())).collect(),
            by_team: by_team.into_iter().map(|(k, s)| (k, s.finish())).collect(),
        })
    }

    /// The caller's own records of an object that have something to fix: how many, and the
    /// `limit` worst first.
    pub async fn fix_list(&self, who: &Principal, object: &str, limit: usize) -> Result<FixList> {
        let schema = self.authorize(who, Permission::ReadRecords).await?;
        let def = schema.object(object)?.clone();
        let rules = self.quality_rules().await?;
        let duplicates = self.open_duplicates(&def.name).await?;
        let now = self.clock.now();
        let mut out: Vec<(Record, RecordQuality)> = Vec::new();
        self.each_record(&def, None, Some(vec![who.user_id]), &mut |r| {
            let q = assess(&def, &r, &rules, now, &duplicates);
            if !q.problems.is_empty() {
                out.push((r, q));
            }
        })
        .await?;
        out.sort_by(|a, b| a.1.score.total_cmp(&b.1.score).then(a.0.id.cmp(&b.0.id)));
        let total = out.len();
        out.truncate(limit);
        Ok(FixList { total, worst: out })
    }
}
