//! The name of a client's counter in Redis: `{prefix}:v1:{budget}:{client}`, short and
//! bounded, and with no user's name in it.
//!
//! The client is `a4:` and the eight hex digits of an IPv4 address, `a6:` and the sixteen of an
//! IPv6 /64 (as the local counter counts them), or `u:` and the first 16 bytes of the SHA-256 of
//! a user's id in hex — whoever reads Redis learns neither names nor folders. `v1` names this
//! layout and the script's hash fields, so a later layout can live beside it during an upgrade.

use std::fmt::Write as _;
use std::net::IpAddr;

use sha2::{Digest, Sha256};

use super::Budget;
use super::address::CountedAddress;
use super::local::Client;

/// The Redis key of `client`'s counter of `budget`, under `prefix`.
pub fn redis_key(prefix: &str, budget: Budget, client: Client<'_>) -> String {
    format!("{prefix}:v1:{}:{}", budget.name(), client_part(client))
}

fn client_part(client: Client<'_>) -> String {
    match client {
        Client::Address(address) => address_part(address),
        Client::TokenUser(user) | Client::ProviderUser(user) => {
            let digest = Sha256::digest(user.as_bytes());
            digest[..16]
                .iter()
                .fold(String::from("u:"), |mut hex, byte| {
                    let _ = write!(hex, "{byte:02x}");
                    hex
                })
        }
    }
}

fn address_part(address: IpAddr) -> String {
    match CountedAddress::of(address) {
        CountedAddress::V4(bits) => format!("a4:{bits:08x}"),
        CountedAddress::V6Prefix(prefix) => format!("a6:{prefix:016x}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn address(text: &str) -> Client<'static> {
        Client::Address(text.parse().unwrap())
    }

    #[test]
    fn keys_name_the_budget_and_the_client_as_counted() {
        let key = |budget, client| redis_key("presigned-post", budget, client);
        assert_eq!(
            key(Budget::Requests, address("192.0.2.1")),
            "presigned-post:v1:requests:a4:c0000201"
        );
        assert_eq!(
            key(Budget::FailedAuthentications, address("::ffff:192.0.2.1")),
            "presigned-post:v1:auth-failures:a4:c0000201"
        );
        assert_eq!(
            key(Budget::PartSigning, address("2001:db8:1:2::1")),
            "presigned-post:v1:part-urls:a6:20010db800010002"
        );
        assert_eq!(
            key(Budget::Requests, address("2001:db8:1:2:ffff::9")),
            key(Budget::Requests, address("2001:db8:1:2::1")),
            "one budget per /64"
        );
    }

    #[test]
    fn users_are_a_hash_of_their_id_never_their_name() {
        // SHA-256("alice") = 2bd806c97f0e00af1a1fc3328fa763a9269723c8db8fac4f93af71db186d6e90
        let alice = redis_key("p", Budget::Requests, Client::TokenUser("alice"));
        assert_eq!(alice, "p:v1:requests:u:2bd806c97f0e00af1a1fc3328fa763a9");
        assert_eq!(
            redis_key("p", Budget::Requests, Client::ProviderUser("alice")),
            alice,
            "a folder is one user whichever way they sign in"
        );
        let long = "x".repeat(255);
        let key = redis_key("p", Budget::Requests, Client::ProviderUser(&long));
        assert_eq!(key.len(), alice.len(), "bounded whatever the id");
        assert!(!alice["p:v1:requests:".len()..].contains("alice"));
    }
}
