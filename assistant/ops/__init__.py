"""Operations: ``doctor`` (what this install can do, offline), the evaluation harness
(``evaluate``, ``evalsets``) and ``encoder_setup`` (writes and checks the ONNX encoder)."""
