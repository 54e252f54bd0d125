//! Where uploads go: the bucket, its region, and the URL a form posts to — pure.

use std::net::IpAddr;

use url::Url;

/// Why the store settings were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// Not a valid S3 bucket name.
    #[error(
        "bucket `{0}` is not a valid S3 bucket name (3-63 characters: lower-case letters, digits, \
         `.` and `-`, starting and ending with a letter or digit)"
    )]
    Bucket(String),
    /// Not a region name.
    #[error("region `{0}` is not a region name such as `eu-west-1`")]
    Region(String),
    /// The endpoint is not an http(s) URL without query or fragment.
    #[error("endpoint `{0}` is not an http:// or https:// URL")]
    Endpoint(String),
    /// Options that cannot be combined.
    #[error("{0}")]
    Conflict(&'static str),
}

/// How the bucket is addressed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AddressStyle {
    /// `Some(true)` forces `https://host/bucket`, `Some(false)` forces `https://bucket.host`;
    /// `None` picks: virtual-hosted on AWS, path style on a custom endpoint.
    pub path_style: Option<bool>,
    /// S3 Transfer Acceleration (`bucket.s3-accelerate.amazonaws.com`).
    pub accelerate: bool,
    /// IPv4+IPv6 endpoints (`s3.dualstack.REGION.amazonaws.com`).
    pub dualstack: bool,
    /// FIPS endpoints (`s3-fips.REGION.amazonaws.com`).
    pub fips: bool,
}

/// A bucket with its region and the URL that browsers post uploads to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Store {
    bucket: String,
    region: String,
    bucket_url: Url,
    endpoint: Option<String>,
    style: AddressStyle,
}

fn valid_bucket(name: &str) -> bool {
    let bytes = name.as_bytes();
    (3..=63).contains(&bytes.len())
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'-'))
        && bytes[0].is_ascii_alphanumeric()
        && bytes[bytes.len() - 1].is_ascii_alphanumeric()
        && !name.contains("..")
        && name.parse::<IpAddr>().is_err()
}

impl Store {
    /// Resolves the bucket URL from the settings.
    ///
    /// Buckets with dots use path style over https (a virtual-hosted name would not match the
    /// TLS certificate), as do endpoints given as an IP address or `localhost`.
    pub fn new(
        bucket: &str,
        region: &str,
        endpoint: Option<&str>,
        style: AddressStyle,
    ) -> Result<Self, StoreError> {
        if !valid_bucket(bucket) {
            return Err(StoreError::Bucket(bucket.to_owned()));
        }
        if region.is_empty()
            || !region
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(StoreError::Region(region.to_owned()));
        }
        let bucket_url = match endpoint {
            Some(endpoint) => custom_url(bucket, endpoint, style)?,
            None => aws_url(bucket, region, style)?,
        };
        let path_style = match endpoint {
            Some(_) => style.path_style != Some(false),
            None => !style.accelerate && (bucket.contains('.') || style.path_style == Some(true)),
        };
        Ok(Store {
            bucket: bucket.to_owned(),
            region: region.to_owned(),
            bucket_url,
            endpoint: endpoint.map(str::to_owned),
            style: AddressStyle {
                path_style: Some(path_style),
                ..style
            },
        })
    }

    /// The bucket name.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// The region that signatures are scoped to.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// The URL a POST upload goes to (the form's `action`).
    pub fn bucket_url(&self) -> &str {
        self.bucket_url.as_str()
    }

    /// The custom endpoint as configured; `None` on AWS.
    pub fn endpoint(&self) -> Option<&str> {
        self.endpoint.as_deref()
    }

    /// How the bucket is addressed, with `path_style` decided (always `Some`): what an S3 client
    /// needs to reach [`bucket_url`](Self::bucket_url) from [`endpoint`](Self::endpoint).
    pub fn address_style(&self) -> AddressStyle {
        self.style
    }
}

fn custom_url(bucket: &str, endpoint: &str, style: AddressStyle) -> Result<Url, StoreError> {
    let bad = || StoreError::Endpoint(endpoint.to_owned());
    let url = Url::parse(endpoint).map_err(|_| bad())?;
    if !matches!(url.scheme(), "http" | "https")
        || url.query().is_some()
        || url.fragment().is_some()
        || !url.username().is_empty()
        || url.password().is_some()
    {
        return Err(bad());
    }
    if style.accelerate || style.dualstack || style.fips {
        return Err(StoreError::Conflict(
            "accelerate, dualstack and fips apply to AWS endpoints, not to a custom endpoint",
        ));
    }
    let host = url.host_str().ok_or_else(bad)?.to_owned();
    let needs_path_style = host == "localhost"
        || url
            .host()
            .is_some_and(|h| !matches!(h, url::Host::Domain(_)))
        || (url.scheme() == "https" && bucket.contains('.'));
    match style.path_style {
        Some(false) if needs_path_style => Err(StoreError::Conflict(
            "path_style = false needs a DNS name for the endpoint and (over https) a bucket without dots",
        )),
        Some(false) => {
            let mut virtual_hosted = url.clone();
            virtual_hosted
                .set_host(Some(&format!("{bucket}.{host}")))
                .map_err(|_| bad())?;
            Ok(with_trailing_slash(virtual_hosted))
        }
        _ => {
            let base = with_trailing_slash(url);
            base.join(&format!("{bucket}/")).map_err(|_| bad())
        }
    }
}

