//! The rule of thirds (B8): effort planned and spent on the business, on organisational
//! anchoring, and on the system should be about equal; warn when the system takes more than
//! its share (by default half), because then the business and the people are being skipped.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Area {
    Business,
    Anchoring,
    System,
}

impl Area {
    pub const ALL: [Area; 3] = [Area::Business, Area::Anchoring, Area::System];

    pub fn as_str(self) -> &'static str {
        match self {
            Area::Business => "business",
            Area::Anchoring => "anchoring",
            Area::System => "system",
        }
    }
}

/// Hours and money (minor units) on one area.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Effort {
    pub hours: f64,
    pub money: i64,
}

impl std::ops::AddAssign for Effort {
    fn add_assign(&mut self, o: Effort) {
        self.hours += o.hours;
        self.money = self.money.saturating_add(o.money);
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Split {
    pub business: Effort,
    pub anchoring: Effort,
    pub system: Effort,
}

impl Split {
    pub fn add(&mut self, area: Area, effort: Effort) {
        match area {
            Area::Business => self.business += effort,
            Area::Anchoring => self.anchoring += effort,
            Area::System => self.system += effort,
        }
    }

    /// Each area's share of the hours (or of the money when no hours are recorded).
    pub fn shares(&self) -> [f64; 3] {
        let hours = [self.business.hours, self.anchoring.hours, self.system.hours];
        #[allow(clippy::cast_precision_loss)]
        let money = [
            self.business.money as f64,
            self.anchoring.money as f64,
            self.system.money as f64,
        ];
        let pick = if hours.iter().sum::<f64>() > 0.0 { hours } else { money };
        let total: f64 = pick.iter().sum();
        if total <= 0.0 {
            return [0.0; 3];
        }
        pick.map(|v| v / total)
    }
}

/// The verdict on planned and actual effort.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Thirds {
    pub planned: Split,
    pub actual: Split,
    pub max_system_share: f64,
    pub planned_warning: bool,
    pub actual_warning: bool,
}

pub const DEFAULT_MAX_SYSTEM_SHARE: f64 = 0.5;

pub fn judge(planned: Split, actual: Split, max_system_share: f64) -> Thirds {
    let over = |s: &Split| s.shares()[2] > max_system_share + f64::EPSILON;
    Thirds {
        planned_warning: over(&planned),
        actual_warning: over(&actual),
        planned,
        actual,
        max_system_share,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hours(h: f64) -> Effort {
        Effort { hours: h, money: 0 }
    }

    #[test]
    fn warns_when_the_system_takes_more_than_half() {
        let mut planned = Split::default();
        planned.add(Area::Business, hours(100.0));
        planned.add(Area::Anchoring, hours(100.0));
        planned.add(Area::System, hours(100.0));
        let mut actual = Split::default();
        actual.add(Area::Business, hours(20.0));
        actual.add(Area::Anchoring, hours(10.0));
        actual.add(Area::System, hours(70.0));
        let t = judge(planned, actual, DEFAULT_MAX_SYSTEM_SHARE);
        assert!(!t.planned_warning);
        assert!(t.actual_warning);
        let s = t.actual.shares();
        assert!((s[2] - 0.7).abs() < 1e-9);
        // The threshold is the project's own.
        assert!(!judge(planned, actual, 0.75).actual_warning);
    }

    #[test]
    fn money_counts_when_no_hours_are_recorded_and_nothing_is_no_warning() {
        let mut s = Split::default();
        s.add(Area::System, Effort { hours: 0.0, money: 900 });
        s.add(Area::Business, Effort { hours: 0.0, money: 100 });
        assert!((s.shares()[2] - 0.9).abs() < 1e-9);
        let empty = judge(Split::default(), Split::default(), 0.5);
        assert!(!empty.planned_warning && !empty.actual_warning);
    }
}
