//! The living plan (B9): tasks and milestones with finish-to-start dependencies, the critical
//! path, and a forecast of the finish date from progress (earned schedule).
//!
//! Earned schedule (Lipke): the plan's value curve PV(t) is the planned effort due by day t;
//! earned value EV is the planned effort of the work done (effort × percent done). The earned
//! schedule ES is the day on which the plan expected today's EV; SPI(t) = ES / AT (actual time
//! elapsed). The forecast duration is the planned duration / SPI(t).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// One task (a milestone is a task of zero length).
#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    pub id: u32,
    pub name: String,
    pub start: NaiveDate,
    /// Inclusive: a one-day task starts and finishes on the same day.
    pub finish: NaiveDate,
    pub planned_hours: f64,
    /// 0–100.
    pub percent_done: f64,
    pub milestone: bool,
}

impl Task {
    /// Length in days (milestones: 0).
    pub fn days(&self) -> i64 {
        if self.milestone {
            0
        } else {
            (self.finish - self.start).num_days() + 1
        }
    }
}

/// `before` must finish before `after` starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Dependency {
    pub before: u32,
    pub after: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlanError {
    UnknownTask(u32),
    /// The tasks of a cycle, in order, the first repeated at the end.
    Cycle(Vec<u32>),
}

impl std::fmt::Display for PlanError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PlanError::UnknownTask(id) => write!(f, "no task {id}"),
            PlanError::Cycle(path) => {
                let p: Vec<String> = path.iter().map(u32::to_string).collect();
                write!(f, "the dependencies form a cycle: {}", p.join(" → "))
            }
        }
    }
}

/// The tasks in an order where every task comes after those it depends on; a cycle is named.
pub fn topological_order(tasks: &[Task], deps: &[Dependency]) -> Result<Vec<u32>, PlanError> {
    let index: HashMap<u32, usize> = tasks.iter().enumerate().map(|(i, t)| (t.id, i)).collect();
    let mut next: Vec<Vec<usize>> = vec![Vec::new(); tasks.len()];
    for d in deps {
        let a = *index.get(&d.before).ok_or(PlanError::UnknownTask(d.before))?;
        let b = *index.get(&d.after).ok_or(PlanError::UnknownTask(d.after))?;
        if let Some(list) = next.get_mut(a) {
            list.push(b);
        }
    }
    // Depth-first, iterative: 0 = unvisited, 1 = on the path, 2 = done.
    let mut state = vec![0u8; tasks.len()];
    let mut order = Vec::with_capacity(tasks.len());
    for root in 0..tasks.len() {
        if state.get(root) != Some(&0) {
            continue;
        }
        let mut stack: Vec<(usize, usize)> = vec![(root, 0)];
        if let Some(s) = state.get_mut(root) {
            *s = 1;
        }
        while let Some(&mut (node, ref mut child)) = stack.last_mut() {
            let children = next.get(node).map_or(&[][..], Vec::as_slice);
            if let Some(&c) = children.get(*child) {
                *child += 1;
                match state.get(c) {
                    Some(0) => {
                        if let Some(s) = state.get_mut(c) {
                            *s = 1;
                        }
                        stack.push((c, 0));
                    }
                    Some(1) => {
                        let from = stack.iter().position(|(n, _)| *n == c).unwrap_or(0);
                        let mut path: Vec<u32> = stack
                            .get(from..)
                            .unwrap_or(&[])
                            .iter()
                            .filter_map(|(n, _)| tasks.get(*n).map(|t| t.id))
                            .collect();
                        path.extend(tasks.get(c).map(|t| t.id));
                        return Err(PlanError::Cycle(path));
                    }
                    _ => {}
                }
            } else {
                if let Some(s) = state.get_mut(node) {
                    *s = 2;
                }
                order.push(node);
                stack.pop();
            }
        }
    }
    order.reverse();
    Ok(order.into_iter().filter_map(|i| tasks.get(i).map(|t| t.id)).collect())
}

/// Each task's float and whether it is on the critical path, by the critical path method over
/// the tasks' own durations and dependencies (working days, Monday to Friday; a task may not
/// start before its own planned start).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Schedule {
    pub earliest_start: HashMap<u32, NaiveDate>,
    pub earliest_finish: HashMap<u32, NaiveDate>,
    pub float_days: HashMap<u32, i64>,
    /// Working days a task's predecessors push it past its own planned finish (0 or more).
    pub slip_days: HashMap<u32, i64>,
    pub critical: Vec<u32>,
    pub finish: Option<NaiveDate>,
}

