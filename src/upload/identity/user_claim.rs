//! The folder rule: how an identity provider's user claim becomes a `{user}` folder — pure.
//!
//! A claim that is empty, over [`MAX_CLAIM_BYTES`], or holds `/`, `\`, `$`, `..` or a control
//! character is refused: no provider issues such subjects, so they mean a hostile or broken
//! token. Anything else is encoded: `A-Z a-z 0-9 -` stay, every other byte (`_` and `.`
//! included) becomes `_` and two lower-case hex digits (`auth0|64f` → `auth0_7c64f`). The
//! encoding is a prefix code, so distinct claims give distinct folders; it never holds a raw
//! `.`, so an issuer's `PREFIX.` ends at the first `.` and distinct prefixes give disjoint
//! folders. Folders are `[A-Za-z0-9_.-]`, at most [`MAX_FOLDER_BYTES`].

/// The longest user claim accepted, in bytes.
pub const MAX_CLAIM_BYTES: usize = 128;
/// The longest folder a claim may give (with its prefix), in bytes.
pub const MAX_FOLDER_BYTES: usize = 255;
/// The longest issuer prefix, in bytes.
const MAX_PREFIX_BYTES: usize = 16;

/// An issuer's folder prefix: 1-16 of `a-z 0-9`, written before the encoded claim with a `.`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserPrefix(String);

impl UserPrefix {
    /// Checks a prefix.
    pub fn parse(prefix: &str) -> Option<Self> {
        let ok = (1..=MAX_PREFIX_BYTES).contains(&prefix.len())
            && prefix
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
        ok.then(|| UserPrefix(prefix.to_owned()))
    }

    /// The prefix.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Why a user claim cannot name a folder (the problem `user-claim-unusable`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UserClaimError {
    /// The token has no such claim.
    #[error("the token has no `{0}` claim")]
    Missing(String),
    /// The claim is not a JSON string.
    #[error("the token's `{0}` claim is not a string")]
    NotAString(String),
    /// The claim is the empty string.
    #[error("the user claim is empty")]
    Empty,
    /// The claim is longer than [`MAX_CLAIM_BYTES`].
    #[error("the user claim is {0} bytes, more than {MAX_CLAIM_BYTES}")]
    TooLong(usize),
    /// The claim holds `/`, `\`, `$`, `..` or a control character.
    #[error("the user claim holds `/`, `\\`, `$`, `..` or a control character")]
    Forbidden,
    /// The encoded folder would be longer than [`MAX_FOLDER_BYTES`].
    #[error("the user claim's folder would be {0} bytes, more than {MAX_FOLDER_BYTES}")]
    FolderTooLong(usize),
}

/// The folder a claim names: `PREFIX.` (if the issuer has one) and the encoded claim.
pub fn folder_for(prefix: Option<&UserPrefix>, claim: &str) -> Result<String, UserClaimError> {
    check(claim)?;
    let mut folder = String::with_capacity(claim.len() * 3);
    if let Some(prefix) = prefix {
        folder.push_str(prefix.as_str());
        folder.push('.');
    }
    for byte in claim.bytes() {
        if byte.is_ascii_alphanumeric() || byte == b'-' {
            folder.push(char::from(byte));
        } else {
            folder.push_str(&format!("_{byte:02x}"));
        }
    }
    match folder.len() {
        len if len > MAX_FOLDER_BYTES => Err(UserClaimError::FolderTooLong(len)),
        _ => Ok(folder),
    }
}

/// Whether `folder` is exactly what [`folder_for`] gives for some claim and prefix — the shape a
/// `{user}` folder from an identity provider has in a key sent back.
pub fn is_claim_folder(folder: &str) -> bool {
    let (prefix, encoded) = match folder.split_once('.') {
        Some((prefix, encoded)) => match UserPrefix::parse(prefix) {
            Some(prefix) => (Some(prefix), encoded),
            None => return false,
        },
        None => (None, folder),
    };
    decode(encoded)
        .and_then(|claim| String::from_utf8(claim).ok())
        .is_some_and(|claim| folder_for(prefix.as_ref(), &claim).as_deref() == Ok(folder))
}

