"""Plain functions that turn an ``Answer`` into what the chat UI shows; no Gradio here.

Everything that comes from a document or an answer is escaped: document text can contain
Markdown images, raw HTML or LaTeX, and none of it may render (nor fetch anything) in the page.
Highlights are placed by the citation offsets, never by searching for the cited text.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping, Sequence

from assistant.answer.citations import MARKER
from assistant.types import Answer, Citation, DocumentInfo, DocumentText
from index.pdf_loader import page_of

# Every ASCII punctuation character CommonMark lets us backslash-escape, except the ones
# html.escape turns into entities afterwards (& < >) and quotes, which are harmless in text.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~$=^:])")
_LINK_PREFIX = "#cite-"


def escape_markdown(text: str) -> str:
    """Make text inert in Gradio's Markdown: no images, links, emphasis, HTML or LaTeX."""
    return html.escape(_MD_SPECIAL.sub(r"\\\1", text), quote=False)


def cite_href(turn: int, n: int) -> str:
    """The link target of marker ``[n]`` in answer number ``turn`` (read by the page's JS)."""
    return f"{_LINK_PREFIX}{turn}-{n}"


def parse_cite_href(href: str) -> tuple[int, int] | None:
    """Inverse of :func:`cite_href`; ``None`` for anything else."""
    match = re.fullmatch(r"#cite-(\d+)-(\d+)", href.strip())
    return (int(match.group(1)), int(match.group(2))) if match else None


def _cite_link(turn: int, n: int) -> str:
    # Brackets as entities so Markdown cannot read "[1]" as a link reference.
    return (
        f'<a class="cite-ref" href="{cite_href(turn, n)}" title="Show source {n}">&#91;{n}&#93;</a>'
    )


UNSUPPORTED_TITLE = "No cited passage supports this sentence."
UNSUPPORTED_LEGEND = "\u26a0 marks sentences that no cited passage supports."


def _linked(text: str, known: set[int], turn: int) -> str:
    """Escaped ``text`` whose known ``[n]`` markers link to their sources."""
    parts: list[str] = []
    pos = 0
    for match in MARKER.finditer(text):
        parts.append(escape_markdown(text[pos : match.start()]))
        n = int(match.group(1))
        parts.append(_cite_link(turn, n) if n in known else escape_markdown(match.group(0)))
        pos = match.end()
    parts.append(escape_markdown(text[pos:]))
    return "".join(parts)


def unsupported_spans(answer: Answer) -> list[tuple[int, int]]:
    """Where the sentences listed in ``unsupported_claims`` occur in the answer text."""
    spans: list[tuple[int, int]] = []
    for claim in answer.unsupported_claims:
        start = answer.answer.find(claim) if claim else -1
        if start >= 0 and all(start >= e or start + len(claim) <= s for s, e in spans):
            spans.append((start, start + len(claim)))
    return sorted(spans)


def chat_markdown(answer: Answer, turn: int) -> str:
    """The chat message for an answer: escaped text whose ``[n]`` markers link to sources.

    A marker with no matching citation stays plain text, so a link always leads somewhere.
    Sentences no citation supports (``unsupported_claims``) are flagged with a warning sign.
    """
    known = {c.n for c in answer.citations}
    spans = unsupported_spans(answer)
    parts: list[str] = []
    pos = 0
    for start, end in spans:
        parts.append(_linked(answer.answer[pos:start], known, turn))
        parts.append(
            f'<span class="unsupported" title="{UNSUPPORTED_TITLE}">\u26a0\u00a0'
            f"{_linked(answer.answer[start:end], known, turn)}</span>"
        )
        pos = end
    parts.append(_linked(answer.answer[pos:], known, turn))
    text = "".join(parts)
    notes = ([UNSUPPORTED_LEGEND] if spans else []) + answer.notes
    if answer.answered_by != "extractive":  # say which model wrote it, or that it failed
        notes.append(f"Answered by {answer.answered_by}")
    if notes:
        text += "\n\n" + "\n\n".join(f"_{escape_markdown(note)}_" for note in notes)
    return text


def error_markdown(message: str) -> str:
    """A chat message for an ``AssistantError``: its text only, never a traceback."""
    return f"**Sorry:** {escape_markdown(message)}"


def _esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def _span_in(text_len: int, start: int, end: int) -> bool:
    return 0 <= start < end <= text_len


