"""How account names compare: pure functions, no Django."""

import unicodedata


def fold_case(name: str) -> str:
    """NFKC, case-folded, NFKC again: the form in which two spellings are the same name."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).casefold())
