// The demo LMS's side of LTI Client Side postMessage storage: answers lti.put_data and
// lti.get_data from the tool's frame (only from the tool's origin), keeping values in memory.
(function () {
  "use strict";
  var frame = document.getElementById("tool-frame");
  if (!frame) { return; }
  var toolOrigin = frame.dataset.toolOrigin;
  var store = {};
  window.addEventListener("message", function (event) {
    if (event.origin !== toolOrigin) { return; }
    var message = event.data || {};
    var reply = {subject: message.subject + ".response", message_id: message.message_id,
                 key: message.key};
    if (message.subject === "lti.put_data") {
      store[toolOrigin + " " + message.key] = String(message.value);
      reply.value = message.value;
    } else if (message.subject === "lti.get_data") {
      reply.value = store[toolOrigin + " " + message.key];
    } else if (message.subject === "lti.capabilities") {
      reply.supported_messages = [{subject: "lti.put_data"}, {subject: "lti.get_data"}];
    } else {
      return;
    }
    event.source.postMessage(reply, event.origin);
  });
})();
