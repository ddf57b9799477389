"""Platform-neutral chat behaviour: what Factbot does for a question, a click, a vote or a command, once."""
