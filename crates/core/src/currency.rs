//! Money in one reporting currency. Deals keep their own currency; where amounts are added up
//! across records (a board column, the start page's pipeline, later reports and forecasts) they
//! are converted to the workspace's reporting currency with the exchange rates an
//! administrator keeps. An amount whose currency has no rate is never guessed: it is left out
//! of the converted sum and named, and the per-currency breakdown is always there beside it.

use crate::auth::{Permission, Principal};
use crate::error::{Error, FieldError, Result};
use crate::meta::FieldType;
use crate::query::AggregateRow;
use crate::service::Crm;
use crate::value::Value;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Where the settings are kept (the workspace's settings table).
pub const CURRENCY_KEY: &str = "currency";

/// Rates beyond this are typing mistakes, not currencies (the largest real cross rates are in
/// the tens of thousands).
const MAX_RATE: f64 = 1_000_000.0;

/// The reporting currency used when an administrator has set none and no deal currency exists.
const FALLBACK: &str = "EUR";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CurrencySettings {
    /// ISO 4217 code every sum is shown in.
    pub reporting: String,
    /// Currency → how many units of the reporting currency one unit of it is worth.
    #[serde(default)]
    pub rates: BTreeMap<String, f64>,
}

fn is_code(code: &str) -> bool {
    code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase())
}

impl CurrencySettings {
    /// Every code a currency code and every rate within bounds, each mistake by its field.
    pub fn check(&self) -> Result<()> {
        let mut errors = Vec::new();
        if !is_code(&self.reporting) {
            errors.push(FieldError::new(
                "reporting",
                "must be a three-letter currency code such as EUR",
            ));
        }
        for (code, rate) in &self.rates {
            let field = format!("rates.{code}");
            if !is_code(code) {
                errors.push(FieldError::new(
                    field,
                    "must be a three-letter currency code such as EUR",
                ));
            } else if !(rate.is_finite() && *rate > 0.0 && *rate <= MAX_RATE) {
                errors.push(FieldError::new(field, "must be a number above 0 and at most 1000000"));
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(Error::validation(errors))
        }
    }

    /// Units of the reporting currency per unit of `code`. An amount without a currency has
    /// none: what it is worth is not known, so it is named, never counted as reporting money.
    pub fn rate(&self, code: &str) -> Option<f64> {
        if code == self.reporting {
            Some(1.0)
        } else {
            self.rates.get(code).copied()
        }
    }

    /// The same rates given in another reporting currency (`new(X) = old(X) / old(new)`), for
    /// an administrator who changes the reporting currency after typing rates into the old
    /// one; `None` when the new one has no rate to go by.
    pub fn rebased(&self, reporting: &str) -> Option<CurrencySettings> {
        let pivot = self.rate(reporting)?;
        let mut rates: BTreeMap<String, f64> = self
            .rates
            .iter()
            .filter(|(code, _)| code.as_str() != reporting)
            .map(|(code, rate)| (code.clone(), rate / pivot))
            .collect();
        if self.reporting != reporting {
            rates.insert(self.reporting.clone(), 1.0 / pivot);
        }
        Some(CurrencySettings {
            reporting: reporting.to_string(),
            rates,
        })
    }

    /// Amounts per currency (minor units) as one sum in the reporting currency.
    pub fn convert(&self, amounts: &BTreeMap<String, i64>) -> Converted {
        let mut sum = 0.0;
        let mut without_rate = Vec::new();
        let mut converted = false;
        for (code, minor) in amounts {
            if *minor == 0 {
                continue;
            }
            match self.rate(code) {
                #[allow(clippy::cast_precision_loss)]
                Some(rate) => {
                    sum += *minor as f64 * rate;
                    converted |= *code != self.reporting;
                }
                None => without_rate.push(code.clone()),
            }
        }
        #[allow(clippy::cast_possible_truncation)]
        let minor = sum.round() as i64;
        Converted {
            minor,
            converted,
            without_rate,
        }
    }
}

/// A sum in the reporting currency.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Converted {
    /// In minor units of the reporting currency.
    pub minor: i64,
    /// Whether some of it was converted from another currency (so it is an estimate).
    pub converted: bool,
    /// Currencies with amounts but no rate: left out of `minor`.
    pub without_rate: Vec<String>,
}

