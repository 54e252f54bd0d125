//! Key prefixes from the settings, and which of them a key sent back lies under.

use ulid::Ulid;

use super::{KeyError, MAX_FILENAME_BYTES, MAX_KEY_BYTES, MAX_PREFIX_BYTES};
use crate::upload::access::{MAX_USER_ID_BYTES, UserId};

/// The prefix segment that stands for the caller's user id.
const USER_PLACEHOLDER: &str = "{user}";

/// A validated key prefix, such as `avatars/`: no leading `/`, no `..` segment, no `$` or `\`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyPrefix(String);

impl KeyPrefix {
    /// Checks a prefix from the settings: empty, or folders ending in `/` (no leading `/`, no
    /// empty, `.` or `..` segment), with `{user}` only as a whole segment, and no `$`, `\\` or
    /// control characters.
    pub fn parse(prefix: &str) -> Result<Self, KeyError> {
        // Room for the longest user id where `{user}` stands.
        let limit = match prefix.contains(USER_PLACEHOLDER) {
            true => MAX_PREFIX_BYTES - (MAX_USER_ID_BYTES - USER_PLACEHOLDER.len()),
            false => MAX_PREFIX_BYTES,
        };
        if prefix.len() > limit {
            return Err(KeyError::TooLong {
                limit,
                len: prefix.len(),
            });
        }
        if prefix.chars().any(char::is_control) {
            return Err(KeyError::ControlCharacter);
        }
        if prefix.contains(['$', '\\']) {
            return Err(KeyError::PolicyUnsafe);
        }
        if prefix.is_empty() {
            return Ok(KeyPrefix(String::new()));
        }
        let Some(folders) = prefix.strip_suffix('/') else {
            return Err(KeyError::NoFolderBoundary);
        };
        let mut users = 0;
        for segment in folders.split('/') {
            if matches!(segment, "" | "." | "..") {
                return Err(KeyError::Segments);
            }
            users += usize::from(segment == USER_PLACEHOLDER);
            if segment != USER_PLACEHOLDER && segment.contains(['{', '}']) || users > 1 {
                return Err(KeyError::Placeholder);
            }
        }
        Ok(KeyPrefix(prefix.to_owned()))
    }

    /// The prefix with `{user}` replaced by `user`'s id; `None` if it names `{user}` and there
    /// is no user.
    pub fn for_user(&self, user: Option<&UserId>) -> Option<KeyPrefix> {
        match user {
            Some(user) => Some(KeyPrefix(self.0.replace(USER_PLACEHOLDER, user.as_str()))),
            None if self.names_user() => None,
            None => Some(self.clone()),
        }
    }

    /// What every key under the prefix starts with, whoever the user: the prefix up to its
    /// `{user}` segment (all of it if it has none).
    pub fn fixed_part(&self) -> &str {
        self.0.split(USER_PLACEHOLDER).next().unwrap_or_default()
    }

    /// Whether the prefix has a `{user}` segment.
    pub fn names_user(&self) -> bool {
        self.segments().any(|s| s == USER_PLACEHOLDER)
    }

    /// The folder names, without the empty one after the last `/`.
    fn segments(&self) -> impl Iterator<Item = &str> {
        self.0.split_terminator('/')
    }

    /// Whether a key could lie under both prefixes, with `{user}` standing for any one folder:
    /// one prefix is, segment by segment, the start of the other.
    pub fn overlaps(&self, other: &KeyPrefix) -> bool {
        self.segments()
            .zip(other.segments())
            .all(|(a, b)| a == b || a == USER_PLACEHOLDER || b == USER_PLACEHOLDER)
    }

    /// Whether, where the two prefixes overlap, one's `{user}` folder faces a named folder of the
    /// other's (`team/{user}/` and `team/inbox/`): the named folder would be some user's.
    pub fn user_folder_faces_named_folder(&self, other: &KeyPrefix) -> bool {
        self.overlaps(other)
            && self
                .segments()
                .zip(other.segments())
                .any(|(a, b)| (a == USER_PLACEHOLDER) != (b == USER_PLACEHOLDER))
    }

