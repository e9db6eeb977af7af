"""What lint reads from a verifier's sources (`quizzer.verify.sources.facts`), parsed once per content."""

import os
import types

import pytest

from quizzer.verify import sources
from quizzer.verify.sources import Facts, facts

VERIFIER = """
from quizzer.verifier import Result

NAMES = ("width", "not an identifier", "height")


def verify(r):
    r.figure("loss", 1.0)
    return Result(value=1)


def helper():
    def inner():
        pass
"""


@pytest.fixture
def fresh():
    """Forget what this process has read (another `quizzer` process starts without it)."""
    sources._facts.cache_clear()
    yield
    sources._facts.cache_clear()


def _no_parse(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("parsed although the facts were kept")

    monkeypatch.setattr(sources, "ast", types.SimpleNamespace(parse=refuse))  # this module's parser only


def test_facts_are_the_top_level_functions_and_identifier_strings(tmp_path, fresh):
    path = tmp_path / "v.py"
    path.write_text(VERIFIER)
    assert facts(path) == Facts(frozenset({"verify", "helper"}), frozenset({"width", "height", "loss"}))


def test_kept_facts_are_read_back_without_parsing(tmp_path, fresh, monkeypatch):
    path, folder = tmp_path / "v.py", tmp_path / "facts"
    path.write_text(VERIFIER)
    first = facts(path, folder)
    assert len(list(folder.iterdir())) == 1
    sources._facts.cache_clear()
    _no_parse(monkeypatch)
    assert facts(path, folder) == first


def test_an_edit_is_parsed_again_even_at_the_same_size_and_time(tmp_path, fresh):
    path, folder = tmp_path / "v.py", tmp_path / "facts"
    path.write_text(VERIFIER)
    stat = path.stat()
    assert "verify" in facts(path, folder).functions
    path.write_text(VERIFIER.replace("def verify(", "def vorify("))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert path.stat().st_size == stat.st_size
    sources._facts.cache_clear()  # a new process: only the kept entry could answer, and its digest differs
    assert facts(path, folder).functions == {"vorify", "helper"}
    assert len(list(folder.iterdir())) == 1  # one entry per source path, replaced


@pytest.mark.parametrize(
    "entry",
    [
        b"not json",
        b'{"digest": "0", "functions": ["forged"], "strings": []}',
        b"[]",
        b'{"functions": ["forged"], "strings": []}',
    ],
)
def test_an_entry_that_does_not_read_back_cleanly_is_a_miss(tmp_path, fresh, entry):
    path, folder = tmp_path / "v.py", tmp_path / "facts"
    path.write_text(VERIFIER)
    expected = facts(path, folder)
    (kept,) = folder.iterdir()
    kept.write_bytes(entry)
    sources._facts.cache_clear()
    assert facts(path, folder) == expected


def test_an_entry_with_wrong_types_is_a_miss(tmp_path, fresh):
    path, folder = tmp_path / "v.py", tmp_path / "facts"
    path.write_text(VERIFIER)
    expected = facts(path, folder)
    (kept,) = folder.iterdir()
    stored = kept.read_text().replace('"functions": [', '"functions": [7, ')
    kept.write_text(stored)
    sources._facts.cache_clear()
    assert facts(path, folder) == expected


def test_a_source_that_does_not_parse_raises_and_is_not_kept(tmp_path, fresh):
    path, folder = tmp_path / "v.py", tmp_path / "facts"
    path.write_text("def verify(:\n")
    with pytest.raises(SyntaxError):
        facts(path, folder)
    assert not folder.exists() or not list(folder.iterdir())
    path.write_bytes(b"x = '\xff'\n")
    sources._facts.cache_clear()
    with pytest.raises(UnicodeDecodeError):
        facts(path, folder)


def test_an_unwritable_folder_changes_nothing(tmp_path, fresh):
    path = tmp_path / "v.py"
    path.write_text(VERIFIER)
    (tmp_path / "file").write_text("")
    assert facts(path, tmp_path / "file" / "facts") == facts(path)


def test_lint_answers_from_kept_facts_in_a_later_process(deck_dir, monkeypatch, tmp_path, fresh):
    """The loader keeps the facts beside the state database, and a later load reads them, not the tree."""
    from quizzer.cards.loader import lint

    monkeypatch.setenv("QUIZZER_HOME", str(tmp_path / "home"))
    (deck_dir.root / "verifiers" / "v.py").write_text(VERIFIER)
    deck = deck_dir(
        """
        id = "d"
        title = "D"
        [[cards]]
        id = "c"
        prompt = "{{ width }} and {{ loss }} but {{ lenght }}?"
        explanation = "."
        verifier = "v.py"
        answer = { kind = "numeric", value = 1 }
        [[cards]]
        id = "e"
        prompt = "?"
        explanation = "."
        verifier = "v.py::absent"
        answer = { kind = "numeric", value = 1 }
        """
    )
    first = [problem.message for problem in lint(deck)]
    assert len(first) == 2
    assert "'{{ lenght }}' is not a parameter" in first[0] and "has no function 'absent'" in first[1]
    assert len(list((tmp_path / "home" / "verifier-facts").iterdir())) == 1
    sources._facts.cache_clear()
    _no_parse(monkeypatch)
    assert [problem.message for problem in lint(deck)] == first
