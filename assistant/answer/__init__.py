"""Answering: from a question to an answer whose every citation is an exact, checked span.

``retrieval`` finds passages (dense + BM25, one snapshot of the index), ``extractive`` picks
and grades sentences with the fitted ``calibration``, ``generative`` lets a language model
write the answer and ``support``/``reground`` check each of its sentences against the
passages, ``citations`` turns spans into verified ``Citation`` objects, and ``chain`` composes
the steps as LangChain Runnables. Nothing here knows about HTTP, Gradio or the command line.
"""
