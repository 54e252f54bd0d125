//! Who may use a profile: anyone (`public`), or holders of a configured bearer token, each
//! standing for a user whose id can name the key prefix (`{user}`) — pure.

use sha2::{Digest, Sha256};

use super::identity::user_claim::{self, UserClaimError, UserPrefix};

/// Who may use a profile.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Access {
    /// Anyone who can reach the service (the default).
    #[default]
    Public,
    /// Holders of a configured bearer token.
    Token,
}

/// The longest user id, in bytes: a folder from an identity provider's claim (a static token's
/// user is at most [`MAX_TOKEN_USER_ID_BYTES`]).
pub const MAX_USER_ID_BYTES: usize = user_claim::MAX_FOLDER_BYTES;

/// The longest user id a configured token may name, in bytes.
pub const MAX_TOKEN_USER_ID_BYTES: usize = 64;

/// A user id, safe as a key folder: from the settings (1-64 of `A-Z a-z 0-9 - _`) or from an
/// identity provider's claim by the folder rule of [`user_claim`] (`[A-Za-z0-9_.-]`, at most
/// [`MAX_USER_ID_BYTES`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserId(String);

impl UserId {
    /// Checks an id from the settings.
    pub fn parse(id: &str) -> Option<Self> {
        let ok = (1..=MAX_TOKEN_USER_ID_BYTES).contains(&id.len())
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'));
        ok.then(|| UserId(id.to_owned()))
    }

    /// The user an identity provider's claim names: its folder, after the issuer's prefix.
    pub fn from_claim(prefix: Option<&UserPrefix>, claim: &str) -> Result<Self, UserClaimError> {
        user_claim::folder_for(prefix, claim).map(UserId)
    }

    /// The user whose `{user}` folder a key sent back is in: a settings id, or exactly what
    /// [`UserId::from_claim`] makes.
    pub fn parse_folder(folder: &str) -> Option<Self> {
        UserId::parse(folder)
            .or_else(|| user_claim::is_claim_folder(folder).then(|| UserId(folder.to_owned())))
    }

    /// The id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Who is asking: anyone, or a user that a configured token vouched for (later also an
/// identity provider's token). The upload service takes it as given; the HTTP edge decides it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// No credentials: only public profiles.
    Anonymous,
    /// An authenticated user, whose id fills `{user}` in key prefixes.
    User(UserId),
}

impl Caller {
    /// The user, if the caller is one.
    pub fn user(&self) -> Option<&UserId> {
        match self {
            Caller::Anonymous => None,
            Caller::User(user) => Some(user),
        }
    }
}

/// A configured token: only its SHA-256 is kept (the settings hold the hash, never the token).
/// Its `Debug` shows the user, not the hash.
#[derive(Clone, PartialEq, Eq)]
pub struct Token {
    sha256: [u8; 32],
    user: UserId,
}

/// The hash stays out of logs and debug output: it is all it takes to test guesses at the
/// token offline.
impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Token")
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

/// The lower-case hex SHA-256 of a token, as the settings hold it.
pub fn hash_token(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl Token {
    /// A token from its hex SHA-256 and its user.
    pub fn new(sha256_hex: &str, user: UserId) -> Option<Self> {
        if sha256_hex.len() != 64 {
            return None;
        }
        let mut sha256 = [0u8; 32];
        for (i, byte) in sha256.iter_mut().enumerate() {
            *byte = u8::from_str_radix(sha256_hex.get(2 * i..2 * i + 2)?, 16).ok()?;
        }
        Some(Token { sha256, user })
    }
}

/// The user whose token was presented, comparing in constant time against every token (the
/// time taken does not depend on which, if any, matched).
pub fn authenticate<'a>(tokens: &'a [Token], presented: &str) -> Option<&'a UserId> {
    let digest: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
    let mut found = None;
    for token in tokens {
        let difference = token
            .sha256
            .iter()
            .zip(digest.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b));
        if difference == 0 {
            found = Some(&token.user);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_match_only_their_own_hash() {
        let alice =
            Token::new(&hash_token("alice-secret"), UserId::parse("alice").unwrap()).unwrap();
        let bob = Token::new(&hash_token("bob-secret"), UserId::parse("bob").unwrap()).unwrap();
        let tokens = [alice, bob];
        assert_eq!(
            authenticate(&tokens, "bob-secret").map(UserId::as_str),
            Some("bob")
        );
        assert_eq!(
            authenticate(&tokens, "alice-secret").map(UserId::as_str),
            Some("alice")
        );
        assert_eq!(authenticate(&tokens, "mallory"), None);
        assert_eq!(authenticate(&tokens, ""), None);
    }

    #[test]
    fn debug_shows_the_user_but_not_the_hash() {
        let hash = hash_token("alice-secret");
        let token = Token::new(&hash, UserId::parse("alice").unwrap()).unwrap();
        let shown = format!("{token:?} {token:#?}");
        assert!(
            shown.starts_with(r#"Token { user: UserId("alice"), .. }"#),
            "{shown}"
        );
        let first_byte = token.sha256[0].to_string();
        assert!(
            !shown.contains(&hash[..8]) && !shown.contains("sha256"),
            "{shown}"
        );
        assert!(!shown.contains(&format!("[{first_byte},")), "{shown}");
    }

    #[test]
    fn bad_hashes_and_ids_are_refused() {
        let user = UserId::parse("u").unwrap();
        assert!(Token::new("abc", user.clone()).is_none());
        assert!(Token::new(&"zz".repeat(32), user).is_none());
        for bad in ["", "a/b", "a{b}", &"x".repeat(65), "a b"] {
            assert!(UserId::parse(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn claims_name_folders_and_folders_name_users() {
        let prefix = UserPrefix::parse("a0").unwrap();
        let user = UserId::from_claim(Some(&prefix), "auth0|64f").unwrap();
        assert_eq!(user.as_str(), "a0.auth0_7c64f");
        assert_eq!(UserId::parse_folder(user.as_str()), Some(user));
        assert!(UserId::from_claim(None, "../bob").is_err());
        assert_eq!(UserId::parse_folder("alice"), UserId::parse("alice"));
        assert_eq!(UserId::parse_folder("a_b"), UserId::parse("a_b"));
        for bad in ["", ".", "..", "a.b.c", "a/b", "a.a_2f", "{user}"] {
            assert_eq!(UserId::parse_folder(bad), None, "{bad:?}");
        }
        // Longer than a token's user, but a claim's folder.
        let long = "x".repeat(MAX_TOKEN_USER_ID_BYTES + 1);
        assert!(UserId::parse(&long).is_none());
        assert_eq!(
            UserId::parse_folder(&long),
            UserId::from_claim(None, &long).ok()
        );
    }
}
