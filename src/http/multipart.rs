//! Uppy Companion's multipart endpoints (`/s3/multipart…`), for `@uppy/aws-s3` and our own
//! scripts: files uploaded in parts straight to the bucket. Thin: the request is read into the
//! service's types here, and the service decides ([`Uploader`]'s multipart calls).

use actix_web::{Error, HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::answer::json_no_store;
use super::caller::{identify, identify_signing_part};
use super::operations::Operations;
use super::problem::{Problem, ProblemCode};
use super::uploads::{BodyLimit, parse_json, read_body, require_json};
use crate::s3::multipart::{BadPartNumber, MAX_PARTS, PartNumber};
use crate::upload::multipart::UploadId;
use crate::upload::request::UploadRequest;
use crate::upload::service::Uploader;

/// The body of a complete call: 10,000 parts of about 62 bytes each, with room, within 30 s.
const COMPLETE_BODY: BodyLimit = BodyLimit {
    bytes: 1024 * 1024,
    within: std::time::Duration::from_secs(30),
};

/// `POST /s3/multipart`'s body, as Uppy sends it (`profile` and `size` are ours, optional).
#[derive(Debug, Deserialize)]
struct CreateBody {
    filename: String,
    #[serde(default, rename = "type")]
    content_type: Option<String>,
    #[serde(default)]
    metadata: Map<String, Value>,
    #[serde(default)]
    size: Option<u64>,
    #[serde(default)]
    profile: Option<String>,
}

/// `POST /s3/multipart/{uploadId}/complete`'s body.
#[derive(Debug, Deserialize)]
struct CompleteBody {
    parts: Vec<CompletePart>,
}

#[derive(Debug, Deserialize)]
struct CompletePart {
    #[serde(rename = "PartNumber")]
    part_number: u32,
    #[serde(rename = "ETag")]
    etag: String,
}

/// A part as listed: S3's names, as Uppy reads them.
#[derive(Debug, Serialize)]
struct ListedPart {
    #[serde(rename = "PartNumber")]
    part_number: u16,
    #[serde(rename = "ETag", skip_serializing_if = "Option::is_none")]
    etag: Option<String>,
    #[serde(rename = "Size")]
    size: u64,
}

type Query = Result<web::Query<Vec<(String, String)>>, Error>;

/// `POST /s3/multipart[?profile=…]`: starts an upload in parts of the file the body describes.
pub async fn create(
    request: HttpRequest,
    query: Query,
    body: web::Payload,
    uploader: web::Data<Uploader>,
    operations: web::Data<Operations>,
) -> Result<HttpResponse, Problem> {
    let caller = identify(&request, &operations).await?;
    let query = read_query(query)?;
    require_json(&request)?;
    let body: CreateBody = parse_json(&read_body(&request, body, BodyLimit::JSON).await?)?;
    let asked = once(&query, "profile").map_err(|()| {
        Problem::new(ProblemCode::InvalidField, "name the profile once").with_field("profile")
    })?;
    let profile = match (asked, body.profile) {
        (Some(asked), Some(named)) if asked != named => {
            return Err(Problem::new(
                ProblemCode::InvalidField,
                "the query and the body name different profiles",
            )
            .with_field("profile"));
        }
        (asked, named) => asked.map(str::to_owned).or(named),
    };
    let upload = UploadRequest {
        filename: body.filename,
        content_type: body.content_type.filter(|t| !t.is_empty()),
        size: body.size,
        metadata: metadata(body.metadata)?,
    };
    let created = uploader
        .create_multipart(profile.as_deref(), upload, &caller)
        .await?;
    Ok(json_no_store(&created))
}

/// `GET /s3/multipart/{uploadId}/{partNumber}?key=…`: a URL to PUT the part to. Counted in a
/// budget of its own, larger than the request budget: a 1 GiB file signs some 200 parts.
pub async fn sign_part(
    request: HttpRequest,
    path: web::Path<(String, String)>,
    query: Query,
    uploader: web::Data<Uploader>,
    operations: web::Data<Operations>,
) -> Result<HttpResponse, Problem> {
    let caller = identify_signing_part(&request, &operations).await?;
    let (upload_id, part) = path.into_inner();
    let (key, id) = (key(&read_query(query)?)?, upload_id_of(&upload_id)?);
    let part = PartNumber::parse(&part).map_err(|e| {
        Problem::new(ProblemCode::InvalidField, e.to_string()).with_field("partNumber")
    })?;
    let signed = uploader.sign_part(&key, &id, part, &caller).await?;
    Ok(json_no_store(&signed))
}

/// `GET /s3/multipart/{uploadId}?key=…`: the parts the store holds, as S3 lists them.
pub async fn list_parts(
    request: HttpRequest,
    path: web::Path<String>,
    query: Query,
    uploader: web::Data<Uploader>,
    operations: web::Data<Operations>,
) -> Result<HttpResponse, Problem> {
    let caller = identify(&request, &operations).await?;
    let (key, id) = (key(&read_query(query)?)?, upload_id_of(&path)?);
    let parts = uploader.list_parts(&key, &id, &caller).await?;
    let listed: Vec<ListedPart> = parts
        .into_iter()
        .map(|part| ListedPart {
            part_number: part.number.get(),
            etag: part.etag,
            size: part.size,
        })
        .collect();
    Ok(json_no_store(&listed))
}

/// `POST /s3/multipart/{uploadId}/complete?key=…`: makes the object of the parts named.
pub async fn complete(
    request: HttpRequest,
    path: web::Path<String>,
    query: Query,
    body: web::Payload,
    uploader: web::Data<Uploader>,
    operations: web::Data<Operations>,
) -> Result<HttpResponse, Problem> {
    let caller = identify(&request, &operations).await?;
    let (key, id) = (key(&read_query(query)?)?, upload_id_of(&path)?);
    require_json(&request)?;
    let body: CompleteBody = parse_json(&read_body(&request, body, COMPLETE_BODY).await?)?;
    let parts = parts(body.parts)?;
    let completed = uploader
        .complete_multipart(&key, &id, &parts, &caller)
        .await?;
    Ok(json_no_store(&completed))
}

/// `DELETE /s3/multipart/{uploadId}?key=…`: drops the upload and its parts; `{}` (Uppy reads
/// JSON from every answer).
pub async fn abort(
    request: HttpRequest,
    path: web::Path<String>,
    query: Query,
    uploader: web::Data<Uploader>,
    operations: web::Data<Operations>,
) -> Result<HttpResponse, Problem> {
    let caller = identify(&request, &operations).await?;
    let (key, id) = (key(&read_query(query)?)?, upload_id_of(&path)?);
    uploader.abort_multipart(&key, &id, &caller).await?;
    Ok(json_no_store(&json!({})))
}

fn read_query(query: Query) -> Result<Vec<(String, String)>, Problem> {
    query
        .map(web::Query::into_inner)
        .map_err(|e| Problem::new(ProblemCode::MalformedQuery, e.to_string()))
}

/// The value of `name` in `query`: `None` if it is not there, an error if it is there twice.
fn once<'a>(query: &'a [(String, String)], name: &str) -> Result<Option<&'a str>, ()> {
    let mut values = query.iter().filter(|(k, _)| k == name);
    match (values.next(), values.next()) {
        (value, None) => Ok(value.map(|(_, value)| value.as_str())),
        _ => Err(()),
    }
}

