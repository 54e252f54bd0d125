// The upload page's script (a plain ES module, no build step).
//
// Without it the page is a plain form that posts one file straight to the bucket. With it:
// drag and drop, several files, checks of size and type before any byte is sent, and for each
// file a progress bar, a cancel button and the outcome in words. The upload itself — a fresh
// policy per file, the post to the store, its XML errors, one retry with a fresh policy when a
// policy expired — is presigned-post.js, the module single-page apps use.

import { uploadFile } from './presigned-post.js';

const form = document.getElementById('upload-form');
if (form) enhance(form);

function enhance(form) {
  const input = document.getElementById('file');
  const zone = document.getElementById('drop-zone');
  const limits = {
    profile: form.dataset.profile,
    maxSize: () => Number(form.dataset.maxSize),
    minSize: () => Number(form.dataset.minSize),
    types: form.dataset.types ? form.dataset.types.split(',') : [],
    downloads: form.dataset.downloads === 'true',
  };
  const uploads = new Set();

  document.querySelectorAll('.js-only').forEach((el) => { el.hidden = false; });
  document.querySelectorAll('.no-js-submit').forEach((el) => { el.hidden = true; });
  input.multiple = true;
  input.required = false;
  input.removeAttribute('name');
  document.querySelector('.drop-title').textContent = 'Choose files';
  form.addEventListener('submit', (event) => event.preventDefault());
  input.addEventListener('change', () => {
    start([...input.files]);
    input.value = '';
  });
  zone.addEventListener('dragover', (event) => {
    event.preventDefault();
    zone.classList.add('over');
  });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', (event) => {
    event.preventDefault();
    zone.classList.remove('over');
    start([...event.dataTransfer.files]);
  });
  countDown(document.getElementById('expiry'), () => uploads.size === 0);

  function start(files) {
    for (const file of files) {
      const item = new Item(file);
      const problem = checkLocally(file, limits);
      if (problem) {
        item.fail(problem);
        continue;
      }
      uploads.add(item);
      upload(file, item, limits).finally(() => uploads.delete(item));
    }
  }
}

/** A size for people: binary units when exact, else decimal (as the server writes them). */
export function humanSize(bytes) {
  const binary = [[2 ** 40, 'TiB'], [2 ** 30, 'GiB'], [2 ** 20, 'MiB'], [2 ** 10, 'KiB']];
  for (const [unit, name] of binary) {
    if (bytes >= unit && bytes % unit === 0) return `${bytes / unit} ${name}`;
  }
  const decimal = [[1e12, 'TB'], [1e9, 'GB'], [1e6, 'MB'], [1e3, 'KB']];
  for (const [unit, name] of decimal) {
    if (bytes >= unit) return `${(bytes / unit).toFixed(1)} ${name}`;
  }
  return `${bytes} bytes`;
}

function typeAllowed(type, patterns) {
  if (patterns.length === 0) return true;
  const essence = (type || '').split(';')[0].trim().toLowerCase();
  if (!essence.includes('/')) return false;
  return patterns.some((pattern) => pattern === '*/*'
    || pattern === essence
    || (pattern.endsWith('/*') && essence.startsWith(pattern.slice(0, -1))));
}

function checkLocally(file, limits) {
  if (file.size > limits.maxSize()) {
    return `This file is ${humanSize(file.size)}; the limit is ${humanSize(limits.maxSize())}.`;
  }
  if (file.size < limits.minSize()) {
    return `This file is ${humanSize(file.size)}; the minimum is ${humanSize(limits.minSize())}.`;
  }
  if (!typeAllowed(file.type, limits.types)) {
    const what = file.type ? `a ${file.type} file` : 'a file of unknown type';
    return `This is ${what}; this upload accepts ${limits.types.join(', ')}.`;
  }
  return null;
}

/** Uploads one file and shows how it went; a cancelled item has already said so. */
async function upload(file, item, limits) {
  try {
    const { key } = await uploadFile(file, {
      profile: limits.profile,
      signal: item.signal,
      onProgress: (fraction) => item.progress(fraction),
      onRetry: () => item.note('This link expired — retrying with a fresh one.'),
    });
    item.done(key);
    if (limits.downloads) item.link(await downloadUrl(key));
  } catch (error) {
    if (error.code !== 'cancelled') item.fail(explain(error, file));
  }
}

/** A presigned link to the uploaded object, or null if the service gives none. */
async function downloadUrl(key) {
  try {
    const response = await fetch(`/api/downloads?key=${encodeURIComponent(key)}`);
    if (!response.ok) return null;
    return (await response.json()).url;
  } catch {
    return null;
  }
}

