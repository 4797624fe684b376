// Upload with a progress bar; the server answers with a redirect to the submission page.
document.getElementById('submit-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const form = event.target, bar = document.getElementById('upload-progress');
  const text = document.getElementById('upload-text');
  const xhr = new XMLHttpRequest();
  xhr.open('POST', location.href);
  // The token in a header too: the server checks it before reading the image.
  xhr.setRequestHeader('X-CSRFToken', form.dataset.csrf);
  bar.hidden = false;
  xhr.upload.onprogress = (e) => {
    if (e.lengthComputable) { bar.value = 100 * e.loaded / e.total; text.textContent = Math.round(bar.value) + '%'; }
  };
  xhr.onload = () => { location.href = xhr.responseURL; };
  xhr.onerror = () => { text.textContent = 'The upload failed: check your connection and try again.'; };
  xhr.send(new FormData(form));
});
