"""How account names compare, so that nobody can pass for someone else. Pure Python, no Django.

Three rules, after NFKC (which already folds fullwidth, mathematical and other compatibility
letters into plain ones):

- no invisible character: Unicode's default-ignorable code points (zero-width characters, the
  Hangul fillers, variation selectors, …), blank letters and anything not printed;
- letters from one script, except the mixes a language writes with (Japanese: Han, Hiragana
  and Katakana; Chinese: Han and Bopomofo; Korean: Han and Hangul; each may add Latin);
- no skeleton equal to an existing name's. The skeleton maps the common look-alikes of Latin
  letters in Cyrillic and Greek, and I/1/0, to one letter each, then folds case.

Why our own small tables rather than a library: ICU's spoof checker (UTS #39) needs the ICU C
library, and confusable-homoglyphs, the maintained pure-Python option, has no skeleton and counts
kana with kanji as mixed scripts, so it would refuse most Japanese names. The script of a letter
is read from its Unicode name ("CYRILLIC SMALL LETTER A"), which names the script first.
"""

import unicodedata

# Default_Ignorable_Code_Point (Unicode DerivedCoreProperties.txt), plus the Braille blank, which
# prints nothing although it is not default-ignorable.
_INVISIBLE_RANGES = (
    (0x00AD, 0x00AD),  # soft hyphen
    (0x034F, 0x034F),  # combining grapheme joiner
    (0x061C, 0x061C),  # Arabic letter mark
    (0x115F, 0x1160),  # Hangul choseong and jungseong fillers
    (0x17B4, 0x17B5),  # Khmer inherent vowels
    (0x180B, 0x180F),  # Mongolian variation selectors and vowel separator
    (0x200B, 0x200F),  # zero-width space, joiners, direction marks
    (0x202A, 0x202E),  # direction embeddings and overrides
    (0x2060, 0x206F),  # word joiner, invisible operators, direction isolates
    (0x2800, 0x2800),  # Braille pattern blank
    (0x3164, 0x3164),  # Hangul filler
    (0xFE00, 0xFE0F),  # variation selectors
    (0xFEFF, 0xFEFF),  # zero-width no-break space
    (0xFFA0, 0xFFA0),  # halfwidth Hangul filler
    (0xFFF0, 0xFFF8),
    (0x1BCA0, 0x1BCA3),  # shorthand format controls
    (0x1D173, 0x1D17A),  # musical symbol format controls
    (0xE0000, 0xE0FFF),  # tags and variation selectors supplement
)

# Scripts that one language writes together; Latin may join any of them.
_WRITTEN_TOGETHER = (
    frozenset({"Han", "Hiragana", "Katakana"}),
    frozenset({"Han", "Bopomofo"}),
    frozenset({"Han", "Hangul"}),
)
# The first word of a letter's Unicode name, where it is not the script's name.
_SCRIPT_OF_NAME_WORD = {"CJK": "Han", "IDEOGRAPHIC": "Han", "KATAKANA-HIRAGANA": "Katakana"}

# Look-alikes of Latin letters and digits, each to the letter it passes for. Case matters here
# (Cyrillic "Н" looks like "H", its small "н" does not look like "h"); the skeleton folds case
# afterwards.
_LOOK_ALIKES = {
    # Cyrillic capitals
    "А": "A", "В": "B", "Е": "E", "К": "K", "М": "M", "Н": "H", "О": "O", "Р": "P", "С": "C",
    "Т": "T", "У": "Y", "Х": "X", "Ѕ": "S", "І": "l", "Ј": "J", "Ү": "Y", "Ԛ": "Q", "Ԝ": "W",
    "Ӏ": "l",
    # Cyrillic small letters
    "а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "у": "y", "х": "x", "ѕ": "s", "і": "i",
    "ј": "j", "ԁ": "d", "һ": "h", "ԛ": "q", "ԝ": "w", "ӏ": "l", "ү": "y",
    # Greek capitals
    "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "l", "Κ": "K", "Μ": "M", "Ν": "N",
    "Ο": "O", "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X",
    # Greek small letters
    "α": "a", "ο": "o", "ν": "v", "ρ": "p", "ι": "i", "κ": "k", "υ": "u", "χ": "x", "γ": "y",
    "ϲ": "c", "ϳ": "j",
    # Latin and digits that pass for one another in many fonts
    "I": "l", "1": "l", "0": "O", "ı": "i", "ɑ": "a", "ɡ": "g",
}  # fmt: skip
_SKELETON_TABLE = str.maketrans(_LOOK_ALIKES)
_INVISIBLE = frozenset(code for low, high in _INVISIBLE_RANGES for code in range(low, high + 1))


def _nfkc(text: str) -> str:
    # Sign-up compares a name with every existing one: skip the work for names already normal.
    return text if unicodedata.is_normalized("NFKC", text) else unicodedata.normalize("NFKC", text)


def fold_case(name: str) -> str:
    """NFKC, case-folded, NFKC again: the form in which two spellings are the same name."""
    return _nfkc(_nfkc(name).casefold())


def _invisible(char: str) -> bool:
    # Separators (Z*) and controls, formats, unassigned and private use (C*) print nothing a
    # reader can tell apart either.
    return ord(char) in _INVISIBLE or unicodedata.category(char)[0] in "ZC"


def has_invisible(name: str) -> bool:
    """Whether the name holds a character that shows nothing (or shows nothing definite)."""
    return any(_invisible(char) for char in _nfkc(name))


def _script(char: str) -> str | None:
    """The script of a letter or digit, from its Unicode name; None for ASCII digits and signs."""
    if char.isascii() and not char.isalpha():
        return None
    if not unicodedata.category(char).startswith(("L", "N")):
        return None
    word = unicodedata.name(char, "").split(" ", 1)[0]
    return _SCRIPT_OF_NAME_WORD.get(word, word.capitalize()) or None


def scripts_mixed(name: str) -> str | None:
    """The scripts a name mixes ("Cyrillic and Latin"), or None when it keeps to one."""
    scripts = {script for script in map(_script, _nfkc(name)) if script is not None}
    if len(scripts) <= 1 or any(scripts - {"Latin"} <= group for group in _WRITTEN_TOGETHER):
        return None
    *others, last = sorted(scripts)
    return f"{', '.join(others)} and {last}"


def skeleton(name: str) -> str:
    """What the name looks like: two names with one skeleton cannot be told apart at a glance."""
    visible = "".join(c for c in _nfkc(name) if not _invisible(c))
    folded = fold_case(visible.translate(_SKELETON_TABLE))
    # Once more: a capital without an entry may fold to a small letter with one (Ԁ → ԁ → d).
    return fold_case(folded.translate(_SKELETON_TABLE))