/** An UploadError in words for the person uploading. */
function explain(error, file) {
  if (error.stage === 'policy') {
    switch (error.code) {
      case 'network-error':
        return 'The upload service could not be reached. Check your connection and try again.';
      case 'invalid-response':
        return 'The upload service answered with something other than an upload link. Please try again later.';
      default:
        // The service's problem detail is written for people; an answer without one is not.
        if (error.code.startsWith('http-')) return `The service refused this file (${error.status}).`;
        return capitalize(error.message);
    }
  }
  switch (error.code) {
    case 'EntityTooLarge':
      return `This file is ${humanSize(file.size)}; the limit is ${humanSize(error.maxSize)}.`;
    case 'EntityTooSmall':
      return `This file is ${humanSize(file.size)}; it is below this upload's minimum size.`;
    case 'AccessDenied':
      if (/policy expired/i.test(error.message)) {
        return 'This upload link expired again. Check that this computer\'s clock is right, then try again.';
      }
      return 'The storage refused this file: it does not match what this upload allows.';
    case 'RequestTimeTooSkewed':
      return 'The storage\'s clock and the upload service\'s disagree, so upload links look expired. Please try again later.';
    case 'SignatureDoesNotMatch':
      return 'The storage did not accept the upload\'s signature. Reload the page and try again.';
    case 'InvalidAccessKeyId':
    case 'ExpiredToken':
    case 'InvalidToken':
      return 'The upload link\'s credentials are no longer valid. Please try again.';
    case 'network-error':
      return 'The storage could not be reached. If this keeps happening, the bucket may be missing its CORS rule.';
    default:
      return `The storage refused the upload (${error.code}: ${error.message}).`;
  }
}

function capitalize(text) {
  return text.charAt(0).toUpperCase() + text.slice(1) + (/[.!?]$/.test(text) ? '' : '.');
}

/**
 * Says `text` once through the page's live region. Each announcement is a line of its own, so
 * events of the same moment (two files refused at once) are all read; old lines go.
 */
function announce(text) {
  const status = document.getElementById('status');
  const line = document.createElement('p');
  line.textContent = text;
  status.append(line);
  while (status.childElementCount > 10) status.firstElementChild.remove();
}

/** One file in the queue: name, progress, message, cancel. */
class Item {
  constructor(file) {
    this.name = file.name;
    this.li = document.createElement('li');
    this.li.className = 'file';
    const title = document.createElement('span');
    title.className = 'file-name';
    title.textContent = `${file.name} (${humanSize(file.size)})`;
    this.bar = document.createElement('progress');
    this.bar.max = 100;
    this.bar.value = 0;
    this.bar.setAttribute('aria-label', `Upload of ${file.name}`);
    this.message = document.createElement('span');
    this.message.className = 'file-message';
    this.cancel = document.createElement('button');
    this.cancel.type = 'button';
    this.cancel.className = 'cancel';
    this.cancel.textContent = 'Cancel';
    this.cancel.setAttribute('aria-label', `Cancel upload of ${file.name}`);
    this.li.append(title, this.bar, this.message, this.cancel);
    document.getElementById('queue').append(this.li);
    this.li.dataset.state = 'uploading';
    // Cancel works at every moment: while the policy is fetched, the upload runs, or a retry
    // waits for a fresh policy.
    const controller = new AbortController();
    this.signal = controller.signal;
    this.cancel.addEventListener('click', () => {
      controller.abort();
      this.finish('cancelled', 'Cancelled.');
    });
  }

  progress(fraction) {
    this.bar.value = Math.round(fraction * 100);
  }

  note(text) {
    this.message.textContent = text;
    announce(`${this.name}: ${text}`);
  }

  done(key) {
    this.bar.value = 100;
    this.finish('done', '');
    const stored = document.createElement('code');
    stored.textContent = key;
    this.message.append('Uploaded as ', stored);
    announce(`${this.name} uploaded.`);
  }

  link(url) {
    if (!url) return;
    const open = document.createElement('a');
    open.href = url;
    open.textContent = 'Open';
    open.className = 'open';
    open.setAttribute('aria-label', `Open ${this.name}`);
    this.message.append(' ', open);
  }

  fail(text) {
    this.finish('failed', text);
  }

  finish(state, text) {
    const hadFocus = document.activeElement === this.cancel;
    this.li.dataset.state = state;
    this.message.textContent = text;
    this.cancel.remove();
    if (state !== 'done') this.bar.remove();
    if (hadFocus) focusAfter(this.li);
    if (text) announce(`${this.name}: ${text}`);
  }
}

/**
 * Moves the focus from a cancel button that went away to the next upload's cancel button (else
 * the previous one's), or to the file input when none is left — never to the page's body.
 */
function focusAfter(li) {
  const buttons = [...li.parentElement.querySelectorAll('button.cancel')];
  const next = buttons.find((button) => li.compareDocumentPosition(button) & Node.DOCUMENT_POSITION_FOLLOWING);
  (next ?? buttons.at(-1) ?? document.getElementById('file')).focus();
}

/** Shows the time left on the page's form policy; reloads for a fresh one when it runs out. */
function countDown(element, idle) {
  if (!element) return;
  const end = Date.now() + Number(element.dataset.expiresIn) * 1000;
  const tick = () => {
    const left = Math.max(0, Math.round((end - Date.now()) / 1000));
    if (left === 0) {
      if (idle()) window.location.reload();
      else element.textContent = 'This page\'s upload link has run out; it renews when your uploads finish.';
      return;
    }
    const minutes = Math.floor(left / 60);
    const seconds = String(left % 60).padStart(2, '0');
    element.textContent = `This page's upload link is valid for ${minutes}:${seconds} more.`;
  };
  tick();
  setInterval(tick, 1000);
}
