"""Messages are built from pieces we do not control (the index's texts): no doubled stops, no "1 publishers"."""

from __future__ import annotations

from pypi_trusted_publisher.core.wording import capitalized, plural, sentence, sentences


def test_sentences_never_double_a_full_stop() -> None:
    assert sentence("Unknown GitHub user or organization.") == "Unknown GitHub user or organization."
    assert sentence("It could not be registered ") == "It could not be registered."
    assert sentences("PyPI refused: Unknown owner.", "", "Check the spelling.") == (
        "PyPI refused: Unknown owner. Check the spelling."
    )


def test_counted_nouns() -> None:
    assert plural(1, "pending publisher") == "1 pending publisher"
    assert plural(3, "pending publisher") == "3 pending publishers"
    assert plural(0, "second") == "0 seconds"
    assert plural(2, "entry", "entries") == "2 entries"


def test_capitalized_touches_only_the_first_letter() -> None:
    assert capitalized("the keyring is not used in GitHub Actions") == "The keyring is not used in GitHub Actions"
    assert capitalized("") == ""
