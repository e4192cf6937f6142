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
    /// `reporting` is empty for an object whose money has no currency picklist: its sums are
    /// plain amounts.
    pub fn new(tr: &Tr, reporting: &str, amounts: &BTreeMap<String, i64>, total: &Converted) -> Self {
        // An amount without a currency says so instead of borrowing one.
        let money = |minor: i64, code: &str| {
            let amount = format::money(tr.locale, minor, (!code.is_empty()).then_some(code));
            if code.is_empty() && !reporting.is_empty() {
                tr.t1("money-no-currency", "amount", amount)
            } else {
                amount
            }
        };
        let figure = money(total.minor, reporting);
        let text = if total.converted {
            format!("≈\u{a0}{figure}")
        } else {
            figure
        };
        let foreign = !reporting.is_empty() && amounts.keys().any(|c| c != reporting);
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
                .map(|code| {
                    let minor = amounts.get(code).copied().unwrap_or(0);
                    format::money(tr.locale, minor, (!code.is_empty()).then_some(code.as_str()))
                })
                .collect();
            let reasons: Vec<String> = total
                .without_rate
                .iter()
                .map(|code| {
                    if code.is_empty() {
                        tr.t("money-reason-no-currency")
                    } else {
                        tr.t1("money-reason-no-rate", "currency", code.clone())
                    }
                })
                .collect();
            tr.tn(
                "money-left-out",
                &[("amounts", left_out.join(", ")), ("reasons", reasons.join(", "))],
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
