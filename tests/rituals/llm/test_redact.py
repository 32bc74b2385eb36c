"""What redaction masks before text leaves, and what it must leave alone."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from rituals.llm import redact


def test_emails_links_and_secrets_are_masked() -> None:
    said = (
        "ping ana.k+ml@data.example.co.uk, see https://ci.example.com/run/42?x=1 and "
        "www.example.org/page; Slack xoxb-1234-5678-abcdEFGH, AWS AKIAABCDEFGHIJKLMNOP, "
        "GitHub ghp_0123456789abcdefghijABCDEFGHIJ, key sk-abcdefghijklmnop12345, "
        "jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N"
    )
    masked = redact.text(said)
    for secret in ("ana.k", "ci.example.com", "www.example.org", "xoxb-", "AKIA", "ghp_", "sk-a"):
        assert secret not in masked
    assert "eyJ" not in masked
    assert masked.count("[email]") == 1 and masked.count("[link]") == 2
    assert masked.count("[secret]") == 5


def test_ordinary_work_talk_is_left_alone() -> None:
    said = "Trained ranker v3 on 2.4M rows; recall@10 went 0.71 -> 0.78, PR #512 merged"
    assert redact.text(said) == said


def test_only_values_are_masked_in_nested_material() -> None:
    material = {"people": [{"name": "Ana", "answers": [{"answer": "mail a@b.io"}]}], "n": 3}
    assert redact.deep(material) == {
        "people": [{"name": "Ana", "answers": [{"answer": "mail [email]"}]}],
        "n": 3,
    }


@given(st.emails())
def test_any_email_address_is_masked(address: str) -> None:
    assert address not in redact.text(f"write to {address} today")
