//! The workspace's time zone: where its days, weeks, months and quarters begin. Reports bucket
//! datetimes by it and relative periods in filters ("this week", "last quarter") are worked out
//! in it, so a deal closed at 23:30 on 31 March in Stockholm counts in the first quarter there.

use crate::auth::{Permission, Principal};
use crate::error::{Error, Result};
use crate::service::Crm;
use chrono::{DateTime, Duration, NaiveDate, Offset, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

/// Where the setting is kept (the workspace's settings table).
pub const TIME_ZONE_KEY: &str = "time_zone";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeZoneSetting {
    /// An IANA zone name such as Europe/Stockholm.
    pub time_zone: String,
}

/// A zone by its IANA name, the field named when it is none.
pub fn parse_zone(name: &str, field: &str) -> Result<Tz> {
    name.parse::<Tz>()
        .map_err(|_| Error::field(field, format!("{name:?} is not a time zone such as Europe/Stockholm")))
}

/// The first instant of a local day in a zone (the day's first existing minute where a
/// change of clocks skips midnight).
pub fn start_of_day(zone: Tz, day: NaiveDate) -> DateTime<Utc> {
    let mut local = day.and_hms_opt(0, 0, 0).unwrap_or_default();
    for _ in 0..24 * 4 {
        if let Some(t) = zone.from_local_datetime(&local).earliest() {
            return t.with_timezone(&Utc);
        }
        local += Duration::minutes(15);
    }
    // A whole day skipped (Samoa, 30 December 2011): it begins where the next one does.
    match day.succ_opt() {
        Some(next) if next != day => start_of_day(zone, next),
        _ => Utc.from_utc_datetime(&local),
    }
}

/// Offsets from UTC in minutes, each with the instant from which it holds, oldest first.
pub type Offsets = Arc<Vec<(DateTime<Utc>, i32)>>;

/// A zone's offsets from UTC in minutes, each with the instant from which it holds, from 1900
/// to 2100: what a store needs to turn an instant into a local day in SQL (both databases from
/// the same table, so they agree to the minute).
pub fn offsets(zone: Tz) -> Offsets {
    static CACHE: OnceLock<Mutex<HashMap<Tz, Offsets>>> = OnceLock::new();
    let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
    if let Some(found) = cache.lock().ok().and_then(|c| c.get(&zone).cloned()) {
        return found;
    }
    let table = Arc::new(offset_table(zone));
    if let Ok(mut c) = cache.lock() {
        c.insert(zone, table.clone());
    }
    table
}

fn offset_at(zone: Tz, t: DateTime<Utc>) -> i32 {
    zone.offset_from_utc_datetime(&t.naive_utc()).fix().local_minus_utc() / 60
}

fn offset_table(zone: Tz) -> Vec<(DateTime<Utc>, i32)> {
    let first = Utc.with_ymd_and_hms(1900, 1, 1, 0, 0, 0).single().unwrap_or_default();
    let last = Utc.with_ymd_and_hms(2100, 1, 1, 0, 0, 0).single().unwrap_or_default();
    let mut table = vec![(first, offset_at(zone, first))];
    let mut at = first;
    let mut current = offset_at(zone, first);
    // Clocks change at most a few times a year and never twice in a day: a day's step finds
    // each change, a binary search within the day its minute.
    while at < last {
        let next = at + Duration::days(1);
        if offset_at(zone, next) != current {
            // In whole minutes: `lo` still has the old offset, `hi` the new.
            let (mut lo, mut hi) = (0_i64, 24 * 60);
            while hi - lo > 1 {
                let mid = (lo + hi) / 2;
                if offset_at(zone, at + Duration::minutes(mid)) == current {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            let hi = at + Duration::minutes(hi);
            let changed = offset_at(zone, hi);
            table.push((hi, changed));
            current = changed;
        }
        at = next;
    }
    table
}

impl Crm {
    /// The workspace's time zone: an administrator's choice, else UTC.
    pub async fn time_zone(&self) -> Result<Tz> {
        if let Some(text) = self.store.setting(TIME_ZONE_KEY).await?
            && let Ok(setting) = serde_json::from_str::<TimeZoneSetting>(&text)
            && let Ok(zone) = setting.time_zone.parse::<Tz>()
        {
            return Ok(zone);
        }
        Ok(Tz::UTC)
    }

    /// A filter checked against an object, with relative periods worked out now in the
    /// workspace's time zone and related records' fields (`company.city`) looked at only in
    /// the records the caller may see.
    pub(crate) async fn resolve_filter(
        &self,
        who: &Principal,
        filter: &crate::filter::Filter,
        object: &crate::meta::ObjectDef,
    ) -> Result<crate::filter::Condition> {
        let zone = if filter.names_period() {
            self.time_zone().await?
        } else {
            Tz::UTC
        };
        self.resolve_filter_in(who, filter, object, zone).await
    }

    /// [`Crm::resolve_filter`] with days beginning in a zone already known.
    pub(crate) async fn resolve_filter_in(
        &self,
        who: &Principal,
        filter: &crate::filter::Filter,
        object: &crate::meta::ObjectDef,
        zone: Tz,
    ) -> Result<crate::filter::Condition> {
        let schema = self.schema().await?;
        let condition = filter.resolve_related(&schema, object, self.clock.now(), zone)?;
        self.see_related(who, &schema, condition).await
    }

    /// The time zone, for anyone who may read records (it says where a report's days begin).
    pub async fn time_zone_for(&self, who: &Principal) -> Result<TimeZoneSetting> {
        self.authorize(who, Permission::ReadRecords).await?;
        Ok(TimeZoneSetting {
            time_zone: self.time_zone().await?.name().to_string(),
        })
    }

    /// Set the workspace's time zone (administrators).
    pub async fn set_time_zone(&self, who: &Principal, body: serde_json::Value) -> Result<TimeZoneSetting> {
        self.authorize(who, Permission::ManageAccess).await?;
        let setting: TimeZoneSetting = crate::service::from_body(body)?;
        let zone = parse_zone(&setting.time_zone, "time_zone")?;
        let setting = TimeZoneSetting {
            time_zone: zone.name().to_string(),
        };
        let text = serde_json::to_string(&setting).map_err(|e| Error::internal(e.to_string()))?;
        self.store.put_setting(TIME_ZONE_KEY, &text).await?;
        Ok(setting)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn the_offset_table_has_each_change_of_clocks_to_the_minute() {
        let table = offsets(chrono_tz::Europe::Stockholm);
        let lookup = |t: DateTime<Utc>| table.iter().rev().find(|(from, _)| *from <= t).map(|(_, o)| *o);
        assert_eq!(lookup(at("2026-03-29T00:59:00Z")), Some(60));
        assert_eq!(
            lookup(at("2026-03-29T01:00:00Z")),
            Some(120),
            "summer time from 01:00 UTC"
        );
        assert_eq!(lookup(at("2026-10-25T00:59:00Z")), Some(120));
        assert_eq!(lookup(at("2026-10-25T01:00:00Z")), Some(60));
        let kathmandu = offsets(chrono_tz::Asia::Kathmandu);
        assert_eq!(kathmandu.last().map(|(_, o)| *o), Some(345), "a quarter-hour zone");
        assert_eq!(offsets(Tz::UTC).len(), 1);
        for t in ["1950-06-01T12:00:00Z", "2000-01-01T00:00:00Z", "2099-07-01T00:00:00Z"] {
            let zone = chrono_tz::America::New_York;
            let table = offsets(zone);
            let found = table.iter().rev().find(|(from, _)| *from <= at(t)).map(|(_, o)| *o);
            assert_eq!(found, Some(offset_at(zone, at(t))), "{t}");
        }
    }

    #[test]
    fn a_day_starts_at_its_first_local_minute() {
        let stockholm = chrono_tz::Europe::Stockholm;
        let d = NaiveDate::from_ymd_opt(2026, 7, 1).unwrap();
        assert_eq!(start_of_day(stockholm, d), at("2026-06-30T22:00:00Z"));
        // Santiago skips midnight when summer time starts.
        let santiago = chrono_tz::America::Santiago;
        let d = NaiveDate::from_ymd_opt(2026, 9, 6).unwrap();
        assert_eq!(start_of_day(santiago, d), at("2026-09-06T04:00:00Z"));
    }

    #[test]
    fn a_zone_that_is_none_is_named() {
        let e = parse_zone("Mars/Olympus", "time_zone").unwrap_err();
        assert_eq!(e.errors[0].field, "time_zone");
    }
}