/// One group's records: how many, and their amounts per currency.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GroupTotal {
    pub count: i64,
    /// Currency → amount in minor units, in the records' own currencies.
    pub amounts: BTreeMap<String, i64>,
}

/// Aggregate rows grouped by (a picklist, the currency) as one total per picklist value.
pub fn totals_by_first_key(rows: &[AggregateRow]) -> BTreeMap<String, GroupTotal> {
    let text = |v: Option<&Value>| match v {
        Some(Value::Select(s)) => s.clone(),
        _ => String::new(),
    };
    let mut totals: BTreeMap<String, GroupTotal> = BTreeMap::new();
    for row in rows {
        let total = totals.entry(text(row.keys.first())).or_default();
        total.count += row.count;
        if let Some(sum) = row.sum {
            #[allow(clippy::cast_possible_truncation)]
            let minor = sum.round() as i64;
            *total.amounts.entry(text(row.keys.get(1))).or_default() += minor;
        }
    }
    for total in totals.values_mut() {
        total.amounts.retain(|_, minor| *minor != 0);
    }
    totals
}

/// An object's records grouped by a picklist, with their money in the reporting currency.
#[derive(Debug, Clone, Default)]
pub struct MoneyByGroup {
    pub currency: Option<CurrencySettings>,
    /// Picklist value → its records' count and amounts, and the amounts converted.
    pub groups: BTreeMap<String, (GroupTotal, Converted)>,
}

impl Crm {
    /// Count an object's records by a picklist and add up their money (its first money field,
    /// in the currency its `currency` picklist names), over every record the caller may see.
    pub async fn money_by(&self, who: &Principal, object: &str, by: &str) -> Result<MoneyByGroup> {
        let (_, def) = self.object(object).await?;
        let money = def.active_fields().find(|f| f.field_type == FieldType::Money);
        let has_currency = def
            .active_fields()
            .any(|f| f.field_type == FieldType::Select && f.name == "currency");
        let group: Vec<&str> = if has_currency && money.is_some() {
            vec![by, "currency"]
        } else {
            vec![by]
        };
        let rows = self
            .aggregate(who, object, &group, money.map(|m| m.name.as_str()), None)
            .await?;
        // Without a currency picklist the money is plain amounts: added up as they are.
        let currency = match (money, has_currency) {
            (Some(_), true) => Some(self.currency_settings().await?),
            _ => None,
        };
        let groups = totals_by_first_key(&rows)
            .into_iter()
            .map(|(value, total)| {
                let converted = match &currency {
                    Some(c) => c.convert(&total.amounts),
                    None => Converted {
                        minor: total.amounts.values().sum(),
                        ..Converted::default()
                    },
                };
                (value, (total, converted))
            })
            .collect();
        Ok(MoneyByGroup { currency, groups })
    }

    /// The reporting currency and rates in force: an administrator's, else the first currency
    /// deals offer, without rates.
    pub async fn currency_settings(&self) -> Result<CurrencySettings> {
        if let Some(text) = self.store.setting(CURRENCY_KEY).await?
            && let Ok(settings) = serde_json::from_str::<CurrencySettings>(&text)
        {
            return Ok(settings);
        }
        let schema = self.store.schema().await?;
        let first = schema
            .objects
            .get("deal")
            .and_then(|d| d.field("currency"))
            .and_then(|f| f.choices.first())
            .map_or_else(|| FALLBACK.to_string(), |c| c.value.clone());
        Ok(CurrencySettings {
            reporting: first,
            rates: BTreeMap::new(),
        })
    }

