//! The bucket CORS rule that browser uploads from script need — pure: the rule to set
//! ([`configuration`]), and what a bucket's rules lack ([`upload_gaps`]).
//!
//! A plain form POST needs no CORS, but the upload page's script (and any SPA) posts with
//! XHR/fetch: the browser sends a preflight and reads the answer only if the bucket allows the
//! page's origin. Multipart uploads PUT their parts, and the script must read each part's `ETag`
//! to complete the upload (Uppy hangs at 100 % without it). S3 answers a request with the first
//! rule whose origin and method match.

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
/// POST (single uploads), PUT (parts of multipart uploads) and GET/HEAD (downloads) from
/// `origins`, any request header, `ETag` and `Location` exposed, preflights cached for 50 minutes.
pub fn configuration(origins: &[String]) -> Value {
    json!({
        "CORSRules": [{
            "AllowedOrigins": origins,
            "AllowedMethods": ["POST", "PUT", "GET", "HEAD"],
            "AllowedHeaders": ["*"],
            "ExposeHeaders": ["ETag", "Location"],
            "MaxAgeSeconds": 3000
        }]
    })
}

/// The methods uploads from script send to the bucket: POST (a form), PUT (a part).
pub const UPLOAD_METHODS: [&str; 2] = ["POST", "PUT"];

/// What a bucket's CORS rules lack for uploads from script.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadGap {
    /// No rule allows this method from the origin.
    Method(&'static str),
    /// The rule that answers this method from the origin does not expose `ETag`.
    ETag(&'static str),
}

impl std::fmt::Display for UploadGap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            UploadGap::Method(method) => write!(f, "no rule allows {method}"),
            UploadGap::ETag(method) => write!(f, "the rule for {method} does not expose ETag"),
        }
    }
}

/// What `rules` lack for script at `origin` to POST uploads and PUT parts and read the answers'
/// `ETag` (for each method, the first rule matching origin and method answers, as S3 does);
/// empty when [`configuration`]'s rule, or one as good, is in place.
pub fn upload_gaps(rules: &[CorsRule], origin: &str) -> Vec<UploadGap> {
    let allows = |rule: &CorsRule, method: &str| {
        rule.allowed_origins.iter().any(|o| o == "*" || o == origin)
            && rule.allowed_methods.iter().any(|m| m == method)
    };
    UPLOAD_METHODS
        .into_iter()
        .filter_map(
            |method| match rules.iter().find(|rule| allows(rule, method)) {
                None => Some(UploadGap::Method(method)),
                Some(rule) if !exposes_etag(rule) => Some(UploadGap::ETag(method)),
                Some(_) => None,
            },
        )
        .collect()
}

fn exposes_etag(rule: &CorsRule) -> bool {
    rule.expose_headers
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
    fn the_rule_allows_post_and_put_and_exposes_etag() {
        let rule = configuration(&["http://127.0.0.1:8080".into()]);
        let rule = &rule["CORSRules"][0];
        assert_eq!(rule["AllowedOrigins"][0], "http://127.0.0.1:8080");
        assert_eq!(
            rule["AllowedMethods"],
            json!(["POST", "PUT", "GET", "HEAD"])
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
        let rules = [rule];
        for origin in &origins {
            assert_eq!(upload_gaps(&rules, origin), [], "{origin}: {rules:?}");
        }
        assert_eq!(
            upload_gaps(&rules, "https://other.test"),
            [UploadGap::Method("POST"), UploadGap::Method("PUT")]
        );
    }

    fn rule(origins: &[&str], methods: &[&str], exposed: &[&str]) -> CorsRule {
        let strings = |values: &[&str]| values.iter().map(|v| v.to_string()).collect();
        CorsRule {
            allowed_origins: strings(origins),
            allowed_methods: strings(methods),
            expose_headers: strings(exposed),
        }
    }

    #[test]
    fn each_method_is_answered_by_the_first_rule_that_matches_it() {
        const ORIGIN: &str = "https://app.example.test";
        let post_only = rule(&[ORIGIN], &["POST"], &["ETag"]);
        let put_any = rule(&["*"], &["PUT"], &["etag"]);
        let put_hidden = rule(&[ORIGIN], &["PUT", "GET"], &["Location"]);
        let gaps = |rules: &[CorsRule]| upload_gaps(rules, ORIGIN);
        assert_eq!(gaps(&[post_only.clone(), put_any.clone()]), []);
        assert_eq!(
            gaps(std::slice::from_ref(&post_only)),
            [UploadGap::Method("PUT")]
        );
        assert_eq!(
            gaps(&[post_only.clone(), put_hidden.clone(), put_any]),
            [UploadGap::ETag("PUT")]
        );
        assert_eq!(
            gaps(&[]),
            [UploadGap::Method("POST"), UploadGap::Method("PUT")]
        );
        assert_eq!(
            UploadGap::ETag("PUT").to_string(),
            "the rule for PUT does not expose ETag"
        );
        assert_eq!(UploadGap::Method("PUT").to_string(), "no rule allows PUT");
    }
}
