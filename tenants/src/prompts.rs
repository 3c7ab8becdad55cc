//! Prompts: a tenant's audio assets. The metadata (name, language, description) is a plain
//! [`Spec`] resource; the audio is set only by an upload, which records where the converted
//! file is stored and how long it plays ([`Store::begin_prompt_audio_change`]).
//!
//! The file itself belongs to the caller's file store: this module keeps its key and duration,
//! never its bytes. A change of audio is a change of the prompt: its version moves (so ETags
//! and the call engine's prompt cache see it) and the audit log records it.

use hotline_core::ids::PromptId;
use hotline_core::{time, TenantScope};
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use crate::audit::{self, Actor, AuditAction};
use crate::crud::{
    bind_page, select_sql_with, stored_from_row, AnyQuery, Page, PageRequest, Spec, Stored,
    PAGE_CLAUSE,
};
use crate::error::{Invalid, StoreError, StoreResult};
use crate::{validate, Store};

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

/// The columns only an upload sets.
const AUDIO_COLUMNS: &[&str] = &["duration_ms", "storage_key"];

/// A prompt's uploaded audio: where the converted file is and how long it plays.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PromptAudio {
    /// The file store's key of the converted WAV (under the tenant's prefix).
    pub storage_key: String,
    pub duration_ms: u64,
}

/// A prompt as the API shows it and the call engine looks it up: its metadata and whether its
/// audio has been uploaded.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Prompt {
    #[serde(flatten)]
    pub stored: Stored<PromptSpec>,
    /// False until audio is uploaded; a prompt without audio cannot be played.
    pub has_audio: bool,
    /// How long the uploaded audio plays, in milliseconds.
    pub duration_ms: Option<u64>,
    /// Internal: where the file is stored. Never shown (it names the storage layout).
    #[serde(skip)]
    storage_key: Option<String>,
}

impl Prompt {
    pub fn id(&self) -> PromptId {
        self.stored.id
    }

    pub fn version(&self) -> i64 {
        self.stored.version
    }

    pub fn name(&self) -> &str {
        &self.stored.spec.name
    }

    pub fn audio(&self) -> Option<PromptAudio> {
        Some(PromptAudio {
            storage_key: self.storage_key.clone()?,
            duration_ms: self.duration_ms?,
        })
    }

    fn from_row(row: &AnyRow) -> StoreResult<Self> {
        let storage_key: Option<String> = row.try_get("storage_key")?;
        let duration_ms: Option<i64> = row.try_get("duration_ms")?;
        let duration_ms = duration_ms
            .map(|ms| {
                u64::try_from(ms)
                    .map_err(|_| StoreError::Corrupt(format!("prompt duration_ms {ms}")))
            })
            .transpose()?;
        Ok(Self {
            stored: stored_from_row(row)?,
            has_audio: storage_key.is_some(),
            duration_ms: duration_ms.filter(|_| storage_key.is_some()),
            storage_key,
        })
    }
}

/// The tenant's prompt whose `column` (`id` or `name`: constants of this module, never input)
/// is `value`.
async fn fetch_prompt(
    conn: &mut sqlx::AnyConnection,
    scope: &TenantScope,
    column: &'static str,
    value: String,
) -> StoreResult<Prompt> {
    let sql = format!(
        "{} WHERE tenant_id = $1 AND {column} = $2",
        select_sql_with::<PromptSpec>(AUDIO_COLUMNS)
    );
    let row = sqlx::query(&sql)
        .bind(scope.db_id())
        .bind(value)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(StoreError::not_found(PromptSpec::RESOURCE))?;
    Prompt::from_row(&row)
}

/// A change of a prompt's audio, written and audited but not yet committed: the caller stores
/// (or removes) the file meanwhile and commits only when that worked. Dropping it rolls the
/// change back, so a failed file write leaves the prompt as it was.
///
/// The row stays locked until then: keep the time between begin and commit to the file write.
pub struct PromptAudioChange {
    tx: Transaction<'static, Any>,
    before: Prompt,
    after: Prompt,
}

