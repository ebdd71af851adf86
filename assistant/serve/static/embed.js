/*
 * Embeds the document assistant on any page with one line:
 *   <script src="https://HOST/embed.js" data-title="Ask us" data-position="bottom-right"
 *           data-accent="#2563eb" data-open="false" data-collection="faq" defer></script>
 * It adds a launcher button that opens the chat (an iframe of HOST/widget) in a small panel,
 * full screen on phones. Styles live in a shadow root so host CSS cannot break them, and are
 * set through the CSSOM so a strict host Content-Security-Policy does not block them.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script) {
    var found = document.querySelectorAll('script[src*="embed.js"]');
    script = found[found.length - 1];
  }
  if (!script || document.getElementById("doc-assistant-widget")) return;

  var scriptUrl = new URL(script.src, location.href);
  var origin = scriptUrl.origin;
  var data = script.dataset;
  var title = (data.title || "Ask the documents").slice(0, 80);
  var left = data.position === "bottom-left";
  var accent = data.accent && window.CSS && CSS.supports("color", data.accent) ? data.accent : "#2563eb";
  var narrow = window.matchMedia("(max-width: 520px)");
  // Which document set answers (the server checks this page's origin against it).
  var collection = (data.collection || "").trim().slice(0, 64);

  var host = document.createElement("div");
  host.id = "doc-assistant-widget";
  var root = host.attachShadow({ mode: "open" });

  var launcher = document.createElement("button");
  launcher.type = "button";
  launcher.className = "launcher";
  launcher.setAttribute("aria-label", "Open chat: " + title);
  launcher.setAttribute("aria-expanded", "false");
  launcher.title = title;
  launcher.appendChild(chatIcon());
  Object.assign(launcher.style, {
    position: "fixed", bottom: "20px", width: "56px", height: "56px", borderRadius: "50%",
    border: "0", padding: "0", margin: "0", cursor: "pointer", background: accent, color: "#fff",
    boxShadow: "0 4px 14px rgba(0,0,0,.25)", zIndex: "2147483000", display: "flex",
    alignItems: "center", justifyContent: "center"
  });
  launcher.style[left ? "left" : "right"] = "20px";

  var panel = document.createElement("div");
  panel.className = "panel";
  panel.setAttribute("role", "dialog");
  panel.setAttribute("aria-label", title);
  Object.assign(panel.style, {
    position: "fixed", display: "none", background: "#fff", overflow: "hidden",
    zIndex: "2147483001", boxShadow: "0 8px 30px rgba(0,0,0,.3)"
  });

  var iframe = null;
  var loaded = false;
  var isOpen = false;

  function layout() {
    var s = panel.style;
    if (narrow.matches) {
      Object.assign(s, { top: "0", left: "0", right: "0", bottom: "0", width: "100%",
        height: "100%", borderRadius: "0" });
    } else {
      Object.assign(s, { top: "auto", bottom: "88px", width: "380px",
        height: "min(600px, calc(100vh - 110px))", borderRadius: "12px" });
      s.left = left ? "20px" : "auto";
      s.right = left ? "auto" : "20px";
    }
    launcher.style.display = isOpen && narrow.matches ? "none" : "flex";
  }

  function widgetUrl() {
    var url = new URL("widget", scriptUrl);
    url.searchParams.set("title", title);
    url.searchParams.set("accent", accent);
    url.searchParams.set("embedded", "1");
    if (collection) url.searchParams.set("collection", collection);
    return url.href;
  }

  function open() {
    if (!iframe) {
      iframe = document.createElement("iframe");
      iframe.src = widgetUrl();
      iframe.title = title;
      Object.assign(iframe.style, { width: "100%", height: "100%", border: "0", display: "block" });
      iframe.addEventListener("load", function () { loaded = true; focusWidget(); });
      panel.appendChild(iframe);
    }
    isOpen = true;
    panel.style.display = "block";
    launcher.setAttribute("aria-expanded", "true");
    launcher.setAttribute("aria-label", "Close chat: " + title);
    layout();
    focusWidget();
  }

  function close() {
    isOpen = false;
    panel.style.display = "none";
    launcher.setAttribute("aria-expanded", "false");
    launcher.setAttribute("aria-label", "Open chat: " + title);
    layout();
    launcher.focus();
  }

  function focusWidget() {
    if (isOpen && loaded && iframe.contentWindow) {
      iframe.focus();
      iframe.contentWindow.postMessage({ type: "assistant-widget:opened" }, origin);
    }
  }

  function chatIcon() {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("width", "28");
    svg.setAttribute("height", "28");
    svg.setAttribute("aria-hidden", "true");
    var path = document.createElementNS(ns, "path");
    path.setAttribute("fill", "currentColor");
    path.setAttribute("d", "M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2zm3 6v2h10V9H7zm0-3v2h10V6H7zm0 6v2h7v-2H7z");
    svg.appendChild(path);
    return svg;
  }

  launcher.addEventListener("click", function () { if (isOpen) { close(); } else { open(); } });
  window.addEventListener("message", function (event) {
    // Only our own iframe may close the panel.
    if (!iframe || event.origin !== origin || event.source !== iframe.contentWindow) return;
    if (event.data && event.data.type === "assistant-widget:close") close();
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && isOpen) close();
  });
  if (narrow.addEventListener) narrow.addEventListener("change", layout);

  root.appendChild(panel);
  root.appendChild(launcher);
  layout();
  (document.body || document.documentElement).appendChild(host);
  if (data.open === "true") open();
})();