/// Working days (Monday to Friday) counted from a fixed Monday, so a task that ends on a Friday
/// and one that starts the Monday after are back to back, as in any planning tool's standard
/// calendar.
#[derive(Clone, Copy)]
struct Calendar {
    monday: NaiveDate,
}

impl Calendar {
    fn new(origin: NaiveDate) -> Self {
        use chrono::Datelike;
        let back = u64::from(origin.weekday().num_days_from_monday());
        Self {
            monday: origin.checked_sub_days(chrono::Days::new(back)).unwrap_or(origin),
        }
    }

    /// Working days in [monday, d): a Saturday, a Sunday and the Monday after share one number.
    fn index(self, d: NaiveDate) -> i64 {
        let x = (d - self.monday).num_days();
        x.div_euclid(7) * 5 + x.rem_euclid(7).min(5)
    }

    /// Working days in [monday, d]: where work that ends on `d` has ended (a Friday and the
    /// weekend after it share one number).
    fn through(self, d: NaiveDate) -> i64 {
        let x = (d - self.monday).num_days() + 1;
        x.div_euclid(7) * 5 + x.rem_euclid(7).min(5)
    }

    /// The date of working day `n`.
    fn date(self, n: i64) -> NaiveDate {
        let days = n.div_euclid(5) * 7 + n.rem_euclid(5);
        self.monday
            .checked_add_signed(chrono::Duration::days(days))
            .unwrap_or(NaiveDate::MAX)
    }

    /// Where a task may start at the earliest, by its own date. A milestone is a moment at
    /// the end of its day: it sits where the work of that day ends.
    fn lower_bound(self, t: &Task) -> i64 {
        if t.milestone {
            self.through(t.start)
        } else {
            self.index(t.start)
        }
    }

    /// The working days a task occupies; a milestone none, so what follows a milestone on a
    /// Friday may start on the Monday.
    fn span(self, t: &Task) -> i64 {
        if t.milestone {
            return 0;
        }
        (self.through(t.finish) - self.index(t.start)).max(1)
    }

    /// Where the task's own plan has it end.
    fn planned_end(self, t: &Task) -> i64 {
        if t.milestone {
            self.through(t.start)
        } else {
            self.through(t.finish)
        }
    }
}

pub fn schedule(tasks: &[Task], deps: &[Dependency]) -> Result<Schedule, PlanError> {
    let order = topological_order(tasks, deps)?;
    let by_id: HashMap<u32, &Task> = tasks.iter().map(|t| (t.id, t)).collect();
    let mut preds: HashMap<u32, Vec<u32>> = HashMap::new();
    let mut succs: HashMap<u32, Vec<u32>> = HashMap::new();
    for d in deps {
        preds.entry(d.after).or_default().push(d.before);
        succs.entry(d.before).or_default().push(d.after);
    }
    // Day numbers relative to the earliest start of the plan.
    let Some(origin) = tasks.iter().map(|t| t.start).min() else {
        return Ok(Schedule {
            earliest_start: HashMap::new(),
            earliest_finish: HashMap::new(),
            float_days: HashMap::new(),
            slip_days: HashMap::new(),
            critical: Vec::new(),
            finish: None,
        });
    };
    let cal = Calendar::new(origin);
    let span = |t: &Task| cal.span(t);
    let mut es: HashMap<u32, i64> = HashMap::new();
    let mut ef: HashMap<u32, i64> = HashMap::new();
    for id in &order {
        let Some(t) = by_id.get(id) else { continue };
        let after_preds = preds
            .get(id)
            .map(|p| p.iter().filter_map(|x| ef.get(x)).copied().max().unwrap_or(i64::MIN))
            .unwrap_or(i64::MIN);
        let start = cal.lower_bound(t).max(after_preds);
        es.insert(*id, start);
        ef.insert(*id, start + span(t));
    }
    let end = ef.values().copied().max().unwrap_or(0);
    let mut lf: HashMap<u32, i64> = HashMap::new();
    let mut float = HashMap::new();
    for id in order.iter().rev() {
        let latest_finish = succs
            .get(id)
            .map(|s| {
                s.iter()
                    .filter_map(|x| lf.get(x).zip(by_id.get(x)).map(|(f, st)| f - span(st)))
                    .min()
                    .unwrap_or(end)
            })
            .unwrap_or(end);
        lf.insert(*id, latest_finish);
        float.insert(*id, latest_finish - ef.get(id).copied().unwrap_or(0));
    }
    let date = |n: i64| cal.date(n);
    let critical = order.iter().filter(|id| float.get(id) == Some(&0)).copied().collect();
    let is_milestone = |k: &u32| by_id.get(k).is_some_and(|t| t.milestone);
    Ok(Schedule {
        // A milestone's day is the last working day before the moment it marks.
        earliest_start: es
            .iter()
            .map(|(k, v)| (*k, date(if is_milestone(k) { v - 1 } else { *v })))
            .collect(),
        // Finish is the last day worked: the exclusive end minus one.
        earliest_finish: ef.iter().map(|(k, v)| (*k, date(v - 1))).collect(),
        float_days: float,
        slip_days: ef
            .iter()
            .filter_map(|(k, v)| by_id.get(k).map(|t| (*k, (v - cal.planned_end(t)).max(0))))
            .collect(),
        critical,
        finish: Some(date(end - 1).max(origin)),
    })
}

