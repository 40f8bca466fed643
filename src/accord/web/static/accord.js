// Accord's only script (served from /static, so the Content-Security-Policy can forbid inline script).
// It enhances two forms; both work without it.
"use strict";

// Live validation of the indicator form's STIX pattern, against the hub's own validator.
function livePattern() {
  const field = document.querySelector("textarea[data-check]");
  const status = document.getElementById("pattern-status");
  if (!field || !status) return;
  let timer = null;
  let asked = 0;
  const check = async () => {
    const mine = ++asked;
    const url = field.dataset.check + "?pattern=" + encodeURIComponent(field.value);
    try {
      const answer = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
      const body = await answer.json();
      if (mine !== asked) return;
      status.textContent = body.message;
      status.className = "hint " + (body.valid ? "valid" : "invalid");
      field.setAttribute("aria-invalid", body.valid ? "false" : "true");
    } catch (err) {
      if (mine === asked) status.textContent = "could not check the pattern: " + err;
    }
  };
  field.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(check, 250); });
  if (field.value.trim()) check();
}

// Bundle upload with a progress bar; the result page replaces this one when the hub answers.
function uploadProgress() {
  const form = document.getElementById("bundle-form");
  const bar = document.getElementById("upload-progress");
  const status = document.getElementById("upload-status");
  if (!form || !bar || !status) return;
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    bar.hidden = false;
    xhr.upload.addEventListener("progress", (e) => {
      if (!e.lengthComputable) return;
      bar.value = Math.round((e.loaded / e.total) * 100);
      status.textContent = "Uploading: " + bar.value + "%";
    });
    xhr.upload.addEventListener("load", () => {
      bar.removeAttribute("value");
      status.textContent = "Uploaded; the hub is validating and storing the objects…";
    });
    xhr.addEventListener("load", () => {
      const page = new DOMParser().parseFromString(xhr.responseText, "text/html");
      document.title = page.title;
      document.body.replaceWith(document.adoptNode(page.body));
      window.scrollTo(0, 0);
    });
    xhr.addEventListener("error", () => { status.textContent = "The upload failed: the hub could not be reached."; });
    xhr.send(new FormData(form));
  });
}

document.addEventListener("DOMContentLoaded", () => { livePattern(); uploadProgress(); });
