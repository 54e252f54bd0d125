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
//     signal: controller.signal,                  // AbortController to cancel
//   });
//
// It asks POST /api/uploads for a policy, posts the fields and the file to the bucket with
// upload progress, and resolves to { key, url, etag }. Failures reject with an UploadError
// whose `code` is the service's problem code or the store's error code.

/** Why an upload failed: `code` (e.g. `file-too-large`, `EntityTooLarge`), `status`, `message`. */
export class UploadError extends Error {
  constructor(message, code, status) {
    super(message);
    this.name = 'UploadError';
    this.code = code;
    this.status = status;
  }
}

/** Uploads `file`; see the module comment for the options. */
export async function uploadFile(file, options = {}) {
  const endpoint = (options.endpoint ?? '').replace(/\/$/, '');
  const headers = { 'content-type': 'application/json' };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  const request = { profile: options.profile, filename: file.name, size: file.size };
  if (file.type) request.content_type = file.type;
  if (options.metadata) request.metadata = options.metadata;
  const response = await fetch(`${endpoint}/api/uploads`, {
    method: 'POST',
    headers,
    body: JSON.stringify(request),
    credentials: options.credentials ?? 'same-origin',
    signal: options.signal,
  });
  const post = await response.json().catch(() => ({}));
  if (!response.ok) {
    const code = (post.type ?? '').split(':').pop() || `http-${response.status}`;
    throw new UploadError(post.detail ?? `the service answered ${response.status}`, code, response.status);
  }
  const data = new FormData();
  for (const [name, value] of Object.entries(post.fields)) data.append(name, value);
  data.append('file', file);
  const etag = await send(post.url, data, options);
  return { key: post.key, url: post.url, etag };
}

function send(url, data, options) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.upload.addEventListener('progress', (event) => {
      if (event.lengthComputable && options.onProgress) options.onProgress(event.loaded / event.total);
    });
    xhr.addEventListener('load', () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        resolve((xhr.getResponseHeader('ETag') ?? '').replaceAll('"', '') || null);
        return;
      }
      const doc = new DOMParser().parseFromString(xhr.responseText || '<Error/>', 'application/xml');
      const field = (name) => doc.getElementsByTagName(name)[0]?.textContent ?? '';
      reject(new UploadError(field('Message') || `the store answered ${xhr.status}`, field('Code') || `http-${xhr.status}`, xhr.status));
    });
    xhr.addEventListener('error', () => reject(new UploadError(
      'the store could not be reached (is the bucket\'s CORS rule set for this origin?)', 'network-error', 0,
    )));
    xhr.addEventListener('abort', () => reject(new UploadError('cancelled', 'cancelled', 0)));
    options.signal?.addEventListener('abort', () => xhr.abort());
    xhr.open('POST', url);
    xhr.send(data);
  });
}
