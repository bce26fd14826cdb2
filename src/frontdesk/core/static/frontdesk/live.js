// Live updates for every Frontdesk screen.
//
// A page that sets data-stream="<branch slug>" on <body> listens to its branch's event stream.
// Each event is re-dispatched as "frontdesk:event" (for the board's chime) and, debounced, as
// "frontdesk:refresh", on which htmx regions reload their full state from the server. The page
// never patches itself from a message, so a message lost while Redis or the network was down
// costs nothing: on reconnect, and every few seconds while disconnected, the page reloads.
(function () {
  "use strict";
  const body = document.body;
  const slug = body.dataset.stream;
  if (!slug) return;
  const indicator = document.querySelector("[data-connection]");
  let socket = null;
  let retry = 0;
  let refreshTimer = null;
  let pollTimer = null;

  function setState(state) {
    body.dataset.connection = state;
    if (indicator) indicator.textContent = state in indicator.dataset ? indicator.dataset[state] : state;
  }

  function refresh() {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(function () {
      body.dispatchEvent(new CustomEvent("frontdesk:refresh", { bubbles: true }));
    }, 120);
  }

  function startPolling() {
    if (pollTimer) return;
    pollTimer = setInterval(refresh, 5000);
  }

  function stopPolling() {
    clearInterval(pollTimer);
    pollTimer = null;
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    socket = new WebSocket(scheme + "://" + location.host + "/ws/branches/" + slug + "/");
    socket.addEventListener("open", function () {
      retry = 0;
      setState("live");
      stopPolling();
      refresh(); // reload the full state: we may have missed events while away
    });
    socket.addEventListener("message", function (message) {
      let event;
      try { event = JSON.parse(message.data); } catch (error) { return; }
      if (event.type === "hello") return;
      body.dispatchEvent(new CustomEvent("frontdesk:event", { detail: event, bubbles: true }));
      refresh();
    });
    socket.addEventListener("close", function () {
      setState("reconnecting");
      startPolling();
      retry = Math.min(retry + 1, 6);
      setTimeout(connect, Math.min(500 * 2 ** retry, 10000) * (0.75 + Math.random() / 2));
    });
  }

  setState("connecting");
  connect();
})();