    /// Whether `key` has exactly the shape this service makes under this prefix: the prefix's
    /// folders (a `{user}` folder holding a valid user id), a ULID folder, then one file-name
    /// segment. Anything else — `..`, `.` or empty segments, `\\`, control characters, or such
    /// things percent-encoded — does not match, whatever a store would make of it.
    pub fn match_key(&self, key: &str) -> Option<KeyMatch> {
        if key.len() > MAX_KEY_BYTES {
            return None;
        }
        let mut rest = key;
        let mut user = None;
        for segment in self.segments() {
            let (folder, tail) = rest.split_once('/')?;
            if segment == USER_PLACEHOLDER {
                user = Some(UserId::parse_folder(folder)?);
            } else if folder != segment {
                return None;
            }
            rest = tail;
        }
        let (id, name) = rest.split_once('/')?;
        let canonical = Ulid::from_string(id).is_ok_and(|ulid| ulid.to_string() == id);
        (canonical && is_file_name_segment(name)).then_some(KeyMatch {
            user,
            specificity: self.segments().count(),
        })
    }

    /// The prefix as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// How a key a client sent back fits a prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyMatch {
    /// The user whose `{user}` folder the key is in, if the prefix names one.
    pub user: Option<UserId>,
    /// How specific the prefix is (its number of folders): the most specific matching prefix
    /// decides. (Prefixes where a `{user}` folder faces a named one are refused at start, so
    /// two matching prefixes of one depth are the same folders.)
    pub specificity: usize,
}