def highlight(text: str, spans: Iterable[tuple[int, int]], offset: int = 0) -> str:
    """Escape ``text`` and wrap each span (document offsets) in ``<mark>``.

    ``offset`` is where ``text`` starts in the document. Spans are clipped to the text;
    overlapping spans merge into one highlight.
    """
    clipped = sorted(
        (max(s - offset, 0), min(e - offset, len(text)))
        for s, e in spans
        if min(e - offset, len(text)) > max(s - offset, 0)
    )
    merged: list[list[int]] = []
    for s, e in clipped:
        if merged and s <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([s, e])
    out: list[str] = []
    pos = 0
    for s, e in merged:
        out.append(_esc(text[pos:s]))
        out.append(f"<mark>{_esc(text[s:e])}</mark>")
        pos = e
    out.append(_esc(text[pos:]))
    return "".join(out)


def passage_html(citation: Citation, document_text: str | None) -> str:
    """The retrieved passage around a citation with the cited span highlighted.

    Falls back to the cited text alone when the document text is unavailable or the
    passage offsets do not contain the span.
    """
    c = citation
    if document_text is not None and _span_in(len(document_text), c.start, c.end):
        ps, pe = c.passage_start, c.passage_end
        if not (0 <= ps <= c.start and c.end <= pe <= len(document_text)):
            ps, pe = c.start, c.end
        return highlight(document_text[ps:pe], [(c.start, c.end)], offset=ps)
    return f"<mark>{_esc(c.text)}</mark>"


def _meta(c: Citation) -> str:
    bits = [_esc(c.source)]
    if c.page:
        bits.append(f"page {c.page}")
    if c.date:
        bits.append(_esc(c.date))
    bits.append(f"relevance {c.score:.2f}")
    if not c.supported:
        bits.append('<span class="src-warn">does not support the answer</span>')
    return " · ".join(bits)


def _section(section: str | None) -> str:
    """The heading a span sits under, shown next to the document name."""
    return f' <span class="src-section">\u203a {_esc(section)}</span>' if section else ""


def source_card(c: Citation, document_text: str | None, turn: int, selected: bool) -> str:
    """One source card: marker, document name, date, score and the highlighted passage."""
    classes = "src-card selected" if selected else "src-card"
    mismatch = ""
    if document_text is not None and document_text[c.start : c.end] != c.text:
        mismatch = '<p class="src-warn">The cited offsets no longer match this document.</p>'
    return (
        f'<article class="{classes}" id="src-{turn}-{c.n}" data-turn="{turn}" data-n="{c.n}">'
        f'<header><span class="src-n">[{c.n}]</span> '
        f'<span class="src-title">{_esc(c.title or c.source)}</span>{_section(c.section)}</header>'
        f'<div class="src-meta">{_meta(c)}</div>'
        f'<blockquote class="src-passage">{passage_html(c, document_text)}</blockquote>'
        f"{mismatch}"
        f'<button type="button" class="src-open" data-turn="{turn}" data-n="{c.n}">'
        "Open in document</button></article>"
    )


def sources_html(
    answer: Answer | None,
    texts: Mapping[str, str],
    turn: int = 0,
    selected: int | None = None,
    question: str | None = None,
) -> str:
    """The sources panel for one answer; ``texts`` maps ``doc_id`` to the document text."""
    if answer is None:
        return sources_placeholder()
    head = f'<p class="src-question">Sources for: {_esc(question)}</p>' if question else ""
    if answer.abstained:
        closest = " The closest passages:" if answer.citations else ""
        head += (
            '<p class="src-status abstained" role="status">The documents do not answer this '
            f"question.{closest}</p>"
        )
    elif not answer.citations:
        head += '<p class="src-status">This answer cites no sources.</p>'
    head += confidence_html(answer)
    cards = "".join(
        source_card(c, texts.get(c.doc_id), turn, selected == c.n) for c in answer.citations
    )
    return f'<div class="src-panel" data-turn="{turn}">{head}{cards}</div>'


def confidence_html(answer: Answer) -> str:
    """How sure the answer is, plainly: "Uncertain ..." below the calibrated line."""
    if answer.abstained or answer.confidence <= 0.0:
        return ""
    pct = f"{answer.confidence:.0%}"
    if answer.uncertain:
        return (
            '<p class="src-status uncertain" role="status">Uncertain: the documents may not '
            f"answer this; these are the closest passages (confidence {pct}).</p>"
        )
    return f'<p class="src-confidence">Confidence {pct}</p>'


