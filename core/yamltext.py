"""YAML parsing for the rubric and case files: the safe loader, in C when PyYAML has libyaml.

PyYAML's pure-Python loader takes a third of a second for the rubric file; libyaml's reads the
same documents, with the same line marks for error messages, about seven times faster. Loading
happens on every `load_casebank` and in most tests.
"""

import yaml

SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load(text: str) -> object:
    """The document in `text`; yaml.YAMLError (with `problem_mark`) when it is not YAML."""
    return yaml.load(text, Loader=SafeLoader)  # noqa: S506 -- a safe loader, only faster


def compose(text: str) -> yaml.Node | None:
    """The document's node tree, for the line numbers of its keys and values."""
    return yaml.compose(text, Loader=SafeLoader)
