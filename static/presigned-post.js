// presigned-post.js — upload a File straight to the bucket, with a policy from a
// presigned-post service. A plain ES module with no dependencies; import it from the service:
//
//   import { uploadFile } from 'https://uploads.example.com/static/presigned-post.js';
//
//   const { key } = await uploadFile(file, {
//     profile: 'avatar',                          // the upload profile
//     endpoint: 'https://uploads.example.com',    // the service (default: this page's origin);
//                                                 // list this page's origin in cors_origins
//     token: userToken,                           // for access = "token" profiles
//     credentials: 'include',                     // fetch credentials mode for the API call
//     metadata: { alt: 'A beach' },               // x-amz-meta-* names the profile lists
//     onProgress: (fraction) => bar.value = fraction,
//     onRetry: (error) => say('The link expired; trying again.'),
//     signal: controller.signal,                  // AbortController to cancel
//   });
//
// It asks POST /api/uploads for a policy, posts the fields and the file to the bucket with
// upload progress, and resolves to { key, url, etag }. When the store says the policy expired
// (a clock that is off, a tab left open), it calls onRetry and tries once more with a fresh
// policy. Every failure rejects with an UploadError: `code` is the service's problem code, the
// store's error code, or one of `network-error`, `invalid-response` and `cancelled`; `stage`
// says which step failed.

/**
 * Why an upload failed.
 *
 * - `code`: the service's problem code (`file-too-large`, …), the store's error code
 *   (`EntityTooLarge`, …), `network-error` (the service or the store could not be reached),
 *   `invalid-response` (the service's answer is no policy), `cancelled` (the signal aborted),
 *   or `http-STATUS` for an answer without a code.
 * - `status`: the HTTP status, 0 without an answer.
 * - `stage`: `policy` (asking the service) or `upload` (posting to the store).
 * - `maxSize`: for `EntityTooLarge`, the largest size the upload allows, in bytes.
 * - `cause`: the browser's own error, if there was one.
 */
export class UploadError extends Error {
  constructor(message, code, status, { stage = null, maxSize = null, cause } = {}) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'UploadError';
    this.code = code;
    this.status = status;
    this.stage = stage;
    this.maxSize = maxSize;
  }
}

/** Uploads `file`; see the module comment for the options. */
export async function uploadFile(file, options = {}) {
  const post = await requestPolicy(file, options);
  try {
    return await send(post, file, options);
  } catch (error) {
    if (!policyExpired(error)) throw error;
    options.onRetry?.(error);
    return send(await requestPolicy(file, options), file, options);
  }
}

/** The store judged the policy's time past (or, checking the signing time, too old). */
function policyExpired(error) {
  return (error.code === 'AccessDenied' && /policy expired/i.test(error.message))
    || error.code === 'RequestTimeTooSkewed';
}

function cancelled(stage, signal) {
  return new UploadError('cancelled', 'cancelled', 0, { stage, cause: signal.reason });
}

/** Asks the service for a policy: `{url, fields, key, max_size, …}`. */
async function requestPolicy(file, options) {
  const { signal } = options;
  if (signal?.aborted) throw cancelled('policy', signal);
  const endpoint = (options.endpoint ?? '').replace(/\/$/, '');
  const headers = { 'content-type': 'application/json' };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  const request = { profile: options.profile, filename: file.name, size: file.size };
  if (file.type) request.content_type = file.type;
  if (options.metadata) request.metadata = options.metadata;
  let response;
  let text;
  try {
    response = await fetch(`${endpoint}/api/uploads`, {
      method: 'POST',
      headers,
      body: JSON.stringify(request),
      credentials: options.credentials ?? 'same-origin',
      signal,
    });
    text = await response.text();
  } catch (error) {
    if (signal?.aborted) throw cancelled('policy', signal);
    throw new UploadError('the upload service could not be reached', 'network-error', 0, {
      stage: 'policy', cause: error,
    });
  }
  let answer = null;
  try {
    answer = JSON.parse(text);
  } catch {
    // Not JSON: a proxy's error page, a login wall… judged below by the status.
  }
  const string = (value) => (typeof value === 'string' ? value : '');
  if (!response.ok) {
    const code = string(answer?.type).split(':').pop() || `http-${response.status}`;
    const message = string(answer?.detail) || `the service answered ${response.status}`;
    throw new UploadError(message, code, response.status, { stage: 'policy' });
  }
  if (typeof answer?.url !== 'string' || typeof answer.fields !== 'object' || answer.fields === null) {
    throw new UploadError('the service\'s answer is not an upload policy', 'invalid-response', response.status, {
      stage: 'policy',
    });
  }
  return answer;
}

/** Posts the policy's fields and the file to the store; resolves to `{key, url, etag}`. */
function send(post, file, options) {
  const { signal } = options;
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(cancelled('upload', signal));
      return;
    }
    const xhr = new XMLHttpRequest();
    const abort = () => xhr.abort();
    const settle = (outcome, value) => {
      signal?.removeEventListener('abort', abort);
      outcome(value);
    };
    xhr.upload.addEventListener('progress', (event) => {
      if (event.lengthComputable && options.onProgress) options.onProgress(event.loaded / event.total);
    });
    xhr.addEventListener('load', () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        const etag = (xhr.getResponseHeader('ETag') ?? '').replaceAll('"', '') || null;
        settle(resolve, { key: post.key, url: post.url, etag });
      } else {
        settle(reject, storeError(xhr, post));
      }
    });
    xhr.addEventListener('error', () => settle(reject, new UploadError(
      'the store could not be reached (is the bucket\'s CORS rule set for this origin?)', 'network-error', 0,
      { stage: 'upload' },
    )));
    xhr.addEventListener('abort', () => settle(reject, cancelled('upload', signal)));
    signal?.addEventListener('abort', abort);
    const data = new FormData();
    for (const [name, value] of Object.entries(post.fields)) data.append(name, value);
    data.append('file', file);
    try {
      xhr.open('POST', post.url);
      xhr.send(data);
    } catch (error) {
      settle(reject, new UploadError('the policy\'s URL cannot be used', 'invalid-response', 0, {
        stage: 'upload', cause: error,
      }));
    }
  });
}

/** Reads S3's `<Error><Code>…</Code><Message>…</Message></Error>`. */
function storeError(xhr, post) {
  const doc = new DOMParser().parseFromString(xhr.responseText || '<Error/>', 'application/xml');
  const field = (name) => doc.getElementsByTagName(name)[0]?.textContent ?? '';
  const code = field('Code') || `http-${xhr.status}`;
  const maxSize = code === 'EntityTooLarge' ? Number(field('MaxSizeAllowed')) || post.max_size || null : null;
  return new UploadError(field('Message') || `the store answered ${xhr.status}`, code, xhr.status, {
    stage: 'upload', maxSize,
  });
}
