"""A command-line option the question names is matched as written: "-c" is not "-C"."""

from __future__ import annotations

from pathlib import Path

from assistant.answer.wording import options
from assistant.core import Assistant
from assistant.settings import Settings
from tests.support.fakes import HashEmbeddings

PAGE = """\
GREP(1)                      User Commands                     GREP(1)

OPTIONS
       -c, --count
              Suppress normal output; instead print a count of matching
              lines for each input file.

       -C NUM, --context=NUM
              Print NUM lines of output context.

       --exclude-dir=GLOB
              Skip any command-line directory with a name suffix that
              matches the pattern GLOB.

       --exclude=GLOB
              Skip any command-line file with a name suffix that matches
              the pattern GLOB.
"""


def test_options_are_read_exactly_as_written() -> None:
    assert options("What do -c and --exclude-dir do?") == {"-c", "--exclude-dir"}
    assert options("a well-known e-mail, -1 and x-ray") == set()
    assert options("Use -C, or --context=NUM.") == {"-C", "--context"}


def test_the_named_option_outranks_its_namesakes(tmp_path: Path) -> None:
    page = tmp_path / "grep.txt"
    page.write_text(PAGE, encoding="utf-8")
    assistant = Assistant(Settings(data_dir=tmp_path / "data"), embedder=HashEmbeddings())
    assert assistant.ingest([page], progress=False).ok
    for question, opening in (
        ("What does the -C option do?", "-C NUM"),
        ("What does the -c option do?", "-c, --count"),
        ("What does --exclude-dir do?", "--exclude-dir=GLOB"),
        ("What does --exclude do?", "--exclude=GLOB"),
    ):
        found = assistant.searcher.find(question)
        ranked = assistant.extractive.candidates(found)
        lexical = {c.text.split("\n")[0]: c.features[1] for c in ranked}
        best = max(lexical, key=lexical.__getitem__)
        assert best.startswith(opening), (question, lexical)
