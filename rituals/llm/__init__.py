"""The language model: summaries it rewrites after the plain ones, and answers from history.

`model` reaches any OpenAI-compatible server; `written` is what a kind brings to have its
summary written; `summaries` queues and sweeps them; `search` finds passages for `ask`.
"""