SOURCES_HINT = (
    "Sources of the answer appear here. Click a marker like [1] in an answer to check it."
)


def sources_placeholder(message: str = "") -> str:
    """The sources panel with no answer to show, or with a short status message."""
    text = message or SOURCES_HINT
    return f'<div class="src-panel"><p class="src-empty">{_esc(text)}</p></div>'


def document_html(
    doc: DocumentText,
    citations: Sequence[Citation],
    selected: int | None = None,
    pdf_url: str | None = None,
) -> str:
    """A whole document with every span cited in the answer highlighted by its offsets.

    Each span's start gets an anchor ``doc-cite-{n}``; the root names the anchor to scroll
    to in ``data-scroll-to`` (the page's JS reads it after each update). A PDF's pages are
    marked where they start, and the header names the cited span's page; with ``pdf_url``
    (the original PDF is served) the page's JS also draws that page with pdf.js.
    """
    text = doc.text
    mine = [
        c
        for c in citations
        if (c.doc_id == doc.doc_id if c.doc_id else c.source == doc.source)
        and _span_in(len(text), c.start, c.end)
    ]
    pages = {s: n for n, s in enumerate(doc.page_starts, 1) if 0 <= s <= len(text)}
    cuts = sorted({0, len(text), *pages, *(c.start for c in mine), *(c.end for c in mine)})
    anchors: dict[int, list[int]] = {}
    for c in mine:
        anchors.setdefault(c.start, []).append(c.n)
    out: list[str] = []
    for a, b in zip(cuts, cuts[1:], strict=False):
        if a in pages:  # the label is CSS content: the text itself stays the document's
            out.append(f'<span class="doc-page" data-page="{pages[a]}"></span>')
        for n in anchors.get(a, []):
            out.append(f'<span class="doc-anchor" id="doc-cite-{n}"></span>')
        covering = sorted(c.n for c in mine if c.start <= a and b <= c.end)
        if not covering:
            out.append(_esc(text[a:b]))
            continue
        current = " current" if selected in covering else ""
        label = " ".join(f"[{n}]" for n in covering)
        out.append(
            f'<mark class="cited{current}" data-n="{" ".join(map(str, covering))}" '
            f'title="{label}">{_esc(text[a:b])}</mark>'
        )
    target = selected if any(c.n == selected for c in mine) else (mine[0].n if mine else None)
    shown = next((c for c in mine if c.n == target), None)
    scroll = f' data-scroll-to="doc-cite-{target}"' if target is not None else ""
    cited = " ".join(f"[{n}]" for n in sorted({c.n for c in mine})) or "none"
    page = (shown.page or page_of(doc.page_starts, shown.start)) if shown else 0
    where = f"page {page} of {len(doc.page_starts)}" if page and doc.page_starts else None
    section = shown.section if shown else None
    meta = " · ".join(
        _esc(x)
        for x in (doc.source, where, section, doc.date, f"{doc.chunks} chunks")
        if x is not None
    )
    tools = ""
    if pdf_url and page and shown is not None:
        tools = (
            f'<div class="doc-tools"><button type="button" class="doc-pdf-toggle" '
            f'data-file="{_esc(pdf_url)}" data-page="{page}" data-quote="{_esc(shown.text)}">'
            f'Show page {page} as in the PDF</button></div><div class="doc-pdf" hidden></div>'
        )
    return (
        f'<div class="doc-view"{scroll}>'
        f'<header><span class="doc-title">{_esc(doc.title or doc.source)}</span>'
        f'<div class="doc-meta">{meta} · cited here: {_esc(cited)}</div></header>'
        f'{tools}<div class="doc-body">{"".join(out)}</div></div>'
    )


def document_placeholder(message: str = "") -> str:
    """The document view before a citation is opened, or with a short message."""
    text = message or "Open a source to read it in its document."
    return f'<div class="doc-view"><p class="src-empty">{_esc(text)}</p></div>'


DOCUMENT_HEADERS = ["Title", "File", "Date", "Chunks", "Indexed"]


def document_rows(docs: Sequence[DocumentInfo]) -> list[list[str | int]]:
    """Rows of the Documents tab table, newest first by indexing time."""
    ordered = sorted(docs, key=lambda d: d.indexed_at, reverse=True)
    return [[d.title or d.source, d.source, d.date or "", d.chunks, d.indexed_at] for d in ordered]