impl PromptAudioChange {
    pub fn before(&self) -> &Prompt {
        &self.before
    }

    pub fn after(&self) -> &Prompt {
        &self.after
    }

    pub async fn commit(self) -> StoreResult<Prompt> {
        self.tx.commit().await?;
        Ok(self.after)
    }
}

impl Store {
    /// One prompt of the tenant, with its audio state.
    pub async fn get_prompt(&self, scope: &TenantScope, id: PromptId) -> StoreResult<Prompt> {
        let mut conn = self.db.pool().acquire().await?;
        fetch_prompt(&mut conn, scope, "id", id.to_db()).await
    }

    /// The tenant's prompt called `name` (what IVR plugins say).
    pub async fn find_prompt_by_name(
        &self,
        scope: &TenantScope,
        name: &str,
    ) -> StoreResult<Prompt> {
        let mut conn = self.db.pool().acquire().await?;
        fetch_prompt(&mut conn, scope, "name", name.to_string()).await
    }

    pub async fn list_prompts(
        &self,
        scope: &TenantScope,
        page: &PageRequest,
    ) -> StoreResult<Page<Prompt>> {
        let sql = format!(
            "{} {PAGE_CLAUSE}",
            select_sql_with::<PromptSpec>(AUDIO_COLUMNS)
        );
        let rows = bind_page(sqlx::query(&sql), scope, page)
            .fetch_all(self.db.pool())
            .await?;
        let items = rows
            .iter()
            .map(Prompt::from_row)
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(Page::from_overfetch(items, page, |p| p.stored.id.0))
    }

    /// Set (`Some`) or remove (`None`) a prompt's audio, if the prompt is still at
    /// `expected_version` (`None`: whatever it is now). The change is audited and the version
    /// moves, but nothing is committed until [`PromptAudioChange::commit`].
    pub async fn begin_prompt_audio_change(
        &self,
        actor: &Actor,
        scope: &TenantScope,
        id: PromptId,
        expected_version: Option<i64>,
        audio: Option<PromptAudio>,
    ) -> StoreResult<PromptAudioChange> {
        if let Some(audio) = &audio {
            if i64::try_from(audio.duration_ms).is_err() || audio.storage_key.is_empty() {
                return Err(Invalid::one("audio", "no usable duration or storage key").into());
            }
        }
        let mut tx = self.db.begin().await?;
        let before = fetch_prompt(&mut tx, scope, "id", id.to_db()).await?;
        let current = before.version();
        if expected_version.is_some_and(|expected| expected != current) {
            return Err(StoreError::VersionMismatch {
                resource: PromptSpec::RESOURCE,
                current,
            });
        }
        let now = time::now();
        let (storage_key, duration_ms) = match &audio {
            Some(audio) => (
                Some(audio.storage_key.clone()),
                i64::try_from(audio.duration_ms).ok(),
            ),
            None => (None, None),
        };
        let done = sqlx::query(
            "UPDATE prompts SET storage_key = $1, duration_ms = $2, version = $3, updated_at = $4 \
             WHERE tenant_id = $5 AND id = $6 AND version = $7",
        )
        .bind(storage_key.clone())
        .bind(duration_ms)
        .bind(current + 1)
        .bind(time::to_millis(now))
        .bind(scope.db_id())
        .bind(id.to_db())
        .bind(current)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            // Another writer changed it between our read and our write.
            return Err(StoreError::VersionMismatch {
                resource: PromptSpec::RESOURCE,
                current: current + 1,
            });
        }
        let after = Prompt {
            stored: Stored {
                version: current + 1,
                updated_at: now,
                ..before.stored.clone()
            },
            has_audio: audio.is_some(),
            duration_ms: audio.as_ref().map(|a| a.duration_ms),
            storage_key,
        };
        audit::record(
            &mut tx,
            Some(scope.tenant_id()),
            actor,
            AuditAction::Update,
            PromptSpec::RESOURCE,
            &id.to_string(),
            Some(&before),
            Some(&after),
        )
        .await?;
        Ok(PromptAudioChange { tx, before, after })
    }
}
