//! Prompts: the metadata of a tenant's audio assets (name, language, description). The audio
//! itself, its duration and storage key arrive with the media engine, which fills the columns
//! this module leaves empty.

use hotline_core::ids::PromptId;
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::crud::{AnyQuery, Spec, Stored};
use crate::error::{Invalid, StoreResult};
use crate::validate;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PromptSpec {
    /// Unique in the tenant; how IVR plugins name the prompt.
    pub name: String,
    #[serde(default = "default_language")]
    pub language: String,
    #[serde(default)]
    pub description: String,
}

fn default_language() -> String {
    "en".into()
}

pub type Prompt = Stored<PromptSpec>;

impl Spec for PromptSpec {
    type Id = PromptId;
    const RESOURCE: &'static str = "prompt";
    const TABLE: &'static str = "prompts";
    const COLUMNS: &'static [&'static str] = &["name", "language", "description"];
    const REFERENCED_BY: &'static [(&'static str, &'static str, &'static str)] = &[
        ("queue", "queues", "moh_prompt_id"),
        ("queue", "queues", "overflow"),
        ("hotline", "hotlines", "closed_action"),
    ];

    fn bind<'q>(&'q self, query: AnyQuery<'q>) -> AnyQuery<'q> {
        query
            .bind(&self.name)
            .bind(&self.language)
            .bind(&self.description)
    }

    fn from_row(row: &AnyRow) -> StoreResult<Self> {
        Ok(Self {
            name: row.try_get("name")?,
            language: row.try_get("language")?,
            description: row.try_get("description")?,
        })
    }

    fn validate(&self) -> Result<(), Invalid> {
        let mut invalid = Invalid::new();
        validate::name(&mut invalid, "name", &self.name);
        validate::language(&mut invalid, "language", &self.language);
        if self.description.chars().count() > 2000 {
            invalid.add("description", "must be at most 2000 characters");
        }
        invalid.into_result()
    }
}
