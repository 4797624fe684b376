// A queued or running submission's page: polls the API (with the session cookie) every few
// seconds for its state, place in the queue and expected start; reloads once when it ends,
// so the scores or the failure reason appear. A static file: the CSP allows no inline script.
(() => {
  const live = document.getElementById('live');
  if (!live) return;
  const badge = document.querySelector('h1 .status');
  const place = document.getElementById('queue-place');
  const position = document.getElementById('queue-position');
  const start = document.getElementById('expected-start');
  const EVERY_MS = 3000;

  const utc = (iso) => iso.slice(0, 16).replace('T', ' ') + ' UTC';
  const show = (sub) => {
    badge.textContent = sub.status;
    badge.className = 'status status-' + sub.status;
    place.hidden = sub.status !== 'queued';
    position.textContent = sub.queue_position === null ? '' : String(sub.queue_position);
    start.dataset.iso = sub.expected_start || '';
    start.textContent = sub.expected_start ? utc(sub.expected_start) : 'not known yet';
  };
  const poll = () => {
    fetch(live.dataset.api, {credentials: 'same-origin', headers: {Accept: 'application/json'}})
      .then((r) => (r.ok ? r.json() : Promise.reject(new Error(String(r.status)))))
      .then((sub) => {
        if (sub.status === 'succeeded' || sub.status === 'failed') {
          location.reload();
          return;
        }
        show(sub);
        setTimeout(poll, EVERY_MS);
      })
      .catch(() => setTimeout(poll, 3 * EVERY_MS)); // the server restarts: try again later
  };
  setTimeout(poll, EVERY_MS);
})();
