"""Hypotheses on the console: proposed in the canvas sentence or a form, listed, shown with
their series and history, closed by those who may, and bad input refused with nothing
changed."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from rituals.identity import Actor
from tests.helpers import CHANNEL, Team
from tests.rituals.hypothesis.support import (
    ANA,
    BEN,
    CAL,
    SENTENCE,
    hypotheses,
    known,
    snapshot,
)
from tests.rituals.retro.support import OTHER_CHANNEL, press, say_in


async def test_the_canvas_sentence_proposes_a_numbered_hypothesis_the_channel_sees(
    team: Team,
) -> None:
    await known(team, BEN)
    reply = await team.type(
        ANA, SENTENCE + " by 2030-03-31 checkin weekly fri owner @ben baseline 0.82 model ranker"
    )
    assert reply.startswith("Hypothesis #1 proposed by Ana")
    assert "We believe dedup will result in cleaner labels" in reply
    assert "precision >= 0.9 (baseline 0.82) on model ranker" in reply
    assert "Owner Ben Ode · by 2030-03-31 · check-ins weekly on Fri at 09:00" in reply
    second = await team.type(ANA, SENTENCE)
    assert second.startswith("Hypothesis #2")
    found = await hypotheses(team.runtime.db)
    assert [(h.number, h.state, h.deadline) for h in found] == [
        (1, "proposed", date(2030, 3, 31)),
        (2, "proposed", None),
    ]
    # Ben is in Berlin: his first check-in is Friday 09:00 there.
    assert found[0].next_checkin_at is not None
    assert found[0].next_checkin_at.isoformat() == "2030-01-11T08:00:00+00:00"
    # Another channel numbers its own from 1.
    assert (await say_in(team, OTHER_CHANNEL, ANA, SENTENCE)).startswith("Hypothesis #1")


async def test_list_show_and_the_history_of_a_hypothesis(team: Team) -> None:
    await team.type(ANA, SENTENCE + " by 2030-02-01")
    await team.type(CAL, SENTENCE.replace("dedup", "a bigger model") + " owner @cal")
    await team.type(ANA, "hypothesis checkin 1 on-track precision=0.85 labels cleaner")
    await team.type(ANA, "hypothesis close 2 invalidated no lift")

    listed = await team.type(ANA, "hypothesis list")
    assert "#1 testing · on track · precision >= 0.9" in listed and "#2" not in listed
    assert "25 days left" in listed
    everything = await team.type(ANA, "hypothesis list all")
    [closed_line] = [line for line in everything.splitlines() if "#2 " in line]
    assert closed_line.startswith(
        "• #2 invalidated · precision >= 0.9 — no values yet · learned: no lift — a bigger model"
    )
    assert "check-in" not in closed_line and "left" not in closed_line
    mine = await team.type(CAL, "hypothesis list mine")
    assert "No hypotheses open here" in mine

    shown = await team.type(ANA, "hypothesis show 1")
    assert "Hypothesis #1 · testing · 25 days left" in shown
    assert "*Series* (1 point) " in shown
    assert "2030-01-07 0.85 on track — labels cleaner" in shown
    assert "2030-01-07 proposed" in shown and "2030-01-07 testing" in shown
    closed = await team.type(ANA, "hypothesis show 2")
    assert "2030-01-07 invalidated — no lift" in closed


async def test_a_closed_hypothesis_shows_no_time_left(team: Team) -> None:
    await team.type(ANA, SENTENCE + " by 2033-08-01")
    await team.type(ANA, SENTENCE.replace("dedup", "a bigger model"))
    await team.type(ANA, "hypothesis close 1 validated dedup pays off")
    await team.type(ANA, "hypothesis close 2 pivot")

    for number, state in ((1, "validated"), (2, "pivoted")):
        shown = await team.type(ANA, f"hypothesis show {number}")
        assert shown.splitlines()[0] == f"Hypothesis #{number} · {state}"
        assert "left" not in shown and "deadline" not in shown.splitlines()[0]


async def test_closing_posts_the_outcome_and_what_was_learned(team: Team) -> None:
    await team.type(ANA, SENTENCE)
    await team.type(ANA, "hypothesis checkin 1 at-risk precision=0.8 slow")
    await team.type(ANA, "hypothesis checkin 1 on-track precision=0.91 better")
    reply = await team.type(ANA, "hypothesis close 1 validated dedup pays off")
    assert reply == "#1 closed as validated; the outcome is posted in #ml-team."
    posts = [p for p in await team.deliver() if p.op == "post"]
    outcome = [p for p in posts if p.text.startswith("Hypothesis #1 validated")]
    assert len(outcome) == 1
    assert "What we learned*: dedup pays off" in outcome[0].text
    assert "over 2 points" in outcome[0].text
    # The backlog takes tasks, so the next step is offered there.
    assert [b.action_id for b in outcome[0].message.buttons] == ["hypothesis.next"]
    again = await team.type(ANA, "hypothesis close 1 pivot")
    assert again == "#1 is closed (validated); nothing changed."
    assert "closed" in await team.type(ANA, "hypothesis checkin 1 on-track still fine")


async def test_only_the_owner_leads_and_admins_change_a_hypothesis(team: Team) -> None:
    await known(team, BEN, CAL)
    await team.type(ANA, SENTENCE + " owner @cal")  # Ana leads; Cal owns it
    before = await snapshot(team.runtime.db)
    refused = await team.type(BEN, "hypothesis close 1 validated")
    assert refused.startswith("Only Cal, Ana or a workspace admin can change #1")
    assert "Only" in await team.type(BEN, "hypothesis checkin 1 on-track fine")
    assert await snapshot(team.runtime.db) == before
    assert "recorded" in await team.type(CAL, "hypothesis checkin 1 on-track fine")
    admin = replace(BEN, admin=True)
    assert "closed as pivoted" in await team.type(admin, "hypothesis close 1 pivot")


async def test_bad_input_gets_a_clear_reply_and_changes_nothing(team: Team) -> None:
    await team.type(ANA, SENTENCE)
    await known(team, BEN)
    before = await snapshot(team.runtime.db)
    cases = {
        "hypothesis show 9": "There is no hypothesis #9 here.",
        "hypothesis show abc": "expected an id like 12",
        "hypothesis show 0": "there is no #0",
        "hypothesis close 9999999999 validated": "there is no #9999999999",
        "hypothesis checkin 1 on-track precision=high": "expected a number like 0.8, not 'high'",
        "hypothesis checkin 1 on-track recall=0.5 x": "#1 tracks precision, not recall",
        "hypothesis checkin 7 on-track fine": "There is no hypothesis #7 here.",
        "hypothesis checkin 1 sideways fine": "status must be one of on-track",
        "hypothesis close 1 maybe": "outcome must be one of validated",
        SENTENCE + " by 2030-01-06": "The deadline 2030-01-06 is in the past; nothing added.",
        SENTENCE + " by 2030-02-30": "expected a real date",
        SENTENCE + " owner @nobody": "I don't know who @nobody is here; nothing added.",
        SENTENCE + " checkin 0 9 31 2 *": "never runs; nothing added",
        SENTENCE + " checkin weekly someday": "unknown day 'someday'",
        "hypothesis add We believe x will result in y; we'll know when p >= lots": "'lots'",
        "hypothesis list some": "list must be one of open, mine, all",
        "hypothesis digest fri 25:00": "expected a time",
        "hypothesis add We believe " + "x" * 1001 + " will result in y; we'll know when a>1": (
            "belief is too long"
        ),
    }
    for line, expected in cases.items():
        assert expected in await team.type(ANA, line), line
    # Another channel's #1 is not found here, and vice versa.
    assert "There is no hypothesis #1 here." in await say_in(
        team, OTHER_CHANNEL, ANA, "hypothesis show 1"
    )
    assert await snapshot(team.runtime.db, skip=("outbox", "member", "channel")) == {
        k: v for k, v in before.items() if k not in ("member", "channel")
    }


async def test_the_form_proposes_one_and_reports_errors_by_field(team: Team) -> None:
    assert team.bot.form_for("hypothesis add") == "hypothesis.add"
    form = await team.bot.open_form(ANA, CHANNEL, "hypothesis.add", "")
    assert not hasattr(form, "message") and form.form_id == "hypothesis.add"  # type: ignore[union-attr]
    bad = await team.bot.submit_form(
        ANA,
        "hypothesis.add",
        CHANNEL.channel,
        {"belief": "dedup", "result": "", "metric": "precision", "op": "!=", "target": "hi"},
    )
    assert isinstance(bad, dict) and set(bad) == {"result", "op", "target"}
    assert await hypotheses(team.runtime.db) == []
    past = (team.clock.now() - timedelta(days=1)).date().isoformat()
    values = {
        "belief": "dedup",
        "result": "cleaner labels",
        "metric": "precision",
        "op": ">=",
        "target": "0.9",
        "by": past,
        "checkin": "daily",
    }
    refused = await team.bot.submit_form(ANA, "hypothesis.add", CHANNEL.channel, values)
    assert isinstance(refused, dict) and "in the past" in refused[""]
    ok = await team.bot.submit_form(
        ANA, "hypothesis.add", CHANNEL.channel, {**values, "by": "2030-06-30", "baseline": "0.8"}
    )
    assert ok is not None and not isinstance(ok, dict)
    assert ok.message.text == "Hypothesis #1 proposed by Ana"
    [h] = await hypotheses(team.runtime.db)
    assert (h.cadence, h.baseline, h.deadline) == ("daily", 0.8, date(2030, 6, 30))


async def test_an_unbounded_long_or_too_frequent_cron_is_refused_by_field(team: Team) -> None:
    values = {
        "belief": "dedup",
        "result": "cleaner labels",
        "metric": "precision",
        "op": ">=",
        "target": "0.9",
    }
    for cron, why in [
        ("0 9 * * 0-99999999999999999999", "Cron day of week must be 0-7"),
        ("0 9 " + ",".join(["1"] * 60) + " * *", "The limit is 100"),
        ("* * * * *", "At most once an hour"),
    ]:
        errors = await team.bot.submit_form(
            ANA, "hypothesis.add", CHANNEL.channel, {**values, "checkin": cron}
        )
        assert isinstance(errors, dict) and set(errors) == {"checkin"}, cron
        assert why.lower() in errors["checkin"].lower(), errors
    refused = await team.type(ANA, SENTENCE + " checkin 0 9 * * 0-99999999999999999999")
    assert "day of week must be 0-7" in refused
    assert await hypotheses(team.runtime.db) == []


async def test_a_check_in_past_the_target_suggests_closing_it(team: Team) -> None:
    await team.type(ANA, SENTENCE)
    reply = await team.bot.command(ANA, CHANNEL, "hypothesis checkin 1 on-track precision=0.93 ok")
    assert reply is not None
    text = reply.message.plain_text()
    assert "That meets the target (precision >= 0.9): close it?" in text
    [button] = reply.message.buttons
    assert button.action_id == "hypothesis.validated"
    assert "closed as validated" in await press(team, ANA, button.action_id, button.value)
    assert "out of date" in await press(team, ANA, "hypothesis.validated", "abc")
    assert "out of date" in await press(
        team, ANA, "hypothesis.validated", button.value, OTHER_CHANNEL
    )


async def test_another_workspace_never_reaches_a_hypothesis(team: Team) -> None:
    await team.type(ANA, SENTENCE)
    [h] = await hypotheses(team.runtime.db)
    stranger = Actor("test", "W2", "UANA", "Ana", "UTC")
    before = await snapshot(team.runtime.db)
    reply = await team.bot.action(stranger, CHANNEL, "hypothesis.validated", str(h.id))
    assert reply is not None and "out of date" in reply.message.text
    assert "There is no hypothesis #1 here." in await say_in(
        team, CHANNEL, stranger, "hypothesis show 1"
    )
    assert "You own no hypothesis #1" in await team.dm(stranger, "hypothesis checkin 1 on-track x")
    after = await snapshot(team.runtime.db)
    assert after["hypothesis"] == before["hypothesis"]
    assert after["hypothesis_point"] == before["hypothesis_point"] == []


async def test_a_person_s_page_lists_the_open_hypotheses_they_own(team: Team) -> None:
    await known(team, CAL)
    await team.type(ANA, SENTENCE)
    await team.type(ANA, SENTENCE.replace("dedup", "pruning") + " owner @cal")
    await team.type(ANA, SENTENCE.replace("dedup", "closed one"))
    await team.type(ANA, "hypothesis close 3 pivot")
    page = (await team.bot.home(ANA)).plain_text()
    assert "Your hypotheses" in page and "#1 proposed" in page
    assert "pruning" not in page and "closed one" not in page
    mine = await team.dm(CAL, "hypothesis list mine")
    assert "#2 proposed" in mine and "dedup" not in mine


async def test_the_lead_names_co_leads_who_may_then_change_any_hypothesis(team: Team) -> None:
    await known(team, BEN, CAL)
    await team.type(ANA, SENTENCE + " owner @cal")
    assert "Only Ana or a workspace admin can change who leads" in await team.type(
        BEN, "hypothesis coleads @ben"
    )
    assert "Only" in await team.type(BEN, "hypothesis close 1 pivot")
    led = await team.type(ANA, "hypothesis coleads @ben")
    assert led == "The hypothesis check-in is led by Ana, Ben Ode."
    assert "closed as pivoted" in await team.type(BEN, "hypothesis close 1 pivot")
    assert "Cal now leads the hypothesis check-in" in await team.type(ANA, "hypothesis lead @cal")


async def test_a_button_or_form_naming_thousands_of_digits_is_out_of_date(team: Team) -> None:
    await team.type(ANA, SENTENCE)
    huge = "9" * 5000
    before = await snapshot(team.runtime.db)
    for action in ("hypothesis.validated", "hypothesis.invalidated", "hypothesis.next"):
        assert "out of date" in await press(team, ANA, action, huge)
        assert "out of date" in await press(team, ANA, action, "00000000001")
    form = await team.bot.open_form(ANA, None, "hypothesis.checkin", huge)
    assert form is not None and "out of date" in form.message.text  # type: ignore[union-attr]
    errors = await team.bot.submit_form(
        ANA, "hypothesis.checkin", huge, {"status": "on-track", "value": "0.9"}
    )
    assert errors == {"": "That form is out of date."}
    assert await snapshot(team.runtime.db) == before


async def test_in_private_a_button_or_form_reaches_only_hypotheses_one_may_change(
    team: Team,
) -> None:
    """Row ids are global and easy to guess: from a direct message, anyone else's reads as
    out of date and shows neither its metric nor who may change it."""
    await known(team, BEN, CAL)
    await team.type(ANA, SENTENCE + " owner @cal")  # Ana leads; Cal owns it
    await team.type(ANA, "hypothesis checkin 1 on-track precision=0.95 close to it")
    [h] = await hypotheses(team.runtime.db)
    before = await snapshot(team.runtime.db)
    form = await team.bot.open_form(BEN, None, "hypothesis.checkin", str(h.id))
    assert not hasattr(form, "form_id") and "out of date" in form.message.text  # type: ignore[union-attr]
    submitted = await team.bot.submit_form(
        BEN, "hypothesis.checkin", str(h.id), {"status": "on-track", "value": "0.9"}
    )
    assert submitted is not None and not isinstance(submitted, dict)
    assert submitted.message.text == "That button is out of date."
    for action in ("hypothesis.validated", "hypothesis.invalidated", "hypothesis.next"):
        assert (await press(team, BEN, action, str(h.id), None)).startswith(
            "That button is out of date."
        )
    assert await snapshot(team.runtime.db) == before
    # The owner, the lead and an admin still reach it in private.
    for actor in (CAL, ANA, replace(BEN, admin=True)):
        form = await team.bot.open_form(actor, None, "hypothesis.checkin", str(h.id))
        assert getattr(form, "form_id", None) == "hypothesis.checkin", actor
    assert "closed as validated" in await press(team, CAL, "hypothesis.validated", str(h.id), None)


async def test_a_metric_of_several_words_is_refused_since_no_check_in_could_name_it(
    team: Team,
) -> None:
    spaced = SENTENCE.replace("precision >= 0.9", "rollback rate <= 0.02")
    refused = await team.type(ANA, spaced)
    assert "the metric is one word, like 'rollback_rate'; not 'rollback rate'" in refused
    errors = await team.bot.submit_form(
        ANA,
        "hypothesis.add",
        CHANNEL.channel,
        {"belief": "x", "result": "y", "metric": "rollback rate", "op": "<=", "target": "0.02"},
    )
    assert isinstance(errors, dict) and set(errors) == {"metric"}
    assert await hypotheses(team.runtime.db) == []
    added = await team.type(ANA, spaced.replace("rollback rate", "rollback_rate"))
    suggested = added.split("`")[1]
    assert suggested == "hypothesis checkin 1 on-track rollback_rate=VALUE note"
    recorded = await team.type(ANA, suggested.replace("VALUE", "0.01"))
    assert "Check-in for #1 recorded: on track · rollback_rate 0.01" in recorded
