//! The bucket CORS rule that browser uploads from script need — pure: the rule to set
//! ([`configuration`]), and whether a bucket's rule will do ([`allows_uploads`]).
//!
//! A plain form POST needs no CORS, but the upload page's script (and any SPA) posts with
//! XHR/fetch: the browser sends a preflight and reads the answer only if the bucket allows the
//! page's origin. S3 uses the first rule whose origin matches.

use serde_json::{Value, json};

/// One rule of a bucket's CORS configuration, as far as browser uploads care.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CorsRule {
    /// The origins it allows (`*` for any).
    pub allowed_origins: Vec<String>,
    /// The methods it allows (`GET`, `POST`, …).
    pub allowed_methods: Vec<String>,
    /// The response headers script may read.
    pub expose_headers: Vec<String>,
}

/// The origin (`scheme://host[:port]`) of a URL, as browsers send it in `Origin`.
pub fn origin_of(url: &str) -> Option<String> {
    let url = url::Url::parse(url).ok()?;
    match url.origin() {
        origin @ url::Origin::Tuple(..) => Some(origin.ascii_serialization()),
        url::Origin::Opaque(_) => None,
    }
}

/// The rule as `aws s3api put-bucket-cors --cors-configuration file://cors.json` takes it:
/// POST (and GET/HEAD for downloads) from `origins`, any request header, `ETag` and `Location`
/// exposed, preflights cached for 50 minutes.
pub fn configuration(origins: &[String]) -> Value {
    json!({
        "CORSRules": [{
            "AllowedOrigins": origins,
            "AllowedMethods": ["POST", "GET", "HEAD"],
            "AllowedHeaders": ["*"],
            "ExposeHeaders": ["ETag", "Location"],
            "MaxAgeSeconds": 3000
        }]
    })
}

/// Whether `rule` lets script at `origin` post uploads and read the answer's `ETag`: what
/// [`configuration`] sets up.
pub fn allows_uploads(rule: &CorsRule, origin: &str) -> bool {
    rule.allowed_origins.iter().any(|o| o == "*" || o == origin)
        && rule.allowed_methods.iter().any(|m| m == "POST")
        && rule
            .expose_headers
            .iter()
            .any(|h| h.eq_ignore_ascii_case("etag"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_drop_paths_and_default_ports() {
        assert_eq!(
            origin_of("https://app.example.test/uploads/").as_deref(),
            Some("https://app.example.test")
        );
        assert_eq!(
            origin_of("http://127.0.0.1:8080").as_deref(),
            Some("http://127.0.0.1:8080")
        );
        assert_eq!(
            origin_of("https://a.test:443/x").as_deref(),
            Some("https://a.test")
        );
        assert_eq!(origin_of("not a url"), None);
    }

    #[test]
    fn the_rule_allows_post_and_exposes_etag() {
        let rule = configuration(&["http://127.0.0.1:8080".into()]);
        let rule = &rule["CORSRules"][0];
        assert_eq!(rule["AllowedOrigins"][0], "http://127.0.0.1:8080");
        assert!(
            rule["AllowedMethods"]
                .as_array()
                .unwrap()
                .contains(&json!("POST"))
        );
        assert_eq!(rule["ExposeHeaders"], json!(["ETag", "Location"]));
    }

    #[test]
    fn the_rule_it_prints_allows_uploads_from_its_origins_only() {
        let origins = [
            "https://app.example.test".into(),
            "http://127.0.0.1:8080".into(),
        ];
        let configuration = configuration(&origins);
        let printed = &configuration["CORSRules"][0];
        let strings = |name: &str| {
            let values = printed[name].as_array().unwrap().iter();
            values.map(|v| v.as_str().unwrap().to_owned()).collect()
        };
        let rule = CorsRule {
            allowed_origins: strings("AllowedOrigins"),
            allowed_methods: strings("AllowedMethods"),
            expose_headers: strings("ExposeHeaders"),
        };
        for origin in &origins {
            assert!(allows_uploads(&rule, origin), "{origin}: {rule:?}");
        }
        assert!(!allows_uploads(&rule, "https://other.test"));
    }
}
