"""The command grammar: one parser for every ritual command on every platform."""

from rituals.commands.model import *  # noqa: F403
from rituals.commands.parser import parse  # noqa: F401