/// The `key` the query names, once.
fn key(query: &[(String, String)]) -> Result<String, Problem> {
    match once(query, "key") {
        Ok(Some(key)) => Ok(key.to_owned()),
        _ => Err(
            Problem::new(ProblemCode::InvalidField, "the query needs `key`, once")
                .with_field("key"),
        ),
    }
}

fn upload_id_of(text: &str) -> Result<UploadId, Problem> {
    UploadId::parse(text)
        .map_err(|e| Problem::new(ProblemCode::InvalidField, e.to_string()).with_field("uploadId"))
}

/// Uppy's metadata: strings as they are, numbers and booleans as text, nulls left out.
fn metadata(
    metadata: Map<String, Value>,
) -> Result<std::collections::BTreeMap<String, String>, Problem> {
    let mut values = std::collections::BTreeMap::new();
    for (name, value) in metadata {
        let text = match value {
            Value::Null => continue,
            Value::String(text) => text,
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            Value::Array(_) | Value::Object(_) => {
                return Err(Problem::new(
                    ProblemCode::InvalidField,
                    format!("metadata `{name}` must be text"),
                )
                .with_field(format!("metadata.{name}")));
            }
        };
        values.insert(name, text);
    }
    Ok(values)
}

/// The parts named, as the service takes them: at most 10,000, each with a valid number.
fn parts(parts: Vec<CompletePart>) -> Result<Vec<(PartNumber, String)>, Problem> {
    if parts.len() > usize::from(MAX_PARTS) {
        return Err(Problem::new(
            ProblemCode::InvalidParts,
            format!("an upload has at most {MAX_PARTS} parts"),
        )
        .with_field("parts"));
    }
    parts
        .into_iter()
        .enumerate()
        .map(|(index, part)| {
            let number = u16::try_from(part.part_number)
                .ok()
                .and_then(PartNumber::new)
                .ok_or_else(|| {
                    let bad = BadPartNumber(part.part_number.to_string());
                    Problem::new(ProblemCode::InvalidField, bad.to_string())
                        .with_field(format!("parts[{index}].PartNumber"))
                })?;
            Ok((number, part.etag))
        })
        .collect()
}
