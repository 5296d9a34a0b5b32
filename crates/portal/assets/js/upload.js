// The upload form with a progress bar: sends the form to the API with XMLHttpRequest (whose
// upload events report bytes sent), then follows the job page, which shows the ingest. Without
// this script the form posts normally and lands on the same job page.
(function () {
  'use strict';
  const form = document.getElementById('upload-form');
  if (!form) return;
  const bar = document.getElementById('upload-progress');
  const status = document.getElementById('upload-status');
  form.addEventListener('submit', function (event) {
    event.preventDefault();
    const button = form.querySelector('button[type=submit]');
    button.disabled = true;
    bar.hidden = false;
    status.textContent = 'Uploading…';
    const request = new XMLHttpRequest();
    request.open('POST', form.dataset.api);
    request.setRequestHeader('Accept', 'application/json');
    request.upload.addEventListener('progress', function (e) {
      if (!e.lengthComputable) return;
      bar.max = e.total;
      bar.value = e.loaded;
      status.textContent = 'Uploading: ' + Math.floor((100 * e.loaded) / e.total) + ' %';
    });
    request.addEventListener('load', function () {
      let body = null;
      try { body = JSON.parse(request.responseText); } catch (_) { /* not JSON */ }
      if (request.status === 202 && body && body.links) {
        status.textContent = 'Uploaded; ingesting…';
        window.location.assign(body.links.page);
        return;
      }
      button.disabled = false;
      bar.hidden = true;
      status.textContent = 'Refused: ' + ((body && (body.detail || body.title)) || ('HTTP ' + request.status));
    });
    request.addEventListener('error', function () {
      button.disabled = false;
      bar.hidden = true;
      status.textContent = 'The upload failed: the connection was lost.';
    });
    request.send(new FormData(form));
  });
})();
