"""The /v1 API over the real assistant, with the official openai client."""

from __future__ import annotations

import pytest

from tests.support.openai_server import assert_exact, client_for, serve

OPPOSED = "Which countries opposed Macron's proposal?"


@pytest.mark.integration
def test_real_assistant_through_the_openai_client(sample_assistant) -> None:
    """The real assistant (extractive) answers an OpenAI client with exact citations."""
    with serve(lambda: sample_assistant, sample_assistant.settings.model_copy(deep=True)) as url:
        c = client_for(url)
        reply = c.chat.completions.create(
            model="grounded-assistant",
            messages=[{"role": "user", "content": "How many leaders attended the meeting?"}],
        )
        extra = reply.model_extra or {}
        assert "30" in (reply.choices[0].message.content or "")
        assert extra["answered_by"] == "extractive"
        assert_exact(extra["citations"])
        chunks = list(
            c.chat.completions.create(
                model="grounded-assistant",
                messages=[{"role": "user", "content": OPPOSED}],
                stream=True,
            )
        )
        text = "".join(ch.choices[0].delta.content or "" for ch in chunks if ch.choices)
        assert "Germany" in text
        assert_exact((chunks[-1].model_extra or {})["citations"])
