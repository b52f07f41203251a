from __future__ import annotations

from pathlib import Path

from ottermq.spec.diagnostics import Diagnostic
from ottermq.spec.loader import load_paths, load_text


def test_values_keep_json_types_and_positions() -> None:
    (doc,), problems = load_text("name: x\nn: 0x1F\nf: 1.5\nb: true\nnull_: ~\nl:\n  - a\n  - {k: v}\n", "f.yaml")
    assert problems == []
    assert doc.data == {"name": "x", "n": 31, "f": 1.5, "b": True, "null_": None, "l": ["a", {"k": "v"}]}
    assert doc.locate(("l", 1, "k")) == (8, 9)
    assert doc.locate(("l", 1, "k"), key=True) == (8, 6)
    assert doc.locate(("l", 0)) == (7, 5)
    assert doc.locate(("nope", "deeper")) == (1, 1)  # falls back to the nearest ancestor (the document)


def test_yaml_12_keeps_yes_and_on_as_strings() -> None:
    (doc,), _ = load_text("on: yes\nno: off\n", "f.yaml")
    assert doc.data == {"on": "yes", "no": "off"}


def test_every_duplicate_key_is_reported_with_the_first_line() -> None:
    docs, problems = load_text("a: 1\nb: 2\na: 3\nm:\n  x: 1\n  x: 2\n", "f.yaml")
    assert [str(p) for p in problems] == [
        "f.yaml:3:1: a: duplicate key `a` (first defined on line 1)",
        "f.yaml:6:3: m.x: duplicate key `x` (first defined on line 5)",
    ]
    assert docs[0].data == {"a": 1, "b": 2, "m": {"x": 1}}


def test_several_documents_in_one_file_and_empty_documents_skipped() -> None:
    docs, problems = load_text("name: a\n---\n# only a comment\n---\nname: b\n", "f.yaml")
    assert problems == []
    assert [d.data["name"] for d in docs] == ["a", "b"]
    assert [d.index for d in docs] == [0, 2]
    assert docs[1].locate(("name",)) == (5, 7)


def test_merge_keys_and_anchors() -> None:
    (doc,), problems = load_text("base: &b {retry: {max_attempts: 2}, queue: q}\nt:\n  <<: *b\n  queue: r\n", "f.yaml")
    assert problems == []
    assert doc.data["t"] == {"retry": {"max_attempts": 2}, "queue": "r"}


def test_syntax_errors_are_located() -> None:
    cases = {
        "a: [1, 2\nb: 3\n": "f.yaml:1:4: $: YAML syntax error: this `[` is not closed: expected `,` or `]` before line 2, column 2",
        "a:\n\tb: 1\n": "f.yaml:2:1: $: YAML syntax error: a tab character indents this line; YAML indents with spaces only",
        "a:\n  b: 1\n c: 2\n": "f.yaml:3:2: $: YAML syntax error: this line is indented by 1 space, which lines up with none of the lines above it (indented by 2 or 0)",
        'a: "abc\n': "f.yaml:1:4: $: YAML syntax error: the string opened with `\"` here is never closed",
    }
    for text, expected in cases.items():
        docs, problems = load_text(text, "f.yaml")
        assert docs == []
        assert [str(p) for p in problems] == [expected]


def test_empty_file_unknown_tags_and_recursive_aliases() -> None:
    assert [str(p) for p in load_text("# nothing\n", "f.yaml")[1]] == [
        "f.yaml:1:1: $: the file holds no pipeline (it is empty or only comments)"
    ]
    _, problems = load_text("a: !secret x\nr: &r [*r]\n", "f.yaml")
    assert [str(p) for p in problems] == [
        "f.yaml:1:4: a: unsupported YAML tag `!secret` (OtterMQ reads plain YAML: write the value itself)",
        "f.yaml:2:8: r[0]: an alias refers to its own enclosing node (recursive YAML is not supported)",
    ]


def test_directories_are_walked_and_odd_files_reported(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("name: a\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.yml").write_text("name: b\n")
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "c.yaml").write_text("name: c\n")
    (tmp_path / "notes.txt").write_text("ignored")
    (tmp_path / "bad.yaml").write_bytes(b"name: \xff\n")
    docs, problems = load_paths([tmp_path, tmp_path / "missing.yaml"])
    assert sorted(d.data["name"] for d in docs) == ["a", "b"]
    messages = sorted(p.message for p in problems)
    assert messages == ["no such file or directory", "the file is not UTF-8 text: byte 0xff cannot be decoded (save the file as UTF-8)"]
    empty = tmp_path / "empty"
    empty.mkdir()
    _, problems = load_paths([empty])
    assert problems == [Diagnostic(str(empty), 1, 1, "$", "no pipeline files (*.yaml, *.yml) in this directory")]
