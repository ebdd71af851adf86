"""Serving: the web server, its JSON and OpenAI-compatible APIs, the Gradio UI and the widget.

``server`` builds the FastAPI app; ``gateway``, ``origins``, ``security`` and ``ratelimit``
decide who may ask what; ``runtime`` starts the assistant in the background so the page
answers at once; ``ui/`` is the Gradio chat and ``static/`` the embeddable widget. Every route
goes through the same request checks as the command line (``assistant.textguard``).
"""
