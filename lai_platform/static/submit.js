// The submit page: the image goes up in chunks (the resumable upload API, with this page's
// session and CSRF token). A dropped connection is waited out and the upload goes on from the
// byte the server holds; picking the same file again after a reload resumes it too. Without
// script the form posts the whole file at once.
const form = document.getElementById('submit-form');
const bar = document.getElementById('upload-progress');
const text = document.getElementById('upload-text');
const button = form.querySelector('button[type=submit]');
const csrf = {'X-CSRFToken': form.dataset.csrf};
const MB = 1048576;

class Refused extends Error {}  // the platform said no: retrying would not help

form.addEventListener('submit', async (event) => {
  const file = form.elements.image.files[0];
  if (!window.fetch || !file || !file.slice) return;  // the plain form post
  event.preventDefault();
  button.disabled = true;
  bar.hidden = false;
  try {
    const done = await send(file, form.elements.comment.value);
    text.textContent = 'Received: opening your submission…';
    location.href = form.dataset.submissionBase + done.submission_id;
  } catch (error) {
    text.textContent = error.message;
    button.disabled = false;
  }
});

function memoKey(file) {
  return ['lai-upload', form.dataset.uploads, file.name, file.size, file.lastModified].join('|');
}

async function call(url, options) {
  // The answer's JSON and status; a network failure or a 5xx throws a plain Error (retry).
  const response = await fetch(url, {credentials: 'same-origin', ...options});
  if (response.status >= 500) throw new Error('The platform did not answer (' + response.status + ').');
  const body = await response.json();
  return {status: response.status, body: body};
}

async function open(file, comment) {
  const earlier = localStorage.getItem(memoKey(file));
  if (earlier) {
    try {
      const {status, body} = await call(earlier, {headers: csrf});
      if (status === 200 && body.status === 'receiving') {
        text.textContent = 'Resuming your earlier upload at ' + (body.offset / MB).toFixed(1) + ' MB.';
        return body;
      }
    } catch (error) { /* offline: start anew below, or fail there with words */ }
    localStorage.removeItem(memoKey(file));
  }
  const {status, body} = await call(form.dataset.uploads, {
    method: 'POST', headers: {...csrf, 'Content-Type': 'application/json'},
    body: JSON.stringify({size: file.size, filename: file.name, comment: comment}),
  });
  if (status !== 201) throw new Refused(body.error.message);
  localStorage.setItem(memoKey(file), body.url);
  return body;
}

async function send(file, comment) {
  let upload = await open(file, comment), failures = 0;
  while (upload.status === 'receiving' || upload.status === 'finishing') {
    show(upload, file);
    try {
      upload = upload.status === 'finishing' ? await later(upload) : await chunk(upload, file);
      failures = 0;
    } catch (error) {
      if (error instanceof Refused) { localStorage.removeItem(memoKey(file)); throw error; }
      failures += 1;
      if (failures > 60) throw new Error('Still no connection. Pick the same file again later: the upload goes on from ' + (upload.offset / MB).toFixed(1) + ' MB.');
      upload = await reconnect(upload, file, failures);
    }
  }
  localStorage.removeItem(memoKey(file));
  if (upload.status !== 'complete') throw new Refused((upload.error || {}).message || 'The upload was ' + upload.status + '.');
  return upload;
}

async function chunk(upload, file) {
  const end = Math.min(upload.offset + upload.chunk_bytes, file.size);
  const {status, body} = await call(upload.url, {
    method: 'PATCH', body: file.slice(upload.offset, end),
    headers: {...csrf, 'Upload-Offset': String(upload.offset), 'Content-Type': 'application/offset+octet-stream'},
  });
  if (body.status) return body;  // the upload's state: moved on, or where it stands (409)
  if (status === 400 && body.error.code === 'chunk_incomplete') throw new Error(body.error.message);
  throw new Refused(body.error.message);
}

async function later(upload) {
  await sleep(2000);
  return (await call(upload.url, {headers: csrf})).body;
}

async function reconnect(upload, file, failures) {
  const wait = Math.min(15, 2 ** Math.min(failures - 1, 4));
  text.textContent = 'Connection lost at ' + (upload.offset / MB).toFixed(1) + ' of ' + (file.size / MB).toFixed(1) + ' MB; trying again in ' + wait + ' s. Nothing sent so far is lost.';
  await sleep(wait * 1000);
  try {
    const {status, body} = await call(upload.url, {headers: csrf});
    if (status === 200) return body;
    throw new Refused(body.error.message);
  } catch (error) {
    if (error instanceof Refused) throw error;
    return upload;  // still offline: the next chunk attempt fails and waits again
  }
}

function show(upload, file) {
  bar.value = 100 * upload.offset / file.size;
  if (!text.textContent.startsWith('Resuming') || upload.offset > 0) {
    text.textContent = (upload.offset / MB).toFixed(1) + ' of ' + (file.size / MB).toFixed(1) + ' MB sent (' + Math.floor(bar.value) + '%)';
  }
}

function sleep(ms) { return new Promise((resolve) => setTimeout(resolve, ms)); }
