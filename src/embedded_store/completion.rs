//! Which part lists the development store can complete an upload with — pure.
//!
//! `s3s-fs` 0.14.1 joins the parts a CompleteMultipartUpload names only if they are numbered
//! exactly 1, 2, …, n, and it checks that only as it reads them, after it has ended the upload:
//! for `[1, 3]` or `[2]` it answered 400 `InvalidRequest` with the upload gone and its part
//! files left on disk for good. The store's access hook ([`super::access`]) runs this check
//! after `s3s` has verified the signature and read the list, before `s3s-fs` sees it.
//!
//! S3 takes any ascending list of parts that were uploaded (gaps allowed) and answers
//! `InvalidPartOrder` for one that is not ascending; so does this check. Gaps, and a part
//! without a number, are `InvalidPart`, with a message saying why.

use s3s::dto::CompletedMultipartUpload;
use s3s::{S3Error, S3ErrorCode, S3Result};

/// What is wrong with a list of part numbers (`None`: a part without one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadPartList {
    /// Not in strictly ascending order (S3 refuses it too).
    NotAscending,
    /// Ascending, but not 1, 2, …, n — or a part has no number.
    NotOneToN,
}

/// Checks the part numbers a complete names, in order. An empty list passes: `s3s-fs` refuses
/// it before it changes anything.
pub fn check_numbers(numbers: &[Option<i32>]) -> Result<(), BadPartList> {
    let ascending = numbers
        .windows(2)
        .all(|pair| matches!(pair, [Some(a), Some(b)] if a < b) || pair.contains(&None));
    if !ascending {
        return Err(BadPartList::NotAscending);
    }
    let one_to_n = numbers
        .iter()
        .zip(1..)
        .all(|(number, expected)| *number == Some(expected));
    if one_to_n {
        Ok(())
    } else {
        Err(BadPartList::NotOneToN)
    }
}

/// Refuses a CompleteMultipartUpload whose part list `s3s-fs` would take only after ending the
/// upload; passes every other (and one with no list: `s3s-fs` refuses it unchanged).
pub fn check(upload: Option<&CompletedMultipartUpload>) -> S3Result<()> {
    let numbers: Vec<Option<i32>> = upload
        .and_then(|upload| upload.parts.as_ref())
        .map(|parts| parts.iter().map(|part| part.part_number).collect())
        .unwrap_or_default();
    check_numbers(&numbers).map_err(|bad| match bad {
        BadPartList::NotAscending => S3Error::with_message(
            S3ErrorCode::InvalidPartOrder,
            "The list of parts was not in ascending order. The parts list must be specified in \
             order by part number.",
        ),
        BadPartList::NotOneToN => S3Error::with_message(
            S3ErrorCode::InvalidPart,
            "The development store takes parts numbered 1 to n without gaps (S3 allows gaps): \
             complete with parts 1, 2, 3, … in order, each with its PartNumber.",
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use s3s::dto::CompletedPart;

    fn numbers(list: &[i32]) -> Vec<Option<i32>> {
        list.iter().copied().map(Some).collect()
    }

    #[test]
    fn only_one_to_n_passes() {
        for fine in [&[][..], &[1], &[1, 2], &[1, 2, 3, 4]] {
            assert_eq!(check_numbers(&numbers(fine)), Ok(()), "{fine:?}");
        }
        for gap in [
            &[2][..],
            &[1, 3],
            &[0, 1],
            &[-1],
            &[2, 3, 4],
            &[1, 2, 10_001],
        ] {
            assert_eq!(
                check_numbers(&numbers(gap)),
                Err(BadPartList::NotOneToN),
                "{gap:?}"
            );
        }
        assert_eq!(check_numbers(&[Some(1), None]), Err(BadPartList::NotOneToN));
        assert_eq!(check_numbers(&[None]), Err(BadPartList::NotOneToN));
    }

    #[test]
    fn a_list_out_of_order_is_refused_as_s3_refuses_it() {
        for unordered in [&[2, 1][..], &[1, 1], &[1, 3, 2], &[1, 2, 2]] {
            assert_eq!(
                check_numbers(&numbers(unordered)),
                Err(BadPartList::NotAscending),
                "{unordered:?}"
            );
        }
    }

    #[test]
    fn the_answers_are_s3_errors() {
        let upload = |list: &[i32]| CompletedMultipartUpload {
            parts: Some(
                list.iter()
                    .map(|&n| CompletedPart {
                        part_number: Some(n),
                        ..Default::default()
                    })
                    .collect(),
            ),
        };
        assert!(check(Some(&upload(&[1, 2]))).is_ok());
        assert!(check(None).is_ok());
        let gap = check(Some(&upload(&[1, 3]))).unwrap_err();
        assert_eq!(*gap.code(), S3ErrorCode::InvalidPart);
        assert!(gap.message().unwrap().contains("1 to n"));
        let unordered = check(Some(&upload(&[2, 1]))).unwrap_err();
        assert_eq!(*unordered.code(), S3ErrorCode::InvalidPartOrder);
    }
}
