// The host side of MCP Apps (SEP-1865, protocol 2026-01-26) for a saved app page: the view runs in a
// sandboxed iframe and is handed the recorded tool call over postMessage as a live host would hand it:
// it answers ui/initialize (host context with the tool), waits for ui/notifications/initialized, then
// sends ui/notifications/tool-input and ui/notifications/tool-result. Tool calls the view makes are
// answered from the calls recorded with the page (serverTools is offered only when there are some).
(function () {
  "use strict";
  var session = JSON.parse(document.getElementById("snowmcp-session").textContent);
  var calls = session.toolCalls || [];
  var frame = null;  // the iframe comes after this script: looked up when the view first speaks

  function send(message) { frame.contentWindow.postMessage(message, "*"); }

  window.addEventListener("message", function (event) {
    frame = frame || document.getElementById("snowmcp-app");
    if (!frame || event.source !== frame.contentWindow) return;
    var message = event.data;
    if (!message || message.jsonrpc !== "2.0" || !message.method) return;
    var reply = function (result) { send({ jsonrpc: "2.0", id: message.id, result: result }); };
    var fail = function (code, text) { send({ jsonrpc: "2.0", id: message.id, error: { code: code, message: text } }); };
    var params = message.params || {};
    if (message.method === "ui/initialize") {
      reply({
        protocolVersion: "2026-01-26",
        hostInfo: { name: "snowmcp-host", version: session.hostVersion },
        hostCapabilities: calls.length ? { serverTools: {} } : {},
        hostContext: { toolInfo: { tool: session.tool }, theme: "light", displayMode: "inline",
                       availableDisplayModes: ["inline"], platform: "web", locale: navigator.language }
      });
    } else if (message.method === "ui/notifications/initialized") {
      send({ jsonrpc: "2.0", method: "ui/notifications/tool-input", params: { arguments: session.arguments } });
      send({ jsonrpc: "2.0", method: "ui/notifications/tool-result", params: session.result });
    } else if (message.method === "ui/notifications/size-changed") {
      if (params.height) frame.style.height = Math.ceil(params.height) + "px";
    } else if (message.method === "tools/call" && message.id !== undefined) {
      var recorded = calls.filter(function (c) { return c.name === params.name; })[0];
      if (recorded) reply(recorded.result);
      else fail(-32603, "this saved page has no recorded result for " + params.name);
    } else if (message.method === "ping" && message.id !== undefined) {
      reply({});
    } else if (message.id !== undefined) {
      fail(-32601, "Method not found");
    }
  });
})();
