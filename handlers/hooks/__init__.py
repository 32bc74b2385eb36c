"""Webhooks: the door at ``/hooks/<word>/{token}`` every kind that takes hooks gets
(`door`), and the readers that turn what each sender posts into its kind's neutral input
(`alerts`), handed to the door by the composition root."""

from handlers.hooks.bodies import BadBody, BodyReader
from handlers.hooks.door import MAX_BODY, HookEdge
from handlers.hooks.rate import RateLimit

__all__ = ["MAX_BODY", "BadBody", "BodyReader", "HookEdge", "RateLimit"]
