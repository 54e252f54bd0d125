//! The `[[tokens]]` entries and `admin_token_sha256` checked into [`Token`]s.

use crate::upload::access::{Token, UserId};

use super::TokenSettings;

/// Each `[[tokens]]` entry as a bearer [`Token`] for its user; a bad entry is listed by its
/// index.
pub(super) fn bearer_tokens(settings: &[TokenSettings], problems: &mut Vec<String>) -> Vec<Token> {
    let mut tokens = Vec::new();
    for (i, token) in settings.iter().enumerate() {
        match UserId::parse(&token.user).and_then(|user| Token::new(&token.sha256.to_ascii_lowercase(), user)) {
            Some(token) => tokens.push(token),
            None => problems.push(format!(
                "tokens[{i}]: needs a user id (1-64 of A-Z a-z 0-9 - _) and the token's hex SHA-256 \
                 (`presigned-post hash-token`)"
            )),
        }
    }
    tokens
}

/// The token that may read `/readyz`'s detail from anywhere, from its hex SHA-256, if set.
pub(super) fn admin_token(sha256: Option<&str>, problems: &mut Vec<String>) -> Option<Token> {
    sha256.and_then(|hash| {
        let admin = UserId::parse("admin").expect("a valid user id");
        let token = Token::new(&hash.to_ascii_lowercase(), admin);
        if token.is_none() {
            problems.push(
                "admin_token_sha256 must be a token's hex SHA-256 (`presigned-post hash-token`)"
                    .into(),
            );
        }
        token
    })
}
