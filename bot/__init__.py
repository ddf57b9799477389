"""Factbot: answers questions from a curated fact base, quoting its source verbatim."""
