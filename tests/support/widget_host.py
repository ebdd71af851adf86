"""A host page that embeds the widget (``HOST_PAGE``, formatted with the assistant's ``api``
URL) and a quiet static-file handler to serve it from another origin, for the widget's
browser tests."""

from __future__ import annotations

import http.server

HOST_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Example News</title><link rel="icon" href="data:,">
<style>body{{font:17px/1.6 Georgia,serif;max-width:40rem;margin:2rem auto;padding:0 1rem}}
button{{background:red!important;width:10px!important}}</style></head>
<body><h1>Europe debates a reassurance force</h1>
<p>Leaders met in Paris to discuss security guarantees for Ukraine. Ask our assistant about
the article using the chat button.</p>
<script src="{api}/embed.js" data-title="Ask about this article" data-accent="#0f766e"
        data-position="bottom-right" defer></script>
</body></html>
"""


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib name
        pass
