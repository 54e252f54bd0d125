//! Chunked request bodies a route answered without reading to their end: their connections are
//! closed after the answer instead of being read on for ever.
//!
//! actix-http 3.20 reads the rest of a chunked body once its handler has dropped it, with no
//! time limit (actix-web PR #3936), so a client that sends a chunked body to any route and
//! stops would hold its connection — and a file descriptor — for as long as it likes. It
//! closes the connection after the answer instead while the body is still held when the answer
//! is sent: so the body is held here, a few seconds past its route's answer.

use std::cell::RefCell;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::header::TRANSFER_ENCODING;
use actix_web::middleware::Next;
use actix_web::web::Bytes;
use actix_web::{Error, HttpMessage as _};
use futures_util::Stream;

/// How long an unfinished body is held after its route answered: long enough for the answer
/// to be sent, after which actix closes the connection.
const HOLD_AFTER_ANSWER: Duration = Duration::from_secs(5);

/// A request's body, read by its route through [`SharedBody`] and held here after the answer.
struct Body {
    payload: Payload,
    finished: bool,
}

/// The route's end of a [`Body`].
struct SharedBody(Rc<RefCell<Body>>);

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

/// Holds a chunked request's body past its answer when the route did not read it to its end
/// (refused before reading, or while reading), so that actix closes the connection.
pub async fn close_after_unread_body(
    mut request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    // A body of a declared length is closed by actix itself when left unread.
    if !request.headers().contains_key(TRANSFER_ENCODING) {
        return next.call(request).await;
    }
    let body = Rc::new(RefCell::new(Body {
        payload: request.take_payload(),
        finished: false,
    }));
    let shared: Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>> =
        Box::pin(SharedBody(body.clone()));
    request.set_payload(Payload::from(shared));
    let answer = next.call(request).await;
    if !body.borrow().finished {
        actix_web::rt::spawn(async move {
            actix_web::rt::time::sleep(HOLD_AFTER_ANSWER).await;
            drop(body);
        });
    }
    answer
}
