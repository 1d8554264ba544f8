//! The outcome taxonomy shared by plans and services, shipped as a versioned data file.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::text_enum;
use super::validate::FieldError;

text_enum!(
    Vocabulary { Outcome = "outcome", Need = "need", ServiceType = "service_type" }
);

/// A term's stable id, e.g. `pfa-friends-community` or `st-short-break-overnight`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TermId(pub String);

impl TermId {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Term {
    pub id: TermId,
    pub vocabulary: Vocabulary,
    pub label: String,
    pub parent: Option<TermId>,
    #[serde(default)]
    pub synonyms: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct TaxonomyFile {
    version: String,
    source: String,
    #[serde(default)]
    stop_words: Vec<String>,
    #[serde(default)]
    filler_words: Vec<String>,
    terms: Vec<Term>,
}

#[derive(Debug, Clone)]
pub struct Taxonomy {
    pub version: String,
    pub source: String,
    pub terms: Vec<Term>,
    /// Words that say nothing about a service ("someone", "my", "son"): free text is searched
    /// without them, so a long question is decided by the words that matter.
    pub stop_words: Vec<String>,
    /// Words left out when free text is read for the terms it names, so "take my daughter out"
    /// names what "take out" does.
    pub filler_words: Vec<String>,
    by_id: HashMap<TermId, usize>,
}

#[derive(Debug, thiserror::Error)]
pub enum TaxonomyError {
    #[error("taxonomy data file does not parse: {0}")]
    Parse(#[from] serde_json::Error),
    #[error("taxonomy term {0:?} is listed twice")]
    Duplicate(String),
    #[error("taxonomy term {0:?} names a parent that is not an earlier term of its vocabulary")]
    BadParent(String),
    #[error("taxonomy term id {0:?} must be lower-case letters, digits and hyphens")]
    BadId(String),
}

const BUILTIN: &str = include_str!("taxonomy.json");

impl Taxonomy {
    pub fn builtin() -> Result<Taxonomy, TaxonomyError> {
        Taxonomy::parse(BUILTIN)
    }

    pub fn parse(json: &str) -> Result<Taxonomy, TaxonomyError> {
        let file: TaxonomyFile = serde_json::from_str(json)?;
        let mut by_id = HashMap::with_capacity(file.terms.len());
        for (i, term) in file.terms.iter().enumerate() {
            let id = term.id.as_str();
            if id.is_empty()
                || !id
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            {
                return Err(TaxonomyError::BadId(id.to_string()));
            }
            if let Some(parent) = &term.parent {
                let parent_ok = by_id
                    .get(parent)
                    .is_some_and(|&p: &usize| file.terms[p].vocabulary == term.vocabulary);
                if !parent_ok {
                    return Err(TaxonomyError::BadParent(id.to_string()));
                }
            }
            if by_id.insert(term.id.clone(), i).is_some() {
                return Err(TaxonomyError::Duplicate(id.to_string()));
            }
        }
        Ok(Taxonomy {
            version: file.version,
            source: file.source,
            terms: file.terms,
            stop_words: file.stop_words,
            filler_words: file.filler_words,
            by_id,
        })
    }

    pub fn get(&self, id: &str) -> Option<&Term> {
        self.by_id.get(&TermId(id.to_string())).map(|&i| &self.terms[i])
    }

    /// The terms whose label or a synonym is `name`, ignoring case and spacing: how another
    /// directory's "Short breaks" or "Respite" finds ours ("respite" names two).
    pub fn named<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a Term> + 'a {
        let wanted = name.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase();
        self.terms.iter().filter(move |t| {
            !wanted.is_empty()
                && (t.label.to_lowercase() == wanted || t.synonyms.iter().any(|s| s.to_lowercase() == wanted))
        })
    }

