// presigned-post.js — upload a File straight to the bucket, with a policy from a
// presigned-post service. A plain ES module with no dependencies; import it from the service:
//
//   import { uploadFile } from 'https://uploads.example.com/static/presigned-post.js';
//
//   const { key } = await uploadFile(file, {
//     profile: 'avatar',                          // the upload profile
//     endpoint: 'https://uploads.example.com',    // the service (default: this page's origin);
//                                                 // list this page's origin in cors_origins
//     token: userToken,                           // for access = "token" profiles: a string,
//                                                 // or a function giving one (may be async)
//     credentials: 'include',                     // fetch credentials mode for the API calls
//     metadata: { alt: 'A beach' },               // x-amz-meta-* names the profile lists
//     onProgress: (fraction) => bar.value = fraction,
//     onRetry: (error) => say('The link expired; trying again.'),
//     signal: controller.signal,                  // AbortController to cancel
//     multipartThreshold: 100 * 2 ** 20,          // larger files go in parts (the default)
//     partsAtOnce: 4,                             // parts uploaded at the same time (the default)
//   });
//
// A file of up to `multipartThreshold` bytes (100 MiB, as Uppy) goes in one POST: it asks
// POST /api/uploads for a policy, posts the fields and the file to the bucket with upload
// progress, and resolves to { key, url, etag, size } (`url` is the bucket's). When the store
// says the policy expired (a clock that is off, a tab left open), it calls onRetry and tries
// once more with a fresh policy.
//
// A larger file, and always one over 5 GiB (the most one POST carries), goes in parts, through
// the multipart endpoints Uppy's @uppy/aws-s3 uses: POST /s3/multipart creates the upload (with
// the file's size, so a file over the profile's limit is refused before a byte is sent); each
// part of max(8 MiB, size / 10,000) rounded up to a MiB is PUT straight to the store with a URL
// signed for it, `partsAtOnce` at a time; POST /s3/multipart/{id}/complete joins them, and the
// service checks the total against the profile's limits. A part that fails is tried again with
// a fresh URL, three tries in all, after 1 s and then 3 s (at once, after onRetry, when the
// store says its URL expired). Progress counts the bytes of every part sent. It resolves to
// { key, url, etag, size } (`url` is the object's URL in the bucket, as the service answers
// it; `etag` null). When the upload fails or is cancelled, it asks the service to abort it
// (DELETE /s3/multipart/{id}), so the store keeps no parts. A profile the service cannot
// take in parts (`multipart-unavailable`) gets a file of up to 5 GiB in one POST instead.
//
// With `token` a function (e.g. `() => auth0.getAccessTokenSilently()`), it is asked before
// every call to the service, so an upload in parts never outlives its sign-in token, and a
// call answered `token-expired` is made once more with the token it gives then.
//
// Every failure rejects with an UploadError: `code` is the service's problem code, the
// store's error code, or one of `network-error`, `invalid-response`, `missing-etag`,
// `token-unavailable` and `cancelled`; `stage` says which step failed and `source` who answered.

const MiB = 2 ** 20;
/** The most one POST carries, and so the size above which every file goes in parts. */
const MAX_POST_SIZE = 5 * 2 ** 30;
/** S3's largest number of parts. */
const MAX_PARTS = 10_000;
/** How long a failed part waits before its second and third tries. */
const PART_RETRY_DELAYS = [1000, 3000];
/** How long a cancel waits for the store's answer to a part it has whole, in ms. */
const SENT_PART_WAIT = 10_000;

/**
 * Why an upload failed.
 *
 * - `code`: the service's problem code (`file-too-large`, …), the store's error code
 *   (`EntityTooLarge`, …), `network-error` (the service or the store could not be reached),
 *   `invalid-response` (the service's answer is not what was asked for), `missing-etag` (the
 *   store's answer to a part hides its `ETag` header: the bucket's CORS rule must expose it),
 *   `token-unavailable` (the `token` function threw or gave no string; `cause` is its error),
 *   `cancelled` (the signal aborted), or `http-STATUS` for an answer without a code.
 * - `status`: the HTTP status, 0 without an answer.
 * - `stage`: for one POST, `policy` (asking the service) or `upload` (posting to the store);
 *   for an upload in parts, `create` (starting it), `part` (signing or sending a part) or
 *   `complete` (joining the parts).
 * - `source`: who answered: `service`, `store`, or null (nobody: a cancel).
 * - `maxSize`: for `EntityTooLarge`, the largest size the upload allows, in bytes.
 * - `cause`: the browser's own error, if there was one.
 */
export class UploadError extends Error {
  constructor(message, code, status, { stage = null, source = null, maxSize = null, cause } = {}) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'UploadError';
    this.code = code;
    this.status = status;
    this.stage = stage;
    this.source = source;
    this.maxSize = maxSize;
  }
}

