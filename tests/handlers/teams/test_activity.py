"""Reading activities: the bot's mention stripped, whatever the command and the name."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.kinds import registry
from handlers.teams import activity as a
from rituals.identity import Place
from tests.handlers.teams import activities as act

words = st.text(
    alphabet=st.characters(
        codec="utf-8",
        exclude_characters="<>&\r\n\x00",
        exclude_categories=["Cs", "Cc", "Zs", "Zl", "Zp"],
    ),
    min_size=1,
    max_size=12,
)
commands = st.lists(words, min_size=1, max_size=6).map(" ".join)
names = st.text(
    alphabet=st.characters(exclude_characters="<>&/", exclude_categories=["Cs", "Cc", "Z"]),
    min_size=1,
    max_size=20,
)

GRAMMAR = registry().grammar


def said(text: str, bot_name: str) -> dict:
    activity = act.in_channel("https://smba.example/", "29:alice", "")
    activity["text"] = text
    activity["entities"] = [act.mention(name=bot_name)]
    activity["recipient"]["name"] = bot_name
    return activity


@given(command=commands, bot_name=names, before=st.booleans())
def test_the_bots_mention_is_stripped_wherever_it_stands(
    command: str, bot_name: str, before: bool
) -> None:
    tag = f"<at>{bot_name}</at>"
    text = f"{tag} {command}" if before else f"{command} {tag}"
    assert a.typed_text(said(text, bot_name)) == command


@given(command=commands, bot_name=names)
def test_a_command_reads_the_same_with_or_without_the_mention(command: str, bot_name: str) -> None:
    mentioned = a.typed_text(said(f"<at>{bot_name}</at> standup {command}", bot_name))
    assert GRAMMAR.parse(mentioned) == GRAMMAR.parse(f"standup {command}")


def test_other_mentions_stay_as_names() -> None:
    activity = said("<at>ritualbot</at> standup resolve 3 thanks <at>Bob Smith</at>", "ritualbot")
    activity["entities"].append(act.mention("29:bob", "Bob Smith"))
    assert a.typed_text(activity) == "standup resolve 3 thanks @Bob Smith"


def test_html_the_client_sends_reads_as_text() -> None:
    activity = said("<p><at>ritualbot</at>&nbsp;standup&nbsp;skip 2026-12-24</p>", "ritualbot")
    assert a.typed_text(activity) == "standup skip 2026-12-24"


def test_a_channel_thread_is_read_as_its_channel() -> None:
    activity = act.in_channel("https://smba.example/", "29:alice", "standup now", thread="42")
    place = a.place(activity)
    assert place is not None
    assert place.channel == act.CHANNEL and place.name == "General"
    assert place.reply_to == f"{act.CHANNEL};messageid=42|{activity['id']}"
    assert a.thread_root(activity) == "42"


def test_the_tenant_comes_from_the_channel_data() -> None:
    activity = act.personal("https://smba.example/", "29:bob", "hi")
    activity["conversation"].pop("tenantId")
    assert a.tenant(activity) == act.TENANT
    activity["channelData"] = {}
    assert a.tenant(activity) == a.LOCAL_TENANT


def test_a_channel_teams_sends_unnamed_is_general_only_if_it_is_the_teams_first() -> None:
    general = act.in_channel("https://smba.example/", "29:alice", "standup now")
    del general["channelData"]["channel"]["name"]
    other = act.in_channel(
        "https://smba.example/", "29:alice", "standup now", channel="19:ranking@thread.tacv2"
    )
    del other["channelData"]["channel"]["name"]
    assert (a.place(general) or Place("")).name == "General"
    assert (a.place(other) or Place("")).name == ""