    /// The term and its ancestors, nearest first: a service meeting `pfa-friends-community-activities`
    /// also serves a plan asking for `pfa-friends-community`.
    pub fn lineage<'a>(&'a self, id: &str) -> impl Iterator<Item = &'a Term> + 'a {
        std::iter::successors(self.get(id), move |t| {
            t.parent.as_ref().and_then(|p| self.get(p.as_str()))
        })
    }

    /// The term and every term below it.
    fn subtree<'a>(&'a self, id: &'a str) -> impl Iterator<Item = &'a Term> + 'a {
        self.terms
            .iter()
            .filter(move |t| self.lineage(t.id.as_str()).any(|a| a.id.as_str() == id))
    }

    /// The terms strictly above `id`, nearest first: a plan asking for "making and keeping
    /// friends" is also served, less exactly, by a service claiming "friends, relationships and
    /// community".
    pub fn broader<'a>(&'a self, id: &str) -> impl Iterator<Item = &'a Term> + 'a {
        self.lineage(id).skip(1)
    }

    /// The need terms that make a service for a child with `needs`: each need, the broader terms
    /// above it (a service for "sensory and/or physical needs" is for a deaf child) and the
    /// narrower ones below it (a plan recording only "communication and interaction" may be a
    /// child with autism). A service tagged only with other needs is not for the child; one with
    /// no need tags is for everyone.
    pub fn needs_served(&self, needs: &[TermId]) -> Vec<TermId> {
        let mut out: Vec<TermId> = Vec::new();
        for need in needs {
            for term in self.lineage(need.as_str()).chain(self.subtree(need.as_str())) {
                if !out.contains(&term.id) {
                    out.push(term.id.clone());
                }
            }
        }
        out
    }

    /// Check a list of ids from a request: each must exist and belong to `vocabulary`.
    /// Duplicates are dropped, order kept.
    pub fn check(&self, field: &str, ids: &[String], vocabulary: Vocabulary) -> Result<Vec<TermId>, FieldError> {
        let mut out: Vec<TermId> = Vec::with_capacity(ids.len());
        for (i, id) in ids.iter().enumerate() {
            let field = format!("{field}[{i}]");
            let term = self.get(id.trim()).ok_or_else(|| {
                FieldError::new(
                    &field,
                    format!(
                        "{:?} is not a term in the taxonomy (GET /api/v1/taxonomy lists them)",
                        truncate(id)
                    ),
                )
            })?;
            if term.vocabulary != vocabulary {
                return Err(FieldError::new(
                    &field,
                    format!(
                        "{:?} is a {} term, not {}",
                        term.id.as_str(),
                        term.vocabulary,
                        vocabulary
                    ),
                ));
            }
            if !out.contains(&term.id) {
                out.push(term.id.clone());
            }
        }
        Ok(out)
    }
}

