/* coachlab player: progressive enhancement only. Without this file every page still works
   (each button saves); with it, a step's answer is saved as a draft shortly after each change.
   The launch reference and CSRF token come from the form's own hidden fields; no cookies. */
(function () {
  "use strict";
  // A launch answers its POST with this page; put the page's own address in the history so
  // that reloading the frame asks for the page, not a second post of the spent id_token.
  var address = document.querySelector('meta[name="coachlab-page-url"]');
  if (address && window.history && window.history.replaceState) {
    try { window.history.replaceState(null, "", address.getAttribute("content")); }
    catch (ignored) { /* an old browser keeps the launch URL; a reload then asks again */ }
  }
  var form = document.querySelector("form[data-autosave]");
  if (!form || !window.fetch || !window.FormData || !window.JSON) { return; }
  var status = document.getElementById("autosave-status");
  var hidden = { launch: true, csrf_token: true, attempt: true, go: true };
  var timer = null;
  var busy = false;
  var again = false;
  var DELAY = 800;

  function say(text, problem) {
    if (!status) { return; }
    status.textContent = text;
    status.className = "autosave-status" + (problem ? " problem" : "");
  }

  function fields() {
    var out = {};
    new FormData(form).forEach(function (value, name) {
      if (hidden[name]) { return; }
      (out[name] = out[name] || []).push(String(value));
    });
    return out;
  }

  function save() {
    if (busy) { again = true; return; }
    busy = true;
    var body = {
      launch: form.elements.launch.value,
      csrf_token: form.elements.csrf_token.value,
      attempt: parseInt(form.elements.attempt.value, 10),
      step: form.getAttribute("data-step"),
      fields: fields()
    };
    say("Saving...", false);
    fetch(form.getAttribute("data-autosave"), {
      method: "POST",
      credentials: "omit",
      headers: { "Content-Type": "application/json", "Accept": "application/json" },
      body: JSON.stringify(body)
    }).then(function (response) {
      return response.json().then(function (data) {
        say(data.message || (response.ok ? "Draft saved." : "Not saved."), !response.ok);
      }, function () {
        say("Not saved: the server did not answer as expected. Use a button below to save.", true);
      });
    }, function () {
      say("Not saved: no connection. Your answer is still on this page; try again.", true);
    }).then(function () {
      busy = false;
      if (again) { again = false; save(); }
    });
  }

  var leaving = false;

  function schedule() {
    if (leaving) { return; }
    if (timer) { window.clearTimeout(timer); }
    timer = window.setTimeout(save, DELAY);
  }

  function count(area) {
    var counter = form.querySelector(".counter");
    if (!counter) { return; }
    var limit = parseInt(counter.getAttribute("data-limit"), 10);
    var used = area.value.trim().length;
    counter.textContent = used > limit
      ? used + " characters: " + (used - limit) + " over the limit, shorten it to save."
      : "";
  }

  form.addEventListener("input", function (event) {
    if (event.target && event.target.tagName === "TEXTAREA") { count(event.target); }
    schedule();
  });
  form.addEventListener("change", schedule);
  // A button press saves the whole step itself: no autosave after it (the server also copes
  // with the two racing, but there is no need to send the answer twice).
  form.addEventListener("submit", function () {
    leaving = true;
    if (timer) { window.clearTimeout(timer); timer = null; }
  });
  say("Your answer is saved automatically as you work.", false);
}());
