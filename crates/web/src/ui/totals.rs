//! A sum of money across records as the pages show it: one figure in the reporting currency,
//! the amounts in their own currencies on demand, and a warning naming any currency that had
//! no exchange rate (left out of the figure, never guessed).

use super::format;
use crate::i18n::Tr;
use anchora_core::currency::Converted;
use std::collections::BTreeMap;

pub struct MoneyTotal {
    /// The figure in the reporting currency ("≈" before it when some of it was converted).
    pub text: String,
    pub minor: i64,
    pub currency: String,
    /// Each currency's own amount, shown when there is more than the reporting currency.
    pub breakdown: Vec<(String, i64, String)>,
    /// Says which amounts are missing from `text`, and why; empty when none are.
    pub missing: String,
}

impl MoneyTotal {
    pub fn new(tr: &Tr, reporting: &str, amounts: &BTreeMap<String, i64>, total: &Converted) -> Self {
        let money = |minor: i64, code: &str| {
            let code = if code.is_empty() { reporting } else { code };
            format::money(tr.locale, minor, Some(code))
        };
        let figure = money(total.minor, reporting);
        let text = if total.converted {
            format!("≈\u{a0}{figure}")
        } else {
            figure
        };
        let foreign = amounts.keys().any(|c| !c.is_empty() && c != reporting);
        let breakdown = if foreign {
            amounts
                .iter()
                .map(|(code, minor)| (code.clone(), *minor, money(*minor, code)))
                .collect()
        } else {
            Vec::new()
        };
        let missing = if total.without_rate.is_empty() {
            String::new()
        } else {
            let left_out: Vec<String> = total
                .without_rate
                .iter()
                .map(|code| money(amounts.get(code).copied().unwrap_or(0), code))
                .collect();
            tr.tn(
                "money-left-out",
                &[
                    ("amounts", left_out.join(", ")),
                    ("currencies", total.without_rate.join(", ")),
                ],
            )
        };
        MoneyTotal {
            text,
            minor: total.minor,
            currency: reporting.to_string(),
            breakdown,
            missing,
        }
    }
}
