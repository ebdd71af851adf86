"""The Gradio Blocks of the chat UI. Wiring only: handlers decide, ``render`` draws."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import gradio as gr

from assistant.errors import AssistantError
from assistant.serve.registry import Collections
from assistant.serve.security import scrub_paths
from assistant.serve.service import AssistantAPI
from assistant.serve.ui import assets, render, uploads
from assistant.serve.ui.handlers import ChatMessages, Handlers, Turns
from assistant.settings import Settings
from index.collection_names import DEFAULT

log = logging.getLogger(__name__)

# Starters about the bundled sample article; "And Denmark?" shows follow-ups in the hint.
EXAMPLES = [
    "How many leaders attended the Coalition of the Willing meeting?",
    "Which countries opposed Macron's proposal?",
    "What are the three pillars of future security guarantees?",
]
INTRO = (
    "## Ask the documents\n"
    "Answers quote the indexed documents. Click a marker like **[1]** to see the passage it "
    "comes from, highlighted in its document. Follow-up questions work too "
    "(“Which countries opposed Macron's proposal?” then “And Denmark?”)."
)


def mount_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for ``gr.mount_gradio_app`` / ``launch`` that this UI expects.

    No outside links in the footer, and Gradio's own upload limit matching ours.
    """
    return {
        "footer_links": ["api"],
        "max_file_size": int(settings.server.max_upload_mb * 1024 * 1024),
        "run_history": False,
    }