    /// The settings, for anyone who may read records (they say what sums mean).
    pub async fn currency_settings_for(&self, who: &Principal) -> Result<CurrencySettings> {
        self.authorize(who, Permission::ReadRecords).await?;
        self.currency_settings().await
    }

    /// Set the reporting currency and rates (administrators). A rate for the reporting
    /// currency itself is dropped: it is 1 by definition.
    pub async fn set_currency_settings(&self, who: &Principal, body: serde_json::Value) -> Result<CurrencySettings> {
        self.authorize(who, Permission::ManageAccess).await?;
        let mut settings: CurrencySettings = crate::service::from_body(body)?;
        settings.check()?;
        let reporting = settings.reporting.clone();
        settings.rates.remove(&reporting);
        let text = serde_json::to_string(&settings).map_err(|e| Error::internal(e.to_string()))?;
        self.store.put_setting(CURRENCY_KEY, &text).await?;
        Ok(settings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> CurrencySettings {
        CurrencySettings {
            reporting: "SEK".into(),
            rates: BTreeMap::from([("EUR".into(), 11.5), ("USD".into(), 10.25)]),
        }
    }

    #[test]
    fn amounts_convert_with_the_rates_and_a_missing_rate_is_named_not_guessed() {
        let amounts = BTreeMap::from([
            ("SEK".to_string(), 100_000),
            ("EUR".to_string(), 1_000),
            ("NOK".to_string(), 5_000),
            (String::new(), 50),
        ]);
        let c = settings().convert(&amounts);
        assert_eq!(c.minor, 100_000 + 11_500);
        assert!(c.converted);
        assert_eq!(
            c.without_rate,
            vec![String::new(), "NOK".to_string()],
            "no currency is no rate"
        );
        let only_sek = settings().convert(&BTreeMap::from([("SEK".to_string(), 7)]));
        assert_eq!((only_sek.minor, only_sek.converted), (7, false));
    }

    #[test]
    fn rates_typed_into_one_reporting_currency_carry_over_to_another() {
        let eur = settings().rebased("EUR").unwrap();
        assert_eq!(eur.reporting, "EUR");
        assert!((eur.rates["SEK"] - 1.0 / 11.5).abs() < 1e-12);
        assert!((eur.rates["USD"] - 10.25 / 11.5).abs() < 1e-12);
        assert!(!eur.rates.contains_key("EUR"));
        let back = eur.rebased("SEK").unwrap();
        assert!((back.rates["EUR"] - 11.5).abs() < 1e-9 && (back.rates["USD"] - 10.25).abs() < 1e-9);
        assert_eq!(settings().rebased("NOK"), None, "no rate to go by");
        assert_eq!(settings().rebased("SEK"), Some(settings()));
    }

    #[test]
    fn bad_codes_and_rates_are_named_by_their_field() {
        let mut s = settings();
        s.reporting = "sek".into();
        s.rates.insert("NOK".into(), 0.0);
        s.rates.insert("EURO".into(), 1.0);
        let e = s.check().unwrap_err();
        let fields: Vec<&str> = e.errors.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["reporting", "rates.EURO", "rates.NOK"]);
        let mut huge = settings();
        huge.rates.insert("JPY".into(), f64::INFINITY);
        assert_eq!(huge.check().unwrap_err().errors[0].field, "rates.JPY");
    }

    #[test]
    fn rows_by_value_and_currency_become_one_total_per_value() {
        let row = |key: &str, currency: &str, count: i64, sum: f64| AggregateRow {
            keys: vec![Value::Select(key.into()), Value::Select(currency.into())],
            count,
            sum: Some(sum),
        };
        let totals = totals_by_first_key(&[
            row("lead", "SEK", 2, 100_000.0),
            row("lead", "EUR", 1, 20_000.0),
            row("proposal", "EUR", 1, 0.0),
        ]);
        assert_eq!(totals["lead"].count, 3);
        assert_eq!(totals["lead"].amounts["EUR"], 20_000);
        assert_eq!(totals["proposal"].count, 1);
        assert!(totals["proposal"].amounts.is_empty());
    }
}
