"""Messages as terminal text: a header line saying where it went, the body indented."""

from __future__ import annotations

from rituals.messages import BOLD, Message


def render(where: str, message: Message, *, bot: str = "ritualbot") -> str:
    body = BOLD.sub(r"\1", message.plain_text())  # bold markup only; typed asterisks stay
    lines = body.splitlines() or [""]
    out = [f"[{where}] {bot}: {lines[0]}"]
    out.extend(f"    {line}" for line in lines[1:])
    if message.attachment is not None:
        out.append(f"    --- {message.attachment.filename} ---")
        out.extend(f"    {line}" for line in message.attachment.content.splitlines())
    return "\n".join(out)
