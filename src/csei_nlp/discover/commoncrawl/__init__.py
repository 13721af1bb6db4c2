"""Discovery from Common Crawl: select records with the columnar index, fetch them by byte range.

A job with an ``[inputs.commoncrawl]`` table starts from the web itself rather
than from crawls or seed URLs someone already has:

select.py   the job's keys (TLDs, URL substrings and cue-term patterns, languages) as one index filter,
            and the "about / members / partners" words of host expansion
fetch.py    exact byte-range reads (HTTP ``Range`` or a local file), concurrent, rate-limited, retried,
            locally or as Ray tasks
step.py     a run's step: select what is new, fetch it into WARC files under the job's state folder
            (scanned incrementally like any crawl), record fetched and failed records, expand the
            hosts of candidates; and ``csei cc preview``

The index queries themselves (DuckDB over Parquet) are in :mod:`csei_nlp.store.ccindex`.
"""
