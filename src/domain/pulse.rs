//! The employee pulse in plain Rust: the questionnaire (`checklists/pulse.toml`), what counts as
//! a valid answer, and the figures a round may show. Figures follow the passport figures' rule:
//! nothing while fewer than five answered, any cell under five shown as "fewer than 5", small
//! departments pooled (`passport::by_department_with_pool`), and where a single suppressed cell
//! could be worked out by subtracting the shown ones from a total, another cell is hidden too.
use std::collections::{BTreeMap, BTreeSet, HashSet};

use serde::{Deserialize, Serialize};

use super::checklist::Text;
use super::passport::{SUPPRESS_BELOW, by_department_with_pool};
use crate::error::FieldError;

/// Free-text answers are shown only once a round has at least this many answers.
pub const FREE_TEXT_MIN_ANSWERS: u64 = 10;
/// Longest free-text answer.
pub const MAX_COMMENT: usize = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum QuestionKind {
    Single,
    Scale,
    Multiple,
    Text,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Choice {
    pub key: String,
    pub text: Text,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Question {
    pub key: String,
    pub kind: QuestionKind,
    #[serde(default)]
    pub required: bool,
    pub text: Text,
    #[serde(default)]
    pub choices: Vec<Choice>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Questionnaire {
    pub version: String,
    pub title: Text,
    pub intro: Text,
    pub questions: Vec<Question>,
}

impl Questionnaire {
    pub fn parse(text: &str) -> Result<Questionnaire, String> {
        let q: Questionnaire = toml::from_str(text).map_err(|e| e.to_string())?;
        q.validate()?;
        Ok(q)
    }

    fn validate(&self) -> Result<(), String> {
        if self.version.trim().is_empty() {
            return Err("version is empty".into());
        }
        let mut keys = HashSet::new();
        let mut texts = 0;
        for q in &self.questions {
            if !keys.insert(q.key.as_str()) {
                return Err(format!("question \"{}\" appears twice", q.key));
            }
            match q.kind {
                QuestionKind::Text => {
                    texts += 1;
                    if !q.choices.is_empty() || q.required {
                        return Err(format!(
                            "the free-text question \"{}\" has no choices and is never required",
                            q.key
                        ));
                    }
                }
                _ if q.choices.len() < 2 => return Err(format!("question \"{}\" needs at least two choices", q.key)),
                _ => {}
            }
            if q.kind == QuestionKind::Scale && q.choices.iter().any(|c| c.key.parse::<u8>().is_err()) {
                return Err(format!("the scale \"{}\" needs numbers as choice keys", q.key));
            }
            let mut seen = HashSet::new();
            if let Some(c) = q.choices.iter().find(|c| !seen.insert(c.key.as_str()) || c.key == NO_ANSWER) {
                return Err(format!("choice \"{}\" of \"{}\" is repeated or reserved", c.key, q.key));
            }
        }
        if texts > 1 {
            return Err("at most one free-text question".into());
        }
        if !self.questions.iter().any(|q| q.required) {
            return Err("at least one question must be required (it counts who answered)".into());
        }
        Ok(())
    }

    /// The questions asked in a round: the free-text one only when the round switched it on.
    pub fn asked(&self, free_text: bool) -> impl Iterator<Item = &Question> {
        self.questions.iter().filter(move |q| free_text || q.kind != QuestionKind::Text)
    }

    pub fn free_text_question(&self) -> Option<&Question> {
        self.questions.iter().find(|q| q.kind == QuestionKind::Text)
    }

    /// One person's answers from a form's fields (`question key` = `choice key`, once per ticked
    /// box for a multiple choice); the free-text answer apart, so it can be stored apart.
    pub fn read_answers(
        &self,
        fields: &[(String, String)],
        free_text: bool,
    ) -> Result<(Answers, Option<String>), Vec<FieldError>> {
        let mut answers = Answers::new();
        let mut comment = None;
        let mut errors = vec![];
        for q in self.asked(free_text) {
            let given: Vec<&str> =
                fields.iter().filter(|(k, _)| k == &q.key).map(|(_, v)| v.trim()).filter(|v| !v.is_empty()).collect();
            let valid = |v: &&str| q.choices.iter().any(|c| c.key == *v);
            match q.kind {
                QuestionKind::Text => match given.first() {
                    Some(t) if t.chars().count() > MAX_COMMENT => {
                        errors.push(FieldError::new(&q.key, "pulse_text_too_long"))
                    }
                    Some(t) => comment = Some(t.to_string()),
                    None => {}
                },
                QuestionKind::Single | QuestionKind::Scale => match given.as_slice() {
                    [] if q.required => errors.push(FieldError::new(&q.key, "pulse_required")),
                    [] => {}
                    [one] if valid(one) => {
                        answers.insert(q.key.clone(), Answer::One(one.to_string()));
                    }
                    _ => errors.push(FieldError::new(&q.key, "pulse_choice_invalid")),
                },
                QuestionKind::Multiple => {
                    if given.iter().any(|v| !valid(v)) {
                        errors.push(FieldError::new(&q.key, "pulse_choice_invalid"));
                    } else if given.is_empty() && q.required {
                        errors.push(FieldError::new(&q.key, "pulse_required"));
                    } else if !given.is_empty() {
                        let set: BTreeSet<String> = given.iter().map(|s| s.to_string()).collect();
                        answers.insert(q.key.clone(), Answer::Many(set.into_iter().collect()));
                    }
                }
            }
        }
        if errors.is_empty() { Ok((answers, comment)) } else { Err(errors) }
    }
}

/// A choice key no questionnaire may use (kept free for "did not answer").
pub const NO_ANSWER: &str = "no-answer";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Answer {
    One(String),
    Many(Vec<String>),
}

pub type Answers = BTreeMap<String, Answer>;

/// A figure as it may be shown.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "shown", rename_all = "snake_case")]
pub enum Cell {
    Exact {
        count: u64,
        percent: u32,
    },
    /// Under five (zero included).
    FewerThan {
        limit: u64,
    },
    /// Five or more, but hidden so that a suppressed neighbour cannot be worked out.
    Hidden,
}

impl Cell {
    pub fn exact(self) -> Option<u64> {
        match self {
            Cell::Exact { count, .. } => Some(count),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChoiceFigure {
    pub choice: String,
    #[serde(flatten)]
    pub cell: Cell,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuestionFigures {
    pub question: String,
    pub kind: QuestionKind,
    pub choices: Vec<ChoiceFigure>,
    /// The scale's average, to one decimal, over at least five answers.
    pub mean: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupFigures {
    /// `None` overall, or for the pooled "other departments" (see `pooled`).
    pub department: Option<String>,
    pub pooled: bool,
    pub respondents: u64,
    pub questions: Vec<QuestionFigures>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Figures {
    pub respondents: u64,
    /// Empty while fewer than five answered.
    pub overall: Option<GroupFigures>,
    /// Per department when the round asked for it and there is more than one group to show.
    pub departments: Vec<GroupFigures>,
}

/// One stored answer, as the figures need it.
pub struct Response<'a> {
    pub department: Option<&'a str>,
    pub answers: &'a Answers,
}

fn percent(n: u64, of: u64) -> u32 {
    (n * 100 + of / 2).checked_div(of).unwrap_or(0) as u32
}

/// The figures of a round's answers. `by_department`: whether the round was split.
pub fn figures(q: &Questionnaire, free_text: bool, responses: &[Response<'_>], by_department: bool) -> Figures {
    let total = responses.len() as u64;
    if total < SUPPRESS_BELOW {
        return Figures { respondents: total, overall: None, departments: vec![] };
    }
    let questions: Vec<&Question> = q.asked(free_text).filter(|q| q.kind != QuestionKind::Text).collect();
    // Groups: the departments large enough to stand alone; all others (and those without one) pooled.
    let mut groups: Vec<(Option<String>, bool)> = vec![];
    if by_department {
        let mut named: BTreeMap<&str, u64> = BTreeMap::new();
        let mut unnamed = 0;
        for r in responses {
            match r.department {
                Some(d) => *named.entry(d).or_default() += 1,
                None => unnamed += 1,
            }
        }
        let shown = by_department_with_pool(named.into_iter().map(|(d, n)| (d.to_string(), n)).collect(), unnamed);
        groups = shown.into_iter().map(|(d, _)| (d.clone(), d.is_none())).collect();
        if groups.len() < 2 {
            groups.clear();
        }
    }
    let alone: HashSet<&str> = groups.iter().filter_map(|(d, _)| d.as_deref()).collect();
    let group_of = |r: &Response<'_>| -> usize {
        match r.department.filter(|d| alone.contains(d)) {
            Some(d) => groups.iter().position(|(g, _)| g.as_deref() == Some(d)).unwrap_or(0),
            None => groups.iter().position(|(_, pooled)| *pooled).unwrap_or(0),
        }
    };
    // Rows: overall first, then each group.
    let mut members: Vec<Vec<&Response<'_>>> = vec![responses.iter().collect()];
    for _ in &groups {
        members.push(vec![]);
    }
    if !groups.is_empty() {
        for r in responses {
            members[1 + group_of(r)].push(r);
        }
    }
    let mut per_row: Vec<Vec<QuestionFigures>> = vec![vec![]; members.len()];
    for question in &questions {
        let keys: Vec<&str> = question.choices.iter().map(|c| c.key.as_str()).collect();
        // A required single choice's cells add up to its group, which is shown: subtraction is
        // the risk there. Elsewhere (several choices, or a question one may skip) the cells do
        // not add up to anything shown, and a cell's complement is the risk instead.
        let sums = question.kind != QuestionKind::Multiple && question.required;
        let counts: Vec<Vec<u64>> =
            members.iter().map(|rows| keys.iter().map(|k| count(rows, &question.key, k)).collect()).collect();
        let sizes: Vec<u64> = members.iter().map(|m| m.len() as u64).collect();
        let marks = protect(&counts, &sizes, sums);
        for (row, rows) in members.iter().enumerate() {
            let choices = keys
                .iter()
                .enumerate()
                .map(|(i, k)| ChoiceFigure {
                    choice: k.to_string(),
                    cell: match marks[row][i] {
                        Mark::Shown => {
                            Cell::Exact { count: counts[row][i], percent: percent(counts[row][i], sizes[row]) }
                        }
                        Mark::Small => Cell::FewerThan { limit: SUPPRESS_BELOW },
                        Mark::Hidden => Cell::Hidden,
                    },
                })
                .collect();
            per_row[row].push(QuestionFigures {
                question: question.key.clone(),
                kind: question.kind,
                choices,
                // An average beside suppressed cells would let them be worked out (five people at
                // 5 and an average of 4.3 make the sixth a 1): shown only when every cell is.
                mean: (question.kind == QuestionKind::Scale && marks[row].iter().all(|m| *m == Mark::Shown))
                    .then(|| mean(rows, &question.key))
                    .flatten(),
            });
        }
    }
    let mut rows = per_row.into_iter().zip(members.iter().map(|m| m.len() as u64));
    let (overall_q, _) = rows.next().unwrap_or_default();
    let departments = groups
        .iter()
        .zip(rows)
        .map(|((d, pooled), (qs, n))| GroupFigures {
            department: d.clone(),
            pooled: *pooled,
            respondents: n,
            questions: qs,
        })
        .collect();
    Figures {
        respondents: total,
        overall: Some(GroupFigures { department: None, pooled: false, respondents: total, questions: overall_q }),
        departments,
    }
}

fn count(rows: &[&Response<'_>], question: &str, choice: &str) -> u64 {
    rows.iter()
        .filter(|r| match r.answers.get(question) {
            Some(Answer::One(v)) => v == choice,
            Some(Answer::Many(vs)) => vs.iter().any(|v| v == choice),
            None => choice == NO_ANSWER,
        })
        .count() as u64
}

fn mean(rows: &[&Response<'_>], question: &str) -> Option<f64> {
    let values: Vec<f64> = rows
        .iter()
        .filter_map(|r| match r.answers.get(question) {
            Some(Answer::One(v)) => v.parse::<f64>().ok(),
            _ => None,
        })
        .collect();
    if (values.len() as u64) < SUPPRESS_BELOW {
        return None;
    }
    Some((values.iter().sum::<f64>() / values.len() as f64 * 10.0).round() / 10.0)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mark {
    Shown,
    Small,
    Hidden,
}

/// Which cells of a question's table may be shown. Row 0 is everyone, the others the groups,
/// which add up to row 0 column by column. `sums`: a row's cells add up to its size (one
/// required choice each); otherwise each cell's complement (those who did not choose it) is as
/// telling as the cell. Under five is "fewer than 5"; then, until nothing
/// changes, wherever a line (a row, or a column across the groups) has exactly one suppressed
/// cell, which subtraction would give away, the smallest shown cell beside it is hidden as well.
/// Whether that cell is empty plays no part, or the extra hiding itself would tell. A hidden
/// cell is known to hold five or more, so one "fewer than 5" beside hidden cells keeps a range
/// of values: from zero up to what the hidden ones leave.
fn protect(counts: &[Vec<u64>], sizes: &[u64], sums: bool) -> Vec<Vec<Mark>> {
    let mut marks: Vec<Vec<Mark>> = counts
        .iter()
        .zip(sizes)
        .map(|(row, &size)| {
            row.iter()
                .map(|&n| {
                    let complement = size - n.min(size);
                    if n < SUPPRESS_BELOW || (!sums && (1..SUPPRESS_BELOW).contains(&complement)) {
                        Mark::Small
                    } else {
                        Mark::Shown
                    }
                })
                .collect()
        })
        .collect();
    // A cell whose complement is small is hidden itself (marked Small above, but it has five or
    // more): shown as hidden, not as "fewer than 5".
    for (r, row) in counts.iter().enumerate() {
        for (c, &n) in row.iter().enumerate() {
            if marks[r][c] == Mark::Small && n >= SUPPRESS_BELOW {
                marks[r][c] = Mark::Hidden;
            }
        }
    }
    let suppressed = |m: Mark| m != Mark::Shown;
    let width = counts.first().map_or(0, Vec::len);
    loop {
        let mut changed = false;
        let mut lines: Vec<Vec<(usize, usize)>> = vec![];
        if sums {
            lines.extend((0..counts.len()).map(|r| (0..width).map(|c| (r, c)).collect()));
        }
        if counts.len() > 2 {
            // Each column: the groups (rows 1..) add up to row 0.
            lines.extend((0..width).map(|c| (0..counts.len()).map(|r| (r, c)).collect()));
        }
        for line in lines {
            let hidden: Vec<&(usize, usize)> = line.iter().filter(|(r, c)| suppressed(marks[*r][*c])).collect();
            if hidden.len() == 1 {
                let smallest = line
                    .iter()
                    .filter(|(r, c)| marks[*r][*c] == Mark::Shown)
                    .min_by_key(|(r, c)| (counts[*r][*c], *r, *c))
                    .copied();
                if let Some((r, c)) = smallest {
                    marks[r][c] = Mark::Hidden;
                    changed = true;
                }
            }
        }
        if !changed {
            return marks;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn questionnaire() -> Questionnaire {
        Questionnaire::parse(include_str!("../../checklists/pulse.toml")).unwrap()
    }

    fn answers(cares: &str, supported: Option<&str>) -> Answers {
        let mut a = Answers::new();
        a.insert("cares".into(), Answer::One(cares.into()));
        if let Some(s) = supported {
            a.insert("supported".into(), Answer::One(s.into()));
        }
        a
    }

    fn cell(g: &GroupFigures, question: &str, choice: &str) -> Cell {
        let q = g.questions.iter().find(|q| q.question == question).unwrap();
        q.choices.iter().find(|c| c.choice == choice).unwrap().cell
    }

    #[test]
    fn the_shipped_questionnaire_is_valid_and_hides_free_text_unless_switched_on() {
        let q = questionnaire();
        assert!(q.asked(false).all(|q| q.kind != QuestionKind::Text));
        assert_eq!(q.asked(true).filter(|q| q.kind == QuestionKind::Text).count(), 1);
    }

    #[test]
    fn a_broken_questionnaire_is_refused_with_the_reason() {
        let e = Questionnaire::parse(
            "version = \"1\"\ntitle = { nl = \"a\", en = \"a\" }\nintro = { nl = \"a\", en = \"a\" }\nquestions = []\n",
        )
        .unwrap_err();
        assert!(e.contains("required"), "{e}");
    }

    #[test]
    fn answers_are_read_from_the_form_and_bad_choices_refused() {
        let q = questionnaire();
        let f = |pairs: &[(&str, &str)]| pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<Vec<_>>();
        let (a, c) = q
            .read_answers(
                &f(&[("cares", "now"), ("would-help", "leave"), ("would-help", "leave"), ("comment", "hi")]),
                false,
            )
            .unwrap();
        assert_eq!(a.get("cares"), Some(&Answer::One("now".into())));
        assert_eq!(a.get("would-help"), Some(&Answer::Many(vec!["leave".into()])));
        assert_eq!(c, None, "free text is ignored unless the round asks it");
        let e = q.read_answers(&f(&[("supported", "9")]), false).unwrap_err();
        let fields: Vec<&str> = e.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["cares", "supported"]);
    }

    #[test]
    fn nothing_is_shown_under_five_answers_and_figures_from_five() {
        let q = questionnaire();
        let a: Vec<Answers> = (0..5).map(|_| answers("now", Some("4"))).collect();
        let rs = |n: usize| a[..n].iter().map(|a| Response { department: None, answers: a }).collect::<Vec<_>>();
        assert!(figures(&q, false, &rs(4), false).overall.is_none());
        let f = figures(&q, false, &rs(5), false);
        let o = f.overall.unwrap();
        assert_eq!(cell(&o, "cares", "now"), Cell::Exact { count: 5, percent: 100 });
        assert_eq!(cell(&o, "cares", "no"), Cell::FewerThan { limit: 5 });
        // Four of the scale's cells are suppressed: an average would tell what they hold.
        assert_eq!(o.questions.iter().find(|q| q.question == "supported").unwrap().mean, None);
        // With every cell shown, it is.
        let all: Vec<Answers> = (0..30).map(|i| answers("now", Some(["1", "2", "3", "4", "5", "5"][i % 6]))).collect();
        let rs: Vec<Response> = all.iter().map(|a| Response { department: None, answers: a }).collect();
        let o = figures(&q, false, &rs, false).overall.unwrap();
        assert_eq!(o.questions.iter().find(|q| q.question == "supported").unwrap().mean, Some(3.3));
    }

    #[test]
    fn an_average_beside_a_suppressed_cell_is_not_shown() {
        // Five at 5, five at 3 and one at 1: an average of 3.7 would give the eleventh away.
        let q = questionnaire();
        let mut a: Vec<Answers> = (0..5).map(|_| answers("now", Some("5"))).collect();
        a.extend((0..5).map(|_| answers("now", Some("3"))));
        a.push(answers("now", Some("1")));
        let rs: Vec<Response> = a.iter().map(|a| Response { department: None, answers: a }).collect();
        let o = figures(&q, false, &rs, false).overall.unwrap();
        assert_eq!(cell(&o, "supported", "5"), Cell::Exact { count: 5, percent: 45 });
        assert_eq!(cell(&o, "supported", "1"), Cell::FewerThan { limit: 5 });
        assert_eq!(o.questions.iter().find(|q| q.question == "supported").unwrap().mean, None);
    }

    #[test]
    fn one_small_cell_in_a_question_hides_the_next_smallest_so_it_cannot_be_subtracted() {
        let q = questionnaire();
        // 12 answers to the required first question: 6 now, 1 past, 5 no. "past" alone would be
        // 12 - 6 - 5; with "no" hidden too (five or more) it is anything from 0 to 1.
        let mut a: Vec<Answers> = (0..6).map(|_| answers("now", None)).collect();
        a.push(answers("past", None));
        a.extend((0..5).map(|_| answers("no", None)));
        let rs: Vec<Response> = a.iter().map(|a| Response { department: None, answers: a }).collect();
        let o = figures(&q, false, &rs, false).overall.unwrap();
        assert_eq!(cell(&o, "cares", "past"), Cell::FewerThan { limit: 5 });
        assert_eq!(cell(&o, "cares", "no"), Cell::Hidden);
        assert_eq!(cell(&o, "cares", "now"), Cell::Exact { count: 6, percent: 50 });
        // The same when the small cell is empty: whether it is must not show either.
        let mut b: Vec<Answers> = (0..7).map(|_| answers("now", None)).collect();
        b.extend((0..5).map(|_| answers("no", None)));
        let rs: Vec<Response> = b.iter().map(|a| Response { department: None, answers: a }).collect();
        let o = figures(&q, false, &rs, false).overall.unwrap();
        assert_eq!(cell(&o, "cares", "past"), Cell::FewerThan { limit: 5 });
        assert_eq!(cell(&o, "cares", "no"), Cell::Hidden);
        // A question one may skip does not add up: there a near-unanimous answer is hidden, so
        // the one or few who answered otherwise (or skipped it) stay hidden.
        let mut c: Vec<Answers> = (0..10).map(|_| answers("now", None)).collect();
        for (i, x) in c.iter_mut().enumerate() {
            x.insert("knows-arrangements".into(), Answer::One(if i == 0 { "no" } else { "yes" }.into()));
        }
        let rs: Vec<Response> = c.iter().map(|a| Response { department: None, answers: a }).collect();
        let o = figures(&q, false, &rs, false).overall.unwrap();
        assert_eq!(cell(&o, "knows-arrangements", "yes"), Cell::Hidden);
        assert_eq!(cell(&o, "knows-arrangements", "no"), Cell::FewerThan { limit: 5 });
        assert!(o.questions.iter().all(|q| q.choices.iter().all(|c| c.choice != NO_ANSWER)));
    }

    #[test]
    fn small_departments_are_pooled_and_no_department_cell_can_be_subtracted_from_the_total() {
        let q = questionnaire();
        let mut rows: Vec<(Option<&str>, Answers)> = vec![];
        rows.extend((0..7).map(|_| (Some("Zorg"), answers("now", None))));
        rows.extend((0..6).map(|_| (Some("Kantoor"), answers("no", None))));
        rows.push((Some("Kantoor"), answers("now", None)));
        rows.extend((0..2).map(|_| (Some("ICT"), answers("now", None))));
        let rs: Vec<Response> = rows.iter().map(|(d, a)| Response { department: *d, answers: a }).collect();
        let f = figures(&q, false, &rs, true);
        let names: Vec<(Option<&str>, bool, u64)> =
            f.departments.iter().map(|g| (g.department.as_deref(), g.pooled, g.respondents)).collect();
        // ICT (2) alone is too small: the smallest shown department joins it.
        assert_eq!(names, [(Some("Kantoor"), false, 7), (None, true, 9)]);
        // "now": 10 overall, 1 in Kantoor, 9 in the pool: showing 10 and 9 would give away the 1.
        let kantoor = &f.departments[0];
        let pool = &f.departments[1];
        assert_eq!(cell(kantoor, "cares", "now"), Cell::FewerThan { limit: 5 });
        assert_eq!(cell(pool, "cares", "now"), Cell::Hidden);
        assert_eq!(cell(f.overall.as_ref().unwrap(), "cares", "now"), Cell::Exact { count: 10, percent: 63 });
    }

    #[test]
    fn a_multiple_choice_almost_everyone_made_is_hidden_so_the_few_who_did_not_stay_hidden() {
        let q = questionnaire();
        let a: Vec<Answers> = (0..10)
            .map(|i| {
                let mut a = answers("now", None);
                let picks = if i == 0 { vec!["leave".to_string()] } else { vec!["leave".into(), "network".into()] };
                a.insert("would-help".into(), Answer::Many(picks));
                a
            })
            .collect();
        let rs: Vec<Response> = a.iter().map(|a| Response { department: None, answers: a }).collect();
        let o = figures(&q, false, &rs, false).overall.unwrap();
        assert_eq!(cell(&o, "would-help", "leave"), Cell::Exact { count: 10, percent: 100 });
        assert_eq!(cell(&o, "would-help", "network"), Cell::Hidden);
    }
}
