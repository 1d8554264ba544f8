//! A resource allocation system (RAS): a council's questionnaire for one funding stream, whose
//! answers carry points, and the allocation table that turns the raw score into an indicative
//! budget (bands of points, or an amount per point up to a cap). A version is frozen once used,
//! so the same answers give the same budget years later.

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};

use super::Stream;
use super::money::Pence;
use super::validate::{self, Checker, Invalid};

pub const MAX_QUESTIONS: usize = 100;
pub const MAX_ANSWERS: usize = 20;
pub const MAX_POINTS: i64 = 1000;
pub const MAX_BANDS: usize = 50;
/// The highest score any questionnaire can reach.
pub const MAX_SCORE: i64 = MAX_QUESTIONS as i64 * MAX_POINTS;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RasInput {
    pub name: String,
    pub stream: Stream,
    pub questions: Vec<QuestionInput>,
    pub allocation: AllocationTableInput,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuestionInput {
    /// The question's key in an assessment's answers: letters, digits, `_` and `-`.
    pub id: String,
    /// The part of the questionnaire it belongs to ("Being healthy"); none, the first.
    #[serde(default)]
    pub section: Option<String>,
    pub text: String,
    pub answers: Vec<AnswerInput>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnswerInput {
    pub label: String,
    pub points: i64,
}

/// Either `bands` or `per_point` with `cap`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AllocationTableInput {
    #[serde(default)]
    pub bands: Option<Vec<BandInput>>,
    #[serde(default)]
    pub per_point: Option<Pence>,
    #[serde(default)]
    pub cap: Option<Pence>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BandInput {
    pub min_points: i64,
    pub max_points: i64,
    pub amount: Pence,
}

/// A checked questionnaire and table, as stored with its version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RasDefinition {
    pub questions: Vec<Question>,
    pub allocation: AllocationTable,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Question {
    pub id: String,
    pub section: Option<String>,
    pub text: String,
    pub answers: Vec<Answer>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answer {
    pub label: String,
    pub points: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AllocationTable {
    Bands { bands: Vec<Band> },
    PerPoint { per_point: Pence, cap: Pence },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Band {
    pub min_points: u32,
    pub max_points: u32,
    pub amount: Pence,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidRas {
    pub name: String,
    pub stream: Stream,
    pub definition: RasDefinition,
}

fn question_id_ok(id: &str) -> bool {
    !id.is_empty() && id.len() <= 40 && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn points(c: &mut Checker, field: String, value: i64, limit: i64) -> Option<u32> {
    if (0..=limit).contains(&value) {
        u32::try_from(value).ok()
    } else {
        c.add(field, format!("must be a whole number from 0 to {limit}"));
        None
    }
}

impl RasInput {
    pub fn validate(&self) -> Result<ValidRas, Invalid> {
        let mut c = Checker::new();
        let name = c.take(validate::text("name", &self.name, 1, 200));
        if self.questions.is_empty() {
            c.add("questions", "must list at least one question");
        } else if self.questions.len() > MAX_QUESTIONS {
            c.add("questions", format!("must list at most {MAX_QUESTIONS} questions"));
        }
        let mut seen = HashSet::new();
        let mut questions = Vec::new();
        for (i, q) in self.questions.iter().enumerate() {
            let at = |f: &str| format!("questions[{i}].{f}");
            if !question_id_ok(&q.id) {
                c.add(at("id"), "must be 1 to 40 letters, digits, '_' or '-'");
            } else if !seen.insert(q.id.clone()) {
                c.add(at("id"), "is used by another question");
            }
            let section = c.take(validate::optional_text(&at("section"), q.section.as_deref(), 200));
            let text = c.take(validate::text(&at("text"), &q.text, 1, 1000));
            if q.answers.is_empty() || q.answers.len() > MAX_ANSWERS {
                c.add(at("answers"), format!("must list from 1 to {MAX_ANSWERS} answers"));
            }
            let mut answers = Vec::new();
            for (j, a) in q.answers.iter().enumerate() {
                let label = c.take(validate::text(
                    &format!("questions[{i}].answers[{j}].label"),
                    &a.label,
                    1,
                    500,
                ));
                let points = points(
                    &mut c,
                    format!("questions[{i}].answers[{j}].points"),
                    a.points,
                    MAX_POINTS,
                );
                if let (Some(label), Some(points)) = (label, points) {
                    answers.push(Answer { label, points });
                }
            }
            if let (Some(section), Some(text)) = (section, text) {
                questions.push(Question {
                    id: q.id.clone(),
                    section,
                    text,
                    answers,
                });
            }
        }
        let max_score: u32 = questions
            .iter()
            .map(|q| q.answers.iter().map(|a| a.points).max().unwrap_or(0))
            .sum();
        let allocation = self.allocation.check(&mut c, max_score);
        let name = c.finish(|| name)?;
        match (name, allocation) {
            (Some(name), Some(allocation)) => Ok(ValidRas {
                name,
                stream: self.stream,
                definition: RasDefinition { questions, allocation },
            }),
            _ => Err(Invalid::one("allocation", "is required")),
        }
    }
}

impl AllocationTableInput {
    fn check(&self, c: &mut Checker, max_score: u32) -> Option<AllocationTable> {
        match (&self.bands, self.per_point, self.cap) {
            (Some(bands), None, None) => check_bands(c, bands, max_score),
            (None, Some(per_point), Some(cap)) => {
                if per_point == Pence::ZERO {
                    c.add("allocation.per_point", "must be more than 0.00");
                }
                if cap == Pence::ZERO {
                    c.add("allocation.cap", "must be more than 0.00");
                }
                Some(AllocationTable::PerPoint { per_point, cap })
            }
            (None, Some(_), None) => {
                c.add("allocation.cap", "is required with per_point");
                None
            }
            (None, None, Some(_)) => {
                c.add("allocation.per_point", "is required with cap");
                None
            }
            _ => {
                c.add("allocation", "give either bands, or per_point and cap");
                None
            }
        }
    }
}

/// Bands run in order from 0 points with no gap and no overlap, up to at least the highest
/// score the questions allow: every score falls in exactly one band.
fn check_bands(c: &mut Checker, input: &[BandInput], max_score: u32) -> Option<AllocationTable> {
    if input.is_empty() || input.len() > MAX_BANDS {
        c.add("allocation.bands", format!("must list from 1 to {MAX_BANDS} bands"));
        return None;
    }
    let mut bands = Vec::new();
    let mut next_min = 0u32;
    for (i, b) in input.iter().enumerate() {
        let min = points(c, format!("allocation.bands[{i}].min_points"), b.min_points, MAX_SCORE)?;
        let max = points(c, format!("allocation.bands[{i}].max_points"), b.max_points, MAX_SCORE)?;
        if min != next_min {
            c.add(
                format!("allocation.bands[{i}].min_points"),
                format!(
                    "must be {next_min}: band {} must start where the one before ends (bands start at 0, with no gaps or overlaps)",
                    i + 1
                ),
            );
            return None;
        }
        if max < min {
            c.add(
                format!("allocation.bands[{i}].max_points"),
                "must not be below min_points",
            );
            return None;
        }
        bands.push(Band {
            min_points: min,
            max_points: max,
            amount: b.amount,
        });
        next_min = max + 1;
    }
    if next_min <= max_score {
        c.add(
            "allocation.bands",
            format!("must reach {max_score} points, the highest score the questions allow"),
        );
        return None;
    }
    Some(AllocationTable::Bands { bands })
}

/// One answered question, as the working shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scored {
    pub question_id: String,
    pub section: Option<String>,
    pub question: String,
    pub answer: String,
    pub points: u32,
}

/// What the RAS gives for one set of answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Indicative {
    pub raw_score: u32,
    /// From 1, for a banded table.
    pub band: Option<u32>,
    pub band_points: Option<(u32, u32)>,
    pub amount: Pence,
    /// Whether a per-point amount was held to the cap.
    pub capped: bool,
    pub working: Vec<Scored>,
}

impl RasDefinition {
    /// The highest score the questions allow.
    pub fn max_score(&self) -> u32 {
        self.questions
            .iter()
            .map(|q| q.answers.iter().map(|a| a.points).max().unwrap_or(0))
            .sum()
    }

    /// Score answers (question id -> answer index, from 0): every question answered once.
    pub fn score(&self, answers: &BTreeMap<String, i64>) -> Result<Indicative, Invalid> {
        let mut c = Checker::new();
        for id in answers.keys() {
            if !self.questions.iter().any(|q| &q.id == id) {
                c.add(format!("answers.{id}"), "is not a question of this RAS");
            }
        }
        let mut working = Vec::new();
        for q in &self.questions {
            let field = format!("answers.{}", q.id);
            match answers.get(&q.id) {
                None => c.add(field, "must be answered"),
                Some(&i) => match usize::try_from(i).ok().and_then(|i| q.answers.get(i)) {
                    None => c.add(
                        field,
                        format!(
                            "must be an answer's index, from 0 to {}",
                            q.answers.len().saturating_sub(1)
                        ),
                    ),
                    Some(a) => working.push(Scored {
                        question_id: q.id.clone(),
                        section: q.section.clone(),
                        question: q.text.clone(),
                        answer: a.label.clone(),
                        points: a.points,
                    }),
                },
            }
        }
        c.finish(|| ())?;
        let raw_score: u32 = working.iter().map(|w| w.points).sum();
        Ok(self.allocate(raw_score, working))
    }

    fn allocate(&self, raw_score: u32, working: Vec<Scored>) -> Indicative {
        match &self.allocation {
            AllocationTable::Bands { bands } => {
                let found = bands
                    .iter()
                    .enumerate()
                    .find(|(_, b)| (b.min_points..=b.max_points).contains(&raw_score));
                Indicative {
                    raw_score,
                    band: found.map(|(i, _)| i as u32 + 1),
                    band_points: found.map(|(_, b)| (b.min_points, b.max_points)),
                    amount: found.map(|(_, b)| b.amount).unwrap_or(Pence::ZERO),
                    capped: false,
                    working,
                }
            }
            AllocationTable::PerPoint { per_point, cap } => {
                let uncapped = per_point.checked_mul(i64::from(raw_score)).unwrap_or(*cap);
                Indicative {
                    raw_score,
                    band: None,
                    band_points: None,
                    amount: uncapped.min(*cap),
                    capped: uncapped > *cap,
                    working,
                }
            }
        }
    }
}

/// The questionnaire as an officer types it on the page, one line each:
/// `## Section`, then `id: Question text`, then its answers as `- Label = points`.
pub fn questions_from_text(text: &str) -> Result<Vec<QuestionInput>, Invalid> {
    let mut c = Checker::new();
    let mut section: Option<String> = None;
    let mut questions: Vec<QuestionInput> = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim();
        let at = n + 1;
        if line.is_empty() {
            continue;
        }
        if let Some(name) = line.strip_prefix("##") {
            section = Some(name.trim().to_string()).filter(|s| !s.is_empty());
        } else if let Some(answer) = line.strip_prefix('-') {
            let Some(q) = questions.last_mut() else {
                c.add("questions", format!("line {at}: an answer comes after its question"));
                continue;
            };
            match answer.rsplit_once('=') {
                Some((label, points)) => match points.trim().parse::<i64>() {
                    Ok(points) => q.answers.push(AnswerInput {
                        label: label.trim().to_string(),
                        points,
                    }),
                    Err(_) => c.add(
                        "questions",
                        format!("line {at}: the points after '=' must be a whole number"),
                    ),
                },
                None => c.add("questions", format!("line {at}: write an answer as '- Label = points'")),
            }
        } else if let Some((id, question)) = line.split_once(':') {
            questions.push(QuestionInput {
                id: id.trim().to_string(),
                section: section.clone(),
                text: question.trim().to_string(),
                answers: Vec::new(),
            });
        } else {
            c.add(
                "questions",
                format!("line {at}: write a question as 'id: Question text'"),
            );
        }
    }
    c.finish(|| questions)
}

/// Bands as typed on the page, one per line: `0-5 = 0.00`.
pub fn bands_from_text(text: &str) -> Result<Vec<BandInput>, Invalid> {
    let mut c = Checker::new();
    let mut bands = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() {
            continue;
        }
        let parsed = line.split_once('=').and_then(|(range, amount)| {
            let (min, max) = range.split_once('-')?;
            Some(BandInput {
                min_points: min.trim().parse().ok()?,
                max_points: max.trim().parse().ok()?,
                amount: amount.trim().trim_start_matches('£').replace(',', "").parse().ok()?,
            })
        });
        match parsed {
            Some(b) => bands.push(b),
            None => c.add(
                "bands",
                format!(
                    "line {}: write a band as 'from-to = amount', for example '6-12 = 1200.00'",
                    n + 1
                ),
            ),
        }
    }
    c.finish(|| bands)
}

impl RasDefinition {
    /// The questionnaire in the form [`questions_from_text`] reads, to start a new version from.
    pub fn questions_text(&self) -> String {
        let mut out = String::new();
        let mut section: Option<&str> = None;
        for q in &self.questions {
            if q.section.as_deref() != section {
                section = q.section.as_deref();
                if let Some(s) = section {
                    out.push_str(&format!("## {s}\n"));
                }
            }
            out.push_str(&format!("{}: {}\n", q.id, q.text));
            for a in &q.answers {
                out.push_str(&format!("- {} = {}\n", a.label, a.points));
            }
        }
        out
    }

    /// The bands in the form [`bands_from_text`] reads (empty for an amount per point).
    pub fn bands_text(&self) -> String {
        match &self.allocation {
            AllocationTable::Bands { bands } => bands
                .iter()
                .map(|b| format!("{}-{} = {}\n", b.min_points, b.max_points, b.amount))
                .collect(),
            AllocationTable::PerPoint { .. } => String::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Pence {
        s.parse().unwrap()
    }

    fn question(id: &str, points: &[i64]) -> QuestionInput {
        QuestionInput {
            id: id.into(),
            section: None,
            text: format!("Question {id}"),
            answers: points
                .iter()
                .map(|&points| AnswerInput {
                    label: format!("{points} points"),
                    points,
                })
                .collect(),
        }
    }

    fn band(min: i64, max: i64, amount: &str) -> BandInput {
        BandInput {
            min_points: min,
            max_points: max,
            amount: p(amount),
        }
    }

    fn banded(bands: Vec<BandInput>) -> RasInput {
        RasInput {
            name: "Short breaks RAS".into(),
            stream: Stream::SocialCare,
            questions: vec![question("health", &[0, 5, 10]), question("carers", &[0, 4, 8])],
            allocation: AllocationTableInput {
                bands: Some(bands),
                ..Default::default()
            },
        }
    }

    fn answers(pairs: &[(&str, i64)]) -> BTreeMap<String, i64> {
        pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
    }

    fn fields(e: Invalid) -> Vec<String> {
        e.0.into_iter().map(|f| f.field).collect()
    }

    #[test]
    fn a_score_on_a_band_edge_takes_that_band() {
        let ras = banded(vec![
            band(0, 5, "0.00"),
            band(6, 12, "1200.00"),
            band(13, 18, "2400.50"),
        ])
        .validate()
        .unwrap();
        let at = |h, c| ras.definition.score(&answers(&[("health", h), ("carers", c)])).unwrap();
        let low = at(1, 0); // 5 points: the top of band 1
        assert_eq!((low.raw_score, low.band, low.amount), (5, Some(1), Pence::ZERO));
        let edge = at(0, 2); // 8 points
        assert_eq!((edge.band, edge.band_points), (Some(2), Some((6, 12))));
        let top = at(2, 1); // 14 points: the bottom of band 3 is 13
        assert_eq!((top.band, top.amount), (Some(3), p("2400.50")));
        assert_eq!(at(2, 2).raw_score, 18);
        assert_eq!(top.working.len(), 2);
        assert_eq!(top.working[1].answer, "4 points");
    }

    #[test]
    fn bands_must_start_at_nought_follow_on_and_reach_the_top_score() {
        let gap = banded(vec![band(0, 5, "0.00"), band(7, 18, "1.00")])
            .validate()
            .unwrap_err();
        assert_eq!(fields(gap), ["allocation.bands[1].min_points"]);
        let overlap = banded(vec![band(0, 5, "0.00"), band(5, 18, "1.00")])
            .validate()
            .unwrap_err();
        assert_eq!(fields(overlap), ["allocation.bands[1].min_points"]);
        let late = banded(vec![band(1, 18, "1.00")]).validate().unwrap_err();
        assert_eq!(fields(late), ["allocation.bands[0].min_points"]);
        let short = banded(vec![band(0, 17, "1.00")]).validate().unwrap_err();
        assert_eq!(fields(short), ["allocation.bands"]);
        let upside_down = banded(vec![band(0, 18, "1.00"), band(19, 10, "1.00")])
            .validate()
            .unwrap_err();
        assert_eq!(fields(upside_down), ["allocation.bands[1].max_points"]);
        assert!(banded(vec![band(0, 18, "1.00")]).validate().is_ok());
    }

    #[test]
    fn per_point_is_exact_and_held_to_the_cap() {
        let mut input = banded(vec![]);
        input.allocation = AllocationTableInput {
            bands: None,
            per_point: Some(p("33.33")),
            cap: Some(p("500.00")),
        };
        let ras = input.validate().unwrap();
        let at = |h, c| ras.definition.score(&answers(&[("health", h), ("carers", c)])).unwrap();
        let nine = at(1, 1); // 9 points
        assert_eq!((nine.amount, nine.capped), (p("299.97"), false));
        let fifteen = at(2, 1); // 14 points: 466.62
        assert_eq!(fifteen.amount, p("466.62"));
        let over = at(2, 2); // 18 points: 599.94, over the cap
        assert_eq!((over.amount, over.capped, over.band), (p("500.00"), true, None));
        assert_eq!(at(0, 0).amount, Pence::ZERO);
    }

    #[test]
    fn the_allocation_is_bands_or_per_point_with_cap() {
        let mut input = banded(vec![]);
        input.allocation = AllocationTableInput {
            bands: None,
            per_point: Some(p("1.00")),
            cap: None,
        };
        assert_eq!(fields(input.clone().validate().unwrap_err()), ["allocation.cap"]);
        input.allocation = AllocationTableInput::default();
        assert_eq!(fields(input.validate().unwrap_err()), ["allocation"]);
    }

    #[test]
    fn questions_need_unique_ids_answers_and_sane_points() {
        let mut input = banded(vec![band(0, 2000, "1.00")]);
        input.questions[1].id = "health".into();
        input.questions.push(question("bad id!", &[1]));
        input.questions.push(question("none", &[]));
        input.questions.push(question("neg", &[-1, 1001]));
        let f = fields(input.validate().unwrap_err());
        assert!(f.contains(&"questions[1].id".to_string()), "{f:?}");
        assert!(f.contains(&"questions[2].id".to_string()), "{f:?}");
        assert!(f.contains(&"questions[3].answers".to_string()), "{f:?}");
        assert!(f.contains(&"questions[4].answers[0].points".to_string()), "{f:?}");
        assert!(f.contains(&"questions[4].answers[1].points".to_string()), "{f:?}");
    }

    #[test]
    fn every_question_is_answered_once_with_a_real_answer() {
        let ras = banded(vec![band(0, 18, "1.00")]).validate().unwrap();
        let e = ras
            .definition
            .score(&answers(&[("health", 3), ("other", 0)]))
            .unwrap_err();
        let f = fields(e);
        assert!(f.contains(&"answers.health".to_string()), "{f:?}");
        assert!(f.contains(&"answers.carers".to_string()), "{f:?}");
        assert!(f.contains(&"answers.other".to_string()), "{f:?}");
        let negative = ras
            .definition
            .score(&answers(&[("health", -1), ("carers", 0)]))
            .unwrap_err();
        assert_eq!(fields(negative), ["answers.health"]);
    }

    #[test]
    fn a_stored_definition_scores_the_same_after_a_round_trip() {
        let ras = banded(vec![band(0, 9, "100.00"), band(10, 18, "250.00")])
            .validate()
            .unwrap();
        let stored = serde_json::to_string(&ras.definition).unwrap();
        let back: RasDefinition = serde_json::from_str(&stored).unwrap();
        let a = answers(&[("health", 2), ("carers", 0)]);
        assert_eq!(back.score(&a).unwrap(), ras.definition.score(&a).unwrap());
        assert_eq!(back.max_score(), 18);
    }

    #[test]
    fn the_typed_questionnaire_reads_back_as_it_was_written() {
        let text = "## Being healthy\nhealthy: How much support?\n- None = 0\n- A lot = 10\n\ncarers: A break?\n- Rarely = 0\n";
        let questions = questions_from_text(text).unwrap();
        assert_eq!(questions.len(), 2);
        assert_eq!(questions[1].section.as_deref(), Some("Being healthy"));
        assert_eq!(questions[0].answers[1].points, 10);
        let bands = bands_from_text("0-5 = 0.00\n6-10 = £1200.50").unwrap();
        let ras = RasInput {
            name: "Typed".into(),
            stream: Stream::SocialCare,
            questions,
            allocation: AllocationTableInput {
                bands: Some(bands),
                ..Default::default()
            },
        }
        .validate()
        .unwrap();
        assert_eq!(ras.definition.questions_text(), text.replace("\n\n", "\n"));
        assert_eq!(ras.definition.bands_text(), "0-5 = 0.00\n6-10 = 1200.50\n");
        let e = questions_from_text("- orphan = 1\nq: text\n- no points\n").unwrap_err();
        let lines: Vec<_> = e.0.iter().map(|f| f.message.clone()).collect();
        assert!(lines[0].starts_with("line 1"), "{lines:?}");
        assert!(lines[1].starts_with("line 3"), "{lines:?}");
        assert!(bands_from_text("0 to 5 = 1").is_err());
    }
}