/** Uploads `file`; see the module comment for the options. */
export async function uploadFile(file, options = {}) {
  const threshold = options.multipartThreshold ?? 100 * MiB;
  if (file.size > threshold || file.size > MAX_POST_SIZE) {
    try {
      return await uploadInParts(file, options);
    } catch (error) {
      // A profile that cannot take uploads in parts (it shares its key prefix with another
      // profile of other limits) still takes one POST of up to 5 GiB.
      if (error.code !== 'multipart-unavailable' || file.size > MAX_POST_SIZE) throw error;
    }
  }
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

/** The store judged a part URL's time past (or its signing time too old). */
function partUrlExpired(error) {
  return (error.code === 'AccessDenied' && /request has expired/i.test(error.message))
    || error.code === 'RequestTimeTooSkewed';
}

function cancelled(stage, signal) {
  return new UploadError('cancelled', 'cancelled', 0, { stage, cause: signal.reason });
}

/**
 * Calls the service: `method` `path` (under the endpoint) with `body` as JSON, if any; resolves
 * to the JSON answer, or rejects with an UploadError of `stage`. `keepalive` lets the request
 * outlive the page.
 */
async function callService(method, path, options, stage, request = {}) {
  try {
    return await callServiceOnce(method, path, options, stage, request);
  } catch (error) {
    if (error.code !== 'token-expired' || typeof options.token !== 'function') throw error;
    return callServiceOnce(method, path, options, stage, request);
  }
}

/** The sign-in token to send, if any: `options.token`, or what it gives when a function. */
async function bearer(options, stage) {
  if (typeof options.token !== 'function') return options.token;
  let token;
  try {
    token = await options.token();
  } catch (error) {
    throw new UploadError('no sign-in token could be had', 'token-unavailable', 0, { stage, cause: error });
  }
  if (typeof token !== 'string' || token === '') {
    throw new UploadError('the token function gave no token', 'token-unavailable', 0, { stage });
  }
  return token;
}

/** One call of {@link callService}. */
async function callServiceOnce(method, path, options, stage, { body, signal = options.signal, keepalive = false } = {}) {
  if (signal?.aborted) throw cancelled(stage, signal);
  const endpoint = (options.endpoint ?? '').replace(/\/$/, '');
  const headers = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  const token = await bearer(options, stage);
  if (signal?.aborted) throw cancelled(stage, signal);
  if (token) headers.authorization = `Bearer ${token}`;
  let response;
  let text;
  try {
    response = await fetch(`${endpoint}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: options.credentials ?? 'same-origin',
      signal,
      keepalive,
    });
    text = await response.text();
  } catch (error) {
    if (signal?.aborted) throw cancelled(stage, signal);
    throw new UploadError('the upload service could not be reached', 'network-error', 0, {
      stage, source: 'service', cause: error,
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
    throw new UploadError(message, code, response.status, { stage, source: 'service' });
  }
  if (answer === null || typeof answer !== 'object') throw invalidAnswer(stage, response.status);
  return answer;
}

function invalidAnswer(stage, status) {
  const what = { policy: 'an upload policy', create: 'an upload in parts', part: 'a part\'s URL' }[stage]
    ?? 'what was asked';
  return new UploadError(`the service's answer is not ${what}`, 'invalid-response', status, {
    stage, source: 'service',
  });
}

/** Asks the service for a policy: `{url, fields, key, max_size, …}`. */
async function requestPolicy(file, options) {
  const request = { profile: options.profile, filename: file.name, size: file.size };
  if (file.type) request.content_type = file.type;
  if (options.metadata) request.metadata = options.metadata;
  const answer = await callService('POST', '/api/uploads', options, 'policy', { body: request });
  if (typeof answer.url !== 'string' || typeof answer.fields !== 'object' || answer.fields === null) {
    throw invalidAnswer('policy', 200);
  }
  return answer;
}

/** Posts the policy's fields and the file to the store; resolves to `{key, url, etag, size}`. */
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
        settle(resolve, { key: post.key, url: post.url, etag, size: file.size });
      } else {
        settle(reject, storeError(xhr, 'upload', post.max_size));
      }
    });
    xhr.addEventListener('error', () => settle(reject, unreachableStore('upload')));
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
        stage: 'upload', source: 'service', cause: error,
      }));
    }
  });
}

function unreachableStore(stage) {
  return new UploadError(
    'the store could not be reached (is the bucket\'s CORS rule set for this origin?)', 'network-error', 0,
    { stage, source: 'store' },
  );
}

