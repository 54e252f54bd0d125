//! The upload rules a service applies: the bucket, its profiles, and the profile Uppy's
//! `/s3/params` falls back to — checked as a whole, so that no profile can reach another's
//! files.

use std::collections::BTreeMap;

use super::access::Access;
use super::profile::Profile;
use crate::s3::store::Store;

/// Two profiles that must not share a bucket as they are, or a default that is not a profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CatalogError {
    /// Where the two profiles' prefixes overlap, one's `{user}` folder sits where the other
    /// names a folder: that folder would be some user's.
    UserFolderFacesNamedFolder {
        /// One profile.
        first: String,
        /// The other.
        second: String,
    },
    /// The two profiles' prefixes overlap but they differ in who may write (`access`) or read
    /// (`downloads`): the weaker would expose the stronger one's files.
    OverlapWithOtherRights {
        /// One profile.
        first: String,
        /// The other.
        second: String,
        /// `access`, `downloads`, or `access and downloads`.
        differ: &'static str,
    },
    /// The default profile names no profile.
    UnknownDefault(String),
}

/// A checked set of profiles for one bucket.
#[derive(Debug, Clone)]
pub struct Catalog {
    store: Store,
    profiles: BTreeMap<String, Profile>,
    default_profile: Option<String>,
}

impl Catalog {
    /// The profiles for `store`, if no two of them overlap with different rights and
    /// `default_profile`, if any, is one of them; else every problem found.
    pub fn new(
        store: Store,
        profiles: impl IntoIterator<Item = Profile>,
        default_profile: Option<String>,
    ) -> Result<Self, Vec<CatalogError>> {
        let profiles: BTreeMap<String, Profile> = profiles
            .into_iter()
            .map(|p| (p.name().to_owned(), p))
            .collect();
        let mut problems = overlapping_rights(&profiles);
        if let Some(name) = default_profile
            .as_ref()
            .filter(|n| !profiles.contains_key(*n))
        {
            problems.push(CatalogError::UnknownDefault(name.clone()));
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(Catalog {
            store,
            profiles,
            default_profile,
        })
    }

    /// The bucket uploads go to.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The profile called `name`.
    pub fn profile(&self, name: &str) -> Option<&Profile> {
        self.profiles.get(name)
    }

    /// Every profile, by name.
    pub fn profiles(&self) -> impl Iterator<Item = &Profile> {
        self.profiles.values()
    }

    /// The profile `/s3/params` uses when the request names none.
    pub fn default_profile(&self) -> Option<&str> {
        self.default_profile.as_deref()
    }

    /// The profiles anyone may upload with (`access = public`), which pages may list.
    pub fn public_profiles(&self) -> impl Iterator<Item = &Profile> {
        self.profiles().filter(|p| p.access() == Access::Public)
    }

    /// The profile, if there is exactly one.
    pub fn only_profile(&self) -> Option<&Profile> {
        let mut profiles = self.profiles.values();
        profiles.next().filter(|_| profiles.next().is_none())
    }

    /// Another profile with `profile`'s prefix and other size limits, if there is one: then
    /// `profile` takes no uploads in parts, since their keys would not say whose limits hold
    /// when they are completed (a POST's limits are in its policy, so POSTs are not affected).
    pub fn multipart_clash(&self, profile: &Profile) -> Option<&Profile> {
        self.profiles().find(|other| {
            other.name() != profile.name()
                && other.key_prefix() == profile.key_prefix()
                && other.size() != profile.size()
        })
    }
}

/// Pairs of profiles that could hold each other's keys but differ in who may write or read
/// them.
fn overlapping_rights(profiles: &BTreeMap<String, Profile>) -> Vec<CatalogError> {
    let list: Vec<&Profile> = profiles.values().collect();
    let mut problems = Vec::new();
    for (i, a) in list.iter().enumerate() {
        for b in &list[i + 1..] {
            if a.key_prefix()
                .user_folder_faces_named_folder(b.key_prefix())
            {
                problems.push(CatalogError::UserFolderFacesNamedFolder {
                    first: a.name().to_owned(),
                    second: b.name().to_owned(),
                });
                continue;
            }
            let access = a.access() != b.access();
            let downloads = a.downloads().is_some() != b.downloads().is_some();
            if !a.key_prefix().overlaps(b.key_prefix()) || !(access || downloads) {
                continue;
            }
            let differ = match (access, downloads) {
                (true, true) => "access and downloads",
                (true, false) => "access",
                _ => "downloads",
            };
            problems.push(CatalogError::OverlapWithOtherRights {
                first: a.name().to_owned(),
                second: b.name().to_owned(),
                differ,
            });
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::s3::store::AddressStyle;
    use crate::upload::profile::ProfileSpec;

    fn profile(name: &str, prefix: &str, access: Access) -> Profile {
        ProfileSpec::new(name, prefix, 0..=1024, Duration::from_secs(600))
            .access(access)
            .build()
            .unwrap()
    }

    fn store() -> Store {
        Store::new("uploads", "eu-west-1", None, AddressStyle::default()).unwrap()
    }

    #[test]
    fn profiles_that_could_reach_each_others_files_are_refused() {
        let problems = Catalog::new(
            store(),
            [
                profile("open", "files/", Access::Public),
                profile("private", "files/team/", Access::Token),
                profile("mine", "home/{user}/", Access::Token),
                profile("shared", "home/inbox/", Access::Token),
                profile("elsewhere", "other/", Access::Public),
            ],
            Some("missing".into()),
        )
        .unwrap_err();
        assert_eq!(
            problems,
            [
                CatalogError::UserFolderFacesNamedFolder {
                    first: "mine".into(),
                    second: "shared".into(),
                },
                CatalogError::OverlapWithOtherRights {
                    first: "open".into(),
                    second: "private".into(),
                    differ: "access",
                },
                CatalogError::UnknownDefault("missing".into()),
            ]
        );
    }

    #[test]
    fn pages_list_public_profiles_and_a_single_profile_stands_alone() {
        let catalog = Catalog::new(
            store(),
            [
                profile("photos", "photos/", Access::Public),
                profile("private", "private/", Access::Token),
            ],
            Some("photos".into()),
        )
        .unwrap();
        let public: Vec<&str> = catalog.public_profiles().map(Profile::name).collect();
        assert_eq!(public, ["photos"]);
        assert!(catalog.only_profile().is_none());
        assert_eq!(catalog.default_profile(), Some("photos"));
        let single = Catalog::new(store(), [profile("docs", "docs/", Access::Token)], None);
        assert_eq!(
            single.unwrap().only_profile().map(Profile::name),
            Some("docs")
        );
    }
}
