"""CSS and the two small scripts of the chat page.

They travel inside the Blocks (through ``gr.HTML(js_on_load=...)``) rather than through
``launch(css=...)``, because ``gr.mount_gradio_app`` replaces the page's css/js with its own
arguments: this way the UI looks and works the same however the server mounts it.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence

CSS = """
a.cite-ref { font-weight: 600; text-decoration: none; padding: 0 1px; border-radius: 3px;
  color: var(--color-accent); cursor: pointer; }
a.cite-ref:hover { background: var(--color-accent-soft); }
.src-panel, .doc-view { font-size: var(--text-md); line-height: 1.5; }
.src-panel { position: relative; max-height: 46vh; overflow-y: auto; padding-right: 4px; }
.src-empty, .src-question { color: var(--body-text-color-subdued); margin: 4px 0 8px; }
.src-status { padding: 8px 10px; border-radius: 6px; background: var(--background-fill-secondary); }
.src-status.abstained { border-left: 4px solid #d97706; font-weight: 600; }
.src-status.uncertain { border-left: 4px solid #ca8a04; }
.src-confidence { color: #4b5563; font-size: 0.9em; margin: 0 0 0.5em; }
.src-card { border: 1px solid var(--border-color-primary); border-radius: 8px;
  padding: 8px 10px; margin: 8px 0; }
.src-card.selected { border-color: var(--color-accent);
  box-shadow: 0 0 0 2px var(--color-accent-soft); }
.src-card header { font-weight: 600; }
.src-n { color: var(--color-accent); }
.src-meta, .doc-meta { color: var(--body-text-color-subdued); font-size: var(--text-sm); }
.src-warn { color: #b45309; }
.src-passage { margin: 6px 0; padding: 0 0 0 10px; white-space: pre-wrap;
  border-left: 3px solid var(--border-color-primary); }
.src-panel mark, .doc-view mark { background: #fde68a; color: #111; border-radius: 2px; }
.doc-view mark.current { background: #f59e0b; outline: 2px solid #b45309; }
.src-panel .src-card button.src-open { margin: 2px 0 0; font-size: var(--text-sm);
  font-weight: normal; color: var(--color-accent); background: none; border: none; padding: 0;
  cursor: pointer; text-decoration: underline; box-shadow: none; }
.doc-view header { margin-bottom: 6px; }
.doc-title { font-weight: 600; }
.doc-body { position: relative; max-height: 52vh; overflow-y: auto; white-space: pre-wrap;
  border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 8px 12px; }
.src-section { font-weight: normal; color: var(--body-text-color-subdued); }
.doc-page { display: block; margin: 8px 0 4px; color: var(--body-text-color-subdued);
  font-size: var(--text-sm); border-top: 1px dashed var(--border-color-primary); }
.doc-page::before { content: "Page " attr(data-page); }
.doc-tools { margin: 4px 0 6px; }
#document .doc-view button.doc-pdf-toggle { font-size: var(--text-sm); color: var(--color-accent);
  background: none; border: none; padding: 0; cursor: pointer; text-decoration: underline; }
.doc-pdf { max-height: 70vh; overflow: auto; border: 1px solid var(--border-color-primary);
  border-radius: 8px; background: #f3f4f6; }
.doc-pdf .pdf-page { margin: 0 auto; background: #fff; }
.doc-pdf-note { color: var(--body-text-color-subdued); font-size: var(--text-sm); margin: 4px 0; }
"""

# Installed once per page by the sources panel: styles, and one capturing click listener
# that turns a marker [n] in the chat (or an "Open in document" button) into an event of
# the sources panel carrying {turn, n}. Capturing, so the chat never follows the link.
SOURCES_JS = """
window.__assistantOpen = (turn, n) => trigger('click', {turn: turn, n: n});
if (!window.__assistantUi) {
  window.__assistantUi = true;
  const style = document.createElement('style');
  style.id = 'assistant-ui-css';
  style.textContent = __CSS__;
  document.head.appendChild(style);
  document.addEventListener('click', (ev) => {
    const el = ev.target.closest && ev.target.closest('a.cite-ref, button.src-open');
    if (!el) return;
    let turn, n;
    if (el.matches('a.cite-ref')) {
      const m = (el.getAttribute('href') || '').match(/^#cite-(\\d+)-(\\d+)$/);
      if (!m) return;
      turn = Number(m[1]); n = Number(m[2]);
    } else {
      turn = Number(el.dataset.turn); n = Number(el.dataset.n);
    }
    ev.preventDefault();
    ev.stopPropagation();
    document.querySelectorAll('.src-card.selected').forEach((c) => c.classList.remove('selected'));
    const card = document.getElementById('src-' + turn + '-' + n);
    if (card) card.classList.add('selected');
    window.__assistantOpen(turn, n);
  }, true);
}
const showSelected = () => {
  const card = element.querySelector('.src-card.selected');
  const panel = element.querySelector('.src-panel');
  if (card && panel) panel.scrollTop = Math.max(0, card.offsetTop - 8);
};
watch('value', showSelected);
""".replace("__CSS__", json.dumps(CSS))

# Scrolls the document view (not the page) to the span named by data-scroll-to. For a PDF
# whose file the server serves, it draws the cited page with pdf.js (static/pdfview.js) and
# shows it instead of the text; the button switches between the two.
DOCUMENT_JS = """
const scrollToCited = () => {
  const root = element.querySelector('.doc-view');
  const body = root && root.querySelector('.doc-body');
  const id = root && root.dataset.scrollTo;
  const anchor = id && document.getElementById(id);
  if (!body || !anchor || body.hidden) return;
  body.scrollTop = Math.max(0, anchor.offsetTop - body.clientHeight / 3);
  root.scrollIntoView({block: 'nearest'});
};
const showPdf = async (button) => {
  const root = element.querySelector('.doc-view');
  const holder = root.querySelector('.doc-pdf');
  const body = root.querySelector('.doc-body');
  const page = Number(button.dataset.page);
  const note = (text) => {
    let p = root.querySelector('.doc-pdf-note');
    if (!p) { p = document.createElement('p'); p.className = 'doc-pdf-note'; holder.before(p); }
    p.textContent = text;
  };
  button.disabled = true;
  try {
    const view = await import(new URL('pdfview.js', document.baseURI).href);
    holder.hidden = false;
    const shown = await view.renderPage(holder, {url: new URL(button.dataset.file,
      document.baseURI).href, page: page, quote: button.dataset.quote,
      width: Math.max(240, body.clientWidth - 4)});
    body.hidden = true;
    button.textContent = 'Show the text';
    note('Page ' + shown.page + ' of ' + shown.pages + ' as the PDF draws it' + (shown.marks
      ? '.' : '; the cited span could not be placed on it (the text view shows it).'));
  } catch (err) {
    holder.hidden = true;
    body.hidden = false;
    note('The PDF page could not be shown (' + (err && err.message || err) +
      '); the text is below.');
  } finally {
    button.disabled = false;
  }
};
const update = () => {
  const button = element.querySelector('button.doc-pdf-toggle');
  if (button) showPdf(button);
  scrollToCited();
};
if (!element.dataset.pdfReady) {
  element.dataset.pdfReady = '1';
  element.addEventListener('click', (ev) => {
    const button = ev.target.closest && ev.target.closest('button.doc-pdf-toggle');
    if (!button) return;
    const root = element.querySelector('.doc-view');
    const holder = root.querySelector('.doc-pdf');
    const body = root.querySelector('.doc-body');
    if (body.hidden) {
      body.hidden = false; holder.hidden = true;
      button.textContent = 'Show page ' + button.dataset.page + ' as in the PDF';
      const note = root.querySelector('.doc-pdf-note');
      if (note) note.remove();
      scrollToCited();
    } else {
      showPdf(button);
    }
  });
}
watch('value', update);
update();
"""


def upload_form_html(suffixes: Sequence[str], max_mb: float, max_files: int) -> str:
    """The upload form: admin token, files, a button and a status line (filled by UPLOAD_JS)."""
    kinds = " ".join(suffixes)
    label = html.escape(f"Files ({kinds}; up to {max_files} files of {max_mb:g} MB each)")
    accept = html.escape(",".join(suffixes))
    return (
        '<form class="upload-form" onsubmit="return false">'
        '<label id="admin-token">Admin token '
        '<input type="password" name="token" autocomplete="off" required></label>'
        '<label id="upload-collection">Collection (a new name creates it) '
        '<input type="text" name="collection" value="default" autocomplete="off" '
        'pattern="[a-z0-9]([a-z0-9_\\-]{0,30}[a-z0-9])?" maxlength="32"></label>'
        f'<label id="upload-files">{label} '
        f'<input type="file" name="files" multiple accept="{accept}"></label>'
        '<ul class="upload-chosen" aria-label="Chosen files"></ul>'
        '<button type="submit" class="lg primary">Add to index</button>'
        '<div id="upload-status" role="status" aria-live="polite"></div>'
        "</form>"
    )


# Posts the chosen files to /api/upload with the token as a Bearer header and shows the
# server's verdict as text (never HTML); a successful upload refreshes the Documents table.
UPLOAD_JS = """
const form = element.querySelector('form.upload-form');
if (form && !form.dataset.ready) {
  form.dataset.ready = '1';
  const input = form.querySelector('input[type=file]');
  const chosen = form.querySelector('.upload-chosen');
  const status = form.querySelector('#upload-status');
  const say = (lines) => {
    status.replaceChildren(...lines.map((line) => {
      const p = document.createElement('div'); p.textContent = line; return p;
    }));
  };
  input.addEventListener('change', () => {
    chosen.replaceChildren(...Array.from(input.files).map((f) => {
      const li = document.createElement('li'); li.setAttribute('role', 'row');
      li.textContent = f.name; return li;
    }));
  });
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const token = form.querySelector('input[name=token]').value.trim();
    if (!input.files.length) { say(['Choose one or more files first.']); return; }
    const body = new FormData();
    Array.from(input.files).forEach((f) => body.append('files', f, f.name));
    const collection = form.querySelector('input[name=collection]').value.trim();
    if (collection) body.append('collection', collection);
    say(['Uploading…']);
    let res, data;
    try {
      res = await fetch('api/upload', {method: 'POST', body: body,
        headers: {'Authorization': 'Bearer ' + token}, credentials: 'omit'});
      data = await res.json();
    } catch (err) {
      say(['Not uploaded: the server did not answer.']); return;
    }
    if (!res.ok) { say([data.error || ('Not uploaded (' + res.status + ').')]); return; }
    const lines = [];
    (data.added || []).forEach((n) => lines.push(n + ' added'));
    (data.refused || []).forEach((r) => lines.push(r.name + ' refused: ' + r.reason));
    (data.errors || []).forEach((e) => lines.push(e));
    (data.warnings || []).forEach((w) => lines.push('Note: ' + w));
    if (data.summary) lines.push(data.summary);
    say(lines);
    const refresh = document.querySelector('#docs-refresh');
    if (refresh && (data.added || []).length) refresh.click();
  });
}
"""
