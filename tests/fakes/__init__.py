"""Fakes of the chat platforms' servers, run on loopback for the adapters' tests."""
