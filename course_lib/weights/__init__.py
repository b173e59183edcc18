"""Pretrained weights shipped with course_lib: ``registry.json`` (name -> file, SHA-256, size, description, how it
was trained, scores) and the ``*.pt`` files it lists. Read them through :mod:`course_lib.pretrained`
(``load_pretrained``, ``pretrained_info``); add them with ``export_pretrained`` + ``register_pretrained``."""
