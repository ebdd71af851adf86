/*
 * The chat widget: asks /api/ask/stream, keeps the conversation in the page, and shows each
 * citation's exact span inside its passage. All text goes into the DOM via textContent, never
 * parsed as markup, because questions, answers and documents are untrusted.
 */
(function () {
  "use strict";
  var MAX_HISTORY = 20; // messages sent back with each question (the API accepts up to 100)
  var CONTEXT = 400; // characters shown around a span when no passage bounds are given

  var params = new URLSearchParams(location.search);
  var embedded = window.parent !== window;
  var $ = function (id) { return document.getElementById(id); };
  var els = {
    title: $("title"), log: $("log"), form: $("ask"), question: $("question"), send: $("send"),
    clear: $("clear"), close: $("close"), viewer: $("viewer"), back: $("back"),
    viewerTitle: $("viewer-title"), viewerMeta: $("viewer-meta"), viewerText: $("viewer-text"),
    whole: $("whole"), pdf: $("pdf"), viewerPdf: $("viewer-pdf")
  };
  var history = [];
  var documents = new Map(); // doc_id -> Promise of DocumentText
  var busy = false;
  var viewing = null; // {citation, doc, whole, opener, pdf}
  var pdfView = null; // Promise of the pdfview.js module, loaded on first use

  // The collection this widget answers from; the server decides whether this page may use it.
  var collection = (params.get("collection") || "").trim();
  var title = (params.get("title") || "").trim();
  if (title) { els.title.textContent = title; document.title = title; }
  var accent = params.get("accent");
  if (accent && window.CSS && CSS.supports("color", accent)) {
    document.documentElement.style.setProperty("--accent", accent);
  }
  if (embedded) els.close.hidden = false;

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function scrollLog() { els.log.scrollTop = els.log.scrollHeight; }

  function addBubble(role, text) {
    var bubble = el("div", "msg " + role);
    if (text !== undefined) bubble.appendChild(el("p", "text", text));
    els.log.appendChild(bubble);
    scrollLog();
    return bubble;
  }

  async function errorMessage(response) {
    try {
      var body = await response.json();
      if (body && typeof body.error === "string") return body.error;
    } catch (e) { /* not JSON */ }
    return "The request failed (HTTP " + response.status + ").";
  }

  function parseEvent(block) {
    var event = "message";
    var data = [];
    block.split("\n").forEach(function (line) {
      if (line.indexOf("event:") === 0) event = line.slice(6).trim();
      else if (line.indexOf("data:") === 0) data.push(line.slice(5).replace(/^ /, ""));
    });
    return { event: event, data: data.length ? JSON.parse(data.join("\n")) : null };
  }

  async function askStream(body, onText) {
    var response = await fetch("api/ask/stream", {
      method: "POST",
      headers: { "Content-Type": "application/json", "Accept": "text/event-stream" },
      body: body
    });
    if (!response.ok) throw new Error(await errorMessage(response));
    if (!response.body || !response.body.getReader) return askPlain(body);
    var reader = response.body.getReader();
    var decoder = new TextDecoder();
    var buffer = "";
    for (;;) {
      var chunk = await reader.read();
      if (chunk.done) break;
      buffer += decoder.decode(chunk.value, { stream: true }).replace(/\r\n/g, "\n");
      var cut;
      while ((cut = buffer.indexOf("\n\n")) >= 0) {
        var event = parseEvent(buffer.slice(0, cut));
        buffer = buffer.slice(cut + 2);
        if (event.event === "token") onText(event.data.text);
        else if (event.event === "answer") return event.data;
        else if (event.event === "error") throw new Error(event.data.error);
      }
    }
    throw new Error("The answer was cut off; please try again.");
  }

  async function askPlain(body) {
    var response = await fetch("api/ask", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: body
    });
    if (!response.ok) throw new Error(await errorMessage(response));
    return response.json();
  }

  function citeButton(citation) {
    var button = el("button", "cite", "[" + citation.n + "]");
    button.type = "button";
    button.setAttribute("aria-label", "Show source " + citation.n + ": " + (citation.title || citation.source));
    button.addEventListener("click", function () { openCitation(citation, button); });
    return button;
  }

  function renderAnswer(bubble, answer) {
    bubble.textContent = "";
    bubble.classList.toggle("abstained", !!answer.abstained);
    var byNumber = new Map();
    (answer.citations || []).forEach(function (c) { byNumber.set(c.n, c); });
    var text = el("p", "text");
    var flagged = unsupportedSegments(answer);
    flagged.forEach(function (segment) {
      var holder = text;
      if (segment.unsupported) {
        holder = el("span", "unsupported", "\u26a0\u00a0");
        holder.title = "No cited passage supports this sentence.";
        // Set through the CSSOM so the page's style-src policy allows it without widget.css.
        holder.style.textDecoration = "underline wavy #b45309";
        text.appendChild(holder);
      }
      segment.text.split(/(\[\d+\])/).forEach(function (part) {
        var match = /^\[(\d+)\]$/.exec(part);
        var citation = match && byNumber.get(Number(match[1]));
        holder.appendChild(citation ? citeButton(citation) : document.createTextNode(part));
      });
    });
    bubble.appendChild(text);
    if (flagged.some(function (segment) { return segment.unsupported; })) {
      bubble.appendChild(el("p", "note", "\u26a0 marks sentences that no cited passage supports."));
    }
    (answer.notes || []).forEach(function (note) { bubble.appendChild(el("p", "note", note)); });
    bubble.classList.toggle("uncertain", !!answer.uncertain);
    if (!answer.abstained && answer.confidence > 0) {
      var pct = Math.round(answer.confidence * 100) + "%";
      bubble.appendChild(el("p", answer.uncertain ? "note uncertain" : "note confidence", answer.uncertain
        ? "Uncertain: the documents may not answer this (confidence " + pct + ")."
        : "Confidence " + pct));
    }
    if (answer.answered_by && answer.answered_by !== "extractive") {
      bubble.appendChild(el("p", "note answered-by", "Answered by " + answer.answered_by));
    }
    if (byNumber.size) {
      var sources = el("div", "sources");
      sources.appendChild(el("p", "sources-title", answer.abstained ? "Closest passages" : "Sources"));
      var list = el("ol", "source-list");
      byNumber.forEach(function (c) {
        var item = el("li");
        item.appendChild(citeButton(c));
        var label = (c.title || c.source) + (c.section ? " \u203a " + c.section : "") +
          (c.page ? ", page " + c.page : "") + (c.date ? " (" + c.date + ")" : "");
        item.appendChild(el("span", "source-name", " " + label + ": "));
        item.appendChild(el("span", "source-quote", c.text.length > 140 ? c.text.slice(0, 140) + "\u2026" : c.text));
        list.appendChild(item);
      });
      sources.appendChild(list);
      bubble.appendChild(sources);
    }
    scrollLog();
  }

  // The answer text cut into runs, flagging the sentences listed in unsupported_claims.
  function unsupportedSegments(answer) {
    var spans = [];
    (answer.unsupported_claims || []).forEach(function (claim) {
      var start = claim ? answer.answer.indexOf(claim) : -1;
      var end = start + claim.length;
      if (start >= 0 && spans.every(function (s) { return start >= s[1] || end <= s[0]; })) {
        spans.push([start, end]);
      }
    });
    spans.sort(function (a, b) { return a[0] - b[0]; });
    var segments = [];
    var pos = 0;
    spans.forEach(function (s) {
      segments.push({ text: answer.answer.slice(pos, s[0]), unsupported: false });
      segments.push({ text: answer.answer.slice(s[0], s[1]), unsupported: true });
      pos = s[1];
    });
    segments.push({ text: answer.answer.slice(pos), unsupported: false });
    return segments;
  }

  async function submit(question) {
    busy = true;
    els.send.disabled = true;
    els.form.setAttribute("aria-busy", "true");
    addBubble("user", question);
    var bubble = addBubble("assistant");
    var live = el("p", "text pending", "\u2026");
    bubble.appendChild(live);
    var started = false;
    var request = { question: question, history: history.slice(-MAX_HISTORY) };
    if (collection) request.collection = collection;
    var body = JSON.stringify(request);
    try {
      var answer = await askStream(body, function (piece) {
        if (!started) { live.textContent = ""; live.classList.remove("pending"); started = true; }
        live.textContent += piece;
        scrollLog();
      });
      renderAnswer(bubble, answer);
      history.push({ role: "user", content: question }, { role: "assistant", content: answer.answer });
    } catch (error) {
      bubble.textContent = "";
      bubble.classList.add("error");
      bubble.appendChild(el("p", "text", error && error.message ? error.message : "Something went wrong."));
    } finally {
      busy = false;
      els.send.disabled = false;
      els.form.removeAttribute("aria-busy");
      scrollLog();
    }
  }

  function loadDocument(docId) {
    if (!documents.has(docId)) {
      var url = "api/documents/" + encodeURIComponent(docId);
      if (collection) url += "?collection=" + encodeURIComponent(collection);
      var request = fetch(url).then(async function (r) {
        if (!r.ok) throw new Error(await errorMessage(r));
        return r.json();
      });
      request.catch(function () { documents.delete(docId); });
      documents.set(docId, request);
    }
    return documents.get(docId);
  }

  function locate(citation, text) {
    // The offsets are exact; fall back to searching if the document changed since.
    if (text.slice(citation.start, citation.end) === citation.text) {
      return { start: citation.start, end: citation.end, moved: false };
    }
    var found = text.indexOf(citation.text);
    return found < 0 ? null : { start: found, end: found + citation.text.length, moved: true };
  }

  function renderPassage() {
    var c = viewing.citation;
    var box = els.viewerText;
    box.textContent = "";
    var text = viewing.doc ? viewing.doc.text : c.text;
    var span = viewing.doc ? locate(c, text) : { start: 0, end: text.length, moved: false };
    if (!span) {
      box.appendChild(el("p", "note", "This passage is no longer in the document; the cited text was:"));
      text = c.text;
      span = { start: 0, end: text.length, moved: true };
    }
    var from = 0;
    var to = text.length;
    if (!viewing.whole) {
      var bounded = c.passage_end > c.passage_start && c.passage_start <= span.start && c.passage_end >= span.end;
      from = bounded && !span.moved ? c.passage_start : Math.max(0, span.start - CONTEXT);
      to = bounded && !span.moved ? c.passage_end : Math.min(text.length, span.end + CONTEXT);
    }
    // An ellipsis only where the shown text breaks off inside a paragraph.
    if (from > 0 && text[from - 1] !== "\n") box.appendChild(document.createTextNode("\u2026"));
    box.appendChild(document.createTextNode(text.slice(from, span.start)));
    var mark = el("mark", "", text.slice(span.start, span.end));
    box.appendChild(mark);
    box.appendChild(document.createTextNode(text.slice(span.end, to)));
    if (to < text.length && text[to] !== "\n") box.appendChild(document.createTextNode("\u2026"));
    els.whole.hidden = !viewing.doc;
    els.whole.textContent = viewing.whole ? "Show only the passage" : "Show the whole document";
    mark.scrollIntoView({ block: "center" });
  }

  async function openCitation(citation, opener) {
    viewing = { citation: citation, doc: null, whole: false, opener: opener };
    els.viewerTitle.textContent = "[" + citation.n + "] " + (citation.title || citation.source);
    var meta = [citation.source];
    if (citation.page) meta.push("page " + citation.page);
    if (citation.section) meta.push(citation.section);
    if (citation.date) meta.push(citation.date);
    if (!citation.supported) meta.push("closest passage, not a confirmed answer");
    els.viewerMeta.textContent = meta.join(" \u00b7 ");
    els.viewerText.textContent = "Loading\u2026";
    els.viewerText.hidden = false;
    els.viewerPdf.hidden = true;
    els.viewerPdf.textContent = "";
    els.pdf.hidden = true;
    els.viewer.hidden = false;
    els.back.focus();
    var current = viewing;
    if (citation.doc_id) {
      try {
        current.doc = await loadDocument(citation.doc_id);
      } catch (error) {
        current.doc = null;
      }
    }
    if (viewing !== current) return;
    renderPassage();
    var doc = current.doc;
    if (doc && doc.format === "pdf" && doc.file_hash && citation.page) {
      els.pdf.textContent = "Show page " + citation.page + " as in the PDF";
      els.pdf.hidden = false;
    }
  }

  // The cited page as the PDF draws it (pdfview.js, pdf.js served by this server).
  async function showPdf() {
    var current = viewing;
    var c = current.citation;
    current.pdf = true;
    els.pdf.textContent = "Show the text";
    els.viewerText.hidden = true;
    els.viewerPdf.hidden = false;
    els.viewerPdf.textContent = "Loading the PDF page\u2026";
    try {
      if (!pdfView) {
        pdfView = import(new URL("pdfview.js", document.baseURI).href);
        pdfView.catch(function () { pdfView = null; });
      }
      var view = await pdfView;
      var url = new URL("api/documents/" + encodeURIComponent(c.doc_id) + "/file", document.baseURI);
      if (collection) url.searchParams.set("collection", collection);
      var shown = await view.renderPage(els.viewerPdf, {
        url: url.href, page: c.page, quote: c.text, width: els.viewerPdf.clientWidth - 4
      });
      if (viewing === current && !shown.marks) {
        els.viewerPdf.appendChild(el("p", "note", "The cited span could not be placed on this page; the text view shows it."));
      }
    } catch (error) {
      if (viewing !== current) return;
      hidePdf();
      els.viewerText.insertBefore(el("p", "note", "The PDF page could not be shown; here is the text."), els.viewerText.firstChild);
    }
  }

  function hidePdf() {
    viewing.pdf = false;
    els.viewerPdf.hidden = true;
    els.viewerPdf.textContent = "";
    els.viewerText.hidden = false;
    els.pdf.textContent = "Show page " + viewing.citation.page + " as in the PDF";
  }

  function closeViewer() {
    if (!viewing) return;
    var opener = viewing.opener;
    viewing = null;
    els.viewer.hidden = true;
    if (opener && opener.isConnected) opener.focus();
  }

  els.form.addEventListener("submit", function (event) {
    event.preventDefault();
    var question = els.question.value.trim();
    if (!question || busy) return;
    els.question.value = "";
    els.question.style.height = "";
    submit(question);
  });
  els.question.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      els.form.requestSubmit();
    }
  });
  els.question.addEventListener("input", function () {
    els.question.style.height = "";
    els.question.style.height = Math.min(els.question.scrollHeight, 120) + "px";
  });
  els.clear.addEventListener("click", function () {
    history = [];
    closeViewer();
    Array.prototype.slice.call(els.log.querySelectorAll(".msg")).forEach(function (m) { m.remove(); });
    els.question.focus();
  });
  els.back.addEventListener("click", closeViewer);
  els.whole.addEventListener("click", function () {
    if (!viewing) return;
    if (viewing.pdf) hidePdf();
    viewing.whole = !viewing.whole;
    renderPassage();
  });
  els.pdf.addEventListener("click", function () {
    if (!viewing) return;
    if (viewing.pdf) { hidePdf(); renderPassage(); } else showPdf();
  });
  els.close.addEventListener("click", function () {
    window.parent.postMessage({ type: "assistant-widget:close" }, "*"); // carries no data
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    if (viewing) closeViewer();
    else if (embedded) window.parent.postMessage({ type: "assistant-widget:close" }, "*");
  });
  window.addEventListener("message", function (event) {
    if (event.source === window.parent && event.data && event.data.type === "assistant-widget:opened") {
      if (!viewing) els.question.focus();
    }
  });
  els.question.disabled = false; // every handler is attached: typing may start
  els.send.disabled = false;
  if (!embedded) els.question.focus();
})();
