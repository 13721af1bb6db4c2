"""``python -m csei_nlp.pipeline.cues``: the cue coverage table (see :mod:`.coverage`)."""
from .coverage import main

raise SystemExit(main())
