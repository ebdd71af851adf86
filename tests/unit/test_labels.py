"""A lone term in a definition list labels the paragraph after it, and only that one."""

from __future__ import annotations

from pathlib import Path

from assistant.core import Assistant
from assistant.settings import Settings
from tests.support.fakes import HashEmbeddings

PAGE = """<html><head><title>Groups</title></head><body><dl>
<dt>dialout</dt>
<dd><p>Full and direct access to serial ports. Members of this group can reconfigure the
modem.</p></dd>
<dt>fax</dt>
<dd><p>Allows members to use fax software to send and receive faxes.</p></dd>
</dl>
<p>Printing is handled by the lpadmin group on current systems.</p>
</body></html>
"""


def test_a_label_names_the_paragraph_after_it_not_the_rest(tmp_path: Path) -> None:
    page = tmp_path / "groups.html"
    page.write_text(PAGE, encoding="utf-8")
    assistant = Assistant(Settings(data_dir=tmp_path / "data"), embedder=HashEmbeddings())
    assert assistant.ingest([page], progress=False).ok
    found = assistant.searcher.find("What is the fax group for?")
    by_text = {c.text.split()[0]: c for c in assistant.extractive.candidates(found)}
    assert {"dialout", "fax"}.isdisjoint(by_text), "a label is not itself an answer"
    assert "dialout" in by_text["Full"].heading and "dialout" in by_text["Members"].heading
    assert "fax" in by_text["Allows"].heading
    assert "fax" not in by_text["Printing"].heading  # the list ended: the label with it
