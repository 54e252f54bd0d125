//! Chunked request bodies a route answered without reading to their end: their connections are
//! closed after the answer instead of being read on for ever.
//!
//! Since actix-http 3.12 (actix-web issue #2972), once a handler has dropped a chunked body the
//! dispatcher reads the rest of it with no time limit, so a client that sends a chunked body to
//! any route and stops would hold its connection — and a file descriptor — for as long as it
//! likes. actix closes the connection instead (after lingering up to the server's
//! `client_disconnect_timeout`) if the body is still held when the answer's end is queued: so
//! the body is held here by the answer's own body, until the dispatcher drops it.

use std::cell::RefCell;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use actix_web::body::{BodySize, BoxBody, EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::header::TRANSFER_ENCODING;
use actix_web::middleware::Next;
use actix_web::web::Bytes;
use actix_web::{Error, HttpMessage as _};
use futures_util::Stream;

/// A request's chunked body, read by its route through [`SharedBody`].
struct HeldBody {
    payload: Payload,
    finished: bool,
}

/// The route's end of a [`HeldBody`].
struct SharedBody(Rc<RefCell<HeldBody>>);

impl Stream for SharedBody {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut body = self.0.borrow_mut();
        let next = Pin::new(&mut body.payload).poll_next(cx);
        if matches!(next, Poll::Ready(None)) {
            body.finished = true;
        }
        next
    }
}

/// An answer's body that holds its request's unread body until the dispatcher drops it, once
/// the answer's end is queued and the connection's fate decided.
pub struct HeldUntilSent {
    answer: BoxBody,
    _request_body: Rc<RefCell<HeldBody>>,
}

impl MessageBody for HeldUntilSent {
    type Error = <BoxBody as MessageBody>::Error;

    fn size(&self) -> BodySize {
        self.answer.size()
    }

    fn poll_next(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        Pin::new(&mut self.get_mut().answer).poll_next(cx)
    }
}

/// Holds a chunked request's body until its answer is sent when the route did not read it to
/// its end (refused before reading, or while reading), so that actix closes the connection.
pub async fn close_after_unread_body(
    mut request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody, HeldUntilSent>>, Error> {
    // A body of a declared length is closed by actix itself when left unread (and actix refuses
    // a `Transfer-Encoding` other than a final `chunked`).
    if !request.headers().contains_key(TRANSFER_ENCODING) {
        return Ok(next.call(request).await?.map_into_left_body());
    }
    let body = Rc::new(RefCell::new(HeldBody {
        payload: request.take_payload(),
        finished: false,
    }));
    let shared: Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>> =
        Box::pin(SharedBody(body.clone()));
    request.set_payload(Payload::from(shared));
    // Every layer inside answers its errors (handlers' problems become answers before they
    // reach here), so an `Err` is actix's own and keeps actix's behaviour.
    let answer = next.call(request).await?;
    if body.borrow().finished {
        return Ok(answer.map_into_left_body());
    }
    let answer = answer.map_into_boxed_body();
    Ok(answer.map_body(|_, answer| {
        EitherBody::right(HeldUntilSent {
            answer,
            _request_body: body,
        })
    }))
}