/// Where the project stands and when it will finish at the pace so far.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Forecast {
    pub planned_start: NaiveDate,
    pub planned_finish: NaiveDate,
    /// Share of the planned effort earned (0–1).
    pub percent_complete: f64,
    /// Every task is done.
    pub complete: bool,
    /// The day by which the plan expected today's progress.
    pub earned_schedule: NaiveDate,
    /// Schedule performance index SPI(t): above 1 ahead, below 1 behind.
    pub spi: f64,
    pub forecast_finish: NaiveDate,
    pub slip_days: i64,
}

/// Earned-schedule forecast on `today`. `None` for an empty plan, and while nothing is earned:
/// with no progress reported there is no pace to extrapolate from.
pub fn forecast(tasks: &[Task], today: NaiveDate) -> Option<Forecast> {
    let start = tasks.iter().map(|t| t.start).min()?;
    let finish = tasks.iter().map(|t| t.finish).max()?;
    let total: f64 = tasks.iter().map(|t| t.planned_hours).sum();
    let earned: f64 = tasks
        .iter()
        .map(|t| t.planned_hours * t.percent_done.clamp(0.0, 100.0) / 100.0)
        .sum();
    if earned <= 0.0 {
        return None;
    }
    // Planned value by the end of day n (days since start), spread evenly over each task.
    let pv = |n: i64| -> f64 {
        let at = start + chrono::Duration::days(n);
        tasks
            .iter()
            .map(|t| {
                let days = t.days().max(1);
                #[allow(clippy::cast_precision_loss)]
                let done_days = ((at - t.start).num_days() + 1).clamp(0, days) as f64;
                #[allow(clippy::cast_precision_loss)]
                let share = done_days / days as f64;
                t.planned_hours * share
            })
            .sum()
    };
    let planned_days = (finish - start).num_days() + 1;
    // ES: whole days whose PV ≤ EV, plus the fraction into the next day.
    let mut lo = -1i64;
    let mut hi = planned_days - 1;
    while lo < hi {
        let mid = lo + (hi - lo + 1) / 2;
        if pv(mid) <= earned + 1e-9 {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    let before = if lo < 0 { 0.0 } else { pv(lo) };
    let after = pv(lo + 1);
    #[allow(clippy::cast_precision_loss)]
    let es = (lo + 1) as f64
        + if after > before {
            (earned - before) / (after - before)
        } else {
            0.0
        };
    #[allow(clippy::cast_precision_loss)]
    let actual = ((today - start).num_days() + 1).max(1) as f64;
    let complete = total > 0.0 && earned >= total - 1e-9;
    let spi = (es / actual).max(0.01);
    #[allow(clippy::cast_precision_loss)]
    let forecast_days = (planned_days as f64 / spi).ceil();
    // Done: nothing is left to extrapolate. Tasks carry no completion dates, so a plan done
    // early finished by today, and one done late is shown on its planned finish (the slip is
    // history by then; the status reports kept at the time tell it).
    #[allow(clippy::cast_possible_truncation)]
    let forecast_finish = if complete {
        today.min(finish)
    } else {
        start
            .checked_add_signed(chrono::Duration::days(forecast_days.min(36_500.0) as i64 - 1))
            .unwrap_or(finish)
    };
    #[allow(clippy::cast_possible_truncation)]
    let es_day = start
        .checked_add_signed(chrono::Duration::days((es.floor() as i64 - 1).max(0)))
        .unwrap_or(finish);
    Some(Forecast {
        planned_start: start,
        planned_finish: finish,
        percent_complete: if total > 0.0 { earned / total } else { 0.0 },
        complete,
        earned_schedule: es_day,
        spi,
        forecast_finish,
        slip_days: (forecast_finish - finish).num_days(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn task(id: u32, start: &str, finish: &str, hours: f64, done: f64) -> Task {
        Task {
            id,
            name: format!("t{id}"),
            start: d(start),
            finish: d(finish),
            planned_hours: hours,
            percent_done: done,
            milestone: false,
        }
    }

    fn dep(before: u32, after: u32) -> Dependency {
        Dependency { before, after }
    }

    #[test]
    fn cycles_are_refused_with_their_path() {
        let tasks = vec![
            task(1, "2026-01-05", "2026-01-09", 10.0, 0.0),
            task(2, "2026-01-12", "2026-01-16", 10.0, 0.0),
            task(3, "2026-01-19", "2026-01-23", 10.0, 0.0),
        ];
        assert_eq!(topological_order(&tasks, &[dep(1, 2), dep(2, 3)]).unwrap(), [1, 2, 3]);
        let e = topological_order(&tasks, &[dep(1, 2), dep(2, 3), dep(3, 1)]).unwrap_err();
        assert_eq!(e, PlanError::Cycle(vec![1, 2, 3, 1]));
        assert_eq!(e.to_string(), "the dependencies form a cycle: 1 → 2 → 3 → 1");
        assert_eq!(
            topological_order(&tasks, &[dep(2, 2)]).unwrap_err(),
            PlanError::Cycle(vec![2, 2])
        );
        assert_eq!(
            topological_order(&tasks, &[dep(1, 9)]).unwrap_err(),
            PlanError::UnknownTask(9)
        );
    }

    #[test]
    fn critical_path_and_float_in_working_days() {
        // 1 (Mon–Fri) → 2 (next Mon–Fri) → 4 (Mon); 1 → 3 (Mon–Tue) → 4. The weekends between
        // are not float: Friday's end and Monday's start are back to back.
        let tasks = vec![
            task(1, "2026-01-05", "2026-01-09", 40.0, 0.0),
            task(2, "2026-01-12", "2026-01-16", 40.0, 0.0),
            task(3, "2026-01-12", "2026-01-13", 16.0, 0.0),
            task(4, "2026-01-19", "2026-01-19", 8.0, 0.0),
        ];
        let deps = [dep(1, 2), dep(1, 3), dep(2, 4), dep(3, 4)];
        let s = schedule(&tasks, &deps).unwrap();
        assert_eq!(s.critical, [1, 2, 4]);
        assert_eq!(s.float_days[&3], 3, "Wednesday to Friday");
        assert_eq!(s.finish, Some(d("2026-01-19")));
        // A slipping predecessor pushes its successors, over the weekend.
        let mut late = tasks.clone();
        late[0].finish = d("2026-01-12");
        let s = schedule(&late, &deps).unwrap();
        assert_eq!(s.earliest_start[&2], d("2026-01-13"));
        assert_eq!(s.earliest_finish[&2], d("2026-01-19"));
        assert_eq!(s.finish, Some(d("2026-01-20")));
        // A milestone takes its day; what follows starts the next working day.
        let with_milestone = vec![
            task(1, "2026-01-05", "2026-01-09", 40.0, 0.0),
            Task {
                milestone: true,
                ..task(2, "2026-01-09", "2026-01-09", 0.0, 0.0)
            },
            task(3, "2026-01-12", "2026-01-16", 40.0, 0.0),
        ];
        let s = schedule(&with_milestone, &[dep(1, 2), dep(2, 3)]).unwrap();
        assert_eq!(
            s.earliest_start[&2],
            d("2026-01-09"),
            "the milestone marks Friday's end"
        );
        assert_eq!(s.earliest_start[&3], d("2026-01-12"), "what follows starts on Monday");
        assert_eq!(s.critical, [1, 2, 3]);
        assert!(s.slip_days.values().all(|d| *d == 0), "{:?}", s.slip_days);
        // A milestone planned on a Saturday sits at the end of Friday's work, not late.
        let mut saturday = with_milestone.clone();
        saturday[1].start = d("2026-01-10");
        saturday[1].finish = d("2026-01-10");
        let s = schedule(&saturday, &[dep(1, 2), dep(2, 3)]).unwrap();
        assert_eq!(s.slip_days[&2], 0);
        assert_eq!(s.critical, [1, 2, 3]);
        // Pushed tasks say by how many working days.
        let s = schedule(&late, &deps).unwrap();
        assert_eq!(s.slip_days[&2], 1);
        assert_eq!(s.slip_days[&4], 1);
    }

    #[test]
    fn earned_schedule_forecast() {
        // Two ten-day tasks of 100 hours each, back to back: 20 days, 200 hours.
        let on_plan = vec![
            task(1, "2026-03-01", "2026-03-10", 100.0, 100.0),
            task(2, "2026-03-11", "2026-03-20", 100.0, 0.0),
        ];
        let f = forecast(&on_plan, d("2026-03-10")).unwrap();
        assert!((f.spi - 1.0).abs() < 1e-9, "{f:?}");
        assert_eq!(f.forecast_finish, d("2026-03-20"));
        assert_eq!(f.slip_days, 0);
        assert!((f.percent_complete - 0.5).abs() < 1e-9);
        // Only half the first task done after ten days: half speed, twice as long.
        let behind = vec![
            task(1, "2026-03-01", "2026-03-10", 100.0, 50.0),
            task(2, "2026-03-11", "2026-03-20", 100.0, 0.0),
        ];
        let f = forecast(&behind, d("2026-03-10")).unwrap();
        assert!((f.spi - 0.5).abs() < 1e-9, "{f:?}");
        assert_eq!(f.forecast_finish, d("2026-04-09"));
        assert_eq!(f.slip_days, 20);
        assert_eq!(
            f.earned_schedule,
            d("2026-03-05"),
            "50 of 200 hours were due by the end of the fifth day"
        );
        // Ahead: the second task half done already.
        let ahead = vec![
            task(1, "2026-03-01", "2026-03-10", 100.0, 100.0),
            task(2, "2026-03-11", "2026-03-20", 100.0, 50.0),
        ];
        let f = forecast(&ahead, d("2026-03-10")).unwrap();
        assert!(f.spi > 1.0 && f.slip_days < 0, "{f:?}");
        assert!(forecast(&[], d("2026-03-10")).is_none());
        // Done, weeks after the plan: no extrapolation from today.
        let done = vec![task(1, "2026-01-01", "2026-01-10", 100.0, 100.0)];
        let f = forecast(&done, d("2026-03-01")).unwrap();
        assert!(f.complete);
        assert_eq!((f.forecast_finish, f.slip_days), (d("2026-01-10"), 0));
        let f = forecast(&done, d("2026-01-08")).unwrap();
        assert_eq!(f.forecast_finish, d("2026-01-08"), "done early");
        let nothing_done = vec![task(1, "2026-03-01", "2026-03-10", 100.0, 0.0)];
        assert!(
            forecast(&nothing_done, d("2026-03-05")).is_none(),
            "no pace yet, no forecast"
        );
    }

    #[test]
    fn two_thousand_tasks_and_five_thousand_dependencies() {
        let start = d("2026-01-01");
        let tasks: Vec<Task> = (0..2000u32)
            .map(|i| {
                let s = start + chrono::Duration::days(i64::from(i / 10));
                Task {
                    id: i,
                    name: format!("t{i}"),
                    start: s,
                    finish: s + chrono::Duration::days(2),
                    planned_hours: 8.0,
                    percent_done: if i < 600 { 100.0 } else { 0.0 },
                    milestone: i % 100 == 0,
                }
            })
            .collect();
        let deps: Vec<Dependency> = (0..5000u32)
            .map(|k| {
                let a = (k * 7919) % 1990;
                dep(a, a + 1 + (k % 9))
            })
            .collect();
        let s = schedule(&tasks, &deps).unwrap();
        assert!(!s.critical.is_empty());
        assert!(forecast(&tasks, d("2026-03-01")).is_some());
    }
}
