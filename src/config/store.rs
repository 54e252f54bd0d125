//! The `[store]` section checked into a [`Store`], with the region and endpoint the AWS
//! environment supplies when the section leaves them out.

use crate::s3::store::{AddressStyle, Store};

use super::StoreSettings;

/// Values the AWS environment supplies when the settings do not.
#[derive(Debug, Default, Clone)]
pub struct AwsDefaults {
    /// From the AWS region chain (`AWS_REGION`, the profile, …).
    pub region: Option<String>,
    /// From `AWS_ENDPOINT_URL_S3` or `AWS_ENDPOINT_URL`.
    pub endpoint: Option<String>,
}

impl AwsDefaults {
    /// Reads the endpoint variables; the region comes from `aws-config`'s chain.
    pub fn from_env(region: Option<String>) -> Self {
        let endpoint = ["AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"]
            .iter()
            .find_map(|name| std::env::var(name).ok().filter(|v| !v.is_empty()));
        AwsDefaults { region, endpoint }
    }
}

impl StoreSettings {
    /// The bucket and how to reach it, with the AWS environment filling what the section
    /// leaves out; every missing or wrong value is listed.
    pub(super) fn resolve(self, aws: &AwsDefaults) -> Result<Store, Vec<String>> {
        let region = self.region.or_else(|| aws.region.clone());
        let (Some(bucket), Some(region)) = (self.bucket.as_deref(), region.as_deref()) else {
            let mut problems = Vec::new();
            if self.bucket.is_none() {
                problems.push("store.bucket is required (the bucket uploads go to)".to_owned());
            }
            if region.is_none() {
                problems.push(
                    "store.region is required (or set AWS_REGION): signatures name the bucket's region"
                        .to_owned(),
                );
            }
            return Err(problems);
        };
        let endpoint = self.endpoint.or_else(|| aws.endpoint.clone());
        let style = AddressStyle {
            path_style: self.path_style,
            accelerate: self.accelerate,
            dualstack: self.dualstack,
            fips: self.fips,
        };
        Store::new(bucket, region, endpoint.as_deref(), style)
            .map_err(|e| vec![format!("store: {e}")])
    }
}
