// The upload page's script (a plain ES module, no build step).
//
// Without it the page is a plain form that posts one file straight to the bucket. With it:
// drag and drop, several files, checks of size and type before any byte is sent, and for each
// file a progress bar, a cancel button and the outcome in words. The upload itself — a fresh
// policy per file, the post to the store, its XML errors, one retry with a fresh policy when a
// policy expired; for a file over 100 MiB, an upload in parts, several at once, each retried,
// aborted on cancel — is presigned-post.js, the module single-page apps use. So with the script
// the page takes files up to the profile's limit (up to 5 TiB); the plain form, one POST,
// carries at most 5 GiB.

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
    // The kinds of file in the server's words (src/upload/words/types.rs): "PNG or JPEG images".
    kinds: form.dataset.kinds,
    downloads: form.dataset.downloads === 'true',
  };

  document.querySelectorAll('.js-only').forEach((el) => { el.hidden = false; });
  // What only the plain form needs: its submit button, and the time its own policy stops
  // working. With the script each file gets a fresh policy when it is sent, so the page's
  // policy never runs out on anyone, and nothing here counts down or reloads.
  document.querySelectorAll('.no-js-submit, .no-js-only').forEach((el) => { el.hidden = true; });
  // role=status is atomic by default: each new line would re-read the ones before it.
  document.getElementById('status').setAttribute('aria-atomic', 'false');
  input.multiple = true;
  input.required = false;
  // A page whose profile needs the script has its input disabled, described by a notice that
  // exists only without the script.
  input.disabled = false;
  const described = input.getAttribute('aria-describedby').split(' ').filter((id) => id !== 'needs-script');
  input.setAttribute('aria-describedby', described.join(' '));
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

  /** Queues `files` in the order given: one announcement for those that start, then each refusal. */
  function start(files) {
    const refused = [];
    const started = [];
    for (const file of files) {
      const item = new Item(file);
      const problem = checkLocally(file, limits);
      if (problem) {
        refused.push([item, problem]);
      } else {
        started.push([file, item]);
      }
    }
    if (started.length > 0) announce(`Uploading ${listNames(started.map(([file]) => file.name))}.`);
    for (const [file, item] of started) upload(file, item, limits);
    for (const [item, problem] of refused) item.fail(problem);
  }
}

/** "a.txt", "a.txt and b.txt", "a.txt, b.txt and c.txt", or "5 files". */
function listNames(names) {
  if (names.length > 3) return `${names.length} files`;
  return names.length === 1 ? names[0] : `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
}

/**
 * A size for people, in the decimal units the page's limits use (src/upload/words/sizes.rs):
 * "512 bytes", "2 KB", "10 MB", "1.5 GB" — one decimal under 10 of a unit, whole units above.
 * `rounding` is 'nearest' for a file's size, 'down' for a maximum and 'up' for a minimum, so
 * a stated limit stays true ("up to 10 MB" for 10 MiB).
 */
export function humanSize(bytes, rounding = 'nearest') {
  const units = [[1e12, 'TB'], [1e9, 'GB'], [1e6, 'MB'], [1e3, 'KB']];
  const round = { nearest: Math.round, down: Math.floor, up: Math.ceil }[rounding];
  for (const [index, [unit, name]] of units.entries()) {
    if (bytes < unit) continue;
    const scale = bytes < 10 * unit ? 10 : 1;
    const value = round((bytes * scale) / unit);
    // Rounding up (or to the nearest) can reach the next unit exactly: 1000 KB is 1 MB.
    if (value === 1000 * scale && index > 0) return `1 ${units[index - 1][1]}`;
    return `${value / scale} ${name}`;
  }
  return bytes === 1 ? '1 byte' : `${bytes} bytes`;
}

function typeAllowed(type, patterns) {
  if (patterns.length === 0) return true;
  const essence = (type || '').split(';')[0].trim().toLowerCase();
  if (!essence.includes('/')) return false;
  return patterns.some((pattern) => pattern === '*/*'
    || pattern === essence
    || (pattern.endsWith('/*') && essence.startsWith(pattern.slice(0, -1))));
}

/**
 * A file's size and a limit in words that differ (a maximum rounded down, a minimum up), in
 * bytes if rounding would make them read the same.
 */
function sizes(size, limit) {
  const [a, b] = [humanSize(size), humanSize(limit, size > limit ? 'down' : 'up')];
  if (a !== b) return [a, b];
  return [size, limit].map((bytes) => `${bytes.toLocaleString('en')} bytes`);
}

/** Why `file` cannot be sent, as the end of "NAME was not uploaded: …", or null. */
function checkLocally(file, limits) {
  if (file.size > limits.maxSize()) {
    return `it is ${sizes(file.size, limits.maxSize()).join('; the limit is ')}.`;
  }
  if (file.size < limits.minSize()) {
    return `it is ${sizes(file.size, limits.minSize()).join('; the minimum is ')}.`;
  }
  if (!typeAllowed(file.type, limits.types)) {
    return `this upload takes only ${limits.kinds}.`;
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
      onRetry: () => item.note('The upload link expired; retrying with a fresh one…'),
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

/** An UploadError in words for the person uploading, as the end of "NAME was not uploaded: …". */
function explain(error, file) {
  if (error.source === 'service') {
    switch (error.code) {
      case 'network-error':
        return 'the upload service could not be reached. Check your connection and try again.';
      case 'invalid-response':
        return 'the upload service answered with something other than an upload link. Please try again later.';
      default:
        // The service's problem detail is written for people; an answer without one is not.
        if (error.code.startsWith('http-')) return `the upload service refused it (${error.status}).`;
        return sentence(error.message);
    }
  }
  switch (error.code) {
    case 'EntityTooLarge':
      if (!error.maxSize) return `it is ${humanSize(file.size)}; that is over this upload's limit.`;
      return `it is ${sizes(file.size, error.maxSize).join('; the limit is ')}.`;
    case 'EntityTooSmall':
      return `it is ${humanSize(file.size)}; that is below this upload's minimum size.`;
    case 'AccessDenied':
      if (/policy expired|request has expired/i.test(error.message)) {
        return 'its upload link expired again after a retry. Check that this computer\'s clock is right, then try again.';
      }
      return 'the storage refused it: it does not match what this upload allows.';
    case 'RequestTimeTooSkewed':
      return 'the storage\'s clock and the upload service\'s disagree, so upload links look expired. Please try again later.';
    case 'SignatureDoesNotMatch':
      return 'the storage did not accept the signature of its upload link. Please try again.';
    case 'InvalidAccessKeyId':
    case 'ExpiredToken':
    case 'InvalidToken':
      return 'the credentials of its upload link are no longer valid. Please try again.';
    case 'network-error':
      return 'the storage could not be reached. If this keeps happening, the bucket may be missing its CORS rule.';
    case 'missing-etag':
      return 'the storage hides the ETag header the parts of a large file need. The bucket\'s CORS rule must expose ETag.';
    default:
      return `the storage refused it (${error.code}: ${error.message}).`;
  }
}