def build_ui(
    get_assistant: Callable[[], AssistantAPI],
    settings: Settings,
    collections: Collections | None = None,
) -> gr.Blocks:
    """The chat page: chat with citations, sources panel, document view, Documents tab.

    ``get_assistant`` may block until the model is loaded; it is only called inside events,
    so the page itself never waits for it. The API endpoint ``/chat`` takes a message and
    optionally a collection (the history is kept per client session and collection) and
    returns the answer text and its citations. With ``collections`` a selector picks the
    collection; switching starts the chat over and the Documents tab follows it.
    """
    h = Handlers(get_assistant, settings, collections)
    limit = settings.server.concurrency
    with gr.Blocks(title="Document assistant", analytics_enabled=False) as demo:
        # The chat as shown lives on the server: a client-sent Chatbot value would be
        # post-processed as files (a FileData naming /etc/passwd), so no event takes one.
        shown = gr.State([])
        history = gr.State([])  # plain {"role", "content"} turns for the assistant
        turns = gr.State([])  # each answer with its question, for the sources panel
        pending = gr.State("")  # the question being answered
        gr.Markdown(INTRO)
        # Shown once the data dir holds more than the default collection (see ``choices``).
        with gr.Row(visible=False) as picker:
            collection = gr.Dropdown(
                choices=[DEFAULT],
                value=DEFAULT,
                label="Collection",
                info="The document set to answer from.",
                elem_id="collection",
                interactive=True,
                filterable=False,
                scale=1,
                min_width=240,
            )
            gr.HTML("", scale=3, padding=False)
        with gr.Tabs():
            with gr.Tab("Chat"), gr.Row(equal_height=False):
                with gr.Column(scale=3, min_width=360):
                    chatbot = gr.Chatbot(
                        label="Chat",
                        elem_id="chat",
                        height=520,
                        # No "share" (nothing leaves the host) and no "copy": it would copy
                        # the escaped Markdown source; selecting the text copies it cleanly.
                        buttons=[],
                        feedback_options=None,
                        latex_delimiters=[],
                        allow_tags=False,
                        examples=[{"text": q} for q in EXAMPLES],
                        placeholder="Ask a question about the indexed documents.",
                    )
                    msg = gr.Textbox(
                        show_label=False,
                        placeholder="Ask a question, or a follow-up such as “And Denmark?”",
                        submit_btn="Ask",
                        elem_id="question",
                        max_lines=6,
                    )
                    restart = gr.Button("Start over", variant="secondary", size="sm")
                with gr.Column(scale=2, min_width=320):
                    sources = gr.HTML(
                        render.sources_placeholder(),
                        label="Sources",
                        show_label=True,
                        container=True,
                        padding=True,
                        elem_id="sources",
                        js_on_load=assets.SOURCES_JS,
                    )
                    docview = gr.HTML(
                        render.document_placeholder(),
                        label="Document",
                        show_label=True,
                        container=True,
                        padding=True,
                        elem_id="document",
                        js_on_load=assets.DOCUMENT_JS,
                    )
            with gr.Tab("Documents") as docs_tab:
                docs_summary = gr.Markdown()
                docs_table = gr.Dataframe(
                    headers=render.DOCUMENT_HEADERS, interactive=False, elem_id="documents"
                )
                refresh = gr.Button("Refresh", size="sm", elem_id="docs-refresh")
                _upload_panel(settings)

        # The /chat API: hidden components, per-session history in a State.
        with gr.Row(visible=False):
            api_message = gr.Textbox(label="message")
            api_collection = gr.Textbox(label="collection", value="")
            api_answer = gr.Textbox(label="answer")
            api_sources = gr.JSON(label="sources")
            api_history = gr.State([])
            api_button = gr.Button()

        def take(question: str) -> tuple[Any, str]:
            return gr.update(value="", interactive=False), question

        def unlock() -> Any:
            return gr.update(interactive=True)

        def respond(
            question: str, chat: ChatMessages, hist: ChatMessages, t: Turns, name: str
        ) -> Any:
            for now, plain, answered, src in h.respond(question, chat, hist, t, name):
                yield now, now, plain, answered, src

        answer_kwargs: dict[str, Any] = {
            "fn": respond,
            "inputs": [pending, shown, history, turns, collection],
            "outputs": [chatbot, shown, history, turns, sources],
            "concurrency_limit": limit,
            "concurrency_id": "answer",
            "api_visibility": "private",
            "show_progress": "hidden",
        }
        asked = msg.submit(take, [msg], [msg, pending], queue=False, api_visibility="private")
        asked_event = asked.then(**answer_kwargs)
        asked_event.then(unlock, None, msg, queue=False, api_visibility="private")

        def pick(evt: gr.SelectData) -> tuple[Any, str]:
            value = evt.value if isinstance(evt.value, dict) else {}
            return gr.update(value="", interactive=False), str(value.get("text", ""))

        example = chatbot.example_select(
            pick, None, [msg, pending], queue=False, api_visibility="private"
        )
        example_event = example.then(**answer_kwargs)
        example_event.then(unlock, None, msg, queue=False, api_visibility="private")

        def start_over(panel: str = "", draft: Any = "") -> tuple[Any, ...]:
            """A fresh chat: no turns or citations, the sources panel showing ``panel``."""
            sources_html = render.sources_placeholder(panel)
            return [], [], [], [], sources_html, render.document_placeholder(), draft

        restart_kwargs: dict[str, Any] = {
            "fn": start_over,
            "inputs": None,
            "outputs": [chatbot, shown, history, turns, sources, docview, msg],
            "cancels": [asked_event, example_event],
            "queue": False,
            "api_visibility": "private",
        }
        for trigger in (restart.click, chatbot.clear):  # the chat's own bin starts over too
            trigger(**restart_kwargs).then(unlock, None, msg, queue=False, api_visibility="private")

        def open_citation(t: Turns, evt: gr.EventData) -> tuple[Any, Any]:
            try:
                turn, n = int(getattr(evt, "turn", -1)), int(getattr(evt, "n", -1))
            except (TypeError, ValueError):
                return gr.skip(), gr.skip()
            shown = h.open_citation(t, turn, n)
            return shown if shown is not None else (gr.skip(), gr.skip())

        sources.click(
            open_citation,
            [turns],
            [sources, docview],
            api_visibility="private",
            show_progress="hidden",
            concurrency_limit=None,
        )

        def api_chat(message: str, hist: Any, collection: str) -> Any:
            """Answer a question about the documents of a collection (empty: the default
            one); history is kept per session and collection.

            Returns the answer text with [n] markers and the list of citations.
            """
            try:
                yield from h.api_chat(message, hist, collection)
            except AssistantError as exc:
                raise gr.Error(scrub_paths(str(exc))) from exc
            except Exception as exc:  # the client gets a clean message, the log the traceback
                log.exception("the /chat API failed")
                raise gr.Error("Something went wrong; see the server log.") from exc

        api_button.click(
            api_chat,
            [api_message, api_history, api_collection],
            [api_answer, api_history, api_sources],
            api_name="chat",
            concurrency_limit=limit,
            concurrency_id="answer",
        )

        list_kwargs: dict[str, Any] = {
            "fn": h.list_documents,
            "inputs": [collection],
            "outputs": [docs_table, docs_summary],
            "api_visibility": "private",
            "concurrency_limit": None,
        }
        docs_tab.select(**list_kwargs)

        def choices(name: str) -> Any:
            names = h.collection_names()
            value = name if name in names else DEFAULT
            return gr.update(choices=names, value=value), gr.update(visible=len(names) > 1)

        choice_kwargs: dict[str, Any] = {
            "fn": choices,
            "inputs": [collection],
            "outputs": [collection, picker],
            "queue": False,
            "api_visibility": "private",
        }
        refresh.click(**choice_kwargs).then(**list_kwargs)
        demo.load(**choice_kwargs)

        # Another collection: the chat starts over (its history and citations belong to the
        # old one) and the Documents tab shows the new one's documents.
        def switch(name: str) -> tuple[Any, ...]:
            """Another collection: the chat starts over, the panel says which collection now
            answers, and a question being typed is kept."""
            note = f"Now answering from the {name or DEFAULT} collection. {render.SOURCES_HINT}"
            return start_over(note, gr.skip())

        collection.input(**{**restart_kwargs, "fn": switch, "inputs": [collection]}).then(
            unlock, None, msg, queue=False, api_visibility="private"
        ).then(**list_kwargs)

    demo.queue(default_concurrency_limit=limit)
    return demo


def _upload_panel(settings: Settings) -> None:
    """Upload controls when an admin token is configured, else a note saying why not.

    The controls are a plain form that posts to ``POST /api/upload`` with the token in the
    ``Authorization`` header, so the server checks the token before it reads a byte; Gradio's
    own upload route (which writes first and asks later) is never used.
    """
    if not settings.admin_token:
        gr.Markdown(
            "Adding documents here is off. An administrator can turn it on by setting "
            "`ASSISTANT_ADMIN_TOKEN`, or index files with `assistant ingest PATH`."
        )
        return
    with gr.Accordion("Add documents", open=False):
        gr.HTML(
            assets.upload_form_html(
                uploads.ALLOWED_SUFFIXES,
                settings.server.max_upload_mb,
                settings.server.max_upload_files,
            ),
            elem_id="upload-panel",
            js_on_load=assets.UPLOAD_JS,
        )
