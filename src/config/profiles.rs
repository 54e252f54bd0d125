//! The `[profiles.NAME]` sections checked into [`Profile`]s through [`ProfileSpec`], and the
//! check that no two profiles expose each other's files.

use std::collections::BTreeMap;

use crate::s3::store::Store;
use crate::upload::disposition::Disposition;
use crate::upload::profile::{Profile, ProfileSpec};

use super::{FixedFieldSettings, ProfileSettings};

/// Every profile checked; the problems of one are listed under `profiles.NAME`.
pub(super) fn resolve_profiles(
    settings: BTreeMap<String, ProfileSettings>,
    store: Option<&Store>,
    problems: &mut Vec<String>,
) -> BTreeMap<String, Profile> {
    let mut profiles = BTreeMap::new();
    for (name, settings) in settings {
        match settings.resolve(&name, store) {
            Ok(profile) => {
                profiles.insert(name, profile);
            }
            Err(errors) => {
                problems.extend(errors.into_iter().map(|e| format!("profiles.{name}: {e}")))
            }
        }
    }
    profiles
}

impl ProfileSettings {
    /// The profile `name` built through [`ProfileSpec`] and, when the store is known, tried
    /// against its bucket; every problem is listed.
    fn resolve(self, name: &str, store: Option<&Store>) -> Result<Profile, Vec<String>> {
        let mut problems = Vec::new();
        let content_disposition = self.content_disposition.as_deref().and_then(|d| {
            let parsed = Disposition::parse(d);
            if parsed.is_none() {
                problems.push(format!(
                    "content_disposition `{d}` is not `inline` or `attachment`"
                ));
            }
            parsed
        });
        let fixed = FixedFieldSettings {
            acl: self.acl,
            cache_control: self.cache_control,
            storage_class: self.storage_class,
            server_side_encryption: self.server_side_encryption,
            kms_key_id: self.kms_key_id,
            success_action_status: self.success_action_status,
        };
        let fixed_fields = fixed
            .into_fields()
            .map_err(|e| problems.push(e))
            .unwrap_or_default();
        let spec = ProfileSpec::new(
            name,
            self.key_prefix,
            self.min_size..=self.max_size,
            self.expires,
        )
        .content_types(self.content_types)
        .metadata(self.metadata)
        .content_disposition(content_disposition)
        .fixed_fields(fixed_fields)
        .access(self.access)
        .downloads(self.downloads.then_some(self.download_expires))
        .presentation(self.title, self.description);
        let profile = match spec.build() {
            Ok(profile) if problems.is_empty() => profile,
            Ok(_) => return Err(problems),
            Err(more) => return Err(more.into_iter().chain(problems).collect()),
        };
        if let Some(store) = store {
            profile
                .policy_builder(store.bucket())
                .map_err(|e| vec![e.to_string()])?;
        }
        Ok(profile)
    }
}
