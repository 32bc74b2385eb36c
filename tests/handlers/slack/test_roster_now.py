"""`standup now` right after `standup setup` asks the whole channel, not only its lead."""

from __future__ import annotations

from tests.handlers.slack.harness import SlackTeam


async def test_now_just_after_setup_asks_everyone_in_the_channel(slack_team: SlackTeam) -> None:
    team, slack = slack_team, slack_team.slack
    people = [f"UP{n:02d}" for n in range(30)]
    for user in people:
        slack.add_user(user, f"Person {user}", "Europe/Berlin")
    slack.channels["C1"] = ["UALICE", *people]

    await team.command("UALICE", "setup at 09:30")
    await team.command("UALICE", "now")
    await team.deliver()

    asked = {p["channel"] for p in slack.posts() if p["channel"].startswith("U")}
    assert asked == {"UALICE", *people}
    assert any(
        "asked 31 people" in text
        for text in team.private_replies() + [p.get("text", "") for p in slack.posts()]
    )