/// One file-name segment as a store keeps it: at most 255 bytes, no `/` or control character,
/// and a safe path for stores that read keys as paths ([`crate::s3::key_path::check`]: not empty,
/// `.` or `..`, no `\\`, also percent-decoded).
fn is_file_name_segment(name: &str) -> bool {
    name.len() <= MAX_FILENAME_BYTES
        && !name.contains('/')
        && !name.chars().any(char::is_control)
        && crate::s3::key_path::check(name).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::upload::identity::user_claim::UserPrefix;
    use crate::upload::keys::{FileName, ObjectKey, test_id as id};

    #[test]
    fn prefixes_cannot_escape_or_hold_policy_unsafe_characters() {
        for bad in [
            "/abs/",
            "a/../b/",
            "../",
            "./",
            "a//b/",
            "a$/",
            "a\\b/",
            "a\nb/",
            "users/uploads-",
            "loose/{user}",
            "loose/x{user}/",
            "loose/{user}x/",
            "a/{b}/",
            "a/{user}/b/{user}/",
        ] {
            assert!(KeyPrefix::parse(bad).is_err(), "{bad:?}");
        }
        for good in ["", "avatars/", "users/{user}/", "team/{user}/docs/"] {
            assert!(KeyPrefix::parse(good).is_ok(), "{good:?}");
        }
    }

    fn prefix(text: &str) -> KeyPrefix {
        KeyPrefix::parse(text).unwrap()
    }

    #[test]
    fn the_fixed_part_stops_at_the_user_folder() {
        assert_eq!(prefix("users/{user}/").fixed_part(), "users/");
        assert_eq!(prefix("team/{user}/docs/").fixed_part(), "team/");
        assert_eq!(prefix("{user}/").fixed_part(), "");
        assert_eq!(prefix("avatars/").fixed_part(), "avatars/");
        assert_eq!(prefix("").fixed_part(), "");
    }

    #[test]
    fn only_keys_of_the_shape_made_here_match() {
        let users = prefix("users/{user}/");
        let made = format!("users/alice/{}/report (1).pdf", id());
        let matched = users.match_key(&made).unwrap();
        assert_eq!(matched.user.as_ref().map(UserId::as_str), Some("alice"));
        assert_eq!(matched.specificity, 2);
        let ulid = id();
        for bad in [
            format!("users/alice/../bob/{ulid}/x"),
            format!("users/alice/./{ulid}/x"),
            format!("users/alice//{ulid}/x"),
            format!("users/alice/{ulid}/../x"),
            format!("users/alice/{ulid}/.."),
            format!("users/alice/{ulid}/%2e%2e"),
            format!("users/alice/{ulid}/a%5cb"),
            format!("users/alice/{ulid}/a/b"),
            format!("users/alice/{ulid}/a\\b"),
            format!("users/alice/{ulid}/"),
            format!("users/alice/{ulid}/a\nb"),
            format!("users/alice/{}/x", ulid.to_string().to_lowercase()),
            "users/alice/not-a-ulid/x".to_owned(),
            format!("users/al ice/{ulid}/x"),
            format!("/users/alice/{ulid}/x"),
            format!("users/alice/{ulid}/{}", "n".repeat(256)),
        ] {
            assert_eq!(users.match_key(&bad), None, "{bad:?}");
        }
        assert_eq!(
            prefix("")
                .match_key(&format!("{ulid}/x"))
                .map(|m| m.specificity),
            Some(0)
        );
        assert_eq!(
            prefix("loose/").match_key(&format!("loose/a/{ulid}/x")),
            None
        );
    }

    #[test]
    fn prefixes_overlap_when_one_can_hold_the_others_keys() {
        let overlapping = [
            ("team/", "team/{user}/"),
            ("", "anything/"),
            ("users/{user}/", "users/alice/"),
            ("a/{user}/b/", "a/x/"),
        ];
        for (a, b) in overlapping {
            assert!(prefix(a).overlaps(&prefix(b)), "{a} {b}");
            assert!(prefix(b).overlaps(&prefix(a)), "{b} {a}");
        }
        for (a, b) in [("team/", "teams/"), ("a/{user}/b/", "a/x/c/"), ("x/", "y/")] {
            assert!(!prefix(a).overlaps(&prefix(b)), "{a} {b}");
        }
    }

    #[test]
    fn a_user_folder_facing_a_named_folder_is_told_apart() {
        for (a, b) in [
            ("team/{user}/", "team/inbox/"),
            ("team/{user}/", "team/inboxes/x/"),
            ("{user}/", "docs/"),
        ] {
            assert!(
                prefix(a).user_folder_faces_named_folder(&prefix(b)),
                "{a} {b}"
            );
            assert!(
                prefix(b).user_folder_faces_named_folder(&prefix(a)),
                "{b} {a}"
            );
        }
        for (a, b) in [
            ("users/{user}/", "users/{user}/docs/"),
            ("team/", "team/{user}/"),
            ("a/{user}/", "b/x/"),
        ] {
            assert!(
                !prefix(a).user_folder_faces_named_folder(&prefix(b)),
                "{a} {b}"
            );
        }
    }

    #[test]
    fn a_filled_in_user_prefix_still_fits_a_key() {
        let limit = MAX_PREFIX_BYTES - (MAX_USER_ID_BYTES - USER_PLACEHOLDER.len());
        assert_eq!(limit, 493, "742 bytes, less room for a 255-byte folder");
        let template = format!("{}/{{user}}/", "p".repeat(limit - "/{user}/".len()));
        // The longest folder a claim can give: `PREFIX.` and 238 bytes (79 escapes and a `u`).
        let prefix16 = UserPrefix::parse(&"p".repeat(16)).unwrap();
        let claim = format!("{}u", "|".repeat(79));
        let user = UserId::from_claim(Some(&prefix16), &claim).unwrap();
        assert_eq!(user.as_str().len(), MAX_USER_ID_BYTES);
        let filled = prefix(&template).for_user(Some(&user)).unwrap();
        let name = FileName::sanitize(&"n".repeat(MAX_FILENAME_BYTES)).unwrap();
        let key = ObjectKey::new(&filled, id(), &name);
        assert!(key.as_str().len() <= MAX_KEY_BYTES);
        assert!(prefix(&template).match_key(key.as_str()).is_some());
        assert!(KeyPrefix::parse(&format!("p{template}")).is_err());
    }

    #[test]
    fn names_a_store_would_not_read_as_paths_match() {
        let ulid = id();
        for name in ["a%2Fb.txt", "100%.txt", "..dots..", "a b+c.txt"] {
            assert!(
                prefix("f/")
                    .match_key(&format!("f/{ulid}/{name}"))
                    .is_some(),
                "{name}"
            );
        }
    }

    #[test]
    fn keys_in_claim_folders_name_their_user() {
        let ulid = id();
        let users = prefix("users/{user}/");
        let a0 = UserPrefix::parse("a0").unwrap();
        let user = UserId::from_claim(Some(&a0), "auth0|64f").unwrap();
        let key = format!("users/{}/{ulid}/a.txt", user.as_str());
        assert_eq!(users.match_key(&key).unwrap().user, Some(user));
        for folder in ["a0.a_2f", "a0._2e_2e", "a0.", ".", "A0.x", "a0.x.y"] {
            assert!(
                users
                    .match_key(&format!("users/{folder}/{ulid}/a.txt"))
                    .is_none(),
                "{folder}"
            );
        }
    }

    #[test]
    fn user_prefixes_are_filled_in() {
        let alice = UserId::parse("alice").unwrap();
        assert_eq!(
            prefix("users/{user}/").for_user(Some(&alice)),
            Some(prefix("users/alice/"))
        );
        assert_eq!(prefix("users/{user}/").for_user(None), None);
        assert_eq!(prefix("docs/").for_user(None), Some(prefix("docs/")));
    }
}
