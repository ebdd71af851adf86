"""``python -m assistant.ops.encoder_setup``: write and check the ONNX encoder for the configured
model and cache dir (``make install`` runs it, so no command pays for it later)."""

from __future__ import annotations

import logging
import sys

from assistant.settings import Settings
from index.onnx_encoder import build


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    settings = Settings()
    return build(settings.embedding_model, settings.encoder.cache_dir)


if __name__ == "__main__":  # pragma: no cover - run by make install
    sys.exit(main())
