"""annotate: the active-learning loop behind ``csei serve``'s annotator screen.

queue.py      which passage an annotator sees next (uncertainty + random, stratified)
log.py        the append-only JSONL annotation log under annotations/app/
agreement.py  Cohen's kappa and Krippendorff's alpha per label, conflicts
formats.py    Label Studio JSON and Prodigy/Argilla-style JSONL import/export
progress.py   the stopping hint from the model cards' dev metrics
decisions.py  analysts' accept/reject decisions -> documents-decisions.jsonl for ``csei train``
"""