fn truncate(s: &str) -> String {
    s.chars().take(60).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_taxonomy_loads_and_covers_the_design() {
        let t = Taxonomy::builtin().unwrap();
        for (id, vocabulary) in [
            ("pfa-employment", Vocabulary::Outcome),
            ("pfa-independent-living", Vocabulary::Outcome),
            ("pfa-friends-community", Vocabulary::Outcome),
            ("pfa-good-health", Vocabulary::Outcome),
            ("ecm-be-healthy", Vocabulary::Outcome),
            ("ecm-stay-safe", Vocabulary::Outcome),
            ("ecm-enjoy-achieve", Vocabulary::Outcome),
            ("ecm-positive-contribution", Vocabulary::Outcome),
            ("ecm-economic-wellbeing", Vocabulary::Outcome),
            ("need-communication-interaction", Vocabulary::Need),
            ("need-cognition-learning", Vocabulary::Need),
            ("need-semh", Vocabulary::Need),
            ("need-sensory-physical", Vocabulary::Need),
            ("st-short-break-overnight", Vocabulary::ServiceType),
            ("st-salt", Vocabulary::ServiceType),
            ("st-personal-assistant", Vocabulary::ServiceType),
        ] {
            assert_eq!(t.get(id).map(|x| x.vocabulary), Some(vocabulary), "{id}");
        }
        assert!(t.get("st-salt").unwrap().synonyms.iter().any(|s| s == "speech therapy"));
        assert!(t.get("st-short-break").unwrap().synonyms.iter().any(|s| s == "respite"));
    }

    #[test]
    fn lineage_walks_up_to_the_root() {
        let t = Taxonomy::builtin().unwrap();
        let ids: Vec<_> = t.lineage("st-short-break-overnight").map(|x| x.id.as_str()).collect();
        assert_eq!(ids, ["st-short-break-overnight", "st-short-break"]);
    }

    #[test]
    fn broader_terms_are_the_ancestors_nearest_first() {
        let t = Taxonomy::builtin().unwrap();
        let ids: Vec<_> = t
            .broader("pfa-friends-community-friendships")
            .map(|x| x.id.as_str())
            .collect();
        assert_eq!(ids, ["pfa-friends-community", "pfa"]);
        assert_eq!(t.broader("pfa").count(), 0);
    }

    #[test]
    fn the_needs_a_child_is_served_by_are_on_its_lines_of_the_tree() {
        let t = Taxonomy::builtin().unwrap();
        let served = |needs: &[&str]| {
            let needs: Vec<TermId> = needs.iter().map(|n| TermId(n.to_string())).collect();
            t.needs_served(&needs).into_iter().map(|n| n.0).collect::<Vec<_>>()
        };
        // A child with autism: autism and the broad area above it, not a sibling or another area.
        assert_eq!(
            served(&["need-autism"]),
            ["need-autism", "need-communication-interaction"]
        );
        // A plan recording only the broad area is served by the narrower terms within it.
        let broad = served(&["need-sensory-physical"]);
        assert!(broad.contains(&"need-hearing-impairment".to_string()));
        assert!(broad.contains(&"need-visual-impairment".to_string()));
        assert!(!broad.contains(&"need-autism".to_string()));
        // Several needs: the union, each once.
        let both = served(&["need-autism", "need-anxiety"]);
        assert_eq!(both.len(), 4, "{both:?}");
        assert!(served(&[]).is_empty());
    }

    #[test]
    fn check_names_the_offending_entry() {
        let t = Taxonomy::builtin().unwrap();
        let ok = t
            .check(
                "outcomes",
                &["pfa-employment".into(), "pfa-employment".into()],
                Vocabulary::Outcome,
            )
            .unwrap();
        assert_eq!(ok.len(), 1);
        let e = t
            .check(
                "outcomes",
                &["pfa-employment".into(), "nope".into()],
                Vocabulary::Outcome,
            )
            .unwrap_err();
        assert_eq!(e.field, "outcomes[1]");
        let e = t
            .check("outcomes", &["st-salt".into()], Vocabulary::Outcome)
            .unwrap_err();
        assert!(e.message.contains("service_type"), "{}", e.message);
    }

    #[test]
    fn broken_files_are_refused() {
        let dup = r#"{"version":"1","source":"x","terms":[{"id":"a","vocabulary":"need","label":"A","parent":null},{"id":"a","vocabulary":"need","label":"A","parent":null}]}"#;
        assert!(matches!(Taxonomy::parse(dup), Err(TaxonomyError::Duplicate(_))));
        let orphan =
            r#"{"version":"1","source":"x","terms":[{"id":"a","vocabulary":"need","label":"A","parent":"b"}]}"#;
        assert!(matches!(Taxonomy::parse(orphan), Err(TaxonomyError::BadParent(_))));
        let mixed = r#"{"version":"1","source":"x","terms":[{"id":"a","vocabulary":"need","label":"A","parent":null},{"id":"b","vocabulary":"outcome","label":"B","parent":"a"}]}"#;
        assert!(matches!(Taxonomy::parse(mixed), Err(TaxonomyError::BadParent(_))));
    }
}