/** Reads S3's `<Error><Code>…</Code><Message>…</Message></Error>`. */
function storeError(xhr, stage, maxSize) {
  const doc = new DOMParser().parseFromString(xhr.responseText || '<Error/>', 'application/xml');
  const field = (name) => doc.getElementsByTagName(name)[0]?.textContent ?? '';
  const code = field('Code') || `http-${xhr.status}`;
  const limit = code === 'EntityTooLarge' ? Number(field('MaxSizeAllowed')) || maxSize || null : null;
  return new UploadError(field('Message') || `the store answered ${xhr.status}`, code, xhr.status, {
    stage, source: 'store', maxSize: limit,
  });
}

/** The size of each part of a file of `size` bytes: at least 8 MiB, at most 10,000 parts. */
function partSize(size) {
  return Math.max(8 * MiB, Math.ceil(Math.ceil(size / MAX_PARTS) / MiB) * MiB);
}

/**
 * Uploads `file` in parts (see the module comment); resolves to `{key, url, etag, size}`.
 * Whatever goes wrong once the upload exists, it is aborted before this rejects.
 */
async function uploadInParts(file, options) {
  const { signal } = options;
  if (signal?.aborted) throw cancelled('create', signal);
  const request = { filename: file.name, type: file.type, metadata: options.metadata ?? {}, size: file.size };
  if (options.profile) request.profile = options.profile;
  // A cancel while the service creates the upload answers at once; the upload, if the
  // service creates it after all, is aborted when its id arrives.
  const creating = callService('POST', '/s3/multipart', options, 'create', { body: request, signal: null });
  let created;
  try {
    created = await unlessCancelled(creating, signal, 'create');
  } catch (error) {
    if (signal?.aborted) creating.then((late) => abortUpload(uploadOf(late), options), () => {});
    throw error;
  }
  const upload = uploadOf(created);
  if (!upload) throw invalidAnswer('create', 200);
  // One signal stops every part: the caller's, or the first part that fails for good.
  const stop = new AbortController();
  const cancel = () => stop.abort(signal.reason);
  signal?.addEventListener('abort', cancel);
  try {
    const parts = await sendParts(file, upload, options, stop);
    const done = await callService('POST', `${upload.path}/complete${upload.query}`, options, 'complete', {
      body: { parts },
    });
    return {
      key: typeof done.key === 'string' ? done.key : upload.key,
      url: typeof done.location === 'string' ? done.location : null,
      etag: null,
      size: typeof done.size === 'number' ? done.size : file.size,
    };
  } catch (error) {
    await abortUpload(upload, options);
    throw signal?.aborted ? cancelled(error.stage, signal) : error;
  } finally {
    signal?.removeEventListener('abort', cancel);
  }
}

/** Where the calls about a created upload go, or null if `created` is no upload. */
function uploadOf(created) {
  if (typeof created?.key !== 'string' || typeof created.uploadId !== 'string') return null;
  return {
    key: created.key,
    query: `?key=${encodeURIComponent(created.key)}`,
    path: `/s3/multipart/${encodeURIComponent(created.uploadId)}`,
  };
}

/**
 * Asks the service to abort `upload`, so the store drops its parts; never rejects. The request
 * may outlive the page (`keepalive`); should the browser refuse that (some do for a request
 * that needs a CORS preflight), it is sent again as a plain one.
 */
async function abortUpload(upload, options) {
  if (!upload) return;
  for (const keepalive of [true, false]) {
    try {
      await callService('DELETE', `${upload.path}${upload.query}`, options, 'complete', {
        signal: null, keepalive,
      });
      return;
    } catch (error) {
      if (error.code !== 'network-error') break;
    }
  }
  // Not aborted: the bucket's lifecycle rule (see `presigned-post doctor`) drops the parts.
}

/** `promise`, or a cancelled UploadError of `stage` as soon as `signal` aborts. */
function unlessCancelled(promise, signal, stage) {
  if (!signal) return promise;
  return new Promise((resolve, reject) => {
    const cancel = () => reject(cancelled(stage, signal));
    signal.addEventListener('abort', cancel);
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', cancel));
  });
}

/**
 * Sends every part of `file`, `partsAtOnce` at a time; resolves to `[{PartNumber, ETag}]` in
 * order, or rejects with the first part's failure once every part has stopped.
 */
