// LTI Client Side postMessage storage (tool side). The login page stores the state's secret in
// the platform's frame, then goes on to the platform; the launch page reads it back and posts it
// to the tool, which compares it with the secret the login recorded. Data comes from the data-*
// attributes of #lti-storage, so the page needs no inline script (Content-Security-Policy).
(function () {
  "use strict";
  var box = document.getElementById("lti-storage");
  if (!box || !window.parent || window.parent === window) {
    if (box) { finish(""); }
    return;
  }
  var data = box.dataset;
  var messageId = "coachlab-" + Math.random().toString(36).slice(2);
  var done = false;

  function finish(value) {
    if (done) { return; }
    done = true;
    var d = box.dataset;
    if (d.mode === "get") {
      var form = document.getElementById("lti-storage-form");
      form.elements.value.value = value || "";
      form.submit();
    } else {
      window.location.href = d.next;
    }
  }

  function targetFrame() {
    if (data.target === "_parent") { return window.parent; }
    try {
      return window.parent.frames[data.target] || window.parent;
    } catch (e) {
      return window.parent;
    }
  }

  window.addEventListener("message", function (event) {
    if (event.origin !== data.origin) { return; }
    var message = event.data || {};
    if (message.message_id !== messageId) { return; }
    finish(message.error ? "" : message.value);
  });

  var message = {subject: data.mode === "get" ? "lti.get_data" : "lti.put_data",
                 message_id: messageId, key: data.key};
  if (data.mode !== "get") { message.value = data.value; }
  targetFrame().postMessage(message, data.origin);
  // A platform that never answers: go on without; the tool then offers a new window.
  window.setTimeout(function () { finish(""); }, 4000);
})();
