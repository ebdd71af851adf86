"""Reading the UI's rendered HTML in the unit tests: ``marks`` are the texts of the
``<mark>`` (a highlighted, cited span); ``OPPOSED`` is the sample sentence the fake cites for
the "opposed" question."""

from __future__ import annotations

import re

OPPOSED = "Germany, Italy, Spain and Poland immediately opposed the idea."


def marks(html_text: str) -> list[str]:
    return re.findall(r"<mark[^>]*>(.*?)</mark>", html_text, flags=re.S)
