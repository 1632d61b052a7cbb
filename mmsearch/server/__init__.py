"""``mmsearch serve``: an HTTP API and a web page over one warm Engine (FastAPI + uvicorn).

Only ``app`` and the modules it imports need the ``server`` extra; ``discovery``, ``wire`` and
``client`` are plain standard library so the CLI can find and ask a running server cheaply.
"""
