"""The ground floor every stage stands on: the triplet format and its one reader/writer,
JSON-lines and atomic files, text keys, corpora, and where data and caches live.

Synthesis, training, evaluation and the pipeline import from here and never from each other's
data code, so data flows one way (synthesis -> triplets -> training -> model -> evaluation) and
nothing in this package imports a stage.
"""
