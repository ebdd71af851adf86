/*
 * One PDF page drawn by pdf.js (vendored in ./pdfjs, served by this server), with the cited
 * span highlighted where pdf.js says its characters are. Used by the chat UI's document view
 * and by the widget's viewer. The cited text is matched against the page's text items with
 * white space ignored (pdf.js and the indexer split lines differently), so the highlight is
 * placed from the PDF's own text positions, not guessed from the text view.
 */
const HERE = new URL(".", import.meta.url);
const MIN_PREFIX = 12; // a span running onto the next page: highlight its longest prefix here
let library = null;
const opened = new Map(); // url -> Promise of a PDFDocumentProxy

function pdfjs() {
  if (!library) {
    library = import(new URL("pdfjs/pdf.min.mjs", HERE).href).then(function (lib) {
      lib.GlobalWorkerOptions.workerSrc = new URL("pdfjs/pdf.worker.min.mjs", HERE).href;
      return lib;
    });
    library.catch(function () { library = null; });
  }
  return library;
}

async function openPdf(url) {
  if (!opened.has(url)) {
    const lib = await pdfjs();
    const task = lib.getDocument({
      url: url,
      isEvalSupported: false, // no eval: the widget's CSP forbids it, and it is not needed
      enableXfa: false,
      withCredentials: false,
    }).promise;
    task.catch(function () { opened.delete(url); });
    opened.set(url, task);
  }
  return opened.get(url);
}

// The page's characters without white space, each mapped to (item, index in item.str).
function flatten(items) {
  let chars = "";
  const where = [];
  items.forEach(function (item, i) {
    const str = item.str || "";
    for (let j = 0; j < str.length; j += 1) {
      const norm = str[j].normalize("NFKC").replace(/[\s\u00ad]+/g, "");
      for (let k = 0; k < norm.length; k += 1) {
        chars += norm[k];
        where.push([i, j]);
      }
    }
  });
  return { chars: chars, where: where };
}

function squeeze(text) {
  return text.normalize("NFKC").replace(/[\s\u00ad]+/g, "");
}

// [first, last] indexes into flat.chars of the quote, or of its longest prefix on the page.
function findQuote(flat, quote) {
  const q = squeeze(quote);
  if (!q) return null;
  let at = flat.chars.indexOf(q);
  if (at >= 0) return [at, at + q.length - 1];
  let lo = Math.min(MIN_PREFIX, q.length), hi = q.length - 1, best = null;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    at = flat.chars.indexOf(q.slice(0, mid));
    if (at >= 0) { best = [at, at + mid - 1]; lo = mid + 1; } else { hi = mid - 1; }
  }
  return best;
}

// Viewport rectangles (CSS pixels) covering chars [first, last], one per text item touched.
export function quoteRects(items, quote, viewport) {
  const flat = flatten(items);
  const span = findQuote(flat, quote);
  if (!span) return [];
  const runs = new Map(); // item index -> [first char, last char] in item.str
  for (let n = span[0]; n <= span[1]; n += 1) {
    const w = flat.where[n];
    const run = runs.get(w[0]);
    if (run) run[1] = Math.max(run[1], w[1]); else runs.set(w[0], [w[1], w[1]]);
  }
  const rects = [];
  runs.forEach(function (run, i) {
    const item = items[i];
    const t = item.transform;
    const size = item.height || Math.hypot(t[2], t[3]) || 10;
    const len = Math.max(1, item.str.length);
    const x0 = t[4] + (item.width * run[0]) / len;
    const x1 = t[4] + (item.width * (run[1] + 1)) / len;
    const r = viewport.convertToViewportRectangle([x0, t[5] - size * 0.25, x1, t[5] + size * 0.9]);
    rects.push({
      left: Math.min(r[0], r[2]), top: Math.min(r[1], r[3]),
      width: Math.abs(r[2] - r[0]), height: Math.abs(r[3] - r[1]),
    });
  });
  return rects;
}

/*
 * Draw page `options.page` of the PDF at `options.url` into `container` (replacing what it
 * holds), `options.width` CSS pixels wide, and highlight `options.quote` on it.
 * Resolves to {page, pages, marks}: marks is 0 when the quote was not found on the page.
 */
export async function renderPage(container, options) {
  const pdf = await openPdf(options.url);
  const number = Math.min(Math.max(1, Math.floor(options.page) || 1), pdf.numPages);
  const page = await pdf.getPage(number);
  const natural = page.getViewport({ scale: 1 });
  const width = Math.max(200, options.width || container.clientWidth || 600);
  const viewport = page.getViewport({ scale: width / natural.width });
  const ratio = window.devicePixelRatio || 1;
  const sheet = document.createElement("div");
  sheet.className = "pdf-page";
  sheet.dataset.page = String(number);
  sheet.style.position = "relative";
  sheet.style.width = viewport.width + "px";
  sheet.style.height = viewport.height + "px";
  const canvas = document.createElement("canvas");
  canvas.width = Math.floor(viewport.width * ratio);
  canvas.height = Math.floor(viewport.height * ratio);
  canvas.style.width = viewport.width + "px";
  canvas.style.height = viewport.height + "px";
  canvas.style.display = "block";
  sheet.appendChild(canvas);
  await page.render({
    canvas: canvas,
    canvasContext: canvas.getContext("2d"),
    viewport: viewport,
    transform: ratio !== 1 ? [ratio, 0, 0, ratio, 0, 0] : undefined,
  }).promise;
  const content = await page.getTextContent();
  const rects = quoteRects(content.items, options.quote || "", viewport);
  rects.forEach(function (r) {
    const mark = document.createElement("div");
    mark.className = "pdf-mark";
    mark.style.position = "absolute";
    mark.style.left = r.left + "px";
    mark.style.top = r.top + "px";
    mark.style.width = r.width + "px";
    mark.style.height = r.height + "px";
    mark.style.background = "rgba(250, 204, 21, 0.45)";
    mark.style.outline = "1px solid rgba(180, 83, 9, 0.8)";
    mark.style.pointerEvents = "none";
    sheet.appendChild(mark);
  });
  container.replaceChildren(sheet);
  if (rects.length) {
    const top = Math.min.apply(null, rects.map(function (r) { return r.top; }));
    container.scrollTop = Math.max(0, top - container.clientHeight / 3);
  }
  return { page: number, pages: pdf.numPages, marks: rects.length };
}
