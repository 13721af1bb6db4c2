"""csei-nlp: find Clusters of Social and Ecological Innovation in crawled text."""

__version__ = "0.1.0"
