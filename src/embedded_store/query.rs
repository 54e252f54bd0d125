//! A request's query parameters as `s3s` reads them — pure: `application/x-www-form-urlencoded`
//! (`+` is a space, names and values percent-decoded), so `?upload%49d=…` is an `uploadId` to
//! the front door as to the store.

use url::form_urlencoded;

/// Whether the query has a parameter `name` (with or without a value).
pub fn has(query: Option<&str>, name: &str) -> bool {
    pairs(query).any(|(n, _)| n == name)
}

/// Every value of the parameter `name`, in order.
pub fn values(query: Option<&str>, name: &str) -> Vec<String> {
    pairs(query)
        .filter(|(n, _)| n == name)
        .map(|(_, value)| value)
        .collect()
}

fn pairs(query: Option<&str>) -> impl Iterator<Item = (String, String)> + '_ {
    form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .map(|(name, value)| (name.into_owned(), value.into_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_read_decoded() {
        assert!(has(Some("uploads"), "uploads"));
        assert!(has(Some("x-id=CreateMultipartUpload&uploads="), "uploads"));
        assert!(has(Some("upload%73"), "uploads"));
        assert!(!has(Some("uploadsx"), "uploads"));
        assert!(!has(None, "uploads"));
        assert_eq!(
            values(
                Some("partNumber=1&upload%49d=a%2Fb+c&uploadId=d"),
                "uploadId"
            ),
            ["a/b c", "d"]
        );
        assert_eq!(values(Some("uploadid=x"), "uploadId"), Vec::<String>::new());
    }
}