fn aws_url(bucket: &str, region: &str, style: AddressStyle) -> Result<Url, StoreError> {
    let suffix = if region.starts_with("cn-") {
        "amazonaws.com.cn"
    } else {
        "amazonaws.com"
    };
    let dualstack = if style.dualstack { "dualstack." } else { "" };
    let url = if style.accelerate {
        if bucket.contains('.') || style.path_style == Some(true) || style.fips {
            return Err(StoreError::Conflict(
                "accelerate needs a virtual-hosted bucket without dots and is not available with fips",
            ));
        }
        format!("https://{bucket}.s3-accelerate.{dualstack}{suffix}/")
    } else {
        let service = if style.fips { "s3-fips" } else { "s3" };
        let host = format!("{service}.{dualstack}{region}.{suffix}");
        let path_style = bucket.contains('.') || style.path_style == Some(true);
        if path_style {
            format!("https://{host}/{bucket}/")
        } else {
            format!("https://{bucket}.{host}/")
        }
    };
    Ok(Url::parse(&url).expect("a validated bucket and region make a valid URL"))
}

fn with_trailing_slash(mut url: Url) -> Url {
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(bucket: &str, region: &str, endpoint: Option<&str>, style: AddressStyle) -> String {
        Store::new(bucket, region, endpoint, style)
            .unwrap()
            .bucket_url()
            .to_owned()
    }

    #[test]
    fn aws_urls_are_regional_virtual_hosted_by_default() {
        let d = AddressStyle::default();
        assert_eq!(
            url("bk1", "eu-west-1", None, d),
            "https://bk1.s3.eu-west-1.amazonaws.com/"
        );
        assert_eq!(
            url("my.b", "eu-west-1", None, d),
            "https://s3.eu-west-1.amazonaws.com/my.b/"
        );
        assert_eq!(
            url("bk1", "cn-north-1", None, d),
            "https://bk1.s3.cn-north-1.amazonaws.com.cn/"
        );
        let path = AddressStyle {
            path_style: Some(true),
            ..d
        };
        assert_eq!(
            url("bk1", "us-east-1", None, path),
            "https://s3.us-east-1.amazonaws.com/bk1/"
        );
        let fips_ds = AddressStyle {
            fips: true,
            dualstack: true,
            ..d
        };
        assert_eq!(
            url("bk1", "us-east-1", None, fips_ds),
            "https://bk1.s3-fips.dualstack.us-east-1.amazonaws.com/"
        );
        let acc = AddressStyle {
            accelerate: true,
            ..d
        };
        assert_eq!(
            url("bk1", "us-east-1", None, acc),
            "https://bk1.s3-accelerate.amazonaws.com/"
        );
    }

    #[test]
    fn custom_endpoints_default_to_path_style() {
        let d = AddressStyle::default();
        assert_eq!(
            url("bk1", "us-east-1", Some("http://127.0.0.1:9000"), d),
            "http://127.0.0.1:9000/bk1/"
        );
        assert_eq!(
            url("bk1", "auto", Some("https://s3.example.test/base"), d),
            "https://s3.example.test/base/bk1/"
        );
        let vh = AddressStyle {
            path_style: Some(false),
            ..d
        };
        assert_eq!(
            url("bk1", "x", Some("https://s3.example.test"), vh),
            "https://bk1.s3.example.test/"
        );
        assert!(Store::new("bk1", "x", Some("http://127.0.0.1:1"), vh).is_err());
    }

    #[test]
    fn bad_names_and_conflicts_are_refused() {
        let d = AddressStyle::default();
        for bucket in [
            "ab",
            "Upper",
            "a..b",
            "-ab",
            "ab-",
            "192.168.1.1",
            "a_b",
            &"a".repeat(64),
        ] {
            assert!(
                matches!(
                    Store::new(bucket, "us-east-1", None, d),
                    Err(StoreError::Bucket(_))
                ),
                "{bucket}"
            );
        }
        assert!(matches!(
            Store::new("bk1", "US East", None, d),
            Err(StoreError::Region(_))
        ));
        assert!(matches!(
            Store::new("bk1", "x", Some("ftp://h"), d),
            Err(StoreError::Endpoint(_))
        ));
        assert!(matches!(
            Store::new("bk1", "x", Some("http://h?x=1"), d),
            Err(StoreError::Endpoint(_))
        ));
        let acc = AddressStyle {
            accelerate: true,
            ..d
        };
        assert!(matches!(
            Store::new("a.b", "x", None, acc),
            Err(StoreError::Conflict(_))
        ));
        assert!(matches!(
            Store::new("ab1", "x", Some("http://h"), acc),
            Err(StoreError::Conflict(_))
        ));
    }
}