/** `text` as the end of a sentence: a lowercase start, a full stop at the end. */
function sentence(text) {
  return text.charAt(0).toLowerCase() + text.slice(1) + (/[.!?]$/.test(text) ? '' : '.');
}

/**
 * Says `text` once, politely, through the page's one live region. Each announcement is a line
 * of its own, appended (the region is not atomic), so a screen reader reads every line in turn
 * and a failure is never overwritten by the next event before it is read; old lines go.
 */
function announce(text) {
  const status = document.getElementById('status');
  const line = document.createElement('p');
  line.textContent = text;
  status.append(line);
  while (status.childElementCount > 10) status.firstElementChild.remove();
}

/**
 * One file in the list: name, progress, what happened, cancel. What happened stays in the
 * list — a failure persists until the page is left — and is announced once.
 */
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
    this.message.textContent = 'Uploading…';
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
      this.finish('cancelled', 'Cancelled.', `${this.name}: upload cancelled.`);
    });
  }

  /** Moves the bar only: progress is never announced (a screen reader reads the bar on demand). */
  progress(fraction) {
    this.bar.value = Math.round(fraction * 100);
  }

  /** Shows `text` in the list, without announcing it: the outcome that follows is. */
  note(text) {
    this.message.textContent = text;
  }

  done(key) {
    this.bar.value = 100;
    this.finish('done', 'Uploaded.', `${this.name} uploaded.`);
    const where = document.createElement('span');
    where.className = 'file-key';
    // The file name part of the key; the whole key is in the title, for whoever needs it.
    const stored = document.createElement('code');
    stored.textContent = key.slice(key.lastIndexOf('/') + 1);
    stored.title = key;
    where.append('Saved as ', stored);
    this.li.append(where);
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

  /** `reason` ends "NAME was not uploaded: …". */
  fail(reason) {
    this.finish('failed', `Not uploaded: ${reason}`, `${this.name} was not uploaded: ${reason}`);
  }

  /**
   * Ends the upload: `text` in the list, `announcement` to screen readers. The focus moves only
   * if it was on the cancel button that goes away; otherwise it stays where the person is.
   */
  finish(state, text, announcement) {
    const hadFocus = document.activeElement === this.cancel;
    this.li.dataset.state = state;
    this.message.textContent = text;
    this.cancel.remove();
    if (state !== 'done') this.bar.remove();
    if (hadFocus) focusAfter(this.li);
    announce(announcement);
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
