"""Adapters: one module per platform, each turning its events into Questions and Answers into messages."""