async function sendParts(file, upload, options, stop) {
  const size = partSize(file.size);
  const count = Math.max(1, Math.ceil(file.size / size));
  const sent = new Array(count).fill(0);
  const progress = (index, bytes) => {
    sent[index] = bytes;
    if (!options.onProgress || stop.signal.aborted) return;
    options.onProgress(file.size ? sent.reduce((a, b) => a + b, 0) / file.size : 1);
  };
  const etags = new Array(count);
  let next = 0;
  let failure = null;
  const worker = async () => {
    while (next < count && !stop.signal.aborted) {
      const index = next;
      next += 1;
      const blob = file.slice(index * size, Math.min(file.size, (index + 1) * size));
      try {
        etags[index] = await sendPart(blob, index + 1, upload, options, stop.signal, (bytes) => progress(index, bytes));
      } catch (error) {
        failure ??= error;
        stop.abort();
      }
    }
  };
  const workers = Math.min(count, Math.max(1, options.partsAtOnce ?? 4));
  await Promise.all(Array.from({ length: workers }, worker));
  if (failure) throw failure;
  if (stop.signal.aborted) throw cancelled('part', stop.signal);
  return etags.map((ETag, index) => ({ PartNumber: index + 1, ETag }));
}

/** Sends part `number` (`blob`), with a fresh URL for each of up to three tries; its ETag. */
async function sendPart(blob, number, upload, options, signal, progress) {
  for (let tries = 1; ; tries += 1) {
    try {
      const signed = await callService('GET', `${upload.path}/${number}${upload.query}`, options, 'part', { signal });
      if (typeof signed.url !== 'string') throw invalidAnswer('part', 200);
      return await putPart(signed, blob, signal, progress);
    } catch (error) {
      progress(0);
      if (signal.aborted || tries === 3 || !worthRetrying(error)) throw error;
      if (partUrlExpired(error)) {
        options.onRetry?.(error);
      } else {
        await pause(PART_RETRY_DELAYS[tries - 1], signal);
      }
    }
  }
}

/**
 * Whether a failed part may work if tried again: no answer, a busy or failing server, a
 * timeout, or an expired URL; not a refusal.
 */
function worthRetrying(error) {
  const { status, code } = error;
  return (status === 0 && code !== 'cancelled')
    || status === 408 || status === 409 || status === 429 || status >= 500
    || code === 'RequestTimeout'
    || partUrlExpired(error);
}

/** Waits `ms`, or rejects at once if `signal` aborts. */
function pause(ms, signal) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', stop);
      resolve();
    }, ms);
    const stop = () => {
      clearTimeout(timer);
      reject(cancelled('part', signal));
    };
    signal.addEventListener('abort', stop, { once: true });
  });
}

/**
 * PUTs `blob` to the part URL of `signed`; resolves to the ETag the store answers.
 *
 * When `signal` aborts, a part still being sent is dropped at once, and the store never has
 * it whole; but a part sent whole may be being stored, and would land after an abort that came
 * before it: its answer is awaited (`SENT_PART_WAIT` at most), so the abort that follows
 * removes it too.
 */
function putPart(signed, blob, signal, progress) {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(cancelled('part', signal));
      return;
    }
    const xhr = new XMLHttpRequest();
    let sentWhole = false;
    let timer;
    const stop = () => {
      if (sentWhole) timer = setTimeout(() => xhr.abort(), SENT_PART_WAIT);
      else xhr.abort();
    };
    const settle = (outcome, value) => {
      signal.removeEventListener('abort', stop);
      clearTimeout(timer);
      outcome(value);
    };
    xhr.upload.addEventListener('progress', (event) => progress(Math.min(event.loaded, blob.size)));
    xhr.upload.addEventListener('load', () => { sentWhole = true; });
    xhr.addEventListener('load', () => {
      if (signal.aborted) {
        settle(reject, cancelled('part', signal));
        return;
      }
      if (xhr.status < 200 || xhr.status >= 300) {
        settle(reject, storeError(xhr, 'part', null));
        return;
      }
      const etag = xhr.getResponseHeader('ETag');
      if (!etag) {
        settle(reject, new UploadError(
          'the store\'s answer hides its ETag header (the bucket\'s CORS rule must expose ETag)', 'missing-etag',
          xhr.status, { stage: 'part', source: 'store' },
        ));
        return;
      }
      progress(blob.size);
      settle(resolve, etag);
    });
    xhr.addEventListener('error', () => {
      settle(reject, signal.aborted ? cancelled('part', signal) : unreachableStore('part'));
    });
    xhr.addEventListener('abort', () => settle(reject, cancelled('part', signal)));
    signal.addEventListener('abort', stop);
    try {
      xhr.open(typeof signed.method === 'string' ? signed.method : 'PUT', signed.url);
      for (const [name, value] of Object.entries(signed.headers ?? {})) xhr.setRequestHeader(name, value);
      xhr.send(blob);
    } catch (error) {
      settle(reject, new UploadError('the part\'s URL cannot be used', 'invalid-response', 0, {
        stage: 'part', source: 'service', cause: error,
      }));
    }
  });
}
