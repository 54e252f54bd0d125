//! Refusals counted by their problem code: once per answer, in one place.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{Error, web};

use super::operations::Operations;
use super::problem::ProblemCode;

/// Counts an answer that carries a [`ProblemCode`] in its extensions — every
/// `application/problem+json` answer, and the pages that stand for one, such as a page's
/// `429` — as `presigned_post_refusals_total{reason="CODE"}`.
pub async fn count(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let operations = request.app_data::<web::Data<Operations>>().cloned();
    let response = next.call(request).await?;
    let code = response
        .response()
        .extensions()
        .get::<ProblemCode>()
        .copied();
    if let (Some(operations), Some(code)) = (operations, code) {
        operations.metrics.refused(code.code());
    }
    Ok(response)
}
