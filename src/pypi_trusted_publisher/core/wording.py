"""Small helpers that keep messages grammatical: whole sentences and counted nouns."""

from __future__ import annotations

ENDS_A_SENTENCE = (".", "!", "?")


def sentence(text: str) -> str:
    """``text`` ending with a full stop, unless it already ends a sentence (no "..")."""
    text = text.strip()
    return text if not text or text.endswith(ENDS_A_SENTENCE) else f"{text}."


def capitalized(text: str) -> str:
    """``text`` with its first letter upper case and the rest as it was (``str.capitalize`` lowers "GitHub")."""
    return text[:1].upper() + text[1:]


def sentences(*texts: str) -> str:
    """Texts from different sources (ours, the index's) joined as sentences."""
    return " ".join(sentence(text) for text in texts if text.strip())


def plural(count: float, singular: str, many: str = "") -> str:
    """``1 publisher``, ``2 publishers``, ``0.5 minutes``."""
    return f"{count:g} {singular if count == 1 else many or singular + 's'}"
