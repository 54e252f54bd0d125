//! Callers who bring an identity provider's JWT access token instead of a configured token —
//! pure: no IO, the time is a parameter, keys come in from whoever fetched them.
//!
//! [`issuer::IssuerRules`] is what one configured issuer demands; [`key_set::KeySet`] the usable
//! keys of its JWKS; [`user_claim`] the folder rule that turns the user claim into a `{user}`
//! folder; [`jwt::verify`] checks a token against all of them. The keys are fetched and cached by
//! `app/identity_provider/`, which the edge (`http/caller.rs`) asks.

pub mod issuer;
pub mod jwt;
#[cfg(test)]
mod jwt_tests;
pub mod key_set;
#[cfg(test)]
pub(crate) mod test_tokens;
pub mod user_claim;
