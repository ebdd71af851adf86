"""The prompt templates, as plain files beside this one (``*.txt``; ``small/`` for small models).

A package only so the installed wheel carries them and ``assistant.answer.prompts`` can find them;
it has no code. ``ASSISTANT_PROMPTS_DIR`` points the assistant at a folder of your own.
"""
