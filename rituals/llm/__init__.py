"""The language model: summaries it rewrites after the plain ones, and answers from history.

`model` reaches any OpenAI-compatible server; `written` is what a kind brings to have its
summary written; `summaries` queues and sweeps them; `search` finds passages for `ask`.

A kind plugs in with one file: a `written.Written` subclass (output schema, checks, how it
renders) passed to `written.register`, its prompt in ``prompts/<name>.txt``, and, where its
closing code queues the plain summary, `summaries.wanted` / `pending` / `request`.
"""