/// The claim's bytes from its encoding, if every `_` opens two hex digits.
fn decode(encoded: &str) -> Option<Vec<u8>> {
    let mut bytes = encoded.bytes();
    let mut claim = Vec::with_capacity(encoded.len());
    while let Some(byte) = bytes.next() {
        if byte != b'_' {
            claim.push(byte);
            continue;
        }
        let hex = [bytes.next()?, bytes.next()?];
        claim.push(u8::from_str_radix(std::str::from_utf8(&hex).ok()?, 16).ok()?);
    }
    Some(claim)
}

/// Refuses what no claim may hold.
fn check(claim: &str) -> Result<(), UserClaimError> {
    if claim.is_empty() {
        return Err(UserClaimError::Empty);
    }
    if claim.len() > MAX_CLAIM_BYTES {
        return Err(UserClaimError::TooLong(claim.len()));
    }
    let forbidden = claim.contains(['/', '\\', '$'])
        || claim.contains("..")
        || claim.chars().any(char::is_control);
    match forbidden {
        true => Err(UserClaimError::Forbidden),
        false => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn prefix(p: &str) -> UserPrefix {
        UserPrefix::parse(p).unwrap()
    }

    #[test]
    fn claims_are_encoded_as_documented() {
        for (claim, folder) in [
            ("alice", "alice"),
            ("auth0|64f", "auth0_7c64f"),
            ("alice@x.io", "alice_40x_2eio"),
            ("é", "_c3_a9"),
            ("a_b", "a_5fb"),
            ("a-B-9", "a-B-9"),
            (".", "_2e"),
        ] {
            assert_eq!(folder_for(None, claim).as_deref(), Ok(folder), "{claim}");
        }
        assert_eq!(
            folder_for(Some(&prefix("auth0")), "auth0|64f").as_deref(),
            Ok("auth0.auth0_7c64f")
        );
    }

    #[test]
    fn unsafe_claims_are_refused() {
        assert_eq!(folder_for(None, ""), Err(UserClaimError::Empty));
        assert_eq!(
            folder_for(None, &"a".repeat(129)),
            Err(UserClaimError::TooLong(129))
        );
        assert!(folder_for(None, &"a".repeat(128)).is_ok());
        for bad in [
            "../bob", "a/b", "a\\b", "$x", "a..b", "..", "a\nb", "a\u{7f}", "a\u{85}",
        ] {
            assert_eq!(
                folder_for(None, bad),
                Err(UserClaimError::Forbidden),
                "{bad:?}"
            );
        }
        // 128 bytes that each need an escape: 384 bytes of folder.
        assert_eq!(
            folder_for(None, &"|".repeat(128)),
            Err(UserClaimError::FolderTooLong(384))
        );
    }

    #[test]
    fn prefixes_are_short_lower_case_words() {
        assert!(UserPrefix::parse("a0").is_some());
        for bad in ["", "A", "a.b", "a_b", &"a".repeat(17)] {
            assert!(UserPrefix::parse(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn only_encodings_are_claim_folders() {
        for good in ["alice", "auth0_7c64f", "a0.auth0_7c64f", "_c3_a9", "a-b"] {
            assert!(is_claim_folder(good), "{good}");
        }
        for bad in [
            "", ".", "..", "a_", "a_7", "a_7C", "a_41", "a_2f", "_2e_2e", "A.b", "a.", "a.b.c",
            "a b", "_ff",
        ] {
            assert!(!is_claim_folder(bad), "{bad:?}");
        }
    }

    proptest! {
        #[test]
        fn distinct_claims_give_distinct_safe_folders(
            a in "\\PC{1,40}", b in "\\PC{1,40}", p in "[a-z0-9]{1,16}", q in "[a-z0-9]{1,16}",
            prefixed in any::<bool>(),
        ) {
            let (p, q) = (prefix(&p), prefix(&q));
            let (pa, pb) = if prefixed { (Some(&p), Some(&q)) } else { (None, None) };
            if let (Ok(fa), Ok(fb)) = (folder_for(pa, &a), folder_for(pb, &b)) {
                prop_assert_eq!(fa == fb, a == b && pa == pb);
                for folder in [&fa, &fb] {
                    prop_assert!(folder.bytes().all(|c| c.is_ascii_alphanumeric() || b"_.-".contains(&c)));
                    prop_assert!(is_claim_folder(folder), "{}", folder);
                    prop_assert!(crate::upload::access::UserId::parse_folder(folder).is_some());
                }
            }
        }
    }
}
