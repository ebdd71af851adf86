"""Prompt templates as files, checked on load for exactly the variables the code fills in.

The defaults live in the top-level ``prompts/`` folder; ``Settings.prompts_dir``
(``ASSISTANT_PROMPTS_DIR``) names a folder of your own files with the same names. A file
missing from that folder falls back to the default, so one prompt can be changed alone.
Templates use ``{name}`` placeholders; write ``{{`` and ``}}`` for literal braces.
"""

from __future__ import annotations

import logging
import string
from dataclasses import dataclass
from pathlib import Path

import prompts as _templates
from assistant.errors import ConfigError

log = logging.getLogger(__name__)
# The top-level ``prompts/`` folder (a data-only package, so the wheel carries it).
DEFAULT_DIR = Path(_templates.__file__).parent
# Shorter instructions a 135M-parameter model follows (ASSISTANT_LLM=local).
SMALL_PROMPTS = DEFAULT_DIR / "small"
# File name -> the variables the code fills in; a template must use exactly these.
VARIABLES: dict[str, frozenset[str]] = {
    "system.txt": frozenset(),
    "answer.txt": frozenset({"sources", "question"}),
    "condense.txt": frozenset({"history", "question"}),
}


def template_variables(text: str, path: Path) -> set[str]:
    """The ``{name}`` placeholders of a template; ``ConfigError`` for malformed braces."""
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(text) if f is not None]
    except ValueError as exc:
        raise ConfigError(f"Prompt file {path}: {exc} (write {{{{ and }}}} for braces).") from exc
    bad = [f for f in fields if not f.isidentifier()]
    if bad:
        raise ConfigError(f"Prompt file {path}: {{{bad[0]}}} is not a variable name.")
    return set(fields)


def load_template(path: Path, expected: frozenset[str]) -> str:
    """Read one template and check it uses exactly ``expected``."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"Prompt file {path} cannot be read: {exc.strerror}.") from exc
    found = template_variables(text, path)
    missing, extra = sorted(expected - found), sorted(found - expected)
    if missing or extra:
        problems = []
        if missing:
            problems.append("missing " + ", ".join(f"{{{v}}}" for v in missing))
        if extra:
            problems.append("unknown " + ", ".join(f"{{{v}}}" for v in extra))
        allowed = ", ".join(f"{{{v}}}" for v in sorted(expected)) or "none"
        raise ConfigError(
            f"Prompt file {path}: {'; '.join(problems)} (variables it must use: {allowed})."
        )
    return text


@dataclass(frozen=True, slots=True)
class Prompts:
    """The three templates the generative answerer uses."""

    system: str
    answer: str
    condense: str

    def answer_prompt(self, sources: str, question: str) -> str:
        return self.answer.format(sources=sources, question=question)

    def condense_prompt(self, history: str, question: str) -> str:
        return self.condense.format(history=history, question=question)


def load_prompts(prompts_dir: Path | None = None) -> Prompts:
    """The prompts, from ``prompts_dir`` where it has a file, else the packaged defaults."""
    if prompts_dir is not None and not Path(prompts_dir).is_dir():
        raise ConfigError(f"The prompts folder {prompts_dir} does not exist.")
    texts: dict[str, str] = {}
    for name, expected in VARIABLES.items():
        path = DEFAULT_DIR / name
        if prompts_dir is not None and (Path(prompts_dir) / name).is_file():
            path = Path(prompts_dir) / name
            log.info("Using your prompt %s", path)
        texts[name.removesuffix(".txt")] = load_template(path, expected)
    return Prompts(**texts)
